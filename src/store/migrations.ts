import { sql, type Kysely, type Migration } from 'kysely';

// Append-only: a migration's name never changes once released. Names sort in the order they run.
export const migrations: Record<string, Migration> = {
  '0001-sessions': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('sessions')
        .addColumn('session_id', 'text', (c) => c.primaryKey())
        .addColumn('engine', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('created_at', 'integer', (c) => c.notNull())
        .addColumn('last_activity', 'integer', (c) => c.notNull())
        .addColumn('failure_reason', 'text')
        .addColumn('me', 'text')
        .execute();
    },
  },
  '0002-sandbox-accounts': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('sandbox_accounts')
        .addColumn('session_id', 'text', (c) => c.primaryKey())
        .addColumn('phone', 'text', (c) => c.notNull().unique())
        .addColumn('linked', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'integer', (c) => c.notNull())
        .execute();
    },
  },
  '0003-sandbox-messages': {
    // The sandbox network's message history per session, its chats, delivery receipts and the messages
    // waiting for a session that is not READY.
    async up(db: Kysely<any>) {
      await sql`CREATE TABLE sandbox_messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        msg_key TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        from_jid TEXT NOT NULL,
        to_jid TEXT NOT NULL,
        from_me INTEGER NOT NULL,
        body TEXT,
        timestamp INTEGER NOT NULL,
        author TEXT,
        type TEXT NOT NULL,
        ack TEXT,
        caption TEXT,
        mimetype TEXT,
        filename TEXT,
        size INTEGER,
        quoted_message_id TEXT,
        read INTEGER NOT NULL DEFAULT 0,
        UNIQUE (session_id, message_id)
      )`.execute(db);
      await sql`CREATE INDEX sandbox_messages_chat ON sandbox_messages (session_id, chat_id, seq)`.execute(db);
      await sql`CREATE INDEX sandbox_messages_key ON sandbox_messages (session_id, msg_key)`.execute(db);
      await sql`CREATE TABLE sandbox_chats (
        session_id TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        name TEXT,
        is_group INTEGER NOT NULL,
        unread_count INTEGER NOT NULL DEFAULT 0,
        last_seq INTEGER,
        last_ts INTEGER NOT NULL,
        PRIMARY KEY (session_id, chat_id)
      )`.execute(db);
      await sql`CREATE INDEX sandbox_chats_activity ON sandbox_chats (session_id, last_ts, last_seq)`.execute(db);
      await sql`CREATE TABLE sandbox_receipts (
        msg_key TEXT NOT NULL,
        recipient_phone TEXT NOT NULL,
        sender_phone TEXT NOT NULL,
        state INTEGER NOT NULL,
        PRIMARY KEY (msg_key, recipient_phone)
      )`.execute(db);
      await sql`CREATE TABLE sandbox_pending (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        to_phone TEXT NOT NULL,
        payload TEXT NOT NULL
      )`.execute(db);
      await sql`CREATE INDEX sandbox_pending_to ON sandbox_pending (to_phone, id)`.execute(db);
    },
  },
  '0003-sandbox-groups': {
    async up(db: Kysely<any>) {
      await sql`CREATE TABLE sandbox_groups (
        group_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        description TEXT,
        owner_phone TEXT NOT NULL,
        created_at INTEGER NOT NULL
      )`.execute(db);
      await sql`CREATE TABLE sandbox_group_members (
        group_id TEXT NOT NULL REFERENCES sandbox_groups (group_id) ON DELETE CASCADE,
        phone TEXT NOT NULL,
        is_admin INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (group_id, phone)
      )`.execute(db);
    },
  },
  '0004-webhooks': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('webhooks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('disabled_reason', 'text')
        .addColumn('disabled_at', 'integer')
        .addColumn('failing_since', 'integer')
        .addColumn('created_at', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'integer', (c) => c.notNull())
        .addColumn('deleted_at', 'integer')
        .execute();
      await db.schema.createIndex('webhooks_session').on('webhooks').columns(['session_id']).execute();
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
        .addColumn('session_id', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('schedule_step', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'integer')
        .addColumn('last_attempt_at', 'integer')
        .addColumn('last_status_code', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'integer', (c) => c.notNull())
        .addColumn('completed_at', 'integer')
        .execute();
      await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
      await db.schema.createIndex('webhook_deliveries_webhook').on('webhook_deliveries').columns(['webhook_id', 'created_at']).execute();
    },
  },
  '0005-api-keys': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull().unique())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('admin', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('session_ids', 'text', (c) => c.notNull())
        .addColumn('actions', 'text', (c) => c.notNull())
        .addColumn('created_at', 'integer', (c) => c.notNull())
        .addColumn('last_used_at', 'integer')
        .addColumn('revoked_at', 'integer')
        .execute();
    },
  },
  '0006-webhook-due-index': {
    // The delivery worker asks "what is due for this webhook, oldest first" after every attempt; without
    // this index each ask scanned every delivery the webhook ever had.
    async up(db: Kysely<any>) {
      await db.schema
        .createIndex('webhook_deliveries_due_by_webhook')
        .on('webhook_deliveries')
        .columns(['webhook_id', 'status', 'next_attempt_at', 'created_at'])
        .execute();
    },
  },
  '0007-growth-indexes': {
    // Hot paths whose cost grew with history (see "Cost does not grow with the data" in the architecture notes).
    // Marking a chat read found its unread incoming messages through (session_id, chat_id, seq): every read
    // walked the chat's whole history. The partial index holds only the rows still unread, so a read costs
    // what it changes. PostgreSQL takes the same partial index.
    async up(db: Kysely<any>) {
      await sql`CREATE INDEX sandbox_messages_unread ON sandbox_messages (session_id, chat_id) WHERE from_me = 0 AND read = 0`.execute(db);
      // Pruning completed deliveries (a batch at a time) and retention find the oldest rows without a scan.
      await sql`CREATE INDEX webhook_deliveries_completed ON webhook_deliveries (completed_at) WHERE completed_at IS NOT NULL`.execute(db);
      // One row a full storage's probe rewrites to learn when space is back (see StorageState).
      await sql`CREATE TABLE storage_probe (id INTEGER PRIMARY KEY, at BIGINT NOT NULL)`.execute(db);
    },
  },
  '0008-message-actions': {
    // Reactions (a JSON array of {emoji, senderId, timestamp}, null for none) and the edited flag live on each
    // copy of a message; an action updates every copy of its key in the sessions that hold one.
    async up(db: Kysely<any>) {
      await sql`ALTER TABLE sandbox_messages ADD COLUMN reactions TEXT`.execute(db);
      await sql`ALTER TABLE sandbox_messages ADD COLUMN edited INTEGER NOT NULL DEFAULT 0`.execute(db);
    },
  },
  '0009-groups-contacts': {
    // Group administration (announce, restrict, the invite code), the profile an account shows (name, about,
    // picture as a data URL's base64 text) and the numbers each account blocked.
    async up(db: Kysely<any>) {
      await sql`ALTER TABLE sandbox_groups ADD COLUMN announce INTEGER NOT NULL DEFAULT 0`.execute(db);
      await sql`ALTER TABLE sandbox_groups ADD COLUMN restricted INTEGER NOT NULL DEFAULT 0`.execute(db);
      await sql`ALTER TABLE sandbox_groups ADD COLUMN invite_code TEXT`.execute(db);
      await sql`CREATE TABLE sandbox_profiles (
        phone TEXT PRIMARY KEY,
        name TEXT,
        about TEXT,
        picture_mimetype TEXT,
        picture TEXT
      )`.execute(db);
      await sql`CREATE TABLE sandbox_blocks (
        phone TEXT NOT NULL,
        blocked_phone TEXT NOT NULL,
        PRIMARY KEY (phone, blocked_phone)
      )`.execute(db);
    },
  },
  '0010-baileys': {
    // The Baileys engine's login (creds and signal keys, one row each; sealed with --auth-state-key when set) and
    // the history it persists from its events (Baileys 7 keeps none): chats, messages (the WAMessage as JSON
    // beside the gateway's shape) and contacts, per session.
    async up(db: Kysely<any>) {
      await sql`CREATE TABLE baileys_auth (
        session_id TEXT NOT NULL,
        category TEXT NOT NULL,
        key_id TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (session_id, category, key_id)
      )`.execute(db);
      await sql`CREATE TABLE baileys_chats (
        session_id TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        name TEXT,
        is_group INTEGER NOT NULL,
        unread_count INTEGER NOT NULL DEFAULT 0,
        last_ts BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (session_id, chat_id)
      )`.execute(db);
      await sql`CREATE INDEX baileys_chats_activity ON baileys_chats (session_id, last_ts)`.execute(db);
      await sql`CREATE TABLE baileys_messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        timestamp BIGINT NOT NULL,
        data TEXT NOT NULL,
        raw TEXT,
        UNIQUE (session_id, message_id)
      )`.execute(db);
      await sql`CREATE INDEX baileys_messages_chat ON baileys_messages (session_id, chat_id, timestamp, seq)`.execute(db);
      await sql`CREATE TABLE baileys_contacts (
        session_id TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        name TEXT,
        pushname TEXT,
        PRIMARY KEY (session_id, contact_id)
      )`.execute(db);
    },
  },
  '0011-cluster-leases': {
    // The cluster's ownership (src/cluster/): a lease per node and an owner per session. Only PostgreSQL
    // clusters; SQLite takes the same columns so both schemas stay one.
    async up(db: Kysely<any>) {
      await sql`CREATE TABLE cluster_nodes (
        node_id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        epoch BIGINT NOT NULL DEFAULT 0,
        max_sessions INTEGER NOT NULL,
        started_at BIGINT NOT NULL,
        renewed_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
      )`.execute(db);
      await sql`ALTER TABLE sessions ADD COLUMN owner TEXT`.execute(db);
      await sql`ALTER TABLE sessions ADD COLUMN owner_epoch BIGINT NOT NULL DEFAULT 0`.execute(db);
      await sql`CREATE INDEX sessions_owner ON sessions (owner)`.execute(db);
    },
  },
  '0012-webhook-claims': {
    // The claim of a delivery by one of several servers on a PostgreSQL database (PgWebhookStore.claim). SQLite
    // has one server and never sets them; the columns and the index are here so both schemas stay the same
    // (db:copy copies the table as it is).
    async up(db: Kysely<any>) {
      await sql`ALTER TABLE webhook_deliveries ADD COLUMN claimed_by TEXT`.execute(db);
      await sql`ALTER TABLE webhook_deliveries ADD COLUMN claimed_until BIGINT`.execute(db);
      await sql`CREATE INDEX webhook_deliveries_claimed ON webhook_deliveries (webhook_id, claimed_until) WHERE claimed_by IS NOT NULL`.execute(db);
    },
  },
  '0013-sandbox-media': {
    // Received and sent media bytes are kept in the database (not in a node's data dir), so a session can
    // move to another node; the message copies refer to them by content hash. `extra` holds a kind's own
    // fields (location, contact card, poll and its votes) as JSON.
    async up(db: Kysely<any>) {
      await sql`ALTER TABLE sandbox_messages ADD COLUMN media_hash TEXT`.execute(db);
      await sql`ALTER TABLE sandbox_messages ADD COLUMN extra TEXT`.execute(db);
      await sql`CREATE TABLE sandbox_media (hash TEXT PRIMARY KEY, data BLOB NOT NULL, size INTEGER NOT NULL, created_at BIGINT NOT NULL)`.execute(db);
      await sql`CREATE INDEX sandbox_media_created ON sandbox_media (created_at)`.execute(db);
      await sql`ALTER TABLE webhooks ADD COLUMN include_media INTEGER NOT NULL DEFAULT 0`.execute(db);
    },
  },
  '0014-growth-claims': {
    // PostgreSQL's claim function looks an outcome's delivery up by id (pg/migrations.ts); SQLite has no such
    // function (its outcome is one UPDATE by primary key), so nothing changes here: the name keeps both lists one.
    async up() {},
  },
  '0015-baileys-retention': {
    // History retention prunes the Baileys engine's stored messages by age across sessions (a history sync
    // stores old messages after new ones, so the order they were stored in says nothing of their age).
    async up(db: Kysely<any>) {
      await sql`CREATE INDEX baileys_messages_age ON baileys_messages (timestamp)`.execute(db);
    },
  },
  '0016-hot-path-functions': {
    // PostgreSQL only: its hot write statements become functions (their plans kept per connection). SQLite
    // prepares its statements once already; nothing changes here.
    async up() {},
  },
  '0017-webhook-claims-ahead': {
    // The pending deliveries by webhook, in the order they are due and were made (an id sorts by its creation
    // time), as on PostgreSQL, where the claims read them so (pg/migrations.ts: there the ORDER BY's last column
    // was missing from the index, and every due delivery was read and sorted on each claim). A partial index holds
    // only the outbox's work; the two indexes by status it replaces took an entry for every delivery ever made, at
    // each of its updates. (PostgreSQL's claims ahead of the attempts have no SQLite twin: its worker reads what is
    // due without a round trip.)
    async up(db: Kysely<any>) {
      await sql`CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, next_attempt_at, id) WHERE status = 'PENDING'`.execute(db);
      await sql`DROP INDEX webhook_deliveries_due_by_webhook`.execute(db);
      await sql`DROP INDEX webhook_deliveries_due`.execute(db);
    },
  },
  '0018-delivery-room': {
    // Room a waiting delivery's row keeps for what its completion writes (webhook-store.ts, DELIVERY_ROOM_BYTES):
    // a row that grows on a full page splits it, so the deliveries table's pages were as full as chance left
    // them, and under retention the file kept room for the emptiest they had been. PostgreSQL has the column for
    // the same tables on both (an update writes a new row version there whatever its size), never set.
    async up(db: Kysely<any>) {
      await sql`ALTER TABLE webhook_deliveries ADD COLUMN room BLOB`.execute(db);
    },
  },
};
