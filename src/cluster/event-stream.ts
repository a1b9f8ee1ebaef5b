import type { Redis } from 'ioredis';
import type { BusEvent, CommitMark, EventBus } from '../events/bus.js';
import { isRemote } from '../events/bus.js';
import type { Logger } from '../logger.js';
import type { RedisLink } from './redis-link.js';

/** What the stream needs of this node's sessions: which it runs, and its view of the others. */
export interface RemoteSessionView {
  knows(sessionId: string): boolean;
  /** Loads a session another node runs into this node's view; false when the database does not have it. */
  adoptRemote(sessionId: string): Promise<boolean>;
  /** The view follows another node's event; false: this node runs the session, so the event is not passed on. */
  followRemoteEvent(event: BusEvent): boolean;
}

export interface EventStreamOptions {
  link: RedisLink;
  bus: EventBus;
  logger: Logger;
  sessions: RemoteSessionView;
  /** Whether this node owns a session, so its events go to the stream (the cluster's leases decide; default: it runs here). */
  ownsSession: (sessionId: string) => boolean;
  /** Entries the stream keeps (XADD MAXLEN ~): how far behind a reader may fall and still catch up. */
  maxLen?: number;
  /** Events this node holds while Redis is away; past it the oldest are dropped (and counted). */
  maxBuffered?: number;
}

const STREAM = 'events';
const BATCH = 500;
const RETRY_MS = 100;
const BLOCK_MS = 1000;
/** A session unknown to the database is looked up again only after this long (its events are still passed on). */
const MISSING_TTL_MS = 5000;

export interface EventStreamCounters {
  appended: number;
  received: number;
  duplicates: number;
  dropped: number;
  /** Events of a session this node drives, made by another node after this one took the session (not passed on). */
  stale: number;
  /** Events of this node whose writes did not commit: never appended. */
  uncommitted: number;
}

/** For an event published while the bus does not follow commits (EventBus.followCommits): appended at once. */
const UNTRACKED: CommitMark = { outcome: 'committed', settled: Promise.resolve() };

interface PendingEvent {
  seq: number;
  json: string;
  mark: CommitMark;
  counted?: boolean;
}

/**
 * Cross-node events over one Redis Stream. Every event the local bus publishes for a session this node owns is
 * appended (after the writes it reports are committed), stamped with the node, its run and a sequence number;
 * every node reads the stream from the last entry it handled and republishes the other nodes' events into its
 * local bus, so subscribers anywhere get every session's events in order. Redis away: the appender keeps the
 * events in order and appends them when it is back, the reader resumes from its last id; an append whose answer
 * was lost may be made twice, and readers drop the repeat by (run, sequence number).
 */
export class EventStream {
  readonly counters: EventStreamCounters = { appended: 0, received: 0, duplicates: 0, dropped: 0, stale: 0, uncommitted: 0 };
  /** Milliseconds from an entry's append to its republication here, for the last entry read. */
  lagMs = 0;
  private readonly key: string;
  private readonly maxLen: number;
  private readonly maxBuffered: number;
  private pending: PendingEvent[] = [];
  private head = 0;
  private seq = 0;
  private flushing = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly lastSeq = new Map<string, number>();
  private readonly missing = new Map<string, number>();
  private readonly reader: Redis;
  private lastId = '$';
  private closed = false;
  private readLoop: Promise<void> | null = null;
  private readonly detach: () => void;

  constructor(private readonly o: EventStreamOptions) {
    this.key = o.link.key(STREAM);
    this.maxLen = o.maxLen ?? 100_000;
    this.maxBuffered = o.maxBuffered ?? 100_000;
    this.reader = o.link.connection('blocking');
    this.detach = o.bus.listen('*', (event) => {
      if (isRemote(event) || !o.ownsSession(event.sessionId)) return;
      // Its commit, the bus's for the whole stretch of publications it belongs to: an event is appended after
      // what it reports is stored, and never when that failed.
      this.enqueue(event, o.bus.commitMark() ?? UNTRACKED);
    });
  }

  /** Events waiting to be appended. */
  get buffered(): number {
    return this.pending.length - this.head;
  }

  /**
   * Starts reading at the stream's current end (from the time now when Redis cannot say yet), so what is
   * appended from here on reaches this node's bus. Call before the sessions are loaded, so no event between
   * loading them and the first read is missed.
   */
  async start(): Promise<void> {
    let start = `${Date.now()}-0`;
    if (await this.o.link.ready(1000)) {
      try {
        const last = await this.o.link.commands.xrevrange(this.key, '+', '-', 'COUNT', 1);
        start = last[0]?.[0] ?? '0-0';
      } catch {
        // the time-based id stays
      }
    }
    this.lastId = start;
    this.readLoop = this.read();
  }

