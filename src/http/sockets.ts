import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { getOperationAST, type ExecutionArgs, type GraphQLError } from 'graphql';
import type { Context, SubscribePayload } from 'graphql-ws';
import { createGraphQLError, type YogaServerInstance } from 'graphql-yoga';
import type { WebSocket, WebSocketServer } from 'ws';
import { createLegacySocket, WS_PATH_PREFIX, type LegacySocketOptions } from '../../rest-compat/ws-legacy.js';
import type { Authenticator } from '../auth/authenticator.js';
import { tooManySubscriptions, type LiveAccess, type LiveHolder } from '../auth/live-access.js';
import type { GraphQLContext } from '../context.js';
import { storageFullOf, validationError } from '../errors.js';
import type { Logger } from '../logger.js';
import { authContext, unauthenticatedError } from '../plugins/use-auth.js';
import { UNEXPECTED_ERROR_MESSAGE, type MaskError } from '../plugins/use-error-codes.js';
import type { Commits } from '../store/database.js';
import { closeSocket, keepAlive } from './ws-guard.js';

export interface SocketOptions {
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  auth: Authenticator;
  batch: Commits;
  live: LiveAccess;
  logger: Logger;
  maskError: MaskError;
  limits: {
    /** Most bytes a graphql-ws connection may send before its connection_ack. */
    maxInitBytes: number;
    /** Largest message after the ack (the HTTP body limit). */
    maxMessageBytes: number;
    maxSubscriptionsPerConnection: number;
  };
  legacy: Omit<LegacySocketOptions, 'WebSocketServer' | 'live' | 'logger'>;
}

/** graphql-ws close codes this server uses beyond the protocol's own (4400, 4401, 4403, 4409, 4499, 4500...). */
export const GraphQLWsClose = {
  KEY_REVOKED: 4403,
  INTERNAL_ERROR: 4500,
  MESSAGE_TOO_BIG: 1009,
  SHUTDOWN: 1001,
} as const;

const KEEP_ALIVE_MS = 12_000;

interface Servers {
  graphqlWs: WebSocketServer;
  legacy: { handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void; close(): void };
}

/** What graphql-ws keeps per connection (its `ctx.extra`). */
interface Extra {
  socket: WebSocket;
  request: IncomingMessage;
  holder: LiveHolder;
  /** Ids of this connection's live subscriptions, for the per-connection limit. */
  subscriptions: Set<string>;
  /** Called once the connection is acknowledged: the small pre-ack limit gives way to the message limit. */
  admitted: () => void;
  /** Drops the connection's hold on its key (set at connect). */
  release: () => void;
}

/**
 * The WebSocket endpoints: graphql-ws on /graphql (operations through yoga's envelop, as over HTTP) and the
 * legacy event socket on /ws/{sessionId}. ws and graphql-ws are loaded on the first upgrade, not at start-up.
 */
export function createSockets(o: SocketOptions) {
  let servers: Promise<Servers> | null = null;
  const load = () => (servers ??= start(o));
  return {
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const legacy = path.startsWith(WS_PATH_PREFIX);
      if (path !== '/graphql' && !legacy) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const onError = () => socket.destroy();
      socket.on('error', onError);
      void load().then(({ graphqlWs, legacy: legacyWs }) => {
        socket.off('error', onError);
        if (socket.destroyed) return;
        // Whatever one upgrade throws ends that socket, never the process.
        try {
          if (legacy) legacyWs.handleUpgrade(req, socket, head);
          else graphqlWs.handleUpgrade(req, socket, head, (ws) => graphqlWs.emit('connection', ws, req));
        } catch (error) {
          o.logger.error('WebSocket upgrade failed', { path, err: String((error as Error)?.stack ?? error) });
          socket.destroy();
        }
      }, () => socket.destroy());
    },
    async close(): Promise<void> {
      if (!servers) return;
      const { graphqlWs, legacy } = await servers;
      for (const client of graphqlWs.clients) closeSocket(client, GraphQLWsClose.SHUTDOWN, 'server shutting down');
      graphqlWs.close();
      legacy.close();
    },
  };
}

