import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger } from '../src/logger.js';
import { readySession, startServer, waitFor, type TestServer } from './helpers/app.js';
import { SEND_TEXT, waitReady } from './helpers/messaging.js';
import { sample, scrape } from './helpers/metrics.js';
import { testStore } from './helpers/pg.js';

// A real full disk: the data dir is a small tmpfs (mounting needs root, as CI runs). A ballast file takes
// part of it, so deleting the ballast gives space back while the server runs.
const SIZE_MB = 16;
const BALLAST_MB = 4;
const TEXT = 'x'.repeat(60_000);

function mountTmpfs(): string | null {
  const dir = mkdtempSync(join(tmpdir(), 'wa-gateway-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE_MB}m`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    rmdirSync(dir);
    return null;
  }
}

describe('a full disk', () => {
  const dir = mountTmpfs();
  let server: TestServer | null = null;
  const lines: string[] = [];
  after(async () => {
    await server?.stop().catch(() => undefined);
    if (dir) {
      execFileSync('umount', [dir]);
      rmdirSync(dir);
    }
  });

  it('answers STORAGE_FULL (507) on every transport, /health 503 while full, loses nothing acknowledged and resumes by itself', { skip: testStore === 'postgres' ? "SQLite only: a full disk under the data dir, where SQLite's file is" : dir ? false : 'cannot mount a tmpfs here (needs root)' }, async () => {
    const dataDir = join(dir!, 'data');
    const ballast = join(dir!, 'ballast');
    writeFileSync(ballast, Buffer.alloc(BALLAST_MB * 1024 * 1024, 1));
    const logger = createLogger('warn', {}, (line) => lines.push(line), 'json');
    server = await startServer({ webhooks: { pollIntervalMs: 50 } }, dataDir, { logger });
    const s = server;
    const [, b] = await Promise.all([readySession(s, 'A'), readySession(s, 'B')]);

    // Fill it: 60 KB texts until one is refused.
    const acknowledged: string[] = [];
    let refusal: any = null;
    for (let i = 0; i < 2000 && !refusal; i++) {
      const result = await s.gql(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content: `${i} ${TEXT}` } });
      if (result.errors) refusal = result.errors[0];
      else acknowledged.push(result.data.sendText.message.id);
    }
    assert.ok(refusal, 'the disk never filled');
    assert.equal(refusal.extensions?.code, 'STORAGE_FULL', JSON.stringify(refusal));
    assert.ok(acknowledged.length > 5, `only ${acknowledged.length} sends fitted`);

    // Every transport, while full: GraphQL over HTTP (status 507), REST, graphql-ws. The refused write's rollback
    // and the WAL's reclaim can leave room for one more message, so each transport sends until it is refused
    // (a send that still fits is acknowledged and must be kept like the others).
    async function untilRefused<T>(what: string, send: (i: number) => Promise<{ refused: T } | { id: string | undefined }>): Promise<T> {
      for (let i = 0; i < 20; i++) {
        const outcome = await send(i);
        if ('refused' in outcome) return outcome.refused;
        if (outcome.id) acknowledged.push(outcome.id);
      }
      throw new Error(`${what}: 20 sends fitted on a full disk`);
    }
    const http = await untilRefused<{ status: number; body: any }>('GraphQL over HTTP', async (i) => {
      const res = await fetch(`${s.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: SEND_TEXT, variables: { input: { sessionId: 'A', chatId: b, content: `http ${i} ${TEXT}` } } }),
      });
      const body = (await res.json()) as any;
      return body.errors ? { refused: { status: res.status, body } } : { id: body.data?.sendText?.message?.id };
    });
    assert.equal(http.body.errors?.[0]?.extensions?.code, 'STORAGE_FULL');
    assert.equal(http.status, 507);
    const rest = await untilRefused<{ status: number; body: any }>('REST', async (i) => {
      const res = await fetch(`${s.url}/api/v1/sessions/A/send-text`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chatId: b, content: `rest ${i} ${TEXT}` }),
      });
      const body = (await res.json()) as any;
      return res.ok ? { id: body.data?.messageId } : { refused: { status: res.status, body } };
    });
    assert.equal(rest.status, 507, JSON.stringify(rest.body));
    assert.equal(rest.body.error.code, 'STORAGE_FULL');
    const ws = s.wsClient();
    const viaWs = await untilRefused<any>('graphql-ws', async (i) => {
      const got = await new Promise<any>((resolve) => {
        let value: any = null;
        ws.subscribe({ query: SEND_TEXT, variables: { input: { sessionId: 'A', chatId: b, content: `ws ${i} ${TEXT}` } } }, {
          next: (v) => (value = v),
          error: (error) => resolve({ errors: Array.isArray(error) ? error : [error] }),
          complete: () => resolve(value),
        });
      });
      return got?.errors ? { refused: got } : { id: got?.data?.sendText?.message?.id };
    });
    assert.equal(viaWs.errors?.[0]?.extensions?.code, 'STORAGE_FULL', JSON.stringify(viaWs));

    const health = await fetch(`${s.url}/health`);
    const healthBody = (await health.json()) as any;
    assert.equal(health.status, 503);
    assert.match(healthBody.data.checks.database, /^error: storage full/);
    const metrics = await scrape(s.url);
    assert.equal(sample(metrics, 'wa_gateway_storage_full'), 1);
    assert.ok(sample(metrics, 'wa_gateway_storage_full_errors_total') >= 4);

    // Space back: health recovers by itself (the probe write), then writes go through again.
    unlinkSync(ballast);
    await waitFor(async () => (await fetch(`${s.url}/health`)).status === 200, 10_000, 'healthy again');
    const after = await s.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content: 'space is back' } });
    acknowledged.push(after.sendText.message.id);
    assert.equal(sample(await scrape(s.url), 'wa_gateway_storage_full'), 0);

    // One error line for the episode, and none masked as unexpected.
    const logged = lines.map((l) => JSON.parse(l) as { level: unknown; msg: string });
    assert.equal(logged.filter((l) => l.msg.startsWith('storage full')).length, 1, lines.join('\n'));
    assert.equal(logged.filter((l) => /unexpected|failed unexpectedly|REST route failed|GraphQL request failed/.test(l.msg)).length, 0, lines.join('\n'));
    assert.equal(logged.filter((l) => l.msg === 'storage writable again').length, 1);

    // Nothing acknowledged was lost: every one is in the history after a restart.
    await s.stop();
    server = await startServer({}, dataDir);
    await waitReady(server, 'A');
    const kept = new Set<string>();
    let before: string | null = null;
    for (;;) {
      const page: any = await server.gqlOk(
        'query($c: String!, $before: String) { session(sessionId: "A") { chat(chatId: $c) { messages(last: 200, before: $before) { edges { node { id } } pageInfo { hasPreviousPage startCursor } } } } }',
        { c: b, before },
      );
      const messages = page.session.chat.messages;
      for (const e of messages.edges) kept.add(e.node.id);
      if (!messages.pageInfo.hasPreviousPage) break;
      before = messages.pageInfo.startCursor;
    }
    assert.deepEqual(acknowledged.filter((id) => !kept.has(id)), []);
  });
});
