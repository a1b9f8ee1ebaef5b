import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { errorCodes, errorStatus, type ErrorCode } from '../src/errors.js';
import { CREATE, SCAN, startServer, waitFor, type GqlResult, type TestServer } from './helpers/app.js';
import { assertError, rest, restReadySession, type RestResult } from './rest-helpers.js';

// The open-wa session here only has to be on another engine than the sandbox: point the engine at a
// missing runtime so it fails at once with the install hint instead of starting Chromium.
process.env.OPEN_WA_RUNTIME_DIR = join(tmpdir(), 'wa-gateway-no-open-wa-runtime');

// Codes that only the HTTP layer of REST produces (GraphQL has no such failure of an operation), or that
// no test can provoke on demand. Every other code must have a case below: a new code fails this file
// until it gets a case or a line here.
const notComparable: Partial<Record<ErrorCode, string>> = {
  NOT_FOUND: 'an unknown REST route (GraphQL has one path)',
  METHOD_NOT_ALLOWED: 'a REST path with another method (yoga answers 405 with BAD_REQUEST)',
  UNSUPPORTED_MEDIA_TYPE: 'a non-JSON REST body (yoga answers 415 without a body)',
  PAYLOAD_TOO_LARGE: 'the REST body limit (tested in rest-sessions.test.ts)',
  ENGINE_ERROR: 'an engine crash; the sandbox has none on demand',
  INTERNAL_ERROR: 'a bug; masked the same way on both paths by construction',
  UNAUTHENTICATED: 'comes with the auth work (its plugin runs on the shared yoga path)',
  FORBIDDEN: 'comes with the auth work',
  RATE_LIMITED: 'comes with the auth/limits work',
  TOO_MANY_SUBSCRIPTIONS: 'subscriptions only (graphql-ws, SSE, /ws); REST has none (tested in hostile-sockets.test.ts)',
  STORAGE_FULL: 'a full disk: compared on every transport in storage-full.test.ts (a small tmpfs as the data dir)',
  DATABASE_UNAVAILABLE: 'PostgreSQL out of reach: compared on REST and GraphQL in pg-unavailable.test.ts (its connections cut by a proxy)',
};

const ECHO = '15550000001@c.us';
const SEND = 'mutation($input: SendTextInput!) { sendText(input: $input) { message { id } } }';

interface Case {
  code: ErrorCode;
  what: string;
  rest: () => Promise<RestResult>;
  gql: () => Promise<GqlResult>;
}

