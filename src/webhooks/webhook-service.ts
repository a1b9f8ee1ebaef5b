import { randomBytes } from 'node:crypto';
import { AppError, validationError } from '../errors.js';
import { eventTypes, isRemote, type EventBus, type EventType } from '../events/bus.js';
import { can, type Principal } from '../auth/principal.js';
import type { SessionManager } from '../sessions/session-manager.js';
import type { DeliveryWorker } from './delivery-worker.js';
import { isEventType, type Outbox } from './outbox.js';
import { generateSecret } from './signer.js';
import { SsrfGuard } from './ssrf-guard.js';
import { after, type MaybePromise } from '../store/maybe-promise.js';
import type { DeliveryRecord, DeliveryStatus, WebhookRecord, WebhookRepo } from './webhook-store.js';

/** What callers see of a webhook: never the secret, header values masked. */
export type WebhookView = Omit<WebhookRecord, 'secret' | 'headers'> & { headers: Record<string, string> };

export type DeliveryView = Omit<DeliveryRecord, 'body' | 'scheduleStep'> & { payload: unknown };

export interface WebhookInput {
  sessionId: string;
  url?: unknown;
  /** GraphQL's EventType values. */
  events?: readonly string[] | null;
  /** The REST reference's names (message, ack, group_join ...), case-insensitive; `*` = all. */
  eventNames?: readonly unknown[] | null;
  headers?: unknown;
  /** Message deliveries embed the media's dataUrl (registration only). */
  includeMedia?: boolean | null;
}

export interface UpdateWebhookInput extends WebhookInput {
  webhookId: string;
  enabled?: boolean | null;
}

export interface WebhookServiceOptions {
  store: WebhookRepo;
  outbox: Outbox;
  worker: DeliveryWorker;
  guard: SsrfGuard;
  sessions: SessionManager;
  bus: EventBus;
  timeoutMs: number;
}

export const MAX_WEBHOOKS_PER_SESSION = 20;
const MAX_HEADERS = 20;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
// Set by the gateway itself (or by HTTP): a custom header may not replace them.
const RESERVED_HEADERS = new Set([
  'content-type', 'content-length', 'host', 'connection', 'transfer-encoding', 'te', 'upgrade', 'expect',
  'keep-alive', 'proxy-connection', 'user-agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature',
]);

export function maskHeaderValue(value: string): string {
  return value.length > 12 ? `${value.slice(0, 4)}****` : '****';
}

// Path segments that look like ids or tokens: Slack's, Discord's and Zapier's hooks carry their secret in the path.
const isTokenLike = (segment: string) => (segment.length >= 6 && /\d/.test(segment)) || (segment.length >= 16 && /[^a-z._-]/.test(segment));

/**
 * A webhook URL as a key without MANAGE sees it: scheme, host, port and the plain path segments stay, so the
 * endpoint can be recognised; credentials, the query string, the fragment and path segments that look like
 * ids or tokens (6+ characters with a digit, or 16+ that are not lower-case words) become `****`.
 */
export function maskUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '****';
  }
  if (url.username || url.password) {
    url.username = '****';
    url.password = '';
  }
  url.pathname = url.pathname
    .split('/')
    .map((segment) => (isTokenLike(decodeURIComponentSafe(segment)) ? '****' : segment))
    .join('/');
  if (url.search) url.search = '****';
  if (url.hash) url.hash = '****';
  return url.toString();
}

