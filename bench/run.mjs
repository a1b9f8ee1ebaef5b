// wa-gateway benchmarks: the real server against a bare node:http ceiling and a stock yoga + Pothos peer, all in
// child processes, load from another child (autocannon). Writes bench/REPORT.md.
// Usage: npm run bench [-- --quick] [-- --only a,c,g] [-- --growth] [-- --database-url postgres://... | none]
//   [-- --growth-reps N] [-- --growth-ops newest,deep] ((i): repetitions, default 3; only the operations whose name contains one of these)
// (c) and (f) also run on PostgreSQL, in the same run: each benchmarked server gets a database of its own,
// created on the server of --database-url (default BENCH_DATABASE_URL, else the local postgres://root@127.0.0.1:5432/test)
// and dropped afterwards; `--database-url none` leaves those rows out. `--only c-pg,f-pg` runs the PostgreSQL rows alone.
// BENCH_APP_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" passes node flags to every app server (profiling).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startNodeFlags } from '../scripts/start-flags.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const valueOf = (flag) => {
  const arg = args.find((a) => a === flag || a.startsWith(`${flag}=`));
  return arg === undefined ? undefined : arg.includes('=') ? arg.slice(flag.length + 1) : args[args.indexOf(arg) + 1];
};
const only = valueOf('--only')?.split(',') ?? null;
// `--growth`: row (i) alone (the same as `--only i`).
const growthOnly = args.includes('--growth');
const want = (s) => (growthOnly ? s === 'i' : !only || only.includes(s));
// (c) and (f) on SQLite; their PostgreSQL rows run with them, or alone (`c-pg`, `f-pg`).
const wantPg = (s) => want(s) || want(`${s}-pg`);
const databaseUrl = valueOf('--database-url') ?? process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const REPS = 3;
// (a) and (b) are ratios near their bounds: more repetitions, each ratio the median of per-repetition ratios.
const REPS_AB = quick ? 3 : 5;
const DURATION = quick ? 2 : 5;
// The 10,000 run twice: with V8's default heap sizing (which lets garbage pile up on a big machine) and
// with the heap capped at 384 MB (--max-old-space-size), to show what the subscriptions themselves hold.
// client 'graphql-ws': the same 1,000 through graphql-ws's own client, for comparison (see bench/subscribers.mjs).
const FANOUT = quick ? [{ n: 1000 }] : [{ n: 1000 }, { n: 1000, client: 'graphql-ws' }, { n: 10000 }, { n: 10000, heapMb: 384 }];
const MEMORY = quick ? [1000] : [1000, 10000];
const env = { ...process.env, NODE_ENV: 'production' };
const children = new Set();

const log = (...m) => console.error('[bench]', ...m);
const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** The medians of load runs (req/s, p50, p99) and their errors summed. */
const sum = (rs) => ({ rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), errors: rs.reduce((n, r) => n + r.errors + r.non2xx, 0) });
const rssMb = (pid) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : null;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** A process's CPU time (user + system) so far, in ms (from /proc: 10 ms ticks). */
const cpuMsOf = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

/** Spawn a node process and resolve with its first JSON stdout line and the child. */
function startNode(script, argv = [], nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, script, ...argv], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const lines = createInterface({ input: child.stdout });
  const queue = [];
  let waiter = null;
  lines.on('line', (line) => {
    if (!line.startsWith('{')) return;
    const value = JSON.parse(line);
    if (waiter) (waiter(value), (waiter = null));
    else queue.push(value);
  });
  const next = () =>
    queue.length
      ? Promise.resolve(queue.shift())
      : new Promise((resolve, reject) => {
          waiter = resolve;
          child.once('exit', (code) => reject(new Error(`${script} exited ${code} before answering`)));
        });
  return { child, next };
}

async function startServer(script, argv = [], nodeArgs = []) {
  const { child, next } = startNode(join(here, 'servers', script), argv, nodeArgs);
  // The app logs JSON lines to stdout too (e.g. the no-API-key warning): wait for the one that names the port.
  let port;
  while (port === undefined) ({ port } = await next());
  return { child, pid: child.pid, url: `http://127.0.0.1:${port}`, stop: () => stopChild(child) };
}

function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 15000);
    child.once('exit', () => (clearTimeout(t), resolve()));
    child.kill('SIGTERM');
  });
}

async function load(options) {
  const { next } = startNode(join(here, 'load.mjs'), [JSON.stringify({ duration: DURATION, connections: 32, ...options })]);
  return next();
}

async function gql(url, query, variables = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const json = await res.json();
  if (json.errors) throw new Error(`GraphQL: ${JSON.stringify(json.errors)}`);
  return json.data;
}

const appConfig = (dataDir, extra = {}) =>
  JSON.stringify({
    ...extra,
    host: '127.0.0.1',
    dataDir,
    logLevel: 'warn',
    maxSessions: 20000,
    sandbox: { startDelayMs: 0, authDelayMs: 0, deliveryDelayMs: 0, botReplyDelayMs: 0, readDelayMs: 0 },
    // The bench measures the gateway's own overhead: the per-client limits and the anti-ban send pacing
    // would turn every run into a count of 429s and queued waits.
    rateLimit: { enabled: false },
    sendQueue: { minGapMs: 0, jitterMs: 0 },
    // (d) holds up to 10,000 subscriptions from this one client address, over the per-key default of 1000.
    sockets: { maxSubscriptionsPerKey: 1_000_000 },
  });

// The app runs with the node flags `npm start` gives it, and BENCH_APP_NODE_ARGS's after them.
const appNodeArgs = [...startNodeFlags, ...(process.env.BENCH_APP_NODE_ARGS ?? '').split(' ').filter(Boolean)];

async function startApp(nodeArgs = [], extra = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'wa-gateway-bench-'));
  const server = await startServer('app-server.mjs', [appConfig(dataDir, extra)], [...appNodeArgs, ...nodeArgs]);
  return { ...server, stop: async () => (await server.stop(), rmSync(dataDir, { recursive: true, force: true })) };
}

/** Runs `fn` with a client on the --database-url server. */
async function withPg(url, fn) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

let pgMissing;
/** Why the PostgreSQL rows cannot run, or null. */
async function postgresMissing() {
  if (databaseUrl === 'none') return '--database-url none';
  pgMissing ??= withPg(databaseUrl, (c) => c.query('SELECT 1')).then(
    () => null,
    (error) => `PostgreSQL at ${redact(databaseUrl)} not reachable (${error.message})`,
  );
  return pgMissing;
}
function redact(url) {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

/**
 * A database of its own on the --database-url server, for one benchmarked server; `drop()` removes it. The
 * server is checked to have migrated it: a build without PostgreSQL support would quietly store to SQLite.
 */
/** utime + stime of a process in ms (Linux /proc); 0 when it is gone or unreadable. */
function procCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** CPU used between two samples of processes by pid (a process that appeared counts from 0; one that went is lost). */
function cpuDelta(before, after) {
  let ms = 0;
  for (const [pid, now] of after) ms += now - (before.get(pid) ?? 0);
  return ms;
}

async function benchDatabase() {
  const name = `wa_gateway_bench_${randomBytes(5).toString('hex')}`;
  await withPg(databaseUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async check() {
      const { rows } = await withPg(url.toString(), (c) => c.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'sessions'"));
      if (rows[0].n !== 1) throw new Error('the benchmarked server did not migrate its PostgreSQL database: does this build take databaseUrl?');
    },
    drop: () => withPg(databaseUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)),
    /** CPU (ms) of the server processes serving this database now, by pid (the database must be on this machine). */
    async cpuMs() {
      const { rows } = await withPg(databaseUrl, (c) => c.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [name]));
      return new Map(rows.map((r) => [r.pid, procCpuMs(r.pid)]));
    },
  };
}

