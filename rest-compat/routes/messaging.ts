import {
  ECHO_BOT,
  EXAMPLE_ME,
  EXAMPLE_SESSION,
  EXAMPLE_UNIX,
  foundSession,
  intParam,
  type JsonSchema,
  lower,
  pick,
  restError,
  type RestRoute,
  sessionIdOf,
} from '../route.js';

const params = { sessionId: EXAMPLE_SESSION };
const sentId = (n: number) => `true_${ECHO_BOT}_01A242D6C2B7000${n}A323`;
/** A group id as the sandbox makes them (its creator's number and the time); use the one createGroup answered. */
const EXAMPLE_GROUP = `${EXAMPLE_ME.split('@')[0]}-${EXAMPLE_UNIX}@g.us`;
const quotedMessageId = { type: 'string', description: 'Reply to this message of the same chat (an id from listChatMessages)' };

const MESSAGE_FIELDS = `id chatId body fromMe timestamp author type ack caption filename mimetype quotedMessageId edited reactions { emoji senderId timestamp }`;

interface GqlMessage {
  id: string;
  chatId: string;
  body: string | null;
  fromMe: boolean;
  timestamp: number;
  author: string | null;
  type: string;
  ack: string | null;
  caption: string | null;
  filename: string | null;
  mimetype: string | null;
  quotedMessageId: string | null;
  edited: boolean;
  reactions: { emoji: string; senderId: string; timestamp: number }[];
}

/** A message as the reference lists it: `type` lower-case ("chat"), timestamp in unix seconds. */
const restMessage = (m: GqlMessage) => ({ ...m, type: lower(m.type), ack: lower(m.ack) });

const messageSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'body', 'fromMe', 'timestamp', 'type'],
  properties: {
    id: { type: 'string' },
    chatId: { type: 'string' },
    body: { type: ['string', 'null'] },
    fromMe: { type: 'boolean' },
    timestamp: { type: 'integer', description: 'Unix seconds' },
    author: { type: ['string', 'null'] },
    type: { type: 'string', description: 'chat, image, document, audio, ptt, ...' },
    ack: { type: ['string', 'null'], description: 'error, pending, server, device, read, played (sent messages)' },
    caption: { type: ['string', 'null'] },
    filename: { type: ['string', 'null'] },
    mimetype: { type: ['string', 'null'] },
    quotedMessageId: { type: ['string', 'null'] },
    edited: { type: 'boolean', description: 'Its sender changed the text after sending it' },
    reactions: {
      type: 'array',
      description: 'One per sender (its latest)',
      items: {
        type: 'object',
        required: ['emoji', 'senderId', 'timestamp'],
        properties: { emoji: { type: 'string' }, senderId: { type: 'string' }, timestamp: { type: 'integer', description: 'Unix seconds' } },
      },
    },
  },
};

const contactSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'isMyContact', 'isWAContact'],
  properties: {
    id: { type: 'string' },
    name: { type: ['string', 'null'] },
    pushname: { type: ['string', 'null'] },
    isMyContact: { type: 'boolean' },
    isWAContact: { type: 'boolean' },
  },
};

const sentSchema: JsonSchema = {
  type: 'object',
  required: ['messageId', 'chatId', 'timestamp'],
  properties: {
    messageId: { type: 'string' },
    chatId: { type: 'string' },
    content: { type: ['string', 'null'] },
    timestamp: { type: 'integer', description: 'Unix seconds' },
    type: { type: 'string' },
    caption: { type: ['string', 'null'] },
    filename: { type: ['string', 'null'] },
    mimetype: { type: ['string', 'null'] },
  },
};

const participantResults: JsonSchema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['id', 'status'],
    properties: { id: { type: 'string' }, status: { type: 'integer', description: '200 done, 403, 404, 409 ...' } },
  },
};

const participantsBody: JsonSchema = {
  type: 'object',
  required: ['participants'],
  properties: { participants: { type: 'array', items: { type: 'string' } } },
};

