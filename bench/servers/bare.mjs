// The ceiling: a bare node:http server answering the same JSON a `sessions` query of 100 sessions gives.
import { createServer } from 'node:http';
import { sessionsBody } from './fixture.mjs';

const body = Buffer.from(sessionsBody());
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
process.on('SIGTERM', () => process.exit(0));
