import type { ApiKeyView } from '../auth/api-keys.js';
import { actions } from '../auth/principal.js';
import { builder } from './builder.js';

export const ApiKeyActionEnum = builder.enumType('ApiKeyAction', {
  description: 'What a session-scoped key may do: READ (sessions, chats, events), SEND (messages, groups), MANAGE (create, remove, scan, webhooks)',
  values: Object.fromEntries(actions.map((a) => [a.toUpperCase(), { value: a }])) as { READ: { value: 'read' }; SEND: { value: 'send' }; MANAGE: { value: 'manage' } },
});

export const ApiKeyRef = builder.objectRef<ApiKeyView>('ApiKey').implement({
  description: 'A stored API key; the key itself is shown only once, by createApiKey',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the key, to recognise it' }),
    admin: t.exposeBoolean('admin', { description: 'Admin keys may do everything, API keys included' }),
    sessionIds: t.exposeStringList('sessionIds', { description: 'The sessions a non-admin key is limited to' }),
    actions: t.expose('actions', { type: [ApiKeyActionEnum] }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true, description: 'Updated at most once a minute' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

export const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    name: t.string({ description: 'A label for people (1-100 characters)' }),
    admin: t.boolean({ description: 'An admin key (default false)' }),
    sessionIds: t.stringList({ description: 'Sessions a non-admin key may use (required unless admin)' }),
    actions: t.field({ type: [ApiKeyActionEnum], description: 'What a non-admin key may do with them (default [READ])' }),
  }),
});

export const CreateApiKeyPayload = builder.objectRef<{ key: string; apiKey: ApiKeyView }>('CreateApiKeyPayload').implement({
  fields: (t) => ({
    key: t.exposeString('key', { description: 'The key itself: shown only this once, store it now' }),
    apiKey: t.expose('apiKey', { type: ApiKeyRef }),
  }),
});

export const RevokeApiKeyPayload = builder.objectRef<ApiKeyView>('RevokeApiKeyPayload').implement({
  fields: (t) => ({
    apiKey: t.field({ type: ApiKeyRef, resolve: (k) => k }),
    revoked: t.boolean({ resolve: () => true }),
  }),
});
