import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { PgWriteBatch } from '../src/store/pg/pg-batch.js';
import { waitFor, type TestServer } from './helpers/app.js';
import { sqliteOnly, testStore } from './helpers/pg.js';
import { MARK_READ, MESSAGES, SEND_TEXT, INJECT, history, twoSessions } from './helpers/messaging.js';
import { DELIVERIES, REGISTER, startReceiver, type Receiver } from './helpers/webhooks.js';

// Every statement the send, read, ack, chat-list, history, outbox and retention paths run, as the server
// prepared them, is explained; a full scan of a table that grows with history fails the test.
// The statements are caught where the driver prepares them (better-sqlite3's prepare), so a new statement on
// these paths is checked without being listed here.

const GROWING = ['sandbox_messages', 'sandbox_receipts', 'webhook_deliveries'];

/** One backend's EXPLAIN: the plan lines of a statement, and which of them read a growing table unboundedly. */
interface PlanBackend {
  name: string;
  explain(sql: string): string[];
  /** Plan lines that scan a growing table whole. */
  fullScans(sql: string, plan: string[]): string[];
  /**
   * Plan lines that walk every row a session, chat or webhook ever had (an index on the owner's columns
   * alone, without a LIMIT): what marking a chat read did through (session_id, chat_id, seq). A partial
   * index (its rows only the live ones, such as the unread) is bounded by what it holds. Likewise an index
   * searched by `status` alone walks every delivery in that state (a backlog of pending ones, say).
   */
  ownerWalks(sql: string, plan: string[]): string[];
  close(): void;
}

const OWNER_COLUMNS = new Set(['session_id', 'chat_id', 'webhook_id']);
// Statements that walk an owner's rows by design, with the reason.
const OWNER_WALKS_ALLOWED: { match: string; why: string }[] = [
  { match: 'DELETE FROM webhooks', why: 'removing a webhook removes its deliveries (the foreign key\'s cascade): the work is what it removes' },
  { match: 'SELECT status, COUNT(*) AS n FROM webhook_deliveries', why: 'the dashboard\'s delivery counts of one webhook (not a hot path; completed deliveries are pruned after 30 days or the retention window)' },
];

// Partial indexes whose rows leave them as they stop being live: bounded by the work under way, not by history.
const LIVE_ONLY: { index: string; why: string }[] = [
  { index: 'webhook_deliveries_claimed', why: 'the claims under way (per webhook, at most the concurrency across servers, or what one server alone claims ahead of its attempts); completion clears them' },
  { index: 'webhook_deliveries_pending', why: 'the deliveries not yet sent or waiting for a retry (the outbox\'s work); an outcome other than a retry takes the row out' },
  { index: 'sandbox_messages_unread', why: 'the incoming messages not yet read; marking a chat read takes its rows out' },
];

const KEYWORDS = new Set(['where', 'set', 'on', 'left', 'join', 'inner', 'order', 'group', 'values', 'limit', 'using', 'as', 'indexed', 'not']);

/** SQLite: `EXPLAIN QUERY PLAN`; a `SCAN <table or its alias>` row is a full scan (with or without an index to walk). */
function sqliteBackend(file: string): PlanBackend {
  const db = new SQLite(file);
  return {
    name: 'sqlite',
    explain(sql) {
      // Every parameter bound to NULL: the plan does not depend on the values.
      const named = [...new Set([...sql.matchAll(/@(\w+)/g)].map((m) => m[1]!))];
      const positional = [...sql.replace(/'[^']*'/g, '').matchAll(/\?/g)].length;
      const statement = db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
      const params: unknown[] = Array.from({ length: positional }, () => null);
      if (named.length) params.push(Object.fromEntries(named.map((n) => [n, null])));
      return (statement.all(...params) as { detail: string }[]).map((r) => r.detail);
    },
    fullScans(sql, plan) {
      const names = new Set(GROWING);
      for (const m of sql.matchAll(new RegExp(`\\b(${GROWING.join('|')})\\s+(?:AS\\s+)?(\\w+)`, 'gi'))) {
        if (!KEYWORDS.has(m[2]!.toLowerCase())) names.add(m[2]!);
      }
      return plan.filter((line) => {
        const m = /^SCAN (\w+)/.exec(line);
        return m !== null && names.has(m[1]!);
      });
    },
    ownerWalks(sql, plan) {
      if (/\bLIMIT\b/i.test(sql)) return [];
      const partial = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %'").all() as { name: string }[]).map((r) => r.name));
      return plan.filter((line) => {
        const m = /^SEARCH (\w+) USING (?:COVERING )?INDEX (\w+) \(([^)]*)\)/.exec(line);
        if (!m || !(GROWING.includes(m[1]!) || this.fullScans(sql, [`SCAN ${m[1]}`]).length) || partial.has(m[2]!)) return false;
        const columns = m[3]!.split(' AND ').map((c) => /^(\w+)=\?$/.exec(c)?.[1] ?? '');
        return columns.every((c) => OWNER_COLUMNS.has(c)) || columns.every((c) => c === 'status');
      });
    },
    close: () => db.close(),
  };
}

