// The soak's graphql-ws subscribers, in a process of their own so their CPU is not the server's.
// Usage: node scripts/soak-subscribers.mjs '{"wsUrl","sessionIds":[...],"subscribers":N}'
// Each subscriber is a bare `ws` socket speaking graphql-transport-ws, subscribed to `message` of one of the
// sessions (round robin). Prints {"ready":N} once all are acknowledged, then on every line read from stdin
// one {"received":N,"errors":K} line (the running totals).
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

const o = JSON.parse(process.argv[2]);
const SUB = 'subscription($s: String!) { message(sessionId: $s) { id body } }';
let received = 0;
let errors = 0;
const sockets = [];

function subscribe(sessionId) {
  return new Promise((resolve) => {
    const ws = new WebSocket(o.wsUrl, 'graphql-transport-ws');
    sockets.push(ws);
    ws.on('open', () => ws.send('{"type":"connection_init","payload":{}}'));
    ws.on('error', () => (errors++, resolve()));
    ws.on('close', () => resolve());
    ws.on('message', (data) => {
      const message = JSON.parse(data);
      if (message.type === 'next') received++;
      else if (message.type === 'connection_ack') {
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUB, variables: { s: sessionId } } }));
        resolve();
      } else if (message.type === 'ping') ws.send('{"type":"pong"}');
      else if (message.type === 'error') errors++;
    });
  });
}

for (let i = 0; i < o.subscribers; i += 50) {
  await Promise.all(Array.from({ length: Math.min(50, o.subscribers - i) }, (_, k) => subscribe(o.sessionIds[(i + k) % o.sessionIds.length])));
}
process.stdout.write(`${JSON.stringify({ ready: o.subscribers })}\n`);
createInterface({ input: process.stdin }).on('line', () => process.stdout.write(`${JSON.stringify({ received, errors })}\n`));
process.on('SIGTERM', () => {
  for (const ws of sockets) ws.terminate();
  process.exit(0);
});
