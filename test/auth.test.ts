import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../src/app.js';
import { collect, CREATE, readySession, SCAN, startServer, tempDir, waitFor, type TestServer } from './helpers/app.js';
import { ADMIN_KEY, createKey, CREATE_KEY, gqlAs, gqlOkAs, withKey } from './helpers/auth.js';
import { runMain, spawnServer } from './helpers/process.js';

const SESSIONS = '{ sessions { sessionId } }';
const ONE = 'query($id: String!) { session(sessionId: $id) { sessionId status } }';
const REMOVE = 'mutation($id: String!) { removeSession(sessionId: $id) { removed } }';
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

describe('API keys', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ auth: { apiKeys: [ADMIN_KEY] } });
  });
  after(() => server.dispose());

  it('refuses a request without a key or with a wrong one: 401, UNAUTHENTICATED, WWW-Authenticate', async () => {
    for (const headers of [{}, withKey('wrong-key-0123456789'), { authorization: 'Bearer nope' }, basic('x', 'nope'), { authorization: 'Digest abc' }]) {
      const result = await gqlAs(server, SESSIONS, {}, headers);
      assert.equal(result.status, 401, JSON.stringify(headers));
      assert.equal(result.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
      assert.equal(result.data, undefined);
      assert.match(result.headers.get('www-authenticate') ?? '', /Bearer/);
      assert.equal((result.errors?.[0]?.extensions as any)?.http, undefined, 'no internal extensions leak');
    }
  });

  it('takes the key as X-Api-Key, Bearer, or Basic (password, or user name with an empty password)', async () => {
    for (const headers of [withKey(ADMIN_KEY), { authorization: `Bearer ${ADMIN_KEY}` }, basic('anyone', ADMIN_KEY), basic(ADMIN_KEY, '')]) {
      const result = await gqlAs(server, SESSIONS, {}, headers);
      assert.equal(result.status, 200, JSON.stringify(headers));
      assert.deepEqual(result.data, { sessions: [] });
    }
  });

  it('keeps /health open, and GraphiQL’s page loads without a key', async () => {
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
  });

  it('createApiKey returns the key once; only its sha512 hash is stored; revoke stops it at once', async () => {
    const created = await gqlOkAs(server, ADMIN_KEY, CREATE_KEY, { input: { name: 'ci', sessionIds: ['k-1'], actions: ['READ', 'SEND'] } });
    const { key, apiKey } = created.createApiKey;
    assert.match(key, /^wag_[A-Za-z0-9_-]{40,}$/);
    assert.deepEqual({ ...apiKey, id: undefined, createdAt: undefined }, {
      id: undefined,
      createdAt: undefined,
      name: 'ci',
      prefix: key.slice(0, 10),
      admin: false,
      sessionIds: ['k-1'],
      actions: ['READ', 'SEND'],
      revokedAt: null,
    });
    assert.equal((await gqlAs(server, SESSIONS, {}, withKey(key))).status, 200);

    const listed = await gqlOkAs(server, ADMIN_KEY, '{ apiKeys { id prefix name revokedAt } }');
    assert.ok(listed.apiKeys.some((k: any) => k.id === apiKey.id));
    assert.ok(!JSON.stringify(listed).includes(key), 'the list never shows a key');

    const [row] = await server.sql<{ hash: string }>('select hash from api_keys where id = ?', [apiKey.id]);
    assert.equal(row!.hash, `sha512:${createHash('sha512').update(key).digest('hex')}`);
    // On PostgreSQL the files are the server's; the hash above is what it holds.
    for (const file of server.store === 'sqlite' ? ['wa-gateway.sqlite', 'wa-gateway.sqlite-wal'] : []) {
      try {
        assert.ok(!readFileSync(join(server.dataDir, file)).includes(key), `${file} does not hold the key`);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }

    const revoked = await gqlOkAs(server, ADMIN_KEY, 'mutation($id: ID!) { revokeApiKey(id: $id) { revoked apiKey { id revokedAt } } }', { id: apiKey.id });
    assert.equal(revoked.revokeApiKey.revoked, true);
    assert.ok(revoked.revokeApiKey.apiKey.revokedAt);
    assert.equal((await gqlAs(server, SESSIONS, {}, withKey(key))).status, 401);
    const unknown = await gqlAs(server, 'mutation { revokeApiKey(id: "key_nope") { revoked } }', {}, withKey(ADMIN_KEY));
    assert.equal(unknown.errors?.[0]?.extensions?.code, 'NOT_FOUND');
  });

  it('rejects bad key input with VALIDATION_ERROR and creates nothing', async () => {
    const before = (await gqlOkAs(server, ADMIN_KEY, '{ apiKeys { id } }')).apiKeys.length;
    for (const input of [{}, { sessionIds: [] }, { sessionIds: ['bad id'] }, { sessionIds: ['ok'], actions: [] }, { admin: true, name: '' }, { admin: true, name: 'x'.repeat(101) }]) {
      const result = await gqlAs(server, CREATE_KEY, { input }, withKey(ADMIN_KEY));
      assert.equal(result.errors?.[0]?.extensions?.code, 'VALIDATION_ERROR', JSON.stringify(input));
    }
    assert.equal((await gqlOkAs(server, ADMIN_KEY, '{ apiKeys { id } }')).apiKeys.length, before);
  });

  it('a stored admin key may manage keys; a scoped key may not (FORBIDDEN)', async () => {
    const admin = await createKey(server, { admin: true, name: 'second admin' });
    const scoped = await createKey(server, { sessionIds: ['k-2'], actions: ['READ', 'SEND', 'MANAGE'] });
    await gqlOkAs(server, admin.key, '{ apiKeys { id } }');
    for (const query of ['{ apiKeys { id } }', `mutation { createApiKey(input: { admin: true }) { key } }`, `mutation { revokeApiKey(id: "${admin.id}") { revoked } }`]) {
      const result = await gqlAs(server, query, {}, withKey(scoped.key));
      assert.equal(result.errors?.[0]?.extensions?.code, 'FORBIDDEN', query);
    }
    assert.equal((await gqlAs(server, SESSIONS, {}, withKey(admin.key))).status, 200, 'the admin key was not revoked');
  });

  it('a configured sha512:<hex> key works, the plain key never being in the config', async () => {
    const plain = 'hashed-only-key-abcdefghijklmnop';
    const hashed = await startServer({ auth: { apiKeys: [`sha512:${createHash('sha512').update(plain).digest('hex').toUpperCase()}`] } });
    try {
      assert.equal((await gqlAs(hashed, SESSIONS, {}, withKey(plain))).status, 200);
      assert.equal((await gqlAs(hashed, SESSIONS, {}, withKey(`sha512:${createHash('sha512').update(plain).digest('hex')}`))).status, 401, 'the hash is not a key');
    } finally {
      await hashed.dispose();
    }
  });
});

