import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kysely, Migrator, PostgresDialect } from 'kysely';
import pg from 'pg';
import { openStore, type Store } from '../src/store/database.js';
import { migrations } from '../src/store/migrations.js';
import { pgMigrations } from '../src/store/pg/migrations.js';
import { tempDir } from './helpers/app.js';
import { createTestDatabase, needsPostgres, requirePostgres, type TestDatabase } from './helpers/pg.js';

interface Column {
  name: string;
  notNull: boolean;
  pk: boolean;
  type: string;
  default: string | null;
}

// Tables the migrators keep for themselves.
const own = (name: string) => name.startsWith('sqlite_') || name.startsWith('kysely_');

// Epoch milliseconds, Unix seconds and sequence numbers: bigint on PostgreSQL (an int4 ends in 2038 or at 2^31 rows).
const wide = /(_at|_ts|^last_activity|^timestamp|^seq|^last_seq|^size)$/;

describe('PostgreSQL schema', async () => {
  const options = await needsPostgres();
  let database: TestDatabase;
  let db: Kysely<any>;
  let pool: pg.Pool;
  let sqlite: Store;

  before(async () => {
    if (options.skip) return;
    await requirePostgres();
    database = await createTestDatabase();
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
    sqlite = await openStore(join(tempDir(), 'wa-gateway.sqlite'));
  });
  after(async () => {
    await sqlite?.close();
    await db?.destroy();
    await database?.drop();
  });

  const q = async <T>(text: string, params: unknown[] = []) => (await pool.query(text, params)).rows as T[];

  it('every SQLite migration has a PostgreSQL twin of the same name, and they run on an empty database', options, async () => {
    assert.deepEqual(Object.keys(pgMigrations).sort(), Object.keys(migrations).sort());
    const { error, results } = await new Migrator({ db, provider: { getMigrations: async () => pgMigrations } }).migrateToLatest();
    assert.equal(error, undefined, String(error));
    assert.equal(results?.filter((r) => r.status === 'Success').length, Object.keys(migrations).length);
    // A second start finds nothing to do.
    const again = await new Migrator({ db, provider: { getMigrations: async () => pgMigrations } }).migrateToLatest();
    assert.equal(again.error, undefined);
    assert.deepEqual(again.results, []);
  });

  it('has the same tables and columns as SQLite: order, nullability, keys, defaults; times as bigint', options, async () => {
    const lite = sqlite.sqlite;
    const liteTables = (lite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name).filter((n) => !own(n)).sort();
    const pgTables = (await q<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")).map((r) => r.table_name).filter((n) => !own(n)).sort();
    assert.deepEqual(pgTables, liteTables);
    assert.ok(liteTables.length >= 12, `only ${liteTables.length} tables`);

    for (const table of liteTables) {
      const liteCols: Column[] = (lite.prepare(`PRAGMA table_info(${table})`).all() as { name: string; type: string; notnull: number; pk: number; dflt_value: string | null }[]).map((c) => ({
        name: c.name,
        // A primary key column is never null on PostgreSQL; SQLite only says so for INTEGER PRIMARY KEY.
        notNull: c.notnull === 1 || c.pk > 0,
        pk: c.pk > 0,
        type: c.type.toLowerCase(),
        default: c.dflt_value,
      }));
      const pks = new Set(
        (
          await q<{ column_name: string }>(
            `SELECT k.column_name FROM information_schema.table_constraints t
             JOIN information_schema.key_column_usage k ON k.constraint_name = t.constraint_name AND k.table_name = t.table_name
             WHERE t.table_schema = 'public' AND t.table_name = $1 AND t.constraint_type = 'PRIMARY KEY'`,
            [table],
          )
        ).map((r) => r.column_name),
      );
      const pgCols = await q<{ column_name: string; is_nullable: string; data_type: string; column_default: string | null; is_identity: string }>(
        `SELECT column_name, is_nullable, data_type, column_default, is_identity FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
        [table],
      );
      assert.deepEqual(
        pgCols.map((c) => c.column_name),
        liteCols.map((c) => c.name),
        `${table}: columns`,
      );
      for (const [i, pc] of pgCols.entries()) {
        const lc = liteCols[i]!;
        const where = `${table}.${lc.name}`;
        assert.equal(pc.is_nullable === 'NO', lc.notNull, `${where}: NOT NULL`);
        assert.equal(pks.has(pc.column_name), lc.pk, `${where}: primary key`);
        if (lc.type === 'text') assert.equal(pc.data_type, 'text', where);
        else if (lc.type === 'blob') assert.equal(pc.data_type, 'bytea', where);
        else {
          assert.match(lc.type, /^(integer|bigint)$/, where);
          assert.ok(['integer', 'bigint'].includes(pc.data_type), `${where}: ${pc.data_type}`);
          if (wide.test(lc.name)) assert.equal(pc.data_type, 'bigint', `${where} holds times or counts past 2^31`);
        }
        assert.equal(pc.column_default, lc.default, `${where}: default`);
      }
    }
  });

  it('AUTOINCREMENT keys are bigint identities, and sandbox_phone_seq starts at the first sandbox number', options, async () => {
    const lite = sqlite.sqlite;
    const autoincrement = (lite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'").all() as { name: string }[]).map((r) => r.name).sort();
    assert.deepEqual(autoincrement, ['baileys_messages', 'sandbox_messages', 'sandbox_pending']);
    const identities = await q<{ table_name: string; column_name: string; data_type: string }>(
      "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' AND is_identity = 'YES' ORDER BY table_name",
    );
    assert.deepEqual(identities, [
      { table_name: 'baileys_messages', column_name: 'seq', data_type: 'bigint' },
      { table_name: 'sandbox_messages', column_name: 'seq', data_type: 'bigint' },
      { table_name: 'sandbox_pending', column_name: 'id', data_type: 'bigint' },
    ]);
    const [seq] = await q<{ data_type: string; start_value: string }>("SELECT data_type, start_value FROM information_schema.sequences WHERE sequence_name = 'sandbox_phone_seq'");
    assert.deepEqual(seq, { data_type: 'bigint', start_value: '15551000001' });
  });

  it('has the same indexes, partial ones with the same condition, and the same unique and foreign keys', options, async () => {
    const lite = sqlite.sqlite;
    const liteIndexes = lite.prepare("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").all() as { name: string; tbl_name: string; sql: string }[];
    const pgIndexes = await q<{ indexname: string; tablename: string; indexdef: string }>(
      `SELECT i.indexname, i.tablename, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public'
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
    );
    const pgOwn = pgIndexes.filter((i) => !own(i.tablename));
    assert.deepEqual(pgOwn.map((i) => i.indexname).sort(), liteIndexes.map((i) => i.name).sort());
    const columnsOf = (sqlText: string) => /\(([^)]*)\)/.exec(sqlText)![1]!.replace(/["\s]/g, '').split(',');
    for (const li of liteIndexes) {
      const pi = pgOwn.find((i) => i.indexname === li.name)!;
      assert.equal(pi.tablename, li.tbl_name, li.name);
      assert.deepEqual(columnsOf(pi.indexdef), columnsOf(li.sql), `${li.name}: columns`);
      const liteWhere = /\bWHERE\b(.*)$/i.exec(li.sql)?.[1];
      const pgWhere = /\bWHERE\b(.*)$/i.exec(pi.indexdef)?.[1];
      assert.equal(Boolean(pgWhere), Boolean(liteWhere), `${li.name}: partial on both or neither`);
      if (liteWhere) {
        // PostgreSQL prints a literal with its type ('PENDING'::text).
        const words = (s: string) => s.replace(/::\w+/g, '').replace(/[()]/g, ' ').toLowerCase().split(/\s+/).filter(Boolean);
        assert.deepEqual(words(pgWhere!), words(liteWhere), `${li.name}: condition`);
      }
    }

    const tables = (lite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name).filter((n) => !own(n));
    for (const table of tables) {
      const liteUnique = (lite.prepare(`PRAGMA index_list(${table})`).all() as { name: string; origin: string }[])
        .filter((i) => i.origin === 'u')
        .map((i) => (lite.prepare(`PRAGMA index_info(${i.name})`).all() as { name: string }[]).map((c) => c.name).join(','))
        .sort();
      const pgUnique = (
        await q<{ cols: string }>(
          `SELECT string_agg(a.attname, ',' ORDER BY k.ord) AS cols FROM pg_constraint c
           CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
           WHERE c.contype = 'u' AND c.conrelid = $1::regclass GROUP BY c.oid`,
          [table],
        )
      )
        .map((r) => r.cols)
        .sort();
      assert.deepEqual(pgUnique, liteUnique, `${table}: unique keys`);

      const liteFks = (lite.prepare(`PRAGMA foreign_key_list(${table})`).all() as { table: string; from: string; to: string; on_delete: string }[])
        .map((f) => `${f.from}->${f.table}.${f.to} ${f.on_delete}`)
        .sort();
      const pgFks = (
        await q<{ def: string }>(
          `SELECT a.attname || '->' || r.relname || '.' || ra.attname || ' ' ||
             CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END AS def
           FROM pg_constraint c JOIN pg_class r ON r.oid = c.confrelid
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
           JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = c.confkey[1]
           WHERE c.contype = 'f' AND c.conrelid = $1::regclass`,
          [table],
        )
      )
        .map((r) => r.def)
        .sort();
      assert.deepEqual(pgFks, liteFks, `${table}: foreign keys`);
    }
  });

  it('round-trips epoch milliseconds as numbers, numbers rows by identity, and draws phone numbers from the sequence', options, async () => {
    const now = Date.now();
    await q(`INSERT INTO sessions (session_id, engine, status, config, created_at, last_activity) VALUES ('s1', 'sandbox', 'READY', '{}', $1, $1)`, [now]);
    const [row] = await q<{ created_at: unknown }>("SELECT created_at FROM sessions WHERE session_id = 's1'");
    assert.equal(row!.created_at, now);
    const inserted = await q<{ seq: unknown }>(
      `INSERT INTO sandbox_messages (session_id, message_id, msg_key, chat_id, from_jid, to_jid, from_me, timestamp, type)
       VALUES ('s1', 'm1', 'k1', 'c@c.us', 'a@c.us', 'b@c.us', 1, 1700000000, 'chat'), ('s1', 'm2', 'k2', 'c@c.us', 'a@c.us', 'b@c.us', 1, 1700000001, 'chat') RETURNING seq`,
    );
    assert.deepEqual(inserted.map((r) => r.seq), [1, 2]);
    const phones = await q<{ phone: unknown }>("SELECT nextval('sandbox_phone_seq') AS phone UNION ALL SELECT nextval('sandbox_phone_seq')");
    assert.deepEqual(phones.map((r) => r.phone), [15551000001, 15551000002]);
  });
});
