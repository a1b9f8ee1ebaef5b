import type { IncomingMessage } from 'node:http';

export type BodyRead = { kind: 'body'; bytes: Buffer } | { kind: 'too-large' } | { kind: 'aborted' };

/**
 * The one body reader (GraphQL over HTTP, the chunked-body limit, REST routes): reads the stream up to `limit`
 * bytes. Past the limit it stops collecting and answers `too-large` at once; what the stream still sends is
 * dropped unread, and the caller decides whether the connection goes too. `aborted`: the client went away.
 */
export function readBody(req: IncomingMessage, limit = Infinity): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (result: BodyRead) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAborted);
      req.off('aborted', onAborted);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) settle({ kind: 'too-large' });
      else chunks.push(chunk);
    };
    const onEnd = () => settle({ kind: 'body', bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
    const onAborted = () => settle({ kind: 'aborted' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAborted);
    req.on('aborted', onAborted);
  });
}