describe('session scopes', () => {
  let server: TestServer;
  let readA: string;
  let allB: string;
  let manageC: string;
  before(async () => {
    server = await startServer({ auth: { apiKeys: [ADMIN_KEY] } });
    for (const id of ['sa', 'sb']) await gqlOkAs(server, ADMIN_KEY, CREATE, { input: { sessionId: id, waitForQR: true } });
    readA = (await createKey(server, { sessionIds: ['sa'], actions: ['READ'] })).key;
    allB = (await createKey(server, { sessionIds: ['sb'], actions: ['READ', 'SEND', 'MANAGE'] })).key;
    manageC = (await createKey(server, { sessionIds: ['sc'], actions: ['MANAGE', 'READ'] })).key;
  });
  after(() => server.dispose());

  const ids = async () => (await gqlOkAs(server, ADMIN_KEY, SESSIONS)).sessions.map((s: any) => s.sessionId).sort();

  it('sessions lists only what the key may read; another session reads as missing', async () => {
    assert.deepEqual((await gqlOkAs(server, readA, SESSIONS)).sessions, [{ sessionId: 'sa' }]);
    assert.deepEqual((await gqlOkAs(server, allB, SESSIONS)).sessions, [{ sessionId: 'sb' }]);
    assert.equal((await gqlOkAs(server, readA, ONE, { id: 'sa' })).session.sessionId, 'sa');
    assert.equal((await gqlOkAs(server, readA, ONE, { id: 'sb' })).session, null, 'same answer as a session that does not exist');
    assert.equal((await gqlOkAs(server, readA, ONE, { id: 'nobody' })).session, null);
  });

  it('a read-only key cannot remove or scan its session; another key’s session answers SESSION_NOT_FOUND', async () => {
    for (const [key, id] of [[readA, 'sa'], [readA, 'sb'], [allB, 'sa']] as const) {
      for (const query of [REMOVE, SCAN]) {
        const result = await gqlAs(server, query, { id }, withKey(key));
        assert.equal(result.errors?.[0]?.extensions?.code, 'SESSION_NOT_FOUND', `${query} ${id}`);
        assert.equal(result.errors?.[0]?.message, `Session with ID '${id}' not found`, 'the message of a missing session');
      }
    }
    assert.deepEqual(await ids(), ['sa', 'sb'], 'nothing removed');
  });

  it('a manage key creates only sessions in its scope', async () => {
    const outside = await gqlAs(server, CREATE, { input: { sessionId: 'sd' } }, withKey(manageC));
    assert.equal(outside.errors?.[0]?.extensions?.code, 'SESSION_NOT_FOUND');
    const inside = await gqlOkAs(server, manageC, CREATE, { input: { sessionId: 'sc' } });
    assert.equal(inside.createSession.session.sessionId, 'sc');
    assert.deepEqual(await ids(), ['sa', 'sb', 'sc']);
    await gqlOkAs(server, manageC, REMOVE, { id: 'sc' });
    assert.deepEqual(await ids(), ['sa', 'sb']);
  });

  it('graphql-ws: a connection without a key is refused; connectionParams apiKey or authorization work', async () => {
    const anonymous = server.wsClient();
    await assert.rejects(
      new Promise((resolve, reject) => anonymous.subscribe({ query: 'subscription { sessionStatus(sessionId: "sa") { status } }' }, { next: resolve, error: reject, complete: () => reject(new Error('completed')) })),
      (error: any) => error?.code === 4403 || /Forbidden|4403/.test(String(error?.reason ?? error)),
    );
    const wrong = server.wsClient({ apiKey: 'wrong-key-0123456789' });
    await assert.rejects(new Promise((resolve, reject) => wrong.subscribe({ query: '{ health { status } }' }, { next: resolve, error: reject, complete: () => reject(new Error('completed')) })));

    for (const params of [{ apiKey: readA }, { authorization: `Bearer ${readA}` }, { headers: { 'x-api-key': readA } }]) {
      const client = server.wsClient(params);
      const value = await new Promise<any>((resolve, reject) =>
        client.subscribe({ query: 'subscription { sessionStatus(sessionId: "sa") { status } }' }, { next: resolve, error: reject, complete: () => undefined }),
      );
      assert.equal(value.data.sessionStatus.status, 'QR_READY', JSON.stringify(params));
      const other = await new Promise<any>((resolve, reject) =>
        client.subscribe({ query: 'subscription { sessionStatus(sessionId: "sb") { status } }' }, { next: resolve, error: reject, complete: () => undefined }),
      ).catch((errors) => ({ errors }));
      assert.equal(other.errors?.[0]?.extensions?.code, 'SESSION_NOT_FOUND');
      await client.dispose();
    }
  });

  it('graphql-ws: revoking a key closes its connections with 4403, and it cannot connect again', async () => {
    const temp = await createKey(server, { sessionIds: ['sa'], actions: ['READ'] });
    const client = server.wsClient({ apiKey: temp.key });
    // A subscription that stays open keeps the connection (the client is lazy).
    const open = collect(client, 'subscription { sessionStatus(sessionId: "sa") { status } }');
    await open.next(1);
    await gqlOkAs(server, ADMIN_KEY, 'mutation($id: ID!) { revokeApiKey(id: $id) { revoked } }', { id: temp.id });
    await waitFor(() => open.errors.length > 0, 2000, 'the connection to close');
    assert.equal((open.errors[0] as { code?: number }).code, 4403);
    const again = server.wsClient({ apiKey: temp.key });
    const refused = await new Promise<any>((resolve) => again.subscribe({ query: '{ health { status } }' }, { next: resolve, error: resolve, complete: () => undefined }));
    assert.equal(refused.code, 4403);
  });

  it('SSE subscriptions need a key too', async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { sessionStatus(sessionId: "sa") { status } }' }),
    });
    const text = await res.text();
    assert.match(text, /UNAUTHENTICATED/);
  });
});

