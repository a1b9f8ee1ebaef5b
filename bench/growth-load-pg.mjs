// The growth bench's bulk loader and ack probe on PostgreSQL: the counterpart of growth-load.mjs, run while
// no server uses the database.
// Usage: node bench/growth-load-pg.mjs '{"url","messages","a","b","phoneA","phoneB","webhookId","probe"?}'
// The same rows as the SQLite loader (half of the messages in one chat of session b with a, a quarter in a's
// chat with b with their receipts, a quarter over 20 other sessions × 50 chats; as many completed deliveries),
// written by INSERT ... SELECT over generate_series in statements of 250,000 rows: through the store, a
// message is a statement of a turn's round, and 1M of them would take minutes. The chats' rows are derived
// from the messages as the store's upsert keeps them. Then VACUUM ANALYZE, as autovacuum would have done to
// a month of history. The ack probe raises receipts through the store itself (PgSandboxStore.receipt: the
// statement a sandbox receipt runs), 100 per transaction, and counts the CPU of this process and of the
// database's backends. Prints one JSON line.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { openPgStore } from '../dist/src/store/pg/pg-database.js';
import { PgSandboxStore } from '../dist/src/engine/sandbox/pg-store.js';

const o = JSON.parse(process.argv[2]);
const jid = (phone) => `${phone}@c.us`;
const CHUNK = 250_000;
const n = o.probe ? 0 : o.messages;
const now = Math.floor(Date.now() / 1000);
const client = new pg.Client({ connectionString: o.url });
await client.connect();
const database = (await client.query('SELECT current_database() AS d')).rows[0].d;

/** CPU (ms) of this database's backends now, by pid (PostgreSQL runs on this machine). */
async function backendsCpu() {
  const { rows } = await client.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database]);
  const out = new Map();
  for (const { pid } of rows) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      // gone
    }
  }
  return out;
}
const cpuDelta = (before, after) => [...after].reduce((ms, [pid, v]) => ms + v - (before.get(pid) ?? 0), 0);

const t0 = performance.now();
const cpuDb0 = await backendsCpu();
// The message key of row i: as the SQLite loader's counter (hex, 20 digits); ids are `L` + key.
const KEY = `upper(lpad(to_hex(i), 20, '0'))`;
// Oldest first, spread over the last 30 days (as the SQLite loader's).
const TS = `${now - 30 * 86400} + floor(i::float8 / ${Math.max(1, n)} * ${30 * 86400})::bigint`;
const [A, B, PA, PB] = [o.a, o.b, jid(o.phoneA), jid(o.phoneB)].map((v) => pg.escapeLiteral(v));

async function loadMessages() {
  for (let from = 0; from < n; from += CHUNK) {
    const to = Math.min(n, from + CHUNK) - 1;
    await client.query(`INSERT INTO sandbox_messages (session_id, message_id, msg_key, chat_id, from_jid, to_jid, from_me, body, timestamp, type, ack, read)
      SELECT CASE WHEN i % 4 < 2 THEN ${B} WHEN i % 4 = 2 THEN ${A} ELSE 'growth-other-' || (i % 20) END,
        'L' || ${KEY}, ${KEY},
        CASE WHEN i % 4 < 2 THEN ${PA} WHEN i % 4 = 2 THEN ${PB} ELSE '1555900' || lpad((i % 1000)::text, 4, '0') || '@c.us' END,
        CASE WHEN i % 4 = 0 THEN ${PA} WHEN i % 4 = 1 THEN ${PB} WHEN i % 4 = 2 THEN ${PA} ELSE '1555900' || lpad((i % 1000)::text, 4, '0') || '@c.us' END,
        CASE WHEN i % 4 = 0 THEN ${PB} WHEN i % 4 = 1 THEN ${PA} WHEN i % 4 = 2 THEN ${PB} ELSE '15559999999@c.us' END,
        CASE WHEN i % 4 IN (1, 2) THEN 1 ELSE 0 END, 'growth ' || i, ${TS}, 'CHAT',
        CASE WHEN i % 4 IN (1, 2) THEN 'READ' END, 1
      FROM generate_series(${from}, ${to}) i ORDER BY i`);
    // a's messages to b: b's receipt, READ.
    await client.query(`INSERT INTO sandbox_receipts (msg_key, recipient_phone, sender_phone, state)
      SELECT ${KEY}, $1, $2, 3 FROM generate_series(${from}, ${to}) i WHERE i % 4 = 2`, [o.phoneB, o.phoneA]);
  }
  if (n > 0) {
    await client.query(`INSERT INTO sandbox_chats (session_id, chat_id, name, is_group, unread_count, last_seq, last_ts)
      SELECT session_id, chat_id, NULL, 0, 0, max(seq), max(timestamp) FROM sandbox_messages GROUP BY session_id, chat_id
      ON CONFLICT (session_id, chat_id) DO UPDATE SET last_seq = excluded.last_seq, last_ts = excluded.last_ts`);
  }
  return performance.now() - t0;
}

