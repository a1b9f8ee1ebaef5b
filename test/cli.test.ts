import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from './helpers/app.js';
import { runMain, spawnServer } from './helpers/process.js';

const gql = async (url: string, query: string) =>
  (await (await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) })).json()) as any;

describe('command line', () => {
  it('starts with flags, prints its URLs, serves the API and stops cleanly on SIGTERM', async () => {
    const dataDir = tempDir();
    try {
      const server = await spawnServer(['--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--max-sessions', '3', '--engine', 'sandbox', '--heap-growth-percent', '30']);
      for (const what of ['/graphql', '/api/v1', '/health', 'ws://']) assert.ok(server.output().includes(what), `prints ${what}`);
      const info = await gql(server.url, '{ serverInfo { maxSessions defaultEngine } health { status } }');
      assert.deepEqual(info.data, { serverInfo: { maxSessions: 3, defaultEngine: 'sandbox' }, health: { status: 'healthy' } });
      assert.ok(existsSync(join(dataDir, 'wa-gateway.sqlite')), 'SQLite file under the data dir');
      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('reads the environment twins, and flags win over them', async () => {
    const dataDir = tempDir();
    try {
      const server = await spawnServer(['--port', '0', '--host', '127.0.0.1', '--max-sessions', '4'], { DATA_DIR: dataDir, MAX_SESSIONS: '7', ENGINE: 'sandbox' });
      const info = await gql(server.url, '{ serverInfo { maxSessions } }');
      assert.equal(info.data.serverInfo.maxSessions, 4);
      assert.ok(server.output().includes(dataDir));
      server.child.kill('SIGINT');
      assert.equal(await server.exited, 0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  for (const [args, env, pattern] of [
    [['--port', 'abc'], {}, /--port/],
    [['--max-sessions', '0'], {}, /--max-sessions/],
    [['--engine', 'nope'], {}, /--engine/],
    [['--bogus', '1'], {}, /unknown option --bogus/],
    [['--port'], {}, /needs a value/],
    [[], { MAX_SESSIONS: 'many' }, /MAX_SESSIONS/],
    [['--heap-growth-percent', '-5'], {}, /--heap-growth-percent/],
    [[], { HEAP_GROWTH_PERCENT: 'lots' }, /HEAP_GROWTH_PERCENT/],
    [['--database-url', 'mysql://root@127.0.0.1/x'], {}, /--database-url.*postgres:\/\//],
    [[], { DATABASE_URL: '/var/lib/wa.sqlite' }, /DATABASE_URL.*postgres:\/\//],
  ] as const) {
    it(`refuses ${JSON.stringify(args)} ${JSON.stringify(env)} with one line`, async () => {
      const { code, output } = await runMain([...args], env);
      assert.notEqual(code, 0);
      assert.equal(output.trim().split('\n').length, 1, output);
      assert.match(output, pattern);
    });
  }

  it('--help lists every option with its environment twin', async () => {
    const { code, output } = await runMain(['--help']);
    assert.equal(code, 0);
    for (const flag of ['--port', '--data-dir', '--max-sessions', '--engine']) assert.ok(output.includes(flag));
    assert.ok(output.includes('MAX_SESSIONS'));
  });

  it('exits 1 with a message when the port is taken', async () => {
    const dataDir = tempDir();
    const first = await spawnServer(['--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir]);
    try {
      const port = new URL(first.url).port;
      const { code, output } = await runMain(['--port', port, '--host', '127.0.0.1', '--data-dir', tempDir()]);
      assert.equal(code, 1);
      assert.match(output, /cannot listen/);
    } finally {
      first.child.kill('SIGTERM');
      await first.exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
