import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Runs in the worker: its own connection to the same file, checkpointing the WAL into the database on a
// timer. PASSIVE never waits for the main connection; it copies what is committed and lets the WAL restart.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.modulePath);
const db = new Database(workerData.file);
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ error: String(error) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.postMessage('stopped');
});
parentPort.postMessage('ready');
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Moves SQLite's WAL checkpoints (and their fsync) off the main thread. With the default auto-checkpoint,
 * every ~4 MB of writes the committing request waited for a checkpoint; under a stream of sends that was a
 * quarter of the server's time spent blocked on the disk. Resolves null when no worker could start; the
 * caller then keeps SQLite's own auto-checkpoint.
 */
export async function startCheckpointer(file: string, intervalMs: number, onError: (message: string) => void): Promise<Checkpointer | null> {
  let worker: Worker;
  try {
    const modulePath = createRequire(import.meta.url).resolve('better-sqlite3');
    worker = new Worker(WORKER, { eval: true, workerData: { file, intervalMs, modulePath } });
  } catch (error) {
    onError(String(error));
    return null;
  }
  worker.unref();
  const ready = await new Promise<boolean>((resolve) => {
    worker.once('message', (message) => resolve(message === 'ready'));
    worker.once('error', (error) => (onError(String(error)), resolve(false)));
  });
  if (!ready) {
    await worker.terminate();
    return null;
  }
  worker.on('message', (message: unknown) => {
    if (message && typeof message === 'object' && 'error' in message) onError(String((message as { error: unknown }).error));
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 5000);
        worker.on('message', (message) => {
          if (message !== 'stopped') return;
          clearTimeout(timer);
          void worker.terminate().then(() => resolve());
        });
        worker.postMessage('stop');
      }),
  };
}