/** startApp on a PostgreSQL database of its own. */
async function startPgApp(nodeArgs = [], extra = {}) {
  const database = await benchDatabase();
  try {
    const app = await startApp(nodeArgs, { ...extra, databaseUrl: database.url });
    await database.check().catch(async (error) => (await app.stop(), Promise.reject(error)));
    return { ...app, stop: async () => (await app.stop(), await database.drop()) };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

const CREATE = `mutation($id: String!) { createSession(input: { sessionId: $id, config: { sandbox: { autoScanMs: 0 } } }) { session { sessionId } } }`;
/** Create `count` sandbox sessions that scan their own QR, and wait until all are READY. */
async function readySessions(url, from, count, concurrency = 16) {
  let i = from;
  const worker = async () => {
    while (i < from + count) await gql(url, CREATE, { id: `bench-${i++}` });
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  for (let tries = 0; ; tries++) {
    const { serverInfo } = await gql(url, `{ serverInfo { totalSessions } sessions { status } }`).then((d) => ({
      serverInfo: { ready: d.sessions.filter((s) => s.status === 'READY').length },
    }));
    if (serverInfo.ready >= from + count) return;
    if (tries > 600) throw new Error(`only ${serverInfo.ready} sessions READY`);
    await sleep(200);
  }
}

const results = {};
const SESSIONS_QUERY = JSON.stringify({ query: '{ sessions { sessionId status lastActivity } }' });
const gqlPost = (url) => ({ url: `${url}/graphql`, method: 'POST', body: SESSIONS_QUERY, headers: { 'content-type': 'application/json' } });

async function main() {
  const t0 = Date.now();
  if (['a', 'b', 'c', 'd', 'e', 'f', 'g', 'c-pg', 'f-pg'].some(want)) await mainRows();
  if (want('h')) results.h = await clusterRow();
  if (want('i')) results.i = await growthRows();
  if (want('i') || want('i-pg')) {
    const missing = await postgresMissing();
    results.iPg = missing ? { notRun: missing } : await growthRows(true);
  }
  results.wallSeconds = (Date.now() - t0) / 1000;
  writeFileSync(join(here, 'REPORT.md'), report(results));
  log(`wrote bench/REPORT.md in ${results.wallSeconds.toFixed(0)} s`);
}

async function mainRows() {
  const bare = await startServer('bare.mjs');
  const peer = await startServer('peer.mjs');
  const app = await startApp();
  log('servers up', { bare: bare.url, peer: peer.url, app: app.url });
  await readySessions(app.url, 0, 100);
  const me = (id, url = app.url) => gql(url, `query($id: String!) { session(sessionId: $id) { me { id } } }`, { id }).then((d) => d.session.me.id);

  // Warm every server once (JIT, caches) before any repetition counts.
  for (const target of [gqlPost(bare.url), gqlPost(peer.url), gqlPost(app.url)]) await load({ ...target, duration: 1 });

  if (want('a') || want('b')) {
    const probe = await fetch(`${app.url}/api/v1/sessions`).catch(() => null);
    const hasRest = probe !== null && probe.status === 200;
    // (a) repeats one query while no session changes, so the app answers it from its result cache; the same
    // load on a second app with the cache off shows what executing every time costs (an info row).
    const uncached = want('a') ? await startApp([], { http: { resultCache: false } }) : null;
    if (uncached) {
      await readySessions(uncached.url, 0, 100);
      await load({ ...gqlPost(uncached.url), duration: 1 });
    }
    const runs = { bare: [], peer: [], app: [], rest: [], uncached: [] };
    // (a) runs right after the ceiling and right before (b), so each ratio below compares runs seconds apart:
    // the machine's speed drifts by 10-40% over minutes, far more than within one repetition.
    for (let rep = 0; rep < REPS_AB; rep++) {
      runs.bare.push(await load(gqlPost(bare.url)));
      if (want('a')) runs.app.push(await load(gqlPost(app.url)));
      if (want('b') && hasRest) runs.rest.push(await load({ url: `${app.url}/api/v1/sessions` }));
      if (want('a')) runs.peer.push(await load(gqlPost(peer.url)));
      if (uncached) runs.uncached.push(await load(gqlPost(uncached.url)));
    }
    await uncached?.stop();
    log('a/b runs', Object.fromEntries(Object.entries(runs).map(([k, rs]) => [k, rs.map((r) => Math.round(r.rps))])));
    const paired = (xs, ys) => (xs.length && xs.length === ys.length ? median(xs.map((x, i) => x.rps / ys[i].rps)) : null);
    results.ceiling = sum(runs.bare);
    results.abRuns = runs;
    results.ratios = {
      peerCeiling: paired(runs.peer, runs.bare),
      aCeiling: paired(runs.app, runs.bare),
      aPeer: paired(runs.app, runs.peer),
      bA: paired(runs.rest, runs.app),
      bCeiling: paired(runs.rest, runs.bare),
      bPeer: paired(runs.rest, runs.peer),
      uncachedCeiling: paired(runs.uncached, runs.bare),
      uncachedPeer: paired(runs.uncached, runs.peer),
    };
    if (want('a')) (results.peer = sum(runs.peer)), (results.a = sum(runs.app)), (results.aUncached = sum(runs.uncached));
    if (want('b')) results.b = hasRest ? sum(runs.rest) : { notRun: 'REST layer (/api/v1) not on this branch' };
    log('a/b', results);
  }

  if (wantPg('c')) {
    const send = (url, chatId) => ({
      url: `${url}/graphql`,
      method: 'POST',
      body: JSON.stringify({
        query: 'mutation($i: SendTextInput!) { sendText(input: $i) { message { id } } }',
        variables: { i: { sessionId: 'bench-0', chatId, content: 'bench' } },
      }),
      headers: { 'content-type': 'application/json' },
      connections: 64,
    });
    // The same load on a second app that starts every request of a poll at once (an info row), and on a third
    // that stores to PostgreSQL, run in turns with the first so all meet the same phases of the machine.
    const names = [];
    const targets = [];
    const extra = [];
    if (want('c')) {
      const ungated = await startApp([], { http: { operationsPerTurn: 0 } });
      extra.push(ungated);
      await readySessions(ungated.url, 0, 2);
      names.push('c', 'cUngated');
      targets.push(send(app.url, await me('bench-1')), send(ungated.url, await me('bench-1', ungated.url)));
    }
    const missing = await postgresMissing();
    if (missing) results.cPg = { notRun: missing };
    else {
      const onPg = await startPgApp();
      extra.push(onPg);
      await readySessions(onPg.url, 0, 2);
      names.push('cPg');
      targets.push(send(onPg.url, await me('bench-1', onPg.url)));
    }
    // The send path has not run yet on these servers: a longer warm-up than the reads', and as many repetitions as
    // (a)/(b), since a p99 over one 5 s run moves with the machine's phase more than the medians do.
    for (const target of targets) await load({ ...target, duration: 2 });
    const runs = targets.map(() => []);
    for (let rep = 0; rep < REPS_AB; rep++) {
      const order = targets.map((_, i) => i);
      if (rep % 2 === 1) order.reverse();
      for (const i of order) runs[i].push(await load(targets[i]));
    }
    for (const server of extra) await server.stop();
    const summary = (list) => ({ ...sum(list), runs: list.map((r) => ({ rps: r.rps, p99: r.p99 })) });
    for (const [i, name] of names.entries()) results[name] = summary(runs[i]);
    // PostgreSQL against SQLite: the median of the per-repetition ratios (runs seconds apart).
    if (results.c && results.cPg?.runs) results.cPg.ofSqlite = median(runs[names.indexOf('cPg')].map((r, rep) => r.rps / runs[0][rep].rps));
    log('c', results.c, results.cUngated, results.cPg);
  }
  await bare.stop();
  await peer.stop();

  if (want('d')) {
    results.d = [];
    for (const { n, heapMb, client } of FANOUT) {
      const reps = n >= 10000 ? 1 : REPS;
      const runs = [];
      let peakRss = 0;
      const target = heapMb ? await startApp([`--max-old-space-size=${heapMb}`]) : app;
      if (heapMb) await readySessions(target.url, 0, 3);
      for (let rep = 0; rep < reps; rep++) {
        const { child, next } = startNode(join(here, 'subscribers.mjs'), [
          JSON.stringify({ httpUrl: `${target.url}/graphql`, wsUrl: `${target.url.replace('http', 'ws')}/graphql`, sessionId: 'bench-2', subscribers: n, events: 100, client }),
        ], ['--max-old-space-size=4096']);
        const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(target.pid) ?? 0)), 100);
        const ready = await next();
        const heldRss = rssMb(target.pid);
        const r = await next();
        clearInterval(sampler);
        await stopChild(child);
        runs.push({ ...r, heldRss, ready });
        log('d', n, r, { heldRss, peakRss });
      }
      if (heapMb) await target.stop();
      results.d.push({
        subscribers: n,
        heapMb,
        client: client ?? 'lean',
        reps,
        perSecond: median(runs.map((r) => r.perSecond)),
        p50: median(runs.map((r) => r.p50)),
        p99: median(runs.map((r) => r.p99)),
        allDelivered: runs.every((r) => r.deliveries === r.expected && r.held),
        deliveries: runs.map((r) => `${r.deliveries}/${r.expected}`).join(', '),
        heldRss: median(runs.map((r) => r.heldRss)),
        peakRss,
      });
      await sleep(1000);
    }
  }
  await app.stop();

  if (want('e')) {
    const fresh = await startApp();
    await sleep(1000);
    const base = rssMb(fresh.pid);
    results.e = { baseRss: base, points: [] };
    let made = 0;
    for (const n of MEMORY) {
      const t = Date.now();
      await readySessions(fresh.url, made, n - made, 32);
      made = n;
      await sleep(2000);
      const rss = rssMb(fresh.pid);
      results.e.points.push({ sessions: n, rss, perSessionKb: ((rss - base) * 1024) / n, createSeconds: (Date.now() - t) / 1000 });
      log('e', results.e.points.at(-1));
    }
    await fresh.stop();
  }

  if (wantPg('f')) {
    // SQLite and PostgreSQL in turns, each run on a fresh server.
    const backends = [...(want('f') ? ['f'] : []), 'fPg'];
    const missing = await postgresMissing();
    if (missing) (results.fPg = { notRun: missing }), backends.pop();
    const runs = Object.fromEntries(backends.map((b) => [b, []]));
    for (let rep = 0; rep < (quick ? 1 : REPS); rep++) {
      for (const b of backends) runs[b].push(await webhookRun(quick ? 2000 : 5000, b === 'fPg'));
    }
    for (const b of backends) {
      results[b] = {
        perSecond: median(runs[b].map((r) => r.perSecond)),
        runs: runs[b],
        allDelivered: runs[b].every((r) => r.received === r.expected),
        unsigned: runs[b].reduce((n, r) => n + r.unsigned, 0),
        cpuAppMs: median(runs[b].map((r) => r.cpu?.appMsPerEvent ?? 0)),
        cpuDbMs: b === 'fPg' ? median(runs[b].map((r) => r.cpu?.dbMsPerEvent ?? 0)) : null,
      };
    }
    log('f', results.f, results.fPg);
  }

  if (want('g')) {
    const runs = [];
    for (let rep = 0; rep < (quick ? 3 : 5); rep++) runs.push(await coldStart());
    results.g = { ms: median(runs), runs };
    log('g', results.g);
  }
}

