// The Baileys engine inside the real app, offline: a BAILEYS session fails with a clear reason within
// seconds while a sandbox session beside it stays READY and /health healthy; removing it leaves nothing that
// keeps the process up (the server exits on SIGTERM at once). The login store through the app: kept across a
// restart, deleted by logout and remove, sealed with --auth-state-key; a wrong key stops the start clearly.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as baileys from 'baileys';
import { AuthCipher, loadAuthState } from '../src/engine/baileys/auth-store.js';
import { baileysSql } from '../src/engine/baileys/sql.js';
import { createLogger } from '../src/logger.js';
import { openAnyStore } from '../src/store/database.js';
import { startServer, tempDir, type TestServer } from './helpers/app.js';
import { fixture, until } from './helpers/baileys.js';
import { databaseFor, testStore } from './helpers/pg.js';
import { runMain, spawnServer } from './helpers/process.js';

const servers: TestServer[] = [];
after(async () => {
  await Promise.allSettled(servers.map((s) => s.dispose()));
});

// `.invalid` never resolves (RFC 2606): offline and online alike, the socket meets ENOTFOUND.
const OFFLINE = { baileys: { wsUrl: 'ws://web.whatsapp.invalid/ws/chat', reconnectBackoffMs: [100, 200] } };
const CREATE = `mutation($input: CreateSessionInput!) { createSession(input: $input) { session { sessionId status engine } } }`;
const SESSION = `query($id: String!) { session(sessionId: $id) { status failureReason engine } }`;
const creds = fixture('creds.json');

async function server(overrides: Record<string, unknown> = {}, dataDir = tempDir(), lines?: string[]): Promise<TestServer> {
  const options = lines ? { logger: createLogger('warn', {}, (line) => lines.push(line), 'json') } : {};
  const s = await startServer({ ...OFFLINE, ...overrides } as never, dataDir, options);
  servers.push(s);
  return s;
}

async function status(s: TestServer, id: string) {
  return (await s.gqlOk<{ session: { status: string; failureReason: string | null; engine: string } | null }>(SESSION, { id })).session;
}

/** Writes the fixture login for `sessionId` into the storage of `dataDir`, as a Baileys session that logged in would have. */
async function storeLogin(dataDir: string, sessionId: string, key: Buffer | null): Promise<void> {
  const databaseUrl = testStore === 'postgres' ? (await databaseFor(dataDir)).url : '';
  const store = await openAnyStore({ dataDir, databaseUrl });
  try {
    const auth = await loadAuthState(baileysSql(store), new AuthCipher(key), sessionId, baileys);
    Object.assign(auth.state.creds, creds);
    await auth.saveCreds();
    await auth.state.keys.set({ 'pre-key': { '1': { private: Buffer.alloc(32, 7), public: Buffer.alloc(32, 8) } } });
    await store.batch.committed();
  } finally {
    await store.close();
  }
}

describe('Baileys engine in the app, offline', () => {
  it('a BAILEYS session fails with a clear reason while a sandbox session stays READY and /health healthy', async () => {
    const s = await server();
    await s.gqlOk(CREATE, { input: { sessionId: 'sandbox-beside', config: { engine: 'SANDBOX', sandbox: { autoScanMs: 20 } } } });
    const started = Date.now();
    const created = await s.gqlOk<{ createSession: { session: { engine: string } } }>(CREATE, { input: { sessionId: 'real', config: { engine: 'BAILEYS' } } });
    assert.equal(created.createSession.session.engine, 'BAILEYS');
    await until('FAILED', async () => (await status(s, 'real'))?.status === 'FAILED', 10_000);
    assert.ok(Date.now() - started < 10_000);
    const failed = await status(s, 'real');
    assert.match(failed?.failureReason ?? '', /could not connect to WhatsApp \(3 attempts\): WebSocket Error \(getaddrinfo ENOTFOUND web\.whatsapp\.invalid\)/);
    await until('sandbox READY', async () => (await status(s, 'sandbox-beside'))?.status === 'READY', 10_000);
    const res = await fetch(`${s.url}/health`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { data: { status: string } }).data.status, 'healthy');
    // Restartable, and removable.
    await s.gqlOk(`mutation { startSession(sessionId: "real") { status } }`);
    await until('FAILED again', async () => (await status(s, 'real'))?.status === 'FAILED', 10_000);
    await s.gqlOk(`mutation { removeSession(sessionId: "real") { sessionId } }`);
    assert.equal(await status(s, 'real'), null);
  });

  it('REST creates a "baileys" session', async () => {
    const s = await server();
    const res = await fetch(`${s.url}/api/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sessionId: 'rest-b', config: { engine: 'baileys' } }),
    });
    assert.ok(res.ok, await res.text());
    const list = await fetch(`${s.url}/api/v1/sessions/rest-b`).then((r) => r.json() as Promise<Record<string, unknown>>);
    assert.match(JSON.stringify(list), /baileys/);
    await until('FAILED', async () => (await status(s, 'rest-b'))?.status === 'FAILED', 10_000);
  });

  it('after removeSession the process holds nothing of it: SIGTERM ends it within 2 s', async () => {
    const dataDir = tempDir();
    const proc = await spawnServer(['--port', '0', '--data-dir', dataDir, '--baileys-ws-url', 'ws://web.whatsapp.invalid/ws/chat', '--baileys-reconnect-backoff-ms', '100']);
    const gql = async (query: string) =>
      (await fetch(`${proc.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) }).then((r) => r.json())) as {
        data: any;
      };
    await gql(`mutation { createSession(input: { sessionId: "b", config: { engine: BAILEYS } }) { session { status } } }`);
    await until('FAILED', async () => (await gql(`{ session(sessionId: "b") { status } }`)).data.session.status === 'FAILED', 10_000);
    await gql(`mutation { removeSession(sessionId: "b") { sessionId } }`);
    const before = Date.now();
    proc.child.kill('SIGTERM');
    const code = await proc.exited;
    const took = Date.now() - before;
    assert.equal(code, 0, proc.output());
    assert.ok(took < 2_000, `exit took ${took} ms`);
  });
});

