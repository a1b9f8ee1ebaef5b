import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../logger.js';
import { noteOf } from '../observability/http-log.js';
import { operationHooks } from '../observability/operation.js';

/**
 * Over HTTP the operation's name, session and outcome go into the request's note, and the edge logs
 * the one line when the response is done. Over graphql-ws (no HTTP request per operation) this logs
 * a line per operation itself, once it has executed or its subscription has started.
 */
export function useRequestLog(logger: Logger): Plugin {
  return operationHooks((context, info, outcome, seconds) => {
    const note = noteOf(context.req as IncomingMessage | undefined);
    if (note) {
      // A batch or a REST route running several operations keeps the first name and the first failure.
      note.operation ??= info.name;
      note.sessionId ??= info.sessionId;
      if (note.outcome === null || note.outcome === 'ok') note.outcome = outcome;
      return;
    }
    const fields = {
      transport: 'graphql-ws',
      requestId: typeof context.requestId === 'string' ? context.requestId : undefined,
      operation: info.name,
      type: info.type,
      sessionId: info.sessionId ?? undefined,
      outcome,
      durationMs: Math.round(seconds * 10_000) / 10,
    };
    if (outcome === 'INTERNAL_ERROR') logger.error('operation', fields);
    else logger.info('operation', fields);
  });
}
