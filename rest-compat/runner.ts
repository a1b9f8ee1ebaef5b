import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse, print, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { lowerCaseNames, type GraphQLRunner } from '../src/http/graphql-runner.js';
import { readJson } from '../src/http/read-body.js';
import { AppError, errorHeaders as codeHeaders, httpStatusFor, storeFailureOf, type ErrorCode } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import { noteRoute, noteSession } from '../src/observability/http-log.js';
import { requestIdFrom } from '../src/plugins/use-request-id.js';
import { docsAsset, docsPageFile, renderDocsPage } from './docs-page.js';
import { buildOpenApi } from './openapi.js';
import { REST_BASE, type RestReply, type RestRequest, type RestRoute } from './route.js';
import type { Answer } from '../src/http/result-cache.js';

/** What the runner needs of yoga: its fetch handler, the same one /graphql is served by. */
export interface GraphQLFetch {
  fetch(request: Request, serverContext: Record<string, unknown>): Response | Promise<Response>;
}

export interface RestOptions {
  routes: readonly RestRoute[];
  yoga: GraphQLFetch;
  /** Runs a route's operation without the Fetch-API layer; when absent or when it declines, yoga.fetch does. */
  runner?: GraphQLRunner;
  schema: GraphQLSchema;
  maxBodyBytes: number;
  logger: Logger;
  version: string;
}

interface CompiledRoute {
  route: RestRoute;
  segments: (string | { param: string })[];
  query: string;
  document: DocumentNode;
  operationName: string | undefined;
}

// Request headers that describe the REST request itself, not the caller; everything else (auth, ip,
// request id ...) is passed on so the GraphQL plugins see the caller as /graphql would.
const DROPPED_REQUEST_HEADERS = new Set(['content-type', 'content-length', 'content-encoding', 'transfer-encoding', 'accept', 'accept-encoding', 'connection', 'keep-alive', 'expect', 'upgrade', 'host']);
const DROPPED_RESPONSE_HEADERS = new Set(['content-type', 'content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive']);

/**
 * Parses and validates every route's document against the schema once (a broken route stops start-up),
 * and returns the request handler for everything under /api/v1.
 */
