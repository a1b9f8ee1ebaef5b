import type { IncomingMessage } from 'node:http';
import { parseJson } from './json-worker.js';
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

function readChunks(req: IncomingMessage, limit: number): Promise<ChunksRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (result: ChunksRead) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAborted);
      req.off('aborted', onAborted);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size >= BIG_BODY_BYTES) bigBodies.add(req);
      if (size > limit) settle({ kind: 'too-large' });
      else chunks.push(chunk);
    };
    const onEnd = () => settle({ kind: 'chunks', chunks, size });
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
