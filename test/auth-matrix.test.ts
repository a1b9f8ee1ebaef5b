import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { declaredPolicies, ruleFor, type AccessRule } from '../src/auth/access-policy.js';
import { schema } from '../src/schema/index.js';
import { CREATE, waitFor, type TestServer } from './helpers/app.js';
import { ADMIN_KEY, createKey, gqlAs, gqlOkAs, scopedFixture, storeSnapshot, withKey } from './helpers/auth.js';

// Every root field of the schema, called with no key, a wrong key, a key for another session and a
// read-only key for the right session: each must answer the code its access rule promises and change nothing.

type RootType = 'Query' | 'Mutation' | 'Subscription';
interface Operation {
  doc: string;
  vars: (ctx: { target: string; keyId: string; groupId: string; peer: string }) => Record<string, unknown>;
}

const BOT = '15550000001@c.us';
/** An image the target session sent (set before the matrix runs): a read-only key may download it. */
let mediaId = '';
const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const send = (field: string) => ({
  doc: `mutation($input: ${field === 'sendText' ? 'SendTextInput' : 'SendMediaInput'}!) { ${field}(input: $input) { message { id } } }`,
  vars: ({ target }: { target: string }) => ({ input: field === 'sendText' ? { sessionId: target, chatId: BOT, content: 'hi' } : { sessionId: target, chatId: BOT, data: PNG, filename: 'a.png' } }),
});
const participants = (field: string): Operation => ({
  doc: `mutation($input: GroupParticipantsInput!) { ${field}(input: $input) { groupId } }`,
  vars: ({ target, groupId }) => ({ input: { sessionId: target, groupId, participants: [BOT] } }),
});

/** Issue 24's mutations: group administration, contacts, the own profile, pairing codes, calls. */
function groupAndContactOperations(): Record<string, Operation> {
  const byId = (field: string, args: string, select: string): Operation => {
    const group = args.includes('$g');
    return {
      doc: `mutation($id: String!${group ? ', $g: String!' : ''}) { ${field}(sessionId: $id${args}) ${select} }`,
      vars: ({ target, groupId }) => (group ? { id: target, g: groupId } : { id: target }),
    };
  };
  const step = (field: string, input: string, extra: Record<string, unknown>): Operation => ({
    doc: `mutation($input: ${input}!) { ${field}(input: $input) { groupId } }`,
    vars: ({ target, groupId }) => ({ input: { sessionId: target, groupId, ...extra } }),
  });
  return {
    setGroupSubject: step('setGroupSubject', 'SetGroupSubjectInput', { subject: 's' }),
    setGroupDescription: step('setGroupDescription', 'SetGroupDescriptionInput', { description: 'd' }),
    setGroupSettings: step('setGroupSettings', 'SetGroupSettingsInput', { announce: true }),
    promoteParticipants: participants('promoteParticipants'),
    demoteParticipants: participants('demoteParticipants'),
    groupInviteLink: byId('groupInviteLink', ', groupId: $g', '{ link }'),
    revokeGroupInviteLink: byId('revokeGroupInviteLink', ', groupId: $g', '{ link }'),
    leaveGroup: byId('leaveGroup', ', groupId: $g', '{ groupId }'),
    joinGroup: byId('joinGroup', ', link: "https://chat.whatsapp.com/AAAAAAAAAAAAAAAAAAAAAA"', '{ groupId }'),
    requestPairingCode: byId('requestPairingCode', ', phoneNumber: "15550000009"', '{ code }'),
    sandboxEnterPairingCode: byId('sandboxEnterPairingCode', ', code: "AAAA-AAAA"', '{ status }'),
    blockContact: byId('blockContact', ', contactId: "15550000001@c.us"', '{ id }'),
    unblockContact: byId('unblockContact', ', contactId: "15550000001@c.us"', '{ id }'),
    setProfileName: byId('setProfileName', ', name: "n"', '{ id }'),
    setProfileAbout: byId('setProfileAbout', ', about: "a"', '{ id }'),
    setProfilePicture: byId('setProfilePicture', `, data: "${PNG}"`, '{ id }'),
    rejectCall: byId('rejectCall', ', callId: "C0"', ''),
    sandboxInjectCall: byId('sandboxInjectCall', ', from: "15550000001@c.us"', '{ id }'),
  };
}