export function createRestHandler(o: RestOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const compiled = o.routes.map((route) => compile(route, o.schema));
  const ids = new Set<string>();
  for (const { route } of compiled) {
    if (ids.has(route.id)) throw new Error(`REST route id '${route.id}' is used twice`);
    ids.add(route.id);
  }
  const openApi = JSON.stringify(buildOpenApi(o.routes, { version: o.version, basePath: REST_BASE }));
  const docsPage = docsPageFile(renderDocsPage({ openApiUrl: `${REST_BASE}/openapi.json`, title: 'wa-gateway REST API', assetBase: `${REST_BASE}/docs/assets` }));

  return async (req, res) => {
    const requestId = requestIdFrom({ get: (name) => headerOf(req, name) });
    const send = (status: number, body: string | Buffer, headers: Record<string, string | number> = {}) => {
      if (res.headersSent) return;
      res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers, 'x-request-id': requestId });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const sendJsonText = (status: number, json: string) => send(status, json, { 'content-type': JSON_TYPE });
    const sendAnswer = (answer: Answer) => send(answer.status, answer.body, answer.headers);
    const sendError = (error: AppError, headers: Record<string, string> = {}) => sendAnswer(errorAnswer(error, headers));

    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      let path = url.pathname.slice(REST_BASE.length);
      if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
      const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');

      if (method === 'GET' && path === '/openapi.json') return discard(req, () => sendJsonText(200, openApi));
      if (method === 'GET' && (path === '/docs' || path === '' || path === '/')) return discard(req, () => send(docsPage.status, docsPage.body, docsPage.headers));
      if (method === 'GET' && path.startsWith('/docs/assets/')) {
        const file = docsAsset(path.slice('/docs/assets/'.length));
        if (file) return discard(req, () => send(file.status, file.body, file.headers));
      }

      const matches = match(compiled, path);
      const hit = matches.find((m) => m.compiled.route.method === method);
      if (!hit) {
        const allowed: string[] = [...new Set(matches.map((m) => m.compiled.route.method))];
        if (allowed.length === 0) {
          return discard(req, () => sendError(new AppError('NOT_FOUND', `No route for ${req.method} ${url.pathname}`, { method: req.method, path: url.pathname })));
        }
        if (allowed.includes('GET')) allowed.push('HEAD');
        const allow = allowed.join(', ');
        if (method === 'OPTIONS') return discard(req, () => send(204, '', { allow }));
        return discard(req, () =>
          sendError(new AppError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname} (allowed: ${allow})`, { method: req.method, allowed }), { allow }),
        );
      }
      const { compiled: route, params } = hit;
      noteRoute(req, `${REST_BASE}${route.route.path}`);
      if (params.sessionId) noteSession(req, params.sessionId);

      const body = await readJsonBody(req, o.maxBodyBytes, route.route.body !== undefined);
      if (body instanceof AppError) {
        // The rest of an oversized or mistyped body is not read: answer now and close the connection.
        return sendError(body, body.code === 'PAYLOAD_TOO_LARGE' || body.code === 'UNSUPPORTED_MEDIA_TYPE' ? { connection: 'close' } : {});
      }
      const restRequest: RestRequest = { method, params, query: url.searchParams, body };
      const variables = route.route.variables(restRequest);

      const operation = { query: route.query, variables, operationName: route.operationName };
      // The URL is all a GET route's answer depends on besides the result (its body is never read).
      const variant = `rest ${method} ${req.url}`;
      let answer = o.runner
        ? await o.runner.answer(req, res, requestId, operation, variant, (result) => restAnswer(route.route, result as GraphQLResult, restRequest, errorHeaders(result as GraphQLResult)), route.document)
        : null;
      if (!answer) {
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers)) {
          if (value === undefined || DROPPED_REQUEST_HEADERS.has(name)) continue;
          headers.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        headers.set('content-type', 'application/json');
        headers.set('accept', 'application/json');
        headers.set('x-request-id', requestId);
        // Through yoga's own fetch handler rather than getEnveloped: HTTP-level hooks (onRequest, onParams,
        // where the auth plugin refuses a request) run only there.
        const response = await o.yoga.fetch(
          new Request(`http://${headerOf(req, 'host') ?? 'localhost'}/graphql`, { method: 'POST', headers, body: JSON.stringify(operation) }),
          { req },
        );
        const passOn: Record<string, string> = {};
        response.headers.forEach((value, key) => {
          // whatwg-node's Headers keeps the case a plugin used; node's writeHead would repeat such a header.
          const name = key.toLowerCase();
          if (!DROPPED_RESPONSE_HEADERS.has(name)) passOn[name] = value;
        });
        answer = restAnswer(route.route, await graphqlResult(response), restRequest, passOn);
      }
      return sendAnswer(answer);
    } catch (error) {
      if (error instanceof AppError) return sendError(error);
      const storage = storeFailureOf(error);
      if (storage) return sendError(storage);
      o.logger.error('REST route failed', { url: req.url, requestId, err: String((error as Error)?.stack ?? error) });
      return sendError(new AppError('INTERNAL_ERROR', 'Unexpected error.', {}));
    }
  };
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** A GraphQL result as the route answers it: the reference's envelope, or its error envelope for the first error. */
function restAnswer(route: RestRoute, result: GraphQLResult, req: RestRequest, passOn: Record<string, string>): Answer {
  const first = result.errors?.[0];
  if (first) {
    const code = (first.extensions?.code as ErrorCode | undefined) ?? 'INTERNAL_ERROR';
    return errorAnswer(new AppError(code, first.message, (first.extensions?.details as Record<string, unknown> | undefined) ?? {}), passOn);
  }
  if (!result.data) throw new Error('GraphQL answered without data or errors');
  const reply: RestReply = route.reply(result.data, req);
  const status = reply.status ?? 200;
  if ('binary' in reply) {
    return { status, headers: { ...passOn, ...reply.headers, 'content-type': reply.contentType, 'cache-control': 'no-store' }, body: reply.binary };
  }
  const headers = { 'content-type': JSON_TYPE, ...passOn, ...reply.headers };
  if ('dataJson' in reply) {
    const message = reply.message === undefined ? '' : `,"message":${JSON.stringify(reply.message)}`;
    return { status, headers, body: `{"success":true${message},"data":${reply.dataJson}}` };
  }
  const envelope: Record<string, unknown> = { success: true };
  if (reply.message !== undefined) envelope.message = reply.message;
  if (reply.data !== undefined) envelope.data = reply.data;
  return { status, headers, body: JSON.stringify(envelope) };
}

/** The reference's error envelope, with the error code's HTTP status. */
function errorAnswer(error: AppError, headers: Record<string, string>): Answer {
  const body = JSON.stringify({ success: false, error: { code: error.code, message: error.message, details: error.details } });
  return { status: httpStatusFor(error.code), headers: { 'content-type': JSON_TYPE, ...codeHeaders(error.code), ...headers }, body };
}

