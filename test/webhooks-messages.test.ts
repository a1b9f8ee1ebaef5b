import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readySession, startServer, waitFor, type TestServer } from './helpers/app.js';
import { ECHO_BOT, INJECT, SEND_TEXT } from './helpers/messaging.js';
import { DELIVERIES, REGISTER, startReceiver, type Receiver } from './helpers/webhooks.js';

const DELIVERIES_OF = `query($s: String!) { webhooks(sessionId: $s) { id url deliveries(last: 100) { id event status payload } } }`;

describe('webhooks for messages and acks', () => {
  let server: TestServer;
  let me: string;
  const receivers: Receiver[] = [];
  before(async () => {
    server = await startServer({ webhooks: { allowCidrs: '127.0.0.1/32', retryScheduleMs: [100, 200], timeoutMs: 5000, pollIntervalMs: 20 } });
    me = await readySession(server, 'M');
  });
  after(async () => {
    await server.dispose();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it('filters by event: a webhook for message gets no ack, one for ack gets no message; the reference example gets both with its header', async () => {
    const [onlyMessages, onlyAcks, example] = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
    receivers.push(onlyMessages, onlyAcks, example);
    const register = async (input: Record<string, unknown>) => (await server.gqlOk(REGISTER, { input: { sessionId: 'M', ...input } })).registerWebhook.webhook;
    const w1 = await register({ url: onlyMessages.url, events: ['MESSAGE'] });
    await register({ url: onlyAcks.url, eventNames: ['ack'] });
    await register({ url: example.url, eventNames: ['message', 'ack', 'group_join'], headers: { Authorization: 'Bearer your-token' } });

    const sent = (await server.gqlOk(SEND_TEXT, { input: { sessionId: 'M', chatId: ECHO_BOT, content: 'ping the bot' } })).sendText.message;
    // The outbox row exists as soon as the API call has answered: the event was recorded while it was published.
    const queued = (await server.gqlOk(DELIVERIES_OF, { s: 'M' })).webhooks.find((w: any) => w.id === w1.id).deliveries;
    assert.ok(queued.some((d: any) => d.event === 'message' && d.payload.data.id === sent.id), 'queued before sendText answered');

    // The echo bot answers: one outgoing message, one incoming reply; acks for the outgoing one.
    await waitFor(() => onlyMessages.received.some((r) => r.json.data.fromMe === false), 5000, 'the reply');
    await waitFor(() => onlyAcks.received.length >= 2, 5000, 'acks');
    await waitFor(() => example.received.length >= onlyMessages.received.length + 2, 5000, 'the example webhook');

    assert.deepEqual([...new Set(onlyMessages.received.map((r) => r.json.event))], ['message']);
    assert.deepEqual([...new Set(onlyAcks.received.map((r) => r.json.event))], ['ack']);
    assert.deepEqual([...new Set(example.received.map((r) => r.json.event))].sort(), ['ack', 'message']);

    const outgoing = onlyMessages.received.find((r) => r.json.data.id === sent.id)!;
    assert.deepEqual(
      { event: outgoing.json.event, sessionId: outgoing.json.sessionId, body: outgoing.json.data.body, fromMe: outgoing.json.data.fromMe },
      { event: 'message', sessionId: 'M', body: 'ping the bot', fromMe: true },
    );
    const reply = onlyMessages.received.find((r) => r.json.data.fromMe === false)!.json.data;
    assert.equal(reply.from, ECHO_BOT);
    assert.equal(typeof reply.timestamp, 'number');
    const ack = onlyAcks.received[0]!.json.data;
    assert.equal(ack.id, sent.id);
    assert.equal(ack.chatId, ECHO_BOT);
    assert.ok(['server', 'device', 'read'].includes(ack.status));
    for (const r of example.received) assert.equal(r.headers.authorization, 'Bearer your-token');
    assert.equal(onlyMessages.received[0]!.headers.authorization, undefined, 'headers belong to their webhook');
    assert.match(me, /@c\.us$/);
  });

  it('delivers 200 injected messages, all of them, each under its own webhook-id', async () => {
    const rx = await startReceiver();
    receivers.push(rx);
    await server.gqlOk(REGISTER, { input: { sessionId: 'M', url: rx.url, events: ['MESSAGE'] } });
    const from = '4915112345678@c.us';
    for (let i = 0; i < 200; i += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, j) => server.gqlOk(INJECT, { s: 'M', from, body: `n${i + j}` })));
    }
    await waitFor(() => new Set(rx.ids()).size >= 200, 20000, '200 deliveries');
    const bodies = [...new Set(rx.received.map((r) => r.json.data.body))].sort();
    assert.deepEqual(bodies, Array.from({ length: 200 }, (_, i) => `n${i}`).sort());
    assert.equal(new Set(rx.ids()).size, 200);
    // At-least-once: a copy (after a timeout on a loaded machine) carries the same webhook-id and body.
    assert.equal(new Set(rx.received.map((r) => r.body)).size, 200);
    await waitFor(
      async () => (await server.gqlOk(DELIVERIES, { id: 'M', last: 1 })).session.webhooks.some((w: any) => w.deliveryCounts.succeeded === 200),
      10000,
      'the webhook to show 200 succeeded deliveries',
    );
  });
});
