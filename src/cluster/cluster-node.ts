// One node of a cluster on PostgreSQL: its lease, the sessions it acquires, and the calls it forwards to the
// nodes that drive the others. See "Running several nodes" in the README for the design.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import type pg from 'pg';
import type { EngineKind, EngineSession, SessionConfig } from '../engine/engine.js';
import { AppError, storeFailureOf } from '../errors.js';
import type { SessionStatus } from '../events/bus.js';
import type { Logger } from '../logger.js';
import type { SendQueue } from '../messaging/send-queue.js';
import { mapEngineError, type ClusterHooks, type LifecycleOp, type RemoteSessionState, type SessionManager, type SessionView } from '../sessions/session-manager.js';
import type { PgBatch } from '../store/pg/pg-types.js';
import { callSpec, invokeLocal, remoteEngineSession, type CallSpec } from './remote-engine.js';
import { decode, encode, fromWireError, toWireError, type CallOutcome, type WireError } from './wire.js';

/** The database's clock in epoch milliseconds: leases never depend on the nodes' clocks agreeing. */
const NOW = `(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;
const SESSION_COLUMNS = 'session_id, engine, status, config, created_at, last_activity, failure_reason, me, owner';
const INTERNAL = '/internal/cluster';
const SECRET_HEADER = 'x-cluster-secret';
/** Longest a node waits for another's answer to a forwarded call: a send may wait its turn in the owner's queue (pacing). */
const CALL_TIMEOUT_MS = 180_000;

export interface ClusterNodeInfo {
  id: string;
  url: string;
  alive: boolean;
  sessions: number;
  maxSessions: number;
  /** Epoch ms of its last renewal (the database's clock). */
  lastSeen: number;
}

export interface ClusterNodeOptions {
  nodeId: string;
  leaseTtlMs: number;
  secret: string;
  maxSessions: number;
  /** open-wa sessions move to another node too (their browser profiles live on storage every node mounts). */
  sharedDataDir: boolean;
  pool: pg.Pool;
  batch: PgBatch;
  sessions: SessionManager;
  sendQueue: () => SendQueue;
  logger: Logger;
  maxBodyBytes: number;
  /** Runs at every beat, lease or not (without Redis: whether the webhook registry changed on another node). */
  everyBeat?: () => Promise<void>;
}

interface SessionRowPg {
  session_id: string;
  engine: string;
  status: string;
  config: string;
  created_at: number;
  last_activity: number;
  failure_reason: string | null;
  me: string | null;
  owner: string | null;
}

interface PendingCall {
  sessionId: string;
  method: string;
  args: unknown[];
  resolve: (outcome: CallOutcome) => void;
  reject: (error: Error) => void;
}

function stateOf(r: SessionRowPg): RemoteSessionState {
  const config = JSON.parse(r.config) as SessionConfig;
  return {
    sessionId: r.session_id,
    engine: config.engine as EngineKind,
    config,
    status: r.status as SessionStatus,
    createdAt: r.created_at,
    lastActivity: r.last_activity,
    failureReason: r.failure_reason,
    me: r.me,
    node: r.owner,
  };
}

export class ClusterNode implements ClusterHooks {
  readonly nodeId: string;
  epoch = 0;
  url = '';
  readonly counters = { forwardedCalls: 0, internalRequests: 0, acquired: 0, leaseLost: 0, retried: 0 };
  private alive = false;
  private stopping = false;
  private leaseUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private following: Promise<void> | null = null;
  private readonly urls = new Map<string, string>();
  private readonly remotes = new Map<string, EngineSession>();
  private readonly queues = new Map<string, PendingCall[]>();
  /** Creations sent to each node and not answered yet: counted in its load, so a burst of creates spreads. */
  private readonly placing = new Map<string, number>();
  private readonly secretDigest: Buffer | null;

  constructor(private readonly o: ClusterNodeOptions) {
    this.nodeId = o.nodeId;
    this.secretDigest = o.secret ? digest(o.secret) : null;
  }

  /** How often the lease is renewed, dead nodes looked for, and the view of other nodes' sessions refreshed. */
  get tickMs(): number {
    return Math.max(100, Math.min(1000, Math.floor(this.o.leaseTtlMs / 3)));
  }

  /** Joins the cluster at `url` (what other nodes call), acquires sessions, and keeps the lease from now on. */
  async start(url: string): Promise<void> {
    this.url = url.replace(/\/$/, '');
    await this.join();
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
  }

  /** SIGTERM: stop driving sessions at once, let the lease go, and tell the other nodes to take them now. */
  async leave(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    if (this.watchdog) clearTimeout(this.watchdog);
    await this.ticking?.catch(() => undefined);
    await this.following;
    if (!this.alive) return;
    await this.o.sessions.release();
    await this.o.batch.committed().catch(() => undefined);
    this.alive = false;
    const peers = await this.nodes().catch(() => [] as ClusterNodeInfo[]);
    await this.o.pool.query(`UPDATE cluster_nodes SET expires_at = ${NOW} - 1 WHERE node_id = $1 AND epoch = $2`, [this.nodeId, this.epoch]).catch((error: Error) =>
      this.o.logger.warn('cluster: could not give the lease up (its sessions move once it runs out)', { err: error.message }),
    );
    await Promise.allSettled(
      peers
        .filter((n) => n.alive && n.id !== this.nodeId)
        .map((n) => this.post(n.url, 'poke', {}, 1000)),
    );
  }

  health(): { nodeId: string; epoch: number; lease: 'held' | 'lost'; leaseRemainingMs: number } {
    const remaining = Math.max(0, Math.round(this.leaseUntil - performance.now()));
    return { nodeId: this.nodeId, epoch: this.epoch, lease: this.alive && remaining > 0 ? 'held' : 'lost', leaseRemainingMs: this.alive ? remaining : 0 };
  }

  async nodes(): Promise<ClusterNodeInfo[]> {
    const { rows } = await this.o.pool.query<{ node_id: string; url: string; max_sessions: number; renewed_at: number; alive: boolean; sessions: number }>(
      `SELECT n.node_id, n.url, n.max_sessions, n.renewed_at, n.expires_at > ${NOW} AS alive,
        (SELECT count(*) FROM sessions s WHERE s.owner = n.node_id)::int AS sessions
       FROM cluster_nodes n ORDER BY n.node_id`,
    );
    for (const r of rows) this.urls.set(r.node_id, r.url);
    return rows.map((r) => ({ id: r.node_id, url: r.url, alive: r.alive, sessions: r.sessions, maxSessions: r.max_sessions, lastSeen: r.renewed_at }));
  }

  // ---- the lease ----

  private async join(): Promise<void> {
    const client = await this.o.pool.connect();
    let epoch: number;
    const sent = performance.now();
    try {
      await client.query('BEGIN');
      // FOR UPDATE: an earlier run of this node id still writing (its fence's lock) is waited for, then fenced off.
      await client.query('SELECT 1 FROM cluster_nodes WHERE node_id = $1 FOR UPDATE', [this.nodeId]);
      const { rows } = await client.query<{ epoch: number }>(
        `INSERT INTO cluster_nodes (node_id, url, epoch, max_sessions, started_at, renewed_at, expires_at)
         VALUES ($1, $2, 1, $3, ${NOW}, ${NOW}, ${NOW} + $4)
         ON CONFLICT (node_id) DO UPDATE SET url = EXCLUDED.url, epoch = cluster_nodes.epoch + 1, max_sessions = EXCLUDED.max_sessions,
           started_at = EXCLUDED.started_at, renewed_at = EXCLUDED.renewed_at, expires_at = EXCLUDED.expires_at
         RETURNING epoch`,
        [this.nodeId, this.url, this.o.maxSessions, this.o.leaseTtlMs],
      );
      await client.query('COMMIT');
      epoch = rows[0]!.epoch;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    this.epoch = epoch;
    this.o.batch.prelude = `SELECT cluster_fence(${literal(this.nodeId)}, ${epoch})`;
    this.alive = true;
    this.renewed(sent);
    this.o.logger.info('cluster: joined', { nodeId: this.nodeId, epoch, url: this.url });
    // Sessions still held under this node id (a restart within the lease, sticky open-wa sessions): drive them.
    const { rows } = await this.o.pool.query<SessionRowPg>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE owner = $1 ORDER BY created_at`, [this.nodeId]);
    this.o.sessions.adopt(rows.map(stateOf));
  }

  private renewed(sentAt: number): void {
    // Measured from before the renewal left: the database's own expiry is at least this late.
    this.leaseUntil = sentAt + this.o.leaseTtlMs;
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => void this.lost('the lease ran out before it was renewed'), Math.max(0, this.leaseUntil - performance.now()));
    this.watchdog.unref();
  }

  /** The lease is gone (or may be): stop every session at once; its writes are refused by the fence anyway. */
  private async lost(reason: string): Promise<void> {
    if (!this.alive) return;
    this.alive = false;
    this.counters.leaseLost++;
    this.o.logger.warn('cluster: lease lost, sessions stopped here', { nodeId: this.nodeId, epoch: this.epoch, reason });
    await this.o.sessions.release();
  }

  /** One beat: renew (or join again), take orphaned sessions, refresh the view of the others'. */
  tick(): Promise<void> {
    this.follow();
    if (this.ticking || this.stopping) return this.ticking ?? Promise.resolve();
    this.ticking = (async () => {
      try {
        if (!this.alive) await this.join();
        else await this.renew();
        if (!this.alive || this.stopping) return;
        await this.acquire();
        await this.sync();
      } catch (error) {
        this.o.logger.warn('cluster: beat failed', { nodeId: this.nodeId, err: (error as Error).message });
      } finally {
        this.ticking = null;
      }
    })();
    return this.ticking;
  }

  /** The beat's other task (everyBeat): never in the lease's way, so not awaited, and skipped while the last one runs. */
  private follow(): void {
    if (!this.o.everyBeat || this.stopping || this.following) return;
    this.following = this.o
      .everyBeat()
      .catch((error: unknown) => this.o.logger.warn('cluster: beat task failed', { nodeId: this.nodeId, err: String(error) }))
      .finally(() => {
        this.following = null;
      });
  }

  private async renew(): Promise<void> {
    const sent = performance.now();
    const { rowCount } = await this.o.pool.query(
      `UPDATE cluster_nodes SET renewed_at = ${NOW}, expires_at = ${NOW} + $3 WHERE node_id = $1 AND epoch = $2 AND expires_at > ${NOW}`,
      [this.nodeId, this.epoch, this.o.leaseTtlMs],
    );
    if (rowCount === 1) this.renewed(sent);
    else await this.lost('the lease lapsed in the database');
  }

  /**
   * Takes sessions nobody drives: those of nodes whose lease ran out (locked FOR UPDATE, so a write of theirs in
   * flight is waited for), and those without an owner. A fair share each, so the survivors split a dead node's sessions.
   */
  private async acquire(): Promise<void> {
    const room = this.o.maxSessions - this.o.sessions.localCount();
    if (room <= 0) return;
    const client = await this.o.pool.connect();
    let taken: SessionRowPg[] = [];
    try {
      await client.query('BEGIN');
      await client.query(`SELECT cluster_fence($1, $2)`, [this.nodeId, this.epoch]);
      const dead = (await client.query<{ node_id: string }>(`SELECT node_id FROM cluster_nodes WHERE expires_at <= ${NOW} AND node_id <> $1 FOR UPDATE SKIP LOCKED`, [this.nodeId])).rows.map((r) => r.node_id);
      const orphan = `(owner IS NULL OR (owner = ANY($1::text[]) AND (engine <> 'open-wa' OR $2::boolean)))`;
      const params = [dead, this.o.sharedDataDir];
      const { rows: counts } = await client.query<{ orphans: number; live: number }>(
        `SELECT (SELECT count(*) FROM sessions WHERE ${orphan})::int AS orphans, (SELECT count(*) FROM cluster_nodes WHERE expires_at > ${NOW})::int AS live`,
        params,
      );
      const { orphans, live } = counts[0]!;
      if (orphans > 0) {
        const share = Math.min(room, Math.ceil(orphans / Math.max(1, live)));
        taken = (
          await client.query<SessionRowPg>(
            `UPDATE sessions SET owner = $3, owner_epoch = owner_epoch + 1
             WHERE session_id IN (SELECT session_id FROM sessions WHERE ${orphan} ORDER BY created_at LIMIT $4 FOR UPDATE SKIP LOCKED)
             RETURNING ${SESSION_COLUMNS}`,
            [...params, this.nodeId, share],
          )
        ).rows;
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    if (taken.length === 0) return;
    this.counters.acquired += taken.length;
    this.o.logger.info('cluster: sessions acquired', { nodeId: this.nodeId, sessions: taken.map((r) => r.session_id) });
    this.o.sessions.adopt(taken.map(stateOf));
  }

  /** The view of the sessions other nodes drive, from their rows (with --redis-url their events update it in between). */
  private async sync(): Promise<void> {
    const [{ rows }] = await Promise.all([this.o.pool.query<SessionRowPg>(`SELECT ${SESSION_COLUMNS} FROM sessions ORDER BY created_at`), this.nodes()]);
    this.o.sessions.applyRemote(rows.map(stateOf), true);
  }

  // ---- placement and forwarding (ClusterHooks) ----

  async place(): Promise<string[]> {
    const nodes = (await this.nodes()).filter((n) => n.alive);
    const load = (n: ClusterNodeInfo) => n.sessions + (this.placing.get(n.id) ?? 0);
    return nodes
      .filter((n) => load(n) < n.maxSessions)
      .sort((a, b) => load(a) / a.maxSessions - load(b) / b.maxSessions || load(a) - load(b) || (a.id === this.nodeId ? -1 : b.id === this.nodeId ? 1 : a.id.localeCompare(b.id)))
      .map((n) => n.id);
  }

  remoteSession(sessionId: string, engine: EngineKind): EngineSession {
    let remote = this.remotes.get(sessionId);
    if (!remote) {
      remote = remoteEngineSession(sessionId, (id, method, args, spec) => this.forward(id, method, args, spec), engine === 'sandbox');
      this.remotes.set(sessionId, remote);
    }
    return remote;
  }

  async lifecycle(node: string, op: LifecycleOp, sessionId: string, input?: unknown): Promise<SessionView> {
    if (op === 'create') this.placing.set(node, (this.placing.get(node) ?? 0) + 1);
    try {
      let outcome = await this.postTo(node, 'lifecycle', { op, sessionId, input });
      if ('notOwner' in outcome) {
        // It was not run there: ask the database who drives the session now, and go there once.
        const owner = await this.ownerNow(sessionId);
        if (owner === this.nodeId) return (await this.o.sessions.lifecycleHere(op, sessionId, input)) as SessionView;
        if (!owner || owner === node) throw moving(sessionId);
        this.counters.retried++;
        outcome = await this.postTo(owner, 'lifecycle', { op, sessionId, input });
        if ('notOwner' in outcome) throw moving(sessionId);
      }
      if ('error' in outcome) throw fromWireError(outcome.error);
      return outcome.ok as SessionView;
    } finally {
      if (op === 'create') this.placing.set(node, (this.placing.get(node) ?? 1) - 1);
    }
  }

  /** One engine call to the session's owner: batched with the other calls to that node made in this event-loop turn. */
  private async forward(sessionId: string, method: string, args: unknown[], spec: CallSpec): Promise<unknown> {
    const owner = this.o.sessions.ownerOf(sessionId);
    if (!owner) throw moving(sessionId);
    if (owner === this.nodeId) return this.runHere(sessionId, method, args);
    let outcome: CallOutcome;
    try {
      outcome = await this.enqueue(owner, sessionId, method, args);
    } catch (error) {
      // Unknown whether it ran: a read goes once more (to whoever drives the session now), a change never.
      if (spec.mutates) throw unreachable(owner, sessionId, true);
      outcome = await this.retry(sessionId, owner, method, args).catch(() => {
        throw unreachable(owner, sessionId, false);
      });
    }
    if ('notOwner' in outcome) outcome = await this.retry(sessionId, owner, method, args);
    if ('notOwner' in outcome) throw moving(sessionId);
    if ('error' in outcome) throw fromWireError(outcome.error);
    return decode(outcome.ok);
  }

  private async retry(sessionId: string, previous: string, method: string, args: unknown[]): Promise<CallOutcome> {
    const owner = await this.ownerNow(sessionId);
    if (!owner || owner === previous) return { notOwner: true };
    this.counters.retried++;
    if (owner === this.nodeId) {
      try {
        return { ok: encode(await this.runHere(sessionId, method, args)) };
      } catch (error) {
        return { error: toWireError(mapEngineError(error)) };
      }
    }
    return this.enqueue(owner, sessionId, method, args);
  }

  private async ownerNow(sessionId: string): Promise<string | null> {
    const { rows } = await this.o.pool.query<SessionRowPg>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE session_id = $1`, [sessionId]);
    if (rows[0]) this.o.sessions.applyRemote([stateOf(rows[0])]);
    return rows[0]?.owner ?? null;
  }

  private enqueue(node: string, sessionId: string, method: string, args: unknown[]): Promise<CallOutcome> {
    return new Promise((resolve, reject) => {
      let queue = this.queues.get(node);
      if (!queue) {
        queue = [];
        this.queues.set(node, queue);
        setImmediate(() => void this.flush(node));
      }
      queue.push({ sessionId, method, args, resolve, reject });
    });
  }

  private async flush(node: string): Promise<void> {
    const calls = this.queues.get(node) ?? [];
    this.queues.delete(node);
    try {
      const answer = (await this.postTo(node, 'calls', { calls: calls.map((c) => ({ sessionId: c.sessionId, method: c.method, args: encode(c.args) })) })) as unknown as {
        results: CallOutcome[];
      };
      this.counters.forwardedCalls += calls.length;
      calls.forEach((c, i) => c.resolve(answer.results[i] ?? { notOwner: true }));
    } catch (error) {
      for (const c of calls) c.reject(error as Error);
    }
  }

  private async postTo(node: string, what: string, body: unknown): Promise<CallOutcome> {
    let url = this.urls.get(node);
    if (!url) {
      await this.nodes();
      url = this.urls.get(node);
    }
    if (!url) throw new AppError('SESSION_NOT_READY', `Node '${node}' is not known to the cluster`, { node });
    return (await this.post(url, what, body, CALL_TIMEOUT_MS)) as CallOutcome;
  }

  private async post(url: string, what: string, body: unknown, timeoutMs: number): Promise<unknown> {
    this.counters.internalRequests++;
    // fetch (undici) keeps its connections to each node alive between calls.
    const response = await fetch(`${url}${INTERNAL}/${what}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.o.secret ? { [SECRET_HEADER]: this.o.secret } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`node at ${url} answered ${response.status}: ${text.slice(0, 200)}`);
    return text ? JSON.parse(text) : {};
  }

  /** An engine call for a session this node drives; sends go through its send queue (pacing happens at the owner). */
  private async runHere(sessionId: string, method: string, args: unknown[]): Promise<unknown> {
    const spec = callSpec(method);
    if (!spec) throw new AppError('BAD_REQUEST', `'${method}' is not an engine call`, { method });
    const session = this.o.sessions.engineSession(sessionId);
    const run = () => invokeLocal(session, method, args).catch((error: unknown) => Promise.reject(mapEngineError(error)));
    return spec.paced ? this.o.sendQueue().run(sessionId, run) : run();
  }

  // ---- the internal HTTP API (other nodes call it) ----

  isInternalPath(path: string): boolean {
    return path.startsWith(`${INTERNAL}/`);
  }

  async handleInternal(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (req.method !== 'POST') return answer(res, 405, { error: 'POST only' });
    if (this.secretDigest) {
      const given = req.headers[SECRET_HEADER];
      if (typeof given !== 'string' || !timingSafeEqual(digest(given), this.secretDigest)) return answer(res, 401, { error: 'cluster secret required' });
    }
    const body = (await readJson(req, this.o.maxBodyBytes)) as Record<string, unknown> | null;
    if (!body) return answer(res, 400, { error: 'expected a JSON body' });
    const what = path.slice(INTERNAL.length + 1);
    if (what === 'poke') {
      void this.tick();
      return answer(res, 200, {});
    }
    if (what === 'calls') {
      const calls = (Array.isArray(body.calls) ? body.calls : []) as { sessionId: string; method: string; args: unknown }[];
      const results = await Promise.all(
        calls.map(async (c): Promise<CallOutcome> => {
          if (!this.alive || !this.o.sessions.isLocal(c.sessionId) || !this.o.sessions.ownerOf(c.sessionId)) return { notOwner: true };
          try {
            return { ok: encode(await this.runHere(c.sessionId, c.method, decode(c.args) as unknown[])) };
          } catch (error) {
            return { error: toWireError(mapEngineError(error)) };
          }
        }),
      );
      const failed = await this.commitFailure();
      return answer(res, 200, { results: failed ? results.map((r) => ('ok' in r ? { error: failed } : r)) : results });
    }
    if (what === 'lifecycle') {
      const op = body.op as LifecycleOp;
      const sessionId = String(body.sessionId ?? '');
      if (op !== 'create' && (!this.alive || !this.o.sessions.isLocal(sessionId) || !this.o.sessions.ownerOf(sessionId))) return answer(res, 200, { notOwner: true });
      let outcome: CallOutcome;
      try {
        outcome = { ok: await this.o.sessions.lifecycleHere(op, sessionId, body.input) };
      } catch (error) {
        outcome = { error: toWireError(mapEngineError(error)) };
      }
      const failed = await this.commitFailure();
      return answer(res, 200, failed && 'ok' in outcome ? { error: failed } : outcome);
    }
    return answer(res, 404, { error: `no internal route ${path}` });
  }

  /** What the callers of a batch are told when its writes did not commit (they are acknowledged only once committed). */
  private async commitFailure(): Promise<WireError | null> {
    try {
      await this.o.batch.committed();
      return null;
    } catch (error) {
      return toWireError(storeFailureOf(error) ?? error);
    }
  }

  close(): void {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    if (this.watchdog) clearTimeout(this.watchdog);
  }
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function moving(sessionId: string): AppError {
  return new AppError('SESSION_NOT_READY', `Session '${sessionId}' is moving to another node; retry in a moment`, { sessionId, status: 'INITIALIZING' });
}

function unreachable(node: string, sessionId: string, mutates: boolean): AppError {
  return new AppError(
    'ENGINE_ERROR',
    mutates
      ? `The node driving session '${sessionId}' (${node}) did not answer; the call may or may not have run there, so it was not repeated`
      : `The node driving session '${sessionId}' (${node}) did not answer`,
    { sessionId, node },
  );
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.destroy();
        resolve(null);
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        resolve(null);
      }
    });
    req.on('error', () => resolve(null));
  });
}