/** The headers an error asks for (WWW-Authenticate on a 401 ...), lower-case names. */
function errorHeaders(result: GraphQLResult): Record<string, string> {
  const out: Record<string, string> = {};
  for (const error of result.errors ?? []) {
    const http = error.extensions?.http as { headers?: Record<string, string> } | undefined;
    Object.assign(out, lowerCaseNames(http?.headers ?? {}));
  }
  return out;
}

function compile(route: RestRoute, schema: GraphQLSchema): CompiledRoute {
  const document = parse(route.document);
  const errors = validate(schema, document);
  if (errors.length > 0) throw new Error(`REST route ${route.id}: its GraphQL document is invalid: ${errors.map((e) => e.message).join('; ')}`);
  const operations = document.definitions.filter((d) => d.kind === 'OperationDefinition');
  if (operations.length !== 1) throw new Error(`REST route ${route.id}: the document must hold exactly one operation`);
  const operation = operations[0]!;
  return {
    route,
    segments: route.path.split('/').slice(1).map((s) => (s.startsWith('{') && s.endsWith('}') ? { param: s.slice(1, -1) } : s)),
    query: print(document),
    document,
    operationName: operation.kind === 'OperationDefinition' ? operation.name?.value : undefined,
  };
}

/** Every route whose path matches, literal segments preferred over parameters. */
function match(routes: CompiledRoute[], path: string): { compiled: CompiledRoute; params: Record<string, string> }[] {
  const parts = path.split('/').slice(1);
  const out: { compiled: CompiledRoute; params: Record<string, string>; literals: number }[] = [];
  for (const compiled of routes) {
    if (compiled.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let literals = 0;
    let ok = true;
    for (let i = 0; i < parts.length && ok; i++) {
      const segment = compiled.segments[i]!;
      const part = parts[i]!;
      if (typeof segment === 'string') {
        ok = segment === part;
        literals++;
      } else {
        ok = part.length > 0;
        if (ok) params[segment.param] = decodeSegment(part);
      }
    }
    if (ok) out.push({ compiled, params, literals });
  }
  return out.sort((a, b) => b.literals - a.literals);
}

function decodeSegment(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new AppError('VALIDATION_ERROR', `the path segment '${part}' is not valid URL encoding`, { segment: part });
  }
}

function headerOf(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

function isJsonType(contentType: string | null): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** Reads the body of a route that takes one (a JSON object), or discards it. Errors are returned, not thrown. */
async function readJsonBody(req: IncomingMessage, maxBytes: number, wanted: boolean): Promise<Record<string, unknown> | AppError> {
  if (!wanted) {
    await drain(req);
    return {};
  }
  const declared = Number(headerOf(req, 'content-length') ?? NaN);
  if (declared > maxBytes) {
    req.resume();
    return tooLarge(maxBytes);
  }
  const contentType = headerOf(req, 'content-type');
  const hasBody = declared > 0 || headerOf(req, 'transfer-encoding') !== null;
  // Refused before reading: a body of another type is never parsed.
  if (hasBody && !isJsonType(contentType)) {
    return new AppError('UNSUPPORTED_MEDIA_TYPE', `the request body must be JSON (Content-Type: application/json), not ${contentType ?? 'untyped'}`, {
      contentType,
    });
  }
  const read = await readJson(req, maxBytes);
  if (read.kind === 'too-large') return tooLarge(maxBytes);
  if (read.kind === 'aborted') return new AppError('BAD_REQUEST', 'the request body could not be read (the connection was aborted)', {});
  if (read.kind === 'empty') return {};
  if (read.kind === 'invalid') return new AppError('BAD_REQUEST', 'the request body is not valid JSON', {});
  const value = read.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return new AppError('VALIDATION_ERROR', 'the request body must be a JSON object', { received: Array.isArray(value) ? 'array' : typeof value });
  }
  return value as Record<string, unknown>;
}

const tooLarge = (maxBytes: number) =>
  new AppError('PAYLOAD_TOO_LARGE', `the request body is larger than ${maxBytes} bytes`, { maxBytes });

async function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded) return;
  // No body at all (a plain GET): nothing to wait for.
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    req.resume();
    return;
  }
  req.resume();
  await new Promise<void>((resolve) => {
    req.once('end', resolve);
    req.once('error', () => resolve());
    req.once('close', resolve);
  });
}

async function discard(req: IncomingMessage, then: () => void): Promise<void> {
  await drain(req);
  then();
}

type GraphQLResult = { data?: any; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] };

async function graphqlResult(response: Response): Promise<GraphQLResult> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`GraphQL answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
}
