import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { CREATE, SCAN, startServer, tempDir, waitFor, type TestServer } from './helpers/app.js';
import { ADMIN_KEY, gqlAs, withKey } from './helpers/auth.js';
import { root, SERVER_ENTRY, spawnServer, type ServerProcess } from './helpers/process.js';

// The HTTP boundary under hostile input (issue: hostile input): big bodies, cross-site requests, foreign hosts,
// malformed requests, and errors nobody caught. Servers that a hang or crash would take down run as child processes.

const STACK = /\n\s+at |node_modules|\.ts:\d+/;

/** Writes `text` on a raw connection and resolves with everything the server sent until it closed (or 3 s). */
function raw(port: number, text: string, waitMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    const done = () => resolve(out);
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    socket.on('close', done);
    socket.on('error', done);
    socket.write(text);
    setTimeout(() => socket.destroy(), waitMs).unref();
  });
}

const portOf = (url: string) => Number(new URL(url).port);
const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);

/** Opens a WebSocket with the given headers; resolves 'open' or the refusal's HTTP status. */
function tryWebSocket(url: string, headers: Record<string, string>, protocol?: string): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, protocol, { headers });
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('error', () => resolve(-1));
  });
}

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

/** Where a process's resident memory is, for the figures: anonymous vs file-backed (kernel), and V8's heap and external memory (its /metrics). */
async function memoryFigures(pid: number, url: string, headers: Record<string, string>): Promise<string> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024);
  const text = await (await fetch(`${url}/metrics`, { headers })).text();
  const mb = (name: string) => Math.round(Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) / 1048576);
  return `RSS ${kb('VmRSS')} MB (anon ${kb('RssAnon')}, file ${kb('RssFile')}), V8 heap ${mb('nodejs_heap_size_total_bytes')} MB (used ${mb('nodejs_heap_size_used_bytes')}), external ${mb('nodejs_external_memory_bytes')} MB`;
}

function postBig(url: string, kind: string, mb: number, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['test/fixtures/hostile/post-big.mjs', url, kind, String(mb), JSON.stringify(headers)], { cwd: root, maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error) reject(error);
      else resolve(JSON.parse(stdout));
    });
  });
}

/** Runs `work` while asking /health every 50 ms; resolves with its result and the slowest /health answer. */
async function whileProbing<T>(url: string, work: () => Promise<T>): Promise<{ result: T; slowestMs: number; probes: number; failures: string[] }> {
  let done = false;
  let slowestMs = 0;
  let probes = 0;
  const failures: string[] = [];
  const probing = (async () => {
    while (!done) {
      const started = performance.now();
      try {
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) });
        if (res.status !== 200) failures.push(`status ${res.status}`);
        await res.arrayBuffer();
      } catch (error) {
        failures.push(String(error));
      }
      slowestMs = Math.max(slowestMs, performance.now() - started);
      probes++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    const result = await work();
    return { result, slowestMs, probes, failures };
  } finally {
    done = true;
    await probing;
  }
}

