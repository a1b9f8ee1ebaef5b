// The open-wa engine with its real worker processes: without the package, with the package and Debian
// Chromium on this offline machine, and with workers killed mid-start. No WhatsApp network is needed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EngineEvent, SessionConfig } from '../src/engine/engine.js';
import { createOpenWaEngine, type OpenWaSettings } from '../src/engine/open-wa/open-wa-engine.js';
import { isAlive, killProcessesMentioning, processesMentioning } from '../src/engine/open-wa/processes.js';
import { engineCalls } from '../src/engine/open-wa/protocol.js';
import { createLogger } from '../src/logger.js';
import { needs, requireTools } from './helpers/system-tools.js';

const root = mkdtempSync(join(tmpdir(), 'wa-gateway-open-wa-'));
const engines: ReturnType<typeof createOpenWaEngine>[] = [];
const markers: string[] = [];

after(async () => {
  await Promise.allSettled(engines.map((e) => e.close()));
  for (const marker of markers) killProcessesMentioning(marker);
  rmSync(root, { recursive: true, force: true });
});

const config: SessionConfig = { engine: 'open-wa', multiDevice: true, headless: true, qrTimeout: 60, authTimeout: 60 };

function engine(settings: Partial<OpenWaSettings> = {}) {
  const e = createOpenWaEngine({ logger: createLogger('silent'), settings });
  engines.push(e);
  return e;
}

