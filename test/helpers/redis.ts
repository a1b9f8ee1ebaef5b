// Redis for tests: the shared server (TEST_REDIS_URL, by default 127.0.0.1:6379) with a key prefix of the test's
// own, deleted afterwards; and a private redis-server on a free port for tests that stop and start it (the
// shared one is never stopped).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { tempDir } from './app.js';
import { inCi } from './system-tools.js';
import { freePort } from './webhooks.js';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';

/** A prefix no other test uses. */
export function uniquePrefix(): string {
  return `wa-gateway-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

async function ping(url: string): Promise<string | null> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (error) {
    return `Redis at ${url} is not reachable (${(error as Error).message})`;
  } finally {
    redis.disconnect();
  }
}

/** Test options: skipped with the reason when the shared Redis does not answer, except under CI. */
export async function needsRedis(): Promise<{ skip: string | false }> {
  const reason = await ping(TEST_REDIS_URL);
  return { skip: reason && !inCi ? reason : false };
}

/** Deletes every key under `prefix` on `url`. */
export async function deletePrefix(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/** Keys under `prefix` on `url`. */
export async function keysUnder(url: string, prefix: string): Promise<string[]> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    return await redis.keys(`${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`);
  } finally {
    redis.disconnect();
  }
}

/** Why a private redis-server cannot run here, or null. */
export function privateRedisMissing(): string | null {
  const found = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return found.error || found.status !== 0 ? 'redis-server not found (apt-get install -y redis-server)' : null;
}

export function needsPrivateRedis(): { skip: string | false } {
  const reason = privateRedisMissing();
  return { skip: reason && !inCi ? reason : false };
}

export interface PrivateRedis {
  url: string;
  port: number;
  /** Stops the server; with `save` (default) its data is written first and found again by `start` (a restart, not a loss). */
  stop(save?: boolean): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

/** A redis-server of the test's own on a free port, its data in a temp dir. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = tempDir('wa-gateway-redis-');
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while ((await ping(url)) !== null) {
      if (Date.now() > deadline) throw new Error(`private redis-server on ${port} did not answer`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async (save = true) => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    const redis = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => undefined);
    await redis.call('SHUTDOWN', save ? 'SAVE' : 'NOSAVE').catch(() => undefined);
    redis.disconnect();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (running.exitCode === null) running.kill('SIGKILL');
    child = null;
  };
  process.on('exit', () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });
  await start();
  return { url, port, start, stop, dispose: () => stop(false) };
}
