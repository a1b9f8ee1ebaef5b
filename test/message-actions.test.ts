// Reactions, edits, deletes, forwards, presence and mark-unread between sandbox sessions on a real server
// (run again on PostgreSQL by scripts/run-tests.mjs).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { readySession, waitFor, type TestServer } from './helpers/app.js';
import { ECHO_BOT, errorOf, history, live, SEND_TEXT, twoSessions } from './helpers/messaging.js';

const FIELDS = 'id chatId body type fromMe edited reactions { emoji senderId timestamp }';
const REACT = `mutation($input: ReactToMessageInput!) { reactToMessage(input: $input) { message { ${FIELDS} } } }`;
const EDIT = `mutation($input: EditMessageInput!) { editMessage(input: $input) { message { ${FIELDS} } } }`;
const DELETE = 'mutation($input: DeleteMessageInput!) { deleteMessage(input: $input) { messageId } }';
const FORWARD = `mutation($input: ForwardMessageInput!) { forwardMessage(input: $input) { message { ${FIELDS} } } }`;
const PRESENCE = 'mutation($input: SetPresenceInput!) { setPresence(input: $input) }';
const UNREAD = 'mutation($s: String!, $c: String!) { markChatUnread(sessionId: $s, chatId: $c) { chatId chat { unreadCount } } }';
const EVENTS = `subscription($s: String!) { events(sessionId: $s, types: [REACTION, MESSAGE_REVOKED, MESSAGE_EDITED, PRESENCE]) {
  type sessionId
  ... on ReactionEvent { messageId chatId reaction { emoji senderId } }
  ... on MessageRevokedEvent { messageId chatId by }
  ... on MessageEditedEvent { message { id body edited } }
  ... on PresenceEvent { chatId contactId presence }
} }`;
const HISTORY = `query($s: String!, $c: String!) { session(sessionId: $s) { chat(chatId: $c) { messages(last: 50) { edges { node { ${FIELDS} } } } } } }`;

/** The message of `sessionId`'s chat whose key (the id's last part) is the one of `id`. */
async function copyOf(server: TestServer, sessionId: string, chatId: string, id: string) {
  const key = id.slice(id.lastIndexOf('_'));
  const data = await server.gqlOk(HISTORY, { s: sessionId, c: chatId });
  return (data.session.chat?.messages.edges ?? []).map((e: any) => e.node).find((m: any) => m.id.endsWith(key)) ?? null;
}

