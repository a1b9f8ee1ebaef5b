import { Counter, Gauge } from 'prom-client';
import type { ApiKeyService } from '../auth/api-keys.js';
import type { Config } from '../config.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { SessionManager } from '../sessions/session-manager.js';
import { EventStream } from './event-stream.js';
import { ChangeBroadcast } from './change-broadcast.js';
import { LiveNodes } from './live-nodes.js';
import { redisNodeId } from './node-id.js';
import { RedisLink } from './redis-link.js';
import { RedisRateLimitStore } from './redis-rate-store.js';

export interface RedisAttachOptions {
  bus: EventBus;
  sessions: SessionManager;
  apiKeys: ApiKeyService;
  metrics: Metrics;
  /** Resolves once the writes made so far are committed (the store's batch). */
  committed: () => Promise<void>;
  /** Whether this node owns a session (its events go to the stream); default: the session runs here. */
  ownsSession?: (sessionId: string) => boolean;
  /** The webhook registry held in memory (PostgreSQL): registered, changed or removed on one node, read again on the others. */
  webhooks?: { reload(): Promise<void>; onChanged(listener: () => void): void };
}

/**
 * What a node does with Redis (`--redis-url`): the rate-limit store (made first, for the RateLimiter), then,
 * attached once the sessions and keys exist, the cross-node event stream and the API key and webhook broadcasts. A Redis
 * outage leaves the node healthy: its own sessions, sends and local subscribers go on, events wait in order,
 * rate limits fall back to this node's share.
 */
export class RedisCluster {
  readonly link: RedisLink;
  readonly liveNodes: LiveNodes;
  readonly rateStore: RedisRateLimitStore;
  private stream: EventStream | null = null;
  private readonly broadcasts: ChangeBroadcast[] = [];

  constructor(
    config: Config,
    private readonly logger: Logger,
  ) {
    this.link = new RedisLink(config.redis.url, config.redis.prefix, redisNodeId(config), logger.child({ component: 'redis' }));
    this.liveNodes = new LiveNodes(this.link);
    this.rateStore = new RedisRateLimitStore(this.link, () => this.liveNodes.count, config.rateLimit.maxClients);
  }

  /** For /health: 'ok' or why Redis is unusable now. */
  check(): string {
    return this.link.check();
  }

  /** Starts the stream (reading from its current end) and the broadcast. Call before the sessions are loaded. */
  async attach(o: RedisAttachOptions): Promise<void> {
    this.liveNodes.start();
    // This node's events wait for their commit: the stream appends them after it, and its subscribers get them
    // then, as the other nodes do (see followCommits).
    o.bus.followCommits(o.committed);
    this.stream = new EventStream({
      link: this.link,
      bus: o.bus,
      logger: this.logger.child({ component: 'event-stream' }),
      sessions: o.sessions,
      ownsSession: o.ownsSession ?? ((sessionId) => o.sessions.isLocal(sessionId)),
    });
    await this.stream.start();
    const keys = o.apiKeys;
    this.broadcasts.push(new ChangeBroadcast(this.link, { channel: 'api-keys', what: 'API keys', reload: () => keys.reload(), onChanged: (send) => keys.onChanged(send) }, this.logger));
    const webhooks = o.webhooks;
    if (webhooks) {
      this.broadcasts.push(
        new ChangeBroadcast(this.link, { channel: 'webhooks', what: 'webhooks', reload: () => webhooks.reload(), onChanged: (send) => webhooks.onChanged(() => send({ op: 'changed' })) }, this.logger),
      );
    }
    this.register(o.metrics);
  }

  private register(metrics: Metrics): void {
    const registers = [metrics.registry];
    const link = this.link;
    const stream = () => this.stream;
    const live = this.liveNodes;
    const rate = this.rateStore;
    new Gauge({
      name: 'wa_gateway_redis_up',
      help: 'Whether this node reaches Redis now (1) or not (0)',
      registers,
      collect() {
        this.set(link.up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'wa_gateway_redis_stream_lag_seconds',
      help: 'Cross-node events: time from the last entry read being appended to the stream to its republication on this node',
      registers,
      collect() {
        this.set((stream()?.lagMs ?? 0) / 1000);
      },
    });
    new Gauge({
      name: 'wa_gateway_redis_stream_buffered_events',
      help: "Events of this node's sessions waiting to be appended to the stream (Redis away or slow)",
      registers,
      collect() {
        this.set(stream()?.buffered ?? 0);
      },
    });
    new Counter({
      name: 'wa_gateway_redis_stream_events_total',
      help: 'Cross-node events: appended by this node, received from other nodes, repeats dropped, dropped unsent (buffer full), stale (of a session this node drives, made elsewhere after this node took it), uncommitted (of this node, whose writes failed: never appended)',
      labelNames: ['outcome'],
      registers,
      collect() {
        this.reset();
        const c = stream()?.counters;
        if (!c) return;
        this.inc({ outcome: 'appended' }, c.appended);
        this.inc({ outcome: 'received' }, c.received);
        this.inc({ outcome: 'duplicate' }, c.duplicates);
        this.inc({ outcome: 'dropped' }, c.dropped);
        this.inc({ outcome: 'stale' }, c.stale);
        this.inc({ outcome: 'uncommitted' }, c.uncommitted);
      },
    });
    new Gauge({
      name: 'wa_gateway_redis_live_nodes',
      help: 'Nodes alive in the cluster as last counted in Redis (the rate limits divide by it while Redis is away)',
      registers,
      collect() {
        this.set(live.count);
      },
    });
    new Counter({
      name: 'wa_gateway_redis_rate_limit_fallback_total',
      help: "Rate-limit hits counted in this node's memory against its share of the limit because Redis was away",
      registers,
      collect() {
        this.reset();
        this.inc(rate.fallbackHits);
      },
    });
  }

  async close(): Promise<void> {
    for (const broadcast of this.broadcasts) broadcast.close();
    await this.stream?.close();
    await this.liveNodes.stop();
    await this.link.close();
  }
}
