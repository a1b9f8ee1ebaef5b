import type { EngineCall, EngineContact, EngineMessage, EnginePoll, EngineReaction, GroupChange, MessageAck, Presence } from '../engine/engine.js';
import type { Logger } from '../logger.js';

export type SessionStatus = 'INITIALIZING' | 'QR_READY' | 'AUTHENTICATED' | 'READY' | 'FAILED' | 'TERMINATED';

export const eventTypes = [
  'QR',
  'AUTHENTICATED',
  'READY',
  'MESSAGE',
  'ACK',
  'DISCONNECTED',
  'STATUS',
  'GROUP_JOIN',
  'GROUP_LEAVE',
  'GROUP_UPDATE',
  'GROUP_PROMOTE',
  'GROUP_DEMOTE',
  'CALL',
  'REACTION',
  'MESSAGE_REVOKED',
  'MESSAGE_EDITED',
  'PRESENCE',
  'POLL_VOTE',
] as const;
export type EventType = (typeof eventTypes)[number];

export interface QrInfo {
  dataUrl: string;
  /** epoch ms */
  expiresAt: number;
}

type Payload =
  | { type: 'QR'; qr: QrInfo }
  /** `removed`: the session was removed (its last event); a TERMINATED status without it is a stopped session. */
  | { type: 'STATUS'; status: SessionStatus; reason: string | null; removed?: true }
  | { type: 'AUTHENTICATED' }
  | { type: 'READY'; me: EngineContact }
  | { type: 'MESSAGE'; message: EngineMessage }
  | { type: 'ACK'; messageId: string; chatId: string; ack: MessageAck }
  | { type: 'DISCONNECTED'; reason: string }
  | { type: 'GROUP_JOIN' | 'GROUP_LEAVE'; groupId: string; participants: string[]; by: string | null }
  | { type: 'REACTION'; messageId: string; chatId: string; reaction: EngineReaction }
  | { type: 'MESSAGE_REVOKED'; messageId: string; chatId: string; by: string | null }
  | { type: 'MESSAGE_EDITED'; message: EngineMessage }
  | { type: 'PRESENCE'; chatId: string; contactId: string; presence: Presence }
  | { type: 'GROUP_PROMOTE' | 'GROUP_DEMOTE'; groupId: string; participants: string[]; by: string | null }
  | { type: 'GROUP_UPDATE'; groupId: string; by: string | null; change: GroupChange }
  | { type: 'CALL'; call: EngineCall }
  | { type: 'POLL_VOTE'; messageId: string; chatId: string; voter: string; options: string[]; poll: EnginePoll };

/** One event of one session; `at` is epoch ms. */
export type BusEvent = Payload & { sessionId: string; at: number };
// An intersection, not Extract: GROUP_JOIN and GROUP_LEAVE share one payload member.
export type BusEventOf<T extends EventType> = BusEvent & { type: T };

type Listener = (event: BusEvent) => void;

/** A subscription's stream of bus events, which its owner may also end from outside. */
export interface BusStream<T> extends AsyncIterableIterator<T> {
  /** No more events; what is queued is still read, then the stream is done. */
  end(): void;
  /** Runs `fn` once when the stream ends, however it ends (at once if it has). */
  onEnd(fn: () => void): void;
}

const ALL = '*';

// Events another node published and this node republished (src/cluster/event-stream.ts): their side effects
// (stored state, the webhook outbox, counters) happened at the session's owner.
const remoteEvents = new WeakSet<BusEvent>();

/** True for an event republished from another node's stream (see `publishRemote`). */
export function isRemote(event: BusEvent): boolean {
  return remoteEvents.has(event);
}

/**
 * The one place events leave the SessionManager. Subscriptions, the legacy /ws socket and the
 * webhook outbox all listen here; listeners run synchronously in publish order.
 */
export class EventBus {
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(private readonly logger: Logger) {}

  publish(event: BusEvent): void {
    this.dispatch(this.listeners.get(event.sessionId), event);
    this.dispatch(this.listeners.get(ALL), event);
  }

  /** An event of a session owned by another node, read from the cluster's stream: delivered like a local one, marked remote. */
  publishRemote(event: BusEvent): void {
    remoteEvents.add(event);
    this.publish(event);
  }

