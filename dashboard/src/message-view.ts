// How one message of the chat view looks: text, or its media inline (images and stickers, audio and voice
// notes, video, documents as download links), a location, a contact card or a poll with its votes; its
// reactions under it; "edited" beside its time; a revoked one as "This message was deleted".

import { el } from './dom.js';
import { downloadMedia, mediaObjectUrl } from './media.js';

export interface Reaction {
  emoji: string;
  senderId: string;
}

export interface Poll {
  name: string;
  allowMultipleAnswers: boolean;
  options: { name: string; votes: number }[];
}

export interface Message {
  id: string;
  chatId: string;
  body: string | null;
  caption: string | null;
  type: string;
  fromMe: boolean;
  timestamp: number;
  ack: string | null;
  edited: boolean;
  filename: string | null;
  media: { mimetype: string; filename: string | null; size: number; url: string } | null;
  location: { latitude: number; longitude: number; name: string | null; address: string | null } | null;
  vcard: string | null;
  poll: Poll | null;
  reactions: Reaction[];
}

export const MESSAGE_FIELDS = `id chatId body caption type fromMe timestamp ack edited filename
  media { mimetype filename size url }
  location { latitude longitude name address }
  vcard
  poll { name allowMultipleAnswers options { name votes } }
  reactions { emoji senderId }`;

export const DELETED = 'This message was deleted';

const KIND_LABEL: Record<string, string> = {
  IMAGE: 'Photo',
  STICKER: 'Sticker',
  VIDEO: 'Video',
  AUDIO: 'Audio',
  PTT: 'Voice message',
  DOCUMENT: 'Document',
  LOCATION: 'Location',
  VCARD: 'Contact',
  POLL: 'Poll',
};

type Summarized = Pick<Message, 'body' | 'caption' | 'type'> & { filename?: string | null };

/** One line for the chat list (and the pending line of a send). */
export function summaryOf(m: Summarized): string {
  if (m.type === 'REVOKED') return DELETED;
  if (m.type === 'CHAT' || m.type === 'UNKNOWN') return m.body ?? m.caption ?? `[${m.type.toLowerCase()}]`;
  const label = KIND_LABEL[m.type] ?? m.type.toLowerCase();
  const detail = m.caption ?? (m.type === 'DOCUMENT' ? m.filename : null) ?? (m.type === 'POLL' || m.type === 'LOCATION' ? m.body : null);
  return detail ? `${label}: ${detail}` : label;
}

export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The name and numbers of a vCard (FN and TEL lines; folded lines joined). */
export function parseVcard(vcard: string): { name: string | null; phones: string[] } {
  const lines = vcard.replace(/\r?\n[ \t]/g, '').split(/\r?\n/);
  let name: string | null = null;
  const phones: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const key = line.slice(0, colon).split(';')[0]!.toUpperCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'FN' && value) name = value;
    else if (key === 'TEL' && value) phones.push(value);
  }
  return { name, phones };
}

function mediaElement(m: Message): HTMLElement {
  const media = m.media!;
  const name = media.filename ?? m.filename ?? `${(KIND_LABEL[m.type] ?? 'file').toLowerCase()}`;
  if (m.type === 'IMAGE' || m.type === 'STICKER') {
    const img = el('img', undefined, `media ${m.type.toLowerCase()}`);
    img.alt = m.caption ?? (m.type === 'STICKER' ? 'Sticker' : `Photo ${name}`);
    const shown = el('span', undefined, 'media-box');
    shown.append(img);
    mediaObjectUrl(media.url).then(
      (src) => (img.src = src),
      (error: unknown) => shown.replaceChildren(el('span', `${KIND_LABEL[m.type]} not available (${String(error instanceof Error ? error.message : error)})`, 'muted')),
    );
    return shown;
  }
  if (m.type === 'VIDEO' || m.type === 'AUDIO' || m.type === 'PTT') {
    const player = m.type === 'VIDEO' ? el('video', undefined, 'media video') : el('audio', undefined, `media ${m.type.toLowerCase()}`);
    player.controls = true;
    player.preload = 'metadata';
    player.setAttribute('aria-label', `${KIND_LABEL[m.type]} ${name}`);
    const shown = el('span', undefined, 'media-box');
    shown.append(player);
    mediaObjectUrl(media.url).then(
      (src) => (player.src = src),
      (error: unknown) => shown.replaceChildren(el('span', `${KIND_LABEL[m.type]} not available (${String(error instanceof Error ? error.message : error)})`, 'muted')),
    );
    return shown;
  }
  // A document (or anything else with bytes): a download link, fetched with the API key when clicked.
  const link = el('a', undefined, 'document');
  link.href = media.url;
  link.download = name;
  link.append(el('span', name, 'name'), el('span', ` ${media.mimetype} · ${sizeText(media.size)}`, 'muted'));
  link.addEventListener('click', (event) => {
    event.preventDefault();
    link.classList.remove('failed');
    downloadMedia(media.url, name).catch((error: unknown) => {
      link.classList.add('failed');
      link.title = String(error instanceof Error ? error.message : error);
    });
  });
  return link;
}