const sendTextRoute = (id: string, path: string, aliasOf?: string): RestRoute => ({
  id,
  method: 'POST',
  path,
  tag: 'Messaging',
  summary: 'Send a text message',
  ...(aliasOf ? { aliasOf } : {}),
  document: `mutation RestSendText($input: SendTextInput!) { sendText(input: $input) { message { id chatId body timestamp } } }`,
  variables: (req) => ({ input: { sessionId: sessionIdOf(req), ...pick(req.body, ['chatId', 'content', 'quotedMessageId']) } }),
  reply: ({ sendText: { message: m } }) => ({ data: { messageId: m.id, chatId: m.chatId, content: m.body, timestamp: m.timestamp } }),
  body: {
    type: 'object',
    required: ['chatId', 'content'],
    properties: { chatId: { type: 'string', description: 'A number (15550001234@c.us) or a group (...@g.us)' }, content: { type: 'string' }, quotedMessageId },
  },
  response: { data: sentSchema },
  example: {
    params,
    body: { chatId: ECHO_BOT, content: 'Hello from wa-gateway' },
    data: { messageId: sentId(1), chatId: ECHO_BOT, content: 'Hello from wa-gateway', timestamp: EXAMPLE_UNIX },
  },
});

interface MediaExample {
  data: string;
  filename?: string;
  caption?: string;
  type: string;
  mimetype: string;
}

type MediaMutation = 'sendImage' | 'sendFile' | 'sendAudio' | 'sendVideo' | 'sendSticker' | 'sendVoice';

const sendMediaRoute = (mutation: MediaMutation, path: string, summary: string, example: MediaExample): RestRoute => ({
  id: mutation,
  method: 'POST',
  path,
  tag: 'Messaging',
  summary,
  document: `mutation Rest${mutation[0]!.toUpperCase()}${mutation.slice(1)}($input: SendMediaInput!) {
    ${mutation}(input: $input) { message { id chatId timestamp type caption filename mimetype } }
  }`,
  variables: (req) => ({ input: { sessionId: sessionIdOf(req), ...pick(req.body, ['chatId', 'data', 'filename', 'caption', 'quotedMessageId']) } }),
  reply: (data) => {
    const m = data[mutation].message;
    return { data: { messageId: m.id, chatId: m.chatId, timestamp: m.timestamp, type: lower(m.type), caption: m.caption, filename: m.filename, mimetype: m.mimetype } };
  },
  body: {
    type: 'object',
    required: ['chatId', 'data'],
    properties: {
      chatId: { type: 'string' },
      data: { type: 'string', description: 'A base64 data URL (data:<type>;base64,...)' },
      filename: { type: 'string' },
      caption: { type: 'string' },
      quotedMessageId,
    },
  },
  response: { data: sentSchema },
  example: {
    params,
    body: { chatId: ECHO_BOT, data: example.data, ...(example.filename ? { filename: example.filename } : {}), ...(example.caption ? { caption: example.caption } : {}) },
    data: {
      messageId: sentId(2),
      chatId: ECHO_BOT,
      timestamp: EXAMPLE_UNIX,
      type: example.type,
      caption: example.caption ?? null,
      filename: example.filename ?? null,
      mimetype: example.mimetype,
    },
  },
});

/** The answer of the sends beyond text and media: the message, with the fields of its kind. */
const SENT_FIELDS = 'id chatId timestamp type quotedMessageId location { latitude longitude name address } vcard poll { name options { name votes } allowMultipleAnswers }';

interface GqlSent {
  id: string;
  chatId: string;
  timestamp: number;
  type: string;
  quotedMessageId: string | null;
  location: unknown;
  vcard: string | null;
  poll: unknown;
}

const sentKindSchema = (field: 'location' | 'vcard' | 'poll', schema: JsonSchema): JsonSchema => ({
  type: 'object',
  required: ['messageId', 'chatId', 'timestamp', 'type', field],
  properties: {
    messageId: { type: 'string' },
    chatId: { type: 'string' },
    timestamp: { type: 'integer', description: 'Unix seconds' },
    type: { type: 'string' },
    quotedMessageId: { type: ['string', 'null'] },
    [field]: schema,
  },
});

