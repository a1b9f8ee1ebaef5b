import type { PgStore } from '../store/pg/pg-types.js';
import type { WebhookDeliveriesTable, WebhooksTable } from '../store/schema.js';
import {
  PRUNE_BATCH,
  toDelivery,
  toWebhook,
  type AttemptOutcome,
  type DeliveryRecord,
  type DeliveryStatus,
  type NewDelivery,
  type WebhookRecord,
  type WebhookRepo,
} from './webhook-store.js';

interface Entry {
  record: WebhookRecord;
  deletedAt: number | null;
}

const ignore = () => undefined;

/**
 * The webhook store on PostgreSQL. Webhook rows live in a registry loaded at start and kept with every write
 * (the outbox reads them inside the bus's synchronous publish); every write is queued into the turn's
 * transaction through the batch, so a message's delivery rows commit with it. Delivery reads that must see
 * this process's latest writes go through the batch too; the worker's due queries read committed rows only.
 */
export class PgWebhookStore implements WebhookRepo {
  readonly kind = 'postgres';
  private readonly entries = new Map<string, Entry>();
  /** The same entries by session: the outbox asks for a session's webhooks on every event. */
  private readonly bySession = new Map<string, Map<string, Entry>>();
  private reloading: Promise<void> | null = null;

  private constructor(private readonly store: PgStore) {}

  static async load(store: PgStore): Promise<PgWebhookStore> {
    const repo = new PgWebhookStore(store);
    await repo.reload();
    return repo;
  }

  private put(entry: Entry): void {
    this.drop(entry.record.id);
    this.entries.set(entry.record.id, entry);
    let ofSession = this.bySession.get(entry.record.sessionId);
    if (!ofSession) this.bySession.set(entry.record.sessionId, (ofSession = new Map()));
    ofSession.set(entry.record.id, entry);
  }

