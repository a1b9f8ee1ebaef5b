import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collect, CREATE, readySession, SCAN, startServer, tempDir, waitFor, type TestServer } from './helpers/app.js';
import { ACK_SUB, ECHO_BOT, errorOf, history, INJECT, live, MARK_READ, MESSAGE_SUB, MESSAGES, SEND_TEXT, twoSessions, waitReady } from './helpers/messaging.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('text between two sandbox sessions', () => {
  it('A sends to B: B receives it, A sees SERVER, DEVICE, then READ after B reads; both histories survive a restart', async () => {
    const dataDir = tempDir();
    const { server, a, b } = await twoSessions({}, dataDir);
    let restarted: TestServer | null = null;
    try {
      const ws = server.wsClient();
      const incoming = await live(server, ws, MESSAGE_SUB, { s: 'B' });
      const acks = await live(server, ws, ACK_SUB, { s: 'A' });
      const aMessages = await live(server, ws, MESSAGE_SUB, { s: 'A', c: b });

      const before = Math.floor(Date.now() / 1000);
      const sent = (await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content: 'hello B' } })).sendText.message;
      assert.match(sent.id, new RegExp(`^true_${b.replace('.', '\\.')}_[0-9A-F]{20}$`));
      assert.equal(sent.chatId, b);
      assert.equal(sent.fromMe, true);
      assert.equal(sent.type, 'CHAT');
      assert.ok(sent.timestamp >= before - 1 && sent.timestamp <= Math.floor(Date.now() / 1000) + 1, 'unix seconds');

      const [got] = (await incoming.next(1)).map((v) => v.message);
      const key = sent.id.split('_').at(-1);
      assert.equal(got.id, `false_${a}_${key}`);
      assert.equal(got.chatId, a);
      assert.equal(got.body, 'hello B');
      assert.equal(got.fromMe, false);
      assert.equal(got.author, a);
      assert.equal((await aMessages.next(1))[0].message.id, sent.id, 'the sender sees its own message on its message subscription');

      await acks.next(2);
      const chatOfB = await server.gqlOk(MESSAGES, { s: 'B', c: a, last: 5 });
      assert.equal(chatOfB.session.chat.unreadCount, 1);
      await sleep(60);
      assert.deepEqual(acks.values.map((v) => v.ack.ack), ['SERVER', 'DEVICE'], 'no READ before B reads');

      const read = await server.gqlOk(MARK_READ, { s: 'B', c: a });
      assert.equal(read.markChatRead.chat.unreadCount, 0);
      await acks.next(3);
      assert.deepEqual(acks.values.map((v) => v.ack.ack), ['SERVER', 'DEVICE', 'READ']);
      for (const v of acks.values) {
        assert.equal(v.ack.messageId, sent.id);
        assert.equal(v.ack.chatId, b);
        assert.equal(v.ack.type, 'ACK');
        assert.equal(v.ack.sessionId, 'A');
      }

      await server.stop();
      restarted = await startServer({}, dataDir);
      await waitReady(restarted, 'A');
      await waitReady(restarted, 'B');
      const aHistory = await history(restarted, 'A', b);
      assert.deepEqual(aHistory.map((m) => [m.id, m.body, m.ack]), [[sent.id, 'hello B', 'READ']]);
      const bHistory = await history(restarted, 'B', a);
      assert.deepEqual(bHistory.map((m) => [m.id, m.body, m.fromMe]), [[got.id, 'hello B', false]]);
      const chats = await restarted.gqlOk('{ session(sessionId: "B") { chats { edges { node { id unreadCount lastMessage { body } } } } } }');
      assert.deepEqual(chats.session.chats.edges.map((e: any) => e.node), [{ id: a, unreadCount: 0, lastMessage: { body: 'hello B' } }]);
    } finally {
      if (restarted) await restarted.dispose();
      else await server.dispose();
    }
  });

  it('a message to a session that is not READY waits and arrives when it becomes READY', async () => {
    const server = await startServer();
    try {
      const a = await readySession(server, 'A');
      await server.gqlOk(CREATE, { input: { sessionId: 'B', waitForQR: true } });
      // Sandbox numbers are handed out in order, so B's account (made at its start) has A's number + 1.
      const b = `${Number(a.split('@')[0]) + 1}@c.us`;
      const ws = server.wsClient();
      const acks = await live(server, ws, ACK_SUB, { s: 'A' });
      const incoming = await live(server, ws, MESSAGE_SUB, { s: 'B' });
      const sent = (await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content: 'are you there?' } })).sendText.message;
      await acks.next(1);
      await sleep(100);
      assert.deepEqual(acks.values.map((v) => v.ack.ack), ['SERVER'], 'not delivered while B waits for its QR scan');
      assert.equal(incoming.values.length, 0);

      await server.gqlOk(SCAN, { id: 'B' });
      const [got] = (await incoming.next(1)).map((v) => v.message);
      assert.equal(got.body, 'are you there?');
      assert.equal(got.chatId, a);
      await acks.next(2);
      assert.deepEqual(acks.values.map((v) => [v.ack.messageId, v.ack.ack]), [[sent.id, 'SERVER'], [sent.id, 'DEVICE']]);
      const me = await server.gqlOk('{ session(sessionId: "B") { me { id } } }');
      assert.equal(me.session.me.id, b);
    } finally {
      await server.dispose();
    }
  });

  it('with a read delay the receiver reads by itself', async () => {
    const { server, b } = await twoSessions({ sandbox: { readDelayMs: 30 } });
    try {
      const acks = await live(server, server.wsClient(), ACK_SUB, { s: 'A' });
      await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content: 'read me' } });
      await acks.next(3);
      assert.deepEqual(acks.values.map((v) => v.ack.ack), ['SERVER', 'DEVICE', 'READ']);
    } finally {
      await server.dispose();
    }
  });
});

