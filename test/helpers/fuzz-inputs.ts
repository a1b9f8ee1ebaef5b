// Inputs shared by the fuzz suites: GraphQL documents the schema knows, mutations of them, variables,
// bodies, paths and query strings. Each suite adds its own on top.
import fc from 'fast-check';

export const printable = (max: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: max });
export const anyText = (max: number) => fc.string({ unit: 'binary', maxLength: max });
export const sessionIdish = fc.oneof(fc.constantFrom('fz-a', 'fz-b', 'nobody', '', ' ', '../etc', 'a'.repeat(65), '%00', '😀'), anyText(80));

export const documents = [
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

export const mutatedDocument = fc.tuple(fc.constantFrom(...documents), fc.nat(), fc.nat(), anyText(8)).map(([doc, at, len, insert]) => {
  const i = at % (doc.length + 1);
  return doc.slice(0, i) + insert + doc.slice(i + (len % 6));
});

export const variables = fc.oneof(
  fc.record({ id: sessionIdish }),
  fc.record({ input: fc.record({ sessionId: sessionIdish, waitForQR: fc.constant(false), config: fc.option(fc.jsonValue({ maxDepth: 3 }), { nil: undefined }) }, { requiredKeys: [] }) }),
  fc.record({ input: fc.record({ admin: fc.boolean(), sessionIds: fc.array(sessionIdish, { maxLength: 4 }), actions: fc.array(fc.constantFrom('READ', 'SEND', 'MANAGE', 'ROOT', 1), { maxLength: 4 }), name: anyText(20) }, { requiredKeys: [] }) }),
  fc.jsonValue({ maxDepth: 3 }),
);

export const graphqlBody = fc
  .record({ query: fc.oneof(fc.constantFrom(...documents), mutatedDocument, anyText(200), fc.jsonValue({ maxDepth: 2 })), variables, operationName: fc.option(printable(12), { nil: undefined }) }, { requiredKeys: [] })
  .map((b) => JSON.stringify(b));

export const body = fc.oneof(graphqlBody, graphqlBody, fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)), anyText(300), fc.constant(''), fc.constant('{"query":'), fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a).toString('latin1')));

export const segment = fc.oneof(fc.constantFrom('graphql', 'health', 'api', 'v1', 'sessions', 'fz-a', 'qr', 'messages', 'ws', '..', '.', '%2e%2e', '%00', ''), printable(12).map(encodeURIComponent));
export const path = fc.oneof(
  fc.constantFrom('/graphql', '/graphql', '/health', '/api/v1/sessions', '/api/v1/sessions/fz-a', '/api/v1/sessions/fz-a/qr', '/api/v1/health', '/ws/fz-a'),
  fc.array(segment, { maxLength: 5 }).map((s) => `/${s.join('/')}`),
);
export const query = fc.option(
  fc.array(fc.tuple(printable(8), printable(30)), { maxLength: 3 }).map((pairs) => `?${new URLSearchParams(pairs).toString()}`),
  { nil: '' },
);
