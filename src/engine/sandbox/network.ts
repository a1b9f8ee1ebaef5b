import { createHash, randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import {
  EngineError,
  type EngineContact,
  type EngineEvent,
  type EngineMedia,
  type EngineMediaBytes,
  type EngineMessage,
  type MessageAction,
  type MessageType,
  type ParticipantResult,
  type Presence,
  type EngineGroup,
  type GroupAction,
  type GroupActionResult,
  type GroupChange,
  type NumberCheck,
} from '../engine.js';
import type { SandboxSession } from './sandbox-session.js';
import {
  extraFields,
  pollOf,
  storedExtra,
  toEngineMessage,
  type AckRaised,
  type CopyChange,
  type GroupFields,
  type MessageRow,
  type PendingDelivery,
  type PendingRow,
  type ReceiptAck,
  type SandboxGroup,
  type SandboxStore,
  type StoredExtra,
} from './store.js';
import { after, type MaybePromise } from '../../store/maybe-promise.js';
import { PENDING_PAGE } from './pg-store.js';
import { storageFullOf } from '../../errors.js';

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
  about?: string;
}

/** Invite links point here, followed by the group's invite code. */
export const INVITE_PREFIX = 'https://chat.whatsapp.com/';

// Session numbers start here; built-in contacts live below it.
const FIRST_SESSION_PHONE = 15551000001;

export const toJid = (phone: string) => `${phone}@c.us`;
export const phoneOf = (jid: string) => jid.replace(/@.*$/, '');
const nowSeconds = () => Math.floor(Date.now() / 1000);
// WhatsApp message keys are upper-case hex (20 digits here). They lead with the time, so new keys land at the end
// of the key indexes: random keys put each message's index entries (sender's copy, recipient's copy, receipt) on
// pages of their own, and a send dirtied ~7 pages (25-30 KB of WAL) instead of sharing them. 12 digits of
// milliseconds (never going back within the process), 4 of a counter within the millisecond, 4 random.
let keyPool: Buffer = Buffer.alloc(0);
let keyOffset = 0;
let lastMs = 0;
let inMs = 0;
function newKey(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    inMs = 0;
  } else if (++inMs > 0xffff) {
    lastMs++;
    inMs = 0;
  }
  if (keyOffset + 2 > keyPool.length) {
    keyPool = randomBytes(4000);
    keyOffset = 0;
  }
  keyOffset += 2;
  const random = keyPool.toString('hex', keyOffset - 2, keyOffset);
  return (lastMs.toString(16).padStart(12, '0') + inMs.toString(16).padStart(4, '0') + random).toUpperCase();
}

/** What a session sends: text or media, to a number or a group. */
export interface Draft {
  chatId: string;
  body: string | null;
  type: MessageType;
  caption: string | null;
  media: EngineMedia | null;
  /** The media's bytes, kept in sandbox_media for every copy. */
  mediaData?: Buffer | null;
  quotedMessageId: string | null;
  /** The kind's own fields (location, contact card, poll). */
  fields?: Pick<EngineMessage, 'location' | 'vcard' | 'poll'>;
}

const ignore = () => undefined;

/** A number's drain under way: whether to pass again, and who waits for that next pass. */
interface DrainState {
  again: boolean;
  next: (() => void)[];
}

/** The owner session of each number asked about (null: not a session's number). */
type Owners = Map<string, string | null>;

/**
 * The simulated WhatsApp network: one phone number per session (persisted, so a session keeps its
 * number across restarts), the sessions that are online now, and the built-in contacts.
 */
export class SandboxNetwork {
  readonly online = new Map<string, SandboxSession>();
  readonly builtins = new Map<string, BuiltinContact>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Numbers with a drain already due: it delivers everything waiting then, so a burst needs one. */
  private readonly drainsDue = new Set<string>();
  /**
   * PostgreSQL: the drain of each number running now (its read of sandbox_pending waits for a round trip).
   * Drains of a number run one at a time, so a waiting message is delivered once; a drain asked for
   * meanwhile runs again when the current one ends.
   */
  private readonly draining = new Map<string, DrainState>();
  private readonly serialDrains: boolean;

  constructor(
    readonly db: Kysely<Database>,
    readonly store: SandboxStore,
    readonly settings: SandboxSettings,
  ) {
    this.serialDrains = store.kind === 'postgres';
    this.addBuiltin({ id: toJid('15550000001'), name: 'Echo Bot', pushname: 'Echo Bot', isMyContact: true, isWAContact: true }, 'I answer every message with its own text');
    // The number the REST reference's examples write to, so they run as written against the sandbox.
    this.addBuiltin({ id: toJid('1234567890'), name: 'John Doe', pushname: 'John', isMyContact: true, isWAContact: true });
  }

  addBuiltin(contact: EngineContact, about?: string): void {
    this.builtins.set(phoneOf(contact.id), about === undefined ? { contact } : { contact, about });
  }

  private accountsInOrder: Promise<unknown> = Promise.resolve();

