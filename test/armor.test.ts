import assert from 'node:assert/strict';
import { getIntrospectionQuery } from 'graphql';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from './helpers/app.js';
import { gqlAs } from './helpers/auth.js';

const codeOf = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.[0]?.extensions?.code;
const ruleOf = (r: { errors?: { extensions?: { details?: any } }[] }) => r.errors?.[0]?.extensions?.details?.rule;

describe('GraphQL hardening (default limits)', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.dispose());

  it('GraphiQL’s full introspection query passes the limits', async () => {
    const result = await gqlAs(server, getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true }));
    assert.equal(result.errors, undefined, JSON.stringify(result.errors));
    assert.ok(result.data.__schema.types.length > 10);
  });

  it('rejects too many aliases, tokens and directives with VALIDATION_ERROR and the rule', async () => {
    const aliases = `{ ${Array.from({ length: 51 }, (_, i) => `a${i}: health { status }`).join(' ')} }`;
    const tokens = `{ health { ${Array.from({ length: 2100 }, () => 'status').join(' ')} } }`;
    const directives = `{ health { status ${Array.from({ length: 21 }, () => '@include(if: true)').join(' ')} } }`;
    for (const [query, rule] of [[aliases, 'maxAliases'], [tokens, 'maxTokens'], [directives, 'maxDirectives']] as const) {
      const result = await gqlAs(server, query);
      assert.equal(codeOf(result), 'VALIDATION_ERROR', rule);
      assert.equal(ruleOf(result), rule, JSON.stringify(result.errors));
      assert.equal(result.data, undefined);
      assert.doesNotMatch(result.errors![0]!.message, /Syntax Error/, rule);
      assert.match(result.errors![0]!.message, new RegExp(`^Too many \\w+: (\\d+, at most|more than) \\d+ \\(${rule}\\)$`));
    }
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });

  it('rejects nested big pages by their estimated cost, while one big page passes', async () => {
    const nested = await gqlAs(server, '{ session(sessionId: "x") { chats(first: 100) { edges { node { messages(last: 200) { edges { node { body } } } } } } } }');
    assert.equal(ruleOf(nested), 'maxCost', JSON.stringify(nested.errors));
    const single = await gqlAs(server, '{ session(sessionId: "x") { chats(first: 100) { edges { node { id name unreadCount } } } } }');
    assert.equal(single.errors, undefined, JSON.stringify(single.errors));
  });

  it('hides field suggestions', async () => {
    const result = await gqlAs(server, '{ sesions { sessionId } }');
    assert.equal(codeOf(result), 'VALIDATION_ERROR');
    assert.doesNotMatch(JSON.stringify(result.errors), /Did you mean/);
  });

  it('masks unexpected errors (no stack, no internals)', async () => {
    const result = await gqlAs(server, 'query($v: Int!) { health { status } }', { v: 'not a number' });
    assert.equal(codeOf(result), 'VALIDATION_ERROR');
    assert.doesNotMatch(JSON.stringify(result), /at .*\.ts:\d+/);
  });
});

describe('GraphQL hardening (configured limits)', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      introspection: false,
      armor: { maxDepth: 3, maxCost: 20 },
      limits: { maxStringLength: 100, maxListLength: 3 },
      http: { maxBodyBytes: 4096 },
    });
  });
  after(() => server.dispose());

  it('rejects a query deeper than maxDepth', async () => {
    assert.equal((await gqlAs(server, '{ sessions { config { engine } } }')).errors, undefined);
    const deep = await gqlAs(server, '{ sessions { config { proxyServerCredentials { address } } } }');
    assert.equal(codeOf(deep), 'VALIDATION_ERROR');
    assert.equal(ruleOf(deep), 'maxDepth');
    assert.equal(deep.errors![0]!.message, 'Query too deep: depth 4, at most 3 (maxDepth)');
    assert.equal(deep.status, 400, 'a validation error like any other');
    const viaFragments = await gqlAs(server, 'fragment P on ProxyServerInfo { address } fragment C on SessionConfig { proxyServerCredentials { ...P } } { sessions { config { ...C } } }');
    assert.equal(ruleOf(viaFragments), 'maxDepth');
  });

  it('rejects a query costlier than maxCost', async () => {
    const costly = await gqlAs(server, `{ sessions { sessionId status engine createdAt lastActivity failureReason config { engine multiDevice headless qrTimeout authTimeout hasLicenceKey } } }`);
    assert.equal(codeOf(costly), 'VALIDATION_ERROR');
    assert.equal(ruleOf(costly), 'maxCost');
    // Not a "Syntax Error:" (graphql-armor's own label): the rule, its limit and what was found.
    assert.match(costly.errors![0]!.message, /^Query too costly: cost [\d.]+, at most 20 \(maxCost\)$/);
    assert.equal(costly.errors![0]!.extensions!.details.limit, 20);
    assert.ok(costly.errors![0]!.extensions!.details.found > 20);
    assert.equal(costly.status, 400);
  });

  it('turns introspection off', async () => {
    const result = await gqlAs(server, '{ __schema { types { name } } }');
    assert.equal(codeOf(result), 'VALIDATION_ERROR');
    assert.match(result.errors![0]!.message, /introspection/i);
    assert.equal((await gqlAs(server, '{ __typename }')).data.__typename, 'Query');
  });

  it('limits string and list arguments with a clear error, changing nothing', async () => {
    const long = await gqlAs(server, 'mutation($input: CreateSessionInput!) { createSession(input: $input) { session { sessionId } } }', { input: { sessionId: 'x'.repeat(101) } });
    assert.equal(codeOf(long), 'VALIDATION_ERROR');
    assert.match(long.errors![0]!.message, /createSession\.input\.sessionId is too long: 101 characters, at most 100/);
    const list = await gqlAs(server, 'mutation($ids: [String!]) { createApiKey(input: { sessionIds: $ids }) { key } }', { ids: ['a', 'b', 'c', 'd'] });
    assert.equal(codeOf(list), 'VALIDATION_ERROR');
    assert.match(list.errors![0]!.message, /sessionIds has too many items: 4, at most 3/);
    assert.deepEqual((await server.gqlOk('{ sessions { sessionId } apiKeys { id } }')), { sessions: [], apiKeys: [] });
  });

  it('answers a body over maxBodyBytes with 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ health { status } }', variables: { pad: 'x'.repeat(5000) } }),
    });
    assert.equal(res.status, 413);
    // /graphql answers its refusals in the GraphQL error shape.
    assert.equal(((await res.json()) as any).errors[0].extensions.code, 'PAYLOAD_TOO_LARGE');
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  });

  it('applies the body limit to chunked bodies too, and passes small chunked bodies on', async () => {
    const chunked = (text: string) => {
      const bytes = new TextEncoder().encode(text);
      return fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new ReadableStream({
          start(controller) {
            for (let i = 0; i < bytes.length; i += 1000) controller.enqueue(bytes.slice(i, i + 1000));
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
    };
    const big = await chunked(JSON.stringify({ query: '{ health { status } }', variables: { pad: 'x'.repeat(5000) } }));
    assert.equal(big.status, 413);
    const small = await chunked(JSON.stringify({ query: '{ health { status } }' }));
    assert.equal(small.status, 200);
    assert.deepEqual(((await small.json()) as any).data, { health: { status: 'healthy' } });
  });
});
