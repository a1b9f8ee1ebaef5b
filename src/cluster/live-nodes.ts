import type { RedisLink } from './redis-link.js';

const NODES = 'nodes';

/**
 * The nodes alive in the cluster, counted simply: each node writes its name and the time into one sorted set
 * every `intervalMs`, and counts the names written within `ttlMs`. The last count is kept for when Redis is away
 * (the rate limiter then gives each node its share of a limit).
 */
export class LiveNodes {
  private known = 1;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly link: RedisLink,
    private readonly intervalMs = 1000,
    private readonly ttlMs = 5000,
  ) {}

  /** Live nodes as last counted (this one included; at least 1). */
  get count(): number {
    return this.known;
  }

  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const key = this.link.key(NODES);
    const now = Date.now();
    try {
      const results = await this.link.commands
        .multi()
        .zadd(key, now, this.link.nodeId)
        .zremrangebyscore(key, '-inf', now - this.ttlMs)
        .zcard(key)
        .pexpire(key, this.ttlMs * 4)
        .exec();
      const card = Number(results?.[2]?.[1]);
      if (Number.isFinite(card) && card > 0) this.known = card;
    } catch {
      // Redis away: the last count stands.
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.link.commands.zrem(this.link.key(NODES), this.link.nodeId).catch(() => undefined);
  }
}