describe('echo bot, errors and injected messages', () => {
  let server: TestServer;
  let a: string;
  before(async () => {
    server = await startServer();
    a = await readySession(server, 'A');
    await server.gqlOk(CREATE, { input: { sessionId: 'WAITING', waitForQR: true } });
  });
  after(() => server.dispose());

  it('the echo bot is a contact and answers with the text it received', async () => {
    const contacts = await server.gqlOk('{ session(sessionId: "A") { contacts { id name isWAContact } contact(contactId: "15550000001@c.us") { name } } }');
    const bot = contacts.session.contacts.find((c: any) => c.id === ECHO_BOT);
    assert.ok(bot && /Echo/.test(bot.name), 'an Echo contact exists');
    assert.match(contacts.session.contact.name, /Echo/);

    const ws = server.wsClient();
    const fromBot = await live(server, ws, MESSAGE_SUB, { s: 'A', c: ECHO_BOT });
    const acks = await live(server, ws, ACK_SUB, { s: 'A' });
    const sent = (await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: ECHO_BOT, content: 'ping 42' } })).sendText.message;
    await waitFor(() => fromBot.values.some((v) => !v.message.fromMe), 3000, 'the bot answers');
    const answer = fromBot.values.find((v) => !v.message.fromMe).message;
    assert.equal(answer.body, 'ping 42');
    assert.equal(answer.chatId, ECHO_BOT);
    assert.match(answer.id, /^false_15550000001@c\.us_[0-9A-F]+$/);
    await acks.next(3);
    assert.deepEqual(acks.values.map((v) => [v.ack.messageId, v.ack.ack]), [[sent.id, 'SERVER'], [sent.id, 'DEVICE'], [sent.id, 'READ']]);
  });

  it('message ids are distinct and follow the order of sending (so new ones append to the key indexes)', async () => {
    const keys: string[] = [];
    for (let i = 0; i < 50; i++) {
      const sent = (await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: ECHO_BOT, content: `n${i}` } })).sendText.message;
      keys.push(sent.id.split('_').at(-1));
    }
    assert.ok(keys.every((k) => /^[0-9A-F]{20}$/.test(k)));
    assert.equal(new Set(keys).size, keys.length);
    assert.deepEqual([...keys].sort(), keys);
  });

  it('NOT_ON_WHATSAPP for a well-formed number that is not on the network', async () => {
    const result = await server.gql(SEND_TEXT, { input: { sessionId: 'A', chatId: '15559999999@c.us', content: 'hi' } });
    assert.equal(errorOf(result)?.code, 'NOT_ON_WHATSAPP');
    assert.equal(errorOf(result)?.details.chatId, '15559999999@c.us');
    assert.equal((await server.gqlOk(MESSAGES, { s: 'A', c: '15559999999@c.us' })).session.chat, null, 'nothing stored');
  });

  it('INVALID_CHAT_ID for malformed chat ids, in mutations, reads and subscriptions', async () => {
    for (const chatId of ['1234567890', 'abc@c.us', '123@c.us', '15550001234@s.whatsapp.net', 'group@g.us', '', '15550001234@c.us ']) {
      const result = await server.gql(SEND_TEXT, { input: { sessionId: 'A', chatId, content: 'hi' } });
      assert.equal(errorOf(result)?.code, 'INVALID_CHAT_ID', JSON.stringify(chatId));
    }
    assert.equal(errorOf(await server.gql(MESSAGES, { s: 'A', c: 'nope' }))?.code, 'INVALID_CHAT_ID');
    assert.equal(errorOf(await server.gql(MARK_READ, { s: 'A', c: 'nope' }))?.code, 'INVALID_CHAT_ID');
    assert.equal(errorOf(await server.gql(INJECT, { s: 'A', from: 'nope', body: 'x' }))?.code, 'INVALID_CHAT_ID');
    const sub = collect(server.wsClient(), MESSAGE_SUB, { s: 'A', c: 'nope' });
    await assert.rejects(sub.next(1), /INVALID_CHAT_ID/);
  });

  it('SESSION_NOT_READY for a session that is not READY, SESSION_NOT_FOUND for none', async () => {
    const send = await server.gql(SEND_TEXT, { input: { sessionId: 'WAITING', chatId: a, content: 'hi' } });
    assert.equal(errorOf(send)?.code, 'SESSION_NOT_READY');
    assert.equal(errorOf(send)?.details.status, 'QR_READY');
    const chats = await server.gql('{ session(sessionId: "WAITING") { chats { edges { cursor } } } }');
    assert.equal(errorOf(chats)?.code, 'SESSION_NOT_READY');
    const missing = await server.gql(SEND_TEXT, { input: { sessionId: 'ghost', chatId: a, content: 'hi' } });
    assert.equal(errorOf(missing)?.code, 'SESSION_NOT_FOUND');
    const sub = collect(server.wsClient(), ACK_SUB, { s: 'ghost' });
    await assert.rejects(sub.next(1), /SESSION_NOT_FOUND/);
  });

  it('sandboxInjectMessage delivers a message from any number', async () => {
    const from = '4915112345678@c.us';
    const incoming = await live(server, server.wsClient(), MESSAGE_SUB, { s: 'A', c: from });
    const injected = (await server.gqlOk(INJECT, { s: 'A', from, body: 'hello from outside' })).sandboxInjectMessage;
    assert.equal(injected.fromMe, false);
    assert.equal(injected.chatId, from);
    const [got] = (await incoming.next(1)).map((v) => v.message);
    assert.equal(got.id, injected.id);
    assert.equal(got.body, 'hello from outside');
    const chat = await server.gqlOk(MESSAGES, { s: 'A', c: from });
    assert.equal(chat.session.chat.unreadCount, 1);
    assert.deepEqual(chat.session.chat.messages.edges.map((e: any) => e.node.body), ['hello from outside']);
    const contact = await server.gqlOk('query($c: String!) { session(sessionId: "A") { contact(contactId: $c) { id isWAContact } } }', { c: from });
    assert.equal(contact.session.contact.id, from);
  });

  it('the message subscription works over SSE too', async () => {
    const controller = new AbortController();
    const listeners = server.app.services.bus.listenerCount();
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'subscription { message(sessionId: "A") { body fromMe chatId } }' }),
      signal: controller.signal,
    });
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = res.body!.getReader();
    await waitFor(() => server.app.services.bus.listenerCount() > listeners, 5000, 'the SSE subscription to start');
    await server.gqlOk(INJECT, { s: 'A', from: '4915199999999@c.us', body: 'over sse' });
    let text = '';
    const deadline = Date.now() + 5000;
    while (!text.includes('over sse') && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    assert.match(text, /"body":"over sse","fromMe":false,"chatId":"4915199999999@c.us"/);
  });

  it('a reply quotes a message of the same chat; a quote from elsewhere is refused', async () => {
    const from = '4915112345678@c.us';
    const [first] = await history(server, 'A', from);
    const elsewhere = await server.gql(SEND_TEXT, { input: { sessionId: 'A', chatId: ECHO_BOT, content: 'x', quotedMessageId: first.id } });
    assert.equal(errorOf(elsewhere)?.code, 'VALIDATION_ERROR');
    const r = await server.gql(SEND_TEXT, { input: { sessionId: 'A', chatId: ECHO_BOT, content: 'x', quotedMessageId: 'false_nope' } });
    assert.equal(errorOf(r)?.code, 'VALIDATION_ERROR');
    const bot = await history(server, 'A', ECHO_BOT);
    const quoted = (await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: ECHO_BOT, content: 'quoting', quotedMessageId: bot[0].id } })).sendText.message;
    assert.equal(quoted.quotedMessageId, bot[0].id);
  });
});
