import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SqliteSandboxStore } from '../src/engine/sandbox/store.js';
import { openStore } from '../src/store/database.js';
import { batchTimedPerThread, gridDelay, HistoryPruner } from '../src/store/retention.js';
import { WebhookStore } from '../src/webhooks/webhook-store.js';
import { tempDir, waitFor, type TestServer } from './helpers/app.js';
import { history, SEND_TEXT, twoSessions } from './helpers/messaging.js';
import { sqliteOnly } from './helpers/pg.js';

const CHATS = 'query($s: String!) { session(sessionId: $s) { chats(first: 20) { edges { node { id unreadCount lastMessage { id body } } } } } }';
const chatsOf = async (server: TestServer, s: string) =>
  (await server.gqlOk(CHATS, { s })).session.chats.edges.map((e: any) => e.node) as { id: string; unreadCount: number; lastMessage: { id: string; body: string } | null }[];

describe('history retention', () => {
  let server: TestServer | null = null;
  after(async () => server?.dispose());

  it('removes messages and receipts past the window; chat lists, unread counts and last messages stay right', async () => {
    // A 3-second window, pruned every 100 ms (whole days in production; fractions are allowed).
    const fixture = await twoSessions({ history: { retentionDays: 3 / 86_400, pruneIntervalMs: 100 } });
    server = fixture.server;
    const { a, b } = fixture;
    const s = server;
    const send = async (content: string) => (await s.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content } })).sendText.message;
    for (const text of ['old 1', 'old 2', 'old 3']) await send(text);
    await waitFor(async () => (await history(s, 'B', a)).length === 3, 5000, 'delivered');
    assert.equal((await chatsOf(s, 'B')).find((c) => c.id === a)?.unreadCount, 3);

    // 2 s later, one more: inside the window when the first three leave it.
    await new Promise((r) => setTimeout(r, 2000));
    const fresh = await send('new');
    await waitFor(async () => (await history(s, 'B', a)).length === 1, 10_000, 'the old messages pruned');
    assert.deepEqual((await history(s, 'A', b)).map((m) => m.body), ['new']);
    const chatB = (await chatsOf(s, 'B')).find((c) => c.id === a)!;
    assert.equal(chatB.unreadCount, 1, 'the pruned unread messages no longer count');
    assert.equal(chatB.lastMessage?.body, 'new');
    assert.equal((await chatsOf(s, 'A')).find((c) => c.id === b)?.lastMessage?.id, fresh.id);
    const [receipts] = await s.sql<{ n: number }>('SELECT COUNT(*) AS n FROM sandbox_receipts');
    assert.equal(Number(receipts!.n), 1, 'only the new message keeps its receipt');

    // Then the last one goes too: the chats stay, with nothing unread and no last message.
    await waitFor(async () => (await history(s, 'B', a)).length === 0, 10_000, 'the new message pruned');
    const emptied = (await chatsOf(s, 'B')).find((c) => c.id === a)!;
    assert.equal(emptied.unreadCount, 0);
    assert.equal(emptied.lastMessage, null);
    assert.equal((await chatsOf(s, 'A')).find((c) => c.id === b)?.lastMessage, null);
  });

  it('media bytes past --media-retention-days go with the history batches: the message stays, its download is MEDIA_GONE', async () => {
    // No history retention, a 2-second media window pruned every 100 ms.
    const fixture = await twoSessions({ history: { retentionDays: 0, mediaRetentionDays: 2 / 86_400, pruneIntervalMs: 100 } });
    const s = fixture.server;
    try {
      const png = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
      const sent = (await s.gqlOk('mutation($input: SendMediaInput!) { sendImage(input: $input) { message { id } } }', { input: { sessionId: 'A', chatId: fixture.b, data: png } })).sendImage.message;
      const url = `${s.url}/api/v1/sessions/A/messages/${encodeURIComponent(sent.id)}/media`;
      assert.equal((await fetch(url)).status, 200);
      await waitFor(async () => Number((await s.sql<{ n: number }>('SELECT COUNT(*) AS n FROM sandbox_media'))[0]!.n) === 0, 10_000, 'the media pruned');
      const gone = await fetch(url);
      assert.equal(gone.status, 404);
      assert.equal(((await gone.json()) as any).error.code, 'MEDIA_GONE');
      assert.deepEqual((await history(s, 'A', fixture.b)).map((m) => m.id), [sent.id], 'the message itself stays');
    } finally {
      await s.dispose();
    }
  });

  it('pruning passes fall a fixed lag after each multiple of the interval, whenever the last one ran', () => {
    // The window is cut at whole seconds: passes at a steady phase keep the rows it holds from wandering by a second.
    const at = (now: number) => now + gridDelay(now, 1000);
    for (const now of [5_000, 5_001, 5_024, 5_025, 5_026, 5_700, 5_999]) {
      const next = at(now);
      assert.ok(next > now && next % 1000 === 25 && next - now <= 1000, `from ${now}: ${next}`);
    }
    assert.equal(at(5_025), 6_025, 'a pass that ran on time waits a whole interval');
    // A short interval keeps its period: the lag is a quarter of it at most.
    assert.equal(gridDelay(1_000, 100), 25);
    assert.equal(gridDelay(1_025, 100), 100);
    assert.equal(gridDelay(1_000, 40), 10);
    assert.equal(gridDelay(1_010, 40), 40);
  });

  it('prunes a large backlog in small batches (none over 20 ms of the event loop\'s CPU; 50 of the process\'s on Node 20)', sqliteOnly('the pruner on a SQLite file of its own'), async () => {
    const store = await openStore(join(tempDir(), 'retention.sqlite'));
    try {
      const sandbox = new SqliteSandboxStore(store.sqlite, store.batch);
      const old = Math.floor(Date.now() / 1000) - 10 * 86_400;
      const N = 30_000;
      store.sqlite.exec('BEGIN');
      for (let i = 0; i < N; i++) {
        const key = i.toString(16).padStart(20, '0');
        sandbox.insertMessage('s', {
          id: `m${i}`, chatId: `${i % 50}@c.us`, from: `${i % 50}@c.us`, to: 'me@c.us', fromMe: i % 2 === 0, body: 'x', timestamp: old + i,
          author: null, type: 'CHAT', ack: null, caption: null, media: null, quotedMessageId: null,
        }, key, { name: null, isGroup: false }, i % 4 !== 1, null);
        if (i % 2 === 0) sandbox.addReceipts(key, 'me', ['peer']);
      }
      store.sqlite.exec('COMMIT');
      const pruner = new HistoryPruner(store.sqlite, store.batch, { retentionDays: 1, pruneIntervalMs: 60_000 });
      // Event-loop ticks while it prunes: the longest gap is the longest stall.
      let last = performance.now();
      let longest = 0;
      const ticker = setInterval(() => {
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
      }, 1);
      await pruner.run();
      clearInterval(ticker);
      assert.equal(pruner.stats.messages, N);
      assert.equal(pruner.stats.receipts, N / 2);
      assert.equal((store.sqlite.prepare('SELECT COUNT(*) AS n FROM sandbox_messages').get() as { n: number }).n, 0);
      const unread = store.sqlite.prepare('SELECT SUM(unread_count) AS n FROM sandbox_chats').get() as { n: number };
      assert.equal(unread.n, 0, 'unread counts follow the pruned messages');
      console.log(`pruned ${N} messages in ${pruner.stats.batches} batches; longest batch ${pruner.stats.maxBatchMs.toFixed(1)} ms of ${batchTimedPerThread ? "the event loop's" : "the process's"} CPU, longest event-loop gap ${longest.toFixed(1)} ms of wall time`);
      // The batches aim at 5 ms of CPU. The wall-clock gap is printed, not asserted: on a shared, loaded
      // machine the OS preempts a 1 ms batch for tens of ms, which no batch size avoids.
      // Node 23.9 and later time a batch in the event loop's own CPU (4.8-7.2 ms at most under a load average of 15-24).
      // Node 20 can only give the whole process's, which counts its other threads (V8's GC helpers) too: 10.7-43.3 ms
      // at most in the same conditions (on Node 24 the same batch read 12.0 ms for the process, 5.3 for the loop), so 50 there.
      const bound = batchTimedPerThread ? 20 : 50;
      assert.ok(pruner.stats.maxBatchMs < bound, `a batch took ${pruner.stats.maxBatchMs.toFixed(1)} ms of CPU (bound ${bound})`);
      assert.ok(pruner.stats.batches > 10, 'pruned in many small batches');
    } finally {
      await store.close();
    }
  });

  it("a delivery's row does not grow when it is delivered, so completing it never splits a full page", sqliteOnly('SQLite pages'), async () => {
    const store = await openStore(join(tempDir(), 'room.sqlite'));
    try {
      const webhooks = new WebhookStore(store.sqlite, store.batch);
      const at = Date.now();
      webhooks.insertWebhook({ id: 'wh_1', sessionId: 's', url: 'http://127.0.0.1:1/hook', events: [], headers: {}, secret: 'whsec_x', includeMedia: false }, at);
      const body = JSON.stringify({ id: 'msg_1', event: 'message', sessionId: 's', timestamp: new Date(at).toISOString(), data: { body: 'hello' } });
      webhooks.insertDelivery({ id: 'msg_1', webhookId: 'wh_1', sessionId: 's', event: 'message', body, at });
      // The table's one row on its one leaf page: the page's payload is the row's size.
      const rowBytes = () => (store.sqlite.prepare("SELECT payload FROM dbstat WHERE name = 'webhook_deliveries' AND pagetype = 'leaf'").get() as { payload: number }).payload;
      const waiting = rowBytes();
      webhooks.recordAttempt('msg_1', { at: at + 1234, statusCode: 200, error: null, status: 'SUCCEEDED', nextAttemptAt: null });
      const delivered = webhooks.delivery('msg_1');
      assert.equal(delivered?.status, 'SUCCEEDED');
      assert.equal(delivered?.lastStatusCode, 200);
      const deliveredBytes = rowBytes();
      assert.ok(deliveredBytes <= waiting, `${deliveredBytes} bytes delivered, ${waiting} waiting`);
      assert.ok(waiting - deliveredBytes <= 2, 'the room is no larger than it needs to be');
    } finally {
      await store.close();
    }
  });
});
