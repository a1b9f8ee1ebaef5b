// urql (@urql/core) against wa-gateway: fetchExchange for queries and mutations, subscriptionExchange
// over graphql-ws. Like the Apollo example it logs a sandbox session in, sends a text to the Echo Bot
// and waits for the echo through the `message` subscription; then it removes the session.
//
//   npm start                                 # in another terminal
//   node --import tsx examples/urql-client.ts # WA_GATEWAY_URL, WA_API_KEY, SESSION_ID to change

import { Client, fetchExchange, gql, subscriptionExchange } from '@urql/core';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { apiKey, CREATE, deadline, ECHO_BOT, fail, MESSAGES, REMOVE, SCAN, SEND, STATUS, url, wsUrl, type MessageData, type StatusData } from './operations.js';

const sessionId = process.env.SESSION_ID ?? `urql-${Date.now().toString(36)}`;

const wsClient = createClient({
  url: wsUrl,
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

async function mutate(document: string, variables: Record<string, unknown>): Promise<void> {
  const result = await client.mutation(gql(document), variables).toPromise();
  if (result.error) throw result.error;
}

async function main(): Promise<void> {
  await mutate(CREATE, { sessionId });
  console.log(`created session ${sessionId}`);

  // Subscribed before the session is READY, so the echo cannot arrive before we listen.
  const text = `hello from urql ${Date.now()}`;
  let messages: { unsubscribe(): void } | undefined;
  const echoed = new Promise<string>((resolve, reject) => {
    messages = client.subscription<MessageData>(gql(MESSAGES), { sessionId, chatId: ECHO_BOT }).subscribe((result) => {
      if (result.error) return reject(result.error);
      const m = result.data!.message;
      console.log(`message ${m.fromMe ? 'out' : 'in '} ${m.chatId}: ${m.body}`);
      if (!m.fromMe && m.body === text) resolve(m.body);
    });
  });

  let statuses: { unsubscribe(): void } | undefined;
  await new Promise<void>((resolve, reject) => {
    statuses = client.subscription<StatusData>(gql(STATUS), { sessionId }).subscribe((result) => {
      if (result.error) return reject(result.error);
      const { status, reason } = result.data!.sessionStatus;
      console.log(`status ${status}${reason ? ` (${reason})` : ''}`);
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

const timer = deadline();
main().then(async () => {
  clearTimeout(timer);
  await wsClient.dispose();
}, fail);
