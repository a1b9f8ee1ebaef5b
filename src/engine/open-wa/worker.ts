// One WhatsApp session in a process of its own, started by the supervisor with child_process.fork.
// The library may call process.exit(), hijacks SIGTERM/SIGINT when required, can crash the process with
// an unhandled rejection and leaks Chromium on a failed start: here those only ever end this process.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { format } from 'node:util';
import type { Client, ConfigObject } from '@open-wa/wa-automate-types-only';
import { EngineError, type EngineEvent } from '../engine.js';
import { libraryError, mapAck, mapCall, mapChatState, mapMe, mapMessage, mapMessageDeleted, mapParticipantsChanged, mapReaction, serialized } from './mapping.js';
import { killProcessesMentioning } from './processes.js';
import { mapPollVote } from './send-mapping.js';
import { TAG, isTagged, type LogLevelName, type SupervisorMessage, type WireError, type WorkerMessage, type WorkerStartConfig } from './protocol.js';
import { clientCalls, seenCalls } from './worker-calls.js';

type OpenWaModule = typeof import('@open-wa/wa-automate-types-only');

if (!process.send) {
  process.stderr.write('the open-wa worker must be started by the supervisor (child_process.fork)\n');
  process.exit(2);
}

const channel = process.send.bind(process);
const realExit = process.exit.bind(process);
let config: WorkerStartConfig | null = null;
let client: Client | null = null;
let calls: ReturnType<typeof clientCalls> | null = null;
let exiting = false;

function post(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    try {
      channel(message, undefined, undefined, () => resolve());
    } catch {
      resolve();
    }
  });
}

function log(level: LogLevelName, msg: string, fields?: Record<string, unknown>): void {
  void post({ tag: TAG, kind: 'log', level, msg, ...(fields ? { fields } : {}) });
}

function emitMapped(event: EngineEvent | null): void {
  if (event) emit(event);
}

function emit(event: EngineEvent): void {
  void post({ tag: TAG, kind: 'event', event });
}

/** The library's own output goes to the server's logger, never to a terminal. */
for (const [method, level] of [['log', 'debug'], ['info', 'debug'], ['debug', 'debug'], ['warn', 'warn'], ['error', 'warn']] as const) {
  console[method] = (...args: unknown[]) => log(level, format(...args), { source: 'open-wa' });
}

// The library reports to pm2-style parents through process.send; that is not for us.
process.send = ((..._args: unknown[]) => true) as typeof process.send;

process.exit = ((code?: number) => {
  void end(`open-wa ended the worker (process.exit(${code ?? ''}))`, typeof code === 'number' ? code : 1);
  // Park the caller: the library expects exit() not to return.
  return new Promise(() => undefined) as never;
}) as typeof process.exit;

process.on('unhandledRejection', (reason) => {
  log('warn', 'unhandled rejection in the open-wa worker', { error: reason instanceof Error ? reason.message : String(reason) });
});
process.on('uncaughtException', (error) => {
  void end(`open-wa worker crashed: ${error.message}`, 1);
});
process.on('disconnect', () => void end('the supervisor went away', 0, false));

/** Removes the handlers the `death` package put on the termination signals, and puts ours there. */
function ownSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGHUP'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => void end(`worker received ${signal}`, 0, false));
  }
}
ownSignals();

function browserMarker(dataDir: string): string {
  return `${join(dataDir, 'open-wa')}/`;
}

