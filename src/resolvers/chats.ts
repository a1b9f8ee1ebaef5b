import { cursorToOffset, resolveArrayConnection } from '@pothos/plugin-relay';
import type { GroupParticipantInfo } from '../engine/engine.js';
import { validationError } from '../errors.js';
import { checkPageSize, MAX_PAGE } from '../messaging/messaging-service.js';
import { builder } from '../schema/builder.js';
import { ChatRef, chatKey, loadBySession } from '../schema/chat.js';
import { ContactRef } from '../schema/contact.js';
import { GroupParticipantRef } from '../schema/group.js';
import { inSession, MessageConnectionRef } from '../schema/message.js';
import { SessionRef } from '../schema/session.js';

builder.objectFields(SessionRef, (t) => ({
  chats: t.connection(
    {
      type: ChatRef,
      description: 'Newest activity first; first or last 1-200 (default 50 a page); after/before: cursors this list gave',
      resolve: async (session, args, ctx) => {
        checkChatPage(args);
        return resolveArrayConnection({ args, defaultSize: 50, maxSize: MAX_PAGE }, await ctx.services.messaging.chats(session.sessionId));
      },
    },
    { name: 'ChatConnection' },
    { name: 'ChatEdge' },
  ),
  chat: t.field({
    type: ChatRef,
    nullable: true,
    description: 'One chat; null when this session has none with that id',
    args: { chatId: t.arg.string({ required: true }) },
    resolve: (session, { chatId }, ctx) => {
      ctx.services.messaging.checkChat(session.sessionId, chatId);
      return chatKey(session.sessionId, chatId);
    },
  }),
  contacts: t.field({
    type: [ContactRef],
    resolve: async (session, _args, ctx) => (await ctx.services.messaging.contacts(session.sessionId)).map((c) => ({ ...c, sessionId: session.sessionId })),
  }),
  contact: t.field({
    type: ContactRef,
    nullable: true,
    args: { contactId: t.arg.string({ required: true }) },
    resolve: async (session, { contactId }, ctx) => {
      const contact = await ctx.services.messaging.contact(session.sessionId, contactId);
      return contact ? { ...contact, sessionId: session.sessionId } : null;
    },
  }),
}));

builder.objectFields(ChatRef, (t) => ({
  messages: t.field({
    type: MessageConnectionRef,
    description: 'Newest last: the `last` (default 50, at most 200) messages before the message id `before`',
    args: { last: t.arg.int(), before: t.arg.string() },
    resolve: async (chat, { last, before }, ctx) => {
      const page = await ctx.services.messaging.messages(chat.sessionId, chat.id, last, before);
      return {
        edges: page.messages.map((node) => ({ cursor: node.id, node: inSession(chat.sessionId, node) })),
        pageInfo: {
          hasNextPage: page.hasNewer,
          hasPreviousPage: page.hasOlder,
          startCursor: page.messages[0]?.id ?? null,
          endCursor: page.messages.at(-1)?.id ?? null,
        },
      };
    },
  }),
  participants: t.loadableList({
    type: GroupParticipantRef,
    nullable: true,
    description: 'Null for one-to-one chats',
    load: (keys: string[], ctx) =>
      loadBySession(keys, (sessionId, ids) => ctx.services.messaging.participants(sessionId, ids)) as Promise<(GroupParticipantInfo[] | Error)[]>,
    resolve: (chat) => chatKey(chat.sessionId, chat.id),
  }),
}));

/** first/last as every page size; after/before must be cursors this list gave out (else VALIDATION_ERROR, not an empty page). */
function checkChatPage(args: { first?: number | null; last?: number | null; after?: string | null; before?: string | null }): void {
  if (args.first != null) checkPageSize(args.first, 'first');
  if (args.last != null) checkPageSize(args.last, 'last');
  for (const field of ['after', 'before'] as const) {
    const cursor = args[field];
    if (cursor == null) continue;
    let offset = Number.NaN;
    try {
      offset = cursorToOffset(cursor);
    } catch {
      // not base64 or not an offset cursor
    }
    if (!Number.isSafeInteger(offset) || offset < 0) throw validationError(`${field} is not a cursor of this list`, { field });
  }
}