describe('message actions between two sandbox sessions', () => {
  let server: TestServer;
  let a: string;
  let b: string;
  let c: string;
  let client: Client;
  let wsB: WebSocket;
  const wsEvents: any[] = [];

  before(async () => {
    ({ server, a, b } = await twoSessions());
    c = await readySession(server, 'C');
    client = createClient({ url: `${server.wsUrl}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const listeners = server.app.services.bus.listenerCount();
    wsB = new WebSocket(`${server.wsUrl}/ws/B`);
    wsB.on('message', (data) => wsEvents.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => wsB.once('open', resolve).once('error', reject));
    await waitFor(() => server.app.services.bus.listenerCount() > listeners, 5000, 'the socket to listen');
  });
  after(async () => {
    wsB?.close();
    await client?.dispose();
    await server?.dispose();
  });

  async function sendAtoB(content: string) {
    const sent = (await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content } })).sendText.message;
    const copy = await waitFor(() => copyOf(server, 'B', a, sent.id), 5000, 'B to receive it');
    return { sent, copy };
  }

  it("a reaction by B shows on A's copy and B's, and reaches A as a REACTION event; \"\" takes it back", async () => {
    const eventsA = await live(server, client, EVENTS, { s: 'A' });
    const { sent, copy } = await sendAtoB('react to me');
    const reacted = (await server.gqlOk(REACT, { input: { sessionId: 'B', messageId: copy.id, emoji: '👍' } })).reactToMessage.message;
    assert.deepEqual(reacted.reactions.map((r: any) => [r.emoji, r.senderId]), [['👍', b]]);
    const [event] = await eventsA.next(1);
    assert.deepEqual(event.events, { type: 'REACTION', sessionId: 'A', messageId: sent.id, chatId: b, reaction: { emoji: '👍', senderId: b } });
    const onA = await copyOf(server, 'A', b, sent.id);
    assert.deepEqual(onA.reactions.map((r: any) => [r.emoji, r.senderId]), [['👍', b]]);
    assert.ok(Number.isInteger(onA.reactions[0].timestamp) && onA.reactions[0].timestamp < 1e11);

    // A reacts too; B changes its emoji: one reaction per sender, the latest.
    await server.gqlOk(REACT, { input: { sessionId: 'A', messageId: sent.id, emoji: '❤️' } });
    await server.gqlOk(REACT, { input: { sessionId: 'B', messageId: copy.id, emoji: '😂' } });
    const both = (await copyOf(server, 'B', a, sent.id)).reactions.map((r: any) => `${r.senderId}:${r.emoji}`).sort();
    assert.deepEqual(both, [`${a}:❤️`, `${b}:😂`].sort());
    await server.gqlOk(REACT, { input: { sessionId: 'B', messageId: copy.id, emoji: '' } });
    assert.deepEqual((await copyOf(server, 'A', b, sent.id)).reactions.map((r: any) => r.emoji), ['❤️']);
    await waitFor(() => wsEvents.some((e) => e.event === 'reaction' && e.data.messageId === copy.id && e.data.reaction.emoji === '❤️'), 5000, "A's reaction on B's /ws");
    eventsA.unsubscribe();

    assert.equal(errorOf(await server.gql(REACT, { input: { sessionId: 'B', messageId: copy.id, emoji: 'ok' } }))?.code, 'VALIDATION_ERROR');
    assert.equal(errorOf(await server.gql(REACT, { input: { sessionId: 'B', messageId: 'false_1@c.us_NOPE', emoji: '👍' } }))?.code, 'NOT_FOUND');
  });

  it("an edit by A changes B's copy (edited: true) and emits MESSAGE_EDITED; only the sender's text messages", async () => {
    const eventsB = await live(server, client, EVENTS, { s: 'B' });
    const { sent, copy } = await sendAtoB('helo');
    const edited = (await server.gqlOk(EDIT, { input: { sessionId: 'A', messageId: sent.id, content: 'hello' } })).editMessage.message;
    assert.deepEqual([edited.id, edited.body, edited.edited], [sent.id, 'hello', true]);
    const [event] = await eventsB.next(1);
    assert.deepEqual(event.events, { type: 'MESSAGE_EDITED', sessionId: 'B', message: { id: copy.id, body: 'hello', edited: true } });
    const onB = await copyOf(server, 'B', a, sent.id);
    assert.deepEqual([onB.body, onB.edited], ['hello', true]);
    const wsEdit = await waitFor(() => wsEvents.find((e) => e.event === 'message_edited' && e.data.id === copy.id), 5000, 'message_edited on /ws');
    assert.deepEqual([wsEdit.data.body, wsEdit.data.edited, wsEdit.data.type], ['hello', true, 'chat']);
    eventsB.unsubscribe();
    assert.equal(errorOf(await server.gql(EDIT, { input: { sessionId: 'B', messageId: copy.id, content: 'not mine' } }))?.code, 'VALIDATION_ERROR');
  });

  it('a delete for everyone turns both copies REVOKED and emits MESSAGE_REVOKED; a delete for me removes only my copy', async () => {
    const eventsB = await live(server, client, EVENTS, { s: 'B' });
    const { sent, copy } = await sendAtoB('oops');
    assert.equal(errorOf(await server.gql(DELETE, { input: { sessionId: 'B', messageId: copy.id, forEveryone: true } }))?.code, 'VALIDATION_ERROR');
    assert.deepEqual((await server.gqlOk(DELETE, { input: { sessionId: 'A', messageId: sent.id, forEveryone: true } })).deleteMessage, { messageId: sent.id });
    const [event] = await eventsB.next(1);
    assert.deepEqual(event.events, { type: 'MESSAGE_REVOKED', sessionId: 'B', messageId: copy.id, chatId: a, by: a });
    for (const [session, chat] of [['A', b], ['B', a]] as const) {
      const m = await copyOf(server, session, chat, sent.id);
      assert.deepEqual([m.type, m.body], ['REVOKED', null], `${session}'s copy`);
    }
    await waitFor(() => wsEvents.some((e) => e.event === 'message_revoked' && e.data.messageId === copy.id), 5000, 'message_revoked on /ws');
    assert.equal(errorOf(await server.gql(REACT, { input: { sessionId: 'B', messageId: copy.id, emoji: '👍' } }))?.code, 'VALIDATION_ERROR');

    const mine = await sendAtoB('only mine goes');
    await server.gqlOk(DELETE, { input: { sessionId: 'B', messageId: mine.copy.id } });
    assert.equal(await copyOf(server, 'B', a, mine.sent.id), null);
    assert.equal((await copyOf(server, 'A', b, mine.sent.id)).body, 'only mine goes');
    eventsB.unsubscribe();
  });

  it('forward puts a copy in a third chat and delivers it like a send', async () => {
    const { copy } = await sendAtoB('pass it on');
    const forwarded = (await server.gqlOk(FORWARD, { input: { sessionId: 'B', messageId: copy.id, chatId: c } })).forwardMessage.message;
    assert.deepEqual([forwarded.chatId, forwarded.body, forwarded.fromMe, forwarded.type], [c, 'pass it on', true, 'CHAT']);
    const onC = await waitFor(() => copyOf(server, 'C', b, forwarded.id), 5000, 'C to receive the forward');
    assert.deepEqual([onC.body, onC.fromMe], ['pass it on', false]);
  });

  it('presence reaches the other side; the Echo Bot shows TYPING before it answers', async () => {
    const eventsA = await live(server, client, EVENTS, { s: 'A' });
    assert.equal((await server.gqlOk(PRESENCE, { input: { sessionId: 'B', chatId: a, presence: 'TYPING' } })).setPresence, true);
    const [typing] = await eventsA.next(1);
    assert.deepEqual(typing.events, { type: 'PRESENCE', sessionId: 'A', chatId: b, contactId: b, presence: 'TYPING' });
    await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: ECHO_BOT, content: 'are you there?' } });
    const [, bot] = await eventsA.next(2);
    assert.deepEqual(bot.events, { type: 'PRESENCE', sessionId: 'A', chatId: ECHO_BOT, contactId: ECHO_BOT, presence: 'TYPING' });
    await waitFor(async () => (await history(server, 'A', ECHO_BOT)).some((m) => !m.fromMe && m.body === 'are you there?'), 5000, 'the echo');
    eventsA.unsubscribe();
    await server.gqlOk(PRESENCE, { input: { sessionId: 'A', chatId: b, presence: 'PAUSED' } });
    await waitFor(() => wsEvents.some((e) => e.event === 'presence' && e.data.presence === 'paused' && e.data.contactId === a), 5000, 'presence on /ws');
  });

  it('a receiver that was offline gets the edit and the revoke with the messages it was waiting for', async () => {
    await server.gqlOk('mutation { stopSession(sessionId: "C") { status } }');
    const send = async (content: string) => (await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: c, content } })).sendText.message;
    const toEdit = await send('while you were out');
    const toRevoke = await send('never mind');
    await server.gqlOk(EDIT, { input: { sessionId: 'A', messageId: toEdit.id, content: 'while you were away' } });
    await server.gqlOk(DELETE, { input: { sessionId: 'A', messageId: toRevoke.id, forEveryone: true } });
    await server.gqlOk('mutation { startSession(sessionId: "C") { status } }');
    const edited = await waitFor(() => copyOf(server, 'C', a, toEdit.id), 5000, 'C to get the edited message');
    assert.deepEqual([edited.body, edited.edited], ['while you were away', true]);
    const revoked = await waitFor(() => copyOf(server, 'C', a, toRevoke.id), 5000, 'C to get the revoked one');
    assert.deepEqual([revoked.type, revoked.body], ['REVOKED', null]);
  });

  it('markChatUnread marks a read chat unread', async () => {
    await server.gqlOk('mutation($s: String!, $c: String!) { markChatRead(sessionId: $s, chatId: $c) { chatId } }', { s: 'B', c: a });
    const marked = (await server.gqlOk(UNREAD, { s: 'B', c: a })).markChatUnread;
    assert.deepEqual(marked, { chatId: a, chat: { unreadCount: 1 } });
  });
});
