// Received media, the message kinds and poll votes (issue 23), between two sandbox sessions A and B on a real
// server: what A sends, B downloads byte for byte (REST and media.dataUrl); locations, contact cards and
// polls keep every field; B's vote reaches A as poll_vote on GraphQL, /ws and webhooks; a scoped READ key
// downloads only its own sessions' media.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { collect, readySession, startServer, waitFor, type TestServer } from './helpers/app.js';
import { ADMIN_KEY, createKey, gqlAs, gqlOkAs, withKey } from './helpers/auth.js';
import { REGISTER, startReceiver, type Receiver } from './helpers/webhooks.js';
import { assertError, rest } from './rest-helpers.js';

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const dataUrl = (type: string, bytes: Buffer) => `data:${type};base64,${bytes.toString('base64')}`;
const fromDataUrl = (url: string) => Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');

const FIELDS = `id chatId type body caption quotedMessageId fromMe
  media { mimetype filename size url dataUrl }
  location { latitude longitude name address } vcard poll { name options { name votes } allowMultipleAnswers }`;
const HISTORY = `query($s: String!, $c: String!) { session(sessionId: $s) { chat(chatId: $c) { messages(last: 50) { edges { node { ${FIELDS} } } } } } }`;
const sendMedia = (name: string) => `mutation($input: SendMediaInput!) { ${name}(input: $input) { message { ${FIELDS} } } }`;
const SEND_TEXT = `mutation($input: SendTextInput!) { sendText(input: $input) { message { id } } }`;

