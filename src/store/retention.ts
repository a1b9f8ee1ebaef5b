import type SQLite from 'better-sqlite3';
import type { WriteBatch } from './write-batch.js';

export interface RetentionSettings {
  /** Days of history kept (fractions allowed); 0 keeps everything. */
  retentionDays: number;
  /** How often the pruner looks for history past the window. */
  pruneIntervalMs: number;
  /** Days media bytes are kept after their last send; 0 keeps them. */
  mediaRetentionDays?: number;
}

/** The cutoffs of one pruning pass (epoch ms): messages older than `messages` go, media older than `media`; 0 = none. */
export function retentionCutoffs(settings: RetentionSettings, now = Date.now()): { messages: number; media: number } {
  const media = settings.mediaRetentionDays ?? 0;
  return {
    messages: settings.retentionDays > 0 ? now - settings.retentionDays * 86_400_000 : 0,
    media: media > 0 ? now - media * 86_400_000 : 0,
  };
}

export interface RetentionStats {
  messages: number;
  receipts: number;
  deliveries: number;
  /** Media contents (sandbox_media rows) removed. */
  media: number;
  /** Messages of the Baileys engine's stored history (baileys_messages) removed. */
  baileysMessages: number;
  batches: number;
  /**
   * The longest single batch, in ms of the event loop's CPU time (the whole process's before node 23.9): what one
   * event-loop turn of pruning held the loop for at most (wall time adds whatever the OS gave other processes meanwhile).
   */
  maxBatchMs: number;
  /** Pages handed back to the file system by incremental vacuum. */
  vacuumedPages: number;
}

// A batch is sized to take a few milliseconds: it grows while batches are quick and shrinks when one is slow,
// so pruning never holds the event loop for long whatever the machine.
const TARGET_BATCH_MS = 5;
const MIN_BATCH = 50;
const MAX_BATCH = 500;
// Free pages are reused by new rows, so a steady load under retention keeps the file's size. Only a large
// surplus (after the window was shortened, say) is handed back, a slice per turn.
const VACUUM_FREE_SHARE = 0.2;
const VACUUM_MIN_FREE_PAGES = 2048;
const VACUUM_PAGES_PER_TURN = 512;
const GRID_LAG_MS = 25;

/** Milliseconds from `now` to the next pass of onTimeGrid: a little after the next multiple of `everyMs`. */
export function gridDelay(now: number, everyMs: number): number {
  const lag = Math.min(GRID_LAG_MS, everyMs / 4);
  const next = now - (now % everyMs) + lag;
  return next > now ? next - now : next + everyMs - now;
}

/**
 * Calls `pass` every `everyMs`, a little after each multiple of it since the epoch; returns what stops it. The
 * window is cut at whole seconds (message timestamps are in seconds), so passes whose phase against the second
 * wandered, as setInterval's do, would let the window hold up to a second more rows now and then, and the file
 * keeps room for the most rows it ever held.
 */
function onTimeGrid(everyMs: number, pass: () => void): () => void {
  let timer: NodeJS.Timeout;
  const schedule = () => {
    timer = setTimeout(() => {
      schedule();
      pass();
    }, gridDelay(Date.now(), everyMs));
    timer.unref();
  };
  schedule();
  return () => clearTimeout(timer);
}

/**
 * CPU time of the calling thread (node 23.9 and later), else of the whole process, whose figure also counts V8's
 * GC helper threads and whatever else runs meanwhile: a batch is timed by what it costs the event loop itself.
 */
const cpuClock: (previous?: NodeJS.CpuUsage) => NodeJS.CpuUsage =
  (process as { threadCpuUsage?: (previous?: NodeJS.CpuUsage) => NodeJS.CpuUsage }).threadCpuUsage?.bind(process) ?? process.cpuUsage.bind(process);
/** Whether batches are timed in the event loop's own CPU time (cpuClock), not the whole process's. */
export const batchTimedPerThread = typeof (process as { threadCpuUsage?: unknown }).threadCpuUsage === 'function';

type Row = { seq: number; session_id: string; chat_id: string; msg_key: string; from_me: number; read: number; timestamp: number };

