import type { HealthReport, ServerInfo } from '../server-service.js';
import { builder } from './builder.js';

const MemoryRef = builder.objectRef<ServerInfo['memory']>('MemoryInfo').implement({
  fields: (t) => ({
    used: t.exposeString('used', { description: 'Resident memory of the process, e.g. "256MB"' }),
    total: t.exposeString('total', { description: 'Memory of the machine, e.g. "24GB"' }),
    rssBytes: t.exposeFloat('rssBytes'),
    heapUsedBytes: t.exposeFloat('heapUsedBytes'),
  }),
});

export const ServerInfoRef = builder.objectRef<ServerInfo>('ServerInfo').implement({
  fields: (t) => ({
    version: t.exposeString('version'),
    maxSessions: t.exposeInt('maxSessions'),
    activeSessions: t.exposeInt('activeSessions', { description: 'Sessions that are neither FAILED nor TERMINATED' }),
    totalSessions: t.exposeInt('totalSessions'),
    uptime: t.exposeInt('uptime', { description: 'Seconds since the server started' }),
    memory: t.expose('memory', { type: MemoryRef }),
    defaultEngine: t.exposeString('defaultEngine'),
  }),
});

const HealthChecksRef = builder.objectRef<HealthReport['checks']>('HealthChecks').implement({
  fields: (t) => ({
    database: t.exposeString('database'),
    sessions: t.exposeString('sessions'),
    memory: t.exposeString('memory'),
    redis: t.string({
      nullable: true,
      description: "With --redis-url: 'ok' or why Redis is unusable (null without Redis). Redis away does not make the node unhealthy",
      resolve: (checks) => checks.redis ?? null,
    }),
  }),
});

export const HealthRef = builder.objectRef<HealthReport>('Health').implement({
  fields: (t) => ({
    status: t.exposeString('status', { description: '"healthy" or "unhealthy"' }),
    timestamp: t.expose('timestamp', { type: 'DateTime' }),
    checks: t.expose('checks', { type: HealthChecksRef }),
  }),
});
