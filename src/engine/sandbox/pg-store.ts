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
  copySessionsSql,
  type AckRaised,
  type CopyChange,
  type ChatInfo,
  type ChatRow,
  type DirectChat,
  type MessageRow,
  type PendingDelivery,
  type PendingRow,
  type ReceiptAck,
  type SandboxGroup,
  type SandboxStore,
  columnValue,
  groupColumns,
  profileColumns,
  toProfile,
  type GroupFields,
  type ProfileFields,
  type ProfileRow,
  type SandboxProfile,
  storedExtra,
} from './store.js';
import { sandboxStats } from './stats.js';
import { Columns, pgArray, TurnStatements } from '../../store/pg/turn-statements.js';

const ignore = () => undefined;

/** A drain delivers at most this many waiting messages per transaction round; it goes on with the next page. */
export const PENDING_PAGE = 500;

interface SendItem {
  sessionId: string;
  message: EngineMessage;
  key: string;
  chat: ChatInfo;
  senderPhone: string;
  recipients: string[];
  waiting: string[];
  delivery: PendingDelivery;
  mediaHash: string | null;
}

interface DeliverItem {
  sessionId: string;
  pendingId: number;
  message: EngineMessage;
  key: string;
  chat: ChatInfo;
  mediaHash: string | null;
}

interface ReceiptItem {
  key: string;
  recipientPhone: string;
  ack: ReceiptAck;
}

const MESSAGE_SPEC = [
  ['session_id', 'text'], ['message_id', 'text'], ['msg_key', 'text'], ['chat_id', 'text'], ['from_jid', 'text'], ['to_jid', 'text'],
  ['from_me', 'int'], ['body', 'text'], ['timestamp', 'bigint'], ['author', 'text'], ['type', 'text'], ['ack', 'text'], ['caption', 'text'],
  ['mimetype', 'text'], ['filename', 'text'], ['size', 'bigint'], ['quoted_message_id', 'text'], ['read', 'int'],
  ['media_hash', 'text'], ['extra', 'text'],
  ['chat_name', 'text'], ['is_group', 'int'], ['unread', 'int'], ['ord', 'int'], ['edited', 'int'],
] as const;

