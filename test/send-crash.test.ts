import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { storeSql, tempDir, waitFor } from './helpers/app.js';
import { storageEnv, spawnServer, type ServerProcess } from './helpers/process.js';
import { freePort } from './helpers/webhooks.js';

// Issue 21, Must show 2: a SIGKILL in the middle of a burst of sends loses no acknowledged send and no outbox
// row. A real server process on either backend (the suites' PostgreSQL run gives it a database of its own),
// several senders at once, a webhook on both sessions (its receiver down, so every event stays an outbox row),
// the kill while sends are in flight, a restart on the same data.

async function gql(server: ServerProcess, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: any; errors?: unknown[] };
  if (!res.ok || body.errors?.length) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const SEND = 'mutation($i: SendTextInput!) { sendText(input: $i) { message { id } } }';
const SENDERS = 8;

describe('sends survive SIGKILL', () => {
  it('every send answered with a message id before the kill is in the history after the restart, with its outbox rows', async (t) => {
    const dataDir = tempDir();
    const hookPort = await freePort();
    const args = [
      '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir,
      '--webhook-allow-cidrs', '127.0.0.1/32',
      // Nothing listens on hookPort: deliveries stay PENDING (a long schedule, so none fails for good).
      '--webhook-retry-schedule', Array(30).fill(60_000).join(','),
      '--sandbox-start-delay-ms', '10', '--sandbox-auth-delay-ms', '10',
    ];
    const { DATABASE_URL: databaseUrl } = await storageEnv(args);
    let server = await spawnServer(args);
    try {
      const webhooks: Record<string, string> = {};
      for (const id of ['A', 'B']) {
        await gql(server, `mutation($id: String!) { createSession(input: { sessionId: $id, waitForQR: true }) { session { status } } }`, { id });
        await gql(server, `mutation($id: String!) { sandboxScanQr(sessionId: $id) { status } }`, { id });
        await waitFor(async () => (await gql(server, `query($id: String!) { session(sessionId: $id) { status } }`, { id })).session.status === 'READY', 10000, `${id} READY`);
        const registered = await gql(server, `mutation($i: RegisterWebhookInput!) { registerWebhook(input: $i) { webhook { id } } }`, {
          i: { sessionId: id, url: `http://127.0.0.1:${hookPort}/hook`, events: ['MESSAGE'] },
        });
        webhooks[id] = registered.registerWebhook.webhook.id;
      }
      const bChat = (await gql(server, '{ session(sessionId: "B") { me { id } } }')).session.me.id as string;

      // The burst: senders in parallel until the kill; an answer with a message id is an acknowledged send.
      const acked: string[] = [];
      let failed = 0;
      let stop = false;
      const target = server;
      const senders = Array.from({ length: SENDERS }, async (_, s) => {
        for (let n = 0; !stop; n++) {
          try {
            const data = await gql(target, SEND, { i: { sessionId: 'A', chatId: bChat, content: `s${s}-${n}` } });
            acked.push(data.sendText.message.id as string);
          } catch {
            failed++;
            if (target.child.signalCode !== null) return;
          }
        }
      });
      await waitFor(() => acked.length >= 150, 30000, '150 acknowledged sends');
      server.child.kill('SIGKILL');
      assert.equal(await server.exited, 'SIGKILL');
      stop = true;
      await Promise.all(senders);
      assert.ok(failed > 0, 'the kill came in the middle of the burst (sends were in flight)');
      t.diagnostic(`${acked.length} sends acknowledged, ${failed} requests failed by the kill`);

      // Read after the restart, from what the killed process had committed.
      server = await spawnServer(args);
      await waitFor(async () => (await gql(server, '{ sessions { status } }')).sessions.every((s: { status: string }) => s.status === 'READY'), 10000, 'READY again');
      const sql = <T>(text: string, params: unknown[] = []) => storeSql<T>(dataDir, text, params, databaseUrl || undefined);
      const stored = new Set((await sql<{ message_id: string }>("SELECT message_id FROM sandbox_messages WHERE session_id = 'A'")).map((r) => r.message_id));
      const lost = acked.filter((id) => !stored.has(id));
      assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged sends missing from the history`);
      // The history as a client reads it has them too.
      const listed = new Set<string>();
      for (let before: string | null = null; ; ) {
        const page: any = await gql(
          server,
          `query($c: String!, $before: String) { session(sessionId: "A") { chat(chatId: $c) { messages(last: 200, before: $before) {
            edges { node { id } } pageInfo { hasPreviousPage startCursor } } } } }`,
          { c: bChat, before },
        );
        const { edges, pageInfo } = page.session.chat.messages;
        for (const e of edges) listed.add(e.node.id);
        if (!pageInfo.hasPreviousPage) break;
        before = pageInfo.startCursor;
      }
      assert.deepEqual(acked.filter((id) => !listed.has(id)), [], 'every acknowledged send is in the chat history');

      // Each acknowledged send has its outbox row on the sender's webhook (the event of its own message), and
      // each message it reached B with has one on B's: a message and its outbox rows commit together.
      const rows = await sql<{ webhook_id: string; body: string }>('SELECT webhook_id, body FROM webhook_deliveries');
      const bodiesOf = (webhookId: string) => rows.filter((r) => r.webhook_id === webhookId).map((r) => r.body).join('\n');
      const aBodies = bodiesOf(webhooks.A!);
      const noRow = acked.filter((id) => !aBodies.includes(id));
      assert.deepEqual(noRow, [], `${noRow.length} acknowledged sends without their outbox row`);
      const delivered = await sql<{ message_id: string }>("SELECT message_id FROM sandbox_messages WHERE session_id = 'B'");
      const bBodies = bodiesOf(webhooks.B!);
      const deliveredNoRow = delivered.filter((r) => !bBodies.includes(r.message_id));
      assert.deepEqual(deliveredNoRow, [], 'every message B holds has its outbox row');
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
