// GraphQL over fetch, and the API key the server may ask for (kept in localStorage).

const KEY_STORAGE = 'wa-gateway.apiKey';

export class GraphQLRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const apiKey = {
  get(): string | null {
    return localStorage.getItem(KEY_STORAGE);
  },
  set(value: string | null): void {
    if (value) localStorage.setItem(KEY_STORAGE, value);
    else localStorage.removeItem(KEY_STORAGE);
  },
};

type AuthListener = () => void;
const authListeners = new Set<AuthListener>();

/** Called when the server answers UNAUTHENTICATED (over HTTP or the WebSocket). */
export function onUnauthenticated(listener: AuthListener): void {
  authListeners.add(listener);
}

export function unauthenticated(): void {
  for (const listener of authListeners) listener();
}

interface GraphQLErrorBody {
  message: string;
  extensions?: { code?: string };
}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json',
  };
  const key = apiKey.get();
  if (key) headers['x-api-key'] = key;
  const res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  let body: { data?: T; errors?: GraphQLErrorBody[] };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new GraphQLRequestError(res.status === 401 ? 'UNAUTHENTICATED' : 'INTERNAL_ERROR', `HTTP ${res.status}`);
  }
  const first = body.errors?.[0];
  const code = first?.extensions?.code ?? (res.status === 401 ? 'UNAUTHENTICATED' : undefined);
  if (code === 'UNAUTHENTICATED') unauthenticated();
  if (first || !body.data) throw new GraphQLRequestError(code ?? 'INTERNAL_ERROR', first?.message ?? `HTTP ${res.status}`);
  return body.data;
}
