// What each kind of outgoing content calls in @open-wa/wa-automate, and the library's media and poll objects
// in the engine's shapes. Pure apart from the Client passed in; tested with recorded fixtures.
import type { Client, Message } from '@open-wa/wa-automate-types-only';
import type { PollData } from '@open-wa/wa-automate-types-only/dist/api/model/message.js';
import { EngineError, mediaMessageType, type EngineEvent, type EngineMediaBytes, type EngineMessage, type EnginePoll, type OutgoingContent } from '../engine.js';
import { isGroupId, libraryError, serialized, toDataUrl } from './mapping.js';

// The library brands its id strings (ContactId, ChatId ...); ours are checked plain strings.
const id = (s: string): any => s;

/** Calls the library's method for one kind of content; resolves to what the library answered (a message id, or false). */
export async function sendContent(client: Client, chatId: string, content: OutgoingContent, quoted: any): Promise<unknown> {
  switch (content.kind) {
    case 'text':
      return quoted ? client.reply(id(chatId), id(content.text), quoted) : client.sendText(id(chatId), id(content.text));
    case 'media': {
      const url = id(toDataUrl(content.mimetype, content.data));
      const name = content.filename ?? content.media;
      const caption = id(content.caption ?? '');
      switch (content.media) {
        case 'image':
          return client.sendImage(id(chatId), url, name, caption, quoted, true);
        case 'audio':
          return client.sendAudio(id(chatId), url, quoted);
        case 'voice':
          return client.sendPtt(id(chatId), url, quoted);
        case 'sticker':
          // A WebP goes as it is; other images are converted by the library.
          return content.mimetype === 'image/webp'
            ? client.sendRawWebpAsSticker(id(chatId), content.data.toString('base64'))
            : client.sendImageAsSticker(id(chatId), url);
        case 'video':
        case 'file':
          return client.sendFile(id(chatId), url, name, caption, quoted, true);
      }
      break;
    }
    case 'location':
      return client.sendLocation(id(chatId), String(content.latitude), String(content.longitude), content.name ?? '', content.address ?? undefined);
    case 'contact':
      return content.vcard ? client.sendVCard(id(chatId), content.vcard) : client.sendContact(id(chatId), id(content.contactId ?? ''));
    case 'poll':
      if (!isGroupId(chatId)) {
        throw new EngineError('ENGINE_UNSUPPORTED', 'open-wa sends polls to groups only', { chatId });
      }
      return client.sendPoll(id(chatId), content.name, content.options, quoted, content.allowMultipleAnswers);
  }
  throw new EngineError('VALIDATION_ERROR', 'unknown content', {});
}

/** What we know of a sent message when the library cannot give it back: the fields that follow from the content. */
export function sentFallback(content: OutgoingContent): Pick<EngineMessage, 'type' | 'body' | 'caption' | 'media' | 'location' | 'vcard' | 'poll'> {
  const none = { body: null, caption: null, media: null };
  switch (content.kind) {
    case 'text':
      return { ...none, type: 'CHAT', body: content.text };
    case 'media':
      return {
        ...none,
        type: mediaMessageType[content.media],
        caption: content.caption ?? null,
        media: { mimetype: content.mimetype, ...(content.filename ? { filename: content.filename } : {}), size: content.data.byteLength },
      };
    case 'location':
      return { ...none, type: 'LOCATION', location: { latitude: content.latitude, longitude: content.longitude, name: content.name ?? null, address: content.address ?? null } };
    case 'contact':
      return { ...none, type: 'VCARD', vcard: content.vcard ?? null };
    case 'poll':
      return { ...none, type: 'POLL', poll: { name: content.name, options: content.options.map((name) => ({ name, votes: 0 })), allowMultipleAnswers: content.allowMultipleAnswers } };
  }
}

/** `decryptMedia`'s data URL as bytes. */
export function mediaBytes(dataUrl: string, mimetype: string, filename: string | null): EngineMediaBytes {
  const comma = dataUrl.indexOf(',');
  if (!dataUrl.startsWith('data:') || comma < 0) throw new EngineError('ENGINE_ERROR', 'open-wa answered no media data', {});
  const head = dataUrl.slice(5, comma);
  const type = head.split(';')[0] || mimetype;
  return { data: Buffer.from(dataUrl.slice(comma + 1), 'base64'), mimetype: type, filename };
}

/** A failed `decryptMedia`: media WhatsApp's servers no longer have (404/410) is MEDIA_GONE. */
export function mediaError(error: unknown, messageId: string): EngineError {
  const text = error instanceof Error ? error.message : String(error);
  if (/\b(404|410)\b|not found|gone|expired|MEDIA_NOT_FOUND/i.test(text)) {
    return new EngineError('MEDIA_GONE', `WhatsApp no longer has the media of '${messageId}'`, { messageId, reason: text });
  }
  return libraryError(error, { messageId });
}

/** The kinds' own fields of a received message (location, contact card, poll), from the library's Message. */
export function mapKindFields(m: Message): Pick<EngineMessage, 'location' | 'vcard' | 'poll'> {
  const type = String(m.type);
  if (type === 'location') {
    const latitude = Number(m.lat);
    const longitude = Number(m.lng);
    const raw = m as Message & { address?: string };
    const [name, ...rest] = (m.loc ?? '').split('\n');
    return { location: { latitude, longitude, name: name || null, address: raw.address ?? (rest.join('\n') || null) } };
  }
  if (type === 'vcard' || type === 'multi_vcard') {
    const list = (m as Message & { vcardList?: { vcard: string }[] }).vcardList;
    return { vcard: m.body || list?.map((v) => v.vcard).join('\n') || null };
  }
  if (type === 'poll_creation') return { poll: mapPoll(m) };
  return {};
}

function mapPoll(m: Message, counts?: Map<string, number>): EnginePoll {
  const raw = m as Message & { pollName?: string; pollSelectableOptionsCount?: number };
  return {
    name: raw.pollName ?? m.body ?? '',
    options: (m.pollOptions ?? []).map((o) => ({ name: o.name, votes: counts?.get(o.name) ?? 0 })),
    allowMultipleAnswers: raw.pollSelectableOptionsCount !== 1,
  };
}

/** `onPollVote`: the poll's counts after the newest vote, and who cast it. */
export function mapPollVote(p: PollData): EngineEvent | null {
  const messageId = serialized(p.pollMessage?.id);
  if (!messageId) return null;
  const vote = p.votes[p.votes.length - 1];
  const counts = new Map(p.pollOptions.map((o) => [o.name, o.count]));
  const chatId = serialized(p.pollMessage.chatId) ?? serialized(p.pollMessage.from) ?? '';
  return {
    type: 'poll_vote',
    messageId,
    chatId,
    voter: serialized(vote?.sender) ?? '',
    options: vote?.selectedOptionValues ?? [],
    poll: mapPoll({ ...p.pollMessage, pollOptions: p.pollOptions } as Message, counts),
  };
}
