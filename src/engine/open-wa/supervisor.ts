// The server's side of one open-wa session: owns its worker process, the start deadline, the restart
// policy and the cleanup of the browser. It is the session's EngineSession.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineError, type EngineEvent, type EngineEventSink, type EngineSession, type EngineStartOptions } from '../engine.js';
import type { Logger } from '../../logger.js';
import { isAlive, killGroup, killProcessesMentioning, processesMentioning } from './processes.js';
import {
  TAG,
  engineCalls,
  isTagged,
  type CallMethod,
  type CallRow,
  type SupervisorMessage,
  type WorkerCalls,
  type WorkerMessage,
  type WorkerStartConfig,
} from './protocol.js';
import type { OpenWaSettings } from './open-wa-engine.js';

type Phase = 'starting' | 'ready' | 'restarting' | 'stopping' | 'stopped' | 'failed';

interface PendingCall {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

// From TypeScript source (tests, `npm run dev`) the worker needs tsx; compiled, it is plain JavaScript.
const fromSource = import.meta.url.endsWith('.ts');
const workerFile = fromSource ? fileURLToPath(new URL('./worker.ts', import.meta.url)) : compiledWorker();

/** Next to this module when compiled; from the bundle (dist/bundle/, npm start) it is in dist/src/. */
function compiledWorker(): string {
  for (const candidate of ['./worker.js', '../src/engine/open-wa/worker.js']) {
    const file = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(file)) return file;
  }
  return fileURLToPath(new URL('./worker.js', import.meta.url));
}
const workerExecArgv = fromSource ? ['--import', import.meta.resolve('tsx')] : [];

// The class gets the engine calls it forwards from its static block (the ones it implements itself, like
// logout, are written in it); this merged interface declares them.
export interface OpenWaSupervisor extends Pick<EngineSession, CallMethod> {}

export class OpenWaSupervisor implements EngineSession {
  readonly sessionId: string;
  private phase: Phase = 'starting';
  private child: ChildProcess | null = null;
  private exitReason: string | null = null;
  private crashes = 0;
  private nextCallId = 1;
  private readonly pending = new Map<number, PendingCall>();
  private deadlineTimer: NodeJS.Timeout | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private stableTimer: NodeJS.Timeout | null = null;
  private exited: Promise<void> = Promise.resolve();
  private readonly log: Logger;

  constructor(
    private readonly options: EngineStartOptions,
    private readonly sink: EngineEventSink,
    private readonly settings: OpenWaSettings,
    logger: Logger,
    private readonly onStopped: () => void = () => undefined,
  ) {
    this.sessionId = options.sessionId;
    this.log = logger.child({ sessionId: options.sessionId, engine: 'open-wa' });
  }

  /** The part of a command line that names this session's browser profile. */
  get browserMarker(): string {
    return `${join(this.options.dataDir, 'open-wa')}/`;
  }

  /** The worker's pid while one runs (for tests and diagnostics). */
  get workerPid(): number | null {
    return this.child?.pid ?? null;
  }

