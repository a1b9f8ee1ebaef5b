import { resolve } from 'node:path';
import { z } from 'zod';
import type { SandboxSettings } from './engine/sandbox/network.js';
import { cidrListProblem } from './webhooks/cidr.js';

// Every setting lives in one table: its path in Config, its CLI flag, its environment twin, its parser.
// The CLI, the README's table and the validation all read this table, so they cannot drift apart.

const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();
const seconds = z.coerce.number().positive();
const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v))]);
// `--api-key a,b`: each one a plain key (hashed at start) or `sha512:<128 hex digits>`.
const keyList = z.union([
  z.array(z.string()),
  z.string().transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean)),
]).superRefine((keys, ctx) => {
  for (const key of keys) {
    if (key.startsWith('sha512:') ? !/^sha512:[0-9a-fA-F]{128}$/.test(key) : key.length < 16) {
      ctx.addIssue({ code: 'custom', message: 'each key must be at least 16 characters, or sha512:<128 hex digits>' });
    }
  }
});
const msList = z
  .union([z.array(nonNegativeInt), z.string().transform((s, ctx) => {
    const parts = s.split(',').map((p) => p.trim()).filter(Boolean);
    const nums = parts.map(Number);
    if (nums.some((n) => !Number.isInteger(n) || n < 0)) {
      ctx.addIssue({ code: 'custom', message: 'expected a comma-separated list of whole milliseconds' });
      return z.NEVER;
    }
    return nums;
  })]);
// `--cors-origins https://app.example.com,http://localhost:5173`: exact origins (scheme, host, port), no paths.
const originList = z.union([
  z.array(z.string()),
  z.string().transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean)),
]).superRefine((origins, ctx) => {
  for (const origin of origins) {
    let url: URL | null = null;
    try {
      url = new URL(origin);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin.replace(/\/$/, '').toLowerCase()) {
      ctx.addIssue({ code: 'custom', message: `'${origin}' is not an origin like https://app.example.com or http://localhost:5173` });
    }
  }
});
const hostList = z.union([
  z.array(z.string()),
  z.string().transform((s) => s.split(',').map((p) => p.trim().toLowerCase()).filter(Boolean)),
]);
const cidrList = z.string().superRefine((s, ctx) => {
  const bad = cidrListProblem(s);
  if (bad) ctx.addIssue({ code: 'custom', message: bad });
});

// 32 bytes of key material as base64; empty: none.
const authStateKey = z.string().trim().refine((s) => s === '' || Buffer.from(s, 'base64').length === 32, {
  message: 'expected 32 bytes in base64 (openssl rand -base64 32)',
});

// Empty keeps SQLite; a PostgreSQL URL selects PostgreSQL; anything else stops the start with this message.
const databaseUrl = z.string().trim().refine((s) => s === '' || /^postgres(ql)?:\/\/[^\s]+$/i.test(s), {
  message: 'expected a postgres:// or postgresql:// URL (empty: SQLite under --data-dir)',
});

const redisUrl = z.string().trim().refine((s) => s === '' || /^rediss?:\/\/[^\s]+$/i.test(s), {
  message: 'expected a redis:// or rediss:// URL (empty: no Redis, one node)',
});

