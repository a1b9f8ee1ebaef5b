// A Baileys session on the app's store (SQLite, and PostgreSQL when WA_TEST_STORE=postgres) with a fake
// socket in place of Baileys' makeWASocket: events from recorded fixtures fill the history the API reads;
// every send, action, group and contact call reaches the socket with Baileys' documented arguments; close
// reasons decide between reconnecting and FAILED; the login is kept in the store, sealed with the key.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import * as baileys from 'baileys';
import { AuthCipher, AuthKeyError, checkAuthStore, loadAuthState } from '../src/engine/baileys/auth-store.js';
import { baileysSql } from '../src/engine/baileys/sql.js';
import { EngineError, type EngineEvent, type OutgoingContent } from '../src/engine/engine.js';
import { baileysConfig, fakeEngine, fixture, openTestStore, settle, until, type FakeSocket, type TestStore } from './helpers/baileys.js';

const stores: TestStore[] = [];
after(async () => {
  await Promise.allSettled(stores.map((s) => s.close()));
});

async function store(): Promise<TestStore> {
  const s = await openTestStore();
  stores.push(s);
  return s;
}

const f = fixture('events.json');
const creds = fixture('creds.json');
const PEER = '4915550000002@c.us';
const GROUP = '120363025246125486@g.us';

function boom(statusCode: number, message: string) {
  return { connection: 'close', lastDisconnect: { error: Object.assign(new Error(message), { output: { statusCode } }), date: new Date() } };
}

/** A session whose login is the fixture's, connected (its socket said `open`). */
async function openSession(ts: TestStore, sessionId = 'b1') {
  const sql = baileysSql(ts.store);
  const auth = await loadAuthState(sql, new AuthCipher(null), sessionId, baileys);
  Object.assign(auth.state.creds, creds);
  await auth.saveCreds();
  const t = fakeEngine(ts.store);
  const session = await t.engine.start({ sessionId, config: baileysConfig(), dataDir: ts.dataDir }, t.sink);
  const sock = t.sockets[0]!;
  sock.emit({ 'connection.update': { connection: 'open' } });
  await until('READY', () => t.events.some((e) => e.type === 'ready'));
  return { ...t, session, sock };
}

