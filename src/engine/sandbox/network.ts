import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import type { EngineContact } from '../engine.js';
import type { SandboxSession } from './sandbox-session.js';

export interface SandboxSettings {
  startDelayMs: number;
  qrRotateMs: number;
  authDelayMs: number;
  deliveryDelayMs: number;
  readDelayMs: number;
  botReplyDelayMs: number;
}

/** A number on the network that is not a session: it answers messages by itself. */
export interface BuiltinContact {
  contact: EngineContact;
}

// Session numbers start here; built-in contacts live below it.
const FIRST_SESSION_PHONE = 15551000001;

export const toJid = (phone: string) => `${phone}@c.us`;
export const phoneOf = (jid: string) => jid.replace(/@.*$/, '');

/**
 * The simulated WhatsApp network: one phone number per session (persisted, so a session keeps its
 * number across restarts), the sessions that are online now, and the built-in contacts.
 */
export class SandboxNetwork {
  readonly online = new Map<string, SandboxSession>();
  readonly builtins = new Map<string, BuiltinContact>();

  constructor(
    readonly db: Kysely<Database>,
    readonly settings: SandboxSettings,
  ) {
    this.addBuiltin({ id: toJid('15550000001'), name: 'Echo Bot', pushname: 'Echo Bot', isMyContact: true, isWAContact: true });
  }

  addBuiltin(contact: EngineContact): void {
    this.builtins.set(phoneOf(contact.id), { contact });
  }

  /** The account of a session, created with the next free number on first use. */
  async account(sessionId: string): Promise<{ phone: string; linked: boolean }> {
    const row = await this.db.selectFrom('sandbox_accounts').select(['phone', 'linked']).where('session_id', '=', sessionId).executeTakeFirst();
    if (row) return { phone: row.phone, linked: row.linked === 1 };
    const max = await this.db.selectFrom('sandbox_accounts').select((eb) => eb.fn.max('phone').as('max')).executeTakeFirst();
    const next = max?.max ? Math.max(Number(max.max) + 1, FIRST_SESSION_PHONE) : FIRST_SESSION_PHONE;
    const phone = String(next);
    await this.db.insertInto('sandbox_accounts').values({ session_id: sessionId, phone, linked: 0, created_at: Date.now() }).execute();
    return { phone, linked: false };
  }

  async setLinked(sessionId: string, linked: boolean): Promise<void> {
    await this.db.updateTable('sandbox_accounts').set({ linked: linked ? 1 : 0 }).where('session_id', '=', sessionId).execute();
  }

  async forget(sessionId: string): Promise<void> {
    await this.db.deleteFrom('sandbox_accounts').where('session_id', '=', sessionId).execute();
  }

  /** Whether a number has WhatsApp here: a built-in contact or any session's account, online or not. */
  async isOnNetwork(phone: string): Promise<boolean> {
    if (this.builtins.has(phone)) return true;
    const row = await this.db.selectFrom('sandbox_accounts').select('phone').where('phone', '=', phone).executeTakeFirst();
    return row !== undefined;
  }

  goOnline(phone: string, session: SandboxSession): void {
    this.online.set(phone, session);
  }

  goOffline(phone: string, session: SandboxSession): void {
    if (this.online.get(phone) === session) this.online.delete(phone);
  }
}