export const settings = [
  { path: 'port', flag: '--port', env: 'PORT', schema: z.coerce.number().int().min(0).max(65535), default: 8080, doc: 'HTTP port (0 picks a free one)' },
  { path: 'host', flag: '--host', env: 'HOST', schema: z.string(), default: '', doc: 'Address to bind; empty: 0.0.0.0 when an API key exists, else 127.0.0.1 only. Another address than loopback without a key needs --allow-no-key' },
  { path: 'dataDir', flag: '--data-dir', env: 'DATA_DIR', schema: z.string().min(1), default: './data', doc: 'Folder for the SQLite file and session data' },
  { path: 'databaseUrl', flag: '--database-url', env: 'DATABASE_URL', schema: databaseUrl, default: '', doc: 'PostgreSQL to store everything in (postgres://user:password@host:5432/database); empty: SQLite under --data-dir' },
  { path: 'redis.url', flag: '--redis-url', env: 'REDIS_URL', schema: redisUrl, default: '', doc: 'Redis shared by the nodes of a cluster (redis://[:password@]host:6379[/db]): events of every node reach subscribers on every node, rate limits count across nodes, API keys change everywhere at once; empty: one node' },
  { path: 'redis.prefix', flag: '--redis-prefix', env: 'REDIS_PREFIX', schema: z.string().min(1).max(100), default: 'wa-gateway:', doc: 'Start of every Redis key and channel, so several clusters (or test runs) can share one Redis' },
  { path: 'history.retentionDays', flag: '--history-retention-days', env: 'HISTORY_RETENTION_DAYS', schema: z.coerce.number().min(0).max(36500), default: 0, doc: 'Days of message history (messages, their receipts and media details; the Baileys engine\'s stored messages) kept; older ones are removed in small batches in the background (0: keep everything; fractions allowed)' },
  { path: 'history.pruneIntervalMs', flag: '--history-prune-interval-ms', env: 'HISTORY_PRUNE_INTERVAL_MS', schema: positiveInt, default: 60_000, doc: 'With a retention: how often the pruner looks for history past it (a backlog is then removed a batch per event-loop turn)' },
  { path: 'history.mediaRetentionDays', flag: '--media-retention-days', env: 'MEDIA_RETENTION_DAYS', schema: z.coerce.number().min(0).max(36500), default: 30, doc: 'Days the sandbox keeps media bytes (in the database) after their last send; older ones are removed with the history batches and their download answers MEDIA_GONE (0: keep them)' },
  { path: 'maxSessions', flag: '--max-sessions', env: 'MAX_SESSIONS', schema: positiveInt, default: 10, doc: 'Most sessions the server holds at once (in a cluster: per node)' },
  { path: 'cluster.nodeId', flag: '--node-id', env: 'NODE_ID', schema: z.string().trim().regex(/^[A-Za-z0-9_.-]{0,64}$/, 'letters, digits, ".", "-" and "_", at most 64'), default: '', doc: 'This node\'s name in a cluster; with --database-url it turns cluster mode on (nodes share the sessions of one PostgreSQL database). Empty: one server on its own' },
  { path: 'cluster.advertiseUrl', flag: '--advertise-url', env: 'ADVERTISE_URL', schema: z.string().trim().refine((s) => s === '' || /^https?:\/\/[^\s/]+\/?$/.test(s), 'expected http(s)://host:port'), default: '', doc: 'Cluster: the URL other nodes reach this one at (empty: http://127.0.0.1:<port>, for nodes on one host)' },
  { path: 'cluster.leaseTtlMs', flag: '--lease-ttl-ms', env: 'LEASE_TTL_MS', schema: z.coerce.number().int().min(500), default: 10_000, doc: 'Cluster: how long a node keeps its sessions without renewing its lease (renewed every third of it); a dead node\'s sessions move after it' },
  { path: 'cluster.sharedDataDir', flag: '--shared-data-dir', env: 'SHARED_DATA_DIR', schema: bool, default: false, doc: 'Cluster: every node mounts the same --data-dir, so open-wa sessions (their browser profiles live there) move to another node when theirs dies; without it they wait for their node to come back' },
  { path: 'cluster.secret', flag: '--cluster-secret', env: 'CLUSTER_SECRET', schema: z.string(), default: '', doc: 'Cluster: shared secret of the node-to-node calls (at least 16 characters; required when an API key is configured)' },
  { path: 'engine', flag: '--engine', env: 'ENGINE', schema: z.enum(['sandbox', 'open-wa', 'baileys']), default: 'sandbox', doc: 'Default engine for new sessions: sandbox, open-wa or baileys' },
  { path: 'logLevel', flag: '--log-level', env: 'LOG_LEVEL', schema: z.enum(['debug', 'info', 'warn', 'error', 'silent']), default: 'info', doc: 'Log level' },
  { path: 'sessions.qrTimeout', flag: '--qr-timeout', env: 'QR_TIMEOUT', schema: seconds, default: 60, doc: 'Default seconds a session waits for its QR to be scanned' },
  { path: 'sessions.authTimeout', flag: '--auth-timeout', env: 'AUTH_TIMEOUT', schema: seconds, default: 120, doc: 'Default seconds a session may stay AUTHENTICATED before READY' },
  { path: 'sessions.waitForQrMs', flag: '--wait-for-qr-ms', env: 'WAIT_FOR_QR_MS', schema: positiveInt, default: 30000, doc: 'Longest a createSession with waitForQR waits for the first QR' },
  { path: 'sandbox.startDelayMs', flag: '--sandbox-start-delay-ms', env: 'SANDBOX_START_DELAY_MS', schema: nonNegativeInt, default: 300, doc: 'Sandbox: time from start to the first QR (a browser launch)' },
  { path: 'sandbox.qrRotateMs', flag: '--sandbox-qr-rotate-ms', env: 'SANDBOX_QR_ROTATE_MS', schema: positiveInt, default: 20000, doc: 'Sandbox: how often the QR code rotates (each one expires then)' },
  { path: 'sandbox.authDelayMs', flag: '--sandbox-auth-delay-ms', env: 'SANDBOX_AUTH_DELAY_MS', schema: nonNegativeInt, default: 500, doc: 'Sandbox: time from a scan (AUTHENTICATED) to READY' },
  { path: 'sandbox.deliveryDelayMs', flag: '--sandbox-delivery-delay-ms', env: 'SANDBOX_DELIVERY_DELAY_MS', schema: nonNegativeInt, default: 50, doc: 'Sandbox: network latency of a message between two numbers' },
  { path: 'sandbox.readDelayMs', flag: '--sandbox-read-delay-ms', env: 'SANDBOX_READ_DELAY_MS', schema: nonNegativeInt, default: 0, doc: 'Sandbox: when > 0, a receiving session reads new messages after this delay (0: only markChatRead reads)' },
  { path: 'sandbox.botReplyDelayMs', flag: '--sandbox-bot-reply-delay-ms', env: 'SANDBOX_BOT_REPLY_DELAY_MS', schema: nonNegativeInt, default: 300, doc: 'Sandbox: how long the built-in contacts take to answer' },
  { path: 'media.maxImageBytes', flag: '--max-image-bytes', env: 'MAX_IMAGE_BYTES', schema: positiveInt, default: 16 * 1024 * 1024, doc: 'Largest image or audio accepted, in bytes' },
  { path: 'media.maxFileBytes', flag: '--max-file-bytes', env: 'MAX_FILE_BYTES', schema: positiveInt, default: 100 * 1024 * 1024, doc: 'Largest file accepted, in bytes' },
  { path: 'memory.heapGrowthPercent', flag: '--heap-growth-percent', env: 'HEAP_GROWTH_PERCENT', schema: z.coerce.number().int().min(0).max(1000), default: 50, doc: "How far V8's heap may grow past what its last full collection kept, in percent (0: V8's own sizing, which lets garbage reach about 4x the live heap on a large machine)" },
  { path: 'http.maxBodyBytes', flag: '--max-body-bytes', env: 'MAX_BODY_BYTES', schema: positiveInt, default: 150 * 1024 * 1024, doc: 'Largest request body accepted, in bytes' },
  { path: 'sockets.maxInitBytes', flag: '--ws-max-init-bytes', env: 'WS_MAX_INIT_BYTES', schema: positiveInt, default: 16 * 1024, doc: 'graphql-ws: most bytes a connection may send before its connection_ack (connection_init and its connectionParams); after the ack a message may be up to --max-body-bytes' },
  { path: 'sockets.maxSubscriptionsPerConnection', flag: '--max-subscriptions-per-connection', env: 'MAX_SUBSCRIPTIONS_PER_CONNECTION', schema: positiveInt, default: 100, doc: 'Most live subscriptions on one graphql-ws connection (more: TOO_MANY_SUBSCRIPTIONS on that operation)' },
  { path: 'sockets.maxSubscriptionsPerKey', flag: '--max-subscriptions-per-key', env: 'MAX_SUBSCRIPTIONS_PER_KEY', schema: positiveInt, default: 1000, doc: 'Most live subscriptions per API key (per client IP without keys) over graphql-ws, SSE and /ws/{id} together' },
  { path: 'http.fastPath', flag: '--graphql-fast-path', env: 'GRAPHQL_FAST_PATH', schema: bool, default: true, doc: 'Run plain JSON GraphQL POSTs and REST routes without the Fetch-API layer, queries and mutations with graphql-jit (false: everything through graphql-yoga and graphql-js)' },
  { path: 'http.resultCache', flag: '--graphql-result-cache', env: 'GRAPHQL_RESULT_CACHE', schema: bool, default: true, doc: "With the fast path: answer a query made only of session state (sessions, session) again from the bytes made last time, while no session changed since (per API key's view, variables and media type; false: execute every time)" },
  { path: 'http.operationsPerTurn', flag: '--operations-per-turn', env: 'OPERATIONS_PER_TURN', schema: nonNegativeInt, default: 32, doc: 'With the fast path: most GraphQL and REST operations that start executing in one event-loop turn; the rest of a burst waits, in arrival order, for the next turns (0: no limit)' },
  { path: 'openWa.chromiumPath', flag: '--chromium-path', env: 'CHROMIUM_PATH', schema: z.string(), default: '', doc: 'open-wa: the Chromium to drive (empty: PUPPETEER_EXECUTABLE_PATH or /usr/bin/chromium)' },
  { path: 'openWa.startDeadlineMs', flag: '--open-wa-start-deadline-ms', env: 'OPEN_WA_START_DEADLINE_MS', schema: positiveInt, default: 90000, doc: 'open-wa: longest a session may take from start to its first QR or login' },
  { path: 'openWa.licenceKey', flag: '--open-wa-licence-key', env: 'OPEN_WA_LICENCE_KEY', schema: z.string(), default: '', doc: 'open-wa: licence key for the methods that need one (a session config can set its own)' },
  { path: 'baileys.authStateKey', flag: '--auth-state-key', env: 'AUTH_STATE_KEY', schema: authStateKey, default: '', doc: 'Baileys: 32 bytes in base64 (openssl rand -base64 32) that encrypt the stored logins at rest with AES-256-GCM; empty: stored unencrypted (a warning once). A wrong key stops the start' },
  { path: 'baileys.connectTimeoutMs', flag: '--baileys-connect-timeout-ms', env: 'BAILEYS_CONNECT_TIMEOUT_MS', schema: positiveInt, default: 20_000, doc: 'Baileys: longest a connection attempt to WhatsApp may take' },
  { path: 'baileys.reconnectBackoffMs', flag: '--baileys-reconnect-backoff-ms', env: 'BAILEYS_RECONNECT_BACKOFF_MS', schema: msList, default: [1000, 2000, 5000, 10000, 30000], doc: 'Baileys: waits before the n-th reconnect in a row after a lost connection, in ms (comma-separated; the last repeats)' },
  { path: 'baileys.connectAttempts', flag: '--baileys-connect-attempts', env: 'BAILEYS_CONNECT_ATTEMPTS', schema: positiveInt, default: 3, doc: 'Baileys: failed connection attempts in a row, before a session was ever connected since its start, after which it is FAILED' },
  { path: 'baileys.maxReconnects', flag: '--baileys-max-reconnects', env: 'BAILEYS_MAX_RECONNECTS', schema: nonNegativeInt, default: 10, doc: 'Baileys: lost connections in a row that are reconnected; the next one fails the session' },
  { path: 'baileys.historyPerChat', flag: '--baileys-history-per-chat', env: 'BAILEYS_HISTORY_PER_CHAT', schema: positiveInt, default: 1000, doc: 'Baileys: messages kept per chat from its events (the newest)' },
  { path: 'baileys.wsUrl', flag: '--baileys-ws-url', env: 'BAILEYS_WS_URL', schema: z.string(), default: '', doc: "Baileys: the WhatsApp WebSocket endpoint (empty: Baileys' own, wss://web.whatsapp.com/ws/chat; tests give a local one)" },
  { path: 'graphiql', flag: '--graphiql', env: 'GRAPHIQL', schema: bool, default: true, doc: 'Serve GraphiQL on /graphql to browsers' },
  { path: 'webhooks.allowCidrs', flag: '--webhook-allow-cidrs', env: 'WEBHOOK_ALLOW_CIDRS', schema: cidrList, default: '', doc: 'CIDRs webhooks may reach although private or loopback (comma-separated)' },
  { path: 'webhooks.retryScheduleMs', flag: '--webhook-retry-schedule', env: 'WEBHOOK_RETRY_SCHEDULE', schema: msList, default: [5000, 300000, 1800000, 7200000, 18000000, 36000000, 36000000], doc: 'Webhook retry delays in ms (comma-separated)' },
  { path: 'webhooks.timeoutMs', flag: '--webhook-timeout-ms', env: 'WEBHOOK_TIMEOUT_MS', schema: positiveInt, default: 15000, doc: 'Longest a webhook delivery attempt may take, in ms' },
  { path: 'webhooks.concurrency', flag: '--webhook-concurrency', env: 'WEBHOOK_CONCURRENCY', schema: positiveInt, default: 4, doc: 'Deliveries in flight at once per webhook endpoint' },
  { path: 'webhooks.disableAfterMs', flag: '--webhook-disable-after-ms', env: 'WEBHOOK_DISABLE_AFTER_MS', schema: positiveInt, default: 5 * 24 * 3600 * 1000, doc: 'A webhook whose deliveries keep failing for this long (ms) is disabled' },
  { path: 'webhooks.claimLeaseMs', flag: '--webhook-claim-lease-ms', env: 'WEBHOOK_CLAIM_LEASE_MS', schema: positiveInt, default: 10000, doc: 'PostgreSQL: how long a delivery a server took stays its own without renewal (a server that died leaves its deliveries in flight to others after this)' },
  { path: 'webhooks.maxMediaBytes', flag: '--webhook-max-media-bytes', env: 'WEBHOOK_MAX_MEDIA_BYTES', schema: positiveInt, default: 5 * 1024 * 1024, doc: 'Largest media a webhook registered with includeMedia gets embedded as media.dataUrl in message deliveries (bytes); larger media keep only their url' },
  { path: 'webhooks.pollIntervalMs', flag: '--webhook-poll-interval-ms', env: 'WEBHOOK_POLL_INTERVAL_MS', schema: positiveInt, default: 1000, doc: 'How often the delivery worker looks for due retries, in ms' },
  { path: 'logFormat', flag: '--log-format', env: 'LOG_FORMAT', schema: z.enum(['auto', 'json', 'pretty']), default: 'auto', doc: 'Log lines as JSON, pretty, or auto (pretty when stdout is a terminal)' },
  { path: 'metrics.auth', flag: '--metrics-auth', env: 'METRICS_AUTH', schema: bool, default: true, doc: 'Ask for the API key on /metrics as on the API (when keys are configured)' },
  { path: 'dashboard', flag: '--dashboard', env: 'DASHBOARD', schema: bool, default: true, doc: 'Serve the web dashboard at /' },
  { path: 'auth.apiKeys', flag: '--api-key', env: 'API_KEY', schema: keyList, default: [] as string[], doc: 'Admin API key(s), comma-separated: plain or sha512:<hex>; none: the API is open (loopback only unless --host)' },
  { path: 'auth.allowNoKey', flag: '--allow-no-key', env: 'ALLOW_NO_KEY', schema: bool, default: false, doc: 'Start without any API key although --host is not a loopback address (the API is then open to the network); without it the server refuses to start' },
  { path: 'auth.healthOpen', flag: '--health-open', env: 'HEALTH_OPEN', schema: bool, default: true, doc: 'Serve /health and GET /api/v1/health without an API key' },
  { path: 'http.corsOrigins', flag: '--cors-origins', env: 'CORS_ORIGINS', schema: originList, default: [] as string[], doc: 'Web origins (comma-separated, e.g. https://app.example.com) whose pages may call the API and open its sockets; none: only pages served by this server' },
  { path: 'http.allowedHosts', flag: '--allowed-hosts', env: 'ALLOWED_HOSTS', schema: hostList, default: [] as string[], doc: 'Without an API key, Host names accepted besides localhost, IP addresses and --host (comma-separated); others are refused (DNS rebinding)' },
  { path: 'introspection', flag: '--introspection', env: 'INTROSPECTION', schema: bool, default: process.env.NODE_ENV !== 'production', doc: 'Allow GraphQL introspection (default: off when NODE_ENV=production)' },
  { path: 'rateLimit.enabled', flag: '--rate-limit', env: 'RATE_LIMIT', schema: bool, default: true, doc: 'Apply the rate limits below' },
  { path: 'rateLimit.windowMs', flag: '--rate-limit-window-ms', env: 'RATE_LIMIT_WINDOW_MS', schema: positiveInt, default: 60_000, doc: 'Rate-limit window in ms (the limits below count within it)' },
  { path: 'rateLimit.general', flag: '--rate-limit-general', env: 'RATE_LIMIT_GENERAL', schema: positiveInt, default: 100, doc: 'Operations per window per API key (or client IP)' },
  { path: 'rateLimit.sessionCreate', flag: '--rate-limit-session-create', env: 'RATE_LIMIT_SESSION_CREATE', schema: positiveInt, default: 5, doc: 'Session creations per window per API key (or client IP)' },
  { path: 'rateLimit.messaging', flag: '--rate-limit-messaging', env: 'RATE_LIMIT_MESSAGING', schema: positiveInt, default: 30, doc: 'Sends per window per session per API key (or client IP)' },
  { path: 'rateLimit.maxClients', flag: '--rate-limit-max-clients', env: 'RATE_LIMIT_MAX_CLIENTS', schema: positiveInt, default: 10_000, doc: 'Most counters the in-memory rate-limit store keeps (least recently used go first)' },
  { path: 'armor.maxDepth', flag: '--max-query-depth', env: 'MAX_QUERY_DEPTH', schema: positiveInt, default: 12, doc: 'Deepest GraphQL selection accepted' },
  { path: 'armor.maxAliases', flag: '--max-query-aliases', env: 'MAX_QUERY_ALIASES', schema: nonNegativeInt, default: 50, doc: 'Most aliases in one GraphQL document (each aliased send still counts against the rate limits)' },
  { path: 'armor.maxTokens', flag: '--max-query-tokens', env: 'MAX_QUERY_TOKENS', schema: positiveInt, default: 2000, doc: 'Most tokens in one GraphQL document' },
  { path: 'armor.maxCost', flag: '--max-query-cost', env: 'MAX_QUERY_COST', schema: positiveInt, default: 50_000, doc: 'Highest estimated cost of one GraphQL operation (graphql-armor: page sizes multiply the cost of what they select)' },
  { path: 'armor.maxDirectives', flag: '--max-query-directives', env: 'MAX_QUERY_DIRECTIVES', schema: nonNegativeInt, default: 20, doc: 'Most directives in one GraphQL document' },
  { path: 'limits.maxStringLength', flag: '--max-string-length', env: 'MAX_STRING_LENGTH', schema: positiveInt, default: 65_536, doc: 'Longest string argument (media data is bounded by the media sizes instead)' },
  { path: 'limits.maxQueryLength', flag: '--max-query-length', env: 'MAX_QUERY_LENGTH', schema: positiveInt, default: 1_048_576, doc: 'Longest GraphQL document text, in characters, refused before parsing (media go in variables)' },
  { path: 'limits.maxListLength', flag: '--max-list-length', env: 'MAX_LIST_LENGTH', schema: positiveInt, default: 1024, doc: 'Longest list argument (participants, ids)' },
  { path: 'sendQueue.minGapMs', flag: '--send-min-gap-ms', env: 'SEND_MIN_GAP_MS', schema: nonNegativeInt, default: 1000, doc: 'Least time between two sends of one session; bursts wait their turn' },
  { path: 'sendQueue.jitterMs', flag: '--send-jitter-ms', env: 'SEND_JITTER_MS', schema: nonNegativeInt, default: 500, doc: 'Random extra wait of up to this many ms between two sends' },
  { path: 'sendQueue.maxQueued', flag: '--send-queue-max', env: 'SEND_QUEUE_MAX', schema: positiveInt, default: 100, doc: 'Most sends waiting per session (more: RATE_LIMITED)' },
] as const;

