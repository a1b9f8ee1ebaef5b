import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError, type EngineContact, type EngineEvent, type EngineKind, type EngineSession, type SessionConfig } from '../engine/engine.js';
import type { EngineRegistry } from '../engine/registry.js';
import { AppError, databaseUnavailableOf, sessionNotFound } from '../errors.js';
import type { BusEvent, EventBus, EventType, QrInfo, SessionStatus } from '../events/bus.js';
import type { Logger } from '../logger.js';
import type { SessionRow, SessionsRepo } from '../store/sessions-repo.js';
import { resolveSessionConfig, validateSessionId, type SessionDefaults } from './session-config.js';

/** What callers see of a session: a snapshot, never the live record. */
export interface SessionView {
  sessionId: string;
  status: SessionStatus;
  engine: EngineKind;
  config: SessionConfig;
  createdAt: number;
  lastActivity: number;
  failureReason: string | null;
  qr: QrInfo | null;
  me: EngineContact | null;
  /** Cluster: the node that drives the session (null outside a cluster, or while it has none). */
  node: string | null;
}

/** What the rows of other nodes' sessions say (the cluster's view of sessions driven elsewhere). */
export interface RemoteSessionState {
  sessionId: string;
  engine: EngineKind;
  config: SessionConfig;
  status: SessionStatus;
  createdAt: number;
  lastActivity: number;
  failureReason: string | null;
  /** The account's id (`<digits>@c.us`). */
  me: string | null;
  node: string | null;
}

export type LifecycleOp = 'create' | 'remove' | 'stop' | 'start' | 'restart' | 'logout' | 'scan';

/** What the SessionManager asks of the cluster (src/cluster/cluster-node.ts); absent outside a cluster. */
export interface ClusterHooks {
  readonly nodeId: string;
  /** The engine session of a session driven by `owner`: its calls go there. */
  remoteSession(sessionId: string, engine: EngineKind): EngineSession;
  /** Runs a lifecycle call at the node that drives the session (create: at the node chosen for it). */
  lifecycle(node: string, op: LifecycleOp, sessionId: string, input?: unknown): Promise<SessionView>;
  /** Live nodes with room for one more session, least loaded first. */
  place(): Promise<string[]>;
}

interface ManagedSession extends SessionView {
  /** Cluster: a session whose row lives on; `node` drives it (not this one). */
  handle: EngineSession | null;
  /** Bumped on every (re)start and on removal, so events of an older run are ignored. */
  generation: number;
  qrTimer: NodeJS.Timeout | null;
  authTimer: NodeJS.Timeout | null;
  /** The next try of a start that met an unreachable database. */
  retryTimer: NodeJS.Timeout | null;
  activityDirty: boolean;
  /** The lifecycle calls (start, stop, restart, logout) of this session, run one after another. */
  lifecycle: Promise<unknown>;
  /** Runs on another node: this record is a view fed by that node's events (applyRemote), never started here. */
  remote: boolean;
  /** A view's: the time of the last status event it followed; a stored row older than that does not set its status back. */
  statusAt: number;
  /** Cluster: when this node took the session from another (0: created here); see followRemoteEvent. */
  adoptedAt: number;
}

export interface SessionManagerOptions {
  repo: SessionsRepo;
  bus: EventBus;
  engines: EngineRegistry;
  logger: Logger;
  dataDir: string;
  maxSessions: number;
  defaults: SessionDefaults;
  waitForQrMs: number;
}

export interface CreateSessionInput {
  sessionId: unknown;
  waitForQR?: boolean | null;
  config?: unknown;
}

const ACTIVITY_FLUSH_MS = 1000;
const STOP_TIMEOUT_MS = 10_000;
// A start that met an unreachable database tries again after 0.5 s, doubling up to 15 s, for as long as it lasts.
const START_RETRY_MS = 500;
const START_RETRY_MAX_MS = 15_000;

/**
 * The lifecycle of every session: INITIALIZING -> QR_READY -> AUTHENTICATED -> READY, FAILED, TERMINATED
 * (stopped: kept with its config, webhooks and history, and not started again until asked).
 */
export class SessionManager {
  private readonly sessions = new Map<string, ManagedSession>();
  private readonly pendingWrites = new Set<Promise<unknown>>();
  private flushTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private changes = 0;
  private cluster: ClusterHooks | null = null;

  constructor(private readonly o: SessionManagerOptions) {}

  /** Cluster mode: init() then starts nothing; the cluster adopts the sessions this node acquires. */
  attachCluster(cluster: ClusterHooks): void {
    this.cluster = cluster;
  }

  /** True when this process drives the session (always outside a cluster). */
  isLocal(sessionId: string): boolean {
    const ms = this.sessions.get(sessionId);
    if (ms?.remote) return false;
    return !this.cluster || (ms !== undefined && ms.node === this.cluster.nodeId);
  }

