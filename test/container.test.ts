// The container image, built with podman from base images made on this machine (no registry is reachable):
// run with a data volume and an API key, reached through its published port as a user would.
//
// Cost: scripts/container-base-images.sh makes the base images once per machine (kept in podman's storage,
// tagged by Node version and recipe revision). The image itself is tagged by a hash of the build context's
// files (git's tree of the working copy, untracked files included) and the base images: the second
// `npm test` of a CI run (Node 24 after Node 20) finds it and only runs it; a new commit rebuilds on top of
// podman's layer cache, so unchanged dependencies are not installed again.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { waitFor } from './helpers/app.js';
import { root } from './helpers/process.js';
import { needs, requireTools } from './helpers/system-tools.js';

const CONTAINERS_CONF = join(root, 'test/fixtures/podman-containers.conf');
const env = { ...process.env, CONTAINERS_CONF };
const KEY = 'container-test-key-0123456789abcdef';
const ECHO = '15550000001@c.us';
const auth = { authorization: `Bearer ${KEY}` };
const unique = `${process.pid}-${Date.now().toString(36)}`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
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

async function podman(...args: string[]): Promise<string> {
  const r = await run('podman', args);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
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
    // Not a git checkout: a key that never matches, so the image is built.
    return `nogit-${unique}`;
  } finally {
    rmSync(join(indexCopy, '..'), { recursive: true, force: true });
  }
}

const bytes = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

