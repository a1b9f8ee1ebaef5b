// What the container suites share: podman with this repository's settings, the gateway's image built once
// for all of them, the stand-ins for the cluster profile's other images, and polling with a gentle pace.
//
// Cost: scripts/container-base-images.sh makes the base images once per machine (kept in podman's storage,
// tagged by Node version and recipe revision). The gateway's image is tagged by a hash of the build context's
// files (git's tree of the working copy, untracked files included) and the base images: the second
// `npm test` of a CI run (Node 24 after Node 20), and the second suite of a run, find it and only run it; a new
// commit rebuilds on top of podman's layer cache, so unchanged dependencies are not installed again. The
// suites run side by side, so the making is done under a lock: the second one waits and then finds the images.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './process.js';

export const CONTAINERS_CONF = join(root, 'test/fixtures/podman-containers.conf');
const env = { ...process.env, CONTAINERS_CONF };

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? root, env: options.env ?? env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function podman(...args: string[]): Promise<string> {
  const r = await run('podman', args);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 250 ms until it returns something truthy (containers answer over real networks). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs: number, what: string): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export const bytes = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** Runs `fn` holding an exclusive lock of this machine (flock(1) keeps it while its child waits on our pipe). */
async function locked<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const dir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'wa-gateway-ci', 'container');
  mkdirSync(dir, { recursive: true });
  const holder = spawn('flock', [join(dir, `${name}.lock`), 'sh', '-c', 'echo locked; read _'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder.once('error', reject);
    holder.once('exit', (code) => reject(new Error(`flock exited ${code}`)));
    holder.stdout.once('data', () => resolve());
  });
  try {
    return await fn();
  } finally {
    holder.stdin.end();
  }
}

/** A hash of the files the build could see: the working copy's tree as git would commit it. */
function contextHash(): string {
  const indexCopy = join(mkdtempSync(join(tmpdir(), 'wa-gateway-index-')), 'index');
  try {
    const index = spawnSync('git', ['rev-parse', '--path-format=absolute', '--git-path', 'index'], { cwd: root, encoding: 'utf8' }).stdout.trim();
    copyFileSync(index, indexCopy);
    const gitEnv = { ...process.env, GIT_INDEX_FILE: indexCopy };
    const add = spawnSync('git', ['add', '-A', '.'], { cwd: root, env: gitEnv, encoding: 'utf8' });
    const tree = spawnSync('git', ['write-tree'], { cwd: root, env: gitEnv, encoding: 'utf8' });
    if (add.status !== 0 || tree.status !== 0) throw new Error(`git: ${add.stderr}${tree.stderr}`);
    return tree.stdout.trim();
  } catch {
    // Not a git checkout: a key of this process, so the image is built.
    return `nogit-${process.pid}-${Date.now()}`;
  } finally {
    rmSync(join(indexCopy, '..'), { recursive: true, force: true });
  }
}

export interface GatewayImage {
  image: string;
  runtimeBase: string;
  /** What happened, for the suite's report: built (and in how long) or kept, the size over the base. */
  facts: string[];
}