type Setting = (typeof settings)[number];

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** '' = SQLite under dataDir. */
  databaseUrl: string;
  /** url '' = no Redis: one node. */
  redis: { url: string; prefix: string };
  maxSessions: number;
  history: { retentionDays: number; pruneIntervalMs: number; mediaRetentionDays: number };
  engine: 'sandbox' | 'open-wa' | 'baileys';
  cluster: { nodeId: string; advertiseUrl: string; leaseTtlMs: number; sharedDataDir: boolean; secret: string };
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  sessions: { qrTimeout: number; authTimeout: number; waitForQrMs: number };
  sandbox: SandboxSettings;
  media: { maxImageBytes: number; maxFileBytes: number };
  memory: { heapGrowthPercent: number };
  http: { maxBodyBytes: number; fastPath: boolean; resultCache: boolean; operationsPerTurn: number; corsOrigins: string[]; allowedHosts: string[] };
  sockets: { maxInitBytes: number; maxSubscriptionsPerConnection: number; maxSubscriptionsPerKey: number };
  openWa: { chromiumPath: string; startDeadlineMs: number; licenceKey: string };
  baileys: {
    authStateKey: string;
    connectTimeoutMs: number;
    reconnectBackoffMs: number[];
    connectAttempts: number;
    maxReconnects: number;
    historyPerChat: number;
    wsUrl: string;
  };
  graphiql: boolean;
  webhooks: {
    allowCidrs: string;
    retryScheduleMs: number[];
    timeoutMs: number;
    concurrency: number;
    disableAfterMs: number;
    pollIntervalMs: number;
    claimLeaseMs: number;
    maxMediaBytes: number;
  };
  logFormat: 'auto' | 'json' | 'pretty';
  metrics: { auth: boolean };
  dashboard: boolean;
  auth: { apiKeys: string[]; allowNoKey: boolean; healthOpen: boolean };
  introspection: boolean;
  rateLimit: { enabled: boolean; windowMs: number; general: number; sessionCreate: number; messaging: number; maxClients: number };
  armor: { maxDepth: number; maxAliases: number; maxTokens: number; maxCost: number; maxDirectives: number };
  limits: { maxStringLength: number; maxListLength: number; maxQueryLength: number };
  sendQueue: { minGapMs: number; jitterMs: number; maxQueued: number };
}

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

