import type { ApiKeyService } from './auth/api-keys.js';
import type { Authenticator } from './auth/authenticator.js';
import type { LiveAccess } from './auth/live-access.js';
import type { Principal } from './auth/principal.js';
import type { RateLimiter, RateLimitState } from './auth/rate-limiter.js';
import type { ClusterNode } from './cluster/cluster-node.js';
import type { Config } from './config.js';
import type { EventBus } from './events/bus.js';
import type { Logger } from './logger.js';
import type { MessagingService } from './messaging/messaging-service.js';
import type { AccountService } from './messaging/account-service.js';
import type { Metrics } from './observability/metrics.js';
import type { ServerService } from './server-service.js';
import type { SessionManager } from './sessions/session-manager.js';
import type { WebhookService } from './webhooks/webhook-service.js';

/** The services every resolver reaches through its context. */
export interface Services {
  config: Config;
  logger: Logger;
  bus: EventBus;
  sessions: SessionManager;
  server: ServerService;
  webhooks: WebhookService;
  messaging: MessagingService;
  /** Group administration, contacts, the own profile, calls. */
  accounts: AccountService;
  metrics: Metrics;
  apiKeys: ApiKeyService;
  /** Turns presented keys into principals; its counters (accepted/rejected) are for metrics. */
  auth: Authenticator;
  /** Ends live subscriptions when their key is revoked or their session removed; counts them per key. */
  live: LiveAccess;
  /** Its counters (allowed/limited per bucket) are for metrics. */
  rateLimiter: RateLimiter;
  /** This node of a cluster (--node-id with --database-url); null for a server on its own. */
  cluster: ClusterNode | null;
}

export interface GraphQLContext {
  services: Services;
  requestId: string;
  /** Who is calling; null only when a key is required and none (or a wrong one) was given. */
  auth: Principal | null;
  /** The peer address, which rate limits count against when there is no key. */
  clientIp: string;
  /** Set by the rate-limit plugin: the limit state this operation counted against. */
  rateLimit?: RateLimitState;
}
