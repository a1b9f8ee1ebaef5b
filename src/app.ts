import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { createYoga } from 'graphql-yoga';
import { routeTable } from '../rest-compat/route-table.js';
import { createRestHandler, REST_BASE } from '../rest-compat/runner.js';
import { secureSchema } from './auth/access-policy.js';
import { ApiKeyService } from './auth/api-keys.js';
import { Authenticator } from './auth/authenticator.js';
import { can } from './auth/principal.js';
import { RateLimiter } from './auth/rate-limiter.js';
import { loadConfig, type Config, type DeepPartial } from './config.js';
import type { GraphQLContext, Services } from './context.js';
import { createOpenWaEngine } from './engine/open-wa/open-wa-engine.js';
import { createSandboxEngine } from './engine/sandbox/sandbox-engine.js';
import { EngineRegistry } from './engine/registry.js';
import { EventBus } from './events/bus.js';
import { createLogger, type Logger } from './logger.js';
import { useArmor } from './plugins/use-armor.js';
import { authContext, unauthenticatedError, useAuth, WWW_AUTHENTICATE } from './plugins/use-auth.js';
import { createGraphQLHttpHandler } from './http/graphql-http.js';
import { GraphQLRunner } from './http/graphql-runner.js';
import { ResultCache } from './http/result-cache.js';
import { TurnGate } from './http/turn-gate.js';
import { createSockets } from './http/sockets.js';
import { MessagingService } from './messaging/messaging-service.js';
import { isDashboardPath, serveDashboard } from './observability/dashboard-files.js';
import { applyHeapGrowth } from './observability/heap-growth.js';
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
import { openStore } from './store/database.js';
import { HistoryPruner } from './store/retention.js';
import { freeBytesAt, probeWrite, StorageState } from './store/storage-state.js';
import { SessionsRepo } from './store/sessions-repo.js';
import { DeliveryWorker } from './webhooks/delivery-worker.js';
import { Outbox } from './webhooks/outbox.js';
import { SsrfGuard } from './webhooks/ssrf-guard.js';
import { WebhookService } from './webhooks/webhook-service.js';
import { WebhookStore } from './webhooks/webhook-store.js';
import { version } from './version.js';

export interface App {
  readonly config: Config;
  readonly services: Services;
  /** Listen on `port` (0 picks a free one; default from config) and resolve with the bound address. */
  start(port?: number): Promise<{ port: number; url: string }>;
  stop(): Promise<void>;
}

export interface BuildOptions {
  logger?: Logger;
}