interface PgPlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Recheck Cond'?: string;
  Plans?: PgPlanNode[];
}

/**
 * PostgreSQL: `EXPLAIN (FORMAT JSON)` of each statement with the parameters it ran with, on tables loaded with
 * 50,000 rows each (PostgreSQL reads a table of a few rows whole by choice, so the test's own rows would show
 * nothing), twice: before ANALYZE and after. Before is a young table under load, with rows but no
 * statistics yet (autovacuum analyzes a minute or so later): the planner works from default estimates, which
 * is where a receipt's lookup once probed sandbox_messages_key by session alone and filtered the session's
 * whole history (the owner-walk rule catches that). After is the steady state. (`enable_seqscan = off` on the
 * test's few rows was tried first: it turns the small tables' hash joins into whole-index walks, false alarms.)
 */
async function pgBackend(url: string): Promise<
  PlanBackend & {
    explainAsync(sql: string, params: readonly unknown[]): Promise<string[]>;
    explainNested(setup: string[], call: string, params: readonly unknown[]): Promise<{ sql: string; plan: string[] }[]>;
    analyze(): Promise<void>;
  }
> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const partial = new Set(
    (await client.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexdef LIKE '% WHERE %'")).rows.map((r) => r.indexname),
  );
  /** Each scan node of a plan as one line: `<Node Type> on <table> using <index> [cond]`. */
  const lines = (node: PgPlanNode, parentRelation: string | undefined, out: string[]) => {
    const relation = node['Relation Name'] ?? (node['Node Type'] === 'Bitmap Index Scan' ? parentRelation : undefined);
    if (/Scan$/.test(node['Node Type']) && relation) {
      const index = node['Index Name'] ? ` using ${node['Index Name']}` : '';
      const cond = node['Index Cond'] ? ` [${node['Index Cond']}]` : '';
      out.push(`${node['Node Type']} on ${relation}${index}${cond}`);
    }
    for (const child of node.Plans ?? []) lines(child, relation, out);
    return out;
  };
  const growing = (line: string) => GROWING.some((t) => line.includes(` on ${t}`));
  return {
    name: 'postgres',
    explain() {
      throw new Error('use explainAsync');
    },
    async explainAsync(sql, params) {
      const { rows } = await client.query<{ 'QUERY PLAN': { Plan: PgPlanNode }[] }>(`EXPLAIN (FORMAT JSON) ${sql}`, params as unknown[]);
      return lines(rows[0]!['QUERY PLAN'][0]!.Plan, undefined, []);
    },
    /**
     * The statements a call runs inside a function, each with its plan as executed: auto_explain in this session
     * (log_nested_statements), its LOG lines sent to this client (client_min_messages). Run under both plan cache
     * modes, since PL/pgSQL plans a statement for its values the first times and may keep a generic plan after:
     * each must be bounded. In a transaction rolled back, with `setup` run first in it.
     */
    async explainNested(setup, call, params) {
      const found: { sql: string; plan: string[] }[] = [];
      const onNotice = (notice: { message?: string }) => {
        const m = /^duration: [\d.]+ ms\s+plan:\s*([\s\S]*)$/.exec(notice.message ?? '');
        if (!m) return;
        const explained = JSON.parse(m[1]!) as { 'Query Text': string; Plan: PgPlanNode };
        found.push({ sql: explained['Query Text'], plan: lines(explained.Plan, undefined, []) });
      };
      try {
        await client.query("LOAD 'auto_explain'");
      } catch (error) {
        throw new Error(`auto_explain could not be loaded (the test's database user must be a superuser, or auto_explain in $libdir/plugins): ${(error as Error).message}`);
      }
      client.on('notice', onNotice);
      try {
        for (const mode of ['force_custom_plan', 'force_generic_plan']) {
          await client.query('BEGIN');
          try {
            for (const statement of setup) await client.query(statement);
            await client.query(`SET LOCAL plan_cache_mode = ${mode}`);
            await client.query("SET LOCAL auto_explain.log_min_duration = 0; SET LOCAL auto_explain.log_nested_statements = on; SET LOCAL auto_explain.log_format = json; SET LOCAL client_min_messages = log");
            await client.query(call, params as unknown[]);
          } finally {
            await client.query('ROLLBACK');
          }
        }
      } finally {
        client.off('notice', onNotice);
      }
      // The call itself, and the foreign keys' checks on webhooks (a table that does not grow with history).
      return found.filter((f) => f.sql.trim() !== call.trim() && !f.sql.startsWith('SELECT 1 FROM ONLY'));
    },
    fullScans(_sql, plan) {
      // A Seq Scan, or an index walked whole (no condition) to feed a join: both read every row. A partial index
      // of live rows only, walked whole, reads what it holds (LIVE_ONLY).
      return plan.filter(
        (line) =>
          growing(line) &&
          (line.startsWith('Seq Scan') || (/^(Index|Index Only) Scan /.test(line) && !line.includes('[') && !LIVE_ONLY.some((i) => line.endsWith(` using ${i.index}`)))),
      );
    },
    ownerWalks(sql, plan) {
      if (/\bLIMIT\b/i.test(sql)) return [];
      return plan.filter((line) => {
        const m = /^(?:Index Scan|Index Only Scan|Bitmap Index Scan) on (\w+) using (\w+) \[(.*)\]$/.exec(line);
        if (!m || !GROWING.includes(m[1]!) || partial.has(m[2]!)) return false;
        const columns = [...m[3]!.matchAll(/\((\w+) (=|<|>|<=|>=|<>) /g)].map((c) => c[1]!);
        return columns.length > 0 && (columns.every((c) => OWNER_COLUMNS.has(c)) || columns.every((c) => c === 'status'));
      });
    },
    async analyze() {
      await client.query('ANALYZE');
    },
    close: () => void client.end(),
  };
}

/** 50,000 rows in each growing table, spread as a gateway's are: two sessions, 50 chats each, ten webhooks. */
async function loadHistory(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`INSERT INTO sandbox_messages (session_id, message_id, msg_key, chat_id, from_jid, to_jid, from_me, body, timestamp, type, ack, read)
      SELECT CASE WHEN i % 2 = 0 THEN 'A' ELSE 'B' END, 'load' || i, 'loadkey' || i, '1555' || (i % 50) || '@c.us', 'x@c.us', 'y@c.us', i % 2,
        'body', 1000 + i, 'chat', 'READ', 1 FROM generate_series(1, 50000) i`);
    await client.query(`INSERT INTO sandbox_receipts (msg_key, recipient_phone, sender_phone, state)
      SELECT 'loadkey' || i, '1555' || (i % 50), '15551000001', 3 FROM generate_series(1, 50000) i`);
    await client.query(`INSERT INTO webhooks (id, session_id, url, events, headers, secret, created_at, updated_at)
      SELECT 'load' || i, 'A', 'http://127.0.0.1:9/', '[]', '{}', 's', 0, 0 FROM generate_series(1, 9) i`);
    await client.query(`INSERT INTO webhook_deliveries (id, webhook_id, session_id, event, body, status, attempts, created_at, completed_at)
      SELECT 'load' || i, 'load' || (i % 9 + 1), 'A', 'message', '{}', 'DELIVERED', 1, 1000 + i, 1000 + i FROM generate_series(1, 50000) i`);
  } finally {
    await client.end();
  }
}

