import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import type { LiveAccess, LiveHolder } from '../src/auth/live-access.js';
import type { BusEvent, EventBus } from '../src/events/bus.js';
import { closeSocket, keepAlive } from '../src/http/ws-guard.js';
import type { Logger } from '../src/logger.js';
import type { SessionManager } from '../src/sessions/session-manager.js';
import { eventPayload, qrPayload } from './event-payload.js';

export const WS_PATH_PREFIX = '/ws/';

/** Close codes of the legacy socket (4000-4999 is the range for applications). */
export const LegacyClose = {
  KEY_REVOKED: 4403,
  SESSION_NOT_FOUND: 4404,
  TOO_SLOW: 4408,
  SESSION_REMOVED: 4410,
  TOO_MANY_SUBSCRIPTIONS: 4429,
  SHUTDOWN: 1001,
} as const;

// A client that has this much unsent data is not keeping up; it is closed rather than buffered forever.
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const PING_INTERVAL_MS = 30_000;

export interface LegacyEvent {
  event: 'qr' | 'authenticated' | 'ready' | 'message' | 'ack' | 'disconnected' | 'group_join' | 'group_leave' | 'group_update' | 'group_promote' | 'group_demote' | 'call' | 'reaction' | 'message_revoked' | 'message_edited' | 'presence' | 'poll_vote';
  sessionId: string;
  data: Record<string, unknown>;
}

const legacyEvents: Partial<Record<BusEvent['type'], LegacyEvent['event']>> = {
  QR: 'qr',
  AUTHENTICATED: 'authenticated',
  READY: 'ready',
  MESSAGE: 'message',
  ACK: 'ack',
  DISCONNECTED: 'disconnected',
  REACTION: 'reaction',
  MESSAGE_REVOKED: 'message_revoked',
  MESSAGE_EDITED: 'message_edited',
  PRESENCE: 'presence',
  GROUP_JOIN: 'group_join',
  GROUP_LEAVE: 'group_leave',
  GROUP_UPDATE: 'group_update',
  GROUP_PROMOTE: 'group_promote',
  GROUP_DEMOTE: 'group_demote',
  CALL: 'call',
  POLL_VOTE: 'poll_vote',
};

/**
 * A bus event in the reference's `{event, sessionId, data}` shape, `data` as webhooks get it; null for the
 * types the socket does not send.
 */
export function toLegacyEvent(e: BusEvent): LegacyEvent | null {
  const event = legacyEvents[e.type];
  // "message - New message received": what the session receives; its own sends show up as acks.
  if (!event || (e.type === 'MESSAGE' && e.message.fromMe)) return null;
  return { event, sessionId: e.sessionId, data: eventPayload(e) };
}

export interface LegacySocketOptions {
  bus: EventBus;
  sessions: SessionManager;
  logger: Logger;
  /** Decides whether an upgrade request may connect (the auth work plugs in here); refused ones get HTTP 401. */
  authorize?: (req: IncomingMessage) => boolean;
  /** Whether the caller may watch this session; one it may not is answered like an unknown session. */
  mayRead?: (req: IncomingMessage, sessionId: string) => boolean;
  /** Ends a socket when its key is revoked or its session removed, and counts it against the key's subscriptions. */
  live: LiveAccess;
  /** Who the upgrade request speaks for (its key, its address). */
  holder: (req: IncomingMessage) => LiveHolder;
  /** ws's server class, passed in so that ws is loaded only once a socket is asked for. */
  WebSocketServer: typeof WebSocketServer;
}

/**
 * The legacy event socket `ws://host/ws/{sessionId}`: each client gets that session's events from the
 * bus as `{event, sessionId, data}` (and the current QR code at once, if one is showing). An unknown
 * session is closed with 4404, a removed one with 4410, one whose key is revoked with 4403.
 */
export function createLegacySocket(o: LegacySocketOptions) {
  // Clients only listen: a message over this is a client misbehaving (ws closes it with 1009).
  const wss = new o.WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const pinger = keepAlive(wss, PING_INTERVAL_MS);

  function attach(ws: WebSocket, sessionId: string, visible: boolean, req: IncomingMessage): void {
    pinger.watch(ws);
    // Clients only listen; anything they send is ignored.
    ws.on('message', () => undefined);
    const session = visible ? o.sessions.get(sessionId) : null;
    if (!session) {
      closeSocket(ws, LegacyClose.SESSION_NOT_FOUND, `Session with ID '${sessionId}' not found`, o.logger);
      return;
    }
    let release: () => void;
    try {
      release = o.live.hold(o.holder(req), sessionId, (why) =>
        why === 'revoked'
          ? closeSocket(ws, LegacyClose.KEY_REVOKED, 'API key revoked', o.logger)
          : closeSocket(ws, LegacyClose.SESSION_REMOVED, 'Session removed', o.logger),
      );
    } catch (error) {
      closeSocket(ws, LegacyClose.TOO_MANY_SUBSCRIPTIONS, (error as Error).message, o.logger);
      return;
    }
    const send = (event: LegacyEvent) => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        o.logger.warn('legacy socket client too slow, closing it', { sessionId, buffered: ws.bufferedAmount });
        closeSocket(ws, LegacyClose.TOO_SLOW, 'client too slow', o.logger);
        return;
      }
      ws.send(JSON.stringify(event));
    };
    const off = o.bus.listen(sessionId, (e) => {
      const event = toLegacyEvent(e);
      if (event) send(event);
    });
    ws.once('close', () => {
      off();
      release();
    });
    if (session.qr) send({ event: 'qr', sessionId, data: qrPayload(session.qr) });
  }

  return {
    /** Handles an upgrade whose path starts with /ws/. */
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      if (o.authorize && !o.authorize(req)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const path = (req.url ?? '/').split('?')[0]!;
      let sessionId: string;
      try {
        sessionId = decodeURIComponent(path.slice(WS_PATH_PREFIX.length).replace(/\/$/, ''));
      } catch {
        sessionId = '';
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        // ws reports a client's protocol errors (an oversized frame, bad UTF-8) here and closes the socket
        // itself; without a listener the error would be thrown and end the process.
        ws.on('error', (error) => o.logger.debug('legacy socket client error', { sessionId, err: String(error) }));
        if (!sessionId || sessionId.includes('/')) {
          closeSocket(ws, LegacyClose.SESSION_NOT_FOUND, 'Use /ws/{sessionId}', o.logger);
          return;
        }
        attach(ws, sessionId, !o.mayRead || o.mayRead(req, sessionId), req);
      });
    },
    clientCount(): number {
      return wss.clients.size;
    },
    close(): void {
      pinger.stop();
      for (const ws of wss.clients) closeSocket(ws, LegacyClose.SHUTDOWN, 'server shutting down', o.logger);
      wss.close();
    },
  };
}
