import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { readySession, startServer, tempDir, waitFor, type TestServer } from './helpers/app.js';
import { ADMIN_KEY, createKey, gqlAs, gqlOkAs, withKey } from './helpers/auth.js';
import { history, SEND_TEXT } from './helpers/messaging.js';
import { createTestDatabase, needsPostgres, queryDatabase, requirePostgres, type TestDatabase } from './helpers/pg.js';
import { root } from './helpers/process.js';
import { DELIVERIES, freePort, REGISTER, startReceiver, type Receiver } from './helpers/webhooks.js';

/** `npm run db:copy -- ...args` as a user runs it; resolves with the exit code and the output. */
function dbCopy(...args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '--silent', 'db:copy', '--', ...args], { cwd: root, env: { ...process.env, DATABASE_URL: '' } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr });
    });
  });
}

const TABLES = ['sessions', 'sandbox_accounts', 'sandbox_groups', 'sandbox_group_members', 'sandbox_profiles', 'sandbox_blocks', 'sandbox_messages', 'sandbox_chats', 'sandbox_receipts', 'sandbox_pending', 'webhooks', 'webhook_deliveries', 'api_keys', 'storage_probe'];

// Webhook attempts fail (nothing listens on the port yet) and the next one is an hour away: they stay pending.
const settings = {
  auth: { apiKeys: [ADMIN_KEY] },
  webhooks: { allowCidrs: '127.0.0.1/32', pollIntervalMs: 20, retryScheduleMs: [3_600_000], timeoutMs: 1000 },
};

