// The container image, built with podman from base images made on this machine (no registry is reachable):
// run with a data volume and an API key, reached through its published port as a user would; the compose
// file's default service; the Baileys engine inside it. The cluster profile runs in container-cluster.test.ts.
// How the images are made and kept between runs: test/helpers/container.ts.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { waitFor } from './helpers/app.js';
import { eventually, freePort, gatewayImage, podman, run } from './helpers/container.js';
import { root } from './helpers/process.js';
import { needs, requireTools } from './helpers/system-tools.js';

const KEY = 'container-test-key-0123456789abcdef';
const ECHO = '15550000001@c.us';
const auth = { authorization: `Bearer ${KEY}` };
const unique = `${process.pid}-${Date.now().toString(36)}`;

describe('container image (podman)', { ...needs('podman'), timeout: 20 * 60_000 }, () => {
  let image = '';
  const facts: string[] = [];
  const cleanup: (() => Promise<unknown>)[] = [];

  before(async () => {
    requireTools('podman');
    const made = await gatewayImage();
    image = made.image;
    facts.push(...made.facts);
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

    // The server is PID 1 (SIGTERM reaches it directly), runs as uid 10001, and was started as `npm start` starts it.
    const status = await podman('exec', name, 'cat', '/proc/1/status');
    assert.match(status, /^Uid:\s+10001\s+10001\s+10001\s+10001$/m, status);
    const start: string = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start;
    assert.equal(await podman('exec', name, 'cat', '/proc/1/cmdline'), `${start.split(' ').join('\0')}\0`);

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
  it('the Baileys engine is in the image: a session on it starts, reports connecting, then a clear failure offline, and the server carries on', async (t: TestContext) => {
    const name = `wa-gateway-baileys-${unique}`;
    cleanup.push(() => podman('rm', '-f', '-v', '-t', '0', name));
    const port = await freePort();
    await podman(
      'run', '-d', '--read-only', '--name', name, '-p', `127.0.0.1:${port}:8080`, '-e', `API_KEY=${KEY}`, '-e', 'ENGINE=baileys',
      '-e', 'BAILEYS_CONNECT_ATTEMPTS=2', '-e', 'BAILEYS_RECONNECT_BACKOFF_MS=200', '-e', 'BAILEYS_CONNECT_TIMEOUT_MS=5000', '-e', 'LOG_LEVEL=debug',
      image,
    );
    const url = `http://127.0.0.1:${port}`;
    await eventually(async () => (await fetch(`${url}/health`)).status === 200, 60_000, '/health of the Baileys container');
    // The package is a production dependency: present in the image and loadable by the server's user.
    const loaded = await podman('exec', name, 'node', '--input-type=module', '-e', "const b = await import('baileys'); const { createRequire } = await import('node:module'); console.log(typeof b.makeWASocket, createRequire(import.meta.url)('baileys/package.json').version)");
    assert.match(loaded, /^function \S+$/, loaded);
    t.diagnostic(`baileys ${loaded.split(' ')[1]} in the image`);

    const gql = async (query: string, variables?: object) => {
      const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
      const body = (await res.json()) as any;
      assert.equal(body.errors, undefined, JSON.stringify(body.errors));
      return body.data;
    };
    const created = await fetch(`${url}/api/v1/sessions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ sessionId: 'wa1' }) });
    assert.equal(created.status, 201, await created.text());
    const seen: string[] = [];
    const failed = await eventually(async () => {
      const s = (await gql('{ session(sessionId: "wa1") { status engine failureReason } }')).session;
      if (seen.at(-1) !== s.status) seen.push(s.status);
      return s.status === 'FAILED' ? s : null;
    }, 60_000, 'the Baileys session to fail offline');
    t.diagnostic(`statuses: ${seen.join(' -> ')}; failureReason: ${failed.failureReason}`);
    assert.equal(failed.engine, 'BAILEYS');
    assert.ok(failed.failureReason && failed.failureReason.length > 10, `a reason is given: ${failed.failureReason}`);
    // Baileys' own report, through the server's log: the socket was connecting, then closed.
    const logs = await run('podman', ['logs', name]);
    const text = `${logs.stdout}${logs.stderr}`;
    assert.match(text, /connecting/i, 'the socket reported connecting');
    assert.match(text, /close/i, 'and then a close');
    // The server did not crash or restart and still answers.
    const state = JSON.parse(await podman('inspect', '--format', '{{json .State}}', name));
    assert.equal(state.Running, true);
    assert.equal(state.Restarting, false);
    assert.equal((await fetch(`${url}/health`)).status, 200);
    assert.doesNotMatch(text, /uncaughtException|unhandledRejection/);
    await podman('stop', '-t', '5', name);
    assert.equal(JSON.parse(await podman('inspect', '--format', '{{json .State}}', name)).ExitCode, 0);
  });

});
