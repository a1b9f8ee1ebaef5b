import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventBus, type BusEvent } from '../src/events/bus.js';
import { EventStream } from '../src/cluster/event-stream.js';
import type { RedisLink } from '../src/cluster/redis-link.js';
import { createLogger } from '../src/logger.js';

// The owner's side of the cross-node stream, against a stand-in for Redis: an event goes out only once the writes
// queued up to its publication are committed, never when their commit failed; and this node's own subscribers get
// an event after that commit too (EventBus.followCommits), in order.

const message = (body: string): BusEvent =>
  ({ type: 'MESSAGE', sessionId: 's1', at: Date.now(), message: { body } }) as unknown as BusEvent;

/** A RedisLink whose XADDs are recorded (the reader blocks until closed). */
function fakeLink(appended: string[]) {
  const link = {
    nodeId: 'n1',
    boot: 'boot1',
    up: true,
    key: (name: string) => `test:${name}`,
    ready: async () => true,
    commands: {
      xrevrange: async () => [],
      pipeline() {
        const bodies: string[] = [];
        return {
          xadd(...args: string[]) {
            bodies.push((JSON.parse(args[args.length - 1]!) as { message: { body: string } }).message.body);
          },
          async exec() {
            appended.push(...bodies);
            return bodies.map(() => [null, '1-0']);
          },
        };
      },
    },
    connection: () => {
      let hangUp = () => undefined as void;
      return {
        xread: () => new Promise((_, reject) => (hangUp = () => reject(new Error('disconnected')))),
        disconnect: () => hangUp(),
      };
    },
  };
  return link as unknown as RedisLink;
}

/** A write batch stand-in: each call of committed() gets the outcome of the commit open at the time. */
function fakeBatch() {
  let open: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | null = null;
  return {
    committed: () => {
      open ??= (() => {
        let resolve!: () => void;
        let reject!: (e: Error) => void;
        const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
        promise.catch(() => undefined);
        return { promise, resolve, reject };
      })();
      return open.promise;
    },
    commit(error?: Error) {
      const tx = open!;
      open = null;
      if (error) tx.reject(error);
      else tx.resolve();
    },
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('cross-node stream: only committed events leave', () => {
  it('appends events after their commit, and never those whose commit failed', async () => {
    const logger = createLogger('silent');
    const bus = new EventBus(logger);
    const appended: string[] = [];
    const batch = fakeBatch();
    const stream = new EventStream({
      link: fakeLink(appended),
      bus,
      logger,
      sessions: { knows: () => true, adoptRemote: async () => true, followRemoteEvent: () => true },
      ownsSession: () => true,
    });
    await stream.start();
    bus.followCommits(batch.committed);
    const seen: string[] = [];
    const sub = bus.subscribe('s1', (e) => (e.type === 'MESSAGE' ? e.message.body : undefined));
    const reading = (async () => {
      for await (const body of sub) {
        seen.push(String(body));
        if (body === 'c') return;
      }
    })();

    bus.publish(message('a1'));
    bus.publish(message('a2'));
    await turn();
    assert.deepEqual(appended, [], 'nothing appended before the commit');
    assert.deepEqual(seen, [], 'nor handed to subscribers');
    batch.commit();
    await turn();
    await turn();
    assert.deepEqual(appended, ['a1', 'a2']);
    assert.deepEqual(seen, ['a1', 'a2']);

    bus.publish(message('b'));
    await turn();
    batch.commit(new Error('the commit failed'));
    await turn();
    bus.publish(message('c'));
    await turn();
    batch.commit();
    await reading;
    await turn();
    assert.deepEqual(appended, ['a1', 'a2', 'c'], 'the event whose commit failed is not appended');
    assert.equal(stream.counters.uncommitted, 1);
    assert.deepEqual(seen, ['a1', 'a2', 'b', 'c'], "this node's subscribers get every event, in order, once its commit is settled");
    await stream.close(0);
  });

  it('a subscription ended while an event is held still reads it', async () => {
    const bus = new EventBus(createLogger('silent'));
    const batch = fakeBatch();
    bus.followCommits(batch.committed);
    const sub = bus.subscribe('s1', (e) => (e.type === 'MESSAGE' ? e.message.body : undefined));
    const first = sub.next();
    bus.publish(message('x'));
    await turn();
    sub.end();
    assert.deepEqual(await first, { value: 'x', done: false });
    assert.deepEqual(await sub.next(), { value: undefined, done: true });
  });
});
