import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { inlineParams, PgWriteBatch } from '../src/store/pg/pg-batch.js';
import { pgArray } from '../src/store/pg/turn-statements.js';
import { createTestDatabase, needsPostgres, requirePostgres, type TestDatabase } from './helpers/pg.js';

// The group commit on a real PostgreSQL, in a database of its own (TEST_DATABASE_URL's server).
describe('PostgreSQL group commit (PgWriteBatch)', await needsPostgres(), () => {
  let database: TestDatabase;
  let reader: pg.Pool;
  const batches: PgWriteBatch[] = [];
  // No commit by age (15 ms by default) in the middle of a test on a loaded machine, unless a test asks for one.
  const open = (options = {}) => {
    const b = new PgWriteBatch(database.url, { maxAgeMs: 60_000, ...options });
    batches.push(b);
    return b;
  };
  const count = async (table = 't') => Number((await reader.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

  before(async () => {
    await requirePostgres();
    database = await createTestDatabase();
    reader = new pg.Pool({ connectionString: database.url, max: 2 });
    // An idle pooled connection that PostgreSQL ends must not become an uncaught error.
    reader.on('error', () => undefined);
    await reader.query('CREATE TABLE t (id bigint PRIMARY KEY, note text, data bytea)');
  });

  after(async () => {
    for (const b of batches) await b.close();
    await reader?.end();
    await database?.drop();
  });

  it('inlines parameters as literals: quotes, backslashes, negatives, bytes, null and booleans', () => {
    assert.equal(inlineParams('SELECT $1, $2, $3', ["it's", 'a\\b', null]), `SELECT 'it''s',  E'a\\\\b', NULL`);
    assert.equal(inlineParams('SELECT 1 - $1;', [-5]), 'SELECT 1 - (-5)');
    assert.equal(inlineParams('SELECT $1, $2', [Buffer.from([1, 255]), true]), `SELECT '\\x01ff'::bytea, TRUE`);
    assert.throws(() => inlineParams('SELECT $2', [1]), /\$2 has no parameter/);
    assert.throws(() => inlineParams('SELECT $1', [Number.NaN]), /NaN/);
  });

  it('stores every string as it was given, alone and inside an array literal', async () => {
    const batch = open();
    const strings = ["it's", 'a\\b', "\\'", "'\\", '"quoted"', '{"a":"b\\"c"}', "O''Brien \\\\ end", '', 'NULL', 'ümlaut 🙂', '\\x41', ',{}'];
    const rows = await batch.run<{ one: string; many: string[] }>(`SELECT $1::text AS one, $2::text[] AS many`, [strings.join('|'), pgArray(strings)]);
    await batch.committed();
    assert.equal(rows[0]!.one, strings.join('|'));
    assert.deepEqual(rows[0]!.many, strings);
  });

  it('sends a gathered statement before any statement queued after it, or with the next round; committed() waits for it', async () => {
    const batch = open();
    await reader.query('TRUNCATE t');
    const gathered: number[] = [];
    const flushOnce = () => {
      const ids = gathered.splice(0);
      if (ids.length) void batch.run(`INSERT INTO t (id, note) SELECT unnest($1::bigint[]), 'gathered'`, [`{${ids.join(',')}}`]);
    };
    // Gathered, then a statement that must see it: the gathered insert leaves first, in the same round.
    gathered.push(1, 2);
    batch.gather(flushOnce);
    assert.equal(batch.pending, true);
    const seen = await batch.run<{ n: number }>('SELECT count(*)::int AS n FROM t');
    assert.equal(seen[0]!.n, 2);
    // Gathered alone: it leaves with the next round, and committed() covers it.
    gathered.push(3);
    batch.gather(flushOnce);
    await batch.committed();
    assert.equal(await count(), 3);
    assert.equal(batch.pending, false);
  });

  it('sends the statements of one turn as one round trip, and commits them in one transaction', async () => {
    const batch = open();
    await reader.query('TRUNCATE t');
    const results = Array.from({ length: 50 }, (_, i) =>
      batch.run<{ id: number }>('INSERT INTO t (id, note, data) VALUES ($1, $2, $3) RETURNING id', [i, `note ${i} 'quoted' \\ back`, Buffer.from([i])]),
    );
    assert.equal(batch.pending, true);
    const rows = await Promise.all(results);
    assert.deepEqual(rows.map((r) => Number(r[0]!.id)), Array.from({ length: 50 }, (_, i) => i));
    // Resolved before COMMIT, which leaves in a later turn: checked on the batch itself (one round trip so far),
    // since a read on another connection would race the COMMIT.
    assert.equal(batch.roundTrips, 1);
    await batch.committed();
    assert.equal(batch.pending, false);
    assert.equal(await count(), 50);
    // BEGIN + 50 inserts in one round trip, then COMMIT.
    assert.equal(batch.roundTrips, 2);
    assert.equal(batch.commits, 1);
    const stored = await reader.query('SELECT note, data FROM t WHERE id = 7');
    assert.equal(stored.rows[0].note, "note 7 'quoted' \\ back");
    assert.deepEqual(stored.rows[0].data, Buffer.from([7]));
  });

  it('continuations of a round join the same transaction, and a SELECT in it sees its writes', async () => {
    const batch = open();
    await reader.query('TRUNCATE t');
    const chain = batch.run('INSERT INTO t (id) VALUES (1)').then(async () => {
      const seen = await batch.run<{ n: string }>('SELECT count(*) AS n FROM t');
      await batch.run('INSERT INTO t (id, note) VALUES (2, $1)', [`saw ${seen[0]!.n}`]);
    });
    await chain;
    assert.equal(batch.roundTrips, 3); // the three rounds; COMMIT not sent yet
    await batch.committed();
    assert.equal(batch.commits, 1);
    assert.equal(batch.roundTrips, 4); // three rounds, one COMMIT
    assert.equal((await reader.query('SELECT note FROM t WHERE id = 2')).rows[0].note, 'saw 1');
  });

  it('a failed round rolls the whole transaction back: its statements and committed() waiters are rejected', async () => {
    const batch = open();
    await reader.query('TRUNCATE t');
    const outcomes: (Error | null)[] = [];
    batch.onOutcome = (error) => outcomes.push(error);
    const first = batch.run('INSERT INTO t (id) VALUES (10)');
    await first;
    const waiting = batch.committed();
    const good = batch.run('INSERT INTO t (id) VALUES (11)');
    const bad = batch.run('INSERT INTO t (id) VALUES (10)'); // duplicate key
    await assert.rejects(good, /duplicate key/);
    await assert.rejects(bad, /duplicate key/);
    await assert.rejects(waiting, /duplicate key/);
    assert.equal(outcomes.length, 1);
    assert.match(String(outcomes[0]), /duplicate key/);
    assert.equal(await count(), 0);
    // The connection goes on: the next statements make a new transaction.
    await batch.run('INSERT INTO t (id) VALUES (10)');
    await batch.committed();
    assert.equal(await count(), 1);
    assert.deepEqual(outcomes.slice(1), [null]);
  });

  it('committed() resolves at once when nothing is open, and covers statements queued during a COMMIT', async () => {
    const batch = open();
    await reader.query('TRUNCATE t');
    await batch.committed();
    assert.equal(batch.pending, false);
    await batch.run('INSERT INTO t (id) VALUES (20)');
    // The COMMIT of the first transaction is scheduled; a statement queued now goes in the next one.
    await new Promise((r) => setImmediate(r));
    const late = batch.run('INSERT INTO t (id) VALUES (21)');
    await batch.committed();
    await late;
    assert.equal(await count(), 2);
  });

  it('commits at the bound on rounds under continuous load', async () => {
    const batch = open({ maxRounds: 3, maxAgeMs: 60_000 });
    await reader.query('TRUNCATE t');
    let id = 100;
    const loop = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) await batch.run('INSERT INTO t (id) VALUES ($1)', [id++]);
    };
    await loop(10);
    await batch.committed();
    assert.equal(await count(), 10);
    // 10 rounds at 3 per transaction: 4 transactions. The third round of each full one carried its COMMIT; only
    // the last (one round, then nothing more queued) sent COMMIT on its own.
    assert.equal(batch.commits, 4);
    assert.equal(batch.roundTrips, 11);
  });

  it('committed() waits for the transaction its queued statements go in, not for the one open after it', async () => {
    const batch = open({ maxRounds: 2 });
    await reader.query('TRUNCATE t');
    await batch.run('INSERT INTO t (id) VALUES (200)');
    // The second round of this transaction (the last: it carries the COMMIT) takes this statement.
    void batch.run('INSERT INTO t (id) VALUES (201)');
    const answered = batch.committed().then(() => batch.commits);
    // Queued once that round is out: the next transaction's.
    while (batch.roundTrips < 2) await new Promise((r) => setImmediate(r));
    const later = batch.run('INSERT INTO t (id) VALUES (202)');
    assert.equal(await answered, 1);
    await later;
    await batch.committed();
    assert.equal(await count(), 3);
    assert.equal(batch.commits, 2);
  });

  it('fails fast while PostgreSQL is unreachable, and reconnects on the next use', async () => {
    const dead = new PgWriteBatch('postgres://root@127.0.0.1:1/none', { connectTimeoutMs: 500, retryAfterMs: 60_000 });
    batches.push(dead);
    const waiting = dead.committed();
    await waiting;
    const failing = dead.run('SELECT 1');
    const waiter = dead.committed();
    await assert.rejects(failing, /ECONNREFUSED|connect/);
    await assert.rejects(waiter);
    assert.equal(dead.down, true);
    assert.equal(dead.pending, false);
    // Within retryAfterMs it does not even try.
    const started = Date.now();
    await assert.rejects(dead.run('SELECT 1'));
    assert.ok(Date.now() - started < 1000);

    // A connection that is killed: the next statement connects again.
    const batch = open();
    const pid = (await batch.run<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid;
    await batch.committed();
    await reader.query('SELECT pg_terminate_backend($1)', [pid]);
    // The first use may find the dead connection; at the latest the one after it reconnects.
    await batch.run('SELECT 1').catch(() => undefined);
    await batch.committed().catch(() => undefined);
    const again = (await batch.run<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid;
    await batch.committed();
    assert.notEqual(again, pid);
  });
});
