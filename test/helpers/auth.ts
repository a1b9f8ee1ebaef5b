import { readySession, startServer, type GqlResult, type TestServer } from './app.js';

export const ADMIN_KEY = 'admin-key-for-tests-0123456789';

export interface HttpGql<T = any> extends GqlResult<T> {
  status: number;
  headers: Headers;
}

/** POST a GraphQL operation with the given headers, returning status and headers too. */
export async function gqlAs<T = any>(server: TestServer, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<HttpGql<T>> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as GqlResult<T>;
  return { ...body, status: res.status, headers: res.headers };
}

export const withKey = (key: string) => ({ 'x-api-key': key });

/** Like gqlOk, with a key. */
export async function gqlOkAs<T = any>(server: TestServer, key: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const result = await gqlAs<T>(server, query, variables, withKey(key));
  if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}

export const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id name prefix admin sessionIds actions createdAt revokedAt } } }`;

/** Creates a stored key through the API with the admin key; returns the key and its id. */
export async function createKey(server: TestServer, input: Record<string, unknown>, adminKey = ADMIN_KEY): Promise<{ key: string; id: string }> {
  const data = await gqlOkAs(server, adminKey, CREATE_KEY, { input });
  return { key: data.createApiKey.key, id: data.createApiKey.apiKey.id };
}

/** Everything an allowed call could change (sessions, keys, messages, read state, groups, webhooks), as one string. */
export async function storeSnapshot(server: TestServer): Promise<string> {
  const rows = [];
  for (const q of [
    'select session_id, status from sessions order by 1',
    'select id, revoked_at from api_keys order by 1',
    'select count(*), max(seq) from sandbox_messages',
    'select session_id, chat_id, unread_count from sandbox_chats order by 1, 2',
    'select count(*) from sandbox_groups',
    'select group_id, phone from sandbox_group_members order by 1, 2',
    'select * from webhooks order by 1',
    'select count(*) from webhook_deliveries',
  ])
    rows.push(await server.sql(q));
  return JSON.stringify(rows);
}

/**
 * The auth matrices' world: READY sessions `target` and `other` (a group of both in target), a key with
 * every action on `other` only, and a read-only key on `target` (plus `readAlso`).
 */
export async function scopedFixture(readAlso: string[] = []) {
  const server = await startServer({ auth: { apiKeys: [ADMIN_KEY] } });
  const asAdmin = { ...server, gqlOk: (q: string, v?: Record<string, unknown>) => gqlOkAs(server, ADMIN_KEY, q, v) } as TestServer;
  await readySession(asAdmin, 'target');
  const peer = await readySession(asAdmin, 'other');
  const groupId: string = (
    await gqlOkAs(server, ADMIN_KEY, 'mutation($input: CreateGroupInput!) { createGroup(input: $input) { gid } }', { input: { sessionId: 'target', name: 'm', participants: [peer] } })
  ).createGroup.gid;
  const otherKey = (await createKey(server, { sessionIds: ['other'], actions: ['READ', 'SEND', 'MANAGE'] })).key;
  const readKey = (await createKey(server, { sessionIds: ['target', ...readAlso], actions: ['READ'] })).key;
  return { server, peer, groupId, otherKey, readKey };
}
