// Where a caller may put its API key: X-Api-Key, Authorization: Bearer, HTTP Basic (password = key, or the
// user name when the password is empty), graphql-ws connectionParams, and `?apiKey=` on the legacy socket.

type HeaderGetter = (name: string) => string | null | undefined;

const MAX_KEY_LENGTH = 512;

export function keyFromAuthorization(value: string | null | undefined): string | null {
  if (!value) return null;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(value);
  if (bearer) return bearer[1]!;
  const basic = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(value);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return decoded || null;
    const password = decoded.slice(colon + 1);
    return password || decoded.slice(0, colon) || null;
  }
  return null;
}

/** The key a request presents, or null; `presented` tells whether it tried at all. */
export function keyFromHeaders(get: HeaderGetter): { key: string | null; presented: boolean } {
  const direct = get('x-api-key');
  if (direct != null && direct !== '') return { key: sane(direct.trim()), presented: true };
  const authorization = get('authorization');
  if (authorization != null && authorization !== '') return { key: sane(keyFromAuthorization(authorization)), presented: true };
  return { key: null, presented: false };
}

export function keyFromConnectionParams(params: unknown): { key: string | null; presented: boolean } {
  if (!params || typeof params !== 'object') return { key: null, presented: false };
  const p = params as Record<string, unknown>;
  const headers = (p.headers && typeof p.headers === 'object' ? p.headers : {}) as Record<string, unknown>;
  const pick = (...values: unknown[]) => values.find((v) => typeof v === 'string' && v !== '') as string | undefined;
  const direct = pick(p.apiKey, p['x-api-key'], p['X-Api-Key'], headers['x-api-key'], headers['X-Api-Key']);
  if (direct) return { key: sane(direct.trim()), presented: true };
  const authorization = pick(p.authorization, p.Authorization, headers.authorization, headers.Authorization);
  if (authorization) return { key: sane(keyFromAuthorization(authorization) ?? authorization.trim()), presented: true };
  return { key: null, presented: false };
}

export function keyFromQuery(url: string | undefined): string | null {
  if (!url) return null;
  const q = url.indexOf('?');
  if (q === -1) return null;
  return sane(new URLSearchParams(url.slice(q + 1)).get('apiKey'));
}

function sane(key: string | null | undefined): string | null {
  return key && key.length <= MAX_KEY_LENGTH ? key : null;
}
