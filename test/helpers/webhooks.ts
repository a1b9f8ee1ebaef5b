import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
  at: number;
  path: string;
}

/** What the receiver answers to the n-th request (0-based): a status, extra headers, or `hang` (never answer). */
export type Reply = { status: number; headers?: Record<string, string>; delayMs?: number } | 'hang';
export type ReplyFn = (n: number, received: Received) => Reply;

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Most requests open at once so far. */
  maxConcurrent: number;
  reply: ReplyFn;
  ids(): string[];
  close(): Promise<void>;
}

/** A real node:http webhook endpoint on 127.0.0.1 that records everything it gets. */
export async function startReceiver(reply: ReplyFn = () => ({ status: 200 }), port = 0): Promise<Receiver> {
  const hanging = new Set<ServerResponse>();
  let open = 0;
  const receiver: Receiver = {
    url: '',
    port: 0,
    received: [],
    maxConcurrent: 0,
    reply,
    ids: () => receiver.received.map((r) => r.headers['webhook-id'] as string),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server: Server = createServer((req, res) => {
    open++;
    receiver.maxConcurrent = Math.max(receiver.maxConcurrent, open);
    res.on('close', () => open--);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {
        // kept as text
      }
      const entry: Received = { headers: req.headers, body, json, at: Date.now(), path: req.url ?? '/' };
      const n = receiver.received.length;
      receiver.received.push(entry);
      const answer = receiver.reply(n, entry);
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      const send = () => {
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end('ok');
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hook`;
  return receiver;
}

/** A loopback port that nothing listens on (for a receiver that is down, brought up later on it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// GraphQL documents the webhook tests share.
export const REGISTER = `mutation($input: RegisterWebhookInput!) {
  registerWebhook(input: $input) { secret webhook { id sessionId url events allEvents headers enabled createdAt } }
}`;
export const DELIVERIES = `query($id: String!, $last: Int) { session(sessionId: $id) { webhooks {
  id enabled disabledReason failingSince deliveryCounts { pending succeeded failed }
  deliveries(last: $last) { id event status attempts lastResponseCode lastError nextAttemptAt payload }
} } }`;
export const TEST = `mutation($s: String!, $w: ID!) { testWebhook(sessionId: $s, webhookId: $w) { id event status attempts lastResponseCode lastError nextAttemptAt } }`;
export const UPDATE = `mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { id enabled disabledReason failingSince url events } }`;
export const REDELIVER = `mutation($id: ID!) { redeliver(deliveryId: $id) { id status attempts } }`;
