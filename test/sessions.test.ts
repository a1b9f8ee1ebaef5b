import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import jsqr from 'jsqr';
import { PNG } from 'pngjs';
import { collect, CREATE, readySession, SCAN, startServer, STATUS, tempDir, waitFor, type TestServer } from './helpers/app.js';

function decodeQr(dataUrl: string): string {
  assert.match(dataUrl, /^data:image\/png;base64,/);
  const bytes = Buffer.from(dataUrl.split(',')[1]!, 'base64');
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  const png = PNG.sync.read(bytes);
  const code = jsqr.default(new Uint8ClampedArray(png.data), png.width, png.height);
  assert.ok(code, 'the PNG holds a readable QR code');
  return code.data;
}

describe('session lifecycle', () => {
  let server: TestServer;
  before(async () => {
    // The start delay leaves the status subscription ample time to be live before the first QR, even on a loaded machine.
    server = await startServer({ sandbox: { startDelayMs: 1000, qrRotateMs: 150, authDelayMs: 80 } });
  });
  after(() => server.dispose());

  it('creates a session with a real QR PNG, rotates it, and goes READY after a scan (graphql-ws)', async () => {
    const created = await server.gqlOk(CREATE, { input: { sessionId: 'life-1' } });
    assert.equal(created.createSession.session.status, 'INITIALIZING');

    const ws = server.wsClient();
    const statuses = collect(ws, 'subscription($id: String!) { sessionStatus(sessionId: $id) { sessionId status reason at } }', { id: 'life-1' });
    await statuses.next(1);
    assert.equal(statuses.values[0].sessionStatus.status, 'INITIALIZING', 'the subscription was live before the first QR');
    const qrs = collect(ws, 'subscription($id: String!) { qr(sessionId: $id) { dataUrl expiresAt } }', { id: 'life-1' });

    await qrs.next(3, 5000);
    const texts = qrs.values.slice(0, 3).map((v) => decodeQr(v.qr.dataUrl));
    assert.equal(new Set(texts).size, 3, 'each rotation is a new code');
    for (const v of qrs.values) assert.ok(Date.parse(v.qr.expiresAt) > Date.now() - 5000);

    const current = await server.gqlOk(STATUS.replace('failureReason', 'failureReason qr { dataUrl }'), { id: 'life-1' });
    assert.equal(current.session.status, 'QR_READY');
    decodeQr(current.session.qr.dataUrl);

    await server.gqlOk(SCAN, { id: 'life-1' });
    await waitFor(() => statuses.values.some((v) => v.sessionStatus.status === 'READY'), 5000, 'READY');
    const seen = statuses.values.map((v) => v.sessionStatus.status);
    assert.deepEqual(seen, ['INITIALIZING', 'QR_READY', 'AUTHENTICATED', 'READY']);
    const session = await server.gqlOk(STATUS, { id: 'life-1' });
    assert.match(session.session.me.id, /^\d+@c\.us$/);
  });

  it('waitForQR returns the first QR in the payload', async () => {
    const created = await server.gqlOk(CREATE, { input: { sessionId: 'life-2', waitForQR: true } });
    assert.equal(created.createSession.session.status, 'QR_READY');
    decodeQr(created.createSession.session.qr.dataUrl);
  });

  it('fails an unscanned session after qrTimeout, and the server stays healthy', async () => {
    await server.gqlOk(CREATE, { input: { sessionId: 'life-3', waitForQR: true, config: { qrTimeout: 0.4 } } });
    const failed = await waitFor(async () => {
      const data = await server.gqlOk(STATUS, { id: 'life-3' });
      return data.session.status === 'FAILED' ? data.session : null;
    }, 5000, 'FAILED');
    assert.equal(failed.failureReason, 'QR code not scanned in time');
    const health = await server.gqlOk('{ health { status checks { database } } }');
    assert.equal(health.health.status, 'healthy');
    const scan = await server.gql(SCAN, { id: 'life-3' });
    assert.equal(scan.errors?.[0]?.extensions?.code, 'INVALID_SESSION_STATE');
  });

  it('removing a session publishes TERMINATED and ends the status subscription', async () => {
    await readySession(server, 'life-4');
    const ws = server.wsClient();
    const statuses = collect(ws, 'subscription($id: String!) { sessionStatus(sessionId: $id) { status } }', { id: 'life-4' });
    await statuses.next(1);
    const removed = await server.gqlOk('mutation($id: String!) { removeSession(sessionId: $id) { sessionId removed } }', { id: 'life-4' });
    assert.deepEqual(removed.removeSession, { sessionId: 'life-4', removed: true });
    await waitFor(() => statuses.completed, 3000, 'completion');
    assert.deepEqual(statuses.values.map((v) => v.sessionStatus.status), ['READY', 'TERMINATED']);
    assert.equal((await server.gqlOk(STATUS, { id: 'life-4' })).session, null);
    const again = await server.gql('mutation($id: String!) { removeSession(sessionId: $id) { removed } }', { id: 'life-4' });
    assert.equal(again.errors?.[0]?.extensions?.code, 'SESSION_NOT_FOUND');
  });

  it('subscriptions to an unknown session fail with SESSION_NOT_FOUND', async () => {
    const ws = server.wsClient();
    const sub = collect(ws, 'subscription { sessionStatus(sessionId: "nobody") { status } }');
    await assert.rejects(sub.next(1), /SESSION_NOT_FOUND/);
  });
});