/**
 * (f): a fresh app with one READY session and a webhook (signed, as every webhook is) to a local receiver;
 * `events` messages are injected 50 per request (aliases), 4 requests at a time, and the rate is deliveries the receiver got per second from
 * the first injection to the last delivery. Every delivery passes through the durable outbox (a row
 * written before anything is sent, marked once the receiver answered).
 */
async function webhookRun(events, onPg = false) {
  const dataDir = mkdtempSync(join(tmpdir(), 'wa-gateway-bench-'));
  const database = onPg ? await benchDatabase() : null;
  const app = await startServer('app-server.mjs', [
    JSON.stringify({ ...JSON.parse(appConfig(dataDir)), webhooks: { allowCidrs: '127.0.0.0/8' }, ...(database ? { databaseUrl: database.url } : {}) }),
  ], appNodeArgs);
  const { child: receiverChild, next: receiverNext } = startNode(join(here, 'servers', 'receiver.mjs'), [String(events)]);
  try {
    await database?.check();
    const { port } = await receiverNext();
    await readySessions(app.url, 0, 1);
    await gql(app.url, `mutation($url: String!) { registerWebhook(input: { sessionId: "bench-0", url: $url, events: [MESSAGE] }) { secret } }`, {
      url: `http://127.0.0.1:${port}/hook`,
    });
    const done = receiverNext();
    const cpuBefore = { app: procCpuMs(app.pid), db: database ? await database.cpuMs() : null };
    const start = performance.timeOrigin + performance.now();
    await injectEvents(app.url, 'bench-0', events);
    const injectedAt = performance.timeOrigin + performance.now();
    const r = await Promise.race([done, sleep(120_000).then(() => null)]);
    if (!r) return { expected: events, received: 0, unsigned: 0, perSecond: 0, timedOut: true };
    // CPU per event, injection included (the app's process; on PostgreSQL also the database's backends for it).
    const cpu = { appMsPerEvent: (procCpuMs(app.pid) - cpuBefore.app) / events, dbMsPerEvent: database ? cpuDelta(cpuBefore.db, await database.cpuMs()) / events : null };
    return { expected: events, received: r.received, unsigned: r.unsigned, perSecond: r.received / ((r.lastAt - start) / 1000), injectSeconds: (injectedAt - start) / 1000, cpu };
  } finally {
    await stopChild(receiverChild);
    await app.stop();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `events` incoming messages injected into a session, 50 per request (aliases, so the injection's own HTTP cost stays small), 4 requests at a time. */
async function injectEvents(url, sessionId, events) {
  const PER_REQUEST = 50;
  const inject = `mutation(${Array.from({ length: PER_REQUEST }, (_, k) => `$b${k}: String!`).join(', ')}) { ${Array.from(
    { length: PER_REQUEST },
    (_, k) => `m${k}: sandboxInjectMessage(sessionId: "${sessionId}", from: "15550001234@c.us", body: $b${k}) { id }`,
  ).join(' ')} }`;
  let i = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (i < events) {
      const from = i;
      i += PER_REQUEST;
      await gql(url, inject, Object.fromEntries(Array.from({ length: PER_REQUEST }, (_, k) => [`b${k}`, `event ${from + k}`])));
    }
  }));
}

