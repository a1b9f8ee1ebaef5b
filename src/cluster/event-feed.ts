// The seam where cross-node events plug in (the Redis Streams transport is built separately). Without a feed a
// node learns the state of sessions driven elsewhere from their rows, every beat (ClusterNode's sync); with one it
// also learns every event as it happens, and its local bus serves subscribers of remote sessions.
import type { BusEvent, EventBus } from '../events/bus.js';
import type { SessionManager } from '../sessions/session-manager.js';

/** A cross-node event transport: in order per session, resumable (no loss across a reconnect). */
export interface ClusterEventFeed {
  /** Called by the owner for each committed event of a session it drives. */
  publish(event: BusEvent): void;
  /** Starts delivering the events other nodes published; `deliver` is called in order per session. */
  start(deliver: (event: BusEvent) => void): Promise<void>;
  close(): Promise<void>;
}

/**
 * Wires a feed to this node: its own sessions' events go out (once committed), other nodes' come in onto the
 * local bus (subscriptions, /ws, SSE, the result cache, metrics) and into the listing's view. Returns the detach.
 *
 * The webhook outbox listens to the same bus: it must write rows only for events of sessions this node drives
 * (`sessions.isLocal(event.sessionId)`), or every node would queue each delivery once.
 */
export async function connectEventFeed(feed: ClusterEventFeed, o: { bus: EventBus; sessions: SessionManager; committed: () => Promise<void> }): Promise<() => void> {
  const off = o.bus.listen('*', (event) => {
    if (!o.sessions.isLocal(event.sessionId)) return; // came in from the feed: not ours to publish again
    // Published once the turn's writes are committed, so another node never sees an event the database lost.
    o.committed().then(() => feed.publish(event), () => undefined);
  });
  await feed.start((event) => {
    if (o.sessions.isLocal(event.sessionId)) return;
    o.bus.publish(event);
  });
  return () => {
    off();
    void feed.close();
  };
}
