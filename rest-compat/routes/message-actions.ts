import { ECHO_BOT, EXAMPLE_ME, EXAMPLE_SESSION, EXAMPLE_UNIX, type JsonSchema, lower, pick, type RestRoute, sessionIdOf } from '../route.js';

// What a session does to a message it has (react, edit, delete, forward) or to a chat (presence, unread).
// The message id is one from listChatMessages or a send's answer.

const sent = `true_${ECHO_BOT}_01A242D6C2B70001A323`;
const messageParams = { sessionId: EXAMPLE_SESSION, messageId: sent };
const JOHN = '1234567890@c.us';

const ACTED_FIELDS = 'id chatId body type timestamp edited reactions { emoji senderId timestamp }';

interface GqlActed {
  id: string;
  chatId: string;
  body: string | null;
  type: string;
  timestamp: number;
  edited: boolean;
  reactions: { emoji: string; senderId: string; timestamp: number }[];
}

/** A message an action left behind, in the REST conventions (lower-case type, unix seconds). */
const acted = (m: GqlActed) => ({
  messageId: m.id,
  chatId: m.chatId,
  content: m.body,
  type: lower(m.type),
  timestamp: m.timestamp,
  edited: m.edited,
  reactions: m.reactions,
});

const reactionSchema: JsonSchema = {
  type: 'object',
  required: ['emoji', 'senderId', 'timestamp'],
  properties: { emoji: { type: 'string' }, senderId: { type: 'string' }, timestamp: { type: 'integer', description: 'Unix seconds' } },
};

const actedSchema: JsonSchema = {
  type: 'object',
  required: ['messageId', 'chatId', 'type', 'timestamp', 'edited', 'reactions'],
  properties: {
    messageId: { type: 'string' },
    chatId: { type: 'string' },
    content: { type: ['string', 'null'], description: 'The text (null for media and deleted messages)' },
    type: { type: 'string', description: 'chat, image, ..., revoked' },
    timestamp: { type: 'integer', description: 'Unix seconds' },
    edited: { type: 'boolean' },
    reactions: { type: 'array', items: reactionSchema, description: 'One per sender (its latest)' },
  },
};

const actedExample = (over: Partial<ReturnType<typeof acted>>) => ({
  messageId: sent,
  chatId: ECHO_BOT,
  content: 'Hello from wa-gateway',
  type: 'chat',
  timestamp: EXAMPLE_UNIX,
  edited: false,
  reactions: [],
  ...over,
});

const presenceValues = ['typing', 'recording', 'paused', 'available', 'unavailable'];

