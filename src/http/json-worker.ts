import { Worker } from 'node:worker_threads';

/** Bodies from this size on are parsed on the worker thread; smaller ones inline, where a worker's round trip costs more. */
export const OFF_THREAD_BYTES = 1024 * 1024;
/** The worker goes after this long without work, and its heap (with the last big body's garbage) with it. */
const IDLE_MS = 5000;

// Plain CommonJS evaluated as the worker's script, so the bundle needs no second entry file.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ id, chunks }) => {
  let reply;
  try {
    const bytes = Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
    reply = { id, value: JSON.parse(bytes.toString('utf8')) };
  } catch (error) {
    reply = { id, error: String(error && error.message) };
  }
  parentPort.postMessage(reply);
});
`;

type Job = { resolve: (value: unknown) => void; reject: (error: Error) => void };

let worker: Worker | null = null;
let nextId = 0;
const jobs = new Map<number, Job>();
let idle: NodeJS.Timeout | null = null;

function failAll(error: Error): void {
  for (const job of jobs.values()) job.reject(error);
  jobs.clear();
}

function startWorker(): Worker {
  const w = new Worker(WORKER_SOURCE, { eval: true });
  w.unref();
  w.on('message', (reply: { id: number; value?: unknown; error?: string }) => {
    const job = jobs.get(reply.id);
    jobs.delete(reply.id);
    if (!job) return;
    if (reply.error !== undefined) job.reject(new SyntaxError(reply.error));
    else job.resolve(reply.value);
    if (jobs.size === 0) scheduleIdle();
  });
  // A worker that dies (out of memory on a hostile body) fails its own jobs only; the next body starts another.
  w.on('error', (error) => failAll(error));
  w.on('exit', () => {
    if (worker === w) worker = null;
    failAll(new Error('the JSON worker stopped'));
  });
  return w;
}

function scheduleIdle(): void {
  if (idle) clearTimeout(idle);
  idle = setTimeout(() => {
    idle = null;
    if (jobs.size === 0 && worker) {
      const w = worker;
      worker = null;
      void w.terminate();
    }
  }, IDLE_MS);
  idle.unref();
}

/** JSON.parse of a body's UTF-8 chunks; off the event loop for big bodies. Rejects with a SyntaxError on bad JSON. */
export function parseJson(chunks: Buffer[], size: number): Promise<unknown> {
  if (size < OFF_THREAD_BYTES) {
    try {
      const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      return Promise.resolve(JSON.parse(bytes.toString('utf8')));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }
  worker ??= startWorker();
  if (idle) clearTimeout(idle);
  const id = nextId++;
  // A socket's chunks own their memory: they move to the worker without a copy. Any other is copied into memory
  // of its own (never Buffer.from, whose small copies share node's pool, which a transfer would take away).
  const moved: Uint8Array[] = chunks.map((chunk) => (chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : new Uint8Array(chunk)));
  const transfer = [...new Set(moved.map((chunk) => chunk.buffer as ArrayBuffer))];
  return new Promise((resolve, reject) => {
    jobs.set(id, { resolve, reject });
    worker!.postMessage({ id, chunks: moved }, transfer);
  });
}
