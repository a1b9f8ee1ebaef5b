import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'graphql';
import { anonymousAdmin } from '../src/auth/principal.js';
import { ResultCache } from '../src/http/result-cache.js';
import { schema } from '../src/schema/index.js';
import { startServer, waitFor, type TestServer } from './helpers/app.js';
import { sample, scrape } from './helpers/metrics.js';

// A query made only of session state is answered again from the bytes made last time while no session changed
// (src/http/result-cache.ts). These tests check, through real HTTP, that such an answer is always the one
// executing would give: after every change a session goes through, per caller, with rate limits and metrics
// still counting it, and never for operations that read anything else.

const KEY = 'result-cache-test-key-0123456789';
const SESSION_FIELDS = `sessionId status engine createdAt lastActivity failureReason
  qr { dataUrl expiresAt } me { id name pushname isMyContact isWAContact }
  config { engine multiDevice headless qrTimeout authTimeout hasLicenceKey proxyServerCredentials { address hasPassword } sandbox { autoScanMs } }`;
const LIST = `{ sessions { ${SESSION_FIELDS} } }`;
const ONE = `query One($id: String!) { session(sessionId: $id) { ...S } } fragment S on Session { ${SESSION_FIELDS} }`;

interface Answer {
  status: number;
  body: string;
  headers: Headers;
}

