import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Engine, EngineEventSink, EngineSession, EngineStartOptions } from '../engine.js';
import type { Logger } from '../../logger.js';
import { OpenWaSupervisor } from './supervisor.js';

export interface OpenWaSettings {
  /** Chromium to drive. Default: PUPPETEER_EXECUTABLE_PATH, else /usr/bin/chromium. */
  executablePath: string;
  /** Where `npm run install:open-wa` installs the package. Default: OPEN_WA_RUNTIME_DIR, else `<project>/.open-wa`. */
  runtimeDir: string;
  /** Shown in the FAILED reason when the package is missing. */
  installCommand: string;
  /** A worker that has shown neither a QR code nor a login by then is failed and killed. */
  startDeadlineMs: number;
  /** Waits before restarting a crashed worker: the n-th restart waits the n-th entry (the last one repeats). */
  restartBackoffMs: number[];
  /** Crashes in a row that are restarted; the next one fails the session. */
  maxRestarts: number;
  /** A session READY for this long has its crash count reset. */
  restartResetMs: number;
  /** Per call to a worker. */
  callTimeoutMs: number;
  /** How long a stopping worker may take before it and its browser are killed. */
  stopGraceMs: number;
  /** How long a QR code is announced as valid (WhatsApp Web rotates them about every 20 s). */
  qrLifetimeMs: number;
  /** Default open-wa licence key; a session's own `licenceKey` wins. */
  licenceKey?: string;
}

/** An open-wa session also tells which worker runs it and how its browser processes are recognised. */
export interface OpenWaSession extends EngineSession {
  readonly workerPid: number | null;
  /** Part of the command line of every browser process of this session (its profile folder). */
  readonly browserMarker: string;
}

export interface OpenWaEngine extends Engine {
  start(options: EngineStartOptions, sink: EngineEventSink): Promise<OpenWaSession>;
}

export const OPEN_WA_INSTALL_COMMAND = 'npm run install:open-wa';

export function defaultOpenWaSettings(env: NodeJS.ProcessEnv = process.env): OpenWaSettings {
  return {
    executablePath: env.PUPPETEER_EXECUTABLE_PATH || '/usr/bin/chromium',
    runtimeDir: env.OPEN_WA_RUNTIME_DIR || join(projectRoot(), '.open-wa'),
    installCommand: OPEN_WA_INSTALL_COMMAND,
    startDeadlineMs: 90_000,
    restartBackoffMs: [1_000, 5_000, 15_000, 30_000],
    maxRestarts: 5,
    restartResetMs: 300_000,
    callTimeoutMs: 60_000,
    stopGraceMs: 3_000,
    qrLifetimeMs: 20_000,
  };
}

/** The folder of the gateway's package.json, from src/ (tsx) or dist/src/ (compiled) alike. */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        if ((JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'wa-gateway') return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

/**
 * The real engine: each session runs @open-wa/wa-automate in a worker process of its own, so the
 * library's process.exit() calls, signal handlers and leaked browsers never reach the server.
 */
export function createOpenWaEngine(options: { logger: Logger; settings?: Partial<OpenWaSettings> }): OpenWaEngine {
  const settings: OpenWaSettings = { ...defaultOpenWaSettings(), ...options.settings };
  const live = new Set<OpenWaSupervisor>();
  return {
    kind: 'open-wa',
    async start(startOptions, sink) {
      const supervisor: OpenWaSupervisor = new OpenWaSupervisor(startOptions, sink, settings, options.logger, () => live.delete(supervisor));
      live.add(supervisor);
      supervisor.launch();
      return supervisor;
    },
    // The library keeps the login under the session's open-wa folder (worker.ts sessionDataPath): without it the
    // next start shows a QR. A running session is logged out through the library first (its logout call).
    async forgetLogin({ dataDir }) {
      await rm(join(dataDir, 'open-wa'), { recursive: true, force: true });
    },
    async close() {
      await Promise.allSettled([...live].map((s) => s.stop()));
      live.clear();
    },
  };
}
