import { totalmem } from 'node:os';
import type { AnyStore } from './store/database.js';
import type { MaybePromise } from './store/maybe-promise.js';
import type { SessionManager } from './sessions/session-manager.js';
import type { StorageState } from './store/storage-state.js';
import { version } from './version.js';

export interface ServerInfo {
  version: string;
  maxSessions: number;
  activeSessions: number;
  totalSessions: number;
  uptime: number;
  memory: { used: string; total: string; rssBytes: number; heapUsedBytes: number };
  defaultEngine: string;
}

export interface HealthReport {
  status: 'healthy' | 'unhealthy';
  timestamp: number;
  /** `redis` only with --redis-url: 'ok' or why not; it does not make the node unhealthy (see RedisCluster). */
  checks: { database: string; sessions: string; memory: string; redis?: string };
}

// Above this share of the machine's memory the process reports itself unhealthy.
const MEMORY_LIMIT_SHARE = 0.9;

export class ServerService {
  private readonly startedAt = Date.now();

  constructor(
    private readonly store: AnyStore,
    private readonly sessions: SessionManager,
    private readonly settings: { maxSessions: number; engine: string },
    private readonly storage?: StorageState,
    private readonly redis?: () => string,
  ) {}

  info(): ServerInfo {
    const mem = process.memoryUsage();
    const byStatus = this.sessions.countByStatus();
    return {
      version,
      maxSessions: this.settings.maxSessions,
      activeSessions: this.sessions.count() - byStatus.FAILED - byStatus.TERMINATED,
      totalSessions: this.sessions.count(),
      uptime: Math.floor((Date.now() - this.startedAt) / 1000),
      memory: { used: formatBytes(mem.rss), total: formatBytes(totalmem()), rssBytes: mem.rss, heapUsedBytes: mem.heapUsed },
      defaultEngine: this.settings.engine,
    };
  }

  health(): MaybePromise<HealthReport> {
    if (this.store.kind === 'sqlite') {
      let database = 'ok';
      try {
        const row = this.store.sqlite.prepare('select count(*) as n from sessions').get() as { n: number } | undefined;
        if (typeof row?.n !== 'number') database = 'error: unexpected answer';
      } catch (error) {
        database = `error: ${(error as Error).message}`;
      }
      return this.report(database);
    }
    // PostgreSQL: a read on the pool, within its connect and query timeouts, so /health answers while the server is gone.
    return this.store.pool.query<{ n: number }>('select count(*) as n from sessions').then(
      ({ rows }) => this.report(typeof rows[0]?.n === 'number' ? 'ok' : 'error: unexpected answer'),
      (error: unknown) => this.report(`error: database unavailable (${(error as Error)?.message ?? String(error)})`),
    );
  }

  private report(database: string): HealthReport {
    // A full storage still answers reads: only a write (or the state's probe) tells.
    if (database === 'ok' && this.storage?.check()) database = this.storage.reason ?? 'error: storage full';
    // In a cluster --max-sessions is per node: what this node drives.
    const sessions = this.sessions.localCount() <= this.settings.maxSessions ? 'ok' : 'over limit';
    const memory = process.memoryUsage().rss < totalmem() * MEMORY_LIMIT_SHARE ? 'ok' : 'low';
    const healthy = database === 'ok' && memory === 'ok';
    // Redis away leaves this node's own work going (see RedisCluster), so it is reported, not counted against health.
    const checks: HealthReport['checks'] = this.redis ? { database, sessions, memory, redis: this.redis() } : { database, sessions, memory };
    return { status: healthy ? 'healthy' : 'unhealthy', timestamp: Date.now(), checks };
  }
}

function formatBytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return mb >= 1024 ? `${Math.round(mb / 102.4) / 10}GB` : `${Math.round(mb)}MB`;
}
