import type SQLite from 'better-sqlite3';
import type { SandboxChatsTable, SandboxMessagesTable } from '../../store/schema.js';
import type { EngineChat, EngineLocation, EngineMessage, EnginePoll, EngineReaction, GroupParticipantInfo, MessageAck, MessageType } from '../engine.js';
import type { WriteBatch } from '../../store/write-batch.js';
import type { MaybePromise } from '../../store/maybe-promise.js';
import { sandboxStats } from './stats.js';

/** Receipt states, in the order a message goes through them. */
export const ackRank = { SERVER: 1, DEVICE: 2, READ: 3 } as const;
export type ReceiptAck = keyof typeof ackRank;
export const ackOfRank = ['PENDING', 'SERVER', 'DEVICE', 'READ'] as const;
/** A message's ack column (of the table alias `prefix`) as its rank (ackRank; 0 when PENDING or none), in SQL. */
export const ackRankSql = (prefix = '') =>
  `(CASE ${prefix}ack ${Object.entries(ackRank).map(([name, rank]) => `WHEN '${name}' THEN ${rank}`).join(' ')} ELSE 0 END)`;
const ACK_RANK_SQL = ackRankSql();

export interface SandboxGroup {
  id: string;
  name: string;
  description: string | null;
  ownerPhone: string;
  /** phone -> isAdmin */
  members: Map<string, boolean>;
  /** epoch ms */
  createdAt: number;
  announce: boolean;
  restrict: boolean;
  inviteCode: string | null;
}

/** The group fields an administration step changes (name is the subject). */
export type GroupFields = Partial<Pick<SandboxGroup, 'name' | 'description' | 'announce' | 'restrict' | 'inviteCode'>>;

/** What an account shows of itself. */
export interface SandboxProfile {
  name: string | null;
  about: string | null;
  pictureMimetype: string | null;
  /** base64 */
  picture: string | null;
}

export type ProfileFields = Partial<SandboxProfile>;

/** The group columns of each GroupFields key. */
export const groupColumns: Record<keyof GroupFields, string> = {
  name: 'name',
  description: 'description',
  announce: 'announce',
  restrict: 'restricted',
  inviteCode: 'invite_code',
};

export const profileColumns: Record<keyof SandboxProfile, string> = {
  name: 'name',
  about: 'about',
  pictureMimetype: 'picture_mimetype',
  picture: 'picture',
};

/** A GroupFields value as its column holds it (flags as 0/1). */
export const columnValue = (value: unknown) => (typeof value === 'boolean' ? (value ? 1 : 0) : (value ?? null));

export interface ProfileRow {
  name: string | null;
  about: string | null;
  picture_mimetype: string | null;
  picture: string | null;
}

export const toProfile = (row: ProfileRow | undefined | null): SandboxProfile | null =>
  row ? { name: row.name, about: row.about, pictureMimetype: row.picture_mimetype, picture: row.picture } : null;

/** A message travelling to a number, as its receiver will see it. */
export interface PendingDelivery {
  key: string;
  chatId: string;
  from: string;
  to: string;
  body: string | null;
  timestamp: number;
  type: MessageType;
  caption: string | null;
  media: { mimetype: string; filename?: string; size: number } | null;
  quotedKey: string | null;
  /** sandbox_media's key of the bytes; absent before media was kept. */
  mediaHash?: string | null;
  /** The kind's own fields (storedExtra), as the copies store them. */
  extra?: string | null;
  /** Whose receipts to update; null for built-in contacts and injected messages. */
  senderPhone: string | null;
  chatName: string | null;
  /** Its sender edited it while it waited. */
  edited?: boolean;
}

/** A delivery waiting in sandbox_pending, with the receiver's id of the message it quotes (null: not found). */
export interface PendingRow {
  id: number;
  delivery: PendingDelivery;
  quotedId: string | null;
}

/** A sender's message whose ack went up because a receiver's receipt did. */
export interface AckRaised {
  senderPhone: string;
  messageId: string;
  chatId: string;
  ack: ReceiptAck;
}

export interface DirectChat {
  chatId: string;
  name: string | null;
  ownerSession: string | null;
}

export interface ChatInfo {
  name: string | null;
  isGroup: boolean;
}

export type MessageRow = SandboxMessagesTable;
export type ChatRow = SandboxChatsTable & { m_seq: number | null } & Partial<Record<`m_${keyof MessageRow}`, unknown>>;

export const MESSAGE_COLUMNS = [
  'seq', 'session_id', 'message_id', 'msg_key', 'chat_id', 'from_jid', 'to_jid', 'from_me', 'body', 'timestamp', 'author',
  'type', 'ack', 'caption', 'mimetype', 'filename', 'size', 'quoted_message_id', 'read', 'reactions', 'edited', 'media_hash', 'extra',
] as const;

