// PostgreSQL for tests: every test gets a database of its own, made with a random name on the server of
// TEST_DATABASE_URL and dropped afterwards (also when the test file's process exits without dropping it).
// Suites that need PostgreSQL skip with the reason when it is unreachable, except under CI, where they run
// and fail (see system-tools.ts for the same rule on other tools).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { quoteIdent, redactUrl } from '../../src/store/pg/copy-from-sqlite.js';
import { inCi } from './system-tools.js';

// int8 (epoch milliseconds) as numbers, as the app's pool reads them.
pg.types.setTypeParser(20, Number);

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || 'postgres://root@127.0.0.1:5432/test';

/** `url` with its database name replaced by `name`. */
export function databaseUrl(name: string, base = TEST_DATABASE_URL): string {
  const url = new URL(base);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

/** Runs `fn` with a client on the admin database (TEST_DATABASE_URL's own). */
async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>, base = TEST_DATABASE_URL): Promise<T> {
  const client = new pg.Client({ connectionString: base, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

let availability: Promise<string | null> | undefined;

/** Why PostgreSQL is unusable for tests here, or null when it answers. */
export function postgresMissing(): Promise<string | null> {
  availability ??= withAdmin(async (c) => {
    await c.query('SELECT 1');
    return null;
  }).catch((error: Error) => `PostgreSQL at ${redactUrl(TEST_DATABASE_URL)} is not reachable (${error.message}); set TEST_DATABASE_URL or start it`);
  return availability;
}

/** Test options for a suite on PostgreSQL: `{ skip: reason }` when it is unreachable, except under CI. */
export async function needsPostgres(): Promise<{ skip: string | false }> {
  const reason = await postgresMissing();
  return { skip: reason && !inCi ? reason : false };
}

/** Throws the reason when PostgreSQL is unreachable (under CI this is how a would-be skip fails). */
export async function requirePostgres(): Promise<void> {
  const reason = await postgresMissing();
  if (reason) throw new Error(`${inCi ? 'CI=true refuses to skip: ' : ''}${reason}`);
}

// Databases made by this process and not dropped yet: dropped by a child process at exit, since an exit
// handler cannot wait for a query.
const undropped = new Set<string>();
process.on('exit', () => {
  if (undropped.size === 0) return;
  const script = `const pg = require('pg'); (async () => { const c = new pg.Client({ connectionString: process.argv[1] }); await c.connect();
    for (const n of process.argv.slice(2)) await c.query('DROP DATABASE IF EXISTS "' + n.replace(/"/g, '""') + '" WITH (FORCE)').catch(() => {});
    await c.end(); })().catch(() => {});`;
  spawnSync(process.execPath, ['-e', script, TEST_DATABASE_URL, ...undropped], {
    stdio: 'ignore',
    timeout: 10_000,
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  });
});

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A new empty database on TEST_DATABASE_URL's server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `wa_gateway_test_${process.pid}_${randomBytes(5).toString('hex')}`;
  await withAdmin((c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  undropped.add(name);
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: databaseUrl(name),
    drop() {
      dropped ??= dropDatabase(name);
      return dropped;
    },
  };
}

/** Drops a database this process made (connections still open to it are ended). */
export async function dropDatabase(name: string): Promise<void> {
  await endPools(name);
  await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
  undropped.delete(name);
}

/** The backend the suites' servers run on: WA_TEST_STORE=postgres gives each data dir a database of its own. */
export const testStore: 'sqlite' | 'postgres' = process.env.WA_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

// One database per data dir, so a server restarted on the same data dir finds its data again.
const byDataDir = new Map<string, Promise<TestDatabase>>();

/** The database of a data dir (made on first use). */
export function databaseFor(dataDir: string): Promise<TestDatabase> {
  let database = byDataDir.get(dataDir);
  if (!database) {
    database = createTestDatabase();
    byDataDir.set(dataDir, database);
    database.catch(() => byDataDir.delete(dataDir));
  }
  return database;
}

/** Drops the database of a data dir, if it has one (the data dir is going away). */
export async function dropDatabaseFor(dataDir: string): Promise<void> {
  const database = byDataDir.get(dataDir);
  if (!database) return;
  byDataDir.delete(dataDir);
  await (await database).drop();
}

/**
 * Test options for a suite (or test) that only makes sense on SQLite (its file, WAL, PRAGMAs or query plans):
 * skipped with `reason` when the suites run on PostgreSQL.
 */
export function sqliteOnly(reason: string): { skip: string | false } {
  return { skip: testStore === 'postgres' ? `SQLite only: ${reason}` : false };
}

/** Rows of one statement on a PostgreSQL database (`?` placeholders, as on SQLite). */
export async function queryDatabase<T = Record<string, unknown>>(url: string, text: string, params: readonly unknown[] = []): Promise<T[]> {
  let n = 0;
  return (await poolFor(url).query(text.replace(/\?/g, () => `$${++n}`), params as unknown[])).rows as T[];
}

// A connection per statement cost the auth matrices a minute on PostgreSQL (two snapshots of eight statements per
// case): statements share a small pool per database, whose idle connections close by themselves.
const pools = new Map<string, pg.Pool>();
function poolFor(url: string): pg.Pool {
  let pool = pools.get(url);
  if (!pool) {
    pool = new pg.Pool({ connectionString: url, max: 2, idleTimeoutMillis: 1000, allowExitOnIdle: true });
    // An idle connection ended by the server (a dropped database, a stopped server) leaves the pool; no crash.
    pool.on('error', () => undefined);
    pools.set(url, pool);
  }
  return pool;
}
async function endPools(name: string): Promise<void> {
  for (const [url, pool] of pools) {
    if (new URL(url).pathname.slice(1) !== name) continue;
    pools.delete(url);
    await pool.end().catch(() => undefined);
  }
}
