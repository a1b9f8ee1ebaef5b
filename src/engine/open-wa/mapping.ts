// Pure translations between @open-wa/wa-automate's shapes (typed by @open-wa/wa-automate-types-only)
// and the engine interface's. Used by the worker; tested with recorded fixtures.
import type { Call, Chat, Client, Contact, GroupChatCreationResponse, Message, NumberCheck as LibraryNumberCheck, ReactionEvent } from '@open-wa/wa-automate-types-only';
import {
  EngineError,
  type CreateGroupResult,
  type EngineCall,
  type EngineGroup,
  type NumberCheck,
  type EngineChat,
  type EngineContact,
  type EngineEvent,
  type EngineMessage,
  type MessageAck,
  type MessageType,
  type ParticipantResult,
  type Presence,
} from '../engine.js';
import { mapKindFields } from './send-mapping.js';

/** Not exported from the package's root; taken from the listener's signature. */
export type ParticipantChangedEventModel = Parameters<Parameters<Client['onGlobalParticipantsChanged']>[0]>[0];

const CONTACT_ID = /^\d{5,20}@c\.us$/;
const GROUP_ID = /^\d{5,20}(-\d{5,20})?@g\.us$/;

export function isContactId(id: string): boolean {
  return CONTACT_ID.test(id);
}

export function isGroupId(id: string): boolean {
  return GROUP_ID.test(id);
}

/** Throws INVALID_CHAT_ID unless `id` is `<digits>@c.us` (or, when groups are allowed, a group id). */
export function assertChatId(id: string, allow: 'chat' | 'contact' | 'group' = 'chat'): void {
  const ok = allow === 'contact' ? isContactId(id) : allow === 'group' ? isGroupId(id) : isContactId(id) || isGroupId(id);
  if (!ok) {
    const expected = allow === 'contact' ? '<digits>@c.us' : allow === 'group' ? '<digits>-<digits>@g.us' : '<digits>@c.us or a group id';
    throw new EngineError('INVALID_CHAT_ID', `'${id}' is not a valid ${allow} id (expected ${expected})`, { chatId: id });
  }
}

/** Ids arrive as strings, or as WhatsApp Web's id objects (`{ server, user, _serialized }`). */
export function serialized(id: unknown): string | null {
  if (typeof id === 'string') return id;
  if (typeof id === 'object' && id !== null) {
    const s = (id as { _serialized?: unknown })._serialized;
    if (typeof s === 'string') return s;
  }
  return null;
}

const ACKS: Record<number, MessageAck> = { [-1]: 'ERROR', 0: 'PENDING', 1: 'SERVER', 2: 'DEVICE', 3: 'READ', 4: 'PLAYED' };

export function mapAck(ack: number | null | undefined): MessageAck | null {
  return typeof ack === 'number' ? (ACKS[ack] ?? null) : null;
}

const TYPES: Record<string, MessageType> = {
  chat: 'CHAT',
  image: 'IMAGE',
  document: 'DOCUMENT',
  audio: 'AUDIO',
  ptt: 'PTT',
  video: 'VIDEO',
  sticker: 'STICKER',
  location: 'LOCATION',
  vcard: 'VCARD',
  multi_vcard: 'VCARD',
  poll_creation: 'POLL',
  revoked: 'REVOKED',
};

export function mapMessageType(type: string | null | undefined): MessageType {
  return (type && TYPES[type]) || 'UNKNOWN';
}

const MEDIA_TYPES = new Set<MessageType>(['IMAGE', 'DOCUMENT', 'AUDIO', 'PTT', 'VIDEO', 'STICKER']);

