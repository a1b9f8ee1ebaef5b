import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Principal } from '../auth/principal.js';
import { variablesCoerce } from '../auth/root-fields.js';
import { mapBusStream } from '../events/bus.js';
import { UNEXPECTED_ERROR_MESSAGE, type MaskError } from './use-error-codes.js';

const MAX_SHARES_PER_EVENT = 64;

/**
 * Subscribers of the same subscription (document, operation, variables, caller) are handed the same event
 * object by the bus, so its selection is executed once per event and the result shared, instead of once
 * per subscriber: 1,000 dashboards on one session's messages cost one execution per message, not 1,000.
 * Results are remembered per event object (a WeakMap), so they go when the event does.
 *
 * The shared stream is also masked here, once per event, and handed to envelop as the operation's result
 * (setResultAndStopExecution). yoga appends its masked-errors plugins after ours, and each would otherwise
 * wrap every subscriber's stream in two more async iterators: a fifth of the server's CPU per delivery at
 * 1,000 subscribers. So this must be the last plugin with an onSubscribe hook (app.ts lists it last).
 *
 * Anything unusual keeps the executor's own path: variables that do not coerce (its errors carry the
 * HTTP status and code clients know) and incremental delivery (@defer, @stream).
 */
export function useSharedEventExecution(maskError: MaskError): Plugin<{ auth?: Principal | null }> {
  const results = new WeakMap<object, Map<string, ExecutionResult | Promise<ExecutionResult>>>();
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

  const mask = (result: ExecutionResult): ExecutionResult =>
    result.errors ? { ...result, errors: result.errors.map((e) => maskError(e, UNEXPECTED_ERROR_MESSAGE) as GraphQLError) } : result;

  const run = (payload: unknown, args: ExecutionArgs): ExecutionResult | Promise<ExecutionResult> => {
    const result = execute({ ...args, rootValue: payload });
    return isPromise(result) ? result.then(mask) : mask(result);
  };

  const perEvent = (payload: unknown, key: string, args: ExecutionArgs): ExecutionResult | Promise<ExecutionResult> => {
    if (payload === null || typeof payload !== 'object') return run(payload, args);
    let byKey = results.get(payload);
    if (!byKey) results.set(payload, (byKey = new Map()));
    let result = byKey.get(key);
    if (result === undefined) {
      result = run(payload, args);
      if (byKey.size < MAX_SHARES_PER_EVENT) byKey.set(key, result);
    }
    return result;
  };

  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      if (!variablesCoerce(args)) return;
      const key = keyOf(args);
      if (key === null) return;
      const unexpected = (error: unknown) => maskError(error, UNEXPECTED_ERROR_MESSAGE) as GraphQLError;
      const read = (payload: unknown): ExecutionResult | Promise<ExecutionResult> => {
        try {
          const result = perEvent(payload, key, args);
          return isPromise(result) ? result.catch((error: unknown) => Promise.reject(unexpected(error))) : result;
        } catch (error) {
          throw unexpected(error);
        }
      };
      const finish = (source: AsyncIterable<unknown> | ExecutionResult) =>
        setResultAndStopExecution(isAsyncIterable(source) ? (mapBusStream(source, read) ?? mapEvents(source, read, unexpected)) : mask(source));
      // graphql 16 always promises the source stream; envelop waits for this hook before it goes on.
      return Promise.resolve(createSourceEventStream(args)).then(finish, (error: unknown) => finish({ errors: [unexpected(error)] }));
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

/** The source's events through `map` (which masks its own errors), one async step per event; the source's own failure through `onError`. */
function mapEvents<T>(
  source: AsyncIterable<unknown>,
  map: (payload: unknown) => T | Promise<T>,
  onError: (error: unknown) => unknown,
): AsyncIterableIterator<T> {
  const it = source[Symbol.asyncIterator]();
  const step = (r: IteratorResult<unknown>): IteratorResult<T> | Promise<IteratorResult<T>> => {
    if (r.done) return { done: true, value: undefined };
    const value = map(r.value);
    return isPromise(value) ? value.then((v): IteratorResult<T> => ({ done: false, value: v })) : { done: false, value };
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () =>
      it.next().then(step, (error: unknown): never => {
        throw onError(error);
      }),
    return: () => (it.return ? it.return() : Promise.resolve({ done: true, value: undefined })).then((): IteratorResult<T> => ({ done: true, value: undefined })),
    throw: (error: unknown) => (it.throw ? it.throw(error) : Promise.reject(error)).then((): IteratorResult<T> => ({ done: true, value: undefined })),
  };
}
