import { AppError } from '../errors.js';

export interface SendQueueSettings {
  /** Least time between the starts of two sends of one session. */
  minGapMs: number;
  /** A random extra wait of up to this many ms, so the rhythm does not look like a machine's. */
  jitterMs: number;
  /** Most sends waiting per session; past it a send is refused with RATE_LIMITED. */
  maxQueued: number;
}

export interface SendQueueCounters {
  sent: number;
  /** Sends that had to wait for their turn. */
  delayed: number;
  /** Sends refused because the session's queue was full. */
  refused: number;
}

interface Lane {
  tail: Promise<unknown>;
  queued: number;
  lastStart: number;
}

/**
 * One queue per session that paces outbound sends: a burst is spread out (WhatsApp bans numbers that send
 * too fast) instead of being refused. A caller's promise settles once its own send went through.
 */
export class SendQueue {
  readonly counters: SendQueueCounters = { sent: 0, delayed: 0, refused: 0 };
  private readonly lanes = new Map<string, Lane>();

  constructor(
    private readonly settings: SendQueueSettings,
    private readonly random: () => number = Math.random,
  ) {}

  run<T>(sessionId: string, send: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(sessionId);
    if (!lane) {
      lane = { tail: Promise.resolve(), queued: 0, lastStart: 0 };
      this.lanes.set(sessionId, lane);
    }
    if (lane.queued >= this.settings.maxQueued) {
      this.counters.refused++;
      throw new AppError('RATE_LIMITED', `Session '${sessionId}' has ${lane.queued} sends waiting already; retry later`, {
        sessionId,
        queued: lane.queued,
        maxQueued: this.settings.maxQueued,
      });
    }
    lane.queued++;
    const current = lane;
    const result = current.tail.then(async () => {
      const gap = this.settings.minGapMs + (this.settings.jitterMs > 0 ? Math.floor(this.random() * (this.settings.jitterMs + 1)) : 0);
      const wait = current.lastStart + gap - Date.now();
      if (current.lastStart > 0 && wait > 0) {
        this.counters.delayed++;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
      current.lastStart = Date.now();
      try {
        return await send();
      } finally {
        this.counters.sent++;
      }
    });
    current.tail = result.catch(() => undefined).finally(() => current.queued--);
    return result;
  }

  /** Sends waiting (or running) for a session. */
  queued(sessionId: string): number {
    return this.lanes.get(sessionId)?.queued ?? 0;
  }

  /** Drops a removed session's lane (its waiting sends still settle). */
  forget(sessionId: string): void {
    if ((this.lanes.get(sessionId)?.queued ?? 0) === 0) this.lanes.delete(sessionId);
  }
}