export function mapMessage(m: Message): EngineMessage {
  const id = serialized(m.id) ?? '';
  const chatId = serialized(m.chatId) ?? serialized(m.chat?.id) ?? chatIdFromMessageId(id) ?? serialized(m.from) ?? '';
  const type = mapMessageType(m.type);
  const isGroup = m.isGroupMsg === true || chatId.endsWith('@g.us');
  const author = serialized(m.author) ?? (isGroup ? serialized(m.sender?.id) : null);
  // In a group the library's `from` is the group; ours is the member who wrote it.
  const from = isGroup ? (author ?? serialized(m.from) ?? '') : (serialized(m.from) ?? '');
  const media = MEDIA_TYPES.has(type);
  const size = (m as Message & { size?: unknown }).size;
  const quoted = serialized(m.quotedMsg?.id) ?? serialized(m.quotedMsgObj?.id);
  return {
    id,
    chatId,
    from,
    to: serialized(m.to) ?? '',
    fromMe: typeof m.fromMe === 'boolean' ? m.fromMe : id.startsWith('true_'),
    // For media WhatsApp Web puts a base64 thumbnail in `body`: never pass it on as text.
    body: media ? null : type === 'LOCATION' ? (m.loc ?? null) : (m.body ?? m.content ?? null),
    timestamp: m.t ?? m.timestamp ?? 0,
    author: author ?? null,
    type,
    ack: mapAck(m.ack),
    caption: media ? (m.caption || null) : null,
    media: media
      ? { mimetype: m.mimetype ?? 'application/octet-stream', ...(m.filename ? { filename: m.filename } : {}), size: typeof size === 'number' ? size : 0 }
      : null,
    quotedMessageId: quoted ?? null,
    ...mapKindFields(m),
  };
}

/** `true_123@c.us_3EB0...` -> `123@c.us` */
export function chatIdFromMessageId(id: string): string | null {
  const match = /^(?:true|false)_([^_]+@[cg]\.us)_/.exec(id);
  return match?.[1] ?? null;
}

export function mapChat(c: Chat): EngineChat {
  const lastMessage = (c as Chat & { lastMessage?: Message | null }).lastMessage;
  return {
    id: serialized(c.id) ?? '',
    name: c.name || c.formattedTitle || c.contact?.name || c.contact?.pushname || null,
    isGroup: c.isGroup === true || (serialized(c.id) ?? '').endsWith('@g.us'),
    unreadCount: Math.max(0, c.unreadCount ?? 0),
    timestamp: c.t ?? 0,
    lastMessage: lastMessage ? mapMessage(lastMessage) : null,
  };
}

export function mapContact(c: Contact): EngineContact {
  return {
    id: serialized(c.id) ?? '',
    name: c.name || null,
    pushname: c.pushname || null,
    isMyContact: c.isMyContact === true,
    isWAContact: c.isWAContact === true,
  };
}

/** `getHostNumber()` gives the digits; `getMe()` an untyped object that usually has `pushname`. */
export function mapMe(hostNumber: string, me: unknown): EngineContact {
  const digits = hostNumber.replace(/\D/g, '');
  const pushname = typeof me === 'object' && me !== null ? (me as { pushname?: unknown }).pushname : undefined;
  return {
    id: `${digits}@c.us`,
    name: null,
    pushname: typeof pushname === 'string' && pushname ? pushname : null,
    isMyContact: true,
    isWAContact: true,
  };
}

/** The library's codes per participant become the interface's 200/403/404/409. */
export function participantStatus(code: number): number {
  if (code === 200 || code === 201) return 200;
  if (code === 404 || code === 400) return 404;
  if (code === 409) return 409;
  // 403 privacy settings, 408 recently left, 500 group full: all "not allowed".
  return 403;
}

/**
 * `createGroup` resolves to `{ status, gid, participants: [{ "<id>": { code } }] }`; `gid` is typed as a
 * string but WhatsApp Web returns an id object. Requested numbers missing from the answer were added.
 */
export function mapCreateGroup(res: GroupChatCreationResponse | string | boolean | null | undefined, requested: string[]): CreateGroupResult {
  if (typeof res === 'string') throw libraryError(res);
  if (!res || typeof res !== 'object') throw new EngineError('ENGINE_ERROR', 'open-wa could not create the group', { response: res ?? null });
  const gid = serialized(res.gid);
  if (!gid || res.status !== 200) {
    throw new EngineError('ENGINE_ERROR', `open-wa could not create the group (status ${String(res.status)})`, { status: res.status ?? null });
  }
  const codes = new Map<string, number>();
  for (const entry of res.participants ?? []) {
    for (const [id, value] of Object.entries(entry as Record<string, { code?: number } | undefined>)) {
      codes.set(id, typeof value?.code === 'number' ? value.code : 200);
    }
  }
  return { gid, participants: requested.map((id) => ({ id, status: participantStatus(codes.get(id) ?? 200) })) };
}

