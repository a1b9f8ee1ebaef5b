/**
 * What a store read or write returns: a value on SQLite (better-sqlite3 is synchronous, and its hot paths
 * stay so), a promise on PostgreSQL. Code outside `src/store/` that serves both backends takes this type.
 */
export type MaybePromise<T> = T | Promise<T>;

/** Calls `then` at once when `value` is not a promise, so the SQLite path adds no microtask. */
export function after<T, R>(value: MaybePromise<T>, then: (value: T) => MaybePromise<R>): MaybePromise<R> {
  return value instanceof Promise ? value.then(then) : then(value);
}
