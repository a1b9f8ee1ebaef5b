// The open-wa engine inside the real app, beside a sandbox session. Until the app's engine registry
// knows the open-wa engine these tests skip; after that they show that a failing open-wa session leaves
// the server and its sandbox sessions working.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { processesMentioning } from '../src/engine/open-wa/processes.js';
import { startServer, tempDir, type TestServer } from './helpers/app.js';
import { needs, requireTools } from './helpers/system-tools.js';

const servers: TestServer[] = [];
after(async () => {
  await Promise.allSettled(servers.map((s) => s.dispose()));
});

const SESSION = `query($id: String!) { session(sessionId: $id) { status failureReason } }`;
const CREATE = `mutation($input: CreateSessionInput!) { createSession(input: $input) { session { sessionId status } } }`;

async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** A server with a sandbox session beside an open-wa session that failed. */
async function serverWithFailedOpenWa(timeoutMs: number) {
  const server = await startServer({}, tempDir());
  servers.push(server);
  await server.gqlOk(CREATE, { input: { sessionId: 'sandbox-beside', config: { engine: 'SANDBOX', sandbox: { autoScanMs: 20 } } } });
  await server.gqlOk(CREATE, { input: { sessionId: 'real', config: { engine: 'OPEN_WA', headless: true } } });
  const failed = await until(
    'the open-wa session to fail',
    async () => {
      const { session } = await server.gqlOk<{ session: { status: string; failureReason: string | null } }>(SESSION, { id: 'real' });
      return session.status === 'FAILED' && session;
    },
    timeoutMs,
  );
  assert.doesNotMatch(failed.failureReason ?? '', /not available in this build/);
  return { server, reason: failed.failureReason ?? '' };
}

async function assertServerAndSandboxWork(server: TestServer) {
  const { health } = await server.gqlOk<{ health: { status: string } }>(`{ health { status } }`);
  assert.equal(health.status, 'healthy');
  await until(
    'the sandbox session to be READY',
    async () => (await server.gqlOk<{ session: { status: string } }>(SESSION, { id: 'sandbox-beside' })).session.status === 'READY',
    10_000,
  );
  // A new sandbox session still starts after the open-wa failure.
  await server.gqlOk(CREATE, { input: { sessionId: 'sandbox-after', config: { engine: 'SANDBOX', sandbox: { autoScanMs: 20 } } } });
  await until(
    'a new sandbox session to be READY',
    async () => (await server.gqlOk<{ session: { status: string } }>(SESSION, { id: 'sandbox-after' })).session.status === 'READY',
    10_000,
  );
}

describe('open-wa in the app', () => {
  it('without the package: FAILED with the install hint, server and sandbox fine', async () => {
    const previous = process.env.OPEN_WA_RUNTIME_DIR;
    process.env.OPEN_WA_RUNTIME_DIR = join(tempDir(), 'no-runtime');
    try {
      const result = await serverWithFailedOpenWa(20_000);
      assert.match(result.reason, /^open-wa engine is not installed: run npm run install:open-wa/);
      await assertServerAndSandboxWork(result.server);
    } finally {
      if (previous === undefined) delete process.env.OPEN_WA_RUNTIME_DIR;
      else process.env.OPEN_WA_RUNTIME_DIR = previous;
    }
  });

  it('offline with the package and Chromium: FAILED with the library reason, no browser left, server and sandbox fine', needs('open-wa'), async () => {
    requireTools('open-wa');
    const result = await serverWithFailedOpenWa(60_000);
    assert.match(result.reason, /^open-wa failed to start: /);
    await until('the browser of the session to be gone', async () => processesMentioning(join(result.server.dataDir, 'sessions', 'real')).length === 0, 5_000);
    await assertServerAndSandboxWork(result.server);
  });
});
