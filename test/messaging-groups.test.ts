import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readySession, waitFor, type TestServer } from './helpers/app.js';
import { ACK_SUB, errorOf, live, MESSAGE_SUB, SEND_TEXT, twoSessions } from './helpers/messaging.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CREATE_GROUP = 'mutation($input: CreateGroupInput!) { createGroup(input: $input) { gid participants { id status } } }';
const ADD = 'mutation($input: GroupParticipantsInput!) { addParticipants(input: $input) { groupId participants { id status } } }';
const REMOVE = 'mutation($input: GroupParticipantsInput!) { removeParticipants(input: $input) { groupId participants { id status } } }';
const PARTICIPANTS = 'query($s: String!, $g: String!) { session(sessionId: $s) { chat(chatId: $g) { name isGroup participants { id isAdmin } } } }';
const EVENTS = `subscription($s: String!, $types: [EventType!]) { events(sessionId: $s, types: $types) {
  __typename type sessionId at
  ... on GroupJoinEvent { groupId participants by }
  ... on GroupLeaveEvent { groupId participants by }
  ... on MessageEvent { message { id chatId body } }
  ... on AckEvent { messageId ack }
} }`;
const UNKNOWN = '15559999999@c.us';

describe('groups', () => {
  let server: TestServer;
  let a: string;
  let b: string;
  let c: string;
  before(async () => {
    ({ server, a, b } = await twoSessions());
    c = await readySession(server, 'C');
  });
  after(() => server.dispose());

  it('a group of A, B and an unknown number: 200, 200, 404; a message reaches B; add and remove show in participants and as events', async () => {
    const ws = server.wsClient();
    const bEvents = await live(server, ws, EVENTS, { s: 'B', types: ['GROUP_JOIN', 'GROUP_LEAVE'] });
    const cEvents = await live(server, ws, EVENTS, { s: 'C', types: ['GROUP_JOIN', 'GROUP_LEAVE'] });
    const bMessages = await live(server, ws, MESSAGE_SUB, { s: 'B' });

    const created = (await server.gqlOk(CREATE_GROUP, { input: { sessionId: 'A', name: 'Team', participants: [a, b, UNKNOWN], description: 'ours' } })).createGroup;
    assert.match(created.gid, new RegExp(`^${a.split('@')[0]}-\\d+@g\\.us$`));
    assert.deepEqual(created.participants, [{ id: a, status: 200 }, { id: b, status: 200 }, { id: UNKNOWN, status: 404 }]);
    const gid = created.gid;

    const [joined] = await bEvents.next(1);
    assert.deepEqual(joined.events, { __typename: 'GroupJoinEvent', type: 'GROUP_JOIN', sessionId: 'B', at: joined.events.at, groupId: gid, participants: [a, b], by: a });
    const seenByB = await server.gqlOk(PARTICIPANTS, { s: 'B', g: gid });
    assert.deepEqual(seenByB.session.chat, { name: 'Team', isGroup: true, participants: [{ id: a, isAdmin: true }, { id: b, isAdmin: false }] });

    const sent = (await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: gid, content: 'hello team' } })).sendText.message;
    assert.ok(sent.id.startsWith(`true_${gid}_`));
    const [got] = (await bMessages.next(1)).map((v) => v.message);
    assert.deepEqual([got.chatId, got.body, got.author, got.fromMe], [gid, 'hello team', a, false]);
    assert.ok(got.id.startsWith(`false_${gid}_`) && got.id.endsWith(`_${a}`), got.id);

    const added = (await server.gqlOk(ADD, { input: { sessionId: 'A', groupId: gid, participants: [c, b, UNKNOWN] } })).addParticipants;
    assert.deepEqual(added.participants.map((p: any) => p.status), [200, 409, 404]);
    await bEvents.next(2);
    await cEvents.next(1);
    assert.deepEqual([bEvents.values[1].events.type, bEvents.values[1].events.participants], ['GROUP_JOIN', [c]]);
    assert.deepEqual([cEvents.values[0].events.type, cEvents.values[0].events.participants], ['GROUP_JOIN', [c]]);
    const withC = await server.gqlOk(PARTICIPANTS, { s: 'A', g: gid });
    assert.deepEqual(withC.session.chat.participants.map((p: any) => p.id), [a, b, c]);

    const notAdmin = (await server.gqlOk(ADD, { input: { sessionId: 'B', groupId: gid, participants: [UNKNOWN] } })).addParticipants;
    assert.deepEqual(notAdmin.participants, [{ id: UNKNOWN, status: 403 }]);

    const removed = (await server.gqlOk(REMOVE, { input: { sessionId: 'A', groupId: gid, participants: [c] } })).removeParticipants;
    assert.deepEqual(removed, { groupId: gid, participants: [{ id: c, status: 200 }] });
    await bEvents.next(3);
    await cEvents.next(2);
    assert.deepEqual([bEvents.values[2].events.__typename, bEvents.values[2].events.participants, bEvents.values[2].events.by], ['GroupLeaveEvent', [c], a]);
    assert.equal(cEvents.values[1].events.type, 'GROUP_LEAVE', 'the removed member hears it too');
    const withoutC = await server.gqlOk(PARTICIPANTS, { s: 'A', g: gid });
    assert.deepEqual(withoutC.session.chat.participants.map((p: any) => p.id), [a, b]);
    const again = (await server.gqlOk(REMOVE, { input: { sessionId: 'A', groupId: gid, participants: [c] } })).removeParticipants;
    assert.deepEqual(again.participants, [{ id: c, status: 409 }]);

    const fromC = await server.gql(SEND_TEXT, { input: { sessionId: 'C', chatId: gid, content: 'still here?' } });
    assert.equal(errorOf(fromC)?.code, 'VALIDATION_ERROR', 'a removed member cannot write to the group');
  });

  it('group acks follow the slowest member: READ only after every member read', async () => {
    const gid = (await server.gqlOk(CREATE_GROUP, { input: { sessionId: 'A', name: 'Acks', participants: [b, c] } })).createGroup.gid;
    const acks = await live(server, server.wsClient(), ACK_SUB, { s: 'A' });
    const sent = (await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: gid, content: 'read this' } })).sendText.message;
    await acks.next(2);
    await server.gqlOk('mutation($g: String!) { markChatRead(sessionId: "B", chatId: $g) { chatId } }', { g: gid });
    await sleep(60);
    assert.deepEqual(acks.values.map((v) => v.ack.ack), ['SERVER', 'DEVICE']);
    await server.gqlOk('mutation($g: String!) { markChatRead(sessionId: "C", chatId: $g) { chatId } }', { g: gid });
    await acks.next(3);
    assert.deepEqual(acks.values.map((v) => [v.ack.messageId, v.ack.ack]), [[sent.id, 'SERVER'], [sent.id, 'DEVICE'], [sent.id, 'READ']]);
  });

  it('bad group input: INVALID_CHAT_ID for malformed ids, VALIDATION_ERROR for an empty name or list', async () => {
    const badMember = await server.gql(CREATE_GROUP, { input: { sessionId: 'A', name: 'X', participants: ['nobody'] } });
    assert.equal(errorOf(badMember)?.code, 'INVALID_CHAT_ID');
    const noName = await server.gql(CREATE_GROUP, { input: { sessionId: 'A', name: '  ', participants: [b] } });
    assert.equal(errorOf(noName)?.code, 'VALIDATION_ERROR');
    const empty = await server.gql(CREATE_GROUP, { input: { sessionId: 'A', name: 'X', participants: [] } });
    assert.equal(errorOf(empty)?.code, 'VALIDATION_ERROR');
    const badGroup = await server.gql(ADD, { input: { sessionId: 'A', groupId: b, participants: [c] } });
    assert.equal(errorOf(badGroup)?.code, 'INVALID_CHAT_ID');
    const unknownGroup = await server.gql(ADD, { input: { sessionId: 'A', groupId: '123456-7890123@g.us', participants: [c] } });
    assert.equal(errorOf(unknownGroup)?.code, 'INVALID_CHAT_ID');
  });
});