const media = [
  { mutation: 'sendImage', type: 'IMAGE', mimetype: 'image/png', filename: 'dot.png', bytes: Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64') },
  { mutation: 'sendFile', type: 'DOCUMENT', mimetype: 'application/pdf', filename: 'report.pdf', bytes: Buffer.from('%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n') },
  { mutation: 'sendVideo', type: 'VIDEO', mimetype: 'video/mp4', filename: 'clip.mp4', bytes: Buffer.concat([Buffer.from('AAAAGGZ0eXBtcDQyAAAAAG1wNDJpc29t', 'base64'), randomBytes(3000)]) },
  { mutation: 'sendSticker', type: 'STICKER', mimetype: 'image/webp', filename: 'smile.webp', bytes: Buffer.from('UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==', 'base64') },
  { mutation: 'sendVoice', type: 'PTT', mimetype: 'audio/ogg', filename: 'note.ogg', bytes: Buffer.concat([Buffer.from('OggS'), randomBytes(2000)]) },
] as const;

describe('received media, message kinds and poll votes between two sandbox sessions', () => {
  let server: TestServer;
  let admin: TestServer;
  let a: string;
  let b: string;
  let rx: Receiver;
  let rxB: Receiver;
  let ws: WebSocket;
  const wsEvents: any[] = [];
  const gql = (query: string, variables: Record<string, unknown> = {}) => gqlOkAs(server, ADMIN_KEY, query, variables);
  const historyOf = async (s: string, c: string) => ((await gql(HISTORY, { s, c })).session.chat?.messages.edges ?? []).map((e: any) => e.node) as any[];

  before(async () => {
    server = await startServer({
      auth: { apiKeys: [ADMIN_KEY] },
      webhooks: { allowCidrs: '127.0.0.1/32', retryScheduleMs: [100, 200], timeoutMs: 5000, pollIntervalMs: 20, maxMediaBytes: 2500 },
    });
    admin = { ...server, gqlOk: (q: string, v?: Record<string, unknown>) => gqlOkAs(server, ADMIN_KEY, q, v) } as TestServer;
    [a, b] = await Promise.all([readySession(admin, 'A'), readySession(admin, 'B')]);
    rx = await startReceiver();
    await gql(REGISTER, { input: { sessionId: 'A', url: rx.url, events: ['POLL_VOTE'] } });
    rxB = await startReceiver();
    await gql(REGISTER, { input: { sessionId: 'B', url: rxB.url, events: ['MESSAGE'], includeMedia: true } });
    const listeners = server.app.services.bus.listenerCount();
    ws = new WebSocket(`${server.wsUrl}/ws/A`, { headers: withKey(ADMIN_KEY) });
    ws.on('message', (data) => wsEvents.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    await waitFor(() => server.app.services.bus.listenerCount() > listeners, 5000, 'the socket to listen');
  });
  after(async () => {
    ws?.close();
    await server?.dispose();
    await rx?.close();
    await rxB?.close();
  });

  it('image, file, video, sticker and voice note: B downloads each through REST and media.dataUrl, byte-identical, with mimetype and filename', async () => {
    const sent: any[] = [];
    for (const m of media) {
      const input = { sessionId: 'A', chatId: b, data: dataUrl(m.mimetype, m.bytes), filename: m.filename };
      sent.push((await gql(sendMedia(m.mutation), { input }))[m.mutation].message);
    }
    assert.deepEqual(sent.map((m) => m.type), media.map((m) => m.type));
    const received = await waitFor(async () => {
      const list = (await historyOf('B', a)).filter((m) => m.media);
      return list.length >= media.length ? list : null;
    }, 10_000, "B's copies");
    for (const [i, m] of media.entries()) {
      const copy = received[i];
      assert.equal(copy.type, m.type);
      assert.equal(copy.fromMe, false);
      assert.deepEqual([copy.media.mimetype, copy.media.filename, copy.media.size], [m.mimetype, m.filename, m.bytes.length], m.mutation);
      assert.equal(copy.media.url, `/api/v1/sessions/B/messages/${encodeURIComponent(copy.id)}/media`);
      assert.equal(sha(fromDataUrl(copy.media.dataUrl)), sha(m.bytes), `${m.mutation}: dataUrl`);
      assert.ok(copy.media.dataUrl.startsWith(`data:${m.mimetype};base64,`));
      const res = await fetch(`${server.url}${copy.media.url}`, { headers: withKey(ADMIN_KEY) });
      assert.equal(res.status, 200, m.mutation);
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.equal(sha(bytes), sha(m.bytes), `${m.mutation}: REST`);
      assert.equal(res.headers.get('content-type'), m.mimetype);
      assert.equal(res.headers.get('content-length'), String(m.bytes.length));
      assert.match(res.headers.get('content-disposition') ?? '', new RegExp(`^attachment; filename="${m.filename.replace('.', '\\.')}"`));
      // The sender's own copy has the same bytes.
      const own = await rest(server, 'GET', `/sessions/A/messages/${encodeURIComponent(sent[i].id)}/media`, undefined, withKey(ADMIN_KEY));
      assert.equal(sha(own.raw), sha(m.bytes));
    }
    // A webhook registered with includeMedia gets the bytes in the delivery, up to --webhook-max-media-bytes (2500 here).
    const deliveries = await waitFor(() => {
      const found = received.map((copy: any) => rxB.received.find((r) => r.json?.event === 'message' && r.json.data.id === copy.id));
      return found.every(Boolean) ? found : null;
    }, 10_000, 'the message deliveries to B');
    for (const [i, m] of media.entries()) {
      const delivered = deliveries[i]!.json.data.media;
      assert.equal(delivered.url, received[i].media.url);
      if (m.bytes.length <= 2500) assert.equal(sha(fromDataUrl(delivered.dataUrl)), sha(m.bytes), `${m.mutation}: webhook dataUrl`);
      else assert.equal(delivered.dataUrl, undefined, `${m.mutation}: over the limit, the url only`);
    }
    // Each content is kept once, shared by the sender's and the receiver's copy.
    const kept = await server.sql<{ n: number | string }>('SELECT COUNT(*) AS n FROM sandbox_media');
    assert.equal(Number(kept[0]!.n), media.length);
  });

  it('location, contact card and poll round-trip with every field, quoting a message', async () => {
    const quoted = (await gql(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content: 'about this' } })).sendText.message.id;
    const location = { latitude: 52.516275, longitude: 13.377704, name: 'Brandenburg Gate', address: 'Pariser Platz, 10117 Berlin' };
    const vcard = 'BEGIN:VCARD\nVERSION:3.0\nFN:Jane Roe\nTEL;type=CELL;waid=15550002222:+15550002222\nEND:VCARD';
    const sentLocation = await rest(server, 'POST', '/sessions/A/send-location', { chatId: b, ...location, quotedMessageId: quoted }, withKey(ADMIN_KEY));
    assert.equal(sentLocation.status, 200, JSON.stringify(sentLocation.body));
    assert.deepEqual(sentLocation.body.data.location, location);
    assert.equal(sentLocation.body.data.quotedMessageId, quoted);
    const sentCard = await rest(server, 'POST', '/sessions/A/send-contact', { chatId: b, vcard, quotedMessageId: quoted }, withKey(ADMIN_KEY));
    assert.equal(sentCard.body.data.vcard, vcard);
    const byId = await rest(server, 'POST', '/sessions/A/send-contact', { chatId: b, contactId: '15550003333@c.us' }, withKey(ADMIN_KEY));
    assert.match(byId.body.data.vcard, /waid=15550003333/);
    const sentPoll = await rest(server, 'POST', '/sessions/A/send-poll', { chatId: b, name: 'Meeting day?', options: ['Monday', 'Tuesday', 'Friday'], allowMultipleAnswers: false, quotedMessageId: quoted }, withKey(ADMIN_KEY));
    assert.equal(sentPoll.status, 200, JSON.stringify(sentPoll.body));
    const poll = { name: 'Meeting day?', options: [{ name: 'Monday', votes: 0 }, { name: 'Tuesday', votes: 0 }, { name: 'Friday', votes: 0 }], allowMultipleAnswers: false };
    assert.deepEqual(sentPoll.body.data.poll, poll);

    const copies = await waitFor(async () => {
      const list = (await historyOf('B', a)).filter((m) => ['LOCATION', 'VCARD', 'POLL'].includes(m.type));
      return list.length >= 4 ? list : null;
    }, 10_000, "B's copies");
    const bQuoted = (await historyOf('B', a)).find((m) => m.id.endsWith(quoted.slice(quoted.lastIndexOf('_'))))!.id;
    const [loc, card, card2, bPoll] = copies;
    assert.deepEqual([loc.type, loc.location, loc.quotedMessageId, loc.media], ['LOCATION', location, bQuoted, null]);
    assert.deepEqual([card.type, card.vcard, card.quotedMessageId], ['VCARD', vcard, bQuoted]);
    assert.match(card2.vcard, /waid=15550003333/);
    assert.deepEqual([bPoll.type, bPoll.poll, bPoll.quotedMessageId], ['POLL', poll, bQuoted]);

    // Validation: a poll of one option, a location off the globe, a card with both or neither.
    const bad = [
      ['/sessions/A/send-poll', { chatId: b, name: 'q', options: ['only'] }],
      ['/sessions/A/send-location', { chatId: b, latitude: 91, longitude: 0 }],
      ['/sessions/A/send-contact', { chatId: b }],
      ['/sessions/A/send-contact', { chatId: b, contactId: '15550003333@c.us', vcard }],
    ] as const;
    for (const [path, body] of bad) assertError(await rest(server, 'POST', path, body, withKey(ADMIN_KEY)), 'VALIDATION_ERROR');
  });

  it("B's vote updates both copies and reaches A as poll_vote on the subscription, /ws and the webhook, with one data shape", async () => {
    const listeners = server.app.services.bus.listenerCount();
    const sub = collect(server.wsClient({ apiKey: ADMIN_KEY }), 'subscription($s: String!) { pollVote(sessionId: $s) { type sessionId messageId chatId voter options poll { name options { name votes } } } }', { s: 'A' });
    await waitFor(() => server.app.services.bus.listenerCount() > listeners || sub.errors.length > 0, 10_000, 'the subscription to start');
    assert.deepEqual(sub.errors, []);
    const sent = (await gql('mutation($input: SendPollInput!) { sendPoll(input: $input) { message { id } } }', {
      input: { sessionId: 'A', chatId: b, name: 'Lunch?', options: ['Pizza', 'Salad', 'Soup'], allowMultipleAnswers: true },
    })).sendPoll.message.id;
    const bPoll = await waitFor(async () => (await historyOf('B', a)).find((m) => m.poll?.name === 'Lunch?'), 10_000, "B's poll");
    const voted = await rest(server, 'POST', `/sessions/B/messages/${encodeURIComponent(bPoll.id)}/vote`, { options: ['Pizza', 'Soup'] }, withKey(ADMIN_KEY));
    assert.equal(voted.status, 200, JSON.stringify(voted.body));
    const counts = (p: any) => p.options.map((o: any) => [o.name, o.votes]);
    assert.deepEqual(counts(voted.body.data.poll), [['Pizza', 1], ['Salad', 0], ['Soup', 1]]);
    const aPoll = (await historyOf('A', b)).find((m) => m.id === sent);
    assert.deepEqual(counts(aPoll.poll), [['Pizza', 1], ['Salad', 0], ['Soup', 1]], "A's copy");

    const event = await waitFor(() => sub.values.find((v) => v.pollVote.messageId === sent)?.pollVote, 5000, 'poll_vote on the subscription');
    assert.deepEqual([event.type, event.sessionId, event.chatId, event.voter, event.options], ['POLL_VOTE', 'A', b, b, ['Pizza', 'Soup']]);
    assert.deepEqual(counts(event.poll), [['Pizza', 1], ['Salad', 0], ['Soup', 1]]);
    const onWs = await waitFor(() => wsEvents.find((e) => e.event === 'poll_vote' && e.data.messageId === sent), 5000, 'poll_vote on /ws');
    const hook = await waitFor(() => rx.received.find((r) => r.json?.event === 'poll_vote' && r.json.data.messageId === sent), 10_000, 'poll_vote webhook');
    assert.deepEqual(hook.json.data, onWs.data, 'the same data on /ws and the webhook');
    assert.deepEqual(onWs.data, { messageId: sent, chatId: b, voter: b, options: ['Pizza', 'Soup'], poll: { name: 'Lunch?', options: [{ name: 'Pizza', votes: 1 }, { name: 'Salad', votes: 0 }, { name: 'Soup', votes: 1 }], allowMultipleAnswers: true } });

    // A changed vote replaces the earlier one; an option the poll does not have is refused.
    const changed = await rest(server, 'POST', `/sessions/B/messages/${encodeURIComponent(bPoll.id)}/vote`, { options: ['Salad'] }, withKey(ADMIN_KEY));
    assert.deepEqual(counts(changed.body.data.poll), [['Pizza', 0], ['Salad', 1], ['Soup', 0]]);
    assertError(await rest(server, 'POST', `/sessions/B/messages/${encodeURIComponent(bPoll.id)}/vote`, { options: ['Cake'] }, withKey(ADMIN_KEY)), 'VALIDATION_ERROR');
    assertError(await rest(server, 'POST', `/sessions/B/messages/${encodeURIComponent('false_1@c.us_NOPE')}/vote`, { options: ['Salad'] }, withKey(ADMIN_KEY)), 'MESSAGE_NOT_FOUND');
    sub.unsubscribe();
  });

  it('a scoped READ key downloads the media of its own sessions only; unknown and pruned media are clear 404s', async () => {
    const readB = (await createKey(server, { sessionIds: ['B'], actions: ['READ'] })).key;
    const bCopy = (await historyOf('B', a)).find((m) => m.media)!;
    const aCopy = (await historyOf('A', b)).find((m) => m.media)!;
    const own = await rest(server, 'GET', `/sessions/B/messages/${encodeURIComponent(bCopy.id)}/media`, undefined, withKey(readB));
    assert.equal(own.status, 200);
    assert.equal(sha(own.raw), sha(media[0].bytes));
    const other = await rest(server, 'GET', `/sessions/A/messages/${encodeURIComponent(aCopy.id)}/media`, undefined, withKey(readB));
    assert.ok([403, 404].includes(other.status), `another session's media: ${other.status}`);
    assert.equal(other.body.success, false);
    const viaGql = await gqlAs(server, 'query($s: String!, $m: String!) { messageMedia(sessionId: $s, messageId: $m) { dataUrl } }', { s: 'A', m: aCopy.id }, withKey(readB));
    assert.ok(viaGql.errors?.length, 'GraphQL refuses it too');
    const nested = await gqlAs(server, HISTORY, { s: 'A', c: b }, withKey(readB));
    assert.ok(nested.errors?.length || !nested.data?.session, "A's history (and its dataUrls) is not the key's");

    assertError(await rest(server, 'GET', `/sessions/B/messages/${encodeURIComponent('false_1@c.us_NOPE')}/media`, undefined, withKey(readB)), 'MESSAGE_NOT_FOUND');
    // From outside the app: retried while the server's own write transaction holds the SQLite file.
    await waitFor(() => server.sql('DELETE FROM sandbox_media').then(() => true, () => false), 10_000, 'the media pruned');
    assertError(await rest(server, 'GET', `/sessions/B/messages/${encodeURIComponent(bCopy.id)}/media`, undefined, withKey(readB)), 'MEDIA_GONE');
  });
});
