import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SQLite from 'better-sqlite3';
import { waitFor, type TestServer } from './helpers/app.js';
import { sqliteOnly } from './helpers/pg.js';
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
   * index (its rows only the live ones, such as the unread) is bounded by what it holds.
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
        return columns.every((c) => OWNER_COLUMNS.has(c));
      });
    },
    close: () => db.close(),
  };
}
// A PostgreSQL backend goes here once it exists: `EXPLAIN (FORMAT JSON)` on a table ANALYZEd at scale (a
// small table is seq-scanned by choice), failing on a "Seq Scan" node whose relation is one of GROWING.

const seen = new Set<string>();
const prepare = SQLite.prototype.prepare;

describe('query plans of the hot paths', sqliteOnly("statements are caught at better-sqlite3's prepare and explained by SQLite"), () => {
  let server: TestServer;
  let a: string;
  let b: string;
  let receiver: Receiver;

  before(async () => {
    // Caught in this process: the app's connection and ours alike (ours only explains).
    SQLite.prototype.prepare = function (this: SQLite.Database, sql: string) {
      seen.add(sql);
      return prepare.call(this, sql);
    } as typeof prepare;
    receiver = await startReceiver();
    ({ server, a, b } = await twoSessions({
      webhooks: { allowCidrs: '127.0.0.1/32', pollIntervalMs: 20, retryScheduleMs: [100] },
      // Retention on (a long window: nothing goes), so the pruner's statements are prepared and run too.
      history: { retentionDays: 3650, pruneIntervalMs: 50 },
      sandbox: { readDelayMs: 10 },
    }));
    // The paths: a webhook (outbox), sends both ways (send, ack receipts), reads (read), lists and pages.
    await server.gqlOk(REGISTER, { input: { sessionId: 'A', url: receiver.url } });
    let last = '';
    for (let i = 0; i < 5; i++) last = (await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content: `m${i}` } })).sendText.message.id;
    await server.gqlOk(SEND_TEXT, { input: { sessionId: 'B', chatId: a, content: 'back' } });
    await server.gqlOk(INJECT, { s: 'A', from: '15550009999@c.us', body: 'from outside' });
    await waitFor(async () => (await history(server, 'B', a)).length >= 6, 5000, 'delivered');
    await server.gqlOk(MARK_READ, { s: 'A', c: b });
    await server.gqlOk('query($s: String!) { session(sessionId: $s) { chats(first: 20) { edges { node { id unreadCount lastMessage { id } } } } contacts { id } } }', { s: 'A' });
    await server.gqlOk(MESSAGES, { s: 'A', c: b, last: 2, before: last });
    await waitFor(() => receiver.received.length >= 6, 5000, 'webhook deliveries');
    await server.gqlOk(DELIVERIES, { id: 'A', last: 10 });
    // Acks reached READ (read delay 10 ms) and the pruner ran at least once.
    await new Promise((r) => setTimeout(r, 200));
  });

  after(async () => {
    SQLite.prototype.prepare = prepare;
    await server?.dispose();
    await receiver?.close();
  });

  it('runs every statement on a growing table through an index that bounds it (SQLite)', () => {
    const backend = sqliteBackend(join(server.dataDir, 'wa-gateway.sqlite'));
    try {
      const statements = [...seen].filter((sql) => GROWING.some((t) => sql.includes(t)) && !/^\s*(CREATE|ALTER|EXPLAIN|PRAGMA)/i.test(sql));
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
