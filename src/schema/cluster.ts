import type { ClusterNodeInfo } from '../cluster/cluster-node.js';
import { builder } from './builder.js';

export const ClusterNodeRef = builder.objectRef<ClusterNodeInfo>('ClusterNode').implement({
  description: 'A node of the cluster (--node-id): the server processes that share one PostgreSQL database',
  fields: (t) => ({
    id: t.exposeString('id'),
    url: t.exposeString('url', { description: 'Where the other nodes reach it (--advertise-url)' }),
    alive: t.exposeBoolean('alive', { description: 'Its lease is live (renewed within --lease-ttl-ms, on the database clock)' }),
    sessions: t.exposeInt('sessions', { description: 'Sessions it drives' }),
    maxSessions: t.exposeInt('maxSessions'),
    lastSeen: t.expose('lastSeen', { type: 'DateTime', description: 'Its last lease renewal' }),
  }),
});
