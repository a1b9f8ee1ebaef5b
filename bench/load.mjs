// Load driver, run as its own process so it never shares a core's event loop with a server.
// Usage: node bench/load.mjs '<json>' with { url, method, body, headers, connections, duration }.
// Prints one JSON line: { requests, rps, p50, p99, errors, non2xx }.
import autocannon from 'autocannon';

const options = JSON.parse(process.argv[2] ?? '{}');
const result = await autocannon({
  url: options.url,
  method: options.method ?? 'GET',
  body: options.body,
  headers: options.headers ?? {},
  connections: options.connections ?? 32,
  duration: options.duration ?? 5,
  pipelining: 1,
});
process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  })}\n`,
);
