import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { collect, waitFor } from './helpers/app.js';
import { ADMIN_KEY } from './helpers/auth.js';
import { startNode, type Node } from './helpers/nodes.js';
import { createTestDatabase, needsPostgres, type TestDatabase } from './helpers/pg.js';
import { deletePrefix, keysUnder, needsRedis, TEST_REDIS_URL, uniquePrefix } from './helpers/redis.js';

// Rate limits and API keys across two real node processes sharing one Redis (the shared server, under a prefix
// of the test's own). The limit is counted in Redis, so it holds even between nodes with separate SQLite data
// dirs; API keys live in the database, so the key test puts both nodes on one PostgreSQL database.

const QUERY = '{ sessions { sessionId } }';
const CREATE_KEY = 'mutation { createApiKey(input: { name: "temp", admin: true }) { key apiKey { id } } }';
const REVOKE_KEY = 'mutation($id: ID!) { revokeApiKey(id: $id) { revoked } }';
const CREATE = 'mutation($id: String!) { createSession(input: { sessionId: $id, waitForQR: true }) { session { status } } }';
const STATUS = 'query($id: String!) { session(sessionId: $id) { status } }';

describe('rate limits and API keys across nodes (Redis)', async () => {
  const redisOptions = await needsRedis();
  const pgOptions = await needsPostgres();
  const nodes: Node[] = [];
  const prefixes: string[] = [];
  let db: TestDatabase | undefined;
  after(async () => {
    await Promise.allSettled(nodes.map((n) => n.stop()));
    for (const prefix of prefixes) await deletePrefix(TEST_REDIS_URL, prefix).catch(() => undefined);
    await db?.drop();
  });

  it('one key, two nodes, a general limit of 60: 300 concurrent requests split over both admit at most 60', redisOptions, async (t) => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    // Separate SQLite data dirs: nothing shared but Redis.
    const env = { DATABASE_URL: '', REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, API_KEY: ADMIN_KEY, RATE_LIMIT_GENERAL: '60', RATE_LIMIT_WINDOW_MS: '60000' };
    const pair = await Promise.all([startNode(env), startNode(env)]);
    nodes.push(...pair);
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => pair[i % 2]!.gql(QUERY, {}, ADMIN_KEY)));
    const admitted = results.filter((r) => r.status === 200 && r.data?.sessions);
    const limited = results.filter((r) => r.errors?.[0]?.extensions?.code === 'RATE_LIMITED');
    t.diagnostic(`admitted ${admitted.length}, limited ${limited.length}`);
    assert.equal(admitted.length + limited.length, 300, 'every request was admitted or rate limited');
    assert.ok(admitted.length <= 60, `admitted ${admitted.length} > 60`);
    assert.equal(admitted.length, 60, 'with Redis up the cluster admits exactly the limit');
    await Promise.all(pair.map((n) => n.stop()));
    const keys = await keysUnder(TEST_REDIS_URL, prefix);
    assert.ok(keys.some((k) => k.startsWith(`${prefix}rl:`)), 'the counters are in Redis under the prefix');
    assert.ok(await deletePrefix(TEST_REDIS_URL, prefix) > 0);
  });

  it('a key created or revoked on one node takes effect on the other within 1 s; revoking closes its graphql-ws subscription there (4403)', { skip: redisOptions.skip || pgOptions.skip }, async (t) => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    db = await createTestDatabase();
    const env = { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, API_KEY: ADMIN_KEY };
    const [a, b] = await Promise.all([startNode(env), startNode(env)]);
    nodes.push(a, b);
    // A session made on A after both started (see cluster-redis-events.test.ts), known to B from its events.
    await a.gqlOk(CREATE, { id: 'sk' }, ADMIN_KEY);
    await waitFor(async () => (await b.gqlOk(STATUS, { id: 'sk' }, ADMIN_KEY)).session, 10_000, 'B to know sk');

    // One key made and seen on B untimed first, so the bounds below measure a key's way to B, not code paths
    // run for the first time in either process.
    const first = (await a.gqlOk(CREATE_KEY, {}, ADMIN_KEY)).createApiKey;
    await waitFor(async () => (await b.gql(STATUS, { id: 'sk' }, first.key)).status === 200, 10_000, 'the first key to work on B');
    await a.gqlOk(REVOKE_KEY, { id: first.apiKey.id }, ADMIN_KEY);
    await waitFor(async () => (await b.gql(STATUS, { id: 'sk' }, first.key)).status === 401, 10_000, 'the first key to fail on B');

    const created = (await a.gqlOk(CREATE_KEY, {}, ADMIN_KEY)).createApiKey;
    const createdAt = Date.now();
    await waitFor(async () => (await b.gql(STATUS, { id: 'sk' }, created.key)).status === 200, 1000, 'the new key to work on B');
    const seenAfter = Date.now() - createdAt;

    const sub = collect(b.ws({ apiKey: created.key }), 'subscription($s: String!) { sessionStatus(sessionId: $s) { status } }', { s: 'sk' });
    await sub.next(1);
    await a.gqlOk(REVOKE_KEY, { id: created.apiKey.id }, ADMIN_KEY);
    const revokedAt = Date.now();
    await waitFor(() => sub.errors.length > 0 || sub.completed, 1000, 'the subscription on B to end');
    const closedAfter = Date.now() - revokedAt;
    assert.equal((sub.errors[0] as { code?: number }).code, 4403);
    const refused = await b.gql(STATUS, { id: 'sk' }, created.key);
    assert.equal(refused.status, 401);
    t.diagnostic(`new key working on B after ${seenAfter} ms; B's subscription closed ${closedAfter} ms after the revocation`);
  });
});
