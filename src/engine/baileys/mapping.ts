// Pure translations of Baileys' objects (typed by the package, imported for types only) into the engine
// interface's shapes. No socket, no store: tested against recorded fixtures (test/fixtures/baileys/).
import { createHash } from 'node:crypto';
import type { BaileysEventMap, proto, WACallEvent, WAMessage, WAMessageKey, WAMessageUpdate } from 'baileys';
import type { EngineChat, EngineContact, EngineMessage, EngineReaction, MessageAck, MessageType, Presence } from '../engine.js';
import { fromJid, isGroupJid, type LidMap } from './ids.js';

export interface MapContext {
  /** The session's own id (`<digits>@c.us`), null before the first login. */
  meId: string | null;
  lids?: LidMap;
}

/** A stored message may carry who voted for what in a poll, so the counts can be recomputed. */
export type StoredMessage = EngineMessage & { pollVoters?: Record<string, string[]> };

/** What one WAMessage of `messages.upsert` (or a history sync) means for the gateway. */
export type UpsertOutcome =
  | { kind: 'message'; message: StoredMessage }
  | { kind: 'revoke'; messageId: string; chatId: string; by: string | null }
  | { kind: 'edit'; messageId: string; chatId: string; body: string | null; timestamp: number }
  | { kind: 'reaction'; messageId: string; chatId: string; reaction: EngineReaction }
  | { kind: 'ignore'; why: string };

/** What one entry of `messages.update` means. */
export type UpdateOutcome =
  | { kind: 'ack'; messageId: string; chatId: string; ack: MessageAck }
  | { kind: 'revoke'; messageId: string; chatId: string; by: string | null }
  | { kind: 'edit'; messageId: string; chatId: string; body: string | null; timestamp: number }
  | { kind: 'pollVote'; messageId: string; chatId: string; voter: string; selectedHashes: string[]; timestamp: number };

/**
 * Events this branch's EngineEvent has no type for: mapped, handed to the session's log. The presence one has
 * the fields of the `presence` event main's engine interface has since gained.
 */
export type SideEvent =
  | { kind: 'presence'; chatId: string; contactId: string; presence: Presence }
  | { kind: 'group_update'; groupId: string; subject?: string; description?: string | null; announce?: boolean; restrict?: boolean; by: string | null }
  | { kind: 'group_admin'; groupId: string; participants: string[]; action: 'promote' | 'demote' | 'modify'; by: string | null }
  | { kind: 'call'; callId: string; from: string; isVideo: boolean; isGroup: boolean; status: WACallEvent['status']; timestamp: number };

const ACKS: MessageAck[] = ['ERROR', 'PENDING', 'SERVER', 'DEVICE', 'READ', 'PLAYED'];

/** proto.WebMessageInfo.Status (0 ERROR .. 5 PLAYED) as the gateway's ack. */
export function mapStatus(status: number | null | undefined): MessageAck | null {
  return typeof status === 'number' ? (ACKS[status] ?? null) : null;
}

/** Protobuf longs arrive as numbers, Long objects, `{ low, high }` or strings (from JSON). */
export function toSeconds(value: unknown): number {
  if (typeof value === 'number') return Math.floor(value);
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  if (value && typeof value === 'object') {
    const v = value as { low?: number; high?: number; toNumber?: () => number };
    if (typeof v.toNumber === 'function') return v.toNumber();
    if (typeof v.low === 'number') return (v.high ?? 0) * 2 ** 32 + (v.low >>> 0);
  }
  return 0;
}

/** The content inside Baileys' wrappers (ephemeral, view once, document with caption, edited ...). */
export function unwrap(content: proto.IMessage | null | undefined): proto.IMessage | undefined {
  let m = content ?? undefined;
  for (let i = 0; i < 5 && m; i++) {
    const inner =
      m.ephemeralMessage ?? m.viewOnceMessage ?? m.documentWithCaptionMessage ?? m.viewOnceMessageV2 ?? m.viewOnceMessageV2Extension ?? m.editedMessage;
    if (!inner?.message) break;
    m = inner.message;
  }
  return m;
}

