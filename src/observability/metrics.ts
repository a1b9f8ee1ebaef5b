import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { isRemote, type EventBus } from '../events/bus.js';
import type { SessionView } from '../sessions/session-manager.js';

const STATUSES = ['INITIALIZING', 'QR_READY', 'AUTHENTICATED', 'READY', 'FAILED', 'TERMINATED'] as const;
const ENGINES = ['sandbox', 'open-wa', 'baileys'] as const;
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface MetricsSources {
  /** Read at scrape time, so the gauge never drifts from the SessionManager. */
  sessions: () => SessionView[];
  bus: EventBus;
  /** Writes refused for want of space since start, and whether the storage is full now (read at scrape time). */
  storage?: () => { failures: number; full: boolean };
}

/**
 * The process's Prometheus registry and the gateway's own metrics. Everything else reports here:
 * the HTTP edge and the GraphQL plugin (`httpRequest`, `graphqlOperation`), the webhook worker
 * (`webhookDelivery`) and components that keep plain counters of their own (`countsFrom`).
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly messages: Counter<'direction' | 'type'>;
  private readonly graphqlOps: Counter<'operation' | 'type' | 'outcome'>;
  private readonly graphqlSeconds: Histogram<'type'>;
  private readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  private readonly httpSeconds: Histogram<'route' | 'method'>;
  private readonly restRequests: Counter<'route' | 'method' | 'status'>;
  private readonly graphqlPaths: Counter<'path'>;
  private readonly webhookDeliveries: Counter<'outcome'>;
  private readonly webhookSeconds: Histogram<'outcome'>;
  private readonly uncaughtErrors: Counter<'kind'>;
  private readonly detach: () => void;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    // Default names (process_resident_memory_bytes, nodejs_eventloop_lag_seconds ...) so stock dashboards work.
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'wa_gateway_sessions',
      help: 'Sessions held by this server, by status and engine',
      labelNames: ['status', 'engine'],
      registers,
      collect() {
        this.reset();
        for (const status of STATUSES) for (const engine of ENGINES) this.set({ status, engine }, 0);
        for (const s of sources.sessions()) this.inc({ status: s.status, engine: s.engine });
      },
    });
    const storage = sources.storage;
    if (storage) {
      new Counter({
        name: 'wa_gateway_storage_full_errors_total',
        help: 'Writes refused because the storage was full (STORAGE_FULL)',
        registers,
        collect() {
          this.reset();
          this.inc(storage().failures);
        },
      });
      new Gauge({
        name: 'wa_gateway_storage_full',
        help: '1 while the storage is full (writes answer STORAGE_FULL), else 0',
        registers,
        collect() {
          this.set(storage().full ? 1 : 0);
        },
      });
    }
    this.messages = new Counter({
      name: 'wa_gateway_messages_total',
      help: 'Messages seen on the event bus: direction sent (fromMe) or received, by message type',
      labelNames: ['direction', 'type'],
      registers,
    });
    this.graphqlOps = new Counter({
      name: 'wa_gateway_graphql_operations_total',
      help: 'GraphQL operations by operation name, type and outcome (ok or the first error code)',
      labelNames: ['operation', 'type', 'outcome'],
      registers,
    });
    this.graphqlSeconds = new Histogram({
      name: 'wa_gateway_graphql_operation_duration_seconds',
      help: 'Time to execute a GraphQL query or mutation (subscriptions: time to start)',
      labelNames: ['type'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.httpRequests = new Counter({
      name: 'wa_gateway_http_requests_total',
      help: 'HTTP requests by route (a template, never a raw path), method and status',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.httpSeconds = new Histogram({
      name: 'wa_gateway_http_request_duration_seconds',
      help: 'HTTP request duration by route and method',
      labelNames: ['route', 'method'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.restRequests = new Counter({
      name: 'wa_gateway_rest_requests_total',
      help: 'REST compatibility requests (/api/v1) by route template, method and status',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.graphqlPaths = new Counter({
      name: 'wa_gateway_graphql_execution_path_total',
      help: 'GraphQL operations over HTTP and REST by how they ran: lean (no Fetch-API layer), cached (a kept answer given again) or yoga',
      labelNames: ['path'],
      registers,
    });
    this.webhookDeliveries = new Counter({
      name: 'wa_gateway_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome (delivered, retry, failed, gone)',
      labelNames: ['outcome'],
      registers,
    });
    this.webhookSeconds = new Histogram({
      name: 'wa_gateway_webhook_delivery_duration_seconds',
      help: 'Webhook delivery attempt latency (request sent to answer or error) by outcome',
      labelNames: ['outcome'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.uncaughtErrors = new Counter({
      name: 'wa_gateway_uncaught_errors_total',
      help: 'Unexpected errors caught at the boundary: request (a handler failed; its request got a 500), uncaughtException, unhandledRejection',
      labelNames: ['kind'],
      registers,
    });
    for (const kind of ['request', 'uncaughtException', 'unhandledRejection']) this.uncaughtErrors.inc({ kind }, 0);
    this.detach = sources.bus.listen('*', (event) => {
      // Another node's session is counted by its owner, so the nodes' counts add up.
      if (event.type !== 'MESSAGE' || isRemote(event)) return;
      this.messages.inc({ direction: event.message.fromMe ? 'sent' : 'received', type: event.message.type });
    });
  }

  graphqlOperation(operation: string, type: string, outcome: string, seconds: number): void {
    this.graphqlOps.inc({ operation, type, outcome });
    this.graphqlSeconds.observe({ type }, seconds);
  }

  httpRequest(route: string, method: string, status: number, seconds: number): void {
    this.httpRequests.inc({ route, method, status: String(status) });
    this.httpSeconds.observe({ route, method }, seconds);
    if (route.startsWith('/api/')) this.restRequests.inc({ route, method, status: String(status) });
  }

  /** How an HTTP GraphQL or REST operation ran: on the lean path, as a kept answer, or handed to yoga. */
  graphqlPath(path: 'lean' | 'cached' | 'yoga'): void {
    this.graphqlPaths.inc({ path });
  }

  /** An unexpected error that reached the boundary (src/http/boundary.ts). */
  uncaught(kind: 'request' | 'uncaughtException' | 'unhandledRejection'): void {
    this.uncaughtErrors.inc({ kind });
  }

  /** One webhook delivery attempt; `seconds` from sending the request to its answer (or failure). */
  webhookDelivery(outcome: 'delivered' | 'retry' | 'failed' | 'gone' | (string & {}), seconds: number): void {
    this.webhookDeliveries.inc({ outcome });
    this.webhookSeconds.observe({ outcome }, seconds);
  }

  /** The turn gate of HTTP operations (src/http/turn-gate.ts), read at scrape time. */
  turnGate(read: () => { deferred: number; queued: number }): void {
    new Counter({
      name: 'wa_gateway_graphql_deferred_total',
      help: 'GraphQL and REST operations that waited for a later event-loop turn (--operations-per-turn)',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(read().deferred);
      },
    });
    new Gauge({
      name: 'wa_gateway_graphql_waiting_operations',
      help: 'GraphQL and REST operations waiting for their event-loop turn',
      registers: [this.registry],
      collect() {
        this.set(read().queued);
      },
    });
  }

  /** A gauge read at scrape time (a value that goes up and down, e.g. the sessions a cluster node drives). */
  gaugeFrom(name: string, help: string, read: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /**
   * Exposes counts another component keeps itself (plain objects of monotonic numbers, e.g.
   * `{ inputLimits: 2, introspection: 0 }`) as a Prometheus counter read at scrape time.
   */
  countsFrom(name: string, help: string, labelName: string, read: () => Record<string, number>): void {
    new Counter({
      name,
      help,
      labelNames: [labelName],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [label, value] of Object.entries(read())) this.inc({ [labelName]: label }, value);
      },
    });
  }

  contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  close(): void {
    this.detach();
    this.registry.clear();
  }
}
