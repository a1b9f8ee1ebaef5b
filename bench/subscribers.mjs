// graphql-ws fan-out, run as its own process: N subscribers to one session's `message` subscription, then
// `events` messages injected one after another (each awaited); every delivery's latency is measured from
// just before its injection (same process, so one clock). Prints one JSON line.
// Usage: node bench/subscribers.mjs '{"httpUrl","wsUrl","sessionId","subscribers","events","warmEvents"?,"client"?}'
// (10 uncounted warm-up events by default). client "lean" (default): each subscriber is a bare `ws` socket
// speaking the graphql-transport-ws protocol (connection_init, subscribe, then every `next` parsed as JSON), the
// WebSocket counterpart of autocannon; "graphql-ws": graphql-ws's own client, which costs this process about
// as much CPU per delivery as the server spends, on the same two cores. "wsUrls" (instead of "wsUrl"): the
// subscribers spread over several nodes of a cluster, subscriber i on wsUrls[i % n]; "remoteFrom": the index of
// the first URL of a node that does not drive the session (those before it do), for the cross-node percentiles.
// "oneInFlight": each event injected once the one before reached every subscriber (latency without queueing).
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const o = JSON.parse(process.argv[2]);
const SUB = `subscription($s: String!) { message(sessionId: $s) { body } }`;
const INJECT = `mutation($s: String!, $b: String!) { sandboxInjectMessage(sessionId: $s, from: "15557770001@c.us", body: $b) { id } }`;

const wsUrls = o.wsUrls ?? [o.wsUrl];

/** One subscription on its own socket: graphql-ws's client, or the protocol's messages written by hand. */
function subscribe(sink, wsUrl) {
  if (o.client === 'graphql-ws') {
    const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    const connected = new Promise((resolve) => {
      const off = client.on('connected', () => (off(), resolve()));
      client.on('error', () => (sink.error(), resolve()));
    });
    client.subscribe({ query: SUB, variables: { s: o.sessionId } }, { next: sink.next, error: sink.error, complete: () => {} });
    return { connected, dispose: () => client.dispose() };
  }
  const ws = new WebSocket(wsUrl, 'graphql-transport-ws');
  let acked;
  const connected = new Promise((resolve) => (acked = resolve));
  ws.on('open', () => ws.send('{"type":"connection_init","payload":{}}'));
  ws.on('error', () => (sink.error(), acked()));
  ws.on('close', () => acked());
  ws.on('message', (data) => {
    const message = JSON.parse(data);
    if (message.type === 'next' && message.id === '1') sink.next(message.payload);
    else if (message.type === 'connection_ack') {
      ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUB, variables: { s: o.sessionId } } }));
      acked();
    } else if (message.type === 'ping') ws.send('{"type":"pong"}');
    else if (message.type !== 'pong' && message.type !== 'complete') sink.error();
  });
  return { connected, dispose: () => ws.close(1000) };
}

const latencies = new Float64Array(o.subscribers * o.events);
const remoteLatencies = new Float64Array(o.subscribers * o.events);
let remoteDeliveries = 0;
let deliveries = 0;
let warm = 0;
let warmDeliveries = 0;
const warmed = new Uint8Array(o.subscribers);
let lastDelivery = 0;
let errors = 0;
let onProgress = () => {};

const clients = [];
const connectBatch = 250;
for (let i = 0; i < o.subscribers; i += connectBatch) {
  const batch = [];
  for (let j = i; j < Math.min(o.subscribers, i + connectBatch); j++) {
    const index = j;
    const client = subscribe({
      next: (value) => {
        const body = value.data?.message?.body;
        if (!body) return void errors++;
        const now = performance.now();
        if (body.startsWith('warm')) {
          warmDeliveries++;
          if (!warmed[index]) (warmed[index] = 1), warm++;
        }
        else {
          const latency = now - Number(body.split(':')[2]);
          latencies[deliveries++] = latency;
          if (o.remoteFrom !== undefined && index % wsUrls.length >= o.remoteFrom) remoteLatencies[remoteDeliveries++] = latency;
          lastDelivery = now;
        }
        onProgress();
      },
      error: () => errors++,
    }, wsUrls[index % wsUrls.length]);
    clients.push(client);
    batch.push(client.connected);
  }
  await Promise.all(batch);
}

async function inject(body) {
  const res = await fetch(o.httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: INJECT, variables: { s: o.sessionId, b: body } }),
  });
  const json = await res.json();
  if (json.errors) throw new Error(JSON.stringify(json.errors));
}

function until(check, timeoutMs) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => ((onProgress = () => {}), resolve(false)), timeoutMs);
    onProgress = () => {
      if (check()) {
        clearTimeout(timer);
        onProgress = () => {};
        resolve(true);
      }
    };
    onProgress();
  });
}

// A warm-up event proves every subscription is live before the clock starts (retried: a subscribe may still be in flight).
let held = false;
for (let attempt = 0; attempt < 5 && !held; attempt++) {
  await inject(`warm:${attempt}:0`);
  held = await until(() => warm >= o.subscribers, 5000 + o.subscribers);
}
// Warm the delivery path (JIT) before counting, as the HTTP scenarios get a warm-up run before theirs.
const warmEvents = o.warmEvents ?? 10;
if (held) {
  const before = warmDeliveries;
  for (let k = 0; k < warmEvents; k++) await inject(`warm:up${k}:0`);
  await until(() => warmDeliveries - before >= o.subscribers * warmEvents, 30_000 + o.subscribers);
}
process.stdout.write(`${JSON.stringify({ ready: true, held, warm, errors })}\n`);

const start = performance.now();
const total = o.subscribers * o.events;
for (let k = 0; k < o.events; k++) {
  await inject(`ev:${k}:${performance.now()}`);
  // "oneInFlight": the next event only once every subscriber has this one, so each latency is the event's own
  // way through, not the queue of those injected before it (the injector would otherwise run ahead of delivery).
  if (o.oneInFlight) await until(() => deliveries >= (k + 1) * o.subscribers, 10_000);
}
await until(() => deliveries >= total, 30_000);

const got = latencies.subarray(0, deliveries).sort();
const remote = remoteLatencies.subarray(0, remoteDeliveries).sort();
const pctOf = (xs, p) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : null);
const pct = (p) => pctOf(got, p);
const seconds = (lastDelivery - start) / 1000;
process.stdout.write(
  `${JSON.stringify({ subscribers: o.subscribers, events: o.events, client: o.client ?? 'lean', oneInFlight: Boolean(o.oneInFlight), held, expected: total, deliveries, perSecond: deliveries / seconds, p50: pct(50), p99: pct(99), errors, ...(o.remoteFrom !== undefined ? { remoteDeliveries, remoteP50: pctOf(remote, 50), remoteP99: pctOf(remote, 99) } : {}) })}\n`,
);
await Promise.allSettled(clients.map((c) => c.dispose()));
process.exit(0);
