import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { SqliteSandboxStore } from '../src/engine/sandbox/store.js';
import { openStore } from '../src/store/database.js';
import { migrations } from '../src/store/migrations.js';
import { tempDir } from './helpers/app.js';

describe('upgrading an existing database', () => {
  it('adds the growth indexes and the storage probe to a database made before them, keeping its data', async () => {
    const file = join(tempDir(), 'wa-gateway.sqlite');
    // A database as the previous release left it: every migration before 0007.
    const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0007'));
    const old = new SQLite(file);
    old.pragma('journal_mode = WAL');
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: old }) });
    const { error } = await new Migrator({ db, provider: { getMigrations: async () => before } }).migrateToLatest();
    assert.equal(error, undefined);
    const insert = old.prepare(`INSERT INTO sandbox_messages (session_id, message_id, msg_key, chat_id, from_jid, to_jid, from_me, body, timestamp, type, read)
      VALUES ('s', ?, ?, 'c@c.us', 'c@c.us', 'me@c.us', 0, 'hi', 1, 'CHAT', ?)`);
    for (let i = 0; i < 10; i++) insert.run(`m${i}`, `K${i}`, i < 7 ? 1 : 0);
    old.prepare(`INSERT INTO sandbox_chats (session_id, chat_id, is_group, unread_count, last_seq, last_ts) VALUES ('s', 'c@c.us', 0, 3, 10, 1)`).run();
    await db.destroy();

    const store = await openStore(file);
    try {
      const names = (store.sqlite.prepare("SELECT name FROM sqlite_master WHERE type IN ('index', 'table')").all() as { name: string }[]).map((r) => r.name);
      for (const name of ['sandbox_messages_unread', 'webhook_deliveries_completed', 'storage_probe']) assert.ok(names.includes(name), `${name} missing`);
      const sandbox = new SqliteSandboxStore(store.sqlite, store.batch);
      assert.deepEqual(sandbox.markRead('s', 'c@c.us').sort(), ['K7', 'K8', 'K9']);
      await store.batch.committed();
      assert.equal(sandbox.chat('s', 'c@c.us')?.unreadCount, 0);
      assert.deepEqual(sandbox.markRead('s', 'c@c.us'), []);
      assert.equal((store.sqlite.prepare('SELECT COUNT(*) AS n FROM sandbox_messages').get() as { n: number }).n, 10);
    } finally {
      await store.close();
    }
  });
});
