import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { textProblem } from '../src/text-input.js';
import type { TestServer } from './helpers/app.js';
import { ECHO_BOT, errorOf, INJECT, MESSAGES, SEND_TEXT, twoSessions } from './helpers/messaging.js';
import { rest } from './rest-helpers.js';

// Page arguments and free text: what a client may send, and the clear error for what it may not.

const CHATS = `query($first: Int, $last: Int, $after: String, $before: String) { session(sessionId: "A") {
  chats(first: $first, last: $last, after: $after, before: $before) { edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } } }`;
const CREATE_GROUP = 'mutation($input: CreateGroupInput!) { createGroup(input: $input) { gid } }';

describe('input rules', () => {
  let server: TestServer;
  let b: string;
  before(async () => {
    ({ server, b } = await twoSessions());
    for (let i = 0; i < 3; i++) await server.gqlOk(INJECT, { s: 'A', from: `4930${1000000 + i}@c.us`, body: `hello ${i}` });
  });
  after(() => server.dispose());

  it('chats: first/last must be 1-200 (first: 0 was an empty page with hasNextPage and a cursor of -1)', async () => {
    for (const variables of [{ first: 0 }, { first: -1 }, { first: 201 }, { last: 0 }, { last: 500 }]) {
      const result = await server.gql(CHATS, variables);
      const field = Object.keys(variables)[0];
      assert.equal(errorOf(result)?.code, 'VALIDATION_ERROR', JSON.stringify(variables));
      assert.deepEqual(errorOf(result)?.details, { field, min: 1, max: 200 });
      assert.equal(result.errors![0]!.message, `${field} must be between 1 and 200`);
    }
  });

  it('chats: paging by hasNextPage and endCursor visits every chat once and ends', async () => {
    const seen: string[] = [];
    let afterCursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = (await server.gqlOk(CHATS, { first: 1, after: afterCursor })).session.chats;
      seen.push(...page.edges.map((e: { node: { id: string } }) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      afterCursor = page.pageInfo.endCursor;
    }
    assert.equal(seen.length, 3);
    assert.equal(new Set(seen).size, 3);
  });

  it('chats: an after/before that is not a cursor of the list is a VALIDATION_ERROR', async () => {
    const notCursors = ['garbage', '', Buffer.from('OffsetConnection:abc').toString('base64'), Buffer.from('OffsetConnection:-1').toString('base64'), '\u0000'];
    for (const cursor of notCursors) {
      for (const field of ['after', 'before']) {
        const result = await server.gql(CHATS, { first: 1, [field]: cursor });
        assert.equal(errorOf(result)?.code, 'VALIDATION_ERROR', `${field}: ${JSON.stringify(cursor)}`);
        assert.equal(result.errors![0]!.message, `${field} is not a cursor of this list`);
      }
    }
  });

  it('messages: last 1-200 and a before that is a message id', async () => {
    const chat = (await server.gqlOk(CHATS, { first: 1 })).session.chats.edges[0].node.id;
    for (const last of [0, -1, 201]) assert.equal(errorOf(await server.gql(MESSAGES, { s: 'A', c: chat, last }))?.code, 'VALIDATION_ERROR');
    const bad = await server.gql(MESSAGES, { s: 'A', c: chat, last: 5, before: 'x\u0000y' });
    assert.equal(errorOf(bad)?.code, 'VALIDATION_ERROR');
    assert.match(bad.errors![0]!.message, /before is not a message id/);
  });

  it('group names: one line without control characters; descriptions may have line breaks', async () => {
    for (const name of ['\u0000', 'a\u0000b', 'two\nlines', 'tab\there', 'bell\u0007', 'c1\u0085', 'lone \ud800 surrogate']) {
      const result = await server.gql(CREATE_GROUP, { input: { sessionId: 'A', name, participants: [b] } });
      assert.equal(errorOf(result)?.code, 'VALIDATION_ERROR', JSON.stringify(name));
      assert.equal(errorOf(result)?.details.field, 'name');
    }
    const described = await server.gql(CREATE_GROUP, { input: { sessionId: 'A', name: 'Family 👪 ünïcode', description: 'Rules:\n\t1. be kind\r\n2. no spam', participants: [b] } });
    assert.equal(described.errors, undefined, JSON.stringify(described.errors));
    const badDescription = await server.gql(CREATE_GROUP, { input: { sessionId: 'A', name: 'G', description: 'esc \u001b[31m', participants: [b] } });
    assert.equal(errorOf(badDescription)?.details.field, 'description');
    // REST goes through the same rule.
    const viaRest = await rest(server, 'POST', '/sessions/A/groups', { name: '\u0000', participants: [b] });
    assert.equal(viaRest.status, 400);
    assert.equal(viaRest.body.error.code, 'VALIDATION_ERROR');
  });

  it('message text: newlines, tabs, emoji and other scripts pass as sent; NUL and lone surrogates are refused', async () => {
    const text = 'line one\nline two\ttabbed 🎉 日本語 \u0007';
    const sent = await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: ECHO_BOT, content: text } });
    assert.equal(sent.sendText.message.body, text);
    for (const content of ['nul\u0000', 'lone \udc00']) {
      const result = await server.gql(SEND_TEXT, { input: { sessionId: 'A', chatId: ECHO_BOT, content } });
      assert.equal(errorOf(result)?.code, 'VALIDATION_ERROR', JSON.stringify(content));
      assert.equal(errorOf(result)?.details.field, 'content');
    }
    const viaRest = await rest(server, 'POST', '/sessions/A/send-text', { chatId: ECHO_BOT, content: 'a\u0000b' });
    assert.equal(viaRest.status, 400);
    assert.equal(viaRest.body.error.code, 'VALIDATION_ERROR');
    assert.equal(errorOf(await server.gql(INJECT, { s: 'A', from: '4930100000@c.us', body: '\u0000' }))?.code, 'VALIDATION_ERROR');
  });

  it('API key names, session settings, webhook URLs and header values refuse control characters', async () => {
    const key = await server.gql('mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }', { input: { name: 'ops\u0000', admin: true } });
    assert.equal(errorOf(key)?.code, 'VALIDATION_ERROR');
    const session = await server.gql('mutation($input: CreateSessionInput!) { createSession(input: $input) { session { sessionId } } }', {
      input: { sessionId: 'cfg', config: { licenceKey: 'abc\r\nX-Injected: 1' } },
    });
    assert.equal(errorOf(session)?.code, 'VALIDATION_ERROR');
    const register = 'mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { secret } }';
    const url = await server.gql(register, { input: { sessionId: 'A', url: 'https://exa\nmple.com/hook' } });
    assert.equal(errorOf(url)?.code, 'VALIDATION_ERROR');
    assert.match(url.errors![0]!.message, /control characters/);
    const header = await server.gql(register, { input: { sessionId: 'A', url: 'https://example.com/hook', headers: { 'X-Token': 'a\u0001b' } } });
    assert.equal(errorOf(header)?.code, 'VALIDATION_ERROR');
  });

  it('the text rules by kind', () => {
    assert.equal(textProblem('Family 👪', 'name'), null);
    assert.match(textProblem('a\nb', 'name')!, /control characters/);
    assert.equal(textProblem('a\r\n\tb', 'description'), null);
    assert.match(textProblem('a\u0000b', 'description')!, /control characters/);
    assert.equal(textProblem('a\u0001\n', 'message'), null);
    assert.match(textProblem('\u0000', 'message')!, /NUL/);
    assert.match(textProblem('\ud83d', 'message')!, /lone surrogate/);
    assert.equal(textProblem('\ud83d\ude00', 'message'), null);
  });
});
