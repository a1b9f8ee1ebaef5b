import { Worker } from 'node:worker_threads';
import { registerPreparsed, type PreparsedDataUrl } from '../messaging/preparsed-media.js';

/** Bodies from this size on are parsed on the worker thread; smaller ones inline, where a worker's round trip costs more. */
export const OFF_THREAD_BYTES = 1024 * 1024;
/** The worker goes after this long without work, and its heap (with the last big body's garbage) with it. */
const IDLE_MS = 5000;
/** Strings from this length on come back from the worker as bytes, not as a structured clone (see the worker). */
const BIG_STRING_CHARS = 2 * 1024 * 1024;
/** A big body's chunks go to the worker in batches of this many, one batch per event-loop turn. */
const CHUNKS_PER_POST = 128;
/**
 * A big string is rebuilt on the main thread this many bytes per event-loop turn. Under node's external-string
 * size (~1 MB), so each piece is on the JS heap, whose pages go back to the system after a collection; external
 * pieces of a few MB came from malloc, which kept them (RSS stayed ~100 MB up after a 100 MB body).
 */
const STRING_PIECE_BYTES = 512 * 1024;

// Plain CommonJS evaluated as the worker's script, so the bundle needs no second entry file.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const BIG = ${BIG_STRING_CHARS};
const pending = new Map();
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
parentPort.on('message', ({ id, chunks, last, decodeUpTo }) => {
  const got = pending.get(id) ?? [];
  for (const c of chunks) got.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  if (!last) return void pending.set(id, got);
  pending.delete(id);
  let reply;
  const transfer = [];
  try {
    const value = JSON.parse((got.length === 1 ? got[0] : Buffer.concat(got)).toString('utf8'));
    got.length = 0;
    const big = [];
    if (value !== null && typeof value === 'object') lift(value, [], big, decodeUpTo);
    for (const b of big) if (b.bytes) transfer.push(b.bytes.buffer);
    reply = { id, value, big };
  } catch (error) {
    reply = { id, error: String(error && error.message) };
  }
  parentPort.postMessage(reply, transfer);
});
// ASCII strings of BIG characters or more leave as their bytes (moved, not cloned): the main thread makes
// each from its bytes a piece per event-loop turn, instead of a clone that builds it in one step.
// A data URL (under any key: variables have any name) is taken apart here: its head, its length, and its
// base64 checked and decoded when it is small enough for some media limit.
function lift(node, path, big, decodeUpTo) {
  for (const key of Object.keys(node)) {
    const v = node[key];
    if (typeof v === 'string') {
      if (v.length < BIG) continue;
      const comma = /^data:/i.test(v) ? v.indexOf(',', 0) : -1;
      if (comma !== -1 && comma < 65536) {
        const head = v.slice(0, comma + 1);
        const media = { head, length: v.length, encodedLength: 0, valid: false, padding: 0 };
        let bytes = null;
        if (Math.floor(((v.length - head.length) / 4) * 3) <= decodeUpTo) {
          const encoded = v.slice(comma + 1).replace(/\\s+/g, '');
          media.encodedLength = encoded.length;
          media.valid = encoded.length > 0 && encoded.length % 4 === 0 && BASE64.test(encoded);
          media.padding = encoded.endsWith('==') ? 2 : encoded.endsWith('=') ? 1 : 0;
          // Megabytes of base64 decode into memory of their own (never node's shared pool): moved as they are.
          if (media.valid) bytes = Buffer.from(encoded, 'base64');
        }
        big.push({ path: path.concat(Array.isArray(node) ? Number(key) : key), media, bytes });
        node[key] = null;
      } else if (Buffer.byteLength(v, 'utf8') === v.length) {
        const bytes = Buffer.allocUnsafeSlow(v.length);
        bytes.write(v, 0, 'latin1');
        big.push({ path: path.concat(Array.isArray(node) ? Number(key) : key), bytes });
        node[key] = null;
      }
    } else if (v !== null && typeof v === 'object') lift(v, path.concat(Array.isArray(node) ? Number(key) : key), big, decodeUpTo);
  }
}
`;
/** Memory the body reader (read-body.ts) allocated for one body alone: it can move to the worker as it is. */
export const gatheredBlocks = new WeakSet<ArrayBufferLike>();

type BigString = { path: (string | number)[]; bytes: Uint8Array | null; media?: Omit<PreparsedDataUrl, 'bytes'> };
type Reply = { id: number; value?: unknown; error?: string; big?: BigString[] };
export type ParsedJson = { value: unknown; markers: string[] };

/**
 * Puts the worker's big strings back where they were. A big data URL becomes a marker (preparsed-media.ts); any
 * other big string is made from its bytes a piece per event-loop turn, the pieces joined into one string that
 * nothing copies as long as only its length is asked: a 100 MB query text is refused by its length without being
 * copied in one go.
 */
async function restore(value: unknown, big: BigString[]): Promise<ParsedJson> {
  const markers: string[] = [];
  for (const { path, bytes, media } of big) {
    let parent = value as Record<string | number, unknown>;
    for (let i = 0; i < path.length - 1; i++) parent = parent[path[i]!] as Record<string | number, unknown>;
    const buffer = bytes && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let text: string;
    if (media) {
      text = registerPreparsed({ ...media, bytes: buffer });
      markers.push(text);
    } else {
      text = '';
      for (let at = 0; at < buffer!.length; at += STRING_PIECE_BYTES) {
        if (at > 0) await new Promise((resolve) => setImmediate(resolve));
        text += buffer!.toString('latin1', at, Math.min(buffer!.length, at + STRING_PIECE_BYTES));
      }
    }
    // defineProperty: an own "__proto__" key stays a plain property, as JSON.parse made it.
    Object.defineProperty(parent, path[path.length - 1]!, { value: text, writable: true, enumerable: true, configurable: true });
  }
  return { value, markers };
}

type Job = { resolve: (value: ParsedJson) => void; reject: (error: Error) => void };

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
  w.on('message', (reply: Reply) => {
    const job = jobs.get(reply.id);
    jobs.delete(reply.id);
    if (!job) return;
    if (reply.error !== undefined) job.reject(new SyntaxError(reply.error));
    else restore(reply.value, reply.big ?? []).then(job.resolve, job.reject);
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

let decodeUpTo: number | null = null;
/**
 * Media data URLs over this many (approximate) decoded bytes are refused by every send, so the worker does not
 * decode them. Process-wide: with several apps in one process, the largest of their limits.
 */
export function setMediaDecodeLimit(bytes: number): void {
  decodeUpTo = Math.max(decodeUpTo ?? 0, bytes);
}

/**
 * JSON.parse of a body's UTF-8 chunks; off the event loop for big bodies. Rejects with a SyntaxError on bad JSON.
 * `markers`: the big media data URLs the worker took apart (see preparsed-media.ts), to release with the request.
 */
export function parseJson(chunks: Buffer[], size: number): Promise<ParsedJson> {
  if (size < OFF_THREAD_BYTES) {
    try {
      const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      return Promise.resolve({ value: JSON.parse(bytes.toString('utf8')), markers: [] });
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }
  worker ??= startWorker();
  if (idle) clearTimeout(idle);
  const id = nextId++;
  // A socket's chunks and the body reader's blocks own their memory: they move to the worker without a copy. Any
  // other is copied into memory of its own (never Buffer.from, whose small copies share node's pool, which a transfer would take away).
  const moved: Uint8Array[] = chunks.map((chunk) =>
    gatheredBlocks.has(chunk.buffer) || (chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength) ? chunk : new Uint8Array(chunk),
  );
  const w = worker;
  return new Promise((resolve, reject) => {
    jobs.set(id, { resolve, reject });
    // A 100 MB body is ~1,600 socket chunks; moving them all in one postMessage held the event loop ~50 ms.
    const post = (from: number) => {
      if (!jobs.has(id)) return;
      const batch = moved.slice(from, from + CHUNKS_PER_POST);
      const last = from + CHUNKS_PER_POST >= moved.length;
      w.postMessage({ id, chunks: batch, last, decodeUpTo: decodeUpTo ?? Infinity }, [...new Set(batch.map((chunk) => chunk.buffer as ArrayBuffer))]);
      if (!last) setImmediate(post, from + CHUNKS_PER_POST);
    };
    post(0);
  });
}