  /**
   * The account of a session, created with the next free number on first use. One at a time: on SQLite the next
   * number is read, then written, and two sessions starting at once must not take the same one.
   */
  account(sessionId: string): Promise<{ phone: string; linked: boolean }> {
    const run = this.accountsInOrder.then(() => this.accountNow(sessionId));
    this.accountsInOrder = run.catch(() => undefined);
    return run;
  }

  private async accountNow(sessionId: string): Promise<{ phone: string; linked: boolean }> {
    const row = await this.db.selectFrom('sandbox_accounts').select(['phone', 'linked']).where('session_id', '=', sessionId).executeTakeFirst();
    if (row) return { phone: row.phone, linked: row.linked === 1 };
    const phone = String(await this.nextPhone());
    await this.db.insertInto('sandbox_accounts').values({ session_id: sessionId, phone, linked: 0, created_at: Date.now() }).execute();
    this.store.accountsChanged();
    return { phone, linked: false };
  }

  private async nextPhone(): Promise<number> {
    // PostgreSQL may have other writers (another node): a sequence gives each its own number. The embedded
    // SQLite has one writer, and takes the number after the highest.
    if (this.store.kind === 'postgres') {
      const { rows } = await sql<{ n: number | string }>`SELECT nextval('sandbox_phone_seq') AS n`.execute(this.db);
      return Number(rows[0]!.n);
    }
    const max = await this.db.selectFrom('sandbox_accounts').select((eb) => eb.fn.max('phone').as('max')).executeTakeFirst();
    return max?.max ? Math.max(Number(max.max) + 1, FIRST_SESSION_PHONE) : FIRST_SESSION_PHONE;
  }

  async setLinked(sessionId: string, linked: boolean): Promise<void> {
    await this.db.updateTable('sandbox_accounts').set({ linked: linked ? 1 : 0 }).where('session_id', '=', sessionId).execute();
  }

  async forget(sessionId: string): Promise<void> {
    const account = await this.db.selectFrom('sandbox_accounts').select('phone').where('session_id', '=', sessionId).executeTakeFirst();
    await this.store.forgetSession(sessionId, account?.phone ?? null);
    await this.db.deleteFrom('sandbox_accounts').where('session_id', '=', sessionId).execute();
    this.store.accountsChanged();
  }

  goOnline(phone: string, session: SandboxSession): void {
    this.online.set(phone, session);
  }

  goOffline(phone: string, session: SandboxSession): void {
    if (this.online.get(phone) === session) this.online.delete(phone);
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.drainsDue.clear();
    this.online.clear();
  }