const locationSchema: JsonSchema = {
  type: 'object',
  required: ['latitude', 'longitude'],
  properties: { latitude: { type: 'number' }, longitude: { type: 'number' }, name: { type: ['string', 'null'] }, address: { type: ['string', 'null'] } },
};

const pollSchema: JsonSchema = {
  type: 'object',
  required: ['name', 'options', 'allowMultipleAnswers'],
  properties: {
    name: { type: 'string' },
    options: { type: 'array', items: { type: 'object', required: ['name', 'votes'], properties: { name: { type: 'string' }, votes: { type: 'integer' } } } },
    allowMultipleAnswers: { type: 'boolean' },
  },
};

/** A send of a kind with fields of its own (location, contact card, poll): one GraphQL mutation, its input from the body. */
function sendKindRoute(o: {
  id: 'sendLocation' | 'sendContactCard' | 'sendPoll';
  path: string;
  summary: string;
  input: string;
  fields: string[];
  field: 'location' | 'vcard' | 'poll';
  schema: JsonSchema;
  body: JsonSchema;
  example: { body: Record<string, unknown>; type: string; value: unknown; n: number };
}): RestRoute {
  return {
    id: o.id,
    method: 'POST',
    path: o.path,
    tag: 'Messaging',
    summary: o.summary,
    document: `mutation Rest${o.id[0]!.toUpperCase()}${o.id.slice(1)}($input: ${o.input}!) { ${o.id}(input: $input) { message { ${SENT_FIELDS} } } }`,
    variables: (req) => ({ input: { sessionId: sessionIdOf(req), ...pick(req.body, [...o.fields, 'quotedMessageId']) } }),
    reply: (data) => {
      const m = data[o.id].message as GqlSent;
      return { data: { messageId: m.id, chatId: m.chatId, timestamp: m.timestamp, type: lower(m.type), quotedMessageId: m.quotedMessageId, [o.field]: m[o.field] } };
    },
    body: o.body,
    response: { data: sentKindSchema(o.field, o.schema) },
    example: {
      params,
      body: o.example.body,
      data: { messageId: sentId(o.example.n), chatId: ECHO_BOT, timestamp: EXAMPLE_UNIX, type: o.example.type, quotedMessageId: null, [o.field]: o.example.value },
    },
  };
}

const EXAMPLE_VCARD = 'BEGIN:VCARD\nVERSION:3.0\nFN:John Doe\nTEL;type=CELL;waid=1234567890:+1234567890\nEND:VCARD';
const EXAMPLE_POLL = { name: 'Meeting day?', options: [{ name: 'Monday', votes: 0 }, { name: 'Tuesday', votes: 0 }], allowMultipleAnswers: false };
/** A poll the session sent (send-poll answers its id): a session may vote on its own polls too. */
const EXAMPLE_POLL_ID = sentId(7);
const EXAMPLE_MEDIA_ID = sentId(2);