describe('Baileys session: history from events', () => {
  it('a messaging-history.set fixture fills chats, messages(limit, before) and contacts', async () => {
    const ts = await store();
    const { session, sock, events } = await openSession(ts);
    assert.deepEqual(events.find((e) => e.type === 'ready'), {
      type: 'ready',
      me: { id: '4915550000001@c.us', name: 'Gateway Test', pushname: 'Gateway Test', isMyContact: true, isWAContact: true },
    });
    sock.emit({ 'messaging-history.set': f.history });
    await settle(ts.store, session);
    const chats = await session.getChats();
    assert.deepEqual(
      chats.map((c) => [c.id, c.name, c.isGroup, c.unreadCount, c.timestamp, c.lastMessage?.id]),
      [
        [GROUP, 'Team', true, 0, 1764800100, 'HISTG001'],
        [PEER, 'Peer', false, 2, 1764800005, 'HIST0005'],
      ],
    );
    const newest = await session.getMessages(PEER, { limit: 2 });
    assert.deepEqual(newest.map((m) => m.id), ['HIST0004', 'HIST0005']);
    const page = await session.getMessages(PEER, { limit: 2, before: 'HIST0004' });
    assert.deepEqual(page.map((m) => [m.id, m.body, m.fromMe]), [
      ['HIST0002', 'history 2', true],
      ['HIST0003', 'history 3', false],
    ]);
    assert.deepEqual((await session.getMessages(PEER, { limit: 10, before: 'HIST0001' })).length, 0);
    const group = await session.getMessages(GROUP, { limit: 10 });
    assert.equal(group[0]?.author, '4915550000004@c.us');
    assert.deepEqual(await session.getContacts(), [
      { id: PEER, name: 'Peer Saved', pushname: 'Peer', isMyContact: true, isWAContact: true },
      { id: '4915550000004@c.us', name: null, pushname: 'Member', isMyContact: false, isWAContact: true },
    ]);
    assert.equal((await session.getContact(PEER))?.name, 'Peer Saved');
    await assert.rejects(session.getMessages('bad id', { limit: 1 }), (e: unknown) => e instanceof EngineError && e.code === 'INVALID_CHAT_ID');
    await session.stop();
  });

  it('live events: messages and acks become the gateway events; edits, reactions, revokes and votes change the stored message', async () => {
    const ts = await store();
    const { session, sock, events } = await openSession(ts);
    const upserts = f.upserts;
    sock.emit({ 'messages.upsert': { type: 'notify', messages: [upserts.text, upserts.image, upserts.poll, upserts.ownText, upserts.groupLid] } });
    await settle(ts.store, session);
    const messages = events.filter((e): e is Extract<EngineEvent, { type: 'message' }> => e.type === 'message');
    assert.deepEqual(messages.map((e) => e.message.id), ['3EB0A1B2C3D4E5F60001', '3EB0A1B2C3D4E5F60003', '3EB0A1B2C3D4E5F60012', '3EB0A1B2C3D4E5F60017', '3EB0A1B2C3D4E5F60016']);
    assert.equal((await session.getChat(PEER))?.unreadCount, 2, 'the two incoming ones of the direct chat');

    sock.emit({ 'messages.update': [f.updates.ackRead, f.updates.edit, f.updates.pollVote], 'messages.reaction': [f.reactions.added] });
    sock.emit({ 'messages.upsert': { type: 'notify', messages: [upserts.revoke] } });
    sock.emit({ 'group-participants.update': f.participants.add, 'presence.update': f.presence, call: f.call, 'groups.update': f.groupsUpdate });
    await settle(ts.store, session);
    assert.deepEqual(events.filter((e) => e.type === 'ack'), [{ type: 'ack', messageId: '3EB0A1B2C3D4E5F60017', chatId: PEER, ack: 'READ' }]);
    assert.deepEqual(events.filter((e) => e.type === 'group_join'), [{ type: 'group_join', groupId: GROUP, participants: ['4915550000005@c.us'], by: '4915550000004@c.us' }]);
    const byId = new Map((await session.getMessages(PEER, { limit: 10 })).map((m) => [m.id, m]));
    assert.equal(byId.get('3EB0A1B2C3D4E5F60017')?.ack, 'READ');
    assert.deepEqual(byId.get('3EB0A1B2C3D4E5F60017')?.reactions?.map((r) => [r.emoji, r.senderId]), [['❤️', PEER]]);
    assert.deepEqual([byId.get('3EB0A1B2C3D4E5F60003')?.caption, byId.get('3EB0A1B2C3D4E5F60003')?.edited], ['a better caption', true]);
    assert.deepEqual(byId.get('3EB0A1B2C3D4E5F60012')?.poll?.options.map((o) => o.votes), [0, 1, 0]);
    assert.equal('pollVoters' in (byId.get('3EB0A1B2C3D4E5F60012') ?? {}), false, 'voters stay in the store');
    assert.deepEqual([byId.get('3EB0A1B2C3D4E5F60001')?.type, byId.get('3EB0A1B2C3D4E5F60001')?.body], ['REVOKED', null]);
    // The same changes as the gateway's events.
    const kinds = new Set(events.map((e) => e.type));
    for (const type of ['reaction', 'message_edited', 'message_revoked', 'presence', 'call', 'group_update'] as const) assert.ok(kinds.has(type), `a ${type} event`);
    const edited = events.find((e): e is Extract<EngineEvent, { type: 'message_edited' }> => e.type === 'message_edited');
    assert.deepEqual([edited?.message.id, edited?.message.caption, edited?.message.edited], ['3EB0A1B2C3D4E5F60003', 'a better caption', true]);
    await session.stop();
  });

  it('shows @lid members by the phone ids Baileys stored, also after a restart; a group subject names the chat', async () => {
    const ts = await store();
    const auth = await loadAuthState(baileysSql(ts.store), new AuthCipher(null), 'b1', baileys);
    await auth.state.keys.set({ 'lid-mapping': { '4915550000004': '201863227543594', '201863227543594_reverse': '4915550000004' } });
    const { session, sock } = await openSession(ts);
    const bare = structuredClone(f.upserts.groupLid);
    delete bare.key.participantAlt;
    sock.emit({ 'messages.upsert': { type: 'notify', messages: [bare] } });
    sock.emit({ 'groups.update': [{ id: GROUP, subject: 'Renamed' }] });
    await settle(ts.store, session);
    assert.equal((await session.getMessages(GROUP, { limit: 1 }))[0]?.author, '4915550000004@c.us');
    assert.equal((await session.getChat(GROUP))?.name, 'Renamed');
    await session.stop();
  });

  it('keeps at most historyPerChat messages per chat (the newest)', async () => {
    const ts = await store();
    const sql = baileysSql(ts.store);
    const auth = await loadAuthState(sql, new AuthCipher(null), 'b1', baileys);
    Object.assign(auth.state.creds, creds);
    await auth.saveCreds();
    const t = fakeEngine(ts.store, { settings: { historyPerChat: 3 } });
    const session = await t.engine.start({ sessionId: 'b1', config: baileysConfig(), dataDir: ts.dataDir }, t.sink);
    t.sockets[0]!.emit({ 'messaging-history.set': f.history });
    await settle(ts.store, session);
    assert.deepEqual((await session.getMessages(PEER, { limit: 10 })).map((m) => m.id), ['HIST0003', 'HIST0004', 'HIST0005']);
    await session.stop();
  });
});

