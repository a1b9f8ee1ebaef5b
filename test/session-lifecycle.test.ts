import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import type { DeepPartial, Config } from '../src/config.js';
import { collect, CREATE, SCAN, startServer, waitFor, type TestServer } from './helpers/app.js';
import { ADMIN_KEY, createKey, gqlAs, withKey } from './helpers/auth.js';
import { REGISTER, startReceiver, type Receiver } from './helpers/webhooks.js';

// Stop, start, restart and logout through a real server (GraphQL, REST, graphql-ws, a webhook receiver), on
// the backend WA_TEST_STORE selects.

const BOT = '15550000001@c.us';
const SESSION = `query($id: String!) { session(sessionId: $id) { sessionId status failureReason qr { dataUrl } me { id } config { qrTimeout } webhooks { id } } }`;
const call = (field: string) => `mutation($id: String!) { ${field}(sessionId: $id) { sessionId status qr { dataUrl } me { id } } }`;

const settings: DeepPartial<Config> = {
  auth: { apiKeys: [ADMIN_KEY] },
  webhooks: { allowCidrs: '127.0.0.1/32', pollIntervalMs: 20, retryScheduleMs: [100] },
};

describe('session lifecycle: stop, start, restart, logout', () => {
  let server: TestServer;
  let receiver: Receiver;
  let me: string;

  const gql = async (query: string, variables: Record<string, unknown> = {}, key = ADMIN_KEY) => gqlAs(server, query, variables, withKey(key));
  const ok = async (query: string, variables: Record<string, unknown> = {}) => {
    const result = await gql(query, variables);
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    return result.data;
  };
  const session = async (id: string) => (await ok(SESSION, { id })).session;
  const rest = async (method: string, path: string, key = ADMIN_KEY) => {
    const res = await fetch(`${server.url}/api/v1${path}`, { method, headers: withKey(key) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const ready = async (id: string) => {
    await ok(CREATE, { input: { sessionId: id, waitForQR: true } });
    await ok(SCAN, { id });
    return waitFor(async () => ((await session(id)).status === 'READY' ? session(id) : null), 5000, `${id} READY`);
  };
  const historyOf = async (id: string) => Number((await server.sql<{ n: number }>('select count(*) as n from sandbox_messages where session_id = ?', [id]))[0]!.n);

  before(async () => {
    receiver = await startReceiver();
    server = await startServer(settings);
    me = (await ready('alpha')).me.id;
    await ok(REGISTER, { input: { sessionId: 'alpha', url: receiver.url } });
    await ok('mutation { sendText(input: { sessionId: "alpha", chatId: "15550000001@c.us", content: "hello" }) { message { id } } }');
    await waitFor(async () => (await historyOf('alpha')) >= 2, 5000, 'the echo bot answers');
  });
  after(async () => {
    await server?.dispose();
    await receiver?.close();
  });

  it('stop: TERMINATED and still listed with its config, webhooks and history; subscribers and webhooks see it', async () => {
    const statuses = collect(server.wsClient({ apiKey: ADMIN_KEY }), 'subscription($id: String!) { sessionStatus(sessionId: $id) { status } }', { id: 'alpha' });
    await statuses.next(1);
    const legacy: any[] = [];
    const socket = new WebSocket(`${server.wsUrl}/ws/alpha`, { headers: withKey(ADMIN_KEY) });
    socket.on('message', (data) => legacy.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const history = await historyOf('alpha');

    const stopped = (await ok(call('stopSession'), { id: 'alpha' })).stopSession;
    assert.equal(stopped.status, 'TERMINATED');
    assert.equal(stopped.qr, null);

    const listed = (await ok('{ sessions { sessionId status } }')).sessions;
    assert.deepEqual(listed, [{ sessionId: 'alpha', status: 'TERMINATED' }]);
    const kept = await session('alpha');
    assert.equal(kept.config.qrTimeout, 60);
    assert.equal(kept.webhooks.length, 1, 'the webhook stays');
    assert.equal(await historyOf('alpha'), history, 'the history stays');

    await statuses.next(2);
    assert.deepEqual(statuses.values.map((v) => v.sessionStatus.status), ['READY', 'TERMINATED']);
    assert.equal(statuses.completed, false, 'a stopped session keeps its subscribers');
    await waitFor(() => receiver.received.some((r) => /status/i.test(r.json?.event) && r.json?.data?.status === 'terminated'), 5000, 'the webhook gets the terminated status');
    await waitFor(() => receiver.received.some((r) => /disconnected/i.test(r.json?.event) && r.json?.data?.reason === 'Session has been stopped'), 5000, 'and the disconnected event');
    statuses.unsubscribe();
    await waitFor(() => legacy.some((e) => e.event === 'disconnected'), 5000, 'the /ws socket hears of the stop');
    assert.deepEqual(legacy.find((e) => e.event === 'disconnected').data, { reason: 'Session has been stopped' });
    assert.equal(socket.readyState, WebSocket.OPEN, 'the socket of a stopped session stays open');
    socket.close();

    const send = await gql('mutation { sendText(input: { sessionId: "alpha", chatId: "15550000001@c.us", content: "x" }) { message { id } } }');
    assert.equal(send.errors?.[0]?.extensions?.code, 'SESSION_NOT_READY');
    const again = await gql(call('stopSession'), { id: 'alpha' });
    assert.equal(again.errors?.[0]?.extensions?.code, 'INVALID_SESSION_STATE');
    assert.equal(again.errors?.[0]?.extensions?.details?.status, 'TERMINATED');
  });

  it('a stopped session stays stopped across a server restart', async () => {
    await server.stop();
    server = await startServer(settings, server.dataDir);
    // Another session brought to READY shows the restarted server has started what it starts.
    await ready('beta');
    const alpha = await session('alpha');
    assert.equal(alpha.status, 'TERMINATED');
    assert.equal(alpha.webhooks.length, 1);
  });

  it('start: READY again with the same number and no QR (the login is kept), and its history is there', async () => {
    const statuses = collect(server.wsClient({ apiKey: ADMIN_KEY }), 'subscription($id: String!) { sessionStatus(sessionId: $id) { status } }', { id: 'alpha' });
    await statuses.next(1);
    const started = (await ok(call('startSession'), { id: 'alpha' })).startSession;
    assert.equal(started.status, 'READY');
    assert.equal(started.qr, null);
    assert.equal(started.me.id, me);
    await statuses.next(4);
    assert.deepEqual(statuses.values.map((v) => v.sessionStatus.status), ['TERMINATED', 'INITIALIZING', 'AUTHENTICATED', 'READY']);
    statuses.unsubscribe();

    const res = await fetch(`${server.url}/api/v1/sessions/alpha/chats/${encodeURIComponent(BOT)}/messages`, { headers: withKey(ADMIN_KEY) });
    const messages = ((await res.json()) as any).data as { body: string }[];
    assert.ok(messages.some((m) => m.body === 'hello'), 'the history from before the stop');

    const twice = await gql(call('startSession'), { id: 'alpha' });
    assert.equal(twice.errors?.[0]?.extensions?.code, 'INVALID_SESSION_STATE');
  });

  it('logout: TERMINATED, and the next start shows a QR; a scan brings back the same number', async () => {
    const out = (await ok(call('logoutSession'), { id: 'alpha' })).logoutSession;
    assert.equal(out.status, 'TERMINATED');
    assert.equal(out.me, null);
    const kept = await session('alpha');
    assert.equal(kept.webhooks.length, 1, 'logout keeps the webhooks');

    const started = (await ok(call('startSession'), { id: 'alpha' })).startSession;
    assert.equal(started.status, 'QR_READY');
    assert.match(started.qr.dataUrl, /^data:image\/png;base64,/);
    await ok(SCAN, { id: 'alpha' });
    const back = await waitFor(async () => ((await session('alpha')).status === 'READY' ? session('alpha') : null), 5000, 'alpha READY');
    assert.equal(back.me.id, me);
  });

  it('logout of a stopped session forgets its login too', async () => {
    await ok(call('stopSession'), { id: 'alpha' });
    assert.equal((await ok(call('logoutSession'), { id: 'alpha' })).logoutSession.status, 'TERMINATED');
    const started = (await ok(call('startSession'), { id: 'alpha' })).startSession;
    assert.equal(started.status, 'QR_READY');
    await ok(SCAN, { id: 'alpha' });
    await waitFor(async () => (await session('alpha')).status === 'READY', 5000, 'alpha READY');
  });

  it('restart: a READY session comes back READY; a FAILED one starts again', async () => {
    const restarted = (await ok(call('restartSession'), { id: 'alpha' })).restartSession;
    assert.equal(restarted.status, 'READY');
    assert.equal(restarted.me.id, me);

    await ok(CREATE, { input: { sessionId: 'gamma', waitForQR: true, config: { qrTimeout: 0.3 } } });
    await waitFor(async () => (await session('gamma')).status === 'FAILED', 5000, 'gamma FAILED');
    const again = (await ok(call('restartSession'), { id: 'gamma' })).restartSession;
    assert.equal(again.status, 'QR_READY');
    await waitFor(async () => (await session('gamma')).status === 'FAILED', 5000, 'gamma FAILED again');
    const started = (await ok(call('startSession'), { id: 'gamma' })).startSession;
    assert.equal(started.status, 'QR_READY', 'start takes a FAILED session');
    await ok(SCAN, { id: 'gamma' });
    await waitFor(async () => (await session('gamma')).status === 'READY', 5000, 'gamma READY');
  });

  it('unknown sessions answer SESSION_NOT_FOUND, on GraphQL and REST', async () => {
    for (const field of ['startSession', 'stopSession', 'restartSession', 'logoutSession']) {
      const result = await gql(call(field), { id: 'nobody' });
      assert.equal(result.errors?.[0]?.extensions?.code, 'SESSION_NOT_FOUND', field);
    }
    for (const action of ['start', 'stop', 'restart', 'logout']) {
      const { status, body } = await rest('POST', `/sessions/nobody/${action}`);
      assert.equal(status, 404, action);
      assert.equal(body.error.code, 'SESSION_NOT_FOUND');
    }
  });

  it('REST: stop, start, restart and logout with their answers; a wrong state is 409 INVALID_SESSION_STATE', async () => {
    let r = await rest('POST', '/sessions/alpha/stop');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.data, { sessionId: 'alpha', status: 'terminated' });
    assert.equal(r.body.message, 'Session has been stopped');
    r = await rest('POST', '/sessions/alpha/stop');
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'INVALID_SESSION_STATE');
    r = await rest('POST', '/sessions/alpha/start');
    assert.deepEqual([r.status, r.body.data], [200, { sessionId: 'alpha', status: 'ready' }]);
    r = await rest('POST', '/sessions/alpha/start');
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'INVALID_SESSION_STATE');
    r = await rest('POST', '/sessions/alpha/restart');
    assert.deepEqual([r.status, r.body.data], [200, { sessionId: 'alpha', status: 'ready' }]);
    r = await rest('POST', '/sessions/alpha/logout');
    assert.deepEqual([r.status, r.body.data], [200, { sessionId: 'alpha', status: 'terminated' }]);
    r = await rest('POST', '/sessions/alpha/start');
    assert.deepEqual([r.status, r.body.data], [200, { sessionId: 'alpha', status: 'qr_ready' }]);
    r = await rest('GET', '/sessions/alpha/qr');
    assert.equal(r.status, 200);
  });

  it("a key scoped to another session may not stop, start, restart or log out this one; on its own it may", async () => {
    const betaKey = (await createKey(server, { sessionIds: ['beta'], actions: ['READ', 'SEND', 'MANAGE'] })).key;
    const before = (await session('alpha')).status;
    for (const field of ['startSession', 'stopSession', 'restartSession', 'logoutSession']) {
      const result = await gql(call(field), { id: 'alpha' }, betaKey);
      assert.equal(result.errors?.[0]?.extensions?.code, 'SESSION_NOT_FOUND', field);
    }
    for (const action of ['start', 'stop', 'restart', 'logout']) {
      const { status, body } = await rest('POST', `/sessions/alpha/${action}`, betaKey);
      assert.equal(status, 404, action);
      assert.equal(body.error.code, 'SESSION_NOT_FOUND');
    }
    assert.equal((await session('alpha')).status, before, 'nothing changed');
    const readKey = (await createKey(server, { sessionIds: ['alpha'], actions: ['READ'] })).key;
    const readOnly = await gql(call('stopSession'), { id: 'alpha' }, readKey);
    assert.equal(readOnly.errors?.[0]?.extensions?.code, 'SESSION_NOT_FOUND', 'a read-only key may not manage');

    const own = await rest('POST', '/sessions/beta/stop', betaKey);
    assert.deepEqual([own.status, own.body.data], [200, { sessionId: 'beta', status: 'terminated' }]);
  });

  it('removeSession still removes a stopped session with its webhooks', async () => {
    await ok('mutation { removeSession(sessionId: "beta") { removed } }');
    assert.equal((await ok(SESSION, { id: 'beta' })).session, null);
    const list = (await ok('{ sessions { sessionId } }')).sessions.map((s: { sessionId: string }) => s.sessionId);
    assert.ok(!list.includes('beta'));
  });
});
