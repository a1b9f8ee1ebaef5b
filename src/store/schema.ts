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
  /** Cluster: the node that drives the session (null: none yet, or outside a cluster). */
  owner: string | null;
  /** Cluster: bumped each time the session changes owner. */
  owner_epoch: number;
}

export interface ClusterNodesTable {
  node_id: string;
  url: string;
  epoch: number;
  max_sessions: number;
  started_at: number;
  renewed_at: number;
  expires_at: number;
}

export interface SandboxAccountsTable {
  session_id: string;
  phone: string;
  linked: number;
  created_at: number;
}

export interface WebhooksTable {
  id: string;
  session_id: string;
  url: string;
  /** JSON array of EventType; empty = every event. */
  events: string;
  /** JSON object of custom header name -> value. */
  headers: string;
  secret: string;
  enabled: number;
  disabled_reason: string | null;
  disabled_at: number | null;
  failing_since: number | null;
  created_at: number;
  updated_at: number;
  /** Set when its session was removed; the row goes once its pending deliveries are done. */
  deleted_at: number | null;
  /** 1: message deliveries embed the media's dataUrl (up to --webhook-max-media-bytes). */
  include_media: number;
}

export interface WebhookDeliveriesTable {
  /** Also the webhook-id header and the body's id: the same on every attempt. */
  id: string;
  webhook_id: string;
  session_id: string;
  event: string;
  /** The exact JSON body sent (and signed) on every attempt. */
  body: string;
  status: string;
  attempts: number;
  /** Failed attempts since the delivery was (re)queued: the position in the retry schedule. */
  schedule_step: number;
  next_attempt_at: number | null;
  last_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  completed_at: number | null;
  /** PostgreSQL with several servers: who claimed it, and until when (epoch ms on the database's clock). */
  claimed_by: string | null;
  claimed_until: number | null;
  /** SQLite: bytes a waiting delivery's row keeps for what its completion writes, so completing it never grows the row. */
  room: Uint8Array | null;
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
  /** JSON array of EngineReaction, null when none. */
  reactions: string | null;
  edited: number;
  /** sandbox_media's key of the bytes (shared by every copy of the message). */
  media_hash: string | null;
  /** JSON of the kind's own fields (location, vcard, poll with its votes); see sandbox/store.ts. */
  extra: string | null;
}

/** Media bytes of sandbox messages, once per content (SHA-256) however many copies refer to them. */
export interface SandboxMediaTable {
  hash: string;
  data: Buffer;
  size: number;
  /** Epoch ms of the last send of these bytes; retention prunes by it. */
  created_at: number;
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
  announce: number;
  restricted: number;
  invite_code: string | null;
}

export interface SandboxProfilesTable {
  phone: string;
  name: string | null;
  about: string | null;
  picture_mimetype: string | null;
  /** base64 */
  picture: string | null;
}

export interface SandboxBlocksTable {
  phone: string;
  blocked_phone: string;
}

export interface SandboxGroupMembersTable {
  group_id: string;
  phone: string;
  is_admin: number;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  /** sha512:<hex> of the key; the key itself is never stored. */
  hash: string;
  prefix: string;
  admin: number;
  /** JSON array of session ids */
  session_ids: string;
  /** JSON array of 'read' | 'send' | 'manage' */
  actions: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface Database {
  sessions: SessionsTable;
  sandbox_accounts: SandboxAccountsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  sandbox_messages: SandboxMessagesTable;
  sandbox_media: SandboxMediaTable;
  sandbox_chats: SandboxChatsTable;
  sandbox_receipts: SandboxReceiptsTable;
  sandbox_pending: SandboxPendingTable;
  sandbox_groups: SandboxGroupsTable;
  sandbox_group_members: SandboxGroupMembersTable;
  sandbox_profiles: SandboxProfilesTable;
  sandbox_blocks: SandboxBlocksTable;
  api_keys: ApiKeysTable;
  cluster_nodes: ClusterNodesTable;
}
