import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { routeTable } from '../rest-compat/route-table.js';
import { startServer, waitFor, type TestServer } from './helpers/app.js';

const KEY = 'docs-examples-key-0123456789';

// The order a new user would follow: each call finds what it needs (a QR code before the scan, a READY
// session before sending, the group and webhook the calls before made), and the session goes last.
const ORDER = [
  'createSession',
  'listSessions',
  'getSession',
  'getSessionStatus',
  'getSessionQr',
  'getSessionQrImage',
  'getSessionQrPng',
  'requestPairingCode',
  'sandboxScanQr',
  'sendText',
  'sendMessage',
  'sendImage',
  'sendFile',
  'sendAudio',
  'sendVideo',
  'sendSticker',
  'sendVoice',
  'getMessageMedia',
  'sendLocation',
  'sendContactCard',
  'sendPoll',
  'votePoll',
  'listChats',
  'listChatMessages',
  'listContacts',
  'getContact',
  'reactToMessage',
  'editMessage',
  'forwardMessage',
  'deleteMessage',
  'setPresence',
  'markChatRead',
  'markChatUnread',
  'createGroup',
  'addParticipants',
  'getGroup',
  'promoteParticipants',
  'demoteParticipants',
  'setGroupSubject',
  'setGroupDescription',
  'setGroupSettings',
  'groupInviteLink',
  'revokeGroupInviteLink',
  'removeParticipants',
  'leaveGroup',
  'joinGroup',
  'checkNumber',
  'blockContact',
  'unblockContact',
  'setProfileName',
  'setProfileAbout',
  'setProfilePicture',
  'getContactPicture',
  'registerWebhook',
  'listWebhooks',
  'removeWebhook',
  'getServerInfo',
  'getHealth',
  'listNodes',
  'stopSession',
  'startSession',
  'restartSession',
  'logoutSession',
  'removeSession',
];

/** The same keys at every level (an array: its first item's), so an example shows what the route really answers. */
function assertSameShape(actual: unknown, example: unknown, where: string): void {
  if (Array.isArray(example)) {
    assert.ok(Array.isArray(actual), `${where} is an array`);
    if (example.length > 0 && actual.length > 0) assertSameShape(actual[0], example[0], `${where}[0]`);
    return;
  }
  if (example && typeof example === 'object') {
    assert.ok(actual && typeof actual === 'object', `${where} is an object: ${JSON.stringify(actual)}`);
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(example).sort(), `${where} has the example's fields`);
    for (const key of Object.keys(example)) {
      const e = (example as Record<string, unknown>)[key];
      const a = (actual as Record<string, unknown>)[key];
      // A null in either (failureReason, lastMessage ...) can be a value in the other.
      if (e !== null && a !== null) assertSameShape(a, e, `${where}.${key}`);
    }
  }
}