describe('container image (podman)', { ...needs('podman'), timeout: 20 * 60_000 }, () => {
  let image = '';
  let runtimeBase = '';
  const facts: string[] = [];
  const cleanup: (() => Promise<unknown>)[] = [];

  before(async () => {
    requireTools('podman');
    const base = await run('scripts/container-base-images.sh', []);
    if (base.code !== 0) throw new Error(`making the base images failed:\n${base.stderr}${base.stdout}`);
    const tags = Object.fromEntries(base.stdout.trim().split('\n').map((line) => line.split('=') as [string, string]));
    runtimeBase = tags.runtime!;
    const buildBase = tags.build!;
    assert.ok(runtimeBase && buildBase, base.stdout);
    const key = createHash('sha256').update(`${contextHash()}\n${await podman('image', 'inspect', '--format', '{{.Id}}', runtimeBase, buildBase)}`).digest('hex').slice(0, 16);
    image = `localhost/wa-gateway:test-${key}`;
    if ((await run('podman', ['image', 'exists', image])).code === 0) {
      facts.push(`image ${image} kept from an earlier run (same build context and base images)`);
    } else {
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
    }
    const [size, baseSize] = (await podman('image', 'inspect', '--format', '{{.Size}}', image, runtimeBase)).split('\n').map(Number);
    facts.push(`image size ${bytes(size!)}, ${bytes(size! - baseSize!)} over its runtime base (${bytes(baseSize!)})`);
    // A machine's first run makes the base images (debootstrap) and builds without a layer cache.
  }, { timeout: 30 * 60_000 });

  after(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('reports its size and whether it was built', (t: TestContext) => {
    for (const fact of facts) t.diagnostic(fact);
    console.log(facts.map((f) => `container: ${f}`).join('\n'));
  });

  it('declares a non-root user, /data as a volume, port 8080 and a health check', async () => {
    const config = JSON.parse(await podman('image', 'inspect', '--format', '{{json .Config}}', image));
    assert.equal(config.User, '10001:10001');
    assert.ok(Object.keys(config.Volumes ?? {}).includes('/data'), JSON.stringify(config.Volumes));
    assert.ok(Object.keys(config.ExposedPorts ?? {}).includes('8080/tcp'), JSON.stringify(config.ExposedPorts));
    const healthcheck = JSON.parse(await podman('image', 'inspect', '--format', '{{json .HealthCheck}}', image));
    assert.deepEqual(healthcheck?.Test, ['CMD', 'node', 'scripts/container-healthcheck.mjs']);
    assert.ok(config.Env.includes('HOST=0.0.0.0') && config.Env.includes('DATA_DIR=/data'), JSON.stringify(config.Env));
  });

  it('without an API key it refuses to start and says why', async () => {
    const r = await run('podman', ['run', '--rm', '--name', `wa-gateway-nokey-${unique}`, image]);
    assert.equal(r.code, 2, `${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /refusing to start: no API key is configured and the server would listen on 0\.0\.0\.0/);
    assert.match(r.stderr, /ALLOW_NO_KEY=true/);
  });

  it('runs with a data volume, a key and a read-only root: health, a session to the Echo Bot, a restart without QR, a prompt stop, as non-root', async (t: TestContext) => {
    const volume = `wa-gateway-data-${unique}`;
    const name = `wa-gateway-${unique}`;
    await podman('volume', 'create', volume);
    cleanup.push(() => podman('volume', 'rm', '-f', volume));
    cleanup.push(() => podman('rm', '-f', '-t', '0', name));
    const port = await freePort();
    await podman(
      // --read-only: the server writes only to /data (and /tmp), as the Kubernetes manifests' readOnlyRootFilesystem expects.
      'run', '-d', '--read-only', '--name', name, '-p', `127.0.0.1:${port}:8080`, '-v', `${volume}:/data`,
      '-e', `API_KEY=${KEY}`, '-e', 'SANDBOX_START_DELAY_MS=20', '-e', 'SANDBOX_AUTH_DELAY_MS=20', '-e', 'SEND_MIN_GAP_MS=0', '-e', 'SEND_JITTER_MS=0',
      image,
    );
    const url = `http://127.0.0.1:${port}`;
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}/api/v1${path}`, {
        method,
        headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const up = async () =>
      waitFor(async () => {
        try {
          return (await fetch(`${url}/health`)).status === 200;
        } catch {
          return false;
        }
      }, 60_000, '/health through the published port');

    await up();
    const health = (await (await fetch(`${url}/health`)).json()) as any;
    assert.equal(health.data.status, 'healthy');
    assert.equal((await fetch(`${url}/api/v1/sessions`)).status, 401, 'the API asks for the key');
    const check = await run('podman', ['healthcheck', 'run', name]);
    assert.equal(check.code, 0, `HEALTHCHECK: ${check.stdout}${check.stderr}`);

    // The server is PID 1 (SIGTERM reaches it directly) and runs as uid 10001.
    const status = await podman('exec', name, 'cat', '/proc/1/status');
    assert.match(status, /^Uid:\s+10001\s+10001\s+10001\s+10001$/m, status);
    assert.match(await podman('exec', name, 'cat', '/proc/1/cmdline'), /^node\0dist\/bundle\/main\.js/);

    const created = await api('POST', '/sessions', { sessionId: 'box', waitForQR: true });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(created.body.data.qrCode, /^data:image\/png;base64,/);
    assert.equal((await api('POST', '/sessions/box/sandbox/scan')).status, 200);
    await waitFor(async () => (await api('GET', '/sessions/box/status')).body.data.status === 'ready', 30_000, 'box ready');
    const sent = await api('POST', '/sessions/box/send-text', { chatId: ECHO, content: 'hello from a container' });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    await waitFor(async () => {
      const messages = await api('GET', `/sessions/box/chats/${ECHO}/messages`);
      return messages.body.data?.some((m: any) => !m.fromMe && m.body === 'hello from a container');
    }, 30_000, 'the Echo Bot answer');

    // A restart keeps /data: the session comes back READY without a new QR, its history with it.
    await podman('restart', '-t', '10', name);
    await up();
    await waitFor(async () => (await api('GET', '/sessions/box/status')).body.data?.status === 'ready', 30_000, 'box ready again');
    const qr = await api('GET', '/sessions/box/qr');
    assert.notEqual(qr.status, 200, `no QR after the restart: ${JSON.stringify(qr.body)}`);
    const history = await api('GET', `/sessions/box/chats/${ECHO}/messages`);
    assert.ok(history.body.data.some((m: any) => m.body === 'hello from a container'), 'history kept on the volume');

    // podman stop sends SIGTERM and kills after 5 s: exit code 0 says the server drained and left by itself.
    const stopping = Date.now();
    await podman('stop', '-t', '5', name);
    t.diagnostic(`podman stop took ${Date.now() - stopping} ms`);
    const state = JSON.parse(await podman('inspect', '--format', '{{json .State}}', name));
    assert.equal(state.ExitCode, 0, `exit code ${state.ExitCode} (137: killed after the 5 s grace)`);
    const logs = await run('podman', ['logs', name]);
    assert.match(`${logs.stdout}${logs.stderr}`, /shutting down/);
  });

  it("compose.yaml's default service runs under podman-compose with the image, the key from .env", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wa-gateway-compose-'));
    const project = `wagw${unique.replace(/[^a-z0-9]/g, '')}`;
    const port = await freePort();
    copyFileSync(join(root, 'compose.yaml'), join(dir, 'compose.yaml'));
    writeFileSync(join(dir, '.env'), `API_KEY=${KEY}\nWA_GATEWAY_IMAGE=${image}\nWA_GATEWAY_PORT=127.0.0.1:${port}\n`);
    const compose = (...args: string[]) => run('podman-compose', ['-p', project, '-f', join(dir, 'compose.yaml'), ...args], { cwd: dir });
    cleanup.push(async () => {
      await compose('down', '-v', '-t', '5');
      // podman-compose 1.0.3 leaves the project's network behind.
      await run('podman', ['network', 'rm', '-f', `${project}_default`]);
      rmSync(dir, { recursive: true, force: true });
    });
    const upped = await compose('up', '-d', 'gateway');
    assert.equal(upped.code, 0, `${upped.stdout}${upped.stderr}`);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => {
      try {
        return (await fetch(`${url}/health`)).status === 200;
      } catch {
        return false;
      }
    }, 60_000, 'the compose service on its port');
    const res = await fetch(`${url}/api/v1/sessions`, { headers: auth });
    assert.equal(res.status, 200, 'the key came from .env');
    assert.equal((await fetch(`${url}/api/v1/sessions`)).status, 401);
    const down = await compose('down', '-v', '-t', '5');
    assert.equal(down.code, 0, `${down.stdout}${down.stderr}`);
  });
});
