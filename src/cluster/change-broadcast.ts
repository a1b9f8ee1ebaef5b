import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { RedisLink } from './redis-link.js';

const RETRY_MS = 200;

export interface ChangeBroadcastOptions {
  /** The channel's name under the prefix (`api-keys`, `webhooks`). */
  channel: string;
  /** Reads what changed again from the shared database. */
  reload: () => Promise<void>;
  /** Registers the function this node calls when it changed something (after its writes committed). */
  onChanged: (send: (change: Record<string, unknown>) => void) => void;
  /** What is reloaded, for the log. */
  what: string;
}

/**
 * Something every node holds in memory from the shared database (the API keys, the webhook registry), kept
 * the same on every node: the node that made a change says so on a Redis channel, and every other node reads it
 * again from the database. Pub/sub drops what is sent while a node is disconnected, so a node also reads it again
 * each time its subscription is (re)made, and a notice that could not be sent is sent again once Redis is back.
 */
export class ChangeBroadcast {
  private readonly subscriber: Redis;
  private readonly unsent: string[] = [];
  private retryTimer: NodeJS.Timeout | null = null;
  private sending = false;
  private reloading: Promise<void> | null = null;
  private again = false;
  private closed = false;
  /** Reloads made because another node said so (or after a reconnect). */
  reloads = 0;

  constructor(
    private readonly link: RedisLink,
    private readonly o: ChangeBroadcastOptions,
    private readonly logger: Logger,
  ) {
    const channel = link.key(o.channel);
    this.subscriber = link.connection('subscriber');
    this.subscriber.on('message', (from: string, message: string) => {
      if (from !== channel) return;
      let origin: unknown;
      try {
        origin = (JSON.parse(message) as { boot?: unknown }).boot;
      } catch {
        return;
      }
      if (origin !== link.boot) this.reload();
    });
    let subscribedOnce = false;
    this.subscriber.on('ready', () => {
      // After a reconnect (ioredis subscribes again by itself): what was said meanwhile is read from the database.
      if (subscribedOnce) this.reload();
    });
    this.subscriber.subscribe(channel).then(
      () => {
        subscribedOnce = true;
      },
      (error: unknown) => this.logger.warn(`${o.what} broadcast not subscribed`, { err: String(error) }),
    );
    o.onChanged((change) => this.send(JSON.stringify({ ...change, node: link.nodeId, boot: link.boot })));
  }

  private send(message: string): void {
    this.unsent.push(message);
    this.flush();
  }

  private flush(): void {
    if (this.retryTimer || this.sending || this.closed) return;
    const next = this.unsent[0];
    if (next === undefined) return;
    this.sending = true;
    this.link.commands.publish(this.link.key(this.o.channel), next).then(
      () => {
        this.sending = false;
        this.unsent.shift();
        this.flush();
      },
      () => {
        this.sending = false;
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.flush();
        }, RETRY_MS);
      },
    );
  }

  /** Reads again; calls while one runs make one more after it (its read may have begun before the change). */
  private reload(): void {
    if (this.reloading) {
      this.again = true;
      return;
    }
    this.reloads++;
    this.reloading = this.o
      .reload()
      .catch((error: unknown) => this.logger.warn(`${this.o.what} not reloaded`, { err: String(error) }))
      .finally(() => {
        this.reloading = null;
        if (this.again && !this.closed) {
          this.again = false;
          this.reload();
        }
      });
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }
}
