import type { Config } from '../config.js';
import type {
  CreateGroupResult,
  EngineChat,
  EngineContact,
  EngineMediaBytes,
  EngineMessage,
  EngineSession,
  OutgoingContent,
  GroupParticipantInfo,
  MediaKind,
  MessageAction,
  ParticipantResult,
  Presence,
} from '../engine/engine.js';
import { AppError, validationError } from '../errors.js';
import type { BusEventOf, BusStream, EventBus } from '../events/bus.js';
import { mapEngineError, type SessionManager } from '../sessions/session-manager.js';
import { checkText, textProblem } from '../text-input.js';
import { checkChatId, checkContactId, checkGroupId, takesLids } from './chat-id.js';
import { parseMediaDataUrl } from './media.js';
import { SendQueue } from './send-queue.js';
import { splitParticipants } from './account-service.js';

/** A chat as GraphQL serves it: the engine's chat plus the session it belongs to. */
export interface ChatView extends EngineChat {
  sessionId: string;
}

export interface MessagesPage {
  /** Oldest first. */
  messages: EngineMessage[];
  hasOlder: boolean;
  hasNewer: boolean;
}

export interface SendTextArgs {
  sessionId: string;
  chatId: string;
  content: string;
  quotedMessageId?: string | null;
}

export interface SendMediaArgs {
  sessionId: string;
  chatId: string;
  data: string;
  filename?: string | null;
  caption?: string | null;
  quotedMessageId?: string | null;
}

export interface SendLocationArgs {
  sessionId: string;
  chatId: string;
  latitude: number;
  longitude: number;
  name?: string | null;
  address?: string | null;
  quotedMessageId?: string | null;
}

export interface SendContactCardArgs {
  sessionId: string;
  chatId: string;
  contactId?: string | null;
  vcard?: string | null;
  quotedMessageId?: string | null;
}

export interface SendPollArgs {
  sessionId: string;
  chatId: string;
  name: string;
  options: string[];
  allowMultipleAnswers?: boolean | null;
  quotedMessageId?: string | null;
}

export interface GroupArgs {
  sessionId: string;
  groupId: string;
  participants: string[];
}

const MAX_TEXT = 65_536;
/** UTF-16 units of the longest emoji sequence taken (a ZWJ family with skin tones is about 25). */
const MAX_EMOJI = 32;
const MAX_CAPTION = 4_096;
const MAX_FILENAME = 255;
const MAX_GROUP_NAME = 100;
const MAX_POLL_TEXT = 255;
const MAX_POLL_OPTIONS = 12;
export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 200;

/** Sending, reading chats and contacts, groups: the rules GraphQL and REST share. */
export class MessagingService {
  /** Paces each session's outbound sends (--send-min-gap-ms, --send-jitter-ms). */
  readonly sendQueue: SendQueue;

  constructor(
    private readonly sessions: SessionManager,
    private readonly bus: EventBus,
    private readonly config: Config,
  ) {
    this.sendQueue = new SendQueue(config.sendQueue);
  }

  /** Runs an engine call, turning its expected failures into AppErrors. */
  private async engine<T>(sessionId: string, fn: (engine: EngineSession) => Promise<T>): Promise<T> {
    const engine = this.sessions.engineSession(sessionId);
    try {
      return await fn(engine);
    } catch (error) {
      throw mapEngineError(error);
    }
  }

  /** A chat id given for a session (INVALID_CHAT_ID when malformed): `@lid` ids where its engine takes them. */
  private chatOf(sessionId: string, chatId: string): string {
    return checkChatId(chatId, 'chatId', takesLids(this.sessions.require(sessionId).engine));
  }

  /** A send through the session's queue; in a cluster the queue is the owner's, so a forwarded send is paced there. */
  private paced<T>(sessionId: string, send: () => Promise<T>): Promise<T> {
    return this.sessions.isLocal(sessionId) ? this.sendQueue.run(sessionId, send) : send();
  }