const GROWTH_SIZES = quick ? [0, 100_000] : [0, 100_000, 1_000_000];
const GROWTH_SECONDS = quick ? 1 : 2;
const GROWTH_REPS = Number(valueOf('--growth-reps') ?? 3);
// Only the (i) operations whose name contains one of these (lower case), to look into one row without the others.
const growthOps = valueOf('--growth-ops')?.toLowerCase().split(',') ?? null;
const growthOpWanted = (name) => !growthOps || growthOps.some((x) => name.toLowerCase().includes(x));
const GROWTH_EVENTS = quick ? 1000 : 2000;
// On PostgreSQL each injected message is a round of the write batch and its delivery a claim of its own: 500
// events take as long there as 2,000 on SQLite.
const growthEvents = (onPg) => (onPg ? GROWTH_EVENTS / 4 : GROWTH_EVENTS);

/**
 * (i) growth: one app per database size (empty, 100k, 1M messages preloaded through the store by
 * bench/growth-load.mjs, with as many completed webhook deliveries), all running at once; every operation is
 * measured on each in turns, GROWTH_REPS times, and its ratio at the largest size is the median of the
 * per-repetition ratios to the empty database (runs seconds apart: the machine drifts over minutes).
 * Sessions: bench-0 (a) sends to bench-1 (b); b's chat with a holds half the preload; bench-2 has the webhook.
 */
async function growthRows(onPg = false) {
  const apps = [];
  try {
    for (const size of GROWTH_SIZES) apps.push(await growthApp(size, onPg));
    const op = (name, body, connections = 16) => ({ name, target: (g) => ({ url: `${g.app.url}/graphql`, method: 'POST', body: JSON.stringify(body(g)), headers: { 'content-type': 'application/json' }, connections }) });
    const onB = (selection) => (g) =>
      selection.includes('$c')
        ? { query: `query($c: String!) { session(sessionId: "bench-1") { ${selection} } }`, variables: { c: g.jidA } }
        : { query: `{ session(sessionId: "bench-1") { ${selection} } }` };
    const pairs = op('send + markChatRead pairs/s', (g) => ({
      query: `mutation($i: SendTextInput!, $a: String!) { s: sendText(input: $i) { message { id } } r: markChatRead(sessionId: "bench-1", chatId: $a) { chatId } }`,
      variables: { i: { sessionId: 'bench-0', chatId: g.jidB, content: 'growth' }, a: g.jidA },
    }));
    // The reads first, the writes last: a server's background WAL checkpoint of earlier writes would count
    // in the CPU of the runs that follow.
    const ops = [
      op('`chats(first: 20)` req/s', onB('chats(first: 20) { edges { node { id unreadCount lastMessage { id body } } } }')),
      op('`messages(last: 50)`, newest, req/s', onB('chat(chatId: $c) { messages(last: 50) { edges { node { id body } } } }')),
      op('`messages(last: 50)` deep in the chat, req/s', (g) => ({
        query: `query($c: String!, $b: String!) { session(sessionId: "bench-1") { chat(chatId: $c) { messages(last: 50, before: $b) { edges { node { id body } } } } } }`,
        variables: { c: g.jidA, b: g.deepId },
      })),
      op('`contacts` req/s', onB('contacts { id }')),
      op('unread count (`chat { unreadCount }`) req/s', onB('chat(chatId: $c) { unreadCount }')),
      pairs,
    ];
    const rows = [];
    for (const o of ops.filter((x) => growthOpWanted(x.name))) {
      // Checked once (a GraphQL error would still be a 200 to autocannon), then warmed.
      for (const g of apps) {
        const t = o.target(g);
        const json = await (await fetch(t.url, { method: 'POST', headers: t.headers, body: t.body })).json();
        if (json.errors) throw new Error(`(i) ${o.name}: ${JSON.stringify(json.errors)}`);
        await load({ ...t, duration: 1 });
      }
      const runs = apps.map(() => []);
      for (let rep = 0; rep < GROWTH_REPS; rep++) {
        for (const [k, g] of apps.entries()) {
          await sleep(500); // what the last run wrote is checkpointed before this one's CPU is counted
          const cpu = await g.cpuSample();
          const r = await load({ ...o.target(g), duration: GROWTH_SECONDS });
          runs[k].push({ ...r, cpuMs: (await g.cpuSince(cpu)) / Math.max(1, r.requests) });
        }
      }
      rows.push(growthRow(o.name, runs));
      log(onPg ? 'i-pg' : 'i', rows.at(-1));
    }
    const acks = apps.map(() => []);
    for (let rep = 0; rep < (growthOpWanted('ack updates') ? GROWTH_REPS : 0); rep++) {
      for (const [k, g] of apps.entries()) {
        const r = await startNode(join(here, onPg ? 'growth-load-pg.mjs' : 'growth-load.mjs'), [JSON.stringify({ ...g.loadArgs, probe: true })]).next();
        acks[k].push({ rps: r.ackPerSecond, cpuMs: r.ackCpuMs / r.ackUpdates, errors: 0, non2xx: 0 });
      }
    }
    if (acks[0].length) rows.push(growthRow('ack updates/s (receipt + sender ack, in the store)', acks)), log(onPg ? 'i-pg' : 'i', rows.at(-1));
    const hooks = apps.map(() => []);
    for (let rep = 0; rep < (growthOpWanted('webhook deliveries') ? GROWTH_REPS : 0); rep++) {
      for (const [k, g] of apps.entries()) {
        const done = g.receiverNext();
        const cpu = await g.cpuSample();
        const start = performance.timeOrigin + performance.now();
        const events = growthEvents(onPg);
        await injectEvents(g.app.url, 'bench-2', events);
        const r = await Promise.race([done, sleep(120_000).then(() => null)]);
        hooks[k].push({ rps: r ? events / ((r.lastAt - start) / 1000) : 0, cpuMs: (await g.cpuSince(cpu)) / events, errors: r ? 0 : 1, non2xx: 0 });
      }
    }
    if (hooks[0].length) rows.push(growthRow('webhook deliveries/s (completed deliveries in the table: as many as messages)', hooks)), log(onPg ? 'i-pg' : 'i', rows.at(-1));
    return { sizes: GROWTH_SIZES, rows, loads: apps.map((g) => ({ size: g.size, ...g.loaded })) };
  } finally {
    for (const g of apps) await g.stop();
  }
}