describe('REST and GraphQL give the same error code for the same failure', () => {
  let server: TestServer;
  const cases: Case[] = [];
  const covered = new Set<ErrorCode>();

  before(async () => {
    server = await startServer({ maxSessions: 4 });
    await restReadySession(server, 'p-ready');
    await rest(server, 'POST', '/sessions', { sessionId: 'p-waiting', waitForQR: true });
    await rest(server, 'POST', '/sessions', { sessionId: 'p-openwa', config: { engine: 'open-wa' } });
    await waitFor(async () => (await rest(server, 'GET', '/sessions/p-openwa/status')).body.data.status === 'failed', 5000, 'open-wa session failed');
  });
  after(() => server.dispose());

  const gqlRaw = async (body: string): Promise<GqlResult> => {
    const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return (await res.json()) as GqlResult;
  };

  cases.push(
    {
      code: 'SESSION_NOT_FOUND',
      what: 'remove an unknown session',
      rest: () => rest(server, 'DELETE', '/sessions/p-ghost'),
      gql: () => server.gql('mutation { removeSession(sessionId: "p-ghost") { removed } }'),
    },
    {
      code: 'SESSION_NOT_FOUND',
      what: 'scan an unknown session',
      rest: () => rest(server, 'POST', '/sessions/p-ghost/sandbox/scan'),
      gql: () => server.gql(SCAN, { id: 'p-ghost' }),
    },
    {
      code: 'SESSION_ALREADY_EXISTS',
      what: 'create a duplicate',
      rest: () => rest(server, 'POST', '/sessions', { sessionId: 'p-ready' }),
      gql: () => server.gql(CREATE, { input: { sessionId: 'p-ready' } }),
    },
    {
      code: 'VALIDATION_ERROR',
      what: 'create with an invalid id',
      rest: () => rest(server, 'POST', '/sessions', { sessionId: 'not valid!' }),
      gql: () => server.gql(CREATE, { input: { sessionId: 'not valid!' } }),
    },
    {
      code: 'VALIDATION_ERROR',
      what: 'create without an id',
      rest: () => rest(server, 'POST', '/sessions', {}),
      gql: () => server.gql(CREATE, { input: {} }),
    },
    {
      code: 'VALIDATION_ERROR',
      what: 'create with a config value out of range',
      rest: () => rest(server, 'POST', '/sessions', { sessionId: 'p-x', config: { qrTimeout: -5 } }),
      gql: () => server.gql(CREATE, { input: { sessionId: 'p-x', config: { qrTimeout: -5 } } }),
    },
    {
      code: 'INVALID_SESSION_STATE',
      what: 'scan a session that is ready',
      rest: () => rest(server, 'POST', '/sessions/p-ready/sandbox/scan'),
      gql: () => server.gql(SCAN, { id: 'p-ready' }),
    },
    {
      code: 'ENGINE_UNSUPPORTED',
      what: 'sandbox scan of an open-wa session',
      rest: () => rest(server, 'POST', '/sessions/p-openwa/sandbox/scan'),
      gql: () => server.gql(SCAN, { id: 'p-openwa' }),
    },
    {
      code: 'SESSION_NOT_READY',
      what: 'send from a session that is not ready',
      rest: () => rest(server, 'POST', '/sessions/p-waiting/send-text', { chatId: ECHO, content: 'x' }),
      gql: () => server.gql(SEND, { input: { sessionId: 'p-waiting', chatId: ECHO, content: 'x' } }),
    },
    {
      code: 'SESSION_NOT_READY',
      what: 'list the chats of a session that is not ready',
      rest: () => rest(server, 'GET', '/sessions/p-waiting/chats'),
      gql: () => server.gql('query { session(sessionId: "p-waiting") { chats { edges { node { id } } } } }'),
    },
    {
      code: 'SESSION_NOT_FOUND',
      what: 'send from an unknown session',
      rest: () => rest(server, 'POST', '/sessions/p-ghost/send-text', { chatId: ECHO, content: 'x' }),
      gql: () => server.gql(SEND, { input: { sessionId: 'p-ghost', chatId: ECHO, content: 'x' } }),
    },
    {
      code: 'INVALID_CHAT_ID',
      what: 'send to a malformed chat id',
      rest: () => rest(server, 'POST', '/sessions/p-ready/send-text', { chatId: 'nonsense', content: 'x' }),
      gql: () => server.gql(SEND, { input: { sessionId: 'p-ready', chatId: 'nonsense', content: 'x' } }),
    },
    {
      code: 'INVALID_CHAT_ID',
      what: 'add participants to a malformed group id',
      rest: () => rest(server, 'POST', '/sessions/p-ready/groups/nonsense/participants', { participants: [ECHO] }),
      gql: () =>
        server.gql('mutation($input: GroupParticipantsInput!) { addParticipants(input: $input) { groupId } }', {
          input: { sessionId: 'p-ready', groupId: 'nonsense', participants: [ECHO] },
        }),
    },
    {
      code: 'NOT_ON_WHATSAPP',
      what: 'send to a number that is not on the network',
      rest: () => rest(server, 'POST', '/sessions/p-ready/send-text', { chatId: '19999999999@c.us', content: 'x' }),
      gql: () => server.gql(SEND, { input: { sessionId: 'p-ready', chatId: '19999999999@c.us', content: 'x' } }),
    },
    {
      code: 'VALIDATION_ERROR',
      what: 'send an image that is not a data URL',
      rest: () => rest(server, 'POST', '/sessions/p-ready/send-image', { chatId: ECHO, data: 'nope' }),
      gql: () =>
        server.gql('mutation($input: SendMediaInput!) { sendImage(input: $input) { message { id } } }', {
          input: { sessionId: 'p-ready', chatId: ECHO, data: 'nope' },
        }),
    },
    {
      code: 'BAD_REQUEST',
      what: 'a body that is not JSON',
      rest: () => rest(server, 'POST', '/sessions', '{"sessionId": '),
      gql: () => gqlRaw('{"query": '),
    },
  );

  it('each failure has one code on both paths, and REST answers with the status of the one code map', async () => {
    for (const c of cases) {
      const viaRest = await c.rest();
      const viaGql = await c.gql();
      assertError(viaRest, c.code);
      assert.equal(viaGql.errors?.[0]?.extensions?.code, c.code, `GraphQL code for "${c.what}": ${JSON.stringify(viaGql.errors)}`);
      covered.add(c.code);
    }
  });

  it('MESSAGE_NOT_FOUND and MEDIA_GONE (404) for a media download on both paths', async () => {
    const MEDIA = 'query($s: String!, $m: String!) { messageMedia(sessionId: $s, messageId: $m) { dataUrl } }';
    const download = (id: string) => rest(server, 'GET', `/sessions/p-ready/messages/${encodeURIComponent(id)}/media`);
    assertError(await download('true_1@c.us_NONE'), 'MESSAGE_NOT_FOUND');
    assert.equal((await server.gql(MEDIA, { s: 'p-ready', m: 'true_1@c.us_NONE' })).errors?.[0]?.extensions?.code, 'MESSAGE_NOT_FOUND');
    const png = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    const sent = await rest(server, 'POST', '/sessions/p-ready/send-image', { chatId: ECHO, data: png });
    // From outside the app: retried while the server's own write transaction holds the SQLite file.
    await waitFor(() => server.sql('DELETE FROM sandbox_media').then(() => true, () => false), 10_000, 'the media pruned');
    assertError(await download(sent.body.data.messageId), 'MEDIA_GONE');
    assert.equal((await server.gql(MEDIA, { s: 'p-ready', m: sent.body.data.messageId })).errors?.[0]?.extensions?.code, 'MEDIA_GONE');
    covered.add('MESSAGE_NOT_FOUND');
    covered.add('MEDIA_GONE');
  });

  it('MAX_SESSIONS_REACHED (429) on both paths', async () => {
    await rest(server, 'POST', '/sessions', { sessionId: 'p-fill' });
    const viaRest = await rest(server, 'POST', '/sessions', { sessionId: 'p-over' });
    const viaGql = await server.gql(CREATE, { input: { sessionId: 'p-over' } });
    assertError(viaRest, 'MAX_SESSIONS_REACHED', 429);
    assert.equal(viaGql.errors?.[0]?.extensions?.code, 'MAX_SESSIONS_REACHED');
    assert.deepEqual(viaRest.body.error.details, viaGql.errors?.[0]?.extensions?.details);
    covered.add('MAX_SESSIONS_REACHED');
  });

  it('NOT_GROUP_ADMIN, GROUP_ANNOUNCE_ONLY (403) and CONTACT_BLOCKED (403) on both paths', async () => {
    const JOHN = '1234567890@c.us';
    // p-ready makes an announce group, leaves it (John takes over as admin) and joins again by link, as a plain member.
    const gid = (await rest(server, 'POST', '/sessions/p-ready/groups', { name: 'parity', participants: [JOHN] })).body.data.gid;
    await rest(server, 'POST', `/sessions/p-ready/groups/${gid}/settings`, { announce: true });
    const link = (await rest(server, 'GET', `/sessions/p-ready/groups/${gid}/invite-link`)).body.data.link;
    await rest(server, 'POST', `/sessions/p-ready/groups/${gid}/leave`);
    assert.equal((await rest(server, 'POST', '/sessions/p-ready/groups/join', { link })).status, 200);
    const SETTINGS = 'mutation($input: SetGroupSettingsInput!) { setGroupSettings(input: $input) { groupId } }';
    const BLOCK = `mutation { blockContact(sessionId: "p-ready", contactId: "${JOHN}") { isBlocked } }`;
    const compare = async (code: ErrorCode, viaRest: RestResult, viaGql: GqlResult) => {
      assertError(viaRest, code, 403);
      assert.equal(viaGql.errors?.[0]?.extensions?.code, code, JSON.stringify(viaGql.errors));
      covered.add(code);
    };
    await compare(
      'NOT_GROUP_ADMIN',
      await rest(server, 'POST', `/sessions/p-ready/groups/${gid}/settings`, { restrict: true }),
      await server.gql(SETTINGS, { input: { sessionId: 'p-ready', groupId: gid, restrict: true } }),
    );
    await compare(
      'GROUP_ANNOUNCE_ONLY',
      await rest(server, 'POST', '/sessions/p-ready/send-text', { chatId: gid, content: 'hi' }),
      await server.gql(SEND, { input: { sessionId: 'p-ready', chatId: gid, content: 'hi' } }),
    );
    await server.gql(BLOCK);
    await compare(
      'CONTACT_BLOCKED',
      await rest(server, 'POST', '/sessions/p-ready/send-text', { chatId: JOHN, content: 'hi' }),
      await server.gql(SEND, { input: { sessionId: 'p-ready', chatId: JOHN, content: 'hi' } }),
    );
  });

  it('every code of src/errors.ts is compared here or named as not comparable', () => {
    const missing = errorCodes.filter((code) => !covered.has(code) && !(code in notComparable));
    assert.deepEqual(missing, [], `codes with no REST/GraphQL comparison: ${missing.join(', ')}`);
    for (const code of errorCodes) assert.equal(typeof errorStatus[code], 'number');
  });
});
