import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { startServer, type TestServer } from './helpers/app.js';
import { ADMIN_KEY, createKey, gqlOkAs } from './helpers/auth.js';

// Random and malformed bodies, paths, ids and headers at every endpoint: never a 5xx, never a crash,
// and the server is healthy and correct afterwards. Seeds are fixed so a failure can be replayed.

const printable = (max: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: max });
const anyText = (max: number) => fc.string({ unit: 'binary', maxLength: max });
const sessionIdish = fc.oneof(fc.constantFrom('fz-a', 'fz-b', 'nobody', '', ' ', '../etc', 'a'.repeat(65), '%00', '😀'), anyText(80));

const documents = [
  '{ sessions { sessionId status } }',
  'query($id: String!) { session(sessionId: $id) { sessionId status qr { dataUrl } me { id } } }',
  'mutation($id: String!) { removeSession(sessionId: $id) { removed } }',
  'mutation($id: String!) { sandboxScanQr(sessionId: $id) { status } }',
  'mutation($input: CreateSessionInput!) { createSession(input: $input) { session { sessionId } } }',
  'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } } }',
  'mutation($id: ID!) { revokeApiKey(id: $id) { revoked } }',
  '{ serverInfo { version } health { status } apiKeys { id } }',
  'subscription($id: String!) { sessionStatus(sessionId: $id) { status } }',
  'mutation($id: String!) { sendText(input: { sessionId: $id, chatId: "15550000001@c.us", content: "fuzz" }) { message { id } } }',
  'mutation($input: CreateGroupInput!) { createGroup(input: $input) { gid } }',
  'query($id: String!) { session(sessionId: $id) { chats(first: 5) { edges { node { id messages(last: 3) { edges { node { body } } } } } } } }',
];

const mutatedDocument = fc.tuple(fc.constantFrom(...documents), fc.nat(), fc.nat(), anyText(8)).map(([doc, at, len, insert]) => {
  const i = at % (doc.length + 1);
  return doc.slice(0, i) + insert + doc.slice(i + (len % 6));
});

const variables = fc.oneof(
  fc.record({ id: sessionIdish }),
  fc.record({ input: fc.record({ sessionId: sessionIdish, waitForQR: fc.constant(false), config: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }) }, { requiredKeys: [] }) }),
  fc.record({ input: fc.record({ admin: fc.boolean(), sessionIds: fc.array(sessionIdish, { maxLength: 4 }), actions: fc.array(fc.constantFrom('READ', 'SEND', 'MANAGE', 'ROOT', 1), { maxLength: 4 }), name: anyText(20) }, { requiredKeys: [] }) }),
  fc.jsonValue({ maxDepth: 3 }),
);

const graphqlBody = fc
  .record({ query: fc.oneof(fc.constantFrom(...documents), mutatedDocument, anyText(200), fc.jsonValue({ maxDepth: 2 })), variables, operationName: fc.option(printable(12), { nil: undefined }) }, { requiredKeys: [] })
  .map((b) => JSON.stringify(b));

const body = fc.oneof(graphqlBody, graphqlBody, fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)), anyText(300), fc.constant(''), fc.constant('{"query":'), fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a).toString('latin1')));

const segment = fc.oneof(fc.constantFrom('graphql', 'health', 'api', 'v1', 'sessions', 'fz-a', 'qr', 'messages', 'ws', '..', '.', '%2e%2e', '%00', ''), printable(12).map(encodeURIComponent));
const path = fc.oneof(
  fc.constantFrom('/graphql', '/graphql', '/health', '/api/v1/sessions', '/api/v1/sessions/fz-a', '/api/v1/sessions/fz-a/qr', '/api/v1/health', '/ws/fz-a'),
  fc.array(segment, { maxLength: 5 }).map((s) => `/${s.join('/')}`),
);
const query = fc.option(
  fc.array(fc.tuple(printable(8), printable(30)), { maxLength: 3 }).map((pairs) => `?${new URLSearchParams(pairs).toString()}`),
  { nil: '' },
);

