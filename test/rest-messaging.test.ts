import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, waitFor, type TestServer } from './helpers/app.js';
import { assertError, rest, restReadySession } from './rest-helpers.js';

const ECHO = '15550000001@c.us';
const PNG_1x1 =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe('REST messaging, chats, contacts and groups routes', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;
  before(async () => {
    server = await startServer();
    alice = await restReadySession(server, 'm-alice');
    bob = await restReadySession(server, 'm-bob');
    await rest(server, 'POST', '/sessions', { sessionId: 'm-waiting', waitForQR: true });
  });
  after(() => server.dispose());

  it('POST /send-text sends (reference fields) and the echo bot answers', async () => {
    const res = await rest(server, 'POST', '/sessions/m-alice/send-text', { chatId: ECHO, content: 'Hello, World!' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(Object.keys(res.body.data).sort(), ['chatId', 'content', 'messageId', 'timestamp']);
    assert.match(res.body.data.messageId, new RegExp(`^true_${ECHO}_`));
    assert.equal(res.body.data.chatId, ECHO);
    assert.equal(res.body.data.content, 'Hello, World!');
    assert.ok(Math.abs(res.body.data.timestamp - Date.now() / 1000) < 60, 'unix seconds');
    await waitFor(async () => {
      const messages = await rest(server, 'GET', `/sessions/m-alice/chats/${ECHO}/messages`);
      return messages.body.data?.some((m: any) => !m.fromMe && m.body === 'Hello, World!');
    }, 5000, 'the echo');
  });

  it('POST /send-message is the same as send-text; quotedMessageId is passed on', async () => {
    const first = await rest(server, 'POST', '/sessions/m-alice/send-message', { chatId: bob, content: 'first' });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const reply = await rest(server, 'POST', '/sessions/m-alice/send-text', { chatId: bob, content: 'second', quotedMessageId: first.body.data.messageId });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const messages = await rest(server, 'GET', `/sessions/m-alice/chats/${bob}/messages`);
    const second = messages.body.data.find((m: any) => m.id === reply.body.data.messageId);
    assert.equal(second.quotedMessageId, first.body.data.messageId);
  });

  it('send-text errors: missing fields, bad chat id, unknown number, not ready, unknown session', async () => {
    const missing = await rest(server, 'POST', '/sessions/m-alice/send-text', { content: 'x' });
    assertError(missing, 'VALIDATION_ERROR');
    assert.match(missing.body.error.message, /chatId/);
    assertError(await rest(server, 'POST', '/sessions/m-alice/send-text', { chatId: ECHO, content: 42 }), 'VALIDATION_ERROR');
    assertError(await rest(server, 'POST', '/sessions/m-alice/send-text', { chatId: 'not-a-chat', content: 'x' }), 'INVALID_CHAT_ID');
    assertError(await rest(server, 'POST', '/sessions/m-alice/send-text', { chatId: '19999999999@c.us', content: 'x' }), 'NOT_ON_WHATSAPP');
    assertError(await rest(server, 'POST', '/sessions/m-waiting/send-text', { chatId: ECHO, content: 'x' }), 'SESSION_NOT_READY');
    assertError(await rest(server, 'POST', '/sessions/m-ghost/send-text', { chatId: ECHO, content: 'x' }), 'SESSION_NOT_FOUND');
  });

  it('POST /send-image, /send-file and /send-audio send media from data URLs', async () => {
    const image = await rest(server, 'POST', '/sessions/m-alice/send-image', { chatId: bob, data: PNG_1x1, filename: 'image.png', caption: 'a dot' });
    assert.equal(image.status, 200, JSON.stringify(image.body));
    assert.equal(image.body.data.type, 'image');
    assert.equal(image.body.data.caption, 'a dot');
    assert.equal(image.body.data.mimetype, 'image/png');
    const pdf = `data:application/pdf;base64,${Buffer.from('%PDF-1.4\n%%EOF').toString('base64')}`;
    const file = await rest(server, 'POST', '/sessions/m-alice/send-file', { chatId: bob, data: pdf, filename: 'document.pdf', caption: 'doc' });
    assert.equal(file.status, 200, JSON.stringify(file.body));
    assert.equal(file.body.data.filename, 'document.pdf');
    const mp3 = `data:audio/mp3;base64,${Buffer.from('ID3\u0003\u0000\u0000\u0000').toString('base64')}`;
    const audio = await rest(server, 'POST', '/sessions/m-alice/send-audio', { chatId: bob, data: mp3, filename: 'audio.mp3' });
    assert.equal(audio.status, 200, JSON.stringify(audio.body));
    assert.match(audio.body.data.messageId, /^true_/);

    assertError(await rest(server, 'POST', '/sessions/m-alice/send-image', { chatId: bob, data: 'not a data url' }), 'VALIDATION_ERROR');
    assertError(await rest(server, 'POST', '/sessions/m-alice/send-image', { chatId: bob }), 'VALIDATION_ERROR');
    assertError(await rest(server, 'POST', '/sessions/m-alice/send-file', { chatId: 'bad', data: pdf }), 'INVALID_CHAT_ID');
    assertError(await rest(server, 'POST', '/sessions/m-waiting/send-audio', { chatId: bob, data: mp3 }), 'SESSION_NOT_READY');
  });

  it('GET /chats lists chats in the reference shape; errors for not ready and unknown sessions', async () => {
    const res = await rest(server, 'GET', '/sessions/m-alice/chats');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const echo = res.body.data.find((c: any) => c.id === ECHO);
    assert.ok(echo, JSON.stringify(res.body.data));
    assert.equal(echo.name, 'Echo Bot');
    assert.equal(echo.isGroup, false);
    assert.equal(typeof echo.unreadCount, 'number');
    assert.ok(Number.isInteger(echo.lastMessage.timestamp));
    assert.equal(typeof echo.lastMessage.body, 'string');

    const one = await rest(server, 'GET', '/sessions/m-alice/chats?limit=1');
    assert.equal(one.body.data.length, 1);
    assert.ok(one.headers.get('x-next-cursor'), 'more chats: a cursor');
    const next = await rest(server, 'GET', `/sessions/m-alice/chats?limit=1&after=${encodeURIComponent(one.headers.get('x-next-cursor')!)}`);
    assert.notEqual(next.body.data[0].id, one.body.data[0].id);

    assertError(await rest(server, 'GET', '/sessions/m-alice/chats?limit=abc'), 'VALIDATION_ERROR');
    assertError(await rest(server, 'GET', '/sessions/m-waiting/chats'), 'SESSION_NOT_READY');
    assertError(await rest(server, 'GET', '/sessions/m-ghost/chats'), 'SESSION_NOT_FOUND');
  });

  it('GET /chats/{chatId}/messages: oldest first, limit and before; errors', async () => {
    for (let i = 0; i < 5; i++) await rest(server, 'POST', '/sessions/m-bob/send-text', { chatId: alice, content: `n${i}` });
    const all = await rest(server, 'GET', `/sessions/m-bob/chats/${alice}/messages`);
    assert.equal(all.status, 200, JSON.stringify(all.body));
    const mine = all.body.data.filter((m: any) => m.fromMe && /^n\d$/.test(m.body));
    assert.deepEqual(mine.map((m: any) => m.body), ['n0', 'n1', 'n2', 'n3', 'n4']);
    const m = mine[4];
    assert.equal(m.type, 'chat');
    assert.equal(m.fromMe, true);
    assert.ok(Number.isInteger(m.timestamp));
    assert.equal(m.author, bob);

    const two = await rest(server, 'GET', `/sessions/m-bob/chats/${alice}/messages?limit=2`);
    assert.deepEqual(two.body.data.map((x: any) => x.body), ['n3', 'n4']);
    const before = await rest(server, 'GET', `/sessions/m-bob/chats/${alice}/messages?limit=2&before=${encodeURIComponent(mine[3].id)}`);
    assert.deepEqual(before.body.data.map((x: any) => x.body), ['n1', 'n2']);

    assertError(await rest(server, 'GET', `/sessions/m-bob/chats/${alice}/messages?limit=0`), 'VALIDATION_ERROR');
    assertError(await rest(server, 'GET', `/sessions/m-bob/chats/${alice}/messages?limit=2.5`), 'VALIDATION_ERROR');
    assertError(await rest(server, 'GET', `/sessions/m-bob/chats/${alice}/messages?limit=100000`), 'VALIDATION_ERROR');
    assertError(await rest(server, 'GET', '/sessions/m-bob/chats/nonsense/messages'), 'INVALID_CHAT_ID');
    assertError(await rest(server, 'GET', '/sessions/m-bob/chats/18888888888@c.us/messages'), 'NOT_FOUND');
    assertError(await rest(server, 'GET', `/sessions/m-ghost/chats/${alice}/messages`), 'SESSION_NOT_FOUND');
    assertError(await rest(server, 'GET', `/sessions/m-waiting/chats/${alice}/messages`), 'SESSION_NOT_READY');
  });

  it('GET /contacts and /contacts/{contactId}', async () => {
    const res = await rest(server, 'GET', '/sessions/m-alice/contacts');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const echo = res.body.data.find((c: any) => c.id === ECHO);
    assert.deepEqual(Object.keys(echo).sort(), ['id', 'isMyContact', 'isWAContact', 'name', 'pushname']);
    assert.equal(echo.isWAContact, true);

    const one = await rest(server, 'GET', `/sessions/m-alice/contacts/${ECHO}`);
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.equal(one.body.data.id, ECHO);
    assert.equal(one.body.data.name, 'Echo Bot');
    assert.ok('profilePicThumbObj' in one.body.data);

    assertError(await rest(server, 'GET', '/sessions/m-alice/contacts/nonsense'), 'INVALID_CHAT_ID');
    assertError(await rest(server, 'GET', '/sessions/m-alice/contacts/17777777777@c.us'), 'NOT_FOUND');
    assertError(await rest(server, 'GET', '/sessions/m-ghost/contacts'), 'SESSION_NOT_FOUND');
    assertError(await rest(server, 'GET', `/sessions/m-ghost/contacts/${ECHO}`), 'SESSION_NOT_FOUND');
    assertError(await rest(server, 'GET', '/sessions/m-waiting/contacts'), 'SESSION_NOT_READY');
  });

  it('POST /groups, then add and remove participants (DELETE with a JSON body)', async () => {
    const created = await rest(server, 'POST', '/sessions/m-alice/groups', { name: 'My Group', participants: [ECHO], description: 'Optional group description' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const gid = created.body.data.gid as string;
    assert.match(gid, /@g\.us$/);
    assert.deepEqual(created.body.data.participants, [{ id: ECHO, status: 200 }]);

    const added = await rest(server, 'POST', `/sessions/m-alice/groups/${gid}/participants`, { participants: [bob, '16666666666@c.us'] });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.equal(added.body.data.groupId, gid);
    assert.deepEqual(added.body.data.participants, [
      { id: bob, status: 200 },
      { id: '16666666666@c.us', status: 404 },
    ]);
    const chats = await waitFor(async () => {
      const res = await rest(server, 'GET', '/sessions/m-bob/chats');
      return res.body.data.find((c: any) => c.id === gid);
    }, 5000, 'bob sees the group');
    assert.equal(chats.isGroup, true);

    const removed = await rest(server, 'DELETE', `/sessions/m-alice/groups/${gid}/participants`, { participants: [bob] });
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.deepEqual(removed.body.data.participants, [{ id: bob, status: 200 }]);

    assertError(await rest(server, 'POST', '/sessions/m-alice/groups', { participants: [ECHO] }), 'VALIDATION_ERROR');
    assertError(await rest(server, 'POST', `/sessions/m-alice/groups/${gid}/participants`, {}), 'VALIDATION_ERROR');
    assertError(await rest(server, 'DELETE', `/sessions/m-alice/groups/${gid}/participants`, { participants: { not: 'a list' } }), 'VALIDATION_ERROR');
    assertError(await rest(server, 'POST', '/sessions/m-alice/groups/not-a-group/participants', { participants: [bob] }), 'INVALID_CHAT_ID');
    assertError(await rest(server, 'POST', '/sessions/m-waiting/groups', { name: 'x', participants: [ECHO] }), 'SESSION_NOT_READY');
    assertError(await rest(server, 'POST', '/sessions/m-ghost/groups', { name: 'x', participants: [ECHO] }), 'SESSION_NOT_FOUND');
  });
});
