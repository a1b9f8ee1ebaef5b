import pg from 'pg';
import { databaseUnavailableOf } from '../../errors.js';
import type { PgBatch } from './pg-types.js';

export interface PgBatchOptions {
  /** Rounds one transaction may take under continuous load before it commits (the rest go in the next one). */
  maxRounds?: number;
  /** Age (ms) past which a transaction's next round carries its COMMIT. */
  maxAgeMs?: number;
  /** Longest a connection attempt may take. */
  connectTimeoutMs?: number;
  /** Longest a round (or COMMIT) may take before the connection is given up. */
  queryTimeoutMs?: number;
  /** After a failed connection attempt, statements fail at once for this long instead of trying again each (default 0: every round tries). */
  retryAfterMs?: number;
  /** > 0: PostgreSQL ends the connection when one of its transactions sits idle this long (ms). */
  idleInTransactionMs?: number;
  /** The writer connection's application_name. */
  applicationName?: string;
}

/** The connection option that makes PostgreSQL end a connection whose transaction idles `ms` (none for 0). */
export function idleInTransaction(ms: number | undefined): { options?: string } {
  return ms && ms > 0 ? { options: `-c idle_in_transaction_session_timeout=${Math.ceil(ms)}` } : {};
}

const noop = () => undefined;

interface Statement {
  text: string;
  resolve: (rows: never[]) => void;
  reject: (error: Error) => void;
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/** One transaction: the statements queued for it, and who waits for its commit. */
class Tx {
  readonly waiters: Waiter[] = [];
  rounds = 0;
  started = 0;
  /** BEGIN went out (a round of it ran or runs). */
  begun = false;
  /** The connection it runs on: a transaction does not survive its connection. */
  client: pg.Client | null = null;
  failed: Error | null = null;
  private promise: Promise<void> | null = null;

  done(): Promise<void> {
    this.promise ??= new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    return this.promise;
  }
}

const QUOTE_OR_BACKSLASH = /['\\]/;

/**
 * A string as a literal, written as pg's escapeLiteral writes it (E'...' when it holds a backslash), with
 * native scans: escapeLiteral appends one character at a time, and the turn's send statements (arrays of
 * JSON payloads) made it a large part of the app's CPU under (c) on PostgreSQL.
 */
function quote(value: string): string {
  if (!QUOTE_OR_BACKSLASH.test(value)) return `'${value}'`;
  if (!value.includes('\\')) return `'${value.replace(/'/g, "''")}'`;
  return ` E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  switch (typeof value) {
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot store the number ${value}`);
      // In parentheses, so `x - $1` with a negative number does not become the comment `--`.
      return value < 0 || Object.is(value, -0) ? `(${value})` : String(value);
    case 'bigint':
      return value < 0n ? `(${value})` : String(value);
    case 'string':
      return quote(value);
    case 'boolean':
      return value ? 'TRUE' : 'FALSE';
    default:
      if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `'\\x${Buffer.from(value).toString('hex')}'::bytea`;
      if (value instanceof Date) return quote(value.toISOString());
      return quote(JSON.stringify(value));
  }
}

/**
 * `$1..$n` replaced by escaped literals, so many statements go as one simple-protocol query (the extended
 * protocol takes one statement per message). The SQL texts are ours: no `$n` inside their own literals.
 */
export function inlineParams(sql: string, params: readonly unknown[] = []): string {
  const text = sql.trim().replace(/;+$/, '');
  if (params.length === 0) return text;
  return text.replace(/\$(\d+)/g, (match, n: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= params.length) throw new RangeError(`${match} has no parameter (${params.length} given)`);
    return literal(params[i]);
  });
}

/**
 * The PostgreSQL group commit (see PgBatch): one dedicated writer connection, one round trip per round,
 * COMMIT once a round's continuations queued nothing more, or with the round that reaches the bound on rounds or age.
 */
export class PgWriteBatch implements PgBatch {
  onOutcome: (error: Error | null) => void = () => undefined;
  prelude: string | null = null;
  private readonly idleInTransactionMs: number;
  private readonly applicationName: string | undefined;

