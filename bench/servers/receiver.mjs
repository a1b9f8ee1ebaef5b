// A webhook receiver for the bench: answers 200 at once, checks each delivery carries a Standard Webhooks
// signature, counts deliveries and reports when it has seen `expected` of them.
// Usage: node bench/servers/receiver.mjs <expected>; prints {"port":N}, then
// {"received":N,"unsigned":K,"firstAt":ms,"lastAt":ms} each time another <expected> distinct deliveries arrived.
import { createServer } from 'node:http';

let received = 0;
let unsigned = 0;
const expected = Number(process.argv[2] ?? Infinity);
let firstAt = 0;
let lastAt = 0;
const ids = new Set();
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    res.writeHead(200, { 'content-length': 0 });
    res.end();
    const id = req.headers['webhook-id'];
    if (!req.headers['webhook-signature']?.startsWith('v1,') || !id) unsigned++;
    if (ids.has(id)) return; // a retry of one already counted
    ids.add(id);
    received++;
    const now = performance.timeOrigin + performance.now();
    if (received === 1) firstAt = now;
    lastAt = now;
    // Again at every further <expected> (the growth bench's repetitions share one receiver).
    if (received % expected === 0) process.stdout.write(`${JSON.stringify({ received, unsigned, firstAt, lastAt })}\n`);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
process.on('SIGTERM', () => process.exit(0));
