import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import { requestIdFrom } from '../plugins/use-request-id.js';
import type { Metrics } from './metrics.js';
import type { OperationReport } from './operation.js';

/** What the layers of one HTTP request learn about it, for its one log line and its metrics. */
export interface RequestNote {
  requestId: string;
  /** A route template (`/graphql`, `/api/v1/sessions/:sessionId/send-text`), never a raw path. */
  route: string | null;
  operation: string | null;
  sessionId: string | null;
  /** `ok` or the first GraphQL error code. */
  outcome: string | null;
}

const notes = new WeakMap<IncomingMessage, RequestNote>();

export function noteOf(req: IncomingMessage | undefined): RequestNote | undefined {
  return req ? notes.get(req) : undefined;
}

/** Called by a router (REST's route table) once it knows which route template a request matched. */
export function noteRoute(req: IncomingMessage, route: string): void {
  const note = notes.get(req);
  if (note) note.route = route;
}

/** Called when a request is about one session (REST routes take it from the path). */
export function noteSession(req: IncomingMessage, sessionId: string): void {
  const note = notes.get(req);
  if (note) note.sessionId = sessionId;
}

const QUIET_ROUTES = new Set(['/health', '/metrics']);

/**
 * Starts observing a request at the edge: settles its request id first (the caller's x-request-id
 * when sane, else a new one, written back into the headers so yoga, REST and the response all show
 * the same id), then logs one line and records its metrics when the response is done.
 */
export function observeHttp(req: IncomingMessage, res: ServerResponse, logger: Logger, metrics: Metrics): RequestNote {
  const started = process.hrtime.bigint();
  const requestId = requestIdFrom({ get: (name) => (req.headers[name] as string | undefined) ?? null });
  req.headers['x-request-id'] = requestId;
  const note: RequestNote = { requestId, route: null, operation: null, sessionId: null, outcome: null };
  notes.set(req, note);
  // 'close' comes after 'finish' for every response, and alone when the client went away first.
  res.once('close', () => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const path = (req.url ?? '/').split('?')[0]!;
    const route = note.route ?? (path.startsWith('/api/') ? '/api/*' : 'unmatched');
    const status = res.writableFinished ? res.statusCode : 499;
    const method = req.method ?? 'GET';
    metrics.httpRequest(route, method, status, seconds);
    const fields = {
      requestId,
      method,
      path,
      route,
      operation: note.operation ?? undefined,
      sessionId: note.sessionId ?? undefined,
      outcome: note.outcome ?? undefined,
      status,
      durationMs: Math.round(seconds * 10_000) / 10,
    };
    if (status >= 500) logger.error('request', fields);
    else if (QUIET_ROUTES.has(route)) logger.debug('request', fields);
    else logger.info('request', fields);
  });
  return note;
}

/**
 * Over HTTP the operation's name, session and outcome go into the request's note, and the edge logs
 * the one line when the response is done. Over graphql-ws (no HTTP request per operation) this logs
 * a line per operation itself, once it has executed or its subscription has started. For useOperationReports.
 */
export function requestLogReport(logger: Logger): OperationReport {
  return (context, info, outcome, seconds) => {
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
  };
}
