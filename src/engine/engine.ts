// The one seam between the gateway and WhatsApp. Services, resolvers and the bus only see these types;
// nothing outside src/engine/ imports an engine's internals.

export type EngineKind = 'sandbox' | 'open-wa';

export type MessageAck = 'ERROR' | 'PENDING' | 'SERVER' | 'DEVICE' | 'READ' | 'PLAYED';

export type MessageType =
  | 'CHAT'
  | 'IMAGE'
  | 'DOCUMENT'
  | 'AUDIO'
  | 'PTT'
  | 'VIDEO'
  | 'STICKER'
  | 'LOCATION'
  | 'VCARD'
  | 'POLL'
  | 'REVOKED'
  | 'UNKNOWN';

export interface ProxyServerCredentials {
  protocol?: string;
  address: string;
  username?: string;
  password?: string;
}

export interface SandboxSessionOptions {
  /** Scan the QR automatically this many ms after the first one is shown (demos). */
  autoScanMs?: number;
}

/** What a session was created with; persisted as given (secrets included) and never returned in full. */
export interface SessionConfig {
  engine: EngineKind;
  multiDevice: boolean;
  headless: boolean;
  /** Seconds an unscanned QR phase may last before the session fails. */
  qrTimeout: number;
  /** Seconds the AUTHENTICATED phase may last before the session fails. */
  authTimeout: number;
  proxyServerCredentials?: ProxyServerCredentials;
  licenceKey?: string;
  sandbox?: SandboxSessionOptions;
}

export interface EngineStartOptions {
  sessionId: string;
  config: SessionConfig;
  /** A folder owned by this session for the engine's own files (browser profile, saved login). */
  dataDir: string;
}

export interface EngineMedia {
  mimetype: string;
  filename?: string;
  size: number;
}

export interface EngineMessage {
  id: string;
  chatId: string;
  /** Sender id (`<digits>@c.us`); for group messages the member who wrote it. */
  from: string;
  to: string;
  fromMe: boolean;
  body: string | null;
  /** Unix seconds. */
  timestamp: number;
  author: string | null;
  type: MessageType;
  ack: MessageAck | null;
  caption: string | null;
  media: EngineMedia | null;
  quotedMessageId: string | null;
  location?: EngineLocation | null;
  vcard?: string | null;
  poll?: EnginePoll | null;
  reactions?: EngineReaction[];
  edited?: boolean;
}

export interface EngineChat {
  id: string;
  name: string | null;
  isGroup: boolean;
  unreadCount: number;
  /** Unix seconds of the newest activity, for ordering. */
  timestamp: number;
  lastMessage: EngineMessage | null;
}

export interface EngineContact {
  id: string;
  name: string | null;
  pushname: string | null;
  isMyContact: boolean;
  isWAContact: boolean;
}

export interface GroupParticipantInfo {
  id: string;
  isAdmin: boolean;
}

export interface ParticipantResult {
  id: string;
  /** 200 done, 403 not allowed, 404 not on WhatsApp, 409 already in / not in the group. */
  status: number;
}

export interface CreateGroupResult {
  gid: string;
  participants: ParticipantResult[];
}

/** What a media send carries: `voice` is a voice note (type PTT), `audio` an audio file. */
export type MediaKind = 'image' | 'file' | 'audio' | 'video' | 'sticker' | 'voice';

/** The message type each media kind is sent as. */
export const mediaMessageType: Record<MediaKind, MessageType> = {
  image: 'IMAGE',
  file: 'DOCUMENT',
  audio: 'AUDIO',
  video: 'VIDEO',
  sticker: 'STICKER',
  voice: 'PTT',
};

/**
 * What a send carries: one union through the engine, so a new message kind is a new case here and in each
 * engine's mapping, not a new method on every layer.
 */
export type OutgoingContent =
  | { kind: 'text'; text: string }
  | { kind: 'media'; media: MediaKind; data: Buffer; mimetype: string; filename?: string | null; caption?: string | null }
  | { kind: 'location'; latitude: number; longitude: number; name?: string | null; address?: string | null }
  | { kind: 'contact'; contactId?: string | null; vcard?: string | null }
  | { kind: 'poll'; name: string; options: string[]; allowMultipleAnswers: boolean };

export interface SendInput {
  chatId: string;
  content: OutgoingContent;
  quotedMessageId?: string | null;
}

export type Presence = 'TYPING' | 'RECORDING' | 'PAUSED' | 'AVAILABLE' | 'UNAVAILABLE';

/** What a session does to an existing message or chat: one union, as for sends. */
export type MessageAction =
  | { kind: 'react'; messageId: string; emoji: string }
  | { kind: 'forward'; messageId: string; chatId: string }
  | { kind: 'delete'; messageId: string; forEveryone: boolean }
  | { kind: 'edit'; messageId: string; content: string }
  | { kind: 'vote'; messageId: string; options: string[] }
  | { kind: 'presence'; chatId: string; presence: Presence }
  | { kind: 'markUnread'; chatId: string };