describe('db:copy from a SQLite install to PostgreSQL', async () => {
  const options = await needsPostgres();
  let source: TestServer;
  let target: TestDatabase;
  let port: number;
  let storedKey: string;
  let webhookId: string;
  let b: string;
  let sentHistory: unknown[];
  let pendingBefore: number;

  before(async () => {
    if (options.skip) return;
    await requirePostgres();
    port = await freePort();
    // The source is SQLite whatever backend the other suites run on.
    source = await startServer({ ...settings, databaseUrl: '' } as Parameters<typeof startServer>[0]);
    const admin = { ...source, gqlOk: (q: string, v?: Record<string, unknown>) => gqlOkAs(source, ADMIN_KEY, q, v) } as TestServer;
    await readySession(admin, 'A');
    b = await readySession(admin, 'B');
    await readySession(admin, 'C');
    webhookId = (await admin.gqlOk(REGISTER, { input: { sessionId: 'A', url: `http://127.0.0.1:${port}/hook`, events: ['MESSAGE'] } })).registerWebhook.webhook.id;
    for (let i = 0; i < 5; i++) await admin.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content: `before the move ${i}` } });
    await admin.gqlOk('mutation($input: CreateGroupInput!) { createGroup(input: $input) { gid } }', { input: { sessionId: 'A', name: 'movers', participants: [b] } });
    storedKey = (await createKey(source, { sessionIds: ['A'], actions: ['READ', 'SEND'], name: 'moved' })).key;
    await waitFor(async () => (await history(admin, 'B', (await admin.gqlOk('{ session(sessionId: "A") { me { id } } }')).session.me.id)).length === 5, 5000, 'delivered to B');
    // Every delivery attempted once (and failed): pending, none in flight when the server stops.
    await waitFor(
      async () => {
        const hook = (await admin.gqlOk(DELIVERIES, { id: 'A', last: 100 })).session.webhooks[0];
        return hook.deliveries.length > 0 && hook.deliveries.every((d: { status: string; attempts: number }) => d.status === 'PENDING' && d.attempts >= 1) ? hook : null;
      },
      10_000,
      'failed first attempts',
    );
    pendingBefore = (await admin.gqlOk(DELIVERIES, { id: 'A', last: 100 })).session.webhooks[0].deliveryCounts.pending;
    sentHistory = await history(admin, 'A', b);
    await source.stop();
    target = await createTestDatabase();
  });
  after(async () => {
    await source?.dispose();
    await target?.drop();
  });

  const sqliteRows = (table: string) => {
    const db = new SQLite(join(source.dataDir, 'wa-gateway.sqlite'), { readonly: true });
    try {
      return (db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[]).map((r) => JSON.stringify(r)).sort();
    } finally {
      db.close();
    }
  };
  const pgRows = async (table: string) => (await queryDatabase(target.url, `SELECT * FROM ${table}`)).map((r) => JSON.stringify(r)).sort();

  it('says how it is used, and refuses a missing data dir or a URL that is not PostgreSQL', options, async () => {
    const usage = await dbCopy('--from', source.dataDir);
    assert.equal(usage.code, 2, usage.output);
    assert.match(usage.output, /--to <postgres URL> is missing/);
    const missing = await dbCopy('--from', join(source.dataDir, 'nothing-here'), '--to', target.url);
    assert.equal(missing.code, 1, missing.output);
    assert.match(missing.output, /no SQLite install in .*nothing-here/);
    const notPg = await dbCopy('--from', source.dataDir, '--to', 'mysql://localhost/x');
    assert.equal(notPg.code, 1, notPg.output);
    assert.match(notPg.output, /must be a postgres:\/\/ URL/);
  });

  it('copies every table row for row into an empty database, says what it copied, and continues the identities and phone numbers', options, async () => {
    const result = await dbCopy('--from', source.dataDir, '--to', target.url);
    assert.equal(result.code, 0, result.output);
    for (const table of TABLES) {
      const rows = sqliteRows(table);
      assert.deepEqual(await pgRows(table), rows, `${table}: the same rows`);
      assert.match(result.output, new RegExp(`\\b${table}\\s+${rows.length} rows`), `${table}'s count in the output`);
    }
    assert.ok(sqliteRows('sandbox_messages').length >= 10, 'the history was there to copy');
    assert.equal(sqliteRows('sessions').length, 3);
    assert.ok(sqliteRows('webhook_deliveries').length >= 5);
    assert.equal(sqliteRows('api_keys').length, 1);

    const [{ seq }] = (await queryDatabase<{ seq: number }>(target.url, 'SELECT max(seq) AS seq FROM sandbox_messages')) as [{ seq: number }];
    const [next] = await queryDatabase<{ seq: number }>(
      target.url,
      "INSERT INTO sandbox_messages (session_id, message_id, msg_key, chat_id, from_jid, to_jid, from_me, timestamp, type) VALUES ('probe', 'p', 'p', 'c', 'f', 't', 0, 0, 'chat') RETURNING seq",
    );
    assert.ok(next!.seq > seq, `a new message is numbered after the copied ones (${next!.seq} > ${seq})`);
    await queryDatabase(target.url, "DELETE FROM sandbox_messages WHERE session_id = 'probe'");
    const phones = sqliteRows('sandbox_accounts').map((r) => Number(JSON.parse(r).phone));
    const [phone] = await queryDatabase<{ n: number }>(target.url, "SELECT nextval('sandbox_phone_seq') AS n");
    assert.equal(phone!.n, Math.max(...phones) + 1, 'the next sandbox number follows the copied ones');
    await queryDatabase(target.url, "SELECT setval('sandbox_phone_seq', ?, true)", [Math.max(...phones)]);
    assert.match(result.output, new RegExp(`next sandbox_phone_seq: ${Math.max(...phones) + 1}`));
  });

  it('refuses a database that is not empty, changing nothing', options, async () => {
    const before = await pgRows('sessions');
    const again = await dbCopy('--from', source.dataDir, '--to', target.url);
    assert.equal(again.code, 1, again.output);
    assert.match(again.output, /refusing to copy into .*: the database is not empty \(.*sessions: 3 rows/);
    assert.deepEqual(await pgRows('sessions'), before);
    const other = await createTestDatabase();
    try {
      await queryDatabase(other.url, 'CREATE TABLE mine (x int)');
      const foreign = await dbCopy('--from', source.dataDir, '--to', other.url);
      assert.equal(foreign.code, 1, foreign.output);
      assert.match(foreign.output, /public\.mine \(not a wa-gateway table\)/);
    } finally {
      await other.drop();
    }
  });

  it('a server on the copy shows the same sessions READY, history, webhooks with their pending deliveries, and working keys', options, async () => {
    let receiver: Receiver | undefined;
    let copy: TestServer | undefined;
    try {
      receiver = await startReceiver(() => ({ status: 200 }), port);
      copy = await startServer({ ...settings, databaseUrl: target.url } as Parameters<typeof startServer>[0]);
      const server = copy;
      const admin = { ...server, gqlOk: (q: string, v?: Record<string, unknown>) => gqlOkAs(server, ADMIN_KEY, q, v) } as TestServer;
      for (const id of ['A', 'B', 'C']) {
        await waitFor(async () => (await admin.gqlOk('query($s: String!) { session(sessionId: $s) { status } }', { s: id })).session?.status === 'READY', 10_000, `${id} READY on the copy`);
      }
      assert.deepEqual(await history(admin, 'A', b), sentHistory);
      const hook = (await admin.gqlOk(DELIVERIES, { id: 'A', last: 100 })).session.webhooks[0];
      assert.equal(hook.id, webhookId);
      assert.equal(hook.deliveryCounts.pending, pendingBefore, 'the pending deliveries came along');

      // The stored key works (and only on its session); new traffic is stored and delivered.
      const listed = await gqlAs(server, '{ sessions { sessionId } }', {}, withKey(storedKey));
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.data.sessions.map((s: { sessionId: string }) => s.sessionId), ['A']);
      const sent = (await gqlOkAs(server, storedKey, SEND_TEXT, { input: { sessionId: 'A', chatId: b, content: 'after the move' } })).sendText.message;
      await waitFor(() => receiver!.received.some((r) => r.body.includes(sent.id)), 10_000, 'the new message delivered to the webhook');
      await waitFor(async () => (await history(admin, 'A', b)).length === sentHistory.length + 1, 5000, 'the new message in the history');
      // A new session gets the next free number, not one of the copied ones.
      const me = await readySession(admin, 'D');
      const phones = sqliteRows('sandbox_accounts').map((r) => Number(JSON.parse(r).phone));
      assert.equal(Number(me.split('@')[0]), Math.max(...phones) + 1);
    } finally {
      await copy?.dispose();
      await receiver?.close();
    }
  });
});
