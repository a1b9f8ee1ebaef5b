import { BoundedMemoryStore, type HitDecision, type Identity, type Store } from '../auth/rate-limiter.js';
import type { RedisLink } from './redis-link.js';

// One hit, atomically: the same rule as BoundedMemoryStore (drop what left the window, admit while fewer than max
// remain, record only admitted hits), on a sorted set of hit times per identity. Get-then-set from the client
// admitted every concurrent hit; a script runs alone on the server.
const HIT = `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
local admitted = 0
if count < max then
  redis.call('ZADD', key, now, ARGV[4])
  count = count + 1
  admitted = 1
end
local oldest = now
local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
if first[2] then
  oldest = tonumber(first[2])
  redis.call('PEXPIRE', key, window)
end
return {admitted, count, oldest}
`;

type HitCommand = (key: string, now: number, windowMs: number, max: number, member: string) => Promise<[number, number, number]>;

/**
 * Rate-limit counters in Redis, shared by every node: exactly the limit across the cluster. While Redis is away
 * (or a hit fails), each node counts in its own memory against its share of the limit: the limit divided by the
 * live nodes it last counted, so the cluster as a whole stays near the limit.
 */
export class RedisRateLimitStore implements Store {
  private readonly local: BoundedMemoryStore;
  private seq = 0;
  private fallbacks = 0;

  constructor(
    private readonly link: RedisLink,
    private readonly liveNodes: () => number,
    maxClients: number,
  ) {
    this.local = new BoundedMemoryStore(maxClients);
    link.commands.defineCommand('waRateHit', { numberOfKeys: 1, lua: HIT });
  }

  /** Hits counted locally (Redis away) since start. */
  get fallbackHits(): number {
    return this.fallbacks;
  }

  hit(identity: Identity, now: number, windowMs: number, max: number): HitDecision | Promise<HitDecision> {
    if (!this.link.up) return this.fallback(identity, now, windowMs, max);
    const key = this.link.key(`rl:${identity.contextIdentity}|${identity.fieldIdentity}`);
    const member = `${this.link.boot}:${++this.seq}`;
    const run = (this.link.commands as unknown as { waRateHit: HitCommand }).waRateHit;
    return run.call(this.link.commands, key, now, windowMs, max, member).then(
      ([admitted, count, oldest]) => ({ admitted: admitted === 1, count: Number(count), oldest: Number(oldest) }),
      () => this.fallback(identity, now, windowMs, max),
    );
  }

  private fallback(identity: Identity, now: number, windowMs: number, max: number): HitDecision {
    this.fallbacks++;
    return this.local.hit(identity, now, windowMs, Math.max(1, Math.floor(max / Math.max(1, this.liveNodes()))));
  }
}
