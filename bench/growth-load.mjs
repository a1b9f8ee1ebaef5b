// The growth bench's bulk loader and ack probe, run while no server holds the database.
// Usage: node bench/growth-load.mjs '{"file","messages","a","b","phoneA","phoneB","webhookId","probe"?}'
// With "probe": true it loads nothing and only times the ack updates (the bench runs it in turns on each size,
// beside the running servers: SQLite lets a second process write between their commits).
// Writes `messages` messages through the sandbox store (half in one chat of session b with a, a quarter in a's
// chat with b, a quarter over 20 other sessions × 50 chats) and as many completed deliveries through the
// webhook store, in large transactions; then times ack updates (the receipt and the sender's ack, the
// statements a sandbox receipt runs) on fresh messages. Prints one JSON line.
import { openStore } from '../dist/src/store/database.js';
import { SqliteSandboxStore } from '../dist/src/engine/sandbox/store.js';
import { WebhookStore } from '../dist/src/webhooks/webhook-store.js';

const o = JSON.parse(process.argv[2]);
const store = await openStore(o.file, { checkpointIntervalMs: 60_000 });
const { sqlite, batch } = store;
const sandbox = new SqliteSandboxStore(sqlite, batch);
const webhooks = new WebhookStore(sqlite, batch);
const jid = (phone) => `${phone}@c.us`;
let counter = 0;
const key = () => (counter++).toString(16).toUpperCase().padStart(20, '0');
const TX = 20_000;

/** Runs `fn(i)` for i < n in transactions of TX. */
function inTransactions(n, fn) {
  for (let i = 0; i < n; ) {
    sqlite.exec('BEGIN');
    const end = Math.min(n, i + TX);
    for (; i < end; i++) fn(i);
    sqlite.exec('COMMIT');
  }
}

const t0 = performance.now();
const n = o.probe ? 0 : o.messages;
const now = Math.floor(Date.now() / 1000);
// Oldest first, spread over the last 30 days.
const tsOf = (i) => now - 30 * 86400 + Math.floor((i / Math.max(1, n)) * 30 * 86400);
const message = (i, chatId, from, to, fromMe, id) => ({
  id, chatId, from, to, fromMe, body: `growth ${i}`, timestamp: tsOf(i), author: null, type: 'CHAT',
  ack: fromMe ? 'READ' : null, caption: null, media: null, quotedMessageId: null,
});
// The deep cursor: the message of b's chat with a that has 80% of the chat after it (400k of 500k at 1M).
const deepAt = Math.floor(n / 2 / 5);
let inChat = 0;
let deepId = null;
inTransactions(n, (i) => {
  const k = key();
  if (i % 4 < 2) {
    // b's chat with a: half incoming (read), half b's answers.
    const incoming = i % 4 === 0;
    if (inChat++ === deepAt) deepId = `L${k}`;
    sandbox.insertMessage(o.b, message(i, jid(o.phoneA), incoming ? jid(o.phoneA) : jid(o.phoneB), incoming ? jid(o.phoneB) : jid(o.phoneA), !incoming, `L${k}`), k, { name: null, isGroup: false }, true);
  } else if (i % 4 === 2) {
    sandbox.insertMessage(o.a, message(i, jid(o.phoneB), jid(o.phoneA), jid(o.phoneB), true, `L${k}`), k, { name: null, isGroup: false }, true);
    sandbox.addReceipts(k, o.phoneA, [o.phoneB]);
    sandbox.raiseReceipt(k, o.phoneB, 'READ');
  } else {
    const s = `growth-other-${i % 20}`;
    const peer = `1555900${String(i % 1000).padStart(4, '0')}`;
    sandbox.insertMessage(s, message(i, jid(peer), jid(peer), jid('15559999999'), false, `L${k}`), k, { name: null, isGroup: false }, true);
  }
});
const messagesMs = performance.now() - t0;
const loadCpu = process.cpuUsage();

const t1 = performance.now();
const body = JSON.stringify({ type: 'message', data: { body: 'growth' } });
if (o.webhookId) {
  inTransactions(n, (i) => {
    const id = `gd_${i}`;
    const at = Date.now() - 86_400_000;
    webhooks.insertDelivery({ id, webhookId: o.webhookId, sessionId: o.a, event: 'message', body, at });
    webhooks.recordAttempt(id, { status: 'SUCCEEDED', nextAttemptAt: null, at, statusCode: 200, error: null });
  });
}
const deliveriesMs = performance.now() - t1;
// The server starts on a checkpointed file, as after any quiet moment, not with the load's whole WAL to copy.
sqlite.pragma('wal_checkpoint(TRUNCATE)');

// Ack updates: 5,000 fresh messages from a to b with their receipts (not timed), then each raised to DEVICE
// and READ, as the sandbox does on a receipt: the recipient's receipt, then the sender's message ack; a commit
// per 100 updates (the server's turns hold about that many under load).
const PROBE = 5000;
const keys = [];
const base = Date.now() * 10;
inTransactions(PROBE, (i) => {
  const k = `${(base + i).toString(16).toUpperCase().padStart(20, '0')}`;
  keys.push(k);
  sandbox.insertMessage(o.a, { ...message(i, jid(o.phoneB), jid(o.phoneA), jid(o.phoneB), true, `P${k}`), timestamp: now }, k, { name: null, isGroup: false }, true);
  sandbox.addReceipts(k, o.phoneA, [o.phoneB]);
});
sqlite.prepare(`UPDATE sandbox_messages SET ack = 'SERVER' WHERE session_id = ? AND message_id >= 'P' AND message_id < 'Q'`).run(o.a);
const t2 = performance.now();
const cpu0 = process.cpuUsage();
let updates = 0;
for (const state of ['DEVICE', 'READ']) {
  for (let i = 0; i < keys.length; i += 100) {
    sqlite.exec('BEGIN');
    for (const k of keys.slice(i, i + 100)) {
      const r = sandbox.raiseReceipt(k, o.phoneB, state);
      if (r && sandbox.raiseAck(o.a, k, r.ack)) updates++;
    }
    sqlite.exec('COMMIT');
  }
}
const ackSeconds = (performance.now() - t2) / 1000;
const cpu = process.cpuUsage(cpu0);
const ackCpuMs = (cpu.user + cpu.system) / 1000;
await store.close();
process.stdout.write(`${JSON.stringify({ deepId, loadCpuS: (loadCpu.user + loadCpu.system) / 1e6, messagesMs, deliveriesMs, ackUpdates: updates, ackPerSecond: updates / ackSeconds, ackCpuMs })}\n`);