describe('REST docs: every route has an example, and every example runs as written against the sandbox', () => {
  let server: TestServer;
  let doc: any;
  before(async () => {
    // The webhook example posts to a receiver on this machine, which needs loopback allowed.
    server = await startServer({ auth: { apiKeys: [KEY] }, webhooks: { allowCidrs: '127.0.0.0/8' } });
    doc = await (await fetch(`${server.url}/api/v1/openapi.json`)).json();
  });
  after(() => server?.dispose());

  it('the order covers every route of the table once', () => {
    assert.deepEqual([...ORDER].sort(), routeTable.map((r) => r.id).sort());
  });

  it('the document gives each route a key, its parameters and body example values, and an example answer', () => {
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['ApiKeyHeader', 'Basic', 'Bearer']);
    assert.deepEqual(doc.components.securitySchemes.ApiKeyHeader, { type: 'apiKey', in: 'header', name: 'X-Api-Key', description: doc.components.securitySchemes.ApiKeyHeader.description });
    for (const route of routeTable) {
      const op = doc.paths[route.path][route.method.toLowerCase()];
      for (const p of op.parameters ?? []) if (p.in === 'path') assert.ok(p.example, `${route.id}: path parameter ${p.name} has an example`);
      if (route.body) {
        const example = op.requestBody.content['application/json'].example;
        assert.ok(example, `${route.id}: a body example`);
        assert.doesNotMatch(JSON.stringify(example), /"string"/, `${route.id}: no "string" placeholders`);
      }
      const success = op.responses[String(route.response.status ?? 200)];
      if (!route.response.contentType) assert.equal(success.content['application/json'].example.success, true, `${route.id}: an example answer`);
      for (const status of ['400', '401', '500']) assert.ok(op.responses[status], `${route.id}: documents ${status}`);
    }
  });

  it('runs each example in order with the API key; each succeeds and answers like its example', async () => {
    // Ids the server makes, taken from the answers that made them.
    const made: Record<string, string> = {};
    for (const id of ORDER) {
      const route = routeTable.find((r) => r.id === id)!;
      const messageId = id === 'getMessageMedia' ? made.imageId : id === 'votePoll' ? made.pollId : made.textId;
      if (messageId) made.messageId = messageId;
      const op = doc.paths[route.path][route.method.toLowerCase()];
      let path = route.path;
      const query = new URLSearchParams();
      for (const p of op.parameters ?? []) {
        const value = made[p.name] ?? p.example;
        if (p.in === 'path') path = path.replace(`{${p.name}}`, encodeURIComponent(value));
        else if (value !== undefined) query.set(p.name, value);
      }
      const bodyExample = op.requestBody?.content['application/json'].example;
      // An invite link is made by the server, like a group id: the join uses the one the revoke answered.
      const body = id === 'joinGroup' ? { ...bodyExample, link: made.link } : bodyExample;
      const res = await fetch(`${server.url}${doc.servers[0].url}${path}${query.size ? `?${query}` : ''}`, {
        method: route.method,
        headers: { 'x-api-key': KEY, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const status = route.response.status ?? 200;
      const type = res.headers.get('content-type') ?? '';
      if (route.response.contentType === 'image/png') {
        assert.equal(res.status, status, `${id}: ${res.status}`);
        assert.equal(type, 'image/png');
        assert.deepEqual([...Buffer.from(await res.arrayBuffer()).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], `${id}: a PNG`);
        continue;
      }
      if (route.response.contentType) {
        // A message's media: the image sendImage sent, as it was sent.
        assert.equal(res.status, status, `${id}: ${res.status}`);
        assert.equal(type, 'image/png');
        assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename=/);
        assert.deepEqual([...Buffer.from(await res.arrayBuffer()).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], `${id}: a PNG`);
        continue;
      }
      const answer = (await res.json()) as any;
      assert.equal(res.status, status, `${id} ${route.method} ${path}: ${JSON.stringify(answer)}`);
      const example = op.responses[String(status)].content['application/json'].example;
      assertSameShape(answer, example, id);
      if (id === 'createGroup') made.groupId = answer.data.gid;
      // The media route reads the image, the vote goes to the poll, the message actions act on the first text.
      if (id === 'sendText') made.textId = answer.data.messageId;
      if (id === 'sendImage') made.imageId = answer.data.messageId;
      if (id === 'sendPoll') made.pollId = answer.data.messageId;
      if (id === 'registerWebhook') made.webhookId = answer.data.id;
      if (id === 'revokeGroupInviteLink') made.link = answer.data.link;
      if (id === 'sandboxScanQr') {
        // The scan logs the session in a moment later; sending needs READY.
        await waitFor(
          async () => ((await (await fetch(`${server.url}/api/v1/sessions/demo/status`, { headers: { 'x-api-key': KEY } })).json()) as any).data.status === 'ready',
          5000,
          'demo ready',
        );
      }
      if (id === 'sendAudio') {
        // The Echo Bot's answers and the acks arrive: the chat list and history examples show them.
        await waitFor(async () => ((await (await fetch(`${server.url}/api/v1/sessions/demo/chats/${encodeURIComponent('15550000001@c.us')}/messages?limit=8`, { headers: { 'x-api-key': KEY } })).json()) as any).data.length >= 8, 5000, 'echoes');
      }
    }
  });

  it('the same routes without the key are refused with 401 and the error envelope', async () => {
    const res = await fetch(`${server.url}/api/v1/sessions`);
    assert.equal(res.status, 401);
    const body = (await res.json()) as any;
    assert.equal(body.error.code, 'UNAUTHENTICATED');
    // The docs and the document themselves are open, so a user can read them and then Authorize.
    assert.equal((await fetch(`${server.url}/api/v1/docs`)).status, 200);
    assert.equal((await fetch(`${server.url}/api/v1/openapi.json`)).status, 200);
  });
});
