import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ResolvedTarget } from './ssrf-guard.js';

export interface SendResult {
  statusCode: number;
  /** From a Retry-After header (seconds or an HTTP date), in ms from now. */
  retryAfterMs: number | null;
  location: string | null;
}

export class SendError extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'network' | 'aborted',
  ) {
    super(message);
  }
}

export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * Keep-alive connection pools for deliveries. A pooled connection goes to an address that passed the
 * SSRF check when it was opened; every attempt is still checked (resolve) before it may use one.
 */
export interface SenderAgents {
  http: HttpAgent;
  https: HttpsAgent;
}

export function senderAgents(maxSocketsPerHost: number): SenderAgents {
  const options = { keepAlive: true, maxSockets: maxSocketsPerHost, maxFreeSockets: maxSocketsPerHost, timeout: 60_000 };
  return { http: new HttpAgent(options), https: new HttpsAgent(options) };
}

/**
 * POSTs once to the checked address (the name is not resolved again, so DNS cannot change between the
 * check and the connection), never follows a redirect, and gives up after `remainingMs` (what is left of
 * the attempt's `timeoutMs`).
 */
export function post(
  target: ResolvedTarget,
  headers: Record<string, string>,
  body: string,
  timing: { timeoutMs: number; remainingMs: number },
  signal: AbortSignal,
  agents?: SenderAgents,
): Promise<SendResult> {
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const request = target.url.protocol === 'https:' ? httpsRequest : httpRequest;
  if (signal.aborted) return Promise.reject(new SendError('aborted at shutdown', 'aborted'));
  return new Promise<SendResult>((resolve, reject) => {
    let settled = false;
    const finish = (error: SendError | null, result?: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (error) {
        req.destroy();
        reject(error);
      } else resolve(result!);
    };
    const req = request(
      target.url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: pinned,
        agent: (target.url.protocol === 'https:' ? agents?.https : agents?.http) ?? false,
      },
      (res: IncomingMessage) => {
        const result: SendResult = {
          statusCode: res.statusCode ?? 0,
          retryAfterMs: parseRetryAfter(res.headers['retry-after']),
          location: res.headers.location ?? null,
        };
        // The answer's body is not used: drain it, so the attempt ends when the response does.
        res.on('data', () => undefined);
        res.on('end', () => finish(null, result));
        res.on('error', (e) => finish(new SendError(`response failed: ${e.message}`, 'network')));
      },
    );
    const timer = setTimeout(() => finish(new SendError(`timed out after ${timing.timeoutMs} ms`, 'timeout')), timing.remainingMs);
    const onAbort = () => finish(new SendError('aborted at shutdown', 'aborted'));
    signal.addEventListener('abort', onAbort);
    req.on('error', (e: NodeJS.ErrnoException) => finish(new SendError(`${e.code ?? 'request failed'}: ${e.message}`, 'network')));
    req.end(body);
  });
}
