import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import jsqr from 'jsqr';
import { PNG } from 'pngjs';
import { startServer, waitFor, type TestServer } from './helpers/app.js';
import { jsonString } from '../rest-compat/route.js';
import { assertError, ISO, rest, restReadySession } from './rest-helpers.js';

function decodePng(bytes: Buffer): string {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  const png = PNG.sync.read(bytes);
  const code = jsqr.default(new Uint8ClampedArray(png.data), png.width, png.height);
  assert.ok(code, 'the PNG holds a readable QR code');
  return code.data;
}

describe('REST sessions routes', () => {
  let server: TestServer;
  before(async () => {
    // The QR must not rotate between the three reads of the same-QR test, however slow the machine.
    server = await startServer({ maxSessions: 4, http: { maxBodyBytes: 4096 }, sandbox: { qrRotateMs: 60_000 } });
  });
  after(() => server.dispose());

  it('POST /sessions creates a session; with waitForQR the answer carries the QR (reference envelope)', async () => {
    const res = await rest(server, 'POST', '/sessions', { sessionId: 'r-create', waitForQR: true, config: { multiDevice: true, headless: true, qrTimeout: 120 } });
    assert.equal(res.status, 201);
    assert.equal(res.body.success, true);
    assert.equal(res.body.message, 'Session created successfully');
    assert.equal(res.body.data.sessionId, 'r-create');
    assert.equal(res.body.data.status, 'qr_ready');
    assert.match(res.body.data.createdAt, ISO);
    assert.match(res.body.data.qrCode, /^data:image\/png;base64,/);
    assert.match(res.body.data.expiresAt, ISO);
    decodePng(Buffer.from(res.body.data.qrCode.split(',')[1], 'base64'));

    const plain = await rest(server, 'POST', '/sessions', { sessionId: 'r-create-2' });
    assert.equal(plain.status, 201);
    assert.equal(plain.body.data.status, 'initializing');
    assert.equal(plain.body.data.qrCode, null);
    await rest(server, 'DELETE', '/sessions/r-create-2');
  });

  it('POST /sessions errors: duplicate, invalid id, missing id, unknown config key, bad engine value', async () => {
    assertError(await rest(server, 'POST', '/sessions', { sessionId: 'r-create' }), 'SESSION_ALREADY_EXISTS');
    const invalid = await rest(server, 'POST', '/sessions', { sessionId: 'has space' });
    assertError(invalid, 'VALIDATION_ERROR');
    assert.equal(invalid.body.error.details.field, 'sessionId');
    const missing = await rest(server, 'POST', '/sessions', { waitForQR: true });
    assertError(missing, 'VALIDATION_ERROR');
    assert.match(missing.body.error.message, /sessionId/);
    assertError(await rest(server, 'POST', '/sessions', { sessionId: 'r-x', config: { nope: 1 } }), 'VALIDATION_ERROR');
    assertError(await rest(server, 'POST', '/sessions', { sessionId: 'r-x', config: { engine: 'telegram' } }), 'VALIDATION_ERROR');
    assertError(await rest(server, 'POST', '/sessions', { sessionId: 'r-x', config: { qrTimeout: -1 } }), 'VALIDATION_ERROR');
    assertError(await rest(server, 'POST', '/sessions', [1, 2]), 'VALIDATION_ERROR');
    assertError(await rest(server, 'GET', '/sessions/r-x'), 'SESSION_NOT_FOUND');
  });

  it('POST /sessions: MAX_SESSIONS_REACHED is 429 and nothing is created', async () => {
    const before = (await rest(server, 'GET', '/sessions')).body.data.length;
    for (let i = before; i < 4; i++) assert.equal((await rest(server, 'POST', '/sessions', { sessionId: `r-fill-${i}` })).status, 201);
    const res = await rest(server, 'POST', '/sessions', { sessionId: 'r-one-too-many' });
    assertError(res, 'MAX_SESSIONS_REACHED', 429);
    assert.equal(res.body.error.details.maxSessions, 4);
    assert.equal((await rest(server, 'GET', '/sessions')).body.data.length, 4);
    for (let i = before; i < 4; i++) assert.equal((await rest(server, 'DELETE', `/sessions/r-fill-${i}`)).status, 200);
  });

  it('GET /sessions lists sessions with lower-case statuses and ISO dates', async () => {
    const res = await rest(server, 'GET', '/sessions');
    assert.equal(res.status, 200);
    assert.equal(res.body.success, true);
    const item = res.body.data.find((s: any) => s.sessionId === 'r-create');
    assert.deepEqual(Object.keys(item).sort(), ['createdAt', 'lastActivity', 'sessionId', 'status']);
    assert.equal(item.status, 'qr_ready');
    assert.match(item.createdAt, ISO);
    assert.match(item.lastActivity, ISO);
    // The list is written to JSON by hand: it must say exactly what the GraphQL query says, in its order.
    const { sessions } = await server.gqlOk('{ sessions { sessionId status createdAt lastActivity } }');
    assert.deepEqual(res.body.data, sessions.map((s: any) => ({ ...s, status: s.status.toLowerCase() })));
  });

  it('jsonString writes any string as JSON.stringify does', () => {
    for (const value of ['', 'r-create', '2026-11-25T03:00:00.000Z', 'a b+c@d.e:f', 'quote " back \\ slash', 'tab\tnew\nline', '\u0000\u001f', 'é ü 中文 😀', '\ud800 lone', '</script>', null]) {
      assert.equal(jsonString(value), JSON.stringify(value), String(value));
    }
  });

  it('GET /sessions/{id} and /status; unknown ids are SESSION_NOT_FOUND', async () => {
    const res = await rest(server, 'GET', '/sessions/r-create');
    assert.equal(res.status, 200);
    assert.equal(res.body.data.sessionId, 'r-create');
    assert.equal(res.body.data.status, 'qr_ready');
    assert.match(res.body.data.lastActivity, ISO);
    assert.deepEqual(res.body.data.config, { multiDevice: true, headless: true, qrTimeout: 120, authTimeout: 120 });
    assert.equal(res.body.data.engine, 'sandbox');

    const status = await rest(server, 'GET', '/sessions/r-create/status');
    assert.equal(status.status, 200);
    assert.equal(status.body.data.status, 'qr_ready');
    assert.match(status.body.data.lastActivity, ISO);

    const missing = await rest(server, 'GET', '/sessions/ghost');
    assertError(missing, 'SESSION_NOT_FOUND');
    assert.equal(missing.body.error.message, "Session with ID 'ghost' not found");
    assertError(await rest(server, 'GET', '/sessions/ghost/status'), 'SESSION_NOT_FOUND');
  });

  it('GET /sessions/{id}/qr, /qr/image and /qr.png serve the same current QR', async () => {
    const qr = await rest(server, 'GET', '/sessions/r-create/qr');
    assert.equal(qr.status, 200);
    assert.match(qr.body.data.qrCode, /^data:image\/png;base64,/);
    assert.match(qr.body.data.expiresAt, ISO);
    const text = decodePng(Buffer.from(qr.body.data.qrCode.split(',')[1], 'base64'));

    for (const path of ['/sessions/r-create/qr/image', '/sessions/r-create/qr.png']) {
      const image = await rest(server, 'GET', path);
      assert.equal(image.status, 200);
      assert.equal(image.headers.get('content-type'), 'image/png');
      assert.equal(decodePng(image.raw), text);
    }
    for (const path of ['/sessions/ghost/qr', '/sessions/ghost/qr/image', '/sessions/ghost/qr.png']) {
      assertError(await rest(server, 'GET', path), 'SESSION_NOT_FOUND');
    }
  });

  it('POST /sessions/{id}/sandbox/scan brings a session to ready; then there is no QR', async () => {
    const me = await restReadySession(server, 'r-ready');
    assert.match(me, /^\d+@c\.us$/);
    const session = await rest(server, 'GET', '/sessions/r-ready');
    assert.equal(session.body.data.status, 'ready');
    assertError(await rest(server, 'POST', '/sessions/r-ready/sandbox/scan'), 'INVALID_SESSION_STATE');
    const qr = await rest(server, 'GET', '/sessions/r-ready/qr');
    assertError(qr, 'INVALID_SESSION_STATE');
    assert.equal(qr.body.error.details.status, 'ready');
    assertError(await rest(server, 'GET', '/sessions/r-ready/qr/image'), 'INVALID_SESSION_STATE');
    assertError(await rest(server, 'POST', '/sessions/ghost/sandbox/scan'), 'SESSION_NOT_FOUND');
  });

  it('a failed session shows "failed" with its reason', async () => {
    await rest(server, 'POST', '/sessions', { sessionId: 'r-fail', waitForQR: true, config: { qrTimeout: 0.2 } });
    const status = await waitFor(async () => {
      const res = await rest(server, 'GET', '/sessions/r-fail/status');
      return res.body.data.status === 'failed' ? res.body.data : null;
    }, 5000, 'failed');
    assert.equal(status.failureReason, 'QR code not scanned in time');
    await rest(server, 'DELETE', '/sessions/r-fail');
  });

  it('DELETE /sessions/{id} removes it ("Session removed successfully"); again is SESSION_NOT_FOUND', async () => {
    await rest(server, 'POST', '/sessions', { sessionId: 'r-del' });
    const res = await rest(server, 'DELETE', '/sessions/r-del');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { success: true, message: 'Session removed successfully' });
    assertError(await rest(server, 'GET', '/sessions/r-del'), 'SESSION_NOT_FOUND');
    assertError(await rest(server, 'DELETE', '/sessions/r-del'), 'SESSION_NOT_FOUND');
  });
});

