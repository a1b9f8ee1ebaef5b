// Hostile input on every transport (GraphQL POST and GET, REST, graphql-ws, SSE, the legacy /ws/{id} socket)
// against servers running as child processes, so a crash is seen as a failed test instead of ending the run.
// Part one replays each finding of the hostile-input review as its own test; part two sends 5,000 generated
// inputs (fuzz.test.ts's GraphQL inputs plus multibyte and astral text, lone surrogates, NUL, invalid UTF-8,
// huge strings and lists, malformed JSON and frames) and checks the server after every batch.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { routeTable } from '../rest-compat/route-table.js';
import { tempDir } from './helpers/app.js';
import { ADMIN_KEY } from './helpers/auth.js';
import { documents, graphqlBody, mutatedDocument, variables as fuzzVariables } from './helpers/fuzz-inputs.js';
import { spawnServer, type ServerProcess } from './helpers/process.js';

// ---------------------------------------------------------------------------------------------------------
// A server in a child process, started again when a test crashed it (that test fails with the crash output).

const SANDBOX_FAST = { SANDBOX_START_DELAY_MS: '20', SANDBOX_AUTH_DELAY_MS: '20', SANDBOX_DELIVERY_DELAY_MS: '5', SANDBOX_BOT_REPLY_DELAY_MS: '20', SANDBOX_QR_ROTATE_MS: '5000' };

