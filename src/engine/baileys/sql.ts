import type SQLite from 'better-sqlite3';
import type { AnyStore } from '../../store/database.js';

/**
 * The Baileys engine's statements on either backend, written once with `$n` parameters. Writes join the
 * turn's unit of work (SQLite: a savepoint of the WriteBatch; PostgreSQL: the PgBatch's transaction), and
 * reads go through the same connection, so they see what this turn wrote.
 */
export interface BaileysSql {
  readonly kind: 'sqlite' | 'postgres';
  run(text: string, params?: readonly unknown[]): Promise<void>;
  all<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** Several writes as one step (a savepoint on SQLite; on PostgreSQL the statements of one round of the turn). */
  steps(statements: [string, readonly unknown[]][]): Promise<void>;
}

export function baileysSql(store: AnyStore): BaileysSql {
  if (store.kind === 'postgres') {
    const { batch } = store;
    return {
      kind: 'postgres',
      run: async (text, params = []) => void (await batch.run(text, params)),
      all: <R>(text: string, params: readonly unknown[] = []) => batch.run<R>(text, params),
      steps: async (statements) => void (await Promise.all(statements.map(([t, p]) => batch.run(t, p)))),
    };
  }
  const { sqlite, batch } = store;
  const cache = new Map<string, SQLite.Statement>();
  const prepared = (text: string) => {
    let statement = cache.get(text);
    if (!statement) {
      // SQLite takes `?NNN` where PostgreSQL takes `$NNN`.
      statement = sqlite.prepare(text.replace(/\$(\d+)/g, '?$1'));
      cache.set(text, statement);
    }
    return statement;
  };
  // better-sqlite3 binds `?NNN` from an object keyed by the numbers.
  const cells = (params: readonly unknown[]): unknown[] =>
    params.length === 0 ? [] : [Object.fromEntries(params.map((p, i) => [i + 1, typeof p === 'boolean' ? (p ? 1 : 0) : p]))];
  return {
    kind: 'sqlite',
    async run(text, params = []) {
      batch.atomic(() => prepared(text).run(...cells(params)));
    },
    async all<R>(text: string, params: readonly unknown[] = []) {
      return prepared(text).all(...cells(params)) as R[];
    },
    async steps(statements) {
      batch.atomic(() => {
        for (const [text, params] of statements) prepared(text).run(...cells(params));
      });
    },
  };
}

/** `$from, $from+1, ...` for an IN list of `n` values. */
export function placeholders(from: number, n: number): string {
  return Array.from({ length: n }, (_, i) => `$${from + i}`).join(', ');
}