describe('Baileys session: calls reach the socket as Baileys documents them', () => {
  it('sends (every content kind, with a quote), actions, media download, groups, read', async () => {
    const ts = await store();
    const { session, sock, downloads } = await openSession(ts);
    sock.emit({ 'messages.upsert': { type: 'notify', messages: [f.upserts.text, f.upserts.image, f.upserts.ownText] } });
    await settle(ts.store, session);
    const jid = '4915550000002@s.whatsapp.net';
    const data = Buffer.from('png');

    const sent = await session.send({ chatId: PEER, content: { kind: 'text', text: 'hi' }, quotedMessageId: '3EB0A1B2C3D4E5F60001' });
    assert.deepEqual([sent.fromMe, sent.chatId, sent.body, sent.type], [true, PEER, 'hi', 'CHAT']);
    const quotedCall = sock.calls.at(-1)!;
    assert.equal(quotedCall.method, 'sendMessage');
    assert.deepEqual(quotedCall.args.slice(0, 2), [jid, { text: 'hi' }]);
    assert.equal((quotedCall.args[2] as { quoted: { key: { id: string } } }).quoted.key.id, '3EB0A1B2C3D4E5F60001', 'the stored WAMessage is quoted');
    const image = await session.send({ chatId: PEER, content: { kind: 'media', media: 'image', data, mimetype: 'image/png', caption: 'c' } });
    assert.equal(image.type, 'IMAGE');
    assert.deepEqual(sock.calls.at(-1)!.args, [jid, { image: data, mimetype: 'image/png', caption: 'c' }, {}]);
    const contents: OutgoingContent[] = [
      { kind: 'location', latitude: 1, longitude: 2 },
      { kind: 'contact', contactId: '4915550000003@c.us' },
      { kind: 'poll', name: 'Q', options: ['a', 'b'], allowMultipleAnswers: false },
      { kind: 'media', media: 'file', data, mimetype: 'application/pdf', filename: 'x.pdf' },
      { kind: 'media', media: 'audio', data, mimetype: 'audio/mpeg' },
    ];
    for (const content of contents) await session.send({ chatId: PEER, content });
    assert.deepEqual(
      sock.calls.slice(-5).map((c) => Object.keys(c.args[1] as object)[0]),
      ['location', 'contacts', 'poll', 'document', 'audio'],
    );
    assert.ok(await session.getMessages(PEER, { limit: 50 }).then((ms) => ms.some((m) => m.id === sent.id)), 'a sent message is in the history');

    const reacted = await session.act({ kind: 'react', messageId: '3EB0A1B2C3D4E5F60001', emoji: '👍' });
    assert.deepEqual(sock.calls.at(-1), { method: 'sendMessage', args: [jid, { react: { text: '👍', key: f.upserts.text.key } }] });
    assert.deepEqual(reacted?.reactions?.map((r) => [r.emoji, r.senderId]), [['👍', '4915550000001@c.us']]);
    const edited = await session.act({ kind: 'edit', messageId: '3EB0A1B2C3D4E5F60017', content: 'fixed' });
    assert.deepEqual(sock.calls.at(-1), { method: 'sendMessage', args: [jid, { text: 'fixed', edit: f.upserts.ownText.key }] });
    assert.deepEqual([edited?.body, edited?.edited], ['fixed', true]);
    const revoked = await session.act({ kind: 'delete', messageId: '3EB0A1B2C3D4E5F60017', forEveryone: true });
    assert.deepEqual(sock.calls.at(-1), { method: 'sendMessage', args: [jid, { delete: f.upserts.ownText.key }] });
    assert.equal(revoked?.type, 'REVOKED');
    const copy = await session.act({ kind: 'forward', messageId: '3EB0A1B2C3D4E5F60001', chatId: GROUP });
    assert.equal(copy?.chatId, GROUP);
    assert.deepEqual(sock.calls.at(-1)?.args[0], GROUP);
    assert.equal(((sock.calls.at(-1)?.args[1] as { forward: { key: { id: string } } }).forward.key.id), '3EB0A1B2C3D4E5F60001');
    await session.act({ kind: 'presence', chatId: PEER, presence: 'TYPING' });
    assert.deepEqual(sock.calls.at(-1), { method: 'sendPresenceUpdate', args: ['composing', jid] });
    await session.act({ kind: 'markUnread', chatId: PEER });
    assert.equal(sock.calls.at(-1)?.method, 'chatModify');
    await assert.rejects(session.act({ kind: 'vote', messageId: 'x', options: ['a'] }), (e: unknown) => e instanceof EngineError && e.code === 'ENGINE_UNSUPPORTED');

    const media = await session.getMedia('3EB0A1B2C3D4E5F60003');
    assert.deepEqual([media.data.toString(), media.mimetype], ['media bytes', 'image/jpeg']);
    assert.equal((downloads[0] as { key: { id: string } }).key.id, '3EB0A1B2C3D4E5F60003', 'downloadMediaMessage got the stored WAMessage');
    await assert.rejects(session.getMedia('3EB0A1B2C3D4E5F60001'), /has no media/);

    assert.deepEqual(await session.getGroupParticipants(GROUP), [
      { id: '4915550000001@c.us', isAdmin: true },
      { id: '4915550000006@c.us', isAdmin: false },
    ]);
    const created = await session.createGroup('New', ['4915550000002@c.us', '4915550000003@c.us'], 'about');
    assert.deepEqual(created, { gid: '120363025246125999@g.us', participants: [{ id: '4915550000002@c.us', status: 200 }, { id: '4915550000003@c.us', status: 403 }] });
    assert.deepEqual(sock.calls.filter((c) => c.method.startsWith('group')).map((c) => [c.method, c.args]), [
      ['groupMetadata', [GROUP]],
      ['groupCreate', ['New', ['4915550000002@s.whatsapp.net', '4915550000003@s.whatsapp.net']]],
      ['groupUpdateDescription', ['120363025246125999@g.us', 'about']],
    ]);
    assert.deepEqual(await session.addParticipants(GROUP, ['4915550000005@c.us']), [{ id: '4915550000005@c.us', status: 200 }]);
    assert.deepEqual(sock.calls.at(-1), { method: 'groupParticipantsUpdate', args: [GROUP, ['4915550000005@s.whatsapp.net'], 'add'] });
    await session.removeParticipants(GROUP, ['4915550000005@c.us']);
    assert.deepEqual(sock.calls.at(-1)?.args[2], 'remove');
    await assert.rejects(session.addParticipants(PEER, []), (e: unknown) => e instanceof EngineError && e.code === 'INVALID_CHAT_ID');

    await session.markChatRead(PEER);
    const read = sock.calls.at(-1)!;
    assert.equal(read.method, 'readMessages');
    assert.deepEqual((read.args[0] as { id: string }[]).map((k) => k.id).sort(), ['3EB0A1B2C3D4E5F60001', '3EB0A1B2C3D4E5F60003']);
    assert.equal((await session.getChat(PEER))?.unreadCount, 0);
    await session.stop();
    await assert.rejects(session.send({ chatId: PEER, content: { kind: 'text', text: 'x' } }), (e: unknown) => e instanceof EngineError && e.code === 'SESSION_NOT_READY');
  });
});

