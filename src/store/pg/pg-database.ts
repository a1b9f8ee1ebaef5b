import { Kysely, Migrator, PostgresDialect, type Migration, type MigrationProvider } from 'kysely';
import { hostname } from 'node:os';
import pg from 'pg';
import type { Database } from '../schema.js';
import { pgMigrations } from './migrations.js';
import { idleInTransaction, PgWriteBatch, type PgBatchOptions } from './pg-batch.js';
import type { PgStore } from './pg-types.js';

// Epoch milliseconds and counts are int8: read them as numbers (exact up to 2^53), as SQLite gives them.
pg.types.setTypeParser(20, Number);

class PgMigrations implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return pgMigrations;
  }
}

export interface PgStoreOptions extends PgBatchOptions {
  /** Connections of the pool that serves reads and the non-hot repositories. */
  poolSize?: number;
}

/**
 * Every connection of this process says which server it is: the outbox's claims look for other servers on the
 * database (wa_gateway_claim_deliveries, migration 0017). The pid first: PostgreSQL keeps 63 bytes of it.
 */
export const APPLICATION_NAME = `wa-gateway ${process.pid}@${hostname()}`;

/** Opens (and migrates) the PostgreSQL database at `url`. */
export async function openPgStore(url: string, options: PgStoreOptions = {}): Promise<PgStore> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 3000;
  const queryTimeoutMs = options.queryTimeoutMs ?? 10_000;
  const pool = new pg.Pool({
    connectionString: url,
    application_name: APPLICATION_NAME,
    max: options.poolSize ?? 10,
    // While PostgreSQL is unreachable a request fails within these bounds instead of waiting for it.
    connectionTimeoutMillis: connectTimeoutMs,
    query_timeout: queryTimeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    ...idleInTransaction(options.idleInTransactionMs),
  });
  // An idle connection that PostgreSQL ends (a restart, an administrator) is dropped by the pool; the next query connects again.
  pool.on('error', () => undefined);
  // The pool listens only to idle clients. A client that Kysely holds also emits 'error' when its connection
  // drops, and unheard that is an uncaught exception; its query fails anyway, and the pool drops it on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    const { error, results } = await new Migrator({ db, provider: new PgMigrations() }).migrateToLatest();
    const failed = results?.find((r) => r.status === 'Error');
    if (error || failed) throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String((error as Error | undefined)?.message ?? error)}`);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const batch = new PgWriteBatch(url, { ...options, connectTimeoutMs, queryTimeoutMs, applicationName: APPLICATION_NAME });
  return {
    kind: 'postgres',
    db,
    pool,
    batch,
    close: async () => {
      await batch.close();
      await db.destroy();
    },
  };
}