/** What `addParticipant` did: `true`, or the error it threw (an `AddParticipantError` with `data` per number, or a plain code). */
export type AddOutcome = true | { message: string; data?: Record<string, number> | undefined };

export function mapAddParticipants(groupId: string, requested: string[], outcome: AddOutcome): ParticipantResult[] {
  if (outcome === true) return requested.map((id) => ({ id, status: 200 }));
  const data = outcome.data;
  if (data && typeof data === 'object' && Object.keys(data).length > 0) {
    return requested.map((id) => ({ id, status: typeof data[id] === 'number' ? participantStatus(data[id]) : 200 }));
  }
  const code = groupErrorCode(outcome.message);
  if (code === 'NOT_A_CONTACT') return requested.map((id) => ({ id, status: 404 }));
  if (code === 'INSUFFICIENT_PERMISSIONS') return requested.map((id) => ({ id, status: 403 }));
  throw libraryError(outcome.message, { groupId });
}

/** What `removeParticipant` did for one number: `true`, `false`, an error code string, or a thrown error. */
export function mapRemoveParticipant(groupId: string, id: string, outcome: boolean | string | Error): ParticipantResult {
  if (outcome === true) return { id, status: 200 };
  const message = outcome === false ? 'INSUFFICIENT_PERMISSIONS' : typeof outcome === 'string' ? outcome : outcome.message;
  const code = groupErrorCode(message);
  if (code === 'NOT_A_PARTICIPANT') return { id, status: 409 };
  if (code === 'INSUFFICIENT_PERMISSIONS') return { id, status: 403 };
  throw libraryError(message, { groupId });
}

const GROUP_CODES = ['NOT_A_GROUP_CHAT', 'GROUP_DOES_NOT_EXIST', 'NOT_A_CONTACT', 'NOT_A_PARTICIPANT', 'INSUFFICIENT_PERMISSIONS'] as const;

function groupErrorCode(message: string): (typeof GROUP_CODES)[number] | null {
  return GROUP_CODES.find((c) => message.includes(c)) ?? null;
}

/**
 * The library reports many failures as strings (returned, or thrown with `onError: THROW`) rather than
 * typed errors; this turns each known one into our code and keeps the library's words as the message.
 */
export function libraryError(reason: unknown, details: Record<string, unknown> = {}): EngineError {
  if (reason instanceof EngineError) return reason;
  const text = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : JSON.stringify(reason);
  const name = reason instanceof Error ? reason.name : '';
  const all = { ...details, reason: text };
  if (/license|licence|Unlock this feature/i.test(text) || text.trim() === 'Not a contact') {
    return new EngineError('ENGINE_UNSUPPORTED', `open-wa needs a licence key for this (${text})`, all);
  }
  if (/Number not linked to WhatsApp Account|not on WhatsApp|NOT_A_CONTACT/i.test(text)) {
    return new EngineError('NOT_ON_WHATSAPP', text, all);
  }
  if (/Not able to send message to broadcast/i.test(text)) return new EngineError('VALIDATION_ERROR', text, all);
  if (/INSUFFICIENT_PERMISSIONS|not an admin/i.test(text)) return new EngineError('NOT_GROUP_ADMIN', `WhatsApp refused: this account is not an admin of the group (${text})`, all);
  if (/NOT_A_GROUP_CHAT|GROUP_DOES_NOT_EXIST|Not a valid (chat|group)|chat not found/i.test(text)) {
    return new EngineError('INVALID_CHAT_ID', text, all);
  }
  if (/PAGE_CLOSED|page closed|STATE_ERROR|Target closed|Session closed/i.test(text + name)) {
    return new EngineError('SESSION_NOT_READY', `the WhatsApp page is not usable: ${text}`, all);
  }
  if (name === 'PageEvaluationTimeout') return new EngineError('ENGINE_ERROR', 'open-wa call timed out in the page', all);
  return new EngineError('ENGINE_ERROR', text ? `open-wa: ${text}` : 'open-wa call failed', all);
}

const MESSAGE_ID = /^(true|false)_[^_]+@[cg]\.us_\S+$/;

