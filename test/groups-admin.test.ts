// Group administration between three sandbox sessions (issue 24, Must show 4 and 5): the reference's createGroup
// example as written, subject/description/settings, announce refusing a non-admin, promote/demote, an invite
// link joined by another session, leave; each event on graphql-ws, the legacy /ws socket and a webhook.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { readySession, waitFor, type TestServer } from './helpers/app.js';
import { errorOf, live, SEND_TEXT, twoSessions } from './helpers/messaging.js';
import { REGISTER, startReceiver, type Receiver } from './helpers/webhooks.js';
import { rest } from './rest-helpers.js';

const GROUP = 'id subject description owner announce restrict participants { id isAdmin isSuperAdmin }';
const CREATE_GROUP = 'mutation($input: CreateGroupInput!) { createGroup(input: $input) { gid participants { id status } } }';
const ADD = 'mutation($input: GroupParticipantsInput!) { addParticipants(input: $input) { participants { id status } } }';
const SUBJECT = `mutation($input: SetGroupSubjectInput!) { setGroupSubject(input: $input) { group { ${GROUP} } } }`;
const DESCRIPTION = `mutation($input: SetGroupDescriptionInput!) { setGroupDescription(input: $input) { group { ${GROUP} } } }`;
const SETTINGS = `mutation($input: SetGroupSettingsInput!) { setGroupSettings(input: $input) { group { ${GROUP} } } }`;
const PROMOTE = 'mutation($input: GroupParticipantsInput!) { promoteParticipants(input: $input) { groupId participants { id status } } }';
const DEMOTE = 'mutation($input: GroupParticipantsInput!) { demoteParticipants(input: $input) { groupId participants { id status } } }';
const LINK = 'mutation($s: String!, $g: String!) { groupInviteLink(sessionId: $s, groupId: $g) { groupId link } }';
const REVOKE = 'mutation($s: String!, $g: String!) { revokeGroupInviteLink(sessionId: $s, groupId: $g) { groupId link } }';
const JOIN = `mutation($s: String!, $l: String!) { joinGroup(sessionId: $s, link: $l) { groupId group { ${GROUP} } } }`;
const LEAVE = 'mutation($s: String!, $g: String!) { leaveGroup(sessionId: $s, groupId: $g) { groupId group { id } } }';
const CHAT_GROUP = `query($s: String!, $g: String!) { session(sessionId: $s) { chat(chatId: $g) { group { ${GROUP} } } } }`;
const EVENTS = `subscription($s: String!, $types: [EventType!]) { events(sessionId: $s, types: $types) {
  type
  ... on GroupUpdateEvent { groupId by subject description announce restrict }
  ... on GroupPromoteEvent { groupId participants by }
  ... on GroupDemoteEvent { groupId participants by }
  ... on GroupJoinEvent { groupId participants by }
  ... on GroupLeaveEvent { groupId participants by }
} }`;
const TYPES = ['GROUP_UPDATE', 'GROUP_PROMOTE', 'GROUP_DEMOTE', 'GROUP_JOIN', 'GROUP_LEAVE'];

function legacySocket(server: TestServer, sessionId: string) {
  const ws = new WebSocket(`${server.wsUrl}/ws/${sessionId}`);
  const events: any[] = [];
  ws.on('message', (data) => events.push(JSON.parse(String(data))));
  return { ws, events, opened: new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject))) };
}

