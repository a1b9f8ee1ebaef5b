import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sandboxStats } from '../src/engine/sandbox/stats.js';
import { waitFor, type TestServer } from './helpers/app.js';
import { errorOf, history, INJECT, MESSAGES, SEND_TEXT, twoSessions } from './helpers/messaging.js';

describe('history pagination', () => {
  let server: TestServer;
  let a: string;
  let b: string;
  before(async () => {
    ({ server, a, b } = await twoSessions());
  });
  after(() => server.dispose());

  it('120 messages page back with last/before: no gaps, no repeats, on both sides', async () => {
    const bodies = Array.from({ length: 120 }, (_, i) => `m${i + 1}`);
    for (const content of bodies) await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content } });
    await waitFor(async () => (await history(server, 'B', a)).length === 120, 5000, 'all 120 delivered');

    for (const [session, chat] of [['A', b], ['B', a]] as const) {
      const seen: string[] = [];
      const ids: string[] = [];
      let cursor: string | null = null;
      const pages: number[] = [];
      for (;;) {
        const data: any = await server.gqlOk(MESSAGES, { s: session, c: chat, last: 50, before: cursor });
        const conn: any = data.session.chat.messages;
        const nodes: any[] = conn.edges.map((e: any) => e.node);
        pages.push(nodes.length);
        seen.unshift(...nodes.map((n: any) => n.body));
        ids.unshift(...nodes.map((n: any) => n.id));
        assert.deepEqual(conn.edges.map((e: any) => e.cursor), nodes.map((n: any) => n.id), 'a cursor is the message id');
        assert.equal(conn.pageInfo.startCursor, nodes[0].id);
        assert.equal(conn.pageInfo.hasNextPage, cursor !== null, 'newer messages exist after the first page');
        if (!conn.pageInfo.hasPreviousPage) break;
        cursor = conn.pageInfo.startCursor;
      }
      assert.deepEqual(pages, [50, 50, 20], session);
      assert.deepEqual(seen, bodies, `${session}: oldest first, every message once`);
      assert.equal(new Set(ids).size, 120);
    }

    const defaults = await server.gqlOk(MESSAGES, { s: 'A', c: b });
    assert.equal(defaults.session.chat.messages.edges.length, 50, 'default page size 50');
    const max = await server.gqlOk(MESSAGES, { s: 'A', c: b, last: 200 });
    assert.equal(max.session.chat.messages.edges.length, 120);
    for (const last of [0, -1, 201]) {
      assert.equal(errorOf(await server.gql(MESSAGES, { s: 'A', c: b, last }))?.code, 'VALIDATION_ERROR', `last ${last}`);
    }
    assert.equal(errorOf(await server.gql(MESSAGES, { s: 'A', c: b, before: 'true_nope' }))?.code, 'VALIDATION_ERROR');
  });
});

describe('DataLoader', () => {
  let server: TestServer;
  let b: string;
  before(async () => {
    ({ server, b } = await twoSessions());
    // 45 one-to-one chats (messages from 45 numbers) and 5 groups: 50 chats for A.
    for (let i = 0; i < 45; i++) await server.gqlOk(INJECT, { s: 'A', from: `4930${String(1000000 + i)}@c.us`, body: `hello ${i}` });
    for (let i = 0; i < 5; i++) {
      await server.gqlOk('mutation($p: String!, $n: String!) { createGroup(input: { sessionId: "A", name: $n, participants: [$p] }) { gid } }', { p: b, n: `G${i}` });
    }
  });
  after(() => server.dispose());

  const CHATS = `query($n: Int!) { session(sessionId: "A") { chats(first: $n) { edges { node {
    id name isGroup unreadCount timestamp lastMessage { id body timestamp } participants { id isAdmin } } } } } }`;

  async function measure(query: string, variables: Record<string, unknown> = {}) {
    const queries = sandboxStats.storeQueries;
    const calls = { ...sandboxStats.engineCalls };
    const data = await server.gqlOk(query, variables);
    const delta = (name: string) => (sandboxStats.engineCalls[name] ?? 0) - (calls[name] ?? 0);
    return { data, storeQueries: sandboxStats.storeQueries - queries, getChats: delta('getChats'), getChat: delta('getChat'), getGroupParticipants: delta('getGroupParticipants') };
  }

  it('50 chats with lastMessage and participants cost the same bounded number of store queries as 10', async () => {
    const fifty = await measure(CHATS, { n: 50 });
    const edges = fifty.data.session.chats.edges;
    assert.equal(edges.length, 50);
    assert.equal(edges.filter((e: any) => e.node.isGroup).length, 5);
    assert.ok(edges.filter((e: any) => !e.node.isGroup).every((e: any) => e.node.lastMessage.body.startsWith('hello ') && e.node.unreadCount === 1));
    assert.ok(edges.filter((e: any) => e.node.isGroup).every((e: any) => e.node.participants.length === 2 && e.node.lastMessage === null));
    const ts = edges.map((e: any) => e.node.timestamp);
    assert.deepEqual(ts, [...ts].sort((x: number, y: number) => y - x), 'newest activity first');
    assert.equal(fifty.getChats, 1, 'one engine call for the list');
    assert.equal(fifty.getChat, 0, 'no engine call per chat');
    assert.equal(fifty.storeQueries, 1, 'one store query: chats joined with their last message; groups are held in memory');

    const ten = await measure(CHATS, { n: 10 });
    assert.equal(ten.data.session.chats.edges.length, 10);
    assert.equal(ten.storeQueries, fifty.storeQueries, 'the cost does not grow with the number of chats');
    assert.equal(ten.getChats, 1);
  });

  it('50 aliased chat(chatId) lookups are batched into one engine call', async () => {
    const list = (await server.gqlOk(CHATS, { n: 50 })).session.chats.edges.map((e: any) => e.node.id as string);
    const aliases = list.map((id: string, i: number) => `c${i}: chat(chatId: "${id}") { id unreadCount lastMessage { body } }`).join('\n');
    const batched = await measure(`{ session(sessionId: "A") { ${aliases} } }`);
    assert.deepEqual(list.map((_: string, i: number) => batched.data.session[`c${i}`].id), list);
    assert.equal(batched.getChats, 1);
    assert.equal(batched.getChat, 0);
    assert.equal(batched.storeQueries, 1);

    const single = await measure(`{ session(sessionId: "A") { chat(chatId: "${list[0]}") { id } missing: chat(chatId: "15557654321@c.us") { id } } }`);
    assert.equal(single.data.session.missing, null);
    assert.equal(single.getChats, 1, 'two ids: one list call');
  });
});
