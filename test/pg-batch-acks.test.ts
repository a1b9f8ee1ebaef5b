import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PgWriteBatch } from '../src/store/pg/pg-batch.js';
import { createTestDatabase, needsPostgres, queryDatabase, requirePostgres, type TestDatabase } from './helpers/pg.js';

// What an answer waits for must include every write queued before it asked. When the open transaction has
// reached its bound (rounds or age), what is queued next goes into the following transaction: a committed()
// asked meanwhile must wait for that one too, or an answer acknowledges a write that may still fail (the
// outage test lost such sends when PostgreSQL stopped at that moment).

describe('PgWriteBatch.committed() covers what is queued for the next transaction', async () => {
  const options = await needsPostgres();
  let database: TestDatabase;
  const batches: PgWriteBatch[] = [];
  before(async () => {
    if (options.skip) return;
    await requirePostgres();
    database = await createTestDatabase();
    await queryDatabase(database.url, 'CREATE TABLE t (id bigint PRIMARY KEY)');
  });
  after(async () => {
    for (const b of batches) await b.close().catch(() => undefined);
    await database?.drop();
  });

  it('a write queued while a full transaction finishes: committed() fails with it', options, async () => {
    // One round per transaction: the first write's round makes its transaction full.
    const batch = new PgWriteBatch(database.url, { maxRounds: 1 });
    batches.push(batch);
    const first = batch.run('INSERT INTO t VALUES (1)');
    // The first round is on its way; this one waits for the next transaction, and fails there.
    await new Promise((r) => setImmediate(r));
    const second = batch.run('INSERT INTO t VALUES (2 / 0)');
    second.catch(() => undefined);
    const answer = batch.committed().then(
      () => 'acknowledged',
      () => 'refused',
    );
    await first;
    await assert.rejects(second);
    assert.equal(await answer, 'refused', 'an answer waiting on both writes must not acknowledge the failed one');
    assert.deepEqual(await queryDatabase(database.url, 'SELECT id FROM t ORDER BY id'), [{ id: 1 }]);
  });
});
