import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../logger.js';

/** RFC 6455: a close frame's reason is at most 123 bytes of UTF-8. ws throws (and the process dies) past it. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * `reason` cut to at most 123 UTF-8 bytes at a character boundary, ending with "…" when it was cut. Lone
 * surrogates count as the 3 bytes of the U+FFFD they are sent as.
 */
export function closeReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES) return reason;
  const budget = MAX_CLOSE_REASON_BYTES - Buffer.byteLength('…');
  let bytes = 0;
  let out = '';
  for (const char of reason) {
    const n = Buffer.byteLength(char);
    if (bytes + n > budget) break;
    bytes += n;
    out += char;
  }
  return `${out}…`;
}

/** Closes `ws` with a byte-safe reason; closing a socket that is already closing or gone is no error. */
export function closeSocket(ws: WebSocket, code: number, reason: string, logger?: Logger): void {
  try {
    ws.close(code, closeReason(reason));
  } catch (error) {
    logger?.warn('WebSocket close failed; terminating it', { code, err: String(error) });
    ws.terminate();
  }
}

/**
 * Pings the server's clients each `intervalMs` and drops those that did not answer the previous ping.
 * `watch` each socket as it opens.
 */
export function keepAlive(wss: WebSocketServer, intervalMs: number): { watch(ws: WebSocket): void; stop(): void } {
  const alive = new WeakSet<WebSocket>();
  const timer = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return {
    watch(ws) {
      alive.add(ws);
      ws.on('pong', () => alive.add(ws));
    },
    stop: () => clearInterval(timer),
  };
}
