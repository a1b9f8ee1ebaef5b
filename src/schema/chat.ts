import type { GraphQLContext } from '../context.js';
import type { ChatView } from '../messaging/messaging-service.js';
import { builder } from './builder.js';
import { inSession, MessageRef } from './message.js';

// A chat is loaded by `<sessionId> <chatId>` (neither contains a space), so all the chats a query asks
// for are fetched together: one engine call per session however many chats and aliases there are.
export const chatKey = (sessionId: string, chatId: string) => `${sessionId} ${chatId}`;

export function splitKeys(keys: readonly string[]): Map<string, string[]> {
  const bySession = new Map<string, string[]>();
  for (const key of keys) {
    const at = key.indexOf(' ');
    const sessionId = key.slice(0, at);
    let ids = bySession.get(sessionId);
    if (!ids) bySession.set(sessionId, (ids = []));
    ids.push(key.slice(at + 1));
  }
  return bySession;
}

/** Runs `load` once per session for the keys of that session; a failing session fails only its keys. */
export async function loadBySession<T>(
  keys: readonly string[],
  load: (sessionId: string, ids: string[]) => Promise<T[]>,
): Promise<(T | Error)[]> {
  const results = new Map<string, T | Error>();
  await Promise.all(
    [...splitKeys(keys)].map(async ([sessionId, ids]) => {
      try {
        const values = await load(sessionId, ids);
        ids.forEach((id, i) => results.set(chatKey(sessionId, id), values[i] as T));
      } catch (error) {
        for (const id of ids) results.set(chatKey(sessionId, id), error as Error);
      }
    }),
  );
  return keys.map((key) => results.get(key) as T | Error);
}

// An unknown chat loads as null, which the nullable fields returning a Chat pass on as null.
export const ChatRef = builder.loadableObjectRef<ChatView, string>('Chat', {
  load: (keys: string[], ctx: GraphQLContext) =>
    loadBySession(keys, (sessionId, ids) => ctx.services.messaging.chatsByIds(sessionId, ids)) as Promise<(ChatView | Error)[]>,
  cacheResolved: (chat) => chatKey(chat.sessionId, chat.id),
});

ChatRef.implement({
  fields: (t) => ({
    id: t.exposeString('id', { description: '15550001234@c.us or ...@g.us' }),
    name: t.exposeString('name', { nullable: true }),
    isGroup: t.exposeBoolean('isGroup'),
    unreadCount: t.exposeInt('unreadCount'),
    timestamp: t.exposeInt('timestamp', { description: 'Unix seconds of the newest activity' }),
    lastMessage: t.field({ type: MessageRef, nullable: true, resolve: (c) => (c.lastMessage ? inSession(c.sessionId, c.lastMessage) : null) }),
  }),
});
