import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config.js';
import type { EngineMediaBytes } from '../engine/engine.js';
import type { Logger } from '../logger.js';
import { databaseUnavailableOf, storageFullOf } from '../errors.js';
import { version } from '../version.js';
import { post, SendError, senderAgents, type SenderAgents, type SendResult } from './http-sender.js';
import { sign } from './signer.js';
import { SsrfGuard } from './ssrf-guard.js';
import type { PgWebhookStore } from './pg-webhook-store.js';
import { PRUNE_BATCH, type DeliveryRecord, type WebhookRecord, type WebhookStore } from './webhook-store.js';

/** A Retry-After longer than this is not believed (a receiver cannot park a delivery for months). */
const MAX_RETRY_AFTER_MS = 24 * 3600 * 1000;
const PURGE_EVERY_MS = 60_000;
/** Delivered and failed deliveries are kept this long for `Webhook.deliveries`, then dropped. */
const KEEP_COMPLETED_MS = 30 * 24 * 3600 * 1000;
/** At shutdown, attempts under way get this long (at most the attempt timeout) before they are cut off. */
const SHUTDOWN_GRACE_MS = 2000;
/**
 * PostgreSQL: a server alone on a webhook holds up to this many times its concurrency in claims, and sends the
 * next one as an attempt ends (one claim per freed slot made every delivery wait for a round trip).
 */
const CLAIM_AHEAD = 8;

type Outcome =
  | { kind: 'delivered'; statusCode: number }
  | { kind: 'gone'; statusCode: number }
  | { kind: 'retry'; statusCode: number | null; error: string; retryAfterMs: number | null };

/** `ms` ±20%, so receivers coming back after an outage are not hit by every retry at once. */
export function withJitter(ms: number, random: () => number = Math.random): number {
  return Math.round(ms * (0.8 + 0.4 * random()));
}

/**
 * Sends what the outbox queued. The database is the only queue: a delivery stays PENDING until an
 * attempt's result is written, so anything in flight at a crash is sent again after the restart,
 * with the same webhook-id (at-least-once).
 */
/**
 * The name this server claims deliveries under on PostgreSQL: the cluster's node id when one is configured
 * (`config.nodeId`), else one made for this process. A restart under the same node id may take back its own
 * claims at once; a made-up one leaves a killed process's claims to lapse (`--webhook-claim-lease-ms`).
 */
export function claimNodeId(config: { cluster?: { nodeId?: string } }): string {
  // Per process, also in a cluster: a node that comes back under its name must not take its old claims for its own.
  const nodeId = config.cluster?.nodeId;
  return `${nodeId ? nodeId : `${hostname()}:${process.pid}`}:${randomBytes(4).toString('hex')}`;
}

/** What one attempt came to: delivered, gone (410, webhook disabled), retry (scheduled again) or failed (retries exhausted). */
export type AttemptLabel = 'delivered' | 'gone' | 'retry' | 'failed';

export class DeliveryWorker {
  /** webhook id -> ids of its deliveries in flight (the per-endpoint concurrency limit). */
  private readonly inflight = new Map<string, Set<string>>();
  private readonly running = new Set<Promise<void>>();
  private readonly attemptWaiters = new Map<string, (() => void)[]>();
  private readonly abort = new AbortController();
  private readonly userAgent: string;
  private timer: NodeJS.Timeout | null = null;
  private kickQueued = false;
  private readonly agents: SenderAgents;
  private stopped = false;
  private lastPurge = 0;
  private purging = false;
  /** A write failed for want of space (the storage state logs the episode once). */
  onStorageFull: (error: unknown) => void = () => undefined;

  /** PostgreSQL: deliveries claimed and not sent yet, by webhook, in the order claimed. */
  private readonly queued = new Map<string, DeliveryRecord[]>();
  /** PostgreSQL: claims to give back with the next claim (their webhook was disabled or removed meanwhile). */
  private releases: string[] = [];
  /** PostgreSQL: the claim under way (writing finished attempts, claiming due deliveries), and the one queued after it. */
  private claiming: Promise<void> | null = null;
  private claimQueued: Promise<void> | null = null;
  private renewTimer: NodeJS.Timeout | null = null;
  private readonly tick: () => void;