/** A server that runs the paths: a webhook (outbox), sends both ways (send, ack receipts), reads (read), lists and pages, retention. */
async function exercise(): Promise<{ server: TestServer; receiver: Receiver }> {
  const receiver = await startReceiver();
  const { server, a, b } = await twoSessions({
    webhooks: { allowCidrs: '127.0.0.1/32', pollIntervalMs: 20, retryScheduleMs: [100] },
    // Retention on (a long window: nothing goes), so the pruner's statements are prepared and run too.
    history: { retentionDays: 3650, pruneIntervalMs: 50 },
    sandbox: { readDelayMs: 10 },
  });
  await server.gqlOk(REGISTER, { input: { sessionId: 'A', url: receiver.url } });
  let last = '';
  for (let i = 0; i < 5; i++) last = (await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content: `m${i}` } })).sendText.message.id;
  await server.gqlOk(SEND_TEXT, { input: { sessionId: 'B', chatId: a, content: 'back' } });
  await server.gqlOk(INJECT, { s: 'A', from: '15550009999@c.us', body: 'from outside' });
  await waitFor(async () => (await history(server, 'B', a)).length >= 6, 5000, 'delivered');
  await server.gqlOk(MARK_READ, { s: 'A', c: b });
  await server.gqlOk('query($s: String!) { session(sessionId: $s) { chats(first: 20) { edges { node { id unreadCount lastMessage { id } } } } contacts { id } } }', { s: 'A' });
  await server.gqlOk(MESSAGES, { s: 'A', c: b, last: 2, before: last });
  // The message actions: each changes every copy of a message, or one session's.
  await server.gqlOk('mutation($input: ReactToMessageInput!) { reactToMessage(input: $input) { message { id } } }', { input: { sessionId: 'A', messageId: last, emoji: '👍' } });
  await server.gqlOk('mutation($input: EditMessageInput!) { editMessage(input: $input) { message { id } } }', { input: { sessionId: 'A', messageId: last, content: 'm4!' } });
  await server.gqlOk('mutation($input: DeleteMessageInput!) { deleteMessage(input: $input) { messageId } }', { input: { sessionId: 'A', messageId: last, forEveryone: true } });
  await server.gqlOk('mutation($input: DeleteMessageInput!) { deleteMessage(input: $input) { messageId } }', { input: { sessionId: 'A', messageId: last } });
  await waitFor(() => receiver.received.length >= 6, 5000, 'webhook deliveries');
  await server.gqlOk(DELIVERIES, { id: 'A', last: 10 });
  // Acks reached READ (read delay 10 ms) and the pruner ran at least once.
  await new Promise((r) => setTimeout(r, 200));
  return { server, receiver };
}

