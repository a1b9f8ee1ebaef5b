import type SQLite from 'better-sqlite3';
import type { WriteBatch } from '../store/write-batch.js';
import type { EventType } from '../events/bus.js';
import type { WebhookDeliveriesTable, WebhooksTable } from '../store/schema.js';
import type { MaybePromise } from '../store/maybe-promise.js';

/** Completed deliveries removed per purge statement: a few milliseconds of work at most. */
export const PRUNE_BATCH = 500;

// Webhooks and their deliveries on the raw SQLite handle: the outbox must write inside the bus's
// synchronous publish, so every statement here is synchronous and prepared once.

export type DeliveryStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

export interface WebhookRecord {
  id: string;
  sessionId: string;
  url: string;
  /** Empty: every event. */
  events: EventType[];
  headers: Record<string, string>;
  secret: string;
  /** Message deliveries embed the media's dataUrl (up to --webhook-max-media-bytes). */
  includeMedia: boolean;
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: number | null;
  failingSince: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface DeliveryRecord {
  id: string;
  webhookId: string;
  sessionId: string;
  event: string;
  body: string;
  status: DeliveryStatus;
  attempts: number;
  scheduleStep: number;
  nextAttemptAt: number | null;
  lastAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: number;
  completedAt: number | null;
}

export interface NewDelivery {
  id: string;
  webhookId: string;
  sessionId: string;
  event: string;
  body: string;
  at: number;
}

export interface AttemptOutcome {
  at: number;
  statusCode: number | null;
  error: string | null;
  /** PENDING with nextAttemptAt for a retry, or the final status. */
  status: DeliveryStatus;
  nextAttemptAt: number | null;
}

/**
 * The webhook store on either backend. Webhook rows are read synchronously on both (the outbox reads them
 * inside the bus's publish); writes are queued synchronously into the turn's unit of work; delivery reads
 * may return a promise (PostgreSQL).
 */
export interface WebhookRepo {
  readonly kind: 'sqlite' | 'postgres';
  /** Runs `fn`'s writes atomically (a savepoint on SQLite; on PostgreSQL they join the turn's transaction anyway). */
  transaction<T>(fn: () => T): T;
  insertWebhook(w: Pick<WebhookRecord, 'id' | 'sessionId' | 'url' | 'events' | 'headers' | 'secret' | 'includeMedia'>, at: number): void;
  webhook(id: string, options?: { includeDeleted?: boolean }): WebhookRecord | null;
  webhooksOf(sessionId: string): WebhookRecord[];
  enabledWebhooksOf(sessionId: string): WebhookRecord[];
  updateWebhook(w: WebhookRecord, at: number): void;
  deleteWebhook(id: string): void;
  softDeleteSession(sessionId: string, at: number): void;
  purge(before: number, batch?: number): MaybePromise<number>;
  disable(webhookId: string, reason: string, at: number): boolean;
  markFailing(webhookId: string, at: number): number | null;
  clearFailing(webhookId: string): void;
  insertDelivery(d: NewDelivery): void;
  delivery(id: string): MaybePromise<DeliveryRecord | null>;
  lastDeliveries(webhookId: string, limit: number, status?: DeliveryStatus | null): MaybePromise<DeliveryRecord[]>;
  countByStatus(webhookId: string): MaybePromise<Record<DeliveryStatus, number>>;
  /** On PostgreSQL the worker's next claim writes it (PgWebhookStore.claim). */
  recordAttempt(id: string, o: AttemptOutcome): void;
  /** Queues the delivery again; resolves with it as it is then (null: gone). */
  requeue(id: string, at: number): MaybePromise<DeliveryRecord | null>;
  /** Once this store's writes so far are visible to its reads: undefined on SQLite (at once), a promise on PostgreSQL. */
  settled(): Promise<void> | undefined;
}

export function toWebhook(r: WebhooksTable): WebhookRecord {
  return {
    id: r.id,
    sessionId: r.session_id,
    url: r.url,
    events: JSON.parse(r.events) as EventType[],
    headers: JSON.parse(r.headers) as Record<string, string>,
    secret: r.secret,
    includeMedia: r.include_media === 1,
    enabled: r.enabled === 1,
    disabledReason: r.disabled_reason,
    disabledAt: r.disabled_at,
    failingSince: r.failing_since,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function toDelivery(r: WebhookDeliveriesTable): DeliveryRecord {
  return {
    id: r.id,
    webhookId: r.webhook_id,
    sessionId: r.session_id,
    event: r.event,
    body: r.body,
    status: r.status as DeliveryStatus,
    attempts: r.attempts,
    scheduleStep: r.schedule_step,
    nextAttemptAt: r.next_attempt_at,
    lastAttemptAt: r.last_attempt_at,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    createdAt: r.created_at,
    completedAt: r.completed_at,
  };
}

/**
 * Bytes a waiting delivery's row keeps (its `room`, given up at the first attempt) for what a delivered attempt
 * writes into it: 'SUCCEEDED' for 'PENDING' (+2), the attempt's time (+6), the status code (+2), the completion
 * time (+6), less the next attempt's time (-6). A row that grows on a full page splits the page: the deliveries
 * table's pages were as full as the number of deliveries still waiting when each filled up left them, the same
 * rows took ±1% more or fewer pages from minute to minute, and under retention the file kept room for the most.
 */
const DELIVERY_ROOM_BYTES = 10;

export class WebhookStore implements WebhookRepo {
  readonly kind = 'sqlite';
  private readonly s;
  private readonly w;

  /** Enabled webhooks per session, read on every bus event; dropped whenever a webhook row changes. */
  private readonly enabledCache = new Map<string, WebhookRecord[]>();

  constructor(
    private readonly sqlite: SQLite.Database,
    private readonly batch: WriteBatch,
  ) {
    const p = (sql: string) => sqlite.prepare(sql);
    this.s = {
      webhook: p(`SELECT * FROM webhooks WHERE id = ? AND deleted_at IS NULL`),
      webhookAny: p(`SELECT * FROM webhooks WHERE id = ?`),
      bySession: p(`SELECT * FROM webhooks WHERE session_id = ? AND deleted_at IS NULL ORDER BY created_at, id`),
      enabledBySession: p(`SELECT * FROM webhooks WHERE session_id = ? AND enabled = 1 AND deleted_at IS NULL`),
      // A batch at a time, oldest first through webhook_deliveries_completed: a month of deliveries removed in
      // one statement held the event loop for as long as it took.
      pruneCompleted: p(`DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries
        WHERE completed_at IS NOT NULL AND completed_at < ? AND status != 'PENDING' ORDER BY completed_at LIMIT ?)`),
      failPending: p(`UPDATE webhook_deliveries SET status = 'FAILED', next_attempt_at = NULL, completed_at = ?, last_error = ?, room = NULL
        WHERE webhook_id = ? AND status = 'PENDING'`),
      insertDelivery: p(`INSERT INTO webhook_deliveries (id, webhook_id, session_id, event, body, status, attempts, schedule_step, next_attempt_at, created_at, room)
        VALUES (@id, @webhookId, @sessionId, @event, @body, 'PENDING', 0, 0, @at, @at, zeroblob(${DELIVERY_ROOM_BYTES}))`),
      delivery: p(`SELECT * FROM webhook_deliveries WHERE id = ?`),
      // Newest first along webhook_deliveries_webhook (webhook_id, created_at; rowid breaks ties), so the page
      // does not sort every delivery the webhook ever had.
      lastDeliveries: p(`SELECT * FROM (SELECT rowid AS seq, * FROM webhook_deliveries WHERE webhook_id = @webhookId AND (@status IS NULL OR status = @status)
        ORDER BY created_at DESC, seq DESC LIMIT @limit) ORDER BY created_at, seq`),
      countByStatus: p(`SELECT status, COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = ? GROUP BY status`),
      dueWebhooks: p(`SELECT w.id AS id FROM webhooks w WHERE w.enabled = 1 AND EXISTS (SELECT 1 FROM webhook_deliveries d
        WHERE d.webhook_id = w.id AND d.status = 'PENDING' AND d.next_attempt_at <= ?)`),
      // Along webhook_deliveries_pending: an id sorts by its creation time, as (created_at, rowid) did.
      dueFor: p(`SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND status = 'PENDING' AND next_attempt_at <= ?
        ORDER BY next_attempt_at, id LIMIT ?`),
      recordAttempt: p(`UPDATE webhook_deliveries SET attempts = attempts + 1,
        schedule_step = CASE WHEN @status = 'PENDING' THEN schedule_step + 1 ELSE schedule_step END,
        status = @status, next_attempt_at = @nextAttemptAt, last_attempt_at = @at, last_status_code = @statusCode,
        last_error = @error, completed_at = CASE WHEN @status = 'PENDING' THEN NULL ELSE @at END, room = NULL
        WHERE id = @id AND status = 'PENDING'`),
      requeue: p(`UPDATE webhook_deliveries SET status = 'PENDING', schedule_step = 0, next_attempt_at = ?, completed_at = NULL WHERE id = ?`),
    };
    // Every statement that changes a webhooks row, each dropping the enabled-webhook cache when it changed one:
    // a write added here cannot forget the cache.
    const w = (sql: string) => {
      const statement = p(sql);
      return (...params: unknown[]) => {
        const result = statement.run(...params);
        if (result.changes > 0) this.enabledCache.clear();
        return result;
      };
    };
    this.w = {
      insertWebhook: w(`INSERT INTO webhooks (id, session_id, url, events, headers, secret, enabled, created_at, updated_at, include_media)
        VALUES (@id, @session_id, @url, @events, @headers, @secret, 1, @at, @at, @include_media)`),
      updateWebhook: w(`UPDATE webhooks SET url = @url, events = @events, headers = @headers, enabled = @enabled,
        disabled_reason = @disabled_reason, disabled_at = @disabled_at, failing_since = @failing_since, updated_at = @at WHERE id = @id`),
      deleteWebhook: w(`DELETE FROM webhooks WHERE id = ?`),
      softDeleteSession: w(`UPDATE webhooks SET deleted_at = ? WHERE session_id = ? AND deleted_at IS NULL`),
      purgeDeleted: w(`DELETE FROM webhooks WHERE deleted_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.webhook_id = webhooks.id AND d.status = 'PENDING')`),
      disable: w(`UPDATE webhooks SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? WHERE id = ? AND enabled = 1`),
      markFailing: w(`UPDATE webhooks SET failing_since = COALESCE(failing_since, ?) WHERE id = ?`),
      clearFailing: w(`UPDATE webhooks SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL`),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.batch.atomic(fn);
  }

  insertWebhook(w: Pick<WebhookRecord, 'id' | 'sessionId' | 'url' | 'events' | 'headers' | 'secret' | 'includeMedia'>, at: number): void {
    this.w.insertWebhook({
      id: w.id, session_id: w.sessionId, url: w.url, events: JSON.stringify(w.events), headers: JSON.stringify(w.headers), secret: w.secret, at,
      include_media: w.includeMedia ? 1 : 0,
    });
  }

  webhook(id: string, options: { includeDeleted?: boolean } = {}): WebhookRecord | null {
    const row = (options.includeDeleted ? this.s.webhookAny : this.s.webhook).get(id) as WebhooksTable | undefined;
    return row ? toWebhook(row) : null;
  }

  webhooksOf(sessionId: string): WebhookRecord[] {
    return (this.s.bySession.all(sessionId) as WebhooksTable[]).map(toWebhook);
  }

  enabledWebhooksOf(sessionId: string): WebhookRecord[] {
    let found = this.enabledCache.get(sessionId);
    if (!found) {
      found = (this.s.enabledBySession.all(sessionId) as WebhooksTable[]).map(toWebhook);
      if (this.enabledCache.size >= 10_000) this.enabledCache.clear();
      this.enabledCache.set(sessionId, found);
    }
    return found;
  }

  updateWebhook(w: WebhookRecord, at: number): void {
    this.w.updateWebhook({
      id: w.id,
      url: w.url,
      events: JSON.stringify(w.events),
      headers: JSON.stringify(w.headers),
      enabled: w.enabled ? 1 : 0,
      disabled_reason: w.disabledReason,
      disabled_at: w.disabledAt,
      failing_since: w.failingSince,
      at,
    });
  }

  deleteWebhook(id: string): void {
    this.w.deleteWebhook(id);
  }

  /** A removed session's webhooks vanish from the API but still send what is already queued. */
  softDeleteSession(sessionId: string, at: number): void {
    this.w.softDeleteSession(at, sessionId);
  }

  /**
   * Drops removed sessions' webhooks once nothing is queued for them, and up to `batch` completed deliveries
   * older than `before`; returns how many deliveries went (the caller comes back while it is `batch`).
   */
  purge(before: number, batch = PRUNE_BATCH): number {
    this.w.purgeDeleted();
    return this.s.pruneCompleted.run(before, batch).changes;
  }

  /** Disables the webhook and fails its queued deliveries (kept, visible, redeliverable). */
  disable(webhookId: string, reason: string, at: number): boolean {
    return this.transaction(() => {
      const changed = this.w.disable(reason, at, at, webhookId).changes > 0;
      if (changed) this.s.failPending.run(at, `not sent: webhook disabled (${reason})`, webhookId);
      return changed;
    });
  }

  markFailing(webhookId: string, at: number): number | null {
    this.w.markFailing(at, webhookId);
    return this.webhook(webhookId, { includeDeleted: true })?.failingSince ?? null;
  }

  clearFailing(webhookId: string): void {
    this.w.clearFailing(webhookId);
  }

  insertDelivery(d: NewDelivery): void {
    this.s.insertDelivery.run(d);
  }

  delivery(id: string): DeliveryRecord | null {
    const row = this.s.delivery.get(id) as WebhookDeliveriesTable | undefined;
    return row ? toDelivery(row) : null;
  }

  /** The newest `limit` deliveries of a webhook, oldest first. */
  lastDeliveries(webhookId: string, limit: number, status: DeliveryStatus | null = null): DeliveryRecord[] {
    return (this.s.lastDeliveries.all({ webhookId, limit, status }) as WebhookDeliveriesTable[]).map(toDelivery);
  }

  countByStatus(webhookId: string): Record<DeliveryStatus, number> {
    const out: Record<DeliveryStatus, number> = { PENDING: 0, SUCCEEDED: 0, FAILED: 0 };
    for (const r of this.s.countByStatus.all(webhookId) as { status: DeliveryStatus; n: number }[]) out[r.status] = r.n;
    return out;
  }

  /** Enabled webhooks (removed sessions' included) with a delivery due at `now`. */
  dueWebhookIds(now: number): string[] {
    return (this.s.dueWebhooks.all(now) as { id: string }[]).map((r) => r.id);
  }

  dueDeliveries(webhookId: string, now: number, limit: number): DeliveryRecord[] {
    return (this.s.dueFor.all(webhookId, now, limit) as WebhookDeliveriesTable[]).map(toDelivery);
  }

  /** Records a finished attempt; a no-op when the delivery is no longer pending (removed, or requeued meanwhile). */
  recordAttempt(id: string, o: AttemptOutcome): void {
    this.s.recordAttempt.run({ id, ...o });
  }

  requeue(id: string, at: number): DeliveryRecord | null {
    this.s.requeue.run(at, id);
    return this.delivery(id);
  }

  settled(): undefined {
    return undefined;
  }
}