/** Starts a session and records its events; `next` waits for the next one of a type. */
async function startSession(e: ReturnType<typeof engine>, sessionId: string, sessionConfig: SessionConfig = config) {
  const events: EngineEvent[] = [];
  const waiters: { type: EngineEvent['type']; from: number; resolve: (e: EngineEvent) => void }[] = [];
  const session = await e.start({ sessionId, config: sessionConfig, dataDir: join(root, sessionId) }, (event) => {
    events.push(event);
    for (const w of [...waiters]) {
      if (w.type === event.type) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(event);
      }
    }
  });
  markers.push(session.browserMarker);
  let seen = 0;
  const next = <T extends EngineEvent['type']>(type: T, timeoutMs: number): Promise<Extract<EngineEvent, { type: T }>> => {
    const already = events.slice(seen).find((x) => x.type === type);
    if (already) {
      seen = events.indexOf(already) + 1;
      return Promise.resolve(already as Extract<EngineEvent, { type: T }>);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no '${type}' event from ${sessionId} within ${timeoutMs} ms; got ${JSON.stringify(events)}`)), timeoutMs);
      waiters.push({
        type,
        from: seen,
        resolve: (x) => {
          clearTimeout(timer);
          seen = events.length;
          resolve(x as Extract<EngineEvent, { type: T }>);
        },
      });
    });
  };
  return { session, events, next };
}

async function waitFor<T>(what: string, check: () => T | null | undefined | false, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Processes naming the marker, by our /proc scan and, where installed, by pgrep too. */
function leftovers(marker: string): number[] {
  const found = new Set(processesMentioning(marker));
  const pgrep = spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' });
  if (!pgrep.error) for (const line of pgrep.stdout.split('\n')) if (line.trim() && Number(line) !== pgrep.pid) found.add(Number(line));
  return [...found].filter(isAlive);
}

/** Members of the process groups led by these pids that still run (zombies, already dead, aside). */
function groupMembers(leaders: number[]): number[] {
  const out: number[] = [];
  for (const leader of leaders) {
    const r = spawnSync('pgrep', ['-g', String(leader)], { encoding: 'utf8' });
    if (!r.error) out.push(...r.stdout.split('\n').filter(Boolean).map(Number).filter((pid) => !isZombie(pid)));
  }
  return out;
}

function isZombie(pid: number): boolean {
  try {
    return / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ''));
  } catch {
    return true;
  }
}

describe('open-wa engine without the package installed', () => {
  it('goes FAILED with the install hint and leaves no worker behind', async () => {
    const e = engine({ runtimeDir: join(root, 'no-runtime') });
    const started = Date.now();
    const { session, next } = await startSession(e, 'not-installed');
    assert.ok(Date.now() - started < 1000, 'start() returns at once');
    const pid = session.workerPid;
    assert.ok(pid, 'a worker process was forked');
    const failed = await next('failed', 20_000);
    assert.match(failed.reason, /^open-wa engine is not installed: run npm run install:open-wa/);
    await session.stop();
    await waitFor('the worker to exit', () => !isAlive(pid), 5_000);
  });

  it('forwards every engine call of the table: its check first, then the worker (not ready here)', async () => {
    const e = engine({ runtimeDir: join(root, 'no-runtime') });
    const { session } = await startSession(e, 'forwarding');
    for (const method of Object.keys(engineCalls)) assert.equal(typeof (session as unknown as Record<string, unknown>)[method], 'function', method);
    const code = (error: unknown) => (error as { code?: string }).code;
    await assert.rejects(session.send({ chatId: 'bob', content: { kind: 'text', text: 'hi' } }), (error) => code(error) === 'INVALID_CHAT_ID');
    await assert.rejects(session.addParticipants('15551000001@c.us', ['15550000001@c.us']), (error) => code(error) === 'INVALID_CHAT_ID');
    await assert.rejects(session.getChats(), (error) => code(error) === 'SESSION_NOT_READY');
    await assert.rejects(session.getChat('15550000001@c.us'), (error) => code(error) === 'SESSION_NOT_READY');
    await session.stop();
  });

  it('logout stops the worker, and forgetLogin deletes the saved login of the stopped session', async () => {
    const e = engine({ runtimeDir: join(root, 'no-runtime') });
    const saved = join(root, 'logout', 'open-wa');
    mkdirSync(saved, { recursive: true });
    writeFileSync(join(saved, 'logout.data.json'), '{}');
    const { session, next } = await startSession(e, 'logout');
    const pid = session.workerPid;
    assert.ok(pid, 'a worker process was forked');
    await next('failed', 20_000);
    await session.logout();
    await waitFor('the worker to exit', () => !isAlive(pid), 5_000);
    assert.ok(existsSync(saved), 'a logout the library could not make leaves the folder to forgetLogin');
    await e.forgetLogin!({ sessionId: 'logout', dataDir: join(root, 'logout') });
    assert.equal(existsSync(saved), false, 'the saved login is gone');
  });
});

describe('open-wa engine with the package and Chromium, offline', needs('open-wa'), () => {
  before(() => requireTools('open-wa'));
  it('goes FAILED with the library reason within 60 s and leaves no Chromium of the session', async () => {
    const e = engine();
    const started = Date.now();
    const { session, next } = await startSession(e, 'offline');
    const browsers: number[] = [];
    const watch = setInterval(() => {
      for (const pid of processesMentioning(session.browserMarker)) if (!browsers.includes(pid)) browsers.push(pid);
    }, 100);
    try {
      const failed = await next('failed', 60_000);
      assert.ok(Date.now() - started < 60_000);
      assert.match(failed.reason, /^open-wa failed to start: .*(net::ERR_|timeout|Timeout)/);
    } finally {
      clearInterval(watch);
    }
    await session.stop();
    assert.ok(browsers.length > 0, 'Chromium was started for the session');
    assert.deepEqual(leftovers(session.browserMarker), [], 'no process of the session profile remains');
    // SIGKILLed processes may take a moment to be gone from the table.
    await waitFor('the browser process groups to be empty', () => groupMembers(browsers).length === 0, 5_000).catch(() => undefined);
    assert.deepEqual(groupMembers(browsers), [], 'no process remains in the browser process groups');
  });
});

describe('open-wa engine: the start deadline', needs('open-wa'), () => {
  before(() => requireTools('open-wa'));
  it('fails a start that takes too long and kills the worker and its browser', async () => {
    // Shorter than an offline start takes to fail by itself (ERR_NAME_NOT_RESOLVED came within 1.8 s on a quiet machine).
    const e = engine({ startDeadlineMs: 500 });
    const { session, next } = await startSession(e, 'deadline');
    const pid = session.workerPid!;
    const failed = await next('failed', 10_000);
    assert.equal(failed.reason, 'open-wa did not start within 0.5 s');
    await waitFor('the worker to be killed', () => !isAlive(pid), 10_000);
    await session.stop();
    assert.deepEqual(leftovers(session.browserMarker), []);
  });
});

describe('open-wa engine: a worker killed with SIGKILL', needs('open-wa'), () => {
  before(() => requireTools('open-wa'));
  // A proxy that accepts and never answers keeps the real library waiting for WhatsApp Web with its
  // browser up: a live session mid-start, without any network.
  const sockets: Socket[] = [];
  let proxy: Server;
  after(() => {
    for (const s of sockets) s.destroy();
    proxy?.close();
  });

  it('is reported as disconnected, restarted per the policy, then failed; the other session is untouched', async () => {
    proxy = createServer((s) => {
      sockets.push(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const { port } = proxy.address() as { port: number };
    const hanging: SessionConfig = { ...config, proxyServerCredentials: { address: `127.0.0.1:${port}` } };
    const e = engine({ restartBackoffMs: [300], maxRestarts: 1, stopGraceMs: 1_000 });
    const a = await startSession(e, 'crash-a', hanging);
    const b = await startSession(e, 'crash-b', hanging);
    const bPid = b.session.workerPid!;

    const aBrowsers = await waitFor('a browser for session a', () => {
      const pids = processesMentioning(a.session.browserMarker);
      return pids.length > 0 && pids;
    }, 30_000);
    await waitFor('a browser for session b', () => processesMentioning(b.session.browserMarker).length > 0, 30_000);

    const firstWorker = a.session.workerPid!;
    process.kill(firstWorker, 'SIGKILL');
    const disconnected = await a.next('disconnected', 5_000);
    assert.match(disconnected.reason, /SIGKILL/);
    // The crashed worker's browser is cleaned up by the supervisor.
    await waitFor('the crashed worker browser to be gone', () => aBrowsers.every((pid) => !isAlive(pid)), 5_000);

    const secondWorker = await waitFor('a restarted worker', () => {
      const pid = a.session.workerPid;
      return pid !== null && pid !== firstWorker && pid;
    }, 5_000);
    assert.ok(isAlive(secondWorker));

    assert.equal(b.session.workerPid, bPid, 'the other session keeps its worker');
    assert.ok(isAlive(bPid));
    assert.equal(b.events.filter((x) => x.type === 'disconnected' || x.type === 'failed').length, 0, 'the other session saw nothing');

    // maxRestarts 1: the next crash in a row gives up.
    process.kill(secondWorker, 'SIGKILL');
    const failed = await a.next('failed', 5_000);
    assert.match(failed.reason, /crashed 2 times in a row; giving up: .*SIGKILL/);
    await a.session.stop();
    assert.deepEqual(leftovers(a.session.browserMarker), []);

    assert.equal(b.session.workerPid, bPid);
    await b.session.stop();
    assert.ok(!isAlive(bPid));
    assert.deepEqual(leftovers(b.session.browserMarker), []);
  });
});
