import { getFieldIdentity, getGraphQLRateLimiter, type Identity, type Store } from 'graphql-rate-limit';

// Rate limits on top of graphql-rate-limit's sliding-window limiter. Its Store interface is the seam a
// Redis store (graphql-rate-limit ships a RedisStore) can fill; the in-memory one here is bounded.

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

/** graphql-rate-limit's InMemoryStore never forgets; this one keeps at most `maxEntries`, least recently used out first. */
export class BoundedMemoryStore implements Store {
  private readonly entries = new Map<string, { timestamps: number[]; expiresAt: number }>();

  constructor(private readonly maxEntries: number) {}

  setForIdentity(identity: Identity, timestamps: readonly number[], windowMs?: number): void {
    const key = `${identity.contextIdentity}\u0000${identity.fieldIdentity}`;
    this.entries.delete(key);
    if (timestamps.length === 0) return;
    const newest = Math.max(...timestamps);
    this.entries.set(key, { timestamps: [...timestamps], expiresAt: newest + (windowMs ?? 60_000) });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  getForIdentity(identity: Identity): readonly number[] {
    const key = `${identity.contextIdentity}\u0000${identity.fieldIdentity}`;
    const entry = this.entries.get(key);
    if (!entry) return [];
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return [];
    }
    return entry.timestamps;
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
  private readonly limiter: ReturnType<typeof getGraphQLRateLimiter>;

  constructor(
    readonly settings: RateLimitSettings,
    readonly store: Store = new BoundedMemoryStore(settings.maxClients),
  ) {
    this.limiter = getGraphQLRateLimiter({ identifyContext: (ctx: { client: string }) => ctx.client, store });
  }

  limitOf(bucket: Bucket): number {
    return this.settings[bucket];
  }

  /**
   * Counts one call of `bucket` for `client` (an API key id or `ip:<address>`), `scope` narrowing it
   * further (the session id for messaging). Rejected calls are not counted.
   */
  async hit(bucket: Bucket, client: string, scope = ''): Promise<RateLimitState> {
    const max = this.limitOf(bucket);
    const args = { scope };
    const info = { fieldName: bucket };
    const message = await this.limiter(
      { parent: undefined, args, context: { client }, info: info as never },
      { max, window: `${this.settings.windowMs}ms`, identityArgs: ['scope'], uncountRejected: true },
    );
    const limited = typeof message === 'string';
    this.counters[limited ? 'limited' : 'allowed'][bucket]++;
    const now = Date.now();
    const timestamps = (await this.store.getForIdentity({ contextIdentity: client, fieldIdentity: getFieldIdentity(bucket, ['scope'], args) })).filter(
      (t) => t + this.settings.windowMs > now,
    );
    const oldest = timestamps.length > 0 ? Math.min(...timestamps) : now;
    const resetMs = oldest + this.settings.windowMs;
    return {
      bucket,
      limit: max,
      remaining: Math.max(0, max - timestamps.length),
      reset: Math.ceil(resetMs / 1000),
      retryAfter: limited ? Math.max(1, Math.ceil((resetMs - now) / 1000)) : 0,
      limited,
    };
  }
}
