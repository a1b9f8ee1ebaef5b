// The deployment files, checked offline: the Kubernetes manifests against the API's schemas (the
// kubernetes-models package), their probes, ports and environment against the server's routes and option
// table, no secret written into them, and the environment a pod gets accepted by the server's own config
// loader; and the compose file by its structure (test/container.test.ts runs it).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { parseAllDocuments, parse } from 'yaml';
import { ConfigError, loadConfig, settings } from '../src/config.js';
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

/** Kubernetes' $(VAR) expansion: variables defined earlier in the list (here, the pod fields) are substituted. */
function expand(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => vars[name] ?? whole);
}

/** The environment the server in pod `podName` gets: the ConfigMap, then the env list, Secrets filled with stand-ins. */
function podEnvironment(podName: string): Record<string, string> {
  const secrets: Record<string, string> = {
    'api-key': 'k'.repeat(40),
    'cluster-secret': 's'.repeat(40),
    'database-url': 'postgres://gateway:password@postgres.example:5432/wa_gateway',
    'redis-url': 'redis://:password@redis.example:6379',
    'auth-state-key': Buffer.alloc(32, 7).toString('base64'),
  };
  const out: Record<string, string> = { ...byKind('ConfigMap')[0].data };
  for (const e of gateway().env) {
    if (e.value !== undefined) out[e.name] = expand(String(e.value), out);
    else if (e.valueFrom?.fieldRef) out[e.name] = ({ 'metadata.name': podName, 'metadata.namespace': 'wa-gateway' } as Record<string, string>)[e.valueFrom.fieldRef.fieldPath]!;
    else if (e.valueFrom?.secretKeyRef) out[e.name] = secrets[e.valueFrom.secretKeyRef.key]!;
  }
  return out;
}

