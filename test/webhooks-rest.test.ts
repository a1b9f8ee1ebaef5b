import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { startServer, waitFor, type TestServer } from './helpers/app.js';
import { startReceiver, type Receiver } from './helpers/webhooks.js';
import { assertError, ISO, rest, restReadySession } from './rest-helpers.js';

const ECHO = '15550000001@c.us';

describe('webhooks over REST', () => {
  let server: TestServer;
  let rx: Receiver;
  before(async () => {
    server = await startServer({ webhooks: { allowCidrs: '127.0.0.1/32', retryScheduleMs: [100, 200], timeoutMs: 5000, pollIntervalMs: 20 } });
    rx = await startReceiver();
    await restReadySession(server, 'R');
  });
  after(async () => {
    await server.dispose();
    await rx.close();
  });

  it("the reference's example registers, delivers signed message and ack events with its Authorization header, lists and removes", async () => {
    const created = await rest(server, 'POST', '/sessions/R/webhooks', {
      url: rx.url,
      events: ['message', 'ack', 'group_join'],
      headers: { Authorization: 'Bearer your-token' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.success, true);
    const hook = created.body.data;
    assert.deepEqual(hook.events, ['message', 'ack', 'group_join']);
    assert.deepEqual(hook.headers, { Authorization: 'Bear****' });
    assert.equal(hook.url, rx.url);
    assert.equal(hook.enabled, true);
    assert.match(hook.createdAt, ISO);
    assert.match(hook.secret, /^whsec_/);

    const sent = await rest(server, 'POST', '/sessions/R/send-text', { chatId: ECHO, content: 'hello webhook' });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    await waitFor(() => rx.received.some((r) => r.json.event === 'message') && rx.received.some((r) => r.json.event === 'ack'), 5000, 'message and ack');
    for (const r of rx.received) {
      assert.equal(r.headers.authorization, 'Bearer your-token');
      new StandardWebhook(hook.secret).verify(r.body, r.headers as Record<string, string>);
      assert.ok(['message', 'ack'].includes(r.json.event));
    }
    assert.ok(rx.received.some((r) => r.json.event === 'message' && r.json.data.id === sent.body.data.messageId));

    const listed = await rest(server, 'GET', '/sessions/R/webhooks');
    assert.equal(listed.status, 200);
    assert.equal(listed.body.data.length, 1);
    assert.equal(listed.body.data[0].id, hook.id);
    assert.deepEqual(listed.body.data[0].headers, { Authorization: 'Bear****' });
    assert.equal(listed.body.data[0].secret, undefined, 'the secret is shown once');

    const removed = await rest(server, 'DELETE', `/sessions/R/webhooks/${hook.id}`);
    assert.equal(removed.status, 200);
    assert.deepEqual(removed.body.data, { webhookId: hook.id, removed: true });
    assert.deepEqual((await rest(server, 'GET', '/sessions/R/webhooks')).body.data, []);
    assertError(await rest(server, 'DELETE', `/sessions/R/webhooks/${hook.id}`), 'NOT_FOUND');
  });

  it('"*" or no events means every event; bad input answers the reference error envelope', async () => {
    const all = await rest(server, 'POST', '/sessions/R/webhooks', { url: rx.url, events: ['*'] });
    assert.equal(all.status, 201);
    assert.deepEqual(all.body.data.events, ['*']);
    const none = await rest(server, 'POST', '/sessions/R/webhooks', { url: rx.url });
    assert.deepEqual(none.body.data.events, ['*']);
    assertError(await rest(server, 'POST', '/sessions/R/webhooks', { url: 'http://10.0.0.1/hook' }), 'VALIDATION_ERROR');
    assertError(await rest(server, 'POST', '/sessions/R/webhooks', { url: 'http://169.254.169.254/' }), 'VALIDATION_ERROR');
    assertError(await rest(server, 'POST', '/sessions/R/webhooks', { url: rx.url, events: ['messages'] }), 'VALIDATION_ERROR');
    assertError(await rest(server, 'POST', '/sessions/R/webhooks', { url: rx.url, headers: { 'Content-Type': 'x' } }), 'VALIDATION_ERROR');
    assertError(await rest(server, 'POST', '/sessions/R/webhooks', {}), 'VALIDATION_ERROR');
    assertError(await rest(server, 'POST', '/sessions/ghost/webhooks', { url: rx.url }), 'SESSION_NOT_FOUND');
    assertError(await rest(server, 'GET', '/sessions/ghost/webhooks'), 'SESSION_NOT_FOUND');
  });
});
