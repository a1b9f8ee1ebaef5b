import { adminOnly, policy } from '../auth/access-policy.js';
import { builder } from '../schema/builder.js';
import { ApiKeyRef, CreateApiKeyInput, CreateApiKeyPayload, RevokeApiKeyPayload } from '../schema/api-key.js';

builder.queryFields((t) => ({
  apiKeys: t.field({
    extensions: policy(adminOnly()),
    type: [ApiKeyRef],
    description: 'Admin: every stored API key (revoked ones too), oldest first; keys given at start are not listed',
    resolve: (_root, _args, ctx) => ctx.services.apiKeys.list(),
  }),
}));

builder.mutationFields((t) => ({
  createApiKey: t.field({
    extensions: policy(adminOnly()),
    type: CreateApiKeyPayload,
    description: 'Admin: create an API key, admin or limited to some sessions and actions; the key is returned only here',
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.apiKeys.create(input),
  }),
  revokeApiKey: t.field({
    extensions: policy(adminOnly()),
    type: RevokeApiKeyPayload,
    description: 'Admin: revoke a stored API key; requests with it fail from then on',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.apiKeys.revoke(String(id)),
  }),
}));
