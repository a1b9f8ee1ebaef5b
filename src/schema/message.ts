import type { EngineLocation, EngineMedia, EngineMediaBytes, EngineMessage, EnginePoll, MessageAck, MessageType } from '../engine/engine.js';
import { mediaUrl } from '../messaging/media-url.js';
import { builder } from './builder.js';
import { eventObject } from './events.js';

export const MessageTypeEnum = builder.enumType('MessageType', {
  values: ['CHAT', 'IMAGE', 'DOCUMENT', 'AUDIO', 'PTT', 'VIDEO', 'STICKER', 'LOCATION', 'VCARD', 'POLL', 'REVOKED', 'UNKNOWN'] as const satisfies readonly MessageType[],
});

export const MessageAckEnum = builder.enumType('MessageAck', {
  description: 'How far a sent message got: SERVER (sent), DEVICE (delivered), READ, PLAYED (audio)',
  values: ['ERROR', 'PENDING', 'SERVER', 'DEVICE', 'READ', 'PLAYED'] as const satisfies readonly MessageAck[],
});

/**
 * A message as GraphQL serves it: with its session where it has media (the media's url and bytes need it).
 * Whatever hands messages to GraphQL passes them through `inSession`.
 */
export type MessageView = EngineMessage & { sessionId?: string };

export function inSession(sessionId: string, message: EngineMessage): MessageView {
  return message.media ? { ...message, sessionId } : message;
}

export const MediaRef = builder.objectRef<EngineMedia & { sessionId: string; messageId: string; bytes?: EngineMediaBytes }>('Media').implement({
  description: 'The media of a message: its bytes are at `url` (REST, READ scope) or in `dataUrl`',
  fields: (t) => ({
    mimetype: t.exposeString('mimetype'),
    filename: t.string({ nullable: true, resolve: (m) => m.filename ?? null }),
    size: t.exposeInt('size', { description: 'Bytes' }),
    url: t.string({ description: 'GET it with the API key: /api/v1/sessions/{sessionId}/messages/{messageId}/media', resolve: (m) => mediaUrl(m.sessionId, m.messageId) }),
    dataUrl: t.string({
      description: 'The bytes as data:<mimetype>;base64,... (read when asked for); MEDIA_GONE once they are no longer kept',
      resolve: async (m, _args, ctx) => {
        const media = m.bytes ?? (await ctx.services.messaging.media(m.sessionId, m.messageId));
        return `data:${media.mimetype};base64,${media.data.toString('base64')}`;
      },
    }),
  }),
});

const LocationRef = builder.objectRef<EngineLocation>('Location').implement({
  fields: (t) => ({
    latitude: t.exposeFloat('latitude'),
    longitude: t.exposeFloat('longitude'),
    name: t.exposeString('name', { nullable: true }),
    address: t.exposeString('address', { nullable: true }),
  }),
});

const PollOptionRef = builder.objectRef<EnginePoll['options'][number]>('PollOption').implement({
  fields: (t) => ({ name: t.exposeString('name'), votes: t.exposeInt('votes') }),
});

export const PollRef = builder.objectRef<EnginePoll>('Poll').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    options: t.expose('options', { type: [PollOptionRef] }),
    allowMultipleAnswers: t.exposeBoolean('allowMultipleAnswers'),
  }),
});

export const MessageRef = builder.objectRef<MessageView>('Message').implement({
  fields: (t) => ({
    id: t.exposeString('id', { description: 'Like true_15550001234@c.us_3EB0C431C2A1 (sent) or false_... (received)' }),
    chatId: t.exposeString('chatId'),
    body: t.exposeString('body', { nullable: true, description: 'The text; null for media (see caption)' }),
    fromMe: t.exposeBoolean('fromMe'),
    timestamp: t.exposeInt('timestamp', { description: 'Unix seconds' }),
    author: t.exposeString('author', { nullable: true, description: 'Who wrote it (in a group: the member)' }),
    from: t.exposeString('from'),
    to: t.exposeString('to'),
    type: t.expose('type', { type: MessageTypeEnum }),
    ack: t.expose('ack', { type: MessageAckEnum, nullable: true, description: 'For sent messages' }),
    caption: t.exposeString('caption', { nullable: true }),
    filename: t.string({ nullable: true, resolve: (m) => m.media?.filename ?? null }),
    mimetype: t.string({ nullable: true, resolve: (m) => m.media?.mimetype ?? null }),
    size: t.int({ nullable: true, description: 'Media size in bytes', resolve: (m) => m.media?.size ?? null }),
    quotedMessageId: t.exposeString('quotedMessageId', { nullable: true }),
    media: t.field({
      type: MediaRef,
      nullable: true,
      description: 'Null for messages without media',
      resolve: (m) => (m.media && m.sessionId ? { ...m.media, sessionId: m.sessionId, messageId: m.id } : null),
    }),
    location: t.field({ type: LocationRef, nullable: true, resolve: (m) => m.location ?? null }),
    vcard: t.string({ nullable: true, description: 'The contact card (vCard text) of a VCARD message', resolve: (m) => m.vcard ?? null }),
    poll: t.field({ type: PollRef, nullable: true, description: 'A POLL message: its options with their votes so far', resolve: (m) => m.poll ?? null }),
  }),
});

