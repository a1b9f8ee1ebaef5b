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
  private committed: (() => Promise<unknown>) | null = null;
  /** The stretch of synchronous code publishing now, and its commit (see followCommits). */
  private open: Stretch | null = null;
  /** The stretch the event being dispatched belongs to. */
  private dispatching: Stretch | null = null;
  private released: Promise<unknown> = Promise.resolve();

  constructor(private readonly logger: Logger) {}

  /**
   * From now on this node's own events are grouped by the stretch of synchronous code that published them, and
   * each stretch follows one `committed()` of the write batch, asked just after it (so the writes it queued after
   * publishing count too). Subscriptions (subscribe()) get those events once it settles, once what they report is
   * stored or failed to be; listeners still run at once and may read the stretch's outcome (commitMark()). A
   * cluster node on Redis does this: its stream appends an event to Redis only after its commit and never when
   * it failed, and its own subscribers see an event when the other nodes can, so the fan-out to them runs after
   * the commit and the append, not in front of them (the commit would otherwise wait for the whole fan-out, and
   * every other node with it). Events read from other nodes are not held.
   */
  followCommits(committed: () => Promise<unknown>): void {
    this.committed = committed;
  }

  /** For a listener: the commit its event waits for; null when commits are not followed or the event is remote. */
  commitMark(): CommitMark | null {
    return this.dispatching;
  }

  publish(event: BusEvent): void {
    this.dispatching = this.committed && !remoteEvents.has(event) ? this.stretch() : null;
    try {
      this.dispatch(this.listeners.get(event.sessionId), event);
      this.dispatch(this.listeners.get(ALL), event);
    } finally {
      this.dispatching = null;
    }
  }

  private stretch(): Stretch {
    if (this.open) return this.open;
    const stretch = (this.open = new Stretch());
    // After the publishing code has run on, so the writes it queues after publish() count too.
    queueMicrotask(() => {
      this.open = null;
      stretch.follow(this.committed!());
      // In publication order; a turn later, so what the same commit releases elsewhere (the answer to the
      // request, the append to the cluster's stream) is written first.
      this.released = Promise.all([this.released, stretch.settled]).then(() => void setImmediate(() => stretch.release()));
    });
    return stretch;
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
      if (value !== undefined) stream.push(value, this.dispatching);
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

/** The commit of the writes queued up to a stretch of publications: its outcome, once known. */
export interface CommitMark {
  readonly outcome: 'waiting' | 'committed' | 'failed';
  /** Resolves (never rejects) once the outcome is known. */
  readonly settled: Promise<void>;
}

/** A stretch of publications: its commit, and the values pushed into streams that wait for it (see EventBus.followCommits). */
class Stretch implements CommitMark {
  outcome: CommitMark['outcome'] = 'waiting';
  private resolve!: () => void;
  readonly settled = new Promise<void>((resolve) => (this.resolve = resolve));
  private readonly streams: EventStream<unknown>[] = [];
  private readonly upTo: number[] = [];

  follow(commit: Promise<unknown>): void {
    commit.then(
      () => this.settle('committed'),
      () => this.settle('failed'),
    );
  }

  private settle(outcome: 'committed' | 'failed'): void {
    this.outcome = outcome;
    this.resolve();
  }

  add(stream: EventStream<unknown>, upTo: number): void {
    this.streams.push(stream);
    this.upTo.push(upTo);
  }

  release(): void {
    for (let i = 0; i < this.streams.length; i++) this.streams[i]!.release(this.upTo[i]!);
  }
}

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
  /** Counts since the start: values pushed, read, and released (readable once held ones are let go). */
  private pushed: number;
  private taken = 0;
  private released: number;
  private resolveRead: ((result: IteratorResult<T>) => void) | null = null;
  private rejectRead: (error: unknown) => void = () => undefined;
  private read: ((value: T) => unknown) | null = null;
  private ended = false;

  constructor(initial: T[]) {
    this.queue = [...initial];
    this.pushed = this.released = this.queue.length;
  }

  get mapped(): boolean {
    return this.read !== null;
  }

  map<V>(fn: (value: T) => V | Promise<V>): AsyncIterableIterator<V> {
    this.read = fn;
    return this as unknown as AsyncIterableIterator<V>;
  }

  /** `hold`: the value waits to be released with it (see EventBus.followCommits). */
  push(value: T, hold: Stretch | null = null): void {
    if (this.ended) return;
    if (!hold && this.resolveRead && this.head === this.queue.length) {
      const resolve = this.resolveRead;
      this.resolveRead = null;
      this.pushed = this.taken = this.released = this.pushed + 1;
      this.hand(value, resolve, this.rejectRead);
      return;
    }
    if (this.queue.length - this.head >= MAX_QUEUED) {
      this.end();
      return;
    }
    this.queue.push(value);
    this.pushed++;
    if (hold) hold.add(this as EventStream<unknown>, this.pushed);
    else this.release(this.pushed);
  }

  /** The values pushed up to the `upTo`th may be read. */
  release(upTo: number): void {
    if (upTo <= this.released) return;
    this.released = upTo;
    if (!this.resolveRead || this.taken >= this.released || this.head >= this.queue.length) return;
    const resolve = this.resolveRead;
    this.resolveRead = null;
    this.hand(this.take(), resolve, this.rejectRead);
  }

  private take(): T {
    const value = this.queue[this.head++]!;
    this.taken++;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    return value;
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
    // What is queued is still read, held or not.
    this.released = this.pushed;
    this.off();
    if (this.resolveRead) {
      const resolve = this.resolveRead;
      this.resolveRead = null;
      if (this.head < this.queue.length) this.hand(this.take(), resolve, this.rejectRead);
      else resolve({ value: undefined, done: true });
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
    if (this.taken < this.released && this.head < this.queue.length) {
      const value = this.take();
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
    this.queue = [];
    this.head = 0;
    this.taken = this.pushed;
    this.end();
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
