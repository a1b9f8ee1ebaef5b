import type pg from 'pg';
import type { EngineChat, EngineMessage, GroupParticipantInfo } from '../engine.js';
import type { PgBatch } from '../../store/pg/pg-types.js';
import {
  ackOfRank,
  ackRank,
  ackRankSql,
  GroupCache,
  MESSAGE_COLUMNS,
  OwnerCache,
  toEngineChat,
  toEngineMessage,
  type AckRaised,
  type ChatInfo,
  type ChatRow,
  type DirectChat,
  type MessageRow,
  type PendingDelivery,
  type PendingRow,
  type ReceiptAck,
  type SandboxGroup,
  type SandboxStore,
} from './store.js';
import { sandboxStats } from './stats.js';

const ignore = () => undefined;

/** A drain delivers at most this many waiting messages per transaction round; it goes on with the next page. */
export const PENDING_PAGE = 500;

const MESSAGE_INSERT_COLUMNS = `session_id, message_id, msg_key, chat_id, from_jid, to_jid, from_me, body, timestamp, author,
  type, ack, caption, mimetype, filename, size, quoted_message_id, read`;
/** $1..$18: the message's columns in MESSAGE_INSERT_COLUMNS' order (see messageParams). */
const MESSAGE_VALUES = Array.from({ length: 18 }, (_, i) => `$${i + 1}`).join(', ');
/** The chat upsert that follows a message insert (`m` returns its seq); $19 name, $20 is_group, $21 unread. */
const CHAT_UPSERT = `INSERT INTO sandbox_chats (session_id, chat_id, name, is_group, unread_count, last_seq, last_ts)
    SELECT $1, $4, $19, $20, $21, m.seq, $9 FROM m
    ON CONFLICT (session_id, chat_id) DO UPDATE SET unread_count = sandbox_chats.unread_count + excluded.unread_count,
      last_seq = excluded.last_seq, last_ts = excluded.last_ts, name = COALESCE(sandbox_chats.name, excluded.name)`;

function messageParams(sessionId: string, message: EngineMessage, key: string, chat: ChatInfo, read: boolean): unknown[] {
  return [
    sessionId, message.id, key, message.chatId, message.from, message.to, message.fromMe ? 1 : 0, message.body, message.timestamp,
    message.author, message.type, message.ack, message.caption, message.media?.mimetype ?? null, message.media?.filename ?? null,
    message.media?.size ?? null, message.quotedMessageId, read ? 1 : 0,
    chat.name, chat.isGroup ? 1 : 0, message.fromMe || read ? 0 : 1,
  ];
}

/**
 * The sandbox network's tables on PostgreSQL. Each step of the network is one statement (a CTE where it
 * touches several tables) queued through the PgBatch into the turn's transaction, so a send, a delivery or a
 * receipt costs one statement of the turn's round trip. Reads of committed data go through the pool, once
 * the writes queued before them are committed (an event may announce a row before its commit).
 */