const seen = new Set<string>();
const prepare = SQLite.prototype.prepare;

describe('query plans of the hot paths', sqliteOnly("statements are caught at better-sqlite3's prepare and explained by SQLite"), () => {
  let server: TestServer;
  let receiver: Receiver;

  before(async () => {
    // Caught in this process: the app's connection and ours alike (ours only explains).
    SQLite.prototype.prepare = function (this: SQLite.Database, sql: string) {
      seen.add(sql);
      return prepare.call(this, sql);
    } as typeof prepare;
    ({ server, receiver } = await exercise());
  });

  after(async () => {
    SQLite.prototype.prepare = prepare;
    await server?.dispose();
    await receiver?.close();
  });

  it('runs every statement on a growing table through an index that bounds it (SQLite)', () => {
    const backend = sqliteBackend(join(server.dataDir, 'wa-gateway.sqlite'));
    try {
      const statements = [...seen].filter((sql) => GROWING.some((t) => sql.includes(t)) && !/^\s*(CREATE|ALTER|EXPLAIN|PRAGMA|DROP)/i.test(sql));
      // The paths were exercised: each of these statements must have been prepared.
      for (const needle of [
        'INSERT OR IGNORE INTO sandbox_messages', // send and delivery
        'SET read = 1 WHERE session_id = ? AND chat_id = ?', // read
        'UPDATE sandbox_receipts SET state', // ack
        'UPDATE sandbox_messages SET ack', // ack
        'FROM sandbox_chats c LEFT JOIN sandbox_messages m', // chat list
        'FROM sandbox_messages WHERE session_id = ? AND chat_id = ? AND seq <', // history
        'INSERT INTO webhook_deliveries', // outbox
        'FROM webhook_deliveries WHERE webhook_id = ? AND status = \'PENDING\'', // outbox claim
        'UPDATE webhook_deliveries SET attempts', // outbox
        'FROM sandbox_messages WHERE seq > ?', // retention
        'UPDATE sandbox_messages SET reactions', // reaction
        'UPDATE sandbox_messages SET body = ?, edited = 1', // edit
        "UPDATE sandbox_messages SET type = 'REVOKED'", // delete for everyone
        'DELETE FROM sandbox_messages WHERE session_id = ? AND message_id = ?', // delete for me
      ]) {
        assert.ok(statements.some((sql) => sql.includes(needle)), `no statement with "${needle}" was prepared`);
      }
      const problems: string[] = [];
      for (const sql of statements) {
        const plan = backend.explain(sql);
        const allowed = OWNER_WALKS_ALLOWED.some((a) => sql.includes(a.match));
        const bad = [...backend.fullScans(sql, plan), ...(allowed ? [] : backend.ownerWalks(sql, plan))];
        if (bad.length) problems.push(`${sql.replace(/\s+/g, ' ')}\n    ${plan.join('\n    ')}`);
      }
      assert.deepEqual(problems, [], `unbounded reads of a growing table (${backend.name}):\n${problems.join('\n')}`);
      assert.ok(statements.length >= 15, `only ${statements.length} statements`);
    } finally {
      backend.close();
    }
  });
});