function textOf(m: proto.IMessage | undefined): string | null {
  if (!m) return null;
  return m.conversation ?? m.extendedTextMessage?.text ?? m.imageMessage?.caption ?? m.videoMessage?.caption ?? m.documentMessage?.caption ?? null;
}

/** The chat of a key as the API's id (a `@lid` chat with its phone id when known). */
export function chatOf(key: WAMessageKey, ctx: MapContext): string | null {
  return fromJid(key.remoteJidAlt && !isGroupJid(key.remoteJid) ? key.remoteJidAlt : key.remoteJid, ctx.lids) ?? fromJid(key.remoteJid, ctx.lids);
}

function participantOf(key: WAMessageKey, ctx: MapContext): string | null {
  return fromJid(key.participantAlt ?? key.participant, ctx.lids) ?? fromJid(key.participant, ctx.lids);
}

interface Body {
  type: MessageType;
  body: string | null;
  caption: string | null;
  media: EngineMessage['media'];
  location?: EngineMessage['location'];
  vcard?: string | null;
  poll?: EngineMessage['poll'];
  quoted: string | null;
}

function media(m: { mimetype?: string | null; fileLength?: unknown; fileName?: string | null }): EngineMessage['media'] {
  return { mimetype: m.mimetype ?? 'application/octet-stream', ...(m.fileName ? { filename: m.fileName } : {}), size: toSeconds(m.fileLength) };
}

function bodyOf(m: proto.IMessage): Body | null {
  const quoted = (m.extendedTextMessage ?? m.imageMessage ?? m.videoMessage ?? m.documentMessage ?? m.audioMessage ?? m.stickerMessage ?? m.locationMessage ?? m.contactMessage)?.contextInfo?.stanzaId ?? null;
  const base = { caption: null, media: null, quoted };
  if (m.conversation != null || m.extendedTextMessage) return { ...base, type: 'CHAT', body: textOf(m) };
  if (m.imageMessage) return { ...base, type: 'IMAGE', body: null, caption: m.imageMessage.caption ?? null, media: media(m.imageMessage) };
  if (m.videoMessage) return { ...base, type: 'VIDEO', body: null, caption: m.videoMessage.caption ?? null, media: media(m.videoMessage) };
  if (m.ptvMessage) return { ...base, type: 'VIDEO', body: null, caption: null, media: media(m.ptvMessage) };
  if (m.documentMessage) return { ...base, type: 'DOCUMENT', body: null, caption: m.documentMessage.caption ?? null, media: media(m.documentMessage) };
  if (m.audioMessage) return { ...base, type: m.audioMessage.ptt ? 'PTT' : 'AUDIO', body: null, media: media(m.audioMessage) };
  if (m.stickerMessage) return { ...base, type: 'STICKER', body: null, media: media(m.stickerMessage) };
  const loc = m.locationMessage ?? m.liveLocationMessage;
  if (loc) {
    const named = loc as proto.Message.ILocationMessage;
    return {
      ...base,
      type: 'LOCATION',
      body: null,
      location: { latitude: loc.degreesLatitude ?? 0, longitude: loc.degreesLongitude ?? 0, name: named.name ?? null, address: named.address ?? null },
    };
  }
  if (m.contactMessage) return { ...base, type: 'VCARD', body: m.contactMessage.displayName ?? null, vcard: m.contactMessage.vcard ?? null };
  if (m.contactsArrayMessage) {
    const cards = (m.contactsArrayMessage.contacts ?? []).map((c) => c.vcard ?? '').filter(Boolean);
    return { ...base, type: 'VCARD', body: m.contactsArrayMessage.displayName ?? null, vcard: cards.join('\n') || null };
  }
  const poll = m.pollCreationMessage ?? m.pollCreationMessageV2 ?? m.pollCreationMessageV3;
  if (poll) {
    return {
      ...base,
      // main's MessageType has no POLL yet: the poll itself is in `poll`.
      type: 'UNKNOWN',
      body: poll.name ?? null,
      poll: {
        name: poll.name ?? '',
        options: (poll.options ?? []).map((o) => ({ name: o.optionName ?? '', votes: 0 })),
        allowMultipleAnswers: (poll.selectableOptionsCount ?? 0) !== 1,
      },
    };
  }
  return null;
}

