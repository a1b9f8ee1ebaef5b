// The real Baileys socket against a local WebSocket server given as its endpoint (waWebSocketUrl, our
// --baileys-ws-url): a peer that closes the connection is reconnected with the configured backoff, a peer
// that never answers times out, and the server never sees two connections of one session at once. The login
// store is the app's (SQLite, or PostgreSQL with WA_TEST_STORE=postgres).
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { createBaileysEngine } from '../src/engine/baileys/baileys-engine.js';
import type { BaileysSettings } from '../src/engine/baileys/baileys-session.js';
import type { EngineEvent } from '../src/engine/engine.js';
import { baileysConfig, openTestStore, quietLogger, until, type TestStore } from './helpers/baileys.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** A WebSocket endpoint that records its connections; `behaviour` decides what it does with each. */
async function peer(behaviour: 'close' | 'silent') {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const opened: number[] = [];
  let open = 0;
  let maxOpen = 0;
  const sockets = new Set<WebSocket>();
  wss.on('connection', (ws) => {
    opened.push(Date.now());
    open++;
    maxOpen = Math.max(maxOpen, open);
    sockets.add(ws);
    ws.on('close', () => {
      open--;
      sockets.delete(ws);
    });
    if (behaviour === 'close') setTimeout(() => ws.close(), 30);
  });
  cleanups.push(async () => {
    for (const s of sockets) s.terminate();
    await new Promise((r) => wss.close(r));
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws/chat`,
    opened,
    get open() {
      return open;
    },
    get maxOpen() {
      return maxOpen;
    },
  };
}

async function engineOn(url: string, settings: Partial<BaileysSettings>) {
  const ts: TestStore = await openTestStore();
  cleanups.push(() => ts.close());
  const engine = createBaileysEngine({ store: ts.store, logger: quietLogger, authKey: null, settings: { wsUrl: url, ...settings }, warned: true });
  cleanups.push(() => engine.close());
  const events: EngineEvent[] = [];
  const session = await engine.start({ sessionId: 's1', config: baileysConfig(), dataDir: ts.dataDir }, (e) => events.push(e));
  return { engine, session, events };
}

describe('Baileys socket against a local WebSocket endpoint', () => {
  it('a connection the peer closes is reconnected with the configured backoff, one socket at a time', async () => {
    const server = await peer('close');
    const { session, events } = await engineOn(server.url, { reconnectBackoffMs: [150, 300], connectAttempts: 4, connectTimeoutMs: 5_000 });
    await until('four connections', () => server.opened.length >= 4, 15_000);
    await until('FAILED after the fourth', () => events.some((e) => e.type === 'failed'), 5_000);
    const gaps = server.opened.slice(1).map((t, i) => t - server.opened[i]!);
    // Each gap is the peer's 30 ms, the close handling and the backoff: 150, then 300 (the last entry repeats).
    assert.ok(gaps[0]! >= 150 && gaps[1]! >= 300 && gaps[2]! >= 300, `gaps ${gaps}`);
    assert.equal(server.maxOpen, 1, 'never two connections at once');
    assert.deepEqual(
      events.filter((e) => e.type === 'disconnected').map((e) => (e as { reason: string }).reason.replace(/\d+ ms/, 'N ms')),
      Array(3).fill('Connection Terminated (428); reconnecting in N ms'),
    );
    assert.match((events.find((e) => e.type === 'failed') as { reason: string }).reason, /could not connect to WhatsApp \(4 attempts\): Connection Terminated \(428\)/);
    await session.stop();
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(server.opened.length, 4, 'nothing after FAILED');
    assert.equal(server.open, 0);
  });

  it('a peer that never answers times out after connectTimeoutMs and is retried', async () => {
    const server = await peer('silent');
    const started = Date.now();
    const { session, events } = await engineOn(server.url, { reconnectBackoffMs: [50], connectAttempts: 2, connectTimeoutMs: 400 });
    await until('FAILED', () => events.some((e) => e.type === 'failed'), 10_000);
    const took = Date.now() - started;
    assert.equal(server.opened.length, 2);
    assert.ok(server.opened[1]! - server.opened[0]! >= 400, 'the second attempt after the first timed out');
    assert.ok(took >= 800, `${took} ms`);
    assert.match((events.find((e) => e.type === 'failed') as { reason: string }).reason, /could not connect to WhatsApp \(2 attempts\): Timed Out \(408\)/);
    assert.equal(server.maxOpen, 1);
    await until('the peer sees the socket closed', () => server.open === 0, 2_000);
    await session.stop();
  });

  it('stop while connected closes the socket and cancels every reconnect', async () => {
    const server = await peer('silent');
    const { session } = await engineOn(server.url, { reconnectBackoffMs: [50], connectAttempts: 5, connectTimeoutMs: 5_000 });
    await until('connected', () => server.open === 1, 5_000);
    await session.stop();
    await until('closed at the peer', () => server.open === 0, 2_000);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(server.opened.length, 1);
  });
});