export const MessageConnectionRef = builder.connectionObject({ type: MessageRef, name: 'MessageConnection' }, { name: 'MessageEdge' });

export const SendTextInput = builder.inputType('SendTextInput', {
  fields: (t) => ({
    sessionId: t.string({ required: true }),
    chatId: t.string({ required: true, description: 'A number (15550001234@c.us) or a group (...@g.us)' }),
    content: t.string({ required: true }),
    quotedMessageId: t.string({ description: 'Reply to this message of the same chat' }),
  }),
});

export const SendMediaInput = builder.inputType('SendMediaInput', {
  fields: (t) => ({
    sessionId: t.string({ required: true }),
    chatId: t.string({ required: true }),
    data: t.string({ required: true, description: 'A base64 data URL, e.g. data:image/png;base64,iVBOR...' }),
    filename: t.string(),
    caption: t.string(),
    quotedMessageId: t.string(),
  }),
});

export const SendLocationInput = builder.inputType('SendLocationInput', {
  fields: (t) => ({
    sessionId: t.string({ required: true }),
    chatId: t.string({ required: true }),
    latitude: t.float({ required: true }),
    longitude: t.float({ required: true }),
    name: t.string({ description: 'The place' }),
    address: t.string(),
    quotedMessageId: t.string(),
  }),
});

export const SendContactCardInput = builder.inputType('SendContactCardInput', {
  fields: (t) => ({
    sessionId: t.string({ required: true }),
    chatId: t.string({ required: true }),
    contactId: t.string({ description: 'A WhatsApp contact (15550001234@c.us); or give vcard' }),
    vcard: t.string({ description: 'A vCard (BEGIN:VCARD ... END:VCARD); or give contactId' }),
    quotedMessageId: t.string(),
  }),
});

export const SendPollInput = builder.inputType('SendPollInput', {
  fields: (t) => ({
    sessionId: t.string({ required: true }),
    chatId: t.string({ required: true, description: 'On open-wa a group only' }),
    name: t.string({ required: true, description: 'The question' }),
    options: t.stringList({ required: true, description: '2-12 different answers' }),
    allowMultipleAnswers: t.boolean({ defaultValue: false }),
    quotedMessageId: t.string(),
  }),
});

export const VotePollInput = builder.inputType('VotePollInput', {
  fields: (t) => ({
    sessionId: t.string({ required: true }),
    messageId: t.string({ required: true, description: "The poll, as this session's copy is called" }),
    options: t.stringList({ required: true, description: 'The answers chosen (one unless the poll allows more); [] takes the vote back' }),
  }),
});

export const SendMessagePayload = builder.objectRef<{ message: MessageView }>('SendMessagePayload').implement({
  fields: (t) => ({ message: t.expose('message', { type: MessageRef }) }),
});

eventObject('MESSAGE', 'MessageEvent', (t) => ({ message: t.field({ type: MessageRef, resolve: (e) => inSession(e.sessionId, e.message) }) }));

export const PollVoteEventRef = eventObject('POLL_VOTE', 'PollVoteEvent', (t) => ({
  messageId: t.exposeString('messageId', { description: "The poll, as the sender's copy is called" }),
  chatId: t.exposeString('chatId'),
  voter: t.exposeString('voter'),
  options: t.exposeStringList('options', { description: 'What the voter chose ([] when the vote was taken back)' }),
  poll: t.expose('poll', { type: PollRef }),
}));

export const AckEventRef = eventObject('ACK', 'AckEvent', (t) => ({
  messageId: t.exposeString('messageId'),
  chatId: t.exposeString('chatId'),
  ack: t.expose('ack', { type: MessageAckEnum }),
}));