const operations: Record<RootType, Record<string, Operation>> = {
  Query: {
    sessions: { doc: '{ sessions { sessionId } }', vars: () => ({}) },
    session: { doc: 'query($id: String!) { session(sessionId: $id) { sessionId } }', vars: ({ target }) => ({ id: target }) },
    serverInfo: { doc: '{ serverInfo { version } }', vars: () => ({}) },
    health: { doc: '{ health { status } }', vars: () => ({}) },
    apiKeys: { doc: '{ apiKeys { id } }', vars: () => ({}) },
    nodes: { doc: '{ nodes { id } }', vars: () => ({}) },
    webhooks: { doc: 'query($id: String!) { webhooks(sessionId: $id) { id } }', vars: ({ target }) => ({ id: target }) },
    checkNumber: { doc: 'query($id: String!) { checkNumber(sessionId: $id, number: "15550000001") { exists } }', vars: ({ target }) => ({ id: target }) },
    messageMedia: { doc: 'query($id: String!, $m: String!) { messageMedia(sessionId: $id, messageId: $m) { size } }', vars: ({ target }) => ({ id: target, m: mediaId }) },
  },
  Mutation: {
    createSession: { doc: CREATE, vars: ({ target }) => ({ input: { sessionId: target } }) },
    removeSession: { doc: 'mutation($id: String!) { removeSession(sessionId: $id) { removed } }', vars: ({ target }) => ({ id: target }) },
    sandboxScanQr: { doc: 'mutation($id: String!) { sandboxScanQr(sessionId: $id) { status } }', vars: ({ target }) => ({ id: target }) },
    startSession: { doc: 'mutation($id: String!) { startSession(sessionId: $id) { status } }', vars: ({ target }) => ({ id: target }) },
    stopSession: { doc: 'mutation($id: String!) { stopSession(sessionId: $id) { status } }', vars: ({ target }) => ({ id: target }) },
    restartSession: { doc: 'mutation($id: String!) { restartSession(sessionId: $id) { status } }', vars: ({ target }) => ({ id: target }) },
    logoutSession: { doc: 'mutation($id: String!) { logoutSession(sessionId: $id) { status } }', vars: ({ target }) => ({ id: target }) },
    createApiKey: { doc: 'mutation { createApiKey(input: { admin: true }) { key } }', vars: () => ({}) },
    revokeApiKey: { doc: 'mutation($id: ID!) { revokeApiKey(id: $id) { revoked } }', vars: ({ keyId }) => ({ id: keyId }) },
    sendText: send('sendText'),
    sendImage: send('sendImage'),
    sendFile: send('sendFile'),
    sendAudio: send('sendAudio'),
    sendVideo: send('sendVideo'),
    sendSticker: send('sendSticker'),
    sendVoice: send('sendVoice'),
    sendLocation: {
      doc: 'mutation($input: SendLocationInput!) { sendLocation(input: $input) { message { id } } }',
      vars: ({ target }) => ({ input: { sessionId: target, chatId: BOT, latitude: 1, longitude: 2 } }),
    },
    sendContactCard: {
      doc: 'mutation($input: SendContactCardInput!) { sendContactCard(input: $input) { message { id } } }',
      vars: ({ target }) => ({ input: { sessionId: target, chatId: BOT, contactId: BOT } }),
    },
    sendPoll: {
      doc: 'mutation($input: SendPollInput!) { sendPoll(input: $input) { message { id } } }',
      vars: ({ target }) => ({ input: { sessionId: target, chatId: BOT, name: 'q', options: ['a', 'b'] } }),
    },
    votePoll: {
      doc: 'mutation($input: VotePollInput!) { votePoll(input: $input) { message { id } } }',
      vars: ({ target }) => ({ input: { sessionId: target, messageId: 'true_1@c.us_NONE', options: ['a'] } }),
    },
    createGroup: {
      doc: 'mutation($input: CreateGroupInput!) { createGroup(input: $input) { gid } }',
      vars: ({ target, peer }) => ({ input: { sessionId: target, name: 'g', participants: [peer] } }),
    },
    addParticipants: participants('addParticipants'),
    removeParticipants: participants('removeParticipants'),
    markChatRead: { doc: 'mutation($id: String!) { markChatRead(sessionId: $id, chatId: "15550000001@c.us") { chatId } }', vars: ({ target }) => ({ id: target }) },
    markChatUnread: { doc: 'mutation($id: String!) { markChatUnread(sessionId: $id, chatId: "15550000001@c.us") { chatId } }', vars: ({ target }) => ({ id: target }) },
    reactToMessage: {
      doc: 'mutation($input: ReactToMessageInput!) { reactToMessage(input: $input) { message { id } } }',
      vars: ({ target }) => ({ input: { sessionId: target, messageId: `true_${BOT}_NONE`, emoji: '👍' } }),
    },
    forwardMessage: {
      doc: 'mutation($input: ForwardMessageInput!) { forwardMessage(input: $input) { message { id } } }',
      vars: ({ target }) => ({ input: { sessionId: target, messageId: `true_${BOT}_NONE`, chatId: BOT } }),
    },
    deleteMessage: {
      doc: 'mutation($input: DeleteMessageInput!) { deleteMessage(input: $input) { messageId } }',
      vars: ({ target }) => ({ input: { sessionId: target, messageId: `true_${BOT}_NONE`, forEveryone: true } }),
    },
    editMessage: {
      doc: 'mutation($input: EditMessageInput!) { editMessage(input: $input) { message { id } } }',
      vars: ({ target }) => ({ input: { sessionId: target, messageId: `true_${BOT}_NONE`, content: 'x' } }),
    },
    setPresence: {
      doc: 'mutation($input: SetPresenceInput!) { setPresence(input: $input) }',
      vars: ({ target }) => ({ input: { sessionId: target, chatId: BOT, presence: 'TYPING' } }),
    },
    sandboxInjectMessage: {
      doc: 'mutation($id: String!) { sandboxInjectMessage(sessionId: $id, from: "15550000001@c.us", body: "x") { id } }',
      vars: ({ target }) => ({ id: target }),
    },
    registerWebhook: {
      doc: 'mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { secret } }',
      vars: ({ target }) => ({ input: { sessionId: target, url: 'https://example.com/hook' } }),
    },
    updateWebhook: {
      doc: 'mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { id } }',
      vars: ({ target }) => ({ input: { sessionId: target, webhookId: 'wh_none', enabled: false } }),
    },
    removeWebhook: { doc: 'mutation($id: String!) { removeWebhook(sessionId: $id, webhookId: "wh_none") { removed } }', vars: ({ target }) => ({ id: target }) },
    redeliver: { doc: 'mutation { redeliver(deliveryId: "d_none") { __typename } }', vars: () => ({}) },
    ...groupAndContactOperations(),
    testWebhook: { doc: 'mutation($id: String!) { testWebhook(sessionId: $id, webhookId: "wh_none") { __typename } }', vars: ({ target }) => ({ id: target }) },
  },
  Subscription: {
    // A READY session shows no QR: this one asks a session that waits for its scan.
    qr: { doc: 'subscription($id: String!) { qr(sessionId: $id) { expiresAt } }', vars: () => ({ id: 'pending' }) },
    sessionStatus: { doc: 'subscription($id: String!) { sessionStatus(sessionId: $id) { status } }', vars: ({ target }) => ({ id: target }) },
    events: { doc: 'subscription($id: String!) { events(sessionId: $id) { type } }', vars: ({ target }) => ({ id: target }) },
    message: { doc: 'subscription($id: String!) { message(sessionId: $id) { id } }', vars: ({ target }) => ({ id: target }) },
    ack: { doc: 'subscription($id: String!) { ack(sessionId: $id) { messageId } }', vars: ({ target }) => ({ id: target }) },
    pollVote: { doc: 'subscription($id: String!) { pollVote(sessionId: $id) { messageId } }', vars: ({ target }) => ({ id: target }) },
  },
};