  private later(ms: number, fn: () => MaybePromise<unknown>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      try {
        const result = fn();
        // PostgreSQL: a failed transaction has told every committed() waiter and the storage state; what was
        // being delivered stays in sandbox_pending for the number's next drain.
        if (result instanceof Promise) result.catch(ignore);
      } catch (error) {
        // A full disk: what was being delivered stays in sandbox_pending and goes with the number's next
        // drain; the batch has told the storage state. Anything else is a bug and surfaces as before.
        if (!storageFullOf(error)) throw error;
      }
    }, ms);
    this.timers.add(timer);
  }

  private drainLater(phone: string): void {
    if (this.drainsDue.has(phone)) return;
    this.drainsDue.add(phone);
    this.later(this.settings.deliveryDelayMs, () => {
      this.drainsDue.delete(phone);
      return this.drain(phone);
    });
  }

  /** The owner session of each number (the cache answers most at once). */
  private ownersOf(phones: string[]): MaybePromise<Owners> {
    const found = phones.map((phone) => (this.builtins.has(phone) ? null : this.store.sessionOfPhone(phone)));
    const owners = (values: (string | null)[]): Owners => new Map(phones.map((phone, i) => [phone, values[i] ?? null]));
    if (found.some((value) => value instanceof Promise)) return Promise.all(found).then(owners);
    return owners(found as (string | null)[]);
  }

  /** A built-in contact or any session's account (online or not). */
  private hasNumber(phone: string, owners: Owners): boolean {
    return this.builtins.has(phone) || (owners.get(phone) ?? null) !== null;
  }

  // --- messages -----------------------------------------------------------------------------------

  /**
   * Stores the message in the sender's history (ack SERVER), then hands it to each receiver: a session
   * gets it after the delivery delay if READY, or when it next becomes READY (the waiting copy is stored).
   */
  send(sender: SandboxSession, draft: Draft): MaybePromise<EngineMessage> {
    if (draft.chatId.endsWith('@g.us')) {
      const group = this.store.group(draft.chatId);
      if (!group) throw new EngineError('INVALID_CHAT_ID', `Group '${draft.chatId}' does not exist`, { chatId: draft.chatId });
      if (!group.members.has(sender.phone)) {
        throw new EngineError('VALIDATION_ERROR', `This account is not a participant of group '${draft.chatId}'`, { chatId: draft.chatId });
      }
      if (group.announce && !group.members.get(sender.phone)) {
        throw new EngineError('GROUP_ANNOUNCE_ONLY', `Only admins may send to group '${draft.chatId}' (its announce setting is on)`, { chatId: draft.chatId });
      }
      const recipients = [...group.members.keys()].filter((phone) => phone !== sender.phone);
      return this.sendQuoting(sender, draft, recipients, group.name, true);
    }
    const phone = phoneOf(draft.chatId);
    if (this.store.isBlocked(sender.phone, phone)) {
      throw new EngineError('CONTACT_BLOCKED', `This account blocked ${draft.chatId}: unblock it to write`, { chatId: draft.chatId });
    }
    const builtin = this.builtins.get(phone);
    if (builtin) return this.sendQuoting(sender, draft, [phone], builtin.contact.name ?? null, false);
    // Not through after(): no closure on the path where the owner is known at once.
    const owner = this.store.sessionOfPhone(phone);
    if (owner instanceof Promise) return owner.then((known) => this.sendToSession(sender, draft, phone, known));
    return this.sendToSession(sender, draft, phone, owner);
  }

  private sendToSession(sender: SandboxSession, draft: Draft, phone: string, owner: string | null): MaybePromise<EngineMessage> {
    if (owner === null) throw new EngineError('NOT_ON_WHATSAPP', `The number ${phone} is not on WhatsApp`, { chatId: draft.chatId });
    // A receiver that blocked the sender never gets it: the sender's copy stays at one tick (SERVER), as on WhatsApp.
    return this.sendQuoting(sender, draft, this.store.isBlocked(phone, sender.phone) ? [] : [phone], owner, false);
  }

  private sendQuoting(sender: SandboxSession, draft: Draft, recipients: string[], chatName: string | null, isGroup: boolean): MaybePromise<EngineMessage> {
    if (!draft.quotedMessageId) return this.dispatch(sender, draft, recipients, chatName, isGroup, null);
    return after(this.store.messageById(sender.sessionId, draft.quotedMessageId), (quoted) => {
      if (!quoted || quoted.chat_id !== draft.chatId) {
        throw new EngineError('VALIDATION_ERROR', 'The quoted message is not in this chat', { quotedMessageId: draft.quotedMessageId });
      }
      return this.dispatch(sender, draft, recipients, chatName, isGroup, quoted.msg_key);
    });
  }

  /**
   * The send itself, in one turn: the store's writes and the events they cause (with the webhook outbox rows
   * that publishing them writes) go in the same transaction.
   */
  private dispatch(sender: SandboxSession, draft: Draft, recipients: string[], chatName: string | null, isGroup: boolean, quotedKey: string | null): EngineMessage {
    const key = newKey();
    const me = toJid(sender.phone);
    const message: EngineMessage = {
      id: `true_${draft.chatId}_${key}`,
      chatId: draft.chatId,
      from: me,
      to: draft.chatId,
      fromMe: true,
      body: draft.body,
      timestamp: nowSeconds(),
      author: me,
      type: draft.type,
      ack: 'SERVER',
      caption: draft.caption,
      media: draft.media,
      quotedMessageId: draft.quotedMessageId,
      ...draft.fields,
    };
    let mediaHash: string | null = null;
    if (draft.mediaData) {
      mediaHash = createHash('sha256').update(draft.mediaData).digest('hex');
      this.store.putMedia(mediaHash, draft.mediaData, Date.now());
    }
    const delivery: PendingDelivery = {
      key,
      chatId: isGroup ? draft.chatId : me,
      from: me,
      to: draft.chatId,
      body: draft.body,
      timestamp: message.timestamp,
      type: draft.type,
      caption: draft.caption,
      media: draft.media,
      quotedKey,
      mediaHash,
      extra: storedExtra(message),
      senderPhone: sender.phone,
      chatName: isGroup ? chatName : sender.sessionId,
    };
    const waiting = recipients.length === 1 && !this.builtins.has(recipients[0]!) ? recipients : recipients.filter((phone) => !this.builtins.has(phone));
    this.store.recordSend(sender.sessionId, message, key, { name: chatName, isGroup }, sender.phone, recipients, waiting, delivery);
    sender.notify({ type: 'message', message });
    sender.notify({ type: 'ack', messageId: message.id, chatId: message.chatId, ack: 'SERVER' });
    for (const phone of recipients) {
      const builtin = this.builtins.get(phone);
      if (builtin) this.later(this.settings.deliveryDelayMs, () => this.builtinReceives(builtin, delivery, isGroup));
      else this.drainLater(phone);
    }
    return message;
  }

  /** A message from any number, arriving at `receiver` now (it must be online). */
  inject(receiver: SandboxSession, from: string, body: string): MaybePromise<EngineMessage> {
    const fromPhone = phoneOf(from);
    if (this.store.isBlocked(receiver.phone, fromPhone)) {
      throw new EngineError('CONTACT_BLOCKED', `This account blocked ${from}: its messages are not delivered`, { from });
    }
    const name = this.builtins.get(fromPhone)?.contact.name ?? this.store.sessionOfPhone(fromPhone);
    return after(name, (chatName) => {
      const delivery = textFromOutside(from, receiver.phone, body, chatName);
      this.store.addPending(receiver.phone, delivery);
      const message = incomingMessage(delivery, toJid(receiver.phone), null);
      const drained = this.drain(receiver.phone);
      // PostgreSQL: the answer waits for the drain's writes through the batch, not for its read here, so the
      // next injection (the next alias of a mutation) joins the same round instead of waiting a round trip.
      if (drained instanceof Promise && this.store.hold) {
        this.store.hold(drained);
        return message;
      }
      return after(drained, () => message);
    });
  }

  /** Delivers everything waiting for a number, oldest first, if its session is online. */
  drain(phone: string): MaybePromise<void> {
    if (this.serialDrains) return this.drainInTurn(phone);
    const session = this.online.get(phone);
    if (!session?.isReady) return;
    const rows = this.store.pending(phone, session.sessionId);
    if (rows instanceof Promise) throw new Error('a synchronous store answered with a promise');
    this.deliverAll(session, phone, rows);
  }

  /**
   * Resolves once a pass that began after this call has delivered what waited (or the drain stopped: the number
   * went offline, or its transaction failed and what waits stays for the next drain). A call while a pass runs
   * makes one more pass after it; that pass's read sees what was added before the call.
   */
  private drainInTurn(phone: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const running = this.draining.get(phone);
      if (running) {
        running.again = true;
        running.next.push(resolve);
        return;
      }
      const state = { again: true, next: [resolve] };
      this.draining.set(phone, state);
      void this.drainPasses(phone, state);
    });
  }

  private async drainPasses(phone: string, state: DrainState): Promise<void> {
    // The callers a pass answers: those before it began, and those of earlier passes that read a full page.
    let waiting: (() => void)[] = [];
    try {
      while (state.again) {
        state.again = false;
        waiting = waiting.concat(state.next);
        state.next = [];
        const session = this.online.get(phone);
        if (!session?.isReady) break;
        const rows = await this.store.pending(phone, session.sessionId);
        if (this.online.get(phone) !== session || !session.isReady) break;
        this.deliverAll(session, phone, rows);
        if (rows.length >= PENDING_PAGE) state.again = true;
        else {
          for (const done of waiting) done();
          waiting = [];
        }
      }
    } catch {
      // The transaction failed (its waiters and the storage state know): what waits stays in
      // sandbox_pending for the number's next drain.
    } finally {
      this.draining.delete(phone);
      for (const done of waiting.concat(state.next)) done();
    }
  }

  /** Each delivery, its event and its receipt in the same turn (so the same round on PostgreSQL). */
  private deliverAll(session: SandboxSession, phone: string, rows: PendingRow[]): void {
    const receiver = toJid(phone);
    for (let i = 0; i < rows.length; i++) {
      const { id, delivery } = rows[i]!;
      let quoted = rows[i]!.quotedId;
      // A message quoting one delivered earlier in this same drain: its id was not stored yet when read.
      if (quoted === null && delivery.quotedKey) quoted = quotedEarlier(rows, i, delivery.quotedKey, receiver);
      const message = incomingMessage(delivery, receiver, quoted);
      const isGroup = message.chatId.endsWith('@g.us');
      const inserted = this.store.deliver(session.sessionId, id, message, delivery.key, { name: delivery.chatName, isGroup }, delivery.mediaHash ?? null);
      // PostgreSQL answers later: its statement claims the pending row as it inserts, and this number's drains
      // run one at a time, so the message is new; its event goes in the same round as the insert.
      if (inserted !== false) session.notify({ type: 'message', message });
      if (delivery.senderPhone) this.receipt(delivery.key, phone, 'DEVICE');
      if (this.settings.readDelayMs > 0) this.later(this.settings.readDelayMs, () => this.markRead(session, message.chatId));
    }
  }

  /** The built-in contacts read at once; the echo bot answers one-to-one messages with their text, typing first. */
  private builtinReceives(builtin: BuiltinContact, delivery: PendingDelivery, isGroup: boolean): MaybePromise<void> {
    const botJid = builtin.contact.id;
    const botPhone = phoneOf(botJid);
    this.receipt(delivery.key, botPhone, 'DEVICE');
    this.receipt(delivery.key, botPhone, 'READ');
    if (isGroup || !delivery.senderPhone) return;
    const to = delivery.senderPhone;
    const text = delivery.body ?? delivery.caption ?? `(${delivery.type.toLowerCase()})`;
    this.online.get(to)?.notify({ type: 'presence', chatId: botJid, contactId: botJid, presence: 'TYPING' });
    this.later(this.settings.botReplyDelayMs, () => {
      this.store.addPending(to, textFromOutside(botJid, to, text, builtin.contact.name));
      return this.drain(to);
    });
  }

  /** One receiver's receipt moved on; the sender's ack follows the slowest receiver. */
  private receipt(key: string, recipientPhone: string, ack: ReceiptAck): void {
    const raised = this.store.receipt(key, recipientPhone, ack);
    if (raised instanceof Promise) raised.then(this.ackRaised, ignore);
    else if (raised) this.ackRaised(raised);
  }

  private readonly ackRaised = (raised: AckRaised | null): void => {
    if (raised) this.online.get(raised.senderPhone)?.notify({ type: 'ack', messageId: raised.messageId, chatId: raised.chatId, ack: raised.ack });
  };

  markRead(reader: SandboxSession, chatId: string): MaybePromise<void> {
    return after(this.store.markRead(reader.sessionId, chatId), (keys) => {
      for (const key of keys) this.receipt(key, reader.phone, 'READ');
    });
  }

  // --- actions on messages -------------------------------------------------------------------------

  /** A reaction, edit, delete, forward, presence or mark-unread by `actor` (see EngineSession.act). */
  act(actor: SandboxSession, action: MessageAction): MaybePromise<EngineMessage | null> {
    switch (action.kind) {
      case 'presence':
        this.presence(actor, action.chatId, action.presence);
        return null;
      case 'markUnread':
        return after(this.store.markUnread(actor.sessionId, action.chatId), () => null);
      case 'vote':
        return this.vote(actor, action.messageId, action.options);
      default:
        return after(this.store.messageById(actor.sessionId, action.messageId), (row) => {
          if (!row) throw new EngineError('NOT_FOUND', `No message '${action.messageId}' in this session`, { messageId: action.messageId });
          return this.actOn(actor, row, action);
        });
    }
  }

  private actOn(actor: SandboxSession, row: MessageRow, action: Exclude<MessageAction, { kind: 'presence' | 'markUnread' | 'vote' }>): MaybePromise<EngineMessage | null> {
    const me = toJid(actor.phone);
    const revoked = row.type === 'REVOKED';
    if (revoked && action.kind !== 'delete') throw new EngineError('VALIDATION_ERROR', 'The message was deleted', { messageId: row.message_id });
    switch (action.kind) {
      case 'forward':
        // The copy carries the bytes and the kind's own fields (location, contact card, poll) of the original.
        return after(row.media_hash ? this.store.media(row.media_hash) : null, (data) =>
          this.send(actor, {
            chatId: action.chatId,
            body: row.body,
            type: row.type as MessageType,
            caption: row.caption,
            media: row.mimetype ? { mimetype: row.mimetype, ...(row.filename ? { filename: row.filename } : {}), size: row.size ?? 0 } : null,
            mediaData: data ? Buffer.from(data) : null,
            quotedMessageId: null,
            fields: extraFields(row.extra),
          }),
        );
      case 'react': {
        const reaction = { emoji: action.emoji, senderId: me, timestamp: nowSeconds() };
        return this.changeCopies(actor, row, { kind: 'react', senderId: me, reaction: action.emoji ? reaction : null }, (copy) => ({
          type: 'reaction',
          messageId: copy.message_id,
          chatId: copy.chat_id,
          reaction,
        }));
      }
      case 'edit':
        if (row.from_me !== 1) throw new EngineError('VALIDATION_ERROR', 'Only your own messages can be edited', { messageId: row.message_id });
        if (row.type !== 'CHAT') throw new EngineError('VALIDATION_ERROR', 'Only text messages can be edited', { messageId: row.message_id });
        return this.changeCopies(actor, row, { kind: 'edit', body: action.content }, (copy) => ({ type: 'message_edited', message: toEngineMessage(copy) }));
      case 'delete':
        if (!action.forEveryone) return after(this.store.deleteCopy(actor.sessionId, row.message_id), () => null);
        if (row.from_me !== 1) throw new EngineError('VALIDATION_ERROR', 'Only your own messages can be deleted for everyone', { messageId: row.message_id });
        if (revoked) return toEngineMessage(row);
        return this.changeCopies(actor, row, { kind: 'revoke' }, (copy) => ({ type: 'message_revoked', messageId: copy.message_id, chatId: copy.chat_id, by: me }));
    }
  }

  /** Applies a change to every copy of the message, tells each online holder, and answers the actor's copy. */
  private changeCopies(actor: SandboxSession, row: MessageRow, change: CopyChange, event: (copy: MessageRow) => EngineEvent): MaybePromise<EngineMessage> {
    return after(this.store.changeCopies(actor.sessionId, row.msg_key, change), (copies) => {
      const holders = new Map<string, SandboxSession>();
      for (const session of this.online.values()) holders.set(session.sessionId, session);
      let mine = row;
      for (const copy of copies) {
        if (copy.session_id === actor.sessionId) mine = copy;
        holders.get(copy.session_id)?.notify(event(copy));
      }
      return toEngineMessage(mine);
    });
  }

  /** Typing, recording ... reaches the other side of a one-to-one chat, or the other members of a group. */
  private presence(actor: SandboxSession, chatId: string, presence: Presence): void {
    const me = toJid(actor.phone);
    if (chatId.endsWith('@g.us')) {
      const group = this.store.group(chatId);
      if (!group?.members.has(actor.phone)) throw new EngineError('INVALID_CHAT_ID', `This account is not in group '${chatId}'`, { chatId });
      for (const phone of group.members.keys()) {
        if (phone !== actor.phone) this.online.get(phone)?.notify({ type: 'presence', chatId, contactId: me, presence });
      }
      return;
    }
    this.online.get(phoneOf(chatId))?.notify({ type: 'presence', chatId: me, contactId: me, presence });
  }

  // --- media and polls ----------------------------------------------------------------------------

  /** A message's media bytes as this session's copy refers to them. */
  media(session: SandboxSession, messageId: string): MaybePromise<EngineMediaBytes | null> {
    return after(this.store.messageById(session.sessionId, messageId), (row) => {
      if (!row) throw new EngineError('MESSAGE_NOT_FOUND', `Session '${session.sessionId}' has no message '${messageId}'`, { messageId });
      if (!row.mimetype) return null;
      const gone = () => new EngineError('MEDIA_GONE', `The media of '${messageId}' is no longer kept`, { messageId });
      if (!row.media_hash) throw gone();
      return after(this.store.media(row.media_hash), (data) => {
        if (!data) throw gone();
        return { data: Buffer.from(data), mimetype: row.mimetype!, filename: row.filename };
      });
    });
  }

  /**
   * A vote on a poll (an empty choice takes the vote back): every copy of the poll gets the new counts, and
   * the poll's sender a poll_vote event. Answers the voter's copy.
   */
  vote(voter: SandboxSession, messageId: string, options: string[]): MaybePromise<EngineMessage> {
    return after(this.store.messageById(voter.sessionId, messageId), (row) => {
      if (!row) throw new EngineError('MESSAGE_NOT_FOUND', `Session '${voter.sessionId}' has no message '${messageId}'`, { messageId });
      const extra = (row.extra ? JSON.parse(row.extra) : {}) as StoredExtra;
      const poll = extra.poll;
      if (!poll) throw new EngineError('VALIDATION_ERROR', `Message '${messageId}' is not a poll`, { messageId });
      const chosen = [...new Set(options)];
      const unknown = chosen.filter((o) => !poll.options.includes(o));
      if (unknown.length > 0) throw new EngineError('VALIDATION_ERROR', `Not options of this poll: ${unknown.join(', ')}`, { field: 'options', unknown });
      if (!poll.allowMultipleAnswers && chosen.length > 1) {
        throw new EngineError('VALIDATION_ERROR', 'This poll takes one answer', { field: 'options' });
      }
      const voterJid = toJid(voter.phone);
      if (chosen.length > 0) poll.votes[voterJid] = chosen;
      else delete poll.votes[voterJid];
      const json = JSON.stringify(extra);
      const isGroup = row.chat_id.endsWith('@g.us');
      const senderPhone = phoneOf(row.from_jid);
      const phones = isGroup ? [...(this.store.group(row.chat_id)?.members.keys() ?? [])] : [senderPhone, voter.phone];
      return after(this.ownersOf(phones), (owners) => {
        const sessions = [...new Set([voter.sessionId, ...[...owners.values()].filter((o): o is string => o !== null)])];
        return after(this.store.setExtra(row.msg_key, sessions, json), () => {
          // The sender's copy: its id follows from the chat as the sender sees it (see dispatch).
          const senderChat = isGroup ? row.chat_id : row.from_me === 1 ? row.chat_id : voterJid;
          this.online.get(senderPhone)?.notify({
            type: 'poll_vote',
            messageId: `true_${senderChat}_${row.msg_key}`,
            chatId: senderChat,
            voter: voterJid,
            options: chosen,
            poll: pollOf(poll),
          });
          return toEngineMessage({ ...row, extra: json });
        });
      });
    });
  }

  // --- groups -------------------------------------------------------------------------------------

  createGroup(
    owner: SandboxSession,
    name: string,
    participants: string[],
    description: string | null,
  ): MaybePromise<{ gid: string; participants: ParticipantResult[] }> {
    return after(this.ownersOf(participants.map(phoneOf)), (owners) => {
      const ts = nowSeconds();
      let n = ts;
      while (this.store.group(`${owner.phone}-${n}@g.us`)) n++;
      const gid = `${owner.phone}-${n}@g.us`;
      const members = new Map<string, boolean>([[owner.phone, true]]);
      owners.set(owner.phone, owner.sessionId);
      const results = participants.map((id): ParticipantResult => {
        const phone = phoneOf(id);
        // The creator may list itself, as the reference's clients do; it is in the group either way.
        if (phone === owner.phone) return { id, status: 200 };
        if (members.has(phone)) return { id, status: 409 };
        if (!this.hasNumber(phone, owners)) return { id, status: 404 };
        members.set(phone, false);
        return { id, status: 200 };
      });
      // A group of the creator alone is not made: the call fails when no participant could be added.
      if (members.size === 1 && !results.some((r) => phoneOf(r.id) === owner.phone)) {
        throw new EngineError('NOT_ON_WHATSAPP', 'None of the participants could be added: the group was not created', { participants: results });
      }
      const createdAt = Date.now();
      this.store.createGroup(
        { id: gid, name, description, ownerPhone: owner.phone, members, createdAt, announce: false, restrict: false, inviteCode: null },
        createdAt,
      );
      for (const phone of members.keys()) {
        const sessionId = owners.get(phone);
        if (sessionId) this.store.ensureChat(sessionId, gid, name, true, ts);
      }
      const joined = [...members.keys()].map(toJid);
      this.groupEvent('group_join', gid, joined, toJid(owner.phone), [...members.keys()]);
      return { gid, participants: results };
    });
  }

  changeMembers(actor: SandboxSession, groupId: string, participants: string[], change: 'add' | 'remove'): MaybePromise<ParticipantResult[]> {
    const group = this.store.group(groupId);
    if (!group) throw new EngineError('INVALID_CHAT_ID', `Group '${groupId}' does not exist`, { chatId: groupId });
    return after(this.ownersOf(participants.map(phoneOf)), (owners) => {
      const isAdmin = group.members.get(actor.phone) === true;
      const before = [...group.members.keys()];
      const results = participants.map((id): ParticipantResult => {
        const phone = phoneOf(id);
        if (!isAdmin) return { id, status: 403 };
        if (!this.hasNumber(phone, owners)) return { id, status: 404 };
        if (group.members.has(phone) !== (change === 'remove')) return { id, status: 409 };
        if (change === 'add') {
          this.store.addMember(groupId, phone);
          const sessionId = owners.get(phone);
          if (sessionId) this.store.ensureChat(sessionId, groupId, group.name, true, nowSeconds());
        } else {
          this.store.removeMember(groupId, phone);
        }
        return { id, status: 200 };
      });
      const changed = results.filter((r) => r.status === 200).map((r) => r.id);
      const audience = change === 'add' ? [...group.members.keys()] : before;
      this.groupEvent(change === 'add' ? 'group_join' : 'group_leave', groupId, changed, toJid(actor.phone), audience);
      return results;
    });
  }

  private groupEvent(type: 'group_join' | 'group_leave' | 'group_promote' | 'group_demote', groupId: string, participants: string[], by: string | null, audience: string[]): void {
    if (participants.length === 0) return;
    for (const phone of audience) this.online.get(phone)?.notify({ type, groupId, participants, by });
  }

  // --- group administration -------------------------------------------------------------------------

  /** A group as its members see it; null when it does not exist. */
  groupView(groupId: string): EngineGroup | null {
    const group = this.store.group(groupId);
    if (!group) return null;
    return {
      id: group.id,
      subject: group.name,
      description: group.description,
      owner: toJid(group.ownerPhone),
      createdAt: Math.floor(group.createdAt / 1000),
      announce: group.announce,
      restrict: group.restrict,
      participants: [...group.members].map(([phone, isAdmin]) => ({ id: toJid(phone), isAdmin, isSuperAdmin: phone === group.ownerPhone })),
    };
  }

  private memberGroup(actor: SandboxSession, groupId: string): SandboxGroup {
    const group = this.store.group(groupId);
    if (!group || !group.members.has(actor.phone)) {
      throw new EngineError('INVALID_CHAT_ID', `This account is in no group '${groupId}'`, { chatId: groupId });
    }
    return group;
  }

  private requireAdmin(actor: SandboxSession, group: SandboxGroup, what: string): void {
    if (!group.members.get(actor.phone)) throw new EngineError('NOT_GROUP_ADMIN', `Only admins of group '${group.id}' may ${what}`, { chatId: group.id });
  }

  groupAction(actor: SandboxSession, groupId: string, action: GroupAction): GroupActionResult {
    const group = this.memberGroup(actor, groupId);
    const by = toJid(actor.phone);
    switch (action.kind) {
      case 'subject':
      case 'description': {
        // Without `restrict` every member edits the group's info; with it, admins only.
        if (group.restrict) this.requireAdmin(actor, group, `change its ${action.kind}`);
        const fields: GroupFields = action.kind === 'subject' ? { name: action.subject } : { description: action.description };
        const change: GroupChange = action.kind === 'subject' ? { subject: action.subject } : { description: action.description };
        return this.updateGroup(group, fields, change, by);
      }
      case 'settings': {
        this.requireAdmin(actor, group, 'change its settings');
        const fields: GroupFields = {};
        const change: GroupChange = {};
        if (action.announce != null && action.announce !== group.announce) fields.announce = change.announce = action.announce;
        if (action.restrict != null && action.restrict !== group.restrict) fields.restrict = change.restrict = action.restrict;
        return this.updateGroup(group, fields, change, by);
      }
      case 'promote':
      case 'demote': {
        const admin = group.members.get(actor.phone) === true;
        const results = action.participants.map((id): ParticipantResult => {
          const phone = phoneOf(id);
          if (!admin) return { id, status: 403 };
          if (!group.members.has(phone)) return { id, status: 404 };
          // The creator stays an admin: WhatsApp does not let anyone demote a group's super admin.
          if (action.kind === 'demote' && phone === group.ownerPhone) return { id, status: 403 };
          if (group.members.get(phone) === (action.kind === 'promote')) return { id, status: 409 };
          this.store.setAdmin(group.id, phone, action.kind === 'promote');
          return { id, status: 200 };
        });
        const changed = results.filter((r) => r.status === 200).map((r) => r.id);
        this.groupEvent(action.kind === 'promote' ? 'group_promote' : 'group_demote', group.id, changed, by, [...group.members.keys()]);
        return { group: this.groupView(group.id), participants: results };
      }
      case 'inviteLink':
      case 'revokeInviteLink': {
        this.requireAdmin(actor, group, action.kind === 'inviteLink' ? 'share its invite link' : 'revoke its invite link');
        let code = group.inviteCode;
        if (!code || action.kind === 'revokeInviteLink') {
          code = randomBytes(16).toString('base64url').slice(0, 22);
          this.store.updateGroup(group.id, { inviteCode: code });
        }
        return { group: this.groupView(group.id), link: `${INVITE_PREFIX}${code}` };
      }
      case 'leave': {
        const before = [...group.members.keys()];
        this.store.removeMember(group.id, actor.phone);
        // A group is never left without an admin: the longest-standing member takes over, as WhatsApp does.
        const next = [...group.members.keys()][0];
        if (next !== undefined && ![...group.members.values()].some(Boolean)) this.store.setAdmin(group.id, next, true);
        this.groupEvent('group_leave', group.id, [by], by, before);
        return { group: null };
      }
    }
  }

  private updateGroup(group: SandboxGroup, fields: GroupFields, change: GroupChange, by: string): GroupActionResult {
    if (Object.keys(fields).length > 0) {
      this.store.updateGroup(group.id, fields);
      for (const phone of group.members.keys()) this.online.get(phone)?.notify({ type: 'group_update', groupId: group.id, by, change });
    }
    return { group: this.groupView(group.id) };
  }

  /** Joins the group of an invite link (one made by any session of the network). */
  joinGroup(actor: SandboxSession, link: string): string {
    const code = link.startsWith(INVITE_PREFIX) ? link.slice(INVITE_PREFIX.length) : link;
    const group = code ? this.store.groupByInvite(code) : null;
    if (!group) throw new EngineError('NOT_FOUND', 'This invite link is not valid (revoked, or never made)', { link });
    if (!group.members.has(actor.phone)) {
      this.store.addMember(group.id, actor.phone);
      this.store.ensureChat(actor.sessionId, group.id, group.name, true, nowSeconds());
      this.groupEvent('group_join', group.id, [toJid(actor.phone)], null, [...group.members.keys()]);
    }
    return group.id;
  }

  /** Whether a number is on the network: a built-in contact or any session's account. */
  checkNumber(number: string): MaybePromise<NumberCheck> {
    const phone = phoneOf(number);
    return after(this.ownersOf([phone]), (owners) => (this.hasNumber(phone, owners) ? { exists: true, id: toJid(phone) } : { exists: false, id: null }));
  }

  /** The session of a number if it is online (calls ring only there). */
  ownerOnline(phone: string): SandboxSession | null {
    return this.online.get(phone) ?? null;
  }
}