export interface EngineLocation {
  latitude: number;
  longitude: number;
  name: string | null;
  address: string | null;
}

export interface EnginePoll {
  name: string;
  options: { name: string; votes: number }[];
  allowMultipleAnswers: boolean;
}

export interface EngineReaction {
  emoji: string;
  senderId: string;
  /** Unix seconds. */
  timestamp: number;
}

/** A received or sent message's bytes, as the media route serves them. */
export interface EngineMediaBytes {
  data: Buffer;
  mimetype: string;
  filename: string | null;
}

export type EngineEvent =
  | { type: 'qr'; dataUrl: string; /** epoch ms */ expiresAt: number }
  | { type: 'authenticated' }
  | { type: 'ready'; me: EngineContact }
  | { type: 'message'; message: EngineMessage }
  | { type: 'ack'; messageId: string; chatId: string; ack: MessageAck }
  /** A vote on a poll this session sent: `messageId` is the session's own copy; `poll` has the new counts. */
  | { type: 'poll_vote'; messageId: string; chatId: string; voter: string; options: string[]; poll: EnginePoll }
  | { type: 'disconnected'; reason: string }
  | { type: 'failed'; reason: string }
  | { type: 'group_join'; groupId: string; participants: string[]; by: string | null }
  | { type: 'group_leave'; groupId: string; participants: string[]; by: string | null };

export type EngineEventSink = (event: EngineEvent) => void;

/**
 * Errors an engine throws for expected failures carry one of these codes; anything else is treated
 * as an internal error by the services.
 */
export class EngineError extends Error {
  constructor(
    readonly code: 'NOT_ON_WHATSAPP' | 'INVALID_CHAT_ID' | 'SESSION_NOT_READY' | 'VALIDATION_ERROR' | 'ENGINE_ERROR' | 'ENGINE_UNSUPPORTED' | 'MESSAGE_NOT_FOUND' | 'MEDIA_GONE',
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** Controls that only the sandbox engine offers (scan a QR, simulate an incoming message). */
export interface SandboxControls {
  scanQr(): Promise<void>;
  injectMessage(from: string, body: string): Promise<EngineMessage>;
  markChatRead(chatId: string): Promise<void>;
}

export interface EngineSession {
  readonly sessionId: string;
  /** Sends any kind of message (OutgoingContent); answers the sender's copy. */
  send(input: SendInput): Promise<EngineMessage>;
  /**
   * The bytes of a message's media; null when the message has none. MESSAGE_NOT_FOUND for an unknown message,
   * MEDIA_GONE when its bytes are no longer kept (pruned, or WhatsApp no longer has them).
   */
  getMedia(messageId: string): Promise<EngineMediaBytes | null>;
  /** Acts on an existing message or chat; answers the changed message where there is one. */
  act(action: MessageAction): Promise<EngineMessage | null>;
  getChats(): Promise<EngineChat[]>;
  getChat(chatId: string): Promise<EngineChat | null>;
  /** Oldest first; `before` is a message id; at most `limit` messages just before it. */
  getMessages(chatId: string, options: { limit: number; before?: string | null }): Promise<EngineMessage[]>;
  getContacts(): Promise<EngineContact[]>;
  getContact(contactId: string): Promise<EngineContact | null>;
  getGroupParticipants(groupId: string): Promise<GroupParticipantInfo[] | null>;
  createGroup(name: string, participants: string[], description?: string | null): Promise<CreateGroupResult>;
  addParticipants(groupId: string, participants: string[]): Promise<ParticipantResult[]>;
  removeParticipants(groupId: string, participants: string[]): Promise<ParticipantResult[]>;
  markChatRead(chatId: string): Promise<void>;
  /** Stop the session, keeping its saved login so a later start restores it. */
  stop(): Promise<void>;
  /** Log the account out: the next start needs a new QR scan. Stops the session. */
  logout(): Promise<void>;
  /** Present only on the sandbox engine. */
  readonly sandbox?: SandboxControls;
}

export interface Engine {
  readonly kind: EngineKind;
  /**
   * Start a session. Returns as soon as the session exists; its progress (qr, authenticated, ready,
   * failed ...) arrives through `sink`. Must not throw for a login failure: emit `failed` instead.
   */
  start(options: EngineStartOptions, sink: EngineEventSink): Promise<EngineSession>;
  /** Forget the saved login of a session that is not running, so its next start shows a QR (logoutSession). Optional. */
  forgetLogin?(options: { sessionId: string; dataDir: string }): Promise<void>;
  /** Forget what the engine saved for a removed session (its login, its account). Optional. */
  forget?(sessionId: string): Promise<void>;
  /** Release everything the engine holds (called once at server shutdown, after every session stopped). */
  close(): Promise<void>;
}
