import type { Config } from './config.js';
import type { EventBus } from './events/bus.js';
import type { Logger } from './logger.js';
import type { MessagingService } from './messaging/messaging-service.js';
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
  metrics: Metrics;
}

export interface GraphQLContext {
  services: Services;
  requestId: string;
}