describe('Baileys session: login', () => {
  it('QR strings become QR data URLs; a scan (new login) is AUTHENTICATED, the open connection READY', async () => {
    const ts = await store();
    const t = fakeEngine(ts.store);
    const session = await t.engine.start({ sessionId: 'q1', config: baileysConfig(), dataDir: ts.dataDir }, t.sink);
    const sock = t.sockets[0]!;
    sock.emit({ 'connection.update': { qr: '2@abc,def,ghi,jkl' } });
    sock.emit({ 'connection.update': { qr: '2@second,def,ghi,jkl' } });
    await until('two QR codes', () => t.events.filter((e) => e.type === 'qr').length === 2);
    const [first, second] = t.events.filter((e): e is Extract<EngineEvent, { type: 'qr' }> => e.type === 'qr');
    assert.match(first!.dataUrl, /^data:image\/png;base64,/);
    assert.notEqual(first!.dataUrl, second!.dataUrl);
    assert.ok(first!.expiresAt - Date.now() > 50_000 && second!.expiresAt - Date.now() <= 20_000, 'the first lasts 60 s, later ones 20 s');
    // Pairing: Baileys says isNewLogin, then asks for a new connection (515).
    sock.emit({ 'connection.update': { isNewLogin: true, qr: undefined } });
    await until('AUTHENTICATED', () => t.events.some((e) => e.type === 'authenticated'));
    sock.emit({ 'connection.update': boom(515, 'Stream Errored (restart required)') });
    await until('the second socket', () => t.sockets.length === 2);
    t.sockets[1]!.emit({ 'connection.update': { connection: 'open' } });
    await until('READY', () => t.events.some((e) => e.type === 'ready'));
    assert.deepEqual(t.events.map((e) => e.type), ['qr', 'qr', 'authenticated', 'ready']);
    await session.stop();
  });
});