  /** Round trips made (rounds of statements, COMMITs and ROLLBACKs): the tests count them. */
  roundTrips = 0;
  /** How long the last round took: the next one is expected to take about as long (see round()). */
  private lastRoundMs = 0;
  commits = 0;

  private client: pg.Client | null = null;
  private connecting: Promise<pg.Client> | null = null;
  private downUntil = 0;
  private downError: Error | null = null;
  private queue: Statement[] = [];
  /** The flushes of statements still gathering items (see gather()). */
  private gathering: (() => void)[] = [];
  /** The transaction new statements join. */
  private current: Tx | null = null;
  /** The transaction whose COMMIT is in flight. */
  private closing: Tx | null = null;
  /** Waits for the transaction of the next round (see nextRound()). */
  private next: (Waiter & { promise: Promise<void> }) | null = null;
  /** A round, COMMIT or ROLLBACK is in flight, or the next step is scheduled. */
  private busy = false;
  private scheduled = false;
  private closed = false;
  private readonly maxRounds: number;
  private readonly maxAgeMs: number;
  private readonly connectTimeoutMs: number;
  private readonly queryTimeoutMs: number;
  private readonly retryAfterMs: number;

  constructor(
    private readonly connectionString: string,
    options: PgBatchOptions = {},
  ) {
    this.maxRounds = options.maxRounds ?? 32;
    // Under steady load a transaction lives until this bound, and every answer of it waits that long: with 50 ms,
    // (c) on PostgreSQL had p99 of 153-278 ms against 102-242 ms with 15 ms in three paired runs (load average 7-10),
    // and fewer sends/s (1,046-1,111 against 1,099-1,673): a COMMIT every 15 ms is still a group commit.
    this.maxAgeMs = options.maxAgeMs ?? 15;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 3000;
    this.queryTimeoutMs = options.queryTimeoutMs ?? 10_000;
    this.retryAfterMs = options.retryAfterMs ?? 0;
    this.idleInTransactionMs = options.idleInTransactionMs ?? 0;
    this.applicationName = options.applicationName;
  }