/** The server's own bound on a shutdown (src/main.ts exits by itself after it), in ms. */
function shutdownBoundMs(): number {
  const main = readFileSync(join(root, 'src/main.ts'), 'utf8');
  const m = /shutdown took too long[\s\S]{0,200}?\}, ([\d_]+)\);/.exec(main);
  assert.ok(m, 'src/main.ts has its forced-exit timer');
  return Number(m[1]!.replace(/_/g, ''));
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

  it("the images start the server as `npm start` does, with its node flags", () => {
    const start = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start.split(' ');
    const cmds = [...readFileSync(join(root, 'Dockerfile'), 'utf8').matchAll(/^CMD (\[.*\])$/gm)].map((m) => JSON.parse(m[1]!));
    assert.equal(cmds.length, 2, 'the app image and the open-wa image');
    for (const cmd of cmds) assert.deepEqual(cmd, start);
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

  it('every environment name is an option of the server, and none is misspelled', () => {
    const container = gateway();
    const names: string[] = [...container.env.map((e: any) => e.name), ...Object.keys(byKind('ConfigMap')[0].data)];
    for (const name of names) {
      assert.ok(configEnv.has(name) || POD_FIELDS.has(name), `${name} is a row in src/config.ts`);
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
    assert.equal(spec.serviceName, byKind('Service').find((s: any) => s.spec.clusterIP === 'None')?.metadata.name, 'the headless Service names the pods');
    assert.ok(spec.volumeClaimTemplates.some((v: any) => v.metadata.name === 'data'));
    assert.ok(gateway().volumeMounts.some((m: any) => m.name === 'data' && m.mountPath === '/data'));
    const pdb = byKind('PodDisruptionBudget')[0];
    assert.deepEqual(pdb.spec.selector.matchLabels, spec.selector.matchLabels);
  });
});

describe('Kubernetes manifests: the cluster', () => {
  it('several replicas, each pod its own NODE_ID (the pod name) and ADVERTISE_URL (its name under the headless Service)', () => {
    const spec = statefulSet().spec;
    assert.ok(spec.replicas > 1, `replicas ${spec.replicas}`);
    const env = Object.fromEntries(gateway().env.map((e: any) => [e.name, e]));
    assert.equal(env.POD_NAME.valueFrom.fieldRef.fieldPath, 'metadata.name');
    assert.equal(env.POD_NAMESPACE.valueFrom.fieldRef.fieldPath, 'metadata.namespace');
    const headless = byKind('Service').find((s: any) => s.spec.clusterIP === 'None');
    assert.equal(headless.metadata.name, spec.serviceName);
    assert.equal(headless.spec.publishNotReadyAddresses, true, 'starting nodes reach each other');
    const http = gateway().ports.find((p: any) => p.name === 'http');
    const ids = new Set<string>();
    const urls = new Set<string>();
    for (let ordinal = 0; ordinal < spec.replicas; ordinal++) {
      const pod = `${statefulSet().metadata.name}-${ordinal}`;
      const vars = podEnvironment(pod);
      assert.equal(vars.NODE_ID, pod);
      const url = new URL(vars.ADVERTISE_URL!);
      assert.equal(url.hostname, `${pod}.${headless.metadata.name}.wa-gateway.svc`, 'the pod DNS name the headless Service gives');
      assert.equal(Number(url.port), http.containerPort);
      ids.add(vars.NODE_ID!);
      urls.add(vars.ADVERTISE_URL!);
    }
    assert.equal(ids.size, spec.replicas);
    assert.equal(urls.size, spec.replicas);
  });

  it('PostgreSQL, Redis and the cluster secret come from the one Secret, required; the server accepts what a pod gets', () => {
    const env = Object.fromEntries(gateway().env.map((e: any) => [e.name, e]));
    const secretNames = new Set<string>();
    for (const name of ['API_KEY', 'CLUSTER_SECRET', 'DATABASE_URL', 'REDIS_URL']) {
      const ref = env[name]?.valueFrom?.secretKeyRef;
      assert.ok(ref, `${name} comes from a Secret`);
      assert.notEqual(ref.optional, true, `${name} is required: a pod without it would not be a node of the cluster`);
      secretNames.add(ref.name);
    }
    assert.equal(secretNames.size, 1, 'one Secret');
    // The pod's environment through the server's own loader: a node of a cluster, nothing refused.
    const vars = podEnvironment('wa-gateway-2');
    const config = loadConfig({}, vars);
    assert.equal(config.cluster.nodeId, 'wa-gateway-2');
    assert.equal(config.cluster.advertiseUrl, vars.ADVERTISE_URL);
    assert.equal(config.databaseUrl, vars.DATABASE_URL);
    assert.equal(config.redis.url, vars.REDIS_URL);
    assert.equal(config.host, '0.0.0.0');
    // Without the database a node id stops the start, and with a key so does a missing cluster secret.
    assert.throws(() => loadConfig({}, { ...vars, DATABASE_URL: '' }), ConfigError);
    assert.throws(() => loadConfig({}, { ...vars, CLUSTER_SECRET: '' }), ConfigError);
  });

  it("terminationGracePeriodSeconds covers the preStop pause plus the server's shutdown bound, and is longer than the lease", () => {
    const pod = statefulSet().spec.template.spec;
    const graceMs = pod.terminationGracePeriodSeconds * 1000;
    const command: string[] = gateway().lifecycle?.preStop?.exec?.command ?? [];
    const pauseMs = command[0] === 'sleep' ? Number(command[1]) * 1000 : 0;
    const bound = shutdownBoundMs();
    assert.ok(graceMs >= pauseMs + bound, `grace ${graceMs} ms >= preStop ${pauseMs} ms + shutdown bound ${bound} ms`);
    const leaseTtlMs = loadConfig({}, podEnvironment('wa-gateway-0')).cluster.leaseTtlMs;
    assert.ok(graceMs > leaseTtlMs, `grace ${graceMs} ms > lease ${leaseTtlMs} ms`);
  });

  it('the PodDisruptionBudget lets voluntary disruptions take one node at a time, never all', () => {
    const replicas = statefulSet().spec.replicas;
    const pdb = byKind('PodDisruptionBudget')[0].spec;
    const allowed = pdb.maxUnavailable !== undefined ? Number(pdb.maxUnavailable) : replicas - Number(pdb.minAvailable);
    assert.equal(allowed, 1, JSON.stringify(pdb));
    assert.ok(replicas - allowed >= 2, 'the sessions of a drained node have at least two nodes to go to');
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
      for (const name of Object.keys(node.environment)) assert.ok(configEnv.has(name), `${name} is an option`);
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
    // Each node's environment, with .env's values, through the server's own loader: a node of one cluster.
    const dotEnv: Record<string, string> = { API_KEY: 'k'.repeat(40), CLUSTER_SECRET: 's'.repeat(40), POSTGRES_PASSWORD: 'password' };
    for (const node of nodes) {
      const vars = Object.fromEntries(Object.entries(node.environment).map(([k, v]) => [k, String(v).replace(/\$\{([A-Z_]+)\}/g, (_, n: string) => dotEnv[n]!)]));
      const config = loadConfig({}, { ...dotEnv, ...vars });
      assert.equal(config.cluster.nodeId, node.name);
      assert.equal(config.cluster.advertiseUrl, `http://${node.name}:8080`);
      assert.equal(config.databaseUrl, 'postgres://wa_gateway:password@postgres:5432/wa_gateway');
    }
    assert.equal(new URL(nodes[0]!.environment.DATABASE_URL).hostname, 'postgres');
    assert.equal(new URL(nodes[0]!.environment.REDIS_URL).hostname, 'redis');
    assert.equal(new Set(nodes.flatMap((n) => n.volumes)).size, 3, 'a data volume per node');
    const nginx = readFileSync(join(root, 'deploy/compose/nginx.conf'), 'utf8');
    for (const node of nodes) assert.match(nginx, new RegExp(`server ${node.name}:8080`));
    assert.ok(services.lb.volumes.some((v: string) => v.startsWith('./deploy/compose/nginx.conf:')));
  });
});