describe('Baileys session: close reasons', () => {
  async function started(ts: TestStore, settings = {}) {
    const t = fakeEngine(ts.store, { settings });
    const session = await t.engine.start({ sessionId: 'c1', config: baileysConfig(), dataDir: ts.dataDir }, t.sink);
    return { ...t, session };
  }
  const openSockets = (sockets: FakeSocket[]) => sockets.filter((s) => !s.closed && s.listening > 0).length;

  it('a lost connection reconnects after the configured backoff; then FAILED after connectAttempts; never two sockets', async () => {
    const ts = await store();
    const t = await started(ts, { reconnectBackoffMs: [30, 60], connectAttempts: 3 });
    const times: number[] = [Date.now()];
    for (let i = 0; i < 2; i++) {
      t.sockets[i]!.emit({ 'connection.update': boom(408, 'WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)') });
      assert.ok(openSockets(t.sockets) <= 1);
      await until(`socket ${i + 2}`, () => t.sockets.length === i + 2);
      times.push(Date.now());
      assert.equal(openSockets(t.sockets), 1);
    }
    assert.ok(times[1]! - times[0]! >= 25 && times[2]! - times[1]! >= 55, `backoff ${times}`);
    assert.deepEqual(t.events.filter((e) => e.type === 'disconnected').length, 2);
    t.sockets[2]!.emit({ 'connection.update': boom(408, 'WebSocket Error (getaddrinfo ENOTFOUND web.whatsapp.com)') });
    await until('FAILED', () => t.events.some((e) => e.type === 'failed'));
    assert.match((t.events.find((e) => e.type === 'failed') as { reason: string }).reason, /could not connect to WhatsApp \(3 attempts\): .*ENOTFOUND/);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(t.sockets.length, 3, 'no reconnect after FAILED');
    assert.equal(openSockets(t.sockets), 0);
  });

  it('restart required (515) reconnects at once; a replaced connection (440) fails without reconnecting', async () => {
    const ts = await store();
    const t = await started(ts, { reconnectBackoffMs: [5_000] });
    t.sockets[0]!.emit({ 'connection.update': boom(515, 'Stream Errored (restart required)') });
    await until('the second socket', () => t.sockets.length === 2, 1000);
    t.sockets[1]!.emit({ 'connection.update': { connection: 'open' } });
    await until('READY', () => t.events.some((e) => e.type === 'ready'));
    t.sockets[1]!.emit({ 'connection.update': boom(440, 'Stream Errored (conflict)') });
    await until('FAILED', () => t.events.some((e) => e.type === 'failed'));
    assert.match((t.events.find((e) => e.type === 'failed') as { reason: string }).reason, /connection replaced \(440\)/);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(t.sockets.length, 2);
    assert.equal(openSockets(t.sockets), 0);
  });

  it('a logout from the phone (401) fails with the reason and forgets the login', async () => {
    const ts = await store();
    const { sock, events } = await openSession(ts, 'c1');
    const sql = baileysSql(ts.store);
    assert.ok((await sql.all(`SELECT key_id FROM baileys_auth WHERE session_id = 'c1'`)).length > 0);
    sock.emit({ 'connection.update': boom(401, 'Connection Failure') });
    await until('FAILED', () => events.some((e) => e.type === 'failed'));
    assert.match((events.find((e) => e.type === 'failed') as { reason: string }).reason, /logged out \(401\).*forgotten/);
    await until('the login deleted', async () => (await sql.all(`SELECT key_id FROM baileys_auth WHERE session_id = 'c1'`)).length === 0);
  });

  it('a handler that throws fails only that session, which starts again', async () => {
    const ts = await store();
    const t = await started(ts);
    const other = await t.engine.start({ sessionId: 'c2', config: baileysConfig(), dataDir: ts.dataDir }, () => undefined);
    t.sockets[0]!.emit({ 'messages.upsert': { type: 'notify', messages: null } });
    await until('FAILED', () => t.events.some((e) => e.type === 'failed'));
    assert.match((t.events.find((e) => e.type === 'failed') as { reason: string }).reason, /Baileys event handling failed/);
    assert.equal(t.sockets[1]!.closed, false, 'the other session keeps its socket');
    const again = await t.engine.start({ sessionId: 'c1', config: baileysConfig(), dataDir: ts.dataDir }, t.sink);
    assert.equal(t.sockets.length, 3);
    await again.stop();
    await other.stop();
    assert.equal(openSockets(t.sockets), 0);
  });

  it('stop leaves no socket, timer or listener', async () => {
    const ts = await store();
    const t = await started(ts, { reconnectBackoffMs: [40] });
    t.sockets[0]!.emit({ 'connection.update': boom(428, 'Connection Terminated') });
    await new Promise((r) => setTimeout(r, 5));
    await t.session.stop();
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(t.sockets.length, 1, 'the pending reconnect was cancelled');
    assert.equal(openSockets(t.sockets), 0);
    assert.equal(t.sockets[0]!.listening, 0);
  });
});

