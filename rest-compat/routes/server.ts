import { EXAMPLE_TIME, type RestRoute } from '../route.js';

export const serverRoutes: RestRoute[] = [
  {
    id: 'getServerInfo',
    method: 'GET',
    path: '/info',
    tag: 'Server',
    summary: 'Server information',
    document: `query RestServerInfo { serverInfo { version maxSessions activeSessions uptime memory { used total } } }`,
    variables: () => ({}),
    reply: ({ serverInfo }) => ({ data: serverInfo }),
    response: {
      data: {
        type: 'object',
        required: ['version', 'maxSessions', 'activeSessions', 'uptime', 'memory'],
        properties: {
          version: { type: 'string' },
          maxSessions: { type: 'integer' },
          activeSessions: { type: 'integer' },
          uptime: { type: 'integer', description: 'Seconds' },
          memory: { type: 'object', properties: { used: { type: 'string' }, total: { type: 'string' } } },
        },
      },
    },
    example: { data: { version: '0.1.0', maxSessions: 10, activeSessions: 1, uptime: 42, memory: { used: '191MB', total: '23.5GB' } } },
  },
  {
    id: 'getHealth',
    method: 'GET',
    path: '/health',
    tag: 'Server',
    summary: 'Health check',
    description: 'Answers 503 (with the same body) when a check fails.',
    document: `query RestHealth { health { status timestamp checks { database sessions memory } } }`,
    variables: () => ({}),
    reply: ({ health }) => ({ status: health.status === 'healthy' ? 200 : 503, data: health }),
    response: {
      data: {
        type: 'object',
        required: ['status', 'timestamp', 'checks'],
        properties: {
          status: { type: 'string', enum: ['healthy', 'unhealthy'] },
          timestamp: { type: 'string', format: 'date-time' },
          checks: {
            type: 'object',
            properties: { database: { type: 'string' }, sessions: { type: 'string' }, memory: { type: 'string' } },
          },
        },
      },
    },
    example: { data: { status: 'healthy', timestamp: EXAMPLE_TIME, checks: { database: 'ok', sessions: 'ok', memory: 'ok' } } },
  },
  {
    id: 'listNodes',
    method: 'GET',
    path: '/nodes',
    tag: 'Server',
    summary: 'Cluster nodes',
    description: 'The nodes of the cluster (admin key): whether each lease is live, how many sessions each drives and may drive. Empty for a server on its own.',
    document: `query RestNodes { nodes { id url alive sessions maxSessions lastSeen } }`,
    variables: () => ({}),
    reply: ({ nodes }) => ({ data: nodes }),
    response: {
      data: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'url', 'alive', 'sessions', 'maxSessions', 'lastSeen'],
          properties: {
            id: { type: 'string' },
            url: { type: 'string' },
            alive: { type: 'boolean' },
            sessions: { type: 'integer' },
            maxSessions: { type: 'integer' },
            lastSeen: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
    example: { data: [] },
  },
];
