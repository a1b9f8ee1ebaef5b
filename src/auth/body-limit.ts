import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../http/read-body.js';

/** What the caller sees when its body is over the limit (REST envelope shape; GraphQL callers read it too). */
export function payloadTooLarge(limit: number, size?: number) {
  return {
    success: false,
    error: {
      code: 'PAYLOAD_TOO_LARGE',
      message: size === undefined ? `Request body is over the limit of ${limit} bytes` : `Request body of ${size} bytes is over the limit of ${limit}`,
      details: { limit },
    },
  };
}

/**
 * Enforces the body limit before a handler reads the body. A declared Content-Length over the limit is
 * refused at once; a chunked body is read here up to the limit and left on `req.body`, which yoga's
 * Node adapter (and any handler) uses instead of the stream. Resolves false when the request was refused.
 */
export async function enforceBodyLimit(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
  refuse: (status: number, body: unknown) => void,
): Promise<boolean> {
  const declared = req.headers['content-length'];
  if (declared !== undefined) {
    const size = Number(declared);
    if (size > limit) {
      res.setHeader('connection', 'close');
      refuse(413, payloadTooLarge(limit, size));
      return false;
    }
    return true;
  }
  if (!req.headers['transfer-encoding'] || req.method === 'GET' || req.method === 'HEAD') return true;
  const read = await readBody(req, limit);
  if (read.kind === 'aborted') return false; // the client went away
  if (read.kind === 'too-large') {
    res.setHeader('connection', 'close');
    refuse(413, payloadTooLarge(limit));
    req.destroy();
    return false;
  }
  (req as IncomingMessage & { body?: Buffer }).body = read.bytes;
  return true;
}