  private enqueue(event: BusEvent, mark: CommitMark): void {
    this.pending.push({ seq: ++this.seq, json: JSON.stringify(event), mark });
    if (this.buffered > this.maxBuffered) {
      this.head++;
      this.counters.dropped++;
      if (this.counters.dropped === 1 || this.counters.dropped % 10_000 === 0) {
        this.o.logger.error('Redis away too long: oldest cross-node events dropped', { dropped: this.counters.dropped });
      }
    }
    if (!this.flushing && !this.retryTimer) void this.flush();
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.buffered > 0 && !this.closed) {
        // Events are published before their writes commit; Redis gets them once those are committed, and never
        // when they failed (the owner's own subscribers saw them, no other node does).
        await this.pending[this.head]!.mark.settled;
        const batch: PendingEvent[] = [];
        let examined = this.head;
        while (examined < this.pending.length && batch.length < BATCH) {
          const item = this.pending[examined]!;
          if (item.mark.outcome === 'waiting') break;
          if (item.mark.outcome === 'committed') batch.push(item);
          else if (!item.counted) {
            item.counted = true;
            this.counters.uncommitted++;
          }
          examined++;
        }
        // The head was dropped meanwhile (buffer full) and the new one is not settled yet.
        if (examined === this.head) continue;
        const skippedUpTo = this.pending[examined - 1]!.seq;
        let ok = 0;
        if (batch.length > 0) {
          const pipe = this.o.link.commands.pipeline();
          for (const item of batch) {
            pipe.xadd(this.key, 'MAXLEN', '~', String(this.maxLen), '*', 'o', this.o.link.nodeId, 'b', this.o.link.boot, 's', String(item.seq), 'e', item.json);
          }
          const results = (await pipe.exec().catch(() => null)) ?? [];
          while (ok < batch.length && results[ok] && !results[ok]![0]) ok++;
        }
        // Entries dropped meanwhile (buffer full) moved head already; skip only what is still ahead of it.
        const doneUpTo = ok === batch.length ? skippedUpTo : (batch[ok - 1]?.seq ?? 0);
        while (this.head < this.pending.length && this.pending[this.head]!.seq <= doneUpTo) this.head++;
        this.counters.appended += ok;
        if (this.head > 4096 && this.head * 2 > this.pending.length) {
          this.pending = this.pending.slice(this.head);
          this.head = 0;
        }
        if (ok < batch.length) {
          this.retryTimer = setTimeout(() => {
            this.retryTimer = null;
            void this.flush();
          }, RETRY_MS);
          return;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async read(): Promise<void> {
    while (!this.closed) {
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await this.reader.xread('COUNT', BATCH, 'BLOCK', BLOCK_MS, 'STREAMS', this.key, this.lastId)) as typeof reply;
      } catch {
        if (this.closed) return;
        await new Promise((r) => setTimeout(r, RETRY_MS));
        continue;
      }
      for (const [id, fields] of reply?.[0]?.[1] ?? []) {
        if (this.closed) return;
        try {
          await this.handle(id, fields);
        } catch (error) {
          this.o.logger.error('cross-node event not handled', { id, err: String(error) });
        }
        this.lastId = id;
      }
    }
  }

  private async handle(id: string, fields: string[]): Promise<void> {
    const entry: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) entry[fields[i]!] = fields[i + 1]!;
    const boot = entry.b;
    if (!boot || boot === this.o.link.boot || entry.e === undefined) return;
    const seq = Number(entry.s);
    if ((this.lastSeq.get(boot) ?? 0) >= seq) {
      this.counters.duplicates++;
      return;
    }
    this.lastSeq.set(boot, seq);
    const event = JSON.parse(entry.e) as BusEvent;
    if (!this.o.sessions.knows(event.sessionId) && !(event.type === 'STATUS' && event.removed)) {
      const missingSince = this.missing.get(event.sessionId);
      if (missingSince === undefined || Date.now() - missingSince > MISSING_TTL_MS) {
        if (await this.o.sessions.adoptRemote(event.sessionId)) this.missing.delete(event.sessionId);
        else this.missing.set(event.sessionId, Date.now());
      }
    }
    if (!this.o.sessions.followRemoteEvent(event)) {
      this.counters.stale++;
      return;
    }
    this.counters.received++;
    this.lagMs = Math.max(0, Date.now() - Number(id.slice(0, id.indexOf('-'))));
    this.o.bus.publishRemote(event);
  }

  /** Stops reading; what is still buffered gets up to `ms` to reach Redis. */
  async close(ms = 1000): Promise<void> {
    this.detach();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const deadline = Date.now() + ms;
    while (this.buffered > 0 && Date.now() < deadline && this.o.link.up) {
      if (!this.flushing) void this.flush();
      await new Promise((r) => setTimeout(r, 20));
    }
    this.closed = true;
    this.reader.disconnect(false);
    await this.readLoop?.catch(() => undefined);
  }
}
