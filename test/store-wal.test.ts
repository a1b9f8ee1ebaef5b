import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openStore } from '../src/store/database.js';
import { tempDir } from './helpers/app.js';

const walBytes = (file: string) => {
  try {
    return statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
};

describe('SQLite WAL under a steady stream of commits', () => {
  it('stays bounded: a long WAL is finished between two commits, so the next write starts it over', async () => {
    const file = join(tempDir(), 'wa-gateway.sqlite');
    // 256 frames = 1 MB: the mechanism of the 256 MB default at a size a test writes many times over. Without
    // it this WAL grew past 450 MB; with it, ~10 MB at this write rate (~50 MB/s), also with the CPU busy.
    const store = await openStore(file, { checkpointIntervalMs: 20, longWalFrames: 256 });
    try {
      const insert = store.sqlite.prepare('INSERT INTO sandbox_pending (to_phone, payload) VALUES (?, ?)');
      const payload = 'x'.repeat(1000);
      let written = 0;
      let largest = 0;
      const until = Date.now() + 2500;
      // One batch per event-loop turn, every turn, like a saturated server: no pause lets a background
      // checkpoint copy the whole WAL before the next write.
      while (Date.now() < until) {
        store.batch.join();
        for (let i = 0; i < 50; i++) insert.run('15550001111', payload);
        written += 50 * 1000;
        await store.batch.committed();
        largest = Math.max(largest, walBytes(file));
      }
      assert.ok(written > 20 * 1024 * 1024, `wrote ${written} bytes`);
      assert.ok(largest < 64 * 1024 * 1024, `the WAL reached ${largest} bytes while ${written} were written`);
      assert.equal((store.sqlite.prepare('SELECT count(*) AS n FROM sandbox_pending').get() as { n: number }).n, written / 1000);
    } finally {
      await store.close();
    }
  });
});