/** The completed deliveries, on a second connection at the same time as the messages. */
async function loadDeliveries() {
  if (!o.webhookId || n === 0) return 0;
  const second = new pg.Client({ connectionString: o.url });
  await second.connect();
  try {
    const at = Date.now() - 86_400_000;
    const body = pg.escapeLiteral(JSON.stringify({ type: 'message', data: { body: 'growth' } }));
    for (let from = 0; from < n; from += CHUNK) {
      await second.query(`INSERT INTO webhook_deliveries (id, webhook_id, session_id, event, body, status, attempts, schedule_step, next_attempt_at,
          last_attempt_at, last_status_code, created_at, completed_at)
        SELECT 'gd_' || i, $1, $2, 'message', ${body}, 'SUCCEEDED', 1, 0, NULL, ${at}, 200, ${at}, ${at}
        FROM generate_series(${from}, ${Math.min(n, from + CHUNK) - 1}) i`, [o.webhookId, o.a]);
    }
  } finally {
    await second.end();
  }
  return performance.now() - t0;
}
const [messagesMs, deliveriesMs] = await Promise.all([loadMessages(), loadDeliveries()]);
if (n > 0) await client.query('VACUUM ANALYZE');
const loadCpuDbS = cpuDelta(cpuDb0, await backendsCpu()) / 1000;

// The deep cursor: the message of b's chat with a that has 80% of the chat after it (as the SQLite loader's).
const deepAt = Math.floor(n / 2 / 5);
const deepI = Math.floor(deepAt / 2) * 4 + (deepAt % 2);
const deepId = n > 0 ? `L${deepI.toString(16).toUpperCase().padStart(20, '0')}` : null;

// Ack updates: 5,000 fresh messages from a to b with their receipts at SERVER (not timed), then each raised to
// DEVICE and READ through the store, 100 per transaction.
const PROBE = 5000;
const base = Date.now() * 10;
const keys = Array.from({ length: PROBE }, (_, i) => `${(base + i).toString(16).toUpperCase().padStart(20, '0')}`);
await client.query(`INSERT INTO sandbox_messages (session_id, message_id, msg_key, chat_id, from_jid, to_jid, from_me, body, timestamp, type, ack, read)
  SELECT ${A}, 'P' || k, k, ${PB}, ${PA}, ${PB}, 1, 'probe', ${now}, 'CHAT', 'SERVER', 1 FROM unnest($1::text[]) k`, [keys]);
await client.query(`INSERT INTO sandbox_receipts (msg_key, recipient_phone, sender_phone, state) SELECT k, $2, $3, 1 FROM unnest($1::text[]) k`, [keys, o.phoneB, o.phoneA]);
const store = await openPgStore(o.url, { poolSize: 2 });
const sandbox = new PgSandboxStore(store.pool, store.batch);
await store.batch.run('SELECT 1'); // the writer connection is open before the clock starts
await store.batch.committed();
const t2 = performance.now();
const cpu0 = process.cpuUsage();
const db0 = await backendsCpu();
let updates = 0;
for (const state of ['DEVICE', 'READ']) {
  for (let i = 0; i < keys.length; i += 100) {
    const raised = await Promise.all(keys.slice(i, i + 100).map((k) => sandbox.receipt(k, o.phoneB, state)));
    await store.batch.committed();
    updates += raised.filter(Boolean).length;
  }
}
const ackSeconds = (performance.now() - t2) / 1000;
const dbMs = cpuDelta(db0, await backendsCpu());
const cpu = process.cpuUsage(cpu0);
const ackCpuMs = (cpu.user + cpu.system) / 1000 + dbMs;
await store.close();
await client.end();
process.stdout.write(`${JSON.stringify({ deepId, loadCpuS: loadCpuDbS, messagesMs, deliveriesMs, ackUpdates: updates, ackPerSecond: updates / ackSeconds, ackCpuMs, ackDbCpuMs: dbMs })}\n`);
