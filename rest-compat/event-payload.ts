import type { EngineMessage, EnginePoll, MessageAck } from '../src/engine/engine.js';
import type { BusEvent, BusEventOf, EventType, QrInfo } from '../src/events/bus.js';
import { mediaUrl } from '../src/messaging/media-url.js';
import { ECHO_BOT, EXAMPLE_ME, EXAMPLE_QR, EXAMPLE_SESSION, EXAMPLE_TIME, EXAMPLE_UNIX, type JsonSchema } from './route.js';

// The `data` of an event, the same object on every transport that carries it (webhook deliveries and the
// legacy /ws socket), in the REST reference's conventions: lower-case words, unix-seconds timestamps,
// ISO-8601 instants. GraphQL subscriptions keep the schema's own types.

// open-wa reports acks as numbers; clients written for it compare those.
const ackNumber: Record<MessageAck, number> = { ERROR: -1, PENDING: 0, SERVER: 1, DEVICE: 2, READ: 3, PLAYED: 4 };


/** A message as events carry it: the fields of the reference's messages list, media as one object. */
export function messagePayload(sessionId: string, m: EngineMessage): Record<string, unknown> {
  return {
    id: m.id,
    chatId: m.chatId,
    from: m.from,
    to: m.to,
    fromMe: m.fromMe,
    body: m.body,
    timestamp: m.timestamp,
    author: m.author,
    type: m.type.toLowerCase(),
    ack: m.ack === null ? null : m.ack.toLowerCase(),
    caption: m.caption,
    quotedMessageId: m.quotedMessageId,
    isGroupMsg: m.chatId.endsWith('@g.us'),
    edited: m.edited ?? false,
    reactions: (m.reactions ?? []).map((r) => ({ emoji: r.emoji, senderId: r.senderId, timestamp: r.timestamp })),
    media: m.media ? { mimetype: m.media.mimetype, filename: m.media.filename ?? null, size: m.media.size, url: mediaUrl(sessionId, m.id) } : null,
    location: m.location ?? null,
    vcard: m.vcard ?? null,
    poll: m.poll ? pollPayload(m.poll) : null,
  };
}

const pollPayload = (p: EnginePoll) => ({ name: p.name, options: p.options.map((o) => ({ name: o.name, votes: o.votes })), allowMultipleAnswers: p.allowMultipleAnswers });

export const qrPayload = (qr: QrInfo) => ({ qrCode: qr.dataUrl, expiresAt: new Date(qr.expiresAt).toISOString() });

const nullable = (type: string, description?: string) => ({ type: [type, 'null'], ...(description ? { description } : {}) });
const object = (properties: Record<string, unknown>): JsonSchema => ({ type: 'object', additionalProperties: false, required: Object.keys(properties), properties });
/** An object schema with properties that may be absent. */
const withOptional = (schema: JsonSchema, optional: Record<string, unknown>): JsonSchema => ({ ...schema, properties: { ...(schema.properties as object), ...optional } });

const pollSchema = object({
  name: { type: 'string' },
  options: { type: 'array', items: object({ name: { type: 'string' }, votes: { type: 'integer' } }) },
  allowMultipleAnswers: { type: 'boolean' },
});

const reactionSchema = object({
  emoji: { type: 'string', description: 'The emoji; "" when the sender took its reaction back' },
  senderId: { type: 'string', description: 'Who reacted, <digits>@c.us' },
  timestamp: { type: 'integer', description: 'Unix seconds' },
});

