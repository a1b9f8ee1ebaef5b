import { existsSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect } from 'kysely';
import pg from 'pg';
import { openStore } from '../database.js';
import { pgMigrations } from './migrations.js';

// Moving an install from SQLite to PostgreSQL (`npm run db:copy`): every table of the data dir's SQLite
// file, in one transaction, into a database that holds nothing yet.

/** Parents before children (the foreign keys), then the rest. */
const TABLES = [
  'sessions',
  'sandbox_accounts',
  'sandbox_groups',
  'sandbox_group_members',
  'sandbox_profiles',
  'sandbox_blocks',
  'sandbox_messages',
  'sandbox_media',
  'sandbox_chats',
  'sandbox_receipts',
  'sandbox_pending',
  'webhooks',
  'webhook_deliveries',
  'api_keys',
  'storage_probe',
  'baileys_auth',
  'baileys_chats',
  'baileys_messages',
  'baileys_contacts',
  'cluster_nodes',
] as const;

/** AUTOINCREMENT keys on SQLite, identities on PostgreSQL. */
const IDENTITIES = [
  { table: 'sandbox_messages', column: 'seq' },
  { table: 'sandbox_pending', column: 'id' },
  { table: 'baileys_messages', column: 'seq' },
] as const;

/** The first sandbox number (src/engine/sandbox/network.ts); the sequence never hands out a lower one. */
const FIRST_SANDBOX_PHONE = 15551000001;

export class CopyError extends Error {}