describe('open mode and binding', () => {
  it('without a key: open, warns, binds 127.0.0.1 unless --host is given; with a key: 0.0.0.0', async () => {
    const lines: string[] = [];
    const logger = { debug() {}, info() {}, warn: (msg: string) => lines.push(msg), error() {}, child() { return logger; } };
    const dirs = [tempDir(), tempDir(), tempDir()];
    const open = await buildApp({ dataDir: dirs[0], logLevel: 'silent' }, { logger });
    const explicit = await buildApp({ dataDir: dirs[1], host: '0.0.0.0', logLevel: 'silent' }, { logger });
    const keyed = await buildApp({ dataDir: dirs[2], auth: { apiKeys: [ADMIN_KEY] }, logLevel: 'silent' }, { logger });
    try {
      assert.equal(open.config.host, '127.0.0.1');
      assert.equal(explicit.config.host, '0.0.0.0');
      assert.equal(keyed.config.host, '0.0.0.0');
      assert.equal(lines.filter((l) => /NO API KEY/.test(l)).length, 2);
    } finally {
      await Promise.all([open.stop(), explicit.stop(), keyed.stop()]);
    }
  });

  it('the CLI prints the warning and listens on loopback; a short --api-key is refused', async () => {
    const dataDir = tempDir();
    const server = await spawnServer(['--port', '0', '--data-dir', dataDir]);
    try {
      await waitFor(() => /WARNING: no API key/.test(server.output()), 5000, 'the warning');
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:/);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    const refused = await runMain(['--api-key', 'short']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.output, /--api-key/);
  });

  it('/health can require a key', async () => {
    const server = await startServer({ auth: { apiKeys: [ADMIN_KEY], healthOpen: false } });
    try {
      const denied = await fetch(`${server.url}/health`);
      assert.equal(denied.status, 401);
      assert.equal(((await denied.json()) as any).error.code, 'UNAUTHENTICATED');
      assert.equal((await fetch(`${server.url}/health`, { headers: withKey(ADMIN_KEY) })).status, 200);
    } finally {
      await server.dispose();
    }
  });

  it('a key created while the API was open closes it', async () => {
    const server = await startServer();
    try {
      assert.equal((await gqlAs(server, SESSIONS)).status, 200);
      const { key } = (await server.gqlOk(CREATE_KEY, { input: { admin: true } })).createApiKey;
      assert.equal((await gqlAs(server, SESSIONS)).status, 401);
      assert.equal((await gqlAs(server, SESSIONS, {}, withKey(key))).status, 200);
      await readySession({ ...server, gqlOk: (q: string, v?: Record<string, unknown>) => gqlOkAs(server, key, q, v) } as TestServer, 'after');
      await waitFor(async () => (await gqlOkAs(server, key, ONE, { id: 'after' })).session.status === 'READY');
    } finally {
      await server.dispose();
    }
  });
});
