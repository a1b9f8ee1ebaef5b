import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CREATE, readySession, SCAN, startServer, waitFor } from './helpers/app.js';
import { ACK_SUB, history, live, MESSAGE_SUB, SEND_TEXT } from './helpers/messaging.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('deliveries that wait for their receiver', () => {
  it('a burst to a session that is not READY, and more sent as it becomes READY, arrive once each and in order; a quote within the burst holds', async () => {
    const server = await startServer();
    try {
      const a = await readySession(server, 'A');
      await server.gqlOk(CREATE, { input: { sessionId: 'B', waitForQR: true } });
      // Sandbox numbers are handed out in order, so B's account (made at its start) has A's number + 1.
      const b = `${Number(a.split('@')[0]) + 1}@c.us`;
      const ws = server.wsClient();
      const incoming = await live(server, ws, MESSAGE_SUB, { s: 'B' });
      const acks = await live(server, ws, ACK_SUB, { s: 'A' });
      const send = async (content: string, quotedMessageId?: string) =>
        (await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content, ...(quotedMessageId ? { quotedMessageId } : {}) } })).sendText.message;

      const first = await send('waiting 0');
      await Promise.all(Array.from({ length: 19 }, (_, i) => send(`waiting ${i + 1}`)));
      const quoting = await send('quoting the first', first.id);
      await sleep(100);
      assert.equal(incoming.values.length, 0, 'nothing delivered while B waits for its QR scan');

      // More sends while B becomes READY: their drains overlap the one READY starts.
      const scan = server.gqlOk(SCAN, { id: 'B' });
      const late = Promise.all(Array.from({ length: 20 }, (_, i) => sleep(i * 5).then(() => send(`late ${i}`))));
      await scan;
      await late;
      const total = 41;
      await incoming.next(total);
      await sleep(300);
      assert.equal(incoming.values.length, total, 'each message arrives once');

      const sent = await history(server, 'A', b);
      const got = await history(server, 'B', a);
      assert.equal(got.length, total);
      const keyOf = (id: string) => id.split('_').at(-1);
      assert.deepEqual(got.map((m) => keyOf(m.id)), sent.map((m) => keyOf(m.id)), "B's history is in the order A sent");
      assert.equal(new Set(incoming.values.map((v) => v.message.id)).size, total);
      const quoted = got.find((m) => m.body === 'quoting the first');
      assert.equal(quoted.quotedMessageId, `false_${a}_${keyOf(first.id)}`, "the quote names B's copy of the first message");
      assert.equal(keyOf(quoting.id), keyOf(quoted.id));

      // Every message of A reaches DEVICE once: SERVER and DEVICE per message, nothing twice.
      await waitFor(() => acks.values.filter((v) => v.ack.ack === 'DEVICE').length >= total, 10_000, 'every DEVICE ack');
      await sleep(100);
      const devices = acks.values.filter((v) => v.ack.ack === 'DEVICE').map((v) => v.ack.messageId);
      assert.equal(devices.length, total);
      assert.equal(new Set(devices).size, total);
      const chats = await server.gqlOk('{ session(sessionId: "B") { chats { edges { node { id unreadCount lastMessage { body } } } } } }');
      assert.deepEqual(chats.session.chats.edges.map((e: any) => e.node), [{ id: a, unreadCount: total, lastMessage: { body: sent.at(-1).body } }]);
    } finally {
      await server.dispose();
    }
  });
});