function decodeURIComponentSafe(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The events filter from either form; [] = every event. Throws VALIDATION_ERROR on an unknown name. */
export function parseEventFilter(events: readonly string[] | null | undefined, eventNames: readonly unknown[] | null | undefined): EventType[] {
  const wanted = new Set<EventType>();
  let all = false;
  for (const raw of [...(events ?? []), ...(eventNames ?? [])]) {
    const name = typeof raw === 'string' ? raw.trim() : '';
    if (name === '*') {
      all = true;
      continue;
    }
    const type = name.toUpperCase();
    if (!isEventType(type)) {
      throw validationError(`unknown event ${JSON.stringify(raw)}; use * or one of ${eventTypes.map((t) => t.toLowerCase()).join(', ')}`, {
        field: 'events',
        value: raw,
      });
    }
    wanted.add(type);
  }
  return all ? [] : eventTypes.filter((t) => wanted.has(t));
}

export function parseHeaders(raw: unknown): Record<string, string> {
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw validationError('headers must be an object of header name -> value', { field: 'headers' });
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > MAX_HEADERS) throw validationError(`at most ${MAX_HEADERS} custom headers`, { field: 'headers' });
  const out: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [name, value] of entries) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) throw validationError(`"${name}" is not a valid header name`, { field: 'headers', header: name });
    if (RESERVED_HEADERS.has(lower)) throw validationError(`header "${name}" is set by the gateway and cannot be overridden`, { field: 'headers', header: name });
    if (seen.has(lower)) throw validationError(`header "${name}" is given twice`, { field: 'headers', header: name });
    // HTTP allows a tab in a header value, no other control character.
    if (typeof value !== 'string' || value.length > 4096 || /[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
      throw validationError(`header "${name}" must be a string of at most 4096 characters without line breaks or other control characters`, { field: 'headers', header: name });
    }
    seen.add(lower);
    out[name] = value;
  }
  return out;
}

function toView(w: WebhookRecord): WebhookView {
  const { secret: _secret, headers, ...rest } = w;
  return { ...rest, headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, maskHeaderValue(v)])) };
}

function toDeliveryView(d: DeliveryRecord): DeliveryView {
  const { body, scheduleStep: _step, ...rest } = d;
  return { ...rest, payload: JSON.parse(body) as unknown };
}

/** Webhook registration and the operations on deliveries; the outbox and worker do the sending. */
export class WebhookService {
  constructor(private readonly o: WebhookServiceOptions) {}

  /** Feeds every bus event to the outbox; a removed session's webhooks go after its last event is queued. */
  attach(): () => void {
    return this.o.bus.listen('*', (event) => {
      // Another node's session: its owner wrote the outbox rows (and the soft delete).
      if (isRemote(event)) return;
      this.o.outbox.record(event);
      if (event.type === 'STATUS' && event.removed) this.o.store.softDeleteSession(event.sessionId, event.at);
    });
  }

  async register(input: WebhookInput): Promise<{ webhook: WebhookView; secret: string }> {
    this.o.sessions.require(input.sessionId);
    const url = await this.checkedUrl(input.url);
    const events = parseEventFilter(input.events, input.eventNames);
    const headers = parseHeaders(input.headers);
    // Checked after the awaits, so two concurrent registrations cannot both pass the limit.
    if (this.o.store.webhooksOf(input.sessionId).length >= MAX_WEBHOOKS_PER_SESSION) {
      throw validationError(`a session has at most ${MAX_WEBHOOKS_PER_SESSION} webhooks`, { sessionId: input.sessionId });
    }
    const id = `wh_${randomBytes(12).toString('base64url')}`;
    const secret = generateSecret();
    this.o.store.insertWebhook({ id, sessionId: input.sessionId, url, events, headers, secret, includeMedia: input.includeMedia === true }, Date.now());
    return { webhook: toView(this.o.store.webhook(id)!), secret };
  }

  list(sessionId: string): WebhookView[] {
    this.o.sessions.require(sessionId);
    return this.webhooksOf(sessionId);
  }

  /**
   * The URL `principal` may see (Webhook.url, so GraphQL and REST alike): in full with MANAGE on the webhook's
   * session, the key that can change it anyway; else masked (maskUrl), as URLs often carry the receiver's secret.
   */
  urlFor(webhook: WebhookView, principal: Principal | null | undefined): string {
    return can(principal, webhook.sessionId, 'manage') ? webhook.url : maskUrl(webhook.url);
  }

