import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BoundedMemoryStore, RateLimiter } from '../src/auth/rate-limiter.js';
import { collect, startServer, type TestServer } from './helpers/app.js';
import { ADMIN_KEY, createKey, gqlAs, withKey } from './helpers/auth.js';

const HEALTH = '{ health { status } }';
const CREATE_ONLY = 'mutation($id: String!) { createSession(input: { sessionId: $id }) { session { sessionId } } }';

describe('rate limits', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ auth: { apiKeys: [ADMIN_KEY] }, rateLimit: { general: 6, sessionCreate: 2, windowMs: 60_000 } });
  });
  after(() => server.dispose());

  it('general: headers count down, then 429 RATE_LIMITED with Retry-After; other keys keep their own budget', async () => {
    const { key } = await createKey(server, { sessionIds: ['x'], actions: ['READ'] });
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      const result = await gqlAs(server, HEALTH, {}, withKey(key));
      assert.equal(result.status, 200);
      assert.equal(result.headers.get('x-ratelimit-limit'), '6');
      seen.push(Number(result.headers.get('x-ratelimit-remaining')));
      const reset = Number(result.headers.get('x-ratelimit-reset'));
      assert.ok(reset >= Date.now() / 1000 && reset <= Date.now() / 1000 + 61, `reset ${reset} is epoch seconds within the window`);
    }
    assert.deepEqual(seen, [5, 4, 3, 2, 1, 0]);
    const over = await gqlAs(server, HEALTH, {}, withKey(key));
    assert.equal(over.status, 429);
    assert.equal(over.errors?.[0]?.extensions?.code, 'RATE_LIMITED');
    assert.equal(over.errors?.[0]?.extensions?.details?.bucket, 'general');
    const retryAfter = Number(over.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(over.headers.get('x-ratelimit-remaining'), '0');
    assert.equal(over.data, undefined);
    // A refused call is not counted, and the admin key has its own budget.
    assert.equal((await gqlAs(server, HEALTH, {}, withKey(ADMIN_KEY))).status, 200);
    assert.equal(server.app.services.rateLimiter.counters.limited.general >= 1, true);
  });

  it('session creation: the third create in the window is refused and creates nothing', async () => {
    const { key } = await createKey(server, { sessionIds: ['r1', 'r2', 'r3'], actions: ['MANAGE', 'READ'] });
    for (const id of ['r1', 'r2']) {
      const ok = await gqlAs(server, CREATE_ONLY, { id }, withKey(key));
      assert.equal(ok.errors, undefined);
      assert.equal(ok.headers.get('x-ratelimit-limit'), '2', 'the most specific limit is reported');
    }
    const over = await gqlAs(server, CREATE_ONLY, { id: 'r3' }, withKey(key));
    assert.equal(over.status, 429);
    assert.equal(over.errors?.[0]?.extensions?.details?.bucket, 'sessionCreate');
    assert.ok(Number(over.headers.get('retry-after')) >= 1);
    const ids = (await gqlAs(server, '{ sessions { sessionId } }', {}, withKey(ADMIN_KEY))).data.sessions.map((s: any) => s.sessionId);
    assert.deepEqual(ids, ['r1', 'r2']);
  });

  it('graphql-ws operations count too', async () => {
    const { key } = await createKey(server, { sessionIds: ['x'], actions: ['READ'] });
    const client = server.wsClient({ apiKey: key });
    const results: any[] = [];
    for (let i = 0; i < 7; i++) {
      results.push(
        await new Promise((resolve) => client.subscribe({ query: HEALTH }, { next: resolve, error: (e) => resolve({ errors: e }), complete: () => undefined })),
      );
    }
    assert.equal(results.filter((r) => r.data).length, 6);
    assert.equal(results[6].errors?.[0]?.extensions?.code, 'RATE_LIMITED');
    const sub = collect(client, 'subscription { sessionStatus(sessionId: "x") { status } }');
    await assert.rejects(sub.next(1), /RATE_LIMITED/);
  });
});

describe('rate-limit window and identity', () => {
  it('the budget comes back after the window; without keys the client IP is the identity', async () => {
    const server = await startServer({ rateLimit: { general: 2, windowMs: 400 } });
    try {
      assert.equal((await gqlAs(server, HEALTH)).status, 200);
      assert.equal((await gqlAs(server, HEALTH, {}, withKey('ignored-when-open-0123456789'))).status, 200);
      assert.equal((await gqlAs(server, HEALTH)).status, 429, 'same IP, same budget');
      await new Promise((r) => setTimeout(r, 450));
      const again = await gqlAs(server, HEALTH);
      assert.equal(again.status, 200);
      assert.equal(again.headers.get('x-ratelimit-remaining'), '1');
    } finally {
      await server.dispose();
    }
  });

  it('can be turned off', async () => {
    const server = await startServer({ rateLimit: { enabled: false, general: 1 } });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await gqlAs(server, HEALTH)).status, 200);
    } finally {
      await server.dispose();
    }
  });

  it('the in-memory store stays bounded', async () => {
    const store = new BoundedMemoryStore(50);
    const limiter = new RateLimiter({ enabled: true, windowMs: 60_000, general: 3, sessionCreate: 1, messaging: 1, maxClients: 50 }, store);
    for (let i = 0; i < 500; i++) await limiter.hit('general', `ip:10.0.${i >> 8}.${i & 255}`);
    assert.equal(store.size, 50);
    const state = await limiter.hit('general', 'ip:10.0.1.243');
    assert.equal(state.remaining, 1, 'a recent client is still counted');
  });
});