/**
 * Removes message history (messages, their receipts and media details, which live on the message rows; the
 * Baileys engine's stored messages) and completed webhook deliveries older than the retention window, oldest first, a small batch per event-loop
 * turn. Each batch keeps the chats right: unread counts lose the unread messages removed, and a chat whose
 * last message went no longer points at it.
 *
 * Messages are walked in `seq` order (the primary key) from the oldest, and a batch stops at the first one
 * still inside the window: no index on the timestamp is needed (one less index to write per message), and
 * each batch reads only what it removes. A message stored late with an old timestamp (one that waited for its
 * receiver) goes once the messages stored before it went. The same statements run on PostgreSQL (`seq` is
 * its bigserial key; `RETURNING` and the `CASE` are standard).
 */
export class HistoryPruner {
  readonly stats: RetentionStats = { messages: 0, receipts: 0, deliveries: 0, media: 0, baileysMessages: 0, batches: 0, maxBatchMs: 0, vacuumedPages: 0 };
  private batchSize = 250;
  /** Every message up to this seq is gone: the next batch starts after it (a range on the key, not a scan). */
  private prunedUpTo = 0;
  private stopTimer: (() => void) | null = null;
  private running = false;
  private stopped = false;
  private readonly s;

  constructor(
    private readonly sqlite: SQLite.Database,
    private readonly batch: WriteBatch,
    private readonly settings: RetentionSettings,
    private readonly onError: (message: string) => void = () => undefined,
  ) {
    const p = (sql: string) => sqlite.prepare(sql);
    this.s = {
      oldest: p('SELECT seq, session_id, chat_id, msg_key, from_me, read, timestamp FROM sandbox_messages WHERE seq > ? ORDER BY seq LIMIT ?'),
      deleteUpTo: p('DELETE FROM sandbox_messages WHERE seq <= ?'),
      deleteReceipts: p('DELETE FROM sandbox_receipts WHERE msg_key = ?'),
      lowerUnread: p('UPDATE sandbox_chats SET unread_count = CASE WHEN unread_count > ? THEN unread_count - ? ELSE 0 END WHERE session_id = ? AND chat_id = ?'),
      dropLast: p('UPDATE sandbox_chats SET last_seq = NULL WHERE session_id = ? AND chat_id = ? AND last_seq <= ?'),
      media: p('DELETE FROM sandbox_media WHERE hash IN (SELECT hash FROM sandbox_media WHERE created_at < ? ORDER BY created_at LIMIT ?)'),
      // The Baileys engine's history goes by age (its index), not in seq order: a history sync stores old
      // messages after new ones. A chat's unread count never stays above the messages it still has.
      baileys: p('DELETE FROM baileys_messages WHERE seq IN (SELECT seq FROM baileys_messages WHERE timestamp < ? ORDER BY timestamp LIMIT ?) RETURNING session_id, chat_id'),
      baileysUnread: p(`UPDATE baileys_chats SET unread_count = (SELECT COUNT(*) FROM baileys_messages m WHERE m.session_id = @session AND m.chat_id = @chat)
        WHERE session_id = @session AND chat_id = @chat AND unread_count > (SELECT COUNT(*) FROM baileys_messages m WHERE m.session_id = @session AND m.chat_id = @chat)`),
      deliveries: p(`DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries
        WHERE completed_at IS NOT NULL AND completed_at < ? AND status != 'PENDING' ORDER BY completed_at LIMIT ?)`),
    };
  }

  get enabled(): boolean {
    return this.settings.retentionDays > 0 || (this.settings.mediaRetentionDays ?? 0) > 0;
  }

  start(): void {
    if (!this.enabled || this.stopTimer) return;
    this.stopTimer = onTimeGrid(this.settings.pruneIntervalMs, () => void this.run());
    setImmediate(() => this.run());
  }

  stop(): void {
    this.stopped = true;
    this.stopTimer?.();
    this.stopTimer = null;
  }

  /** Prunes everything past the window, a batch per turn; resolves when nothing is left (for tests and the soak). */
  run(): Promise<void> {
    if (this.running || this.stopped || !this.enabled) return Promise.resolve();
    this.running = true;
    return new Promise((resolve) => {
      const step = () => {
        if (this.stopped || !this.sqlite.open) return (this.running = false), resolve();
        let more = false;
        try {
          const cutoffs = retentionCutoffs(this.settings);
          more = this.pruneBatch(cutoffs.messages, cutoffs.media);
          if (!more) more = this.vacuumSlice();
        } catch (error) {
          this.onError(String((error as Error).message ?? error));
        }
        if (more) setImmediate(step);
        else (this.running = false), resolve();
      };
      step();
    });
  }