export class ConfigError extends Error {}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

function getPath(source: unknown, path: string): unknown {
  let node = source;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function parseSetting(setting: Setting, raw: unknown, origin: string): unknown {
  const result = (setting.schema as z.ZodType).safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`invalid value ${JSON.stringify(raw)} for ${origin}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

/** Defaults, then environment, then explicit overrides (CLI flags or a test's object). */
export function loadConfig(overrides: DeepPartial<Config> = {}, env: NodeJS.ProcessEnv = {}): Config {
  const out: Record<string, unknown> = {};
  for (const setting of settings) {
    let value: unknown = setting.default;
    const fromEnv = env[setting.env];
    if (fromEnv !== undefined && fromEnv !== '') value = parseSetting(setting, fromEnv, setting.env);
    const fromOverride = getPath(overrides, setting.path);
    if (fromOverride !== undefined) value = parseSetting(setting, fromOverride, setting.flag);
    setPath(out, setting.path, value);
  }
  const config = out as unknown as Config;
  config.dataDir = resolve(config.dataDir);
  checkCluster(config);
  return config;
}

/** Cluster mode is --node-id with --database-url; the settings that only make sense together are checked here. */
function checkCluster(config: Config): void {
  const c = config.cluster;
  if (!c.nodeId) return;
  if (!config.databaseUrl) throw new ConfigError('--node-id needs --database-url: the nodes of a cluster share one PostgreSQL database (SQLite never clusters)');
  if (c.secret && c.secret.length < 16) throw new ConfigError('--cluster-secret must be at least 16 characters');
  if (!c.secret && config.auth.apiKeys.length > 0) throw new ConfigError('--cluster-secret is required in a cluster with an API key: it authenticates the calls between nodes');
}

/** `--flag value` and `--flag=value`; `--help` returns null. */
export function parseArgs(argv: string[]): DeepPartial<Config> | null {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return null;
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const setting = settings.find((s) => s.flag === flag);
    if (!setting) throw new ConfigError(`unknown option ${flag} (see --help)`);
    let raw: string | undefined;
    if (eq !== -1) raw = arg.slice(eq + 1);
    else {
      raw = argv[i + 1];
      if (raw === undefined || raw.startsWith('--')) throw new ConfigError(`option ${flag} needs a value`);
      i++;
    }
    setPath(out, setting.path, parseSetting(setting, raw, flag));
  }
  return out as DeepPartial<Config>;
}

export function helpText(): string {
  const rows = settings.map((s) => `  ${`${s.flag} <value>`.padEnd(36)} ${s.env.padEnd(28)} ${s.doc} (default ${JSON.stringify(s.default)})`);
  return ['Usage: npm start -- [options]', '', `  ${'option'.padEnd(36)} ${'environment'.padEnd(28)} meaning`, ...rows].join('\n');
}
