import { randomBytes } from 'node:crypto';
import { eventPayload } from '../../rest-compat/event-payload.js';
import { eventTypes, type BusEvent, type EventType } from '../events/bus.js';
import type { WebhookRecord, WebhookRepo } from './webhook-store.js';

/** `msg_` + time-ordered base36 + random: the delivery's id, webhook-id header and body id. */
export function newDeliveryId(at = Date.now()): string {
  return `msg_${at.toString(36).padStart(9, '0')}${randomBytes(9).toString('base64url')}`;
}

/** The body's `event` name: the REST reference's lower-case names (message, ack, group_join ...). */
export function eventName(type: EventType): string {
  return type.toLowerCase();
}

/** The body every attempt of a delivery sends, unchanged: `{id, event, sessionId, timestamp, data}`. */
export function deliveryBody(id: string, event: string, sessionId: string, at: number, data: unknown): string {
  return JSON.stringify({ id, event, sessionId, timestamp: new Date(at).toISOString(), data });
}

/** The event's `data`: the same object the /ws socket sends for it (rest-compat/event-payload.ts). */
export function eventData(event: BusEvent): Record<string, unknown> {
  return eventPayload(event);
}

export function matches(webhook: Pick<WebhookRecord, 'events'>, type: EventType): boolean {
  return webhook.events.length === 0 || webhook.events.includes(type);
}

export function isEventType(value: string): value is EventType {
  return (eventTypes as readonly string[]).includes(value);
}

/**
 * The durable outbox: turns each bus event into one delivery row per matching webhook. It runs inside
 * the bus's synchronous publish, so the rows are queued into the same transaction as the writes that caused
 * the event (the turn's unit of work on either backend), and committed before any HTTP call is made.
 */
export class Outbox {
  constructor(
    private readonly store: WebhookRepo,
    private readonly onQueued: () => void,
  ) {}

  record(event: BusEvent): number {
    const targets = this.store.enabledWebhooksOf(event.sessionId).filter((w) => matches(w, event.type));
    // Most events have no webhook to go to: no (sub)transaction then.
    if (targets.length === 0) return 0;
    const name = eventName(event.type);
    const data = eventData(event);
    this.store.transaction(() => {
      for (const webhook of targets) {
        const id = newDeliveryId(event.at);
        this.store.insertDelivery({ id, webhookId: webhook.id, sessionId: event.sessionId, event: name, body: deliveryBody(id, name, event.sessionId, event.at, data), at: event.at });
      }
    });
    this.onQueued();
    return targets.length;
  }

  /** A ping for `testWebhook`: queued like an event, whatever the webhook's filter. */
  ping(webhook: WebhookRecord, at = Date.now()): string {
    const id = newDeliveryId(at);
    const body = deliveryBody(id, 'ping', webhook.sessionId, at, { webhookId: webhook.id, message: 'Test delivery from wa-gateway' });
    this.store.insertDelivery({ id, webhookId: webhook.id, sessionId: webhook.sessionId, event: 'ping', body, at });
    this.onQueued();
    return id;
  }
}
