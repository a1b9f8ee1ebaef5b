import assert from 'node:assert/strict';
import { errorStatus } from '../src/errors.js';
import { waitFor, type TestServer } from './helpers/app.js';

export interface RestResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  raw: Buffer;
}

/** A REST call under /api/v1; a non-string body is sent as JSON. */
export async function rest<T = any>(
  server: TestServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<RestResult<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' || Buffer.isBuffer(body) ? (body as string) : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${server.url}/api/v1${path}`, init);
  const raw = Buffer.from(await res.arrayBuffer());
  let parsed: unknown = raw;
  if ((res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(raw.toString('utf8'));
  assert.ok(res.headers.get('x-request-id'), `${method} ${path} carries x-request-id`);
  return { status: res.status, headers: res.headers, body: parsed as T, raw };
}

/** Asserts the reference's error envelope, the code, and the HTTP status of the one code map. */
export function assertError(result: RestResult, code: keyof typeof errorStatus, status = errorStatus[code]): void {
  assert.equal(result.status, status, `HTTP status for ${code}: ${JSON.stringify(result.body)}`);
  assert.equal(result.body.success, false);
  assert.equal(result.body.error.code, code, JSON.stringify(result.body));
  assert.equal(typeof result.body.error.message, 'string');
  assert.ok(result.body.error.message.length > 0);
  assert.equal(typeof result.body.error.details, 'object');
  assert.deepEqual(Object.keys(result.body).sort(), ['error', 'success']);
}

export const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** Create over REST, scan over REST, wait for "ready"; returns the session's own chat id. */
export async function restReadySession(server: TestServer, sessionId: string): Promise<string> {
  const created = await rest(server, 'POST', '/sessions', { sessionId, waitForQR: true });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const scanned = await rest(server, 'POST', `/sessions/${sessionId}/sandbox/scan`);
  assert.equal(scanned.status, 200, JSON.stringify(scanned.body));
  await waitFor(async () => (await rest(server, 'GET', `/sessions/${sessionId}/status`)).body.data.status === 'ready', 5000, `${sessionId} ready`);
  return (await rest(server, 'GET', `/sessions/${sessionId}`)).body.data.me as string;
}
