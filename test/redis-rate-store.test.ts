import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { LiveNodes } from '../src/cluster/live-nodes.js';
import { RedisLink } from '../src/cluster/redis-link.js';
import { RedisRateLimitStore } from '../src/cluster/redis-rate-store.js';
import { createLogger } from '../src/logger.js';
import { waitFor } from './helpers/app.js';
import { deletePrefix, needsPrivateRedis, needsRedis, startPrivateRedis, TEST_REDIS_URL, uniquePrefix, type PrivateRedis } from './helpers/redis.js';

// The Redis rate-limit store on its own, against real Redis servers: one script per hit admits exactly the limit
// however the hits of several nodes interleave, and with Redis away each node admits its share of the limit.

const logger = createLogger('silent');
const identity = { contextIdentity: 'key_1', fieldIdentity: 'general:' };

describe('Redis rate-limit store', async () => {
  const redisOptions = await needsRedis();
  const links: RedisLink[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  let redis: PrivateRedis | undefined;
  after(async () => {
    for (const link of links) await link.close();
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    await redis?.dispose();
  });

  it('three nodes, 300 concurrent hits against a limit of 100: exactly 100 admitted', redisOptions, async () => {
    const prefix = uniquePrefix();
    cleanups.push(() => deletePrefix(TEST_REDIS_URL, prefix));
    const stores = ['n1', 'n2', 'n3'].map((id) => {
      const link = new RedisLink(TEST_REDIS_URL, prefix, id, logger);
      links.push(link);
      return new RedisRateLimitStore(link, () => 3, 100);
    });
    await Promise.all(links.map((l) => l.ready(5000)));
    const now = Date.now();
    const decisions = await Promise.all(Array.from({ length: 300 }, (_, i) => stores[i % 3]!.hit(identity, now, 60_000, 100)));
    assert.equal(decisions.filter((d) => d.admitted).length, 100);
    assert.equal(Math.max(...decisions.map((d) => d.count)), 100);
    // Once the window has moved past them, hits are admitted again.
    const later = await stores[0]!.hit(identity, now + 60_000, 60_000, 100);
    assert.equal(later.admitted, true);
    assert.equal(later.count, 1);
    assert.equal(stores.reduce((n, s) => n + s.fallbackHits, 0), 0);
  });

  it('with Redis stopped each node admits its share: the limit divided by the live nodes it last counted', needsPrivateRedis(), async () => {
    redis = await startPrivateRedis();
    const prefix = uniquePrefix();
    const pair = ['n1', 'n2'].map((id) => {
      const link = new RedisLink(redis!.url, prefix, id, logger);
      links.push(link);
      const live = new LiveNodes(link, 50, 2000);
      live.start();
      cleanups.push(() => live.stop());
      return { link, live, store: new RedisRateLimitStore(link, () => live.count, 100) };
    });
    await waitFor(() => pair.every((p) => p.live.count === 2), 5000, 'both nodes to count 2 live nodes');
    await redis.stop(false);
    await waitFor(() => pair.every((p) => !p.link.up), 5000, 'the nodes to see Redis gone');
    const now = Date.now();
    const decisions = await Promise.all(Array.from({ length: 100 }, () => pair[0]!.store.hit(identity, now, 60_000, 60)));
    assert.equal(decisions.filter((d) => d.admitted).length, 30);
    assert.equal(pair[0]!.store.fallbackHits, 100);
    assert.equal(pair[0]!.live.count, 2, 'the last count stands while Redis is away');
    await redis.start();
    await waitFor(() => pair[0]!.link.up, 10_000, 'the node to reconnect');
    const back = await pair[0]!.store.hit(identity, Date.now(), 60_000, 60);
    assert.equal(back.admitted, true);
    assert.equal(pair[0]!.store.fallbackHits, 100, 'counted in Redis again');
  });
});
