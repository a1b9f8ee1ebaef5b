// The deployment files, checked offline: the Kubernetes manifests against the API's schemas (the
// kubernetes-models package), their probes, ports and environment against the server's routes and option
// table, no secret written into them; and the compose file's cluster profile by its structure (its
// PostgreSQL, Redis and load-balancer images cannot be made on a machine without a registry).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { parseAllDocuments, parse } from 'yaml';
import { settings } from '../src/config.js';
import { ADMIN_KEY } from './helpers/auth.js';
import { startServer, type TestServer } from './helpers/app.js';
import { root } from './helpers/process.js';

const k8sDir = join(root, 'deploy/kubernetes');
const models: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/StatefulSet': StatefulSet,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};
// Environment names the deployment files already pass for options still being built: the PostgreSQL
// backend (DATABASE_URL), the cluster (REDIS_URL, NODE_ID, ADVERTISE_URL, CLUSTER_SECRET) and the
// Baileys engine's login-store key (AUTH_STATE_KEY). Once a row for one exists, it is checked like the rest.
const PENDING = new Set(['DATABASE_URL', 'REDIS_URL', 'NODE_ID', 'ADVERTISE_URL', 'CLUSTER_SECRET', 'AUTH_STATE_KEY']);
// Only for composing other values inside the pod spec.
const POD_FIELDS = new Set(['POD_NAME', 'POD_NAMESPACE']);
const SECRET_NAME = /KEY|SECRET|PASSWORD|TOKEN|DATABASE_URL|REDIS_URL/;
const configEnv = new Set<string>(settings.map((s) => s.env));

