// Runs the suites twice: every test file on SQLite, then, when PostgreSQL answers (TEST_DATABASE_URL, by default
// the local server), every file that stores something again with WA_TEST_STORE=postgres. Outside CI a
// PostgreSQL that does not answer is a printed skip of that pass; under CI=true it fails the run.
// TEST_POSTGRES=off leaves the PostgreSQL pass out on purpose (said in the summary), TEST_POSTGRES=only runs it alone.
// TEST_CONTAINERS=off leaves the container suites out on purpose (said in the summary): CI's second run, on
// another Node, would build and run the very same images again (the Node in them is the image's own).
// Node 20's test runner does not expand globs: find every test file and pass the list.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pg from 'pg';
import { buildTests } from './test-build.mjs';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...find(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

// A file stores something when it starts a server (in process or as a child) or asks for the backend.
const STORES = /\b(startServer|scopedFixture|twoSessions|spawnServer|WA_TEST_STORE)\b/;
// Files the PostgreSQL pass leaves out although they start a server: their subject is not storage, or they
// choose their backends themselves.
const NOT_STORAGE = {
  'test/dashboard.test.ts': 'pages in a browser',
  'test/dashboard-media.test.ts': 'pages in a browser',
  'test/docs-browser.test.ts': 'pages in a browser',
  'test/graphiql.test.ts': 'pages in a browser',
  'test/hostile-http.test.ts': 'HTTP framing and body limits, before anything is stored',
  'test/hostile-sockets.test.ts': 'sockets and connection limits, before anything is stored',
  'test/logs.test.ts': 'log output',
  'test/open-wa-server.test.ts': 'the open-wa engine in Chromium (its sessions go through the repository the sandbox suites cover)',
  'test/examples.test.ts': 'example programs against the API (the calls they make are covered by the API suites)',
  'test/rest-clients.test.ts': 'client programs against the API (the calls they make are covered by the API suites)',
  'test/storage-full.test.ts': "a full disk under the data dir, where SQLite's file is",
  'test/pg-migrations.test.ts': 'on PostgreSQL already in the first pass',
  'test/db-copy.test.ts': 'from SQLite to PostgreSQL already in the first pass',
  'test/pg-outage.test.ts': 'on a PostgreSQL of its own already in the first pass',
  'test/cluster.test.ts': 'several nodes on one PostgreSQL database (clustering is PostgreSQL only), already in the first pass',
  'test/webhooks-cluster.test.ts': 'several servers on a PostgreSQL database of its own already in the first pass',
  'test/cluster-redis-events.test.ts': 'node processes on a PostgreSQL database of its own already in the first pass',
  'test/cluster-redis-view.test.ts': 'two servers on a PostgreSQL database of its own already in the first pass',
  'test/cluster-full.test.ts': 'three node processes on a PostgreSQL database of its own and Redis, already in the first pass',
  'test/cluster-redis-limits.test.ts': 'node processes choosing their storage themselves (SQLite data dirs, a PostgreSQL database) already in the first pass',
};

const inCi = !['', '0', 'false', undefined].includes(process.env.CI?.toLowerCase());
const mode = (process.env.TEST_POSTGRES ?? '').toLowerCase();
const filter = process.argv.slice(2);
// The container suites go last: their images are made meanwhile (below).
const CONTAINER = /^test\/container[a-z-]*\.test\.ts$/;
const containersOff = (process.env.TEST_CONTAINERS ?? '').toLowerCase() === 'off';
const files = find('test')
  .map((f) => relative('.', f))
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .filter((f) => !(containersOff && CONTAINER.test(f)))
  .sort((a, b) => Number(CONTAINER.test(a)) - Number(CONTAINER.test(b)) || a.localeCompare(b));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const pgFiles = files.filter((f) => !(f in NOT_STORAGE) && STORES.test(readFileSync(f, 'utf8')));

const scratch = mkdtempSync(join(tmpdir(), 'wa-gateway-test-run-'));
// The type check (`npm run typecheck`) runs beside the first pass; a failure fails the run, its output at the end.
// TEST_TYPECHECK=off leaves it out (said in the summary): CI's second run, on another Node, would check the same
// types again (tsc's result does not depend on the Node running it).
const typecheckOff = (process.env.TEST_TYPECHECK ?? '').toLowerCase() === 'off';
const typecheckLog = join(scratch, 'typecheck.log');
const typecheck = typecheckOff
  ? Promise.resolve(0)
  : new Promise((resolve) => {
      const fd = openSync(typecheckLog, 'w');
      spawn('npm', ['run', 'typecheck', '--silent'], { stdio: ['ignore', fd, fd], env: process.env }).on('exit', (code) => resolve(code)).on('error', () => resolve(1));
    });
// The run's JavaScript (scripts/test-build.mjs): test files run from it, spawned servers from its bundle.
const built = await buildTests(process.cwd(), join('.test-build', `run-${process.pid}`));
const removeBuilt = () => rmSync(built.dir, { recursive: true, force: true });
process.on('exit', removeBuilt);
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));
const compiled = (file) => join(built.dir, file).replace(/\.ts$/, '.js');
const source = (file) => relative(built.dir, file).replace(/\.js$/, '.ts');
const COUNTS = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'];

