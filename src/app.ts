import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { createYoga } from 'graphql-yoga';
import { routeTable } from '../rest-compat/route-table.js';
import { REST_BASE } from '../rest-compat/route.js';
import { createRestHandler } from '../rest-compat/runner.js';
import { secureSchema } from './auth/access-policy.js';
import { ApiKeyService } from './auth/api-keys.js';
import { ClusterNode } from './cluster/cluster-node.js';
import { Authenticator, nodeHeader } from './auth/authenticator.js';
import { LiveAccess } from './auth/live-access.js';
import { can } from './auth/principal.js';
import { RateLimiter } from './auth/rate-limiter.js';
import { ConfigError, loadConfig, type Config, type DeepPartial } from './config.js';
import { errorHeaders, httpStatusFor, storeFailureOf, type ErrorCode } from './errors.js';
import type { GraphQLContext, Services } from './context.js';
import { AuthCipher, AuthKeyError, checkAuthStore, parseAuthStateKey, type BaileysModule } from './engine/baileys/auth-store.js';
import { createBaileysEngine } from './engine/baileys/baileys-engine.js';
import { baileysSql } from './engine/baileys/sql.js';
import { createOpenWaEngine } from './engine/open-wa/open-wa-engine.js';
import { createSandboxEngine } from './engine/sandbox/sandbox-engine.js';
import { EngineRegistry } from './engine/registry.js';
import { EventBus } from './events/bus.js';
import { RedisCluster } from './cluster/redis-cluster.js';
import { createLogger, type Logger } from './logger.js';
import { useArmor } from './plugins/use-armor.js';
import { authContext, UNAUTHENTICATED_MESSAGE, useAuth, WWW_AUTHENTICATE } from './plugins/use-auth.js';
import { createUncaughtReporter, requestScope, type UncaughtKind } from './http/boundary.js';
import { createGraphQLHttpHandler, graphqlErrorBody } from './http/graphql-http.js';
import { isSimpleWrite, OriginPolicy } from './http/origin-policy.js';
import { GraphQLRunner } from './http/graphql-runner.js';
import { ResultCache } from './http/result-cache.js';
import { TurnGate } from './http/turn-gate.js';
import { createSockets } from './http/sockets.js';
import { MessagingService } from './messaging/messaging-service.js';
import { AccountService } from './messaging/account-service.js';
import { isDashboardPath, serveDashboard } from './observability/dashboard-files.js';
import { graphiqlOptions, renderGraphiQLPage } from './observability/graphiql-page.js';
import { applyHeapGrowth, collectSoon } from './observability/heap-growth.js';
import { hadBigBody, releaseBodyMedia } from './http/read-body.js';
import { setMediaDecodeLimit } from './http/json-worker.js';
import { noteRoute, observeHttp, requestLogReport } from './observability/http-log.js';
import { Metrics } from './observability/metrics.js';
import { createMaskError, useErrorCodes } from './plugins/use-error-codes.js';
import { useRateLimit } from './plugins/use-rate-limit.js';
import { useCommitBeforeAnswer } from './plugins/use-commit-before-answer.js';
import { DocumentRegistry, useDocumentRegistry } from './plugins/use-document-registry.js';
import { useJit } from './plugins/use-jit.js';
import { useSharedEventExecution } from './plugins/use-shared-event-execution.js';
import { requestIdFrom, requestIdOf, useRequestId } from './plugins/use-request-id.js';
import { useOperationReports } from './plugins/use-operation-reports.js';
import type { OperationReport } from './observability/operation.js';
import { schema } from './schema/index.js';
import { ServerService } from './server-service.js';
import { SessionManager } from './sessions/session-manager.js';
import { openAnyStore } from './store/database.js';
import { HistoryPruner } from './store/retention.js';
import { PgHistoryPruner } from './store/pg/pg-retention.js';
import { freeBytesAt, probeWrite, StorageState, walInStep, walReclaim } from './store/storage-state.js';
import { SessionsRepo } from './store/sessions-repo.js';
import { claimNodeId, DeliveryWorker } from './webhooks/delivery-worker.js';
import { Outbox } from './webhooks/outbox.js';
import { SsrfGuard } from './webhooks/ssrf-guard.js';
import { WebhookService } from './webhooks/webhook-service.js';
import { WebhookStore } from './webhooks/webhook-store.js';
import { PgWebhookStore } from './webhooks/pg-webhook-store.js';
import { version } from './version.js';

