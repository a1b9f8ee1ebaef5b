import { retentionCutoffs, type RetentionSettings, type RetentionStats } from '../retention.js';
import type { PgBatch } from './pg-types.js';

const BATCH = 500;

// A batch deletes a range of seq bounded by a subquery, and deliveries by `id = ANY (ARRAY(subquery))`, not
// `x IN (subquery)`: the planner answered that with a hash join over a sequential scan of the whole table.

/**
 * History retention on PostgreSQL: the SQLite pruner's rules (messages walked in `seq` order from the
 * oldest, a batch stopping at the first one still inside the window; their receipts; unread counts and last
 * messages of their chats kept right; completed webhook deliveries; the Baileys engine's stored messages by age) as one statement per batch, so a batch is
 * atomic and one round trip. Batches go one after another through the write batch until nothing is due.
 */
export class PgHistoryPruner {
  readonly stats: RetentionStats = { messages: 0, receipts: 0, deliveries: 0, media: 0, baileysMessages: 0, batches: 0, maxBatchMs: 0, vacuumedPages: 0 };
  private prunedUpTo = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly batch: PgBatch,
    private readonly settings: RetentionSettings,
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  get enabled(): boolean {
    return this.settings.retentionDays > 0 || (this.settings.mediaRetentionDays ?? 0) > 0;
  }

  start(): void {
    if (!this.enabled || this.timer) return;
    this.timer = setInterval(() => void this.run(), this.settings.pruneIntervalMs);
    this.timer.unref();
    setImmediate(() => void this.run());
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Prunes everything past the window; resolves when nothing is left. */
  run(): Promise<void> {
    if (this.stopped || !this.enabled) return Promise.resolve();
    this.running ??= (async () => {
      try {
        const cutoffs = retentionCutoffs(this.settings);
        while (!this.stopped && (await this.pruneBatch(cutoffs.messages, cutoffs.media)));
      } catch (error) {
        this.onError(String((error as Error)?.message ?? error));
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** One batch of messages and one of deliveries older than `cutoffMs`; true when more may be due. */
  async pruneBatch(cutoffMs: number, mediaCutoffMs = 0): Promise<boolean> {
    const started = performance.now();
    const [row] = await this.batch.run<{ messages: number; last_seq: number | null; receipts: number; deliveries: number; media: number; baileys: number }>(
      `WITH batch AS (SELECT seq, timestamp FROM sandbox_messages WHERE seq > $1 ORDER BY seq LIMIT $2),
        stop AS (SELECT min(seq) AS seq FROM batch WHERE timestamp >= $3),
        gone AS (DELETE FROM sandbox_messages m WHERE m.seq > $1
            AND m.seq <= (SELECT max(b.seq) FROM batch b, stop WHERE stop.seq IS NULL OR b.seq < stop.seq)
          RETURNING m.seq, m.session_id, m.chat_id, m.msg_key, m.from_me, m.read),
        receipts AS (DELETE FROM sandbox_receipts r USING gone g WHERE g.from_me = 1 AND r.msg_key = g.msg_key RETURNING 1),
        per_chat AS (SELECT session_id, chat_id, count(*) FILTER (WHERE from_me = 0 AND read = 0) AS unread FROM gone GROUP BY session_id, chat_id),
        chats AS (UPDATE sandbox_chats c
          SET unread_count = CASE WHEN c.unread_count > p.unread THEN c.unread_count - p.unread ELSE 0 END,
              last_seq = CASE WHEN c.last_seq <= (SELECT max(seq) FROM gone) THEN NULL ELSE c.last_seq END
          FROM per_chat p WHERE c.session_id = p.session_id AND c.chat_id = p.chat_id RETURNING 1),
        deliveries AS (DELETE FROM webhook_deliveries WHERE id = ANY (ARRAY(SELECT id FROM webhook_deliveries
          WHERE completed_at IS NOT NULL AND completed_at < $4 AND status != 'PENDING' ORDER BY completed_at LIMIT $2)) RETURNING 1),
        media AS (DELETE FROM sandbox_media WHERE hash IN (SELECT hash FROM sandbox_media WHERE created_at < $5 ORDER BY created_at LIMIT $2) RETURNING 1),
        baileys AS (DELETE FROM baileys_messages WHERE seq = ANY (ARRAY(SELECT seq FROM baileys_messages WHERE timestamp < $3 ORDER BY timestamp LIMIT $2))
          RETURNING session_id, chat_id),
        baileys_chats_left AS (SELECT b.session_id, b.chat_id,
            (SELECT count(*) FROM baileys_messages m WHERE m.session_id = b.session_id AND m.chat_id = b.chat_id)
              - (SELECT count(*) FROM baileys g WHERE g.session_id = b.session_id AND g.chat_id = b.chat_id) AS n
          FROM (SELECT DISTINCT session_id, chat_id FROM baileys) b),
        baileys_unread AS (UPDATE baileys_chats c SET unread_count = l.n FROM baileys_chats_left l
          WHERE c.session_id = l.session_id AND c.chat_id = l.chat_id AND c.unread_count > l.n RETURNING 1)
      SELECT (SELECT count(*) FROM media) AS media, (SELECT count(*) FROM baileys) AS baileys, (SELECT count(*) FROM baileys_unread) AS baileys_unread, (SELECT count(*) FROM gone) AS messages, (SELECT max(seq) FROM gone) AS last_seq,
        (SELECT count(*) FROM receipts) AS receipts, (SELECT count(*) FROM deliveries) AS deliveries, (SELECT count(*) FROM chats) AS chats`,
      [this.prunedUpTo, BATCH, Math.floor(cutoffMs / 1000), cutoffMs, mediaCutoffMs],
    );
    const media = Number(row?.media ?? 0);
    this.stats.media += media;
    const baileys = Number(row?.baileys ?? 0);
    this.stats.baileysMessages += baileys;
    const messages = Number(row?.messages ?? 0);
    const deliveries = Number(row?.deliveries ?? 0);
    if (row?.last_seq != null) this.prunedUpTo = Number(row.last_seq);
    this.stats.messages += messages;
    this.stats.receipts += Number(row?.receipts ?? 0);
    this.stats.deliveries += deliveries;
    this.stats.batches++;
    this.stats.maxBatchMs = Math.max(this.stats.maxBatchMs, performance.now() - started);
    return messages === BATCH || deliveries === BATCH || media === BATCH || baileys === BATCH;
  }
}
