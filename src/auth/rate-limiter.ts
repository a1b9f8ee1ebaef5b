// Sliding-window rate limits, configured as graphql-rate-limit is (a max per window per identity), with one
// difference that matters: its Store is get-then-set (read the timestamps, await, write them back), so operations
// that arrive together all read the same count and are all admitted. Here the store counts and decides in one
// call, which an in-memory store does synchronously and a shared one (Redis: one script per hit) atomically.

/** Who is counted (`contextIdentity`: a key id or `ip:<address>`) for what (`fieldIdentity`: bucket and scope). */
export interface Identity {
  contextIdentity: string;
  fieldIdentity: string;
}

/** One hit's outcome, as the store decided it. */
export interface HitDecision {
  admitted: boolean;
  /** Hits in the window after this one (an admitted hit included, a refused one not). */
  count: number;
  /** Epoch ms of the oldest hit still in the window (`now` when there is none). */
  oldest: number;
}

/**
 * The counters' seam. `hit` must be atomic per identity: drop the hits older than `now - windowMs`, admit when
 * fewer than `max` remain and then record `now`, and answer the decision, with nothing else counting in between.
 * Refused hits are not recorded, so a client that keeps retrying gets in once the window moves.
 */
export interface Store {
  hit(identity: Identity, now: number, windowMs: number, max: number): HitDecision | Promise<HitDecision>;
}

export type Bucket = 'general' | 'sessionCreate' | 'messaging';

export interface RateLimitSettings {
  enabled: boolean;
  windowMs: number;
  general: number;
  sessionCreate: number;
  messaging: number;
  maxClients: number;
}

export interface RateLimitState {
  bucket: Bucket;
  limit: number;
  remaining: number;
  /** Epoch seconds when the oldest counted call leaves the window. */
  reset: number;
  /** Seconds to wait before a call can succeed (0 when allowed). */
  retryAfter: number;
  limited: boolean;
}

/** Counters in this process, at most `maxEntries` identities, least recently used out first. */
export class BoundedMemoryStore implements Store {
  private readonly entries = new Map<string, number[]>();

  constructor(private readonly maxEntries: number) {}

  hit(identity: Identity, now: number, windowMs: number, max: number): HitDecision {
    const key = `${identity.contextIdentity}\u0000${identity.fieldIdentity}`;
    const timestamps = this.entries.get(key) ?? [];
    // Oldest first: the expired ones are a prefix.
    let expired = 0;
    while (expired < timestamps.length && timestamps[expired]! + windowMs <= now) expired++;
    if (expired > 0) timestamps.splice(0, expired);
    const admitted = timestamps.length < max;
    if (admitted) timestamps.push(now);
    // Re-inserted, so the Map's order is least recently used first.
    this.entries.delete(key);
    if (timestamps.length > 0) {
      this.entries.set(key, timestamps);
      if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    }
    return { admitted, count: timestamps.length, oldest: timestamps[0] ?? now };
  }

  get size(): number {
    return this.entries.size;
  }
}

export interface RateLimitCounters {
  allowed: Record<Bucket, number>;
  limited: Record<Bucket, number>;
}

export class RateLimiter {
  readonly counters: RateLimitCounters = {
    allowed: { general: 0, sessionCreate: 0, messaging: 0 },
    limited: { general: 0, sessionCreate: 0, messaging: 0 },
  };

  constructor(
    readonly settings: RateLimitSettings,
    readonly store: Store = new BoundedMemoryStore(settings.maxClients),
  ) {}

  limitOf(bucket: Bucket): number {
    return this.settings[bucket];
  }

  /**
   * Counts one call of `bucket` for `client` (an API key id or `ip:<address>`), `scope` narrowing it
   * further (the session id for messaging): one store call that counts and decides. Synchronous when the
   * store is (the in-memory one), so an operation pays no promise for it.
   */
  hit(bucket: Bucket, client: string, scope = ''): RateLimitState | Promise<RateLimitState> {
    const max = this.limitOf(bucket);
    const windowMs = this.settings.windowMs;
    const now = Date.now();
    const decision = this.store.hit({ contextIdentity: client, fieldIdentity: `${bucket}:${scope}` }, now, windowMs, max);
    return decision instanceof Promise ? decision.then((d) => this.state(bucket, max, now, d)) : this.state(bucket, max, now, decision);
  }

  private state(bucket: Bucket, max: number, now: number, { admitted, count, oldest }: HitDecision): RateLimitState {
    this.counters[admitted ? 'allowed' : 'limited'][bucket]++;
    const resetMs = oldest + this.settings.windowMs;
    return {
      bucket,
      limit: max,
      remaining: Math.max(0, max - count),
      reset: Math.ceil(resetMs / 1000),
      retryAfter: admitted ? 0 : Math.max(1, Math.ceil((resetMs - now) / 1000)),
      limited: !admitted,
    };
  }
}