describe('events with a types filter', () => {
  let server: TestServer;
  let a: string;
  let b: string;
  before(async () => {
    ({ server, a, b } = await twoSessions());
  });
  after(() => server.dispose());

  it('delivers only the requested types', async () => {
    const ws = server.wsClient();
    const onlyAcks = await live(server, ws, EVENTS, { s: 'A', types: ['ACK'] });
    const onlyMessages = await live(server, ws, EVENTS, { s: 'A', types: ['MESSAGE'] });
    const everything = await live(server, ws, EVENTS, { s: 'A' });
    const bMessagesAndJoins = await live(server, ws, EVENTS, { s: 'B', types: ['MESSAGE', 'GROUP_JOIN'] });
    const sent = (await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content: 'filtered' } })).sendText.message;
    await server.gqlOk('mutation($s: String!) { createGroup(input: { sessionId: "A", name: "G", participants: [$s] }) { gid } }', { s: b });
    await onlyAcks.next(2);
    await server.gqlOk('mutation($c: String!) { markChatRead(sessionId: "B", chatId: $c) { chatId } }', { c: a });
    await onlyAcks.next(3);
    await bMessagesAndJoins.next(2);
    await waitFor(() => everything.values.length >= 5, 3000, 'all of A\'s events');
    assert.deepEqual(onlyAcks.values.map((v) => v.events.__typename), ['AckEvent', 'AckEvent', 'AckEvent']);
    assert.deepEqual(onlyAcks.values.map((v) => v.events.ack), ['SERVER', 'DEVICE', 'READ']);
    assert.deepEqual(onlyMessages.values.map((v) => [v.events.type, v.events.message.id]), [['MESSAGE', sent.id]]);
    assert.deepEqual(bMessagesAndJoins.values.map((v) => v.events.type).sort(), ['GROUP_JOIN', 'MESSAGE']);
    const allTypes = new Set(everything.values.map((v) => v.events.type));
    assert.deepEqual([...allTypes].sort(), ['ACK', 'GROUP_JOIN', 'MESSAGE']);
  });
});
