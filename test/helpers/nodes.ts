// Gateway nodes as real processes for the cluster tests: each a src/main.ts child with its own data dir, on the
// storage and Redis the test gives it, with the sandbox made fast.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { tempDir, waitFor } from './app.js';
import { spawnServer, type ServerProcess } from './process.js';

export const FAST_SANDBOX = {
  SANDBOX_START_DELAY_MS: '20',
  SANDBOX_QR_ROTATE_MS: '2000',
  SANDBOX_AUTH_DELAY_MS: '20',
  SANDBOX_DELIVERY_DELAY_MS: '5',
  SANDBOX_BOT_REPLY_DELAY_MS: '20',
};

/** The operations the cluster suites send to their nodes (sandbox sessions that scan themselves at once). */
export const CLUSTER_OPS = {
  CREATE: 'mutation($id: String!) { createSession(input: { sessionId: $id, config: { sandbox: { autoScanMs: 1 } } }) { session { sessionId } } }',
  LIST: '{ sessions { sessionId status node } }',
  SEND: 'mutation($input: SendTextInput!) { sendText(input: $input) { message { id } } }',
  INJECT: 'mutation($s: String!, $body: String!) { sandboxInjectMessage(sessionId: $s, from: "15557770001@c.us", body: $body) { id } }',
  SUB: 'subscription($s: String!) { message(sessionId: $s) { body fromMe } }',
  REGISTER: 'mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { webhook { id } } }',
  /** The sandbox's Echo Bot, which answers every message. */
  ECHO_BOT: '15550000001@c.us',
} as const;

export interface Node extends ServerProcess {
  gql<T = any>(query: string, variables?: Record<string, unknown>, key?: string): Promise<{ status: number; data?: T; errors?: any[] }>;
  gqlOk<T = any>(query: string, variables?: Record<string, unknown>, key?: string): Promise<T>;
  ws(connectionParams?: Record<string, unknown>): Client;
  stop(): Promise<void>;
}

/**
 * SIGKILLs `victim` (node `victimId`) and waits, 8 s at most (the cluster issue's bound), until every one of
 * `sessions` is READY on another node as each of `views` lists it; the failover's ms.
 */
export async function killForFailover(victim: Node, victimId: string, sessions: readonly string[], views: readonly { node: Node; name: string }[]): Promise<number> {
  const killedAt = Date.now();
  victim.child.kill('SIGKILL');
  await victim.exited;
  for (const view of views) {
    await waitFor(async () => {
      const listed = (await view.node.gqlOk(CLUSTER_OPS.LIST)).sessions as { sessionId: string; status: string; node: string | null }[];
      return sessions.every((s) => listed.some((x) => x.sessionId === s && x.status === 'READY' && x.node !== null && x.node !== victimId));
    }, 8000, `${victimId}'s sessions READY on another node within 8 s, as ${view.name} lists them`);
  }
  return Date.now() - killedAt;
}

/** Starts a node; `env` carries DATABASE_URL, REDIS_URL, REDIS_PREFIX and whatever else the test sets. */
export async function startNode(env: NodeJS.ProcessEnv, args: string[] = []): Promise<Node> {
  const proc = await spawnServer(['--port', '0', '--data-dir', tempDir('wa-gateway-node-'), ...args], { ...FAST_SANDBOX, ...env });
  const clients: Client[] = [];
  const gql = async (query: string, variables: Record<string, unknown> = {}, key?: string) => {
    const res = await fetch(`${proc.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { 'x-api-key': key } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, ...((await res.json()) as { data?: any; errors?: any[] }) };
  };
  return {
    ...proc,
    gql,
    async gqlOk(query, variables, key) {
      const result = await gql(query, variables, key);
      if (result.errors) throw new Error(`${proc.url}: ${JSON.stringify(result.errors)}`);
      return result.data;
    },
    ws(connectionParams) {
      const client = createClient({ url: `${proc.url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.allSettled(clients.map((c) => c.dispose()));
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill('SIGTERM');
        const done = await Promise.race([proc.exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
        if (done === 'timeout') proc.child.kill('SIGKILL');
      }
    },
  };
}

/**
 * Asks every node `nodes()` gives, every 50 ms, which sessions it drives itself (its own id as their node): a
 * session that two nodes claim at the same moment is recorded.
 */
export function ownershipSampler(nodes: () => { id: string; url: string }[], headers: Record<string, string> = {}) {
  const doubles: string[] = [];
  let samples = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      const claims = new Map<string, string[]>();
      await Promise.all(
        nodes().map(async (n) => {
          try {
            const res = await fetch(`${n.url}/graphql`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...headers },
              body: JSON.stringify({ query: '{ sessions { sessionId node } }' }),
              signal: AbortSignal.timeout(200),
            });
            const body = (await res.json()) as { data?: { sessions: { sessionId: string; node: string | null }[] } };
            for (const s of body.data?.sessions ?? []) if (s.node === n.id) claims.set(s.sessionId, [...(claims.get(s.sessionId) ?? []), n.id]);
          } catch {
            // a stopped or killed node does not answer: it claims nothing it could act on
          }
        }),
      );
      samples++;
      for (const [sessionId, by] of claims) if (by.length > 1) doubles.push(`${sessionId}: ${by.join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    doubles,
    get samples() {
      return samples;
    },
    async stop() {
      running = false;
      await done;
    },
  };
}

/**
 * A steady stream of events across a 2 s Redis outage: `inject` is called with m0, m1, ... one at a time, 10 ms
 * apart (true: acknowledged), Redis is stopped once 30 are acknowledged and started again 2 s later, and the
 * stream goes on until 30 more are. `whileStopped` runs just after the stop (its result is returned).
 */
export async function injectAcrossRedisOutage<T = undefined>(
  inject: (body: string) => Promise<boolean>,
  redis: { stop(): Promise<unknown>; start(): Promise<unknown> },
  whileStopped?: () => Promise<T>,
): Promise<{ acked: string[]; duringOutage: number; observed: T | undefined }> {
  const acked: string[] = [];
  let injecting = true;
  let n = 0;
  const injector = (async () => {
    while (injecting) {
      const body = `m${n++}`;
      if (await inject(body)) acked.push(body);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    await waitFor(() => acked.length >= 30, 10_000, 'events before the outage');
    await redis.stop();
    const stoppedAt = acked.length;
    const observed = await whileStopped?.();
    await new Promise((r) => setTimeout(r, 2000));
    const duringOutage = acked.length - stoppedAt;
    await redis.start();
    const back = acked.length;
    await waitFor(() => acked.length >= back + 30, 10_000, 'events after the outage');
    return { acked, duringOutage, observed };
  } finally {
    injecting = false;
    await injector;
  }
}
