import { adminOnly, policy } from '../auth/access-policy.js';
import { builder } from '../schema/builder.js';
import { ClusterNodeRef } from '../schema/cluster.js';

builder.queryFields((t) => ({
  nodes: t.field({
    extensions: policy(adminOnly()),
    type: [ClusterNodeRef],
    description: 'The nodes of the cluster and their load (empty for a server on its own)',
    resolve: (_root, _args, ctx) => ctx.services.cluster?.nodes() ?? [],
  }),
}));
