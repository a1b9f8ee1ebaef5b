// Row types of every table. Times are epoch milliseconds; JSON columns are text.

export interface SessionsTable {
  session_id: string;
  engine: string;
  status: string;
  config: string;
  created_at: number;
  last_activity: number;
  failure_reason: string | null;
  me: string | null;
}

export interface SandboxAccountsTable {
  session_id: string;
  phone: string;
  linked: number;
  created_at: number;
}

export interface SandboxMessagesTable {
  seq: number;
  session_id: string;
  message_id: string;
  msg_key: string;
  chat_id: string;
  from_jid: string;
  to_jid: string;
  from_me: number;
  body: string | null;
  /** Unix seconds, as WhatsApp gives them. */
  timestamp: number;
  author: string | null;
  type: string;
  ack: string | null;
  caption: string | null;
  mimetype: string | null;
  filename: string | null;
  size: number | null;
  quoted_message_id: string | null;
  read: number;
}

export interface SandboxChatsTable {
  session_id: string;
  chat_id: string;
  name: string | null;
  is_group: number;
  unread_count: number;
  last_seq: number | null;
  /** Unix seconds. */
  last_ts: number;
}

export interface SandboxReceiptsTable {
  msg_key: string;
  recipient_phone: string;
  sender_phone: string;
  /** 1 SERVER, 2 DEVICE, 3 READ */
  state: number;
}

export interface SandboxPendingTable {
  id: number;
  to_phone: string;
  payload: string;
}

export interface SandboxGroupsTable {
  group_id: string;
  name: string;
  description: string | null;
  owner_phone: string;
  created_at: number;
}

export interface SandboxGroupMembersTable {
  group_id: string;
  phone: string;
  is_admin: number;
}

export interface Database {
  sessions: SessionsTable;
  sandbox_accounts: SandboxAccountsTable;
  sandbox_messages: SandboxMessagesTable;
  sandbox_chats: SandboxChatsTable;
  sandbox_receipts: SandboxReceiptsTable;
  sandbox_pending: SandboxPendingTable;
  sandbox_groups: SandboxGroupsTable;
  sandbox_group_members: SandboxGroupMembersTable;
}