  /** The node that drives a session (null: unknown, or outside a cluster). */
  ownerOf(sessionId: string): string | null {
    return this.sessions.get(sessionId)?.node ?? null;
  }

  /** Sessions this node drives (all of them outside a cluster). */
  localCount(): number {
    let n = 0;
    for (const ms of this.sessions.values()) if (!ms.remote && (!this.cluster || ms.node === this.cluster.nodeId)) n++;
    return n;
  }

  /**
   * Cluster: this node acquired these sessions (a lease in the database says so): start them, except the
   * stopped ones, which it keeps TERMINATED.
   */
  adopt(rows: RemoteSessionState[]): void {
    const self = this.cluster?.nodeId ?? null;
    for (const row of rows) {
      let ms = this.sessions.get(row.sessionId);
      if (ms && ms.node === self && (ms.handle || ms.status !== 'TERMINATED')) continue;
      if (!ms) {
        ms = this.record({ sessionId: row.sessionId, engine: row.engine, config: row.config, createdAt: row.createdAt, lastActivity: row.lastActivity, me: null });
        this.sessions.set(row.sessionId, ms);
      }
      ms.node = self;
      ms.adoptedAt = Date.now();
      this.changes++;
      if (row.status === 'TERMINATED') {
        ms.status = 'TERMINATED';
        ms.qr = null;
        continue;
      }
      void this.launch(ms);
    }
  }

  /**
   * Cluster: stop driving sessions (all this node drives when `ids` is absent) without writing anything for them:
   * the lease lapsed (its writes are refused anyway) or the node hands them over. They stay listed as last known.
   */
  async release(ids?: string[]): Promise<void> {
    const self = this.cluster?.nodeId;
    const targets = ids ? ids.map((id) => this.sessions.get(id)).filter((ms): ms is ManagedSession => ms !== undefined) : [...this.sessions.values()];
    await Promise.allSettled(
      targets
        .filter((ms) => ms.node === self)
        .map(async (ms) => {
          ms.generation++;
          this.clearTimers(ms);
          ms.qr = null;
          ms.node = null;
          ms.activityDirty = false;
          this.changes++;
          const handle = ms.handle;
          ms.handle = null;
          if (handle) await withTimeout(handle.stop(), STOP_TIMEOUT_MS);
        }),
    );
  }

  /**
   * Cluster: the state of the sessions driven elsewhere, as their rows (or, later, the cluster's events) tell it.
   * `complete`: `states` is every session there is, so one missing was removed.
   */
  applyRemote(states: RemoteSessionState[], complete = false): void {
    const self = this.cluster?.nodeId;
    const seen = complete ? new Set<string>() : null;
    for (const st of states) {
      seen?.add(st.sessionId);
      let ms = this.sessions.get(st.sessionId);
      if (ms && ms.node === self && self !== undefined) continue;
      if (st.node === self) continue; // acquired by this node: adopt() starts it
      if (!ms) {
        ms = this.record({ sessionId: st.sessionId, engine: st.engine, config: st.config, createdAt: st.createdAt, lastActivity: st.lastActivity, me: null });
        this.sessions.set(st.sessionId, ms);
        this.changes++;
      }
      if (ms.node !== st.node) {
        ms.node = st.node;
        this.changes++;
      }
      // A row read before the write of a status event this view already followed would set it back until the next beat.
      if (st.lastActivity < ms.statusAt) continue;
      if (ms.status !== st.status || ms.failureReason !== st.failureReason || ms.lastActivity < st.lastActivity || (ms.me?.id ?? null) !== st.me) {
        ms.status = st.status;
        ms.failureReason = st.failureReason;
        ms.lastActivity = Math.max(ms.lastActivity, st.lastActivity);
        ms.me = st.me ? (ms.me?.id === st.me ? ms.me : { id: st.me, name: null, pushname: null, isMyContact: false, isWAContact: true }) : null;
        if (st.status !== 'QR_READY') ms.qr = null;
        this.changes++;
      }
    }
    if (seen) {
      for (const [id, ms] of this.sessions) {
        if (!seen.has(id) && ms.node !== self && !ms.handle) {
          this.sessions.delete(id);
          this.changes++;
        }
      }
    }
  }

  /** Runs a lifecycle call that another node forwarded here (this node drives the session, or was chosen for it). */
  async lifecycleHere(op: LifecycleOp, sessionId: string, input?: unknown): Promise<SessionView | { removed: true }> {
    switch (op) {
      case 'create':
        return this.createHere(input as CreateSessionInput);
      case 'remove':
        await this.remove(sessionId);
        return { removed: true };
      case 'stop':
        return this.stop(sessionId);
      case 'start':
        return this.start(sessionId);
      case 'restart':
        return this.restart(sessionId);
      case 'logout':
        return this.logout(sessionId);
      case 'scan':
        return this.sandboxScan(sessionId);
    }
  }