function manifests(): { file: string; doc: any }[] {
  const out: { file: string; doc: any }[] = [];
  for (const file of readdirSync(k8sDir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort()) {
    for (const d of parseAllDocuments(readFileSync(join(k8sDir, file), 'utf8'))) {
      assert.deepEqual(d.errors, [], `${file} parses`);
      if (d.contents) out.push({ file, doc: d.toJS() });
    }
  }
  return out;
}

const byKind = (kind: string) => manifests().filter((m) => m.doc.kind === kind).map((m) => m.doc);
const statefulSet = () => byKind('StatefulSet')[0];
const gateway = () => statefulSet().spec.template.spec.containers.find((c: any) => c.name === 'gateway');

describe('Kubernetes manifests', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ auth: { apiKeys: [ADMIN_KEY] } });
  });
  after(() => server.dispose());

  it('every manifest validates against the Kubernetes API schema; the kustomization lists them all', () => {
    const all = manifests();
    assert.ok(all.length >= 5);
    for (const { file, doc } of all) {
      const Model = models[`${doc.apiVersion}/${doc.kind}`];
      assert.ok(Model, `${file}: ${doc.apiVersion} ${doc.kind} has a model here`);
      assert.doesNotThrow(() => new Model(doc).validate(), `${file} (${doc.kind} ${doc.metadata?.name})`);
    }
    const kustomization = parse(readFileSync(join(k8sDir, 'kustomization.yaml'), 'utf8'));
    assert.deepEqual([...kustomization.resources].sort(), [...new Set(all.map((m) => m.file))].sort());
  });

  it('the schema check has teeth: a wrong field type or a missing required field is refused', () => {
    const broken = structuredClone(statefulSet());
    broken.spec.replicas = 'three';
    assert.throws(() => new StatefulSet(broken).validate());
    const noSelector = structuredClone(statefulSet());
    delete noSelector.spec.selector;
    assert.throws(() => new StatefulSet(noSelector).validate());
  });

  it('probes ask routes the server answers without a key, on the port it listens on', async () => {
    const container = gateway();
    const http = container.ports.find((p: any) => p.name === 'http');
    const defaultPort = settings.find((s) => s.env === 'PORT')!.default;
    assert.equal(http.containerPort, defaultPort);
    assert.match(readFileSync(join(root, 'Dockerfile'), 'utf8'), new RegExp(`^EXPOSE ${defaultPort}$`, 'm'));
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      const get = container[probe]?.httpGet;
      assert.ok(get, `${probe} is an HTTP GET`);
      assert.ok(get.port === 'http' || get.port === http.containerPort, `${probe} port`);
      assert.equal(get.httpHeaders, undefined, `${probe} sends no key`);
      const res = await fetch(`${server.url}${get.path}`);
      assert.equal(res.status, 200, `${probe} GET ${get.path} without a key`);
    }
    // The probes rely on an open /health.
    const env = Object.fromEntries((container.env ?? []).map((e: any) => [e.name, e.value]));
    const configMap = byKind('ConfigMap')[0].data;
    assert.notEqual(env.HEALTH_OPEN ?? configMap.HEALTH_OPEN ?? 'true', 'false');
    for (const service of byKind('Service')) {
      for (const port of service.spec.ports) assert.ok(port.targetPort === 'http' || port.targetPort === defaultPort, `${service.metadata.name} targets the server's port`);
    }
  });

  it('every environment name is an option of the server (or one still being built), and none is misspelled', () => {
    const container = gateway();
    const names: string[] = [...container.env.map((e: any) => e.name), ...Object.keys(byKind('ConfigMap')[0].data)];
    for (const name of names) {
      assert.ok(configEnv.has(name) || PENDING.has(name) || POD_FIELDS.has(name), `${name} is a row in src/config.ts`);
    }
    // $(VAR) is expanded only from variables defined before it.
    const seen = new Set<string>();
    for (const e of container.env) {
      for (const [, ref] of (e.value ?? '').matchAll(/\$\(([A-Z_]+)\)/g)) assert.ok(seen.has(ref), `${e.name} uses $(${ref}) defined above it`);
      seen.add(e.name);
    }
    assert.ok(seen.has('NODE_ID') && seen.has('ADVERTISE_URL'), 'stable node id and advertise URL from the pod name');
  });

  it('no secret is written into the manifests: keys, secrets, passwords and URLs with credentials come from a Secret', () => {
    assert.deepEqual(byKind('Secret'), [], 'no Secret manifest with values');
    const container = gateway();
    for (const e of container.env) {
      if (SECRET_NAME.test(e.name)) {
        assert.equal(e.value, undefined, `${e.name} has no inline value`);
        assert.ok(e.valueFrom?.secretKeyRef?.name, `${e.name} comes from a Secret`);
      }
    }
    const apiKey = container.env.find((e: any) => e.name === 'API_KEY');
    assert.notEqual(apiKey.valueFrom.secretKeyRef.optional, true, 'the API key is required');
    for (const key of Object.keys(byKind('ConfigMap')[0].data)) assert.doesNotMatch(key, SECRET_NAME, `ConfigMap key ${key}`);
    for (const { file } of manifests()) {
      assert.doesNotMatch(readFileSync(join(k8sDir, file), 'utf8'), /:\/\/[^/\s:@]+:[^/\s@]+@/, `${file} has no URL with a password`);
    }
  });

  it('runs as the image user, keeps /data on its own volume, and gives SIGTERM time to drain', () => {
    const spec = statefulSet().spec;
    const pod = spec.template.spec;
    const user = /^USER (\d+):(\d+)$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'));
    assert.ok(user);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(String(pod.securityContext.runAsUser), user[1]);
    assert.equal(String(pod.securityContext.fsGroup), user[2]);
    // src/main.ts gives up on a shutdown after 20 s; the pod must not be killed before that.
    assert.ok(pod.terminationGracePeriodSeconds >= 25, `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds}`);
    assert.equal(spec.serviceName, byKind('Service').find((s: any) => s.spec.clusterIP === 'None')?.metadata.name, 'the headless Service names the pods');
    assert.ok(spec.volumeClaimTemplates.some((v: any) => v.metadata.name === 'data'));
    assert.ok(gateway().volumeMounts.some((m: any) => m.name === 'data' && m.mountPath === '/data'));
    const pdb = byKind('PodDisruptionBudget')[0];
    assert.deepEqual(pdb.spec.selector.matchLabels, spec.selector.matchLabels);
  });
});

