import type { MediaKind } from '../engine/engine.js';
import { validationError } from '../errors.js';
import { takePreparsed } from './preparsed-media.js';

export interface MediaLimits {
  maxImageBytes: number;
  maxFileBytes: number;
}

export interface ParsedMedia {
  mimetype: string;
  data: Buffer;
}

const DATA_URL = /^data:([a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+)((?:;[a-z0-9_.-]+=[^;,]*)*)(;base64)?,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** What a mutation accepts: an image for sendImage and sendSticker, audio for sendAudio and sendVoice, video for sendVideo, anything for sendFile. */
const accepts: Record<MediaKind, { prefix: string | null; expected: string }> = {
  image: { prefix: 'image/', expected: 'image/*' },
  audio: { prefix: 'audio/', expected: 'audio/*' },
  file: { prefix: null, expected: '*/*' },
  video: { prefix: 'video/', expected: 'video/*' },
  sticker: { prefix: 'image/', expected: 'image/* (image/webp as it is; others are converted by open-wa)' },
  voice: { prefix: 'audio/', expected: 'audio/* (audio/ogg; codecs=opus plays as a voice note everywhere)' },
};

export function mediaLimit(kind: MediaKind, limits: MediaLimits): number {
  return kind === 'file' || kind === 'video' ? limits.maxFileBytes : limits.maxImageBytes;
}

/**
 * Parses a `data:<type>;base64,<data>` URL for a send mutation. The size is checked from the encoded
 * length before anything is decoded, so an oversized upload costs no extra memory.
 */
export function parseMediaDataUrl(kind: MediaKind, dataUrl: string, limits: MediaLimits): ParsedMedia {
  // A big URL the body parser's worker took apart: the same rules, applied to what it measured.
  const preparsed = takePreparsed(dataUrl);
  const length = preparsed ? preparsed.length : dataUrl.length;
  const head = DATA_URL.exec(preparsed ? preparsed.head : dataUrl);
  if (!head) {
    throw validationError('data must be a data URL like data:image/png;base64,...', { field: 'data', reason: 'NOT_A_DATA_URL' });
  }
  const mimetype = head[1]!.toLowerCase();
  if (!head[3]) {
    throw validationError('data must be base64-encoded (data:<type>;base64,...)', { field: 'data', reason: 'NOT_BASE64', mimetype });
  }
  const { prefix, expected } = accepts[kind];
  if (prefix && !mimetype.startsWith(prefix)) {
    throw validationError(`data is ${mimetype}, but this mutation sends ${expected}`, { field: 'data', reason: 'WRONG_TYPE', mimetype, expected });
  }
  const limit = mediaLimit(kind, limits);
  // Far over the limit even if a tenth of it were line breaks: refused before the regular expressions below
  // walk every character of a hostile 100 MB string.
  const rawSize = Math.floor(((length - head[0].length) / 4) * 3);
  if (rawSize > limit * 1.1 + 1024) {
    throw validationError(`data is about ${rawSize} bytes, over the limit of ${limit} bytes`, { field: 'data', reason: 'TOO_LARGE', size: rawSize, limit });
  }
  const encoded = preparsed ? null : dataUrl.slice(head[0].length).replace(/\s+/g, '');
  const valid = preparsed ? preparsed.valid : encoded!.length > 0 && encoded!.length % 4 === 0 && BASE64.test(encoded!);
  if (!valid) throw validationError('data is not valid base64', { field: 'data', reason: 'NOT_BASE64', mimetype });
  const size = preparsed ? (preparsed.encodedLength / 4) * 3 - preparsed.padding : (encoded!.length / 4) * 3 - (encoded!.endsWith('==') ? 2 : encoded!.endsWith('=') ? 1 : 0);
  if (size > limit || (preparsed && !preparsed.bytes)) {
    throw validationError(`data is ${size} bytes, over the limit of ${limit} bytes`, { field: 'data', reason: 'TOO_LARGE', size, limit });
  }
  return { mimetype, data: preparsed ? preparsed.bytes! : Buffer.from(encoded!, 'base64') };
}