  async sendText(args: SendTextArgs): Promise<EngineMessage> {
    const chatId = this.chatOf(args.sessionId, args.chatId);
    if (args.content.length === 0) throw validationError('content must not be empty', { field: 'content' });
    if (args.content.length > MAX_TEXT) throw validationError(`content is longer than ${MAX_TEXT} characters`, { field: 'content', max: MAX_TEXT });
    checkText(args.content, 'message', 'content');
    const quotedMessageId = optionalId(args.quotedMessageId, 'quotedMessageId');
    return this.send(args.sessionId, chatId, quotedMessageId, { kind: 'text', text: args.content });
  }

  /** Every send ends here: paced per session, then the engine's one `send`. */
  private send(sessionId: string, chatId: string, quotedMessageId: string | null, content: OutgoingContent): Promise<EngineMessage> {
    return this.paced(sessionId, () => this.engine(sessionId, (e) => e.send({ chatId, content, quotedMessageId })));
  }

  async sendLocation(args: SendLocationArgs): Promise<EngineMessage> {
    const chatId = this.chatOf(args.sessionId, args.chatId);
    if (!Number.isFinite(args.latitude) || Math.abs(args.latitude) > 90) throw validationError('latitude must be from -90 to 90', { field: 'latitude' });
    if (!Number.isFinite(args.longitude) || Math.abs(args.longitude) > 180) throw validationError('longitude must be from -180 to 180', { field: 'longitude' });
    const name = optionalText(args.name, 'name', MAX_CAPTION);
    const address = optionalText(args.address, 'address', MAX_CAPTION);
    const quotedMessageId = optionalId(args.quotedMessageId, 'quotedMessageId');
    return this.send(args.sessionId, chatId, quotedMessageId, { kind: 'location', latitude: args.latitude, longitude: args.longitude, name, address });
  }

  async sendContactCard(args: SendContactCardArgs): Promise<EngineMessage> {
    const chatId = this.chatOf(args.sessionId, args.chatId);
    const contactId = args.contactId ? checkContactId(args.contactId, 'contactId') : null;
    const vcard = optionalText(args.vcard, 'vcard', MAX_TEXT);
    if ((contactId === null) === (vcard === null)) throw validationError('give exactly one of contactId and vcard', { field: 'contactId' });
    if (vcard !== null && !/^BEGIN:VCARD/i.test(vcard.trim())) throw validationError('vcard must start with BEGIN:VCARD', { field: 'vcard' });
    const quotedMessageId = optionalId(args.quotedMessageId, 'quotedMessageId');
    return this.send(args.sessionId, chatId, quotedMessageId, { kind: 'contact', contactId, vcard });
  }

  async sendPoll(args: SendPollArgs): Promise<EngineMessage> {
    const chatId = this.chatOf(args.sessionId, args.chatId);
    const name = optionalText(args.name, 'name', MAX_POLL_TEXT);
    if (!name) throw validationError('name must not be empty', { field: 'name' });
    const options = args.options.map((o) => optionalText(o, 'options', MAX_POLL_TEXT) ?? '');
    if (options.length < 2 || options.length > MAX_POLL_OPTIONS || options.some((o) => !o) || new Set(options).size !== options.length) {
      throw validationError(`options must be 2-${MAX_POLL_OPTIONS} different, non-empty texts`, { field: 'options' });
    }
    const quotedMessageId = optionalId(args.quotedMessageId, 'quotedMessageId');
    return this.send(args.sessionId, chatId, quotedMessageId, { kind: 'poll', name, options, allowMultipleAnswers: args.allowMultipleAnswers ?? false });
  }

