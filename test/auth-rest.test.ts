import assert from 'node:assert/strict';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { routeTable } from '../rest-compat/route-table.js';
import { ruleFor } from '../src/auth/access-policy.js';
import { schema } from '../src/schema/index.js';
import { CREATE, startServer, type TestServer } from './helpers/app.js';
import { ADMIN_KEY, createKey, gqlOkAs, scopedFixture, storeSnapshot, withKey } from './helpers/auth.js';
import { assertError, rest } from './rest-helpers.js';

// Every REST route with no key, a wrong key, a key for another session and a read-only key: the same
// access rules as GraphQL (the routes run through the same pipeline), the right code, nothing changed.

const BOT = '15550000001@c.us';
const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** A body that passes the route's schema, from the names of its required fields. */
function sampleBody(schema: any, sessionId: string, peer: string): Record<string, unknown> | undefined {
  if (!schema) return undefined;
  const values: Record<string, unknown> = { sessionId, chatId: BOT, content: 'hi', data: PNG, name: 'g', participants: [peer], presence: 'typing', emoji: '👍', latitude: 1, longitude: 1, options: ['a', 'b'] };
  return Object.fromEntries((schema.required ?? []).map((k: string) => [k, values[k] ?? 'x']));
}

function rootFieldOf(document: string): { type: 'Query' | 'Mutation' | 'Subscription'; field: string } {
  const op = parse(document).definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const first = op.selectionSet.selections.find((s) => s.kind === Kind.FIELD)!;
  const type = op.operation === 'query' ? 'Query' : op.operation === 'mutation' ? 'Mutation' : 'Subscription';
  return { type, field: first.kind === Kind.FIELD ? first.name.value : '' };
}

describe('auth matrix over every REST route', () => {
  let server: TestServer;
  let otherKey: string;
  let readKey: string;
  let groupId: string;
  let peer: string;
  const target = 'target';

  before(async () => {
    ({ server, peer, groupId, otherKey, readKey } = await scopedFixture());
  });
  after(() => server.dispose());

  const snapshot = () => storeSnapshot(server);

  for (const route of routeTable) {
    it(`${route.method} ${route.path}`, async () => {
      const params: Record<string, string> = { sessionId: target, chatId: BOT, contactId: BOT, groupId: '' };
      const path = () => route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(name === 'groupId' ? groupId : (params[name] ?? 'x')));
      const body = sampleBody(route.body, target, peer);
      const before = await snapshot();

      for (const headers of [{}, withKey('wrong-key-0123456789abc'), { authorization: 'Basic d3Jvbmc6d3Jvbmc=' }] as Record<string, string>[]) {
        const result = await rest(server, route.method, path(), body, headers);
        // --health-open (on by default) serves the reference's health route without a key, as /health.
        if (route.path === '/health') {
          assert.equal(result.status, 200);
          continue;
        }
        assertError(result, 'UNAUTHENTICATED', 401);
        // Bearer only: a browser offered Basic would prompt and then send the typed credentials from any site.
        assert.equal(result.headers.get('www-authenticate'), 'Bearer realm="wa-gateway"');
      }

      const { type, field } = rootFieldOf(route.document);
      const rule = ruleFor(schema, type, field);
      const other = await rest(server, route.method, path(), body, withKey(otherKey));
      if (rule.kind === 'any') assert.equal(other.status, 200);
      else if (rule.kind === 'filter') assert.ok(!JSON.stringify(other.body).includes(`"${target}"`), 'another key does not see the session');
      else if (rule.kind === 'admin') assertError(other, 'FORBIDDEN');
      else assertError(other, 'SESSION_NOT_FOUND');

      if (rule.kind === 'session' && rule.action !== 'read') {
        assertError(await rest(server, route.method, path(), body, withKey(readKey)), 'SESSION_NOT_FOUND');
      }
      assert.equal(await snapshot(), before, 'nothing changed');
    });
  }

  it('REST answers carry the rate-limit headers', async () => {
    const result = await rest(server, 'GET', `/sessions/${target}`, undefined, withKey(readKey));
    assert.equal(result.status, 200);
    for (const name of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']) assert.match(result.headers.get(name) ?? '', /^\d+$/, name);
  });
});

describe('REST rate limits and the legacy socket', () => {
  let server: TestServer;
  let key: string;
  before(async () => {
    server = await startServer({ auth: { apiKeys: [ADMIN_KEY] }, rateLimit: { general: 10, sessionCreate: 2 } });
    await gqlOkAs(server, ADMIN_KEY, CREATE, { input: { sessionId: 'ws-a', waitForQR: true } });
    await gqlOkAs(server, ADMIN_KEY, CREATE, { input: { sessionId: 'ws-b', waitForQR: true } });
    key = (await createKey(server, { sessionIds: ['ws-a', 'new-1', 'new-2', 'new-3'], actions: ['READ', 'MANAGE'] })).key;
  });
  after(() => server.dispose());

  it('session creation over REST: 201, then 429 RATE_LIMITED with Retry-After and the headers', async () => {
    const first = await rest(server, 'POST', '/sessions', { sessionId: 'new-1' }, withKey(key));
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.headers.get('x-ratelimit-limit'), '2');
    assert.equal(first.headers.get('x-ratelimit-remaining'), '1');
    assert.equal((await rest(server, 'POST', '/sessions', { sessionId: 'new-2' }, withKey(key))).status, 201);
    const second = await rest(server, 'POST', '/sessions', { sessionId: 'new-3' }, withKey(key));
    assertError(second, 'RATE_LIMITED', 429);
    assert.ok(Number(second.headers.get('retry-after')) >= 1);
    assert.equal(second.headers.get('x-ratelimit-remaining'), '0');
    assert.equal((await rest(server, 'GET', '/sessions/new-3', undefined, withKey(ADMIN_KEY))).status, 404, 'not created');
  });

  const open = (query: string, headers: Record<string, string> = {}) =>
    new Promise<{ code?: number; status?: number; first?: any }>((resolve) => {
      const ws = new WebSocket(`${server.wsUrl}/ws/${query}`, { headers });
      ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
      ws.once('message', (data) => {
        resolve({ first: JSON.parse(String(data)) });
        ws.close();
      });
      ws.once('close', (code) => resolve({ code }));
      ws.once('error', () => undefined);
    });

  it('the legacy /ws socket: 401 without a key, ?apiKey= or X-Api-Key works, another session looks unknown', async () => {
    assert.equal((await open('ws-a')).status, 401);
    assert.equal((await open('ws-a?apiKey=wrong-key-0123456789')).status, 401);
    const viaQuery = await open(`ws-a?apiKey=${encodeURIComponent(key)}`);
    assert.equal(viaQuery.first?.event, 'qr', JSON.stringify(viaQuery));
    const viaHeader = await open('ws-a', withKey(key));
    assert.equal(viaHeader.first?.event, 'qr');
    const outside = await open(`ws-b?apiKey=${encodeURIComponent(key)}`);
    const unknown = await open(`nobody?apiKey=${encodeURIComponent(key)}`);
    assert.equal(outside.code, 4404);
    assert.equal(unknown.code, 4404, 'same answer as a session that does not exist');
  });
});
