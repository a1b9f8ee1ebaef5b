import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { closeReason } from '../src/http/ws-guard.js';
import { startServer, tempDir, waitFor, type TestServer } from './helpers/app.js';
import { ADMIN_KEY, createKey, gqlOkAs } from './helpers/auth.js';
import { spawnServer, type ServerProcess } from './helpers/process.js';

// Hostile input on the socket transports (graphql-ws, the legacy /ws/{id} socket) and on live subscriptions
// (graphql-ws, SSE, /ws/{id}). What could kill the process runs against a server in a child process, and each
// such test then proves the process is still up and /health answers within a second.

const PROTOCOL = 'graphql-transport-ws';

/** A graphql-transport-ws client that shows every message and close as it is, with nothing retried or hidden. */
class RawGraphQLWs {
  readonly messages: any[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.messages.push(JSON.parse(String(data))));
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }

  static async open(wsUrl: string, connectionParams?: Record<string, unknown>): Promise<RawGraphQLWs> {
    const ws = new WebSocket(`${wsUrl}/graphql`, PROTOCOL);
    const client = new RawGraphQLWs(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    client.send({ type: 'connection_init', ...(connectionParams ? { payload: connectionParams } : {}) });
    await client.until((m) => m.type === 'connection_ack', 'connection_ack');
    return client;
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  subscribe(id: string, query: string, variables: Record<string, unknown> = {}): void {
    this.send({ id, type: 'subscribe', payload: { query, variables } });
  }

  of(id: string): any[] {
    return this.messages.filter((m) => m.id === id);
  }

  until(check: (m: any) => boolean, what: string, timeoutMs = 5000): Promise<any> {
    return waitFor(() => this.messages.find(check), timeoutMs, `${what}; got ${JSON.stringify(this.messages).slice(0, 2000)}`);
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }
}

async function healthWithin(url: string, ms = 1000): Promise<void> {
  const started = performance.now();
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(ms) });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  assert.ok(performance.now() - started < ms);
}

function assertUp(server: ServerProcess): void {
  assert.equal(server.child.exitCode, null, `the server exited:\n${server.output().slice(-3000)}`);
  assert.equal(server.child.signalCode, null);
}

function rssBytes(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(line![1]) * 1024;
}

async function gqlHttp(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as any;
}

const closeOf = (ws: WebSocket) =>
  new Promise<{ code: number; reason: string; reasonBytes: number }>((resolve) =>
    ws.once('close', (code, reason) => resolve({ code, reason: String(reason), reasonBytes: reason.length })),
  );

/**
 * Opens a graphql-ws connection by hand and, before any connection_init, sends one binary frame that
 * declares `declared` bytes, streaming zeros (masked with a zero key, so they go out as they are) until the
 * server stops reading. Resolves with how many payload bytes were written before the connection ended.
 */