  /** A vote (the options chosen; none takes the vote back) on a poll this session received or sent. */
  async votePoll(args: { sessionId: string; messageId: string; options: string[] }): Promise<EngineMessage> {
    this.sessions.require(args.sessionId);
    const messageId = optionalId(args.messageId, 'messageId');
    if (!messageId) throw validationError('messageId must not be empty', { field: 'messageId' });
    if (args.options.length > MAX_POLL_OPTIONS) throw validationError(`at most ${MAX_POLL_OPTIONS} options`, { field: 'options' });
    const message = await this.engine(args.sessionId, (e) => e.act({ kind: 'vote', messageId, options: args.options }));
    if (!message) throw new AppError('MESSAGE_NOT_FOUND', `No message '${messageId}'`, { messageId });
    return message;
  }

  /** A message's media bytes (READ); MESSAGE_NOT_FOUND or MEDIA_GONE when there are none to give. */
  async media(sessionId: string, messageId: string): Promise<EngineMediaBytes> {
    this.sessions.require(sessionId);
    const id = optionalId(messageId, 'messageId');
    if (!id) throw validationError('messageId must not be empty', { field: 'messageId' });
    const media = await this.engine(sessionId, (e) => e.getMedia(id));
    if (!media) throw new AppError('MESSAGE_NOT_FOUND', `Message '${id}' has no media`, { messageId: id });
    return media;
  }

  async sendMedia(kind: MediaKind, args: SendMediaArgs): Promise<EngineMessage> {
    const chatId = this.chatOf(args.sessionId, args.chatId);
    const media = parseMediaDataUrl(kind, args.data, this.config.media);
    const filename = args.filename?.trim() || null;
    if (filename && (filename.length > MAX_FILENAME || /[/\\]/.test(filename))) {
      throw validationError(`filename must be a plain name of at most ${MAX_FILENAME} characters`, { field: 'filename' });
    }
    checkText(filename, 'name', 'filename');
    if (args.caption && args.caption.length > MAX_CAPTION) throw validationError(`caption is longer than ${MAX_CAPTION} characters`, { field: 'caption', max: MAX_CAPTION });
    checkText(args.caption, 'message', 'caption');
    const quotedMessageId = optionalId(args.quotedMessageId, 'quotedMessageId');
    return this.send(args.sessionId, chatId, quotedMessageId, {
      kind: 'media',
      media: kind,
      data: media.data,
      mimetype: media.mimetype,
      filename,
      caption: args.caption || null,
    });
  }

  /** A chat id argument of a read of a session (INVALID_CHAT_ID when malformed). */
  checkChat(sessionId: string, chatId: string): string {
    return this.chatOf(sessionId, chatId);
  }

  async markChatRead(sessionId: string, chatId: string): Promise<void> {
    this.chatOf(sessionId, chatId);
    await this.engine(sessionId, (e) => e.markChatRead(chatId));
  }

  // --- actions on messages (one engine call, `act`, for all of them) ------------------------------

  private act(sessionId: string, action: MessageAction): Promise<EngineMessage | null> {
    return this.engine(sessionId, (e) => e.act(action));
  }

  /** An action that leaves a message behind (the reacted, edited or forwarded one). */
  private async actOnMessage(sessionId: string, action: MessageAction): Promise<EngineMessage> {
    const message = await this.act(sessionId, action);
    if (!message) throw new AppError('ENGINE_ERROR', 'The engine did it but could not read the message back', { sessionId });
    return message;
  }

  async reactToMessage(args: { sessionId: string; messageId: string; emoji: string }): Promise<EngineMessage> {
    this.sessions.require(args.sessionId);
    const messageId = requiredId(args.messageId, 'messageId');
    // One emoji, possibly a sequence of code points joined by ZWJ and modifiers (a family, a skin tone).
    if (args.emoji.length > MAX_EMOJI || /[\s\p{L}]/u.test(args.emoji)) {
      throw validationError('emoji must be one emoji, or "" to take the reaction back', { field: 'emoji' });
    }
    return this.actOnMessage(args.sessionId, { kind: 'react', messageId, emoji: args.emoji });
  }

