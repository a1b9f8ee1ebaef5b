// What `npm test` runs: the TypeScript of the project turned into plain JavaScript once per run, instead of
// through tsx in every test process. tsx's loader hooks cost each process ~1.5 s of CPU on Node 20 (they run
// on their own thread, one round trip per module, for ~1,000 modules), paid by ~100 test files per pass and
// by every server a test spawns; on CI's two cores that was a third of the run.
//
// Every .ts file becomes a .js file at the same relative path under `<dir>/` (inside the project, so packages
// resolve from its node_modules), transformed by esbuild as tsx would. import.meta.url, dirname and filename
// are set to the source file's own, so whatever a module finds beside itself (fixtures, the schema, the
// dashboard's files, the open-wa worker's source) is found where it was. Servers the tests spawn run from a
// bundle of src/main.ts made the same way as `npm start`'s.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, transform } from 'esbuild';
import { bundleOptions } from './bundle-options.mjs';

const SOURCES = ['src', 'rest-compat', 'test', 'scripts', 'dashboard', 'examples', 'bench'];
const SKIP = new Set(['node_modules', 'fixtures']);

function tsFiles(dir) {
  const out = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP.has(entry.name)) out.push(...tsFiles(path));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function readdirSafe(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/**
 * Every .ts file under `dirs` (folders of `root`) transformed by esbuild into the same path relative to `base`
 * (default `root`) under `outDir`, with the compiler options of `tsconfig` (a project file, default
 * tsconfig.json) and the defines `defineOf(file)` returns; the files' count.
 */
export async function transpileTree(root, dirs, outDir, { base = root, tsconfig = 'tsconfig.json', target = 'es2022', defineOf = () => undefined } = {}) {
  const tsconfigRaw = JSON.parse(readFileSync(join(root, tsconfig), 'utf8'));
  const files = dirs.flatMap((d) => tsFiles(join(root, d)));
  await Promise.all(
    files.map(async (file) => {
      const { code } = await transform(readFileSync(file, 'utf8'), { loader: 'ts', format: 'esm', target, sourcefile: file, tsconfigRaw, define: defineOf(file) });
      const out = join(outDir, relative(base, file)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, code);
    }),
  );
  return files.length;
}

/** Builds the run's JavaScript into `<root>/<dir>`; returns the folder and the bundle's path. */
export async function buildTests(root, dir) {
  const out = join(root, dir);
  rmSync(out, { recursive: true, force: true });
  // What a killed run left behind (its folder is named after its process id).
  for (const name of readdirSafe(dirname(out))) {
    const pid = Number(/^run-(\d+)$/.exec(name)?.[1]);
    if (pid && !alive(pid)) rmSync(join(dirname(out), name), { recursive: true, force: true });
  }
  const files = await transpileTree(root, SOURCES, out, {
    target: 'node20',
    defineOf: (file) => ({
      'import.meta.url': JSON.stringify(pathToFileURL(file).href),
      'import.meta.dirname': JSON.stringify(dirname(file)),
      'import.meta.filename': JSON.stringify(file),
    }),
  });
  await build({ ...bundleOptions, absWorkingDir: root, entryPoints: [join(root, 'src/main.ts')], outdir: join(out, 'bundle'), tsconfig: join(root, 'tsconfig.json') });
  return { dir: out, bundle: join(out, 'bundle', 'main.js'), files };
}

/**
 * What `tsc -p tsconfig.build.json` emits into dist/ (src/ and rest-compat/ as JavaScript, nothing else), made
 * by esbuild in about a second instead of tsc's ~40 s: for the suite that checks the bundle `npm start` runs,
 * while the runner's type check covers the types.
 */
export function emitDist(root) {
  return transpileTree(root, ['src', 'rest-compat'], join(root, 'dist'));
}

/** What `tsc -p tsconfig.dashboard.json` emits into dist/dashboard: the dashboard's scripts, for the browser suites. */
export function emitDashboard(root) {
  return transpileTree(root, ['dashboard/src'], join(root, 'dist', 'dashboard'), { base: join(root, 'dashboard', 'src'), tsconfig: 'tsconfig.dashboard.json' });
}
