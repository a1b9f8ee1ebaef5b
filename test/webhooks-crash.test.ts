import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { tempDir, waitFor } from './helpers/app.js';
import { spawnServer, type ServerProcess } from './helpers/process.js';
import { freePort, startReceiver } from './helpers/webhooks.js';

async function gql(server: ServerProcess, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const DELIVERIES = `query { session(sessionId: "crash") { webhooks {
  deliveryCounts { pending succeeded failed }
  deliveries(last: 1000) { id status event }
} } }`;

describe('webhook crash safety', () => {
  it('queued deliveries survive SIGKILL: after the restart every one arrives, duplicates only with the same webhook-id', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const args = [
      '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir,
      '--webhook-allow-cidrs', '127.0.0.1/32',
      // Long enough that nothing runs out while the receiver is down.
      '--webhook-retry-schedule', Array(60).fill(1000).join(','),
      '--webhook-poll-interval-ms', '25',
      '--sandbox-start-delay-ms', '10', '--sandbox-auth-delay-ms', '10',
    ];
    let server = await spawnServer(args);
    const receiver = { current: null as Awaited<ReturnType<typeof startReceiver>> | null };
    try {
      await gql(server, `mutation { createSession(input: { sessionId: "crash", waitForQR: true }) { session { status } } }`);
      await gql(server, `mutation { sandboxScanQr(sessionId: "crash") { status } }`);
      await waitFor(async () => (await gql(server, '{ session(sessionId: "crash") { status } }')).session.status === 'READY', 10000, 'READY');
      await gql(server, `mutation($url: String!) { registerWebhook(input: { sessionId: "crash", url: $url, events: [MESSAGE] }) { webhook { id } } }`, {
        url: `http://127.0.0.1:${port}/hook`,
      });
      // The receiver is down: every message becomes a pending delivery, none can be sent.
      for (let i = 0; i < 200; i += 20) {
        await Promise.all(
          Array.from({ length: 20 }, (_, j) =>
            gql(server, `mutation($body: String!) { sandboxInjectMessage(sessionId: "crash", from: "4915112345678@c.us", body: $body) { id } }`, { body: `m${i + j}` }),
          ),
        );
      }
      const before = (await gql(server, DELIVERIES)).session.webhooks[0];
      assert.deepEqual(before.deliveryCounts, { pending: 200, succeeded: 0, failed: 0 }, '200 messages, 200 pending deliveries');

      server.child.kill('SIGKILL');
      assert.equal(await server.exited, 'SIGKILL');
      // Read after the kill, from what the killed process had committed.
      server = await spawnServer(args);
      const queued = (await gql(server, DELIVERIES)).session.webhooks[0];
      assert.equal(queued.deliveryCounts.pending, 200, 'nothing queued before the kill is lost');
      const ids: string[] = before.deliveries.map((d: any) => d.id);
      assert.deepEqual(queued.deliveries.map((d: any) => d.id).sort(), [...ids].sort());

      receiver.current = await startReceiver(() => ({ status: 200 }), port);
      const rx = receiver.current;
      await waitFor(() => ids.every((id) => rx.ids().includes(id)), 30000, 'every queued delivery to arrive');
      const bodies = new Map<string, Set<string>>();
      for (const r of rx.received) {
        const id = r.headers['webhook-id'] as string;
        assert.equal(r.json.id, id);
        bodies.set(id, (bodies.get(id) ?? new Set()).add(r.body));
      }
      for (const [id, set] of bodies) assert.equal(set.size, 1, `every copy of ${id} is the same body`);
      const after = await waitFor(async () => {
        const hook = (await gql(server, DELIVERIES)).session.webhooks[0];
        const mine = hook.deliveries.filter((d: any) => ids.includes(d.id));
        return mine.every((d: any) => d.status === 'SUCCEEDED') ? mine : null;
      }, 10000, 'all marked SUCCEEDED');
      assert.equal(after.length, 200);
      assert.equal(new Set(rx.ids()).size, 200, 'all 200 arrived, none lost');
      const texts = rx.received.map((r) => r.json.data.body);
      assert.deepEqual([...new Set(texts)].sort(), Array.from({ length: 200 }, (_, i) => `m${i}`).sort());
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
      await receiver.current?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