  async forwardMessage(args: { sessionId: string; messageId: string; chatId: string }): Promise<EngineMessage> {
    this.sessions.require(args.sessionId);
    const messageId = requiredId(args.messageId, 'messageId');
    const chatId = this.chatOf(args.sessionId, args.chatId);
    return this.sendQueue.run(args.sessionId, () => this.actOnMessage(args.sessionId, { kind: 'forward', messageId, chatId }));
  }

  async deleteMessage(args: { sessionId: string; messageId: string; forEveryone?: boolean | null }): Promise<{ messageId: string }> {
    this.sessions.require(args.sessionId);
    const messageId = requiredId(args.messageId, 'messageId');
    await this.act(args.sessionId, { kind: 'delete', messageId, forEveryone: args.forEveryone === true });
    return { messageId };
  }

  async editMessage(args: { sessionId: string; messageId: string; content: string }): Promise<EngineMessage> {
    this.sessions.require(args.sessionId);
    const messageId = requiredId(args.messageId, 'messageId');
    if (args.content.length === 0) throw validationError('content must not be empty', { field: 'content' });
    if (args.content.length > MAX_TEXT) throw validationError(`content is longer than ${MAX_TEXT} characters`, { field: 'content', max: MAX_TEXT });
    checkText(args.content, 'message', 'content');
    return this.actOnMessage(args.sessionId, { kind: 'edit', messageId, content: args.content });
  }

  async setPresence(args: { sessionId: string; chatId: string; presence: Presence }): Promise<boolean> {
    const chatId = this.chatOf(args.sessionId, args.chatId);
    await this.act(args.sessionId, { kind: 'presence', chatId, presence: args.presence });
    return true;
  }

  async markChatUnread(sessionId: string, chatId: string): Promise<void> {
    this.sessions.require(sessionId);
    await this.act(sessionId, { kind: 'markUnread', chatId: this.chatOf(sessionId, chatId) });
  }

  async chats(sessionId: string): Promise<ChatView[]> {
    const chats = await this.engine(sessionId, (e) => e.getChats());
    return chats.map((c) => ({ ...c, sessionId }));
  }

  /** Several chats of one session at once: one engine call whatever their number. */
  async chatsByIds(sessionId: string, chatIds: string[]): Promise<(ChatView | null)[]> {
    if (chatIds.length === 1) {
      const chat = await this.engine(sessionId, (e) => e.getChat(chatIds[0]!));
      return [chat ? { ...chat, sessionId } : null];
    }
    const byId = new Map((await this.chats(sessionId)).map((c) => [c.id, c]));
    return chatIds.map((id) => byId.get(id) ?? null);
  }

  async messages(sessionId: string, chatId: string, last: number | null | undefined, before: string | null | undefined): Promise<MessagesPage> {
    const limit = checkPageSize(last ?? DEFAULT_PAGE, 'last');
    const beforeId = optionalId(before, 'before');
    // One more than asked tells whether older messages exist.
    const found = await this.engine(sessionId, (e) => e.getMessages(chatId, { limit: limit + 1, before: beforeId }));
    return { messages: found.slice(-limit), hasOlder: found.length > limit, hasNewer: beforeId !== null };
  }

  contacts(sessionId: string): Promise<EngineContact[]> {
    return this.engine(sessionId, (e) => e.getContacts());
  }

  async contact(sessionId: string, contactId: string): Promise<EngineContact | null> {
    checkContactId(contactId, 'contactId', takesLids(this.sessions.require(sessionId).engine));
    return this.engine(sessionId, (e) => e.getContact(contactId));
  }

  /** The participants of several groups of one session (null for a chat that is not a known group). */
  participants(sessionId: string, chatIds: string[]): Promise<(GroupParticipantInfo[] | null)[]> {
    return this.engine(sessionId, (e) => Promise.all(chatIds.map((id) => (id.endsWith('@g.us') ? e.getGroupParticipants(id) : null))));
  }

