// Sliding-window rate limits. The Store interface is graphql-rate-limit's (so its RedisStore fits the seam
// for a multi-node setup); the algorithm is the same as its limiter's, written out here because importing
// that package (graphql-shield and @graphql-tools/utils behind it) cost ~150 ms of every cold start.

/** Who is counted (`contextIdentity`: a key id or `ip:<address>`) for what (`fieldIdentity`: bucket and scope). */
export interface Identity {
  contextIdentity: string;
  fieldIdentity: string;
}

export interface Store {
  setForIdentity(identity: Identity, timestamps: readonly number[], windowMs?: number): void | Promise<void>;
  getForIdentity(identity: Identity): readonly number[] | Promise<readonly number[]>;
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

/** graphql-rate-limit's InMemoryStore never forgets; this one keeps at most `maxEntries`, least recently used out first. */
export class BoundedMemoryStore implements Store {
  private readonly entries = new Map<string, { timestamps: number[]; expiresAt: number }>();

  constructor(private readonly maxEntries: number) {}

  setForIdentity(identity: Identity, timestamps: readonly number[], windowMs?: number): void {
    const key = `${identity.contextIdentity}\u0000${identity.fieldIdentity}`;
    this.entries.delete(key);
    if (timestamps.length === 0) return;
    const newest = timestamps[timestamps.length - 1]!;
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

  constructor(
    readonly settings: RateLimitSettings,
    readonly store: Store = new BoundedMemoryStore(settings.maxClients),
  ) {}

  limitOf(bucket: Bucket): number {
    return this.settings[bucket];
  }

  /**
   * Counts one call of `bucket` for `client` (an API key id or `ip:<address>`), `scope` narrowing it
   * further (the session id for messaging). Rejected calls are not counted.
   */
  async hit(bucket: Bucket, client: string, scope = ''): Promise<RateLimitState> {
    const max = this.limitOf(bucket);
    const windowMs = this.settings.windowMs;
    const identity = { contextIdentity: client, fieldIdentity: `${bucket}:${scope}` };
    const now = Date.now();
    const timestamps = (await this.store.getForIdentity(identity)).filter((t) => t + windowMs > now);
    // Rejected calls are not counted, so a client that keeps retrying is let in once the window moves.
    const limited = timestamps.length + 1 > max;
    if (!limited) timestamps.push(now);
    await this.store.setForIdentity(identity, timestamps, windowMs);
    this.counters[limited ? 'limited' : 'allowed'][bucket]++;
    const oldest = timestamps[0] ?? now;
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
