import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { plainParams, type GraphQLRunner } from './graphql-runner.js';
import { readBody, readJson } from './read-body.js';

export interface GraphQLHttpOptions {
  runner: GraphQLRunner;
  /** yoga's node handler: GET, SSE, GraphiQL, errors in the request itself. */
  yoga: (req: IncomingMessage, res: ServerResponse) => unknown;
  maxBodyBytes: number;
  /** Longest document text (config limits.maxQueryLength), refused before anything parses it. */
  maxQueryLength: number;
  /** false: every request goes to yoga (config http.fastPath). */
  fastPath: boolean;
  logger: Logger;
  refuse: (req: IncomingMessage, res: ServerResponse, status: number, body: unknown) => void;
  /** Told of the requests yoga gets before the runner sees them (the runner reports its own). */
  observe?: (path: 'yoga') => void;
}

/** The GraphQL-over-HTTP error shape, for what the HTTP layer refuses before yoga sees a request. */
export function graphqlErrorBody(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
  return { errors: [{ message, extensions: { code, details } }] };
}

/**
 * /graphql over HTTP. A POST's body is read and parsed here, for every POST: JSON (or application/graphql, the
 * document as text) only, so the form, multipart and text/plain bodies a page on another site can send without
 * a preflight are refused with 415 before they are read. The parsed object is what yoga gets (on `req.body`):
 * given a Buffer, its node adapter would list the Buffer's keys, an object per byte. A plain JSON POST of a
 * document yoga has already validated runs through GraphQLRunner; everything else, and anything the runner
 * declines, is yoga's. GET (queries, SSE, GraphiQL) is yoga's once its JSON parameters are known to parse.
 */
export function createGraphQLHttpHandler(o: GraphQLHttpOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const refuse = (req: IncomingMessage, res: ServerResponse, status: number, code: ErrorCode, message: string, details: Record<string, unknown> = {}) =>
    o.refuse(req, res, status, graphqlErrorBody(code, message, details));
  const toYoga = async (req: IncomingMessage, res: ServerResponse) => {
    o.observe?.('yoga');
    await o.yoga(req, res);
  };
  return async (req, res) => {
    if (req.method === 'GET' || req.method === 'HEAD') {
      const bad = badSearchParam(req.url ?? '');
      if (bad) return refuse(req, res, 400, 'BAD_REQUEST', `the ${bad} parameter must be a JSON object`, { parameter: bad });
      return toYoga(req, res);
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'GET, HEAD, POST');
      return refuse(req, res, 405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on /graphql (allowed: GET, HEAD, POST)`, { method: req.method });
    }
    const bodyType = postBodyType(req.headers['content-type']);
    if (!bodyType) {
      res.setHeader('connection', 'close');
      return refuse(req, res, 415, 'UNSUPPORTED_MEDIA_TYPE', 'a GraphQL POST body must be application/json (or application/graphql), in UTF-8', {
        contentType: req.headers['content-type'] ?? null,
      });
    }
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > o.maxBodyBytes) return tooLarge(req, res);
    let body: unknown;
    if (bodyType === 'graphql') {
      const read = await readBody(req, o.maxBodyBytes);
      if (read.kind === 'aborted') return;
      if (read.kind === 'too-large') return tooLarge(req, res);
      body = { query: read.bytes.toString('utf8') };
    } else {
      const read = await readJson(req, o.maxBodyBytes);
      if (read.kind === 'aborted') return;
      if (read.kind === 'too-large') return tooLarge(req, res);
      if (read.kind === 'empty') return refuse(req, res, 400, 'BAD_REQUEST', 'the request body is empty');
      if (read.kind === 'invalid') return refuse(req, res, 400, 'BAD_REQUEST', 'the request body is not valid JSON');
      body = read.value;
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return refuse(req, res, 400, 'BAD_REQUEST', 'the request body must be a JSON object with a query (batches are not accepted)');
    }
    const query = (body as { query?: unknown }).query;
    if (typeof query === 'string' && query.length > o.maxQueryLength) {
      return refuse(req, res, 413, 'PAYLOAD_TOO_LARGE', `the GraphQL document is ${query.length} characters, over the limit of ${o.maxQueryLength} (put large values in variables)`, {
        field: 'query',
        limit: o.maxQueryLength,
      });
    }
    const handOver = () => {
      (req as IncomingMessage & { body?: unknown }).body = body;
      return toYoga(req, res);
    };
    const answerType = o.fastPath && bodyType === 'json' ? jsonAnswerType(req.headers.accept) : null;
    const params = answerType ? plainParams(body) : null;
    if (!answerType || !params) return handOver();
    const outcome = await o.runner.run(req, res, String(req.headers['x-request-id']), params, answerType);
    if (!outcome) return handOver();
    // Written as a string: node sends it in one write with the headers, with no Buffer of its own to allocate.
    res.writeHead(outcome.status, { ...outcome.headers, 'content-length': Buffer.byteLength(outcome.body) });
    res.end(outcome.body);
  };

  function tooLarge(req: IncomingMessage, res: ServerResponse) {
    // The rest of the body is not read: the connection goes once the answer is out.
    res.setHeader('connection', 'close');
    refuse(req, res, 413, 'PAYLOAD_TOO_LARGE', `the request body is larger than ${o.maxBodyBytes} bytes`, { limit: o.maxBodyBytes });
  }
}

/** GET's `variables` and `extensions` must be JSON objects; yoga would parse them unguarded (a 200 with INTERNAL_ERROR). */
function badSearchParam(url: string): 'variables' | 'extensions' | null {
  const q = url.indexOf('?');
  if (q === -1) return null;
  const search = new URLSearchParams(url.slice(q + 1));
  for (const name of ['variables', 'extensions'] as const) {
    const raw = search.get(name);
    if (raw === null || raw === '') continue;
    try {
      const value: unknown = JSON.parse(raw);
      if (value !== null && (typeof value !== 'object' || Array.isArray(value))) return name;
    } catch {
      return name;
    }
  }
  return null;
}

/** 'json' or 'graphql' for the POST bodies /graphql reads (UTF-8 only), null for anything else. */
function postBodyType(contentType: string | undefined): 'json' | 'graphql' | null {
  if (!contentType) return null;
  const [type, ...rest] = contentType.toLowerCase().split(';');
  if (!rest.every((p) => !p.includes('charset=') || p.trim() === 'charset=utf-8')) return null;
  const t = type!.trim();
  if (t === 'application/json' || t === 'application/graphql+json') return 'json';
  return t === 'application/graphql' ? 'graphql' : null;
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
