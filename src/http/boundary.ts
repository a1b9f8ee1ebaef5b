import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';

/** The request id of the HTTP request (or upgrade) whose work is running, for errors no handler caught. */
export const requestScope = new AsyncLocalStorage<string>();

export type UncaughtKind = 'request' | 'uncaughtException' | 'unhandledRejection';

/**
 * What an unexpected error does once it reaches the boundary. `request`: a request handler threw or rejected;
 * that request ends with 500 INTERNAL_ERROR (no stack in the answer). `uncaughtException` and
 * `unhandledRejection` (src/main.ts installs the process handlers): logged at error level with the request id
 * when the error came from a request's work, counted in wa_gateway_uncaught_errors_total, and the process
 * goes on serving: every other session and connection stays up. The stack goes to the log only.
 */
export function createUncaughtReporter(logger: Logger, metrics: Metrics) {
  return (kind: UncaughtKind, error: unknown, requestId = requestScope.getStore()): void => {
    metrics.uncaught(kind);
    logger.error(kind === 'request' ? 'request failed' : `uncaught error (${kind})`, {
      kind,
      requestId,
      err: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  };
}
