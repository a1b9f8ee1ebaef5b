import { adminOnly, policy, session } from '../auth/access-policy.js';
import { builder } from '../schema/builder.js';
import { SessionRef } from '../schema/session.js';
import {
  RegisterWebhookInput,
  RegisterWebhookPayload,
  RemoveWebhookPayload,
  UpdateWebhookInput,
  WebhookDeliveryRef,
  WebhookRef,
} from '../schema/webhook.js';

builder.objectFields(SessionRef, (t) => ({
  webhooks: t.field({ type: [WebhookRef], resolve: (s, _args, ctx) => ctx.services.webhooks.webhooksOf(s.sessionId) }),
}));

builder.queryFields((t) => ({
  webhooks: t.field({
    extensions: policy(session('read')),
    type: [WebhookRef],
    description: "A session's webhooks (SESSION_NOT_FOUND when there is no such session; Session.webhooks is the same list)",
    args: { sessionId: t.arg.string({ required: true }) },
    resolve: (_root, { sessionId }, ctx) => ctx.services.webhooks.list(sessionId),
  }),
}));

builder.mutationFields((t) => ({
  registerWebhook: t.field({
    extensions: policy(session('manage', 'input')),
    type: RegisterWebhookPayload,
    description: 'Returns the signing secret once; deliveries carry Standard Webhooks signatures',
    args: { input: t.arg({ type: RegisterWebhookInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.webhooks.register(input),
  }),
  updateWebhook: t.field({
    extensions: policy(session('manage', 'input')),
    type: WebhookRef,
    args: { input: t.arg({ type: UpdateWebhookInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.webhooks.update({ ...input, webhookId: String(input.webhookId) }),
  }),
  removeWebhook: t.field({
    extensions: policy(session('manage')),
    type: RemoveWebhookPayload,
    description: 'Delete the webhook and its deliveries; nothing more is sent to it',
    args: { sessionId: t.arg.string({ required: true }), webhookId: t.arg.id({ required: true }) },
    resolve: (_root, { sessionId, webhookId }, ctx) => {
      ctx.services.webhooks.remove(sessionId, String(webhookId));
      return { webhookId: String(webhookId), removed: true };
    },
  }),
  redeliver: t.field({
    extensions: policy(adminOnly()),
    type: WebhookDeliveryRef,
    description: 'Send a delivery again (same webhook-id and body), restarting its retry schedule',
    args: { deliveryId: t.arg.id({ required: true }) },
    resolve: (_root, { deliveryId }, ctx) => ctx.services.webhooks.redeliver(String(deliveryId)),
  }),
  testWebhook: t.field({
    extensions: policy(session('manage')),
    type: WebhookDeliveryRef,
    description: 'Send a signed "ping" delivery now; returns it after its first attempt',
    args: { sessionId: t.arg.string({ required: true }), webhookId: t.arg.id({ required: true }) },
    resolve: (_root, { sessionId, webhookId }, ctx) => ctx.services.webhooks.test(sessionId, String(webhookId)),
  }),
}));
