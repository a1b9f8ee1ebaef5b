import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { createLogger } from '../src/logger.js';
import { prettyLine } from '../src/observability/pretty.js';
import { collect, tempDir, waitFor } from './helpers/app.js';
import { spawnServer, type ServerProcess } from './helpers/process.js';

type Line = Record<string, any>;

describe('request logs (the real CLI, JSON lines on stdout)', () => {
  let server: ServerProcess;
  let dataDir: string;
  before(async () => {
    dataDir = tempDir();
    server = await spawnServer([
      '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'info', '--log-format', 'json',
      '--sandbox-start-delay-ms', '10', '--sandbox-auth-delay-ms', '10',
    ]);
  });
  after(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });

  const lines = (): Line[] =>
    server
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Line);
  const lineFor = (requestId: string) => waitFor(() => lines().find((l) => l.msg === 'request' && l.requestId === requestId), 5000, `log line of ${requestId}`);

  const post = (query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });

  it('prints where the dashboard and the metrics are', () => {
    assert.match(server.output(), /^ {2}Dashboard +http:\/\/[^\s]+\/$/m);
    assert.match(server.output(), /^ {2}Metrics +http:\/\/[^\s]+\/metrics$/m);
  });

  it('a GraphQL request logs one line with the id from x-request-id, the operation, status and duration', async () => {
    const res = await post('query Probe { serverInfo { version } }');
    assert.equal(res.status, 200);
    const id = res.headers.get('x-request-id');
    assert.match(id ?? '', /^[0-9a-f-]{36}$/, 'a fresh id when the caller sent none');
    const line = await lineFor(id!);
    assert.equal(line.level, 'info');
    assert.equal(line.method, 'POST');
    assert.equal(line.route, '/graphql');
    assert.equal(line.operation, 'Probe');
    assert.equal(line.outcome, 'ok');
    assert.equal(line.status, 200);
    assert.equal(typeof line.durationMs, 'number');
    assert.ok(!Number.isNaN(Date.parse(line.time)));
    assert.equal(lines().filter((l) => l.requestId === id).length, 1, 'exactly one line per request');
  });

  it("keeps the caller's request id and names the session the operation is about", async () => {
    const res = await post('mutation Create($input: CreateSessionInput!) { createSession(input: $input) { session { sessionId } } }', { input: { sessionId: 'logs-1' } }, { 'x-request-id': 'trace-abc.123' });
    assert.equal(res.headers.get('x-request-id'), 'trace-abc.123');
    const line = await lineFor('trace-abc.123');
    assert.equal(line.operation, 'Create');
    assert.equal(line.sessionId, 'logs-1');
    assert.equal(line.outcome, 'ok');
  });

  it('a failing operation logs its error code as the outcome; a bad request id is replaced', async () => {
    const res = await post('mutation { removeSession(sessionId: "nope") { removed } }', {}, { 'x-request-id': 'no spaces allowed' });
    const id = res.headers.get('x-request-id')!;
    assert.notEqual(id, 'no spaces allowed');
    const line = await lineFor(id);
    assert.equal(line.operation, 'removeSession');
    assert.equal(line.sessionId, 'nope');
    assert.equal(line.outcome, 'SESSION_NOT_FOUND');
  });

  it('non-GraphQL routes log too, with the id of their response', async () => {
    const res = await fetch(`${server.url}/nowhere`);
    assert.equal(res.status, 404);
    const line = await lineFor(res.headers.get('x-request-id')!);
    assert.equal(line.route, 'unmatched');
    assert.equal(line.path, '/nowhere');
    assert.equal(line.status, 404);
  });

  it('graphql-ws operations log a line each, by name and outcome', async () => {
    const client = createClient({ url: `${server.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const watch = collect(client, 'subscription WatchLogs($id: String!) { sessionStatus(sessionId: $id) { status } }', { id: 'logs-1' });
      await watch.next(1);
      const line = await waitFor(() => lines().find((l) => l.operation === 'WatchLogs'), 5000, 'ws line');
      assert.equal(line.transport, 'graphql-ws');
      assert.equal(line.type, 'subscription');
      assert.equal(line.sessionId, 'logs-1');
      assert.equal(line.outcome, 'ok');
    } finally {
      await client.dispose();
    }
  });
});

describe('logger', () => {
  it('honours the level and writes one JSON object per line', () => {
    const out: string[] = [];
    const logger = createLogger('warn', { app: 'x' }, (l) => out.push(l));
    logger.info('hidden');
    logger.warn('shown', { a: 1 });
    logger.child({ sessionId: 's1' }).error('child', { b: 2 });
    assert.equal(out.length, 2);
    const [first, second] = out.map((l) => JSON.parse(l));
    assert.deepEqual({ ...first, time: undefined }, { level: 'warn', time: undefined, app: 'x', a: 1, msg: 'shown' });
    assert.equal(second.sessionId, 's1');
    assert.equal(second.level, 'error');
    const silent: string[] = [];
    createLogger('silent', {}, (l) => silent.push(l)).error('nothing');
    assert.equal(silent.length, 0);
  });

  it('pretty lines show time, level, message and fields', () => {
    const line = prettyLine(JSON.stringify({ level: 'info', time: '2026-01-02T03:04:05.678Z', msg: 'request', requestId: 'r1', status: 200, path: '/a b' }), false);
    assert.equal(line, '03:04:05.678 INFO  request requestId=r1 status=200 path="/a b"');
    assert.equal(prettyLine('not json', false), 'not json');
  });
});
