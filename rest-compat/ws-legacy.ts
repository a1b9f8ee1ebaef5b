import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import type { MessageAck } from '../src/engine/engine.js';
import type { BusEvent, EventBus } from '../src/events/bus.js';
import type { Logger } from '../src/logger.js';
import type { SessionManager } from '../src/sessions/session-manager.js';

export const WS_PATH_PREFIX = '/ws/';

/** Close codes of the legacy socket (4000-4999 is the range for applications). */
export const LegacyClose = {
  SESSION_NOT_FOUND: 4404,
  SESSION_REMOVED: 4410,
  TOO_SLOW: 4408,
  SHUTDOWN: 1001,
} as const;

// open-wa reports acks as numbers; legacy clients compare those.
const ackNumber: Record<MessageAck, number> = { ERROR: -1, PENDING: 0, SERVER: 1, DEVICE: 2, READ: 3, PLAYED: 4 };

// A client that has this much unsent data is not keeping up; it is closed rather than buffered forever.
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
const PING_INTERVAL_MS = 30_000;

export interface LegacyEvent {
  event: 'qr' | 'authenticated' | 'ready' | 'message' | 'ack' | 'disconnected';
  sessionId: string;
  data: Record<string, unknown>;
}

/** A bus event in the reference's `{event, sessionId, data}` shape, or null for the types the socket does not send. */
export function toLegacyEvent(e: BusEvent): LegacyEvent | null {
  const sessionId = e.sessionId;
  switch (e.type) {
    case 'QR':
      return { event: 'qr', sessionId, data: { qrCode: e.qr.dataUrl, expiresAt: new Date(e.qr.expiresAt).toISOString() } };
    case 'AUTHENTICATED':
      return { event: 'authenticated', sessionId, data: {} };
    case 'READY':
      return { event: 'ready', sessionId, data: { me: e.me.id, pushname: e.me.pushname } };
    case 'MESSAGE': {
      // "message - New message received": what the session receives; its own sends show up as acks.
      const m = e.message;
      if (m.fromMe) return null;
      return {
        event: 'message',
        sessionId,
        data: {
          id: m.id,
          body: m.body,
          from: m.from,
          to: m.to,
          chatId: m.chatId,
          fromMe: m.fromMe,
          timestamp: m.timestamp,
          author: m.author,
          type: m.type.toLowerCase(),
          caption: m.caption,
          mimetype: m.media?.mimetype ?? null,
          filename: m.media?.filename ?? null,
          quotedMessageId: m.quotedMessageId,
          isGroupMsg: m.chatId.endsWith('@g.us'),
        },
      };
    }
    case 'ACK':
      return { event: 'ack', sessionId, data: { id: e.messageId, chatId: e.chatId, ack: ackNumber[e.ack], status: e.ack.toLowerCase() } };
    case 'DISCONNECTED':
      return { event: 'disconnected', sessionId, data: { reason: e.reason } };
    default:
      return null;
  }
}

export interface LegacySocketOptions {
  bus: EventBus;
  sessions: SessionManager;
  logger: Logger;
  /** Decides whether an upgrade request may connect (the auth work plugs in here); refused ones get HTTP 401. */
  authorize?: (req: IncomingMessage) => boolean;
  /** Whether the caller may watch this session; one it may not is answered like an unknown session. */
  mayRead?: (req: IncomingMessage, sessionId: string) => boolean;
  /** ws's server class, passed in so that ws is loaded only once a socket is asked for. */
  WebSocketServer: typeof WebSocketServer;
}

/**
 * The legacy event socket `ws://host/ws/{sessionId}`: each client gets that session's events from the
 * bus as `{event, sessionId, data}` (and the current QR code at once, if one is showing). An unknown
 * session is closed with 4404, a removed one with 4410.
 */
export function createLegacySocket(o: LegacySocketOptions) {
  const wss = new o.WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const alive = new WeakSet<WebSocket>();
  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, PING_INTERVAL_MS);
  pinger.unref();

  function attach(ws: WebSocket, sessionId: string, visible: boolean): void {
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
    // Clients only listen; anything they send is ignored.
    ws.on('message', () => undefined);
    const session = visible ? o.sessions.get(sessionId) : null;
    if (!session) {
      ws.close(LegacyClose.SESSION_NOT_FOUND, `Session with ID '${sessionId}' not found`.slice(0, 120));
      return;
    }
    const send = (event: LegacyEvent) => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        o.logger.warn('legacy socket client too slow, closing it', { sessionId, buffered: ws.bufferedAmount });
        ws.close(LegacyClose.TOO_SLOW, 'client too slow');
        return;
      }
      ws.send(JSON.stringify(event));
    };
    const off = o.bus.listen(sessionId, (e) => {
      if (e.type === 'STATUS' && e.status === 'TERMINATED') {
        ws.close(LegacyClose.SESSION_REMOVED, 'Session removed');
        return;
      }
      const event = toLegacyEvent(e);
      if (event) send(event);
    });
    ws.once('close', off);
    if (session.qr) send({ event: 'qr', sessionId, data: { qrCode: session.qr.dataUrl, expiresAt: new Date(session.qr.expiresAt).toISOString() } });
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
        if (!sessionId || sessionId.includes('/')) {
          ws.close(LegacyClose.SESSION_NOT_FOUND, 'Use /ws/{sessionId}');
          return;
        }
        attach(ws, sessionId, !o.mayRead || o.mayRead(req, sessionId));
      });
    },
    clientCount(): number {
      return wss.clients.size;
    },
    close(): void {
      clearInterval(pinger);
      for (const ws of wss.clients) ws.close(LegacyClose.SHUTDOWN, 'server shutting down');
      wss.close();
    },
  };
}
