import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import WebSocket from 'ws';
import { collect, waitFor } from './helpers/app.js';
import { INJECT } from './helpers/messaging.js';
import { injectAcrossRedisOutage, startNode, type Node } from './helpers/nodes.js';
import { createTestDatabase, needsPostgres, type TestDatabase } from './helpers/pg.js';
import { deletePrefix, keysUnder, needsPrivateRedis, startPrivateRedis, uniquePrefix, type PrivateRedis } from './helpers/redis.js';

// Two real node processes on one PostgreSQL database and a Redis of the test's own. A session runs on node A; a
// graphql-ws subscriber and a legacy /ws listener on node B receive its events through the Redis Stream. Redis is stopped for 2 s under a
// steady stream of events: once it is back the subscriber has every one of them, in order, exactly once.
//
// Until the cluster's leases decide who runs what, every node starts every session it finds in the database at
// start-up: so both nodes start on an empty database, and the session is made on A afterwards. B knows it from
// its events (it loads the row on the first one) and serves subscriptions for it without running it.

const CREATE = 'mutation($id: String!) { createSession(input: { sessionId: $id, waitForQR: true }) { session { status } } }';
const SCAN = 'mutation($id: String!) { sandboxScanQr(sessionId: $id) { status } }';
const STATUS = 'query($id: String!) { session(sessionId: $id) { status } }';
const SUB = 'subscription($s: String!) { message(sessionId: $s) { body } }';
const FROM = '15557770001@c.us';

describe('cross-node events over Redis', async () => {
  const pgOptions = await needsPostgres();
  let redis: PrivateRedis | undefined;
  let db: TestDatabase | undefined;
  const nodes: Node[] = [];
  const prefix = uniquePrefix();
  after(async () => {
    await Promise.allSettled(nodes.map((n) => n.stop()));
    if (redis) {
      await deletePrefix(redis.url, prefix).catch(() => undefined);
      await redis.dispose();
    }
    await db?.drop();
  });

  it('a subscriber on B gets every event of a session on A, in order, across a 2 s Redis outage', { skip: pgOptions.skip || needsPrivateRedis().skip }, async (t) => {
    redis = await startPrivateRedis();
    db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, REDIS_PREFIX: prefix };
    const [a, b] = await Promise.all([startNode(env), startNode(env)]);
    nodes.push(a, b);

    await a.gqlOk(CREATE, { id: 'sa' });
    await a.gqlOk(SCAN, { id: 'sa' });
    await waitFor(async () => (await a.gqlOk(STATUS, { id: 'sa' })).session?.status === 'READY', 10_000, 'sa READY on A');
    // B's view of the session, fed by A's status events.
    await waitFor(async () => (await b.gqlOk(STATUS, { id: 'sa' })).session?.status === 'READY', 10_000, 'sa READY as B sees it');

    const sub = collect<{ message: { body: string } }>(b.ws(), SUB, { s: 'sa' });
    const legacy: string[] = [];
    const socket = new WebSocket(`${b.url.replace(/^http/, 'ws')}/ws/sa`);
    socket.on('message', (data) => {
      const event = JSON.parse(String(data));
      if (event.event === 'message' && event.data.body.startsWith('m')) legacy.push(event.data.body);
    });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    // Warm-up: injected until one reaches B, so the subscription is surely live before the counted run.
    let warm = 0;
    await waitFor(async () => {
      await a.gqlOk(INJECT, { s: 'sa', from: FROM, body: `warm${warm++}` });
      return sub.values.length > 0;
    }, 10_000, 'the subscription on B to receive');
    socket.on('close', () => legacy.push('(closed)'));

    const { acked, duringOutage, observed: health } = await injectAcrossRedisOutage(
      async (body) => Boolean((await a.gql(INJECT, { s: 'sa', from: FROM, body })).data?.sandboxInjectMessage),
      redis,
      async () => (await fetch(`${a.url}/health`)).json(),
    );

    const received = () => sub.values.map((v) => v.message.body).filter((body) => body.startsWith('m'));
    await waitFor(() => received().length >= acked.length, 20_000, `all ${acked.length} events on B`).catch(() => undefined);
    const got = received();
    t.diagnostic(`events acknowledged on A: ${acked.length} (${duringOutage} while Redis was stopped); received on B: ${got.length}`);
    assert.ok(duringOutage > 0, 'A kept working while Redis was stopped');
    assert.deepEqual(got, acked, 'B received every acknowledged event once, in order');
    await waitFor(() => legacy.length >= acked.length, 10_000, 'the /ws listener on B').catch(() => undefined);
    assert.deepEqual(legacy, acked, "B's /ws listener too");
    socket.close();

    // A stayed healthy without Redis and said why Redis was not ok.
    assert.equal(health.data.status, 'healthy');
    assert.match(health.data.checks.redis, /^error/);
    const healthAfter = await (await fetch(`${a.url}/health`)).json();
    assert.equal(healthAfter.data.checks.redis, 'ok');
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    assert.match(metrics, /wa_gateway_redis_stream_lag_seconds \d/);
    assert.match(metrics, /wa_gateway_redis_stream_events_total\{outcome="received"\} [1-9]/);

    // Every key the nodes made starts with the prefix (and goes with it).
    await Promise.all(nodes.map((node) => node.stop()));
    const keys = await keysUnder(redis.url, '');
    assert.ok(keys.length > 0 && keys.every((k) => k.startsWith(prefix)), `keys outside the prefix: ${keys.filter((k) => !k.startsWith(prefix))}`);
  });
});
