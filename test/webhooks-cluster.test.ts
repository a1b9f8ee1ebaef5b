import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { tempDir, waitFor } from './helpers/app.js';
import { scrape, sample } from './helpers/metrics.js';
import { createTestDatabase, needsPostgres, queryDatabase, type TestDatabase } from './helpers/pg.js';
import { spawnServer, type ServerProcess } from './helpers/process.js';
import { startReceiver, type Receiver } from './helpers/webhooks.js';

// Two server processes on one PostgreSQL database, both running delivery workers. Every server starts every
// session it finds in the database at start-up, so the sessions are made after both are up, through one of them
// (A): A runs them and its outbox queues their deliveries; either worker may claim and send them.

async function gql(server: ServerProcess, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const INJECT = `mutation($s: String!, $b: String!) { sandboxInjectMessage(sessionId: $s, from: "4915112345678@c.us", body: $b) { id } }`;
const LEASE_MS = 1500;
const CONCURRENCY = 3;

function args(dataDir: string): string[] {
  return [
    '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir,
    '--webhook-allow-cidrs', '127.0.0.1/32',
    '--webhook-poll-interval-ms', '25',
    '--webhook-concurrency', String(CONCURRENCY),
    '--webhook-claim-lease-ms', String(LEASE_MS),
    '--webhook-retry-schedule', Array(20).fill(200).join(','),
    '--sandbox-start-delay-ms', '10', '--sandbox-auth-delay-ms', '10',
  ];
}

async function readySession(server: ServerProcess, sessionId: string): Promise<void> {
  await gql(server, `mutation($id: String!) { createSession(input: { sessionId: $id, waitForQR: true }) { session { status } } }`, { id: sessionId });
  await gql(server, `mutation($id: String!) { sandboxScanQr(sessionId: $id) { status } }`, { id: sessionId });
  await waitFor(async () => (await gql(server, `query($id: String!) { session(sessionId: $id) { status } }`, { id: sessionId })).session.status === 'READY', 10000, 'READY');
}

async function inject(server: ServerProcess, sessionId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 20) {
    await Promise.all(Array.from({ length: Math.min(20, count - i) }, (_, j) => gql(server, INJECT, { s: sessionId, b: `m${i + j}` })));
  }
}

function counts(ids: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const id of ids) out.set(id, (out.get(id) ?? 0) + 1);
  return out;
}

