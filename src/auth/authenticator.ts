import type { IncomingMessage } from 'node:http';
import type { ApiKeyService } from './api-keys.js';
import { keyFromConnectionParams, keyFromHeaders, keyFromQuery } from './credentials.js';
import { anonymousAdmin, type Principal } from './principal.js';

export interface AuthCounters {
  /** Requests and connections that presented a valid key (or came while the API is open). */
  accepted: number;
  /** Requests and connections refused for a missing or wrong key. */
  rejected: number;
}

/** Turns what a caller presents into a Principal, or null when the caller must be refused. */
export class Authenticator {
  readonly counters: AuthCounters = { accepted: 0, rejected: 0 };

  constructor(readonly keys: ApiKeyService) {}

  get enabled(): boolean {
    return this.keys.enabled;
  }

  principalFor(presented: { key: string | null }): Principal | null {
    if (!this.keys.enabled) return anonymousAdmin;
    return presented.key ? this.keys.authenticate(presented.key) : null;
  }

  /** Counts an admission decision (once per request or connection). */
  record(principal: Principal | null): Principal | null {
    this.counters[principal ? 'accepted' : 'rejected']++;
    return principal;
  }

  fromHeaders(headers: { get(name: string): string | null }): Principal | null {
    return this.principalFor(keyFromHeaders((name) => headers.get(name)));
  }

  fromNodeRequest(req: IncomingMessage): Principal | null {
    return this.principalFor(keyFromHeaders((name) => nodeHeader(req, name)));
  }

  fromConnectionParams(params: unknown): Principal | null {
    return this.principalFor(keyFromConnectionParams(params));
  }

  /** The legacy `/ws/{sessionId}` socket: `?apiKey=` or the same headers as HTTP. */
  fromUpgrade(req: IncomingMessage): Principal | null {
    const fromQuery = keyFromQuery(req.url);
    return fromQuery ? this.principalFor({ key: fromQuery }) : this.fromNodeRequest(req);
  }
}

export function nodeHeader(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
}

/** The identity rate limits count against: the key, or the client's address when there is none. */
export function clientIdentity(principal: Principal | null | undefined, ip: string | undefined): string {
  return principal && principal.id !== 'anonymous' ? `key:${principal.id}` : `ip:${ip ?? 'unknown'}`;
}
