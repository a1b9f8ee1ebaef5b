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
import { apiKey, CREATE, deadline, ECHO_BOT, fail, MESSAGES, REMOVE, SCAN, SEND, STATUS, url, wsUrl, type MessageData, type StatusData } from './operations.js';

const sessionId = process.env.SESSION_ID ?? `apollo-${Date.now().toString(36)}`;

const wsClient = createClient({
  url: wsUrl,
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

async function main(): Promise<void> {
  await client.mutate({ mutation: gql(CREATE), variables: { sessionId } });
  console.log(`created session ${sessionId}`);

  // Subscribed before the session is READY, so the echo cannot arrive before we listen.
  const text = `hello from Apollo ${Date.now()}`;
  let messages: { unsubscribe(): void } | undefined;
  const echoed = new Promise<string>((resolve, reject) => {
    messages = client.subscribe<MessageData>({ query: gql(MESSAGES), variables: { sessionId, chatId: ECHO_BOT } }).subscribe({
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
  await new Promise<void>((resolve, reject) => {
    statuses = client.subscribe<StatusData>({ query: gql(STATUS), variables: { sessionId } }).subscribe({
      next: ({ data, error }) => {
        if (error) return reject(error);
        const { status, reason } = data!.sessionStatus;
        console.log(`status ${status}${reason ? ` (${reason})` : ''}`);
        if (status === 'QR_READY') client.mutate({ mutation: gql(SCAN), variables: { sessionId } }).catch(reject);
        if (status === 'READY') resolve();
        if (status === 'FAILED') reject(new Error(`session failed: ${reason}`));
      },
      error: reject,
    });
  });
  statuses?.unsubscribe();

  await client.mutate({ mutation: gql(SEND), variables: { input: { sessionId, chatId: ECHO_BOT, content: text } } });
  console.log(`received echo: ${await echoed}`);
  messages?.unsubscribe();
  await client.mutate({ mutation: gql(REMOVE), variables: { sessionId } });
}

const timer = deadline();
main().then(async () => {
  clearTimeout(timer);
  client.stop();
  await wsClient.dispose();
}, fail);