  launch(): void {
    mkdirSync(this.options.dataDir, { recursive: true });
    const { NODE_TEST_CONTEXT: _testContext, ...env } = process.env;
    const child = fork(workerFile, [], {
      cwd: this.options.dataDir,
      env,
      execArgv: workerExecArgv,
      // Its own process group, so the worker and whatever it started can be killed together.
      detached: true,
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    this.exitReason = null;
    this.log.debug('open-wa worker started', { pid: child.pid });
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line.trim()) this.log.debug(line, { source: 'open-wa-worker' });
      });
    }
    child.on('message', (message: unknown) => {
      if (child === this.child && isTagged<WorkerMessage>(message)) this.onWorkerMessage(message);
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.onWorkerExit(child, code, signal);
        resolve();
      });
    });
    child.once('error', (error) => this.log.warn('open-wa worker error', { error: error.message }));

    const { config } = this.options;
    const start: WorkerStartConfig = {
      sessionId: this.sessionId,
      dataDir: this.options.dataDir,
      runtimeDir: this.settings.runtimeDir,
      installCommand: this.settings.installCommand,
      executablePath: this.settings.executablePath,
      multiDevice: config.multiDevice,
      headless: config.headless,
      qrTimeout: config.qrTimeout,
      authTimeout: config.authTimeout,
      qrLifetimeMs: this.settings.qrLifetimeMs,
      ...(config.proxyServerCredentials ? { proxyServerCredentials: config.proxyServerCredentials } : {}),
      ...((config.licenceKey ?? this.settings.licenceKey) ? { licenceKey: config.licenceKey ?? this.settings.licenceKey } : {}),
      ...(config.rejectCalls ? { rejectCalls: true, ...(config.rejectCallsMessage ? { rejectCallsMessage: config.rejectCallsMessage } : {}) } : {}),
      ...(config.linkCode ? { linkCode: config.linkCode } : {}),
    };
    this.post({ tag: TAG, kind: 'start', config: start });
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = null;
      this.failWith(`open-wa did not start within ${this.settings.startDeadlineMs / 1000} s`);
    }, this.settings.startDeadlineMs);
  }

  private post(message: SupervisorMessage): void {
    const child = this.child;
    if (!child?.connected) return;
    child.send(message, (error) => {
      if (error) this.log.debug('could not reach the open-wa worker', { error: error.message });
    });
  }

  private onWorkerMessage(message: WorkerMessage): void {
    switch (message.kind) {
      case 'event':
        return this.onEngineEvent(message.event);
      case 'result': {
        const call = this.pending.get(message.id);
        if (!call) return;
        this.pending.delete(message.id);
        clearTimeout(call.timer);
        if (message.ok) call.resolve(message.value);
        else call.reject(new EngineError(message.error.code, message.error.message, message.error.details));
        return;
      }
      case 'log':
        this.log[message.level](message.msg, message.fields);
        return;
      case 'exiting':
        this.exitReason = message.reason;
        return;
    }
  }

  private onEngineEvent(event: EngineEvent): void {
    if (this.phase === 'stopping' || this.phase === 'stopped' || this.phase === 'failed') return;
    switch (event.type) {
      case 'qr':
      case 'authenticated':
        this.clearDeadline();
        break;
      case 'ready':
        this.clearDeadline();
        this.phase = 'ready';
        // A session that stays up this long has recovered: later crashes start a fresh count.
        if (this.stableTimer) clearTimeout(this.stableTimer);
        this.stableTimer = setTimeout(() => (this.crashes = 0), this.settings.restartResetMs);
        this.stableTimer.unref();
        break;
      case 'disconnected':
        if (this.phase === 'ready') this.phase = 'starting';
        break;
      case 'failed':
        this.failWith(event.reason);
        return;
      default:
        break;
    }
    this.sink(event);
  }

  private onWorkerExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (child.pid) killGroup(child.pid);
    const leftovers = killProcessesMentioning(this.browserMarker);
    if (leftovers.length) this.log.debug('killed browser processes left by the open-wa worker', { pids: leftovers });
    if (child !== this.child) return;
    this.child = null;
    this.rejectPending('the open-wa worker exited');
    if (this.phase === 'stopping' || this.phase === 'stopped' || this.phase === 'failed') return;

    const reason = this.exitReason ?? `open-wa worker exited (${signal ?? `code ${code}`})`;
    this.clearDeadline();
    if (this.stableTimer) clearTimeout(this.stableTimer);
    this.crashes++;
    if (this.crashes > this.settings.maxRestarts) {
      this.failWith(`open-wa worker crashed ${this.crashes} times in a row; giving up: ${reason}`);
      return;
    }
    const schedule = this.settings.restartBackoffMs;
    const wait = schedule[Math.min(this.crashes - 1, schedule.length - 1)] ?? 1000;
    this.log.warn('open-wa worker crashed; restarting', { reason, attempt: this.crashes, inMs: wait });
    this.phase = 'restarting';
    this.sink({ type: 'disconnected', reason });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (this.phase !== 'restarting') return;
      this.phase = 'starting';
      this.launch();
    }, wait);
  }

  /** Emits `failed` once and tears the worker and its browser down. */
  private failWith(reason: string): void {
    if (this.phase === 'stopping' || this.phase === 'stopped' || this.phase === 'failed') return;
    this.phase = 'failed';
    this.log.info('open-wa session failed', { reason });
    this.clearTimers();
    this.sink({ type: 'failed', reason });
    void this.terminate();
  }

  private clearDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
  }

  private clearTimers(): void {
    this.clearDeadline();
    for (const timer of [this.restartTimer, this.stableTimer]) if (timer) clearTimeout(timer);
    this.restartTimer = null;
    this.stableTimer = null;
  }

  private rejectPending(message: string): void {
    for (const [id, call] of this.pending) {
      clearTimeout(call.timer);
      call.reject(new EngineError('SESSION_NOT_READY', message, { sessionId: this.sessionId }));
      this.pending.delete(id);
    }
  }

  /** Asks the worker to stop, then kills its process group and the browser after the grace period. */
  private async terminate(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      this.post({ tag: TAG, kind: 'stop' });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.exited, new Promise((resolve) => (timer = setTimeout(resolve, this.settings.stopGraceMs)))]);
      clearTimeout(timer);
      if (child.pid && isAlive(child.pid)) {
        killGroup(child.pid);
        child.kill('SIGKILL');
        await this.exited;
      }
    }
    killProcessesMentioning(this.browserMarker);
    // Give the kernel a moment, so that once stop() resolves the browser is really gone.
    for (let i = 0; i < 20 && processesMentioning(this.browserMarker).length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      killProcessesMentioning(this.browserMarker);
    }
    this.rejectPending('the open-wa session stopped');
  }

  private call<M extends CallMethod>(method: M, ...args: WorkerCalls[M]['args']): Promise<WorkerCalls[M]['result']> {
    return this.callWithin(this.settings.callTimeoutMs, method, ...args);
  }

  private callWithin<M extends CallMethod>(timeoutMs: number, method: M, ...args: WorkerCalls[M]['args']): Promise<WorkerCalls[M]['result']> {
    if (this.phase !== 'ready' || !this.child?.connected) {
      return Promise.reject(new EngineError('SESSION_NOT_READY', `session '${this.sessionId}' is not ready`, { sessionId: this.sessionId }));
    }
    const id = this.nextCallId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new EngineError('ENGINE_ERROR', `open-wa ${method} timed out after ${timeoutMs} ms`, { method }));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.post({ tag: TAG, kind: 'call', id, method, args } as SupervisorMessage);
    });
  }

  // The forwarded engine calls, one per row of the table (the merged interface below gives their types).
  static {
    for (const method of Object.keys(engineCalls) as CallMethod[]) {
      const row = engineCalls[method] as CallRow<CallMethod>;
      if (row.own) continue;
      Object.defineProperty(OpenWaSupervisor.prototype, method, {
        configurable: true,
        writable: true,
        value: async function forward(this: OpenWaSupervisor, ...args: never[]) {
          (row.check as ((...a: unknown[]) => void) | undefined)?.(...args);
          return this.call(method, ...(args as unknown as WorkerCalls[CallMethod]['args']));
        },
      });
    }
  }

  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    this.phase = 'stopping';
    this.clearTimers();
    await this.terminate();
    this.phase = 'stopped';
    this.onStopped();
  }

  /** open-wa asks for the phone number before its browser opens (its `linkCode` start option), not on a running session. */
  async requestPairingCode(): Promise<string> {
    throw new EngineError(
      'ENGINE_UNSUPPORTED',
      "open-wa takes the phone number only when it starts: create or restart the session with config.linkCode set to it (the library's linkCode start option)",
      { sessionId: this.sessionId },
    );
  }

  async logout(): Promise<void> {
    if (this.phase === 'ready') {
      // Bounded like a stop: the session manager gives logout + stop 10 s in all.
      await this.callWithin(Math.min(this.settings.callTimeoutMs, this.settings.stopGraceMs), 'logout').catch((error: unknown) => this.log.warn('open-wa logout failed', { error: (error as Error).message }));
    }
    await this.stop();
  }
}