describe('hostile HTTP: big bodies (a child process with an API key)', () => {
  let server: ServerProcess;
  before(async () => {
    server = await spawnServer(['--port', '0', '--host', '127.0.0.1', '--data-dir', tempDir(), '--api-key', ADMIN_KEY, '--sandbox-start-delay-ms', '20', '--sandbox-auth-delay-ms', '20']);
  });
  after(() => {
    server.child.kill('SIGKILL');
  });

  it('/health answers in under 1 s throughout a 20 MB POST without a key and 100 MB ones with a key; RSS comes back within 50 MB', async () => {
    const gql = async (query: string, variables: Record<string, unknown> = {}) => {
      const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...withKey(ADMIN_KEY) }, body: JSON.stringify({ query, variables }) });
      return (await res.json()) as any;
    };
    await gql(CREATE, { input: { sessionId: 'big', waitForQR: true } });
    await gql(SCAN, { id: 'big' });
    await waitFor(async () => (await gql('{ session(sessionId: "big") { status } }')).data?.session?.status === 'READY', 10_000, 'session READY');
    const pid = server.child.pid!;
    const startRss = rssMb(pid);
    const startFigures = await memoryFigures(pid, server.url, withKey(ADMIN_KEY));
    const figures: string[] = [];
    const cases: { name: string; path: string; kind: string; mb: number; headers: Record<string, string>; expect: (r: { status: number; body: string }) => void }[] = [
      {
        name: '20 MB without a key',
        path: '/graphql',
        kind: 'padding',
        mb: 20,
        headers: {},
        // Refused from its headers: the answer comes while the client is still sending (or the connection goes).
        expect: (r) => assert.ok(r.status === 401 || r.status === 0, JSON.stringify(r)),
      },
      {
        name: '100 MB sendImage (data URL in variables)',
        path: '/graphql',
        kind: 'image',
        mb: 100,
        headers: withKey(ADMIN_KEY),
        expect: (r) => {
          assert.equal(r.status, 200);
          const body = JSON.parse(r.body);
          assert.equal(body.errors[0].extensions.code, 'VALIDATION_ERROR');
          assert.equal(body.errors[0].extensions.details.reason, 'TOO_LARGE');
        },
      },
      {
        name: '100 MB query text',
        path: '/graphql',
        kind: 'queryText',
        mb: 100,
        headers: withKey(ADMIN_KEY),
        expect: (r) => {
          assert.equal(r.status, 413);
          assert.equal(JSON.parse(r.body).errors[0].extensions.code, 'PAYLOAD_TOO_LARGE');
        },
      },
      {
        name: '100 MB REST send-image',
        path: '/api/v1/sessions/big/send-image',
        kind: 'rest',
        mb: 100,
        headers: withKey(ADMIN_KEY),
        expect: (r) => {
          assert.equal(r.status, 400, r.body);
          assert.equal(JSON.parse(r.body).error.details.reason, 'TOO_LARGE');
        },
      },
    ];
    // The server's own longest event-loop stall (prom-client's monitor, reset at each scrape), for the figures.
    const loopLagMs = async () => {
      const text = await (await fetch(`${server.url}/metrics`, { headers: withKey(ADMIN_KEY) })).text();
      return Math.round(Number(/^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text)?.[1] ?? NaN) * 1000);
    };
    let peakRss = startRss;
    for (const c of cases) {
      await loopLagMs();
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(pid))), 100);
      const run = await whileProbing(server.url, () => postBig(`${server.url}${c.path}`, c.kind, c.mb, c.headers));
      clearInterval(sampler);
      const lag = await loopLagMs();
      c.expect(run.result);
      assert.doesNotMatch(run.result.body, STACK);
      assert.deepEqual(run.failures, [], c.name);
      assert.ok(run.slowestMs < 1000, `${c.name}: /health took ${Math.round(run.slowestMs)} ms`);
      figures.push(`${c.name}: answered ${run.result.status}, slowest /health ${Math.round(run.slowestMs)} ms over ${run.probes} probes, longest event-loop stall ${lag} ms`);
    }
    // Memory comes back: the server asks for a collection once a big body is done with, and the JSON worker goes when idle.
    let endRss = rssMb(pid);
    const deadline = Date.now() + 30_000;
    while (endRss - startRss > 50 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      endRss = rssMb(pid);
    }
    const endFigures = await memoryFigures(pid, server.url, withKey(ADMIN_KEY));
    console.log(`# RSS start ${Math.round(startRss)} MB, peak ${Math.round(peakRss)} MB, after ${Math.round(endRss)} MB\n# start: ${startFigures}\n# after: ${endFigures}\n# ${figures.join('\n# ')}`);
    // Held only once a big body stopped growing malloc's main heap (read-body.ts gathers it into one block): kept as
    // the socket's 64 KiB chunks, 15-100 MB of that heap stayed behind, more often on Node 24 and beside another suite.
    assert.ok(endRss - startRss <= 50, `RSS ${Math.round(startRss)} MB -> ${Math.round(endRss)} MB\nstart: ${startFigures}\nafter: ${endFigures}`);
    assert.equal(server.child.exitCode, null, 'the server is alive');
  });

  it('refuses a caller without a valid key from its headers: a 50 MB body that is never sent still gets its 401', async () => {
    const response = await raw(
      portOf(server.url),
      `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${50 * 1024 * 1024}\r\n\r\n{"query":`,
    );
    assert.equal(statusOf(response), 401, response);
    assert.match(response, /connection: close/i);
    assert.match(response, /www-authenticate: Bearer realm="wa-gateway"\r\n/i);
    const rest = await raw(portOf(server.url), `POST /api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${50 * 1024 * 1024}\r\n\r\n{`);
    assert.equal(statusOf(rest), 401, rest);
    assert.match(rest, /"code":"UNAUTHENTICATED"/);
  });
});

