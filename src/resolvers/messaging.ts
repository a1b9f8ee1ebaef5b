import { policy, session } from '../auth/access-policy.js';
import type { MediaKind } from '../engine/engine.js';
import { builder } from '../schema/builder.js';
import { ChatRef, chatKey } from '../schema/chat.js';
import {
  AckEventRef,
  inSession,
  MediaRef,
  MessageRef,
  PollVoteEventRef,
  SendContactCardInput,
  SendLocationInput,
  SendMediaInput,
  SendMessagePayload,
  SendPollInput,
  SendTextInput,
  VotePollInput,
} from '../schema/message.js';

export const MarkChatReadPayload = builder.objectRef<{ sessionId: string; chatId: string }>('MarkChatReadPayload').implement({
  fields: (t) => ({
    sessionId: t.exposeString('sessionId'),
    chatId: t.exposeString('chatId'),
    chat: t.field({ type: ChatRef, nullable: true, resolve: (p) => chatKey(p.sessionId, p.chatId) }),
  }),
});

const mediaMutations: [string, MediaKind, string][] = [
  ['sendImage', 'image', 'Send an image (data URL of an image/* type); at most --max-image-bytes'],
  ['sendFile', 'file', 'Send a document of any type; at most --max-file-bytes'],
  ['sendAudio', 'audio', 'Send audio (data URL of an audio/* type); at most --max-image-bytes'],
  ['sendVideo', 'video', 'Send a video (data URL of a video/* type); at most --max-file-bytes'],
  ['sendSticker', 'sticker', 'Send a sticker (an image/webp, or another image/* type open-wa converts); at most --max-image-bytes'],
  ['sendVoice', 'voice', 'Send a voice note (type PTT; an audio/* type, audio/ogg; codecs=opus best); at most --max-image-bytes'],
];

builder.mutationFields((t) => ({
  sendText: t.field({
    extensions: policy(session('send', 'input'), 'messaging'),
    type: SendMessagePayload,
    args: { input: t.arg({ type: SendTextInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ message: await ctx.services.messaging.sendText(input) }),
  }),
  sendLocation: t.field({
    extensions: policy(session('send', 'input'), 'messaging'),
    type: SendMessagePayload,
    description: 'Send a location (type LOCATION)',
    args: { input: t.arg({ type: SendLocationInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ message: await ctx.services.messaging.sendLocation(input) }),
  }),
  sendContactCard: t.field({
    extensions: policy(session('send', 'input'), 'messaging'),
    type: SendMessagePayload,
    description: 'Send a contact card (type VCARD): a WhatsApp contact by its id, or a vCard',
    args: { input: t.arg({ type: SendContactCardInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ message: await ctx.services.messaging.sendContactCard(input) }),
  }),
  sendPoll: t.field({
    extensions: policy(session('send', 'input'), 'messaging'),
    type: SendMessagePayload,
    description: 'Send a poll (type POLL); open-wa sends polls to groups only (ENGINE_UNSUPPORTED elsewhere)',
    args: { input: t.arg({ type: SendPollInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ message: await ctx.services.messaging.sendPoll(input) }),
  }),
  votePoll: t.field({
    extensions: policy(session('send', 'input'), 'messaging'),
    type: SendMessagePayload,
    description: "Vote on a poll (an extension of the contract): the poll's copies get the new counts, its sender a POLL_VOTE event",
    args: { input: t.arg({ type: VotePollInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ message: await ctx.services.messaging.votePoll(input) }),
  }),
  ...Object.fromEntries(
    mediaMutations.map(([name, kind, description]) => [
      name,
      t.field({
        type: SendMessagePayload,
        description,
        extensions: policy(session('send', 'input'), 'messaging'),
        args: { input: t.arg({ type: SendMediaInput, required: true }) },
        resolve: async (_root, { input }, ctx) => ({ message: inSession(input.sessionId, await ctx.services.messaging.sendMedia(kind, input)) }),
      }),
    ]),
  ),
  markChatRead: t.field({
    extensions: policy(session('send')),
    type: MarkChatReadPayload,
    description: 'Read every message of a chat (the senders see READ)',
    args: { sessionId: t.arg.string({ required: true }), chatId: t.arg.string({ required: true }) },
    resolve: async (_root, { sessionId, chatId }, ctx) => {
      await ctx.services.messaging.markChatRead(sessionId, chatId);
      return { sessionId, chatId };
    },
  }),
  sandboxInjectMessage: t.field({
    extensions: policy(session('manage')),
    type: MessageRef,
    description: 'Sandbox engine only: a text message arrives at the session from any number',
    args: { sessionId: t.arg.string({ required: true }), from: t.arg.string({ required: true }), body: t.arg.string({ required: true }) },
    resolve: (_root, { sessionId, from, body }, ctx) => ctx.services.messaging.injectMessage(sessionId, from, body),
  }),
}));

builder.queryFields((t) => ({
  messageMedia: t.field({
    extensions: policy(session('read')),
    type: MediaRef,
    description: 'The media of one message with its bytes (REST: GET /sessions/{id}/messages/{messageId}/media); MESSAGE_NOT_FOUND, MEDIA_GONE',
    args: { sessionId: t.arg.string({ required: true }), messageId: t.arg.string({ required: true }) },
    resolve: async (_root, { sessionId, messageId }, ctx) => {
      const media = await ctx.services.messaging.media(sessionId, messageId);
      return { mimetype: media.mimetype, ...(media.filename ? { filename: media.filename } : {}), size: media.data.length, sessionId, messageId, bytes: media };
    },
  }),
}));

builder.subscriptionFields((t) => ({
  message: t.field({
    extensions: policy(session('read')),
    type: MessageRef,
    description: 'Every message of the session, incoming and outgoing; only one chat when chatId is given',
    args: { sessionId: t.arg.string({ required: true }), chatId: t.arg.string() },
    subscribe: (_root, { sessionId, chatId }, ctx) => ctx.services.live.stream(ctx, sessionId, ctx.services.messaging.messageStream(sessionId, chatId)),
    resolve: (message, { sessionId }) => inSession(sessionId, message),
  }),
  pollVote: t.field({
    extensions: policy(session('read')),
    type: PollVoteEventRef,
    description: 'Votes on the polls this session sent',
    args: { sessionId: t.arg.string({ required: true }) },
    subscribe: (_root, { sessionId }, ctx) => ctx.services.live.stream(ctx, sessionId, ctx.services.messaging.pollVoteStream(sessionId)),
    resolve: (event) => event,
  }),
  ack: t.field({
    extensions: policy(session('read')),
    type: AckEventRef,
    description: 'Ack changes of the messages this session sent (SERVER, DEVICE, READ)',
    args: { sessionId: t.arg.string({ required: true }) },
    subscribe: (_root, { sessionId }, ctx) => ctx.services.live.stream(ctx, sessionId, ctx.services.messaging.ackStream(sessionId)),
    resolve: (event) => event,
  }),
}));