describe('limits and validation', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ maxSessions: 2 });
  });
  after(() => server.dispose());

  const ids = async () => (await server.gqlOk('{ sessions { sessionId } }')).sessions.map((s: { sessionId: string }) => s.sessionId);

  it('rejects an invalid id, a duplicate and one over the limit, changing nothing', async () => {
    await server.gqlOk(CREATE, { input: { sessionId: 'one' } });
    for (const bad of ['', 'has space', 'x'.repeat(65), 'semi;colon', 'ünï']) {
      const result = await server.gql(CREATE, { input: { sessionId: bad } });
      assert.equal(result.errors?.[0]?.extensions?.code, 'VALIDATION_ERROR', bad);
    }
    const badConfig = await server.gql(CREATE, { input: { sessionId: 'cfg', config: { qrTimeout: -1 } } });
    assert.equal(badConfig.errors?.[0]?.extensions?.code, 'VALIDATION_ERROR');
    const dup = await server.gql(CREATE, { input: { sessionId: 'one' } });
    assert.equal(dup.errors?.[0]?.extensions?.code, 'SESSION_ALREADY_EXISTS');
    await server.gqlOk(CREATE, { input: { sessionId: 'two' } });
    const over = await server.gql(CREATE, { input: { sessionId: 'three' } });
    assert.equal(over.errors?.[0]?.extensions?.code, 'MAX_SESSIONS_REACHED');
    assert.deepEqual(await ids(), ['one', 'two']);
  });

  it('a GraphQL document error carries VALIDATION_ERROR', async () => {
    const result = await server.gql('{ sessions { nope } }');
    assert.equal(result.errors?.[0]?.extensions?.code, 'VALIDATION_ERROR');
  });
});

describe('restart', () => {
  it('restores a READY session without a QR, and a removed one does not come back', async () => {
    const dataDir = tempDir();
    const first = await startServer({}, dataDir);
    const me = await readySession(first, 'keep');
    await readySession(first, 'gone');
    await first.gqlOk(CREATE, { input: { sessionId: 'pending' } });
    await first.gqlOk('mutation { removeSession(sessionId: "gone") { removed } }');
    await first.stop();

    const second = await startServer({}, dataDir);
    try {
      const ws = second.wsClient();
      const statuses = collect(ws, 'subscription { sessionStatus(sessionId: "keep") { status } }');
      const ready = await waitFor(async () => {
        const data = await second.gqlOk(STATUS, { id: 'keep' });
        return data.session?.status === 'READY' ? data.session : null;
      }, 5000, 'restored READY');
      assert.equal(ready.me.id, me, 'same number after restart');
      await waitFor(() => statuses.values.some((v) => v.sessionStatus.status === 'READY'), 2000);
      assert.ok(!statuses.values.some((v) => v.sessionStatus.status === 'QR_READY'), 'no QR on restore');
      const all = (await second.gqlOk('{ sessions { sessionId } }')).sessions.map((s: { sessionId: string }) => s.sessionId);
      assert.deepEqual(all.sort(), ['keep', 'pending']);
      await waitFor(async () => (await second.gqlOk(STATUS, { id: 'pending' })).session.status === 'QR_READY', 5000, 'pending asks for a QR again');
    } finally {
      await second.dispose();
    }
  });
});