async function end(reason: string, code: number, tell = true): Promise<void> {
  if (exiting) return;
  exiting = true;
  if (tell) await post({ tag: TAG, kind: 'exiting', reason });
  const current = client;
  if (current) await Promise.race([current.kill('STOP').catch(() => false), delay(3000)]);
  if (config) killProcessesMentioning(browserMarker(config.dataDir));
  realExit(code);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function loadLibrary(runtimeDir: string): OpenWaModule | null {
  const require = createRequire(join(runtimeDir, 'package.json'));
  try {
    require.resolve('@open-wa/wa-automate');
  } catch {
    return null;
  }
  return require('@open-wa/wa-automate') as OpenWaModule;
}

async function start(c: WorkerStartConfig): Promise<void> {
  config = c;
  let lib: OpenWaModule | null;
  try {
    lib = loadLibrary(c.runtimeDir);
  } catch (error) {
    return fail(`open-wa could not be loaded: ${(error as Error).message}`);
  }
  if (!lib) return fail(`open-wa engine is not installed: run ${c.installCommand}`);
  ownSignals();

  let authenticated = false;
  const onAuthenticated = () => {
    if (authenticated) return;
    authenticated = true;
    emit({ type: 'authenticated' });
  };
  lib.ev.on(`qr.${c.sessionId}`, (qr: unknown) => {
    if (typeof qr === 'string' && qr.startsWith('data:')) emit({ type: 'qr', dataUrl: qr, expiresAt: Date.now() + c.qrLifetimeMs });
  });
  lib.ev.on(`STARTUP.${c.sessionId}`, (data: unknown) => {
    if (data === 'Authenticated' || data === 'successfulScan') onAuthenticated();
  });

  // A fresh object each time: create() mutates its argument.
  const options: ConfigObject = {
    sessionId: c.sessionId,
    sessionDataPath: join(c.dataDir, 'open-wa'),
    executablePath: c.executablePath,
    headless: c.headless,
    multiDevice: c.multiDevice,
    // Whole seconds for the library; the session manager enforces the exact (fractional) limits.
    qrTimeout: Math.max(1, Math.ceil(c.qrTimeout)),
    authTimeout: Math.max(1, Math.ceil(c.authTimeout)),
    skipUpdateCheck: true,
    disableSpins: true,
    qrLogSkip: true,
    logConsole: false,
    logConsoleErrors: false,
    popup: false,
    killProcessOnBrowserClose: false,
    killProcessOnTimeout: false,
    killProcessOnBan: false,
    killClientOnLogout: false,
    throwErrorOnTosBlock: true,
    throwOnExpiredSessionData: true,
    onError: lib.OnError.THROW,
    ...(c.proxyServerCredentials ? { proxyServerCredentials: c.proxyServerCredentials as ConfigObject['proxyServerCredentials'] } : {}),
    ...(c.licenceKey ? { licenseKey: c.licenceKey } : {}),
    ...(c.linkCode ? { linkCode: c.linkCode } : {}),
  } as ConfigObject;

  let created: Client;
  try {
    created = await lib.create(options);
  } catch (error) {
    return fail(`open-wa failed to start: ${error instanceof Error ? error.message : String(error)}`);
  }
  ownSignals();
  client = created;
  calls = clientCalls(created);
  onAuthenticated();

  await created.onAnyMessage((m) => emit({ type: 'message', message: mapMessage(m) }));
  await created.onAck((m) => {
    const ack = mapAck(m.ack);
    const messageId = serialized(m.id);
    if (ack && messageId) emit({ type: 'ack', messageId, chatId: mapMessage(m).chatId, ack });
  });
  await created.onGlobalParticipantsChanged((e) => {
    const event = mapParticipantsChanged(e);
    if (event) emit(event);
  });
  // Reactions and chat states need a licence: without one the library refuses the listener, which is logged, not fatal.
  const optional = (name: string, register: () => Promise<unknown>) =>
    Promise.resolve().then(register).then(
      (ok) => (ok === false ? log('warn', `open-wa did not register ${name} (it may need a licence key)`) : undefined),
      (error: unknown) => log('warn', `open-wa did not register ${name}: ${error instanceof Error ? error.message : String(error)}`),
    );
  await optional('onReaction', () => created.onReaction((e) => emitMapped(mapReaction(e))));
  await optional('onMessageDeleted', () => created.onMessageDeleted((m) => emitMapped(mapMessageDeleted(m))));
  await optional('onChatState', () => created.onChatState((state) => emitMapped(mapChatState(state))));
  await created.onIncomingCall((call) => {
    const mapped = mapCall(call);
    seenCalls.set(mapped.id, mapped.from);
    emit({ type: 'call', call: mapped });
  });
  // The library rejects every call itself (and sends the message); the session manager's own rejection of each is then moot.
  if (c.rejectCalls) await created.autoReject(c.rejectCallsMessage).catch(() => false);
  // Gated behind the library's licence on some versions: without one, votes are not reported.
  await Promise.resolve(
    created.onPollVote((p) => {
      const event = mapPollVote(p);
      if (event) emit(event);
    }),
  ).catch(() => false);
  await created.onLogout(() => {
    void fail('the WhatsApp account was logged out from the phone');
    return true;
  });
  let connected = true;
  await created.onStateChanged((state) => {
    const name = String(state);
    if (name === 'CONNECTED') {
      if (!connected) void ready(created, c);
      connected = true;
    } else if (['CONFLICT', 'TIMEOUT', 'DISCONNECTED', 'UNLAUNCHED'].includes(name) && connected) {
      connected = false;
      emit({ type: 'disconnected', reason: `WhatsApp state ${name}` });
    }
  });
  await ready(created, c);
}

async function ready(created: Client, c: WorkerStartConfig): Promise<void> {
  try {
    const [host, me] = await Promise.all([created.getHostNumber(), created.getMe().catch(() => null)]);
    emit({ type: 'ready', me: mapMe(host, me) });
  } catch (error) {
    log('warn', 'open-wa is connected but its account could not be read', { error: (error as Error).message, sessionId: c.sessionId });
    emit({ type: 'ready', me: mapMe('', null) });
  }
}

async function fail(reason: string): Promise<void> {
  await post({ tag: TAG, kind: 'event', event: { type: 'failed', reason } });
  await end(reason, 0, false);
}

function wireError(error: unknown): WireError {
  const e = error instanceof EngineError ? error : libraryError(error);
  return { code: e.code, message: e.message, details: e.details };
}

process.on('message', (message: unknown) => {
  if (!isTagged<SupervisorMessage>(message)) return;
  switch (message.kind) {
    case 'start':
      if (config) return;
      void start(message.config).catch((error: unknown) => fail(`open-wa failed to start: ${(error as Error).message}`));
      return;
    case 'stop':
      void end('stopped', 0, false);
      return;
    case 'call': {
      const { id } = message;
      if (!calls) {
        void post({ tag: TAG, kind: 'result', id, ok: false, error: { code: 'SESSION_NOT_READY', message: 'the open-wa session is not ready', details: {} } });
        return;
      }
      const handler = calls[message.method] as (...args: unknown[]) => Promise<unknown>;
      handler(...message.args).then(
        (value) => post({ tag: TAG, kind: 'result', id, ok: true, value }),
        (error: unknown) => post({ tag: TAG, kind: 'result', id, ok: false, error: wireError(error) }),
      );
      return;
    }
  }
});
