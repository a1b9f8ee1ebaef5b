// The Baileys engine's contact, profile, group administration and call calls through the public API (GraphQL,
// and REST's check-number and picture routes), on the suite's backend: the app runs with a fake socket in place
// of Baileys' (no WhatsApp is reachable), which records each call with the arguments Baileys documents and
// answers as WhatsApp would; WhatsApp's refusals come back as the gateway's error codes. Also: `@lid` chat ids
// on a Baileys session (mapped to the number where Baileys told it, refused on other engines), and history
// retention pruning the Baileys engine's stored messages.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CREATE, STATUS, startServer, tempDir, waitFor, type TestServer } from './helpers/app.js';
import { boomError, fakeBaileys, fixture, type FakeSocket } from './helpers/baileys.js';
import { errorOf, SEND_TEXT } from './helpers/messaging.js';
import { rest } from './rest-helpers.js';

const creds = fixture('creds.json');
const f = fixture('events.json');
const PEER = '4915550000002@c.us';
const GROUP = '120363025246125486@g.us';
const LID_MEMBER = '201863227543599@lid';

const GROUP_FIELDS = 'id subject description owner createdAt announce restrict participants { id isAdmin isSuperAdmin }';
const GROUP_QUERY = `query($s: String!, $g: String!) { session(sessionId: $s) { chat(chatId: $g) { id group { ${GROUP_FIELDS} } } } }`;
const SUBJECT = `mutation($input: SetGroupSubjectInput!) { setGroupSubject(input: $input) { groupId group { subject } } }`;
const DESCRIPTION = `mutation($input: SetGroupDescriptionInput!) { setGroupDescription(input: $input) { group { description } } }`;
const SETTINGS = `mutation($input: SetGroupSettingsInput!) { setGroupSettings(input: $input) { group { announce restrict } } }`;
const PROMOTE = `mutation($input: GroupParticipantsInput!) { promoteParticipants(input: $input) { participants { id status } } }`;
const DEMOTE = `mutation($input: GroupParticipantsInput!) { demoteParticipants(input: $input) { participants { id status } } }`;
const INVITE = 'mutation($s: String!, $g: String!) { groupInviteLink(sessionId: $s, groupId: $g) { groupId link } }';
const REVOKE = 'mutation($s: String!, $g: String!) { revokeGroupInviteLink(sessionId: $s, groupId: $g) { link } }';
const JOIN = `mutation($s: String!, $l: String!) { joinGroup(sessionId: $s, link: $l) { groupId group { subject } } }`;
const LEAVE = 'mutation($s: String!, $g: String!) { leaveGroup(sessionId: $s, groupId: $g) { groupId group { id } } }';
const CHECK = 'query($s: String!, $n: String!) { checkNumber(sessionId: $s, number: $n) { number exists id } }';
const PAIR = 'mutation($s: String!, $p: String!) { requestPairingCode(sessionId: $s, phoneNumber: $p) { code } }';
const PROFILE = 'query($s: String!, $c: String!) { session(sessionId: $s) { contact(contactId: $c) { id about isBlocked profilePicture { url } } } }';
const BLOCK = 'mutation($s: String!, $c: String!) { blockContact(sessionId: $s, contactId: $c) { id isBlocked } }';
const UNBLOCK = 'mutation($s: String!, $c: String!) { unblockContact(sessionId: $s, contactId: $c) { id isBlocked } }';
const NAME = 'mutation($s: String!, $n: String!) { setProfileName(sessionId: $s, name: $n) { id } }';
const ABOUT = 'mutation($s: String!, $a: String!) { setProfileAbout(sessionId: $s, about: $a) { id } }';
const PICTURE = 'mutation($s: String!, $d: String!) { setProfilePicture(sessionId: $s, data: $d) { id } }';
const REJECT = 'mutation($s: String!, $id: String!, $m: String) { rejectCall(sessionId: $s, callId: $id, message: $m) }';
const CHAT_MESSAGES = 'query($s: String!, $c: String!) { session(sessionId: $s) { chat(chatId: $c) { id unreadCount messages(last: 20) { edges { node { id } } } } } }';
const PIXEL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const servers: TestServer[] = [];
after(async () => {
  await Promise.allSettled(servers.map((s) => s.dispose()));
});

/** A server whose Baileys engine makes fake sockets; `settings` overrides its config. */
async function baileysServer(settings: Record<string, unknown> = {}) {
  const fake = fakeBaileys();
  const server = await startServer(settings as never, tempDir(), { loadBaileys: async () => fake.lib });
  servers.push(server);
  return { server, fake };
}