/** What an action changes on every copy of a message (see SandboxStore.changeCopies). */
export type CopyChange =
  /** The sender's reaction replaced (or taken back when `reaction` is null). */
  | { kind: 'react'; senderId: string; reaction: EngineReaction | null }
  | { kind: 'edit'; body: string }
  | { kind: 'revoke' };

/**
 * The sessions that hold a copy of the message `key` of `sessionId`: itself, and the sender's and recipients'
 * accounts of its receipts (a message from a built-in contact or injected one has none). Parameters: the
 * session id, then the key.
 */
export const copySessionsSql = (p1: string, p2: string) => `SELECT ${p1} UNION SELECT a.session_id FROM sandbox_receipts r
  JOIN sandbox_accounts a ON a.phone = r.recipient_phone OR a.phone = r.sender_phone WHERE r.msg_key = ${p2}`;

/** A poll as its copies store it: the options, and each voter's choice (counts are derived when read). */
export interface StoredPoll {
  name: string;
  options: string[];
  allowMultipleAnswers: boolean;
  /** voter id -> the options it chose */
  votes: Record<string, string[]>;
}

/** The `extra` column: the fields of the kinds that have their own (location, contact card, poll). */
export interface StoredExtra {
  location?: EngineLocation;
  vcard?: string;
  poll?: StoredPoll;
}

/** A new message's `extra` (a poll without votes yet); null for the kinds without fields of their own. */
export function storedExtra(message: Pick<EngineMessage, 'location' | 'vcard' | 'poll'>): string | null {
  const extra: StoredExtra = {};
  if (message.location) extra.location = message.location;
  if (message.vcard) extra.vcard = message.vcard;
  if (message.poll) {
    extra.poll = { name: message.poll.name, options: message.poll.options.map((o) => o.name), allowMultipleAnswers: message.poll.allowMultipleAnswers, votes: {} };
  }
  return Object.keys(extra).length > 0 ? JSON.stringify(extra) : null;
}

export function pollOf(stored: StoredPoll): EnginePoll {
  const counts = new Map(stored.options.map((name) => [name, 0]));
  for (const chosen of Object.values(stored.votes)) for (const name of chosen) counts.set(name, (counts.get(name) ?? 0) + 1);
  return { name: stored.name, options: stored.options.map((name) => ({ name, votes: counts.get(name) ?? 0 })), allowMultipleAnswers: stored.allowMultipleAnswers };
}

/** The message fields of an `extra` column. */
export function extraFields(json: string | null | undefined): Pick<EngineMessage, 'location' | 'vcard' | 'poll'> {
  if (!json) return {};
  const extra = JSON.parse(json) as StoredExtra;
  return {
    ...(extra.location ? { location: extra.location } : {}),
    ...(extra.vcard ? { vcard: extra.vcard } : {}),
    ...(extra.poll ? { poll: pollOf(extra.poll) } : {}),
  };
}

export function toEngineMessage(row: MessageRow): EngineMessage {
  return {
    id: row.message_id,
    chatId: row.chat_id,
    from: row.from_jid,
    to: row.to_jid,
    fromMe: row.from_me === 1,
    body: row.body,
    timestamp: row.timestamp,
    author: row.author,
    type: row.type as MessageType,
    ack: row.ack as MessageAck | null,
    caption: row.caption,
    media: row.mimetype ? { mimetype: row.mimetype, ...(row.filename ? { filename: row.filename } : {}), size: row.size ?? 0 } : null,
    quotedMessageId: row.quoted_message_id,
    reactions: row.reactions ? (JSON.parse(row.reactions) as EngineReaction[]) : [],
    edited: row.edited === 1,
    ...extraFields(row.extra),
  };
}

export function toEngineChat(row: ChatRow): EngineChat {
  let lastMessage: EngineMessage | null = null;
  if (row.m_seq !== null && row.m_seq !== undefined) {
    const m = Object.fromEntries(MESSAGE_COLUMNS.map((c) => [c, row[`m_${c}`]])) as unknown as MessageRow;
    lastMessage = toEngineMessage(m);
  }
  return {
    id: row.chat_id,
    name: row.name,
    isGroup: row.is_group === 1,
    unreadCount: row.unread_count,
    timestamp: row.last_ts,
    lastMessage,
  };
}

/**
 * The sandbox network's storage, one implementation per backend. Each method is one step of the network
 * (a send, a delivery, a receipt with the sender's ack, a read): on SQLite its statements in a savepoint of
 * the turn's batch, synchronous; on PostgreSQL one statement or CTE queued into the turn's transaction.
 * Writes whose result nobody needs return nothing: a failure reaches whoever waits for the commit.
 */
