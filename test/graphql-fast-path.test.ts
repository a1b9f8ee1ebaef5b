import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, waitFor, type TestServer } from './helpers/app.js';

// The lean GraphQL path (src/http/graphql-runner.ts + graphql-jit) must answer exactly as stock yoga and
// graphql-js do. Two servers, one with --graphql-fast-path false, get the same requests; status, the
// headers that carry meaning and the bodies (random ids and times masked) must match.

const KEY = 'fast-path-test-key-0123456789';
const URQL_ACCEPT = 'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed';
const APOLLO_ACCEPT = 'application/graphql-response+json,application/json;q=0.9';

interface Answer {
  status: number;
  contentType: string | null;
  headers: Record<string, string | null>;
  body: unknown;
}

const MEANINGFUL_HEADERS = ['www-authenticate', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'access-control-allow-origin', 'allow'];

function mask(text: string): unknown {
  const masked = text
    .replace(/"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"/g, '"<time>"')
    .replace(/(true|false)_[^"]+?_[0-9A-F]{16,}/gi, '<message-id>')
    .replace(/"x-ratelimit-reset":"\d+"/g, '')
    // Two servers' rate-limit windows open a few ms apart, so their reset second (and the seconds left) can differ by one.
    .replace(/"reset":\d+/g, '"reset":"<epoch seconds>"')
    .replace(/"retryAfter":\d+/g, '"retryAfter":"<seconds>"');
  try {
    return JSON.parse(masked);
  } catch {
    return masked;
  }
}

async function ask(server: TestServer, body: string | undefined, headers: Record<string, string> = {}, method = 'POST'): Promise<Answer> {
  const res = await fetch(`${server.url}/graphql`, {
    method,
    headers: { 'x-api-key': KEY, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body } : {}),
  });
  const picked: Record<string, string | null> = {};
  for (const name of MEANINGFUL_HEADERS) picked[name] = res.headers.get(name);
  if (picked['retry-after'] !== null) picked['retry-after'] = /^\d+$/.test(picked['retry-after']!) ? '<seconds>' : picked['retry-after']!;
  assert.ok(res.headers.get('x-request-id'), 'every answer carries x-request-id');
  return { status: res.status, contentType: res.headers.get('content-type'), headers: picked, body: mask(await res.text()) };
}

async function pathCount(server: TestServer, path: 'lean' | 'cached' | 'yoga'): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: { 'x-api-key': KEY } })).text();
  const line = text.split('\n').find((l) => l.startsWith(`wa_gateway_graphql_execution_path_total{path="${path}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

const op = (query: string, variables?: Record<string, unknown>, operationName?: string) => JSON.stringify({ query, variables, operationName });

describe('the lean GraphQL path answers as stock yoga does', () => {
  let fast: TestServer;
  let stock: TestServer;
  const both = () => [fast, stock] as const;

  before(async () => {
    const settings = { auth: { apiKeys: [KEY] } };
    [fast, stock] = await Promise.all([startServer(settings), startServer({ ...settings, http: { fastPath: false } })]);
    for (const server of both()) {
      for (const id of ['alice', 'bob']) {
        const created = await ask(server, op('mutation($id: String!) { createSession(input: { sessionId: $id, config: { sandbox: { autoScanMs: 0 } } }) { session { sessionId } } }', { id }));
        assert.equal(created.status, 200, JSON.stringify(created.body));
        // READY before the next one starts, so both servers give alice and bob the same numbers.
        await waitFor(async () => {
          const answer = await ask(server, op('{ sessions { status } }'));
          return (answer.body as { data: { sessions: { status: string }[] } }).data.sessions.every((s) => s.status === 'READY');
        });
      }
    }
  });
  after(async () => {
    await Promise.all([fast?.dispose(), stock?.dispose()]);
  });

  const same = async (name: string, body: string | undefined, headers: Record<string, string> = {}, method = 'POST') => {
    const [a, b] = [await ask(fast, body, headers, method), await ask(stock, body, headers, method)];
    // The two servers were polled a different number of times while their sessions started.
    for (const answer of [a, b]) delete answer.headers['x-ratelimit-remaining'];
    assert.deepEqual(a, b, `${name}: the lean path answered differently`);
    return a;
  };

  it('answers queries the same for every Accept header clients send, and runs them on the lean path', async () => {
    const sessions = op('{ sessions { sessionId status lastActivity createdAt me { id } } }');
    const leanBefore = (await pathCount(fast, 'lean')) + (await pathCount(fast, 'cached'));
    // The first sight of a document is yoga's (it validates it); the repeats run lean.
    for (const accept of [undefined, 'application/json', '*/*', 'application/graphql-response+json', URQL_ACCEPT, APOLLO_ACCEPT]) {
      const answer = await same(`accept ${accept}`, sessions, accept ? { accept } : {});
      assert.equal(answer.status, 200);
    }
    // Executed there, or (a query of session state only) answered again from the result cache.
    assert.ok((await pathCount(fast, 'lean')) + (await pathCount(fast, 'cached')) - leanBefore >= 5, 'the repeated query ran on the lean path');
    assert.equal(await pathCount(stock, 'lean'), 0, 'with --graphql-fast-path false nothing runs lean');
  });

  it('gives the same errors, codes and statuses for failing operations', async () => {
    const bobJid = ((await ask(fast, op('{ session(sessionId: "bob") { me { id } } }'))).body as { data: { session: { me: { id: string } } } }).data.session.me.id;
    const cases: [string, string][] = [
      ['unknown session is null', op('query($id: String!) { session(sessionId: $id) { sessionId } }', { id: 'nope' })],
      ['duplicate session', op('mutation { createSession(input: { sessionId: "alice" }) { session { sessionId } } }')],
      ['bad session id', op('mutation { createSession(input: { sessionId: "no spaces allowed" }) { session { sessionId } } }')],
      ['send to a number not on WhatsApp', op('mutation($i: SendTextInput!) { sendText(input: $i) { message { id } } }', { i: { sessionId: 'alice', chatId: '19999999999@c.us', content: 'hi' } })],
      ['send to an unknown session', op('mutation($i: SendTextInput!) { sendText(input: $i) { message { id } } }', { i: { sessionId: 'nope', chatId: bobJid, content: 'hi' } })],
      ['send works', op('mutation($i: SendTextInput!) { sendText(input: $i) { message { body fromMe ack } } }', { i: { sessionId: 'alice', chatId: bobJid, content: 'hello' } })],
      ['missing variable', op('query($id: String!) { session(sessionId: $id) { sessionId } }', {})],
      ['variable of the wrong type', op('query($id: String!) { session(sessionId: $id) { sessionId } }', { id: 42 })],
      ['wrong input field', op('mutation($i: SendTextInput!) { sendText(input: $i) { message { id } } }', { i: { sessionId: 'alice', chatId: bobJid, text: 'x' } })],
      ['unknown operation name', op('query A { sessions { sessionId } } query B { serverInfo { version } }', {}, 'C')],
      ['chosen operation', op('query A { sessions { sessionId } } query B { serverInfo { totalSessions } }', {}, 'B')],
      ['syntax error', op('{ sessions { sessionId }')],
      ['unknown field', op('{ sessions { nope } }')],
      ['too deep', op('{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } }')],
      ['string over the input limit', op('mutation($i: SendTextInput!) { sendText(input: $i) { message { id } } }', { i: { sessionId: 'alice', chatId: bobJid, content: 'x'.repeat(70_000) } })],
    ];
    for (const [name, body] of cases) {
      // Twice: the first time yoga validates the document on both servers, the second runs it lean.
      await same(`${name} (first)`, body);
      await same(`${name} (again)`, body);
    }
  });

  it('answers a document yoga refused again from the registry, with the same status and body for every Accept', async () => {
    const refused: [string, string][] = [
      ['syntax error', '{ serverInfo { version }'],
      ['unknown field', '{ serverInfo { nope } }'],
      ['two errors', 'query($x: Int) { serverInfo { nope } sessions { alsoNope } }'],
      ['over the alias limit', `{ ${Array.from({ length: 51 }, (_, i) => `a${i}: serverInfo { version }`).join(' ')} }`],
      ['over the token limit', `{ serverInfo { ${'version '.repeat(2100)}} }`],
    ];
    for (const [name, query] of refused) {
      const cachedBefore = await pathCount(fast, 'cached');
      for (const accept of [undefined, 'application/graphql-response+json', APOLLO_ACCEPT]) {
        const headers: Record<string, string> = accept ? { accept } : {};
        const first = await same(`${name}, ${accept} (first)`, op(query), headers);
        assert.ok(first.status === 200 || first.status === 400, `${name}: ${first.status}`);
        const again = await same(`${name}, ${accept} (again)`, op(query, { unused: 1 }), headers);
        assert.deepEqual(again, first, `${name}: variables do not change a refusal`);
      }
      assert.ok((await pathCount(fast, 'cached')) - cachedBefore >= 5, `${name}: answered again without yoga`);
      // An operation name the document does not hold is an error of its own (yoga's, before validation).
      await same(`${name}, unknown operation name`, op(query, {}, 'Whatever'));
    }
    // Without a key, a refused text is still answered 401 first.
    const noKey = await same('refused text, no key', op('{ serverInfo { nope } }'), { 'x-api-key': '' });
    assert.equal(noKey.status, 401);
  });

  it('leaves requests that are not plain JSON POSTs to yoga, with the same answers', async () => {
    const sessions = op('{ sessions { sessionId } }');
    await same('a foreign Origin (refused before either path)', sessions, { origin: 'http://example.test' });
    await same('no key', sessions, { 'x-api-key': '' });
    await same('wrong key', sessions, { 'x-api-key': 'wrong-key-wrong-key-wrong' });
    await same('not JSON', '{ sessions', {});
    await same('empty body', '', {});
    await same('batch (array)', `[${sessions}]`, {});
    await same('extra parameter', JSON.stringify({ query: '{ sessions { sessionId } }', nope: 1 }), {});
    await same('query not a string', JSON.stringify({ query: 42 }), {});
    await same('variables not an object', JSON.stringify({ query: '{ sessions { sessionId } }', variables: [1] }), {});
    await same('text/plain', sessions, { 'content-type': 'text/plain' });
    await same('GET', undefined, {}, 'GET');
    await same('accept only event streams', sessions, { accept: 'text/event-stream' });
    await same('accept nothing JSON', sessions, { accept: 'text/html' });
  });

  it('answers a rate-limited operation the same: 429, RATE_LIMITED and the limit headers', async () => {
    const settings = { auth: { apiKeys: [KEY] }, rateLimit: { general: 3 } };
    const [a, b] = await Promise.all([startServer(settings), startServer({ ...settings, http: { fastPath: false } })]);
    try {
      const body = op('{ serverInfo { version } }');
      for (let i = 0; i < 4; i++) {
        const [x, y] = [await ask(a, body), await ask(b, body)];
        assert.deepEqual(x, y, `request ${i + 1}`);
        if (i === 3) {
          assert.equal(x.status, 429);
          assert.ok(x.headers['retry-after']);
        }
      }
    } finally {
      await Promise.all([a.dispose(), b.dispose()]);
    }
  });
});
