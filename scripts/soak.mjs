// A long steady load on the gateway, started as a user starts it (`npm start`'s `node dist/bundle/main.js`, with its flags), to see whether
// its cost per operation stays flat as history grows. README, "Soak".
// Usage: npm run soak -- [--minutes 10] [--sessions 2] [--senders 4] [--rate 0] [--subscribers 200] [--read-delay-ms 50]
//   [--retention-days D] [--prune-interval-ms MS] [--webhook-events all|none|MESSAGE,...] [--interval-s 30] [--data-dir DIR] [--keep]
// Every interval it prints one line: sends/s, the server's CPU ms per send (from /metrics), webhook deliveries/s,
// subscription events/s, RSS (also less SQLite's page cache), heap and the database file's size. At the end: the first
// and last windows compared.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import SQLite from 'better-sqlite3';
import { PAGE_CACHE_KIB } from '../dist/src/store/database.js';
import { startNodeFlags } from './start-flags.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const minutes = Number(opt('minutes', 10));
const sessions = Number(opt('sessions', 2));
const senders = Number(opt('senders', 4));
// Sends per second over all senders (0: each sends as fast as answers come). A fixed rate is a steady load
// whatever else the machine runs: what retention's file-size check needs.
const rate = Number(opt('rate', 0));
const subscribers = Number(opt('subscribers', 200));
const readDelayMs = Number(opt('read-delay-ms', 50));
const retentionDays = opt('retention-days', null);
const pruneIntervalMs = opt('prune-interval-ms', null);
// EventType names for the webhook (comma-separated), "all", or "none".
const webhookEvents = opt('webhook-events', 'all');
const intervalS = Number(opt('interval-s', 30));
const ownDir = !opt('data-dir');
const dataDir = opt('data-dir', null) ?? mkdtempSync(join(tmpdir(), 'wa-gateway-soak-'));
const keep = argv.includes('--keep');
const CACHE_MB = PAGE_CACHE_KIB / 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const children = [];

function startServer() {
  const args = [
    ...startNodeFlags, join(root, 'dist/bundle/main.js'), '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'warn',
    '--sandbox-read-delay-ms', String(readDelayMs), '--rate-limit', 'false', '--send-min-gap-ms', '0', '--send-jitter-ms', '0',
    '--webhook-allow-cidrs', '127.0.0.0/8',
    ...(retentionDays !== null ? ['--history-retention-days', retentionDays] : []),
    ...(pruneIntervalMs !== null ? ['--history-prune-interval-ms', pruneIntervalMs] : []),
  ];
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(line);
      if (m) resolve({ child, url: `http://127.0.0.1:${m[1]}` });
      else if (/"level":"?(error|50)/.test(line)) console.error('[server]', line);
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
}

async function gql(url, query, variables = {}) {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const json = await res.json();
  if (json.errors) throw new Error(`GraphQL: ${JSON.stringify(json.errors)}`);
  return json.data;
}

async function metrics(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name) => Number(new RegExp(`^${name} ([0-9.e+-]+)`, 'm').exec(text)?.[1] ?? NaN);
  return { cpuS: value('process_cpu_seconds_total'), rss: value('process_resident_memory_bytes'), heap: value('nodejs_heap_size_used_bytes') };
}

const fileBytes = (name) => {
  try {
    return statSync(join(dataDir, name)).size;
  } catch {
    return 0; // not there (yet)
  }
};

let reader = null;
/**
 * The database's size in pages (MB) as of its last commit, and how much of it is on SQLite's free list (pages of
 * removed rows, which new rows reuse), read on a read-only connection of our own.
 */
function databasePagesMb() {
  try {
    reader ??= new SQLite(join(dataDir, 'wa-gateway.sqlite'), { readonly: true, fileMustExist: true });
    const pageMb = reader.pragma('page_size', { simple: true }) / 2 ** 20;
    return { pagesMb: reader.pragma('page_count', { simple: true }) * pageMb, freeMb: reader.pragma('freelist_count', { simple: true }) * pageMb };
  } catch {
    return { pagesMb: (fileBytes('wa-gateway.sqlite') + fileBytes('wa-gateway.sqlite-wal')) / 2 ** 20, freeMb: NaN };
  }
}

