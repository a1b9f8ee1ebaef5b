import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { readySession, startServer, waitFor, type TestServer } from './helpers/app.js';
import { SEND_TEXT, waitReady } from './helpers/messaging.js';
import { queryDatabase } from './helpers/pg.js';
import { needsPrivatePostgres, startPrivatePostgres, type PrivatePostgres } from './helpers/private-pg.js';

// PostgreSQL stopped for 5 s in the middle of traffic, on a server of the test's own (the shared one is never
// stopped): while it is down every request that needs it fails at once with DATABASE_UNAVAILABLE (503 and
// Retry-After) and /health says so; when it is back the gateway serves again by itself, and nothing it
// acknowledged is lost, neither the sends nor their deliveries to the other session.

interface Outcome {
  body: string;
  ok: boolean;
  status: number;
  code?: string;
  retryAfter: string | null;
  id?: string;
}

const OUTAGE_MS = 5000;

async function allMessages(server: TestServer, sessionId: string, chatId: string): Promise<{ id: string; body: string }[]> {
  const out: { id: string; body: string }[] = [];
  let before: string | null = null;
  for (;;) {
    const page: any = await server.gqlOk(
      'query($s: String!, $c: String!, $before: String) { session(sessionId: $s) { chat(chatId: $c) { messages(last: 200, before: $before) { edges { node { id body } } pageInfo { hasPreviousPage startCursor } } } } }',
      { s: sessionId, c: chatId, before },
    );
    const messages = page.session.chat?.messages;
    if (!messages) return out;
    out.unshift(...messages.edges.map((e: { node: { id: string; body: string } }) => e.node));
    if (!messages.pageInfo.hasPreviousPage) return out;
    before = messages.pageInfo.startCursor;
  }
}

describe('PostgreSQL going away and coming back', () => {
  let pg: PrivatePostgres | undefined;
  let server: TestServer | undefined;
  after(async () => {
    await server?.dispose().catch(() => undefined);
    await pg?.dispose();
  });

  it('answers DATABASE_UNAVAILABLE (503, Retry-After) while it is stopped, serves again by itself after, and loses nothing acknowledged', needsPrivatePostgres(), async (t) => {
    pg = await startPrivatePostgres();
    await queryDatabase(pg.url(), 'CREATE DATABASE gateway');
    const settings = { databaseUrl: pg.url('gateway') } as Parameters<typeof startServer>[0];
    server = await startServer(settings);
    const s = server;
    const [a, b] = await Promise.all([readySession(s, 'A'), readySession(s, 'B')]);

    // Traffic: three senders, one after another each, until told to stop.
    const outcomes: Outcome[] = [];
    let sending = true;
    let n = 0;
    const send = async (body: string): Promise<Outcome> => {
      const res = await fetch(`${s.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: SEND_TEXT, variables: { input: { sessionId: 'A', chatId: b, content: body } } }),
      });
      const json = (await res.json()) as any;
      const id = json.data?.sendText?.message?.id as string | undefined;
      return { body, ok: Boolean(id) && !json.errors, status: res.status, code: json.errors?.[0]?.extensions?.code, retryAfter: res.headers.get('retry-after'), id };
    };
    const sender = async () => {
      while (sending) {
        outcomes.push(await send(`m${n++}`));
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const senders = [sender(), sender(), sender()];
    const acked = () => outcomes.filter((o) => o.ok).length;
    const unavailable = () => outcomes.filter((o) => o.code === 'DATABASE_UNAVAILABLE').length;
    try {
      await waitFor(() => acked() >= 30, 10_000, 'sends before the outage');

      await pg.stop('fast');
      const downAt = Date.now();
      await waitFor(() => unavailable() > 0, 10_000, 'DATABASE_UNAVAILABLE during the outage');
      // While it is down: the other transports and /health say the same.
      const rest = await fetch(`${s.url}/api/v1/sessions/A/send-text`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chatId: b, content: 'rest while down' }),
      });
      const restBody = (await rest.json()) as any;
      assert.equal(rest.status, 503, JSON.stringify(restBody));
      assert.equal(restBody.error?.code, 'DATABASE_UNAVAILABLE');
      assert.match(rest.headers.get('retry-after') ?? '', /^\d+$/);
      const health = await fetch(`${s.url}/health`);
      assert.equal(health.status, 503);
      assert.match(JSON.stringify(await health.json()), /unavailable/i);
      const ackedWhileDown = acked();
      await new Promise((r) => setTimeout(r, Math.max(0, downAt + OUTAGE_MS - Date.now())));

      await pg.start();
      await waitFor(() => outcomes.slice(-3).every((o) => o.ok), 30_000, 'sends succeeding again');
      await waitFor(async () => (await fetch(`${s.url}/health`)).status === 200, 30_000, '/health 200 again');
      const target = acked() + 30;
      await waitFor(() => acked() >= target, 10_000, 'sends after the outage');
      assert.ok(ackedWhileDown > 0);
    } finally {
      sending = false;
      await Promise.all(senders);
    }

    // Every answer was a success or DATABASE_UNAVAILABLE with 503 and a Retry-After: no 500, no other code.
    const failures = outcomes.filter((o) => !o.ok);
    t.diagnostic(`${outcomes.length} sends: ${outcomes.length - failures.length} acknowledged, ${failures.length} refused while PostgreSQL was down`);
    assert.ok(failures.length > 0);
    const unexpected = failures.filter((o) => o.code !== 'DATABASE_UNAVAILABLE' || o.status !== 503 || !/^\d+$/.test(o.retryAfter ?? ''));
    assert.deepEqual(unexpected.slice(0, 5), [], `${unexpected.length} of ${failures.length} failures were not DATABASE_UNAVAILABLE with 503 and Retry-After`);

    // Nothing acknowledged is lost: after a restart of the gateway every acknowledged send is in A's history,
    // and it reached B.
    const ok = outcomes.filter((o) => o.ok);
    await s.stop();
    server = await startServer(settings, s.dataDir);
    const again = server;
    await Promise.all([waitReady(again, 'A'), waitReady(again, 'B')]);
    const sent = new Set((await allMessages(again, 'A', b)).map((m) => m.id));
    assert.deepEqual(
      ok.filter((o) => !sent.has(o.id!)).map((o) => o.body),
      [],
      'acknowledged sends missing from the history',
    );
    let missing: string[] = [];
    await waitFor(
      async () => {
        const got = new Set((await allMessages(again, 'B', a)).map((m) => m.body));
        missing = ok.filter((o) => !got.has(o.body)).map((o) => o.body);
        return missing.length === 0;
      },
      20_000,
      'every acknowledged send delivered to B',
    ).catch(() => assert.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged sends never reached B`));
  });
});
