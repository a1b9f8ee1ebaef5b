// Several real node processes on one PostgreSQL database: placement, routing between nodes, failover and
// fencing (issue 22). PostgreSQL by nature: this file runs in the first pass of the suite and not again in the
// PostgreSQL pass (scripts/run-tests.mjs, NOT_STORAGE).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { tempDir, waitFor } from './helpers/app.js';
import { createTestDatabase, needsPostgres, queryDatabase, type TestDatabase } from './helpers/pg.js';
import { runMain, spawnServer, type ServerProcess } from './helpers/process.js';
import { ownershipSampler } from './helpers/nodes.js';

const options = await needsPostgres();
const LEASE_MS = 3000;
const KEY = 'cluster-test-admin-key-0123456789';
const SECRET = 'cluster-test-secret-0123456789';
const auth = { authorization: `Bearer ${KEY}` };

interface Node {
  id: string;
  proc: ServerProcess;
  url: string;
}

async function gql(url: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  // Bounded: a call that hangs fails with what it was, not at the runner's timeout with nothing said.
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ query, variables }), signal: AbortSignal.timeout(20_000) }).catch((error: Error) => {
    throw new Error(`${url}: ${query.slice(0, 80)}: ${error.message}`);
  });
  const body = (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length) throw new Error(`${url}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** Every node started, stopped by the suite's after hook even when a test fails half-way through starting them. */
const started: Node[] = [];

async function startNode(db: TestDatabase, id: string, extra: string[] = []): Promise<Node> {
  const proc = await spawnServer(
    [
      '--port', '0', '--host', '127.0.0.1', '--data-dir', tempDir(), '--node-id', id, '--lease-ttl-ms', String(LEASE_MS),
      '--max-sessions', '12', '--sandbox-start-delay-ms', '20', '--sandbox-auth-delay-ms', '20', '--sandbox-bot-reply-delay-ms', '20',
      '--sandbox-delivery-delay-ms', '5', ...extra,
    ],
    { DATABASE_URL: db.url, API_KEY: KEY, CLUSTER_SECRET: SECRET, LOG_LEVEL: process.env.CLUSTER_LOG_LEVEL ?? 'warn' },
  );
  const node = { id, proc, url: proc.url };
  started.push(node);
  return node;
}

const LIST = '{ sessions { sessionId status node } }';
type Listed = { sessionId: string; status: string; node: string | null };

async function list(node: Node): Promise<Listed[]> {
  return (await gql(node.url, LIST)).sessions as Listed[];
}

async function owners(db: TestDatabase): Promise<Map<string, string | null>> {
  const rows = await queryDatabase<{ session_id: string; owner: string | null }>(db.url, 'SELECT session_id, owner FROM sessions');
  return new Map(rows.map((r) => [r.session_id, r.owner]));
}

async function metric(node: Node, kind: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`, { headers: auth })).text();
  const m = new RegExp(`wa_gateway_cluster_events_total\\{kind="${kind}"\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
}

async function createReady(via: Node, ids: string[]): Promise<void> {
  for (const sessionId of ids) {
    await gql(via.url, 'mutation($input: CreateSessionInput!) { createSession(input: $input) { session { sessionId } } }', {
      input: { sessionId, config: { sandbox: { autoScanMs: 1 } } },
    });
  }
  await waitFor(async () => (await list(via)).filter((s) => ids.includes(s.sessionId) && s.status === 'READY').length === ids.length, 20_000, 'every session READY');
}

describe('cluster options', () => {
  it('refuses --node-id without PostgreSQL, and a cluster with an API key but no --cluster-secret', async () => {
    const sqlite = await runMain(['--node-id', 'n1', '--data-dir', tempDir()]);
    assert.equal(sqlite.code, 2);
    assert.match(sqlite.output, /--node-id needs --database-url/);
    const open = await runMain(['--node-id', 'n1', '--data-dir', tempDir(), '--api-key', 'k'.repeat(32)], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    assert.equal(open.code, 2);
    assert.match(open.output, /--cluster-secret is required/);
  });
});

describe('cluster: three nodes on one PostgreSQL database', options, () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  after(async () => {
    await Promise.all(started.map((n) => (n.proc.child.kill('SIGCONT'), n.proc.child.kill('SIGKILL'), n.proc.exited)));
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  });

  it('spreads 12 sessions created through one node, every node lists all with their owner, and any node sends for any session', async () => {
    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    const nodes = [await startNode(db, 'n1'), await startNode(db, 'n2'), await startNode(db, 'n3')];
    const ids = Array.from({ length: 12 }, (_, i) => `s${i + 1}`);
    await createReady(nodes[0]!, ids);

    const owner = await owners(db);
    for (const n of nodes) {
      const mine = ids.filter((id) => owner.get(id) === n.id).length;
      assert.ok(mine >= 2, `${n.id} owns ${mine} sessions`);
    }
    for (const n of nodes) {
      await waitFor(async () => {
        const listed = await list(n);
        return listed.length === 12 && listed.every((s) => s.status === 'READY' && s.node === owner.get(s.sessionId));
      }, 10_000, `${n.id} lists all 12 READY with their owner`);
    }
    const info = await gql(nodes[1]!.url, '{ nodes { id alive sessions maxSessions } }');
    assert.deepEqual(
      info.nodes.map((n: any) => [n.id, n.alive, n.maxSessions]),
      nodes.map((n) => [n.id, true, 12]),
    );
    assert.equal(info.nodes.reduce((sum: number, n: any) => sum + n.sessions, 0), 12);
    const health = (await (await fetch(`${nodes[2]!.url}/health`)).json()) as any;
    assert.equal(health.data.cluster.nodeId, 'n3');
    assert.equal(health.data.cluster.lease, 'held');
    // The calls between nodes need the cluster secret (the API key is not enough).
    for (const headers of [{}, auth, { 'x-cluster-secret': 'wrong-secret-0123456789' }] as Record<string, string>[]) {
      const refused = await fetch(`${nodes[0]!.url}/internal/cluster/calls`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"calls":[]}' });
      assert.equal(refused.status, 401);
    }

    // A send entering at a node that does not own the session: forwarded to its owner, which the Echo Bot answers.
    const target = ids.find((id) => owner.get(id) === 'n2')!;
    const sent = await gql(nodes[2]!.url, 'mutation($input: SendTextInput!) { sendText(input: $input) { message { id fromMe body chatId } } }', {
      input: { sessionId: target, chatId: '15550000001@c.us', content: 'hello across nodes' },
    });
    assert.equal(sent.sendText.message.fromMe, true);
    assert.equal(sent.sendText.message.body, 'hello across nodes');
    const history = await waitFor(async () => {
      const data = await gql(nodes[0]!.url, 'query($s: String!) { session(sessionId: $s) { chat(chatId: "15550000001@c.us") { messages(last: 10) { edges { node { body fromMe } } } } } }', { s: target });
      const bodies = data.session.chat?.messages.edges.map((e: any) => e.node) ?? [];
      return bodies.length >= 2 ? bodies : null;
    }, 5000, 'the echo in the history, read through a third node');
    assert.ok(history.some((m: any) => !m.fromMe), 'the echo arrived at the owner');

    // Lifecycle calls entering at a non-owner run at the owner.
    const stopped = await gql(nodes[2]!.url, 'mutation($id: String!) { stopSession(sessionId: $id) { sessionId status node } }', { id: target });
    assert.deepEqual(stopped.stopSession, { sessionId: target, status: 'TERMINATED', node: 'n2' });
    await gql(nodes[0]!.url, 'mutation($id: String!) { startSession(sessionId: $id) { sessionId } }', { id: target });
    await waitFor(async () => (await list(nodes[2]!)).find((x) => x.sessionId === target)?.status === 'READY', 5000, 'started again through n1');
    const gone = ids.find((id) => owner.get(id) === 'n3')!;
    await gql(nodes[0]!.url, 'mutation($id: String!) { removeSession(sessionId: $id) { removed } }', { id: gone });
    for (const n of nodes) await waitFor(async () => (await list(n)).length === 11, 5000, `${n.id} lists the removal`);
    ids.splice(ids.indexOf(gone), 1);

    // Reads of many sessions at once: one internal call per other node, whatever the number of sessions.
    const before = await metric(nodes[0]!, 'internalRequests');
    const chats = await gql(nodes[0]!.url, '{ sessions { sessionId chats(first: 5) { edges { node { id } } } } }');
    assert.equal(chats.sessions.length, 11);
    const made = (await metric(nodes[0]!, 'internalRequests')) - before;
    assert.ok(made <= 2, `${made} internal requests for 11 sessions on 3 nodes`);
  });

  it('places each session on the least-loaded node with room, and refuses only when no node has room', async () => {
    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    const nodes = [await startNode(db, 'm1', ['--max-sessions', '1']), await startNode(db, 'm2', ['--max-sessions', '1'])];
    await createReady(nodes[0]!, ['p1', 'p2']);
    assert.deepEqual([...(await owners(db)).values()].sort(), ['m1', 'm2']);
    const res = await fetch(`${nodes[1]!.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ query: 'mutation { createSession(input: { sessionId: "p3" }) { session { sessionId } } }' }),
    });
    const body = (await res.json()) as any;
    assert.equal(body.errors?.[0]?.extensions?.code, 'MAX_SESSIONS_REACHED');
  });

  it('moves the sessions of a SIGKILLed node, never has two owners, fences a frozen node, and hands over on SIGTERM', async () => {
    const db = await createTestDatabase();
    cleanup.push(() => db.drop());
    // n3 answers the Echo Bot late: a reply still due when it is frozen must not be written after it lost its sessions.
    const nodes = [await startNode(db, 'n1'), await startNode(db, 'n2'), await startNode(db, 'n3', ['--sandbox-bot-reply-delay-ms', '1500'])];
    const ids = Array.from({ length: 9 }, (_, i) => `f${i + 1}`);
    await createReady(nodes[0]!, ids);
    let live = [...nodes];
    const sampler = ownershipSampler(() => live, auth);
    // Stopped on failure too: a sampler left running keeps the file alive until the runner's timeout.
    cleanup.push(() => sampler.stop());

    // SIGKILL n2: its sessions come back READY on another node.
    const lostByN2 = [...(await owners(db))].filter(([, o]) => o === 'n2').map(([id]) => id);
    assert.ok(lostByN2.length >= 2);
    const killedAt = Date.now();
    nodes[1]!.proc.child.kill('SIGKILL');
    await nodes[1]!.proc.exited;
    live = [nodes[0]!, nodes[2]!];
    await waitFor(async () => {
      const listed = await list(nodes[0]!);
      return lostByN2.every((id) => listed.some((s) => s.sessionId === id && s.status === 'READY' && s.node !== 'n2' && s.node !== null));
    }, 8000, "n2's sessions READY on another node within 8 s");
    const failoverMs = Date.now() - killedAt;
    console.log(`# failover after SIGKILL (lease ${LEASE_MS} ms): ${failoverMs} ms for ${lostByN2.length} sessions`);

    // SIGSTOP n3 right after it sent to the Echo Bot (the answers are due 1.5 s later, inside the frozen process).
    const heldByN3 = [...(await owners(db))].filter(([, o]) => o === 'n3').map(([id]) => id);
    assert.ok(heldByN3.length >= 1);
    for (const sessionId of heldByN3) {
      await gql(nodes[2]!.url, 'mutation($input: SendTextInput!) { sendText(input: $input) { message { id } } }', {
        input: { sessionId, chatId: '15550000001@c.us', content: 'answer me later' },
      });
    }
    const stoppedAt = Date.now();
    nodes[2]!.proc.child.kill('SIGSTOP');
    live = [nodes[0]!];
    // The 8 s bound of the issue is the SIGKILL's above. A node frozen mid-transaction holds its fence's lock until
    // the database ends that transaction (idle_in_transaction_session_timeout, set to the lease on every connection
    // of a node), so this takeover may take about two leases.
    await waitFor(async () => {
      const listed = await list(nodes[0]!);
      return heldByN3.every((id) => listed.some((s) => s.sessionId === id && s.status === 'READY' && s.node === 'n1'));
    }, 12_000, "n3's sessions READY on n1").catch(async (error) => {
      console.log('# on failure: list', JSON.stringify(await list(nodes[0]!)));
      console.log('# on failure: owners', JSON.stringify([...(await owners(db))]));
      console.log('# on failure: activity', JSON.stringify(await queryDatabase(db.url, "SELECT pid, state, application_name, backend_start, xact_start, state_change, left(query, 200) AS q, wait_event_type, wait_event FROM pg_stat_activity WHERE datname = current_database()")));
      console.log('# on failure: locks', JSON.stringify(await queryDatabase(db.url, "SELECT l.pid, l.locktype, l.mode, l.granted, c.relname FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database())")));
      console.log('# on failure: nodes', JSON.stringify(await queryDatabase(db.url, "SELECT node_id, epoch, expires_at, (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now FROM cluster_nodes")));
      console.log('# on failure: n1 output', nodes[0]!.proc.output().slice(-6000));
      throw error;
    });
    console.log(`# takeover from a SIGSTOPped node: ${Date.now() - stoppedAt} ms for ${heldByN3.length} sessions`);
    await new Promise((r) => setTimeout(r, 300));
    const snapshot = () =>
      queryDatabase(
        db.url,
        `SELECT s.session_id, s.status, s.last_activity, s.owner, s.owner_epoch,
           (SELECT count(*) FROM sandbox_messages m WHERE m.session_id = s.session_id) AS messages
         FROM sessions s WHERE s.session_id = ANY($1) ORDER BY s.session_id`.replace('$1', '?'),
        [heldByN3],
      );
    const taken = await snapshot();
    await new Promise((r) => setTimeout(r, Math.max(0, stoppedAt + 2 * LEASE_MS - Date.now())));
    nodes[2]!.proc.child.kill('SIGCONT');
    live = [nodes[0]!, nodes[2]!];
    // Resumed: its timers fire (the Echo Bot's answers among them), it finds its lease gone and joins again.
    await waitFor(async () => (await metric(nodes[2]!, 'leaseLost')) >= 1, 5000, 'n3 saw its lease lost');
    await new Promise((r) => setTimeout(r, 2000));
    assert.deepEqual(await snapshot(), taken, 'the resumed node wrote nothing for the sessions it lost');
    const n3 = (await gql(nodes[0]!.url, '{ nodes { id alive } }')).nodes.find((n: any) => n.id === 'n3');
    assert.equal(n3.alive, true, 'n3 joined again');

    // SIGTERM n1: it gives its sessions up at once and n3 takes them.
    const heldByN1 = [...(await owners(db))].filter(([, o]) => o === 'n1').map(([id]) => id);
    const termAt = Date.now();
    nodes[0]!.proc.child.kill('SIGTERM');
    await waitFor(async () => {
      const listed = await list(nodes[2]!);
      return heldByN1.every((id) => listed.some((s) => s.sessionId === id && s.status === 'READY' && s.node === 'n3'));
    }, 8000, "n1's sessions READY on n3 after SIGTERM");
    const handoverMs = Date.now() - termAt;
    console.log(`# handover after SIGTERM: ${handoverMs} ms for ${heldByN1.length} sessions`);
    live = [nodes[2]!];
    assert.equal(await nodes[0]!.proc.exited, 0);
    await sampler.stop();
    assert.ok(sampler.samples > 20, `${sampler.samples} samples`);
    assert.deepEqual(sampler.doubles, [], 'no session had two owners at once');
    assert.ok(handoverMs <= 2000, `SIGTERM handover took ${handoverMs} ms`);
  });
});