/**
 * One (i) row from runs[size][rep] = { rps, cpuMs (server CPU per operation) }. The verdict's speed is CPU per
 * operation (empty's over this size's): on a shared machine throughput moves with the neighbours' load far more
 * than the CPU an operation costs the server does. Both are shown, each the median of per-repetition ratios.
 */
function growthRow(name, runs) {
  return {
    name,
    perSize: runs.map((rs) => median(rs.map((r) => r.rps))),
    cpuPerSize: runs.map((rs) => median(rs.map((r) => r.cpuMs))),
    rpsRatios: runs.map((rs) => median(rs.map((r, rep) => r.rps / runs[0][rep].rps))),
    ratios: runs.map((rs) => median(rs.map((r, rep) => runs[0][rep].cpuMs / r.cpuMs))),
    // Each repetition's speed ratio at each size, in the order run: how far one run strays from the others.
    repRatios: runs.map((rs) => rs.map((r, rep) => runs[0][rep].cpuMs / r.cpuMs)),
    errors: runs.flat().reduce((n, r) => n + r.errors + r.non2xx, 0),
  };
}

/**
 * One (i) server with `size` messages preloaded. On PostgreSQL the server gets a database of its own, loaded by
 * bench/growth-load-pg.mjs, and an operation's CPU is the server's plus that of the database's backends.
 */
async function growthApp(size, onPg = false) {
  const dataDir = mkdtempSync(join(tmpdir(), 'wa-gateway-growth-'));
  const database = onPg ? await benchDatabase() : null;
  const { child: receiverChild, next: receiverNext } = startNode(join(here, 'servers', 'receiver.mjs'), [String(growthEvents(onPg))]);
  const { port } = await receiverNext();
  const config = JSON.stringify({ ...JSON.parse(appConfig(dataDir)), webhooks: { allowCidrs: '127.0.0.0/8' }, ...(database ? { databaseUrl: database.url } : {}) });
  let app = await startServer('app-server.mjs', [config], appNodeArgs);
  await database?.check();
  await readySessions(app.url, 0, 3);
  const meOf = async (id) => (await gql(app.url, `query($id: String!) { session(sessionId: $id) { me { id } } }`, { id })).session.me.id;
  const jidA = await meOf('bench-0');
  const jidB = await meOf('bench-1');
  const { registerWebhook } = await gql(app.url, `mutation($url: String!) { registerWebhook(input: { sessionId: "bench-2", url: $url, events: [MESSAGE] }) { webhook { id } } }`, {
    url: `http://127.0.0.1:${port}/hook`,
  });
  await app.stop();
  const t = Date.now();
  const loadArgs = {
    ...(database ? { url: database.url } : { file: join(dataDir, 'wa-gateway.sqlite') }),
    messages: size, a: 'bench-0', b: 'bench-1', phoneA: jidA.split('@')[0], phoneB: jidB.split('@')[0], webhookId: registerWebhook.webhook.id,
  };
  const loaded = await startNode(join(here, onPg ? 'growth-load-pg.mjs' : 'growth-load.mjs'), [JSON.stringify(loadArgs)]).next();
  loaded.seconds = (Date.now() - t) / 1000;
  log(onPg ? 'i-pg' : 'i', size, 'loaded', loaded);
  app = await startServer('app-server.mjs', [config], appNodeArgs);
  await readySessions(app.url, 3, 0);
  // A history to page in on the empty database too: 400 pairs sent before the deep cursor is picked.
  if (size === 0) for (let i = 0; i < 400; i++) await gql(app.url, `mutation($i: SendTextInput!) { sendText(input: $i) { message { id } } }`, { i: { sessionId: 'bench-0', chatId: jidB, content: `seed ${i}` } });
  // The deep cursor: 400k messages back in a chat of 500k at 1M (80% of b's chat with a), the oldest of the last 200 on the empty one.
  const deepId = size === 0
    ? (await gql(app.url, `query($c: String!) { session(sessionId: "bench-1") { chat(chatId: $c) { messages(last: 200) { edges { node { id } } } } } }`, { c: jidA })).session.chat.messages.edges[0].node.id
    : loaded.deepId;
  const server = app;
  // CPU (ms) of the server, and on PostgreSQL of the backends serving its database, since a sample.
  const cpuSample = async () => ({ app: cpuMsOf(server.pid), db: database ? await database.cpuMs() : null });
  const cpuSince = async (before) => {
    const now = await cpuSample();
    return now.app - before.app + (database ? cpuDelta(before.db, now.db) : 0);
  };
  return {
    size, app, jidA, jidB, deepId, loaded, loadArgs, receiverNext, cpuSample, cpuSince,
    stop: async () => (await app.stop(), await stopChild(receiverChild), await database?.drop(), rmSync(dataDir, { recursive: true, force: true })),
  };
}

/**
 * (h): three cluster nodes (--node-id, lease 3 s) on one PostgreSQL database and, when BENCH_REDIS_URL (default
 * the local redis://127.0.0.1:6379) answers, one Redis under a prefix of the run's own; one READY session driven
 * by one of them. 1. The same sendText load (to the Echo Bot) enters at its owner and at another node, which
 * forwards each send to the owner over internal HTTP; the figure is the non-owner's rate as a ratio of the
 * owner's, median of per-repetition ratios, the two runs of a repetition back to back. 2. With Redis: 1,000
 * graphql-ws subscribers spread over the three nodes, events injected at the owner, each once the one before
 * reached every subscriber (the owner answers an injection before its fan-out, so an injector that waited for the
 * answer alone would run ahead of delivery and time the queue it builds); the latency of the deliveries at the
 * two other nodes (through the Redis Stream). 3. The owner is SIGKILLed: the time until another node lists
 * the session READY under a new owner.
 */
