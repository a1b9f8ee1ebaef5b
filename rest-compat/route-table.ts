import type { RestRoute } from './route.js';
import { messageActionRoutes } from './routes/message-actions.js';
import { groupRoutes } from './routes/groups.js';
import { messagingRoutes } from './routes/messaging.js';
import { serverRoutes } from './routes/server.js';
import { sessionRoutes } from './routes/sessions.js';
import { webhookRoutes } from './routes/webhooks.js';

/**
 * Every REST route under /api/v1, in the order the docs show them. A new group of routes (webhooks)
 * is one more file under routes/ and one more entry here; the runner and the OpenAPI document follow.
 */
export const routeTable: readonly RestRoute[] = [...sessionRoutes, ...messagingRoutes, ...messageActionRoutes, ...groupRoutes, ...webhookRoutes, ...serverRoutes];