describe('group administration', () => {
  let server: TestServer;
  let a: string;
  let b: string;
  let c: string;
  let receiver: Receiver;
  before(async () => {
    receiver = await startReceiver();
    ({ server, a, b } = await twoSessions({ webhooks: { allowCidrs: '127.0.0.1/32', pollIntervalMs: 20 } }));
    c = await readySession(server, 'C');
  });
  after(async () => {
    await server.dispose();
    await receiver.close();
  });

  it("the reference's createGroup example, as written, creates the group: 200 for the first participant, 400 for the malformed second", async () => {
    const res = await rest(server, 'POST', '/sessions/A/groups', {
      name: 'My Group',
      participants: ['1234567890@c.us', '0987654321@c.us'],
      description: 'Optional group description',
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.success, true);
    assert.match(res.body.data.gid, /^\d+-\d+@g\.us$/);
    assert.deepEqual(res.body.data.participants, [{ id: '1234567890@c.us', status: 200 }, { id: '0987654321@c.us', status: 400 }]);
    // Every participant malformed: nothing usable, the call fails; one not on WhatsApp gets 404 in its place.
    assert.equal(errorOf(await server.gql(CREATE_GROUP, { input: { sessionId: 'A', name: 'x', participants: ['bob', '0123@c.us'] } }))?.code, 'INVALID_CHAT_ID');
    const mixed = (await server.gqlOk(CREATE_GROUP, { input: { sessionId: 'A', name: 'y', participants: ['bob', b, '15559999999@c.us'] } })).createGroup;
    assert.deepEqual(mixed.participants, [{ id: 'bob', status: 400 }, { id: b, status: 200 }, { id: '15559999999@c.us', status: 404 }]);
    const added = (await server.gqlOk(ADD, { input: { sessionId: 'A', groupId: mixed.gid, participants: ['nope', c] } })).addParticipants;
    assert.deepEqual(added.participants, [{ id: 'nope', status: 400 }, { id: c, status: 200 }]);
  });

  it('subject, description, settings, promote/demote, invite link, leave between three sessions; each event reaches subscribers, /ws and webhooks', async () => {
    const gid = (await server.gqlOk(CREATE_GROUP, { input: { sessionId: 'A', name: 'Admins', participants: [b] } })).createGroup.gid;
    await server.gqlOk(REGISTER, { input: { sessionId: 'B', url: receiver.url, events: TYPES } });
    const ws = server.wsClient();
    const bEvents = await live(server, ws, EVENTS, { s: 'B', types: TYPES });
    const legacy = legacySocket(server, 'B');
    await legacy.opened;

    // Without restrict any member edits the info; B renames, A describes.
    const renamed = (await server.gqlOk(SUBJECT, { input: { sessionId: 'B', groupId: gid, subject: 'Admins (renamed)' } })).setGroupSubject.group;
    assert.equal(renamed.subject, 'Admins (renamed)');
    const described = (await server.gqlOk(DESCRIPTION, { input: { sessionId: 'A', groupId: gid, description: 'who runs what' } })).setGroupDescription.group;
    assert.deepEqual([described.description, described.owner, described.announce, described.restrict], ['who runs what', a, false, false]);

    // Settings are admins' only; announce then refuses B's send with its own code.
    assert.equal(errorOf(await server.gql(SETTINGS, { input: { sessionId: 'B', groupId: gid, announce: true } }))?.code, 'NOT_GROUP_ADMIN');
    const set = (await server.gqlOk(SETTINGS, { input: { sessionId: 'A', groupId: gid, announce: true, restrict: true } })).setGroupSettings.group;
    assert.deepEqual([set.announce, set.restrict], [true, true]);
    const refused = await server.gql(SEND_TEXT, { input: { sessionId: 'B', chatId: gid, content: 'may I?' } });
    assert.equal(errorOf(refused)?.code, 'GROUP_ANNOUNCE_ONLY', JSON.stringify(refused));
    const restRefused = await rest(server, 'POST', '/sessions/B/send-text', { chatId: gid, content: 'may I?' });
    assert.deepEqual([restRefused.status, restRefused.body.error.code], [403, 'GROUP_ANNOUNCE_ONLY']);
    assert.equal(errorOf(await server.gql(SUBJECT, { input: { sessionId: 'B', groupId: gid, subject: 'mine' } }))?.code, 'NOT_GROUP_ADMIN');

    // Promote B: B may now send and edit; demote again. The creator cannot be demoted.
    const promoted = (await server.gqlOk(PROMOTE, { input: { sessionId: 'A', groupId: gid, participants: [b, c, 'x'] } })).promoteParticipants;
    assert.deepEqual(promoted.participants, [{ id: b, status: 200 }, { id: c, status: 404 }, { id: 'x', status: 400 }]);
    await server.gqlOk(SEND_TEXT, { input: { sessionId: 'B', chatId: gid, content: 'now I may' } });
    const demoted = (await server.gqlOk(DEMOTE, { input: { sessionId: 'B', groupId: gid, participants: [a, b] } })).demoteParticipants;
    assert.deepEqual(demoted.participants, [{ id: a, status: 403 }, { id: b, status: 200 }]);
    const view = (await server.gqlOk(CHAT_GROUP, { s: 'B', g: gid })).session.chat.group;
    assert.deepEqual(view.participants, [{ id: a, isAdmin: true, isSuperAdmin: true }, { id: b, isAdmin: false, isSuperAdmin: false }]);

    // An invite link: C (not in the group) joins with it; a revoked one no longer works.
    assert.equal(errorOf(await server.gql(LINK, { s: 'B', g: gid }))?.code, 'NOT_GROUP_ADMIN');
    const first = (await server.gqlOk(LINK, { s: 'A', g: gid })).groupInviteLink.link;
    assert.match(first, /^https:\/\/chat\.whatsapp\.com\/[A-Za-z0-9_-]{22}$/);
    assert.equal((await server.gqlOk(LINK, { s: 'A', g: gid })).groupInviteLink.link, first);
    const second = (await server.gqlOk(REVOKE, { s: 'A', g: gid })).revokeGroupInviteLink.link;
    assert.notEqual(second, first);
    assert.equal(errorOf(await server.gql(JOIN, { s: 'C', l: first }))?.code, 'NOT_FOUND');
    const joined = (await server.gqlOk(JOIN, { s: 'C', l: second })).joinGroup;
    assert.equal(joined.groupId, gid);
    assert.deepEqual(joined.group.participants.map((p: any) => p.id), [a, b, c]);

    // B leaves; C still sees the group without B, and B no longer sees it.
    const left = (await server.gqlOk(LEAVE, { s: 'B', g: gid })).leaveGroup;
    assert.deepEqual(left, { groupId: gid, group: null });
    assert.deepEqual((await server.gqlOk(CHAT_GROUP, { s: 'C', g: gid })).session.chat.group.participants.map((p: any) => p.id), [a, c]);
    assert.equal((await server.gqlOk(CHAT_GROUP, { s: 'B', g: gid })).session.chat.group, null);

    // B saw: two updates (subject, description), the settings update, promote, demote, C's join, its own leave.
    const expected = ['GROUP_UPDATE', 'GROUP_UPDATE', 'GROUP_UPDATE', 'GROUP_PROMOTE', 'GROUP_DEMOTE', 'GROUP_JOIN', 'GROUP_LEAVE'];
    await bEvents.next(expected.length);
    const seen = bEvents.values.map((v: any) => v.events);
    assert.deepEqual(seen.map((e: any) => e.type), expected);
    assert.deepEqual(seen[0], { type: 'GROUP_UPDATE', groupId: gid, by: b, subject: 'Admins (renamed)', description: null, announce: null, restrict: null });
    assert.deepEqual(seen[2], { type: 'GROUP_UPDATE', groupId: gid, by: a, subject: null, description: null, announce: true, restrict: true });
    assert.deepEqual(seen[3], { type: 'GROUP_PROMOTE', groupId: gid, participants: [b], by: a });
    assert.deepEqual(seen[4], { type: 'GROUP_DEMOTE', groupId: gid, participants: [b], by: b });
    assert.deepEqual(seen[5], { type: 'GROUP_JOIN', groupId: gid, participants: [c], by: null });
    assert.deepEqual(seen[6], { type: 'GROUP_LEAVE', groupId: gid, participants: [b], by: b });

    // The same events, lower-case, with one data shape on /ws and webhooks.
    const names = expected.map((t) => t.toLowerCase());
    await waitFor(() => legacy.events.filter((e) => e.event.startsWith('group_')).length >= names.length, 5000, '/ws group events');
    const wsGroup = legacy.events.filter((e) => e.event.startsWith('group_'));
    assert.deepEqual(wsGroup.map((e) => e.event), names);
    await waitFor(() => receiver.received.length >= names.length, 5000, 'webhook group events');
    const hooked = [...receiver.received].sort((x, y) => x.at - y.at).map((r) => r.json);
    assert.deepEqual(hooked.map((h) => h.event).sort(), [...names].sort());
    for (const e of wsGroup) assert.deepEqual(hooked.find((h) => h.event === e.event && JSON.stringify(h.data) === JSON.stringify(e.data))?.data, e.data);
    assert.deepEqual(wsGroup[2].data, { groupId: gid, by: a, subject: null, description: null, announce: true, restrict: true });
    assert.deepEqual(wsGroup[3].data, { groupId: gid, participants: [b], by: a });
    legacy.ws.close();
    await ws.dispose();
  });
});
