import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { waitFor, type TestServer } from './helpers/app.js';
import { SEND_TEXT, sendMedia, twoSessions } from './helpers/messaging.js';
import { REGISTER, startReceiver, type Receiver } from './helpers/webhooks.js';
import { rest } from './rest-helpers.js';

const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/** The keys a documented `data` schema (an object with every property required) allows, or null. */
function documentedKeys(schema: any): string[] | null {
  return schema?.type === 'object' && schema.additionalProperties === false ? [...schema.required].sort() : null;
}

describe('one event shape on /ws and webhooks', () => {
  let server: TestServer;
  let a: string;
  let b: string;
  let rx: Receiver;
  let ws: WebSocket;
  const wsEvents: any[] = [];
  before(async () => {
    ({ server, a, b } = await twoSessions({ webhooks: { allowCidrs: '127.0.0.1/32', retryScheduleMs: [100, 200], timeoutMs: 5000, pollIntervalMs: 20 } }));
    rx = await startReceiver();
    await server.gqlOk(REGISTER, { input: { sessionId: 'B', url: rx.url, events: [] } });
    const listeners = server.app.services.bus.listenerCount();
    ws = new WebSocket(`${server.wsUrl}/ws/B`);
    ws.on('message', (data) => wsEvents.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    // The socket listens on the bus once it is attached: nothing sent afterwards can be missed.
    await waitFor(() => server.app.services.bus.listenerCount() > listeners, 5000, 'the socket to listen');
  });
  after(async () => {
    ws.close();
    await server.dispose();
    await rx.close();
  });

  it('a message (text and media) and its acks carry the same data on both, as the OpenAPI document describes it', async () => {
    const text = (await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content: 'same on both' } })).sendText.message;
    const image = (
      await server.gqlOk(sendMedia('sendImage'), {
        input: { sessionId: 'A', chatId: b, data: `data:image/png;base64,${png.toString('base64')}`, filename: 'dot.png', caption: 'a dot' },
      })
    ).sendImage.message;
    const reply = (await server.gqlOk(SEND_TEXT, { input: { sessionId: 'B', chatId: a, content: 'and back' } })).sendText.message;

    const received = (id: string) => wsEvents.find((e) => e.event === 'message' && e.data.id.endsWith(id.slice(id.lastIndexOf('_'))));
    await waitFor(() => received(text.id) && received(image.id), 5000, 'both messages on /ws');
    await waitFor(() => wsEvents.some((e) => e.event === 'ack' && e.data.id === reply.id && e.data.status === 'device'), 5000, 'the device ack on /ws');
    const wsCompared = wsEvents.filter((e) => e.event === 'message' || e.event === 'ack');
    const deliveryOf = (e: any) =>
      rx.received.find((r) => r.json?.event === e.event && r.json.data.id === e.data.id && (e.event !== 'ack' || r.json.data.status === e.data.status));
    await waitFor(() => wsCompared.every(deliveryOf), 10_000, 'a webhook delivery for every /ws event');

    for (const e of wsCompared) {
      const delivery = deliveryOf(e)!.json;
      assert.deepEqual(delivery.data, e.data, `${e.event} ${e.data.id}`);
      assert.equal(delivery.sessionId, e.sessionId);
    }

    const textData = received(text.id).data;
    assert.equal(textData.type, 'chat');
    assert.equal(textData.from, a);
    assert.equal(textData.body, 'same on both');
    assert.equal(textData.media, null);
    assert.ok(Number.isInteger(textData.timestamp) && textData.timestamp < 1e11, 'unix seconds');
    const imageData = received(image.id).data;
    assert.equal(imageData.type, 'image');
    assert.equal(imageData.caption, 'a dot');
    assert.deepEqual(imageData.media, {
      mimetype: 'image/png',
      filename: 'dot.png',
      size: png.length,
      url: `/api/v1/sessions/B/messages/${encodeURIComponent(imageData.id)}/media`,
    });
    const acks = wsCompared.filter((e) => e.event === 'ack').map((e) => [e.data.status, e.data.ack]);
    assert.deepEqual(acks.slice(-1), [['device', 2]]);

    // Every payload has exactly the fields its OpenAPI webhook documents (which must still validate).
    const doc = (await rest(server, 'GET', '/openapi.json')).body;
    for (const delivery of rx.received) {
      const event = delivery.json.event;
      const schema = doc.webhooks[event]?.post.requestBody.content['application/json'].schema.properties.data;
      assert.ok(schema, `the OpenAPI document has the ${event} webhook`);
      const keys = documentedKeys(schema);
      if (keys) assert.deepEqual(Object.keys(delivery.json.data).sort(), keys, event);
    }
    const mediaSchema = doc.webhooks.message.post.requestBody.content['application/json'].schema.properties.data.properties.media.oneOf[1];
    assert.deepEqual(Object.keys(imageData.media).sort(), documentedKeys(mediaSchema));
  });

  it('a reaction, an edit and a revoke carry the same data on both, as documented', async () => {
    const sent = (await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content: 'act on me' } })).sendText.message;
    const key = sent.id.slice(sent.id.lastIndexOf('_'));
    const copy = await waitFor(() => wsEvents.find((e) => e.event === 'message' && e.data.id.endsWith(key)), 5000, 'the message on /ws');
    await server.gqlOk('mutation($input: ReactToMessageInput!) { reactToMessage(input: $input) { message { id } } }', {
      input: { sessionId: 'A', messageId: sent.id, emoji: '🎉' },
    });
    await server.gqlOk('mutation($input: EditMessageInput!) { editMessage(input: $input) { message { id } } }', {
      input: { sessionId: 'A', messageId: sent.id, content: 'acted on' },
    });
    await server.gqlOk('mutation($input: DeleteMessageInput!) { deleteMessage(input: $input) { messageId } }', {
      input: { sessionId: 'A', messageId: sent.id, forEveryone: true },
    });
    const idOf = (e: any) => e.data.messageId ?? e.data.id;
    const onWs = (event: string) => wsEvents.find((e) => e.event === event && idOf(e) === copy.data.id);
    const ws = await waitFor(() => {
      const found = ['message', 'reaction', 'message_edited', 'message_revoked'].map(onWs);
      return found.every(Boolean) ? found : null;
    }, 5000, 'the message, the reaction, the edit and the revoke on /ws');
    const deliveryOf = (e: any) => rx.received.find((r) => r.json?.event === e.event && idOf(r.json) === idOf(e));
    await waitFor(() => ws.every(deliveryOf), 10_000, 'a webhook delivery for each');
    for (const e of ws) assert.deepEqual(deliveryOf(e)!.json.data, e.data, e.event);

    const [, reaction, edited, revoked] = ws.map((e) => e.data);
    assert.deepEqual({ ...reaction, reaction: { ...reaction.reaction, timestamp: 0 } }, { messageId: copy.data.id, chatId: a, reaction: { emoji: '🎉', senderId: a, timestamp: 0 } });
    assert.ok(reaction.reaction.timestamp < 1e11, 'unix seconds');
    assert.deepEqual([edited.body, edited.edited, edited.type, edited.reactions.map((r: any) => r.emoji)], ['acted on', true, 'chat', ['🎉']]);
    assert.deepEqual(revoked, { messageId: copy.data.id, chatId: a, by: a });

    const doc = (await rest(server, 'GET', '/openapi.json')).body;
    for (const e of ws) {
      const schema = doc.webhooks[e.event].post.requestBody.content['application/json'].schema.properties.data;
      assert.deepEqual(Object.keys(e.data).sort(), documentedKeys(schema), e.event);
    }
  });
});