export interface CopyReport {
  source: string;
  /** Rows copied per table, in copy order. */
  rows: { table: string; rows: number }[];
  /** The next value each identity and sandbox_phone_seq will hand out. */
  next: { name: string; value: number }[];
  /** Text values holding NUL (U+0000), which PostgreSQL text cannot store: copied with U+FFFD in its place. */
  nulReplaced: number;
}

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** What a database holds already: tables of our schema with rows, and tables that are not ours. */
async function contents(client: pg.PoolClient): Promise<string[]> {
  const tables = (
    await client.query<{ schema: string; name: string; kind: string }>(
      `SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
       ORDER BY 1, 2`,
    )
  ).rows;
  const found: string[] = [];
  for (const t of tables) {
    const ours = t.schema === 'public' && ((TABLES as readonly string[]).includes(t.name) || t.name.startsWith('kysely_'));
    if (!ours) {
      found.push(`${t.schema}.${t.name} (not a wa-gateway table)`);
      continue;
    }
    if (t.name.startsWith('kysely_')) continue;
    const [row] = (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoteIdent(t.name)}`)).rows;
    if (row && row.n > 0) found.push(`${t.name}: ${row.n} rows`);
  }
  return found;
}

async function migrate(pool: pg.Pool): Promise<void> {
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  const { error, results } = await new Migrator({ db, provider: { getMigrations: async () => pgMigrations } }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) throw new CopyError(`PostgreSQL migration ${failed?.migrationName ?? ''} failed: ${String((error as Error | undefined)?.message ?? error)}`);
  // The pool is the caller's: Kysely's destroy would end it.
}

/**
 * Copies the SQLite install of `dataDir` into the PostgreSQL database at `url`, which must hold none of our
 * rows and no other tables (a database a server already migrated but never stored anything in is fine). The
 * SQLite file is first brought to the current schema, as a server start would. The server must be stopped:
 * rows it writes after the copy's snapshot are not copied.
 */
export async function copySqliteToPostgres(dataDir: string, url: string): Promise<CopyReport> {
  const file = join(dataDir, 'wa-gateway.sqlite');
  if (!existsSync(file)) throw new CopyError(`no SQLite install in ${dataDir} (${file} does not exist)`);
  if (!/^postgres(ql)?:\/\//i.test(url)) throw new CopyError(`--to must be a postgres:// URL, got ${redactUrl(url)}`);

  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => undefined);
  let sqlite: SQLite.Database | undefined;
  try {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw new CopyError(`cannot connect to ${redactUrl(url)}: ${(error as Error).message}`);
    }
    try {
      const before = await contents(client);
      if (before.length) {
        throw new CopyError(
          `refusing to copy into ${redactUrl(url)}: the database is not empty (${before.join('; ')}). db:copy only fills an empty database; create a new one (CREATE DATABASE ...) and copy into that`,
        );
      }
    } finally {
      client.release();
    }

    // The schema first (as a server start would): an older install gets the current columns.
    await (await openStore(file)).close();
    await migrate(pool);

    sqlite = new SQLite(file, { readonly: true, fileMustExist: true });
    const source = sqlite;
    const report: CopyReport = { source: file, rows: [], next: [], nulReplaced: 0 };
    const clean = (value: unknown) => {
      if (typeof value === 'string' && value.includes('\u0000')) {
        report.nulReplaced++;
        return value.replace(/\u0000/g, '\uFFFD');
      }
      return value;
    };

    client = await pool.connect();
    try {
      // One snapshot of the source, one transaction on the target: all or nothing.
      source.exec('BEGIN');
      await client.query('BEGIN');
      // A server that started on the target meanwhile would have stored rows: checked again inside the transaction.
      await client.query(`LOCK TABLE ${TABLES.map(quoteIdent).join(', ')} IN EXCLUSIVE MODE`);
      const late = await contents(client);
      if (late.length) throw new CopyError(`refusing to copy into ${redactUrl(url)}: rows appeared while copying (${late.join('; ')}); is a server running on it?`);
      for (const table of TABLES) {
        const columns = (source.prepare(`PRAGMA table_info(${quoteIdent(table)})`).all() as { name: string }[]).map((c) => c.name);
        // Batches of rows as one INSERT each, under PostgreSQL's 65,535 parameters.
        const perInsert = Math.max(1, Math.floor(20_000 / columns.length));
        const insert = (count: number) => {
          let n = 0;
          const rows = Array.from({ length: count }, () => `(${columns.map(() => `$${++n}`).join(', ')})`);
          return `INSERT INTO ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) VALUES ${rows.join(', ')}`;
        };
        let copied = 0;
        let batch: unknown[] = [];
        let inBatch = 0;
        const flush = async () => {
          if (inBatch === 0) return;
          await client.query(insert(inBatch), batch);
          copied += inBatch;
          batch = [];
          inBatch = 0;
        };
        const order = table === 'storage_probe' ? 'id' : 'rowid';
        for (const row of source.prepare(`SELECT ${columns.map(quoteIdent).join(', ')} FROM ${quoteIdent(table)} ORDER BY ${order}`).raw().iterate() as IterableIterator<unknown[]>) {
          for (const value of row) batch.push(clean(value));
          if (++inBatch === perInsert) await flush();
        }
        await flush();
        const [target] = (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quoteIdent(table)}`)).rows;
        if (target?.n !== copied) throw new CopyError(`${table}: ${copied} rows sent but ${target?.n} found after the copy`);
        report.rows.push({ table, rows: copied });
      }

      // Identities continue after the highest key SQLite ever handed out (its sqlite_sequence keeps the keys of
      // deleted rows too), so no key is given twice.
      const handedOut = new Map(
        (source.prepare('SELECT name, seq FROM sqlite_sequence').all() as { name: string; seq: number }[]).map((r) => [r.name, Number(r.seq)]),
      );
      for (const { table, column } of IDENTITIES) {
        const [max] = (await client.query<{ n: number | null }>(`SELECT max(${quoteIdent(column)})::bigint AS n FROM ${quoteIdent(table)}`)).rows;
        const last = Math.max(Number(max?.n ?? 0), handedOut.get(table) ?? 0);
        await client.query(`SELECT setval(pg_get_serial_sequence($1, $2), $3, $4)`, [table, column, Math.max(last, 1), last > 0]);
        report.next.push({ name: `${table}.${column}`, value: last + 1 });
      }
      const [phone] = (await client.query<{ n: number | null }>(`SELECT max(phone::bigint) AS n FROM sandbox_accounts WHERE phone ~ '^[0-9]{1,18}$'`)).rows;
      const lastPhone = Math.max(Number(phone?.n ?? 0), FIRST_SANDBOX_PHONE - 1);
      await client.query(`SELECT setval('sandbox_phone_seq', $1, true)`, [lastPhone]);
      report.next.push({ name: 'sandbox_phone_seq', value: lastPhone + 1 });

      await client.query('COMMIT');
      return report;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      if (source.inTransaction) source.exec('COMMIT');
      client.release();
    }
  } finally {
    sqlite?.close();
    await pool.end();
  }
}
