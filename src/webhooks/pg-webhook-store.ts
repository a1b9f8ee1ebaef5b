import type pg from 'pg';
import { inlineParams } from '../store/pg/pg-batch.js';
import { Columns, TurnStatements } from '../store/pg/turn-statements.js';
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

/** The database's clock in epoch milliseconds (the time of the statement): claims are leased on it, so servers' clocks may differ. */
/** `ARRAY[...]::type[]` of escaped literals (appended after inlineParams). */
function sqlArray(values: readonly (string | number | null)[], type: 'text' | 'bigint' | 'integer'): string {
  return `ARRAY[${values.map((v) => inlineParams('$1', [v])).join(', ')}]::${type}[]`;
}

/** `(ARRAY[...]::text[])` of our ids (msg_/wh_ with base36 and base64url: never a `$n` for inlineParams to read). */
function textArray(values: string[]): string {
  return `(ARRAY[${values.map((v) => inlineParams('$1', [v])).join(', ')}]::text[])`;
}

const DB_NOW_MS = `(extract(epoch FROM statement_timestamp()) * 1000)::bigint`;

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
  private reloadAfter: Promise<void> | null = null;
  /** While a reload reads: the webhooks this process changed meanwhile, whose memory beats what the read returns. */
  private touched: Set<string> | null = null;
  private readonly changeListeners: (() => void)[] = [];

  /** A turn's delivery rows, one statement (they go in the round of the writes whose events they carry). */
  private readonly inserts: TurnStatements<NewDelivery, null>;

  private constructor(private readonly store: PgStore) {
    this.inserts = new TurnStatements(store.batch, (items) => {
      const params: unknown[] = [];
      const rows = new Columns([['id', 'text'], ['webhook_id', 'text'], ['session_id', 'text'], ['event', 'text'], ['body', 'text'], ['at', 'bigint']]);
      for (const d of items) rows.push(d.id, d.webhookId, d.sessionId, d.event, d.body, d.at);
      return store.batch.run(`SELECT FROM wa_gateway_insert_deliveries(${rows.args(params)})`, params).then(() => items.map(() => null));
    });
  }

  static async load(store: PgStore): Promise<PgWebhookStore> {
    const repo = new PgWebhookStore(store);
    await repo.reload();
    return repo;
  }

  /**
   * `listener` is told, once they are committed, of the webhook rows this process wrote (registered, changed,
   * disabled, removed): the other nodes on the database hold the registry in memory too and read it again then.
   */
  onChanged(listener: () => void): void {
    this.changeListeners.push(listener);
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

  /**
   * Reads the registry again: a delivery claimed for a webhook this server has not seen was registered through
   * another server on the same database, or another node said it changed the registry.
   */
  refresh(): Promise<void> {
    return this.reload();
  }

  /**
   * Reads the registry again from what PostgreSQL holds (after a failed write, whose change the memory must not
   * keep, or a change made by another server). A call while a read runs makes one more after it: that read may
   * have begun before the change it is asked for.
   */
  reload(): Promise<void> {
    if (!this.reloading) {
      this.reloading = this.readAll().finally(() => (this.reloading = null));
      return this.reloading;
    }
    this.reloadAfter ??= this.reloading.catch(ignore).then(() => {
      this.reloadAfter = null;
      return this.reload();
    });
    return this.reloadAfter;
  }

  private signature: string | null = null;

  /**
   * Reads the registry again when its rows changed since the last look (a digest of them, computed by the
   * database): how the nodes of a cluster without Redis learn each other's changes, every beat.
   */
  async refreshIfChanged(): Promise<void> {
    const { rows } = await this.store.pool.query<{ sig: string }>(`SELECT md5(coalesce(string_agg(w::text, ',' ORDER BY w.id), '')) AS sig FROM webhooks w`);
    const sig = rows[0]?.sig ?? '';
    if (sig === this.signature) return;
    this.signature = sig;
    await this.reload();
  }

  private async readAll(): Promise<void> {
    const touched = new Set<string>();
    this.touched = touched;
    try {
      // This process's own writes so far are in what the read sees; those made while it runs are kept from memory.
      await this.store.batch.committed().catch(ignore);
      const { rows } = await this.store.pool.query<WebhooksTable>('SELECT * FROM webhooks ORDER BY created_at, id');
      const kept = [...touched].map((id) => [id, this.entries.get(id)] as const);
      this.entries.clear();
      this.bySession.clear();
      for (const r of rows) this.put({ record: toWebhook(r), deletedAt: r.deleted_at });
      for (const [id, entry] of kept) {
        if (entry) this.put(entry);
        else this.drop(id);
      }
    } finally {
      if (this.touched === touched) this.touched = null;
    }
  }

  /**
   * A write of the rows of `webhooks` (null: of deliveries only), announced to the change listeners once committed.
   * On failure the registry is read again from what PostgreSQL kept, once the transactions under way are settled
   * (and again every second while the database stays out of reach).
   */
  private write(sql: string, params: readonly unknown[], webhooks: readonly string[] | null): void {
    for (const id of webhooks ?? []) this.touched?.add(id);
    const written = this.store.batch.run(sql, params);
    written.catch(() => this.resync());
    if (webhooks && webhooks.length > 0 && this.changeListeners.length > 0) {
      void written.then(() => this.store.batch.committed()).then(() => {
        for (const listener of this.changeListeners) listener();
      }, ignore);
    }
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
      [w.id],
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
      [w.id],
    );
  }

  deleteWebhook(id: string): void {
    this.drop(id);
    this.write(`DELETE FROM webhooks WHERE id = $1`, [id], [id]);
  }

  softDeleteSession(sessionId: string, at: number): void {
    const ids: string[] = [];
    for (const e of this.ofSession(sessionId)) {
      if (e.deletedAt !== null) continue;
      e.deletedAt = at;
      ids.push(e.record.id);
    }
    this.write(`UPDATE webhooks SET deleted_at = $1 WHERE session_id = $2 AND deleted_at IS NULL`, [at, sessionId], ids);
  }

  async purge(before: number, batch = PRUNE_BATCH): Promise<number> {
    const gone = await this.store.batch.run<{ id: string }>(
      `DELETE FROM webhooks WHERE deleted_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.webhook_id = webhooks.id AND d.status = 'PENDING') RETURNING id`,
    );
    for (const { id } of gone) this.drop(id);
    // A batch at a time, oldest first along webhook_deliveries_completed.
    const [row] = await this.store.batch.run<{ n: number }>(
      `WITH gone AS (DELETE FROM webhook_deliveries WHERE id = ANY (ARRAY(SELECT id FROM webhook_deliveries
        WHERE completed_at IS NOT NULL AND completed_at < $1 AND status != 'PENDING' ORDER BY completed_at LIMIT $2)) RETURNING 1)
       SELECT count(*) AS n FROM gone`,
      [before, batch],
    );
    return row?.n ?? 0;
  }

  disable(webhookId: string, reason: string, at: number): boolean {
    const entry = this.entries.get(webhookId);
    if (!entry?.record.enabled) return false;
    entry.record = { ...entry.record, enabled: false, disabledReason: reason, disabledAt: at, updatedAt: at };
    this.write(`UPDATE webhooks SET enabled = 0, disabled_reason = $1, disabled_at = $2, updated_at = $2 WHERE id = $3 AND enabled = 1`, [reason, at, webhookId], [webhookId]);
    // Attempts recorded and not yet written (the one that disables it, for one) keep their own outcome.
    const recorded = this.completions.filter((c) => c.o.status !== 'PENDING').map((c) => c.id);
    this.write(
      `UPDATE webhook_deliveries SET status = 'FAILED', next_attempt_at = NULL, completed_at = $1, last_error = $2, claimed_by = NULL, claimed_until = NULL
        WHERE webhook_id = $3 AND status = 'PENDING'` +
        (recorded.length > 0 ? ` AND NOT (id = ANY ${textArray(recorded)})` : ''),
      [at, `not sent: webhook disabled (${reason})`, webhookId],
      null,
    );
    return true;
  }

  markFailing(webhookId: string, at: number): number | null {
    const entry = this.entries.get(webhookId);
    if (!entry) return null;
    if (entry.record.failingSince === null) {
      entry.record = { ...entry.record, failingSince: at };
      this.write(`UPDATE webhooks SET failing_since = COALESCE(failing_since, $1) WHERE id = $2`, [at, webhookId], [webhookId]);
    }
    return entry.record.failingSince;
  }

  clearFailing(webhookId: string): void {
    const entry = this.entries.get(webhookId);
    if (!entry || entry.record.failingSince === null) return;
    entry.record = { ...entry.record, failingSince: null };
    this.write(`UPDATE webhooks SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL`, [webhookId], [webhookId]);
  }

  insertDelivery(d: NewDelivery): void {
    // Its failure is the transaction's: the answer paths learn it from committed().
    this.inserts.add(d).catch(ignore);
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

  /** Attempts recorded and not yet written: the next claim writes them in its transaction, before it claims. */
  private completions: { id: string; o: AttemptOutcome }[] = [];

  recordAttempt(id: string, o: AttemptOutcome): void {
    this.completions.push({ id, o });
  }

  /**
   * One round trip, one transaction: writes the attempts recorded since the last claim and releases `release`,
   * then (with `claim`) claims due deliveries for `nodeId`: up to `prefetch` held per webhook while no other server
   * holds claims on it, else at most `concurrency` held across every server on the database
   * (wa_gateway_claim_deliveries, migrations 0012 and 0017). A webhook another server is
   * claiming for at this moment is skipped until the next turn. Claims run on the database's clock; `now` (this
   * server's) is what delivery schedules are written in. A failed transaction keeps the recorded attempts for
   * the next claim.
   */
  async claim(c: { nodeId: string; now: number; concurrency: number; prefetch?: number; leaseMs: number; claim: boolean; release?: string[] }): Promise<DeliveryRecord[]> {
    const completions = this.completions;
    const release = c.release ?? [];
    if (completions.length === 0 && release.length === 0 && !c.claim) return [];
    this.completions = [];
    const o = completions.map((x) => x.o);
    const call = `SELECT * FROM wa_gateway_claim_deliveries(${[
      sqlArray(completions.map((x) => x.id), 'text'),
      sqlArray(o.map((x) => x.status), 'text'),
      sqlArray(o.map((x) => x.nextAttemptAt), 'bigint'),
      sqlArray(o.map((x) => x.at), 'bigint'),
      sqlArray(o.map((x) => x.statusCode), 'integer'),
      sqlArray(o.map((x) => x.error), 'text'),
      sqlArray(release, 'text'),
      inlineParams('$1, $2, $3, $4, $5, $6', [c.nodeId, c.now, c.concurrency, c.leaseMs, c.claim, c.prefetch ?? c.concurrency]),
    ].join(', ')})`;
    let results: pg.QueryResult[];
    try {
      // Not waiting for the WAL flush (4-7 ms a commit on a busy disk): what a crash of PostgreSQL could lose
      // here is a claim or an outcome, and either only means that a delivery is sent again (same webhook-id).
      const result = (await this.store.pool.query(`BEGIN; SET LOCAL synchronous_commit = off; ${call}; COMMIT`)) as pg.QueryResult | pg.QueryResult[];
      results = Array.isArray(result) ? result : [result];
    } catch (error) {
      // pg's pool drops a client whose query failed, with the transaction it had open.
      this.completions = completions.concat(this.completions);
      throw error;
    }
    return (results[2]!.rows as WebhookDeliveriesTable[]).map(toDelivery);
  }

  /**
   * Extends this server's claims on deliveries still in flight (attempts may outlast a lease). The state is tested
   * behind coalesce() on the rows found by id, as in the claim function (migration 0014): as an index condition the
   * planner could walk the index of pending deliveries (webhook_deliveries_pending since 0017) over every one.
   */
  async renewClaims(nodeId: string, ids: string[], leaseMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.store.pool.query(
      inlineParams(`UPDATE webhook_deliveries SET claimed_until = ${DB_NOW_MS} + $1 WHERE claimed_by = $2 AND coalesce(status, '') = 'PENDING' AND id = ANY `, [leaseMs, nodeId]) +
        textArray(ids),
    );
  }

  /** At shutdown: this server's remaining claims go back at once (other servers need not wait for their lease). */
  async releaseClaims(nodeId: string): Promise<void> {
    await this.store.pool.query(inlineParams(`UPDATE webhook_deliveries SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1 AND status = 'PENDING'`, [nodeId]));
  }

  async requeue(id: string, at: number): Promise<DeliveryRecord | null> {
    const [row] = await this.store.batch.run<WebhookDeliveriesTable>(
      `UPDATE webhook_deliveries SET status = 'PENDING', schedule_step = 0, next_attempt_at = $1, completed_at = NULL, claimed_by = NULL, claimed_until = NULL
        WHERE id = $2 RETURNING *`,
      [at, id],
    );
    return row ? toDelivery(row) : null;
  }

  settled(): Promise<void> {
    return this.store.batch.committed();
  }
}