  /** One batch of messages and one of deliveries older than `cutoffMs` (and of media older than `mediaCutoffMs`); true when more may be due. */
  pruneBatch(cutoffMs: number, mediaCutoffMs = 0): boolean {
    const started = cpuClock();
    const cutoffSeconds = Math.floor(cutoffMs / 1000);
    const limit = this.batchSize;
    const { messages, deliveries, media, baileys } = this.batch.atomic(() => {
      const rows = this.s.oldest.all(this.prunedUpTo, limit) as Row[];
      let n = 0;
      while (n < rows.length && rows[n]!.timestamp < cutoffSeconds) n++;
      if (n > 0) {
        const gone = rows.slice(0, n);
        const lastSeq = gone[n - 1]!.seq;
        this.s.deleteUpTo.run(lastSeq);
        this.prunedUpTo = lastSeq;
        const chats = new Map<string, { sessionId: string; chatId: string; unread: number }>();
        for (const r of gone) {
          const key = `${r.session_id}\u0000${r.chat_id}`;
          let chat = chats.get(key);
          if (!chat) chats.set(key, (chat = { sessionId: r.session_id, chatId: r.chat_id, unread: 0 }));
          if (r.from_me === 0 && r.read === 0) chat.unread++;
          // Receipts belong to the sender's copy of a message.
          if (r.from_me === 1) this.stats.receipts += this.s.deleteReceipts.run(r.msg_key).changes;
        }
        for (const c of chats.values()) {
          if (c.unread > 0) this.s.lowerUnread.run(c.unread, c.unread, c.sessionId, c.chatId);
          this.s.dropLast.run(c.sessionId, c.chatId, lastSeq);
        }
      }
      const d = this.s.deliveries.run(cutoffMs, limit).changes;
      const m = mediaCutoffMs > 0 ? this.s.media.run(mediaCutoffMs, limit).changes : 0;
      let b = 0;
      if (cutoffMs > 0) {
        const gone = this.s.baileys.all(cutoffSeconds, limit) as { session_id: string; chat_id: string }[];
        b = gone.length;
        const chats = new Map(gone.map((r) => [`${r.session_id}\u0000${r.chat_id}`, r]));
        for (const c of chats.values()) this.s.baileysUnread.run({ session: c.session_id, chat: c.chat_id });
      }
      return { messages: n, deliveries: d, media: m, baileys: b };
    });
    this.stats.media += media;
    this.stats.baileysMessages += baileys;
    const cpu = cpuClock(started);
    const ms = (cpu.user + cpu.system) / 1000;
    this.stats.messages += messages;
    this.stats.deliveries += deliveries;
    this.stats.batches++;
    this.stats.maxBatchMs = Math.max(this.stats.maxBatchMs, ms);
    if (ms > TARGET_BATCH_MS * 2) this.batchSize = Math.max(MIN_BATCH, Math.floor(this.batchSize / 2));
    else if (ms < TARGET_BATCH_MS / 2 && (messages === limit || deliveries === limit)) this.batchSize = Math.min(MAX_BATCH, Math.floor(this.batchSize * 1.5));
    return messages === limit || deliveries === limit || media === limit || baileys === limit;
  }

  /** Hands a slice of a large free-page surplus back (incremental auto-vacuum only); true when more is left. */
  private vacuumSlice(): boolean {
    if (this.batch.pending) return false;
    const mode = this.sqlite.pragma('auto_vacuum', { simple: true }) as number;
    if (mode !== 2) return false;
    const free = this.sqlite.pragma('freelist_count', { simple: true }) as number;
    const pages = this.sqlite.pragma('page_count', { simple: true }) as number;
    if (free < VACUUM_MIN_FREE_PAGES || free < pages * VACUUM_FREE_SHARE) return false;
    this.sqlite.pragma(`incremental_vacuum(${VACUUM_PAGES_PER_TURN})`);
    this.stats.vacuumedPages += VACUUM_PAGES_PER_TURN;
    return true;
  }
}