  private drop(id: string): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    const ofSession = this.bySession.get(entry.record.sessionId);
    ofSession?.delete(id);
    if (ofSession?.size === 0) this.bySession.delete(entry.record.sessionId);
  }

  private ofSession(sessionId: string): Iterable<Entry> {
    return this.bySession.get(sessionId)?.values() ?? [];
  }

  /** Reads the registry again (after a failed write, whose change the memory must not keep). */
  private reload(): Promise<void> {
    this.reloading ??= (async () => {
      try {
        const { rows } = await this.store.pool.query<WebhooksTable>('SELECT * FROM webhooks ORDER BY created_at, id');
        this.entries.clear();
        this.bySession.clear();
        for (const r of rows) this.put({ record: toWebhook(r), deletedAt: r.deleted_at });
      } finally {
        this.reloading = null;
      }
    })();
    return this.reloading;
  }

  /**
   * A write of webhook rows. On failure the registry is read again from what PostgreSQL kept, once the
   * transactions under way are settled (and again every second while the database stays out of reach).
   */
  private write(sql: string, params: readonly unknown[]): void {
    this.store.batch.run(sql, params).catch(() => this.resync());
  }

  private resyncTimer: NodeJS.Timeout | null = null;

  private resync(): void {
    if (this.resyncTimer || (this.store.pool as { ending?: boolean }).ending) return;
    this.resyncTimer = setTimeout(() => {
      void this.store.batch
        .committed()
        .catch(ignore)
        .then(() => this.reload())
        .then(
          () => (this.resyncTimer = null),
          () => {
            this.resyncTimer = null;
            this.resync();
          },
        );
    }, 1000);
    this.resyncTimer.unref();
  }

  transaction<T>(fn: () => T): T {
    return fn();
  }

  insertWebhook(w: Pick<WebhookRecord, 'id' | 'sessionId' | 'url' | 'events' | 'headers' | 'secret' | 'includeMedia'>, at: number): void {
    const record: WebhookRecord = { ...w, enabled: true, disabledReason: null, disabledAt: null, failingSince: null, createdAt: at, updatedAt: at };
    this.put({ record, deletedAt: null });
    this.write(
      `INSERT INTO webhooks (id, session_id, url, events, headers, secret, enabled, created_at, updated_at, include_media) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7, $8)`,
      [w.id, w.sessionId, w.url, JSON.stringify(w.events), JSON.stringify(w.headers), w.secret, at, w.includeMedia ? 1 : 0],
    );
  }

  webhook(id: string, options: { includeDeleted?: boolean } = {}): WebhookRecord | null {
    const entry = this.entries.get(id);
    if (!entry || (entry.deletedAt !== null && !options.includeDeleted)) return null;
    return { ...entry.record };
  }

  webhooksOf(sessionId: string): WebhookRecord[] {
    const out: WebhookRecord[] = [];
    for (const e of this.ofSession(sessionId)) if (e.deletedAt === null) out.push({ ...e.record });
    return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  enabledWebhooksOf(sessionId: string): WebhookRecord[] {
    const out: WebhookRecord[] = [];
    for (const e of this.ofSession(sessionId)) if (e.deletedAt === null && e.record.enabled) out.push(e.record);
    return out;
  }

  updateWebhook(w: WebhookRecord, at: number): void {
    const entry = this.entries.get(w.id);
    if (!entry) return;
    entry.record = { ...w, updatedAt: at };
    this.write(
      `UPDATE webhooks SET url = $1, events = $2, headers = $3, enabled = $4, disabled_reason = $5, disabled_at = $6, failing_since = $7, updated_at = $8 WHERE id = $9`,
      [w.url, JSON.stringify(w.events), JSON.stringify(w.headers), w.enabled ? 1 : 0, w.disabledReason, w.disabledAt, w.failingSince, at, w.id],
    );
  }

  deleteWebhook(id: string): void {
    this.drop(id);
    this.write(`DELETE FROM webhooks WHERE id = $1`, [id]);
  }

  softDeleteSession(sessionId: string, at: number): void {
    for (const e of this.ofSession(sessionId)) if (e.deletedAt === null) e.deletedAt = at;
    this.write(`UPDATE webhooks SET deleted_at = $1 WHERE session_id = $2 AND deleted_at IS NULL`, [at, sessionId]);
  }

  async purge(before: number, batch = PRUNE_BATCH): Promise<number> {
    const gone = await this.store.batch.run<{ id: string }>(
      `DELETE FROM webhooks WHERE deleted_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.webhook_id = webhooks.id AND d.status = 'PENDING') RETURNING id`,
    );
    for (const { id } of gone) this.drop(id);
    // A batch at a time, oldest first along webhook_deliveries_completed.
    const [row] = await this.store.batch.run<{ n: number }>(
      `WITH gone AS (DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries
        WHERE completed_at IS NOT NULL AND completed_at < $1 AND status != 'PENDING' ORDER BY completed_at LIMIT $2) RETURNING 1)
       SELECT count(*) AS n FROM gone`,
      [before, batch],
    );
    return row?.n ?? 0;
  }

  disable(webhookId: string, reason: string, at: number): boolean {
    const entry = this.entries.get(webhookId);
    if (!entry?.record.enabled) return false;
    entry.record = { ...entry.record, enabled: false, disabledReason: reason, disabledAt: at, updatedAt: at };
    this.write(`UPDATE webhooks SET enabled = 0, disabled_reason = $1, disabled_at = $2, updated_at = $2 WHERE id = $3 AND enabled = 1`, [reason, at, webhookId]);
    this.write(
      `UPDATE webhook_deliveries SET status = 'FAILED', next_attempt_at = NULL, completed_at = $1, last_error = $2 WHERE webhook_id = $3 AND status = 'PENDING'`,
      [at, `not sent: webhook disabled (${reason})`, webhookId],
    );
    return true;
  }

  markFailing(webhookId: string, at: number): number | null {
    const entry = this.entries.get(webhookId);
    if (!entry) return null;
    if (entry.record.failingSince === null) {
      entry.record = { ...entry.record, failingSince: at };
      this.write(`UPDATE webhooks SET failing_since = COALESCE(failing_since, $1) WHERE id = $2`, [at, webhookId]);
    }
    return entry.record.failingSince;
  }

  clearFailing(webhookId: string): void {
    const entry = this.entries.get(webhookId);
    if (!entry || entry.record.failingSince === null) return;
    entry.record = { ...entry.record, failingSince: null };
    this.write(`UPDATE webhooks SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL`, [webhookId]);
  }

  insertDelivery(d: NewDelivery): void {
    // Its failure is the transaction's: the answer paths learn it from committed().
    this.store.batch
      .run(
        `INSERT INTO webhook_deliveries (id, webhook_id, session_id, event, body, status, attempts, schedule_step, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, 'PENDING', 0, 0, $6, $6)`,
        [d.id, d.webhookId, d.sessionId, d.event, d.body, d.at],
      )
      .catch(ignore);
  }

  async delivery(id: string): Promise<DeliveryRecord | null> {
    const [row] = await this.store.batch.run<WebhookDeliveriesTable>(`SELECT * FROM webhook_deliveries WHERE id = $1`, [id]);
    return row ? toDelivery(row) : null;
  }

  async lastDeliveries(webhookId: string, limit: number, status: DeliveryStatus | null = null): Promise<DeliveryRecord[]> {
    const rows = await this.store.batch.run<WebhookDeliveriesTable>(
      `SELECT * FROM (SELECT * FROM webhook_deliveries WHERE webhook_id = $1 AND ($2::text IS NULL OR status = $2)
        ORDER BY created_at DESC, id DESC LIMIT $3) last ORDER BY created_at, id`,
      [webhookId, status, limit],
    );
    return rows.map(toDelivery);
  }

  async countByStatus(webhookId: string): Promise<Record<DeliveryStatus, number>> {
    const out: Record<DeliveryStatus, number> = { PENDING: 0, SUCCEEDED: 0, FAILED: 0 };
    const rows = await this.store.batch.run<{ status: DeliveryStatus; n: number }>(
      `SELECT status, count(*) AS n FROM webhook_deliveries WHERE webhook_id = $1 GROUP BY status`,
      [webhookId],
    );
    for (const r of rows) out[r.status] = r.n;
    return out;
  }

  // The worker's reads see committed rows only: it never sends what a transaction might still roll back.
  async dueWebhookIds(now: number): Promise<string[]> {
    const { rows } = await this.store.pool.query<{ id: string }>(
      `SELECT w.id FROM webhooks w WHERE w.enabled = 1 AND EXISTS (SELECT 1 FROM webhook_deliveries d
        WHERE d.webhook_id = w.id AND d.status = 'PENDING' AND d.next_attempt_at <= $1)`,
      [now],
    );
    return rows.map((r) => r.id);
  }

  async dueDeliveries(webhookId: string, now: number, limit: number): Promise<DeliveryRecord[]> {
    const { rows } = await this.store.pool.query<WebhookDeliveriesTable>(
      `SELECT * FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'PENDING' AND next_attempt_at <= $2
        ORDER BY next_attempt_at, created_at, id LIMIT $3`,
      [webhookId, now, limit],
    );
    return rows.map(toDelivery);
  }

  recordAttempt(id: string, o: AttemptOutcome): void {
    this.store.batch
      .run(
        `UPDATE webhook_deliveries SET attempts = attempts + 1,
          schedule_step = CASE WHEN $1::text = 'PENDING' THEN schedule_step + 1 ELSE schedule_step END,
          status = $1, next_attempt_at = $2, last_attempt_at = $3, last_status_code = $4,
          last_error = $5, completed_at = CASE WHEN $1::text = 'PENDING' THEN NULL ELSE $3::bigint END
          WHERE id = $6 AND status = 'PENDING'`,
        [o.status, o.nextAttemptAt, o.at, o.statusCode, o.error, id],
      )
      .catch(ignore);
  }

  async requeue(id: string, at: number): Promise<DeliveryRecord | null> {
    const [row] = await this.store.batch.run<WebhookDeliveriesTable>(
      `UPDATE webhook_deliveries SET status = 'PENDING', schedule_step = 0, next_attempt_at = $1, completed_at = NULL WHERE id = $2 RETURNING *`,
      [at, id],
    );
    return row ? toDelivery(row) : null;
  }

  settled(): Promise<void> {
    return this.store.batch.committed();
  }
}
