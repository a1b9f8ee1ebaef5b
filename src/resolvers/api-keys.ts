import { builder } from '../schema/builder.js';
import { ApiKeyRef, CreateApiKeyInput, CreateApiKeyPayload, RevokeApiKeyPayload } from '../schema/api-key.js';

// Admin only: the access policy (src/auth/access-policy.ts) has no rule for these fields but admin.

builder.queryFields((t) => ({
  apiKeys: t.field({
    type: [ApiKeyRef],
    description: 'Admin: every stored API key (revoked ones too), oldest first; keys given at start are not listed',
    resolve: (_root, _args, ctx) => ctx.services.apiKeys.list(),
  }),
}));

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreateApiKeyPayload,
    description: 'Admin: create an API key, admin or limited to some sessions and actions; the key is returned only here',
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.apiKeys.create(input),
  }),
  revokeApiKey: t.field({
    type: RevokeApiKeyPayload,
    description: 'Admin: revoke a stored API key; requests with it fail from then on',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.apiKeys.revoke(String(id)),
  }),
}));
