import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collect, readySession, startServer, waitFor, type TestServer } from './helpers/app.js';
import { ADMIN_KEY, createKey, gqlOkAs } from './helpers/auth.js';
import { INJECT, live } from './helpers/messaging.js';

// Subscribers of one subscription share the execution of each event (src/plugins/use-shared-event-execution.ts);
// these check that sharing never changes what any one subscriber receives.
const BODIES = 'subscription($s: String!, $c: String) { message(sessionId: $s, chatId: $c) { body chatId } }';
const IDS = 'subscription($s: String!) { message(sessionId: $s) { id body fromMe } }';
const STATUS_SUB = 'subscription($s: String!) { sessionStatus(sessionId: $s) { sessionId status } }';
const X = '15557770001@c.us';
const Y = '15557770002@c.us';

describe('many subscribers of the same subscription', () => {
  let server: TestServer;
  let readKey: string;
  let otherKey: string;
  const admin = () => server.wsClient({ apiKey: ADMIN_KEY });

  before(async () => {
    server = await startServer({ auth: { apiKeys: [ADMIN_KEY] } });
    const asAdmin = { ...server, gqlOk: (q: string, v?: Record<string, unknown>) => gqlOkAs(server, ADMIN_KEY, q, v) } as TestServer;
    await readySession(asAdmin, 'A');
    await readySession(asAdmin, 'other');
    readKey = (await createKey(server, { sessionIds: ['A'], actions: ['READ'] })).key;
    otherKey = (await createKey(server, { sessionIds: ['other'], actions: ['READ'] })).key;
  });
  after(() => server.dispose());

  it('each receives every event with its own selection, variables and caller', async () => {
    const same = [
      await live(server, admin(), BODIES, { s: 'A' }),
      await live(server, admin(), BODIES, { s: 'A' }),
      await live(server, server.wsClient({ apiKey: readKey }), BODIES, { s: 'A' }),
    ];
    const onlyX = await live(server, admin(), BODIES, { s: 'A', c: X });
    const ids = await live(server, admin(), IDS, { s: 'A' });
    const denied = collect(server.wsClient({ apiKey: otherKey }), BODIES, { s: 'A' });
    const badVariables = collect(admin(), BODIES, { s: 5 });

    for (const [from, body] of [[X, 'one'], [Y, 'two'], [X, 'three']] as const) {
      await gqlOkAs(server, ADMIN_KEY, INJECT, { s: 'A', from, body });
    }

    for (const sub of same) {
      assert.deepEqual(await sub.next(3), [
        { message: { body: 'one', chatId: X } },
        { message: { body: 'two', chatId: Y } },
        { message: { body: 'three', chatId: X } },
      ]);
    }
    assert.deepEqual((await onlyX.next(2)).map((v) => v.message.body), ['one', 'three']);
    const withIds = await ids.next(3);
    assert.deepEqual(withIds.map((v) => Object.keys(v.message)), [['id', 'body', 'fromMe'], ['id', 'body', 'fromMe'], ['id', 'body', 'fromMe']]);
    assert.deepEqual(withIds.map((v) => [v.message.body, v.message.fromMe]), [['one', false], ['two', false], ['three', false]]);
    assert.equal(new Set(withIds.map((v) => v.message.id)).size, 3);

    await waitFor(() => denied.errors.length > 0 && badVariables.errors.length > 0, 5000, 'both refusals');
    assert.equal((denied.errors[0] as { extensions?: { code?: string } }[])[0]?.extensions?.code, 'SESSION_NOT_FOUND', JSON.stringify(denied.errors)); // A key without the session does not learn it exists.
    assert.deepEqual(denied.values, []);
    assert.match(JSON.stringify(badVariables.errors), /String cannot represent a non string value: 5/);
    assert.deepEqual(badVariables.values, []);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(onlyX.values.length, 2, 'nothing from Y reached the chat-filtered subscriber');
  });

  it('a later subscriber still starts with the current state, not an earlier subscriber\'s', async () => {
    const first = await live(server, admin(), STATUS_SUB, { s: 'A' });
    assert.deepEqual(await first.next(1), [{ sessionStatus: { sessionId: 'A', status: 'READY' } }]);
    const second = await live(server, admin(), STATUS_SUB, { s: 'A' });
    assert.deepEqual(await second.next(1), [{ sessionStatus: { sessionId: 'A', status: 'READY' } }]);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(first.values.length, 1, 'the first subscriber is not sent the second one\'s initial state');
  });
});