export interface SandboxStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Resolves once the store can serve (the groups are loaded). */
  ready(): MaybePromise<void>;

  sessionOfPhone(phone: string): MaybePromise<string | null>;
  /** Called after any write to sandbox_accounts. */
  accountsChanged(): void;

  /**
   * A sent message: the sender's copy (and its chat), a receipt per recipient, and a copy waiting in
   * sandbox_pending for each number in `waiting`.
   */
  recordSend(sessionId: string, message: EngineMessage, key: string, chat: ChatInfo, senderPhone: string, recipients: string[], waiting: string[], delivery: PendingDelivery): void;
  addPending(toPhone: string, delivery: PendingDelivery): void;
  /**
   * PostgreSQL: the answers of this moment wait for `work` (a drain whose reads are under way) and for the writes
   * it queues, before they leave (PgBatch.hold). SQLite has no such work: its drains run to the end at once.
   */
  hold?(work: Promise<unknown>): void;
  /** What waits for a number, oldest first (a page of it on PostgreSQL). */
  pending(toPhone: string, sessionId: string): MaybePromise<PendingRow[]>;
  /**
   * A waiting delivery into the receiver's history (and its chat), removing it from sandbox_pending. False
   * when the message was there already. On PostgreSQL a promise: the statement claims the pending row as
   * it inserts, so the message is new whenever the row was still there.
   */
  deliver(sessionId: string, pendingId: number, message: EngineMessage, key: string, chat: ChatInfo, mediaHash: string | null): MaybePromise<boolean>;
  /** Keeps media bytes under their hash (once, whoever sends them again): part of the send's turn. */
  putMedia(hash: string, data: Buffer, at: number): void;
  /** The bytes kept under a hash; null once pruned. */
  media(hash: string): MaybePromise<Buffer | null>;
  /** Rewrites the `extra` of a message's copies (a poll's votes) in the given sessions. */
  setExtra(key: string, sessionIds: string[], extra: string): MaybePromise<void>;
  /** Raises one recipient's receipt and, when the slowest recipient moved, the sender's ack. */
  receipt(key: string, recipientPhone: string, ack: ReceiptAck): MaybePromise<AckRaised | null>;
  /** Marks every unread incoming message of a chat read; returns their keys. */
  markRead(sessionId: string, chatId: string): MaybePromise<string[]>;
  /**
   * An action on every copy of the message `key` that the sessions holding one have (see copySessionsSql);
   * returns the copies as they are now.
   */
  changeCopies(sessionId: string, key: string, change: CopyChange): MaybePromise<MessageRow[]>;
  /** Deletes one session's copy of a message (a delete for me); its chat shows the message before it. */
  deleteCopy(sessionId: string, messageId: string): MaybePromise<void>;
  /** Marks a chat unread (an unread count of at least 1). */
  markUnread(sessionId: string, chatId: string): MaybePromise<void>;
  /** A chat without messages yet (a group one was added to). */
  ensureChat(sessionId: string, chatId: string, name: string | null, isGroup: boolean, ts: number): void;
  /** A removed session's history, and what waited for its number. */
  forgetSession(sessionId: string, phone: string | null): MaybePromise<void>;

  chats(sessionId: string): MaybePromise<EngineChat[]>;
  chat(sessionId: string, chatId: string): MaybePromise<EngineChat | null>;
  messages(sessionId: string, chatId: string, limit: number, beforeSeq: number | null): MaybePromise<EngineMessage[]>;
  messageById(sessionId: string, messageId: string): MaybePromise<MessageRow | null>;
  directChats(sessionId: string): MaybePromise<DirectChat[]>;

  group(groupId: string): SandboxGroup | null;
  participants(groupId: string): GroupParticipantInfo[] | null;
  createGroup(group: SandboxGroup, createdAt: number): void;
  addMember(groupId: string, phone: string): void;
  removeMember(groupId: string, phone: string): void;
  updateGroup(groupId: string, fields: GroupFields): void;
  setAdmin(groupId: string, phone: string, isAdmin: boolean): void;
  groupByInvite(code: string): SandboxGroup | null;

  /** Whether `phone` blocked `other` (held in memory, like groups). */
  isBlocked(phone: string, other: string): boolean;
  setBlocked(phone: string, other: string, blocked: boolean): void;
  profile(phone: string): MaybePromise<SandboxProfile | null>;
  setProfile(phone: string, fields: ProfileFields): void;
}

/** Groups are held in memory by both stores: they are few, and participants are read on every group chat of a chat list. */
export class GroupCache {
  private readonly groups = new Map<string, SandboxGroup>();

  private readonly blocks = new Set<string>();