describe('compose.yaml', () => {
  const compose = parse(readFileSync(join(root, 'compose.yaml'), 'utf8'), { merge: true });
  const services = compose.services as Record<string, any>;
  const nodes = ['node1', 'node2', 'node3'].map((name) => ({ name, ...services[name] }));

  it('the default service: no profile, /data on a named volume, the key from .env, the Dockerfile build args', () => {
    const gw = services.gateway;
    assert.equal(gw.profiles, undefined);
    assert.ok(gw.volumes.some((v: string) => /^[a-z-]+:\/data$/.test(v)), JSON.stringify(gw.volumes));
    assert.ok(([] as string[]).concat(gw.env_file).includes('.env'));
    const dockerfileArgs = [...readFileSync(join(root, 'Dockerfile'), 'utf8').matchAll(/^ARG (\w+)=/gm)].map((m) => m[1]).sort();
    assert.deepEqual(Object.keys(gw.build.args).sort(), dockerfileArgs);
    for (const [name, service] of Object.entries(services)) {
      if (name !== 'gateway') assert.deepEqual(service.profiles, ['cluster'], `${name} only in the cluster profile`);
    }
  });

  it('the cluster profile: three nodes with distinct ids and advertise URLs, one database, one Redis, one secret, a balancer over all', () => {
    assert.equal(new Set(nodes.map((n) => n.environment.NODE_ID)).size, 3);
    for (const node of nodes) {
      assert.equal(new URL(node.environment.ADVERTISE_URL).hostname, node.name, `${node.name} advertises its own service name`);
      assert.ok(node.image === services.gateway.image, 'the same image');
      for (const dep of ['postgres', 'redis']) assert.ok(node.depends_on[dep], `${node.name} waits for ${dep}`);
      for (const name of Object.keys(node.environment)) assert.ok(configEnv.has(name) || PENDING.has(name), `${name} is an option`);
    }
    for (const shared of ['DATABASE_URL', 'REDIS_URL']) {
      assert.equal(new Set(nodes.map((n) => n.environment[shared])).size, 1, `${shared} is the same on every node`);
    }
    // The cluster secret, like the API key, comes from the one .env every node reads.
    for (const node of nodes) {
      assert.deepEqual([].concat(node.env_file), ['.env'], `${node.name} reads .env`);
      assert.equal(node.environment.CLUSTER_SECRET, undefined, 'no secret written into compose.yaml');
    }
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (!SECRET_NAME.test(key)) continue;
        const text = String(value);
        const password = /^[a-z]+:\/\/[^:/@]*:([^@]*)@/.exec(text)?.[1];
        // A URL without credentials (Redis on the compose network) is fine; a password or a key is not.
        if (/^[a-z]+:\/\//.test(text) && password === undefined) continue;
        assert.match(password ?? text, /^\$\{[A-Z_]+\}$/, `${name}: ${key}'s secret is taken from .env, not written here`);
      }
    }
    assert.equal(new URL(nodes[0]!.environment.DATABASE_URL).hostname, 'postgres');
    assert.equal(new URL(nodes[0]!.environment.REDIS_URL).hostname, 'redis');
    assert.equal(new Set(nodes.flatMap((n) => n.volumes)).size, 3, 'a data volume per node');
    const nginx = readFileSync(join(root, 'deploy/compose/nginx.conf'), 'utf8');
    for (const node of nodes) assert.match(nginx, new RegExp(`server ${node.name}:8080`));
    assert.ok(services.lb.volumes.some((v: string) => v.startsWith('./deploy/compose/nginx.conf:')));
  });
});