/** One `node --test` run over `list`; returns its exit status, the runner's own counts and the skips. */
function pass(name, list, env) {
  const skipsFile = join(scratch, `${name}.jsonl`);
  const reporters = [
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    `--test-reporter=${new URL('./skip-reporter.mjs', import.meta.url).href}`,
    `--test-reporter-destination=${skipsFile}`,
  ];
  const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...reporters, ...list.map(compiled)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'test', WA_TEST_BUNDLE: built.bundle, ...env },
  });
  let lines = [];
  try {
    lines = readFileSync(skipsFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
  } catch {
    // no file: nothing was reported
  }
  const counts = {};
  const times = {};
  for (const line of lines) {
    if (line.count) counts[line.count] = (counts[line.count] ?? 0) + line.n;
    else if (line.timed) times[line.timed] = (times[line.timed] ?? 0) + line.ms;
  }
  const slowest = Object.entries(times)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([file, ms]) => `${source(file.replace(/^file:\/\//, ''))} ${(ms / 1000).toFixed(0)} s`);
  const skips = lines.filter((line) => !line.count && !line.timed).map((line) => ({ ...line, file: line.file && source(line.file.replace(/^file:\/\//, '')) }));
  return { name, files: list.length, status: result.status ?? 1, counts, skips, slowest };
}

/** Why PostgreSQL cannot take the second pass, or null. */
async function postgresMissing() {
  const url = process.env.TEST_DATABASE_URL || 'postgres://root@127.0.0.1:5432/test';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    const shown = new URL(url);
    if (shown.password) shown.password = '***';
    return `PostgreSQL at ${shown} is not reachable (${error.message}); set TEST_DATABASE_URL or start it`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

// A machine's first build of the container images, or a rebuild after a change, takes minutes: made in the
// background while the other suites run, so the container suites (run last) find them ready within their own
// time limit. Only where those suites can run (root, podman, debootstrap).
let prepare = null;
const containerFiles = files.filter((f) => CONTAINER.test(f));
const canContain = process.getuid?.() === 0 && ['podman', 'debootstrap', 'podman-compose'].every((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0);
if (containerFiles.length > 0 && mode !== 'only' && canContain) {
  const log = join(scratch, 'container-images.log');
  const fd = openSync(log, 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/container-prepare.ts'], { stdio: ['ignore', fd, fd], env: process.env });
  prepare = { log, done: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

const runs = [];
let pgNote = null;
let failed = false;
if (mode !== 'only') runs.push(pass('sqlite', files, { WA_TEST_STORE: 'sqlite' }));
if (mode === 'off') pgNote = 'not run (TEST_POSTGRES=off)';
else if (pgFiles.length === 0) pgNote = 'no test file stores anything in this selection';
else {
  const missing = await postgresMissing();
  if (missing && inCi) {
    pgNote = `FAILED: CI=true refuses to skip: ${missing}`;
    failed = true;
  } else if (missing) pgNote = `SKIPPED: ${missing}`;
  else {
    console.log(`\n==================== the same suites on PostgreSQL (${pgFiles.length} of ${files.length} files) ====================`);
    for (const [file, why] of Object.entries(NOT_STORAGE)) if (files.includes(file)) console.log(`  not on PostgreSQL: ${file} -- ${why}`);
    console.log('');
    runs.push(pass('postgres', pgFiles, { WA_TEST_STORE: 'postgres' }));
  }
}
const typecheckStatus = await typecheck;
const typecheckOutput = typecheckStatus === 0 ? '' : readFileSync(typecheckLog, 'utf8').trim();
if (prepare) {
  // Its output (built or kept, how long, the image's size) after the pass that used it.
  await prepare.done;
  console.log(readFileSync(prepare.log, 'utf8').trim());
}
rmSync(scratch, { recursive: true, force: true });
removeBuilt();

// The closing lines: each pass's counts, every skip with its reason (the spec reporter showed them where they
// happened; here nobody misses them), then the totals of both passes in the spec reporter's own form.
const label = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
const n = (counts, key) => counts[key] ?? 0;
console.log('');
for (const run of runs) {
  const c = run.counts;
  console.log(`Node ${process.version} on ${label[run.name]} (${run.files} files): ${n(c, 'pass')} passed, ${n(c, 'fail')} failed, ${n(c, 'cancelled')} cancelled, ${n(c, 'skipped')} skipped, ${n(c, 'todo')} todo`);
  if (run.slowest.length > 0) console.log(`  longest files: ${run.slowest.join(', ')}`);
}
if (pgNote) console.log(`Node ${process.version} on PostgreSQL: ${pgNote}`);
if (typecheckStatus !== 0) console.log(`${typecheckOutput}\nNode ${process.version}: the type check (npm run typecheck) FAILED`);
else if (typecheckOff) console.log(`Node ${process.version}: the type check not run (TEST_TYPECHECK=off)`);
else console.log(`Node ${process.version}: the type check passed`);
if (containersOff) console.log(`Node ${process.version}: the container suites not run (TEST_CONTAINERS=off)`);
const skips = runs.flatMap((run) => run.skips.map((s) => ({ ...s, pass: run.name })));
console.log(`Node ${process.version}: ${skips.length === 0 ? 'nothing skipped' : `${skips.length} skipped:`}`);
for (const s of skips) console.log(`  SKIPPED [${label[s.pass]}] ${s.file ? `${relative('.', s.file)}: ` : ''}${s.name}${s.reason ? ` -- ${s.reason}` : ''}`);
if (runs.length > 1) {
  for (const key of COUNTS) console.log(`ℹ ${key} ${runs.reduce((sum, run) => sum + n(run.counts, key), 0)}`);
}
process.exit(failed || typecheckStatus !== 0 || runs.some((run) => run.status !== 0) ? 1 : 0);
