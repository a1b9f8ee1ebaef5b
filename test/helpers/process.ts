import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { databaseFor, testStore } from './pg.js';

// Like fastSettings for in-process servers: suites that are not about rate limits or pacing never meet them.
const generousLimits = {
  RATE_LIMIT_GENERAL: '1000000',
  RATE_LIMIT_SESSION_CREATE: '1000000',
  RATE_LIMIT_MESSAGING: '1000000',
  SEND_MIN_GAP_MS: '0',
  SEND_JITTER_MS: '0',
};

export const root = fileURLToPath(new URL('../..', import.meta.url));

// A test file that times out never reaches its finally blocks: kill what it started when it exits.
const children = new Set<ChildProcess>();
function killChildren() {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
process.on('exit', killChildren);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    killChildren();
    process.exit(128 + (signal === 'SIGTERM' ? 15 : 2));
  });
}
function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/**
 * How a test starts the server: under `npm test`, the bundle the runner made of src/main.ts (WA_TEST_BUNDLE;
 * scripts/test-build.mjs says why); run by hand, the source through tsx.
 */
export const SERVER_ENTRY: string[] = process.env.WA_TEST_BUNDLE ? [process.env.WA_TEST_BUNDLE] : ['--import', 'tsx', 'src/main.ts'];

/**
 * DATABASE_URL for a server on `args`/`env`: with WA_TEST_STORE=postgres the database of its data dir (the
 * one startServer gives the same data dir), else none, so a DATABASE_URL in the developer's shell never
 * reaches a test's server. A test's own DATABASE_URL wins.
 */
export async function storageEnv(args: string[], env: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  if (env.DATABASE_URL !== undefined) return {};
  const flag = args.findIndex((a) => a === '--data-dir' || a.startsWith('--data-dir='));
  const dataDir = flag === -1 ? env.DATA_DIR : args[flag]!.includes('=') ? args[flag]!.slice('--data-dir='.length) : args[flag + 1];
  if (testStore !== 'postgres' || !dataDir) return { DATABASE_URL: '' };
  return { DATABASE_URL: (await databaseFor(dataDir)).url };
}

/** Runs src/main.ts (or `entry`, e.g. the bundle) in a real child process and waits until it prints its URL. */
export async function spawnServer(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000, entry: string[] = SERVER_ENTRY): Promise<ServerProcess> {
  const storage = await storageEnv(args, env);
  const child = track(
    spawn(process.execPath, [...entry, ...args], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'warn', ...generousLimits, ...storage, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start in time:\n${out}`));
    }, timeoutMs);
    const onData = () => {
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve({ child, url: match[1]!.replace('localhost', '127.0.0.1'), output: () => out, exited });
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${out}`));
    });
  });
}

/** Runs src/main.ts to completion (for start-up errors); returns exit code and output. */
export function runMain(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [...SERVER_ENTRY, ...args], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}
