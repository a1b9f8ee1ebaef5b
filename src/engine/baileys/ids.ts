// The one place where the API's ids and Baileys' JIDs meet. The API keeps the reference's `<digits>@c.us`;
// Baileys speaks `<digits>@s.whatsapp.net` (with an optional `:<device>` part), groups are `@g.us` on both,
// and WhatsApp's privacy addresses `@lid` are shown as the phone-number id when the mapping is known.
import { EngineError } from '../engine.js';

const USER = /^(\d{5,20})@c\.us$/;
const PN_JID = /^(\d{5,20})(?::\d+)?@s\.whatsapp\.net$/;
const GROUP = /^(\d{5,20}(?:-\d{5,20})?)@g\.us$/;
const LID = /^(\d{5,25})(?::\d+)?@lid$/;
const BROADCAST = /^(status|\d{5,20})@broadcast$/;
const NEWSLETTER = /^(\d{5,25})@newsletter$/;

/** `@lid` user part -> phone digits, as far as this session learnt it (history sync, lid-mapping events). */
export type LidMap = ReadonlyMap<string, string>;

/** The API's id as Baileys' JID; anything that is not a WhatsApp address is INVALID_CHAT_ID. */
export function toJid(id: unknown): string {
  if (typeof id === 'string') {
    const user = USER.exec(id) ?? PN_JID.exec(id);
    if (user) return `${user[1]}@s.whatsapp.net`;
    if (GROUP.test(id) || BROADCAST.test(id) || NEWSLETTER.test(id)) return id;
    const lid = LID.exec(id);
    if (lid) return `${lid[1]}@lid`;
  }
  throw new EngineError('INVALID_CHAT_ID', `'${String(id)}' is not a valid chat id (expected <digits>@c.us, a group id <digits>-<digits>@g.us or <digits>@lid)`, {
    chatId: id,
  });
}

/** Like toJid for a person (no group, broadcast or channel). */
export function toUserJid(id: unknown): string {
  const jid = toJid(id);
  if (jid.endsWith('@s.whatsapp.net') || jid.endsWith('@lid')) return jid;
  throw new EngineError('INVALID_CHAT_ID', `'${String(id)}' is not a contact id (expected <digits>@c.us)`, { chatId: id });
}

/** Like toJid for a group. */
export function toGroupJid(id: unknown): string {
  if (typeof id === 'string' && GROUP.test(id)) return id;
  throw new EngineError('INVALID_CHAT_ID', `'${String(id)}' is not a group id (expected <digits>-<digits>@g.us)`, { chatId: id });
}

/**
 * Baileys' JID as the API's id: devices dropped, `@s.whatsapp.net` -> `@c.us`, `@lid` -> the phone's id when
 * `lids` knows it (else kept as `<digits>@lid`). Null for what the API has no id for (an unknown server part).
 */
export function fromJid(jid: string | null | undefined, lids?: LidMap): string | null {
  if (!jid) return null;
  const pn = PN_JID.exec(jid);
  if (pn) return `${pn[1]}@c.us`;
  if (GROUP.test(jid) || BROADCAST.test(jid) || NEWSLETTER.test(jid)) return jid;
  const lid = LID.exec(jid);
  if (lid) {
    const phone = lids?.get(lid[1]!);
    return phone ? `${phone}@c.us` : `${lid[1]}@lid`;
  }
  return null;
}

/** The user part of a `@lid` JID (without device), or null. */
export function lidUser(jid: string | null | undefined): string | null {
  return (jid && LID.exec(jid)?.[1]) || null;
}

/** The phone digits of a `@s.whatsapp.net` or `@c.us` id, or null. */
export function phoneUser(jid: string | null | undefined): string | null {
  return (jid && (PN_JID.exec(jid)?.[1] ?? USER.exec(jid)?.[1])) || null;
}

export function isGroupJid(jid: string | null | undefined): boolean {
  return Boolean(jid && GROUP.test(jid));
}

/**
 * An id the API was given, as the session stores it: a `<digits>@lid` whose phone Baileys told is that phone's
 * `<digits>@c.us` (the history keeps chats under it), anything else as given.
 */
export function canonicalId(id: string, lids?: LidMap): string {
  const lid = LID.exec(id);
  const phone = lid ? lids?.get(lid[1]!) : undefined;
  return phone ? `${phone}@c.us` : id;
}