async function post(server: TestServer, query: string, variables?: Record<string, unknown>, key = KEY): Promise<Answer> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/** The same operation through yoga's own GET handler, which never uses the result cache. */
async function viaYoga(server: TestServer, query: string, variables?: Record<string, unknown>): Promise<Answer> {
  const params = new URLSearchParams({ query, ...(variables ? { variables: JSON.stringify(variables) } : {}) });
  const res = await fetch(`${server.url}/graphql?${params}`, { headers: { 'x-api-key': KEY, accept: 'application/json' } });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

async function rest(server: TestServer, path: string, key = KEY): Promise<Answer> {
  const res = await fetch(`${server.url}/api/v1${path}`, { headers: { 'x-api-key': key } });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

async function paths(server: TestServer): Promise<{ cached: number; lean: number }> {
  const text = await scrape(server.url, { 'x-api-key': KEY });
  const count = (path: string) => sample(text, 'wa_gateway_graphql_execution_path_total', { path });
  return { cached: count('cached'), lean: count('lean') };
}

async function mutate(server: TestServer, query: string, variables: Record<string, unknown>): Promise<any> {
  const answer = await post(server, query, variables);
  const body = JSON.parse(answer.body);
  assert.equal(body.errors, undefined, answer.body);
  return body.data;
}

/**
 * Asks the same query twice on the lean path and once through yoga: all three bodies are equal, and the second
 * was a kept answer. Returns the body.
 */
async function agree(server: TestServer, query: string, variables?: Record<string, unknown>): Promise<string> {
  // A text the server has not seen yet is yoga's (it validates it); the lean path takes the repeats.
  await post(server, query, variables);
  const first = await post(server, query, variables);
  const before = await paths(server);
  const second = await post(server, query, variables);
  const after = await paths(server);
  const fresh = await viaYoga(server, query, variables);
  assert.equal(first.status, 200, first.body);
  assert.equal(fresh.body, first.body, 'the first answer is what executing gives');
  assert.equal(second.body, first.body, 'the kept answer is the same');
  assert.equal(after.cached - before.cached, 1, 'the second answer was the kept one');
  assert.ok(second.headers.get('x-request-id') && second.headers.get('x-request-id') !== first.headers.get('x-request-id'), 'each answer has its own request id');
  return first.body;
}

describe('the result cache', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ auth: { apiKeys: [KEY] }, sandbox: { qrRotateMs: 60_000 } });
  });
  after(async () => {
    await server?.dispose();
  });

  it('gives a kept answer only while it is what executing gives, through every change of a session', async () => {
    const states: string[] = [];
    const note = async () => {
      const list = await agree(server, LIST);
      const one = await agree(server, ONE, { id: 'alice' });
      assert.notEqual(list, states.at(-1), 'each step changed the answer');
      states.push(list);
      return { list: JSON.parse(list).data.sessions, one: JSON.parse(one).data.session };
    };

    let seen = await note();
    assert.deepEqual(seen.list, []);
    assert.equal(seen.one, null);

    await mutate(server, 'mutation { createSession(input: { sessionId: "alice", waitForQR: true }) { session { status } } }', {});
    seen = await note();
    assert.equal(seen.one.status, 'QR_READY');
    assert.ok(seen.one.qr.dataUrl.startsWith('data:image/png;base64,'));

    await mutate(server, 'mutation { sandboxScanQr(sessionId: "alice") { status } }', {});
    await waitFor(async () => JSON.parse((await post(server, ONE, { id: 'alice' })).body).data.session.status === 'READY');
    seen = await note();
    assert.equal(seen.one.status, 'READY');
    assert.equal(seen.one.qr, null);
    assert.match(seen.one.me.id, /@c\.us$/);

    // An incoming message moves lastActivity, and nothing else.
    await new Promise((r) => setTimeout(r, 5));
    await mutate(server, 'mutation { sandboxInjectMessage(sessionId: "alice", from: "4915112345678@c.us", body: "hi") { id } }', {});
    const activity = seen.one.lastActivity;
    seen = await note();
    assert.ok(seen.one.lastActivity > activity, `${seen.one.lastActivity} > ${activity}`);

    await mutate(server, 'mutation { createSession(input: { sessionId: "bob" }) { session { status } } }', {});
    await waitFor(async () => JSON.parse((await post(server, LIST)).body).data.sessions[1]?.status === 'QR_READY');
    seen = await note();
    assert.deepEqual(seen.list.map((s: { sessionId: string }) => s.sessionId), ['alice', 'bob']);

    await mutate(server, 'mutation { removeSession(sessionId: "alice") { removed } }', {});
    seen = await note();
    assert.deepEqual(seen.list.map((s: { sessionId: string }) => s.sessionId), ['bob']);
    assert.equal(seen.one, null);

    // REST keeps its own answers, by URL, and follows the same changes.
    const listed = async () => {
      const before = (await paths(server)).cached;
      const [a, b] = [await rest(server, '/sessions'), await rest(server, '/sessions')];
      assert.equal(b.body, a.body);
      assert.equal((await paths(server)).cached - before, 1);
      return JSON.parse(a.body).data.map((s: { sessionId: string }) => s.sessionId);
    };
    assert.deepEqual(await listed(), ['bob']);
    await mutate(server, 'mutation { createSession(input: { sessionId: "carol" }) { session { status } } }', {});
    // Carol moves on by herself (INITIALIZING, then QR_READY): two reads in a row are only equal once she is still.
    await waitFor(async () => JSON.parse((await post(server, LIST)).body).data.sessions[1]?.status === 'QR_READY');
    assert.deepEqual(await listed(), ['bob', 'carol']);
  });

  it('keeps answers per caller: a key limited to some sessions never sees another key’s answer', async () => {
    await mutate(server, 'mutation { createSession(input: { sessionId: "dave", waitForQR: true }) { session { status } } }', {});
    const { key } = (await mutate(server, 'mutation { createApiKey(input: { sessionIds: ["dave"] }) { key } }', {})).createApiKey;
    const ids = (a: Answer) => JSON.parse(a.body).data.sessions.map((s: { sessionId: string }) => s.sessionId);
    const query = '{ sessions { sessionId } }';
    await post(server, query);
    assert.ok(ids(await post(server, query)).length > 1);
    const before = (await paths(server)).cached;
    assert.deepEqual(ids(await post(server, query, undefined, key)), ['dave']);
    assert.deepEqual(ids(await post(server, query, undefined, key)), ['dave']);
    assert.equal((await paths(server)).cached - before, 1, "only the scoped key's own second answer was a kept one");
    assert.deepEqual(JSON.parse((await rest(server, '/sessions', key)).body).data.map((s: { sessionId: string }) => s.sessionId), ['dave']);
    assert.ok(JSON.parse((await rest(server, '/sessions')).body).data.length > 1);
  });

  it('never keeps an answer that reads more than session state, or that has errors', async () => {
    const queries = ['{ sessions { sessionId } serverInfo { version } }', '{ sessions { sessionId webhooks { id } } }', '{ __schema { queryType { name } } sessions { sessionId } }', 'query($id: String!) { session(sessionId: $id) { sessionId } }'];
    for (const query of queries) await post(server, query);
    const before = await paths(server);
    for (let i = 0; i < 2; i++) for (const query of queries) await post(server, query);
    const after = await paths(server);
    assert.equal(after.cached, before.cached);
    assert.equal(after.lean - before.lean, 8);
  });
});

