import type { EngineMessage, MessageAck, MessageType } from '../engine/engine.js';
import { builder } from './builder.js';
import { eventObject } from './events.js';

export const MessageTypeEnum = builder.enumType('MessageType', {
  values: ['CHAT', 'IMAGE', 'DOCUMENT', 'AUDIO', 'PTT', 'VIDEO', 'STICKER', 'LOCATION', 'VCARD', 'REVOKED', 'UNKNOWN'] as const satisfies readonly MessageType[],
});

export const MessageAckEnum = builder.enumType('MessageAck', {
  description: 'How far a sent message got: SERVER (sent), DEVICE (delivered), READ, PLAYED (audio)',
  values: ['ERROR', 'PENDING', 'SERVER', 'DEVICE', 'READ', 'PLAYED'] as const satisfies readonly MessageAck[],
});

export const MessageRef = builder.objectRef<EngineMessage>('Message').implement({
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

export const SendMessagePayload = builder.objectRef<{ message: EngineMessage }>('SendMessagePayload').implement({
  fields: (t) => ({ message: t.expose('message', { type: MessageRef }) }),
});

eventObject('MESSAGE', 'MessageEvent', (t) => ({ message: t.expose('message', { type: MessageRef }) }));

export const AckEventRef = eventObject('ACK', 'AckEvent', (t) => ({
  messageId: t.exposeString('messageId'),
  chatId: t.exposeString('chatId'),
  ack: t.expose('ack', { type: MessageAckEnum }),
}));