class Target {
  server!: ServerProcess;
  port = 0;
  private readonly dataDir = tempDir('wa-gateway-hostile-');
  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv = {},
  ) {}
  async start() {
    // Generous: on a loaded machine a cold start through tsx can take many seconds.
    this.server = await spawnServer(['--port', '0', '--data-dir', this.dataDir, ...this.args], { ...SANDBOX_FAST, ...this.env }, 120_000);
    this.port = Number(new URL(this.server.url).port);
  }
  get url() {
    return this.server.url;
  }
  get ws() {
    return this.server.url.replace('http:', 'ws:');
  }
  get alive() {
    return this.server.child.exitCode === null && this.server.child.signalCode === null;
  }
  /** The crash, for a failure message: exit code and the end of what the process printed. */
  crash(): string {
    return `the ${this.name} server process exited (${this.server.child.exitCode ?? this.server.child.signalCode}):\n${this.server.output().slice(-3000)}`;
  }
  /** Before each test: a server that a previous test crashed is started again. */
  async ensure() {
    if (!this.alive) await this.start();
  }
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.server.child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
  }
  async stop() {
    if (this.alive) {
      this.server.child.kill('SIGTERM');
      await Promise.race([this.server.exited, new Promise((r) => setTimeout(r, 5000))]);
      if (this.alive) this.server.child.kill('SIGKILL');
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Checks shared by both parts.

const STACK_PATTERNS = [/\bat .+\(.+:\d+:\d+\)/, /\bat (?:file|node):\/*\S+:\d+/, /Error:[^\n]*\n\s*at \S/, /\bat [\w.<>]+ \((?:file:|node:|\/)/];

function assertNoStack(text: string, where: string) {
  for (const pattern of STACK_PATTERNS) {
    assert.doesNotMatch(text, pattern, `stack-trace text in ${where}: ${text.slice(0, 600)}`);
  }
}

/** The process is alive and /health answers 200 in under 1 s. */
async function assertHealthy(t: Target, when: string) {
  assert.ok(t.alive, `${when}: ${t.crash()}`);
  const started = performance.now();
  const res = await fetch(`${t.url}/health`, { signal: AbortSignal.timeout(5000) }).catch((e: unknown) => {
    throw new Error(`${when}: /health failed (${String(e)}); ${t.alive ? 'process alive' : t.crash()}`);
  });
  await res.arrayBuffer();
  const ms = performance.now() - started;
  assert.equal(res.status, 200, `${when}: /health status`);
  assert.ok(ms < 1000, `${when}: /health took ${Math.round(ms)} ms`);
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/** An HTTP request with full control of the headers (Host included) and the raw path. */
function send(t: Target, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer, timeoutMs = 15_000, fresh = false): Promise<RawResponse> {
  // Node's client sends a DELETE body without Content-Length, which makes it the start of a next request.
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers = { ...headers, 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: t.port, method, path, headers, agent: fresh ? false : agent, setHost: !Object.keys(headers).some((h) => h.toLowerCase() === 'host') }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path.slice(0, 80)}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

const gqlHeaders = (key?: string, extra: Record<string, string> = {}) => ({
  'content-type': 'application/json',
  accept: 'application/graphql-response+json, application/json',
  ...(key ? { 'x-api-key': key } : {}),
  ...extra,
});

async function gql(t: Target, query: string, variables: Record<string, unknown> = {}, key?: string, extra: Record<string, string> = {}) {
  const res = await send(t, 'POST', '/graphql', gqlHeaders(key, extra), JSON.stringify({ query, variables }));
  return { ...res, json: JSON.parse(res.body) as { data?: any; errors?: { message: string; extensions?: { code?: string; details?: any } }[] } };
}

async function gqlOk(t: Target, query: string, variables: Record<string, unknown> = {}, key?: string) {
  const res = await gql(t, query, variables, key);
  assert.ok(!res.json.errors, `GraphQL errors: ${res.body}`);
  return res.json.data;
}

async function sessionIds(t: Target, key?: string): Promise<string[]> {
  return ((await gqlOk(t, '{ sessions { sessionId } }', {}, key)).sessions as { sessionId: string }[]).map((s) => s.sessionId);
}

async function readySession(t: Target, sessionId: string, key?: string) {
  await gqlOk(t, 'mutation($input: CreateSessionInput!) { createSession(input: $input) { session { sessionId } } }', { input: { sessionId, config: { sandbox: { autoScanMs: 10 } } } }, key);
  const end = Date.now() + 15_000;
  for (;;) {
    const data = await gqlOk(t, 'query($id: String!) { session(sessionId: $id) { status } }', { id: sessionId }, key);
    if (data.session?.status === 'READY') return;
    if (Date.now() > end) throw new Error(`${sessionId} did not become READY`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What a WebSocket saw: the messages, whether and how it closed, or the HTTP answer that refused the upgrade. */
interface SocketLog {
  ws: WebSocket;
  opened: Promise<boolean>;
  messages: any[];
  closed: Promise<{ code: number; reason: string } | null>;
  refused?: number;
  wait(predicate: (messages: any[]) => boolean, ms: number): Promise<boolean>;
}

function openSocket(url: string, protocol?: string, options: WebSocket.ClientOptions = {}): SocketLog {
  const ws = new WebSocket(url, protocol, { maxPayload: 256 * 1024 * 1024, ...options });
  const messages: any[] = [];
  let listeners: (() => void)[] = [];
  const log: SocketLog = {
    ws,
    messages,
    opened: new Promise((resolve) => {
      ws.once('open', () => resolve(true));
      ws.once('close', () => resolve(false));
      ws.once('error', () => resolve(false));
    }),
    closed: new Promise((resolve) => {
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
      ws.once('error', () => setTimeout(() => resolve(null), 50));
    }),
    wait(predicate, ms) {
      return new Promise((resolve) => {
        if (predicate(messages)) return resolve(true);
        const timer = setTimeout(() => done(false), ms);
        const check = () => predicate(messages) && done(true);
        const done = (value: boolean) => {
          clearTimeout(timer);
          listeners = listeners.filter((l) => l !== check);
          resolve(value);
        };
        listeners.push(check);
      });
    },
  };
  ws.on('unexpected-response', (_req, res) => {
    log.refused = res.statusCode;
    res.resume();
    ws.emit('close', 1006, Buffer.from(''));
  });
  ws.on('error', () => undefined);
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? `<binary ${(data as Buffer).length}>` : data.toString();
    try {
      messages.push(JSON.parse(text));
    } catch {
      messages.push(text);
    }
    for (const l of [...listeners]) l();
  });
  return log;
}

/** A graphql-ws connection that got its connection_ack. */
async function graphqlWs(t: Target, payload: Record<string, unknown> = {}): Promise<SocketLog> {
  const s = openSocket(`${t.ws}/graphql`, 'graphql-transport-ws');
  assert.ok(await s.opened, 'the graphql-ws connection opens');
  s.ws.send(JSON.stringify({ type: 'connection_init', payload }));
  assert.ok(await s.wait((m) => m.some((x) => x.type === 'connection_ack'), 5000), `connection_ack: ${JSON.stringify(s.messages)}`);
  return s;
}

async function stillOpen(s: SocketLog): Promise<boolean> {
  if (s.ws.readyState !== WebSocket.OPEN) return false;
  const before = s.messages.filter((m) => m.type === 'pong').length;
  s.ws.send(JSON.stringify({ type: 'ping' }));
  return s.wait((m) => m.filter((x) => x.type === 'pong').length > before, 3000);
}

function decodeCursor(cursor: unknown): string {
  return typeof cursor === 'string' ? Buffer.from(cursor, 'base64').toString('utf8') : '';
}

const EVIL = 'https://evil.example';

// ---------------------------------------------------------------------------------------------------------

const open = new Target('no-key', []);
const keyed = new Target('keyed', ['--api-key', ADMIN_KEY, '--host', '127.0.0.1', '--webhook-allow-cidrs', '127.0.0.0/8']);
const limited = new Target('rate-limited', ['--api-key', ADMIN_KEY, '--host', '127.0.0.1'], { RATE_LIMIT_GENERAL: '100', RATE_LIMIT_MESSAGING: '30' });
const targets = [open, keyed, limited];

before(async () => {
  await Promise.all(targets.map((t) => t.start()));
});
after(async () => {
  await Promise.allSettled(targets.map((t) => t.stop()));
  agent.destroy();
});

describe('hostile input: each reproduction of the review', () => {
  beforeEach(async () => {
    await Promise.all(targets.map((t) => t.ensure()));
  });

  it('legacy /ws/{id} with 100 × "é" as the id: closed with a reason of at most 123 bytes, the process lives', async () => {
    const s = openSocket(`${open.ws}/ws/${encodeURIComponent('é'.repeat(100))}`);
    const closed = await Promise.race([s.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(open.alive, open.crash());
    assert.ok(closed, 'the socket is closed (unknown session)');
    if (s.refused === undefined) {
      assert.ok(closed.code >= 4000 && closed.code < 5000, `an application close code: ${closed.code}`);
      assert.ok(Buffer.byteLength(closed.reason) <= 123, `reason of ${Buffer.byteLength(closed.reason)} bytes`);
      assertNoStack(closed.reason, 'the close reason');
    } else assert.ok(s.refused >= 400 && s.refused < 500, `upgrade refused with ${s.refused}`);
    await assertHealthy(open, 'after the legacy socket');
  });

  it('graphql-ws subscribe with a syntax error of 60 × "é": an error for that operation only, the connection and its other subscriptions go on', async () => {
    await readySession(open, 'gws-syntax');
    const s = await graphqlWs(open);
    s.ws.send(JSON.stringify({ id: 'good', type: 'subscribe', payload: { query: 'subscription { sessionStatus(sessionId: "gws-syntax") { status } }' } }));
    assert.ok(await s.wait((m) => m.some((x) => x.id === 'good' && x.type === 'next'), 5000), 'the good subscription runs');
    s.ws.send(JSON.stringify({ id: 'bad', type: 'subscribe', payload: { query: `subscription { "${'é'.repeat(60)}" }` } }));
    const answered = await s.wait((m) => m.some((x) => x.id === 'bad' && x.type === 'error'), 5000);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(open.alive, open.crash());
    assert.ok(answered, `an error message for the bad id: ${JSON.stringify(s.messages).slice(0, 500)}; closed: ${JSON.stringify(await Promise.race([s.closed, null]))}`);
    assertNoStack(JSON.stringify(s.messages), 'the graphql-ws messages');
    assert.ok(await stillOpen(s), 'the connection is still open');
    assert.ok(!s.messages.some((x) => x.id === 'good' && (x.type === 'complete' || x.type === 'error')), 'the good subscription was not ended');
    s.ws.close();
    await assertHealthy(open, 'after the syntax error');
  });

  it('a 20 MB POST without a key: refused, /health stays under 1 s throughout, memory comes back within 50 MB', async () => {
    const rssBefore = keyed.rssBytes();
    const body = Buffer.from(JSON.stringify({ query: '{ __typename }', variables: { blob: 'x'.repeat(20 * 1024 * 1024) } }));
    let done = false;
    const slow: number[] = [];
    const health = (async () => {
      while (!done) {
        const started = performance.now();
        try {
          const res = await fetch(`${keyed.url}/health`, { signal: AbortSignal.timeout(3000) });
          await res.arrayBuffer();
        } catch {
          slow.push(3000);
        }
        const ms = performance.now() - started;
        if (ms >= 1000) slow.push(Math.round(ms));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const answer = await new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: keyed.port, method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json', 'content-length': String(body.length) } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', (e) => resolve({ error: String(e) }));
      });
      req.setTimeout(20_000, () => req.destroy(new Error('no answer in 20 s')));
      req.on('error', (e) => resolve({ error: String(e) }));
      // In 1 MB pieces, as a client on a fast link would.
      let offset = 0;
      const pump = () => {
        while (offset < body.length) {
          const piece = body.subarray(offset, offset + 1024 * 1024);
          offset += piece.length;
          if (!req.write(piece)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    // A server that answers at once and closes may cut the upload: that is a refusal too.
    await new Promise((r) => setTimeout(r, 300));
    done = true;
    await health;
    assert.ok(keyed.alive, keyed.crash());
    if ('status' in answer) {
      assert.ok(answer.status >= 400 && answer.status < 500, `refused with a 4xx: ${answer.status} ${answer.body.slice(0, 200)}`);
      assertNoStack(answer.body, 'the answer');
    } else assert.match(answer.error, /EPIPE|ECONNRESET|socket hang up/, `the upload was cut by the server: ${answer.error}`);
    assert.deepEqual(slow, [], '/health answered in under 1 s throughout');
    let rssAfter = keyed.rssBytes();
    for (let i = 0; i < 30 && rssAfter - rssBefore > 50 * 1024 * 1024; i++) {
      await new Promise((r) => setTimeout(r, 100));
      rssAfter = keyed.rssBytes();
    }
    assert.ok(rssAfter - rssBefore <= 50 * 1024 * 1024, `RSS grew by ${Math.round((rssAfter - rssBefore) / 1048576)} MB`);
    await assertHealthy(keyed, 'after the 20 MB body');
  });

  it('a cross-site form POST, a text/plain POST and a GET mutation in no-key mode run no mutation, and no foreign origin gets CORS headers', async () => {
    const mutation = (id: string) => `mutation { createSession(input: { sessionId: "${id}" }) { session { sessionId } } }`;
    const attempts: { name: string; res: RawResponse }[] = [
      { name: 'form-encoded', res: await send(open, 'POST', '/graphql', { 'content-type': 'application/x-www-form-urlencoded', origin: EVIL }, new URLSearchParams({ query: mutation('csrf-form') }).toString()) },
      { name: 'text/plain', res: await send(open, 'POST', '/graphql', { 'content-type': 'text/plain', origin: EVIL }, JSON.stringify({ query: mutation('csrf-text') })) },
      { name: 'form without Origin', res: await send(open, 'POST', '/graphql', { 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({ query: mutation('csrf-form-no-origin') }).toString()) },
      { name: 'GET', res: await send(open, 'GET', `/graphql?query=${encodeURIComponent(mutation('csrf-get'))}`, { origin: EVIL, accept: 'application/json' }) },
      { name: 'REST form-encoded', res: await send(open, 'POST', '/api/v1/sessions', { 'content-type': 'application/x-www-form-urlencoded', origin: EVIL }, 'sessionId=csrf-rest') },
      { name: 'REST text/plain', res: await send(open, 'POST', '/api/v1/sessions', { 'content-type': 'text/plain', origin: EVIL }, JSON.stringify({ sessionId: 'csrf-rest-text' })) },
    ];
    const preflight = await send(open, 'OPTIONS', '/graphql', { origin: EVIL, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' });
    const created = (await sessionIds(open)).filter((id) => id.startsWith('csrf-'));
    assert.deepEqual(created, [], `no session was created cross-site: ${attempts.map((a) => `${a.name} ${a.res.status} ${a.res.body.slice(0, 120)}`).join('\n')}`);
    for (const { name, res } of [...attempts, { name: 'preflight', res: preflight }]) {
      assert.ok(res.status < 500, `${name}: ${res.status}`);
      assert.notEqual(res.headers['access-control-allow-origin'], EVIL, `${name}: the foreign origin is not echoed`);
      assert.notEqual(res.headers['access-control-allow-origin'], '*', `${name}: no wildcard`);
      assert.notEqual(res.headers['access-control-allow-credentials'], 'true', `${name}: no credentials allowed`);
      assertNoStack(res.body, name);
    }
    for (const { name, res } of attempts) assert.ok(res.status >= 400 && res.status < 500, `${name}: refused with a 4xx, got ${res.status} ${res.body.slice(0, 200)}`);
  });

  it('WebSocket upgrades from a foreign Origin are refused on /graphql and /ws/{id}; the own origin and non-browser clients still connect', async () => {
    await readySession(open, 'origin-ws');
    const foreign = openSocket(`${open.ws}/graphql`, 'graphql-transport-ws', { origin: EVIL });
    if (await foreign.opened) foreign.ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    const acked = await foreign.wait((m) => m.some((x) => x.type === 'connection_ack'), 1500);
    assert.equal(acked, false, `no connection_ack for ${EVIL}: ${JSON.stringify(foreign.messages)}`);
    foreign.ws.terminate();

    const legacy = openSocket(`${open.ws}/ws/origin-ws`, undefined, { origin: EVIL });
    await legacy.wait((m) => m.length > 0, 1500);
    assert.deepEqual(legacy.messages, [], 'no event reaches a foreign-origin legacy socket');
    const legacyClosed = await Promise.race([legacy.closed, new Promise<null>((r) => setTimeout(() => r(null), 1500))]);
    assert.ok(legacyClosed || legacy.refused, 'the foreign-origin legacy socket is refused or closed');
    legacy.ws.terminate();

    const own = await graphqlWs(open, {});
    own.ws.close();
    const sameOrigin = openSocket(`${open.ws}/graphql`, 'graphql-transport-ws', { origin: open.url });
    assert.ok(await sameOrigin.opened, 'the server’s own origin connects (the dashboard)');
    sameOrigin.ws.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    assert.ok(await sameOrigin.wait((m) => m.some((x) => x.type === 'connection_ack'), 3000), 'and is acknowledged');
    sameOrigin.ws.close();
    await assertHealthy(open, 'after the origin checks');
  });

  it('a foreign Host in no-key mode is refused (DNS rebinding): no mutation runs over GraphQL or REST', async () => {
    const rebinding = [`evil.example:${open.port}`, 'evil.example', `attacker.test:${open.port}`];
    const results: string[] = [];
    for (const host of rebinding) {
      const g = await send(open, 'POST', '/graphql', gqlHeaders(undefined, { host }), JSON.stringify({ query: `mutation { createSession(input: { sessionId: "rebind-gql" }) { session { sessionId } } }` }));
      const r = await send(open, 'POST', '/api/v1/sessions', { host, 'content-type': 'application/json' }, JSON.stringify({ sessionId: 'rebind-rest' }));
      const q = await send(open, 'GET', '/api/v1/sessions', { host });
      for (const [name, res] of [['GraphQL', g], ['REST POST', r], ['REST GET', q]] as const) {
        results.push(`${host} ${name}: ${res.status}`);
        assert.ok(res.status >= 400 && res.status < 500, `Host ${host}, ${name}: refused with a 4xx, got ${res.status} ${res.body.slice(0, 160)}`);
        assertNoStack(res.body, `Host ${host}, ${name}`);
      }
    }
    assert.deepEqual((await sessionIds(open)).filter((id) => id.startsWith('rebind-')), [], 'nothing was created');
    // Loopback names stay usable.
    for (const host of [`127.0.0.1:${open.port}`, `localhost:${open.port}`, `[::1]:${open.port}`]) {
      const res = await send(open, 'GET', '/api/v1/sessions', { host });
      assert.equal(res.status, 200, `Host ${host} is served`);
    }
  });

  it('600 concurrent operations from one key admit exactly the limit of 100, over GraphQL HTTP, REST and graphql-ws', async () => {
    const keyFor = async (name: string) =>
      (await gqlOk(limited, 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }', { input: { name, admin: true } }, ADMIN_KEY)).createApiKey.key as string;
    const httpKey = await keyFor('rl-http');
    const wsKey = await keyFor('rl-ws');

    const answers = await Promise.all(Array.from({ length: 600 }, () => gql(limited, '{ serverInfo { version } }', {}, httpKey)));
    const admitted = answers.filter((a) => a.json.data?.serverInfo && !a.json.errors).length;
    const limitedCount = answers.filter((a) => a.json.errors?.[0]?.extensions?.code === 'RATE_LIMITED').length;
    assert.equal(admitted + limitedCount, 600, `every answer is data or RATE_LIMITED: ${JSON.stringify(answers.find((a) => !a.json.data && a.json.errors?.[0]?.extensions?.code !== 'RATE_LIMITED')?.body)}`);
    assert.equal(admitted, 100, `HTTP: ${admitted} of 600 admitted`);
    for (const a of answers.filter((x) => x.json.errors)) assert.equal(a.status, 429);

    const restKey = await keyFor('rl-rest');
    const restAnswers = await Promise.all(Array.from({ length: 600 }, () => send(limited, 'GET', '/api/v1/sessions', { 'x-api-key': restKey })));
    const restAdmitted = restAnswers.filter((a) => a.status === 200).length;
    assert.equal(restAdmitted + restAnswers.filter((a) => a.status === 429).length, 600, 'every REST answer is 200 or 429');
    assert.equal(restAdmitted, 100, `REST: ${restAdmitted} of 600 admitted`);

    const s = await graphqlWs(limited, { apiKey: wsKey });
    for (let i = 0; i < 600; i++) s.ws.send(JSON.stringify({ id: `q${i}`, type: 'subscribe', payload: { query: '{ serverInfo { version } }' } }));
    const settled = (m: any[]) => new Set(m.filter((x) => x.type === 'complete' || x.type === 'error').map((x) => x.id)).size;
    assert.ok(await s.wait((m) => settled(m) >= 600, 30_000), `all 600 operations settled: ${settled(s.messages)}`);
    const wsAdmitted = new Set(s.messages.filter((x) => x.type === 'next' && x.payload?.data?.serverInfo).map((x) => x.id)).size;
    assert.equal(wsAdmitted, 100, `graphql-ws: ${wsAdmitted} of 600 admitted`);
    s.ws.close();
    await assertHealthy(limited, 'after 1,800 operations');
  });

  // 100 MiB as in the review would cost this test process as much; 8 MiB is far above any sane size for a
  // connection_init and shows the same thing: a frame limit before connection_ack.
  it('an 8 MiB frame before connection_init (the review sent 100 MiB): the connection is closed unacknowledged', async () => {
    const s = openSocket(`${open.ws}/graphql`, 'graphql-transport-ws');
    assert.ok(await s.opened);
    const padding = 'x'.repeat(8 * 1024 * 1024);
    s.ws.send(JSON.stringify({ type: 'connection_init', payload: { padding } }));
    const closed = await Promise.race([s.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    assert.ok(open.alive, open.crash());
    assert.ok(!s.messages.some((x) => x.type === 'connection_ack'), `no connection_ack for an 8 MiB connection_init`);
    assert.ok(closed, 'the connection was closed');
    assertNoStack(closed.reason, 'the close reason');
    // Garbage of the same size as the first frame: also closed, without parsing.
    const g = openSocket(`${open.ws}/graphql`, 'graphql-transport-ws');
    assert.ok(await g.opened);
    g.ws.send(Buffer.alloc(8 * 1024 * 1024, 0x7b));
    assert.ok(await Promise.race([g.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]), 'closed');
    await assertHealthy(open, 'after the big frames');
  });

  it('150 subscriptions on one graphql-ws connection: at most 100 live, the rest get an error each, the connection goes on', async () => {
    await readySession(open, 'many-subs');
    const s = await graphqlWs(open);
    for (let i = 0; i < 150; i++) s.ws.send(JSON.stringify({ id: `s${i}`, type: 'subscribe', payload: { query: 'subscription { sessionStatus(sessionId: "many-subs") { status } }' } }));
    const answeredIds = (m: any[]) => new Set(m.filter((x) => x.type === 'next' || x.type === 'error').map((x) => x.id)).size;
    await s.wait((m) => answeredIds(m) >= 150, 10_000);
    assert.ok(open.alive, open.crash());
    const live = new Set(s.messages.filter((x) => x.type === 'next').map((x) => x.id));
    const refused = s.messages.filter((x) => x.type === 'error');
    assert.ok(live.size <= 100, `${live.size} live subscriptions on one connection`);
    assert.ok(refused.length >= 50, `${refused.length} refused with an error message`);
    assertNoStack(JSON.stringify(refused), 'the refusals');
    assert.ok(await stillOpen(s), 'the connection is still open');
    s.ws.close();
    await assertHealthy(open, 'after 150 subscriptions');
  });

  it('a READ key sees webhook URLs without their query string (GraphQL and REST); MANAGE sees them in full', async () => {
    // Credentials in the URL itself are refused at registration; a query string is where Slack or Zapier keep theirs.
    const secretUrl = 'http://127.0.0.1:9/hooks/abc?token=SEKRETQUERY77&sig=x';
    await gqlOk(keyed, 'mutation { createSession(input: { sessionId: "wh-mask" }) { session { sessionId } } }', {}, ADMIN_KEY);
    await gqlOk(keyed, 'mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { secret } }', { input: { sessionId: 'wh-mask', url: secretUrl } }, ADMIN_KEY);
    const readKey = (await gqlOk(keyed, 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }', { input: { name: 'wh-read', sessionIds: ['wh-mask'], actions: ['READ'] } }, ADMIN_KEY)).createApiKey.key as string;
    const viaGraphql = await gql(keyed, '{ webhooks(sessionId: "wh-mask") { url } session(sessionId: "wh-mask") { webhooks { url } } }', {}, readKey);
    const viaRest = await send(keyed, 'GET', '/api/v1/sessions/wh-mask/webhooks', { 'x-api-key': readKey });
    assert.equal(viaRest.status, 200, viaRest.body);
    assert.ok(viaGraphql.json.data?.webhooks?.length === 1, viaGraphql.body);
    for (const [name, text] of [['GraphQL', viaGraphql.body], ['REST', viaRest.body]]) {
      for (const secret of ['SEKRETQUERY77', 'sig=x']) assert.ok(!text!.includes(secret), `${name} shows ${secret} to a READ key: ${text}`);
    }
    const admin = await gqlOk(keyed, '{ webhooks(sessionId: "wh-mask") { url } }', {}, ADMIN_KEY);
    assert.equal(admin.webhooks[0].url, secretUrl, 'MANAGE sees the URL in full');
  });

  it('a malformed Host header answers 400 BAD_REQUEST without a stack trace, on every route', async () => {
    for (const host of ['[', 'a b', '%zz', ':']) {
      for (const [method, path, body] of [
        ['GET', '/graphql?query=%7B__typename%7D', undefined],
        ['POST', '/graphql', JSON.stringify({ query: '{ __typename }' })],
        ['GET', '/api/v1/sessions', undefined],
      ] as const) {
        const res = await send(keyed, method, path, { host, 'x-api-key': ADMIN_KEY, 'content-type': 'application/json', accept: 'application/json' }, body);
        assert.equal(res.status, 400, `Host ${JSON.stringify(host)} ${method} ${path}: ${res.status} ${res.body.slice(0, 200)}`);
        assert.match(res.body, /BAD_REQUEST/, `Host ${JSON.stringify(host)} ${method} ${path}: the code`);
        assertNoStack(res.body, `Host ${host}`);
        assert.match(String(res.headers['x-request-id'] ?? ''), /^[\w-]{8,}$/, 'a request id');
      }
    }
    assert.ok(keyed.alive, keyed.crash());
  });

  it('bad JSON in GET variables or extensions: 400 BAD_REQUEST, not INTERNAL_ERROR', async () => {
    for (const param of ['variables', 'extensions']) {
      for (const bad of ['{bad', '[1,', '"\\ud800', 'null}', '{"a":1}}']) {
        const res = await send(open, 'GET', `/graphql?query=${encodeURIComponent('{ __typename }')}&${param}=${encodeURIComponent(bad)}`, { accept: 'application/json' });
        assert.equal(res.status, 400, `${param}=${bad}: ${res.status} ${res.body}`);
        assert.equal(JSON.parse(res.body).errors?.[0]?.extensions?.code, 'BAD_REQUEST', `${param}=${bad}: ${res.body}`);
      }
    }
  });

  it('415 on /graphql comes with an error envelope and a request id', async () => {
    for (const type of ['application/xml', 'text/csv', 'image/png']) {
      const res = await send(open, 'POST', '/graphql', { 'content-type': type, accept: 'application/json' }, '<q/>');
      assert.equal(res.status, 415, `${type}: ${res.status}`);
      assert.ok(res.body.length > 0, `${type}: a body`);
      assert.match(res.body, /UNSUPPORTED_MEDIA_TYPE/, `${type}: ${res.body}`);
      assert.doesNotThrow(() => JSON.parse(res.body), `${type}: JSON`);
      assert.match(String(res.headers['x-request-id'] ?? ''), /^[\w-]{8,}$/);
    }
  });

  it('/metrics answers with a real x-request-id (GET, HEAD and its 401)', async () => {
    const given = 'metrics-probe-1234';
    for (const [t, method, headers] of [
      [open, 'GET', {}],
      [open, 'HEAD', {}],
      [open, 'GET', { 'x-request-id': given }],
      [keyed, 'GET', {}],
      [keyed, 'GET', { 'x-api-key': ADMIN_KEY }],
    ] as const) {
      const res = await send(t, method, '/metrics', headers);
      const id = String(res.headers['x-request-id']);
      assert.notEqual(id, 'undefined', `${t.name} ${method} ${res.status}`);
      assert.match(id, /^[\w-]{8,}$/, `${t.name} ${method} ${res.status}: ${id}`);
      if ('x-request-id' in headers) assert.equal(id, given, 'a sane caller id is kept');
    }
  });

  it('a query over the cost limit is reported as a cost error, not "Syntax Error:"', async () => {
    const res = await gql(open, '{ sessions { chats(first: 1000) { edges { node { messages(last: 1000) { edges { node { body } } } } } } } }');
    const error = res.json.errors?.[0];
    assert.ok(error, res.body);
    assert.doesNotMatch(error.message, /Syntax Error/, error.message);
    assert.match(error.message, /cost/i);
    assert.ok(res.status >= 400 && res.status < 500, `a 4xx: ${res.status}`);
  });

  it('chats(first: 0) gives no negative cursor and no page that claims items it does not hold', async () => {
    await readySession(open, 'first-zero');
    await gqlOk(open, 'mutation { sendText(input: { sessionId: "first-zero", chatId: "15550000001@c.us", content: "hi" }) { message { id } } }');
    const res = await gql(open, '{ session(sessionId: "first-zero") { chats(first: 0) { edges { cursor } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }');
    assertNoStack(res.body, 'chats(first: 0)');
    if (res.json.errors) {
      assert.match(res.json.errors[0]!.extensions?.code ?? '', /VALIDATION_ERROR|BAD_REQUEST/, res.body);
      return;
    }
    const chats = res.json.data.session.chats;
    assert.deepEqual(chats.edges, []);
    for (const cursor of [chats.pageInfo.startCursor, chats.pageInfo.endCursor]) {
      assert.doesNotMatch(decodeCursor(cursor), /-\d/, `cursor ${cursor} (${decodeCursor(cursor)})`);
    }
  });

  it('a group name of "\\u0000" (or with NUL inside) is refused with VALIDATION_ERROR, and no group is made', async () => {
    await readySession(open, 'nul-group');
    for (const name of ['\u0000', 'team\u0000x']) {
      const res = await gql(open, 'mutation($input: CreateGroupInput!) { createGroup(input: $input) { gid } }', { input: { sessionId: 'nul-group', name, participants: ['15550000001@c.us'] } });
      assert.ok(res.json.errors?.length, `refused: ${res.body}`);
      assert.match(res.json.errors![0]!.extensions?.code ?? '', /VALIDATION_ERROR|BAD_REQUEST/, res.body);
    }
    const rest = await send(open, 'POST', '/api/v1/sessions/nul-group/groups', { 'content-type': 'application/json' }, JSON.stringify({ name: '\u0000', participants: ['15550000001@c.us'] }));
    assert.ok(rest.status >= 400 && rest.status < 500, `REST: ${rest.status} ${rest.body}`);
    const chats = await gqlOk(open, '{ session(sessionId: "nul-group") { chats(first: 50) { edges { node { id } } } } }');
    assert.ok(!chats.session.chats.edges.some((e: any) => e.node.id.endsWith('@g.us')), 'no group chat exists');
  });

  it('malformed JSON bodies answer 400 without originalError or parser internals', async () => {
    for (const body of ['{"query":', '{"query": "{ __typename }",}', '\u0000', '{"query":"\\ud800"']) {
      const g = await send(open, 'POST', '/graphql', { 'content-type': 'application/json', accept: 'application/json' }, body);
      assert.equal(g.status, 400, `GraphQL ${JSON.stringify(body)}: ${g.status}`);
      assert.doesNotMatch(g.body, /originalError/, g.body);
      const r = await send(open, 'POST', '/api/v1/sessions', { 'content-type': 'application/json' }, body);
      assert.equal(r.status, 400, `REST ${JSON.stringify(body)}: ${r.status}`);
      assert.doesNotMatch(r.body, /originalError/, r.body);
    }
  });

  it('a 401 does not offer Basic authentication to browsers', async () => {
    for (const path of ['/graphql?query=%7B__typename%7D', '/api/v1/sessions', '/metrics']) {
      const res = await send(keyed, 'GET', path, { accept: 'application/json' });
      assert.equal(res.status, 401, path);
      assert.doesNotMatch(String(res.headers['www-authenticate'] ?? ''), /basic/i, `${path}: ${res.headers['www-authenticate']}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Part two: 5,000 generated inputs over every transport, in batches; after each batch the server is checked.

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const hostileText = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: fc.oneof(loneSurrogate, fc.constantFrom('\u0000', 'é', '😀', '\u202e', '\ufeff', '"', '\\', '%', '/', '\n')), maxLength: 30 }) },
  { weight: 2, arbitrary: fc.constantFrom('\u0000', 'a\u0000b', '\ud800', '\udfff\ud800', '😀'.repeat(300), 'é'.repeat(200), '𝕏'.repeat(100), '\u0000'.repeat(1000), '../../etc/passwd', '%00', '${jndi:x}', '__proto__', 'constructor', '') },
);
/** Huge strings and lists: rarer, so 5,000 inputs stay cheap. */
const huge = fc.oneof(
  fc.constantFrom(100_000, 1_000_000).chain((n) => fc.constantFrom('x', 'é', '😀', '\u0000').map((c) => c.repeat(n))),
  fc.constantFrom(10_000, 50_000).map((n) => Array.from({ length: n }, (_, i) => `${i}@c.us`)),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: hostileText },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.array(hostileText, { maxLength: 20 }) },
  { weight: 2, arbitrary: fc.constantFrom(1e308, -1, 2 ** 53 + 1, -0, 0.5, true, null) },
  { weight: 1, arbitrary: huge },
);
const hostileVariables = fc.oneof(
  fuzzVariables,
  fc.dictionary(fc.constantFrom('id', 'input', 'sessionId', 'body', 'from', 'chatId'), hostileValue, { maxKeys: 3 }),
  fc.record({ input: fc.dictionary(fc.constantFrom('sessionId', 'chatId', 'content', 'name', 'participants', 'url', 'headers', 'config', 'description'), hostileValue, { maxKeys: 5 }) }),
);
const hostileDocument = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...documents) },
  { weight: 2, arbitrary: mutatedDocument },
  { weight: 1, arbitrary: hostileText.map((s) => `{ session(sessionId: "${s}") { sessionId } }`) },
  { weight: 1, arbitrary: hostileText.map((s) => `subscription { "${s}" }`) },
  { weight: 1, arbitrary: fc.constantFrom('{'.repeat(5000), `query { ${'a: __typename '.repeat(3000)} }`, `{ ${'sessions { '.repeat(40)}${'}'.repeat(40)} }`, '#'.repeat(100_000), `query($v: [[[String]]]) { __typename }`) },
);
/** A body as bytes: JSON of hostile values, or broken JSON, or invalid UTF-8. */
const malformedBytes = fc.oneof(
  fc.constantFrom('{"query":', '{"query":"{ __typename }",', '{"query": "\\ud800"}', '[' + '['.repeat(10_000), '{"a":'.repeat(5000), '\u0000{}', '{"query":"{ __typename }"}garbage', '').map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc.constantFrom([0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xff, 0xfe], [0xf4, 0x90, 0x80, 0x80]).map((bytes) => Buffer.concat([Buffer.from('{"query":"{ session(sessionId: \\"'), Buffer.from(bytes), Buffer.from('\\") { sessionId } }"}')])),
);
const graphqlJson = fc.record({ query: hostileDocument, variables: hostileVariables, operationName: fc.option(hostileText, { nil: undefined }), extensions: fc.option(hostileValue, { nil: undefined }) }, { requiredKeys: ['query'] });
const hostileBody = fc.oneof({ weight: 4, arbitrary: graphqlJson.map((b) => Buffer.from(JSON.stringify(b))) }, { weight: 1, arbitrary: graphqlBody.map((b) => Buffer.from(b)) }, { weight: 2, arbitrary: malformedBytes });

/** Percent-encodes text as UTF-8 (lone surrogates become U+FFFD), sometimes with raw invalid escapes mixed in. */
const pathText = fc.oneof(
  hostileText.map((s) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
  fc.constantFrom('%ED%A0%80', '%C0%AF', '%FF', '%zz', '%', '%00', '..%2F..', '%2e%2e', 'a%2Fb', '%E2%80%AE'),
);
const keyChoice = fc.constantFrom<'admin' | 'read' | 'none' | 'bad'>('admin', 'admin', 'admin', 'read', 'none', 'bad');

const input = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('post' as const), key: keyChoice, body: hostileBody, type: fc.constantFrom('application/json', 'application/json', 'application/graphql-response+json', 'text/plain', 'application/x-www-form-urlencoded') }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('get' as const), key: keyChoice, query: pathText, variables: fc.option(fc.oneof(pathText, hostileVariables.map((v) => encodeURIComponent(JSON.stringify(v)).slice(0, 20_000))), { nil: undefined }), extensions: fc.option(pathText, { nil: undefined }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('rest' as const), key: keyChoice, route: fc.nat(routeTable.length - 1), params: fc.array(fc.oneof(fc.constantFrom('hz-a', '15550000001@c.us', 'nobody'), pathText), { minLength: 3, maxLength: 3 }), body: fc.oneof(fc.dictionary(fc.constantFrom('sessionId', 'chatId', 'message', 'content', 'name', 'participants', 'url', 'caption', 'image', 'events', 'headers'), hostileValue, { maxKeys: 4 }).map((v) => Buffer.from(JSON.stringify(v))), malformedBytes) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('ws' as const), key: keyChoice, init: fc.oneof(fc.constant(null), hostileValue), frames: fc.array(fc.oneof(fc.record({ type: fc.constantFrom('subscribe', 'subscribe', 'complete', 'ping', 'nonsense'), id: fc.option(hostileText, { nil: undefined }), payload: fc.option(graphqlJson, { nil: undefined }) }, { requiredKeys: ['type'] }).map((m) => JSON.stringify(m)), malformedBytes.map((b) => b.toString('latin1')), malformedBytes), { minLength: 1, maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sse' as const), key: keyChoice, query: fc.oneof(fc.constantFrom(documents[8]!, 'subscription($id: String!) { events(sessionId: $id) { type } }', 'subscription($id: String!) { qr(sessionId: $id) { dataUrl } }'), hostileDocument), variables: hostileVariables, get: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('legacy' as const), key: keyChoice, id: fc.oneof(fc.constant('hz-a'), pathText), frame: fc.option(fc.oneof(hostileText, malformedBytes), { nil: undefined }) }) },
);
type Input = typeof input extends fc.Arbitrary<infer T> ? T : never;

/** A short account of an input for a failure message (the seed replays it in full). */
function describeInput(x: Input): string {
  const clip = (v: unknown) => {
    const text = Buffer.isBuffer(v) ? v.toString('latin1') : typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
    return `${JSON.stringify(text.slice(0, 100))}${text.length > 100 ? `... (${text.length} chars)` : ''}`;
  };
  switch (x.kind) {
    case 'post':
      return `POST /graphql key=${x.key} type=${x.type} body=${clip(x.body)}`;
    case 'get':
      return `GET /graphql key=${x.key} query=${clip(x.query)} variables=${clip(x.variables)}`;
    case 'rest':
      return `REST ${routeTable[x.route]!.method} ${routeTable[x.route]!.path} key=${x.key} params=${clip(x.params)} body=${clip(x.body)}`;
    case 'ws':
      return `graphql-ws key=${x.key} init=${clip(x.init)} frames=${clip(x.frames)}`;
    case 'sse':
      return `SSE ${x.get ? 'GET' : 'POST'} key=${x.key} query=${clip(x.query)} variables=${clip(x.variables)}`;
    case 'legacy':
      return `/ws/${x.id.slice(0, 60)} key=${x.key} frame=${clip(x.frame)}`;
  }
}

const BATCHES = 10;
const PER_BATCH = 500;

describe('hostile input: 5,000 generated inputs over every transport', () => {
  const fuzz = new Target('fuzz', ['--api-key', ADMIN_KEY, '--host', '127.0.0.1', '--max-sessions', '6', '--log-level', 'error']);
  let readKey = '';
  const seen = new Map<string, number>();
  const tally = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);
  before(async () => {
    await fuzz.start();
    await readySession(fuzz, 'hz-a', ADMIN_KEY);
    readKey = (await gqlOk(fuzz, 'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }', { input: { name: 'hz-read', sessionIds: ['hz-a'], actions: ['READ'] } }, ADMIN_KEY)).createApiKey.key;
  });
  after(async () => {
    await fuzz.stop();
    console.log(`# hostile-input fuzz: ${[...seen].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  });

  const keyHeader = (key: Input['key']): Record<string, string> =>
    key === 'admin' ? { 'x-api-key': ADMIN_KEY } : key === 'read' ? { 'x-api-key': readKey } : key === 'bad' ? { 'x-api-key': 'not-a-key-of-this-server' } : {};

  /** A request on a connection of its own; a big body the server refused early may see its upload cut. */
  async function fuzzSend(method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<RawResponse | null> {
    try {
      return await send(fuzz, method, path, headers, body, 10_000, true);
    } catch (error) {
      if ((body?.length ?? 0) > 64 * 1024 && /EPIPE|ECONNRESET|socket hang up/.test(String(error)) && fuzz.alive) {
        tally(`${method} upload cut`);
        return null;
      }
      throw error;
    }
  }

  function checkHttp(what: string, path: string, res: RawResponse | null) {
    if (!res) return;
    tally(`${what} ${Math.floor(res.status / 100)}xx`);
    const documented503 = res.status === 503 && /^\/(?:health|api\/v1\/health)\b/.test(path);
    assert.ok(res.status < 500 || documented503, `${what} ${path.slice(0, 120)} -> ${res.status}: ${res.body.slice(0, 300)}`);
    assertNoStack(res.body, `${what} ${path.slice(0, 120)}`);
  }

  function checkClose(what: string, closed: { code: number; reason: string } | null) {
    if (!closed) return;
    tally(`${what} close ${closed.code}`);
    assert.ok(closed.code !== 1011 && closed.code !== 4500, `${what}: closed with ${closed.code} (an internal error) ${closed.reason}`);
    assert.ok(Buffer.byteLength(closed.reason) <= 123);
    assertNoStack(closed.reason, `${what} close reason`);
  }

  async function socketRound(s: SocketLog, frames: (string | Buffer)[], what: string) {
    if (await s.opened) {
      for (const f of frames) if (s.ws.readyState === WebSocket.OPEN) s.ws.send(f);
      await new Promise((r) => setTimeout(r, 30));
      if (s.ws.readyState === WebSocket.OPEN) s.ws.close(1000);
    }
    const closed = await Promise.race([s.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    if (!closed) s.ws.terminate();
    assertNoStack(JSON.stringify(s.messages), `${what} messages`);
    for (const m of s.messages) if (m && typeof m === 'object' && m.type === 'error') tally(`${what} op-error`);
    checkClose(what, closed);
  }

  async function run(x: Input) {
    switch (x.kind) {
      case 'post': {
        const res = await fuzzSend('POST', '/graphql', { 'content-type': x.type, accept: 'application/graphql-response+json, application/json', ...keyHeader(x.key) }, x.body);
        return checkHttp('POST /graphql', '/graphql', res);
      }
      case 'get': {
        const qs = [`query=${x.query}`, x.variables !== undefined ? `variables=${x.variables}` : '', x.extensions !== undefined ? `extensions=${x.extensions}` : ''].filter(Boolean).join('&');
        const path = `/graphql?${qs}`;
        return checkHttp('GET /graphql', path, await fuzzSend('GET', path, { accept: 'application/json', ...keyHeader(x.key) }));
      }
      case 'rest': {
        const route = routeTable[x.route]!;
        let i = 0;
        const path = `/api/v1${route.path.replace(/\{\w+\}/g, () => x.params[i++ % 3]!)}`;
        const res = await fuzzSend(route.method, path, { 'content-type': 'application/json', ...keyHeader(x.key) }, route.method === 'GET' ? undefined : x.body);
        return checkHttp(`REST ${route.method}`, path, res);
      }
      case 'ws': {
        const s = openSocket(`${fuzz.ws}/graphql`, 'graphql-transport-ws');
        const init = JSON.stringify({ type: 'connection_init', payload: x.init === null ? (x.key === 'admin' ? { apiKey: ADMIN_KEY } : {}) : x.init });
        return socketRound(s, [init, ...x.frames], 'graphql-ws');
      }
      case 'sse': {
        const body = JSON.stringify({ query: x.query, variables: typeof x.variables === 'object' && x.variables && !Array.isArray(x.variables) ? { id: 'hz-a', ...x.variables } : x.variables });
        const path = x.get ? `/graphql?query=${encodeURIComponent(x.query.replace(/[\ud800-\udfff]/g, '?')).slice(0, 20_000)}` : '/graphql';
        const res = await new Promise<RawResponse | null>((resolve, reject) => {
          const req = httpRequest(
            { host: '127.0.0.1', port: fuzz.port, method: x.get ? 'GET' : 'POST', path, agent: false, headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...keyHeader(x.key) } },
            (r) => {
              let text = '';
              const finish = () => {
                r.destroy();
                resolve({ status: r.statusCode ?? 0, headers: r.headers, body: text });
              };
              const timer = setTimeout(finish, 150);
              r.on('data', (c: Buffer) => {
                text += c.toString();
                if (/event: (?:next|complete)/.test(text) && text.includes('\n\n')) {
                  clearTimeout(timer);
                  finish();
                }
              });
              r.on('end', () => {
                clearTimeout(timer);
                resolve({ status: r.statusCode ?? 0, headers: r.headers, body: text });
              });
              r.on('error', () => undefined);
            },
          );
          req.setTimeout(10_000, () => req.destroy(new Error('SSE: no answer in 10 s')));
          req.on('error', reject);
          req.end(x.get ? undefined : body);
        }).catch((error: unknown) => {
          // As in fuzzSend: a big body the server refused early may see its upload cut.
          if (!x.get && body.length > 64 * 1024 && /EPIPE|ECONNRESET|socket hang up/.test(String(error)) && fuzz.alive) {
            tally('SSE upload cut');
            return null;
          }
          throw error;
        });
        return checkHttp('SSE', path, res);
      }
      case 'legacy': {
        const s = openSocket(`${fuzz.ws}/ws/${x.id}`, undefined, { headers: keyHeader(x.key) });
        return socketRound(s, x.frame === undefined ? [] : [x.frame], 'legacy /ws');
      }
    }
  }

  for (let batch = 0; batch < BATCHES; batch++) {
    it(`batch ${batch + 1} of ${BATCHES}: ${PER_BATCH} inputs, then the process is alive, /health answers in under 1 s`, async () => {
      await fuzz.ensure();
      // The same inputs on every run (a failure can be replayed); each batch has its own seed.
      const inputs = fc.sample(input, { numRuns: PER_BATCH, seed: 20261204 + batch });
      const failures: string[] = [];
      let next = 0;
      const worker = async () => {
        while (next < inputs.length) {
          const x = inputs[next++]!;
          tally(x.kind);
          try {
            await run(x);
          } catch (error) {
            failures.push(`${describeInput(x)}: ${String(error instanceof Error ? error.message : error).slice(0, 400)}`);
            if (!fuzz.alive) return;
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      assert.ok(fuzz.alive, fuzz.crash());
      await assertHealthy(fuzz, `after batch ${batch + 1}`);
      assert.deepEqual(failures.slice(0, 10), [], `${failures.length} of ${PER_BATCH} inputs failed`);
    });
  }

  it('is still correct afterwards: reads and a send work', async () => {
    await assertHealthy(fuzz, 'at the end');
    const ids = await sessionIds(fuzz, ADMIN_KEY);
    if (!ids.includes('hz-a')) await readySession(fuzz, 'hz-a', ADMIN_KEY);
    const sent = await gql(fuzz, 'mutation { sendText(input: { sessionId: "hz-a", chatId: "15550000001@c.us", content: "still here" }) { message { id } } }', {}, ADMIN_KEY);
    assert.ok(sent.json.data?.sendText?.message?.id || sent.json.errors?.[0]?.extensions?.code === 'SESSION_NOT_READY', sent.body);
  });
});
