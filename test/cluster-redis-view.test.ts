import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { collect, readySession, startServer, waitFor, type TestServer } from './helpers/app.js';
import { INJECT } from './helpers/messaging.js';
import { createTestDatabase, needsPostgres, queryDatabase, type TestDatabase } from './helpers/pg.js';
import { deletePrefix, needsRedis, TEST_REDIS_URL, uniquePrefix } from './helpers/redis.js';
import { REGISTER, startReceiver, type Receiver } from './helpers/webhooks.js';

// Two gateways in this process on one PostgreSQL database and the shared Redis (a prefix of the test's own): how
// node B sees a session that runs on node A. B lists it from its events with the status A reports, serves
// its subscriptions, leaves its lifecycle to A, makes no webhook deliveries of its own for it, and forgets it
// (ending its subscribers) when A removes it.

const STATUS = 'query($id: String!) { session(sessionId: $id) { status } }';
const LIST = '{ sessions { sessionId status } }';

describe("a node's view of sessions that run on another node", async () => {
  const options = { skip: (await needsRedis()).skip || (await needsPostgres()).skip };
  const prefix = uniquePrefix();
  let db: TestDatabase | undefined;
  let receiver: Receiver | undefined;
  const servers: TestServer[] = [];
  after(async () => {
    for (const server of servers) await server.dispose().catch(() => undefined);
    await receiver?.close();
    await deletePrefix(TEST_REDIS_URL, prefix).catch(() => undefined);
    await db?.drop();
  });

  it('lists it, follows its status, serves its subscriptions, refuses its lifecycle, delivers no webhooks, forgets it when removed', options, async () => {
    db = await createTestDatabase();
    const settings = { databaseUrl: db.url, redis: { url: TEST_REDIS_URL, prefix }, webhooks: { allowCidrs: '127.0.0.0/8' } };
    const a = await startServer(settings);
    const b = await startServer(settings);
    servers.push(a, b);

    await readySession(a, 'v1');
    await waitFor(async () => (await b.gqlOk(STATUS, { id: 'v1' })).session?.status === 'READY', 10_000, 'v1 READY on B');
    assert.deepEqual((await b.gqlOk(LIST)).sessions, [{ sessionId: 'v1', status: 'READY' }]);
    assert.equal(b.app.services.sessions.isLocal('v1'), false);
    assert.equal(a.app.services.sessions.isLocal('v1'), true);

    const refused = await b.gql('mutation { stopSession(sessionId: "v1") { status } }');
    assert.equal(refused.errors?.[0]?.extensions?.code, 'INVALID_SESSION_STATE');
    assert.match(refused.errors![0]!.message, /another node/);

    // One webhook, registered on A: a message makes one delivery, however many nodes saw the event.
    receiver = await startReceiver();
    await a.gqlOk(REGISTER, { input: { sessionId: 'v1', url: receiver.url, events: ['MESSAGE'] } });
    const statuses = collect(b.wsClient(), 'subscription { sessionStatus(sessionId: "v1") { status } }');
    const messages = collect(b.wsClient(), 'subscription { message(sessionId: "v1") { body } }');
    await statuses.next(1);
    await waitFor(async () => {
      await a.gqlOk(INJECT, { s: 'v1', from: '15557770002@c.us', body: 'probe' });
      return messages.values.length > 0;
    }, 10_000, 'the message subscription on B');
    await waitFor(() => receiver!.received.length >= messages.values.length, 10_000, 'the deliveries');
    await new Promise((r) => setTimeout(r, 300));
    const [row] = await queryDatabase<{ n: number }>(db.url, 'SELECT count(*)::int AS n FROM webhook_deliveries');
    assert.equal(row!.n, messages.values.length, 'one delivery per message');

    await a.gqlOk('mutation { stopSession(sessionId: "v1") { status } }');
    await waitFor(async () => (await b.gqlOk(STATUS, { id: 'v1' })).session?.status === 'TERMINATED', 10_000, 'v1 TERMINATED on B');
    await a.gqlOk('mutation { removeSession(sessionId: "v1") { removed } }');
    await waitFor(() => statuses.completed && messages.completed, 10_000, "B's subscriptions to end");
    assert.equal((await b.gqlOk(STATUS, { id: 'v1' })).session, null);
    assert.deepEqual((await b.gqlOk(LIST)).sessions, []);
  });
});
