import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { Database } from '../schema.js';

/**
 * The group commit on PostgreSQL, the counterpart of the SQLite WriteBatch. All writes go through one
 * dedicated connection. Statements queued during an event-loop turn leave together as ONE round trip
 * (the first round of a transaction starts with BEGIN). Each statement's promise resolves with its rows
 * once its round returns, before COMMIT, so the continuations of those results may queue more statements
 * into the same transaction. COMMIT goes when a round ends with nothing new queued, or under continuous load
 * with the round that reaches a bound on the transaction's rounds or age (what that round's continuations
 * queue goes in the next transaction). A failed round rolls the transaction back and
 * rejects every `committed()` waiter of it.
 */
export interface PgBatch {
  /** Queues one statement ($1..$n parameters) into the open transaction's next round; a SELECT here sees this transaction's writes. */
  run<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /**
   * A statement still gathering items (a turn's sends as one statement): `flush` queues it with run() just
   * before the next round leaves, or before any statement queued after it, so statements keep the order of
   * the calls. Until then it counts as pending and committed() waits for it.
   */
  gather(flush: () => void): void;
  /**
   * Work under way whose writes are not queued yet (they follow a read of this transaction): committed() asked
   * for while it runs waits for it to settle, then for what it queued. Lets a caller answer without waiting for
   * that read itself (a mutation's aliases run one after another: each waiting for a round trip serialized them).
   */
  hold(work: Promise<unknown>): void;
  /** Resolves once everything queued so far, and the writes of work held now, is committed (at once when nothing is open). */
  committed(): Promise<void>;
  /** True while a transaction is open, statements wait to be sent or held work runs. */
  readonly pending: boolean;
  /** Told of every commit's outcome (null: committed). */
  onOutcome: (error: Error | null) => void;
  /** A statement every transaction starts with (a cluster node's fence, src/cluster/); null: none. */
  prelude: string | null;
}

export interface PgStore {
  kind: 'postgres';
  /** Kysely over the pool: the async, non-hot repositories (sessions, API keys) and migrations. */
  db: Kysely<Database>;
  /** Reads of committed data that need no transaction. */
  pool: pg.Pool;
  batch: PgBatch;
  close(): Promise<void>;
}
