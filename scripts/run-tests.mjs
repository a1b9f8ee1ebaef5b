// Node 20's test runner does not expand globs: find every test file and pass the list.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...find(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = find('test')
  .map((f) => relative('.', f))
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const scratch = mkdtempSync(join(tmpdir(), 'wa-gateway-test-run-'));
const skipsFile = join(scratch, 'skips.jsonl');
const reporters = [
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  `--test-reporter=${new URL('./skip-reporter.mjs', import.meta.url).href}`,
  `--test-reporter-destination=${skipsFile}`,
];
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...reporters, ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);

// The spec reporter shows each skip where it happens; say them again at the very end, with the reason.
let skips = [];
try {
  skips = readFileSync(skipsFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
} catch {
  // no file: nothing was reported
}
rmSync(scratch, { recursive: true, force: true });
console.log(`\nNode ${process.version}: ${skips.length === 0 ? 'nothing skipped' : `${skips.length} skipped:`}`);
for (const s of skips) console.log(`  SKIPPED ${s.file ? `${relative('.', s.file)}: ` : ''}${s.name}${s.reason ? ` -- ${s.reason}` : ''}`);
process.exit(result.status ?? 1);