/** A Baileys session shown its QR (QR_READY), its socket. */
async function waitingSession(server: TestServer, sockets: FakeSocket[], sessionId: string): Promise<FakeSocket> {
  const before = sockets.length;
  await server.gqlOk(CREATE, { input: { sessionId, config: { engine: 'BAILEYS' } } });
  await waitFor(async () => sockets.length > before, 10_000, 'a socket');
  const sock = sockets[sockets.length - 1]!;
  // Shown again while the session is not QR_READY yet (as Baileys rotates its QR): a first one may reach the
  // session manager before it took the started session.
  await waitFor(async () => {
    if ((await server.gqlOk(STATUS, { id: sessionId })).session.status === 'QR_READY') return true;
    sock.emit({ 'connection.update': { qr: '2@fakeqr,publickey,identitykey,advsecret' } });
    return false;
  }, 10_000, 'QR_READY');
  return sock;
}

/** The account logged in on the phone: the socket has the fixture's creds and opens; the session is READY. */
async function login(server: TestServer, sock: FakeSocket, sessionId: string): Promise<void> {
  Object.assign((sock.config.auth as { creds: object }).creds, creds);
  sock.emit({ 'connection.update': { connection: 'open' } });
  await waitFor(async () => (await server.gqlOk(STATUS, { id: sessionId })).session.status === 'READY', 10_000, 'READY');
}

const callsOf = (sock: FakeSocket, method: string) => sock.calls.filter((c) => c.method === method).map((c) => c.args);

