// Pairing-code login, check-number, blocking and calls on the sandbox (issue 24, Must show 2, 3 and 6).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CREATE, STATUS, waitFor, type TestServer } from './helpers/app.js';
import { ECHO_BOT, errorOf, history, INJECT, live, SEND_TEXT, twoSessions } from './helpers/messaging.js';
import { rest } from './rest-helpers.js';

const PAIR = 'mutation($s: String!, $p: String!) { requestPairingCode(sessionId: $s, phoneNumber: $p) { code } }';
const ENTER = 'mutation($s: String!, $c: String!) { sandboxEnterPairingCode(sessionId: $s, code: $c) { sessionId status } }';
const CHECK = 'query($s: String!, $n: String!) { checkNumber(sessionId: $s, number: $n) { number exists id } }';
const BLOCK = 'mutation($s: String!, $c: String!) { blockContact(sessionId: $s, contactId: $c) { id isBlocked } }';
const UNBLOCK = 'mutation($s: String!, $c: String!) { unblockContact(sessionId: $s, contactId: $c) { id isBlocked } }';
const CALL = 'mutation($s: String!, $f: String!) { sandboxInjectCall(sessionId: $s, from: $f) { id from isVideo isGroup timestamp } }';
const REJECT = 'mutation($s: String!, $id: String!, $m: String) { rejectCall(sessionId: $s, callId: $id, message: $m) }';
const CALLS = 'subscription($s: String!) { events(sessionId: $s, types: [CALL]) { type ... on CallEvent { call { id from isVideo } } } }';
const PROFILE = 'query($s: String!, $c: String!) { session(sessionId: $s) { contact(contactId: $c) { id pushname about isBlocked profilePicture { url } } } }';
const PIXEL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe('contacts, pairing codes and calls', () => {
  let server: TestServer;
  let a: string;
  let b: string;
  before(async () => {
    ({ server, a, b } = await twoSessions());
  });
  after(() => server.dispose());

  it('a pairing code logs a sandbox session in (no QR scan); a wrong one does not', async () => {
    await server.gqlOk(CREATE, { input: { sessionId: 'P', waitForQR: true } });
    const res = await rest(server, 'POST', '/sessions/P/pairing-code', { phoneNumber: '+49 151 0000 0001' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const code: string = res.body.data.code;
    assert.match(code, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    assert.equal(errorOf(await server.gql(ENTER, { s: 'P', c: 'AAAA-AAAA' }))?.code, 'VALIDATION_ERROR');
    assert.equal(errorOf(await server.gql(PAIR, { s: 'P', p: 'not a number' }))?.code, 'VALIDATION_ERROR');
    await server.gqlOk(ENTER, { s: 'P', c: code.toLowerCase() });
    const ready = await waitFor(async () => {
      const s = (await server.gqlOk(STATUS, { id: 'P' })).session;
      return s.status === 'READY' ? s : null;
    }, 5000, 'P READY');
    assert.match(ready.me.id, /^\d+@c\.us$/);
    // A READY session has no login to wait for.
    assert.equal(errorOf(await server.gql(PAIR, { s: 'P', p: '4915100000001' }))?.code, 'INVALID_SESSION_STATE');
  });

  it('check-number: true for a sandbox number and the Echo Bot, false for an unknown one', async () => {
    const bDigits = b.split('@')[0]!;
    const viaRest = await rest(server, 'GET', `/sessions/A/check-number/${bDigits}`);
    assert.deepEqual(viaRest.body.data, { number: bDigits, exists: true, id: b });
    assert.deepEqual((await server.gqlOk(CHECK, { s: 'A', n: ECHO_BOT })).checkNumber, { number: '15550000001', exists: true, id: ECHO_BOT });
    assert.deepEqual((await server.gqlOk(CHECK, { s: 'A', n: '+1 555 999 9999' })).checkNumber, { number: '15559999999', exists: false, id: null });
    assert.equal(errorOf(await server.gql(CHECK, { s: 'A', n: 'abc' }))?.code, 'INVALID_CHAT_ID');
  });

  it('blocking stops delivery both ways until unblocked', async () => {
    assert.deepEqual((await server.gqlOk(BLOCK, { s: 'A', c: b })).blockContact, { id: b, isBlocked: true });
    // A may not write to whom it blocked; B's message to A stays at one tick and never arrives.
    const refused = await server.gql(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content: 'hi B' } });
    assert.equal(errorOf(refused)?.code, 'CONTACT_BLOCKED');
    const fromB = (await server.gqlOk(SEND_TEXT, { input: { sessionId: 'B', chatId: a, content: 'are you there?' } })).sendText.message;
    assert.equal(fromB.ack, 'SERVER');
    // A message A sends to the Echo Bot round-trips meanwhile, so a delivery from B would have had its time.
    await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: ECHO_BOT, content: 'ping' } });
    await waitFor(async () => (await history(server, 'A', ECHO_BOT)).some((m) => !m.fromMe), 5000, 'the echo');
    assert.deepEqual(await history(server, 'A', b), []);
    assert.equal(errorOf(await server.gql(INJECT, { s: 'A', from: b, body: 'injected' }))?.code, 'CONTACT_BLOCKED');
    assert.equal((await server.gqlOk(PROFILE, { s: 'A', c: b })).session.contact.isBlocked, true);

    assert.deepEqual((await server.gqlOk(UNBLOCK, { s: 'A', c: b })).unblockContact, { id: b, isBlocked: false });
    await server.gqlOk(SEND_TEXT, { input: { sessionId: 'B', chatId: a, content: 'now?' } });
    await waitFor(async () => (await history(server, 'A', b)).some((m) => m.body === 'now?'), 5000, "B's message after the unblock");
    await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content: 'yes' } });
    await waitFor(async () => (await history(server, 'B', a)).some((m) => m.body === 'yes' && !m.fromMe), 5000, "A's answer");
    assert.ok(!(await history(server, 'A', b)).some((m) => m.body === 'are you there?'), 'the message sent while blocked is never delivered');
  });

  it('a call is seen (CALL event) and rejected, by rejectCall and by the rejectCalls config with its reply', async () => {
    const ws = server.wsClient();
    const aCalls = await live(server, ws, CALLS, { s: 'A' });
    const call = (await server.gqlOk(CALL, { s: 'A', f: b })).sandboxInjectCall;
    assert.deepEqual([call.from, call.isVideo, call.isGroup], [b, false, false]);
    const [seen] = await aCalls.next(1);
    assert.deepEqual(seen.events, { type: 'CALL', call: { id: call.id, from: b, isVideo: false } });
    assert.equal((await server.gqlOk(REJECT, { s: 'A', id: call.id, m: 'Busy, write instead' })).rejectCall, true);
    await waitFor(async () => (await history(server, 'B', a)).some((m) => m.body === 'Busy, write instead'), 5000, 'the reply to the caller');
    assert.equal(errorOf(await server.gql(REJECT, { s: 'A', id: call.id }))?.code, 'NOT_FOUND');

    // A session created with rejectCalls rejects by itself and answers with its message.
    await server.gqlOk(CREATE, { input: { sessionId: 'R', waitForQR: true, config: { rejectCalls: true, rejectCallsMessage: 'No calls, please' } } });
    await server.gqlOk('mutation { sandboxScanQr(sessionId: "R") { status } }');
    const r = await waitFor(async () => {
      const s = (await server.gqlOk(STATUS, { id: 'R' })).session;
      return s.status === 'READY' ? s : null;
    }, 5000, 'R READY');
    const auto = (await server.gqlOk(CALL, { s: 'R', f: b })).sandboxInjectCall;
    await waitFor(async () => (await history(server, 'B', r.me.id)).some((m) => m.body === 'No calls, please'), 5000, 'the automatic reply');
    assert.equal(errorOf(await server.gql(REJECT, { s: 'R', id: auto.id }))?.code, 'NOT_FOUND', 'already rejected');
    await ws.dispose();
  });

  it('own profile: name, about and picture show on the contact; the picture bytes at /contacts/{id}/picture', async () => {
    await rest(server, 'POST', '/sessions/B/profile/name', { name: 'Bea' });
    await rest(server, 'POST', '/sessions/B/profile/about', { about: 'At the desk' });
    const set = await rest(server, 'POST', '/sessions/B/profile/picture', { data: PIXEL });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    const contact = (await server.gqlOk(PROFILE, { s: 'A', c: b })).session.contact;
    assert.deepEqual(contact, { id: b, pushname: 'Bea', about: 'At the desk', isBlocked: false, profilePicture: { url: `/api/v1/sessions/A/contacts/${encodeURIComponent(b)}/picture` } });
    const picture = await rest(server, 'GET', `/sessions/A/contacts/${b}/picture`);
    assert.equal(picture.headers.get('content-type'), 'image/png');
    assert.deepEqual(picture.raw, Buffer.from(PIXEL.split(',')[1]!, 'base64'));
    const none = await rest(server, 'GET', `/sessions/A/contacts/${ECHO_BOT}/picture`);
    assert.equal(none.status, 404);
  });
});