export const messageActionRoutes: RestRoute[] = [
  {
    id: 'reactToMessage',
    method: 'POST',
    path: '/sessions/{sessionId}/messages/{messageId}/reaction',
    tag: 'Messages',
    summary: 'React to a message with an emoji ("" takes the reaction back)',
    document: `mutation RestReact($input: ReactToMessageInput!) { reactToMessage(input: $input) { message { ${ACTED_FIELDS} } } }`,
    variables: (req) => ({ input: { sessionId: sessionIdOf(req), messageId: req.params.messageId, ...pick(req.body, ['emoji']) } }),
    reply: (data) => ({ data: acted(data.reactToMessage.message) }),
    body: { type: 'object', required: ['emoji'], properties: { emoji: { type: 'string', description: 'One emoji, or "" to remove yours' } } },
    response: { data: actedSchema },
    example: {
      params: messageParams,
      body: { emoji: '👍' },
      data: actedExample({ reactions: [{ emoji: '👍', senderId: EXAMPLE_ME, timestamp: EXAMPLE_UNIX }] }),
    },
  },
  {
    id: 'forwardMessage',
    method: 'POST',
    path: '/sessions/{sessionId}/messages/{messageId}/forward',
    tag: 'Messages',
    summary: 'Forward a message to another chat (answers the copy)',
    document: `mutation RestForward($input: ForwardMessageInput!) { forwardMessage(input: $input) { message { ${ACTED_FIELDS} } } }`,
    variables: (req) => ({ input: { sessionId: sessionIdOf(req), messageId: req.params.messageId, ...pick(req.body, ['chatId']) } }),
    reply: (data) => ({ data: acted(data.forwardMessage.message) }),
    body: { type: 'object', required: ['chatId'], properties: { chatId: { type: 'string', description: 'A number (...@c.us) or a group (...@g.us)' } } },
    response: { data: actedSchema },
    example: {
      params: messageParams,
      body: { chatId: JOHN },
      data: actedExample({ messageId: `true_${JOHN}_01A242D6C2B70002B434`, chatId: JOHN }),
    },
  },
  {
    id: 'editMessage',
    method: 'PUT',
    path: '/sessions/{sessionId}/messages/{messageId}',
    tag: 'Messages',
    summary: 'Edit the text of one of your own text messages',
    document: `mutation RestEdit($input: EditMessageInput!) { editMessage(input: $input) { message { ${ACTED_FIELDS} } } }`,
    variables: (req) => ({ input: { sessionId: sessionIdOf(req), messageId: req.params.messageId, ...pick(req.body, ['content']) } }),
    reply: (data) => ({ data: acted(data.editMessage.message) }),
    body: { type: 'object', required: ['content'], properties: { content: { type: 'string', description: 'The new text' } } },
    response: { data: actedSchema },
    example: {
      params: messageParams,
      body: { content: 'Hello from wa-gateway (edited)' },
      data: actedExample({ content: 'Hello from wa-gateway (edited)', edited: true }),
    },
  },
  {
    id: 'deleteMessage',
    method: 'DELETE',
    path: '/sessions/{sessionId}/messages/{messageId}',
    tag: 'Messages',
    summary: 'Delete a message: your copy, or every copy (forEveryone, your own messages) which become type revoked',
    document: `mutation RestDeleteMessage($input: DeleteMessageInput!) { deleteMessage(input: $input) { messageId } }`,
    variables: (req) => ({ input: { sessionId: sessionIdOf(req), messageId: req.params.messageId, ...pick(req.body, ['forEveryone']) } }),
    reply: (data) => ({ data: data.deleteMessage }),
    body: { type: 'object', properties: { forEveryone: { type: 'boolean', description: 'Default false: only your copy goes' } } },
    response: { data: { type: 'object', required: ['messageId'], properties: { messageId: { type: 'string' } } } },
    example: { params: messageParams, body: { forEveryone: true }, data: { messageId: sent } },
  },
  {
    id: 'setPresence',
    method: 'POST',
    path: '/sessions/{sessionId}/presence',
    tag: 'Messages',
    summary: 'Show typing, recording, paused, online or offline in a chat',
    document: `mutation RestSetPresence($input: SetPresenceInput!) { setPresence(input: $input) }`,
    variables: (req) => {
      const presence = req.body.presence;
      return { input: { sessionId: sessionIdOf(req), ...pick(req.body, ['chatId']), presence: typeof presence === 'string' ? presence.toUpperCase() : presence } };
    },
    reply: () => ({ message: 'Presence set' }),
    body: {
      type: 'object',
      required: ['chatId', 'presence'],
      properties: { chatId: { type: 'string' }, presence: { type: 'string', enum: presenceValues } },
    },
    response: { message: 'Presence set' },
    example: { params: { sessionId: EXAMPLE_SESSION }, body: { chatId: ECHO_BOT, presence: 'typing' } },
  },
  ...(['read', 'unread'] as const).map(
    (state): RestRoute => ({
      id: state === 'read' ? 'markChatRead' : 'markChatUnread',
      method: 'POST',
      path: `/sessions/{sessionId}/chats/{chatId}/mark-${state}`,
      tag: 'Chats',
      summary: state === 'read' ? 'Read every message of a chat (the senders see READ)' : 'Mark a chat unread (an unread count of at least 1)',
      document: `mutation RestMarkChat${state === 'read' ? 'Read' : 'Unread'}($sessionId: String!, $chatId: String!) {
        result: markChat${state === 'read' ? 'Read' : 'Unread'}(sessionId: $sessionId, chatId: $chatId) { chatId chat { unreadCount } }
      }`,
      variables: (req) => ({ sessionId: sessionIdOf(req), chatId: req.params.chatId }),
      reply: (data) => ({ data: { chatId: data.result.chatId, unreadCount: data.result.chat?.unreadCount ?? 0 } }),
      response: {
        data: { type: 'object', required: ['chatId', 'unreadCount'], properties: { chatId: { type: 'string' }, unreadCount: { type: 'integer' } } },
      },
      example: { params: { sessionId: EXAMPLE_SESSION, chatId: ECHO_BOT }, data: { chatId: ECHO_BOT, unreadCount: state === 'read' ? 0 : 1 } },
    }),
  ),
];