async function start(o: SocketOptions): Promise<Servers> {
  const [{ WebSocketServer }, { makeServer, handleProtocols }] = await Promise.all([import('ws'), import('graphql-ws')]);
  const { yoga, auth, batch, live, logger, limits } = o;
  const unexpected = (error: unknown) => o.maskError(error, UNEXPECTED_ERROR_MESSAGE) as GraphQLError;
  // After the ack a message may be as large as an HTTP body; before it, the byte count in `serve` applies.
  const graphqlWs = new WebSocketServer({ noServer: true, maxPayload: limits.maxMessageBytes, handleProtocols: (protocols) => handleProtocols(protocols) });
  graphqlWs.on('error', (error) => logger.error('graphql-ws server error', { err: String(error) }));
  const pinger = keepAlive(graphqlWs, KEEP_ALIVE_MS);
  graphqlWs.once('close', () => pinger.stop());

  const server = makeServer<Record<string, unknown> | undefined, Extra>({
    // A mutation's answer waits for its writes' commit here too (see WriteBatch). An error thrown while one
    // operation runs becomes that operation's result, so it never reaches graphql-ws's connection-wide 4500.
    execute: async (args) => {
      try {
        const result = await (args.rootValue as { execute: typeof import('graphql').execute }).execute(args);
        try {
          await batch.committed();
        } catch (error) {
          // A commit refused for want of space is the caller's STORAGE_FULL, as on HTTP; thrown, it would close the socket.
          const storage = storageFullOf(error);
          if (!storage) throw error;
          return { errors: [createGraphQLError(storage.message, { extensions: { code: storage.code, details: storage.details } })] };
        }
        return result;
      } catch (error) {
        return { errors: [unexpected(error)] };
      }
    },
    subscribe: async (args) => {
      try {
        return await (args.rootValue as { subscribe: typeof import('graphql').subscribe }).subscribe(args);
      } catch (error) {
        return { errors: [unexpected(error)] };
      }
    },
    // The result as it is, where graphql-ws would copy it into a new object per subscriber only to drop an
    // absent `errors`; a result with errors keeps graphql-ws's own shape.
    onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? undefined : result),
    // A connection needs a valid key up front; every subscribe checks it again (a key may be revoked meanwhile),
    // and revoking the key closes the connection (4403).
    onConnect: (ctx) => {
      const principal = auth.fromConnectionParams(ctx.connectionParams);
      if (auth.enabled && !auth.record(principal)) return false;
      const { extra } = ctx;
      extra.holder = { auth: principal, clientIp: extra.holder.clientIp };
      extra.release = live.hold(extra.holder, null, () => closeSocket(extra.socket, GraphQLWsClose.KEY_REVOKED, 'API key revoked', logger), 'connection');
      extra.admitted();
      return true;
    },
    // Everything that can go wrong before execution is answered as an `error` message for this operation's id;
    // the connection and its other operations carry on.
    onSubscribe: async (ctx, id, params) => {
      try {
        return await prepare(ctx, id, params);
      } catch (error) {
        return [unexpected(error)];
      }
    },
    onComplete: (ctx, id) => {
      ctx.extra.subscriptions.delete(id);
    },
    onClose: (ctx) => {
      ctx.extra.release();
    },
  });

  async function prepare(ctx: Context<Record<string, unknown> | undefined, Extra>, id: string, params: SubscribePayload) {
    if (!authContext(auth, { connectionParams: ctx.connectionParams }).auth) return [unauthenticatedError()];
    const { schema: envelopedSchema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
      ...ctx,
      req: ctx.extra.request,
      socket: ctx.extra.socket,
      params,
    });
    const document = parse(params.query);
    const errors = validate(envelopedSchema, document);
    if (errors.length > 0) return errors;
    const args = {
      schema: envelopedSchema,
      operationName: params.operationName,
      document,
      variableValues: params.variables,
      contextValue: await contextFactory(),
      rootValue: { execute, subscribe },
    } satisfies ExecutionArgs;
    const operation = getOperationAST(document, params.operationName);
    if (!operation) {
      throw validationError(params.operationName ? `no operation named '${params.operationName}' in the document` : 'the document holds several operations: name one (operationName)', {
        field: 'operationName',
      });
    }
    if (operation.operation === 'subscription') {
      // The per-key total is counted where each subscription's stream is made (LiveAccess), on every
      // transport; checking it here too answers the common case before any execution.
      const held = ctx.extra.subscriptions;
      if (held.size >= limits.maxSubscriptionsPerConnection) throw tooManySubscriptions(limits.maxSubscriptionsPerConnection, 'connection');
      live.admit(ctx.extra.holder);
      held.add(id);
    }
    return args;
  }

  graphqlWs.on('connection', (ws: WebSocket, request: IncomingMessage) => serve(ws, request));

  function serve(ws: WebSocket, request: IncomingMessage): void {
    pinger.watch(ws);
    // ws reports protocol errors (a message over maxPayload, bad UTF-8) here and closes the socket itself.
    ws.on('error', (error) => logger.debug('graphql-ws client error', { err: String(error) }));
    const raw = request.socket;
    // Before the ack a client sends connection_init (and maybe pings): more than a few KiB is not a client,
    // and is not buffered. Counted on the TCP stream, so a frame declared huge is cut off as it arrives.
    let received = 0;
    const countInit = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= limits.maxInitBytes) return;
      raw.off('data', countInit);
      raw.pause();
      closeSocket(ws, GraphQLWsClose.MESSAGE_TOO_BIG, `more than ${limits.maxInitBytes} bytes before connection_ack`, logger);
      setTimeout(() => ws.terminate(), 1000).unref();
    };
    raw.on('data', countInit);
    const extra: Extra = {
      socket: ws,
      request,
      holder: { auth: null, clientIp: raw.remoteAddress ?? 'unknown' },
      subscriptions: new Set(),
      admitted: () => raw.off('data', countInit),
      release: () => undefined,
    };
    const closed = server.opened(
      {
        protocol: ws.protocol,
        send: (data) =>
          new Promise((resolve, reject) => {
            if (ws.readyState !== ws.OPEN) return resolve();
            ws.send(data, (err) => (err ? reject(err) : resolve()));
          }),
        close: (code, reason) => closeSocket(ws, code ?? GraphQLWsClose.INTERNAL_ERROR, reason ?? '', logger),
        onMessage: (cb) =>
          ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
            const text = Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.from(data as ArrayBuffer).toString();
            cb(text).catch((error: unknown) => {
              // Only a fault of ours gets here (each operation's own errors are answered on its id).
              logger.error('graphql-ws message handling failed', { err: String((error as Error)?.stack ?? error) });
              closeSocket(ws, GraphQLWsClose.INTERNAL_ERROR, 'Internal server error', logger);
            });
          }),
      },
      extra,
    );
    ws.once('close', (code, reason) => {
      raw.off('data', countInit);
      closed(code, reason.toString()).catch((error: unknown) => logger.error('graphql-ws close handling failed', { err: String(error) }));
    });
  }

  return { graphqlWs, legacy: createLegacySocket({ ...o.legacy, live, logger, WebSocketServer }) };
}