const messageSchema = object({
  id: { type: 'string', description: 'true_... for sent messages, false_... for received ones' },
  chatId: { type: 'string' },
  from: { type: 'string', description: 'The sender (in a group: the member)' },
  to: { type: 'string' },
  fromMe: { type: 'boolean' },
  body: nullable('string', 'The text; null for media (see caption)'),
  timestamp: { type: 'integer', description: 'Unix seconds' },
  author: nullable('string'),
  type: { type: 'string', description: 'chat, image, document, audio, ptt (voice note), video, sticker, location, vcard, poll, revoked, unknown' },
  ack: nullable('string', 'error, pending, server, device, read, played (sent messages)'),
  caption: nullable('string'),
  quotedMessageId: nullable('string'),
  isGroupMsg: { type: 'boolean' },
  edited: { type: 'boolean', description: 'Its sender changed the text after sending it' },
  reactions: { type: 'array', items: reactionSchema },
  media: {
    oneOf: [
      { type: 'null' },
      withOptional(
        object({
          mimetype: { type: 'string' },
          filename: nullable('string'),
          size: { type: 'integer', description: 'Bytes' },
          url: { type: 'string', description: 'GET it (with the API key) for the bytes: /api/v1/sessions/{sessionId}/messages/{messageId}/media' },
        }),
        { dataUrl: { type: 'string', description: 'The bytes (data:<mimetype>;base64,...): webhook deliveries of a webhook registered with includeMedia, up to --webhook-max-media-bytes' } },
      ),
    ],
  },
  location: {
    oneOf: [
      { type: 'null' },
      object({ latitude: { type: 'number' }, longitude: { type: 'number' }, name: nullable('string'), address: nullable('string') }),
    ],
  },
  vcard: nullable('string', 'The contact card of a vcard message'),
  poll: { oneOf: [{ type: 'null' }, pollSchema] },
});


const presenceValues = ['typing', 'recording', 'paused', 'available', 'unavailable'];

const groupSchema = object({ groupId: { type: 'string' }, participants: { type: 'array', items: { type: 'string' } }, by: nullable('string', 'Who added or removed them') });

interface PayloadRow<T extends EventType> {
  summary: string;
  schema: JsonSchema;
  build: (event: BusEventOf<T>) => Record<string, unknown>;
  /** The event the documentation's example is built from (with `build`, so it cannot drift). */
  example: BusEventOf<T>;
}

const at = Date.parse(EXAMPLE_TIME);
const base = { sessionId: EXAMPLE_SESSION, at };
const sentMessage = `true_${ECHO_BOT}_01A242D70CB40000E7EA`;
const exampleGroup = `${EXAMPLE_ME.split('@')[0]}-${EXAMPLE_UNIX}@g.us`;

