import { AppError, sessionNotFound, validationError } from '../errors.js';

export const actions = ['read', 'send', 'manage'] as const;
export type Action = (typeof actions)[number];

/** Who is calling: an admin key, a key limited to some sessions and actions, or everyone when no key exists. */
export interface Principal {
  /** The stored key's id, `config` for a key given at start, `anonymous` when the server has no key. */
  id: string;
  name: string;
  admin: boolean;
  sessionIds: readonly string[];
  actions: readonly Action[];
}

export const anonymousAdmin: Principal = Object.freeze({ id: 'anonymous', name: 'anonymous (no API key configured)', admin: true, sessionIds: [], actions: [] });

export function can(principal: Principal | null | undefined, sessionId: string, action: Action): boolean {
  if (!principal) return false;
  if (principal.admin) return true;
  return principal.sessionIds.includes(sessionId) && principal.actions.includes(action);
}

/**
 * The one session-scoped check. A session outside the key's scope answers exactly like a session that
 * does not exist, so a key cannot learn which other sessions the server holds.
 */
export function authorize(principal: Principal | null | undefined, sessionId: unknown, action: Action): void {
  if (typeof sessionId !== 'string') {
    // An admin's malformed input is answered by the service's own validation; a scoped key is never let through.
    if (principal?.admin) return;
    throw validationError('sessionId is required', { field: 'sessionId' });
  }
  if (!can(principal, sessionId, action)) throw sessionNotFound(sessionId);
}

export function requireAdmin(principal: Principal | null | undefined, what: string): void {
  if (principal?.admin) return;
  throw new AppError('FORBIDDEN', `${what} needs an admin API key`, {});
}

export function unauthenticated(reason: string): AppError {
  return new AppError('UNAUTHENTICATED', reason, {});
}