describe('Baileys engine through the API: contacts, groups, profile, calls', () => {
  let server: TestServer;
  let sock: FakeSocket;
  let sockets: FakeSocket[];
  let pictures: ReturnType<typeof createServer>;

  before(async () => {
    ({ server, fake: { sockets } } = await baileysServer());
    sock = await waitingSession(server, sockets, 'b');
    // WhatsApp's CDN for profile pictures, here a local server.
    pictures = createServer((req, res) => {
      if (req.url === '/pp/peer.jpg') res.writeHead(200, { 'content-type': 'image/jpeg' }).end(Buffer.from('jpeg bytes'));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => pictures.listen(0, '127.0.0.1', r));
  });
  after(() => {
    pictures.closeAllConnections();
    return new Promise<void>((r) => pictures.close(() => r()));
  });

  it('requestPairingCode reaches the socket while it waits for the login (shown XXXX-XXXX); once READY it is refused', async () => {
    const viaRest = await rest(server, 'POST', '/sessions/b/pairing-code', { phoneNumber: '+49 1555 0000001' });
    assert.equal(viaRest.status, 200, JSON.stringify(viaRest.body));
    assert.equal(viaRest.body.data.code, 'ABCD-2345');
    assert.deepEqual(callsOf(sock, 'requestPairingCode'), [['4915550000001']]);
    await login(server, sock, 'b');
    assert.equal(errorOf(await server.gql(PAIR, { s: 'b', p: '4915550000001' }))?.code, 'INVALID_SESSION_STATE');
    sock.emit({ 'messaging-history.set': f.history });
    await waitFor(async () => (await server.gqlOk(GROUP_QUERY, { s: 'b', g: GROUP })).session.chat !== null, 5000, 'the history');
  });

  it('checkNumber: onWhatsApp with the number as a JID (GraphQL and REST)', async () => {
    assert.deepEqual((await server.gqlOk(CHECK, { s: 'b', n: '+49 1555 0000002' })).checkNumber, { number: '4915550000002', exists: true, id: PEER });
    assert.deepEqual((await server.gqlOk(CHECK, { s: 'b', n: '4915559999999' })).checkNumber, { number: '4915559999999', exists: false, id: null });
    const viaRest = await rest(server, 'GET', '/sessions/b/check-number/4915550000002');
    assert.equal(viaRest.status, 200, JSON.stringify(viaRest.body));
    assert.deepEqual([viaRest.body.data.exists, viaRest.body.data.id], [true, PEER]);
    assert.deepEqual(callsOf(sock, 'onWhatsApp').slice(0, 2), [['4915550000002@s.whatsapp.net'], ['4915559999999@s.whatsapp.net']]);
    sock.failNext.set('onWhatsApp', boomError(428, 'Connection Closed'));
    assert.equal(errorOf(await server.gql(CHECK, { s: 'b', n: '4915550000002' }))?.code, 'SESSION_NOT_READY', 'a connection closed during the call');
  });

  it('group: groupMetadata as the Group (members by number, admins, owner, settings)', async () => {
    const { group } = (await server.gqlOk(GROUP_QUERY, { s: 'b', g: GROUP })).session.chat;
    assert.deepEqual(group, {
      id: GROUP,
      subject: 'Team',
      description: null,
      owner: '4915550000001@c.us',
      createdAt: new Date(1764800000 * 1000).toISOString(),
      announce: false,
      restrict: false,
      participants: [
        { id: '4915550000001@c.us', isAdmin: true, isSuperAdmin: true },
        { id: '4915550000006@c.us', isAdmin: false, isSuperAdmin: false },
      ],
    });
    assert.ok(callsOf(sock, 'groupMetadata').some(([jid]) => jid === GROUP));
  });

  it('subject, description and settings: groupUpdateSubject, groupUpdateDescription, groupSettingUpdate; a refusal is NOT_GROUP_ADMIN', async () => {
    const renamed = await server.gqlOk(SUBJECT, { input: { sessionId: 'b', groupId: GROUP, subject: 'Renamed' } });
    assert.deepEqual(renamed.setGroupSubject, { groupId: GROUP, group: { subject: 'Renamed' } });
    assert.deepEqual(callsOf(sock, 'groupUpdateSubject'), [[GROUP, 'Renamed']]);
    const described = await server.gqlOk(DESCRIPTION, { input: { sessionId: 'b', groupId: GROUP, description: 'What we do' } });
    assert.equal(described.setGroupDescription.group.description, 'What we do');
    assert.deepEqual(callsOf(sock, 'groupUpdateDescription'), [[GROUP, 'What we do']]);
    const set = await server.gqlOk(SETTINGS, { input: { sessionId: 'b', groupId: GROUP, announce: true, restrict: true } });
    assert.deepEqual(set.setGroupSettings.group, { announce: true, restrict: true });
    assert.deepEqual(callsOf(sock, 'groupSettingUpdate'), [[GROUP, 'announcement'], [GROUP, 'locked']]);
    await server.gqlOk(SETTINGS, { input: { sessionId: 'b', groupId: GROUP, announce: false } });
    assert.deepEqual(callsOf(sock, 'groupSettingUpdate').at(-1), [GROUP, 'not_announcement']);

    sock.failNext.set('groupUpdateSubject', boomError(403, 'forbidden'));
    const refused = errorOf(await server.gql(SUBJECT, { input: { sessionId: 'b', groupId: GROUP, subject: 'Nope' } }));
    assert.equal(refused?.code, 'NOT_GROUP_ADMIN');
    sock.failNext.set('groupUpdateDescription', boomError(500, 'internal-server-error'));
    assert.equal(errorOf(await server.gql(DESCRIPTION, { input: { sessionId: 'b', groupId: GROUP, description: 'x' } }))?.code, 'ENGINE_ERROR');
    // A group this account is not in answers null.
    sock.failNext.set('groupMetadata', boomError(404, 'item-not-found'));
    assert.equal((await server.gqlOk(GROUP_QUERY, { s: 'b', g: GROUP })).session.chat.group, null);
  });

  it('promote and demote: groupParticipantsUpdate with per-participant statuses', async () => {
    const promoted = await server.gqlOk(PROMOTE, { input: { sessionId: 'b', groupId: GROUP, participants: ['4915550000006@c.us', '4915550000009@c.us', 'bad'] } });
    assert.deepEqual(promoted.promoteParticipants.participants, [
      { id: '4915550000006@c.us', status: 200 },
      { id: '4915550000009@c.us', status: 404 },
      { id: 'bad', status: 400 },
    ]);
    assert.deepEqual(callsOf(sock, 'groupParticipantsUpdate').at(-1), [GROUP, ['4915550000006@s.whatsapp.net', '4915550000009@s.whatsapp.net'], 'promote']);
    const member = (await server.gqlOk(GROUP_QUERY, { s: 'b', g: GROUP })).session.chat.group.participants[1];
    assert.deepEqual(member, { id: '4915550000006@c.us', isAdmin: true, isSuperAdmin: false });
    const demoted = await server.gqlOk(DEMOTE, { input: { sessionId: 'b', groupId: GROUP, participants: ['4915550000006@c.us'] } });
    assert.deepEqual(demoted.demoteParticipants.participants, [{ id: '4915550000006@c.us', status: 200 }]);
    assert.deepEqual(callsOf(sock, 'groupParticipantsUpdate').at(-1), [GROUP, ['4915550000006@s.whatsapp.net'], 'demote']);
  });

  it('invite links: groupInviteCode, groupRevokeInvite; joinGroup: groupAcceptInvite (a dead link is NOT_FOUND); leaveGroup: groupLeave', async () => {
    assert.deepEqual((await server.gqlOk(INVITE, { s: 'b', g: GROUP })).groupInviteLink, { groupId: GROUP, link: 'https://chat.whatsapp.com/InviteCode0001' });
    assert.equal((await server.gqlOk(REVOKE, { s: 'b', g: GROUP })).revokeGroupInviteLink.link, 'https://chat.whatsapp.com/InviteCode0002');
    assert.deepEqual([callsOf(sock, 'groupInviteCode'), callsOf(sock, 'groupRevokeInvite')], [[[GROUP]], [[GROUP]]]);
    const joined = await server.gqlOk(JOIN, { s: 'b', l: 'https://chat.whatsapp.com/AbCdEf123456' });
    assert.deepEqual(joined.joinGroup, { groupId: '120363025246125777@g.us', group: { subject: 'Renamed' } });
    assert.deepEqual(callsOf(sock, 'groupAcceptInvite'), [['AbCdEf123456']]);
    sock.failNext.set('groupAcceptInvite', boomError(410, 'gone'));
    assert.equal(errorOf(await server.gql(JOIN, { s: 'b', l: 'AbCdEf123457' }))?.code, 'NOT_FOUND');
    assert.deepEqual((await server.gqlOk(LEAVE, { s: 'b', g: GROUP })).leaveGroup, { groupId: GROUP, group: null });
    assert.deepEqual(callsOf(sock, 'groupLeave'), [[GROUP]]);
  });

  it('a contact: about (fetchStatus), picture (profilePictureUrl; the bytes at the REST picture route), blocked (fetchBlocklist); block and unblock', async () => {
    const none = (await server.gqlOk(PROFILE, { s: 'b', c: PEER })).session.contact;
    assert.deepEqual(none, { id: PEER, about: 'Available for calls', isBlocked: false, profilePicture: null });
    assert.deepEqual(callsOf(sock, 'fetchStatus').at(-1), ['4915550000002@s.whatsapp.net']);
    sock.pictureUrl = `http://127.0.0.1:${(pictures.address() as AddressInfo).port}/pp/peer.jpg`;
    const shown = (await server.gqlOk(PROFILE, { s: 'b', c: PEER })).session.contact;
    assert.deepEqual(shown.profilePicture, { url: `/api/v1/sessions/b/contacts/${encodeURIComponent(PEER)}/picture` });
    const picture = await rest(server, 'GET', `/sessions/b/contacts/${PEER}/picture`);
    assert.equal(picture.status, 200);
    assert.equal(picture.headers.get('content-type'), 'image/jpeg');
    assert.equal(picture.raw.toString(), 'jpeg bytes');
    assert.deepEqual(callsOf(sock, 'profilePictureUrl').at(-1), ['4915550000002@s.whatsapp.net', 'image']);
    sock.pictureUrl = null;
    assert.equal((await rest(server, 'GET', `/sessions/b/contacts/${PEER}/picture`)).status, 404);

    assert.deepEqual((await server.gqlOk(BLOCK, { s: 'b', c: PEER })).blockContact, { id: PEER, isBlocked: true });
    assert.deepEqual((await server.gqlOk(UNBLOCK, { s: 'b', c: PEER })).unblockContact, { id: PEER, isBlocked: false });
    assert.deepEqual(callsOf(sock, 'updateBlockStatus'), [
      ['4915550000002@s.whatsapp.net', 'block'],
      ['4915550000002@s.whatsapp.net', 'unblock'],
    ]);
  });

  it('own profile: updateProfileName, updateProfileStatus, updateProfilePicture (of the own JID)', async () => {
    await server.gqlOk(NAME, { s: 'b', n: 'Gateway' });
    await server.gqlOk(ABOUT, { s: 'b', a: 'At the desk' });
    await server.gqlOk(PICTURE, { s: 'b', d: PIXEL });
    assert.deepEqual(callsOf(sock, 'updateProfileName'), [['Gateway']]);
    assert.deepEqual(callsOf(sock, 'updateProfileStatus'), [['At the desk']]);
    const [[jid, bytes]] = callsOf(sock, 'updateProfilePicture') as [[string, Buffer]];
    assert.equal(jid, creds.me.id);
    assert.deepEqual(bytes, Buffer.from(PIXEL.split(',')[1]!, 'base64'));
  });

  it('rejectCall: the ringing call by its id and caller (rejectCall), then the message to the caller; an unknown call is NOT_FOUND', async () => {
    sock.emit({ call: f.call });
    const callId = f.call[0].id as string;
    await waitFor(async () => {
      const r = await server.gql(REJECT, { s: 'b', id: callId, m: 'Busy, I will call back' });
      if (errorOf(r)?.code === 'NOT_FOUND') return false;
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      return true;
    }, 5000, 'the call rejected');
    assert.deepEqual(callsOf(sock, 'rejectCall'), [[callId, '4915550000002@s.whatsapp.net']]);
    assert.deepEqual(callsOf(sock, 'sendMessage').at(-1), ['4915550000002@s.whatsapp.net', { text: 'Busy, I will call back' }, {}]);
    assert.equal(errorOf(await server.gql(REJECT, { s: 'b', id: callId }))?.code, 'NOT_FOUND', 'rejected already');
  });

  it('@lid chat ids: sent to the number Baileys told for it, as is otherwise; reads take them; other engines refuse them', async () => {
    // The group's metadata told 201863227543599@lid is 4915550000006.
    await server.gqlOk(SEND_TEXT, { input: { sessionId: 'b', chatId: LID_MEMBER, content: 'to a linked id' } });
    assert.equal(callsOf(sock, 'sendMessage').at(-1)?.[0], '4915550000006@s.whatsapp.net');
    await server.gqlOk(SEND_TEXT, { input: { sessionId: 'b', chatId: '201863227500000@lid', content: 'to an unknown one' } });
    assert.equal(callsOf(sock, 'sendMessage').at(-1)?.[0], '201863227500000@lid');
    const chat = (await server.gqlOk(CHAT_MESSAGES, { s: 'b', c: LID_MEMBER })).session.chat;
    assert.equal(chat?.id, '4915550000006@c.us', 'the chat under the number');
    assert.equal(errorOf(await server.gql(SEND_TEXT, { input: { sessionId: 'b', chatId: '12@lid', content: 'x' } }))?.code, 'INVALID_CHAT_ID');

    await server.gqlOk(CREATE, { input: { sessionId: 'sb', config: { engine: 'SANDBOX', sandbox: { autoScanMs: 20 } } } });
    await waitFor(async () => (await server.gqlOk(STATUS, { id: 'sb' })).session.status === 'READY', 5000, 'sandbox READY');
    const refused = errorOf(await server.gql(SEND_TEXT, { input: { sessionId: 'sb', chatId: LID_MEMBER, content: 'x' } }));
    assert.equal(refused?.code, 'INVALID_CHAT_ID');
    assert.match(JSON.stringify(await server.gql(SEND_TEXT, { input: { sessionId: 'sb', chatId: LID_MEMBER, content: 'x' } })), /only sessions on the Baileys engine/);
  });
});

describe('history retention on the Baileys engine', () => {
  it("prunes the engine's stored messages past the window (by their age, whenever stored); unread counts follow", async () => {
    const { server, fake } = await baileysServer({ history: { retentionDays: 1, pruneIntervalMs: 50 } });
    const sock = await waitingSession(server, fake.sockets, 'r');
    await login(server, sock, 'r');
    const now = Math.floor(Date.now() / 1000);
    const fresh = { ...structuredClone(f.upserts.text), messageTimestamp: now };
    fresh.key.id = 'FRESH0001';
    // A live message first, then a history sync of messages a year old: stored after it, pruned before it.
    sock.emit({ 'messages.upsert': { type: 'notify', messages: [fresh] } });
    sock.emit({ 'messaging-history.set': f.history });
    const count = async () => Number((await server.sql<{ n: number }>(`SELECT COUNT(*) AS n FROM baileys_messages WHERE session_id = 'r'`))[0]!.n);
    await waitFor(async () => (await count()) === 1, 10_000, 'the old messages pruned');
    const chat = (await server.gqlOk(CHAT_MESSAGES, { s: 'r', c: PEER })).session.chat;
    assert.deepEqual(chat.messages.edges.map((e: { node: { id: string } }) => e.node.id), ['FRESH0001']);
    assert.equal(chat.unreadCount, 1, 'the history said 2 unread, and the live one; one message is left');
    const group = (await server.gqlOk(CHAT_MESSAGES, { s: 'r', c: GROUP })).session.chat;
    assert.deepEqual([group.unreadCount, group.messages.edges.length], [0, 0], 'the chat stays, without messages');
  });
});
