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
      '--webhook-retry-schedule', Array(60).fill(250).join(','),
      '--webhook-poll-interval-ms', '25',
      '--sandbox-start-delay-ms', '10', '--qr-timeout', '600',
    ];
    // A new QR every 10 ms makes events quickly; after the restart they slow down to keep the count readable.
    let server = await spawnServer([...args, '--sandbox-qr-rotate-ms', '10']);
    const receiver = { current: null as Awaited<ReturnType<typeof startReceiver>> | null };
    try {
      await gql(server, `mutation { createSession(input: { sessionId: "crash", waitForQR: true }) { session { status } } }`);
      await gql(server, `mutation($url: String!) { registerWebhook(input: { sessionId: "crash", url: $url, events: [QR] }) { webhook { id } } }`, {
        url: `http://127.0.0.1:${port}/hook`,
      });
      // The receiver is down: every QR rotation becomes a pending delivery, none can be sent.
      const before = await waitFor(async () => {
        const hook = (await gql(server, DELIVERIES)).session.webhooks[0];
        return hook.deliveryCounts.pending >= 200 ? hook : null;
      }, 60000, '200 pending deliveries');
      assert.equal(before.deliveryCounts.succeeded, 0);
      assert.equal(before.deliveryCounts.failed, 0);

      server.child.kill('SIGKILL');
      assert.equal(await server.exited, 'SIGKILL');
      // Read after the kill, from what the killed process had committed.
      server = await spawnServer([...args, '--sandbox-qr-rotate-ms', '60000']);
      const queued = (await gql(server, DELIVERIES)).session.webhooks[0].deliveries.filter((d: any) => d.event === 'qr');
      assert.ok(queued.length >= before.deliveries.length, 'nothing queued before the kill is lost');
      const ids: string[] = before.deliveries.map((d: any) => d.id);
      for (const id of ids) assert.ok(queued.some((d: any) => d.id === id), `delivery ${id} is still there`);

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
      assert.equal(after.length, ids.length);
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
      await receiver.current?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