export class PgSandboxStore implements SandboxStore {
  readonly kind = 'postgres';
  private readonly groups = new GroupCache();
  private readonly owners = new OwnerCache();
  private readonly chatSelect: string;
  private loading: Promise<void> | null = null;
  private loaded = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly batch: PgBatch,
  ) {
    this.chatSelect = `SELECT c.*, ${MESSAGE_COLUMNS.map((col) => `m.${col} AS m_${col}`).join(', ')}
      FROM sandbox_chats c LEFT JOIN sandbox_messages m ON m.seq = c.last_seq`;
  }

  ready(): void | Promise<void> {
    if (this.loaded) return;
    this.loading ??= this.loadGroups().then(
      () => {
        this.loaded = true;
      },
      (error: unknown) => {
        this.loading = null;
        throw error;
      },
    );
    return this.loading;
  }

  private async loadGroups(): Promise<void> {
    const [groups, members] = await Promise.all([this.read('SELECT * FROM sandbox_groups'), this.read('SELECT * FROM sandbox_group_members')]);
    this.groups.load(groups as Parameters<GroupCache['load']>[0], members as Parameters<GroupCache['load']>[1]);
  }

  /** A statement of the turn's transaction; its rows come back before the commit. */
  private queue<R>(sql: string, params: readonly unknown[]): Promise<R[]> {
    sandboxStats.storeQueries++;
    return this.batch.run<R>(sql, params);
  }

  /** A write whose result nobody reads: its failure is the commit's (every committed() waiter learns it). */
  private write(sql: string, params: readonly unknown[]): void {
    this.queue(sql, params).catch(ignore);
  }

  /** A read of committed data, after the commit of what was queued before it. */
  private async read<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    if (this.batch.pending) await this.batch.committed().catch(ignore);
    sandboxStats.storeQueries++;
    return (await this.pool.query(sql, params as unknown[])).rows as R[];
  }

  // --- accounts -----------------------------------------------------------------------------------

  sessionOfPhone(phone: string): string | null | Promise<string | null> {
    const known = this.owners.get(phone);
    if (known !== undefined) return known;
    sandboxStats.storeQueries++;
    return this.pool.query<{ session_id: string }>('SELECT session_id FROM sandbox_accounts WHERE phone = $1', [phone]).then((result) => {
      const owner = result.rows[0]?.session_id ?? null;
      this.owners.set(phone, owner);
      return owner;
    });
  }

  accountsChanged(): void {
    this.owners.clear();
  }

  // --- messages and chats -------------------------------------------------------------------------

  recordSend(sessionId: string, message: EngineMessage, key: string, chat: ChatInfo, senderPhone: string, recipients: string[], waiting: string[], delivery: PendingDelivery): void {
    const params = messageParams(sessionId, message, key, chat, true);
    params.push(senderPhone);
    const sender = `$${params.length}`;
    const receipts = recipients.map((phone) => `($3, $${params.push(phone)}, ${sender}, 1)`);
    let sql = `WITH m AS (INSERT INTO sandbox_messages (${MESSAGE_INSERT_COLUMNS}) VALUES (${MESSAGE_VALUES}) ON CONFLICT DO NOTHING RETURNING seq),
      c AS (${CHAT_UPSERT})`;
    if (receipts.length > 0) {
      sql += `, r AS (INSERT INTO sandbox_receipts (msg_key, recipient_phone, sender_phone, state) VALUES ${receipts.join(', ')} ON CONFLICT DO NOTHING)`;
    }
    if (waiting.length > 0) {
      params.push(JSON.stringify(delivery));
      const payload = `$${params.length}`;
      const rows = waiting.map((phone) => `($${params.push(phone)}, ${payload})`);
      sql += `, p AS (INSERT INTO sandbox_pending (to_phone, payload) VALUES ${rows.join(', ')})`;
    }
    this.write(`${sql} SELECT 1`, params);
  }

  addPending(toPhone: string, delivery: PendingDelivery): void {
    this.write('INSERT INTO sandbox_pending (to_phone, payload) VALUES ($1, $2)', [toPhone, JSON.stringify(delivery)]);
  }

  pending(toPhone: string, sessionId: string): Promise<PendingRow[]> {
    // In the transaction: it sees what the turn's earlier statements added and removed. The quoted message is
    // looked up here, in the same statement.
    return this.queue<{ id: number; payload: string; quoted: string | null }>(
      `SELECT p.id, p.payload, (SELECT q.message_id FROM sandbox_messages q
          WHERE q.session_id = $2 AND q.msg_key = (p.payload::json ->> 'quotedKey') LIMIT 1) AS quoted
        FROM sandbox_pending p WHERE p.to_phone = $1 ORDER BY p.id LIMIT ${PENDING_PAGE}`,
      [toPhone, sessionId],
    ).then((rows) => rows.map((r) => ({ id: Number(r.id), delivery: JSON.parse(r.payload) as PendingDelivery, quotedId: r.quoted })));
  }

  deliver(sessionId: string, pendingId: number, message: EngineMessage, key: string, chat: ChatInfo): Promise<boolean> {
    const params = messageParams(sessionId, message, key, chat, false);
    params.push(pendingId);
    const inserted = this.queue<{ n: number }>(
      `WITH claimed AS (DELETE FROM sandbox_pending WHERE id = $${params.length} RETURNING id),
        m AS (INSERT INTO sandbox_messages (${MESSAGE_INSERT_COLUMNS}) SELECT ${MESSAGE_VALUES} FROM claimed ON CONFLICT DO NOTHING RETURNING seq),
        c AS (${CHAT_UPSERT})
       SELECT count(*)::int AS n FROM m`,
      params,
    ).then((rows) => rows[0]?.n === 1);
    inserted.catch(ignore);
    return inserted;
  }

  receipt(key: string, recipientPhone: string, ack: ReceiptAck): Promise<AckRaised | null> {
    // The statement's parts see the table as it was before it: the lowest state over all recipients is the
    // others' lowest and this one's new state.
    const raised = this.queue<{ message_id: string; chat_id: string; sender_phone: string; state: number }>(
      `WITH r AS (UPDATE sandbox_receipts SET state = $3 WHERE msg_key = $1 AND recipient_phone = $2 AND state < $3 RETURNING sender_phone),
        low AS (SELECT r.sender_phone, LEAST($3, COALESCE((SELECT MIN(o.state) FROM sandbox_receipts o
                  WHERE o.msg_key = $1 AND o.recipient_phone <> $2), $3)) AS state FROM r)
       UPDATE sandbox_messages m SET ack = (CASE low.state WHEN 1 THEN 'SERVER' WHEN 2 THEN 'DEVICE' ELSE 'READ' END)
         FROM low JOIN sandbox_accounts a ON a.phone = low.sender_phone
         WHERE m.session_id = a.session_id AND m.msg_key = $1 AND m.from_me = 1 AND ${ackRankSql('m.')} < low.state
       RETURNING m.message_id, m.chat_id, low.sender_phone, low.state`,
      [key, recipientPhone, ackRank[ack]],
    ).then((rows) => {
      const row = rows[0];
      if (!row) return null;
      return { senderPhone: row.sender_phone, messageId: row.message_id, chatId: row.chat_id, ack: ackOfRank[row.state] as ReceiptAck };
    });
    raised.catch(ignore);
    return raised;
  }

  markRead(sessionId: string, chatId: string): Promise<string[]> {
    return this.queue<{ msg_key: string }>(
      `WITH m AS (UPDATE sandbox_messages SET read = 1 WHERE session_id = $1 AND chat_id = $2 AND from_me = 0 AND read = 0 RETURNING msg_key),
        c AS (UPDATE sandbox_chats SET unread_count = 0 WHERE session_id = $1 AND chat_id = $2 AND unread_count <> 0)
       SELECT msg_key FROM m`,
      [sessionId, chatId],
    ).then((rows) => rows.map((r) => r.msg_key));
  }

  ensureChat(sessionId: string, chatId: string, name: string | null, isGroup: boolean, ts: number): void {
    this.write(
      'INSERT INTO sandbox_chats (session_id, chat_id, name, is_group, unread_count, last_seq, last_ts) VALUES ($1, $2, $3, $4, 0, NULL, $5) ON CONFLICT DO NOTHING',
      [sessionId, chatId, name, isGroup ? 1 : 0, ts],
    );
  }

  async forgetSession(sessionId: string, phone: string | null): Promise<void> {
    await this.queue(
      `WITH m AS (DELETE FROM sandbox_messages WHERE session_id = $1), c AS (DELETE FROM sandbox_chats WHERE session_id = $1)
       DELETE FROM sandbox_pending WHERE to_phone = $2`,
      [sessionId, phone],
    );
  }

  async chats(sessionId: string): Promise<EngineChat[]> {
    const rows = await this.read<ChatRow>(`${this.chatSelect} WHERE c.session_id = $1 ORDER BY c.last_ts DESC, COALESCE(c.last_seq, 0) DESC`, [sessionId]);
    return rows.map(toEngineChat);
  }

  async chat(sessionId: string, chatId: string): Promise<EngineChat | null> {
    const [row] = await this.read<ChatRow>(`${this.chatSelect} WHERE c.session_id = $1 AND c.chat_id = $2`, [sessionId, chatId]);
    return row ? toEngineChat(row) : null;
  }

  async messages(sessionId: string, chatId: string, limit: number, beforeSeq: number | null): Promise<EngineMessage[]> {
    const rows = await this.read<MessageRow>(
      'SELECT * FROM sandbox_messages WHERE session_id = $1 AND chat_id = $2 AND seq < $3 ORDER BY seq DESC LIMIT $4',
      [sessionId, chatId, beforeSeq ?? Number.MAX_SAFE_INTEGER, limit],
    );
    return rows.reverse().map(toEngineMessage);
  }

  async messageById(sessionId: string, messageId: string): Promise<MessageRow | null> {
    const [row] = await this.read<MessageRow>('SELECT * FROM sandbox_messages WHERE session_id = $1 AND message_id = $2', [sessionId, messageId]);
    return row ?? null;
  }

  directChats(sessionId: string): Promise<DirectChat[]> {
    return this.read<DirectChat>(
      `SELECT c.chat_id AS "chatId", c.name AS name, a.session_id AS "ownerSession" FROM sandbox_chats c
       LEFT JOIN sandbox_accounts a ON a.phone = split_part(c.chat_id, '@', 1)
       WHERE c.session_id = $1 AND c.is_group = 0 ORDER BY c.chat_id`,
      [sessionId],
    );
  }

  // --- groups -------------------------------------------------------------------------------------

  group(groupId: string): SandboxGroup | null {
    return this.groups.get(groupId);
  }

  participants(groupId: string): GroupParticipantInfo[] | null {
    return this.groups.participants(groupId);
  }

  createGroup(group: SandboxGroup, createdAt: number): void {
    const params: unknown[] = [group.id, group.name, group.description, group.ownerPhone, createdAt];
    const members = [...group.members].map(([phone, isAdmin]) => `($1, $${params.push(phone)}, ${isAdmin ? 1 : 0})`);
    this.write(
      `WITH g AS (INSERT INTO sandbox_groups (group_id, name, description, owner_phone, created_at) VALUES ($1, $2, $3, $4, $5))
       INSERT INTO sandbox_group_members (group_id, phone, is_admin) VALUES ${members.join(', ')}`,
      params,
    );
    this.groups.set(group);
  }

  addMember(groupId: string, phone: string): void {
    this.write('INSERT INTO sandbox_group_members (group_id, phone, is_admin) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING', [groupId, phone]);
    this.groups.get(groupId)?.members.set(phone, false);
  }

  removeMember(groupId: string, phone: string): void {
    this.write('DELETE FROM sandbox_group_members WHERE group_id = $1 AND phone = $2', [groupId, phone]);
    this.groups.get(groupId)?.members.delete(phone);
  }
}
