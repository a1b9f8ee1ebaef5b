import type { PgBatch } from './pg-types.js';

/**
 * The items of one kind queued until the batch's next round leaves (or another statement is queued after
 * them), sent as one statement (PgBatch.gather): every send that arrives while a round is out joins one
 * statement of the next. A statement costs the server a parse and a plan whatever its rows: one per round
 * instead of one per send (with one per send, the writer connection spent ~0.6 ms of PostgreSQL time per
 * send). Items that must see each other's effect (receipts of one message) go in successive statements of
 * the same round: the k-th item of a key in the k-th.
 */
export class TurnStatements<I, R> {
  private waves: { items: I[]; done: { resolve: (r: R) => void; reject: (e: Error) => void }[]; keys: Set<string> | null }[] = [];
  private scheduled = false;

  constructor(
    private readonly batch: PgBatch,
    private readonly send: (items: I[]) => Promise<R[]>,
    private readonly keyOf: ((item: I) => string) | null = null,
  ) {}

  add(item: I): Promise<R> {
    const key = this.keyOf?.(item);
    let wave = key === undefined ? this.waves[0] : this.waves.find((w) => !w.keys!.has(key));
    if (!wave) {
      wave = { items: [], done: [], keys: key === undefined ? null : new Set() };
      this.waves.push(wave);
    }
    if (key !== undefined) wave.keys!.add(key);
    wave.items.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      this.batch.gather(() => this.flush());
    }
    const target = wave;
    return new Promise<R>((resolve, reject) => target.done.push({ resolve, reject }));
  }

  private flush(): void {
    const waves = this.waves;
    this.waves = [];
    this.scheduled = false;
    for (const wave of waves) {
      let sent: Promise<R[]>;
      try {
        sent = this.send(wave.items);
      } catch (error) {
        sent = Promise.reject(error as Error);
      }
      sent.then(
        (results) => wave.done.forEach((d, i) => d.resolve(results[i]!)),
        (error: Error) => wave.done.forEach((d) => d.reject(error)),
      );
    }
  }
}

type Cell = string | number | null;

const ARRAY_SPECIAL = /[\\"]/;

/**
 * A column of many rows as one PostgreSQL array literal: a statement of a turn's sends reads its rows with
 * unnest(), which the server parses and plans as a handful of constants however many rows there are (a
 * VALUES list of the same rows cost it about as much per row as the single statements it replaces).
 */
export function pgArray(values: readonly Cell[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (i > 0) out += ',';
    if (value === null || value === undefined) out += 'NULL';
    else if (typeof value === 'number') out += String(value);
    else out += `"${ARRAY_SPECIAL.test(value) ? value.replace(/[\\"]/g, '\\$&') : value}"`;
  }
  return `${out}}`;
}

/** Rows as columns, each a parameter `$n::type[]` of an unnest(). */
export class Columns {
  private readonly columns: { name: string; type: string; values: Cell[] }[];

  constructor(spec: readonly (readonly [name: string, type: string])[]) {
    this.columns = spec.map(([name, type]) => ({ name, type, values: [] }));
  }

  push(...row: Cell[]): void {
    for (let i = 0; i < this.columns.length; i++) this.columns[i]!.values.push(row[i] ?? null);
  }

  get length(): number {
    return this.columns[0]!.values.length;
  }

  /** `unnest($a::t[], ...) AS alias (names)`, its arrays appended to `params`. */
  from(alias: string, params: unknown[]): string {
    return `unnest(${this.args(params)}) AS ${alias} (${this.columns.map((c) => c.name).join(', ')})`;
  }

  /** `$a::t[], ...`: the columns as the arguments of a function (migration 0016), appended to `params`. */
  args(params: unknown[]): string {
    return this.columns.map((c) => `$${params.push(pgArray(c.values))}::${c.type}[]`).join(', ');
  }
}

