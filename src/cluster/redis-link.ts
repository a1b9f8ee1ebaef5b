import { randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger.js';

// No per-command timeout: on a busy event loop its timer fires before the reply that is already there is read, and
// a rate-limit hit Redis counted would be counted again in the fallback. A hung server is found per connection:
/** A connection with a command in flight and nothing read for this long is dropped and made again. */
const SOCKET_TIMEOUT_MS = 3000;

/**
 * This node's connections to the cluster's Redis, its key prefix and its name there. Commands fail at once while
 * Redis is away (no offline queue, nothing resent after a reconnect): each user decides what that means for it
 * (the stream buffers and resumes, the limiter falls back to its share, the key broadcast retries).
 */
export class RedisLink {
  /** One connection for plain commands (scripts, XADD, heartbeat, PUBLISH). */
  readonly commands: Redis;
  /** Differs on every start of the process, also when the node id stays: tells this run's stream entries apart. */
  readonly boot = randomBytes(6).toString('hex');
  private readonly others: Redis[] = [];
  private lastError: string | null = null;
  private wasUp = false;
  private closed = false;

  constructor(
    private readonly url: string,
    readonly prefix: string,
    readonly nodeId: string,
    private readonly logger: Logger,
  ) {
    this.commands = this.connect('commands', {});
    this.commands.on('ready', () => {
      if (this.wasUp || this.lastError) this.logger.info('Redis is back', { redis: redactRedisUrl(url) });
      this.wasUp = true;
      this.lastError = null;
    });
  }

  /** A key or channel name under the prefix. */
  key(name: string): string {
    return `${this.prefix}${name}`;
  }

  get up(): boolean {
    return this.commands.status === 'ready';
  }

  /** For /health: 'ok', or why Redis is not usable now. */
  check(): string {
    if (this.up) return 'ok';
    return `error: Redis unavailable (${this.lastError ?? this.commands.status})`;
  }

  /** Resolves once the command connection is ready, or after `ms` (whichever comes first). */
  ready(ms: number): Promise<boolean> {
    if (this.up) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.commands.off('ready', onReady);
        resolve(false);
      }, ms);
      const onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.commands.once('ready', onReady);
    });
  }

  /**
   * A connection of its own: `blocking` for XREAD BLOCK (it waits on the server), `subscriber` for pub/sub (its
   * SUBSCRIBE waits for Redis and is made again after every reconnect).
   */
  connection(kind: 'blocking' | 'subscriber'): Redis {
    const redis = this.connect(kind, kind === 'subscriber' ? { enableOfflineQueue: true, maxRetriesPerRequest: null, autoResubscribe: true } : {});
    this.others.push(redis);
    return redis;
  }

  private connect(name: string, options: RedisOptions): Redis {
    const redis = new Redis(this.url, {
      connectionName: `wa-gateway:${this.nodeId}:${name}`,
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      socketTimeout: SOCKET_TIMEOUT_MS,
      connectTimeout: 2000,
      // Reconnect quickly: a short outage should cost about its own length.
      retryStrategy: (times) => Math.min(50 * times, 500),
      ...options,
    });
    redis.on('error', (error: Error) => {
      if (this.closed) return;
      const message = error.message || String(error);
      if (name === 'commands' && this.lastError === null) {
        this.logger.warn('Redis unavailable: events are buffered, rate limits fall back to this node\'s share', { redis: redactRedisUrl(this.url), err: message });
      }
      if (name === 'commands') this.lastError = message;
    });
    return redis;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const redis of [...this.others, this.commands]) redis.disconnect(false);
  }
}

/** The URL without its password, for logs. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis://(unparseable)';
  }
}