/** The receiver's id of a message delivered earlier in the same drain, if one has the key. */
function quotedEarlier(rows: PendingRow[], before: number, key: string, receiverJid: string): string | null {
  for (let i = before - 1; i >= 0; i--) {
    const { delivery } = rows[i]!;
    if (delivery.key === key) return incomingMessage(delivery, receiverJid, null).id;
  }
  return null;
}

/** A text from a number that keeps no history here (a built-in contact, or any number for an injected message). */
function textFromOutside(from: string, toPhone: string, body: string, chatName: string | null): PendingDelivery {
  return {
    key: newKey(),
    chatId: from,
    from,
    to: toJid(toPhone),
    body,
    timestamp: nowSeconds(),
    type: 'CHAT',
    caption: null,
    media: null,
    quotedKey: null,
    senderPhone: null,
    chatName,
  };
}

/** The message a receiver stores for a delivery. */
function incomingMessage(delivery: PendingDelivery, receiverJid: string, quotedMessageId: string | null): EngineMessage {
  const isGroup = delivery.chatId.endsWith('@g.us');
  return {
    // WhatsApp's ids: the direction, the chat, the key, and for groups the member who wrote it.
    id: isGroup ? `false_${delivery.chatId}_${delivery.key}_${delivery.from}` : `false_${delivery.chatId}_${delivery.key}`,
    chatId: delivery.chatId,
    from: delivery.from,
    to: isGroup ? delivery.chatId : receiverJid,
    fromMe: false,
    body: delivery.body,
    timestamp: delivery.timestamp,
    author: delivery.from,
    type: delivery.type,
    ack: null,
    caption: delivery.caption,
    media: delivery.media,
    quotedMessageId,
    ...(delivery.edited ? { edited: true } : {}),
    ...extraFields(delivery.extra),
  };
}