/** Every root field of the schema, as Type.field. */
function schemaRootFields(): string[] {
  const out: string[] = [];
  for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (type) out.push(...Object.keys(type.getFields()).map((f) => `${type.name}.${f}`));
  }
  return out.sort();
}

/** What a caller that is authenticated but not allowed must see. */
function expectedDenial(rule: AccessRule, action: 'other-session' | 'read-only'): 'allowed' | 'FORBIDDEN' | 'SESSION_NOT_FOUND' | 'null' | 'filtered' {
  switch (rule.kind) {
    case 'any':
      return 'allowed';
    case 'admin':
      return 'FORBIDDEN';
    case 'filter':
      return action === 'other-session' ? 'filtered' : 'allowed';
    case 'session':
      if (action === 'read-only' && rule.action === 'read') return 'allowed';
      return rule.outOfScope === 'null' ? 'null' : 'SESSION_NOT_FOUND';
  }
}

describe('auth matrix over every GraphQL operation', () => {
  let server: TestServer;
  let otherKey: string;
  let readKey: string;
  let victimKeyId: string;
  let groupId: string;
  let peer: string;
  const target = 'target';

  before(async () => {
    ({ server, peer, groupId, otherKey, readKey } = await scopedFixture(['pending']));
    await gqlOkAs(server, ADMIN_KEY, 'mutation { sendText(input: { sessionId: "target", chatId: "15550000001@c.us", content: "hello" }) { message { id } } }');
    mediaId = (await gqlOkAs(server, ADMIN_KEY, 'mutation($input: SendMediaInput!) { sendImage(input: $input) { message { id } } }', { input: { sessionId: target, chatId: BOT, data: PNG } })).sendImage.message.id;
    await waitFor(async () => (await unread()) > 1, 5000, 'the echo bot answers both (unread messages)');
    await gqlOkAs(server, ADMIN_KEY, CREATE, { input: { sessionId: 'pending', waitForQR: true } });
    victimKeyId = (await createKey(server, { admin: true, name: 'victim' })).id;
  });
  after(() => server.dispose());

  const unread = async () => {
    const [row] = await server.sql<{ n: number }>("select coalesce(sum(unread_count), 0) as n from sandbox_chats where session_id = 'target'");
    return Number(row!.n);
  };
  const snapshot = async () => storeSnapshot(server);

  it('the table covers every root field, and every root field has an explicit access rule', () => {
    const tabled = Object.entries(operations).flatMap(([type, ops]) => Object.keys(ops).map((f) => `${type}.${f}`)).sort();
    assert.deepEqual(tabled, schemaRootFields(), 'add the new operation to this matrix');
    const ruled = declaredPolicies(schema).flatMap((p) => (p.access ? [`${p.typeName}.${p.fieldName}`] : []));
    for (const field of schemaRootFields()) assert.ok(ruled.includes(field), `${field} has no access rule (it falls back to admin-only)`);
  });

  // Each case changes nothing (the assertion says so), so they run four at a time: the table has grown past 100
  // fields. The subscription cases send messages, so they come after, in a suite of their own.
  describe('queries and mutations', { concurrency: 4 }, () => {
    for (const type of ['Query', 'Mutation'] as const) {
      for (const field of Object.keys(operations[type])) {
        it(`${type}.${field}: no key, wrong key, another session's key, a read-only key`, async () => {
          const op = operations[type][field]!;
          const vars = op.vars({ target, keyId: victimKeyId, groupId, peer });
          const rule = ruleFor(schema, type, field);
          const before = await snapshot();

          for (const headers of [{}, withKey('wrong-key-0123456789abc'), { authorization: 'Bearer wrong' }] as Record<string, string>[]) {
            const result = await gqlAs(server, op.doc, vars, headers);
            assert.equal(result.status, 401);
            assert.equal(result.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
          }

          for (const [who, key] of [['other-session', otherKey], ['read-only', readKey]] as const) {
            const expected = expectedDenial(rule, who);
            if (expected === 'allowed' && type === 'Mutation') continue; // an allowed mutation would change things: not this test's job
            const result = await gqlAs(server, op.doc, vars, withKey(key));
            const code = result.errors?.[0]?.extensions?.code;
            if (expected === 'allowed') assert.equal(code, undefined, `${who}: ${JSON.stringify(result.errors)}`);
            else if (expected === 'null') assert.equal(result.data?.[field], null, who);
            else if (expected === 'filtered') assert.ok(!JSON.stringify(result.data).includes(`"${target}"`), `${who} must not see ${target}`);
            else assert.equal(code, expected, `${who}: ${JSON.stringify(result)}`);
          }
          assert.equal(await snapshot(), before, 'nothing changed');
        });
      }
    }
  });

  for (const field of Object.keys(operations.Subscription)) {
    it(`Subscription.${field} over graphql-ws: no key, wrong key, another session's key`, async () => {
      const op = operations.Subscription[field]!;
      const vars = op.vars({ target, keyId: victimKeyId, groupId, peer });
      const run = (params?: Record<string, unknown>) => {
        const client = server.wsClient(params);
        return new Promise<any>((resolve, reject) => client.subscribe({ query: op.doc, variables: vars }, { next: resolve, error: reject, complete: () => undefined }))
          .then((value) => ({ value }), (error) => ({ error }))
          .finally(() => client.dispose());
      };
      for (const params of [undefined, { apiKey: 'wrong-key-0123456789abc' }]) {
        const { error } = (await run(params)) as any;
        assert.equal(error?.code, 4403, `refused at connect: ${JSON.stringify(params)}`);
      }
      const denied = (await run({ apiKey: otherKey })) as any;
      const errors = denied.error ?? denied.value?.errors;
      assert.equal(errors?.[0]?.extensions?.code, expectedDenial(ruleFor(schema, "Subscription", field), "other-session"), JSON.stringify(denied));
      // message and ack only speak when something happens: keep the admin sending until one arrives (pollVote: voting on
      // a poll of the session's own).
      let poke = true;
      const poll =
        field === 'pollVote'
          ? (await gqlOkAs(server, ADMIN_KEY, 'mutation { sendPoll(input: { sessionId: "target", chatId: "15550000001@c.us", name: "q", options: ["a", "b"] }) { message { id } } }')).sendPoll.message.id
          : null;
      const poking = (async () => {
        for (let i = 0; i < 50 && poke; i++) {
          await new Promise((r) => setTimeout(r, 100));
          if (!poke) break;
          if (poll) await gqlOkAs(server, ADMIN_KEY, 'mutation($input: VotePollInput!) { votePoll(input: $input) { message { id } } }', { input: { sessionId: target, messageId: poll, options: [i % 2 ? 'a' : 'b'] } });
          else await gqlOkAs(server, ADMIN_KEY, 'mutation { sendText(input: { sessionId: "target", chatId: "15550000001@c.us", content: "poke" }) { message { id } } }');
        }
      })();
      const allowed = (await run({ apiKey: readKey })) as any;
      poke = false;
      await poking;
      assert.ok(allowed.value?.data && !allowed.value.errors, `the read-only key may watch its session: ${JSON.stringify(allowed)}`);
    });
  }
});
