import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { TurnGate } from '../src/http/turn-gate.js';
import { history, SEND_TEXT, twoSessions } from './helpers/messaging.js';
import { sample, scrape } from './helpers/metrics.js';

// At most --operations-per-turn operations start executing in one event-loop turn; the rest of a burst waits,
// in arrival order, for the next turns (src/http/turn-gate.ts).

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TurnGate', () => {
  it('starts the operations that waited in the order they came', async () => {
    const gate = new TurnGate(2);
    const started: number[] = [];
    const arrivals = Array.from({ length: 7 }, (_, i) => i);
    await Promise.all(
      arrivals.map(async (i) => {
        const wait = gate.enter();
        if (wait) await wait;
        started.push(i);
      }),
    );
    assert.deepEqual(started, arrivals, 'first come, first started');
    assert.equal(gate.deferred, 5);
    assert.equal(gate.queued, 0);
  });

  it('spreads the burst over turns: 2, 2, 2, 1', async () => {
    const gate = new TurnGate(2);
    let turn = 0;
    let counting = true;
    void (async () => {
      while (counting) {
        await nextTurn();
        turn++;
      }
    })();
    const startedIn: number[] = [];
    await Promise.all(
      Array.from({ length: 7 }, async () => {
        const wait = gate.enter();
        if (wait) await wait;
        startedIn.push(turn);
      }),
    );
    counting = false;
    const perTurn = new Map<number, number>();
    for (const t of startedIn) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
    assert.deepEqual([...perTurn.values()], [2, 2, 2, 1], `started per turn: ${JSON.stringify([...perTurn])}`);
    assert.ok(startedIn.every((t, i) => i === 0 || t >= startedIn[i - 1]!), 'turns only move on');
  });

  it('0 means no limit', () => {
    const gate = new TurnGate(0);
    for (let i = 0; i < 100; i++) assert.equal(gate.enter(), null);
    assert.equal(gate.deferred, 0);
  });
});

/** Writes `bodies` as pipelined POST /graphql requests in one write, so they all reach one poll of the socket. */
function pipelined(url: string, bodies: string[]): Promise<string[]> {
  const { hostname, port } = new URL(url);
  const wire = bodies
    .map((b) => `POST /graphql HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`)
    .join('');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(wire));
    const answers: string[] = [];
    let rest = '';
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`the connection closed after ${answers.length} answers`)));
    socket.on('data', (chunk) => {
      rest += chunk;
      for (;;) {
        const head = rest.indexOf('\r\n\r\n');
        if (head < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(rest.slice(0, head))?.[1] ?? 0);
        if (rest.length < head + 4 + length) return;
        answers.push(`${rest.slice(0, rest.indexOf('\r\n'))} ${rest.slice(head + 4, head + 4 + length)}`);
        rest = rest.slice(head + 4 + length);
        if (answers.length === bodies.length) {
          socket.removeAllListeners('close');
          socket.destroy();
          resolve(answers);
          return;
        }
      }
    });
  });
}

describe('--operations-per-turn over HTTP', () => {
  it('a burst of sends all succeeds, in the order sent, and the deferred ones are counted', async () => {
    const { server, b } = await twoSessions({ http: { operationsPerTurn: 2 } });
    try {
      // The document's first run goes through yoga (which validates it); the burst then takes the lean path.
      await server.gqlOk(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content: 'warm-up' } });
      const before = sample(await scrape(server.url), 'wa_gateway_graphql_deferred_total');
      const contents = Array.from({ length: 8 }, (_, i) => `burst ${i}`);
      const answers = await pipelined(
        server.url,
        contents.map((content) => JSON.stringify({ query: SEND_TEXT, variables: { input: { sessionId: 'A', chatId: b, content } } })),
      );
      assert.equal(answers.length, 8);
      for (const [i, answer] of answers.entries()) {
        assert.match(answer, /^HTTP\/1\.1 200 /, answer);
        assert.equal(JSON.parse(answer.slice(answer.indexOf('{'))).data.sendText.message.body, contents[i]);
      }
      const sent = (await history(server, 'A', b)).map((m) => m.body).filter((body: string) => body.startsWith('burst'));
      assert.deepEqual(sent, contents, 'sent in the order they arrived');
      const deferred = sample(await scrape(server.url), 'wa_gateway_graphql_deferred_total') - before;
      assert.ok(deferred >= 4, `at most 2 of the 8 start per turn, so some waited (deferred: ${deferred})`);
      assert.equal(sample(await scrape(server.url), 'wa_gateway_graphql_waiting_operations'), 0);
    } finally {
      await server.dispose();
    }
  });
});