/** One WAMessage (live or from a history sync) as what it means to the gateway. */
export function mapUpsert(msg: WAMessage, ctx: MapContext): UpsertOutcome {
  const key = msg.key;
  const id = key?.id;
  if (!key || !id) return { kind: 'ignore', why: 'no key' };
  const chatId = chatOf(key, ctx);
  if (!chatId) return { kind: 'ignore', why: `unknown chat ${String(key.remoteJid)}` };
  if (chatId === 'status@broadcast') return { kind: 'ignore', why: 'status update' };
  const timestamp = toSeconds(msg.messageTimestamp);
  const sender = key.fromMe ? ctx.meId : isGroupJid(key.remoteJid) ? participantOf(key, ctx) : chatId;
  // WhatsApp's stub for a message deleted for everyone (history syncs carry these).
  if (msg.messageStubType === 1 && !msg.message) return { kind: 'revoke', messageId: id, chatId, by: sender };
  const content = unwrap(msg.message);
  if (!content) return { kind: 'ignore', why: msg.messageStubType ? `stub ${msg.messageStubType}` : 'no content' };
  const protocol = content.protocolMessage;
  if (protocol) {
    const target = protocol.key?.id;
    if (protocol.type === 0 && target) return { kind: 'revoke', messageId: target, chatId, by: sender };
    if (protocol.type === 14 && target) {
      return { kind: 'edit', messageId: target, chatId, body: textOf(unwrap(protocol.editedMessage)), timestamp: toSeconds(protocol.timestampMs) / 1000 || timestamp };
    }
    return { kind: 'ignore', why: `protocol message ${String(protocol.type)}` };
  }
  if (content.reactionMessage) {
    const r = content.reactionMessage;
    if (!r.key?.id || !sender) return { kind: 'ignore', why: 'reaction without target' };
    return {
      kind: 'reaction',
      messageId: r.key.id,
      chatId,
      reaction: { emoji: r.text ?? '', senderId: sender, timestamp: Math.floor(toSeconds(r.senderTimestampMs) / 1000) || timestamp },
    };
  }
  if (content.pollUpdateMessage) return { kind: 'ignore', why: 'poll vote (decrypted by Baileys into messages.update)' };
  if (content.senderKeyDistributionMessage && Object.keys(content).length === 1) return { kind: 'ignore', why: 'key distribution' };
  const body = bodyOf(content) ?? { type: 'UNKNOWN' as const, body: null, caption: null, media: null, quoted: null };
  const group = isGroupJid(key.remoteJid);
  const me = ctx.meId ?? '';
  const author = group ? (key.fromMe ? me : participantOf(key, ctx)) : null;
  const message: StoredMessage = {
    id,
    chatId,
    from: key.fromMe ? me : group ? (author ?? chatId) : chatId,
    to: key.fromMe ? chatId : group ? chatId : me,
    fromMe: Boolean(key.fromMe),
    body: body.body,
    timestamp,
    author,
    type: body.type,
    ack: key.fromMe ? (mapStatus(msg.status) ?? 'PENDING') : null,
    caption: body.caption,
    media: body.media,
    quotedMessageId: body.quoted,
    ...(body.location ? { location: body.location } : {}),
    ...(body.vcard !== undefined ? { vcard: body.vcard } : {}),
    ...(body.poll ? { poll: body.poll } : {}),
    ...(msg.message?.editedMessage ? { edited: true } : {}),
  };
  if (msg.reactions?.length) {
    message.reactions = msg.reactions
      .filter((r) => r.text)
      .map((r) => ({ emoji: r.text!, senderId: (r.key?.fromMe ? ctx.meId : fromJid(r.key?.participant ?? r.key?.remoteJid, ctx.lids)) ?? '', timestamp: Math.floor(toSeconds(r.senderTimestampMs) / 1000) }));
  }
  return { kind: 'message', message };
}

