// Apollo Client against wa-gateway: queries and mutations over HTTP, subscriptions over graphql-ws.
// It creates a sandbox session, scans its QR, waits for READY, sends a text to the built-in Echo Bot
// and waits for the echo to arrive through the `message` subscription; then it removes the session.
//
//   npm start                                   # in another terminal
//   node --import tsx examples/apollo-client.ts # WA_GATEWAY_URL, WA_API_KEY, SESSION_ID to change

import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { OperationTypeNode } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const url = process.env.WA_GATEWAY_URL ?? 'http://localhost:8080';
const apiKey = process.env.WA_API_KEY;
const sessionId = process.env.SESSION_ID ?? `apollo-${Date.now().toString(36)}`;
const ECHO_BOT = '15550000001@c.us';

const wsClient = createClient({
  url: `${url.replace(/^http/, 'ws')}/graphql`,
  webSocketImpl: WebSocket, // Node 20 has no global WebSocket; browsers pass nothing here
  connectionParams: apiKey ? { apiKey } : {},
});
const client = new ApolloClient({
  cache: new InMemoryCache(),
  link: ApolloLink.split(
    (operation) => operation.operationType === OperationTypeNode.SUBSCRIPTION,
    new GraphQLWsLink(wsClient),
    new HttpLink({ uri: `${url}/graphql`, headers: apiKey ? { 'x-api-key': apiKey } : {} }),
  ),
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

async function main(): Promise<void> {
  await client.mutate({ mutation: CREATE, variables: { sessionId } });
  console.log(`created session ${sessionId}`);

  const text = `hello from Apollo ${Date.now()}`;
  let messages: { unsubscribe(): void } | undefined;
  const echoed = new Promise<string>((resolve, reject) => {
    messages = client.subscribe<MessageData>({ query: MESSAGES, variables: { sessionId, chatId: ECHO_BOT } }).subscribe({
      next: ({ data, error }) => {
        if (error) return reject(error);
        const m = data!.message;
        console.log(`message ${m.fromMe ? 'out' : 'in '} ${m.chatId}: ${m.body}`);
        if (!m.fromMe && m.body === text) resolve(m.body);
      },
      error: reject,
    });
  });

  let statuses: { unsubscribe(): void } | undefined;
  const ready = new Promise<void>((resolve, reject) => {
    statuses = client.subscribe<StatusData>({ query: STATUS, variables: { sessionId } }).subscribe({
      next: ({ data, error }) => {
        if (error) return reject(error);
        const { status, reason } = data!.sessionStatus;
        console.log(`status ${status}${reason ? ` (${reason})` : ''}`);
        // The sandbox engine has a mutation that scans the QR code as a phone would.
        if (status === 'QR_READY') void client.mutate({ mutation: SCAN, variables: { sessionId } });
        if (status === 'READY') resolve();
        if (status === 'FAILED') reject(new Error(`session failed: ${reason}`));
      },
      error: reject,
    });
  });
  await ready;
  statuses?.unsubscribe();

  await client.mutate({ mutation: SEND, variables: { input: { sessionId, chatId: ECHO_BOT, content: text } } });
  console.log(`received echo: ${await echoed}`);
  messages?.unsubscribe();
  await client.mutate({ mutation: REMOVE, variables: { sessionId } });
}

const deadline = setTimeout(() => {
  console.error('timed out');
  process.exit(1);
}, Number(process.env.EXAMPLE_TIMEOUT_MS ?? 30_000));

main().then(
  async () => {
    clearTimeout(deadline);
    client.stop();
    await wsClient.dispose();
  },
  (error: unknown) => {
    console.error(`failed: ${(error as Error)?.message ?? String(error)}`);
    process.exit(1);
  },
);