describe('webhooks: two servers on one PostgreSQL database', { ...(await needsPostgres()), timeout: 120_000 }, () => {
  let database: TestDatabase;
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];
  const receivers: Receiver[] = [];

  async function spawn(): Promise<ServerProcess> {
    const dir = tempDir();
    dirs.push(dir);
    const server = await spawnServer(args(dir), { DATABASE_URL: database.url });
    servers.push(server);
    return server;
  }

  async function register(server: ServerProcess, sessionId: string, url: string): Promise<string> {
    const data = await gql(server, `mutation($s: String!, $u: String!) { registerWebhook(input: { sessionId: $s, url: $u, events: [MESSAGE] }) { webhook { id } } }`, { s: sessionId, u: url });
    return data.registerWebhook.webhook.id;
  }

  before(async () => {
    database = await createTestDatabase();
  });

  after(async () => {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
    for (const r of receivers) await r.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await database?.drop();
  });

  it('N events give exactly N webhook-ids, none sent twice, both workers sending and at most the concurrency in flight across both', async () => {
    const a = await spawn();
    const b = await spawn();
    // The first attempt of each delivery fails (503): its retry is due 200 ms later, for whichever worker claims it
    // first (A, whose outbox queued the delivery, claims new ones as they are committed; the retries go to both).
    // A little time at the receiver, so attempts overlap.
    const failed = new Set<string>();
    const rx = await startReceiver((_, r) => {
      const id = r.headers['webhook-id'] as string;
      if (failed.has(id)) return { status: 200, delayMs: 15 };
      failed.add(id);
      return { status: 503, delayMs: 15 };
    });
    receivers.push(rx);
    await readySession(a, 'pair');
    const webhookId = await register(a, 'pair', rx.url);
    const N = 300;
    await inject(a, 'pair', N);
    const succeeded = async () => (await queryDatabase<{ n: number }>(database.url, `SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'SUCCEEDED'`, [webhookId]))[0]!.n;
    await waitFor(async () => (await succeeded()) === N, 60000, `${N} deliveries SUCCEEDED`);
    // Anything sent again would arrive within the next polls.
    await new Promise((r) => setTimeout(r, 300));
    const seen = counts(rx.ids());
    assert.equal(seen.size, N, 'N unique webhook-ids');
    assert.deepEqual([...seen.values()].filter((n) => n !== 2), [], 'each sent exactly twice: the failed attempt and its retry');
    assert.ok(rx.maxConcurrent <= CONCURRENCY, `at most ${CONCURRENCY} attempts at the endpoint at once across both servers (saw ${rx.maxConcurrent})`);
    const rows = await queryDatabase<{ id: string; attempts: number }>(database.url, 'SELECT id, attempts FROM webhook_deliveries WHERE webhook_id = $1', [webhookId]);
    assert.equal(rows.length, N, 'one outbox row per event');
    assert.deepEqual([...seen.keys()].sort(), rows.map((r) => r.id).sort(), 'the ids received are the outbox rows');
    assert.ok(rows.every((r) => r.attempts === 2), 'two attempts recorded on each');
    const outcomes = await Promise.all([a, b].map(async (s) => {
      const text = await scrape(s.url);
      return { delivered: sample(text, 'wa_gateway_webhook_deliveries_total', { outcome: 'delivered' }), retry: sample(text, 'wa_gateway_webhook_deliveries_total', { outcome: 'retry' }) };
    }));
    assert.equal(outcomes[0]!.delivered + outcomes[1]!.delivered, N, 'every successful attempt made once, by one server');
    assert.equal(outcomes[0]!.retry + outcomes[1]!.retry, N, 'every failed attempt made once');
    assert.ok(outcomes[1]!.delivered > 0, `both workers delivered (A ${outcomes[0]!.delivered}, B ${outcomes[1]!.delivered})`);
  });

  it('a server SIGKILLed with deliveries in flight: the other sends them once their claims lapse, duplicates only of those', async () => {
    const [a, b] = servers.length >= 2 ? servers : [await spawn(), await spawn()];
    // Slow answers: the attempts are in flight long enough to kill a server in the middle of them.
    const rx = await startReceiver(() => ({ status: 200, delayMs: 150 }));
    receivers.push(rx);
    await readySession(a!, 'kill');
    const webhookId = await register(a!, 'kill', rx.url);
    const N = 60;
    await inject(a!, 'kill', N);
    // Kill a server that holds claims (its node id names its pid) once some deliveries arrived.
    await waitFor(() => rx.received.length >= 6, 20000, 'the first deliveries');
    const holders = await waitFor(async () => {
      const rows = await queryDatabase<{ claimed_by: string }>(database.url, `SELECT DISTINCT claimed_by FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'PENDING' AND claimed_by IS NOT NULL`, [webhookId]);
      return rows.length > 0 ? rows.map((r) => r.claimed_by) : null;
    }, 10000, 'claims in flight');
    const victim = [a!, b!].find((s) => holders.some((h) => h.split(':').at(-2) === String(s.child.pid)));
    assert.ok(victim, `a server holding claims (${holders.join(', ')})`);
    const survivor = victim === a ? b! : a!;
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await victim.exited;
    const pid = String(victim.child.pid);
    // What the dead server had claimed and not completed: in flight at the kill.
    const inFlight = (
      await queryDatabase<{ id: string; claimed_by: string }>(database.url, `SELECT id, claimed_by FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'PENDING' AND claimed_by IS NOT NULL`, [webhookId])
    )
      .filter((r) => r.claimed_by.split(':').at(-2) === pid)
      .map((r) => r.id);

    // The session lives on A: with A killed, no more events; with B killed, A keeps sending. Either way every
    // outbox row arrives.
    const rows = await queryDatabase<{ id: string }>(database.url, 'SELECT id FROM webhook_deliveries WHERE webhook_id = $1', [webhookId]);
    assert.equal(rows.length, N, 'every event has its outbox row');
    await waitFor(() => rows.every((r) => rx.ids().includes(r.id)), 30000, 'every outbox row delivered');
    await waitFor(async () => (await queryDatabase<{ n: number }>(database.url, `SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'SUCCEEDED'`, [webhookId]))[0]!.n === N, 10000, 'all SUCCEEDED');
    const seen = counts(rx.ids());
    assert.equal(seen.size, N, 'unique webhook-ids received = outbox rows');
    assert.deepEqual([...seen.keys()].sort(), rows.map((r) => r.id).sort());
    const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
    assert.ok(twice.every((id) => inFlight.includes(id)), `duplicates (${twice.length}) only of the ${inFlight.length} deliveries the dead server had in flight`);
    // Its claims were taken over after their lease, not before.
    const resent = rx.received.filter((r) => inFlight.includes(r.headers['webhook-id'] as string) && r.at > killedAt);
    // (Claims are renewed every third of the lease: the last renewal was at most that long before the kill.)
    for (const r of resent) assert.ok(r.at - killedAt >= (LEASE_MS * 2) / 3 - 100, `re-sent ${r.at - killedAt} ms after the kill: not before its claim lapsed`);
    assert.ok(survivor.child.exitCode === null, 'the survivor runs on');
  });
});
