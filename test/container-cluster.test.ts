// compose.yaml's cluster profile, run under Debian's podman-compose as a user would start it: PostgreSQL,
// Redis, three gateway nodes and nginx in front, from images made on this machine (the gateway's image of this
// working copy; PostgreSQL, Redis and nginx from Debian's packages standing in for the official images, which no
// registry here serves). Through the balancer and each node's own address: a session placed, listed by every
// node with its owner, a send entering at another node, the owner stopped and its session moved.
// How the images are made and kept between runs: test/helpers/container.ts.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { eventually, freePort, gatewayImage, podman, run, standIns, type StandIn } from './helpers/container.js';
import { root } from './helpers/process.js';
import { needs, requireTools } from './helpers/system-tools.js';

const KEY = 'container-test-key-0123456789abcdef';
const ECHO = '15550000001@c.us';
const auth = { authorization: `Bearer ${KEY}` };
const unique = `${process.pid}-${Date.now().toString(36)}`;

describe('compose cluster profile (podman-compose)', { ...needs('podman'), timeout: 20 * 60_000 }, () => {
  let image = '';
  let services: Record<StandIn, string> = { postgres: '', redis: '', nginx: '' };
  const facts: string[] = [];
  const cleanup: (() => Promise<unknown>)[] = [];

  before(async () => {
    requireTools('podman');
    const made = await gatewayImage();
    image = made.image;
    facts.push(...made.facts);
    const stand = await standIns(made.runtimeBase);
    services = stand.tags;
    facts.push(...stand.facts);
  }, { timeout: 30 * 60_000 });

  after(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it("compose.yaml's cluster profile under podman-compose: PostgreSQL, Redis, three nodes behind the balancer; a session placed, listed on every node with its owner, sent through another node, moved off a stopped node", async (t: TestContext) => {
    const dir = mkdtempSync(join(tmpdir(), 'wa-gateway-cluster-'));
    const project = `wagwc${unique.replace(/[^a-z0-9]/g, '')}`;
    const port = await freePort();
    copyFileSync(join(root, 'compose.yaml'), join(dir, 'compose.yaml'));
    mkdirSync(join(dir, 'deploy/compose'), { recursive: true });
    copyFileSync(join(root, 'deploy/compose/nginx.conf'), join(dir, 'deploy/compose/nginx.conf'));
    writeFileSync(
      join(dir, '.env'),
      [
        `API_KEY=${KEY}`, 'POSTGRES_PASSWORD=container-test-pg-password', 'CLUSTER_SECRET=container-test-cluster-secret-0123456789',
        `WA_GATEWAY_IMAGE=${image}`, `WA_GATEWAY_PORT=127.0.0.1:${port}`,
        `POSTGRES_IMAGE=${services.postgres}`, `REDIS_IMAGE=${services.redis}`, `LB_IMAGE=${services.nginx}`,
        // Test pacing only: quick sandbox logins and sends, no rate limits for the polling below.
        'SANDBOX_START_DELAY_MS=20', 'SANDBOX_AUTH_DELAY_MS=20', 'SEND_MIN_GAP_MS=0', 'SEND_JITTER_MS=0', 'RATE_LIMIT=false', 'LEASE_TTL_MS=3000',
        '',
      ].join('\n'),
    );
    const compose = (...args: string[]) => run('podman-compose', ['-p', project, '-f', join(dir, 'compose.yaml'), ...args], { cwd: dir });
    const container = (service: string) => `${project}_${service}_1`;
    cleanup.push(async () => {
      await compose('down', '-v', '-t', '5');
      await run('podman', ['network', 'rm', '-f', `${project}_default`]);
      rmSync(dir, { recursive: true, force: true });
    });
    const began = Date.now();
    // podman-compose 1.0.3 does not wait for depends_on's service_healthy: the test waits as docker compose would.
    const backing = await compose('up', '-d', 'postgres', 'redis');
    assert.equal(backing.code, 0, `${backing.stdout}${backing.stderr}`);
    await eventually(async () => (await run('podman', ['exec', container('postgres'), 'pg_isready', '-U', 'wa_gateway', '-d', 'wa_gateway'])).code === 0, 60_000, 'PostgreSQL ready');
    await eventually(async () => (await run('podman', ['exec', container('redis'), 'redis-cli', 'ping'])).stdout.includes('PONG'), 30_000, 'Redis ready');
    const upped = await compose('up', '-d', 'lb');
    assert.equal(upped.code, 0, `${upped.stdout}${upped.stderr}`);

    const lb = `http://127.0.0.1:${port}`;
    const nodes = ['node1', 'node2', 'node3'];
    const ip: Record<string, string> = {};
    for (const node of nodes) ip[node] = await podman('inspect', '--format', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', container(node));
    const at = (node: string) => `http://${ip[node]}:8080`;
    const gql = async (base: string, query: string, variables?: object) => {
      const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
      const body = (await res.json()) as any;
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data;
    };
    const rest = async (base: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}/api/v1${path}`, { method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as any };
    };
    type Listed = { sessionId: string; status: string; node: string | null };
    const list = async (base: string) => ((await gql(base, '{ sessions { sessionId status node } }')).sessions as Listed[]).sort((a, b) => a.sessionId.localeCompare(b.sessionId));

    await eventually(async () => (await fetch(`${lb}/health`)).status === 200, 90_000, 'the balancer answering');
    const live = await eventually(async () => {
      const { nodes: listed } = await gql(lb, '{ nodes { id url alive } }');
      return listed.filter((n: any) => n.alive).length === 3 ? listed : null;
    }, 60_000, 'three live nodes');
    assert.deepEqual(live.map((n: any) => [n.id, n.url]).sort(), nodes.map((n) => [n, `http://${n}:8080`]));
    t.diagnostic(`cluster up in ${((Date.now() - began) / 1000).toFixed(1)} s`);

    // Sessions created through the balancer: placed on the least-loaded nodes, brought to READY through it.
    const ids = ['c1', 'c2', 'c3'];
    for (const id of ids) {
      const created = await rest(lb, 'POST', '/sessions', { sessionId: id, waitForQR: true });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      let failed: string | null = null;
      await eventually(async () => {
        const scanned = await rest(lb, 'POST', `/sessions/${id}/sandbox/scan`);
        if (scanned.status === 200) return true;
        // A session that failed will not come back: say why, with its node's last log lines.
        const { session } = await gql(lb, 'query($id: String!) { session(sessionId: $id) { status failureReason node } }', { id });
        if (session?.status === 'FAILED') {
          const logs = session.node ? await run('podman', ['logs', '--tail', '30', container(session.node)]) : null;
          failed = `${id} failed on ${session.node}: ${session.failureReason}\n${logs ? `${logs.stdout}${logs.stderr}` : ''}`;
          return true;
        }
        // Thrown, so a timeout says what the last answer was.
        throw new Error(`${scanned.status} ${JSON.stringify(scanned.body)}`);
      }, 30_000, `${id} scanned`);
      assert.equal(failed, null, failed ?? '');
    }
    const placed = await eventually(async () => {
      const listed = await list(lb);
      return listed.length === 3 && listed.every((s) => s.status === 'READY' && s.node) ? listed : null;
    }, 30_000, 'three sessions READY');
    const owner = new Map(placed.map((s) => [s.sessionId, s.node!]));
    t.diagnostic(`placement: ${[...owner].map(([s, n]) => `${s}@${n}`).join(', ')}`);
    assert.equal(new Set(owner.values()).size, 3, 'one session per node (least-loaded placement)');

    // Every node lists every session with its owner.
    for (const node of nodes) {
      const listed = await eventually(async () => {
        const l = await list(at(node));
        return l.length === 3 && l.every((s) => s.status === 'READY' && s.node === owner.get(s.sessionId)) ? l : null;
      }, 10_000, `${node} listing all three`);
      assert.deepEqual(listed, placed, `${node} lists the sessions with their owners`);
    }

    // A send entering at a node that does not drive the session: forwarded to its owner; the Echo Bot answers.
    const target = 'c1';
    const via = nodes.find((n) => n !== owner.get(target))!;
    const sent = await rest(at(via), 'POST', `/sessions/${target}/send-text`, { chatId: ECHO, content: `through ${via}` });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    await eventually(async () => {
      const messages = await rest(lb, 'GET', `/sessions/${target}/chats/${ECHO}/messages`);
      return messages.body.data?.some((m: any) => !m.fromMe && m.body === `through ${via}`);
    }, 30_000, 'the Echo Bot answer, read through the balancer');

    // The owner stopped (SIGTERM, as compose and Kubernetes stop it): it hands its session over; the balancer keeps answering.
    const leaving = owner.get(target)!;
    const stopping = Date.now();
    await podman('stop', '-t', '10', container(leaving));
    const stopMs = Date.now() - stopping;
    assert.equal(JSON.parse(await podman('inspect', '--format', '{{json .State}}', container(leaving))).ExitCode, 0, 'the node drained and exited by itself');
    const moved = await eventually(async () => {
      const s = (await list(lb)).find((x) => x.sessionId === target);
      return s && s.status === 'READY' && s.node && s.node !== leaving ? s : null;
    }, 30_000, `${target} moved off ${leaving}`);
    const moveMs = Date.now() - stopping;
    t.diagnostic(`podman stop ${leaving}: ${stopMs} ms; ${target} READY on ${moved.node} ${moveMs} ms after the stop began`);
    const { nodes: after } = await gql(lb, '{ nodes { id alive } }');
    assert.deepEqual(after.filter((n: any) => n.alive).map((n: any) => n.id).sort(), nodes.filter((n) => n !== leaving));
    // Any remaining node answers through the balancer, the moved session's history with it.
    for (let i = 0; i < 6; i++) assert.equal((await fetch(`${lb}/health`)).status, 200);
    const history = await rest(lb, 'GET', `/sessions/${target}/chats/${ECHO}/messages`);
    assert.ok(history.body.data.some((m: any) => m.body === `through ${via}`), 'the history moved with the session (it is in PostgreSQL)');
    const again = await rest(lb, 'POST', `/sessions/${target}/send-text`, { chatId: ECHO, content: 'after the move' });
    assert.equal(again.status, 200, JSON.stringify(again.body));

    const down = await compose('down', '-v', '-t', '5');
    assert.equal(down.code, 0, `${down.stdout}${down.stderr}`);
    for (const fact of facts) t.diagnostic(fact);
    t.diagnostic(`cluster test ${((Date.now() - began) / 1000).toFixed(1)} s in all`);
  });
});
