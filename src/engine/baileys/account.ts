// The contact, profile, group administration and call calls of the engine interface as the Baileys socket
// answers them (pure: the session makes the socket calls). WhatsApp's refusals arrive as Boom errors whose
// status code is the code of the IQ's error node; they become the gateway's error codes here, per call.
import type { GroupMetadata } from 'baileys';
import { EngineError, type EngineGroup, type EngineGroupParticipant } from '../engine.js';
import { fromJid, lidUser, phoneUser, type LidMap } from './ids.js';

type EngineCode = EngineError['code'];

/** The status code of a Boom error (Baileys' errors), or null. */
export function statusOf(error: unknown): number | null {
  const code = (error as { output?: { statusCode?: unknown } } | null)?.output?.statusCode;
  return typeof code === 'number' ? code : null;
}

// A connection closed (428) or lost (408 is a timeout, kept an engine error) while the call waited.
const COMMON: Record<number, [EngineCode, string]> = {
  428: ['SESSION_NOT_READY', 'the connection to WhatsApp closed during the call'],
};

/** What a group call's refusal means: not an admin (401 not-authorized, 403 forbidden), no such group (404). */
export const GROUP_ERRORS: Record<number, [EngineCode, string]> = {
  401: ['NOT_GROUP_ADMIN', 'WhatsApp refused: only the group\'s admins may do this'],
  403: ['NOT_GROUP_ADMIN', 'WhatsApp refused: only the group\'s admins may do this'],
  404: ['INVALID_CHAT_ID', 'this account is in no such group'],
};

/** An invite that is revoked, expired or never was (WhatsApp answers 400, 401, 404, 406 or 410). */
export const INVITE_ERRORS: Record<number, [EngineCode, string]> = Object.fromEntries(
  [400, 401, 404, 406, 410].map((code) => [code, ['NOT_FOUND', 'WhatsApp refused the invite link: revoked, expired or not valid'] as [EngineCode, string]]),
);

/** A socket call's failure as an EngineError: the call's own table, then the common one, else ENGINE_ERROR. */
export function socketError(method: string, error: unknown, table: Record<number, [EngineCode, string]> = {}, details: Record<string, unknown> = {}): EngineError {
  if (error instanceof EngineError) return error;
  const message = (error as Error | null)?.message ?? String(error);
  if (/No image processing library/i.test(message)) {
    return new EngineError('ENGINE_UNSUPPORTED', 'Baileys needs an image library (sharp or jimp) installed to set a profile picture', { method });
  }
  const status = statusOf(error);
  const known = status === null ? undefined : (table[status] ?? COMMON[status]);
  if (known) return new EngineError(known[0], `${known[1]} (${method}: ${message}, ${status})`, { ...details, method, status });
  return new EngineError('ENGINE_ERROR', `Baileys ${method} failed: ${message}`, { ...details, method, ...(status !== null ? { status } : {}) });
}

/** `groupMetadata` as the gateway's group: members by their phone ids where Baileys gives them. */
export function mapGroupMetadata(meta: GroupMetadata, lids: LidMap): EngineGroup | null {
  const id = fromJid(meta.id, lids);
  if (!id) return null;
  const participants = (meta.participants ?? [])
    .map((p): EngineGroupParticipant | null => {
      const pid = fromJid(p.phoneNumber ?? p.id, lids) ?? fromJid(p.id, lids);
      if (!pid) return null;
      const admin = p.admin ?? (p.isSuperAdmin ? 'superadmin' : p.isAdmin ? 'admin' : null);
      return { id: pid, isAdmin: admin === 'admin' || admin === 'superadmin', isSuperAdmin: admin === 'superadmin' };
    })
    .filter((p): p is EngineGroupParticipant => p !== null);
  return {
    id,
    subject: meta.subject ?? '',
    description: meta.desc ? meta.desc : null,
    owner: fromJid(meta.ownerPn ?? meta.owner, lids) ?? fromJid(meta.owner, lids),
    createdAt: typeof meta.creation === 'number' && meta.creation > 0 ? meta.creation : null,
    announce: meta.announce === true,
    restrict: meta.restrict === true,
    participants,
  };
}

/** The `@lid` -> phone pairs a group's metadata tells (members given by both). */
export function lidPairs(meta: GroupMetadata): [string, string][] {
  const out: [string, string][] = [];
  for (const p of meta.participants ?? []) {
    const lid = lidUser(p.id) ?? lidUser(p.lid);
    const pn = phoneUser(p.phoneNumber) ?? phoneUser(p.id);
    if (lid && pn) out.push([lid, pn]);
  }
  return out;
}

export const INVITE_PREFIX = 'https://chat.whatsapp.com/';

/** An invite code as the link the API answers. */
export function inviteLink(code: string | undefined, method: string): string {
  if (!code) throw new EngineError('ENGINE_ERROR', `Baileys ${method} answered no invite code`, { method });
  return `${INVITE_PREFIX}${code}`;
}

/** The code of an invite link (the API takes the link or the bare code). */
export function inviteCode(link: string): string {
  return link.startsWith(INVITE_PREFIX) ? link.slice(INVITE_PREFIX.length) : link;
}

/** Baileys' pairing code (8 letters and digits) as WhatsApp shows it, in two groups of four. */
export function formatPairingCode(code: string): string {
  const plain = code.replace(/[\s-]/g, '').toUpperCase();
  return plain.length === 8 ? `${plain.slice(0, 4)}-${plain.slice(4)}` : plain;
}