  /** For a session already looked up (Session.webhooks). */
  webhooksOf(sessionId: string): WebhookView[] {
    return this.o.store.webhooksOf(sessionId).map(toView);
  }

  async update(input: UpdateWebhookInput): Promise<WebhookView> {
    const current = this.find(input.sessionId, input.webhookId);
    const url = input.url === undefined || input.url === null ? current.url : await this.checkedUrl(input.url);
    const next: WebhookRecord = {
      ...current,
      url,
      events: input.events == null && input.eventNames == null ? current.events : parseEventFilter(input.events, input.eventNames),
      headers: input.headers === undefined || input.headers === null ? current.headers : parseHeaders(input.headers),
    };
    const at = Date.now();
    if (input.enabled === true && !next.enabled) {
      Object.assign(next, { enabled: true, disabledReason: null, disabledAt: null, failingSince: null });
    }
    this.o.store.transaction(() => {
      this.o.store.updateWebhook(next, at);
      if (input.enabled === false) this.o.store.disable(next.id, 'disabled by an update', at);
    });
    if (next.enabled) this.o.worker.kick();
    return toView(this.o.store.webhook(next.id)!);
  }

  /** Deletes the webhook with its deliveries; nothing more is sent to it. */
  remove(sessionId: string, webhookId: string): void {
    this.find(sessionId, webhookId);
    this.o.store.deleteWebhook(webhookId);
  }

  deliveries(webhookId: string, last: number, status: DeliveryStatus | null): MaybePromise<DeliveryView[]> {
    if (!Number.isInteger(last) || last < 1 || last > 1000) throw validationError('last must be between 1 and 1000', { field: 'last' });
    return after(this.o.store.lastDeliveries(webhookId, last, status), (rows) => rows.map(toDeliveryView));
  }

  deliveryCounts(webhookId: string): MaybePromise<Record<DeliveryStatus, number>> {
    return this.o.store.countByStatus(webhookId);
  }

  /** Sends a delivery again (same webhook-id and body), from the start of the retry schedule. */
  redeliver(deliveryId: string): MaybePromise<DeliveryView> {
    return after(this.o.store.delivery(deliveryId), (delivery) => {
      const webhook = delivery ? this.o.store.webhook(delivery.webhookId) : null;
      if (!delivery || !webhook) throw new AppError('NOT_FOUND', `Webhook delivery '${deliveryId}' not found`, { deliveryId });
      this.requireEnabled(webhook);
      return after(this.o.store.requeue(deliveryId, Date.now()), (requeued) => {
        this.o.worker.kick();
        return toDeliveryView(requeued ?? delivery);
      });
    });
  }

  /** Queues a `ping` delivery and waits for its first attempt (at most the attempt timeout). */
  async test(sessionId: string, webhookId: string): Promise<DeliveryView> {
    const webhook = this.find(sessionId, webhookId);
    this.requireEnabled(webhook);
    const id = this.o.outbox.ping(webhook);
    await this.o.worker.attempted(id, this.o.timeoutMs + 1000);
    return toDeliveryView((await this.o.store.delivery(id))!);
  }

  private find(sessionId: string, webhookId: string): WebhookRecord {
    this.o.sessions.require(sessionId);
    const webhook = this.o.store.webhook(webhookId);
    if (!webhook || webhook.sessionId !== sessionId) {
      throw new AppError('NOT_FOUND', `Webhook '${webhookId}' not found for session '${sessionId}'`, { sessionId, webhookId });
    }
    return webhook;
  }

  private requireEnabled(webhook: WebhookRecord): void {
    if (!webhook.enabled) {
      throw validationError(`Webhook '${webhook.id}' is disabled (${webhook.disabledReason ?? 'no reason'}); enable it with updateWebhook first`, {
        webhookId: webhook.id,
        disabledReason: webhook.disabledReason,
      });
    }
  }

  private async checkedUrl(raw: unknown): Promise<string> {
    const url = SsrfGuard.parseUrl(raw);
    await this.o.guard.resolve(url);
    return url.toString();
  }
}