function bigFrameBeforeInit(url: string, declared: number): Promise<{ written: number; ended: boolean }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket: Socket = connect(Number(port), hostname);
    let written = 0;
    let upgraded = false;
    let ended = false;
    const finish = () => resolve({ written, ended });
    const chunk = Buffer.alloc(1024 * 1024);
    const pump = () => {
      while (!socket.destroyed && written < declared) {
        const n = Math.min(chunk.length, declared - written);
        written += n;
        if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          socket.once('drain', pump);
          return;
        }
      }
      if (written >= declared) setTimeout(finish, 500);
    };
    socket.on('close', () => {
      ended = true;
      finish();
    });
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (d: Buffer) => {
      if (upgraded) return;
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      upgraded = true;
      assert.match(head, /^HTTP\/1\.1 101/);
      const header = Buffer.alloc(14);
      header[0] = 0x82; // FIN + binary
      header[1] = 0x80 | 127; // masked, 64-bit length
      header.writeBigUInt64BE(BigInt(declared), 2);
      header.writeUInt32BE(0, 10); // mask key 0: the payload is sent unchanged
      socket.write(header);
      pump();
    });
    socket.write(
      [
        'GET /graphql HTTP/1.1',
        `Host: ${hostname}:${port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Version: 13',
        `Sec-WebSocket-Key: ${Buffer.from('0123456789abcdef').toString('base64')}`,
        `Sec-WebSocket-Protocol: ${PROTOCOL}`,
        '',
        '',
      ].join('\r\n'),
    );
  });
}

describe('closeReason', () => {
  it('keeps any text within 123 UTF-8 bytes, as a prefix cut at a character boundary (10,000 generated strings)', () => {
    const unit = fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), fc.constantFrom('é', '€', '😀', '\uD800', '\uDC00', '\u0000'));
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 200 }), (text) => {
        const cut = closeReason(text);
        assert.ok(Buffer.byteLength(cut) <= 123);
        if (Buffer.byteLength(text) <= 123) return assert.equal(cut, text);
        assert.ok(cut.endsWith('…'));
        const kept = cut.slice(0, -1);
        assert.ok(text.startsWith(kept));
        // A surrogate pair is never split: the kept part ends where a code point of the text ends.
        assert.ok(!/[\uD800-\uDBFF]$/.test(kept) || !/^[\uDC00-\uDFFF]/.test(text.slice(kept.length)));
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('hostile input on the sockets (server in a child process)', () => {
  let server: ServerProcess;
  let wsUrl: string;
  before(async () => {
    server = await spawnServer(['--port', '0', '--data-dir', tempDir()], {
      SANDBOX_START_DELAY_MS: '10',
      SANDBOX_QR_ROTATE_MS: '150',
      // Unknown to a server without these settings; the defaults are checked where they matter.
      MAX_SUBSCRIPTIONS_PER_KEY: '150',
    });
    wsUrl = server.url.replace(/^http/, 'ws');
    const created = await gqlHttp(server.url, 'mutation { createSession(input: { sessionId: "s1", waitForQR: true }) { session { status } } }');
    assert.equal(created.data?.createSession.session.status, 'QR_READY', JSON.stringify(created));
  });
  after(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
  });

  it('legacy socket: a session id of 100 x é (URL-encoded) is closed with 4404 and a reason of at most 123 bytes', async () => {
    const ws = new WebSocket(`${wsUrl}/ws/${encodeURIComponent('é'.repeat(100))}`);
    ws.on('error', () => undefined);
    const closed = await closeOf(ws);
    assertUp(server);
    await healthWithin(server.url);
    assert.equal(closed.code, 4404);
    assert.ok(closed.reasonBytes <= 123 && closed.reasonBytes > 0, `reason of ${closed.reasonBytes} bytes`);
    assert.match(closed.reason, /^Session with ID 'é+/);
    assert.ok(!closed.reason.includes('\uFFFD'), 'no character was split');
  });

  it('legacy socket: a frame over its 64 KiB limit closes that socket with 1009, the process stays up', async () => {
    const ws = new WebSocket(`${wsUrl}/ws/s1`);
    ws.on('error', () => undefined);
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = closeOf(ws);
    ws.send(Buffer.alloc(64 * 1024 + 1));
    assert.equal((await closed).code, 1009);
    assertUp(server);
    await healthWithin(server.url);
  });

  it('graphql-ws: a syntax error whose message is over 123 bytes is an error for its own id; the connection and its other subscriptions carry on', async () => {
    const client = await RawGraphQLWs.open(wsUrl);
    client.subscribe('qr', 'subscription { qr(sessionId: "s1") { dataUrl } }');
    await client.until((m) => m.id === 'qr' && m.type === 'next', 'a first qr');
    client.subscribe('bad', `subscription { "${'é'.repeat(60)}" }`);
    const error = await Promise.race([
      client.until((m) => m.id === 'bad', 'an answer for bad'),
      client.closed.then((c) => ({ closed: c })),
    ]);
    assertUp(server);
    await healthWithin(server.url);
    assert.equal(error.type, 'error', JSON.stringify(error));
    assert.equal(error.payload[0].extensions.code, 'VALIDATION_ERROR');
    assert.match(error.payload[0].message, /^Syntax Error/);
    assert.ok(client.open, 'the connection stays open');
    // The first subscription keeps streaming, and a new operation on the same connection still runs.
    const seen = client.of('qr').length;
    await client.until(() => client.of('qr').length > seen, 'another qr after the bad subscribe');
    client.subscribe('q', '{ session(sessionId: "s1") { sessionId } }');
    const answer = await client.until((m) => m.id === 'q' && m.type === 'next', 'the query');
    assert.equal(answer.payload.data.session.sessionId, 's1');
    // A document that fails validation, and one that names an operation it does not hold, get their own error too.
    client.subscribe('invalid', 'subscription { nope }');
    client.subscribe('unknown-op', 'subscription A { qr(sessionId: "s1") { dataUrl } }');
    client.send({ id: 'unknown-op', type: 'complete' });
    client.send({ id: 'unknown-name', type: 'subscribe', payload: { query: 'subscription A { qr(sessionId: "s1") { dataUrl } }', operationName: 'B' } });
    assert.equal((await client.until((m) => m.id === 'invalid', 'invalid')).type, 'error');
    const unknownName = await client.until((m) => m.id === 'unknown-name', 'unknown-name');
    assert.equal(unknownName.type, 'error');
    assert.equal(unknownName.payload[0].extensions.code, 'VALIDATION_ERROR');
    assert.ok(client.open);
    client.ws.close();
  });

  it('graphql-ws: a duplicate operation id of 100 x é closes with 4409 and a reason of at most 123 bytes', async () => {
    const client = await RawGraphQLWs.open(wsUrl);
    const id = 'é'.repeat(100);
    client.subscribe(id, 'subscription { qr(sessionId: "s1") { dataUrl } }');
    client.subscribe(id, 'subscription { qr(sessionId: "s1") { dataUrl } }');
    const closed = await client.closed;
    assertUp(server);
    await healthWithin(server.url);
    assert.equal(closed.code, 4409);
    assert.ok(Buffer.byteLength(closed.reason) <= 123);
  });

  it('graphql-ws: a 100 MiB frame before connection_init is cut off early; RSS stays bounded and /health answers', async () => {
    const before = rssBytes(server.child.pid!);
    const sent = await Promise.all([1, 2, 3].map(() => bigFrameBeforeInit(server.url, 100 * 1024 * 1024)));
    assertUp(server);
    await healthWithin(server.url);
    const grew = rssBytes(server.child.pid!) - before;
    console.log(`# big frames before init: written ${sent.map((s) => s.written).join(', ')} bytes; server RSS ${(before / 2 ** 20).toFixed(0)} MiB, grew ${(grew / 2 ** 20).toFixed(1)} MiB`);
    for (const s of sent) {
      assert.ok(s.ended, 'the server ended the connection');
      assert.ok(s.written < 16 * 1024 * 1024, `the server stopped reading early (${s.written} bytes written)`);
    }
    assert.ok(grew < 50 * 1024 * 1024, `RSS grew ${grew} bytes`);
  });

  it('graphql-ws: at most 100 subscriptions per connection and a total per key (here client IP), each refused on its own id', async () => {
    const a = await RawGraphQLWs.open(wsUrl);
    for (let i = 0; i < 101; i++) a.subscribe(`a${i}`, 'subscription { sessionStatus(sessionId: "s1") { status } }');
    const refused = await a.until((m) => m.id === 'a100' && (m.type === 'error' || m.payload?.errors), 'a100 refused');
    assertUp(server);
    await healthWithin(server.url);
    assert.equal(refused.type, 'error');
    assert.equal(refused.payload[0].extensions.code, 'TOO_MANY_SUBSCRIPTIONS');
    assert.deepEqual(refused.payload[0].extensions.details, { limit: 100, scope: 'connection' });
    await waitFor(() => [...Array(100).keys()].every((i) => a.of(`a${i}`).some((m) => m.type === 'next')), 5000, '100 subscriptions streaming');
    assert.ok(a.open);

    // MAX_SUBSCRIPTIONS_PER_KEY=150: a second connection from the same client gets 50 more. (Subscribes that
    // race past the early check are refused where the stream is made: a `next` with the error, then `complete`.)
    const b = await RawGraphQLWs.open(wsUrl);
    for (let i = 0; i < 51; i++) b.subscribe(`b${i}`, 'subscription { sessionStatus(sessionId: "s1") { status } }');
    const overKey = await b.until((m) => m.id === 'b50' && (m.type === 'error' || m.payload?.errors), 'b50 refused');
    const keyErrors = overKey.type === 'error' ? overKey.payload : overKey.payload.errors;
    assert.equal(keyErrors[0].extensions.code, 'TOO_MANY_SUBSCRIPTIONS');
    assert.deepEqual(keyErrors[0].extensions.details, { limit: 150, scope: 'key' });
    await waitFor(() => [...Array(51).keys()].every((i) => b.of(`b${i}`).length > 0), 5000, 'an answer for each');
    assert.equal(b.messages.filter((m) => m.type === 'next' && !m.payload.errors).length, 50, 'exactly 50 admitted');

    // Completing subscriptions (or closing their connection) gives their places back.
    for (let i = 0; i < 10; i++) a.send({ id: `a${i}`, type: 'complete' });
    await waitFor(async () => {
      b.subscribe('b-again', 'subscription { sessionStatus(sessionId: "s1") { status } }');
      const answer = await b.until((m) => m.id === 'b-again', 'b-again');
      b.messages.splice(b.messages.indexOf(answer), 1);
      if (answer.type === 'next' && !answer.payload.errors) return true;
      b.send({ id: 'b-again', type: 'complete' });
      await new Promise((r) => setTimeout(r, 50));
      return false;
    }, 5000, 'a place freed by complete');
    a.ws.close();
    b.ws.close();
    assertUp(server);
  });
});