  load(
    groups: { group_id: string; name: string; description: string | null; owner_phone: string; created_at: number; announce: number; restricted: number; invite_code: string | null }[],
    members: { group_id: string; phone: string; is_admin: number }[],
    blocks: { phone: string; blocked_phone: string }[] = [],
  ): void {
    this.groups.clear();
    for (const g of groups) {
      this.groups.set(g.group_id, {
        id: g.group_id, name: g.name, description: g.description, ownerPhone: g.owner_phone, members: new Map(),
        createdAt: Number(g.created_at), announce: g.announce === 1, restrict: g.restricted === 1, inviteCode: g.invite_code,
      });
    }
    for (const m of members) this.groups.get(m.group_id)?.members.set(m.phone, m.is_admin === 1);
    this.blocks.clear();
    for (const b of blocks) this.blocks.add(`${b.phone} ${b.blocked_phone}`);
  }

  update(groupId: string, fields: GroupFields): void {
    const group = this.groups.get(groupId);
    if (group) Object.assign(group, fields);
  }

  byInvite(code: string): SandboxGroup | null {
    for (const group of this.groups.values()) if (group.inviteCode === code) return group;
    return null;
  }

  isBlocked(phone: string, other: string): boolean {
    return this.blocks.size > 0 && this.blocks.has(`${phone} ${other}`);
  }

  setBlocked(phone: string, other: string, blocked: boolean): void {
    if (blocked) this.blocks.add(`${phone} ${other}`);
    else this.blocks.delete(`${phone} ${other}`);
  }

  get(groupId: string): SandboxGroup | null {
    return this.groups.get(groupId) ?? null;
  }

  participants(groupId: string): GroupParticipantInfo[] | null {
    const group = this.groups.get(groupId);
    if (!group) return null;
    return [...group.members].map(([phone, isAdmin]) => ({ id: `${phone}@c.us`, isAdmin }));
  }

  set(group: SandboxGroup): void {
    this.groups.set(group.id, group);
  }
}

/** The owner of each number, read twice per send; accounts change only when a session is created or removed. */
export class OwnerCache {
  private readonly owners = new Map<string, string | null>();

  get(phone: string): string | null | undefined {
    return this.owners.get(phone);
  }

  set(phone: string, sessionId: string | null): void {
    if (this.owners.size >= 10_000) this.owners.clear();
    this.owners.set(phone, sessionId);
  }

  clear(): void {
    this.owners.clear();
  }
}

/**
 * The sandbox network's tables on SQLite, through synchronous better-sqlite3 statements so that a step
 * (a delivery's history row, chat row and receipt) is one savepoint of the turn's batch and nothing interleaves.
 */
export class SqliteSandboxStore implements SandboxStore {
  readonly kind = 'sqlite';
  private readonly groups = new GroupCache();
  private readonly chatSelect: string;

  constructor(
    private readonly sqlite: SQLite.Database,
    private readonly batch: WriteBatch,
  ) {
    this.chatSelect = `SELECT c.*, ${MESSAGE_COLUMNS.map((col) => `m.${col} AS m_${col}`).join(', ')}
      FROM sandbox_chats c LEFT JOIN sandbox_messages m ON m.seq = c.last_seq`;
    this.loadGroups();
  }

  ready(): void {}

  // Every query here is one of a fixed set; preparing each once (not per call) was ~8% of a sendText's CPU in the bench.
  private readonly statements = new Map<string, SQLite.Statement>();

  private prepare(sql: string): SQLite.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.sqlite.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private run<T>(fn: () => T): T {
    sandboxStats.storeQueries++;
    return fn();
  }

  /** A write joins the turn's group commit (see WriteBatch); reads do not open one. */
  private write<T>(fn: () => T): T {
    this.batch.join();
    return this.run(fn);
  }

  // --- accounts -----------------------------------------------------------------------------------

  private readonly owners = new OwnerCache();

  sessionOfPhone(phone: string): string | null {
    const known = this.owners.get(phone);
    if (known !== undefined) return known;
    const row = this.run(() => this.prepare('SELECT session_id FROM sandbox_accounts WHERE phone = ?').get(phone)) as { session_id: string } | undefined;
    this.owners.set(phone, row?.session_id ?? null);
    return row?.session_id ?? null;
  }

  accountsChanged(): void {
    this.owners.clear();
  }

  // --- messages and chats -------------------------------------------------------------------------

  recordSend(sessionId: string, message: EngineMessage, key: string, chat: ChatInfo, senderPhone: string, recipients: string[], waiting: string[], delivery: PendingDelivery): void {
    this.insertMessage(sessionId, message, key, chat, true, delivery.mediaHash ?? null);
    this.addReceipts(key, senderPhone, recipients);
    for (const phone of waiting) this.addPending(phone, delivery);
  }