// Full scans found on PostgreSQL and left to whoever owns the statement, with where the fix goes (none now).
const PG_KNOWN: { match: string; why: string }[] = [];

describe('query plans of the hot paths (PostgreSQL)', { skip: testStore === 'postgres' ? false : 'runs with the suites on PostgreSQL (WA_TEST_STORE=postgres)' }, () => {
  // Statements as the app issued them, with the parameters of their first run: the write batch's before it
  // inlines them into a round, and every other query (the pool's, Kysely's) at pg.Client#query.
  const issued = new Map<string, readonly unknown[]>();
  const clientQuery = pg.Client.prototype.query;
  const batchRun = PgWriteBatch.prototype.run;
  let server: TestServer;
  let receiver: Receiver;

  before(async () => {
    PgWriteBatch.prototype.run = function (this: PgWriteBatch, sql: string, params?: readonly unknown[]) {
      if (!issued.has(sql)) issued.set(sql, params ?? []);
      return batchRun.call(this, sql, params);
    } as typeof batchRun;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const config = args[0] as string | { text?: string; values?: unknown[] };
      const text = typeof config === 'string' ? config : config?.text;
      const values = (Array.isArray(args[1]) ? args[1] : typeof config === 'object' ? config?.values : undefined) ?? [];
      // A batch round (several statements, parameters inlined) is caught at run() above.
      if (typeof text === 'string' && !text.includes(';') && !issued.has(text)) issued.set(text, values);
      // The outbox's turn goes as one text (BEGIN; SET LOCAL ...; the function's call; COMMIT): noted as issued.
      else if (typeof text === 'string' && text.includes('wa_gateway_claim_deliveries(')) issued.set('wa_gateway_claim_deliveries(', []);
      return (clientQuery as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof clientQuery;
    ({ server, receiver } = await exercise());
  });

  after(async () => {
    PgWriteBatch.prototype.run = batchRun;
    pg.Client.prototype.query = clientQuery;
    await server?.dispose();
    await receiver?.close();
  });

  it('runs every statement on a growing table through an index that bounds it (PostgreSQL)', async () => {
    const backend = await pgBackend(server.databaseUrl!);
    try {
      const statements = [...issued].filter(([sql]) => GROWING.some((t) => sql.includes(t)) && !/^\s*(CREATE|ALTER|EXPLAIN|DROP)/i.test(sql));
      for (const needle of [
        // Sends, deliveries and the outbox's rows: calls of PL/pgSQL functions (migration 0016-hot-path-functions),
        // inserts that read no growing table but the rows they are given. As for the claims below, EXPLAIN shows the call.
        'wa_gateway_sandbox_send(', // send
        'wa_gateway_sandbox_deliver(', // delivery
        'UPDATE sandbox_messages SET read = 1 WHERE session_id = $1 AND chat_id = $2', // read
        'UPDATE sandbox_receipts s SET state', // ack
        'UPDATE sandbox_messages m SET ack', // ack
        'FROM sandbox_chats c LEFT JOIN', // chat list
        'AND chat_id = $2 AND seq < $3 ORDER BY seq DESC LIMIT $4', // history
        'wa_gateway_insert_deliveries(', // outbox
        // The outbox's claims and outcomes: one call of a PL/pgSQL function per worker turn (migration
        // 0012-webhook-claims). EXPLAIN shows the call, not the statements inside it: those are explained below.
        'wa_gateway_claim_deliveries(', // outbox
        'FROM sandbox_messages WHERE seq > $1', // retention
      ]) {
        assert.ok([...issued].some(([sql]) => sql.includes(needle)), `no statement with "${needle}" was issued`);
      }
      // The server is stopped: its pruner would delete the loaded history (dated 1970).
      await server.stop();
      await loadHistory(server.databaseUrl!);
      const problems: string[] = [];
      for (const state of ['no statistics', 'analyzed']) {
        if (state === 'analyzed') await backend.analyze();
        for (const [sql, params] of statements) {
          const plan = await backend.explainAsync(sql, params);
          if (PG_KNOWN.some((k) => sql.includes(k.match))) continue;
        const allowed = OWNER_WALKS_ALLOWED.some((a) => sql.toLowerCase().includes(a.match.toLowerCase()));
          const bad = [...backend.fullScans(sql, plan), ...(allowed ? [] : backend.ownerWalks(sql, plan))];
          if (bad.length) problems.push(`(${state}) ${sql.replace(/\s+/g, ' ').slice(0, 400)}\n    ${bad.join('\n    ')}`);
        }
        // The statements inside the outbox's function, as it runs them: a call that writes an outcome, releases a
        // claim and claims, so every branch runs.
        const nested = await backend.explainNested(
          [
            `INSERT INTO webhook_deliveries (id, webhook_id, session_id, event, body, status, attempts, next_attempt_at, created_at, claimed_by, claimed_until)
              VALUES ('plan-due-1', 'load1', 'A', 'message', '{}', 'PENDING', 0, 0, 0, NULL, NULL), ('plan-due-2', 'load1', 'A', 'message', '{}', 'PENDING', 0, 0, 0, NULL, NULL),
                ('plan-done', 'load1', 'A', 'message', '{}', 'PENDING', 0, 0, 0, 'plan-node', 9e15), ('plan-held', 'load2', 'A', 'message', '{}', 'PENDING', 0, 0, 0, 'plan-node', 9e15)`,
          ],
          'SELECT * FROM wa_gateway_claim_deliveries($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)',
          [['plan-done'], ['SUCCEEDED'], [null], [1], [200], [null], ['plan-held'], 'plan-node', Date.now(), 4, 30_000, true, 32],
        );
        for (const needle of ['UPDATE webhook_deliveries d SET attempts', 'UPDATE webhook_deliveries SET claimed_by = NULL', 'FOR NO KEY UPDATE OF w SKIP LOCKED', 'UPDATE webhook_deliveries d SET claimed_by = p_node']) {
          assert.ok(nested.some((n) => n.sql.includes(needle)), `(${state}) the claim function ran no statement with "${needle}"`);
        }
        for (const { sql, plan } of nested) {
          const bad = [...backend.fullScans(sql, plan), ...backend.ownerWalks(sql, plan)];
          if (bad.length) problems.push(`(${state}, in wa_gateway_claim_deliveries) ${sql.replace(/\s+/g, ' ').slice(0, 400)}\n    ${bad.join('\n    ')}`);
        }
      }
      assert.deepEqual(problems, [], `unbounded reads of a growing table (${backend.name}):\n${problems.join('\n')}`);
      assert.ok(statements.length >= 15, `only ${statements.length} statements`);
    } finally {
      backend.close();
    }
  });
});
