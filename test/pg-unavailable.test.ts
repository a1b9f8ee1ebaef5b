import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { buildApp, type App } from '../src/app.js';
import { fastSettings, tempDir, waitFor } from './helpers/app.js';
import { createTestDatabase, needsPostgres, queryDatabase, requirePostgres, TEST_DATABASE_URL, type TestDatabase } from './helpers/pg.js';
import { REGISTER } from './helpers/webhooks.js';

// PostgreSQL going away, without touching the shared server: the app reaches it through a TCP proxy of this
// test, which cuts every connection (and refuses new ones) while "down".
class CuttableProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  down = false;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = createServer((client) => {
      if (this.down) return void client.destroy();
      const upstream = createConnection(this.target, client);
      this.track(client);
      this.track(upstream);
    });
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as AddressInfo).port)));
  }

  cut(): void {
    this.down = true;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.down = false;
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}


function createConnection(target: { host: string; port: number }, client: Socket): Socket {
  const upstream = connect(target.port, target.host);
  client.pipe(upstream);
  upstream.pipe(client);
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.once('close', end);
  upstream.once('close', end);
  return upstream;
}

const CREATE = `mutation($input: CreateSessionInput!) { createSession(input: $input) { session { sessionId } } }`;

describe('PostgreSQL out of reach: DATABASE_UNAVAILABLE, /health, recovery', await needsPostgres(), () => {
  let database: TestDatabase;
  let proxy: CuttableProxy;
  let app: App;
  let url: string;

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${path} answered ${res.status} with ${text.slice(0, 300)}`);
    }
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: json };
  };
  const health = async () => {
    const res = await fetch(`${url}/health`);
    return { status: res.status, body: (await res.json()) as any };
  };

  before(async () => {
    await requirePostgres();
    database = await createTestDatabase();
    const target = new URL(TEST_DATABASE_URL);
    proxy = new CuttableProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const port = await proxy.listen();
    const viaProxy = new URL(database.url);
    viaProxy.host = `127.0.0.1:${port}`;
    app = await buildApp({ ...fastSettings, host: '127.0.0.1', dataDir: tempDir(), databaseUrl: viaProxy.toString(), webhooks: { allowCidrs: '127.0.0.0/8' } });
    url = (await app.start(0)).url.replace('localhost', '127.0.0.1');
  });

  after(async () => {
    await app?.stop();
    await proxy?.close();
    await database?.drop();
  });

  it('answers DATABASE_UNAVAILABLE (503, Retry-After) while cut off, reports it on /health, and recovers by itself', async () => {
    const first = await post('/graphql', { query: CREATE, variables: { input: { sessionId: 'before' } } });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal((await health()).status, 200);

    proxy.cut();
    const viaGraphql = await post('/graphql', { query: CREATE, variables: { input: { sessionId: 'during-gql' } } });
    assert.equal(viaGraphql.body.errors?.[0]?.extensions?.code, 'DATABASE_UNAVAILABLE', JSON.stringify(viaGraphql.body));
    assert.equal(viaGraphql.status, 503);
    assert.equal(viaGraphql.retryAfter, '5');

    const viaRest = await post('/api/v1/sessions', { sessionId: 'during-rest' });
    assert.equal(viaRest.status, 503, JSON.stringify(viaRest.body));
    assert.equal(viaRest.body.error.code, 'DATABASE_UNAVAILABLE');
    assert.equal(viaRest.retryAfter, '5');

    const webhook = await post('/graphql', { query: REGISTER, variables: { input: { sessionId: 'before', url: 'http://127.0.0.1:9/hook' } } });
    assert.equal(webhook.body.errors?.[0]?.extensions?.code, 'DATABASE_UNAVAILABLE', JSON.stringify(webhook.body));

    const down = await health();
    assert.equal(down.status, 503);
    assert.match(down.body.data.checks.database, /database unavailable/);

    proxy.restore();
    await waitFor(async () => (await health()).status === 200 || null, 15_000, '/health healthy again');
    const later = await post('/graphql', { query: CREATE, variables: { input: { sessionId: 'after' } } });
    assert.equal(later.status, 200, JSON.stringify(later.body));
    assert.equal(later.body.errors, undefined);

    // Stored: what was acknowledged, and nothing of what was refused.
    const rows = await queryDatabase<{ session_id: string }>(database.url, 'SELECT session_id FROM sessions ORDER BY session_id');
    assert.deepEqual(rows.map((r) => r.session_id), ['after', 'before']);
    const listed = await post('/graphql', { query: '{ sessions { sessionId } }' });
    assert.deepEqual(listed.body.data.sessions.map((s: { sessionId: string }) => s.sessionId).sort(), ['after', 'before']);
    // The refused webhook is not in the registry once it has read itself again.
    assert.deepEqual(await queryDatabase(database.url, 'SELECT id FROM webhooks'), []);
    await waitFor(async () => {
      const r = await post('/graphql', { query: '{ webhooks(sessionId: "before") { id } }' });
      return r.body.data?.webhooks?.length === 0 || null;
    }, 10_000, 'the refused webhook gone from the registry');
  });
  it('a session whose start meets an unreachable database waits, INITIALIZING, and starts once it answers (never FAILED)', async () => {
    const session = async () => (await post('/graphql', { query: '{ session(sessionId: "blip") { status } }' })).body.data?.session;
    const created = await post('/graphql', { query: CREATE, variables: { input: { sessionId: 'blip' } } });
    assert.equal(created.body.errors, undefined, JSON.stringify(created.body));
    await waitFor(async () => (await session())?.status === 'QR_READY' || null, 10_000, 'QR_READY');
    const stopped = await post('/graphql', { query: 'mutation { stopSession(sessionId: "blip") { status } }' });
    assert.equal(stopped.body.data?.stopSession?.status, 'TERMINATED', JSON.stringify(stopped.body));

    proxy.cut();
    const starting = post('/graphql', { query: 'mutation { startSession(sessionId: "blip") { status } }' });
    const seen = new Set<string>();
    const until = Date.now() + 2000;
    while (Date.now() < until) {
      const s = await session();
      if (s) seen.add(s.status);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(!seen.has('FAILED'), `statuses while cut off: ${[...seen].join(', ')}`);
    assert.ok(seen.has('INITIALIZING'), `statuses while cut off: ${[...seen].join(', ')}`);

    proxy.restore();
    await waitFor(async () => (await session())?.status === 'QR_READY' || null, 20_000, 'QR_READY once the database answers');
    await starting;
  });
});