/** One entry of `messages.update`: acks, edits, deletions and (decrypted) poll votes. */
export function mapUpdate(entry: WAMessageUpdate, ctx: MapContext): UpdateOutcome[] {
  const key = entry.key;
  const id = key?.id;
  const chatId = key ? chatOf(key, ctx) : null;
  if (!id || !chatId) return [];
  const out: UpdateOutcome[] = [];
  const u = entry.update ?? {};
  const ack = mapStatus(u.status);
  if (ack) out.push({ kind: 'ack', messageId: id, chatId, ack });
  if (u.messageStubType === 1 || (u.message === null && 'message' in u)) out.push({ kind: 'revoke', messageId: id, chatId, by: null });
  const inner = unwrap(u.message);
  const protocolEdit = inner?.protocolMessage?.type === 14 ? inner.protocolMessage : null;
  if (protocolEdit || u.message?.editedMessage) {
    const content = protocolEdit ? unwrap(protocolEdit.editedMessage) : inner;
    out.push({ kind: 'edit', messageId: id, chatId, body: textOf(content), timestamp: toSeconds(u.messageTimestamp) });
  }
  for (const vote of u.pollUpdates ?? []) {
    const voterKey = vote.pollUpdateMessageKey;
    const voter = voterKey?.fromMe ? ctx.meId : fromJid(voterKey?.participant ?? voterKey?.remoteJid, ctx.lids);
    if (!voter) continue;
    out.push({
      kind: 'pollVote',
      messageId: id,
      chatId,
      voter,
      selectedHashes: (vote.vote?.selectedOptions ?? []).map((h) => Buffer.from(h).toString('hex')),
      timestamp: Math.floor(toSeconds(vote.senderTimestampMs) / 1000),
    });
  }
  return out;
}

/** An entry of `messages.reaction` (an emptied text removes the sender's reaction). */
export function mapReaction(entry: BaileysEventMap['messages.reaction'][number], ctx: MapContext): Extract<UpsertOutcome, { kind: 'reaction' }> | null {
  const chatId = chatOf(entry.key, ctx);
  const r = entry.reaction;
  const sender = r.key?.fromMe ? ctx.meId : fromJid(r.key?.participant ?? r.key?.remoteJid, ctx.lids);
  if (!entry.key.id || !chatId || !sender) return null;
  return { kind: 'reaction', messageId: entry.key.id, chatId, reaction: { emoji: r.text ?? '', senderId: sender, timestamp: Math.floor(toSeconds(r.senderTimestampMs) / 1000) } };
}

/** A reaction applied to a stored message: one per sender, an empty emoji removes it. */
export function applyReaction(message: StoredMessage, reaction: EngineReaction): StoredMessage {
  const others = (message.reactions ?? []).filter((r) => r.senderId !== reaction.senderId);
  return { ...message, reactions: reaction.emoji ? [...others, reaction] : others };
}

/** SHA-256 of an option's name: how WhatsApp names the options a vote selects. */
export function optionHash(name: string): string {
  return createHash('sha256').update(Buffer.from(name)).digest('hex');
}

/** A voter's latest selection replaces their earlier one; the counts are recomputed from all voters. */
export function applyPollVote(message: StoredMessage, vote: Extract<UpdateOutcome, { kind: 'pollVote' }>): StoredMessage {
  if (!message.poll) return message;
  const byHash = new Map(message.poll.options.map((o) => [optionHash(o.name), o.name]));
  const voters = { ...(message.pollVoters ?? {}), [vote.voter]: vote.selectedHashes.map((h) => byHash.get(h)).filter((n): n is string => n !== undefined) };
  const counts = new Map<string, number>();
  for (const names of Object.values(voters)) for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  return { ...message, pollVoters: voters, poll: { ...message.poll, options: message.poll.options.map((o) => ({ name: o.name, votes: counts.get(o.name) ?? 0 })) } };
}

const PRESENCES: Record<string, Presence> = { composing: 'TYPING', recording: 'RECORDING', paused: 'PAUSED', available: 'AVAILABLE', unavailable: 'UNAVAILABLE' };

export function mapPresence(update: BaileysEventMap['presence.update'], ctx: MapContext): SideEvent[] {
  const chatId = fromJid(update.id, ctx.lids);
  if (!chatId) return [];
  const out: SideEvent[] = [];
  for (const [jid, data] of Object.entries(update.presences ?? {})) {
    const participant = fromJid(jid, ctx.lids);
    const presence = PRESENCES[data.lastKnownPresence];
    if (participant && presence) out.push({ kind: 'presence', chatId, contactId: participant, presence });
  }
  return out;
}