describe('fuzzing the HTTP and WebSocket endpoints', () => {
  let server: TestServer;
  let scopedKey: string;
  const statuses = new Map<number, number>();
  before(async () => {
    server = await startServer({ auth: { apiKeys: [ADMIN_KEY] }, maxSessions: 4, http: { maxBodyBytes: 64 * 1024 } });
    await gqlOkAs(server, ADMIN_KEY, 'mutation { createSession(input: { sessionId: "fz-a" }) { session { sessionId } } }');
    scopedKey = (await createKey(server, { sessionIds: ['fz-a'], actions: ['READ'] })).key;
  });
  after(() => server.dispose());

  it('2,000 random requests (half of them GraphQL POSTs): no 5xx', async () => {
    const key = fc.oneof(fc.constant(ADMIN_KEY), fc.constant(scopedKey), printable(40));
    const headers = fc.record(
      {
        'x-api-key': key,
        authorization: fc.oneof(key.map((k) => `Bearer ${k}`), key.map((k) => `Basic ${Buffer.from(`u:${k}`).toString('base64')}`), printable(40)),
        'content-type': fc.constantFrom('application/json', 'application/graphql', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain', 'application/json; charset=latin1', 'nonsense'),
        accept: fc.constantFrom('application/json', 'application/graphql-response+json', 'text/event-stream', 'text/html', 'multipart/mixed', '*/*', 'nonsense'),
        'x-request-id': printable(140),
      },
      { requiredKeys: [] },
    );
    const request = fc.oneof(
      fc.record({ method: fc.constant('POST'), path: fc.constant('/graphql'), query: fc.constant(''), headers, body: graphqlBody }),
      fc.record({ method: fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'), path, query, headers, body }),
    );
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const controller = new AbortController();
        const res = await fetch(`${server.url}${r.path}${r.query}`, {
          method: r.method,
          headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, v.trim()])),
          body: ['GET', 'HEAD'].includes(r.method) ? undefined : r.body,
          signal: controller.signal,
        });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        // Subscriptions over SSE stay open: read what has come and hang up.
        if ((res.headers.get('content-type') ?? '').includes('event-stream')) controller.abort();
        else await res.arrayBuffer();
        assert.ok(res.status < 500, `${r.method} ${r.path}${r.query} -> ${res.status}`);
      }),
      { numRuns: 2000, seed: 20261124 },
    );
    assert.ok((statuses.get(200) ?? 0) > 100, `some requests got through: ${JSON.stringify([...statuses])}`);
  });

  it('random graphql-ws connection params and messages: the server stays up', async () => {
    const message = fc.oneof(
      fc.record({ type: fc.constantFrom('connection_init', 'subscribe', 'complete', 'ping', 'pong', 'nonsense'), id: fc.option(printable(10), { nil: undefined }), payload: fc.option(fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.record({ query: fc.oneof(fc.constantFrom(...documents), mutatedDocument), variables })), { nil: undefined }) }, { requiredKeys: ['type'] }).map((m) => JSON.stringify(m)),
      anyText(100),
    );
    await fc.assert(
      fc.asyncProperty(fc.option(fc.oneof(fc.constant(ADMIN_KEY), fc.constant(scopedKey), printable(20)), { nil: undefined }), fc.array(message, { minLength: 1, maxLength: 6 }), async (apiKey, messages) => {
        const ws = new WebSocket(`${server.wsUrl}/graphql`, 'graphql-transport-ws');
        await new Promise<void>((resolve) => {
          const done = () => resolve();
          ws.on('error', done);
          ws.on('close', done);
          ws.on('open', () => {
            ws.send(JSON.stringify({ type: 'connection_init', payload: apiKey ? { apiKey } : {} }));
            for (const m of messages) ws.send(m);
            setTimeout(() => ws.close(), 20);
          });
        });
      }),
      { numRuns: 200, seed: 20261124 },
    );
  });

  it('is healthy and correct afterwards', async () => {
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    // The fuzzer may have removed fz-a legitimately (DELETE with the admin key): make and read one anew.
    await gqlOkAs(server, ADMIN_KEY, 'mutation { removeSession(sessionId: "fz-after") { removed } }').catch(() => undefined);
    await gqlOkAs(server, ADMIN_KEY, 'mutation { createSession(input: { sessionId: "fz-after" }) { session { sessionId } } }').catch(async () => {
      // At the session limit: make room first.
      for (const s of (await gqlOkAs(server, ADMIN_KEY, '{ sessions { sessionId } }')).sessions) await gqlOkAs(server, ADMIN_KEY, `mutation { removeSession(sessionId: "${s.sessionId}") { removed } }`);
      await gqlOkAs(server, ADMIN_KEY, 'mutation { createSession(input: { sessionId: "fz-after" }) { session { sessionId } } }');
    });
    const data = await gqlOkAs(server, ADMIN_KEY, 'query { session(sessionId: "fz-after") { sessionId } health { status } }');
    assert.deepEqual(data, { session: { sessionId: 'fz-after' }, health: { status: 'healthy' } });
  });
});