describe('Baileys login store', () => {
  it('keeps the creds across a restart of the store; logout and remove delete them', async () => {
    const ts = await store();
    let sql = baileysSql(ts.store);
    const auth = await loadAuthState(sql, new AuthCipher(null), 'l1', baileys);
    Object.assign(auth.state.creds, creds);
    await auth.saveCreds();
    await auth.state.keys.set({ 'pre-key': { '1': { private: Buffer.alloc(32, 7), public: Buffer.alloc(32, 8) } } });
    await ts.store.batch.committed();
    sql = baileysSql(await ts.reopen());
    const again = await loadAuthState(sql, new AuthCipher(null), 'l1', baileys);
    assert.equal(again.state.creds.me?.id, '4915550000001:12@s.whatsapp.net');
    assert.equal(again.state.creds.registrationId, creds.registrationId);
    assert.deepEqual(Buffer.from(again.state.creds.noiseKey.private), Buffer.from(creds.noiseKey.private));
    const keys = await again.state.keys.get('pre-key', ['1', '2']);
    assert.deepEqual(Object.keys(keys), ['1']);
    assert.deepEqual(Buffer.from(keys['1']!.private), Buffer.alloc(32, 7));

    const t = fakeEngine(ts.store);
    await t.engine.forgetLogin!({ sessionId: 'l1', dataDir: ts.dataDir });
    assert.equal((await sql.all(`SELECT key_id FROM baileys_auth WHERE session_id = 'l1'`)).length, 0, 'logout');
    await again.saveCreds();
    await t.engine.forget('l1');
    assert.equal((await sql.all(`SELECT key_id FROM baileys_auth WHERE session_id = 'l1'`)).length, 0, 'remove');
  });

  it('with a key the store holds no plaintext key bytes; a wrong or missing key is refused', async () => {
    const ts = await store();
    const key = Buffer.alloc(32, 42);
    const sql = baileysSql(ts.store);
    const auth = await loadAuthState(sql, new AuthCipher(key), 'e1', baileys);
    Object.assign(auth.state.creds, creds);
    await auth.saveCreds();
    await auth.state.keys.set({ 'pre-key': { '1': { private: Buffer.alloc(32, 7), public: Buffer.alloc(32, 8) } } });
    await ts.store.batch.committed();
    const rows = await sql.all<{ value: string }>(`SELECT value FROM baileys_auth`);
    assert.equal(rows.length, 2);
    const secrets = [creds.noiseKey.private, creds.signedIdentityKey.private, creds.advSecretKey, Buffer.alloc(32, 7)].map((b) => Buffer.from(b));
    for (const row of rows) {
      assert.match(row.value, /^v1:/);
      for (const secret of secrets) {
        for (const form of [secret.toString('base64'), secret.toString('hex'), secret.toString('latin1')]) assert.ok(!row.value.includes(form), 'a key in plaintext');
      }
      assert.doesNotMatch(row.value, /registrationId|4915550000001/);
    }
    assert.equal(await checkAuthStore(sql, new AuthCipher(key)), 0);
    await assert.rejects(checkAuthStore(sql, new AuthCipher(Buffer.alloc(32, 1))), (e: unknown) => e instanceof AuthKeyError && /does not decrypt/.test(e.message));
    await assert.rejects(checkAuthStore(sql, new AuthCipher(null)), (e: unknown) => e instanceof AuthKeyError && /encrypted/.test(e.message));
    const back = await loadAuthState(sql, new AuthCipher(key), 'e1', baileys);
    assert.equal(back.state.creds.registrationId, creds.registrationId);
  });
});
