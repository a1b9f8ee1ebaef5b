// Every send and message action of the engine interface as the Baileys socket call that does it (pure:
// the session fetches the stored WAMessages these need and makes the call). What Baileys cannot do is
// ENGINE_UNSUPPORTED with the reason.
import type { AnyMessageContent, ChatModification, MiscMessageGenerationOptions, WAMessage, WAMessageKey, WAPresence } from 'baileys';
import { EngineError, type MessageAction, type OutgoingContent, type Presence, type SendInput } from '../engine.js';
import { phoneUser, toJid, toUserJid } from './ids.js';

export type SocketCall =
  | { method: 'sendMessage'; args: [jid: string, content: AnyMessageContent, options?: MiscMessageGenerationOptions] }
  | { method: 'chatModify'; args: [mod: ChatModification, jid: string] }
  | { method: 'sendPresenceUpdate'; args: [presence: WAPresence, jid: string] };

/** A one-person vCard for a WhatsApp number (what WhatsApp itself sends for a shared contact). */
export function vcardFor(contactId: string, name?: string | null): string {
  const digits = phoneUser(toUserJid(contactId));
  if (!digits) throw new EngineError('INVALID_CHAT_ID', `'${contactId}' is not a contact id (expected <digits>@c.us)`, { contactId });
  return ['BEGIN:VCARD', 'VERSION:3.0', `FN:${name || `+${digits}`}`, `TEL;type=CELL;type=VOICE;waid=${digits}:+${digits}`, 'END:VCARD'].join('\n');
}

/** The message content of a send. */
export function contentFor(content: OutgoingContent): AnyMessageContent {
  switch (content.kind) {
    case 'text':
      return { text: content.text };
    case 'media': {
      const caption = content.caption ?? undefined;
      // Written over the media kind as a string: the media work adds kinds (video, sticker, voice) to MediaKind.
      switch (content.media as string) {
        case 'image':
          return { image: content.data, mimetype: content.mimetype, ...(caption ? { caption } : {}) };
        case 'video':
          return { video: content.data, mimetype: content.mimetype, ...(caption ? { caption } : {}) };
        case 'audio':
          return { audio: content.data, mimetype: content.mimetype, ptt: false };
        case 'voice':
        case 'ptt':
          return { audio: content.data, mimetype: content.mimetype, ptt: true };
        case 'sticker':
          return { sticker: content.data, mimetype: content.mimetype };
        case 'file':
        case 'document':
          return { document: content.data, mimetype: content.mimetype, fileName: content.filename ?? 'file', ...(caption ? { caption } : {}) };
        default:
          throw new EngineError('ENGINE_UNSUPPORTED', `Baileys has no media kind '${content.media}'`, { media: content.media });
      }
    }
    case 'location':
      return {
        location: {
          degreesLatitude: content.latitude,
          degreesLongitude: content.longitude,
          ...(content.name ? { name: content.name } : {}),
          ...(content.address ? { address: content.address } : {}),
        },
      };
    case 'contact': {
      const vcard = content.vcard ?? (content.contactId ? vcardFor(content.contactId) : null);
      if (!vcard) throw new EngineError('VALIDATION_ERROR', 'a contact card needs a contactId or a vcard', {});
      const displayName = /^FN:(.*)$/m.exec(vcard)?.[1]?.trim();
      return { contacts: { ...(displayName ? { displayName } : {}), contacts: [{ vcard, ...(displayName ? { displayName } : {}) }] } };
    }
    case 'poll':
      return { poll: { name: content.name, values: content.options, selectableCount: content.allowMultipleAnswers ? content.options.length : 1 } };
  }
}

/** A send as `sendMessage(jid, content, { quoted })`; `quoted` is the stored message `quotedMessageId` names. */
export function sendCall(input: SendInput, quoted: WAMessage | null): SocketCall {
  const jid = toJid(input.chatId);
  if (input.quotedMessageId && !quoted) {
    throw new EngineError('VALIDATION_ERROR', `quoted message '${input.quotedMessageId}' is not known to this session`, { quotedMessageId: input.quotedMessageId });
  }
  return { method: 'sendMessage', args: [jid, contentFor(input.content), quoted ? { quoted } : {}] };
}

const PRESENCES: Record<Presence, WAPresence> = { TYPING: 'composing', RECORDING: 'recording', PAUSED: 'paused', AVAILABLE: 'available', UNAVAILABLE: 'unavailable' };

export interface ActionContext {
  /** The stored WAMessage the action's messageId names (null: not known to this session). */
  target: WAMessage | null;
  /** The chat's newest messages (markUnread needs the last one). */
  lastMessages?: WAMessage[];
}

function targetOf(action: { messageId: string }, ctx: ActionContext): WAMessage & { key: WAMessageKey } {
  if (!ctx.target?.key?.remoteJid) throw new EngineError('VALIDATION_ERROR', `message '${action.messageId}' is not known to this session`, { messageId: action.messageId });
  return ctx.target as WAMessage & { key: WAMessageKey };
}

export function actionCall(action: MessageAction, ctx: ActionContext): SocketCall {
  switch (action.kind) {
    case 'react': {
      const target = targetOf(action, ctx);
      return { method: 'sendMessage', args: [target.key.remoteJid!, { react: { text: action.emoji, key: target.key } }] };
    }
    case 'forward': {
      const target = targetOf(action, ctx);
      return { method: 'sendMessage', args: [toJid(action.chatId), { forward: target }] };
    }
    case 'delete': {
      const target = targetOf(action, ctx);
      if (action.forEveryone) return { method: 'sendMessage', args: [target.key.remoteJid!, { delete: target.key }] };
      return {
        method: 'chatModify',
        args: [{ deleteForMe: { key: target.key, timestamp: Number(target.messageTimestamp ?? 0), deleteMedia: false } }, target.key.remoteJid!],
      };
    }
    case 'edit': {
      const target = targetOf(action, ctx);
      if (!target.key.fromMe) throw new EngineError('VALIDATION_ERROR', 'only your own messages can be edited', { messageId: action.messageId });
      return { method: 'sendMessage', args: [target.key.remoteJid!, { text: action.content, edit: target.key }] };
    }
    case 'vote':
      throw new EngineError('ENGINE_UNSUPPORTED', 'Baileys cannot cast poll votes (it decrypts votes it receives but has no call to send one)', { action: 'vote' });
    case 'presence':
      return { method: 'sendPresenceUpdate', args: [PRESENCES[action.presence], toJid(action.chatId)] };
    case 'markUnread': {
      const jid = toJid(action.chatId);
      const last = ctx.lastMessages?.[0];
      if (!last?.key) throw new EngineError('VALIDATION_ERROR', `chat '${action.chatId}' has no stored message to mark unread from`, { chatId: action.chatId });
      return { method: 'chatModify', args: [{ markRead: false, lastMessages: [{ key: last.key, messageTimestamp: last.messageTimestamp }] }, jid] };
    }
  }
}