describe('the result cache with rate limits and metrics', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ auth: { apiKeys: [KEY] }, rateLimit: { general: 4, windowMs: 60_000 } });
  });
  after(async () => {
    await server?.dispose();
  });

  it('counts kept answers against the general limit and refuses them as any operation is refused', async () => {
    const answers: Answer[] = [];
    for (let i = 0; i < 4; i++) answers.push(await post(server, '{ sessions { sessionId } }'));
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200]);
    assert.deepEqual(answers.map((a) => a.headers.get('x-ratelimit-remaining')), ['3', '2', '1', '0']);
    const kept = await post(server, '{ sessions { sessionId } }');
    const executed = await post(server, '{ health { status } }');
    for (const refused of [kept, executed]) {
      assert.equal(refused.status, 429, refused.body);
      assert.ok(Number(refused.headers.get('retry-after')) > 0);
      assert.equal(refused.headers.get('x-ratelimit-remaining'), '0');
    }
    assert.deepEqual(JSON.parse(kept.body), JSON.parse(executed.body));
    assert.equal(JSON.parse(kept.body).errors[0].extensions.code, 'RATE_LIMITED');
  });

  it('reports kept answers as operations in /metrics', async () => {
    const metrics = await startServer({ auth: { apiKeys: [KEY] } });
    try {
      const count = async () => sample(await scrape(metrics.url, { 'x-api-key': KEY }), 'wa_gateway_graphql_operations_total', { operation: 'Listed', outcome: 'ok' });
      const before = await count();
      for (let i = 0; i < 4; i++) assert.equal((await post(metrics, 'query Listed { sessions { sessionId } }')).status, 200);
      assert.equal(await count(), before + 4);
      // yoga validates the text first, the lean path executes and keeps the answer, then gives it twice.
      assert.equal((await paths(metrics)).cached, 2);
    } finally {
      await metrics.dispose();
    }
  });
});

describe('--graphql-result-cache false', () => {
  it('executes every time', async () => {
    const server = await startServer({ auth: { apiKeys: [KEY] }, http: { resultCache: false } });
    try {
      for (let i = 0; i < 3; i++) {
        assert.equal((await post(server, '{ sessions { sessionId } }')).status, 200);
        assert.equal((await rest(server, '/sessions')).status, 200);
      }
      const counted = await paths(server);
      assert.equal(counted.cached, 0);
      assert.equal(counted.lean, 5, 'all but the first sight of the text, which is yoga’s');
    } finally {
      await server.dispose();
    }
  });
});

describe('ResultCache on the real schema', () => {
  const answer = (body: string) => ({ status: 200, headers: {}, body });

  it('takes only operations whose every field is declared as versioned state or derived from its parent', () => {
    const cache = new ResultCache(schema, { sessions: () => 0 });
    const cacheable = (query: string) => cache.slot(parse(query), undefined, null, anonymousAdmin, 'v') !== null;
    assert.equal(cacheable('{ sessions { sessionId config { hasLicenceKey proxyServerCredentials { hasPassword } } me { id } } }'), true);
    assert.equal(cacheable('query { __typename session(sessionId: "a") { ... on Session { qr { dataUrl } } } }'), true);
    assert.equal(cacheable('{ serverInfo { version } }'), false);
    assert.equal(cacheable('{ sessions { sessionId webhooks { id } } }'), false, 'Session.webhooks has a resolver of its own');
    assert.equal(cacheable('mutation { removeSession(sessionId: "a") { removed } }'), false);
    assert.equal(cacheable('subscription { sessionStatus(sessionId: "a") { status } }'), false);
  });

  it('keeps an answer only if nothing changed while it was made, and drops answers of an older state', () => {
    let version = 1;
    const cache = new ResultCache(schema, { sessions: () => version });
    const doc = parse('{ sessions { sessionId } }');
    const slot = (variant = 'v') => cache.slot(doc, undefined, null, anonymousAdmin, variant)!;

    const during = slot();
    version = 2;
    during.set(answer('made at 1'));
    assert.equal(slot().get(), undefined, 'an answer made while the state changed is not kept');

    slot().set(answer('made at 2'));
    slot('other').set(answer('other at 2'));
    assert.equal(slot().get()?.body, 'made at 2');
    version = 3;
    assert.equal(slot().get(), undefined);
    slot('other').set(answer('other at 3'));
    version = 2;
    assert.equal(slot().get(), undefined, 'answers of an older state are gone once a newer one is kept');
  });
});
