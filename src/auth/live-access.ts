import { AppError } from '../errors.js';
import type { BusStream, EventBus } from '../events/bus.js';
import { clientIdentity } from './authenticator.js';
import type { Principal } from './principal.js';

/** Why a live subscription was ended from outside: its API key was revoked, or its session removed. */
export type LiveEnd = 'revoked' | 'removed';

/** Who holds a live subscription: the caller's key (none in no-key mode) and address, as in the GraphQL context. */
export interface LiveHolder {
  auth: Principal | null | undefined;
  clientIp: string;
}

interface Hold {
  end: (why: LiveEnd) => void;
}

export const tooManySubscriptions = (limit: number, scope: 'connection' | 'key') =>
  new AppError(
    'TOO_MANY_SUBSCRIPTIONS',
    scope === 'connection'
      ? `at most ${limit} live subscriptions per connection`
      : `at most ${limit} live subscriptions per API key (per client address without a key), on all transports together`,
    { limit, scope },
  );

/**
 * The one rule for what lives on after it was authorized: a live subscription (a GraphQL subscription over
 * graphql-ws or SSE, a legacy /ws socket) or an authenticated connection lasts only while its API key is
 * valid and its session exists. Revoking the key or removing the session ends it here, whatever the
 * transport; each transport decides how an end looks to its client (a completed operation, an ended
 * stream, a close code). It also counts live subscriptions per key (per client address without a key).
 */
export class LiveAccess {
  private readonly byKey = new Map<string, Set<Hold>>();
  private readonly bySession = new Map<string, Set<Hold>>();
  private readonly counts = new Map<string, number>();

  constructor(
    bus: EventBus,
    private readonly maxPerKey: number,
  ) {
    bus.listen('*', (e) => {
      if (e.type === 'STATUS' && e.removed) endAll(this.bySession.get(e.sessionId), 'removed');
    });
  }

  /** Called when a key is revoked: whatever it holds ends now. */
  revoked(keyId: string): void {
    endAll(this.byKey.get(keyId), 'revoked');
  }

  /** Live subscriptions `holder` holds now, on every transport. */
  count(holder: LiveHolder): number {
    return this.counts.get(clientIdentity(holder.auth, holder.clientIp)) ?? 0;
  }

  /** Throws TOO_MANY_SUBSCRIPTIONS when `holder` may not open one more live subscription. */
  admit(holder: LiveHolder): void {
    if (this.count(holder) >= this.maxPerKey) throw tooManySubscriptions(this.maxPerKey, 'key');
  }

  /**
   * Registers something live that depends on `holder`'s key and, when given, on `sessionId`: `end` is called
   * once if the key is revoked or the session removed. A subscription is counted (and refused past the
   * limit, with TOO_MANY_SUBSCRIPTIONS); a connection is not. Returns the release function (idempotent).
   */
  hold(holder: LiveHolder, sessionId: string | null, end: (why: LiveEnd) => void, kind: 'subscription' | 'connection' = 'subscription'): () => void {
    const counted = kind === 'subscription';
    if (counted) this.admit(holder);
    const identity = clientIdentity(holder.auth, holder.clientIp);
    let released = false;
    const hold: Hold = {
      end: (why) => {
        release();
        end(why);
      },
    };
    const keyId = holder.auth && holder.auth.id !== 'anonymous' ? holder.auth.id : null;
    if (keyId) add(this.byKey, keyId, hold);
    if (sessionId !== null) add(this.bySession, sessionId, hold);
    if (counted) this.counts.set(identity, (this.counts.get(identity) ?? 0) + 1);
    const release = () => {
      if (released) return;
      released = true;
      if (keyId) remove(this.byKey, keyId, hold);
      if (sessionId !== null) remove(this.bySession, sessionId, hold);
      if (counted) {
        const n = (this.counts.get(identity) ?? 1) - 1;
        if (n > 0) this.counts.set(identity, n);
        else this.counts.delete(identity);
      }
    };
    return release;
  }

  /**
   * `stream` (a GraphQL subscription's source) held for `holder` on `sessionId`: revoking the key ends it at
   * once (what is queued is dropped); removing the session ends it after what is queued (the removal's own
   * event included). Refused past the per-key limit. Returns the same stream, so nothing wraps it.
   */
  stream<T>(holder: LiveHolder, sessionId: string, stream: BusStream<T>): BusStream<T> {
    let release: () => void;
    try {
      release = this.hold(holder, sessionId, (why) => (why === 'revoked' ? void stream.return?.() : stream.end()));
    } catch (error) {
      void stream.return?.();
      throw error;
    }
    stream.onEnd(release);
    return stream;
  }
}

function add(map: Map<string, Set<Hold>>, key: string, hold: Hold): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(hold);
}

function remove(map: Map<string, Set<Hold>>, key: string, hold: Hold): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(hold);
  if (set.size === 0) map.delete(key);
}

function endAll(holds: Set<Hold> | undefined, why: LiveEnd): void {
  if (!holds) return;
  // Each end releases its hold (and so edits the set): walk a copy.
  for (const hold of [...holds]) {
    try {
      hold.end(why);
    } catch {
      // One holder's failure to end must not keep the others alive; the transports log their own.
    }
  }
}