function messageColumns(
  items: readonly { sessionId: string; message: EngineMessage; key: string; chat: ChatInfo; mediaHash: string | null }[],
  read: boolean,
): Columns {
  const columns = new Columns(MESSAGE_SPEC);
  items.forEach(({ sessionId, message, key, chat, mediaHash }, i) =>
    columns.push(
      sessionId, message.id, key, message.chatId, message.from, message.to, message.fromMe ? 1 : 0, message.body, message.timestamp,
      message.author, message.type, message.ack, message.caption, message.media?.mimetype ?? null, message.media?.filename ?? null,
      message.media?.size ?? null, message.quotedMessageId, read ? 1 : 0, mediaHash, storedExtra(message), chat.name, chat.isGroup ? 1 : 0, message.fromMe || read ? 0 : 1, i,
      message.edited ? 1 : 0,
    ),
  );
  return columns;
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
  private readonly sends: TurnStatements<SendItem, null>;
  private readonly deliveries: TurnStatements<DeliverItem, boolean>;
  private readonly receipts: TurnStatements<ReceiptItem, AckRaised | null>;
  private readonly pendingAdds: TurnStatements<{ toPhone: string; payload: string }, null>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly batch: PgBatch,
  ) {
    this.sends = new TurnStatements(batch, (items) => this.sendStatement(items));
    this.deliveries = new TurnStatements(batch, (items) => this.deliverStatement(items));
    this.receipts = new TurnStatements(batch, (items) => this.receiptStatement(items), (item) => item.key);
    this.pendingAdds = new TurnStatements(batch, (items) => this.addPendingStatement(items));
    // The last message by a lookup per chat (LIMIT 1 keeps the subquery from being flattened into a join):
    // as a plain join, the planner merge-joined the chats with the whole sandbox_messages primary key.
    this.chatSelect = `SELECT c.*, ${MESSAGE_COLUMNS.map((col) => `m.${col} AS m_${col}`).join(', ')}
      FROM sandbox_chats c LEFT JOIN LATERAL (SELECT * FROM sandbox_messages WHERE seq = c.last_seq LIMIT 1) m ON true`;
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
    const [groups, members, blocks] = await Promise.all([
      this.read('SELECT * FROM sandbox_groups'),
      this.read('SELECT * FROM sandbox_group_members'),
      this.read('SELECT * FROM sandbox_blocks'),
    ]);
    this.groups.load(groups as Parameters<GroupCache['load']>[0], members as Parameters<GroupCache['load']>[1], blocks as Parameters<GroupCache['load']>[2]);
  }

  /** A statement of the turn's transaction, queued now; its rows come back before the commit. */
  private queueNow<R>(sql: string, params: readonly unknown[]): Promise<R[]> {
    sandboxStats.storeQueries++;
    return this.batch.run<R>(sql, params);
  }

  /**
   * A statement of the turn's transaction. The batch sends what TurnStatements gathered before it first, so a
   * read of sandbox_pending sees the deliveries queued before it, and statements keep the order of the calls.
   */
  private queue<R>(sql: string, params: readonly unknown[]): Promise<R[]> {
    return this.queueNow<R>(sql, params);
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
    this.sends.add({ sessionId, message, key, chat, senderPhone, recipients, waiting, delivery, mediaHash: delivery.mediaHash ?? null }).catch(ignore);
  }

  private sendStatement(items: SendItem[]): Promise<null[]> {
    const params: unknown[] = [];
    const messages = messageColumns(items, true).args(params);
    const receipts = new Columns([['msg_key', 'text'], ['recipient_phone', 'text'], ['sender_phone', 'text']]);
    const waiting = new Columns([['to_phone', 'text'], ['payload', 'text']]);
    for (const item of items) {
      for (const phone of item.recipients) receipts.push(item.key, phone, item.senderPhone);
      if (item.waiting.length > 0) {
        const payload = JSON.stringify(item.delivery);
        for (const phone of item.waiting) waiting.push(phone, payload);
      }
    }
    return this.queueNow(`SELECT FROM wa_gateway_sandbox_send(${messages}, ${receipts.args(params)}, ${waiting.args(params)})`, params).then(() => items.map(() => null));
  }

  addPending(toPhone: string, delivery: PendingDelivery): void {
    this.pendingAdds.add({ toPhone, payload: JSON.stringify(delivery) }).catch(ignore);
  }

  hold(work: Promise<unknown>): void {
    this.batch.hold(work);
  }

  private addPendingStatement(items: { toPhone: string; payload: string }[]): Promise<null[]> {
    const params: unknown[] = [];
    const rows = new Columns([['to_phone', 'text'], ['payload', 'text']]);
    for (const item of items) rows.push(item.toPhone, item.payload);
    return this.queueNow(`SELECT FROM wa_gateway_sandbox_add_pending(${rows.args(params)})`, params).then(() => items.map(() => null));
  }

  pending(toPhone: string, sessionId: string): Promise<PendingRow[]> {
    // In the transaction: it sees what the turn's earlier statements added and removed. The quoted message is
    // looked up here, in the same statement.
    return this.queue<{ id: number; payload: string; quoted: string | null }>(
      `SELECT o_id AS id, o_payload AS payload, o_quoted AS quoted FROM wa_gateway_sandbox_pending($1, $2, ${PENDING_PAGE})`,
      [toPhone, sessionId],
    ).then((rows) => rows.map((r) => ({ id: Number(r.id), delivery: JSON.parse(r.payload) as PendingDelivery, quotedId: r.quoted })));
  }

  deliver(sessionId: string, pendingId: number, message: EngineMessage, key: string, chat: ChatInfo, mediaHash: string | null): Promise<boolean> {
    const inserted = this.deliveries.add({ sessionId, pendingId, message, key, chat, mediaHash });
    inserted.catch(ignore);
    return inserted;
  }

  private deliverStatement(items: DeliverItem[]): Promise<boolean[]> {
    const params: unknown[] = [];
    const pendingIds = `$${params.push(pgArray(items.map((item) => item.pendingId)))}::bigint[]`;
    // A delivery claims its waiting row as it inserts: one whose row is gone (delivered already) inserts nothing.
    return this.queueNow<{ session_id: string; message_id: string }>(
      `SELECT o_session_id AS session_id, o_message_id AS message_id FROM wa_gateway_sandbox_deliver(${pendingIds}, ${messageColumns(items, false).args(params)})`,
      params,
    ).then((rows) => {
      const inserted = new Set(rows.map((r) => `${r.session_id}\n${r.message_id}`));
      return items.map((item) => inserted.has(`${item.sessionId}\n${item.message.id}`));
    });
  }

  putMedia(hash: string, data: Buffer, at: number): void {
    this.write(
      'INSERT INTO sandbox_media (hash, data, size, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO UPDATE SET created_at = excluded.created_at',
      [hash, data, data.length, at],
    );
  }

  async media(hash: string): Promise<Buffer | null> {
    const [row] = await this.read<{ data: Buffer }>('SELECT data FROM sandbox_media WHERE hash = $1', [hash]);
    return row?.data ?? null;
  }

  async setExtra(key: string, sessionIds: string[], extra: string): Promise<void> {
    await this.queue('UPDATE sandbox_messages SET extra = $1 WHERE msg_key = $2 AND session_id = ANY ($3::text[])', [extra, key, pgArray(sessionIds)]);
  }

  receipt(key: string, recipientPhone: string, ack: ReceiptAck): Promise<AckRaised | null> {
    const raised = this.receipts.add({ key, recipientPhone, ack });
    raised.catch(ignore);
    return raised;
  }

  private receiptStatement(items: ReceiptItem[]): Promise<(AckRaised | null)[]> {
    // Each message at most once here (see TurnStatements). The statement's parts see the tables as they were
    // before it: the lowest state over a message's recipients is the others' lowest and this one's new state.
    // `low` is materialized with the sender's session beside the key, so the message is found by both columns of
    // sandbox_messages_key from one outer row. Joined to sandbox_accounts in the same FROM as the messages, the
    // planner (with no statistics yet on a young table) could probe that index by session alone and filter every
    // message of the session for each receipt: a cost that grew with the history (300 -> 100 sends/s in 25 s).
    const params: unknown[] = [];
    const rows = new Columns([['ord', 'int'], ['msg_key', 'text'], ['recipient_phone', 'text'], ['state', 'int']]);
    items.forEach((item, i) => rows.push(i, item.key, item.recipientPhone, ackRank[item.ack]));
    return this.queueNow<{ ord: number; message_id: string; chat_id: string; sender_phone: string; state: number }>(
      `WITH v AS (SELECT * FROM ${rows.from('v', params)}),
        r AS (UPDATE sandbox_receipts s SET state = v.state FROM v
              WHERE s.msg_key = v.msg_key AND s.recipient_phone = v.recipient_phone AND s.state < v.state
              RETURNING v.ord, s.msg_key, s.recipient_phone, s.sender_phone, v.state),
        low AS MATERIALIZED (SELECT r.ord, r.msg_key, r.sender_phone, a.session_id, LEAST(r.state, COALESCE((SELECT MIN(o.state) FROM sandbox_receipts o
                  WHERE o.msg_key = r.msg_key AND o.recipient_phone <> r.recipient_phone), r.state)) AS state
                FROM r JOIN sandbox_accounts a ON a.phone = r.sender_phone)
       UPDATE sandbox_messages m SET ack = (CASE low.state WHEN 1 THEN 'SERVER' WHEN 2 THEN 'DEVICE' ELSE 'READ' END)
         FROM low WHERE m.session_id = low.session_id AND m.msg_key = low.msg_key AND m.from_me = 1 AND ${ackRankSql('m.')} < low.state
       RETURNING low.ord, m.message_id, m.chat_id, low.sender_phone, low.state`,
      params,
    ).then((raised) => {
      const results: (AckRaised | null)[] = items.map(() => null);
      for (const row of raised) {
        results[row.ord] = { senderPhone: row.sender_phone, messageId: row.message_id, chatId: row.chat_id, ack: ackOfRank[row.state] as ReceiptAck };
      }
      return results;
    });
  }

  markRead(sessionId: string, chatId: string): Promise<string[]> {
    return this.queue<{ msg_key: string }>(
      `WITH m AS (UPDATE sandbox_messages SET read = 1 WHERE session_id = $1 AND chat_id = $2 AND from_me = 0 AND read = 0 RETURNING msg_key),
        c AS (UPDATE sandbox_chats SET unread_count = 0 WHERE session_id = $1 AND chat_id = $2 AND unread_count <> 0)
       SELECT msg_key FROM m`,
      [sessionId, chatId],
    ).then((rows) => rows.map((r) => r.msg_key));
  }

  changeCopies(sessionId: string, key: string, change: CopyChange): Promise<MessageRow[]> {
    const where = `WHERE msg_key = $1 AND session_id = ANY (ARRAY(${copySessionsSql('$2::text', '$1')})) RETURNING *`;
    // The copies still waiting for an offline receiver change too: they arrive as they are now.
    const waiting = (patch: string) => `WITH p AS (UPDATE sandbox_pending SET payload = (payload::jsonb || ${patch})::text
      WHERE to_phone IN (SELECT recipient_phone FROM sandbox_receipts WHERE msg_key = $1) AND payload::jsonb ->> 'key' = $1) `;
    if (change.kind === 'edit') {
      return this.queue(`${waiting("jsonb_build_object('body', $3::text, 'edited', true)")} UPDATE sandbox_messages SET body = $3, edited = 1 ${where}`, [
        key,
        sessionId,
        change.body,
      ]);
    }
    if (change.kind === 'revoke') {
      return this.queue(
        `${waiting(`'{"type": "REVOKED", "body": null, "caption": null, "media": null}'::jsonb`)}
         UPDATE sandbox_messages SET type = 'REVOKED', body = NULL, caption = NULL, mimetype = NULL, filename = NULL, size = NULL, reactions = NULL ${where}`,
        [key, sessionId],
      );
    }
    // The sender's earlier reaction goes, its new one (if any) is appended; in one statement, so two reactions
    // at once from different nodes both stay.
    return this.queue(
      `UPDATE sandbox_messages SET reactions = (COALESCE((SELECT jsonb_agg(e) FROM jsonb_array_elements(COALESCE(reactions, '[]')::jsonb) e
         WHERE e ->> 'senderId' <> $3), '[]'::jsonb) || $4::jsonb)::text ${where}`,
      [key, sessionId, change.senderId, JSON.stringify(change.reaction ? [change.reaction] : [])],
    );
  }

  async deleteCopy(sessionId: string, messageId: string): Promise<void> {
    await this.queue(
      `WITH d AS (DELETE FROM sandbox_messages WHERE session_id = $1 AND message_id = $2 RETURNING seq, chat_id, from_me, read)
       UPDATE sandbox_chats c SET unread_count = GREATEST(c.unread_count - (CASE WHEN d.from_me = 0 AND d.read = 0 THEN 1 ELSE 0 END), 0),
         last_seq = CASE WHEN c.last_seq = d.seq
           THEN (SELECT m.seq FROM sandbox_messages m WHERE m.session_id = $1 AND m.chat_id = d.chat_id AND m.seq < d.seq ORDER BY m.seq DESC LIMIT 1)
           ELSE c.last_seq END
       FROM d WHERE c.session_id = $1 AND c.chat_id = d.chat_id`,
      [sessionId, messageId],
    );
  }

  markUnread(sessionId: string, chatId: string): void {
    this.write('UPDATE sandbox_chats SET unread_count = 1 WHERE session_id = $1 AND chat_id = $2 AND unread_count = 0', [sessionId, chatId]);
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
    // The page's seqs first, from sandbox_messages_chat alone (an index-only scan), then their rows. As one
    // statement the planner walked the primary key down from the newest message of all, filtering by chat: for
    // a chat holding much of the table that looked as cheap, and it read every message written since the chat's
    // last one (the growth bench's newest page: 2.5 -> 4.5 ms of CPU with 5,000 other messages above it).
    const rows = await this.read<MessageRow>(
      `SELECT * FROM sandbox_messages WHERE seq = ANY (ARRAY(SELECT seq FROM sandbox_messages
         WHERE session_id = $1 AND chat_id = $2 AND seq < $3 ORDER BY seq DESC LIMIT $4)) ORDER BY seq DESC`,
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

  updateGroup(groupId: string, fields: GroupFields): void {
    const keys = Object.keys(fields) as (keyof GroupFields)[];
    if (keys.length === 0) return;
    const params: unknown[] = [groupId];
    const set = keys.map((k) => `${groupColumns[k]} = $${params.push(columnValue(fields[k]))}`).join(', ');
    this.write(`UPDATE sandbox_groups SET ${set} WHERE group_id = $1`, params);
    this.groups.update(groupId, fields);
  }

  setAdmin(groupId: string, phone: string, isAdmin: boolean): void {
    this.write('UPDATE sandbox_group_members SET is_admin = $3 WHERE group_id = $1 AND phone = $2', [groupId, phone, isAdmin ? 1 : 0]);
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
    this.write(
      blocked
        ? 'INSERT INTO sandbox_blocks (phone, blocked_phone) VALUES ($1, $2) ON CONFLICT DO NOTHING'
        : 'DELETE FROM sandbox_blocks WHERE phone = $1 AND blocked_phone = $2',
      [phone, other],
    );
    this.groups.setBlocked(phone, other, blocked);
  }

  async profile(phone: string): Promise<SandboxProfile | null> {
    const [row] = await this.read<ProfileRow>('SELECT * FROM sandbox_profiles WHERE phone = $1', [phone]);
    return toProfile(row);
  }

  setProfile(phone: string, fields: ProfileFields): void {
    const keys = Object.keys(fields) as (keyof SandboxProfile)[];
    if (keys.length === 0) return;
    const params: unknown[] = [phone];
    const columns = keys.map((k) => profileColumns[k]);
    const values = keys.map((k) => `$${params.push(fields[k] ?? null)}`);
    this.write(
      `INSERT INTO sandbox_profiles (phone, ${columns.join(', ')}) VALUES ($1, ${values.join(', ')})
       ON CONFLICT (phone) DO UPDATE SET ${columns.map((c) => `${c} = excluded.${c}`).join(', ')}`,
      params,
    );
  }
}