/** Every event's payload: how it is built, its schema and an example. A new EventType needs a row here. */
const payloads: { [T in EventType]: PayloadRow<T> } = {
  MESSAGE: {
    summary: 'A message was sent or received (the /ws socket sends received ones only)',
    schema: messageSchema,
    build: (e) => messagePayload(e.sessionId, e.message),
    example: {
      ...base,
      type: 'MESSAGE',
      message: {
        id: `false_${ECHO_BOT}_01A242D70CB40000E7EB`,
        chatId: ECHO_BOT,
        from: ECHO_BOT,
        to: EXAMPLE_ME,
        fromMe: false,
        body: null,
        timestamp: EXAMPLE_UNIX,
        author: ECHO_BOT,
        type: 'IMAGE',
        ack: null,
        caption: 'A photo',
        media: { mimetype: 'image/jpeg', filename: 'photo.jpg', size: 48213 },
        quotedMessageId: null,
      },
    },
  },
  ACK: {
    summary: 'A sent message got further',
    schema: object({
      id: { type: 'string', description: 'The message' },
      chatId: { type: 'string' },
      ack: { type: 'integer', description: "open-wa's number: -1 error, 0 pending, 1 server, 2 device, 3 read, 4 played" },
      status: { type: 'string', description: 'The same as a word: error, pending, server, device, read, played' },
    }),
    build: (e) => ({ id: e.messageId, chatId: e.chatId, ack: ackNumber[e.ack], status: e.ack.toLowerCase() }),
    example: { ...base, type: 'ACK', messageId: sentMessage, chatId: ECHO_BOT, ack: 'READ' },
  },
  QR: {
    summary: 'A new QR code to scan (the /ws socket also sends the current one on connect)',
    schema: object({ qrCode: { type: 'string', description: 'data:image/png;base64,...' }, expiresAt: { type: 'string', format: 'date-time' } }),
    build: (e) => qrPayload(e.qr),
    example: { ...base, type: 'QR', qr: { dataUrl: EXAMPLE_QR, expiresAt: at + 20_000 } },
  },
  STATUS: {
    summary: 'The session status changed (webhooks only)',
    schema: object({ status: { $ref: '#/components/schemas/SessionStatus' }, reason: nullable('string') }),
    build: (e) => ({ status: e.status.toLowerCase(), reason: e.reason }),
    example: { ...base, type: 'STATUS', status: 'READY', reason: null },
  },
  AUTHENTICATED: {
    summary: 'The QR code was scanned',
    schema: object({}),
    build: () => ({}),
    example: { ...base, type: 'AUTHENTICATED' },
  },
  READY: {
    summary: 'The session is logged in and can send',
    schema: object({ me: { type: 'string', description: 'The account, <digits>@c.us' }, pushname: nullable('string') }),
    build: (e) => ({ me: e.me.id, pushname: e.me.pushname }),
    example: { ...base, type: 'READY', me: { id: EXAMPLE_ME, name: null, pushname: EXAMPLE_SESSION, isMyContact: true, isWAContact: true } },
  },
  DISCONNECTED: {
    summary: 'The session lost its connection',
    schema: object({ reason: { type: 'string' } }),
    build: (e) => ({ reason: e.reason }),
    example: { ...base, type: 'DISCONNECTED', reason: 'phone offline' },
  },
  GROUP_JOIN: {
    summary: 'Participants joined or were added to a group (also by invite link: `by` null)',
    schema: groupSchema,
    build: (e) => ({ groupId: e.groupId, participants: e.participants, by: e.by }),
    example: { ...base, type: 'GROUP_JOIN', groupId: exampleGroup, participants: [EXAMPLE_ME, ECHO_BOT], by: EXAMPLE_ME },
  },
  POLL_VOTE: {
    summary: "A vote on a poll this session sent (to the poll's sender only)",
    schema: object({
      messageId: { type: 'string', description: "The poll, as the sender's copy is called" },
      chatId: { type: 'string' },
      voter: { type: 'string' },
      options: { type: 'array', items: { type: 'string' }, description: 'What the voter chose ([] when the vote was taken back)' },
      poll: pollSchema,
    }),
    build: (e) => ({ messageId: e.messageId, chatId: e.chatId, voter: e.voter, options: e.options, poll: pollPayload(e.poll) }),
    example: {
      ...base,
      type: 'POLL_VOTE',
      messageId: `true_1234567890@c.us_01A242D70CB40000E7EC`,
      chatId: '1234567890@c.us',
      voter: '1234567890@c.us',
      options: ['Tuesday'],
      poll: { name: 'Meeting day?', options: [{ name: 'Monday', votes: 0 }, { name: 'Tuesday', votes: 1 }], allowMultipleAnswers: false },
    },
  },
  GROUP_LEAVE: {
    summary: 'Participants left or were removed from a group',
    schema: groupSchema,
    build: (e) => ({ groupId: e.groupId, participants: e.participants, by: e.by }),
    example: { ...base, type: 'GROUP_LEAVE', groupId: exampleGroup, participants: ['1234567890@c.us'], by: EXAMPLE_ME },
  },
  REACTION: {
    summary: 'Someone reacted to a message of the session (or took the reaction back: emoji "")',
    schema: object({ messageId: { type: 'string' }, chatId: { type: 'string' }, reaction: reactionSchema }),
    build: (e) => ({ messageId: e.messageId, chatId: e.chatId, reaction: { emoji: e.reaction.emoji, senderId: e.reaction.senderId, timestamp: e.reaction.timestamp } }),
    example: { ...base, type: 'REACTION', messageId: sentMessage, chatId: ECHO_BOT, reaction: { emoji: '👍', senderId: ECHO_BOT, timestamp: EXAMPLE_UNIX } },
  },
  MESSAGE_REVOKED: {
    summary: 'A message was deleted for everyone: its copy is now of type revoked',
    schema: object({ messageId: { type: 'string' }, chatId: { type: 'string' }, by: nullable('string', 'Who deleted it') }),
    build: (e) => ({ messageId: e.messageId, chatId: e.chatId, by: e.by }),
    example: { ...base, type: 'MESSAGE_REVOKED', messageId: `false_${ECHO_BOT}_01A242D70CB40000E7EB`, chatId: ECHO_BOT, by: ECHO_BOT },
  },
  MESSAGE_EDITED: {
    summary: 'Its sender edited a message: the message as it is now (edited: true)',
    schema: messageSchema,
    build: (e) => messagePayload(e.sessionId, e.message),
    example: {
      ...base,
      type: 'MESSAGE_EDITED',
      message: {
        id: `false_${ECHO_BOT}_01A242D70CB40000E7EB`,
        chatId: ECHO_BOT,
        from: ECHO_BOT,
        to: EXAMPLE_ME,
        fromMe: false,
        body: 'Hello again (edited)',
        timestamp: EXAMPLE_UNIX,
        author: ECHO_BOT,
        type: 'CHAT',
        ack: null,
        caption: null,
        media: null,
        quotedMessageId: null,
        reactions: [],
        edited: true,
      },
    },
  },
  PRESENCE: {
    summary: 'A contact is typing, recording, paused, online or offline in a chat',
    schema: object({
      chatId: { type: 'string', description: 'The chat (a group, or the contact itself)' },
      contactId: { type: 'string', description: 'Who' },
      presence: { type: 'string', enum: presenceValues },
    }),
    build: (e) => ({ chatId: e.chatId, contactId: e.contactId, presence: e.presence.toLowerCase() }),
    example: { ...base, type: 'PRESENCE', chatId: ECHO_BOT, contactId: ECHO_BOT, presence: 'TYPING' },
  },
  GROUP_UPDATE: {
    summary: "A group's subject, description or settings changed: the changed fields carry their new value, the others are null",
    schema: object({
      groupId: { type: 'string' },
      by: nullable('string', 'Who changed it'),
      subject: nullable('string'),
      description: nullable('string'),
      announce: nullable('boolean', 'Only admins send'),
      restrict: nullable('boolean', 'Only admins edit the group info'),
    }),
    build: (e) => ({
      groupId: e.groupId,
      by: e.by,
      subject: e.change.subject ?? null,
      description: e.change.description ?? null,
      announce: e.change.announce ?? null,
      restrict: e.change.restrict ?? null,
    }),
    example: { ...base, type: 'GROUP_UPDATE', groupId: exampleGroup, by: EXAMPLE_ME, change: { subject: 'Team (renamed)' } },
  },
  GROUP_PROMOTE: {
    summary: 'Participants were made admins of a group',
    schema: groupSchema,
    build: (e) => ({ groupId: e.groupId, participants: e.participants, by: e.by }),
    example: { ...base, type: 'GROUP_PROMOTE', groupId: exampleGroup, participants: ['1234567890@c.us'], by: EXAMPLE_ME },
  },
  GROUP_DEMOTE: {
    summary: 'Participants stopped being admins of a group',
    schema: groupSchema,
    build: (e) => ({ groupId: e.groupId, participants: e.participants, by: e.by }),
    example: { ...base, type: 'GROUP_DEMOTE', groupId: exampleGroup, participants: ['1234567890@c.us'], by: EXAMPLE_ME },
  },
  CALL: {
    summary: 'A call is ringing (rejectCall ends it; the session config rejectCalls rejects every call)',
    schema: object({
      id: { type: 'string', description: 'The call, for rejectCall' },
      from: { type: 'string', description: 'The caller' },
      isVideo: { type: 'boolean' },
      isGroup: { type: 'boolean' },
      timestamp: { type: 'integer', description: 'Unix seconds' },
    }),
    build: (e) => ({ id: e.call.id, from: e.call.from, isVideo: e.call.isVideo, isGroup: e.call.isGroup, timestamp: e.call.timestamp }),
    example: { ...base, type: 'CALL', call: { id: '5F1C3E0D9A2B4C6D8E0F1A2B3C4D5E6F', from: ECHO_BOT, isVideo: false, isGroup: false, timestamp: EXAMPLE_UNIX } },
  },
};

/** The event's `data`: one function for webhooks and the /ws socket alike. */
export function eventPayload(event: BusEvent): Record<string, unknown> {
  return (payloads[event.type] as PayloadRow<EventType>).build(event);
}

/** Each event's name, summary, `data` schema and example, for the OpenAPI document. */
export function eventPayloadDocs(): { event: string; summary: string; data: JsonSchema; example: Record<string, unknown> }[] {
  return (Object.keys(payloads) as EventType[]).map((type) => {
    const row = payloads[type] as PayloadRow<EventType>;
    return { event: type.toLowerCase(), summary: row.summary, data: row.schema, example: row.build(row.example) };
  });
}
