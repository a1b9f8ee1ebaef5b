// The one seam between the gateway and WhatsApp. Services, resolvers and the bus only see these types;
// nothing outside src/engine/ imports an engine's internals.

export type EngineKind = 'sandbox' | 'open-wa' | 'baileys';

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
  /** Reject incoming calls as they ring (the `call` event is still published). */
  rejectCalls?: boolean;
  /** Sent to the caller after an automatic rejection. */
  rejectCallsMessage?: string;
  /** open-wa: log in with a pairing code for this phone number (its `linkCode` start option) instead of the QR. */
  linkCode?: string;
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
  | { type: 'group_leave'; groupId: string; participants: string[]; by: string | null }
  /** A reaction on a message of this session's history; `reaction.emoji` '' when it was taken back. */
  | { type: 'reaction'; messageId: string; chatId: string; reaction: EngineReaction }
  /** A message of this session's history was deleted for everyone (its copy is now REVOKED). */
  | { type: 'message_revoked'; messageId: string; chatId: string; by: string | null }
  /** A message of this session's history was edited by its sender: the copy as it is now. */
  | { type: 'message_edited'; message: EngineMessage }
  /** A contact's presence in a chat (typing, recording ...). */
  | { type: 'presence'; chatId: string; contactId: string; presence: Presence }
  | { type: 'group_update'; groupId: string; by: string | null; change: GroupChange }
  | { type: 'group_promote' | 'group_demote'; groupId: string; participants: string[]; by: string | null }
  | { type: 'call'; call: EngineCall };

export type EngineEventSink = (event: EngineEvent) => void;

/**
 * Errors an engine throws for expected failures carry one of these codes; anything else is treated
 * as an internal error by the services.
 */
export class EngineError extends Error {
  constructor(
    readonly code:
      | 'NOT_ON_WHATSAPP'
      | 'INVALID_CHAT_ID'
      | 'SESSION_NOT_READY'
      | 'VALIDATION_ERROR'
      | 'ENGINE_ERROR'
      | 'ENGINE_UNSUPPORTED'
      | 'NOT_GROUP_ADMIN'
      | 'GROUP_ANNOUNCE_ONLY'
      | 'CONTACT_BLOCKED'
      | 'NOT_FOUND'
      | 'MESSAGE_NOT_FOUND'
      | 'MEDIA_GONE',
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
  /** Log in with a pairing code instead of the QR (the phone number of the account). */
  enterPairingCode(code: string): Promise<void>;
  /** A call ringing now, as a phone would ring (open-wa's onIncomingCall). */
  injectCall(from: string, isVideo: boolean): Promise<EngineCall>;
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
  /**
   * An action on an existing message or chat. Answers the message it leaves behind: the reacted or edited
   * message, the forwarded copy, the REVOKED copy of a delete for everyone; null where none is left (a delete
   * for me, presence, markUnread).
   */
  act(action: MessageAction): Promise<EngineMessage | null>;
  /** Whether a number is on WhatsApp (open-wa: checkNumberStatus). */
  checkNumber(number: string): Promise<NumberCheck>;
  /** A pairing code for logging in without the QR, while the session waits for its login. */
  requestPairingCode(phoneNumber: string): Promise<string>;
  /** A group's administration view; null when the account knows no such group. */
  getGroup(groupId: string): Promise<EngineGroup | null>;
  /** One administration step on a group (table-driven like MessageAction). */
  groupAction(groupId: string, action: GroupAction): Promise<GroupActionResult>;
  /** Joins the group of an invite link; answers its id. */
  joinGroup(link: string): Promise<string>;
  /** What a contact shows of itself (about, picture) and whether this account blocked it. */
  getProfile(contactId: string): Promise<EngineProfile>;
  /** A contact's profile picture bytes; null when it has none. */
  getProfilePicture(contactId: string): Promise<EngineMediaBytes | null>;
  /** One change to this account or its contacts (block, own profile, reject a call). */
  accountAction(action: AccountAction): Promise<void>;
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

// --- groups, contacts, calls (issue 24) -----------------------------------------------------------

export interface NumberCheck {
  exists: boolean;
  /** The WhatsApp id of the number when it exists. */
  id: string | null;
}

export interface EngineGroupParticipant extends GroupParticipantInfo {
  isSuperAdmin: boolean;
}

export interface EngineGroup {
  id: string;
  subject: string;
  description: string | null;
  owner: string | null;
  /** Unix seconds. */
  createdAt: number | null;
  /** Only admins send. */
  announce: boolean;
  /** Only admins edit the subject, description and settings. */
  restrict: boolean;
  participants: EngineGroupParticipant[];
}

/** What a group_update changed: the fields set are the new values. */
export interface GroupChange {
  subject?: string;
  description?: string;
  announce?: boolean;
  restrict?: boolean;
}

export type GroupAction =
  | { kind: 'subject'; subject: string }
  | { kind: 'description'; description: string }
  | { kind: 'settings'; announce?: boolean | null; restrict?: boolean | null }
  | { kind: 'promote' | 'demote'; participants: string[] }
  | { kind: 'inviteLink' }
  | { kind: 'revokeInviteLink' }
  | { kind: 'leave' };

/** The group after the change (null after leaving), the per-participant statuses of promote/demote, an invite link. */
export interface GroupActionResult {
  group: EngineGroup | null;
  participants?: ParticipantResult[];
  link?: string;
}

export interface EngineProfile {
  about: string | null;
  /** Whether the contact has a picture (served by getProfilePicture). */
  hasPicture: boolean;
  isBlocked: boolean;
}

export type AccountAction =
  | { kind: 'block' | 'unblock'; contactId: string }
  | { kind: 'setName'; name: string }
  | { kind: 'setAbout'; about: string }
  | { kind: 'setPicture'; data: Buffer; mimetype: string }
  /** `message`: sent to the caller afterwards. */
  | { kind: 'rejectCall'; callId: string; message?: string | null };

export interface EngineCall {
  id: string;
  from: string;
  isVideo: boolean;
  isGroup: boolean;
  /** Unix seconds. */
  timestamp: number;
}
