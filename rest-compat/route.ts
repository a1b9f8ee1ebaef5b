import { AppError, sessionNotFound, type ErrorCode } from '../src/errors.js';

/** Where the REST layer answers. */
export const REST_BASE = '/api/v1';

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it) for the OpenAPI document. */
export type JsonSchema = Record<string, unknown>;

/** What a route's `variables` function sees of the HTTP request. */
export interface RestRequest {
  method: string;
  /** Path parameters, already URL-decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body: an object, or {} when the request had no body. */
  body: Record<string, unknown>;
}

/** What a route answers: JSON `{success:true, message?, data?}` or raw bytes (the QR PNG). */
export type RestReply =
  | { status?: number; message?: string; data?: unknown; headers?: Record<string, string> }
  /** `data` already serialized (a hot list written without building an object per item first). */
  | { status?: number; message?: string; dataJson: string; headers?: Record<string, string> }
  | { status?: number; binary: Buffer; contentType: string; headers?: Record<string, string> };

export interface QueryParam {
  name: string;
  description: string;
  schema: JsonSchema;
}

/**
 * One REST route: the GraphQL operation it runs and the two mappings around it. The runner executes
 * `document` through the same yoga pipeline as /graphql; a route never calls a service itself.
 */
export interface RestRoute {
  /** Unique; the OpenAPI operationId. */
  id: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Relative to /api/v1, with `{name}` parameters: `/sessions/{sessionId}/qr`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  /** A route that repeats another under a second path (older open-wa drafts); shown as such in the docs. */
  aliasOf?: string;
  /** The GraphQL document (one operation); parsed and validated against the schema once at start-up. */
  document: string;
  variables(req: RestRequest): Record<string, unknown>;
  /** `data` is the operation's result data (never null: errors are answered by the runner). */
  reply(data: any, req: RestRequest): RestReply;
  query?: QueryParam[];
  /** The JSON body's schema; a route without one takes no body. */
  body?: JsonSchema;
  /** The success answer: its status (default 200), schema of `data`, and whether a `message` is set. */
  response: { status?: number; data?: JsonSchema; message?: string; contentType?: string };
  /** A call that succeeds against the sandbox: the docs' Try-it values and sample answer (test/rest-examples runs each). */
  example: RouteExample;
}

/**
 * One working call of a route. Ids the server makes (a group's, a webhook's) are shown as it makes
 * them; a caller (and the examples test) puts in the one it got from the route that made it.
 */
export interface RouteExample {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: Record<string, unknown>;
  /** The answer's `data` as the sandbox gave it (long values shortened); none for a route that sends no data. */
  data?: unknown;
}

/** The names the examples use: a session called "demo" and the sandbox's Echo Bot, which answers every message. */
export const EXAMPLE_SESSION = 'demo';
export const ECHO_BOT = '15550000001@c.us';
/** The number the sandbox gives the first session: the `me` of "demo" on a fresh server. */
export const EXAMPLE_ME = '15551000001@c.us';
export const EXAMPLE_TIME = '2026-01-15T09:30:00.000Z';
export const EXAMPLE_UNIX = 1768469400;
export const EXAMPLE_QR = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAMYAAADGCAYAAACJm/9d...';

/** An error a mapping raises (a missing session in a query result, a bad query parameter). */
export function restError(code: ErrorCode, message: string, details: Record<string, unknown> = {}): AppError {
  return new AppError(code, message, details);
}

// --- helpers the route files share -------------------------------------------------------------------

/** `QR_READY` -> `qr_ready`, as the reference shows statuses. */
export const lower = (value: string | null | undefined) => (value == null ? value : value.toLowerCase());

const JSON_PLAIN = /^[\w\-.:+@ ]*$/;

/** `JSON.stringify(value)` for a string or null, without the call for the ids and timestamps that need no escaping. */
export const jsonString = (value: string | null | undefined): string =>
  value == null ? 'null' : JSON_PLAIN.test(value) ? `"${value}"` : JSON.stringify(value);

/** The body's field when it is present (so GraphQL sees "not provided" rather than null). */
export function pick(body: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (body[key] !== undefined) out[key] = body[key];
  return out;
}

/** A whole-number query parameter within [min, max], or `fallback` when absent. */
export function intParam(query: URLSearchParams, name: string, fallback: number | undefined, min: number, max: number): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw restError('VALIDATION_ERROR', `query parameter '${name}' must be a whole number from ${min} to ${max}`, { field: name, value: raw });
  }
  return value;
}

export const errorSchemaRef = { $ref: '#/components/schemas/ErrorEnvelope' };

/** The `{sessionId}` path parameter. */
export const sessionIdOf = (req: RestRequest) => req.params.sessionId!;

/** The session a query selected, or SESSION_NOT_FOUND (GraphQL's `session` answers null for an unknown id). */
export function foundSession<T>(session: T | null | undefined, req: RestRequest): T {
  if (!session) throw sessionNotFound(sessionIdOf(req));
  return session;
}