/** The routes of the message kinds added with received media (issue 23), after the first media sends. */
const kindRoutes: RestRoute[] = [
  sendMediaRoute('sendVideo', '/sessions/{sessionId}/send-video', 'Send a video', {
    data: 'data:video/mp4;base64,AAAAGGZ0eXBtcDQyAAAAAG1wNDJpc29t',
    caption: 'A clip',
    type: 'video',
    mimetype: 'video/mp4',
  }),
  sendMediaRoute('sendSticker', '/sessions/{sessionId}/send-sticker', 'Send a sticker (image/webp; open-wa converts other images)', {
    data: 'data:image/webp;base64,UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==',
    type: 'sticker',
    mimetype: 'image/webp',
  }),
  sendMediaRoute('sendVoice', '/sessions/{sessionId}/send-voice', 'Send a voice note (type ptt; audio/ogg with opus plays everywhere)', {
    data: 'data:audio/ogg;codecs=opus;base64,T2dnUwACAAAAAAAAAAA=',
    type: 'ptt',
    mimetype: 'audio/ogg',
  }),
  sendKindRoute({
    id: 'sendLocation',
    path: '/sessions/{sessionId}/send-location',
    summary: 'Send a location',
    input: 'SendLocationInput',
    fields: ['chatId', 'latitude', 'longitude', 'name', 'address'],
    field: 'location',
    schema: locationSchema,
    body: {
      type: 'object',
      required: ['chatId', 'latitude', 'longitude'],
      properties: { chatId: { type: 'string' }, latitude: { type: 'number' }, longitude: { type: 'number' }, name: { type: 'string' }, address: { type: 'string' }, quotedMessageId },
    },
    example: {
      body: { chatId: ECHO_BOT, latitude: 52.52, longitude: 13.405, name: 'Brandenburg Gate', address: 'Pariser Platz, Berlin' },
      type: 'location',
      value: { latitude: 52.52, longitude: 13.405, name: 'Brandenburg Gate', address: 'Pariser Platz, Berlin' },
      n: 5,
    },
  }),
  sendKindRoute({
    id: 'sendContactCard',
    path: '/sessions/{sessionId}/send-contact',
    summary: 'Send a contact card (a WhatsApp contact by id, or a vCard)',
    input: 'SendContactCardInput',
    fields: ['chatId', 'contactId', 'vcard'],
    field: 'vcard',
    schema: { type: ['string', 'null'] },
    body: {
      type: 'object',
      required: ['chatId'],
      properties: {
        chatId: { type: 'string' },
        contactId: { type: 'string', description: 'A WhatsApp contact (15550001234@c.us); or give vcard' },
        vcard: { type: 'string', description: 'A vCard (BEGIN:VCARD ... END:VCARD); or give contactId' },
        quotedMessageId,
      },
    },
    example: { body: { chatId: ECHO_BOT, vcard: EXAMPLE_VCARD }, type: 'vcard', value: EXAMPLE_VCARD, n: 6 },
  }),
  sendKindRoute({
    id: 'sendPoll',
    path: '/sessions/{sessionId}/send-poll',
    summary: 'Send a poll (open-wa: groups only)',
    input: 'SendPollInput',
    fields: ['chatId', 'name', 'options', 'allowMultipleAnswers'],
    field: 'poll',
    schema: pollSchema,
    body: {
      type: 'object',
      required: ['chatId', 'name', 'options'],
      properties: {
        chatId: { type: 'string' },
        name: { type: 'string', description: 'The question' },
        options: { type: 'array', items: { type: 'string' }, description: '2-12 different answers' },
        allowMultipleAnswers: { type: 'boolean', default: false },
        quotedMessageId,
      },
    },
    example: { body: { chatId: ECHO_BOT, name: 'Meeting day?', options: ['Monday', 'Tuesday'] }, type: 'poll', value: EXAMPLE_POLL, n: 7 },
  }),
  {
    id: 'votePoll',
    method: 'POST',
    path: '/sessions/{sessionId}/messages/{messageId}/vote',
    tag: 'Messaging',
    summary: 'Vote on a poll',
    description: "`options`: the answers chosen (one unless the poll allows more; [] takes the vote back). Every copy of the poll gets the new counts and the poll's sender a `poll_vote` event.",
    document: `mutation RestVotePoll($input: VotePollInput!) { votePoll(input: $input) { message { id chatId poll { name options { name votes } allowMultipleAnswers } } } }`,
    variables: (req) => ({ input: { sessionId: sessionIdOf(req), messageId: req.params.messageId, ...pick(req.body, ['options']) } }),
    reply: ({ votePoll: { message: m } }) => ({ data: { messageId: m.id, chatId: m.chatId, poll: m.poll } }),
    body: { type: 'object', required: ['options'], properties: { options: { type: 'array', items: { type: 'string' } } } },
    response: {
      data: { type: 'object', required: ['messageId', 'chatId', 'poll'], properties: { messageId: { type: 'string' }, chatId: { type: 'string' }, poll: pollSchema } },
    },
    example: {
      params: { ...params, messageId: EXAMPLE_POLL_ID },
      body: { options: ['Tuesday'] },
      data: { messageId: EXAMPLE_POLL_ID, chatId: ECHO_BOT, poll: { ...EXAMPLE_POLL, options: [{ name: 'Monday', votes: 0 }, { name: 'Tuesday', votes: 1 }] } },
    },
  },
  {
    id: 'getMessageMedia',
    method: 'GET',
    path: '/sessions/{sessionId}/messages/{messageId}/media',
    tag: 'Messaging',
    summary: "Download a message's media",
    description:
      'The bytes, with their `Content-Type`, `Content-Length` and a `Content-Disposition` filename. MESSAGE_NOT_FOUND (404) for an unknown message or one without media; MEDIA_GONE (404) once the bytes are no longer kept (after --media-retention-days, or gone from WhatsApp).',
    document: `query RestMessageMedia($sessionId: String!, $messageId: String!) { messageMedia(sessionId: $sessionId, messageId: $messageId) { mimetype filename dataUrl } }`,
    variables: (req) => ({ sessionId: sessionIdOf(req), messageId: req.params.messageId }),
    reply: ({ messageMedia: m }, req) => {
      const data = Buffer.from(m.dataUrl.slice(m.dataUrl.indexOf(',') + 1), 'base64');
      const filename = m.filename ?? `${req.params.messageId}${extensionOf(m.mimetype)}`;
      return {
        binary: data,
        contentType: m.mimetype,
        headers: { 'content-length': String(data.length), 'content-disposition': contentDisposition(filename) },
      };
    },
    response: { contentType: 'application/octet-stream' },
    example: { params: { ...params, messageId: EXAMPLE_MEDIA_ID } },
  },
];