  /** A session driven by another node: its lifecycle call goes there, and its answer updates the view here. */
  private elsewhere(ms: ManagedSession): string | null {
    if (!this.cluster || ms.node === this.cluster.nodeId) return null;
    if (!ms.node) {
      throw new AppError('SESSION_NOT_READY', `Session '${ms.sessionId}' is moving to another node; retry in a moment`, { sessionId: ms.sessionId, status: ms.status });
    }
    return ms.node;
  }

  private async forwardLifecycle(ms: ManagedSession, node: string, op: LifecycleOp): Promise<SessionView> {
    const answer = await this.cluster!.lifecycle(node, op, ms.sessionId);
    this.applyRemote([{ ...answer, me: answer.me?.id ?? null }]);
    return answer;
  }

  /** Load every persisted session and start it again, except those that were stopped. */
  async init(): Promise<void> {
    if (this.cluster) {
      const rows = await this.o.repo.all();
      this.applyRemote(rows.map(remoteStateOf).filter((st) => st.node !== this.cluster!.nodeId));
      this.flushTimer = setInterval(() => this.flushActivity(), ACTIVITY_FLUSH_MS);
      this.flushTimer.unref();
      return;
    }
    const stopped = new Set<ManagedSession>();
    for (const row of await this.o.repo.all()) {
      const ms = this.record({
        sessionId: row.sessionId,
        engine: row.config.engine,
        config: row.config,
        createdAt: row.createdAt,
        lastActivity: row.lastActivity,
        me: null,
      });
      if (row.status === 'TERMINATED') {
        ms.status = 'TERMINATED';
        stopped.add(ms);
      }
      this.sessions.set(ms.sessionId, ms);
      this.changes++;
    }
    for (const ms of this.sessions.values()) if (!stopped.has(ms)) void this.launch(ms);
    this.flushTimer = setInterval(() => this.flushActivity(), ACTIVITY_FLUSH_MS);
    this.flushTimer.unref();
  }

  /**
   * Changes whenever anything a SessionView shows may have changed (a session added or removed, its status, QR,
   * account or last activity), so an answer made only of views can be reused while it stays the same.
   */
  get version(): number {
    return this.changes;
  }

  list(): SessionView[] {
    return [...this.sessions.values()].map(view);
  }

  get(sessionId: string): SessionView | null {
    const ms = this.sessions.get(sessionId);
    return ms ? view(ms) : null;
  }

  count(): number {
    return this.sessions.size;
  }


  countByStatus(): Record<SessionStatus, number> {
    const out: Record<SessionStatus, number> = { INITIALIZING: 0, QR_READY: 0, AUTHENTICATED: 0, READY: 0, FAILED: 0, TERMINATED: 0 };
    for (const ms of this.sessions.values()) out[ms.status]++;
    return out;
  }

  /** The session or SESSION_NOT_FOUND; marks it used. */
  require(sessionId: string): SessionView {
    return view(this.use(sessionId));
  }

  /** The live engine session of a READY session, or SESSION_NOT_READY; in a cluster, its owner's through internal calls. */
  engineSession(sessionId: string): EngineSession {
    const ms = this.use(sessionId);
    if (this.cluster && ms.node !== this.cluster.nodeId) {
      // The owner decides whether it is READY (this node's view of it may be a moment old).
      if (this.elsewhere(ms)) return this.cluster.remoteSession(sessionId, ms.engine);
    }
    if (ms.status !== 'READY' || !ms.handle) {
      throw new AppError('SESSION_NOT_READY', `Session '${sessionId}' is not ready (status ${ms.status.toLowerCase()})`, {
        sessionId,
        status: ms.status,
      });
    }
    return ms.handle;
  }

  private use(sessionId: string): ManagedSession {
    const ms = this.sessions.get(sessionId);
    if (!ms) throw sessionNotFound(sessionId);
    this.touch(ms, Date.now());
    return ms;
  }

  async create(input: CreateSessionInput): Promise<SessionView> {
    if (!this.cluster) return this.createHere(input);
    const sessionId = validateSessionId(input.sessionId);
    resolveSessionConfig(input.config, this.o.defaults);
    if (this.sessions.has(sessionId)) {
      throw new AppError('SESSION_ALREADY_EXISTS', `Session with ID '${sessionId}' already exists`, { sessionId });
    }
    // The least-loaded live node with room; one that filled up meanwhile says so, and the next is tried.
    for (const node of await this.cluster.place()) {
      try {
        if (node === this.cluster.nodeId) return await this.createHere(input);
        const created = await this.cluster.lifecycle(node, 'create', sessionId, input);
        this.applyRemote([{ ...created, me: created.me?.id ?? null }]);
        return created;
      } catch (error) {
        if ((error as AppError).code !== 'MAX_SESSIONS_REACHED') throw error;
      }
    }
    throw new AppError('MAX_SESSIONS_REACHED', 'Every node of the cluster holds its maximum of sessions (--max-sessions per node)', { maxSessions: this.o.maxSessions });
  }

