// urql (@urql/core) against wa-gateway: fetchExchange for queries and mutations, subscriptionExchange
// over graphql-ws. Like the Apollo example it logs a sandbox session in, sends a text to the Echo Bot
// and waits for the echo through the `message` subscription; then it removes the session.
//
//   npm start                                 # in another terminal
//   node --import tsx examples/urql-client.ts # WA_GATEWAY_URL, WA_API_KEY, SESSION_ID to change

import { Client, fetchExchange, gql, subscriptionExchange } from '@urql/core';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const url = process.env.WA_GATEWAY_URL ?? 'http://localhost:8080';
const apiKey = process.env.WA_API_KEY;
const sessionId = process.env.SESSION_ID ?? `urql-${Date.now().toString(36)}`;
const ECHO_BOT = '15550000001@c.us';

const wsClient = createClient({
  url: `${url.replace(/^http/, 'ws')}/graphql`,
  webSocketImpl: WebSocket, // Node 20 has no global WebSocket; browsers pass nothing here
  connectionParams: apiKey ? { apiKey } : {},
});
const client = new Client({
  url: `${url}/graphql`,
  fetchOptions: (): RequestInit => ({ headers: apiKey ? { 'x-api-key': apiKey } : {} }),
  exchanges: [
    fetchExchange,
    subscriptionExchange({
      forwardSubscription(request) {
        const input = { ...request, query: request.query ?? '' };
        return { subscribe: (sink) => ({ unsubscribe: wsClient.subscribe(input, sink) }) };
      },
    }),
  ],
});

const CREATE = gql`
  mutation Create($sessionId: String!) {
    createSession(input: { sessionId: $sessionId }) { session { sessionId status } }
  }
`;
const STATUS = gql`
  subscription Status($sessionId: String!) { sessionStatus(sessionId: $sessionId) { status reason } }
`;
const MESSAGES = gql`
  subscription Messages($sessionId: String!, $chatId: String) {
    message(sessionId: $sessionId, chatId: $chatId) { id body fromMe chatId }
  }
`;
const SCAN = gql`mutation Scan($sessionId: String!) { sandboxScanQr(sessionId: $sessionId) { status } }`;
const SEND = gql`
  mutation Send($input: SendTextInput!) { sendText(input: $input) { message { id ack } } }
`;
const REMOVE = gql`mutation Remove($sessionId: String!) { removeSession(sessionId: $sessionId) { removed } }`;

type StatusData = { sessionStatus: { status: string; reason: string | null } };
type MessageData = { message: { id: string; body: string | null; fromMe: boolean; chatId: string } };

async function mutate(document: typeof CREATE, variables: Record<string, unknown>): Promise<void> {
  const result = await client.mutation(document, variables).toPromise();
  if (result.error) throw result.error;
}

async function main(): Promise<void> {
  await mutate(CREATE, { sessionId });
  console.log(`created session ${sessionId}`);

  const text = `hello from urql ${Date.now()}`;
  let messages: { unsubscribe(): void } | undefined;
  const echoed = new Promise<string>((resolve, reject) => {
    messages = client.subscription<MessageData>(MESSAGES, { sessionId, chatId: ECHO_BOT }).subscribe((result) => {
      if (result.error) return reject(result.error);
      const m = result.data!.message;
      console.log(`message ${m.fromMe ? 'out' : 'in '} ${m.chatId}: ${m.body}`);
      if (!m.fromMe && m.body === text) resolve(m.body);
    });
  });

  let statuses: { unsubscribe(): void } | undefined;
  await new Promise<void>((resolve, reject) => {
    statuses = client.subscription<StatusData>(STATUS, { sessionId }).subscribe((result) => {
      if (result.error) return reject(result.error);
      const { status, reason } = result.data!.sessionStatus;
      console.log(`status ${status}${reason ? ` (${reason})` : ''}`);
      // The sandbox engine has a mutation that scans the QR code as a phone would.
      if (status === 'QR_READY') mutate(SCAN, { sessionId }).catch(reject);
      if (status === 'READY') resolve();
      if (status === 'FAILED') reject(new Error(`session failed: ${reason}`));
    });
  });

  statuses?.unsubscribe();
  await mutate(SEND, { input: { sessionId, chatId: ECHO_BOT, content: text } });
  console.log(`received echo: ${await echoed}`);
  messages?.unsubscribe();
  await mutate(REMOVE, { sessionId });
}

const deadline = setTimeout(() => {
  console.error('timed out');
  process.exit(1);
}, Number(process.env.EXAMPLE_TIMEOUT_MS ?? 30_000));

main().then(
  async () => {
    clearTimeout(deadline);
    await wsClient.dispose();
  },
  (error: unknown) => {
    console.error(`failed: ${(error as Error)?.message ?? String(error)}`);
    process.exit(1);
  },
);
