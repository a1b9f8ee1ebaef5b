import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createGraphQLError, type YogaServerInstance } from 'graphql-yoga';
import type { WebSocketServer } from 'ws';
import { createLegacySocket, WS_PATH_PREFIX, type LegacySocketOptions } from '../../rest-compat/ws-legacy.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { GraphQLContext } from '../context.js';
import { authContext, unauthenticatedError } from '../plugins/use-auth.js';
import type { WriteBatch } from '../store/write-batch.js';
import { storageFullOf } from '../errors.js';

export interface SocketOptions {
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  auth: Authenticator;
  batch: WriteBatch;
  legacy: Omit<LegacySocketOptions, 'WebSocketServer'>;
}

interface Servers {
  graphqlWs: WebSocketServer;
  legacy: { handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void; close(): void };
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
        if (legacy) legacyWs.handleUpgrade(req, socket, head);
        else graphqlWs.handleUpgrade(req, socket, head, (ws) => graphqlWs.emit('connection', ws, req));
      }, () => socket.destroy());
    },
    async close(): Promise<void> {
      if (!servers) return;
      const { graphqlWs, legacy } = await servers;
      for (const client of graphqlWs.clients) client.close(1001, 'server shutting down');
      graphqlWs.close();
      legacy.close();
    },
  };
}

async function start(o: SocketOptions): Promise<Servers> {
  const [{ WebSocketServer }, { useServer }] = await Promise.all([import('ws'), import('graphql-ws/use/ws')]);
  const { yoga, auth, batch } = o;
  const graphqlWs = new WebSocketServer({ noServer: true });
  useServer(
    {
      // A mutation's answer waits for its writes' commit here too (see WriteBatch).
      execute: async (args) => {
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
      },
      subscribe: (args) => (args.rootValue as { subscribe: typeof import('graphql').subscribe }).subscribe(args),
      // The result as it is, where graphql-ws would copy it into a new object per subscriber only to drop an
      // absent `errors`; a result with errors keeps graphql-ws's own shape.
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? undefined : result),
      // A connection needs a valid key up front; every subscribe checks it again (a key may be revoked meanwhile).
      onConnect: (ctx) => !auth.enabled || Boolean(auth.record(auth.fromConnectionParams(ctx.connectionParams))),
      onSubscribe: async (ctx, _id, params) => {
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
        return {
          schema: envelopedSchema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
      },
    },
    graphqlWs,
  );
  return { graphqlWs, legacy: createLegacySocket({ ...o.legacy, WebSocketServer }) };
}
