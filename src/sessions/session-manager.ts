import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError, type EngineContact, type EngineEvent, type EngineKind, type EngineSession, type SessionConfig } from '../engine/engine.js';
import type { EngineRegistry } from '../engine/registry.js';
import { AppError, sessionNotFound } from '../errors.js';
import type { BusEvent, EventBus, QrInfo, SessionStatus } from '../events/bus.js';
import type { Logger } from '../logger.js';
import type { SessionsRepo } from '../store/sessions-repo.js';
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
}

interface ManagedSession extends SessionView {
  handle: EngineSession | null;
  /** Bumped on every (re)start and on removal, so events of an older run are ignored. */
  generation: number;
  qrTimer: NodeJS.Timeout | null;
  authTimer: NodeJS.Timeout | null;
  activityDirty: boolean;
  /** The lifecycle calls (start, stop, restart, logout) of this session, run one after another. */
  lifecycle: Promise<unknown>;
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

  constructor(private readonly o: SessionManagerOptions) {}

  /** Load every persisted session and start it again, except those that were stopped. */
  async init(): Promise<void> {
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

  /** The live engine session of a READY session, or SESSION_NOT_READY. */
  engineSession(sessionId: string): EngineSession {
    const ms = this.use(sessionId);
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
    const sessionId = validateSessionId(input.sessionId);
    const config = resolveSessionConfig(input.config, this.o.defaults);
    if (this.sessions.has(sessionId)) {
      throw new AppError('SESSION_ALREADY_EXISTS', `Session with ID '${sessionId}' already exists`, { sessionId });
    }
    if (this.sessions.size >= this.o.maxSessions) {
      throw new AppError('MAX_SESSIONS_REACHED', `The server holds its maximum of ${this.o.maxSessions} sessions`, {
        maxSessions: this.o.maxSessions,
      });
    }
    const now = Date.now();
    const ms = this.record({ sessionId, engine: config.engine, config, createdAt: now, lastActivity: now, me: null });
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
      });
    } catch (error) {
      this.sessions.delete(sessionId);
      this.changes++;
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
    });
  }

  /** Starts a TERMINATED or FAILED session; answers once it shows a QR, is READY or FAILED (or waitForQrMs ran out). */
  start(sessionId: string): Promise<SessionView> {
    return this.lifecycleCall(sessionId, async (ms) => {
      if (ms.status !== 'TERMINATED' && ms.status !== 'FAILED') throw wrongState(ms, 'start', 'it is running');
      await this.launchSettled(ms);
    });
  }

  /** Stops the session if it runs, then starts it; answers like start. */
  restart(sessionId: string): Promise<SessionView> {
    return this.lifecycleCall(sessionId, async (ms) => {
      await this.halt(ms, 'stop');
      await this.launchSettled(ms);
    });
  }

  /** Forgets the session's login (its next start shows a QR) and leaves it TERMINATED; config, webhooks and history stay. */
  logout(sessionId: string): Promise<SessionView> {
    return this.lifecycleCall(sessionId, async (ms) => {
      await this.halt(ms, 'logout');
      await this.o.engines.get(ms.engine).forgetLogin?.({ sessionId: ms.sessionId, dataDir: this.sessionDir(ms.sessionId) });
      ms.me = null;
      if (ms.status !== 'TERMINATED') this.terminate(ms, 'Session has been logged out');
      else this.changes++;
    });
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
  private lifecycleCall(sessionId: string, fn: (ms: ManagedSession) => Promise<void>): Promise<SessionView> {
    const ms = this.use(sessionId);
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

  /** Stop every session for shutdown, keeping their persisted state so the next start restores them. */
  async stopAll(): Promise<void> {
    this.closed = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    await Promise.allSettled(
      [...this.sessions.values()].map(async (ms) => {
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
      handle: null,
      generation: 0,
      qrTimer: null,
      authTimer: null,
      activityDirty: false,
      lifecycle: Promise.resolve(),
    };
  }

  private sessionDir(sessionId: string): string {
    return join(this.o.dataDir, 'sessions', sessionId);
  }

  private async launch(ms: ManagedSession): Promise<void> {
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
      if (ms.generation === generation) this.fail(ms, `engine failed to start: ${(error as Error).message}`);
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
      case 'poll_vote':
        this.o.bus.publish({ type: 'POLL_VOTE', sessionId, at, messageId: event.messageId, chatId: event.chatId, voter: event.voter, options: event.options, poll: event.poll });
        return;
      case 'ack':
        this.o.bus.publish({ type: 'ACK', sessionId, at, messageId: event.messageId, chatId: event.chatId, ack: event.ack });
        return;
      case 'disconnected':
        this.clearTimers(ms);
        this.o.bus.publish({ type: 'DISCONNECTED', sessionId, at, reason: event.reason });
        this.setStatus(ms, 'INITIALIZING', event.reason);
        return;
      case 'failed':
        this.fail(ms, event.reason);
        return;
      case 'group_join':
      case 'group_leave':
        this.o.bus.publish({
          type: event.type === 'group_join' ? 'GROUP_JOIN' : 'GROUP_LEAVE',
          sessionId,
          at,
          groupId: event.groupId,
          participants: event.participants,
          by: event.by,
        });
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
    ms.qrTimer = null;
    ms.authTimer = null;
  }

  private flushActivity(): void {
    for (const ms of this.sessions.values()) {
      if (!ms.activityDirty) continue;
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
  };
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