async function clusterRow() {
  const missing = await postgresMissing();
  if (missing) return { notRun: missing };
  const redisUrl = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
  const redisMissing = await redisReachable(redisUrl);
  const prefix = `wa-gateway-bench:${randomBytes(4).toString('hex')}:`;
  const database = await benchDatabase();
  const nodes = [];
  const LEASE_MS = 3000;
  try {
    for (const nodeId of ['h1', 'h2', 'h3']) {
      nodes.push({ id: nodeId, ...(await startApp([], { databaseUrl: database.url, cluster: { nodeId, leaseTtlMs: LEASE_MS }, ...(redisMissing ? {} : { redis: { url: redisUrl, prefix } }) })) });
    }
    await gql(nodes[0].url, CREATE, { id: 'bench-h' });
    /** The session's owner once it is READY (again: a node that missed its renewal under load loses it). */
    const readyOwner = async () => {
      for (let tries = 0; ; tries++) {
        const { session } = await gql(nodes[0].url, `{ session(sessionId: "bench-h") { status node } }`);
        if (session.status === 'READY' && session.node) return session.node;
        if (tries > 300) throw new Error('(h) session not READY');
        await sleep(100);
      }
    };
    let owner = await readyOwner();
    let ownerNode = nodes.find((n) => n.id === owner);
    let others = nodes.filter((n) => n !== ownerNode);
    let otherNode = others[0];
    const body = JSON.stringify({
      query: 'mutation($i: SendTextInput!) { sendText(input: $i) { message { id } } }',
      variables: { i: { sessionId: 'bench-h', chatId: '15550000001@c.us', content: 'bench' } },
    });
    const target = (url) => ({ url: `${url}/graphql`, method: 'POST', body, headers: { 'content-type': 'application/json' }, connections: 16 });
    await load({ ...target(otherNode.url), duration: 1 });
    const runs = [];
    for (let rep = 0; rep < (quick ? 2 : REPS); rep++) {
      const atOwner = await load(target(ownerNode.url));
      const viaOther = await load(target(otherNode.url));
      runs.push({ owner: atOwner, other: viaOther, ratio: atOwner.rps ? viaOther.rps / atOwner.rps : null });
    }
    const out = {
      owner: sum(runs.map((r) => r.owner)),
      other: sum(runs.map((r) => r.other)),
      ratio: median(runs.map((r) => r.ratio)),
      ratios: runs.map((r) => r.ratio),
    };
    owner = await readyOwner();
    ownerNode = nodes.find((n) => n.id === owner);
    others = nodes.filter((n) => n !== ownerNode);
    otherNode = others[0];
    if (redisMissing) out.fanoutNotRun = redisMissing;
    else {
      const ws = (n) => `${n.url.replace('http', 'ws')}/graphql`;
      const { child, next } = startNode(join(here, 'subscribers.mjs'), [
        JSON.stringify({ httpUrl: `${ownerNode.url}/graphql`, wsUrls: [ws(ownerNode), ...others.map(ws)], remoteFrom: 1, sessionId: 'bench-h', subscribers: 1000, events: quick ? 20 : 100, oneInFlight: true }),
      ], ['--max-old-space-size=4096']);
      const ready = await next();
      out.fanout = { ...(await next()), ready };
      await stopChild(child);
      log('h fan-out', out.fanout);
    }
    // Failover: the owner dies without a word; another node takes the session once its lease ran out.
    const killedAt = performance.now();
    ownerNode.child.kill('SIGKILL');
    for (;;) {
      const { session } = await gql(otherNode.url, `{ session(sessionId: "bench-h") { status node } }`).catch(() => ({ session: null }));
      if (session?.status === 'READY' && session.node && session.node !== owner) break;
      if (performance.now() - killedAt > 60_000) throw new Error('(h) no failover in 60 s');
      await sleep(50);
    }
    out.failoverMs = performance.now() - killedAt;
    out.leaseMs = LEASE_MS;
    log('h failover', out.failoverMs);
    return out;
  } finally {
    for (const n of nodes) await n.stop();
    await database.drop();
    if (!redisMissing) await deleteRedisPrefix(redisUrl, prefix).catch(() => undefined);
  }
}

/** Why Redis at `url` cannot be used, or null. */
async function redisReachable(url) {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (error) {
    return `Redis at ${redact(url)} not reachable (${error.message})`;
  } finally {
    redis.disconnect();
  }
}