  /** Creates the session on this node (in a cluster: the node chosen for it). */
  private async createHere(input: CreateSessionInput): Promise<SessionView> {
    const sessionId = validateSessionId(input.sessionId);
    const config = resolveSessionConfig(input.config, this.o.defaults);
    if (this.sessions.has(sessionId)) {
      throw new AppError('SESSION_ALREADY_EXISTS', `Session with ID '${sessionId}' already exists`, { sessionId });
    }
    if (this.localCount() >= this.o.maxSessions) {
      throw new AppError('MAX_SESSIONS_REACHED', `The server holds its maximum of ${this.o.maxSessions} sessions`, {
        maxSessions: this.o.maxSessions,
      });
    }
    const now = Date.now();
    const ms = this.record({ sessionId, engine: config.engine, config, createdAt: now, lastActivity: now, me: null });
    ms.node = this.cluster?.nodeId ?? null;
    // Reserve the id before the first await so concurrent creates see it.
    this.sessions.set(sessionId, ms);
    this.changes++;
    try {
      await this.o.repo.insert({
        sessionId,
        engine: config.engine,
        status: ms.status,
        config,
        createdAt: now,
        lastActivity: now,
        failureReason: null,
        me: null,
        owner: ms.node,
      });
    } catch (error) {
      this.sessions.delete(sessionId);
      this.changes++;
      // In a cluster another node may have created the same id a moment ago (its row is not in this view yet).
      if ((error as { code?: unknown }).code === '23505') throw new AppError('SESSION_ALREADY_EXISTS', `Session with ID '${sessionId}' already exists`, { sessionId });
      throw error;
    }
    const settled = input.waitForQR ? this.waitFor(sessionId, (s) => s !== 'INITIALIZING') : null;
    void this.launch(ms);
    if (settled) await settled;
    return view(this.sessions.get(sessionId) ?? ms);
  }