/** `group-participants.update`: joins and leaves are the gateway's group events; admin changes are side events. */
export function mapParticipants(
  update: BaileysEventMap['group-participants.update'],
  ctx: MapContext,
): { type: 'group_join' | 'group_leave'; groupId: string; participants: string[]; by: string | null } | SideEvent | null {
  if (!isGroupJid(update.id)) return null;
  const participants = (update.participants ?? [])
    .map((p) => (typeof p === 'string' ? fromJid(p, ctx.lids) : fromJid(p.phoneNumber ?? p.id, ctx.lids)))
    .filter((p): p is string => p !== null);
  const by = fromJid(update.authorPn ?? update.author, ctx.lids);
  if (update.action === 'add') return { type: 'group_join', groupId: update.id, participants, by };
  if (update.action === 'remove') return { type: 'group_leave', groupId: update.id, participants, by };
  return { kind: 'group_admin', groupId: update.id, participants, action: update.action, by };
}

export function mapGroupUpdate(update: BaileysEventMap['groups.update'][number], ctx: MapContext): SideEvent | null {
  if (!update.id || !isGroupJid(update.id)) return null;
  return {
    kind: 'group_update',
    groupId: update.id,
    ...(update.subject !== undefined ? { subject: update.subject } : {}),
    ...(update.desc !== undefined ? { description: update.desc ?? null } : {}),
    ...(update.announce !== undefined ? { announce: update.announce } : {}),
    ...(update.restrict !== undefined ? { restrict: update.restrict } : {}),
    by: fromJid(update.authorPn ?? update.author, ctx.lids),
  };
}

export function mapCall(call: WACallEvent, ctx: MapContext): SideEvent | null {
  const from = fromJid(call.callerPn ?? call.from, ctx.lids) ?? fromJid(call.from, ctx.lids);
  if (!from) return null;
  const date = call.date instanceof Date ? call.date.getTime() : Date.parse(String(call.date));
  return { kind: 'call', callId: call.id, from, isVideo: Boolean(call.isVideo), isGroup: Boolean(call.isGroup), status: call.status, timestamp: Math.floor((date || 0) / 1000) };
}

export interface ChatRow {
  id: string;
  name: string | null;
  isGroup: boolean;
  unreadCount: number | null;
  timestamp: number | null;
}

/** A chat of a history sync or `chats.upsert`/`chats.update` (fields it does not carry stay null). */
export function mapChat(chat: Partial<BaileysEventMap['chats.upsert'][number]>, ctx: MapContext): ChatRow | null {
  const id = fromJid(chat.id, ctx.lids) ?? (chat.pnJid ? fromJid(chat.pnJid, ctx.lids) : null);
  if (!id || id === 'status@broadcast') return null;
  const ts = toSeconds(chat.conversationTimestamp) || chat.lastMessageRecvTimestamp || 0;
  return {
    id,
    name: chat.name ?? chat.displayName ?? null,
    isGroup: isGroupJid(id),
    // -1: marked unread on the phone.
    unreadCount: typeof chat.unreadCount === 'number' ? (chat.unreadCount < 0 ? 1 : chat.unreadCount) : null,
    timestamp: ts || null,
  };
}

/** A contact of a history sync or `contacts.*`; null for ids the API has none for. */
export function mapContact(contact: Partial<BaileysEventMap['contacts.upsert'][number]>, ctx: MapContext): EngineContact | null {
  const id = fromJid(contact.phoneNumber ?? contact.id, ctx.lids) ?? fromJid(contact.id, ctx.lids);
  if (!id || !id.endsWith('@c.us')) return null;
  return { id, name: contact.name ?? contact.verifiedName ?? null, pushname: contact.notify ?? null, isMyContact: Boolean(contact.name), isWAContact: true };
}

export function chatFromRow(row: ChatRow & { lastMessage: EngineMessage | null }): EngineChat {
  return { id: row.id, name: row.name, isGroup: row.isGroup, unreadCount: row.unreadCount ?? 0, timestamp: row.timestamp ?? 0, lastMessage: row.lastMessage };
}

/** A stored message as the API shows it (the voters are the store's). */
export function publicMessage(m: StoredMessage): EngineMessage {
  const { pollVoters: _voters, ...message } = m;
  return message;
}
