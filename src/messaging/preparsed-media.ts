import { randomUUID } from 'node:crypto';

/**
 * A big media data URL that the body parser's worker thread already took apart (src/http/json-worker.ts), so
 * the event loop never holds the string itself: copying a 100 MB string onto the main thread, or scanning it
 * with a regular expression, each held the loop for 100+ ms. The parsed body carries a short marker in its place
 * (unguessable, used once, gone with its request), which parseMediaDataUrl resolves here. Any big string that
 * starts like a data URL is taken apart (a variable may have any name); the input limits (use-armor.ts) count a
 * marker outside a `data` argument at its real length, so it is refused there as the string itself would be.
 */
export interface PreparsedDataUrl {
  /** The URL up to and including its first comma (or its first 64 KB when there is none there). */
  head: string;
  /** The whole URL's length in characters. */
  length: number;
  /** After the comma, with white space taken out: its length, whether it is well-formed base64, its padding. */
  encodedLength: number;
  valid: boolean;
  padding: number;
  /** The decoded bytes; null when the URL was too big for any media limit, so nothing was decoded. */
  bytes: Buffer | null;
}

const MARKER = '\u0000preparsed-media:';
/** A marker nobody resolved (its request was refused before the resolver) goes after this long at the latest. */
const TTL_MS = 60_000;
const entries = new Map<string, PreparsedDataUrl>();

export function registerPreparsed(entry: PreparsedDataUrl): string {
  const marker = MARKER + randomUUID();
  entries.set(marker, entry);
  setTimeout(() => entries.delete(marker), TTL_MS).unref();
  return marker;
}

/** The entry behind a marker, taken (a marker resolves once); null for any other string. */
export function takePreparsed(value: string): PreparsedDataUrl | null {
  if (!value.startsWith(MARKER)) return null;
  const entry = entries.get(value) ?? null;
  entries.delete(value);
  return entry;
}

/** The length of the URL a marker stands for (without taking it); null for any other string. */
export function preparsedLength(value: string): number | null {
  return value.startsWith(MARKER) ? (entries.get(value)?.length ?? null) : null;
}

export function releasePreparsed(markers: readonly string[]): void {
  for (const marker of markers) entries.delete(marker);
}