describe('graphql-ws message limits', () => {
  it('connection_init over --ws-max-init-bytes is closed with 1009; after the ack a message may reach --max-body-bytes, not more', async () => {
    const server = await startServer({ http: { maxBodyBytes: 64 * 1024 }, sockets: { maxInitBytes: 4096 } });
    try {
      const ws = new WebSocket(`${server.wsUrl}/graphql`, PROTOCOL);
      ws.on('error', () => undefined);
      await new Promise((resolve) => ws.once('open', resolve));
      const closed = closeOf(ws);
      ws.send(JSON.stringify({ type: 'connection_init', payload: { apiKey: 'x'.repeat(8192) } }));
      const init = await closed;
      assert.equal(init.code, 1009);
      assert.match(init.reason, /before connection_ack/);

      // connectionParams within the limit are fine; after the ack a 40 KiB query runs, a 70 KiB message closes with 1009.
      const client = await RawGraphQLWs.open(server.wsUrl, { note: 'y'.repeat(2048) });
      client.subscribe('big', `{ health { status } } # ${'z'.repeat(40 * 1024)}`);
      const answer = await client.until((m) => m.id === 'big', 'big');
      assert.equal(answer.type, 'next', JSON.stringify(answer).slice(0, 300));
      assert.ok(answer.payload.data.health.status);
      client.subscribe('huge', `{ health { status } } # ${'z'.repeat(70 * 1024)}`);
      assert.equal((await client.closed).code, 1009);
      const res = await fetch(`${server.url}/health`);
      assert.equal(res.status, 200);
    } finally {
      await server.dispose();
    }
  });
});