/** Send methods resolve to the new message's id, or to `false` / an error string. */
export function sentMessageId(result: unknown, chatId: string): string {
  if (typeof result === 'string' && MESSAGE_ID.test(result)) return result;
  const id = serialized(result);
  if (id && MESSAGE_ID.test(id)) return id;
  if (result === false || result === null || result === undefined) {
    throw new EngineError('ENGINE_ERROR', 'open-wa did not send the message', { chatId });
  }
  throw libraryError(result, { chatId });
}

export function mapParticipantsChanged(e: ParticipantChangedEventModel): EngineEvent | null {
  const groupId = serialized(e.chat);
  if (!groupId) return null;
  const participants = (e.who ?? []).map((w) => serialized(w)).filter((w): w is string => w !== null);
  const by = serialized(e.by);
  const action = String(e.action);
  if (action === 'add' || action === 'invite') return { type: 'group_join', groupId, participants, by };
  if (action === 'remove' || action === 'leave') return { type: 'group_leave', groupId, participants, by };
  if (action === 'promote') return { type: 'group_promote', groupId, participants, by };
  if (action === 'demote') return { type: 'group_demote', groupId, participants, by };
  return null;
}

/** Unix seconds from WhatsApp Web's times, which come in seconds or milliseconds. */
const seconds = (t: unknown) => (typeof t === 'number' ? (t > 1e12 ? Math.floor(t / 1000) : t) : Math.floor(Date.now() / 1000));

/**
 * `onReaction` gives the message and every reaction on it now (per emoji, with its senders), not which one
 * changed: the newest sender record is taken as the reaction that fired it.
 */
export function mapReaction(e: ReactionEvent): EngineEvent | null {
  const messageId = serialized(e.message?.id);
  if (!messageId) return null;
  let newest: { reactionText?: unknown; senderUserJid?: unknown; timestamp?: unknown } | null = null;
  for (const reaction of e.reactions ?? []) {
    for (const sender of reaction.senders ?? []) {
      if (!newest || seconds(sender.timestamp) >= seconds(newest.timestamp)) newest = sender;
    }
  }
  const senderId = serialized(newest?.senderUserJid);
  if (!newest || !senderId) return null;
  return {
    type: 'reaction',
    messageId,
    chatId: mapMessage(e.message).chatId,
    reaction: { emoji: typeof newest.reactionText === 'string' ? newest.reactionText : '', senderId, timestamp: seconds(newest.timestamp) },
  };
}

/** `onMessageDeleted` gives the message deleted for everyone (its type now `revoked`). */
export function mapMessageDeleted(m: Message): EngineEvent | null {
  const message = mapMessage(m);
  if (!message.id) return null;
  return { type: 'message_revoked', messageId: message.id, chatId: message.chatId, by: message.from || null };
}

const PRESENCES: Record<string, Presence> = {
  composing: 'TYPING',
  typing: 'TYPING',
  recording: 'RECORDING',
  paused: 'PAUSED',
  available: 'AVAILABLE',
  unavailable: 'UNAVAILABLE',
  // The library's ChatState enum, should a number arrive.
  0: 'TYPING',
  1: 'RECORDING',
  2: 'PAUSED',
};

/** `onChatState` fires `{ chat, user, state }` (its declared type is the ChatState enum; the objects are what arrives). */
export function mapChatState(state: unknown): EngineEvent | null {
  if (typeof state !== 'object' || state === null) return null;
  const s = state as { chat?: unknown; user?: unknown; state?: unknown; id?: unknown };
  const chatId = serialized(s.chat) ?? serialized(s.id);
  const presence = PRESENCES[String(s.state)];
  if (!chatId || !presence) return null;
  return { type: 'presence', chatId, contactId: serialized(s.user) ?? chatId, presence };
}

/** The messages just before `before` (or the newest), oldest first, at most `limit`. */
export function pageMessages(messages: EngineMessage[], limit: number, before?: string | null): EngineMessage[] {
  const sorted = [...messages].sort((a, b) => a.timestamp - b.timestamp);
  let end = sorted.length;
  if (before) {
    end = sorted.findIndex((m) => m.id === before);
    if (end < 0) return [];
  }
  return sorted.slice(Math.max(0, end - limit), end);
}