export async function buildApp(overrides: DeepPartial<Config> | Config = {}, options: BuildOptions = {}): Promise<App> {
  const config = loadConfig(overrides as DeepPartial<Config>);
  applyHeapGrowth(config.memory.heapGrowthPercent);
  const logger = options.logger ?? createLogger(config.logLevel, {}, undefined, config.logFormat);
  const store = await openStore(join(config.dataDir, 'wa-gateway.sqlite'), {
    // A full disk is the storage state's to report, once per episode (the checkpointer retries every interval).
    onCheckpointError: (message) => (/SQLITE_FULL|disk is full/i.test(message) ? undefined : logger.warn('SQLite checkpoint failed', { err: message })),
  });
  const storage = new StorageState(logger, probeWrite(store.sqlite, () => !store.batch.pending), freeBytesAt(config.dataDir));
  store.batch.onOutcome = (error) => (error ? storage.failed(error) : storage.wrote());
  const pruner = new HistoryPruner(store.sqlite, store.batch, config.history, (message) => logger.warn('history pruning failed', { err: message }));
  const bus = new EventBus(logger);
  const engines = new EngineRegistry({
    sandbox: () => createSandboxEngine({ db: store.db, sqlite: store.sqlite, batch: store.batch, settings: config.sandbox }),
    'open-wa': () =>
      createOpenWaEngine({
        logger: logger.child({ engine: 'open-wa' }),
        settings: {
          startDeadlineMs: config.openWa.startDeadlineMs,
          ...(config.openWa.chromiumPath ? { executablePath: config.openWa.chromiumPath } : {}),
          ...(config.openWa.licenceKey ? { licenceKey: config.openWa.licenceKey } : {}),
        },
      }),
  });
  const sessions = new SessionManager({
    repo: new SessionsRepo(store.db),
    bus,
    engines,
    logger,
    dataDir: config.dataDir,
    maxSessions: config.maxSessions,
    defaults: { engine: config.engine, qrTimeout: config.sessions.qrTimeout, authTimeout: config.sessions.authTimeout },
    waitForQrMs: config.sessions.waitForQrMs,
  });
  const server = new ServerService(store, sessions, config, storage);
  const webhookStore = new WebhookStore(store.sqlite, store.batch);
  const webhookGuard = new SsrfGuard(config.webhooks.allowCidrs);
  const webhookWorker = new DeliveryWorker(webhookStore, webhookGuard, config.webhooks, logger, (outcome, seconds) =>
    metrics.webhookDelivery(outcome, seconds),
  );
  const webhooks = new WebhookService({
    store: webhookStore,
    outbox: new Outbox(webhookStore, () => webhookWorker.kick()),
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
  const rateLimiter = new RateLimiter(config.rateLimit);
  const messaging = new MessagingService(sessions, bus, config);
  const services: Services = { config, logger, bus, sessions, server, messaging, metrics, webhooks, apiKeys, auth, rateLimiter };
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
    graphiql: config.graphiql ? { title: 'wa-gateway GraphiQL', subscriptionsProtocol: 'WS' } : false,
    // Loaded on the first GraphiQL page: the renderer is ~0.4 s of start-up otherwise.
    renderGraphiQL: async (options) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
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
    cache: config.http.resultCache
      ? { results: new ResultCache(schema, { sessions: () => sessions.version }), limiter: rateLimiter, report: reportOperation }
      : undefined,
  });
  const graphqlHttp = createGraphQLHttpHandler({
    runner,
    yoga,
    maxBodyBytes: config.http.maxBodyBytes,
    fastPath: config.http.fastPath,
    logger,
    refuse: sendJson,
    observe: (path) => metrics.graphqlPath(path),
  });

  const rest = createRestHandler({ routes: routeTable, yoga, runner: config.http.fastPath ? runner : undefined, schema, maxBodyBytes: config.http.maxBodyBytes, logger, version });
  const httpServer = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    observeHttp(req, res, logger, metrics);
    if (path === REST_BASE || path.startsWith(`${REST_BASE}/`)) {
      void rest(req, res);
      return;
    }
    if (path === '/graphql' || path.startsWith('/graphql/')) {
      noteRoute(req, '/graphql');
      void graphqlHttp(req, res);
      return;
    }
    // --metrics-auth (config.metrics.auth): the auth layer asks for the API key here as on /graphql.
    if (path === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      noteRoute(req, '/metrics');
      if (config.metrics.auth && !auth.record(auth.fromNodeRequest(req))) {
        res.setHeader('www-authenticate', WWW_AUTHENTICATE);
        sendJson(req, res, 401, { success: false, error: { code: 'UNAUTHENTICATED', message: 'a valid API key is required', details: {} } });
        return;
      }
      metrics.text().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.contentType(), 'x-request-id': String(req.headers['x-request-id']) });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        (error: unknown) => {
          logger.error('metrics collection failed', { err: String(error) });
          sendJson(req, res, 500, { success: false, error: { code: 'INTERNAL_ERROR', message: 'metrics collection failed', details: {} } });
        },
      );
      return;
    }
    if (config.dashboard && isDashboardPath(path) && (req.method === 'GET' || req.method === 'HEAD')) {
      noteRoute(req, '/dashboard');
      serveDashboard(req, res, path);
      return;
    }
    if (path === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      noteRoute(req, '/health');
      if (!config.auth.healthOpen && !auth.record(auth.fromNodeRequest(req))) {
        res.setHeader('www-authenticate', WWW_AUTHENTICATE);
        sendJson(req, res, 401, { success: false, error: { code: 'UNAUTHENTICATED', message: 'a valid API key is required', details: {} } });
        return;
      }
      const report = server.health();
      sendJson(req, res, report.status === 'healthy' ? 200 : 503, { success: true, data: { ...report, timestamp: new Date(report.timestamp).toISOString() } });
      return;
    }
    sendJson(req, res, 404, { success: false, error: { code: 'NOT_FOUND', message: `No route for ${req.method} ${path}`, details: {} } });
  });

  const sockets = createSockets({
    yoga,
    auth,
    batch: store.batch,
    legacy: {
      bus,
      sessions,
      logger,
      // `?apiKey=` (or the HTTP headers) at the upgrade; a session outside the key's scope looks unknown.
      authorize: (req) => Boolean(auth.record(auth.fromUpgrade(req))),
      mayRead: (req, sessionId) => can(auth.fromUpgrade(req), sessionId, 'read'),
    },
  });
  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => sockets.upgrade(req, socket, head));

  await sessions.init();
  webhookWorker.onStorageFull = (error) => storage.failed(error);
  webhookWorker.start();
  pruner.start();
  let stopped: Promise<void> | null = null;

  return {
    config,
    services,
    start(port = config.port) {
      return new Promise((resolve, reject) => {
        const onError = (error: Error) => reject(error);
        httpServer.once('error', onError);
        httpServer.listen(port, config.host, () => {
          httpServer.off('error', onError);
          const address = httpServer.address() as AddressInfo;
          const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
          resolve({ port: address.port, url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}` });
        });
      });
    },
    stop() {
      stopped ??= (async () => {
        await sockets.close();
        await new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeAllConnections();
        });
        await sessions.stopAll();
        detachWebhooks();
        await webhookWorker.stop();
        await engines.closeAll();
        pruner.stop();
        storage.stop();
        await store.close();
        metrics.close();
      })();
      return stopped;
    },
  };
}

function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'x-request-id': requestIdFrom({ get: (name) => (req.headers[name] as string | undefined) ?? null }),
  });
  res.end(req.method === 'HEAD' ? undefined : payload);
}