describe('REST request handling', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ http: { maxBodyBytes: 2048 } });
  });
  after(() => server.dispose());

  it('malformed JSON is BAD_REQUEST, a wrong content type is 415, both in the envelope', async () => {
    assertError(await rest(server, 'POST', '/sessions', '{"sessionId": '), 'BAD_REQUEST');
    const wrongType = await rest(server, 'POST', '/sessions', 'sessionId=x', { 'content-type': 'application/x-www-form-urlencoded' });
    assertError(wrongType, 'UNSUPPORTED_MEDIA_TYPE', 415);
    assertError(await rest(server, 'POST', '/sessions', '{"sessionId":"x"}', { 'content-type': 'text/plain' }), 'UNSUPPORTED_MEDIA_TYPE', 415);
    const vendorJson = await rest(server, 'POST', '/sessions', '{"sessionId":"h-vendor"}', { 'content-type': 'application/vnd.api+json; charset=utf-8' });
    assert.equal(vendorJson.status, 201);
  });

  it('a body over http.maxBodyBytes is 413 PAYLOAD_TOO_LARGE', async () => {
    const big = JSON.stringify({ sessionId: 'big', pad: 'x'.repeat(3000) });
    assertError(await rest(server, 'POST', '/sessions', big), 'PAYLOAD_TOO_LARGE', 413);
    // The same without a Content-Length (chunked), so the limit is counted while reading.
    const res = await fetch(`${server.url}/api/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(big));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as any).error.code, 'PAYLOAD_TOO_LARGE');
    assert.ok(res.headers.get('x-request-id'));
  });

  it('an unknown route is 404 NOT_FOUND; a known path with another method is 405 with Allow', async () => {
    assertError(await rest(server, 'GET', '/nothing/here'), 'NOT_FOUND', 404);
    assertError(await rest(server, 'GET', '/sessions/a/b/c/d/e'), 'NOT_FOUND', 404);
    const wrong = await rest(server, 'PUT', '/sessions', { sessionId: 'x' });
    assertError(wrong, 'METHOD_NOT_ALLOWED', 405);
    assert.match(wrong.headers.get('allow')!, /GET/);
    assert.match(wrong.headers.get('allow')!, /POST/);
    const options = await rest(server, 'OPTIONS', '/sessions/x');
    assert.equal(options.status, 204);
    assert.match(options.headers.get('allow')!, /DELETE/);
  });

  it('x-request-id: the caller\'s is echoed, otherwise a new one is made; errors carry it too', async () => {
    const mine = await rest(server, 'GET', '/sessions', undefined, { 'x-request-id': 'req-42.abc' });
    assert.equal(mine.headers.get('x-request-id'), 'req-42.abc');
    const error = await rest(server, 'GET', '/sessions/ghost', undefined, { 'x-request-id': 'req-43' });
    assert.equal(error.headers.get('x-request-id'), 'req-43');
    const fresh = await rest(server, 'GET', '/sessions');
    assert.match(fresh.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
    const notFound = await rest(server, 'GET', '/nope', undefined, { 'x-request-id': 'req-44' });
    assert.equal(notFound.headers.get('x-request-id'), 'req-44');
  });

  it('trailing slashes and URL-encoded path parameters work; HEAD answers without a body', async () => {
    await rest(server, 'POST', '/sessions/', { sessionId: 'h_slash' });
    assert.equal((await rest(server, 'GET', '/sessions/h%5Fslash/')).body.data.sessionId, 'h_slash');
    const head = await fetch(`${server.url}/api/v1/sessions/h_slash`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal((await head.arrayBuffer()).byteLength, 0);
    assertError(await rest(server, 'GET', '/sessions/%E0%A4%A'), 'VALIDATION_ERROR');
  });
});
