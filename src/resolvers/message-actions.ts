import { policy, session } from '../auth/access-policy.js';
import { builder } from '../schema/builder.js';
import { SendMessagePayload } from '../schema/message.js';
import {
  DeleteMessageInput,
  DeleteMessagePayload,
  EditMessageInput,
  ForwardMessageInput,
  ReactToMessageInput,
  SetPresenceInput,
} from '../schema/message-action.js';
import { MarkChatReadPayload } from './messaging.js';

builder.mutationFields((t) => ({
  reactToMessage: t.field({
    extensions: policy(session('send', 'input'), 'messaging'),
    type: SendMessagePayload,
    description: 'React to a message with an emoji ("" takes the reaction back); answers the message with its reactions',
    args: { input: t.arg({ type: ReactToMessageInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ message: await ctx.services.messaging.reactToMessage(input) }),
  }),
  forwardMessage: t.field({
    extensions: policy(session('send', 'input'), 'messaging'),
    type: SendMessagePayload,
    description: 'Send a copy of a message to another chat; answers the copy',
    args: { input: t.arg({ type: ForwardMessageInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ message: await ctx.services.messaging.forwardMessage(input) }),
  }),
  deleteMessage: t.field({
    extensions: policy(session('send', 'input'), 'messaging'),
    type: DeleteMessagePayload,
    description: 'Delete a message: only your copy, or (forEveryone, your own messages) every copy, which become REVOKED',
    args: { input: t.arg({ type: DeleteMessageInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.messaging.deleteMessage(input),
  }),
  editMessage: t.field({
    extensions: policy(session('send', 'input'), 'messaging'),
    type: SendMessagePayload,
    description: 'Change the text of one of your own text messages; every copy shows it, edited: true',
    args: { input: t.arg({ type: EditMessageInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ message: await ctx.services.messaging.editMessage(input) }),
  }),
  setPresence: t.field({
    extensions: policy(session('send', 'input'), 'messaging'),
    type: 'Boolean',
    description: 'Show typing, recording ... in a chat (the other side gets a PRESENCE event)',
    args: { input: t.arg({ type: SetPresenceInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.messaging.setPresence(input),
  }),
  markChatUnread: t.field({
    extensions: policy(session('send')),
    type: MarkChatReadPayload,
    description: 'Mark a chat unread (an unread count of at least 1)',
    args: { sessionId: t.arg.string({ required: true }), chatId: t.arg.string({ required: true }) },
    resolve: async (_root, { sessionId, chatId }, ctx) => {
      await ctx.services.messaging.markChatUnread(sessionId, chatId);
      return { sessionId, chatId };
    },
  }),
}));
