import type { IncomingMessage } from 'node:http';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { Authenticator } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';

// Bearer only: a browser offered Basic shows a login prompt and then sends what was typed to this server on
// every request, from any site's page. Basic credentials are still accepted from API clients that send them.
export const WWW_AUTHENTICATE = 'Bearer realm="wa-gateway"';

export const UNAUTHENTICATED_MESSAGE = 'a valid API key is required (X-Api-Key, Authorization: Bearer, or Basic with the key as password)';

export function unauthenticatedError(message = UNAUTHENTICATED_MESSAGE) {
  return createGraphQLError(message, {
    extensions: { code: 'UNAUTHENTICATED', details: {}, http: { status: 401, headers: { 'WWW-Authenticate': WWW_AUTHENTICATE } } },
  });
}

/**
 * What auth puts in the GraphQL context, from yoga's initial context: a Fetch request over HTTP,
 * or graphql-ws's connectionParams and upgrade request over WebSocket.
 */
export function authContext(auth: Authenticator, init: Record<string, unknown>): { auth: Principal | null; clientIp: string } {
  const req = init.req as IncomingMessage | undefined;
  const clientIp = req?.socket?.remoteAddress ?? 'unknown';
  // The lean HTTP path identified the caller already.
  if ('principal' in init) return { auth: init.principal as Principal | null, clientIp };
  const request = init.request as Request | undefined;
  if (request) return { auth: auth.fromHeaders(request.headers), clientIp };
  if ('connectionParams' in init) return { auth: auth.fromConnectionParams(init.connectionParams), clientIp };
  return { auth: req ? auth.fromNodeRequest(req) : null, clientIp };
}

/**
 * Refuses every GraphQL operation without a valid key (401 + WWW-Authenticate) before it is parsed, so
 * a caller without a key learns nothing about the schema. Over graphql-ws, app.ts checks at connect
 * and per subscribe; the execute/subscribe guard below covers any path that reaches execution.
 */
export function useAuth(auth: Authenticator): Plugin<{ auth?: Principal | null }> {
  return {
    onParams({ request, setResult }) {
      if (!auth.enabled) return;
      if (!auth.record(auth.fromHeaders(request.headers))) setResult({ errors: [unauthenticatedError()] });
    },
    onExecute({ args, setResultAndStopExecution }) {
      if (!args.contextValue.auth) setResultAndStopExecution({ errors: [unauthenticatedError()] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      if (!args.contextValue.auth) setResultAndStopExecution({ errors: [unauthenticatedError()] });
    },
  };
}