export interface App {
  readonly config: Config;
  readonly services: Services;
  /** Listen on `port` (0 picks a free one; default from config) and resolve with the bound address. */
  start(port?: number): Promise<{ port: number; url: string }>;
  stop(): Promise<void>;
  /** Logs and counts an error no handler caught (src/main.ts routes the process's handlers here). */
  reportUncaught(kind: Exclude<UncaughtKind, 'request'>, error: unknown): void;
}

export interface BuildOptions {
  logger?: Logger;
  /** Baileys' module in place of the package (tests: a fake socket where no WhatsApp is reachable). */
  loadBaileys?: () => Promise<BaileysModule>;
}

export async function buildApp(overrides: DeepPartial<Config> | Config = {}, options: BuildOptions = {}): Promise<App> {
  const config = loadConfig(overrides as DeepPartial<Config>);
  // The same bound as parseMediaDataUrl's first size check, for the largest media kind.
  setMediaDecodeLimit(Math.floor(Math.max(config.media.maxImageBytes, config.media.maxFileBytes) * 1.1 + 1024));
  applyHeapGrowth(config.memory.heapGrowthPercent);
  const logger = options.logger ?? createLogger(config.logLevel, {}, undefined, config.logFormat);
  const store = await openAnyStore(config, {
    // A full disk is the storage state's to report, once per episode (the checkpointer retries every interval).
    onCheckpointError: (message) => (/SQLITE_FULL|disk is full/i.test(message) ? undefined : logger.warn('SQLite checkpoint failed', { err: message })),
    // Set on every connection as it opens: a setting made after the first connect would miss it (it did).
    idleInTransactionMs: config.cluster.nodeId ? config.cluster.leaseTtlMs : 0,
  });
  let storage: StorageState;
  let pruner: HistoryPruner | PgHistoryPruner;
  if (store.kind === 'sqlite') {
    const idle = () => !store.batch.pending;
    const freeBytes = freeBytesAt(config.dataDir);
    storage = new StorageState(logger, probeWrite(store.sqlite, idle), freeBytes, 1000, walReclaim(store.sqlite, idle));
    const inStep = walInStep(store.sqlite, freeBytes);
    store.batch.onOutcome = (error) => (error ? storage.failed(error) : (inStep(), storage.wrote()));
    pruner = new HistoryPruner(store.sqlite, store.batch, config.history, (message) => logger.warn('history pruning failed', { err: message }));
  } else {
    // PostgreSQL: a full disk (SQLSTATE 53100) is learnt from the commits; there is no probe write of our own.
    storage = new StorageState(logger, () => false);
    store.batch.onOutcome = (error) => (error ? storage.failed(error) : storage.wrote());
    pruner = new PgHistoryPruner(store.batch, config.history, (message) => logger.warn('history pruning failed', { err: message }));
  }
  // Baileys' stored logins: a key that cannot open them stops the start here, before any session runs.
  let authKey: Buffer | null;
  let baileysWarned = false;
  try {
    authKey = parseAuthStateKey(config.baileys.authStateKey);
    const baileysSessions = await checkAuthStore(baileysSql(store), new AuthCipher(authKey));
    if (baileysSessions > 0 && !authKey) {
      baileysWarned = true;
      logger.warn('Baileys logins are stored unencrypted: set --auth-state-key (AUTH_STATE_KEY, 32 bytes base64) to encrypt them at rest', { sessions: baileysSessions });
    }
  } catch (error) {
    await store.close();
    if (error instanceof AuthKeyError) throw new ConfigError(error.message);
    throw error;
  }
  const bus = new EventBus(logger);
  const engines = new EngineRegistry({
    sandbox: () => createSandboxEngine({ store, settings: config.sandbox }),
    'open-wa': () =>
      createOpenWaEngine({
        logger: logger.child({ engine: 'open-wa' }),
        settings: {
          startDeadlineMs: config.openWa.startDeadlineMs,
          ...(config.openWa.chromiumPath ? { executablePath: config.openWa.chromiumPath } : {}),
          ...(config.openWa.licenceKey ? { licenceKey: config.openWa.licenceKey } : {}),
        },
      }),
    baileys: () => {
      const { authStateKey: _key, ...settings } = config.baileys;
      // The start-up check above warned already when Baileys sessions exist; a first one created later warns once here.
      return createBaileysEngine({
        store,
        logger: logger.child({ engine: 'baileys' }),
        authKey,
        settings,
        warned: baileysWarned,
        ...(options.loadBaileys ? { load: options.loadBaileys } : {}),
      });
    },
  });
  const sessions = new SessionManager({
    repo: new SessionsRepo(store.db, store.kind === 'postgres' ? store.batch : undefined),
    bus,
    engines,
    logger,
    dataDir: config.dataDir,
    maxSessions: config.maxSessions,
    defaults: { engine: config.engine, qrTimeout: config.sessions.qrTimeout, authTimeout: config.sessions.authTimeout },
    waitForQrMs: config.sessions.waitForQrMs,
  });
  // --redis-url: events, rate limits and API keys shared with the other nodes (src/cluster/).
  const redis = config.redis.url ? new RedisCluster(config, logger) : null;
  const server = new ServerService(store, sessions, config, storage, redis ? () => redis.check() : undefined);
  const webhookStore = store.kind === 'sqlite' ? new WebhookStore(store.sqlite, store.batch) : await PgWebhookStore.load(store);
  const webhookGuard = new SsrfGuard(config.webhooks.allowCidrs);
  const webhookWorker = new DeliveryWorker(webhookStore, webhookGuard, config.webhooks, logger, (outcome, seconds) =>
    metrics.webhookDelivery(outcome, seconds),
    claimNodeId(config),
    config.cluster.nodeId,
  );
  const webhooks = new WebhookService({
    store: webhookStore,
    // PostgreSQL: the worker reads committed rows only, so it looks once the outbox's rows are committed.
    outbox: new Outbox(
      webhookStore,
      store.kind === 'sqlite'
        ? () => webhookWorker.kick()
        : () => void store.batch.committed().then(() => webhookWorker.kick(), () => undefined),
    ),
    worker: webhookWorker,
    guard: webhookGuard,
    sessions,
    bus,
    timeoutMs: config.webhooks.timeoutMs,
  });
  // Attached before sessions.init(), so the events of restored sessions reach the outbox too.
  const detachWebhooks = webhooks.attach();
  const metrics = new Metrics({ sessions: () => sessions.list(), bus, storage: () => storage });
  const apiKeys = new ApiKeyService(store.db, config.auth.apiKeys);
  await apiKeys.init();
  const auth = new Authenticator(apiKeys);
  const live = new LiveAccess(bus, config.sockets.maxSubscriptionsPerKey);
  apiKeys.onRevoked((id) => live.revoked(id));
  const rateLimiter = new RateLimiter(config.rateLimit, redis?.rateStore);
  const messaging = new MessagingService(sessions, bus, config);
  const accounts = new AccountService(sessions, config);
  // Cluster mode: --node-id on PostgreSQL. The node joins (and acquires sessions) once it listens.
  const cluster =
    config.cluster.nodeId && store.kind === 'postgres'
      ? new ClusterNode({
          nodeId: config.cluster.nodeId,
          leaseTtlMs: config.cluster.leaseTtlMs,
          secret: config.cluster.secret,
          maxSessions: config.maxSessions,
          sharedDataDir: config.cluster.sharedDataDir,
          pool: store.pool,
          batch: store.batch,
          sessions,
          sendQueue: () => messaging.sendQueue,
          logger,
          maxBodyBytes: config.http.maxBodyBytes,
          // Without Redis no node announces its webhook changes: each looks whether the registry changed, every beat.
          everyBeat:
            !redis && webhookStore instanceof PgWebhookStore
              ? () => webhookStore.refreshIfChanged().catch((error: unknown) => logger.warn('webhooks not reloaded', { err: String(error) }))
              : undefined,
        })
      : null;
  if (cluster) {
    sessions.attachCluster(cluster);
    metrics.countsFrom('wa_gateway_cluster_events_total', 'Cluster: engine calls forwarded to other nodes, internal requests made, sessions acquired, leases lost, calls retried at a new owner', 'kind', () => ({ ...cluster.counters }));
    metrics.gaugeFrom('wa_gateway_cluster_sessions_owned', 'Cluster: sessions this node drives now', () => sessions.localCount());
  }
  webhookWorker.mediaOf = (sessionId, messageId) => messaging.media(sessionId, messageId);
  const services: Services = { config, logger, bus, sessions, server, messaging, accounts, metrics, webhooks, apiKeys, auth, live, rateLimiter, cluster };
  // Without any API key the API is open: then it listens on loopback only, unless --host says otherwise.
  if (!config.host) config.host = apiKeys.enabled ? '0.0.0.0' : '127.0.0.1';
  if (!apiKeys.enabled) {
    logger.warn('NO API KEY CONFIGURED: anyone who can reach this server controls every session. Set --api-key (API_KEY).', { host: config.host });
  }

  const documents = new DocumentRegistry();
  const requestLog = requestLogReport(logger);
  const reportOperation: OperationReport = (context, op, outcome, seconds) => {
    metrics.graphqlOperation(op.name, op.type, outcome, seconds);
    requestLog(context, op, outcome, seconds);
  };
  const maskError = createMaskError(logger);
  const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
    schema: secureSchema(schema),
    graphqlEndpoint: '/graphql',
    landingPage: false,
    // CORS is the HTTP edge's (OriginPolicy): headers for --cors-origins only.
    cors: false,
    // The HTTP edge reads and limits bodies (--max-body-bytes) before yoga sees them.
    maxRequestBodySize: false,
    graphiql: config.graphiql ? graphiqlOptions : false,
    // The renderer is loaded on the first GraphiQL page: it is ~0.4 s of start-up otherwise.
    renderGraphiQL: (options) => renderGraphiQLPage(options as Record<string, unknown>),
    logging: false,
    maskedErrors: { maskError },
    context: (init: Record<string, unknown>) => ({
      services,
      requestId: typeof init.requestId === 'string' ? init.requestId : init.request ? requestIdOf(init.request as Request) : requestIdFrom(new Headers()),
      ...authContext(auth, init),
    }),
    plugins: [
      config.http.fastPath && useJit(),
      useRequestId(),
      useErrorCodes(),
      useAuth(auth),
      useArmor({ armor: config.armor, limits: config.limits, introspection: config.introspection }),
      useRateLimit(rateLimiter),
      useOperationReports(reportOperation),
      useCommitBeforeAnswer(store.batch),
      useDocumentRegistry(documents),
      // Last: it ends a shared subscription's onSubscribe chain, masking in place of yoga's per-subscriber wrappers.
      useSharedEventExecution(maskError),
    ],
  });
  const gate = new TurnGate(config.http.operationsPerTurn);
  metrics.turnGate(() => ({ deferred: gate.deferred, queued: gate.queued }));
  const runner = new GraphQLRunner(yoga, documents, auth, maskError, {
    gate,
    committed: () => store.batch.committed(),
    observe: (path) => metrics.graphqlPath(path),
    report: reportOperation,
    cache: config.http.resultCache
      ? { results: new ResultCache(schema, { sessions: () => sessions.version }), limiter: rateLimiter }
      : undefined,
  });
  const graphqlHttp = createGraphQLHttpHandler({
    runner,
    yoga,
    maxBodyBytes: config.http.maxBodyBytes,
    maxQueryLength: config.limits.maxQueryLength,
    fastPath: config.http.fastPath,
    logger,
    refuse: sendJson,
    observe: (path) => metrics.graphqlPath(path),
  });

  const rest = createRestHandler({ routes: routeTable, yoga, runner: config.http.fastPath ? runner : undefined, schema, maxBodyBytes: config.http.maxBodyBytes, logger, version });
  const origins = new OriginPolicy({
    corsOrigins: config.http.corsOrigins,
    allowedHosts: config.http.allowedHosts,
    bindHost: config.host,
    open: () => !apiKeys.enabled,
  });
  const reportUncaught = createUncaughtReporter(logger, metrics);
  const isGraphqlPath = (path: string) => path === '/graphql' || path.startsWith('/graphql/');
  const isRestPath = (path: string) => path === REST_BASE || path.startsWith(`${REST_BASE}/`);
  /** An error answer in the shape of the route: GraphQL's `errors` on /graphql, the REST envelope elsewhere. */
  const refuse = (req: IncomingMessage, res: ServerResponse, code: ErrorCode, message: string, details: Record<string, unknown> = {}) => {
    const status = httpStatusFor(code);
    const path = pathOf(req);
    for (const [name, value] of Object.entries(errorHeaders(code))) res.setHeader(name, value);
    sendJson(req, res, status, isGraphqlPath(path) ? graphqlErrorBody(code, message, details) : { success: false, error: { code, message, details } });
  };
  // Refused before the body is read: the connection goes with the answer, so an unread body costs nothing.
  const refuseUnread = (req: IncomingMessage, res: ServerResponse, code: ErrorCode, message: string, details: Record<string, unknown> = {}) => {
    if (!req.complete) {
      res.setHeader('connection', 'close');
      res.once('finish', () => setTimeout(() => req.socket.destroy(), 1000).unref());
    }
    refuse(req, res, code, message, details);
  };
  const health = async (req: IncomingMessage, res: ServerResponse) => {
    noteRoute(req, pathOf(req) === '/health' ? '/health' : `${REST_BASE}/health`);
    if (!config.auth.healthOpen && !auth.record(auth.fromNodeRequest(req))) {
      res.setHeader('www-authenticate', WWW_AUTHENTICATE);
      return refuse(req, res, 'UNAUTHENTICATED', UNAUTHENTICATED_MESSAGE);
    }
    const report = await server.health();
    // A node without its lease drives nothing: unhealthy, so a load balancer sends its callers elsewhere.
    const lease = cluster?.health();
    const healthy = report.status === 'healthy' && lease?.lease !== 'lost';
    sendJson(req, res, healthy ? 200 : 503, {
      success: true,
      data: { ...report, status: healthy ? 'healthy' : 'unhealthy', timestamp: new Date(report.timestamp).toISOString(), ...(lease ? { cluster: lease } : {}) },
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = pathOf(req);
    const host = origins.host(req);
    if (host === 'malformed') return refuseUnread(req, res, 'BAD_REQUEST', 'the Host header is malformed');
    if (host === 'foreign') {
      return refuseUnread(req, res, 'FORBIDDEN', `Host '${req.headers.host}' is not served without an API key (localhost, an IP address, --host or --allowed-hosts)`, { reason: 'HOST' });
    }
    if (cluster?.isInternalPath(path)) return cluster.handleInternal(req, res, path);
    if (origins.cors(req, res)) return; // a preflight from a listed origin, answered
    const safe = req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS';
    const api = isRestPath(path) || isGraphqlPath(path);
    if (api && !safe) {
      if (!origins.originAllowed(req)) {
        return refuseUnread(req, res, 'FORBIDDEN', `requests from the web origin ${req.headers.origin} are not accepted (see --cors-origins)`, { reason: 'ORIGIN', origin: req.headers.origin });
      }
      if (isSimpleWrite(req)) {
        return refuseUnread(req, res, 'UNSUPPORTED_MEDIA_TYPE', `the request body must be JSON (Content-Type: application/json), not ${req.headers['content-type']}`, {
          contentType: req.headers['content-type'],
        });
      }
      // Before the body is read: a caller without a valid key costs only its headers.
      if (auth.enabled && !auth.fromNodeRequest(req)) {
        auth.record(null);
        res.setHeader('www-authenticate', WWW_AUTHENTICATE);
        return refuseUnread(req, res, 'UNAUTHENTICATED', UNAUTHENTICATED_MESSAGE);
      }
    }
    if ((path === '/health' || path === `${REST_BASE}/health`) && (req.method === 'GET' || req.method === 'HEAD')) return health(req, res);
    if (isRestPath(path)) return rest(req, res);
    if (isGraphqlPath(path)) {
      noteRoute(req, '/graphql');
      return graphqlHttp(req, res);
    }
    // --metrics-auth (config.metrics.auth): the auth layer asks for the API key here as on /graphql.
    if (path === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      noteRoute(req, '/metrics');
      if (config.metrics.auth && !auth.record(auth.fromNodeRequest(req))) {
        res.setHeader('www-authenticate', WWW_AUTHENTICATE);
        return refuse(req, res, 'UNAUTHENTICATED', UNAUTHENTICATED_MESSAGE);
      }
      const text = await metrics.text();
      res.writeHead(200, { 'content-type': metrics.contentType(), 'x-request-id': requestIdOfNode(req) });
      res.end(req.method === 'HEAD' ? undefined : text);
      return;
    }
    if (config.dashboard && isDashboardPath(path) && (req.method === 'GET' || req.method === 'HEAD')) {
      noteRoute(req, '/dashboard');
      serveDashboard(req, res, path);
      return;
    }
    refuse(req, res, 'NOT_FOUND', `No route for ${req.method} ${path}`);
  };

  const httpServer = createServer((req, res) => {
    const note = observeHttp(req, res, logger, metrics);
    res.once('close', () => {
      releaseBodyMedia(req);
      if (hadBigBody(req)) collectSoon();
    });
    requestScope.run(note.requestId, () => {
      handle(req, res).catch((error: unknown) => {
        // The boundary: whatever a handler throws ends its own request, never the process.
        const storage = storeFailureOf(error);
        if (storage) return void (res.headersSent ? res.destroy() : refuse(req, res, storage.code, storage.message, storage.details));
        reportUncaught('request', error, note.requestId);
        if (!res.headersSent) refuse(req, res, 'INTERNAL_ERROR', 'Unexpected error.');
        else res.destroy();
      });
    });
  });
  // Bytes node cannot parse as HTTP: an error envelope (never node's or a library's text), then the connection goes.
  httpServer.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // As node's own handler: an answer already written on this socket (say a 401 sent before an unread body) is not
    // followed by a second one when the bytes after it fail to parse.
    if (error.code === 'ECONNRESET' || !socket.writable || (socket as Socket).bytesWritten > 0) return void socket.destroy();
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = JSON.stringify({ success: false, error: { code: 'BAD_REQUEST', message: `the request is not valid HTTP (${STATUS_CODES[status]})`, details: {} } });
    socket.end(rawResponse(status, body));
  });

  const sockets = createSockets({
    yoga,
    auth,
    batch: store.batch,
    live,
    logger,
    maskError,
    limits: {
      maxInitBytes: config.sockets.maxInitBytes,
      maxMessageBytes: config.http.maxBodyBytes,
      maxSubscriptionsPerConnection: config.sockets.maxSubscriptionsPerConnection,
    },
    legacy: {
      bus,
      sessions,
      // `?apiKey=` (or the HTTP headers) at the upgrade; a session outside the key's scope looks unknown.
      authorize: (req) => Boolean(auth.record(auth.fromUpgrade(req))),
      mayRead: (req, sessionId) => can(auth.fromUpgrade(req), sessionId, 'read'),
      holder: (req) => ({ auth: auth.fromUpgrade(req), clientIp: req.socket.remoteAddress ?? 'unknown' }),
    },
  });
  // WebSocket upgrades pass the same Host rule, and a browser's Origin must be this server's or a listed one
  // (browsers apply no CORS to WebSockets: without this, any page the user visits could open one).
  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const requestId = requestIdOfNode(req);
    requestScope.run(requestId, () => {
      try {
        const host = origins.host(req);
        if (host !== 'ok') {
          const body = JSON.stringify({ success: false, error: { code: host === 'malformed' ? 'BAD_REQUEST' : 'FORBIDDEN', message: host === 'malformed' ? 'the Host header is malformed' : `Host '${req.headers.host}' is not served without an API key`, details: {} } });
          return void socket.end(rawResponse(host === 'malformed' ? 400 : 403, body, requestId));
        }
        if (!origins.originAllowed(req)) {
          const body = JSON.stringify({ success: false, error: { code: 'FORBIDDEN', message: `WebSocket connections from the web origin ${req.headers.origin} are not accepted (see --cors-origins)`, details: { reason: 'ORIGIN' } } });
          return void socket.end(rawResponse(403, body, requestId));
        }
        sockets.upgrade(req, socket, head);
      } catch (error) {
        reportUncaught('request', error, requestId);
        socket.destroy();
      }
    });
  });

  // Before the sessions load: the stream is read from here on, so no event after their loading is missed.
  await redis?.attach({
    bus,
    sessions,
    apiKeys,
    metrics,
    committed: () => store.batch.committed(),
    webhooks: webhookStore instanceof PgWebhookStore ? webhookStore : undefined,
  });
  await sessions.init();
  webhookWorker.onStorageFull = (error) => storage.failed(error);
  webhookWorker.start();
  pruner.start();
  let stopped: Promise<void> | null = null;

  return {
    config,
    services,
    reportUncaught: (kind, error) => reportUncaught(kind, error),
    start(port = config.port) {
      return new Promise((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        httpServer.once('error', onError);
        httpServer.listen(port, config.host, () => {
          httpServer.off('error', onError);
          const address = httpServer.address() as AddressInfo;
          const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
          const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
          if (!cluster) return resolve({ port: address.port, url });
          const reach = config.cluster.advertiseUrl || url.replace('//localhost:', '//127.0.0.1:');
          cluster.start(reach).then(() => resolve({ port: address.port, url }), reject);
        });
      });
    },
    stop() {
      stopped ??= (async () => {
        // First: the other nodes take this one's sessions while the rest shuts down.
        await cluster?.leave().catch((error: unknown) => logger.warn('cluster: leaving failed', { err: String(error) }));
        await sockets.close();
        await new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeAllConnections();
        });
        await sessions.stopAll();
        await redis?.close();
        detachWebhooks();
        await webhookWorker.stop();
        await engines.closeAll();
        pruner.stop();
        storage.stop();
        cluster?.close();
        await store.close();
        metrics.close();
      })();
      return stopped;
    },
  };
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0]!;
}

/** observeHttp settled the id and wrote it back into the headers; an upgrade gets one here. */
function requestIdOfNode(req: IncomingMessage): string {
  return requestIdFrom({ get: (name) => nodeHeader(req, name) });
}

/** A whole HTTP/1.1 answer for a raw socket (refused upgrades, unparseable requests). */
function rawResponse(status: number, body: string, requestId: string = randomUUID()): string {
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`
  );
}

function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'x-request-id': requestIdOfNode(req),
  });
  res.end(req.method === 'HEAD' ? undefined : payload);
}
