import type { IncomingMessage, ServerResponse } from 'node:http';
import { enforceBodyLimit, payloadTooLarge } from '../auth/body-limit.js';
import type { Logger } from '../logger.js';
import { UNEXPECTED_ERROR_MESSAGE } from '../plugins/use-error-codes.js';
import { httpStatusFor, storageFullOf } from '../errors.js';
import { plainParams, type GraphQLRunner } from './graphql-runner.js';
import { readBody } from './read-body.js';

export interface GraphQLHttpOptions {
  runner: GraphQLRunner;
  /** yoga's node handler: GET, multipart, SSE, GraphiQL, CORS, errors in the request itself. */
  yoga: (req: IncomingMessage, res: ServerResponse) => unknown;
  maxBodyBytes: number;
  /** false: every request goes to yoga (config http.fastPath). */
  fastPath: boolean;
  logger: Logger;
  refuse: (req: IncomingMessage, res: ServerResponse, status: number, body: unknown) => void;
  /** Told of the requests yoga gets before the runner sees them (the runner reports its own). */
  observe?: (path: 'yoga') => void;
}

/**
 * /graphql over HTTP. A plain JSON POST (no Origin, so no CORS; JSON accepted back) of a document yoga
 * has already validated runs through GraphQLRunner; everything else, and anything the runner declines,
 * is yoga's, with the body already read handed over on `req.body`.
 */
export function createGraphQLHttpHandler(o: GraphQLHttpOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const slow = async (req: IncomingMessage, res: ServerResponse) => {
    o.observe?.('yoga');
    if (await enforceBodyLimit(req, res, o.maxBodyBytes, (status, body) => o.refuse(req, res, status, body))) await o.yoga(req, res);
  };
  return async (req, res) => {
    const answerType = o.fastPath ? jsonAnswerType(req.headers.accept) : null;
    if (!answerType || req.method !== 'POST' || req.headers.origin !== undefined || !isJsonBody(req.headers['content-type'])) {
      return slow(req, res);
    }
    if (!(await enforceBodyLimit(req, res, o.maxBodyBytes, (status, body) => o.refuse(req, res, status, body)))) return;
    const withBody = req as IncomingMessage & { body?: Buffer };
    let body = withBody.body;
    if (!body) {
      const read = await readBody(req, o.maxBodyBytes);
      if (read.kind === 'aborted') return;
      if (read.kind === 'too-large') return o.refuse(req, res, 413, payloadTooLarge(o.maxBodyBytes));
      body = read.bytes;
    }
    const handOver = async () => {
      withBody.body = body;
      await o.yoga(req, res);
    };
    // An empty body is yoga's to refuse; it would otherwise read the (already drained) stream again.
    if (body.length === 0) return slow(req, res);
    let params;
    try {
      params = plainParams(JSON.parse(body.toString('utf8')));
    } catch {
      params = null;
    }
    if (!params) {
      o.observe?.('yoga');
      return handOver();
    }
    try {
      const outcome = await o.runner.run(req, res, String(req.headers['x-request-id']), params, answerType);
      if (!outcome) return handOver();
      // Written as a string: node sends it in one write with the headers, with no Buffer of its own to allocate.
      res.writeHead(outcome.status, { ...outcome.headers, 'content-length': Buffer.byteLength(outcome.body) });
      res.end(outcome.body);
    } catch (error) {
      const storage = storageFullOf(error);
      if (storage) {
        if (!res.headersSent) o.refuse(req, res, httpStatusFor(storage.code), { errors: [{ message: storage.message, extensions: { code: storage.code } }] });
        return;
      }
      o.logger.error('GraphQL request failed', { url: req.url, err: String((error as Error)?.stack ?? error) });
      if (!res.headersSent) o.refuse(req, res, 500, { errors: [{ message: UNEXPECTED_ERROR_MESSAGE, extensions: { code: 'INTERNAL_ERROR' } }] });
    }
  };
}

function isJsonBody(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const [type, ...rest] = contentType.toLowerCase().split(';');
  if (type!.trim() !== 'application/json') return false;
  return rest.every((p) => !p.includes('charset=') || p.trim() === 'charset=utf-8');
}

type JsonAnswerType = 'application/json' | 'application/graphql-response+json';
const acceptCache = new Map<string, JsonAnswerType | null>();
// yoga's result processors in its order (useResultProcessors); for a single result the last match wins.
const PROCESSORS = [['text/event-stream'], ['multipart/mixed'], ['application/graphql-response+json', 'application/json']];

/**
 * The JSON media type yoga would answer a query or mutation with, given this Accept header; null when it
 * would not answer JSON (a 406, or only event streams and multipart accepted).
 */
export function jsonAnswerType(accept: string | undefined): JsonAnswerType | null {
  if (accept === undefined || accept === '') return 'application/json';
  let known = acceptCache.get(accept);
  if (known !== undefined) return known;
  const asked: string[] = [];
  for (const part of accept.replace(/\s/g, '').toLowerCase().split(',')) {
    const [type, ...params] = part.split(';');
    const charset = params.find((p) => p.includes('charset=')) ?? 'charset=utf-8';
    if (type !== undefined && charset === 'charset=utf-8') asked.push(type);
  }
  asked.reverse();
  let chosen: string | null = null;
  for (const processor of PROCESSORS) {
    for (const type of asked) for (const processorType of processor) if (matches(processorType, type)) chosen = processorType;
  }
  known = chosen === 'application/json' || chosen === 'application/graphql-response+json' ? chosen : null;
  if (acceptCache.size < 200) acceptCache.set(accept, known);
  return known;
}

function matches(processorType: string, askedType: string): boolean {
  const [processorPre, processorSuf] = processorType.split('/');
  const [pre, suf] = askedType.split('/');
  return (pre === '*' || pre === processorPre) && (suf === '*' || suf === processorSuf);
}
