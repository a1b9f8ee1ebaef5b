import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from './helpers/app.js';
import { root } from './helpers/process.js';

/** Runs an example script as a child process against `url`; resolves with its exit code and output. */
function runExample(file: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

describe('client examples (examples/*.ts against a local server)', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.dispose());

  for (const [name, file] of [['Apollo Client', 'examples/apollo-client.ts'], ['urql', 'examples/urql-client.ts']] as const) {
    it(`${name}: logs a session in and receives the echo through a graphql-ws subscription`, async () => {
      const sessionId = `example-${name.split(' ')[0]!.toLowerCase()}`;
      const { code, output } = await runExample(file, { WA_GATEWAY_URL: server.url, SESSION_ID: sessionId, EXAMPLE_TIMEOUT_MS: '20000' });
      assert.equal(code, 0, output);
      const lines = output.trim().split('\n');
      assert.equal(lines[0], `created session ${sessionId}`);
      // Subscription events: the status sequence, then the message going out and its echo coming in.
      const statuses = lines.filter((l) => l.startsWith('status ')).map((l) => l.slice(7));
      assert.deepEqual(statuses.filter((s) => s !== 'INITIALIZING'), ['QR_READY', 'AUTHENTICATED', 'READY'], output);
      const echo = /^received echo: (hello from \w+ \d+)$/m.exec(output);
      assert.ok(echo, output);
      assert.ok(lines.includes(`message in  15550000001@c.us: ${echo[1]}`), output);
      // The example removed its session on the way out.
      assert.equal((await server.gqlOk('query($id: String!) { session(sessionId: $id) { status } }', { id: sessionId })).session, null);
    });
  }
});