  /** Resolves once the session's status passes `done`, it is removed, or waitForQrMs runs out. */
  private waitFor(sessionId: string, done: (status: SessionStatus) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(finish, this.o.waitForQrMs);
      const off = this.o.bus.listen(sessionId, (event) => {
        if (event.type === 'STATUS' && (done(event.status) || event.status === 'TERMINATED')) finish();
      });
      function finish() {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
  }

  async remove(sessionId: string): Promise<void> {
    const ms = this.sessions.get(sessionId);
    if (!ms) throw sessionNotFound(sessionId);
    const node = this.elsewhere(ms);
    if (node) {
      await this.cluster!.lifecycle(node, 'remove', sessionId);
      if (this.sessions.get(sessionId) === ms) {
        this.sessions.delete(sessionId);
        this.changes++;
      }
      return;
    }
    if (ms.remote) throw elsewhere(ms);
    ms.generation++;
    this.clearTimers(ms);
    const handle = ms.handle;
    ms.handle = null;
    ms.qr = null;
    this.setStatus(ms, 'TERMINATED', null, { removed: true });
    this.sessions.delete(sessionId);
    this.changes++;
    if (handle) await withTimeout(handle.logout(), STOP_TIMEOUT_MS).catch((e) => this.o.logger.warn('logout failed', { sessionId, err: String(e) }));
    const engine = this.o.engines.get(ms.engine);
    await engine.forget?.(sessionId);
    await this.track(this.o.repo.delete(sessionId));
    await rm(this.sessionDir(sessionId), { recursive: true, force: true });
  }

  /** Stops the engine; the session stays listed as TERMINATED (also across server restarts) until started again. */
  stop(sessionId: string): Promise<SessionView> {
    return this.lifecycleCall(sessionId, async (ms) => {
      if (ms.status === 'TERMINATED') throw wrongState(ms, 'stop', 'it is already stopped');
      await this.halt(ms, 'stop');
      this.terminate(ms, 'Session has been stopped');
    }, 'stop');
  }

  /** Starts a TERMINATED or FAILED session; answers once it shows a QR, is READY or FAILED (or waitForQrMs ran out). */
  start(sessionId: string): Promise<SessionView> {
    return this.lifecycleCall(sessionId, async (ms) => {
      if (ms.status !== 'TERMINATED' && ms.status !== 'FAILED') throw wrongState(ms, 'start', 'it is running');
      await this.launchSettled(ms);
    }, 'start');
  }

  /** Stops the session if it runs, then starts it; answers like start. */
  restart(sessionId: string): Promise<SessionView> {
    return this.lifecycleCall(sessionId, async (ms) => {
      await this.halt(ms, 'stop');
      await this.launchSettled(ms);
    }, 'restart');
  }

  /** Forgets the session's login (its next start shows a QR) and leaves it TERMINATED; config, webhooks and history stay. */
  logout(sessionId: string): Promise<SessionView> {
    return this.lifecycleCall(sessionId, async (ms) => {
      await this.halt(ms, 'logout');
      await this.o.engines.get(ms.engine).forgetLogin?.({ sessionId: ms.sessionId, dataDir: this.sessionDir(ms.sessionId) });
      ms.me = null;
      if (ms.status !== 'TERMINATED') this.terminate(ms, 'Session has been logged out');
      else this.changes++;
    }, 'logout');
  }

  /**
   * TERMINATED after a stop or logout. A session that was up also says `disconnected` (with `reason`): the event
   * the legacy /ws socket and webhooks of the REST reference know; TERMINATED itself is a status change.
   */
  private terminate(ms: ManagedSession, reason: string): void {
    if (ms.status !== 'FAILED') this.o.bus.publish({ type: 'DISCONNECTED', sessionId: ms.sessionId, at: Date.now(), reason });
    this.setStatus(ms, 'TERMINATED', null);
  }

  /** Runs `fn` after the session's earlier lifecycle calls; SESSION_NOT_FOUND when it does not exist (then or by its turn). */
  private lifecycleCall(sessionId: string, fn: (ms: ManagedSession) => Promise<void>, op?: LifecycleOp): Promise<SessionView> {
    const ms = this.use(sessionId);
    const node = op ? this.elsewhere(ms) : null;
    if (node) return this.forwardLifecycle(ms, node, op!);
    if (ms.remote) return Promise.reject(elsewhere(ms));
    const run = ms.lifecycle.then(async () => {
      if (this.sessions.get(sessionId) !== ms) throw sessionNotFound(sessionId);
      await fn(ms);
      return view(ms);
    });
    ms.lifecycle = run.catch(() => undefined);
    return run;
  }

  /** Stops (or logs out) the running engine, if any, ignoring its later events; the status is left to the caller. */
  private async halt(ms: ManagedSession, how: 'stop' | 'logout'): Promise<void> {
    ms.generation++;
    this.clearTimers(ms);
    ms.qr = null;
    const handle = ms.handle;
    ms.handle = null;
    if (!handle) return;
    await withTimeout(how === 'logout' ? handle.logout() : handle.stop(), STOP_TIMEOUT_MS).catch((e) =>
      this.o.logger.warn(`${how} failed`, { sessionId: ms.sessionId, err: String(e) }),
    );
  }

  private async launchSettled(ms: ManagedSession): Promise<void> {
    const settled = this.waitFor(ms.sessionId, (s) => s === 'QR_READY' || s === 'READY' || s === 'FAILED');
    void this.launch(ms);
    await settled;
  }

  async sandboxScan(sessionId: string): Promise<SessionView> {
    const ms = this.use(sessionId);
    const node = this.elsewhere(ms);
    if (node) return this.forwardLifecycle(ms, node, 'scan');
    if (ms.remote) throw elsewhere(ms);
    if (ms.engine !== 'sandbox') {
      throw new AppError('ENGINE_UNSUPPORTED', `Session '${sessionId}' does not run on the sandbox engine`, { sessionId, engine: ms.engine });
    }
    const controls = ms.handle?.sandbox;
    if (ms.status !== 'QR_READY' || !controls) {
      throw new AppError('INVALID_SESSION_STATE', `Session '${sessionId}' has no QR code to scan (status ${ms.status.toLowerCase()})`, {
        sessionId,
        status: ms.status,
      });
    }
    try {
      await controls.scanQr();
    } catch (error) {
      throw mapEngineError(error);
    }
    return view(ms);
  }

  /** A pairing code for a session waiting for its login (QR_READY): the phone enters it instead of scanning. */
  async pairingCode(sessionId: string, phoneNumber: string): Promise<string> {
    const ms = this.use(sessionId);
    const digits = phoneNumber.replace(/[\s+()-]/g, '');
    if (!/^[1-9]\d{4,19}$/.test(digits)) {
      throw new AppError('VALIDATION_ERROR', 'phoneNumber must be a phone number in international format (country code first, digits only)', { field: 'phoneNumber' });
    }
    if (ms.status !== 'QR_READY' || !ms.handle) {
      throw new AppError('INVALID_SESSION_STATE', `Session '${sessionId}' is not waiting for a login (status ${ms.status.toLowerCase()})`, { sessionId, status: ms.status });
    }
    try {
      return await ms.handle.requestPairingCode(digits);
    } catch (error) {
      throw mapEngineError(error);
    }
  }

  /** Sandbox: enter a pairing code on the "phone", which logs the session in like a scan. */
  async sandboxEnterPairingCode(sessionId: string, code: string): Promise<SessionView> {
    const ms = this.use(sessionId);
    if (ms.engine !== 'sandbox') {
      throw new AppError('ENGINE_UNSUPPORTED', `Session '${sessionId}' does not run on the sandbox engine`, { sessionId, engine: ms.engine });
    }
    const controls = ms.handle?.sandbox;
    if (ms.status !== 'QR_READY' || !controls) {
      throw new AppError('INVALID_SESSION_STATE', `Session '${sessionId}' is not waiting for a login (status ${ms.status.toLowerCase()})`, { sessionId, status: ms.status });
    }
    try {
      await controls.enterPairingCode(code);
    } catch (error) {
      throw mapEngineError(error);
    }
    return view(ms);
  }

  /** True when this node has a record of the session, local or remote. */
  knows(sessionId: string): boolean {
    return this.sessions.has(sessionId);
  }

  /** A record of a session another node runs (or that no node runs now): fed by its events, never started here. */
  private isView(ms: ManagedSession): boolean {
    return ms.remote || (this.cluster !== null && ms.node !== this.cluster.nodeId);
  }

  /**
   * Adds a session that runs on another node, as its stored row says, to this node's view (listed, subscribable,
   * never started here). False when the store does not have it. Its later events come through followRemoteEvent.
   * In a cluster the view names the owner from the row, so calls and lifecycle go there (the beat's sync would
   * add it too, a moment later).
   */
  async adoptRemote(sessionId: string): Promise<boolean> {
    if (this.sessions.has(sessionId)) return true;
    const row = await this.o.repo.get(sessionId);
    if (!row || this.closed) return false;
    if (this.sessions.has(sessionId)) return true;
    if (this.cluster) {
      this.applyRemote([remoteStateOf(row)]);
      return this.sessions.has(sessionId);
    }
    const me: EngineContact | null = row.me ? { id: row.me, name: null, pushname: null, isMyContact: false, isWAContact: true } : null;
    const ms = this.record({ sessionId, engine: row.config.engine, config: row.config, createdAt: row.createdAt, lastActivity: row.lastActivity, me });
    ms.remote = true;
    ms.status = row.status as SessionStatus;
    ms.failureReason = row.failureReason;
    this.sessions.set(sessionId, ms);
    this.changes++;
    return true;
  }

  /**
   * Another node's event of a session this node holds as a view: the view follows it (status, QR, account,
   * activity); nothing is stored, the owner did that. Answers whether the event is passed on to this node's bus.
   * In a cluster, an event of a session this node drives is passed on only when it was made before this node took
   * the session (the former owner's last events, appended as it handed over); one made later comes from a node
   * that lost the session and did not know it yet (its writes were refused), and is not.
   */
  followRemoteEvent(event: BusEvent): boolean {
    const ms = this.sessions.get(event.sessionId);
    if (!ms) return true;
    if (!this.isView(ms)) return !this.cluster || event.at < ms.adoptedAt;
    switch (event.type) {
      case 'STATUS':
        if (event.removed) {
          this.sessions.delete(event.sessionId);
          break;
        }
        ms.status = event.status;
        ms.failureReason = event.status === 'FAILED' ? event.reason : null;
        if (event.status !== 'QR_READY') ms.qr = null;
        ms.lastActivity = Math.max(ms.lastActivity, event.at);
        ms.statusAt = Math.max(ms.statusAt, event.at);
        break;
      case 'QR':
        ms.qr = event.qr;
        break;
      case 'READY':
        ms.me = event.me;
        break;
      case 'MESSAGE':
        ms.lastActivity = Math.max(ms.lastActivity, event.at);
        break;
      default:
        return true;
    }
    this.changes++;
    return true;
  }

  /** Stop every session for shutdown, keeping their persisted state so the next start restores them. */
  async stopAll(): Promise<void> {
    this.closed = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    await Promise.allSettled(
      [...this.sessions.values()].filter((ms) => !this.cluster || ms.node === this.cluster.nodeId).map(async (ms) => {
        ms.generation++;
        this.clearTimers(ms);
        const handle = ms.handle;
        ms.handle = null;
        if (handle) await withTimeout(handle.stop(), STOP_TIMEOUT_MS);
      }),
    );
    this.flushActivity();
    await Promise.allSettled([...this.pendingWrites]);
  }

  private record(base: Pick<SessionView, 'sessionId' | 'engine' | 'config' | 'createdAt' | 'lastActivity' | 'me'>): ManagedSession {
    // Listed field by field, not spread: V8 gave spread copies a map of their own (92 maps for 100 sessions in the
    // bench), which made every read of a session in a list a megamorphic lookup.
    return {
      sessionId: base.sessionId,
      engine: base.engine,
      config: base.config,
      createdAt: base.createdAt,
      lastActivity: base.lastActivity,
      me: base.me,
      status: 'INITIALIZING',
      failureReason: null,
      qr: null,
      node: null,
      handle: null,
      generation: 0,
      qrTimer: null,
      authTimer: null,
      retryTimer: null,
      activityDirty: false,
      lifecycle: Promise.resolve(),
      remote: false,
      statusAt: 0,
      adoptedAt: 0,
    };
  }

  private sessionDir(sessionId: string): string {
    return join(this.o.dataDir, 'sessions', sessionId);
  }

  private async launch(ms: ManagedSession, attempt = 0): Promise<void> {
    const generation = ++ms.generation;
    this.clearTimers(ms);
    ms.qr = null;
    this.setStatus(ms, 'INITIALIZING', null);
    try {
      const handle = await this.o.engines.get(ms.engine).start(
        { sessionId: ms.sessionId, config: ms.config, dataDir: this.sessionDir(ms.sessionId) },
        (event) => {
          if (ms.generation === generation && !this.closed) this.onEngineEvent(ms, event);
        },
      );
      // Stopped meanwhile, or the server is shutting down (a start that came in during stopAll).
      if (ms.generation !== generation || this.closed) {
        await handle.stop().catch(() => undefined);
        return;
      }
      ms.handle = handle;
    } catch (error) {
      if (ms.generation !== generation) return;
      // A database that did not answer (down a moment, or slow to connect under load) is no reason to give the
      // session up: it stays INITIALIZING, says why, and starts again once the database answers.
      if (databaseUnavailableOf(error) && !this.closed) {
        const delay = Math.min(START_RETRY_MAX_MS, START_RETRY_MS * 2 ** attempt);
        this.o.logger.warn('session start: database unreachable, trying again', { sessionId: ms.sessionId, delayMs: delay, err: (error as Error).message });
        this.setStatus(ms, 'INITIALIZING', `database unreachable while starting (${(error as Error).message}); trying again in ${delay} ms`);
        ms.retryTimer = setTimeout(() => {
          ms.retryTimer = null;
          if (ms.generation === generation && !this.closed) void this.launch(ms, attempt + 1);
        }, delay);
        return;
      }
      this.fail(ms, `engine failed to start: ${(error as Error).message}`);
    }
  }

  private onEngineEvent(ms: ManagedSession, event: EngineEvent): void {
    const at = Date.now();
    const sessionId = ms.sessionId;
    switch (event.type) {
      case 'qr': {
        ms.qr = { dataUrl: event.dataUrl, expiresAt: event.expiresAt };
        this.changes++;
        if (ms.status !== 'QR_READY') {
          this.setStatus(ms, 'QR_READY', null);
          ms.qrTimer ??= setTimeout(() => this.fail(ms, 'QR code not scanned in time'), ms.config.qrTimeout * 1000);
        }
        this.o.bus.publish({ type: 'QR', sessionId, at, qr: ms.qr });
        return;
      }
      case 'authenticated': {
        this.clearTimers(ms);
        ms.qr = null;
        this.setStatus(ms, 'AUTHENTICATED', null);
        this.o.bus.publish({ type: 'AUTHENTICATED', sessionId, at });
        ms.authTimer = setTimeout(() => this.fail(ms, 'authentication did not complete in time'), ms.config.authTimeout * 1000);
        return;
      }
      case 'ready': {
        this.clearTimers(ms);
        ms.me = event.me;
        this.changes++;
        this.setStatus(ms, 'READY', null, { me: event.me.id });
        this.o.bus.publish({ type: 'READY', sessionId, at, me: event.me });
        return;
      }
      case 'message':
        this.touch(ms, at);
        this.o.bus.publish({ type: 'MESSAGE', sessionId, at, message: event.message });
        return;
      case 'disconnected':
        this.clearTimers(ms);
        this.o.bus.publish({ type: 'DISCONNECTED', sessionId, at, reason: event.reason });
        this.setStatus(ms, 'INITIALIZING', event.reason);
        return;
      case 'failed':
        this.fail(ms, event.reason);
        return;
      case 'poll_vote':
      case 'ack':
      case 'group_join':
      case 'group_leave':
      case 'group_promote':
      case 'group_demote':
      case 'reaction':
      case 'message_revoked':
      case 'message_edited':
      case 'presence':
      case 'group_update': {
        // These carry the engine's payload as it is: only the type's spelling changes.
        const { type, ...payload } = event;
        this.o.bus.publish({ type: forwardedEventTypes[type], sessionId, at, ...payload } as BusEvent);
        return;
      }
      case 'call':
        this.o.bus.publish({ type: 'CALL', sessionId, at, call: event.call });
        if (ms.config.rejectCalls && ms.handle) {
          const message = ms.config.rejectCallsMessage ?? null;
          ms.handle.accountAction({ kind: 'rejectCall', callId: event.call.id, message }).catch((e: unknown) => {
            // open-wa rejects by itself when rejectCalls is set (its autoReject); others log why they could not.
            if (!(e instanceof EngineError && e.code === 'ENGINE_UNSUPPORTED')) this.o.logger.warn('rejecting a call failed', { sessionId, err: String(e) });
          });
        }
        return;
    }
  }

  private fail(ms: ManagedSession, reason: string): void {
    if (ms.status === 'FAILED' || ms.status === 'TERMINATED') return;
    ms.generation++;
    this.clearTimers(ms);
    ms.qr = null;
    const handle = ms.handle;
    ms.handle = null;
    this.setStatus(ms, 'FAILED', reason);
    this.o.logger.warn('session failed', { sessionId: ms.sessionId, reason });
    if (handle) void withTimeout(handle.stop(), STOP_TIMEOUT_MS).catch((e) => this.o.logger.warn('stop failed', { sessionId: ms.sessionId, err: String(e) }));
  }

  /** `removed`: the session's last event (removeSession), which is not stored and ends its subscriptions and webhooks. */
  private setStatus(ms: ManagedSession, status: SessionStatus, reason: string | null, extra: { me?: string; removed?: true } = {}): void {
    const at = Date.now();
    ms.status = status;
    ms.failureReason = status === 'FAILED' ? reason : null;
    ms.lastActivity = at;
    this.changes++;
    ms.activityDirty = false;
    if (!extra.removed) {
      void this.track(
        this.o.repo.update(ms.sessionId, { status, failureReason: ms.failureReason, lastActivity: at, ...(extra.me ? { me: extra.me } : {}) }),
      );
    }
    const event: BusEvent = extra.removed
      ? { type: 'STATUS', sessionId: ms.sessionId, at, status, reason, removed: true }
      : { type: 'STATUS', sessionId: ms.sessionId, at, status, reason };
    this.o.bus.publish(event);
  }

  private touch(ms: ManagedSession, at: number): void {
    if (ms.lastActivity !== at) this.changes++;
    ms.lastActivity = at;
    ms.activityDirty = true;
  }

  private clearTimers(ms: ManagedSession): void {
    if (ms.qrTimer) clearTimeout(ms.qrTimer);
    if (ms.authTimer) clearTimeout(ms.authTimer);
    if (ms.retryTimer) clearTimeout(ms.retryTimer);
    ms.qrTimer = null;
    ms.authTimer = null;
    ms.retryTimer = null;
  }

  private flushActivity(): void {
    for (const ms of this.sessions.values()) {
      // A remote view's activity is stored by its owner; in a cluster only the owner writes a session's row.
      if (!ms.activityDirty || ms.remote) continue;
      if (this.cluster && ms.node !== this.cluster.nodeId) {
        ms.activityDirty = false;
        continue;
      }
      ms.activityDirty = false;
      void this.track(this.o.repo.update(ms.sessionId, { lastActivity: ms.lastActivity }));
    }
  }

  private track<T>(promise: Promise<T>): Promise<T | undefined> {
    const tracked = promise.catch((error: unknown) => {
      this.o.logger.error('session store write failed', { err: String(error) });
      return undefined;
    });
    this.pendingWrites.add(tracked);
    void tracked.finally(() => this.pendingWrites.delete(tracked));
    return tracked;
  }
}

/** Engine events that reach the bus unchanged but for the spelling of their type. */
const forwardedEventTypes = {
  poll_vote: 'POLL_VOTE',
  ack: 'ACK',
  group_join: 'GROUP_JOIN',
  group_leave: 'GROUP_LEAVE',
  group_promote: 'GROUP_PROMOTE',
  group_demote: 'GROUP_DEMOTE',
  reaction: 'REACTION',
  message_revoked: 'MESSAGE_REVOKED',
  message_edited: 'MESSAGE_EDITED',
  presence: 'PRESENCE',
  group_update: 'GROUP_UPDATE',
} as const satisfies Partial<Record<EngineEvent['type'], EventType>>;

function remoteStateOf(row: SessionRow): RemoteSessionState {
  return {
    sessionId: row.sessionId,
    engine: row.config.engine,
    config: row.config,
    status: row.status as SessionStatus,
    createdAt: row.createdAt,
    lastActivity: row.lastActivity,
    failureReason: row.failureReason,
    me: row.me,
    node: row.owner ?? null,
  };
}

function view(ms: ManagedSession): SessionView {
  return {
    sessionId: ms.sessionId,
    status: ms.status,
    engine: ms.engine,
    config: ms.config,
    createdAt: ms.createdAt,
    lastActivity: ms.lastActivity,
    failureReason: ms.failureReason,
    qr: ms.status === 'QR_READY' ? ms.qr : null,
    me: ms.me,
    node: ms.node,
  };
}

/** A call that only the node running the session can make (the cluster's routing forwards it there). */
function elsewhere(ms: ManagedSession): AppError {
  return new AppError('INVALID_SESSION_STATE', `Session '${ms.sessionId}' runs on another node`, { sessionId: ms.sessionId, status: ms.status });
}

function wrongState(ms: ManagedSession, action: string, why: string): AppError {
  return new AppError('INVALID_SESSION_STATE', `Cannot ${action} session '${ms.sessionId}': ${why} (status ${ms.status.toLowerCase()})`, {
    sessionId: ms.sessionId,
    status: ms.status,
  });
}

/** Engine errors become the matching AppError; anything else is passed on (and masked as internal). */
export function mapEngineError(error: unknown): unknown {
  if (error instanceof EngineError) return new AppError(error.code, error.message, error.details);
  return error;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
