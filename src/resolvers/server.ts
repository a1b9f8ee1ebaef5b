import { builder } from '../schema/builder.js';
import { HealthRef, ServerInfoRef } from '../schema/server.js';

builder.queryFields((t) => ({
  serverInfo: t.field({ type: ServerInfoRef, resolve: (_root, _args, ctx) => ctx.services.server.info() }),
  health: t.field({ type: HealthRef, resolve: (_root, _args, ctx) => ctx.services.server.health() }),
}));
