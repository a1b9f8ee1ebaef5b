import { statfsSync } from 'node:fs';
import type SQLite from 'better-sqlite3';
import { storageFullOf } from '../errors.js';
import type { Logger } from '../logger.js';

// Space that counts as "back": a write that failed for want of space often leaves a few pages free, enough
// for a small write to pass while the next message does not fit. Below this, the storage stays full.
const MIN_FREE_BYTES = 1024 * 1024;

/**
 * Whether the database's storage is full: set by the first write that fails for want of space, cleared by
 * the next one that succeeds. One error line per episode (not per failed write), a count of failed writes
 * for the metrics, and the reason /health gives. While full, a one-row probe write (at most every
 * `probeMs`) finds out when space is back, so health recovers without waiting for traffic.
 */
export class StorageState {
  full = false;
  since = 0;
  /** Writes that failed for want of space, since start. */
  failures = 0;
  private lastProbe = 0;
  private probeTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly logger: Pick<Logger, 'error' | 'warn'>,
    /** Writes one row; false when it could not try now (a write batch is open: its commit will tell). */
    private readonly probe: () => boolean,
    /** Free bytes where the database lives (null where unknown, as for a database server). */
    private readonly freeBytes: () => number | null = () => null,
    private readonly probeMs = 1000,
    /** Gives back space the storage itself holds (the WAL file); see walReclaim. */
    private readonly reclaim: () => void = () => undefined,
  ) {}

  private roomAgain(): boolean {
    const free = this.freeBytes();
    return free === null || free >= MIN_FREE_BYTES;
  }

  /** Any write failure; only a full storage counts. */
  failed(error: unknown): void {
    if (!storageFullOf(error)) return;
    this.failures++;
    if (this.full) return;
    this.full = true;
    this.since = Date.now();
    this.logger.error('storage full: writes fail with STORAGE_FULL until space is freed', { err: String((error as Error)?.message ?? error) });
    this.probeTimer = setInterval(() => this.check(), this.probeMs);
    this.probeTimer.unref();
  }

  /** A write committed: the storage takes writes again. */
  wrote(): void {
    if (!this.full || !this.roomAgain()) return;
    this.full = false;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = null;
    this.logger.warn('storage writable again', { fullForMs: Date.now() - this.since, failedWrites: this.failures });
  }

  /** While full, tries the probe write (at most every probeMs); returns whether the storage is still full. */
  check(): boolean {
    if (!this.full || Date.now() - this.lastProbe < this.probeMs / 2) return this.full;
    this.lastProbe = Date.now();
    try {
      if (!this.roomAgain()) this.reclaim();
      if (!this.roomAgain()) return true;
      if (this.probe()) this.wrote();
    } catch (error) {
      if (!storageFullOf(error)) this.logger.warn('storage probe failed', { err: String((error as Error)?.message ?? error) });
    }
    return this.full;
  }

  /** What /health says of the database while full. */
  get reason(): string | null {
    return this.full ? `error: storage full since ${new Date(this.since).toISOString()} (${this.failures} writes refused with STORAGE_FULL); free space and writes resume by themselves` : null;
  }

  stop(): void {
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = null;
  }
}

/** The probe: one row rewritten in its own small transaction (storage_probe, migration 0007). */
export function probeWrite(sqlite: SQLite.Database, canWrite: () => boolean): () => boolean {
  const statement = sqlite.prepare('INSERT INTO storage_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at');
  return () => {
    if (!canWrite()) return false;
    statement.run(Date.now());
    return true;
  };
}

/**
 * While full and short of room: the WAL keeps the length a burst of writes gave it (it is only cut back past
 * journal_size_limit), space that is the storage's own. A TRUNCATE checkpoint copies what is left into the
 * database file and cuts the WAL to zero bytes, so that space counts as free again. It cannot help when the
 * database file still has to grow by more than is free; walInStep keeps that from happening. Not while a
 * write batch is open (its commit comes first).
 */
export function walReclaim(sqlite: SQLite.Database, canWrite: () => boolean): () => void {
  return () => {
    if (!canWrite() || !sqlite.open) return;
    sqlite.pragma('wal_checkpoint(TRUNCATE)');
  };
}

/** Below this much free space, the database file is kept in step with the WAL (see walInStep). */
export const LOW_SPACE_BYTES = 64 * 1024 * 1024;

/**
 * Runs after every commit: while free space is low, the main connection checkpoints at once. Committed
 * pages first land in the WAL; the background checkpoint copies them into the database file later, and
 * the file grows only then. When a burst of writes filled the disk before that copy, the database file
 * still had megabytes to grow by while the WAL held them, so the checkpoint needed more than the space a
 * user frees: it failed with SQLITE_FULL for good and the storage never came back without a restart (the
 * storage-full test failed whenever the background checkpoint lagged by more than its 4 MB ballast). In
 * step, what is acknowledged is already in the database file, and the WAL starts over instead of growing.
 * With ample space nothing changes (the checkpoint stays off the main thread).
 */
export function walInStep(sqlite: SQLite.Database, freeBytes: () => number | null): () => void {
  return () => {
    const free = freeBytes();
    if (free === null || free >= LOW_SPACE_BYTES || !sqlite.open) return;
    try {
      sqlite.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // a full disk is the next write's to report; the background checkpoint retries
    }
  };
}

/** Free bytes for unprivileged writers on the file system holding `dir`; null if it cannot be read. */
export function freeBytesAt(dir: string): () => number | null {
  return () => {
    try {
      const s = statfsSync(dir);
      return s.bavail * s.bsize;
    } catch {
      return null;
    }
  };
}