/** `attachment; filename="..."` with an ASCII fallback and the UTF-8 name (RFC 6266). */
function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': '.jpg', 'image/png': '.png', 'image/webp': '.webp', 'image/gif': '.gif', 'video/mp4': '.mp4',
  'audio/ogg': '.ogg', 'audio/mpeg': '.mp3', 'application/pdf': '.pdf',
};
const extensionOf = (mimetype: string) => EXTENSIONS[mimetype.split(';')[0]!.trim()] ?? '';

export const messagingRoutes: RestRoute[] = [
  sendTextRoute('sendText', '/sessions/{sessionId}/send-text'),
  sendTextRoute('sendMessage', '/sessions/{sessionId}/send-message', 'sendText'),
  sendMediaRoute('sendImage', '/sessions/{sessionId}/send-image', 'Send an image', {
    // A 1x1 PNG.
    data: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
    caption: 'A pixel',
    type: 'image',
    mimetype: 'image/png',
  }),
  sendMediaRoute('sendFile', '/sessions/{sessionId}/send-file', 'Send a file', {
    data: 'data:application/pdf;base64,JVBERi0xLjQKJSVFT0YK',
    filename: 'hello.pdf',
    type: 'document',
    mimetype: 'application/pdf',
  }),
  sendMediaRoute('sendAudio', '/sessions/{sessionId}/send-audio', 'Send an audio file', {
    data: 'data:audio/mpeg;base64,SUQzBAAAAAAAAA==',
    type: 'audio',
    mimetype: 'audio/mpeg',
  }),
  ...kindRoutes,
  {
    id: 'listChats',
    method: 'GET',
    path: '/sessions/{sessionId}/chats',
    tag: 'Chats',
    summary: 'List the chats, newest activity first',
    description:
      'One page of at most `limit` chats (default and most 200). When more remain, the answer has the header `x-next-cursor`; pass it back as `after`.',
    query: [
      { name: 'limit', description: 'Chats per page (1-200, default 200)', schema: { type: 'integer', minimum: 1, maximum: 200 } },
      { name: 'after', description: 'The x-next-cursor of the previous page', schema: { type: 'string' } },
    ],
    document: `query RestListChats($sessionId: String!, $first: Int, $after: String) {
      session(sessionId: $sessionId) {
        chats(first: $first, after: $after) {
          edges { node { id name isGroup unreadCount lastMessage { body timestamp } } }
          pageInfo { hasNextPage endCursor }
        }
      }
    }`,
    variables: (req) => ({
      sessionId: sessionIdOf(req),
      first: intParam(req.query, 'limit', 200, 1, 200),
      after: req.query.get('after') || undefined,
    }),
    reply: (data, req) => {
      const chats = foundSession(data.session, req).chats;
      return {
        data: chats.edges.map((e: { node: unknown }) => e.node),
        ...(chats.pageInfo.hasNextPage ? { headers: { 'x-next-cursor': chats.pageInfo.endCursor } } : {}),
      };
    },
    response: {
      data: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'isGroup', 'unreadCount'],
          properties: {
            id: { type: 'string' },
            name: { type: ['string', 'null'] },
            isGroup: { type: 'boolean' },
            unreadCount: { type: 'integer' },
            lastMessage: {
              type: ['object', 'null'],
              properties: { body: { type: ['string', 'null'] }, timestamp: { type: 'integer' } },
            },
          },
        },
      },
    },
    example: {
      params,
      query: { limit: '20' },
      data: [{ id: ECHO_BOT, name: 'Echo Bot', isGroup: false, unreadCount: 1, lastMessage: { body: 'Hello from wa-gateway', timestamp: EXAMPLE_UNIX } }],
    },
  },
  {
    id: 'listChatMessages',
    method: 'GET',
    path: '/sessions/{sessionId}/chats/{chatId}/messages',
    tag: 'Chats',
    summary: 'List the messages of a chat, oldest first',
    description: 'NOT_FOUND (404) when the session has no chat with this id.',
    query: [
      { name: 'limit', description: 'How many messages (default 50, at most 200)', schema: { type: 'integer', minimum: 1, maximum: 200 } },
      { name: 'before', description: 'A message id: only messages older than it', schema: { type: 'string' } },
    ],
    document: `query RestChatMessages($sessionId: String!, $chatId: String!, $last: Int, $before: String) {
      session(sessionId: $sessionId) { chat(chatId: $chatId) { messages(last: $last, before: $before) { edges { node { ${MESSAGE_FIELDS} } } } } }
    }`,
    variables: (req) => ({
      sessionId: sessionIdOf(req),
      chatId: req.params.chatId,
      last: intParam(req.query, 'limit', 50, 1, Number.MAX_SAFE_INTEGER),
      before: req.query.get('before') || undefined,
    }),
    reply: (data, req) => {
      const chat = foundSession(data.session, req).chat;
      if (!chat) throw restError('NOT_FOUND', `Session '${sessionIdOf(req)}' has no chat '${req.params.chatId}'`, { chatId: req.params.chatId });
      return { data: chat.messages.edges.map((e: { node: GqlMessage }) => restMessage(e.node)) };
    },
    response: { data: { type: 'array', items: messageSchema } },
    example: {
      params: { ...params, chatId: ECHO_BOT },
      query: { limit: '2' },
      data: [
        { id: sentId(1), chatId: ECHO_BOT, body: 'Hello from wa-gateway', fromMe: true, timestamp: EXAMPLE_UNIX, author: EXAMPLE_ME, type: 'chat', ack: 'read', caption: null, filename: null, mimetype: null, quotedMessageId: null, edited: false, reactions: [] },
        { id: `false_${ECHO_BOT}_01A242D6C2F20000312F`, chatId: ECHO_BOT, body: 'Hello from wa-gateway', fromMe: false, timestamp: EXAMPLE_UNIX, author: ECHO_BOT, type: 'chat', ack: null, caption: null, filename: null, mimetype: null, quotedMessageId: null, edited: false, reactions: [] },
      ],
    },
  },
  {
    id: 'listContacts',
    method: 'GET',
    path: '/sessions/{sessionId}/contacts',
    tag: 'Contacts',
    summary: 'List the contacts',
    document: `query RestContacts($sessionId: String!) { session(sessionId: $sessionId) { contacts { id name pushname isMyContact isWAContact } } }`,
    variables: (req) => ({ sessionId: sessionIdOf(req) }),
    reply: (data, req) => ({ data: foundSession(data.session, req).contacts }),
    response: { data: { type: 'array', items: contactSchema } },
    example: {
      params,
      data: [
        { id: ECHO_BOT, name: 'Echo Bot', pushname: 'Echo Bot', isMyContact: true, isWAContact: true },
        { id: '1234567890@c.us', name: 'John Doe', pushname: 'John', isMyContact: true, isWAContact: true },
      ],
    },
  },
  {
    id: 'getContact',
    method: 'GET',
    path: '/sessions/{sessionId}/contacts/{contactId}',
    tag: 'Contacts',
    summary: 'Get one contact',
    description: 'NOT_FOUND (404) when the number is unknown; `profilePicThumbObj` is null (not provided by this gateway).',
    document: `query RestContact($sessionId: String!, $contactId: String!) {
      session(sessionId: $sessionId) { contact(contactId: $contactId) { id name pushname isMyContact isWAContact } }
    }`,
    variables: (req) => ({ sessionId: sessionIdOf(req), contactId: req.params.contactId }),
    reply: (data, req) => {
      const contact = foundSession(data.session, req).contact;
      if (!contact) throw restError('NOT_FOUND', `Contact '${req.params.contactId}' not found`, { contactId: req.params.contactId });
      return { data: { ...contact, profilePicThumbObj: null } };
    },
    response: {
      data: { ...contactSchema, properties: { ...(contactSchema.properties as object), profilePicThumbObj: { type: ['object', 'null'] } } },
    },
    example: {
      params: { ...params, contactId: ECHO_BOT },
      data: { id: ECHO_BOT, name: 'Echo Bot', pushname: 'Echo Bot', isMyContact: true, isWAContact: true, profilePicThumbObj: null },
    },
  },
  {
    id: 'createGroup',
    method: 'POST',
    path: '/sessions/{sessionId}/groups',
    tag: 'Groups',
    summary: 'Create a group (each participant gets its own status: 200, 400 malformed, 404 not on WhatsApp, 409 twice)',
    document: `mutation RestCreateGroup($input: CreateGroupInput!) { createGroup(input: $input) { gid participants { id status } } }`,
    variables: (req) => ({ input: { sessionId: sessionIdOf(req), ...pick(req.body, ['name', 'participants', 'description']) } }),
    reply: ({ createGroup }) => ({ status: 201, data: createGroup }),
    body: {
      type: 'object',
      required: ['name', 'participants'],
      properties: { name: { type: 'string' }, participants: { type: 'array', items: { type: 'string' } }, description: { type: 'string' } },
    },
    response: {
      status: 201,
      data: { type: 'object', required: ['gid', 'participants'], properties: { gid: { type: 'string' }, participants: participantResults } },
    },
    example: {
      params,
      // The REST reference's own example, as written: the second number is malformed (a leading 0) and gets its own 400.
      body: { name: 'My Group', participants: ['1234567890@c.us', '0987654321@c.us'], description: 'Optional group description' },
      data: { gid: EXAMPLE_GROUP, participants: [{ id: '1234567890@c.us', status: 200 }, { id: '0987654321@c.us', status: 400 }] },
    },
  },
  ...(['add', 'remove'] as const).map(
    (action): RestRoute => ({
      id: `${action}Participants`,
      method: action === 'add' ? 'POST' : 'DELETE',
      path: '/sessions/{sessionId}/groups/{groupId}/participants',
      tag: 'Groups',
      summary: action === 'add' ? 'Add participants to a group' : 'Remove participants from a group (DELETE with a JSON body)',
      document: `mutation Rest${action === 'add' ? 'Add' : 'Remove'}Participants($input: GroupParticipantsInput!) {
        ${action}Participants(input: $input) { groupId participants { id status } }
      }`,
      variables: (req) => ({ input: { sessionId: sessionIdOf(req), groupId: req.params.groupId, ...pick(req.body, ['participants']) } }),
      reply: (data) => ({ data: data[`${action}Participants`] }),
      body: participantsBody,
      response: {
        data: { type: 'object', required: ['groupId', 'participants'], properties: { groupId: { type: 'string' }, participants: participantResults } },
      },
      example: {
        params: { ...params, groupId: EXAMPLE_GROUP },
        body: { participants: ['1234567890@c.us'] },
        data: { groupId: EXAMPLE_GROUP, participants: [{ id: '1234567890@c.us', status: 200 }] },
      },
    }),
  ),
];
