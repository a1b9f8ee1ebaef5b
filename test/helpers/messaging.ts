import type { Client } from 'graphql-ws';
import { collect, readySession, startServer, waitFor, type TestServer } from './app.js';

export const MESSAGE_FIELDS = 'id chatId body fromMe timestamp author type ack caption filename mimetype size quotedMessageId';
export const SEND_TEXT = `mutation($input: SendTextInput!) { sendText(input: $input) { message { ${MESSAGE_FIELDS} } } }`;
export const sendMedia = (name: 'sendImage' | 'sendFile' | 'sendAudio') =>
  `mutation($input: SendMediaInput!) { ${name}(input: $input) { message { ${MESSAGE_FIELDS} } } }`;
export const MARK_READ = 'mutation($s: String!, $c: String!) { markChatRead(sessionId: $s, chatId: $c) { chatId chat { unreadCount } } }';
export const MESSAGES = `query($s: String!, $c: String!, $last: Int, $before: String) { session(sessionId: $s) { chat(chatId: $c) {
  id unreadCount messages(last: $last, before: $before) { edges { cursor node { ${MESSAGE_FIELDS} } } pageInfo { hasPreviousPage hasNextPage startCursor endCursor } } } } }`;
export const MESSAGE_SUB = `subscription($s: String!, $c: String) { message(sessionId: $s, chatId: $c) { ${MESSAGE_FIELDS} } }`;
export const ACK_SUB = 'subscription($s: String!) { ack(sessionId: $s) { type sessionId messageId chatId ack at } }';
export const INJECT = `mutation($s: String!, $from: String!, $body: String!) { sandboxInjectMessage(sessionId: $s, from: $from, body: $body) { ${MESSAGE_FIELDS} } }`;
export const ECHO_BOT = '15550000001@c.us';

/** A server with two READY sandbox sessions, A and B; returns their own chat ids. */
export async function twoSessions(overrides: Parameters<typeof startServer>[0] = {}, dataDir?: string) {
  const server = await startServer(overrides, dataDir);
  const [a, b] = await Promise.all([readySession(server, 'A'), readySession(server, 'B')]);
  return { server, a, b };
}

/** The messages of one chat of a session, oldest first (one page of at most 200). */
export async function history(server: TestServer, sessionId: string, chatId: string, last = 200) {
  const data = await server.gqlOk(MESSAGES, { s: sessionId, c: chatId, last });
  return (data.session.chat?.messages.edges ?? []).map((e: { node: any }) => e.node) as any[];
}

export async function waitReady(server: TestServer, sessionId: string) {
  await waitFor(async () => (await server.gqlOk('query($s: String!) { session(sessionId: $s) { status } }', { s: sessionId })).session?.status === 'READY', 5000, `${sessionId} READY`);
}

export const errorOf = (result: { errors?: { extensions?: { code?: string; details?: any } }[] }) => result.errors?.[0]?.extensions;

/**
 * Starts a graphql-ws subscription and waits until the server's bus has its listener, so no event sent
 * afterwards can be missed (a fixed sleep is not enough on a busy machine).
 */
export async function live<T = any>(server: TestServer, client: Client, query: string, variables: Record<string, unknown> = {}) {
  const bus = server.app.services.bus;
  const before = bus.listenerCount();
  const sub = collect<T>(client, query, variables);
  await waitFor(() => bus.listenerCount() > before || sub.errors.length > 0, 10_000, 'the subscription to start');
  return sub;
}