describe('the per-key total counts live subscriptions on every transport together', () => {
  it('graphql-ws, SSE and /ws/{id} share --max-subscriptions-per-key; past it each is refused its own way', async () => {
    const server = await startServer({ auth: { apiKeys: [ADMIN_KEY] }, sockets: { maxSubscriptionsPerKey: 3 } });
    try {
      await gqlOkAs(server, ADMIN_KEY, 'mutation { createSession(input: { sessionId: "k1", waitForQR: true }) { session { status } } }');
      const { key } = await createKey(server, { sessionIds: ['k1'], actions: ['READ'] });
      const gws = await RawGraphQLWs.open(server.wsUrl, { apiKey: key });
      gws.subscribe('one', 'subscription { sessionStatus(sessionId: "k1") { status } }');
      await gws.until((m) => m.id === 'one' && m.type === 'next', 'one');
      const sseRequest = () =>
        fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-api-key': key },
          body: JSON.stringify({ query: 'subscription { sessionStatus(sessionId: "k1") { status } }' }),
        });
      const sseOpen = await sseRequest();
      const reader = sseOpen.body!.getReader();
      assert.match(Buffer.from((await reader.read()).value!).toString(), /event: next/);
      const legacy = new WebSocket(`${server.wsUrl}/ws/k1?apiKey=${encodeURIComponent(key)}`);
      await new Promise((resolve) => legacy.once('open', resolve));
      await waitFor(() => legacy.readyState === WebSocket.OPEN);

      // Three are held: a fourth is refused on each transport.
      gws.subscribe('four', 'subscription { sessionStatus(sessionId: "k1") { status } }');
      const refused = await gws.until((m) => m.id === 'four', 'four');
      assert.equal(refused.type, 'error');
      assert.equal(refused.payload[0].extensions.code, 'TOO_MANY_SUBSCRIPTIONS');
      assert.match(await (await sseRequest()).text(), /TOO_MANY_SUBSCRIPTIONS/);
      const extra = new WebSocket(`${server.wsUrl}/ws/k1?apiKey=${encodeURIComponent(key)}`);
      assert.equal(await new Promise((resolve) => extra.once('close', (code) => resolve(code))), 4429);
      assert.ok(gws.open, 'the graphql-ws connection carries on');

      // Ending the SSE stream gives its place back.
      await reader.cancel();
      await waitFor(async () => {
        gws.subscribe('again', 'subscription { sessionStatus(sessionId: "k1") { status } }');
        const answer = await gws.until((m) => m.id === 'again', 'again');
        gws.messages.splice(gws.messages.indexOf(answer), 1);
        return answer.type === 'next';
      }, 5000, 'the place the SSE stream held');
      legacy.close();
      gws.ws.close();
    } finally {
      await server.dispose();
    }
  });
});