/** The base images (made when missing) and the gateway's image of this working copy (built when missing). */
export async function gatewayImage(): Promise<GatewayImage> {
  const base = await run('scripts/container-base-images.sh', []);
  if (base.code !== 0) throw new Error(`making the base images failed:\n${base.stderr}${base.stdout}`);
  const tags = Object.fromEntries(base.stdout.trim().split('\n').map((line) => line.split('=') as [string, string]));
  const runtimeBase = tags.runtime!;
  const buildBase = tags.build!;
  assert.ok(runtimeBase && buildBase, base.stdout);
  const key = createHash('sha256').update(`${contextHash()}\n${await podman('image', 'inspect', '--format', '{{.Id}}', runtimeBase, buildBase)}`).digest('hex').slice(0, 16);
  const image = `localhost/wa-gateway:test-${key}`;
  const facts: string[] = [];
  await locked('gateway-image', async () => {
    if ((await run('podman', ['image', 'exists', image])).code === 0) {
      facts.push(`image ${image} kept from an earlier run or suite (same build context and base images)`);
      return;
    }
    const started = Date.now();
    // The build reads npm's registry through this machine's CA bundle and npm configuration.
    const mounts = ['/etc/ssl/certs:/etc/ssl/certs:ro'];
    const npmrc = spawnSync('npm', ['config', 'get', 'globalconfig'], { encoding: 'utf8' }).stdout.trim();
    if (npmrc && existsSync(npmrc)) mounts.push(`${npmrc}:/usr/local/etc/npmrc:ro`);
    const built = await run('podman', [
      'build', '--format', 'docker', '--network', 'host', ...mounts.flatMap((m) => ['-v', m]),
      '--build-arg', `BUILD_IMAGE=${buildBase}`, '--build-arg', `RUNTIME_IMAGE=${runtimeBase}`, '-t', image, '.',
    ]);
    if (built.code !== 0) throw new Error(`podman build failed:\n${built.stdout.slice(-6000)}\n${built.stderr.slice(-4000)}`);
    facts.push(`image ${image} built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    // Earlier test images go; their shared layers stay for the next build.
    const old = (await podman('images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=localhost/wa-gateway:test-*')).split('\n').filter((t) => t && t !== image);
    if (old.length) await run('podman', ['rmi', ...old]);
    // Untagged build layers are the cache of the next build; those unused for a week go.
    await run('podman', ['image', 'prune', '-f', '--filter', 'until=168h']);
  });
  const [size, baseSize] = (await podman('image', 'inspect', '--format', '{{.Size}}', image, runtimeBase)).split('\n').map(Number);
  facts.push(`image size ${bytes(size!)}, ${bytes(size! - baseSize!)} over its runtime base (${bytes(baseSize!)})`);
  return { image, runtimeBase, facts };
}

export const STAND_INS = ['postgres', 'redis', 'nginx'] as const;
export type StandIn = (typeof STAND_INS)[number];

/**
 * The images the compose file's cluster profile names besides the gateway's (PostgreSQL, Redis, nginx), made
 * from the local runtime base with Debian's packages (test/fixtures/compose-services), tagged by that folder's
 * files and the base: made once per machine, like the base images.
 */
export async function standIns(runtimeBase: string): Promise<{ tags: Record<StandIn, string>; facts: string[] }> {
  const dir = join(root, 'test/fixtures/compose-services');
  const hash = createHash('sha256').update(await podman('image', 'inspect', '--format', '{{.Id}}', runtimeBase));
  for (const file of readdirSync(dir).sort()) hash.update(`\n${file}\n`).update(readFileSync(join(dir, file)));
  const key = hash.digest('hex').slice(0, 12);
  const tags = Object.fromEntries(STAND_INS.map((s) => [s, `localhost/wa-gateway-ci-${s}:${key}`])) as Record<StandIn, string>;
  const facts: string[] = [];
  await locked('stand-ins', async () => {
    const started = Date.now();
    let built = false;
    for (const target of STAND_INS) {
      if ((await run('podman', ['image', 'exists', tags[target]])).code === 0) continue;
      const r = await run('podman', ['build', '--format', 'docker', '--network', 'host', '--target', target, '--build-arg', `BASE_IMAGE=${runtimeBase}`, '-t', tags[target], dir]);
      if (r.code !== 0) throw new Error(`building the ${target} stand-in failed:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
      built = true;
    }
    if (!built) return;
    facts.push(`PostgreSQL, Redis and nginx stand-ins built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const old = (await podman('images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=localhost/wa-gateway-ci-*')).split('\n').filter((t) => t && !Object.values(tags).includes(t));
    if (old.length) await run('podman', ['rmi', ...old]);
  });
  return { tags, facts };
}