  /** A message's media bytes, for webhooks registered with includeMedia (set once the messaging service exists). */
  mediaOf: ((sessionId: string, messageId: string) => Promise<EngineMediaBytes>) | null = null;

  constructor(
    private readonly store: WebhookStore | PgWebhookStore,
    private readonly guard: SsrfGuard,
    private readonly settings: Config['webhooks'],
    private readonly logger: Logger,
    /** Told the outcome and duration of every attempt (metrics). */
    private readonly observe: (outcome: AttemptLabel, seconds: number) => void = () => undefined,
    /** PostgreSQL: the claims' owner (claimNodeId). */
    readonly nodeId: string = claimNodeId({}),
    /** The cluster's name of this node (`--node-id`), named in the User-Agent: which node sent a delivery. */
    clusterNode = '',
  ) {
    this.userAgent = `wa-gateway-webhooks/${version}${clusterNode ? ` (node ${clusterNode})` : ''}`;
    this.agents = senderAgents(settings.concurrency);
    this.tick = store.kind === 'sqlite' ? () => this.syncTick() : () => this.pgTick();
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.settings.pollIntervalMs);
    this.timer.unref();
    if (this.store.kind === 'postgres') {
      const store = this.store;
      // Attempts may outlast a lease (a slow endpoint, up to --webhook-timeout-ms): their claims are renewed.
      this.renewTimer = setInterval(() => {
        const ids = [...this.inflight.values()].flatMap((set) => [...set]).concat([...this.queued.values()].flatMap((list) => list.map((d) => d.id)));
        store.renewClaims(this.nodeId, ids, this.leaseMs).catch((error: unknown) => this.tickFailed(error));
      }, Math.max(50, Math.floor(this.leaseMs / 3)));
      this.renewTimer.unref();
    }
    this.kick();
  }

  private get leaseMs(): number {
    return this.settings.claimLeaseMs;
  }

  /** Look for due deliveries soon (after the current synchronous work, e.g. the outbox's commit). */
  kick(): void {
    if (this.kickQueued || this.stopped) return;
    this.kickQueued = true;
    setImmediate(() => {
      this.kickQueued = false;
      this.tick();
    });
  }

  /** Resolves when the next attempt of this delivery has been recorded, or after `timeoutMs`. */
  attempted(deliveryId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const list = this.attemptWaiters.get(deliveryId) ?? [];
      list.push(done);
      this.attemptWaiters.set(deliveryId, list);
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.renewTimer) clearInterval(this.renewTimer);
    const all = () => Promise.allSettled([...this.running]);
    const grace = Math.min(SHUTDOWN_GRACE_MS, this.settings.timeoutMs);
    await Promise.race([all(), new Promise((r) => setTimeout(r, grace).unref())]);
    this.abort.abort();
    await all();
    if (this.store.kind === 'postgres') {
      // What was cut off goes back to the queue now rather than when its lease lapses.
      await this.claimCycle().catch(() => undefined);
      await this.store.releaseClaims(this.nodeId).catch(() => undefined);
    }
    this.agents.http.destroy();
    this.agents.https.destroy();
    for (const list of this.attemptWaiters.values()) for (const done of list) done();
  }

  private syncTick(): void {
    if (this.stopped) return;
    const now = Date.now();
    const store = this.store as WebhookStore;
    try {
      for (const webhookId of store.dueWebhookIds(now)) {
        const busy = this.inflight.get(webhookId) ?? new Set<string>();
        const free = this.settings.concurrency - busy.size;
        if (free <= 0) continue;
        const due = store.dueDeliveries(webhookId, now, free + busy.size).filter((d) => !busy.has(d.id)).slice(0, free);
        this.launchAll(webhookId, due, busy);
      }
      // One batch per tick; a full batch means more is due, so the next tick purges again.
      if (this.purging || now - this.lastPurge > PURGE_EVERY_MS) {
        this.lastPurge = now;
        this.purging = store.purge(now - KEEP_COMPLETED_MS) >= PRUNE_BATCH;
      }
    } catch (error) {
      this.tickFailed(error);
    }
  }

  /**
   * PostgreSQL: one claim at a time. Asked for while one is under way, another follows it, carrying the attempts
   * recorded meanwhile (so attempts that end together share a round trip).
   */
  private claimCycle(): Promise<void> {
    if (this.claimQueued) return this.claimQueued;
    if (this.claiming) {
      this.claimQueued = this.claiming.then(() => {
        this.claimQueued = null;
        return this.claimCycle();
      });
      return this.claimQueued;
    }
    const run = this.claimOnce().finally(() => {
      if (this.claiming === settledRun) this.claiming = null;
    });
    const settledRun = run.catch(() => undefined);
    this.claiming = settledRun;
    return run;
  }

  private async claimOnce(): Promise<void> {
    const store = this.store as PgWebhookStore;
    const release = this.releases;
    this.releases = [];
    const { concurrency } = this.settings;
    let claimed: DeliveryRecord[];
    try {
      claimed = await store.claim({ nodeId: this.nodeId, now: Date.now(), concurrency, prefetch: concurrency * CLAIM_AHEAD, leaseMs: this.leaseMs, claim: !this.stopped, release });
    } catch (error) {
      this.releases = release.concat(this.releases);
      throw error;
    }
    if (claimed.some((d) => !this.store.webhook(d.webhookId, { includeDeleted: true }))) await store.refresh();
    const touched = new Set<string>();
    for (const delivery of claimed.sort(dueOrder)) {
      const list = this.queued.get(delivery.webhookId);
      if (list) list.push(delivery);
      else this.queued.set(delivery.webhookId, [delivery]);
      touched.add(delivery.webhookId);
    }
    for (const webhookId of touched) this.launchQueued(webhookId);
    if (this.releases.length > 0) await store.claim({ nodeId: this.nodeId, now: Date.now(), concurrency: 0, leaseMs: 0, claim: false, release: this.releases.splice(0) });
  }

  /**
   * PostgreSQL: sends what this server claimed for a webhook, at most the concurrency at once (the database bounds
   * the claims of every server together only while another holds some). A webhook disabled or removed meanwhile, or
   * a server stopping, gives its claims back.
   */
  private launchQueued(webhookId: string): void {
    const list = this.queued.get(webhookId);
    if (!list) return;
    const webhook = this.store.webhook(webhookId, { includeDeleted: true });
    const sending = !this.stopped && webhook?.enabled === true;
    let busy = this.inflight.get(webhookId);
    while (list.length > 0 && (!sending || (busy?.size ?? 0) < this.settings.concurrency)) {
      const delivery = list.shift()!;
      if (!sending) {
        this.releases.push(delivery.id);
        continue;
      }
      if (!busy) this.inflight.set(webhookId, (busy = new Set()));
      if (!busy.has(delivery.id)) this.launch(webhook!, delivery, busy);
    }
    if (list.length === 0) this.queued.delete(webhookId);
  }

  private pgTick(): void {
    if (this.stopped) return;
    this.claimCycle().catch((error: unknown) => this.tickFailed(error));
    if (this.purging || Date.now() - this.lastPurge > PURGE_EVERY_MS) {
      const now = Date.now();
      this.lastPurge = now;
      Promise.resolve(this.store.purge(now - KEEP_COMPLETED_MS)).then(
        (n) => (this.purging = n >= PRUNE_BATCH),
        (error: unknown) => this.tickFailed(error),
      );
    }
  }

  private launchAll(webhookId: string, due: DeliveryRecord[], busy: Set<string>): void {
    const webhook = due.length > 0 ? this.store.webhook(webhookId, { includeDeleted: true }) : null;
    if (!webhook?.enabled) return;
    this.inflight.set(webhookId, busy);
    for (const delivery of due) if (!busy.has(delivery.id)) this.launch(webhook, delivery, busy);
  }

  private tickFailed(error: unknown): void {
    if (storageFullOf(error)) this.onStorageFull(error);
    // Unreachable: /health says so; the next ticks try again.
    else if (databaseUnavailableOf(error)) return;
    else this.logger.error('webhook worker tick failed', { err: String(error) });
  }

  private launch(webhook: WebhookRecord, delivery: DeliveryRecord, busy: Set<string>): void {
    busy.add(delivery.id);
    const free = () => {
      if (!busy.delete(delivery.id)) return;
      if (busy.size === 0 && this.inflight.get(webhook.id) === busy) this.inflight.delete(webhook.id);
      if (this.store.kind === 'postgres') this.launchQueued(webhook.id);
    };
    const run = this.attempt(webhook, delivery)
      .then(() => {
        if (this.store.kind === 'sqlite') return;
        // PostgreSQL: the slot is free once the attempt is recorded (its claim counts until the outcome is written);
        // the outcome is written by the next claim (which also releases this delivery's claim and takes the next
        // due ones), and the attempt ends once that is committed. If the claim fails, the outcome is written by a
        // later one; meanwhile the claim may lapse and the delivery be sent again (at-least-once, same webhook-id).
        free();
        return this.claimCycle();
      })
      .catch((error: unknown) =>
        // A full disk: the delivery stays PENDING and is tried again (its outcome was not recorded); logged once per episode.
        storageFullOf(error) ? this.onStorageFull(error) : databaseUnavailableOf(error) ? undefined : this.logger.error('webhook attempt failed unexpectedly', { deliveryId: delivery.id, err: String(error) }),
      )
      .finally(() => {
        free();
        this.running.delete(run);
        const waiters = this.attemptWaiters.get(delivery.id);
        this.attemptWaiters.delete(delivery.id);
        for (const done of waiters ?? []) done();
        // PostgreSQL: the claim that wrote this attempt's outcome has already taken what was due.
        if (this.store.kind === 'sqlite') this.kick();
      });
    this.running.add(run);
  }

  private async attempt(webhook: WebhookRecord, delivery: DeliveryRecord): Promise<void> {
    const started = performance.now();
    let outcome: Outcome;
    try {
      outcome = classify(await this.send(webhook, delivery));
    } catch (error) {
      // Cut off by shutdown: not an attempt. The delivery stays PENDING and is sent after the restart.
      if (this.abort.signal.aborted) return;
      outcome = { kind: 'retry', statusCode: null, error: (error as Error).message, retryAfterMs: null };
    }
    this.observe(this.record(webhook, delivery, outcome), (performance.now() - started) / 1000);
  }

  private async send(webhook: WebhookRecord, delivery: DeliveryRecord): Promise<SendResult> {
    const started = Date.now();
    const { timeoutMs } = this.settings;
    // Checked again on every attempt: the name may resolve elsewhere now than at registration. A slow
    // DNS answer counts against the attempt's timeout.
    let timer: NodeJS.Timeout | undefined;
    const target = await Promise.race([
      this.guard.resolve(SsrfGuard.parseUrl(webhook.url)),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new SendError(`timed out after ${timeoutMs} ms (resolving the host)`, 'timeout')), timeoutMs))),
    ]).finally(() => clearTimeout(timer));
    const body = webhook.includeMedia ? await this.withMedia(delivery) : delivery.body;
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      ...webhook.headers,
      'content-type': 'application/json',
      'user-agent': this.userAgent,
      'webhook-id': delivery.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': sign(webhook.secret, delivery.id, timestamp, body),
    };
    return post(target, headers, body, { timeoutMs, remainingMs: Math.max(1, timeoutMs - (Date.now() - started)) }, this.abort.signal, this.agents);
  }

  /**
   * A message delivery's body with the media's bytes as `data.media.dataUrl`, read at each attempt (the stored
   * body keeps only the url, so the outbox stays a synchronous write). Media over --webhook-max-media-bytes, or
   * no longer kept, goes without.
   */
  private async withMedia(delivery: DeliveryRecord): Promise<string> {
    if (delivery.event !== 'message' || !this.mediaOf) return delivery.body;
    const parsed = JSON.parse(delivery.body) as { data?: { id?: string; media?: { size?: number; dataUrl?: string } | null } };
    const media = parsed.data?.media;
    if (!media || !parsed.data?.id || (media.size ?? Infinity) > this.settings.maxMediaBytes) return delivery.body;
    try {
      const bytes = await this.mediaOf(delivery.sessionId, parsed.data.id);
      media.dataUrl = `data:${bytes.mimetype};base64,${bytes.data.toString('base64')}`;
    } catch {
      return delivery.body;
    }
    return JSON.stringify(parsed);
  }

  private record(webhook: WebhookRecord, delivery: DeliveryRecord, outcome: Outcome): AttemptLabel {
    const at = Date.now();
    if (outcome.kind === 'delivered') {
      this.store.transaction(() => {
        this.store.recordAttempt(delivery.id, { at, statusCode: outcome.statusCode, error: null, status: 'SUCCEEDED', nextAttemptAt: null });
        this.store.clearFailing(webhook.id);
      });
      return 'delivered';
    }
    if (outcome.kind === 'gone') {
      const reason = 'the endpoint answered 410 Gone';
      this.store.transaction(() => {
        this.store.recordAttempt(delivery.id, { at, statusCode: outcome.statusCode, error: `${reason}; webhook disabled`, status: 'FAILED', nextAttemptAt: null });
        this.store.disable(webhook.id, reason, at);
      });
      this.logger.warn('webhook disabled', { webhookId: webhook.id, sessionId: webhook.sessionId, reason });
      return 'gone';
    }
    const schedule = this.settings.retryScheduleMs;
    const step = delivery.scheduleStep;
    let nextAttemptAt: number | null = null;
    if (step < schedule.length) {
      let delay = withJitter(schedule[step]!);
      if (outcome.retryAfterMs !== null) delay = Math.max(delay, Math.min(outcome.retryAfterMs, MAX_RETRY_AFTER_MS));
      nextAttemptAt = at + delay;
    }
    const label: AttemptLabel = nextAttemptAt === null ? 'failed' : 'retry';
    const failingSince = this.store.markFailing(webhook.id, at);
    const disabling = failingSince !== null && at - failingSince >= this.settings.disableAfterMs ? `deliveries failing since ${new Date(failingSince).toISOString()}` : null;
    // The attempt that disables the webhook ends its delivery itself, with this attempt counted and its error kept
    // (on PostgreSQL the disable leaves it alone whichever of the two writes commits first).
    let error = nextAttemptAt === null ? `${outcome.error} (retries exhausted)` : outcome.error;
    if (disabling !== null && nextAttemptAt !== null) {
      nextAttemptAt = null;
      error = `${outcome.error}; not retried: webhook disabled (${disabling})`;
    }
    this.store.recordAttempt(delivery.id, { at, statusCode: outcome.statusCode, error, status: nextAttemptAt === null ? 'FAILED' : 'PENDING', nextAttemptAt });
    if (disabling !== null && this.store.disable(webhook.id, disabling, at)) this.logger.warn('webhook disabled', { webhookId: webhook.id, sessionId: webhook.sessionId, reason: disabling });
    return label;
  }
}

/** Due first, then in the order made (an id sorts by its creation time). */
function dueOrder(a: DeliveryRecord, b: DeliveryRecord): number {
  return (a.nextAttemptAt ?? 0) - (b.nextAttemptAt ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function classify(result: SendResult): Outcome {
  const { statusCode } = result;
  if (statusCode >= 200 && statusCode < 300) return { kind: 'delivered', statusCode };
  if (statusCode === 410) return { kind: 'gone', statusCode };
  const error =
    statusCode >= 300 && statusCode < 400
      ? `HTTP ${statusCode}: redirect${result.location ? ` to ${result.location}` : ''} not followed`
      : `HTTP ${statusCode}`;
  return { kind: 'retry', statusCode, error, retryAfterMs: result.retryAfterMs };
}