describe('hostile HTTP: cross-site requests and foreign hosts without an API key (a child process)', () => {
  let server: ServerProcess;
  let port: number;
  before(async () => {
    server = await spawnServer(['--port', '0', '--data-dir', tempDir()]);
    port = portOf(server.url);
  });
  after(() => {
    server.child.kill('SIGKILL');
  });
  const sessions = async () => ((await (await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ sessions { sessionId } }')}`)).json()) as any).data.sessions;
  const createEvil = (id: string) => `mutation { createSession(input: {sessionId: "${id}"}) { session { sessionId } } }`;

  it('a cross-site form POST (and text/plain, multipart) never runs its mutation', async () => {
    const attempts: [string, Record<string, string>, string][] = [
      ['form from evil.example', { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, `query=${encodeURIComponent(createEvil('evil1'))}`],
      ['form without Origin', { 'content-type': 'application/x-www-form-urlencoded' }, `query=${encodeURIComponent(createEvil('evil2'))}`],
      ['text/plain JSON', { 'content-type': 'text/plain' }, JSON.stringify({ query: createEvil('evil3') })],
      ['multipart', { 'content-type': 'multipart/form-data; boundary=x' }, `--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n${createEvil('evil4')}\r\n--x--\r\n`],
      ['JSON from evil.example (no-cors fetch)', { 'content-type': 'application/json', origin: 'https://evil.example' }, JSON.stringify({ query: createEvil('evil5') })],
    ];
    for (const [name, headers, body] of attempts) {
      const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers, body });
      assert.ok(res.status === 403 || res.status === 415, `${name}: ${res.status}`);
      const json = (await res.json()) as any;
      assert.ok(['FORBIDDEN', 'UNSUPPORTED_MEDIA_TYPE'].includes(json.errors[0].extensions.code), name);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
    }
    // The same over REST.
    const rest = await fetch(`${server.url}/api/v1/sessions`, { method: 'POST', headers: { 'content-type': 'text/plain', origin: 'https://evil.example' }, body: '{"sessionId":"evil6"}' });
    assert.equal(rest.status, 403);
    const restForm = await fetch(`${server.url}/api/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'sessionId=evil7' });
    assert.equal(restForm.status, 415);
    // A mutation over GET is refused by yoga (405); a GET query still works for curl.
    const get = await fetch(`${server.url}/graphql?query=${encodeURIComponent(createEvil('evil8'))}`);
    assert.equal(get.status, 405);
    assert.deepEqual(await sessions(), []);
    // The same page's own JSON POST (the dashboard's) works.
    const own = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', origin: server.url }, body: JSON.stringify({ query: '{ sessions { sessionId } }' }) });
    assert.equal(own.status, 200);
  });

  it('sends no CORS headers to any origin when --cors-origins lists none', async () => {
    const res = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { origin: 'https://evil.example' } });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
    const preflight = await fetch(`${server.url}/graphql`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
  });

  it('refuses a WebSocket from a foreign origin (graphql-ws and /ws), accepts its own origin and clients without one', async () => {
    const ws = server.url.replace('http', 'ws');
    assert.equal(await tryWebSocket(`${ws}/graphql`, { origin: 'https://evil.example' }, 'graphql-transport-ws'), 403);
    assert.equal(await tryWebSocket(`${ws}/ws/any`, { origin: 'https://evil.example' }), 403);
    assert.equal(await tryWebSocket(`${ws}/graphql`, { origin: 'null' }, 'graphql-transport-ws'), 403);
    assert.equal(await tryWebSocket(`${ws}/graphql`, { origin: server.url }, 'graphql-transport-ws'), 'open');
    assert.equal(await tryWebSocket(`${ws}/graphql`, {}, 'graphql-transport-ws'), 'open');
  });

  it('refuses a foreign Host (DNS rebinding) with 403 FORBIDDEN on every route and on upgrades; loopback names and addresses pass', async () => {
    for (const path of ['/graphql?query=%7B__typename%7D', '/api/v1/sessions', '/health', '/metrics', '/']) {
      const response = await raw(port, `GET ${path} HTTP/1.1\r\nHost: evil.example:${port}\r\nConnection: close\r\n\r\n`);
      assert.equal(statusOf(response), 403, `${path}: ${response}`);
      assert.match(response, /"code":"FORBIDDEN"/);
    }
    const upgrade = await raw(
      port,
      `GET /graphql HTTP/1.1\r\nHost: evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n`,
    );
    assert.equal(statusOf(upgrade), 403, upgrade);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `127.1.2.3`, `[::1]:${port}`, `app.localhost:${port}`, `192.168.1.20:${port}`]) {
      const response = await raw(port, `GET /health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      assert.equal(statusOf(response), 200, `${host}: ${response}`);
    }
    assert.equal(server.child.exitCode, null);
  });
});

describe('hostile HTTP: --cors-origins and --allowed-hosts', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ http: { corsOrigins: ['https://app.example.com'], allowedHosts: ['gateway.internal'] } });
  });
  after(() => server.dispose());

  it('answers a listed origin with CORS headers and its preflight with 204; others get none', async () => {
    const preflight = await fetch(`${server.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-api-key' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /x-api-key/);
    const post = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://app.example.com' }, body: JSON.stringify({ query: '{ sessions { sessionId } }' }) });
    assert.equal(post.status, 200);
    assert.equal(post.headers.get('access-control-allow-origin'), 'https://app.example.com');
    assert.equal(post.headers.get('access-control-allow-credentials'), 'true');
    const rest = await fetch(`${server.url}/api/v1/sessions`, { headers: { origin: 'https://app.example.com' } });
    assert.equal(rest.headers.get('access-control-allow-origin'), 'https://app.example.com');
    const other = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://other.example.com' }, body: JSON.stringify({ query: '{ sessions { sessionId } }' }) });
    assert.equal(other.status, 403);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    assert.equal(await tryWebSocket(`${server.wsUrl}/graphql`, { origin: 'https://app.example.com' }, 'graphql-transport-ws'), 'open');
    assert.equal(await tryWebSocket(`${server.wsUrl}/graphql`, { origin: 'https://other.example.com' }, 'graphql-transport-ws'), 403);
  });

  it('accepts a Host from --allowed-hosts', async () => {
    const port = portOf(server.url);
    assert.equal(statusOf(await raw(port, `GET /health HTTP/1.1\r\nHost: gateway.internal:${port}\r\nConnection: close\r\n\r\n`)), 200);
    assert.equal(statusOf(await raw(port, `GET /health HTTP/1.1\r\nHost: other.internal:${port}\r\nConnection: close\r\n\r\n`)), 403);
  });
});

describe('hostile HTTP: malformed requests get a clear error, never a stack trace (API key set)', () => {
  let server: TestServer;
  let port: number;
  before(async () => {
    server = await startServer({ auth: { apiKeys: [ADMIN_KEY] } });
    port = portOf(server.url);
  });
  after(() => server.dispose());

  it('a malformed Host header is 400 BAD_REQUEST', async () => {
    for (const path of ['/graphql?query=%7B__typename%7D', '/api/v1/sessions', '/health']) {
      const response = await raw(port, `GET ${path} HTTP/1.1\r\nHost: exa mple[\r\nX-Api-Key: ${ADMIN_KEY}\r\nConnection: close\r\n\r\n`);
      assert.equal(statusOf(response), 400, response);
      assert.match(response, /"code":"BAD_REQUEST"/);
      assert.match(response, /x-request-id: \S+/i);
      assert.doesNotMatch(response, STACK);
    }
  });

  it('bad JSON in GET variables or extensions is 400 BAD_REQUEST', async () => {
    for (const param of ['variables=%7Bbad', 'extensions=%7Bbad', 'variables=%5B1%5D', 'variables=42']) {
      const res = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ __typename }')}&${param}`, { headers: withKey(ADMIN_KEY) });
      assert.equal(res.status, 400, param);
      const body = (await res.json()) as any;
      assert.equal(body.errors[0].extensions.code, 'BAD_REQUEST');
    }
  });

  it('POST bodies /graphql does not read: an envelope with UNSUPPORTED_MEDIA_TYPE, BAD_REQUEST, METHOD_NOT_ALLOWED', async () => {
    const post = (headers: Record<string, string>, body: string, method = 'POST') => fetch(`${server.url}/graphql`, { method, headers: { ...withKey(ADMIN_KEY), ...headers }, body });
    const cases: [Response, number, string][] = [
      [await post({ 'content-type': 'application/xml' }, '<q/>'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [await post({ 'content-type': 'application/json; charset=latin1' }, '{}'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [await post({ 'content-type': 'application/json' }, '{"query": '), 400, 'BAD_REQUEST'],
      [await post({ 'content-type': 'application/json' }, ''), 400, 'BAD_REQUEST'],
      [await post({ 'content-type': 'application/json' }, '"just a string"'), 400, 'BAD_REQUEST'],
      [await post({ 'content-type': 'application/json' }, '[{"query":"{ __typename }"}]'), 400, 'BAD_REQUEST'],
      [await post({ 'content-type': 'application/json' }, '{}', 'PUT'), 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const [res, status, code] of cases) {
      assert.equal(res.status, status, code);
      assert.ok(res.headers.get('x-request-id'));
      const text = await res.text();
      const body = JSON.parse(text);
      assert.equal(body.errors[0].extensions.code, code);
      assert.equal(body.errors[0].extensions.originalError, undefined);
      assert.doesNotMatch(text, STACK);
    }
    const graphqlText = await post({ 'content-type': 'application/graphql' }, '{ __typename }');
    assert.deepEqual(((await graphqlText.json()) as any).data, { __typename: 'Query' });
  });

  it('a document over --max-query-length is 413 before it is parsed', async () => {
    const res = await gqlAs(server, `{ __typename ${' '.repeat(1_100_000)} }`, {}, withKey(ADMIN_KEY));
    assert.equal(res.status, 413);
    assert.equal(res.errors?.[0]?.extensions?.code, 'PAYLOAD_TOO_LARGE');
  });

  it('bytes that are not HTTP get a 400 envelope', async () => {
    const response = await raw(port, 'GARBAGE\x00 / HTTP/9\r\n\r\n');
    assert.equal(statusOf(response), 400, response);
    assert.match(response, /"code":"BAD_REQUEST"/);
  });

  it('/metrics carries a real request id, the caller\'s when sane', async () => {
    const res = await fetch(`${server.url}/metrics`, { headers: withKey(ADMIN_KEY) });
    assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const given = await fetch(`${server.url}/metrics`, { headers: { ...withKey(ADMIN_KEY), 'x-request-id': 'abc-123' } });
    assert.equal(given.headers.get('x-request-id'), 'abc-123');
  });

  it('a 401 offers Bearer only; Basic credentials still work for API clients', async () => {
    const refused = await gqlAs(server, '{ sessions { sessionId } }');
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('www-authenticate'), 'Bearer realm="wa-gateway"');
    const metrics = await fetch(`${server.url}/metrics`);
    assert.equal(metrics.headers.get('www-authenticate'), 'Bearer realm="wa-gateway"');
    const basic = await gqlAs(server, '{ sessions { sessionId } }', {}, { authorization: `Basic ${Buffer.from(`u:${ADMIN_KEY}`).toString('base64')}` });
    assert.equal(basic.status, 200);
  });

  it('--health-open covers GET /api/v1/health as /health', async () => {
    for (const path of ['/health', '/api/v1/health']) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.equal(((await res.json()) as any).data.status, 'healthy');
    }
    const closed = await startServer({ auth: { apiKeys: [ADMIN_KEY], healthOpen: false } });
    try {
      for (const path of ['/health', '/api/v1/health']) {
        assert.equal((await fetch(`${closed.url}${path}`)).status, 401, path);
        assert.equal((await fetch(`${closed.url}${path}`, { headers: withKey(ADMIN_KEY) })).status, 200, path);
      }
    } finally {
      await closed.dispose();
    }
  });
});

describe('hostile HTTP: an error no handler caught (a child process)', () => {
  it('is logged with its kind, counted in /metrics, and the server keeps serving', async () => {
    const server = await spawnServer(['--port', '0', '--data-dir', tempDir()], {}, 60_000, ['--import', './test/fixtures/hostile/uncaught-on-signal.mjs', ...SERVER_ENTRY]);
    try {
      server.child.kill('SIGUSR2');
      const metrics = await waitFor(async () => {
        const text = await (await fetch(`${server.url}/metrics`)).text();
        return /wa_gateway_uncaught_errors_total\{kind="uncaughtException"\} 1/.test(text) && /wa_gateway_uncaught_errors_total\{kind="unhandledRejection"\} 1/.test(text) ? text : null;
      }, 10_000, 'uncaught errors counted');
      assert.match(metrics, /wa_gateway_uncaught_errors_total\{kind="request"\} 0/);
      assert.equal((await fetch(`${server.url}/health`)).status, 200);
      assert.equal(server.child.exitCode, null);
      const lines = server.output().split('\n');
      assert.ok(lines.some((l) => l.includes('"level":"error"') && l.includes('thrown from a timer') && l.includes('uncaught error (uncaughtException)')));
      assert.ok(lines.some((l) => l.includes('"level":"error"') && l.includes('rejected with no handler') && l.includes('uncaught error (unhandledRejection)')));
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});
