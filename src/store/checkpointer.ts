import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Runs in the worker: its own connection to the same file, checkpointing the WAL into the database on a
// timer. PASSIVE never waits for the main connection; it copies what is committed. It reports a WAL that
// is still long afterwards (see onLongWal) and pauses until told the main connection has finished it, so
// that its own passes never hold the checkpoint lock the main connection then needs.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.modulePath);
const db = new Database(workerData.file);
let paused = false;
const checkpoint = () => {
  if (paused) return;
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    if (result && result.log >= workerData.longWalFrames) {
      paused = true;
      parentPort.postMessage({ longWal: result.log });
    }
  } catch (error) {
    parentPort.postMessage({ error: String(error) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message === 'resume') paused = false;
  if (message !== 'stop') return;
  paused = false;
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

export interface CheckpointerOptions {
  intervalMs: number;
  onError: (message: string) => void;
  /**
   * Called when the WAL still holds `longWalFrames` frames after a checkpoint. The WAL only starts over
   * when a checkpoint has copied every frame before the next write; under a steady stream of commits a
   * checkpoint on another connection never gets there, and the file grew without bound (~20 MB/s in the
   * sendText bench). The main connection's own checkpoint, run between two of its commits, does: by then
   * the worker has copied nearly everything, so it has little left to copy and sync. The worker pauses
   * until `resume` is called.
   */
  onLongWal: (resume: () => void) => void;
  /**
   * Default 65,536 (256 MB of 4 KB pages). The main thread's checkpoint syncs the disk; at 64 MB, under the
   * sendText bench it came every ~2 s and its stall reached the p99 of the requests in flight.
   */
  longWalFrames?: number;
}

/**
 * Moves SQLite's WAL checkpoints (and their fsync) off the main thread. With the default auto-checkpoint,
 * every ~4 MB of writes the committing request waited for a checkpoint; under a stream of sends that was a
 * quarter of the server's time spent blocked on the disk. Resolves null when no worker could start; the
 * caller then keeps SQLite's own auto-checkpoint.
 */
export async function startCheckpointer(file: string, o: CheckpointerOptions): Promise<Checkpointer | null> {
  const { intervalMs, onError } = o;
  let worker: Worker;
  try {
    const modulePath = createRequire(import.meta.url).resolve('better-sqlite3');
    worker = new Worker(WORKER, { eval: true, workerData: { file, intervalMs, modulePath, longWalFrames: o.longWalFrames ?? 65_536 } });
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
    if (message && typeof message === 'object' && 'longWal' in message) o.onLongWal(() => worker.postMessage('resume'));
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
