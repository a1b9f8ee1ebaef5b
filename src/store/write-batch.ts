import type SQLite from 'better-sqlite3';

/**
 * Group commit: the writes of one event-loop turn share one SQLite transaction, committed when the turn
 * ends (setImmediate). A sandbox send touches five tables in as many statements, and each commit of its
 * own rewrote the same WAL pages; under load a turn now holds many sends and commits them once.
 * What must stay atomic inside the batch runs through `atomic()`, as a savepoint. Nothing is answered as
 * done before its batch commits: the HTTP and WebSocket paths wait for `committed()` before they write a
 * response.
 */
export class WriteBatch {
  private open = false;
  private waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

  /** better-sqlite3's `transaction()` builds four wrapped functions per call: one wrapper serves every caller. */
  private readonly savepoint: <T>(fn: () => T) => T;

  /** Told of every commit's outcome (null: committed), and of a write failing inside the batch. */
  onOutcome: (error: Error | null) => void = () => undefined;
  /** A write that failed inside this batch, in case SQLite rolled the whole transaction back for it. */
  private failure: Error | null = null;

  constructor(private readonly sqlite: SQLite.Database) {
    this.savepoint = sqlite.transaction((fn: () => unknown) => fn()) as <T>(fn: () => T) => T;
  }

  /** Joins this turn's transaction, opening it if there is none. */
  join(): void {
    if (this.open || this.sqlite.inTransaction || !this.sqlite.open) return;
    this.sqlite.exec('BEGIN');
    this.open = true;
    setImmediate(() => this.commit());
  }

  /** Runs `fn` atomically in this turn's transaction (as a savepoint), joining it. */
  atomic<T>(fn: () => T): T {
    this.join();
    try {
      return this.savepoint(fn);
    } catch (error) {
      this.failed(error as Error);
      throw error;
    }
  }

  /** A write of this batch failed (its caller answers the error; the others' fate is the commit's). */
  failed(error: Error): void {
    this.failure = error;
    this.onOutcome(error);
  }

  /** Resolves once everything written so far is committed (at once when no batch is open). */
  committed(): Promise<void> {
    if (!this.open) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  get pending(): boolean {
    return this.open;
  }

  private after: (() => void) | null = null;

  /** Runs `fn` right after the next commit (nothing is due while nothing is written). */
  afterCommit(fn: () => void): void {
    this.after = fn;
  }

  /** Commits now (the end of the turn, or before the database closes). */
  commit(): void {
    if (!this.open) return;
    this.open = false;
    const waiters = this.waiters;
    this.waiters = [];
    const failure = this.failure;
    this.failure = null;
    try {
      // SQLite may roll a whole transaction back on some errors (a full disk among them): then nothing of this
      // batch was written, and every waiter learns why.
      if (!this.sqlite.inTransaction) throw failure ?? new Error('the write batch was rolled back');
      this.sqlite.exec('COMMIT');
    } catch (error) {
      this.onOutcome(error as Error);
      try {
        if (this.sqlite.inTransaction) this.sqlite.exec('ROLLBACK');
      } catch {
        // the rollback's own failure adds nothing to the commit's
      }
      for (const w of waiters) w.reject(error as Error);
      return;
    }
    this.onOutcome(null);
    for (const w of waiters) w.resolve();
    const after = this.after;
    this.after = null;
    after?.();
  }
}
