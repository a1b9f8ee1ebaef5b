import { policy, session } from '../auth/access-policy.js';
import type { EventType } from '../events/bus.js';
import { builder } from '../schema/builder.js';
import { EventTypeEnum, SessionEventRef, eventObjectNames } from '../schema/events.js';

builder.subscriptionFields((t) => ({
  events: t.field({
    extensions: policy(session('read')),
    type: SessionEventRef,
    description: 'Every event of a session (what the legacy /ws/{sessionId} socket sends), optionally only some types',
    args: { sessionId: t.arg.string({ required: true }), types: t.arg({ type: [EventTypeEnum] }) },
    subscribe: (_root, { sessionId, types }, ctx) => {
      ctx.services.sessions.require(sessionId);
      const wanted = types && types.length > 0 ? new Set<EventType>(types) : null;
      return ctx.services.live.stream(
        ctx,
        sessionId,
        ctx.services.bus.subscribe(sessionId, (e) => (eventObjectNames[e.type] && (!wanted || wanted.has(e.type)) ? e : undefined)),
      );
    },
    resolve: (event) => event,
  }),
}));
