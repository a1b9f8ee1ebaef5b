import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { version } from '../src/version.js';
import { CREATE, readySession, startServer, waitFor, type TestServer } from './helpers/app.js';

describe('server info, health and GraphiQL', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ maxSessions: 5 });
  });
  after(() => server.dispose());

  it('serverInfo reports real figures', async () => {
    await readySession(server, 'info-1');
    await server.gqlOk(CREATE, { input: { sessionId: 'info-2', config: { qrTimeout: 0.05 } } });
    await waitFor(async () => (await server.gqlOk('{ session(sessionId: "info-2") { status } }')).session.status === 'FAILED', 10_000, 'info-2 FAILED');
    const data = await server.gqlOk('{ serverInfo { version maxSessions activeSessions totalSessions uptime memory { used total rssBytes } } }');
    const info = data.serverInfo;
    assert.equal(info.version, version);
    assert.match(version, /^\d+\.\d+\.\d+/);
    assert.equal(info.maxSessions, 5);
    assert.equal(info.totalSessions, 2);
    assert.equal(info.activeSessions, 1, 'the FAILED session is not active');
    assert.ok(info.uptime >= 0);
    assert.match(info.memory.used, /^\d+(\.\d+)?(MB|GB)$/);
    assert.ok(Math.abs(info.memory.rssBytes - process.memoryUsage().rss) < 256 * 1024 * 1024);
  });

  it('health reports its checks', async () => {
    const ok = await server.gqlOk('{ health { status timestamp checks { database sessions memory } } }');
    assert.deepEqual(ok.health.checks, { database: 'ok', sessions: 'ok', memory: 'ok' });
    assert.ok(Math.abs(Date.parse(ok.health.timestamp) - Date.now()) < 10_000);
    const plain = await fetch(`${server.url}/health`);
    assert.equal(plain.status, 200);
    assert.equal(((await plain.json()) as any).data.status, 'healthy');
  });

  it('health turns unhealthy when the database stops answering', async () => {
    const broken = await startServer();
    try {
      await broken.sql('DROP TABLE sessions');
      const data = await broken.gqlOk('{ health { status checks { database } } }');
      assert.equal(data.health.status, 'unhealthy');
      assert.match(data.health.checks.database, /^error: .*sessions/);
      assert.equal((await fetch(`${broken.url}/health`)).status, 503);
    } finally {
      await broken.dispose();
    }
  });

  it('answers a browser on /graphql with a self-contained GraphiQL page', async () => {
    const res = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    const html = await res.text();
    assert.match(html, /graphiql/i);
    assert.doesNotMatch(html, /<script[^>]+src="https?:/i, 'no script from a CDN');
    assert.doesNotMatch(html, /<link[^>]+href="https?:/i, 'no stylesheet from a CDN');
  });

  it('every response carries x-request-id, the caller’s when given', async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-123' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    assert.equal(res.headers.get('x-request-id'), 'req-123');
    const other = await fetch(`${server.url}/nowhere`);
    assert.equal(other.status, 404);
    assert.match(other.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('delivers subscriptions over SSE too', async () => {
    await server.gqlOk(CREATE, { input: { sessionId: 'sse-1' } });
    const controller = new AbortController();
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { sessionStatus(sessionId: "sse-1") { status } }' }),
      signal: controller.signal,
    });
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const deadline = Date.now() + 5000;
    while (!text.includes('QR_READY') && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    assert.match(text, /"status":"(INITIALIZING|QR_READY)"/);
    assert.match(text, /QR_READY/);
  });
});
