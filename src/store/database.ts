import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Migration, type MigrationProvider } from 'kysely';
import { migrations } from './migrations.js';
import type { Database } from './schema.js';
import { startCheckpointer } from './checkpointer.js';
import { WriteBatch } from './write-batch.js';
import type { PgStore } from './pg/pg-types.js';

export interface Store {
  kind: 'sqlite';
  db: Kysely<Database>;
  /** The raw handle, for the few hot paths that need a synchronous transaction. */
  sqlite: SQLite.Database;
  /** Group commit of the hot write paths (sandbox network, webhook outbox and worker). */
  batch: WriteBatch;
  close(): Promise<void>;
}

/** Either backend: code that serves both branches on `kind` once, where it is built. */
export type AnyStore = Store | PgStore;

/** What every write path offers the answer paths: no answer leaves before its writes are committed. */
export interface Commits {
  readonly pending: boolean;
  committed(): Promise<void>;
}

/** PostgreSQL when `databaseUrl` is set, else the SQLite file under `dataDir`. */
export async function openAnyStore(
  config: { dataDir: string; databaseUrl: string },
  options: StoreOptions = {},
): Promise<AnyStore> {
  if (config.databaseUrl) {
    // Loaded only when asked for: an install on SQLite never loads the PostgreSQL driver.
    const { openPgStore } = await import('./pg/pg-database.js');
    return openPgStore(config.databaseUrl, { idleInTransactionMs: options.idleInTransactionMs });
  }
  return openStore(join(config.dataDir, 'wa-gateway.sqlite'), options);
}

class InCodeMigrations implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

export interface StoreOptions {
  /** How often the background checkpointer copies the WAL into the database. */
  checkpointIntervalMs?: number;
  /** A WAL this long after a background checkpoint is finished by the main connection (see onLongWal). */
  longWalFrames?: number;
  onCheckpointError?: (message: string) => void;
  /**
   * PostgreSQL, > 0: the server ends any connection of this process whose transaction sits idle this long (ms).
   * A cluster node frozen mid-transaction must not hold its fence's lock (and so its sessions) for ever.
   */
  idleInTransactionMs?: number;
}

/** SQLite's page cache per connection, in KiB (`cache_size`): RSS grows by about this much as the file grows past it. */
export const PAGE_CACHE_KIB = 65536;

export async function openStore(file: string, options: StoreOptions = {}): Promise<Store> {
  mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  // Pages freed by history retention go to the free list and new rows reuse them; incremental auto-vacuum also
  // lets the pruner hand a large surplus back. It takes effect only on a new file: an existing one keeps its
  // mode until a `VACUUM` (README, "History retention").
  sqlite.pragma('auto_vacuum = INCREMENTAL');
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  // Savepoints inside the turn's batch (see WriteBatch) copy each page they touch to a statement journal;
  // on disk that was a pwrite per page, a fifth of a sandbox send's CPU.
  sqlite.pragma('temp_store = MEMORY');
  // When the WAL starts over, a file that grew past this is cut back to it (the checkpointer's bound).
  sqlite.pragma('journal_size_limit = 268435456');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const { error, results } = await new Migrator({ db, provider: new InCodeMigrations() }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    await db.destroy();
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String((error as Error | undefined)?.message ?? error)}`);
  }
  const batch = new WriteBatch(sqlite);
  // Started in the background (a worker thread takes a moment to boot); until it runs, SQLite checkpoints itself.
  const onError = options.onCheckpointError ?? (() => undefined);
  // The main connection's checkpoint, between two of its commits (again after the next one if the
  // checkpoint lock was busy); then the paused worker resumes.
  const finishWal = (resume: () => void) => {
    try {
      if (!sqlite.open) return resume();
      const [result] = sqlite.pragma('wal_checkpoint(PASSIVE)') as { busy: number }[];
      if (result?.busy) return batch.afterCommit(() => finishWal(resume));
    } catch (error) {
      onError(String(error));
    }
    resume();
  };
  const checkpointer = startCheckpointer(file, {
    intervalMs: options.checkpointIntervalMs ?? 250,
    longWalFrames: options.longWalFrames,
    onError,
    onLongWal: (resume) => batch.afterCommit(() => finishWal(resume)),
  }).then((c) => {
    if (c && sqlite.open) sqlite.pragma('wal_autocheckpoint = 0');
    return c;
  });
  return {
    kind: 'sqlite',
    db,
    sqlite,
    batch,
    close: async () => {
      batch.commit();
      await (await checkpointer)?.stop();
      // The last connection to close checkpoints what is left and removes the WAL.
      await db.destroy();
    },
  };
}