describe('Baileys login store through the app', () => {
  it('kept across a restart; logout and remove delete it', async () => {
    const dataDir = tempDir();
    let s = await server({}, dataDir);
    await s.gqlOk(CREATE, { input: { sessionId: 'l1', config: { engine: 'BAILEYS' } } });
    await until('FAILED', async () => (await status(s, 'l1'))?.status === 'FAILED', 10_000);
    await s.stop();
    await storeLogin(dataDir, 'l1', null);
    s = await server({}, dataDir);
    // The restarted server's engine loads the same creds: same account, same registration id.
    const rows = await s.sql<{ value: string }>(`SELECT value FROM baileys_auth WHERE session_id = 'l1' AND category = 'creds'`);
    const saved = JSON.parse(rows[0]!.value, baileys.BufferJSON.reviver) as typeof creds;
    assert.deepEqual([saved.me.id, saved.registrationId], ['4915550000001:12@s.whatsapp.net', creds.registrationId]);
    await s.gqlOk(`mutation { logoutSession(sessionId: "l1") { status } }`);
    assert.equal((await s.sql(`SELECT key_id FROM baileys_auth WHERE session_id = 'l1'`)).length, 0, 'logout deletes the login');
    await s.stop();
    await storeLogin(dataDir, 'l1', null);
    s = await server({}, dataDir);
    assert.equal((await s.sql(`SELECT key_id FROM baileys_auth WHERE session_id = 'l1'`)).length, 2);
    await s.gqlOk(`mutation { removeSession(sessionId: "l1") { sessionId } }`);
    assert.equal((await s.sql(`SELECT key_id FROM baileys_auth WHERE session_id = 'l1'`)).length, 0, 'remove deletes the login');
  });

  it('without a key the server warns once: at start when Baileys sessions exist, else when the first starts', async () => {
    const dataDir = tempDir();
    const unencrypted = (lines: string[]) => lines.filter((l) => l.includes('Baileys logins are stored unencrypted')).length;
    let lines: string[] = [];
    let s = await server({}, dataDir, lines);
    assert.equal(unencrypted(lines), 0, 'no Baileys session, no warning');
    for (const id of ['w1', 'w2']) await s.gqlOk(CREATE, { input: { sessionId: id, config: { engine: 'BAILEYS' } } });
    assert.equal(unencrypted(lines), 1);
    await s.stop();
    lines = [];
    s = await server({}, dataDir, lines);
    await s.gqlOk(`mutation { startSession(sessionId: "w1") { status } }`).catch(() => undefined);
    assert.equal(unencrypted(lines), 1, 'at start, and not again');
    await s.stop();
    lines = [];
    s = await server({ baileys: { ...OFFLINE.baileys, authStateKey: Buffer.alloc(32, 3).toString('base64') } }, dataDir, lines);
    await s.gqlOk(CREATE, { input: { sessionId: 'w3', config: { engine: 'BAILEYS' } } });
    assert.equal(unencrypted(lines), 0, 'with a key');
  });

  it('--auth-state-key seals the login (no plaintext key bytes in the database); a wrong key stops the start with a clear message', async () => {
    const dataDir = tempDir();
    const key = Buffer.alloc(32, 9);
    await storeLogin(dataDir, 'e1', key);
    const s = await server({ baileys: { ...OFFLINE.baileys, authStateKey: key.toString('base64') } }, dataDir);
    const rows = await s.sql<{ value: string }>(`SELECT value FROM baileys_auth`);
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.match(row.value, /^v1:/);
      for (const secret of [creds.noiseKey.private, creds.signedIdentityKey.private, Buffer.alloc(32, 7)]) {
        assert.ok(!row.value.includes(Buffer.from(secret).toString('base64')));
      }
    }
    await s.stop();
    const wrong = Buffer.alloc(32, 1).toString('base64');
    const env = testStore === 'postgres' ? { DATABASE_URL: (await databaseFor(dataDir)).url } : {};
    const run = await runMain(['--port', '0', '--data-dir', dataDir, '--auth-state-key', wrong], env);
    assert.equal(run.code, 2, run.output);
    assert.match(run.output, /wa-gateway: --auth-state-key does not decrypt the Baileys login store/);
    const none = await runMain(['--port', '0', '--data-dir', dataDir], env);
    assert.equal(none.code, 2, none.output);
    assert.match(none.output, /the Baileys login store is encrypted: start the server with the --auth-state-key/);
    const short = await runMain(['--port', '0', '--data-dir', join(dataDir, 'x'), '--auth-state-key', 'c2hvcnQ='], env);
    assert.equal(short.code, 2);
    assert.match(short.output, /--auth-state-key: expected 32 bytes in base64/);
  });
});