  /** Adds a message to a session's history and moves its chat to the top. Returns false if it was there already. */
  insertMessage(sessionId: string, message: EngineMessage, key: string, chat: ChatInfo, read: boolean, mediaHash: string | null): boolean {
    return this.write(() =>
      this.batch.atomic(() => {
        const result = this
          .prepare(
            `INSERT OR IGNORE INTO sandbox_messages (session_id, message_id, msg_key, chat_id, from_jid, to_jid, from_me, body, timestamp, author,
              type, ack, caption, mimetype, filename, size, quoted_message_id, read, edited, media_hash, extra)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            sessionId, message.id, key, message.chatId, message.from, message.to, message.fromMe ? 1 : 0, message.body, message.timestamp,
            message.author, message.type, message.ack, message.caption, message.media?.mimetype ?? null, message.media?.filename ?? null,
            message.media?.size ?? null, message.quotedMessageId, read ? 1 : 0, message.edited ? 1 : 0, mediaHash, storedExtra(message),
          );
        if (result.changes === 0) return false;
        const unread = message.fromMe || read ? 0 : 1;
        this
          .prepare(
            `INSERT INTO sandbox_chats (session_id, chat_id, name, is_group, unread_count, last_seq, last_ts) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (session_id, chat_id) DO UPDATE SET unread_count = unread_count + excluded.unread_count,
               last_seq = excluded.last_seq, last_ts = excluded.last_ts, name = COALESCE(sandbox_chats.name, excluded.name)`,
          )
          .run(sessionId, message.chatId, chat.name, chat.isGroup ? 1 : 0, unread, result.lastInsertRowid, message.timestamp);
        return true;
      }),
    );
  }

  ensureChat(sessionId: string, chatId: string, name: string | null, isGroup: boolean, ts: number): void {
    this.write(() =>
      this
        .prepare('INSERT OR IGNORE INTO sandbox_chats (session_id, chat_id, name, is_group, unread_count, last_seq, last_ts) VALUES (?, ?, ?, ?, 0, NULL, ?)')
        .run(sessionId, chatId, name, isGroup ? 1 : 0, ts),
    );
  }

  /** Newest activity first, each with its last message: one statement whatever the number of chats. */
  chats(sessionId: string): EngineChat[] {
    const rows = this.run(() =>
      this.prepare(`${this.chatSelect} WHERE c.session_id = ? ORDER BY c.last_ts DESC, COALESCE(c.last_seq, 0) DESC`).all(sessionId),
    ) as ChatRow[];
    return rows.map(toEngineChat);
  }

  chat(sessionId: string, chatId: string): EngineChat | null {
    const row = this.run(() => this.prepare(`${this.chatSelect} WHERE c.session_id = ? AND c.chat_id = ?`).get(sessionId, chatId)) as ChatRow | undefined;
    return row ? toEngineChat(row) : null;
  }

  /** Oldest first: the `limit` messages just before `beforeSeq` (or the newest ones). */
  messages(sessionId: string, chatId: string, limit: number, beforeSeq: number | null): EngineMessage[] {
    const rows = this.run(() =>
      this
        .prepare('SELECT * FROM sandbox_messages WHERE session_id = ? AND chat_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?')
        .all(sessionId, chatId, beforeSeq ?? Number.MAX_SAFE_INTEGER, limit),
    ) as MessageRow[];
    return rows.reverse().map(toEngineMessage);
  }

  messageById(sessionId: string, messageId: string): MessageRow | null {
    const row = this.run(() => this.prepare('SELECT * FROM sandbox_messages WHERE session_id = ? AND message_id = ?').get(sessionId, messageId));
    return (row as MessageRow | undefined) ?? null;
  }

  messageByKey(sessionId: string, key: string): MessageRow | null {
    const row = this.run(() => this.prepare('SELECT * FROM sandbox_messages WHERE session_id = ? AND msg_key = ?').get(sessionId, key));
    return (row as MessageRow | undefined) ?? null;
  }

  /** Raises the ack of a session's own message; returns its id and chat when it changed. */
  raiseAck(sessionId: string, key: string, ack: ReceiptAck): Pick<MessageRow, 'message_id' | 'chat_id'> | null {
    // One statement: the rank test is in SQL, so a receipt does not read the whole row back first.
    const row = this.write(() =>
      this
        .prepare(
          `UPDATE sandbox_messages SET ack = ? WHERE session_id = ? AND msg_key = ? AND from_me = 1
             AND ${ACK_RANK_SQL} < ?
           RETURNING message_id, chat_id`,
        )
        .get(ack, sessionId, key, ackRank[ack]),
    ) as Pick<MessageRow, 'message_id' | 'chat_id'> | undefined;
    return row ?? null;
  }

  markRead(sessionId: string, chatId: string): string[] {
    // Served by the partial index of unread incoming messages (migration 0007): the cost is what it marks,
    // not the chat's history. One UPDATE ... RETURNING (SQLite >= 3.35, PostgreSQL alike).
    return this.write(() =>
      this.batch.atomic(() => {
        const rows = this
          .prepare('UPDATE sandbox_messages SET read = 1 WHERE session_id = ? AND chat_id = ? AND from_me = 0 AND read = 0 RETURNING msg_key')
          .all(sessionId, chatId) as { msg_key: string }[];
        this.prepare('UPDATE sandbox_chats SET unread_count = 0 WHERE session_id = ? AND chat_id = ? AND unread_count != 0').run(sessionId, chatId);
        return rows.map((r) => r.msg_key);
      }),
    );
  }

  changeCopies(sessionId: string, key: string, change: CopyChange): MessageRow[] {
    const where = `WHERE msg_key = ? AND session_id IN (${copySessionsSql('?', '?')}) RETURNING *`;
    // The copies still waiting for an offline receiver change too: they arrive as they are now.
    const waiting = `WHERE to_phone IN (SELECT recipient_phone FROM sandbox_receipts WHERE msg_key = ?) AND json_extract(payload, '$.key') = ?`;
    return this.write(() => {
      if (change.kind === 'edit') {
        return this.batch.atomic(() => {
          this.prepare(`UPDATE sandbox_pending SET payload = json_set(payload, '$.body', ?, '$.edited', json('true')) ${waiting}`).run(change.body, key, key);
          return this.prepare(`UPDATE sandbox_messages SET body = ?, edited = 1 ${where}`).all(change.body, key, sessionId, key);
        });
      }
      if (change.kind === 'revoke') {
        return this.batch.atomic(() => {
          this
            .prepare(`UPDATE sandbox_pending SET payload = json_set(payload, '$.type', 'REVOKED', '$.body', NULL, '$.caption', NULL, '$.media', NULL) ${waiting}`)
            .run(key, key);
          return this
            .prepare(`UPDATE sandbox_messages SET type = 'REVOKED', body = NULL, caption = NULL, mimetype = NULL, filename = NULL, size = NULL, reactions = NULL ${where}`)
            .all(key, sessionId, key);
        });
      }
      // The sender's earlier reaction goes, its new one (if any) is appended.
      const others = `(SELECT json_group_array(json(value)) FROM json_each(COALESCE(reactions, '[]')) WHERE json_extract(value, '$.senderId') <> ?)`;
      const next = change.reaction ? `json_insert(${others}, '$[#]', json(?))` : others;
      const args = change.reaction ? [change.senderId, JSON.stringify(change.reaction)] : [change.senderId];
      return this.prepare(`UPDATE sandbox_messages SET reactions = ${next} ${where}`).all(...args, key, sessionId, key);
    }) as MessageRow[];
  }

  deleteCopy(sessionId: string, messageId: string): void {
    this.write(() =>
      this.batch.atomic(() => {
        const row = this
          .prepare('DELETE FROM sandbox_messages WHERE session_id = ? AND message_id = ? RETURNING seq, chat_id, from_me, read')
          .get(sessionId, messageId) as { seq: number; chat_id: string; from_me: number; read: number } | undefined;
        if (!row) return;
        this
          .prepare(
            `UPDATE sandbox_chats SET unread_count = MAX(unread_count - ?, 0),
               last_seq = CASE WHEN last_seq = ?
                 THEN (SELECT seq FROM sandbox_messages WHERE session_id = ? AND chat_id = ? AND seq < ? ORDER BY seq DESC LIMIT 1) ELSE last_seq END
             WHERE session_id = ? AND chat_id = ?`,
          )
          .run(row.from_me === 0 && row.read === 0 ? 1 : 0, row.seq, sessionId, row.chat_id, row.seq, sessionId, row.chat_id);
      }),
    );
  }

  markUnread(sessionId: string, chatId: string): void {
    this.write(() => this.prepare('UPDATE sandbox_chats SET unread_count = 1 WHERE session_id = ? AND chat_id = ? AND unread_count = 0').run(sessionId, chatId));
  }

  /** The one-to-one chats of a session with the session id owning each number (if any), for contacts. */
  directChats(sessionId: string): DirectChat[] {
    return this.run(() =>
      this
        .prepare(
          `SELECT c.chat_id AS chatId, c.name AS name, a.session_id AS ownerSession FROM sandbox_chats c
           LEFT JOIN sandbox_accounts a ON a.phone = substr(c.chat_id, 1, instr(c.chat_id, '@') - 1)
           WHERE c.session_id = ? AND c.is_group = 0 ORDER BY c.chat_id`,
        )
        .all(sessionId),
    ) as DirectChat[];
  }

  forgetSession(sessionId: string, phone: string | null): void {
    this.write(() =>
      this.batch.atomic(() => {
        this.prepare('DELETE FROM sandbox_messages WHERE session_id = ?').run(sessionId);
        this.prepare('DELETE FROM sandbox_chats WHERE session_id = ?').run(sessionId);
        if (phone) this.prepare('DELETE FROM sandbox_pending WHERE to_phone = ?').run(phone);
      }),
    );
  }

  // --- receipts -----------------------------------------------------------------------------------

  addReceipts(key: string, senderPhone: string, recipients: string[]): void {
    this.write(() => {
      const insert = this.prepare('INSERT OR IGNORE INTO sandbox_receipts (msg_key, recipient_phone, sender_phone, state) VALUES (?, ?, ?, 1)');
      // A savepoint only where there is more than one statement to keep together (a group's members).
      if (recipients.length === 1) insert.run(key, recipients[0], senderPhone);
      else this.batch.atomic(() => recipients.forEach((phone) => insert.run(key, phone, senderPhone)));
    });
  }

  /**
   * Raises one recipient's receipt; returns the sender and the lowest state over all recipients (what
   * the sender's ack shows: a group message is READ once every member read it), or null if nothing changed.
   */
  raiseReceipt(key: string, recipientPhone: string, ack: ReceiptAck): { senderPhone: string; ack: ReceiptAck } | null {
    // One write and a read of what it left: no savepoint needed.
    return this.write(() => {
      const changed = this
        .prepare('UPDATE sandbox_receipts SET state = ? WHERE msg_key = ? AND recipient_phone = ? AND state < ?')
        .run(ackRank[ack], key, recipientPhone, ackRank[ack]);
      if (changed.changes === 0) return null;
      const row = this
        .prepare('SELECT MIN(state) AS state, MIN(sender_phone) AS sender FROM sandbox_receipts WHERE msg_key = ?')
        .get(key) as { state: number; sender: string };
      return { senderPhone: row.sender, ack: ackOfRank[row.state] as ReceiptAck };
    });
  }

  receipt(key: string, recipientPhone: string, ack: ReceiptAck): AckRaised | null {
    const result = this.raiseReceipt(key, recipientPhone, ack);
    if (!result) return null;
    const senderSession = this.sessionOfPhone(result.senderPhone);
    if (!senderSession) return null;
    const row = this.raiseAck(senderSession, key, result.ack);
    if (!row) return null;
    return { senderPhone: result.senderPhone, messageId: row.message_id, chatId: row.chat_id, ack: result.ack };
  }

  // --- deliveries waiting for their receiver ------------------------------------------------------

  addPending(toPhone: string, delivery: PendingDelivery): void {
    this.write(() => this.prepare('INSERT INTO sandbox_pending (to_phone, payload) VALUES (?, ?)').run(toPhone, JSON.stringify(delivery)));
  }

  pending(toPhone: string, sessionId: string): PendingRow[] {
    const rows = this.run(() => this.prepare('SELECT id, payload FROM sandbox_pending WHERE to_phone = ? ORDER BY id').all(toPhone)) as {
      id: number;
      payload: string;
    }[];
    return rows.map((r) => {
      const delivery = JSON.parse(r.payload) as PendingDelivery;
      const quotedId = delivery.quotedKey ? (this.messageByKey(sessionId, delivery.quotedKey)?.message_id ?? null) : null;
      return { id: r.id, delivery, quotedId };
    });
  }

  deliver(sessionId: string, pendingId: number, message: EngineMessage, key: string, chat: ChatInfo, mediaHash: string | null): boolean {
    const inserted = this.insertMessage(sessionId, message, key, chat, false, mediaHash);
    this.removePending(pendingId);
    return inserted;
  }

  putMedia(hash: string, data: Buffer, at: number): void {
    this.write(() =>
      this
        .prepare('INSERT INTO sandbox_media (hash, data, size, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (hash) DO UPDATE SET created_at = excluded.created_at')
        .run(hash, data, data.length, at),
    );
  }

  media(hash: string): Buffer | null {
    const row = this.run(() => this.prepare('SELECT data FROM sandbox_media WHERE hash = ?').get(hash)) as { data: Buffer } | undefined;
    return row?.data ?? null;
  }

  setExtra(key: string, sessionIds: string[], extra: string): void {
    this.write(() =>
      this.batch.atomic(() => {
        const update = this.prepare('UPDATE sandbox_messages SET extra = ? WHERE session_id = ? AND msg_key = ?');
        for (const sessionId of sessionIds) update.run(extra, sessionId, key);
      }),
    );
  }

  removePending(id: number): void {
    this.write(() => this.prepare('DELETE FROM sandbox_pending WHERE id = ?').run(id));
  }

  // --- groups -------------------------------------------------------------------------------------

  private loadGroups(): void {
    const groups = this.run(() => this.prepare('SELECT * FROM sandbox_groups').all()) as Parameters<GroupCache['load']>[0];
    const members = this.run(() => this.prepare('SELECT * FROM sandbox_group_members').all()) as Parameters<GroupCache['load']>[1];
    const blocks = this.run(() => this.prepare('SELECT * FROM sandbox_blocks').all()) as Parameters<GroupCache['load']>[2];
    this.groups.load(groups, members, blocks);
  }

  group(groupId: string): SandboxGroup | null {
    return this.groups.get(groupId);
  }

  participants(groupId: string): GroupParticipantInfo[] | null {
    return this.groups.participants(groupId);
  }

  createGroup(group: SandboxGroup, createdAt: number): void {
    this.write(() =>
      this.batch.atomic(() => {
        this
          .prepare('INSERT INTO sandbox_groups (group_id, name, description, owner_phone, created_at) VALUES (?, ?, ?, ?, ?)')
          .run(group.id, group.name, group.description, group.ownerPhone, createdAt);
        const insert = this.prepare('INSERT INTO sandbox_group_members (group_id, phone, is_admin) VALUES (?, ?, ?)');
        for (const [phone, isAdmin] of group.members) insert.run(group.id, phone, isAdmin ? 1 : 0);
      }),
    );
    this.groups.set(group);
  }

  addMember(groupId: string, phone: string): void {
    this.write(() => this.prepare('INSERT OR IGNORE INTO sandbox_group_members (group_id, phone, is_admin) VALUES (?, ?, 0)').run(groupId, phone));
    this.groups.get(groupId)?.members.set(phone, false);
  }

  removeMember(groupId: string, phone: string): void {
    this.write(() => this.prepare('DELETE FROM sandbox_group_members WHERE group_id = ? AND phone = ?').run(groupId, phone));
    this.groups.get(groupId)?.members.delete(phone);
  }

  updateGroup(groupId: string, fields: GroupFields): void {
    const keys = Object.keys(fields) as (keyof GroupFields)[];
    if (keys.length === 0) return;
    const set = keys.map((k) => `${groupColumns[k]} = ?`).join(', ');
    this.write(() => this.prepare(`UPDATE sandbox_groups SET ${set} WHERE group_id = ?`).run(...keys.map((k) => columnValue(fields[k])), groupId));
    this.groups.update(groupId, fields);
  }

  setAdmin(groupId: string, phone: string, isAdmin: boolean): void {
    this.write(() => this.prepare('UPDATE sandbox_group_members SET is_admin = ? WHERE group_id = ? AND phone = ?').run(isAdmin ? 1 : 0, groupId, phone));
    const members = this.groups.get(groupId)?.members;
    if (members?.has(phone)) members.set(phone, isAdmin);
  }

  groupByInvite(code: string): SandboxGroup | null {
    return this.groups.byInvite(code);
  }

  // --- blocks and profiles ------------------------------------------------------------------------

  isBlocked(phone: string, other: string): boolean {
    return this.groups.isBlocked(phone, other);
  }

  setBlocked(phone: string, other: string, blocked: boolean): void {
    this.write(() =>
      blocked
        ? this.prepare('INSERT OR IGNORE INTO sandbox_blocks (phone, blocked_phone) VALUES (?, ?)').run(phone, other)
        : this.prepare('DELETE FROM sandbox_blocks WHERE phone = ? AND blocked_phone = ?').run(phone, other),
    );
    this.groups.setBlocked(phone, other, blocked);
  }

  profile(phone: string): SandboxProfile | null {
    return toProfile(this.run(() => this.prepare('SELECT * FROM sandbox_profiles WHERE phone = ?').get(phone)) as ProfileRow | undefined);
  }

  setProfile(phone: string, fields: ProfileFields): void {
    const keys = Object.keys(fields) as (keyof SandboxProfile)[];
    if (keys.length === 0) return;
    const columns = keys.map((k) => profileColumns[k]);
    this.write(() =>
      this
        .prepare(
          `INSERT INTO sandbox_profiles (phone, ${columns.join(', ')}) VALUES (?, ${columns.map(() => '?').join(', ')})
           ON CONFLICT (phone) DO UPDATE SET ${columns.map((c) => `${c} = excluded.${c}`).join(', ')}`,
        )
        .run(phone, ...keys.map((k) => fields[k] ?? null)),
    );
  }
}
