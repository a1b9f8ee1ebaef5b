import type { DeliveryView, WebhookView } from '../webhooks/webhook-service.js';
import { builder } from './builder.js';
import { EventTypeEnum } from './events.js';

export const WebhookDeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', {
  values: {
    PENDING: { description: 'Queued: not yet attempted, or waiting for its next retry' },
    SUCCEEDED: { description: 'The endpoint answered 2xx' },
    FAILED: { description: 'Retries exhausted, 410 Gone, or its webhook was disabled; kept, and redeliver sends it again' },
  } as const,
});

export const WebhookDeliveryRef = builder.objectRef<DeliveryView>('WebhookDelivery').implement({
  description: 'One event for one webhook; every attempt sends the same body with the same webhook-id',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Also the webhook-id header and the body\'s id, for receivers to dedupe' }),
    webhookId: t.exposeID('webhookId'),
    sessionId: t.exposeString('sessionId'),
    event: t.exposeString('event', { description: 'The body\'s event name: message, ack, status ... or ping for testWebhook' }),
    status: t.expose('status', { type: WebhookDeliveryStatusEnum }),
    attempts: t.exposeInt('attempts'),
    lastResponseCode: t.exposeInt('lastStatusCode', { nullable: true, description: 'The HTTP status of the last attempt (null: no answer)' }),
    lastError: t.exposeString('lastError', { nullable: true }),
    lastAttemptAt: t.expose('lastAttemptAt', { type: 'DateTime', nullable: true }),
    nextAttemptAt: t.field({ type: 'DateTime', nullable: true, resolve: (d) => (d.status === 'PENDING' ? d.nextAttemptAt : null) }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    payload: t.expose('payload', { type: 'JSON', description: 'The JSON body sent: {id, event, sessionId, timestamp, data}' }),
  }),
});

const DeliveryCountsRef = builder.objectRef<Record<'PENDING' | 'SUCCEEDED' | 'FAILED', number>>('WebhookDeliveryCounts').implement({
  fields: (t) => ({
    pending: t.int({ resolve: (c) => c.PENDING }),
    succeeded: t.int({ resolve: (c) => c.SUCCEEDED }),
    failed: t.int({ resolve: (c) => c.FAILED }),
  }),
});

export const WebhookRef = builder.objectRef<WebhookView>('Webhook').implement({
  description: 'An HTTP endpoint that receives a session\'s events, signed per Standard Webhooks',
  fields: (t) => ({
    id: t.exposeID('id'),
    sessionId: t.exposeString('sessionId'),
    url: t.string({
      description: 'In full for a key with MANAGE on the session; for others credentials, query, fragment and id- or token-like path segments are ****',
      resolve: (w, _args, ctx) => ctx.services.webhooks.urlFor(w, ctx.auth),
    }),
    events: t.expose('events', { type: [EventTypeEnum], description: 'The events sent; empty means every event' }),
    allEvents: t.boolean({ resolve: (w) => w.events.length === 0 }),
    headers: t.expose('headers', { type: 'JSON', description: 'Custom headers sent with every delivery; values masked' }),
    enabled: t.exposeBoolean('enabled'),
    disabledReason: t.exposeString('disabledReason', { nullable: true }),
    disabledAt: t.expose('disabledAt', { type: 'DateTime', nullable: true }),
    failingSince: t.expose('failingSince', { type: 'DateTime', nullable: true, description: 'Set while its deliveries fail; cleared by a success' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    deliveryCounts: t.field({ type: DeliveryCountsRef, resolve: (w, _args, ctx) => ctx.services.webhooks.deliveryCounts(w.id) }),
    deliveries: t.field({
      type: [WebhookDeliveryRef],
      description: 'The newest deliveries, oldest first',
      args: {
        last: t.arg.int({ defaultValue: 20, description: '1-1000' }),
        status: t.arg({ type: WebhookDeliveryStatusEnum }),
      },
      resolve: (w, { last, status }, ctx) => ctx.services.webhooks.deliveries(w.id, last ?? 20, status ?? null),
    }),
  }),
});

const eventsDoc = 'EventType values; empty (or eventNames ["*"]) = every event';
const eventNamesDoc = 'The REST names instead (message, ack, group_join ..., case-insensitive), or "*" for every event';

export const RegisterWebhookInput = builder.inputType('RegisterWebhookInput', {
  fields: (t) => ({
    sessionId: t.string({ required: true }),
    url: t.string({ required: true, description: 'http or https; private, loopback and other reserved addresses are refused' }),
    events: t.field({ type: [EventTypeEnum], description: eventsDoc }),
    eventNames: t.stringList({ description: eventNamesDoc }),
    headers: t.field({ type: 'JSON', description: 'Custom headers, e.g. {"Authorization": "Bearer ..."}; stored, never returned in full' }),
    includeMedia: t.boolean({ defaultValue: false, description: "Message deliveries carry the media's bytes as media.dataUrl, up to --webhook-max-media-bytes" }),
  }),
});

export const UpdateWebhookInput = builder.inputType('UpdateWebhookInput', {
  description: 'Only the fields given change; enabled: true re-enables a disabled webhook',
  fields: (t) => ({
    sessionId: t.string({ required: true }),
    webhookId: t.id({ required: true }),
    url: t.string(),
    events: t.field({ type: [EventTypeEnum], description: eventsDoc }),
    eventNames: t.stringList({ description: eventNamesDoc }),
    headers: t.field({ type: 'JSON', description: 'Replaces all custom headers' }),
    enabled: t.boolean(),
  }),
});

export const RegisterWebhookPayload = builder.objectRef<{ webhook: WebhookView; secret: string }>('RegisterWebhookPayload').implement({
  fields: (t) => ({
    webhook: t.expose('webhook', { type: WebhookRef }),
    secret: t.exposeString('secret', { description: 'The signing secret (whsec_...): shown only here, once' }),
  }),
});

export const RemoveWebhookPayload = builder.objectRef<{ webhookId: string; removed: boolean }>('RemoveWebhookPayload').implement({
  fields: (t) => ({ webhookId: t.exposeID('webhookId'), removed: t.exposeBoolean('removed') }),
});
