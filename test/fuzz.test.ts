import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { startServer, type TestServer } from './helpers/app.js';
import { ADMIN_KEY, createKey, gqlOkAs } from './helpers/auth.js';
import { anyText, body, documents, graphqlBody, mutatedDocument, path, printable, query, variables } from './helpers/fuzz-inputs.js';

// Random and malformed bodies, paths, ids and headers at every endpoint: never a 5xx, never a crash,
// and the server is healthy and correct afterwards. Seeds are fixed so a failure can be replayed.

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
