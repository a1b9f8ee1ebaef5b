import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from 'graphql-ws';
import { BoundedMemoryStore, RateLimiter, type HitDecision, type Identity, type Store } from '../src/auth/rate-limiter.js';
import { readySession, startServer, type TestServer } from './helpers/app.js';
import { ADMIN_KEY, createKey, gqlOkAs, withKey } from './helpers/auth.js';

// N operations sent at once from one client must admit exactly the limit, whatever the transport and path
// (the lean runner, the result cache, yoga, graphql-ws, SSE): the limiter counts and decides in one step.

const HEALTH = '{ health { status } }';
const SEND = 'mutation($id: String!, $text: String!) { sendText(input: { sessionId: $id, chatId: "15550000001@c.us", content: $text }) { message { id } } }';

async function post(server: TestServer, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
  return { status: res.status, code: body.errors?.[0]?.extensions?.code, ok: res.status === 200 && !body.errors };
}

async function rest(server: TestServer, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}/api/v1${path}`, { headers });
  const body = (await res.json()) as { success: boolean; error?: { code: string } };
  return { status: res.status, code: body.error?.code, ok: res.status === 200 && body.success };
}

/** One graphql-ws operation's outcome: 'ok', or the first error's code. */
function wsOperation(client: Client, query: string, variables: Record<string, unknown> = {}): Promise<string> {
  return new Promise((resolve) => {
    let outcome: string | null = null;
    client.subscribe(
      { query, variables },
      {
        next: (value) => {
          outcome ??= value.errors ? String((value.errors[0] as { extensions?: { code?: string } }).extensions?.code) : 'ok';
        },
        error: (error) => resolve(`error ${JSON.stringify(error)}`),
        complete: () => resolve(outcome ?? 'no result'),
      },
    );
  });
}

function tally(outcomes: { ok: boolean; status: number; code?: string | undefined }[]) {
  const admitted = outcomes.filter((o) => o.ok).length;
  const limited = outcomes.filter((o) => o.status === 429 && o.code === 'RATE_LIMITED').length;
  return { admitted, limited, other: outcomes.length - admitted - limited };
}

function count(outcomes: string[]) {
  const out: Record<string, number> = {};
  for (const o of outcomes) out[o] = (out[o] ?? 0) + 1;
  return out;
}

describe('atomic rate limits, no-key mode (counted by client IP)', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ rateLimit: { general: 100, windowMs: 60_000 } });
  });
  after(() => server.dispose());

  it('600 concurrent GraphQL POSTs admit exactly 100 (lean, cached and yoga paths alike)', async () => {
    const outcomes = await Promise.all(Array.from({ length: 600 }, () => post(server, HEALTH)));
    assert.deepEqual(tally(outcomes), { admitted: 100, limited: 500, other: 0 });
  });

  it('the same client is refused over REST and graphql-ws as well once the budget is spent', async () => {
    assert.equal((await rest(server, '/info')).code, 'RATE_LIMITED');
    const client = server.wsClient();
    assert.equal(await wsOperation(client, HEALTH), 'RATE_LIMITED');
  });
});

describe('atomic rate limits, one API key', () => {
  let server: TestServer;
  let key: string;
  before(async () => {
    server = await startServer({ auth: { apiKeys: [ADMIN_KEY] }, rateLimit: { general: 100, messaging: 30, windowMs: 60_000 } });
    // Set up with the admin key, whose budget is its own.
    const asAdmin = { ...server, gqlOk: (q: string, v?: Record<string, unknown>) => gqlOkAs(server, ADMIN_KEY, q, v) } as TestServer;
    await readySession(asAdmin, 'm1');
    await readySession(asAdmin, 'm2');
  });
  after(() => server.dispose());

  const freshKey = async (actions = ['READ']) => (await createKey(server, { sessionIds: ['m1', 'm2'], actions })).key;

  it('600 concurrent GraphQL POSTs with one key admit exactly 100', async () => {
    key = await freshKey();
    const outcomes = await Promise.all(Array.from({ length: 600 }, () => post(server, HEALTH, {}, withKey(key))));
    assert.deepEqual(tally(outcomes), { admitted: 100, limited: 500, other: 0 });
  });

  it('600 concurrent REST calls with one key admit exactly 100', async () => {
    const restKey = await freshKey();
    const outcomes = await Promise.all(Array.from({ length: 600 }, () => rest(server, '/info', withKey(restKey))));
    assert.deepEqual(tally(outcomes), { admitted: 100, limited: 500, other: 0 });
  });

  it('GraphQL and REST share one budget per key: 300 of each at once admit 100 in all', async () => {
    const mixedKey = await freshKey();
    const outcomes = await Promise.all(
      Array.from({ length: 600 }, (_, i) => (i % 2 ? rest(server, '/info', withKey(mixedKey)) : post(server, HEALTH, {}, withKey(mixedKey)))),
    );
    assert.deepEqual(tally(outcomes), { admitted: 100, limited: 500, other: 0 });
  });

  it('600 concurrent graphql-ws operations with one key (two connections) admit exactly 100', async () => {
    const wsKey = await freshKey();
    const clients = [server.wsClient({ apiKey: wsKey }), server.wsClient({ apiKey: wsKey })];
    const outcomes = await Promise.all(Array.from({ length: 600 }, (_, i) => wsOperation(clients[i % 2]!, HEALTH)));
    assert.deepEqual(count(outcomes), { ok: 100, RATE_LIMITED: 500 });
  });

  it('subscriptions count against the general limit too (graphql-ws and SSE)', async () => {
    const subKey = await freshKey();
    const client = server.wsClient({ apiKey: subKey });
    // 95 queries leave 5 in the budget; then 10 subscriptions at once: 5 start, 5 are refused.
    const queries = await Promise.all(Array.from({ length: 95 }, () => wsOperation(client, HEALTH)));
    assert.deepEqual(count(queries), { ok: 95 });
    const started: string[] = [];
    const disposers = Array.from({ length: 10 }, () =>
      client.subscribe(
        { query: 'subscription { sessionStatus(sessionId: "m1") { status } }' },
        {
          next: (value) => void started.push(value.errors ? String((value.errors[0] as { extensions?: { code?: string } }).extensions?.code) : 'value'),
          error: (error) => void started.push(`error ${JSON.stringify(error)}`),
          complete: () => undefined,
        },
      ),
    );
    // A refused one answers RATE_LIMITED; an admitted one its session's current status.
    const deadline = Date.now() + 5000;
    while (started.length < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(count(started), { RATE_LIMITED: 5, value: 5 });
    for (const dispose of disposers) dispose();
    // Over SSE (yoga's GraphQL over SSE), the budget is spent as well.
    const sse = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...withKey(subKey) },
      body: JSON.stringify({ query: 'subscription { sessionStatus(sessionId: "m1") { status } }' }),
    });
    const text = await sse.text();
    assert.match(text, /RATE_LIMITED/);
  });

  it('SSE subscriptions at once admit exactly the budget left', async () => {
    const sseKey = await freshKey();
    // 90 queries leave 10; then 30 SSE subscriptions at once: 10 stream, 20 are refused.
    const queries = await Promise.all(Array.from({ length: 90 }, () => post(server, HEALTH, {}, withKey(sseKey))));
    assert.deepEqual(tally(queries), { admitted: 90, limited: 0, other: 0 });
    const controllers: AbortController[] = [];
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const controller = new AbortController();
        controllers.push(controller);
        const res = await fetch(`${server.url}/graphql`, {
          method: 'POST',
          signal: controller.signal,
          headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...withKey(sseKey) },
          body: JSON.stringify({ query: 'subscription { sessionStatus(sessionId: "m1") { status } }' }),
        });
        // A refused subscription's stream carries the error and ends; an admitted one stays open.
        const reader = res.body!.getReader();
        let text = '';
        const timer = setTimeout(() => controller.abort(), 1500);
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            text += new TextDecoder().decode(value);
            if (text.includes('RATE_LIMITED')) break;
          }
        } catch {
          // aborted: the stream stayed open
        } finally {
          clearTimeout(timer);
        }
        return text.includes('RATE_LIMITED') ? 'RATE_LIMITED' : 'open';
      }),
    );
    for (const c of controllers) c.abort();
    assert.deepEqual(count(outcomes), { open: 10, RATE_LIMITED: 20 });
  });

  it('messaging over HTTP: 90 concurrent sends to one session with the limit at 30 send exactly 30', async () => {
    const sender = await freshKey(['READ', 'SEND']);
    const outcomes = await Promise.all(Array.from({ length: 90 }, (_, i) => post(server, SEND, { id: 'm1', text: `http ${i}` }, withKey(sender))));
    assert.deepEqual(tally(outcomes), { admitted: 30, limited: 60, other: 0 });
  });

  it('messaging over graphql-ws: 90 concurrent sends to one session send exactly 30; another session keeps its own budget', async () => {
    const sender = await freshKey(['READ', 'SEND']);
    const client = server.wsClient({ apiKey: sender });
    const outcomes = await Promise.all(Array.from({ length: 90 }, (_, i) => wsOperation(client, SEND, { id: 'm1', text: `ws ${i}` })));
    assert.deepEqual(count(outcomes), { ok: 30, RATE_LIMITED: 60 });
    assert.equal(await wsOperation(client, SEND, { id: 'm2', text: 'other session' }), 'ok');
  });
});

describe('the limiter and its store seam', () => {
  const settings = { enabled: true, windowMs: 60_000, general: 3, sessionCreate: 1, messaging: 1, maxClients: 100 };

  it('counts and decides in one call: concurrent hits admit exactly the limit', async () => {
    const limiter = new RateLimiter(settings);
    const states = await Promise.all(Array.from({ length: 50 }, () => limiter.hit('general', 'ip:1')));
    assert.equal(states.filter((s) => !s.limited).length, 3);
    assert.deepEqual(
      states.filter((s) => !s.limited).map((s) => s.remaining),
      [2, 1, 0],
    );
  });

  it('a store that answers asynchronously (as a shared one would) still admits exactly the limit', async () => {
    // A stand-in for a store on another machine: every call takes a while, the decision is the store's.
    const inner = new BoundedMemoryStore(100);
    const remote: Store = {
      hit: async (identity: Identity, now: number, windowMs: number, max: number): Promise<HitDecision> => {
        await new Promise((r) => setTimeout(r, Math.random() * 5));
        const decision = inner.hit(identity, now, windowMs, max);
        await new Promise((r) => setTimeout(r, Math.random() * 5));
        return decision;
      },
    };
    const limiter = new RateLimiter(settings, remote);
    const states = await Promise.all(Array.from({ length: 40 }, () => limiter.hit('general', 'key:k')));
    assert.equal(states.filter((s) => !s.limited).length, 3);
    assert.ok(states.filter((s) => s.limited).every((s) => s.retryAfter >= 1 && s.remaining === 0));
  });

  it('refused hits are not counted, and the window slides', () => {
    const store = new BoundedMemoryStore(10);
    const id = { contextIdentity: 'ip:2', fieldIdentity: 'general:' };
    assert.equal(store.hit(id, 1000, 100, 2).admitted, true);
    assert.equal(store.hit(id, 1050, 100, 2).admitted, true);
    const refused = store.hit(id, 1060, 100, 2);
    assert.deepEqual({ admitted: refused.admitted, count: refused.count, oldest: refused.oldest }, { admitted: false, count: 2, oldest: 1000 });
    // At 1100 the first hit leaves the window: one place again.
    const again = store.hit(id, 1100, 100, 2);
    assert.deepEqual({ admitted: again.admitted, count: again.count, oldest: again.oldest }, { admitted: true, count: 2, oldest: 1050 });
  });
});
