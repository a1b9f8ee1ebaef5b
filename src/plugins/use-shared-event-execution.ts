import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Principal } from '../auth/principal.js';
import { variablesCoerce } from '../auth/root-fields.js';

const MAX_SHARES_PER_EVENT = 64;

/**
 * Subscribers of the same subscription (document, operation, variables, caller) are handed the same event
 * object by the bus, so its selection is executed once per event and the result shared, instead of once
 * per subscriber: 1,000 dashboards on one session's messages cost one execution per message, not 1,000.
 * Results are remembered per event object (a WeakMap), so they go when the event does.
 *
 * Anything unusual keeps the executor's own path: variables that do not coerce (its errors carry the
 * HTTP status and code clients know) and incremental delivery (@defer, @stream).
 */
export function useSharedEventExecution(): Plugin<{ auth?: Principal | null }> {
  const results = new WeakMap<object, Map<string, unknown>>();
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;

  const keyOf = (args: ExecutionArgs): string | null => {
    let id = documentIds.get(args.document);
    if (id === undefined) {
      if (hasIncrementalDelivery(args.document)) return null;
      documentIds.set(args.document, (id = nextDocumentId++));
    }
    let variables: string;
    try {
      variables = JSON.stringify(args.variableValues ?? {});
    } catch {
      return null;
    }
    const principal = (args.contextValue as { auth?: Principal | null } | undefined)?.auth;
    const caller = principal ? `${principal.id}|${principal.admin}|${principal.sessionIds.join(',')}|${principal.actions.join(',')}` : '';
    return `${id}\n${args.operationName ?? ''}\n${variables}\n${caller}`;
  };

  const perEvent = (payload: unknown, key: string, args: ExecutionArgs): unknown => {
    if (payload === null || typeof payload !== 'object') return execute({ ...args, rootValue: payload });
    let byKey = results.get(payload);
    if (!byKey) results.set(payload, (byKey = new Map()));
    let result = byKey.get(key);
    if (result === undefined) {
      result = execute({ ...args, rootValue: payload });
      if (byKey.size < MAX_SHARES_PER_EVENT) byKey.set(key, result);
    }
    return result;
  };

  return {
    onSubscribe({ args, setSubscribeFn }) {
      if (!variablesCoerce(args)) return;
      const key = keyOf(args);
      if (key === null) return;
      setSubscribeFn((finalArgs: ExecutionArgs) => {
        const source = createSourceEventStream(finalArgs);
        const wrap = (s: Awaited<typeof source>) => (isAsyncIterable(s) ? mapEvents(s, (payload) => perEvent(payload, key, finalArgs)) : s);
        return isPromise(source) ? source.then(wrap) : wrap(source);
      });
    },
  };
}

function hasIncrementalDelivery(document: DocumentNode): boolean {
  const source = document.loc?.source.body;
  return source === undefined || source.includes('@defer') || source.includes('@stream');
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown } | null)?.[Symbol.asyncIterator] === 'function';
}

function mapEvents(source: AsyncIterable<unknown>, map: (payload: unknown) => unknown): AsyncIterableIterator<unknown> {
  const it = source[Symbol.asyncIterator]();
  const step = (r: IteratorResult<unknown>): IteratorResult<unknown> | Promise<IteratorResult<unknown>> => {
    if (r.done) return r;
    const value = map(r.value);
    return isPromise(value) ? value.then((v) => ({ done: false, value: v })) : { done: false, value };
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () => it.next().then(step),
    return: () => (it.return ? it.return() : Promise.resolve({ done: true, value: undefined })),
    throw: (error: unknown) => (it.throw ? it.throw(error) : Promise.reject(error)),
  };
}