  private dispatch(set: Set<Listener> | undefined, event: BusEvent): void {
    if (!set) return;
    for (const listener of set) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error('event listener failed', { err: String(error), type: event.type, sessionId: event.sessionId });
      }
    }
  }

  /** Listen to one session's events, or to every session's with '*'. Returns the unsubscribe function. */
  listen(sessionId: string, listener: Listener): () => void {
    let set = this.listeners.get(sessionId);
    if (!set) this.listeners.set(sessionId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(sessionId) === set) this.listeners.delete(sessionId);
    };
  }

  /**
   * An async iterator over a session's events that pass `map` (return undefined to skip), starting with
   * `initial` values (the current state, so a late subscriber is not left guessing). It runs until it is
   * ended (see LiveAccess, which ends it when its session is removed or its key revoked) or returned.
   */
  subscribe<T>(
    sessionId: string,
    map: (event: BusEvent) => T | undefined,
    options: { initial?: T[] } = {},
  ): BusStream<T> {
    const stream = new EventStream<T>(options.initial ?? []);
    stream.off = this.listen(sessionId, (event) => {
      const value = map(event);
      if (value !== undefined) stream.push(value);
    });
    return stream;
  }

  listenerCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}

/** Most events a subscriber may fall behind by; past it the stream ends rather than hold memory without bound. */
const MAX_QUEUED = 10_000;

/**
 * `source`'s values passed through `fn` as they are read, when `source` is a bus stream not mapped yet: the
 * stream maps in place, one async step per event fewer than an iterator wrapped around it (at fan-out that
 * step is paid once per subscriber per event). Null for any other source.
 */
export function mapBusStream<V>(source: unknown, fn: (value: unknown) => V | Promise<V>): AsyncIterableIterator<V> | null {
  return source instanceof EventStream && !source.mapped ? source.map(fn) : null;
}

/**
 * A subscription's event stream: a queue with one waiting reader. Leaner than a Repeater, which mattered
 * at fan-out (one stream per subscriber, every event pushed into each).
 */
class EventStream<T> implements BusStream<T> {
  off: () => void = () => undefined;
  private ends: (() => void)[] = [];
  private queue: T[];
  private head = 0;
  private resolveRead: ((result: IteratorResult<T>) => void) | null = null;
  private rejectRead: (error: unknown) => void = () => undefined;
  private read: ((value: T) => unknown) | null = null;
  private ended = false;

  constructor(initial: T[]) {
    this.queue = [...initial];
  }

  get mapped(): boolean {
    return this.read !== null;
  }

  map<V>(fn: (value: T) => V | Promise<V>): AsyncIterableIterator<V> {
    this.read = fn;
    return this as unknown as AsyncIterableIterator<V>;
  }

  push(value: T): void {
    if (this.ended) return;
    if (this.resolveRead) {
      const resolve = this.resolveRead;
      this.resolveRead = null;
      this.hand(value, resolve, this.rejectRead);
      return;
    }
    if (this.queue.length - this.head >= MAX_QUEUED) {
      this.end();
      return;
    }
    this.queue.push(value);
  }

  private hand(value: T, resolve: (result: IteratorResult<T>) => void, reject: (error: unknown) => void): void {
    if (!this.read) return resolve({ value, done: false });
    let out: unknown;
    try {
      out = this.read(value);
    } catch (error) {
      return reject(error);
    }
    if (typeof (out as { then?: unknown } | null)?.then === 'function') {
      (out as Promise<T>).then((v) => resolve({ value: v, done: false }), reject);
    } else resolve({ value: out as T, done: false });
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.off();
    if (this.resolveRead) {
      const resolve = this.resolveRead;
      this.resolveRead = null;
      resolve({ value: undefined, done: true });
    }
    const ends = this.ends;
    this.ends = [];
    for (const fn of ends) fn();
  }

  onEnd(fn: () => void): void {
    if (this.ended) fn();
    else this.ends.push(fn);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head++]!;
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      }
      if (!this.read) return Promise.resolve({ value, done: false });
      return new Promise((resolve, reject) => this.hand(value, resolve, reject));
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.resolveRead = resolve;
      this.rejectRead = reject;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    this.queue = [];
    this.head = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