  run<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]> {
    if (this.closed) return Promise.reject(new Error('the database is closed'));
    let text: string;
    try {
      text = inlineParams(sql, params);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    // What is gathered goes first: it was asked for before this statement.
    if (this.gathering.length > 0) this.flushGathered();
    return new Promise<R[]>((resolve, reject) => {
      this.queue.push({ text, resolve: resolve as (rows: never[]) => void, reject });
      this.current ??= new Tx();
      this.schedule();
    });
  }

  gather(flush: () => void): void {
    if (this.closed) return flush();
    this.gathering.push(flush);
    this.current ??= new Tx();
    this.schedule();
  }

  private flushGathered(): void {
    const flushes = this.gathering;
    this.gathering = [];
    for (const flush of flushes) flush();
  }

  /** Held work (see hold()), each settled to undefined and removed once it settles. */
  private readonly holds = new Set<Promise<void>>();

  hold(work: Promise<unknown>): void {
    const settled: Promise<void> = work.then(noop, noop).then(() => {
      this.holds.delete(settled);
    });
    this.holds.add(settled);
  }

  committed(): Promise<void> {
    // The work held now only: work held later (a stream of it) must not keep this answer waiting for ever.
    if (this.holds.size > 0) return Promise.all([...this.holds]).then(() => this.queuedCommitted());
    return this.queuedCommitted();
  }

  private queuedCommitted(): Promise<void> {
    const waits: Promise<void>[] = [];
    if (this.closing) waits.push(this.closing.done());
    if (this.current) waits.push(this.current.done());
    // Statements not sent yet go into the open transaction's next round, or into the next transaction when this
    // one is full: wait for the one their round joins, or an answer could acknowledge a write that then fails.
    // Only that one: waiting for whatever transaction is open once this one commits made most answers under
    // load wait for two (a send arriving while a round was out waited for the rest of its transaction, then for
    // the whole next one). (c) on PostgreSQL, three paired runs at load average 2-5: an answer's wait for its
    // commit p99 35-41 ms against 45-70 ms, p99 at the client 44-52 ms against 50-86 ms.
    if (this.queue.length > 0 || this.gathering.length > 0) waits.push(this.nextRound());
    if (waits.length === 0) return Promise.resolve();
    return waits.length === 1 ? waits[0]! : Promise.all(waits).then(noop);
  }

  /** Settled with the transaction that the next round (the statements queued and gathered now) goes in. */
  private nextRound(): Promise<void> {
    if (!this.next) {
      let waiter!: Waiter;
      const promise = new Promise<void>((resolve, reject) => (waiter = { resolve, reject }));
      this.next = { ...waiter, promise };
    }
    return this.next.promise;
  }

  get pending(): boolean {
    return this.current !== null || this.closing !== null || this.holds.size > 0;
  }

  /** True while the writer connection is known to be down (a connection attempt failed a moment ago). */
  get down(): boolean {
    return this.downError !== null;
  }

  /** Commits what is queued, then closes the writer connection. */
  async close(): Promise<void> {
    await this.committed().catch(() => undefined);
    this.closed = true;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private schedule(): void {
    if (this.busy || this.scheduled) return;
    this.scheduled = true;
    // After this turn's other writers (and the continuations of a round's results) have queued theirs.
    setImmediate(() => {
      this.scheduled = false;
      void this.step();
    });
  }

  /** One step: a round of the queue into the open transaction, or its COMMIT. */
  private async step(): Promise<void> {
    if (this.busy) return;
    const tx = this.current;
    if (!tx) return;
    this.busy = true;
    // Statements gathered while the last round was out leave in this one.
    if (this.gathering.length > 0) this.flushGathered();
    try {
      // A transaction at its bounds is no longer the open one: its last round took the COMMIT (see round()).
      if (this.queue.length > 0) await this.round(tx);
      else if (tx.begun) await this.commit(tx);
      else {
        // Nothing was ever sent: nothing to commit, and nothing of it to wait for.
        this.current = null;
        for (const w of tx.waiters) w.resolve();
      }
    } finally {
      this.busy = false;
    }
    if (this.current) this.schedule();
  }

  private async round(tx: Tx): Promise<void> {
    const statements = this.queue;
    this.queue = [];
    this.takeNext(tx);
    let client: pg.Client;
    try {
      client = await this.connection();
    } catch (error) {
      return this.fail(tx, statements, error as Error, false);
    }
    if (tx.begun && tx.client !== client) return this.fail(tx, statements, new Error('Connection terminated: the transaction was lost with its connection'), false);
    const begin = !tx.begun;
    if (begin) {
      tx.begun = true;
      tx.started = Date.now();
      tx.client = client;
    }
    tx.rounds++;
    // The round that reaches a bound takes the COMMIT along: one round trip (and one step) fewer per transaction
    // under load. Its results come back after the COMMIT, so what their continuations queue goes in the next
    // transaction, as it did when the COMMIT followed at the bound. The age bound counts the round's expected
    // length (the last round's): a round sent once the age has passed would keep the transaction open for
    // one more round than a COMMIT of its own did.
    const last = tx.rounds >= this.maxRounds || Date.now() - tx.started + this.lastRoundMs >= this.maxAgeMs;
    const prelude = begin && this.prelude ? `${this.prelude};\n` : '';
    const text = (begin ? 'BEGIN;' : '') + prelude + statements.map((s) => s.text).join(';\n') + (last ? ';\nCOMMIT' : '');
    if (last) {
      // Statements queued from now on go in the next transaction, and so do those queued while this round
      // waited for its connection.
      this.current = this.queue.length > 0 || this.gathering.length > 0 ? new Tx() : null;
      this.closing = tx;
    }
    let results: pg.QueryResult[];
    try {
      this.roundTrips++;
      const sentAt = Date.now();
      const result = (await client.query(text)) as pg.QueryResult | pg.QueryResult[];
      this.lastRoundMs = Date.now() - sentAt;
      results = Array.isArray(result) ? result : [result];
    } catch (error) {
      if (last) this.closing = null;
      return this.fail(tx, statements, error as Error, true, !last);
    }
    const offset = begin ? (prelude ? 2 : 1) : 0;
    for (let i = 0; i < statements.length; i++) statements[i]!.resolve((results[i + offset]?.rows ?? []) as never[]);
    if (last) this.committedTx(tx);
  }

  private async commit(tx: Tx): Promise<void> {
    // What is queued beyond the bound goes in the next transaction.
    this.current = this.queue.length > 0 ? new Tx() : null;
    this.closing = tx;
    try {
      if (!this.client || this.client !== tx.client) throw new Error('Connection terminated: the transaction was lost with its connection');
      this.roundTrips++;
      await this.client.query('COMMIT');
    } catch (error) {
      this.closing = null;
      this.lost(error as Error);
      this.settle(tx, error as Error);
      return;
    }
    this.committedTx(tx);
  }

  private committedTx(tx: Tx): void {
    this.closing = null;
    this.commits++;
    this.settle(tx, null);
  }

  /** Whoever waits for the next round's transaction (see nextRound()) waits for `tx`, which that round joins. */
  private takeNext(tx: Tx): void {
    const next = this.next;
    this.next = null;
    if (next) tx.waiters.push(next);
  }

  /**
   * A failed round: the transaction is rolled back whole. Its waiters and this round's statements learn why,
   * and so do statements queued for it meanwhile (they joined a transaction that is gone), unless the round
   * carried the COMMIT (`ownsQueue` false): what was queued meanwhile is the next transaction's.
   */
  private async fail(tx: Tx, statements: Statement[], error: Error, sent: boolean, ownsQueue = true): Promise<void> {
    let queued: Statement[] = [];
    if (ownsQueue) {
      if (this.gathering.length > 0) this.flushGathered();
      queued = this.queue;
      this.queue = [];
      this.current = null;
      this.takeNext(tx);
    }
    if (isConnectionError(error)) this.lost(error);
    else if (sent && this.client) {
      try {
        this.roundTrips++;
        await this.client.query('ROLLBACK');
      } catch (rollbackError) {
        this.lost(rollbackError as Error);
      }
    }
    for (const s of statements) s.reject(error);
    for (const s of queued) s.reject(error);
    this.settle(tx, error);
  }

  private settle(tx: Tx, error: Error | null): void {
    tx.failed = error;
    this.onOutcome(error);
    for (const w of tx.waiters) (error ? w.reject(error) : w.resolve());
  }

  /** The connection is not to be trusted after this error (gone, timed out, or mid-protocol): drop it. */
  private lost(error: Error): void {
    if (!isConnectionError(error)) return;
    const client = this.client;
    this.client = null;
    client?.end().catch(() => undefined);
  }

  private connection(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    if (this.downError && Date.now() < this.downUntil) return Promise.reject(this.downError);
    this.connecting ??= (async () => {
      const client = new pg.Client({
        connectionString: this.connectionString,
        connectionTimeoutMillis: this.connectTimeoutMs,
        query_timeout: this.queryTimeoutMs,
        keepAlive: true,
        ...(this.applicationName ? { application_name: this.applicationName } : {}),
        ...idleInTransaction(this.idleInTransactionMs),
      });
      // Without a listener a dropped connection would be an uncaught 'error'; the next query on it fails and reconnects.
      client.on('error', () => {
        if (this.client === client) this.client = null;
      });
      client.on('end', () => {
        if (this.client === client) this.client = null;
      });
      try {
        await client.connect();
      } catch (error) {
        client.end().catch(() => undefined);
        this.downError = error as Error;
        this.downUntil = Date.now() + this.retryAfterMs;
        throw error;
      }
      this.downError = null;
      this.client = client;
      return client;
    })().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }
}

/** Errors after which a connection is unusable or PostgreSQL unreachable. */
export function isConnectionError(error: unknown): boolean {
  return databaseUnavailableOf(error) !== null;
}