  async createGroup(args: { sessionId: string; name: string; participants: string[]; description?: string | null }): Promise<CreateGroupResult> {
    this.sessions.require(args.sessionId);
    const name = checkText(args.name, 'name', 'name').trim();
    if (!name || name.length > MAX_GROUP_NAME) throw validationError(`name must be 1-${MAX_GROUP_NAME} characters`, { field: 'name' });
    checkText(args.description, 'description', 'description');
    const { valid, answer } = splitParticipants(args.participants);
    const created = await this.engine(args.sessionId, (e) => e.createGroup(name, valid, args.description ?? null));
    return { ...created, participants: answer(created.participants) };
  }

  async changeParticipants(change: 'add' | 'remove', args: GroupArgs): Promise<ParticipantResult[]> {
    this.sessions.require(args.sessionId);
    const groupId = checkGroupId(args.groupId);
    const { valid, answer } = splitParticipants(args.participants);
    return answer(await this.engine(args.sessionId, (e) => (change === 'add' ? e.addParticipants(groupId, valid) : e.removeParticipants(groupId, valid))));
  }

  async injectMessage(sessionId: string, from: string, body: string): Promise<EngineMessage> {
    const session = this.sessions.require(sessionId);
    if (session.engine !== 'sandbox') {
      throw new AppError('ENGINE_UNSUPPORTED', `Session '${sessionId}' does not run on the sandbox engine`, { sessionId, engine: session.engine });
    }
    checkContactId(from, 'from');
    if (body.length === 0 || body.length > MAX_TEXT) throw validationError(`body must be 1-${MAX_TEXT} characters`, { field: 'body' });
    checkText(body, 'message', 'body');
    return this.engine(sessionId, async (e) => {
      if (!e.sandbox) throw new AppError('ENGINE_UNSUPPORTED', 'This session has no sandbox controls', { sessionId });
      return e.sandbox.injectMessage(from, body);
    });
  }

  /** Incoming and outgoing messages of a session, optionally of one chat. */
  messageStream(sessionId: string, chatId: string | null | undefined): BusStream<EngineMessage> {
    this.sessions.require(sessionId);
    if (chatId) this.chatOf(sessionId, chatId);
    return this.bus.subscribe(sessionId, (e) => (e.type === 'MESSAGE' && (!chatId || e.message.chatId === chatId) ? e.message : undefined));
  }

  pollVoteStream(sessionId: string): BusStream<BusEventOf<'POLL_VOTE'>> {
    this.sessions.require(sessionId);
    return this.bus.subscribe(sessionId, (e) => (e.type === 'POLL_VOTE' ? e : undefined));
  }

  ackStream(sessionId: string): BusStream<BusEventOf<'ACK'>> {
    this.sessions.require(sessionId);
    return this.bus.subscribe(sessionId, (e) => (e.type === 'ACK' ? e : undefined));
  }
}

/**
 * A page size (chats' first and last, messages' last): 1 to MAX_PAGE. Zero is refused rather than answered with an
 * empty page: such a page has no cursor to go on from, and a client paging by hasNextPage would never finish.
 */
export function checkPageSize(size: number, field: string): number {
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) {
    throw validationError(`${field} must be between 1 and ${MAX_PAGE}`, { field, min: 1, max: MAX_PAGE });
  }
  return size;
}

function optionalId(value: string | null | undefined, field: string): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (value.length > 200 || textProblem(value, 'name')) throw validationError(`${field} is not a message id`, { field });
  return value;
}

function requiredId(value: string, field: string): string {
  const id = optionalId(value, field);
  if (id === null) throw validationError(`${field} must not be empty`, { field });
  return id;
}

/** An optional text field: trimmed, null when empty, at most `max` characters. */
function optionalText(value: string | null | undefined, field: string, max: number): string | null {
  const text = value?.trim() ?? '';
  if (!text) return null;
  if (text.length > max) throw validationError(`${field} is longer than ${max} characters`, { field, max });
  checkText(text, 'message', field);
  return text;
}