export function toDataUrl(mimetype: string, data: Uint8Array): string {
  return `data:${mimetype};base64,${Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64')}`;
}

// --- groups, contacts, calls ----------------------------------------------------------------------

/** `checkNumberStatus` answers `{ id, status: 200 | 404, numberExists, canReceiveMessage }`, or an error string. */
export function mapNumberCheck(result: LibraryNumberCheck | string | null | undefined, number: string): NumberCheck {
  if (typeof result === 'string' || !result || typeof result !== 'object') {
    if (typeof result === 'string' && /not on WhatsApp|404/i.test(result)) return { exists: false, id: null };
    throw libraryError(result ?? 'checkNumberStatus answered nothing', { number });
  }
  const exists = result.status === 200 || result.numberExists === true;
  return { exists, id: exists ? (serialized(result.id) ?? number) : null };
}

/**
 * A group chat as `getChatById` returns it: its `groupMetadata` (WhatsApp Web's model, which also carries
 * `announce` and `restrict` though the library's type leaves them out) and the chat's name as the subject.
 */
export function mapGroup(chat: Chat): EngineGroup | null {
  const meta = (chat as unknown as { groupMetadata?: Record<string, unknown> | null }).groupMetadata;
  const id = serialized(chat.id);
  if (!chat.isGroup || !meta || !id) return null;
  const participants = Array.isArray(meta.participants) ? (meta.participants as Record<string, unknown>[]) : [];
  return {
    id,
    subject: String((meta.subject as string | undefined) ?? chat.formattedTitle ?? chat.name ?? ''),
    description: typeof meta.desc === 'string' && meta.desc ? meta.desc : null,
    owner: serialized(meta.owner),
    createdAt: typeof meta.creation === 'number' ? meta.creation : null,
    announce: meta.announce === true,
    restrict: meta.restrict === true,
    participants: participants
      .map((p) => ({ id: serialized(p.id) ?? '', isAdmin: p.isAdmin === true || p.isSuperAdmin === true, isSuperAdmin: p.isSuperAdmin === true }))
      .filter((p) => p.id !== ''),
  };
}

/** `promoteParticipant` / `demoteParticipant` take a list and answer one boolean (or an error string) for all of it. */
export function mapAdminChange(groupId: string, requested: string[], members: string[], outcome: boolean | string | Error): { id: string; status: number }[] {
  const inGroup = new Set(members);
  if (outcome instanceof Error || typeof outcome === 'string') {
    const error = libraryError(outcome, { groupId });
    if (error.code === 'NOT_GROUP_ADMIN') return requested.map((id) => ({ id, status: inGroup.has(id) ? 403 : 404 }));
    throw error;
  }
  return requested.map((id) => ({ id, status: !inGroup.has(id) ? 404 : outcome ? 200 : 403 }));
}

/** `getGroupInviteLink` answers the link, or an error string; a bare code is made a link. */
export function mapInviteLink(result: unknown, groupId: string): string {
  if (typeof result === 'string' && /^https:\/\/chat\.whatsapp\.com\/\S+$/.test(result)) return result;
  if (typeof result === 'string' && /^[A-Za-z0-9]{10,40}$/.test(result)) return `https://chat.whatsapp.com/${result}`;
  throw libraryError(typeof result === 'string' ? result : 'open-wa gave no invite link', { groupId });
}

/** `joinGroupViaLink` answers the group id (or chat), or a status number when the link is not valid. */
export function mapJoinGroup(result: unknown, link: string): string {
  const id = typeof result === 'object' && result !== null ? serialized((result as { id?: unknown }).id) : typeof result === 'string' ? serialized(result) : null;
  if (id && isGroupId(id)) return id;
  if (typeof result === 'number' || result === false) {
    throw new EngineError('NOT_FOUND', `WhatsApp refused the invite link (${String(result)}): revoked, expired or not valid`, { link });
  }
  throw libraryError(result, { link });
}

export function mapCall(call: Call): EngineCall {
  return {
    id: String(call.id),
    from: serialized(call.peerJid) ?? '',
    isVideo: call.isVideo === true,
    isGroup: call.isGroup === true,
    timestamp: typeof call.offerTime === 'number' ? call.offerTime : Math.floor(Date.now() / 1000),
  };
}