function locationElement(m: Message): HTMLElement {
  const { latitude, longitude, name, address } = m.location!;
  const link = el('a', undefined, 'location');
  link.href = `https://www.openstreetmap.org/?mlat=${latitude}&mlon=${longitude}#map=16/${latitude}/${longitude}`;
  link.target = '_blank';
  link.rel = 'noopener noreferrer';
  link.append(el('span', name ?? 'Location', 'name'));
  if (address) link.append(el('span', address, 'address'));
  link.append(el('span', `${latitude.toFixed(6)}, ${longitude.toFixed(6)}`, 'coords muted'));
  return link;
}

function contactElement(m: Message): HTMLElement {
  const { name, phones } = parseVcard(m.vcard ?? '');
  const card = el('span', undefined, 'contact-card');
  card.append(el('span', 'Contact', 'muted'), el('span', name ?? 'unnamed', 'name'));
  for (const phone of phones) card.append(el('span', phone, 'phone'));
  return card;
}

function pollElement(poll: Poll): HTMLElement {
  const box = el('div', undefined, 'poll');
  box.append(el('span', poll.name, 'name'), el('span', poll.allowMultipleAnswers ? 'Poll, several answers allowed' : 'Poll, one answer', 'muted'));
  const total = poll.options.reduce((sum, o) => sum + o.votes, 0);
  const list = el('ul');
  for (const option of poll.options) {
    const li = el('li');
    li.dataset.option = option.name;
    const bar = el('span', undefined, 'bar');
    bar.style.width = `${total ? Math.round((option.votes / total) * 100) : 0}%`;
    li.append(el('span', option.name, 'option'), el('span', String(option.votes), 'votes'), bar);
    li.setAttribute('aria-label', `${option.name}: ${option.votes} vote${option.votes === 1 ? '' : 's'}`);
    list.append(li);
  }
  box.append(list);
  return box;
}

/** The reactions grouped by emoji, with how many sent each. */
function reactionsElement(reactions: Reaction[]): HTMLElement {
  const box = el('span', undefined, 'reactions');
  const groups = new Map<string, string[]>();
  for (const r of reactions) groups.set(r.emoji, [...(groups.get(r.emoji) ?? []), r.senderId]);
  for (const [emoji, senders] of groups) {
    const chip = el('span', senders.length > 1 ? `${emoji} ${senders.length}` : emoji, 'reaction');
    chip.title = senders.map((s) => s.replace(/@c\.us$/, '')).join(', ');
    chip.setAttribute('aria-label', `${emoji} from ${chip.title}`);
    box.append(chip);
  }
  return box;
}

/** What the bubble of `m` holds above its meta line. */
export function contentOf(m: Message): HTMLElement[] {
  if (m.type === 'REVOKED') return [el('span', DELETED, 'text revoked')];
  const parts: HTMLElement[] = [];
  if (m.media) parts.push(mediaElement(m));
  else if (m.location) parts.push(locationElement(m));
  else if (m.vcard) parts.push(contactElement(m));
  else if (m.poll) parts.push(pollElement(m.poll));
  const text = m.media ? m.caption : m.location || m.vcard || m.poll ? null : (m.body ?? m.caption ?? `[${m.type.toLowerCase()}]`);
  if (text) parts.push(el('span', text, 'text'));
  if (m.reactions.length > 0) parts.push(reactionsElement(m.reactions));
  return parts;
}