async function deleteRedisPrefix(url, prefix) {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = nextCursor;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Spawn the server as `npm start` does and time from spawn to the first answered GraphQL request. */
async function coldStart() {
  const dataDir = mkdtempSync(join(tmpdir(), 'wa-gateway-cold-'));
  const start = performance.now();
  // What `npm start` runs: the bundle.
  const child = spawn(process.execPath, [...startNodeFlags, join(root, 'dist/bundle/main.js'), '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'warn'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  const port = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(line);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`main.js exited ${code}`)));
  });
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
  await res.text();
  const ms = performance.now() - start;
  await stopChild(child);
  rmSync(dataDir, { recursive: true, force: true });
  return ms;
}

const fmt = (x, d = 0) => (x === null || x === undefined ? 'n/a' : Number(x).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const pct = (x) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${(x * 100).toFixed(0)}%`);
const verdict = (ok) => (ok === null ? 'not run' : ok ? '**met**' : '**missed**');

function report(r) {
  const c = r.ceiling?.rps;
  const p = r.peer?.rps;
  const lines = [];
  lines.push('# wa-gateway benchmark report', '');
  lines.push(`Written by \`npm run bench${quick ? ' -- --quick' : ''}${only ? ` -- --only ${only.join(',')}` : ''}${growthOnly ? ' -- --growth' : ''}\` on ${new Date().toISOString()}${r.cPg || r.fPg ? ` (PostgreSQL rows on ${databaseUrl === 'none' ? 'none' : redact(databaseUrl)})` : ''} (${fmt(r.wallSeconds)} s).`, '');
  lines.push(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30, 1)} GiB memory, Node ${process.version}, ${process.platform}/${process.arch}. Shared and noisy: read ratios, not absolutes.`, '');
  lines.push(`Method: every server is its own child process (NODE_ENV=production); load comes from another child process (autocannon, 32 connections unless said, ${DURATION} s runs); figures are medians of ${REPS} repetitions interleaved across the servers, after a 1 s warm-up each ((c): 2 s; (d): 10 uncounted warm-up events). (c) runs ${REPS_AB} repetitions, in turns with its info row's server; the ceiling, (a), (b) and the peer run ${REPS_AB} repetitions in that order, and their ratios are medians of the per-repetition ratios, each between runs seconds apart: the machine's speed drifts over minutes more than within one repetition. The real server is the compiled app (\`buildApp\`, sandbox engine, temp data dir, log level warn, sandbox delays 0). The ceiling is a bare \`node:http\` server answering the same JSON bytes; the peer is stock graphql-yoga + Pothos with the same \`sessions { sessionId status lastActivity }\` shape (100 items).`, '');
  lines.push('| scenario | figure | vs ceiling | vs peer | goal | verdict |', '|---|---|---|---|---|---|');
  // Ratios are medians of per-repetition ratios (runs seconds apart); without them, ratios of the medians.
  const q = r.ratios ?? {};
  const ratio = (paired, x, y) => (paired ?? x / y);
  if (r.ceiling) lines.push(`| ceiling: bare node:http, same JSON | ${fmt(c)} req/s, p99 ${fmt(r.ceiling.p99)} ms | 100% | ${pct(1 / ratio(q.peerCeiling, p, c))} | | |`);
  if (r.peer) lines.push(`| peer: stock yoga + Pothos, 100 sessions | ${fmt(p)} req/s, p99 ${fmt(r.peer.p99)} ms | ${pct(ratio(q.peerCeiling, p, c))} | 100% | | |`);
  if (r.a) {
    const aC = ratio(q.aCeiling, r.a.rps, c);
    const aP = ratio(q.aPeer, r.a.rps, p);
    lines.push(`| (a) GraphQL \`sessions\`, 100 sessions | ${fmt(r.a.rps)} req/s, p50 ${fmt(r.a.p50)} ms, p99 ${fmt(r.a.p99)} ms | ${pct(aC)} | ${pct(aP)} | ≥ 35% of ceiling (> 3× peer) | ${verdict(aC >= 0.35)} |`);
  }
  if (r.aUncached?.rps) {
    const u = r.aUncached;
    lines.push(`| (a) with \`--graphql-result-cache false\` (executed every time) | ${fmt(u.rps)} req/s, p50 ${fmt(u.p50)} ms, p99 ${fmt(u.p99)} ms | ${pct(ratio(q.uncachedCeiling, u.rps, c))} | ${pct(ratio(q.uncachedPeer, u.rps, p))} | info | info |`);
  }
  if (r.b) {
    const bA = r.a ? ratio(q.bA, r.b.rps, r.a.rps) : null;
    lines.push(r.b.notRun ? `| (b) REST \`GET /api/v1/sessions\` | not run: ${r.b.notRun} | | | ≥ 90% of (a) | not run |` : `| (b) REST \`GET /api/v1/sessions\` | ${fmt(r.b.rps)} req/s, p99 ${fmt(r.b.p99)} ms (${pct(bA)} of (a)) | ${pct(ratio(q.bCeiling, r.b.rps, c))} | ${pct(ratio(q.bPeer, r.b.rps, p))} | ≥ 90% of (a) | ${verdict(bA === null ? null : bA >= 0.9)} |`);
  }
  const sendRuns = (x) => (x.runs ? ` (runs: ${x.runs.map((y) => `${fmt(y.rps)}/s p99 ${fmt(y.p99)}`).join(', ')})` : '');
  if (r.c) lines.push(`| (c) \`sendText\` between two READY sandbox sessions, 64 connections | ${fmt(r.c.rps)} sends/s, p50 ${fmt(r.c.p50)} ms, p99 ${fmt(r.c.p99)} ms, ${r.c.errors} errors${sendRuns(r.c)} | ${c ? pct(r.c.rps / c) : 'n/a'} | n/a (the peer has no mutation) | ≥ 3,000/s, p99 ≤ 25 ms | ${verdict(r.c.rps >= 3000 && r.c.p99 <= 25)} |`);
  if (r.cPg) {
    const x = r.cPg;
    const goal = '≥ 40% of (c) on SQLite, p99 ≤ 50 ms';
    lines.push(
      x.notRun
        ? `| (c) \`sendText\` on PostgreSQL | not run: ${x.notRun} | | | ${goal} | not run |`
        : `| (c) \`sendText\` on PostgreSQL (\`--database-url\`), 64 connections | ${fmt(x.rps)} sends/s, p50 ${fmt(x.p50)} ms, p99 ${fmt(x.p99)} ms, ${x.errors} errors${sendRuns(x)}; ${x.ofSqlite == null ? 'no SQLite run to compare' : `${pct(x.ofSqlite)} of SQLite's`} | ${c ? pct(x.rps / c) : 'n/a'} | n/a | ${goal} | ${verdict(x.ofSqlite == null ? null : x.ofSqlite >= 0.4 && x.p99 <= 50 && x.errors === 0)} |`,
    );
  }
  if (r.cUngated) {
    const u = r.cUngated;
    lines.push(`| (c) with \`--operations-per-turn 0\` (every request of a poll starts at once) | ${fmt(u.rps)} sends/s, p50 ${fmt(u.p50)} ms, p99 ${fmt(u.p99)} ms, ${u.errors} errors${sendRuns(u)} | ${c ? pct(u.rps / c) : 'n/a'} | n/a | info | info |`);
  }
  for (const d of r.d ?? []) {
    const library = d.client === 'graphql-ws';
    const goal = library ? 'info: the subscribers\' own client costs' : d.subscribers >= 10000 ? 'held, RSS ≤ 600 MB, every event delivered' : 'p99 ≤ 50 ms, ≥ 30,000 deliveries/s';
    const ok = d.subscribers >= 10000 ? d.allDelivered && d.peakRss <= 600 : d.p99 <= 50 && d.perSecond >= 30000;
    lines.push(`| (d) graphql-ws fan-out, ${fmt(d.subscribers)} subscribers × 100 events (${d.reps} run${d.reps > 1 ? 's' : ''}${library ? '; subscribers on graphql-ws\'s client' : ''}${d.heapMb ? `; server heap capped: --max-old-space-size=${d.heapMb}` : ''}) | ${fmt(d.perSecond)} deliveries/s, p50 ${fmt(d.p50, 1)} ms, p99 ${fmt(d.p99, 1)} ms; delivered ${d.deliveries}; server RSS ${fmt(d.heldRss)} MB held, ${fmt(d.peakRss)} MB peak | n/a | n/a | ${goal} | ${library ? 'info' : verdict(ok)} |`);
  }
  if (r.e) for (const e of r.e.points) lines.push(`| (e) RSS per READY sandbox session, ${fmt(e.sessions)} sessions | ${fmt(e.perSessionKb, 1)} KB/session (RSS ${fmt(e.rss)} MB, idle ${fmt(r.e.baseRss)} MB; created in ${fmt(e.createSeconds, 1)} s) | n/a | n/a | ≤ 64 KB at 10,000 | ${e.sessions >= 10000 ? verdict(e.perSessionKb <= 64) : 'info'} |`);
  if (r.f) lines.push(`| (f) signed webhook deliveries through the durable outbox to a local receiver (${r.f.runs.length} run${r.f.runs.length > 1 ? 's' : ''} of ${fmt(r.f.runs[0]?.expected)} events) | ${fmt(r.f.perSecond)} deliveries/s (runs: ${r.f.runs.map((x) => fmt(x.perSecond)).join(', ')}); CPU per event ${fmt(r.f.cpuAppMs, 3)} ms (app); delivered ${r.f.runs.map((x) => `${x.received}/${x.expected}`).join(', ')}, ${r.f.unsigned} unsigned | n/a | n/a | ≥ 1,000/s | ${verdict(r.f.allDelivered && r.f.unsigned === 0 && r.f.perSecond >= 1000)} |`);
  if (r.fPg) {
    const x = r.fPg;
    lines.push(
      x.notRun
        ? `| (f) webhook deliveries on PostgreSQL | not run: ${x.notRun} | | | ≥ 1,000/s | not run |`
        : `| (f) the same on PostgreSQL (\`--database-url\`; ${x.runs.length} run${x.runs.length > 1 ? 's' : ''} of ${fmt(x.runs[0]?.expected)} events) | ${fmt(x.perSecond)} deliveries/s (runs: ${x.runs.map((y) => fmt(y.perSecond)).join(', ')}); CPU per event ${fmt(x.cpuAppMs, 3)} ms (app) + ${fmt(x.cpuDbMs, 3)} ms (PostgreSQL); delivered ${x.runs.map((y) => `${y.received}/${y.expected}`).join(', ')}, ${x.unsigned} unsigned | n/a | n/a | ≥ 1,000/s | ${verdict(x.allDelivered && x.unsigned === 0 && x.perSecond >= 1000)} |`,
    );
  }
  if (r.h?.notRun) lines.push(`| (h) sendText entering at a non-owner cluster node | not run: ${r.h.notRun} | | | ≥ 0.6 of the owner's | not run |`);
  else if (r.h) {
    lines.push(
      `| (h) sendText entering at a non-owner cluster node (3 nodes on PostgreSQL, forwarded to the owner), as a ratio of the same load at the owner | ${fmt(r.h.other.rps)} req/s vs ${fmt(r.h.owner.rps)} at the owner: ratio ${r.h.ratio?.toFixed(2) ?? 'n/a'} (runs: ${r.h.ratios.map((x) => x?.toFixed(2)).join(', ')}); p99 ${fmt(r.h.other.p99)} vs ${fmt(r.h.owner.p99)} ms${r.h.other.errors + r.h.owner.errors ? `; ${r.h.other.errors + r.h.owner.errors} errors` : ''} | n/a | n/a | ≥ 0.6 | ${verdict(r.h.ratio >= 0.6 && !(r.h.other.errors + r.h.owner.errors))} |`,
    );
    const f = r.h.fanout;
    if (r.h.fanoutNotRun) lines.push(`| (h) cross-node delivery, 1,000 subscribers over 3 nodes | not run: ${r.h.fanoutNotRun} | | | p99 ≤ 50 ms | not run |`);
    else if (f) {
      const all = f.deliveries === f.expected && f.held;
      lines.push(
        `| (h) cross-node delivery: 1,000 graphql-ws subscribers spread over the 3 nodes (Redis Stream), ${f.events} events injected at the owner, one in flight | p99 ${fmt(f.remoteP99, 1)} ms, p50 ${fmt(f.remoteP50, 1)} ms at the two other nodes (${fmt(f.remoteDeliveries)} deliveries); all subscribers: p99 ${fmt(f.p99, 1)} ms, ${fmt(f.perSecond)} deliveries/s; delivered ${f.deliveries}/${f.expected} | n/a | n/a | p99 ≤ 50 ms | ${verdict(all && f.remoteP99 <= 50)} |`,
      );
    }
    if (r.h.failoverMs !== undefined) {
      lines.push(`| (h) failover: the owner SIGKILLed (lease ${fmt(r.h.leaseMs)} ms), until another node lists the session READY under a new owner | ${fmt(r.h.failoverMs)} ms | n/a | n/a | ≤ 8 s | ${verdict(r.h.failoverMs <= 8000)} |`);
    }
  }
  if (r.g) lines.push(`| (g) cold start, \`npm start\`'s \`node dist/bundle/main.js\` to first answered request | ${fmt(r.g.ms)} ms (runs: ${r.g.runs.map((x) => fmt(x)).join(', ')}) | n/a | n/a | ≤ 1.0 s | ${verdict(r.g.ms <= 1000)} |`);
  const size = (n) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : 'empty');
  const growthLines = (g, label) => {
    if (g?.notRun) return [`| (i) growth${label} | not run: ${g.notRun} | | | ≥ 0.8 of empty | not run |`];
    if (!g) return [];
    const last = g.sizes.length - 1;
    return g.rows.map((row) => {
      const figures = row.perSize.map((x, k) => `${size(g.sizes[k])} ${fmt(x)}/s (${fmt(row.cpuPerSize[k] * 1000)} µs CPU)`).join(', ');
      const ratios = row.ratios.slice(1).map((x, k) => `${x.toFixed(2)} at ${size(g.sizes[k + 1])}`).join(', ');
      const rpsRatios = row.rpsRatios.slice(1).map((x, k) => `${x.toFixed(2)} at ${size(g.sizes[k + 1])}`).join(', ');
      const reps = row.repRatios ? ` (repetitions at ${size(g.sizes[last])}: ${row.repRatios[last].map((x) => x.toFixed(2)).join(', ')})` : '';
      return `| (i) growth${label}: ${row.name} | ${figures}; speed vs empty (CPU per operation): ${ratios}${reps}; throughput vs empty: ${rpsRatios}${row.errors ? `; ${row.errors} errors` : ''} | n/a | n/a | ≥ 0.8 of empty at ${size(g.sizes[last])} | ${verdict(row.ratios[last] >= 0.8 && !row.errors)} |`;
    });
  };
  lines.push(...growthLines(r.i, ''), ...growthLines(r.iPg, ' on PostgreSQL'));
  if (r.abRuns) {
    const each = (name, rs) => (rs.length ? `${name} ${rs.map((x) => fmt(x.rps)).join(', ')}` : null);
    const parts = [each('ceiling', r.abRuns.bare), each('(a)', r.abRuns.app), each('(b)', r.abRuns.rest), each('peer', r.abRuns.peer), each('(a) uncached', r.abRuns.uncached ?? [])].filter(Boolean);
    lines.push('', `Each repetition's req/s, in the order run: ${parts.join('; ')}.`);
  }
  const loadsNote = (g) => g.loads.filter((l) => l.size > 0).map((l) => `${fmt(l.seconds, 1)} s for ${fmt(l.size)} messages and as many completed deliveries (messages ${fmt(l.messagesMs / 1000, 1)} s; ${fmt(l.loadCpuS, 1)} s of CPU)`).join('; ');
  if (r.i || r.iPg?.rows) {
    const g = r.i ?? r.iPg;
    lines.push('', `(i): ${r.i ? `the SQLite preloads (through the store, transactions of 20,000; CPU of the loader for the messages) took ${loadsNote(r.i)}. ` : ''}${r.iPg?.rows ? `The PostgreSQL preloads (bench/growth-load-pg.mjs: INSERT ... SELECT over generate_series, 250,000 rows a statement, then VACUUM ANALYZE; CPU of the database's backends) took ${loadsNote(r.iPg)}. ` : ''}Each figure is the median of ${GROWTH_REPS} runs of ${GROWTH_SECONDS} s (16 connections) made in turns on the ${g.sizes.length} servers of a backend, each ratio the median of the per-repetition ratios; the verdict reads the speed as the server's CPU time per operation (from /proc; on PostgreSQL the server's and its database backends'), which the neighbours' load on a shared machine moves far less than throughput; ack updates are timed in a process of their own on the same database, beside its idle server (${fmt(g.loads[0]?.ackUpdates)} updates a run, each a receipt and the sender's ack raised, a commit per 100, as a sandbox receipt does).`);
  }
  if (quick) lines.push('', '`--quick`: 2 s runs; fan-out and memory at 1,000 only (10,000 not run).');
  lines.push('', 'Notes: (d) injects the 100 events back to back (each `sandboxInjectMessage` awaited) and times each delivery from just before its injection, in the subscriber process, so latency includes queueing under full load and the subscriber process\'s own work on the same 2 cores. Each subscriber is a bare `ws` socket speaking graphql-transport-ws (connection_init, subscribe, every `next` parsed as JSON and checked), the WebSocket counterpart of autocannon; the row marked "graphql-ws\'s client" runs the same load through graphql-ws\'s own client, which spends about as much CPU per delivery as the server does, on the same cores. (e) is (RSS with N READY sessions − RSS of the idle server) / N. (a) and (b) ask the same thing while no session changes, so the app answers them again from its result cache (the bytes of the last answer, reused while the sessions are unchanged; README, "Answers of session state are kept"); the row with `--graphql-result-cache false` is the same load on a second app that executes every query. (c): the app starts at most 32 operations per event-loop turn (`--operations-per-turn`; README, "A burst is spread over event-loop turns"); the row with `--operations-per-turn 0` is the same load on a second app that starts every request of a poll at once, run in turns with the first.', '');
  return lines.join('\n');
}

const cleanup = () => {
  for (const child of children) child.kill('SIGKILL');
};
process.on('SIGINT', () => (cleanup(), process.exit(130)));
main().then(
  () => (cleanup(), process.exit(0)),
  (error) => (console.error(error), cleanup(), process.exit(1)),
);
