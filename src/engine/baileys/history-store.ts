// Baileys 7 keeps no history of its own: the chats, contacts and messages its events carry are kept here,
// per session, so chats, messages(limit, before) and contacts answer as on the sandbox. Each chat keeps at
// most `perChat` messages (the newest).
import type { EngineChat, EngineContact, EngineMessage } from '../engine.js';
import { chatFromRow, publicMessage, type ChatRow, type StoredMessage } from './mapping.js';
import { placeholders, type BaileysSql } from './sql.js';

export interface IncomingMessage {
  message: StoredMessage;
  /** The WAMessage as JSON (BufferJSON), for quoting, forwarding, media download and Baileys' retries. */
  raw: string | null;
  /** A live incoming message counts as unread; history and own messages do not. */
  unread: boolean;
}

interface MessageRow {
  seq: number | string;
  data: string;
  raw: string | null;
  timestamp: number | string;
}

const UPSERT_CHAT = `INSERT INTO baileys_chats (session_id, chat_id, name, is_group, unread_count, last_ts) VALUES ($1, $2, $3, $4, COALESCE($5, 0), COALESCE($6, 0))
  ON CONFLICT (session_id, chat_id) DO UPDATE SET
    name = COALESCE(excluded.name, baileys_chats.name),
    unread_count = CASE WHEN $5 IS NULL THEN baileys_chats.unread_count ELSE excluded.unread_count END,
    last_ts = CASE WHEN excluded.last_ts > baileys_chats.last_ts THEN excluded.last_ts ELSE baileys_chats.last_ts END`;

export class HistoryStore {
  constructor(
    private readonly sql: BaileysSql,
    readonly sessionId: string,
    private readonly perChat: number,
  ) {}

  async saveMessages(items: IncomingMessage[]): Promise<void> {
    if (items.length === 0) return;
    const statements: [string, unknown[]][] = [];
    const chats = new Map<string, { ts: number; unread: number; isGroup: boolean }>();
    for (const { message, raw, unread } of items) {
      statements.push([
        `INSERT INTO baileys_messages (session_id, message_id, chat_id, timestamp, data, raw) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (session_id, message_id) DO UPDATE SET data = excluded.data, timestamp = excluded.timestamp, raw = COALESCE(excluded.raw, baileys_messages.raw)`,
        [this.sessionId, message.id, message.chatId, message.timestamp, JSON.stringify(message), raw],
      ]);
      const chat = chats.get(message.chatId) ?? { ts: 0, unread: 0, isGroup: message.chatId.endsWith('@g.us') };
      chat.ts = Math.max(chat.ts, message.timestamp);
      if (unread) chat.unread++;
      chats.set(message.chatId, chat);
    }
    for (const [chatId, chat] of chats) {
      statements.push([
        `INSERT INTO baileys_chats (session_id, chat_id, name, is_group, unread_count, last_ts) VALUES ($1, $2, NULL, $3, $4, $5)
         ON CONFLICT (session_id, chat_id) DO UPDATE SET
           unread_count = baileys_chats.unread_count + excluded.unread_count,
           last_ts = CASE WHEN excluded.last_ts > baileys_chats.last_ts THEN excluded.last_ts ELSE baileys_chats.last_ts END`,
        [this.sessionId, chatId, chat.isGroup ? 1 : 0, chat.unread, chat.ts],
      ]);
      // Only the newest `perChat` messages of the chat stay.
      statements.push([
        `DELETE FROM baileys_messages WHERE seq IN (
           SELECT seq FROM baileys_messages WHERE session_id = $1 AND chat_id = $2 ORDER BY timestamp DESC, seq DESC LIMIT 1000000000 OFFSET $3)`,
        [this.sessionId, chatId, this.perChat],
      ]);
    }
    await this.sql.steps(statements);
  }

  async upsertChats(rows: ChatRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.sql.steps(rows.map((r) => [UPSERT_CHAT, [this.sessionId, r.id, r.name, r.isGroup ? 1 : 0, r.unreadCount, r.timestamp]]));
  }

  async deleteChats(chatIds: string[]): Promise<void> {
    if (chatIds.length === 0) return;
    const list = placeholders(2, chatIds.length);
    await this.sql.steps([
      [`DELETE FROM baileys_messages WHERE session_id = $1 AND chat_id IN (${list})`, [this.sessionId, ...chatIds]],
      [`DELETE FROM baileys_chats WHERE session_id = $1 AND chat_id IN (${list})`, [this.sessionId, ...chatIds]],
    ]);
  }

  async upsertContacts(contacts: EngineContact[]): Promise<void> {
    if (contacts.length === 0) return;
    await this.sql.steps(
      contacts.map((c) => [
        `INSERT INTO baileys_contacts (session_id, contact_id, name, pushname) VALUES ($1, $2, $3, $4)
         ON CONFLICT (session_id, contact_id) DO UPDATE SET name = COALESCE(excluded.name, baileys_contacts.name), pushname = COALESCE(excluded.pushname, baileys_contacts.pushname)`,
        [this.sessionId, c.id, c.name, c.pushname],
      ]),
    );
  }

  async getMessage(messageId: string): Promise<{ message: StoredMessage; raw: string | null } | null> {
    const [row] = await this.sql.all<MessageRow>(`SELECT seq, data, raw, timestamp FROM baileys_messages WHERE session_id = $1 AND message_id = $2`, [
      this.sessionId,
      messageId,
    ]);
    return row ? { message: JSON.parse(row.data) as StoredMessage, raw: row.raw } : null;
  }