async function main() {
  const { child: server, url } = await startServer();
  const ids = Array.from({ length: sessions }, (_, i) => `soak-${i}`);
  for (const id of ids) {
    await gql(url, `mutation($id: String!) { createSession(input: { sessionId: $id, config: { sandbox: { autoScanMs: 0 } } }) { session { sessionId } } }`, { id }).catch(() => null);
  }
  const phones = {};
  for (let tries = 0; Object.keys(phones).length < ids.length; tries++) {
    if (tries > 300) throw new Error('sessions did not become READY');
    for (const id of ids) {
      const { session } = await gql(url, `query($id: String!) { session(sessionId: $id) { status me { id } } }`, { id });
      if (session?.status === 'READY' && session.me) phones[id] = session.me.id;
    }
    await sleep(200);
  }

  // A webhook on every event of the first session, to a receiver in a process of its own (in this one, the
  // senders' turns would slow its answers, and the webhook's 4 deliveries in flight would wait on them).
  let deliveries = 0;
  const receiver = spawn(process.execPath, [join(root, 'bench/servers/receiver.mjs'), '100'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(receiver);
  const receiverPort = await new Promise((resolve) =>
    createInterface({ input: receiver.stdout }).on('line', (line) => {
      const m = JSON.parse(line);
      if (m.port) resolve(m.port);
      else deliveries = m.received;
    }),
  );
  if (webhookEvents !== 'none') {
    const events = webhookEvents === 'all' ? [] : webhookEvents.split(',');
    await gql(url, `mutation($s: String!, $u: String!, $e: [EventType!]) { registerWebhook(input: { sessionId: $s, url: $u, events: $e }) { secret } }`, { s: ids[0], u: `http://127.0.0.1:${receiverPort}/hook`, e: events });
  }

  // Subscribers in their own process.
  const subs = spawn(process.execPath, [join(root, 'scripts/soak-subscribers.mjs'), JSON.stringify({ wsUrl: `${url.replace('http', 'ws')}/graphql`, sessionIds: ids, subscribers })], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(subs);
  const subLines = createInterface({ input: subs.stdout });
  const subNext = () => new Promise((resolve) => subLines.once('line', (l) => resolve(JSON.parse(l))));
  if (subscribers > 0) await subNext();
  const subTotals = async () => (subscribers > 0 ? (subs.stdin.write('\n'), subNext()) : { received: 0, errors: 0 });

  // Senders: each sends from one session to the next; without --rate, one request at a time, as fast as answers come.
  let sends = 0;
  let failures = 0;
  let stop = false;
  const endAt = Date.now() + minutes * 60_000;
  const SEND = 'mutation($i: SendTextInput!) { sendText(input: $i) { message { id } } }';
  const counts = new Array(senders).fill(0);
  const send = async (k) => {
    const from = ids[k % ids.length];
    const to = phones[ids[(k + 1) % ids.length]];
    try {
      // The count at a fixed width, so a steady load writes rows of a steady size: when `soak 0 9999` became
      // `soak 0 10000`, every message row gained a byte and the table's pages held 21.9 rows instead of 22.9, so
      // with retention on the file grew for one more window and looked as if it never settled.
      await gql(url, SEND, { i: { sessionId: from, chatId: to, content: `soak ${k} ${String(counts[k]++).padStart(9, '0')}` } });
      sends++;
    } catch (error) {
      failures++;
      if (failures <= 3) console.error('[soak] send failed:', String(error).slice(0, 200));
      return false;
    }
    return true;
  };
  const sender = async (k) => {
    while (!stop) if (!(await send(k))) await sleep(100);
  };
  // With --rate, send n leaves at n / rate s, taking the senders in turn, whether or not earlier answers are in
  // (an open loop, at most MAX_IN_FLIGHT waiting). Senders that each waited for their answer lost the rest of
  // their gap to every slow one, so at 200/s over 4 senders (a 20 ms gap each) the rate sagged to 193-199 with the
  // server's latency, and with retention on the rows the window held, and so the file, followed the sags.
  const MAX_IN_FLIGHT = 64;
  const paced = async () => {
    const gapMs = 1000 / rate;
    const inFlight = new Set();
    let next = performance.now();
    for (let n = 0; !stop; n++) {
      if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
      const now = performance.now();
      // A stall of this process is made up only within 100 ms, so it never turns into a burst.
      next = Math.max(next + gapMs, now - 100);
      if (next > now) await sleep(next - now);
      const p = send(n % senders).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  };
  const running = rate > 0 ? [paced()] : Array.from({ length: senders }, (_, k) => sender(k));

  console.log(`soak: ${minutes} min, ${sessions} sessions, ${senders} senders, ${subscribers} subscribers, reads ${readDelayMs > 0 ? `on (${readDelayMs} ms)` : 'off'}, retention ${retentionDays ?? 'default'}; data ${dataDir}`);
  console.log('   t  sends/s  cpu-ms/send  deliveries/s  sub-events/s  rss-MB  net-MB  heap-MB  db-MB  free-MB  wal-MB  failures');
  const rows = [];
  let last = { t: Date.now(), sends: 0, deliveries: 0, sub: 0, m: await metrics(url) };
  const start = last.t;
  while (Date.now() < endAt) {
    await sleep(Math.min(intervalS * 1000, Math.max(0, endAt - Date.now())));
    const now = Date.now();
    const m = await metrics(url);
    const sub = await subTotals();
    const dt = (now - last.t) / 1000;
    const sent = sends - last.sends;
    const row = {
      t: Math.round((now - start) / 1000),
      sendsPerS: sent / dt,
      cpuMsPerSend: sent ? ((m.cpuS - last.m.cpuS) * 1000) / sent : NaN,
      deliveriesPerS: (deliveries - last.deliveries) / dt,
      subEventsPerS: (sub.received - last.sub) / dt,
      rssMb: m.rss / 2 ** 20,
      heapMb: m.heap / 2 ** 20,
      dbMb: fileBytes('wa-gateway.sqlite') / 2 ** 20,
      walMb: fileBytes('wa-gateway.sqlite-wal') / 2 ** 20,
    };
    // SQLite's page cache fills with the pages the server touches, up to its cap: about the database's size
    // (its pages as of the last commit, the WAL's included) until that passes the cap, the cap after. RSS less
    // that is what a leak would show in.
    Object.assign(row, databasePagesMb());
    row.pageCacheMb = Math.min(row.pagesMb, CACHE_MB);
    row.netRssMb = row.rssMb - row.pageCacheMb;
    rows.push(row);
    console.log(
      `${String(row.t).padStart(4)}  ${row.sendsPerS.toFixed(0).padStart(7)}  ${row.cpuMsPerSend.toFixed(2).padStart(11)}  ${row.deliveriesPerS.toFixed(0).padStart(12)}  ${row.subEventsPerS.toFixed(0).padStart(12)}  ${row.rssMb.toFixed(0).padStart(6)}  ${row.netRssMb.toFixed(0).padStart(6)}  ${row.heapMb.toFixed(0).padStart(7)}  ${row.dbMb.toFixed(1).padStart(5)}  ${row.freeMb.toFixed(1).padStart(7)}  ${row.walMb.toFixed(1).padStart(6)}  ${failures}`,
    );
    last = { t: now, sends, deliveries, sub: sub.received, m };
  }
  stop = true;
  await Promise.all(running);

  // The first and last windows: 5 minutes each, or a third of a shorter run.
  const windowS = Math.min(300, (minutes * 60) / 3);
  const first = rows.filter((r) => r.t <= windowS + 1);
  const lastRows = rows.filter((r) => r.t > minutes * 60 - windowS + 1);
  const mean = (xs, f) => xs.reduce((s, x) => s + f(x), 0) / Math.max(1, xs.length);
  const firstRate = mean(first, (r) => r.sendsPerS);
  const lastRate = mean(lastRows, (r) => r.sendsPerS);
  const rssAfterFirst = first.at(-1)?.rssMb ?? NaN;
  const rssEnd = rows.at(-1)?.rssMb ?? NaN;
  const netAfterFirst = first.at(-1)?.netRssMb ?? NaN;
  const netEnd = rows.at(-1)?.netRssMb ?? NaN;
  // Once the file is past the cache's cap, RSS itself is comparable: the first sample from then on (at or after
  // the first window) is the other baseline.
  const warm = rows.find((r) => r.t >= (first.at(-1)?.t ?? 0) && r.pagesMb >= CACHE_MB);
  const change = (from, to) => (((to - from) / from) * 100).toFixed(1);
  const dbAfterFirst = first.at(-1)?.dbMb ?? NaN;
  const dbEnd = rows.at(-1)?.dbMb ?? NaN;
  // With retention on, the file should stop growing once the window is full: its largest size after the first
  // window against its size at the window's end. How full SQLite's pages are wanders a little under a steady
  // churn (the same rows took ±0.2% more or fewer pages within one run; ±1% before delivery rows kept room for
  // their completion), and the file keeps room for the most pages it ever needed: growth within 1% is the pages'
  // fill, not a trend. A trend shows over the last third too, where the goal allows 0.1%.
  const dbMaxLater = Math.max(...rows.filter((r) => r.t > (first.at(-1)?.t ?? 0)).map((r) => r.dbMb));
  const lastThird = rows.filter((r) => r.t >= (minutes * 60 * 2) / 3);
  const dbLastThirdGrowth = lastThird.length ? (Math.max(...lastThird.map((r) => r.dbMb)) - lastThird[0].dbMb) / lastThird[0].dbMb : NaN;
  const dbLastGrewAt = rows.reduce((at, r, i) => (i > 0 && r.dbMb > rows[i - 1].dbMb ? r.t : at), rows[0]?.t ?? 0);
  const dbOk = dbMaxLater <= dbAfterFirst * 1.01 && dbLastThirdGrowth <= 0.001;
  const netOk = Math.abs(netEnd - netAfterFirst) <= 0.1 * netAfterFirst;
  // How steady the load was: a retention check needs every interval at the rate asked.
  const rates = rows.slice(1).map((r) => r.sendsPerS);
  const spread = rates.length ? `, intervals after the first ${Math.min(...rates).toFixed(1)}-${Math.max(...rates).toFixed(1)}` : '';
  console.log(`summary: sends/s first ${+(windowS / 60).toFixed(2)} min ${firstRate.toFixed(0)}, last ${+(windowS / 60).toFixed(2)} min ${lastRate.toFixed(0)} (ratio ${(lastRate / firstRate).toFixed(2)}, goal >= 0.90${spread})`);
  console.log(`summary: cpu ms/send first ${mean(first, (r) => r.cpuMsPerSend).toFixed(2)}, last ${mean(lastRows, (r) => r.cpuMsPerSend).toFixed(2)}`);
  console.log(`summary: RSS after the first window ${rssAfterFirst.toFixed(0)} MB, at the end ${rssEnd.toFixed(0)} MB (${change(rssAfterFirst, rssEnd)}%; the page cache grew by ${(rows.at(-1).pageCacheMb - first.at(-1).pageCacheMb).toFixed(0)} MB meanwhile)`);
  console.log(`summary: RSS less SQLite's page cache (min(database, ${CACHE_MB} MB)) after the first window ${netAfterFirst.toFixed(0)} MB, at the end ${netEnd.toFixed(0)} MB (${change(netAfterFirst, netEnd)}%, goal within 10%: ${netOk ? 'met' : 'missed'})`);
  if (warm && warm !== rows.at(-1)) console.log(`summary: RSS once the file passed the cache (${warm.t} s) ${warm.rssMb.toFixed(0)} MB, at the end ${rssEnd.toFixed(0)} MB (${change(warm.rssMb, rssEnd)}%)`);
  else console.log(`summary: the file did not pass the page cache's ${CACHE_MB} MB before the end: RSS alone still includes its filling`);
  console.log(`summary: database file after the first window ${dbAfterFirst.toFixed(2)} MB, at the end ${dbEnd.toFixed(2)} MB, largest after the first window ${dbMaxLater.toFixed(2)} MB (${change(dbAfterFirst, dbMaxLater)}%), in the last third ${(dbLastThirdGrowth * 100).toFixed(2)}%, last grew at ${dbLastGrewAt} s${retentionDays !== null ? ` (with retention, goal no larger than after the first window within 1% of page fill, and 0.1% over the last third: ${dbOk ? 'met' : 'missed'})` : ''}; total sends ${sends}, failures ${failures}, webhook deliveries ${deliveries}`);
  console.log(JSON.stringify({ summary: { minutes, firstRate, lastRate, rssAfterFirst, rssEnd, netAfterFirst, netEnd, warmAt: warm?.t ?? null, warmRss: warm?.rssMb ?? null, dbAfterFirst, dbEnd, dbMaxLater, dbLastThirdGrowth, dbLastGrewAt, sends, failures, deliveries }, rows }));

  reader?.close();
  subs.kill('SIGTERM');
  receiver.kill('SIGTERM');
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  if (ownDir && !keep) rmSync(dataDir, { recursive: true, force: true });
}

const cleanup = () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
};
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => (cleanup(), process.exit(130)));
main().then(
  () => process.exit(0),
  (error) => (console.error(error), cleanup(), process.exit(1)),
);