// Revocation and removal can end nothing but streams: the in-process app is enough.
describe('revoking a key or removing a session ends its live subscriptions on every transport', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ auth: { apiKeys: [ADMIN_KEY] }, sandbox: { qrRotateMs: 100 } });
    for (const id of ['r1', 'r2']) await gqlOkAs(server, ADMIN_KEY, 'mutation($id: String!) { createSession(input: { sessionId: $id, waitForQR: true }) { session { status } } }', { id });
  });
  after(() => server.dispose());

  /** An SSE subscription over HTTP (yoga's text/event-stream, graphql-sse's distinct-connections mode). */
  async function sse(query: string, key: string) {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-api-key': key },
      body: JSON.stringify({ query }),
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const state = { events: [] as string[], ended: false, endedAt: 0 };
    void (async () => {
      let text = '';
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) break;
        text += Buffer.from(value!).toString();
        const parts = text.split('\n\n');
        text = parts.pop()!;
        state.events.push(...parts.filter((p) => p.includes('event: next')));
      }
      state.ended = true;
      state.endedAt = performance.now();
    })();
    return state;
  }

  async function threeTransports(sessionId: string, key: string) {
    const gws = await RawGraphQLWs.open(server.wsUrl, { apiKey: key });
    gws.subscribe('qr', `subscription { qr(sessionId: "${sessionId}") { dataUrl } }`);
    gws.subscribe('events', `subscription { events(sessionId: "${sessionId}") { __typename } }`);
    const stream = await sse(`subscription { qr(sessionId: "${sessionId}") { dataUrl } }`, key);
    const legacy = new WebSocket(`${server.wsUrl}/ws/${sessionId}?apiKey=${encodeURIComponent(key)}`);
    const legacyEvents: any[] = [];
    legacy.on('message', (d) => legacyEvents.push(JSON.parse(String(d))));
    let legacyClosedAt = 0;
    const legacyClosed = new Promise<{ code: number; reason: string }>((resolve) =>
      legacy.once('close', (code, reason) => {
        legacyClosedAt = performance.now();
        resolve({ code, reason: String(reason) });
      }),
    );
    // Each transport is streaming (the QR rotates every 100 ms) before the change.
    await waitFor(() => gws.of('qr').length >= 2 && stream.events.length >= 2 && legacyEvents.length >= 2, 5000, 'all three streaming');
    return { gws, stream, legacy, legacyEvents, legacyClosed, legacyClosedAt: () => legacyClosedAt };
  }

  it('revokeApiKey: graphql-ws closes with 4403, the SSE stream ends, /ws closes with 4403, all within 1 s', async () => {
    const { key, id } = await createKey(server, { sessionIds: ['r1'], actions: ['READ'] });
    const t = await threeTransports('r1', key);
    let gwsClosedAt = 0;
    const gwsClosed = t.gws.closed.then((c) => ((gwsClosedAt = performance.now()), c));
    const revokedAt = performance.now();
    await gqlOkAs(server, ADMIN_KEY, 'mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { revokedAt } } }', { id });
    const within = 1000;
    const [gws, legacy] = await Promise.all([
      Promise.race([gwsClosed, new Promise<null>((r) => setTimeout(() => r(null), within + 500))]),
      Promise.race([t.legacyClosed, new Promise<null>((r) => setTimeout(() => r(null), within + 500))]),
      waitFor(() => t.stream.ended, within + 500, 'the SSE stream to end').catch(() => null),
    ]);
    assert.ok(gws, 'graphql-ws connection closed');
    assert.equal(gws.code, 4403);
    assert.ok(gwsClosedAt - revokedAt < within, `graphql-ws after ${gwsClosedAt - revokedAt} ms`);
    assert.ok(t.stream.ended, 'SSE stream ended');
    assert.ok(t.stream.endedAt - revokedAt < within, `SSE after ${t.stream.endedAt - revokedAt} ms`);
    assert.ok(legacy, '/ws closed');
    assert.equal(legacy.code, 4403);
    assert.ok(t.legacyClosedAt() - revokedAt < within, `/ws after ${t.legacyClosedAt() - revokedAt} ms`);
    // And the key opens nothing new.
    const again = new WebSocket(`${server.wsUrl}/ws/r1?apiKey=${encodeURIComponent(key)}`);
    const refused = await new Promise<number>((resolve) => again.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    assert.equal(refused, 401);
  });

  it('removing a session: its graphql-ws operations complete (the connection stays), its SSE stream ends, /ws closes with 4410, within 1 s', async () => {
    const { key } = await createKey(server, { sessionIds: ['r2', 'other'], actions: ['READ'] });
    const t = await threeTransports('r2', key);
    const removedAt = performance.now();
    await gqlOkAs(server, ADMIN_KEY, 'mutation { removeSession(sessionId: "r2") { removed } }');
    const legacy = await Promise.race([t.legacyClosed, new Promise<null>((r) => setTimeout(() => r(null), 1500))]);
    assert.ok(legacy, '/ws closed');
    assert.equal(legacy.code, 4410);
    assert.ok(t.legacyClosedAt() - removedAt < 1000);
    await waitFor(() => t.stream.ended, 1500, 'the SSE stream to end');
    assert.ok(t.stream.endedAt - removedAt < 1000, `SSE after ${t.stream.endedAt - removedAt} ms`);
    await waitFor(() => t.gws.of('qr').some((m) => m.type === 'complete') && t.gws.of('events').some((m) => m.type === 'complete'), 1500, 'both operations complete');
    assert.ok(t.gws.open, 'the graphql-ws connection itself stays open');
    t.gws.ws.close();
  });
});