  /** Changes a stored message (ack, edit, reaction, vote, deletion); false when it is not stored. */
  async updateMessage(messageId: string, change: (m: StoredMessage) => StoredMessage): Promise<StoredMessage | null> {
    const found = await this.getMessage(messageId);
    if (!found) return null;
    const next = change(found.message);
    await this.sql.run(`UPDATE baileys_messages SET data = $3 WHERE session_id = $1 AND message_id = $2`, [this.sessionId, messageId, JSON.stringify(next)]);
    return next;
  }

  async chats(chatId?: string): Promise<EngineChat[]> {
    const rows = await this.sql.all<{ chat_id: string; name: string | null; is_group: number; unread_count: number | string; last_ts: number | string; last: string | null }>(
      `SELECT c.chat_id, c.name, c.is_group, c.unread_count, c.last_ts,
         (SELECT m.data FROM baileys_messages m WHERE m.session_id = c.session_id AND m.chat_id = c.chat_id ORDER BY m.timestamp DESC, m.seq DESC LIMIT 1) AS last
       FROM baileys_chats c WHERE c.session_id = $1 ${chatId ? 'AND c.chat_id = $2' : ''} ORDER BY c.last_ts DESC, c.chat_id`,
      chatId ? [this.sessionId, chatId] : [this.sessionId],
    );
    return rows.map((r) =>
      chatFromRow({
        id: r.chat_id,
        name: r.name,
        isGroup: Number(r.is_group) === 1,
        unreadCount: Number(r.unread_count),
        timestamp: Number(r.last_ts),
        lastMessage: r.last ? publicMessage(JSON.parse(r.last) as StoredMessage) : null,
      }),
    );
  }

  async chat(chatId: string): Promise<EngineChat | null> {
    return (await this.chats(chatId))[0] ?? null;
  }

  /** Oldest first: at most `limit` messages just before `before` (a message id), or the newest. */
  async messages(chatId: string, limit: number, before?: string | null): Promise<EngineMessage[]> {
    let rows: MessageRow[];
    if (before) {
      const [anchor] = await this.sql.all<MessageRow>(`SELECT seq, timestamp, data, raw FROM baileys_messages WHERE session_id = $1 AND message_id = $2 AND chat_id = $3`, [
        this.sessionId,
        before,
        chatId,
      ]);
      if (!anchor) return [];
      rows = await this.sql.all<MessageRow>(
        `SELECT seq, timestamp, data, NULL AS raw FROM baileys_messages WHERE session_id = $1 AND chat_id = $2 AND (timestamp < $3 OR (timestamp = $3 AND seq < $4))
         ORDER BY timestamp DESC, seq DESC LIMIT $5`,
        [this.sessionId, chatId, Number(anchor.timestamp), Number(anchor.seq), limit],
      );
    } else {
      rows = await this.sql.all<MessageRow>(
        `SELECT seq, timestamp, data, NULL AS raw FROM baileys_messages WHERE session_id = $1 AND chat_id = $2 ORDER BY timestamp DESC, seq DESC LIMIT $3`,
        [this.sessionId, chatId, limit],
      );
    }
    return rows.reverse().map((r) => publicMessage(JSON.parse(r.data) as StoredMessage));
  }

  /** The newest messages of a chat, newest first (read receipts, mark unread). */
  async newest(chatId: string, limit: number, incomingOnly = false): Promise<{ message: StoredMessage; raw: string | null }[]> {
    const rows = await this.sql.all<MessageRow>(
      `SELECT seq, timestamp, data, raw FROM baileys_messages WHERE session_id = $1 AND chat_id = $2 ORDER BY timestamp DESC, seq DESC LIMIT $3`,
      [this.sessionId, chatId, incomingOnly ? limit * 4 : limit],
    );
    const out = rows.map((r) => ({ message: JSON.parse(r.data) as StoredMessage, raw: r.raw }));
    return (incomingOnly ? out.filter((m) => !m.message.fromMe) : out).slice(0, limit);
  }

  async markRead(chatId: string): Promise<void> {
    await this.sql.run(`UPDATE baileys_chats SET unread_count = 0 WHERE session_id = $1 AND chat_id = $2`, [this.sessionId, chatId]);
  }

  async contacts(contactId?: string): Promise<EngineContact[]> {
    const rows = await this.sql.all<{ contact_id: string; name: string | null; pushname: string | null }>(
      `SELECT contact_id, name, pushname FROM baileys_contacts WHERE session_id = $1 ${contactId ? 'AND contact_id = $2' : ''} ORDER BY contact_id`,
      contactId ? [this.sessionId, contactId] : [this.sessionId],
    );
    return rows.map((r) => ({ id: r.contact_id, name: r.name, pushname: r.pushname, isMyContact: r.name !== null, isWAContact: true }));
  }

  async contact(contactId: string): Promise<EngineContact | null> {
    return (await this.contacts(contactId))[0] ?? null;
  }
}

/** removeSession: the session's history goes with it. */
export async function deleteHistory(sql: BaileysSql, sessionId: string): Promise<void> {
  await sql.steps([
    [`DELETE FROM baileys_messages WHERE session_id = $1`, [sessionId]],
    [`DELETE FROM baileys_chats WHERE session_id = $1`, [sessionId]],
    [`DELETE FROM baileys_contacts WHERE session_id = $1`, [sessionId]],
  ]);
}
