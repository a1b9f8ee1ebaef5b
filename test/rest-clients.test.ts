import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startServer, type TestServer } from './helpers/app.js';
import { needs, requireTools } from './helpers/system-tools.js';
import { rest } from './rest-helpers.js';

const run = promisify(execFile);
const clients = join(import.meta.dirname, 'clients');

/** Runs a client script against the server; it prints {created, sent, chats}. */
async function runClient(command: string, script: string, url: string) {
  const { stdout } = await run(command, [join(clients, script), url], { timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

function assertReferenceFlow(result: any) {
  assert.equal(result.created.success, true, JSON.stringify(result.created));
  assert.equal(result.created.message, 'Session created successfully');
  assert.equal(result.created.data.sessionId, 'my-bot');
  assert.equal(result.created.data.status, 'qr_ready');
  assert.match(result.created.data.qrCode, /^data:image\/png;base64,/);

  assert.equal(result.sent.success, true, JSON.stringify(result.sent));
  assert.equal(result.sent.data.chatId, '1234567890@c.us');
  assert.equal(result.sent.data.content, 'Hello!');
  assert.match(result.sent.data.messageId, /^true_1234567890@c\.us_/);
  assert.ok(Number.isInteger(result.sent.data.timestamp) && result.sent.data.timestamp < 1e11, 'unix seconds');

  assert.equal(result.chats.success, true, JSON.stringify(result.chats));
  const chat = result.chats.data.find((c: any) => c.id === '1234567890@c.us');
  assert.ok(chat, `the chat with 1234567890@c.us is listed: ${JSON.stringify(result.chats.data)}`);
  assert.equal(chat.isGroup, false);
  assert.equal(typeof chat.unreadCount, 'number');
  assert.ok(chat.lastMessage && Number.isInteger(chat.lastMessage.timestamp));
}

describe("the reference's SDK clients, copied as written", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.dispose());

  it('the JavaScript MultiSessionClient creates a session, sends a message and lists chats (node)', async () => {
    assertReferenceFlow(await runClient(process.execPath, 'multi-session-client.mjs', server.url));
    assert.equal((await rest(server, 'DELETE', '/sessions/my-bot')).status, 200);
  });

  it('the Python MultiSessionClient creates a session, sends a message and lists chats (python3 + requests)', needs('python3-requests'), async () => {
    requireTools('python3-requests');
    assertReferenceFlow(await runClient('python3', 'multi_session_client.py', server.url));
    assert.equal((await rest(server, 'DELETE', '/sessions/my-bot')).status, 200);
  });
});
