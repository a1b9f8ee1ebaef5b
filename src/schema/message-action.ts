import type { EngineReaction, Presence } from '../engine/engine.js';
import { builder } from './builder.js';
import { eventObject } from './events.js';
import { MessageRef } from './message.js';

export const ReactionRef = builder.objectRef<EngineReaction>('Reaction').implement({
  fields: (t) => ({
    emoji: t.exposeString('emoji'),
    senderId: t.exposeString('senderId', { description: 'Who reacted, <digits>@c.us' }),
    timestamp: t.exposeInt('timestamp', { description: 'Unix seconds' }),
  }),
});

builder.objectFields(MessageRef, (t) => ({
  reactions: t.field({ type: [ReactionRef], description: 'One per sender (its latest)', resolve: (m) => m.reactions ?? [] }),
  edited: t.boolean({ description: 'Its sender changed the text after sending it', resolve: (m) => m.edited ?? false }),
}));

export const PresenceEnum = builder.enumType('Presence', {
  description: 'What a chat shows of someone: TYPING, RECORDING (a voice note), PAUSED (stopped typing), AVAILABLE (online), UNAVAILABLE',
  values: ['TYPING', 'RECORDING', 'PAUSED', 'AVAILABLE', 'UNAVAILABLE'] as const satisfies readonly Presence[],
});

export const ReactToMessageInput = builder.inputType('ReactToMessageInput', {
  fields: (t) => ({
    sessionId: t.string({ required: true }),
    messageId: t.string({ required: true, description: "A message of the session's history" }),
    emoji: t.string({ required: true, description: 'One emoji; "" takes your reaction back' }),
  }),
});

export const ForwardMessageInput = builder.inputType('ForwardMessageInput', {
  fields: (t) => ({
    sessionId: t.string({ required: true }),
    messageId: t.string({ required: true }),
    chatId: t.string({ required: true, description: 'Where the copy goes' }),
  }),
});

export const DeleteMessageInput = builder.inputType('DeleteMessageInput', {
  fields: (t) => ({
    sessionId: t.string({ required: true }),
    messageId: t.string({ required: true }),
    forEveryone: t.boolean({ description: 'Revoke it for every participant (your own messages only); default false: only your copy goes' }),
  }),
});

export const EditMessageInput = builder.inputType('EditMessageInput', {
  fields: (t) => ({
    sessionId: t.string({ required: true }),
    messageId: t.string({ required: true, description: 'One of your own text messages' }),
    content: t.string({ required: true, description: 'The new text' }),
  }),
});

export const SetPresenceInput = builder.inputType('SetPresenceInput', {
  fields: (t) => ({
    sessionId: t.string({ required: true }),
    chatId: t.string({ required: true }),
    presence: t.field({ type: PresenceEnum, required: true }),
  }),
});

export const DeleteMessagePayload = builder.objectRef<{ messageId: string }>('DeleteMessagePayload').implement({
  fields: (t) => ({ messageId: t.exposeString('messageId') }),
});

eventObject('REACTION', 'ReactionEvent', (t) => ({
  messageId: t.exposeString('messageId'),
  chatId: t.exposeString('chatId'),
  reaction: t.expose('reaction', { type: ReactionRef, description: 'emoji "" when the sender took its reaction back' }),
}));
eventObject('MESSAGE_REVOKED', 'MessageRevokedEvent', (t) => ({
  messageId: t.exposeString('messageId'),
  chatId: t.exposeString('chatId'),
  by: t.exposeString('by', { nullable: true }),
}));
eventObject('MESSAGE_EDITED', 'MessageEditedEvent', (t) => ({ message: t.expose('message', { type: MessageRef }) }));
eventObject('PRESENCE', 'PresenceEvent', (t) => ({
  chatId: t.exposeString('chatId'),
  contactId: t.exposeString('contactId'),
  presence: t.expose('presence', { type: PresenceEnum }),
}));
