import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SendQueue } from '../src/messaging/send-queue.js';
import { readySession, startServer, type TestServer } from './helpers/app.js';
import { ADMIN_KEY, createKey, gqlAs, gqlOkAs, withKey } from './helpers/auth.js';

const BOT = '15550000001@c.us';
const SEND = 'mutation($id: String!, $text: String!) { sendText(input: { sessionId: $id, chatId: "15550000001@c.us", content: $text }) { message { id body fromMe } } }';

describe('messaging limits and the send queue', () => {
  let server: TestServer;
  let sender: string;
  before(async () => {
    server = await startServer({
      auth: { apiKeys: [ADMIN_KEY] },
      rateLimit: { messaging: 60 },
      sendQueue: { minGapMs: 15, jitterMs: 10, maxQueued: 80 },
    });
    const asAdmin = { ...server, gqlOk: (q: string, v?: Record<string, unknown>) => gqlOkAs(server, ADMIN_KEY, q, v) } as TestServer;
    await readySession(asAdmin, 'q1');
    await readySession(asAdmin, 'q2');
    sender = (await createKey(server, { sessionIds: ['q1', 'q2'], actions: ['READ', 'SEND'] })).key;
  });
  after(() => server.dispose());

  it('spreads a burst of 50 sends: every one is sent, once, over at least 49 gaps', async () => {
    const sentAt: { at: number; body: string }[] = [];
    const off = server.app.services.bus.listen('q1', (e) => {
      if (e.type === 'MESSAGE' && e.message.fromMe && e.message.chatId === BOT) sentAt.push({ at: e.at, body: e.message.body ?? '' });
    });
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => gqlAs(server, SEND, { id: 'q1', text: `burst ${i}` }, withKey(sender))));
    const took = Date.now() - started;
    off();
    for (const [i, r] of results.entries()) {
      assert.equal(r.errors, undefined, `send ${i}: ${JSON.stringify(r.errors)}`);
      assert.equal(r.data.sendText.message.body, `burst ${i}`);
    }
    assert.equal(sentAt.length, 50);
    // Requests may reach the server in any order; each is sent exactly once.
    assert.deepEqual(sentAt.map((s) => s.body).sort(), Array.from({ length: 50 }, (_, i) => `burst ${i}`).sort());
    // The 50th send cannot start before 49 gaps of at least minGapMs have passed (a lower bound, not a speed test).
    assert.ok(took >= 49 * 15, `the burst was spread over ${took} ms`);
    // The remaining budget shows in the headers: 60 per window per session for this key, 50 used.
    const next = await gqlAs(server, SEND, { id: 'q1', text: 'after' }, withKey(sender));
    assert.equal(next.headers.get('x-ratelimit-limit'), '60');
    assert.equal(next.headers.get('x-ratelimit-remaining'), '9');
  });

  it('messaging is limited per session: the 61st send to q1 is refused (429), q2 still sends', async () => {
    let last;
    for (let i = 0; i < 9; i++) last = await gqlAs(server, SEND, { id: 'q1', text: `fill ${i}` }, withKey(sender));
    assert.equal(last!.status, 200);
    const over = await gqlAs(server, SEND, { id: 'q1', text: 'too many' }, withKey(sender));
    assert.equal(over.status, 429);
    assert.equal(over.errors?.[0]?.extensions?.code, 'RATE_LIMITED');
    assert.equal(over.errors?.[0]?.extensions?.details?.bucket, 'messaging');
    assert.ok(Number(over.headers.get('retry-after')) >= 1);
    const other = await gqlAs(server, SEND, { id: 'q2', text: 'other session' }, withKey(sender));
    assert.equal(other.status, 200);
    assert.equal(other.headers.get('x-ratelimit-remaining'), '59');
  });

  it('a full send queue answers RATE_LIMITED instead of growing', async () => {
    const queue = new SendQueue({ minGapMs: 30, jitterMs: 0, maxQueued: 3 });
    const order: number[] = [];
    const outcomes = Array.from({ length: 6 }, (_, i) => {
      try {
        return queue.run('s', async () => order.push(i)).then(() => 'sent');
      } catch (error) {
        return Promise.resolve((error as { code?: string }).code);
      }
    });
    assert.deepEqual(await Promise.all(outcomes), ['sent', 'sent', 'sent', 'RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
    assert.deepEqual(order, [0, 1, 2]);
    assert.equal(queue.queued('s'), 0);
    assert.equal(await queue.run('s', async () => 'again'), 'again', 'room again once the queue drained');
  });
});
