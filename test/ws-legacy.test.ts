import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { startServer, waitFor, type TestServer } from './helpers/app.js';
import { ISO, rest } from './rest-helpers.js';

interface Legacy {
  events: any[];
  closed: Promise<{ code: number; reason: string }>;
  opened: Promise<void>;
  ws: WebSocket;
}

function legacyClient(server: TestServer, sessionId: string): Legacy {
  const ws = new WebSocket(`${server.wsUrl}/ws/${encodeURIComponent(sessionId)}`);
  const events: any[] = [];
  ws.on('message', (data) => events.push(JSON.parse(String(data))));
  return {
    ws,
    events,
    opened: new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }),
    closed: new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) }))),
  };
}

const until = (client: Legacy, event: string, n = 1) =>
  waitFor(() => client.events.filter((e) => e.event === event).length >= n, 5000, `${n} ${event} event(s): ${JSON.stringify(client.events.map((e) => e.event))}`);

describe('legacy /ws/{sessionId} socket', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ sandbox: { qrRotateMs: 150 } });
  });
  after(() => server.dispose());

  it('sends qr (the current one at once, then rotations), authenticated and ready as {event, sessionId, data}', async () => {
    await rest(server, 'POST', '/sessions', { sessionId: 'ws-1', waitForQR: true });
    const client = legacyClient(server, 'ws-1');
    await client.opened;
    await until(client, 'qr', 2);
    const qr = client.events.find((e) => e.event === 'qr');
    assert.deepEqual(Object.keys(qr).sort(), ['data', 'event', 'sessionId']);
    assert.equal(qr.sessionId, 'ws-1');
    assert.match(qr.data.qrCode, /^data:image\/png;base64,/);
    assert.match(qr.data.expiresAt, ISO);

    await rest(server, 'POST', '/sessions/ws-1/sandbox/scan');
    await until(client, 'ready');
    const kinds = client.events.map((e) => e.event).filter((e) => e !== 'qr');
    assert.deepEqual(kinds, ['authenticated', 'ready']);
    const ready = client.events.find((e) => e.event === 'ready');
    assert.equal(ready.sessionId, 'ws-1');
    assert.match(ready.data.me, /^\d+@c\.us$/);
    client.ws.close();
  });

  it('sends message (received ones, reference fields) and ack events', async () => {
    const client = legacyClient(server, 'ws-1');
    await client.opened;
    const sent = await rest(server, 'POST', '/sessions/ws-1/send-text', { chatId: '15550000001@c.us', content: 'ping over ws' });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    await until(client, 'message');
    const message = client.events.find((e) => e.event === 'message');
    assert.equal(message.sessionId, 'ws-1');
    assert.match(message.data.id, /^false_/);
    assert.equal(message.data.body, 'ping over ws');
    assert.equal(message.data.from, '15550000001@c.us');
    assert.ok(Number.isInteger(message.data.timestamp) && message.data.timestamp < 1e11, 'unix seconds');
    await waitFor(() => client.events.some((e) => e.event === 'ack' && e.data.status === 'read'), 5000, 'read ack');
    const acks = client.events.filter((e) => e.event === 'ack');
    for (const ack of acks) {
      assert.equal(ack.data.id, sent.body.data.messageId);
      assert.equal(ack.data.chatId, '15550000001@c.us');
    }
    assert.deepEqual(acks.map((a) => [a.data.status, a.data.ack]).slice(-2), [['device', 2], ['read', 3]]);
    assert.ok(!client.events.some((e) => e.event === 'message' && e.data.fromMe), 'own sends are not "message" events');
    client.ws.close();
  });

  it('only the session\'s own events reach a client', async () => {
    await rest(server, 'POST', '/sessions', { sessionId: 'ws-2', waitForQR: true });
    await rest(server, 'POST', '/sessions', { sessionId: 'ws-3', waitForQR: true });
    const two = legacyClient(server, 'ws-2');
    await two.opened;
    await rest(server, 'POST', '/sessions/ws-3/sandbox/scan');
    await rest(server, 'POST', '/sessions/ws-2/sandbox/scan');
    await until(two, 'ready');
    assert.ok(two.events.every((e) => e.sessionId === 'ws-2'));
    two.ws.close();
  });

  it('an unknown session is closed with 4404 and a reason', async () => {
    const client = legacyClient(server, 'no-such-session');
    const { code, reason } = await client.closed;
    assert.equal(code, 4404);
    assert.equal(reason, "Session with ID 'no-such-session' not found");
    const bare = new WebSocket(`${server.wsUrl}/ws/`);
    const closed = await new Promise<number>((resolve) => bare.once('close', (c) => resolve(c)));
    assert.equal(closed, 4404);
  });

  it('removing the session closes its sockets with 4410', async () => {
    await rest(server, 'POST', '/sessions', { sessionId: 'ws-rm', waitForQR: true });
    const client = legacyClient(server, 'ws-rm');
    await client.opened;
    await rest(server, 'DELETE', '/sessions/ws-rm');
    const { code, reason } = await client.closed;
    assert.equal(code, 4410);
    assert.equal(reason, 'Session removed');
  });

  it('a session id too long for a close reason is cut to 123 bytes at a character boundary', async () => {
    const client = legacyClient(server, '€'.repeat(60));
    const { code, reason } = await client.closed;
    assert.equal(code, 4404);
    assert.ok(Buffer.byteLength(reason) <= 123);
    assert.match(reason, /^Session with ID '€+…$/);
  });

  it('sockets count against --max-subscriptions-per-key: past it a socket is closed with 4429; closing one frees a place', async () => {
    const small = await startServer({ sockets: { maxSubscriptionsPerKey: 2 } });
    try {
      await rest(small, 'POST', '/sessions', { sessionId: 'lim', waitForQR: true });
      const [a, b] = [legacyClient(small, 'lim'), legacyClient(small, 'lim')];
      await Promise.all([a.opened, b.opened]);
      const c = legacyClient(small, 'lim');
      const refused = await c.closed;
      assert.equal(refused.code, 4429);
      assert.match(refused.reason, /at most 2 live subscriptions/);
      a.ws.close();
      await a.closed;
      const d = legacyClient(small, 'lim');
      await d.opened;
      await waitFor(() => d.events.some((e) => e.event === 'qr'), 5000, 'the qr on the freed place');
      b.ws.close();
      d.ws.close();
    } finally {
      await small.dispose();
    }
  });

  it('other upgrade paths are still refused', async () => {
    const ws = new WebSocket(`${server.wsUrl}/elsewhere`);
    const error = await new Promise<Error>((resolve) => ws.once('error', resolve));
    assert.match(error.message, /404/);
  });
});
