import { constants } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { gatheredBlocks, parseJson } from './json-worker.js';
import { releasePreparsed } from '../messaging/preparsed-media.js';

export type BodyRead = { kind: 'body'; bytes: Buffer } | { kind: 'too-large' } | { kind: 'aborted' };

/**
 * The one body reader (GraphQL over HTTP, the chunked-body limit, REST routes): reads the stream up to `limit`
 * bytes. Past the limit it stops collecting and answers `too-large` at once; what the stream still sends is
 * dropped unread, and the caller decides whether the connection goes too. `aborted`: the client went away.
 */
/** A body from this size on asks for a full collection once its request is answered (see hadBigBody). */
const BIG_BODY_BYTES = 8 * 1024 * 1024;
const bigBodies = new WeakSet<IncomingMessage>();
/** The media markers in a request's parsed body (preparsed-media.ts), released once it is answered. */
const bodyMedia = new WeakMap<IncomingMessage, string[]>();

/** Drops what the worker decoded for this request's body and nobody used (app.ts calls it when the response closes). */
export function releaseBodyMedia(req: IncomingMessage): void {
  const markers = bodyMedia.get(req);
  if (markers) releasePreparsed(markers);
  bodyMedia.delete(req);
}

/** Whether this request's body was big enough that its garbage deserves a collection (app.ts calls collectSoon). */
export function hadBigBody(req: IncomingMessage): boolean {
  return bigBodies.has(req);
}

export function readBody(req: IncomingMessage, limit = Infinity): Promise<BodyRead> {
  return readChunks(req, limit).then((read) =>
    read.kind === 'chunks' ? { kind: 'body', bytes: read.chunks.length === 1 ? read.chunks[0]! : Buffer.concat(read.chunks, read.size) } : read,
  );
}

type ChunksRead = { kind: 'chunks'; chunks: Buffer[]; size: number } | { kind: 'too-large' } | { kind: 'aborted' };

/** From this size on, a body is gathered into one block of memory of its own instead of kept as the socket's chunks. */
const GATHER_FROM_BYTES = 1024 * 1024;
/**
 * The least a block is allocated at. Above glibc's largest dynamic mmap threshold (32 MiB on 64-bit), so a block
 * is always a mapping of its own, given back whole when freed, and freeing it never raises that threshold. Pages
 * never written (a block bigger than its body) are address space only, not resident memory.
 */
const MIN_BLOCK_BYTES = 40 * 1024 * 1024;

/**
 * A bigger block for a body of `need` bytes so far: its declared length when that is believable, else twice what
 * came, never under MIN_BLOCK_BYTES nor over the limit. Why gather at all: node reads a socket into a fresh
 * 64 KiB malloc chunk per read, under glibc's mmap threshold, so a 100 MB body kept as its chunks grew the main
 * heap (brk) by ~100 MB at once, and small allocations made meanwhile above them kept glibc from handing it back
 * (RSS stayed up to ~70 MB higher for good after 100 MB bodies on Node 24). Copied into a block as they arrive,
 * the chunks die young and the next reads reuse their memory.
 */
function newBlock(need: number, declared: number, limit: number): Buffer {
  const believable = Number.isFinite(declared) && declared >= need && declared <= limit ? declared : 0;
  const length = Math.min(limit, constants.MAX_LENGTH, Math.max(need, believable, need * 2, MIN_BLOCK_BYTES));
  const block = Buffer.allocUnsafeSlow(length);
  gatheredBlocks.add(block.buffer);
  return block;
}

function readChunks(req: IncomingMessage, limit: number): Promise<ChunksRead> {
  return new Promise((resolve) => {
    let chunks: Buffer[] = [];
    let block: Buffer | null = null;
    let size = 0;
    const declared = Number(req.headers['content-length'] ?? NaN);
    const settle = (result: ChunksRead) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAborted);
      req.off('aborted', onAborted);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      const at = size;
      size += chunk.length;
      if (size >= BIG_BODY_BYTES) bigBodies.add(req);
      if (size > limit) return settle({ kind: 'too-large' });
      if (!block && size < GATHER_FROM_BYTES) return void chunks.push(chunk);
      if (!block || block.length < size) {
        const next = newBlock(size, declared, limit);
        if (block) block.copy(next, 0, 0, at);
        else chunks.reduce((offset, c) => offset + c.copy(next, offset), 0);
        block = next;
        chunks = [];
      }
      chunk.copy(block, at);
    };
    const onEnd = () => settle({ kind: 'chunks', chunks: block ? [block.subarray(0, size)] : chunks, size });
    const onAborted = () => settle({ kind: 'aborted' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAborted);
    req.on('aborted', onAborted);
  });
}

export type JsonRead = { kind: 'json'; value: unknown } | { kind: 'empty' } | { kind: 'invalid' } | { kind: 'too-large' } | { kind: 'aborted' };

/**
 * Reads a body of up to `limit` bytes and parses it as JSON, in time linear in its size: the chunks stay
 * Buffers (outside the JS heap, never copied by the GC), and a body over OFF_THREAD_BYTES moves to a worker thread
 * without a copy, where it is joined, decoded and parsed (json-worker.ts), so the event loop is never held for long by one request.
 */
export async function readJson(req: IncomingMessage, limit = Infinity): Promise<JsonRead> {
  const read = await readChunks(req, limit);
  if (read.kind !== 'chunks') return read;
  if (read.size === 0) return { kind: 'empty' };
  try {
    const parsed = await parseJson(read.chunks, read.size);
    if (parsed.markers.length > 0) bodyMedia.set(req, parsed.markers);
    return { kind: 'json', value: parsed.value };
  } catch {
    return { kind: 'invalid' };
  }
}
