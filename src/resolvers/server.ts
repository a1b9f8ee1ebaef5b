import { anyKey, policy } from '../auth/access-policy.js';
import { builder } from '../schema/builder.js';
import { HealthRef, ServerInfoRef } from '../schema/server.js';

builder.queryFields((t) => ({
  serverInfo: t.field({ extensions: policy(anyKey()), type: ServerInfoRef, resolve: (_root, _args, ctx) => ctx.services.server.info() }),
  health: t.field({ extensions: policy(anyKey()), type: HealthRef, resolve: (_root, _args, ctx) => ctx.services.server.health() }),
}));
