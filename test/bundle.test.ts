import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { tempDir, waitFor } from './helpers/app.js';
import { root, spawnServer, type ServerProcess } from './helpers/process.js';

// `npm start` runs the esbuild bundle (dist/bundle/main.js), not the files the other suites load from
// src/. This suite builds it from the current source and drives every part that loads lazily or finds
// files by path: the QR encoder, ws and graphql-ws, GraphiQL's renderer, the dashboard, the version, the
// REST routes and the docs' Swagger UI files, metrics, and the open-wa worker (a separate file the
// bundle must still find).

const gqlBody = (query: string, variables: Record<string, unknown> = {}) => JSON.stringify({ query, variables });

describe('the bundle npm start runs', () => {
  let server: ServerProcess;
  const dataDir = tempDir();
  const post = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: gqlBody(query, variables) });
    const json = (await res.json()) as { data?: any; errors?: unknown[] };
    assert.equal(json.errors, undefined, JSON.stringify(json.errors));
    return json.data;
  };

  before(async () => {
    // dist/src as `npm run build`'s tsc step writes it, by esbuild: the types are the runner's type check's.
    const { emitDist } = (await import(pathToFileURL(join(root, 'scripts/test-build.mjs')).href)) as { emitDist: (root: string) => Promise<number> };
    await emitDist(root);
    const built = spawnSync(process.execPath, ['scripts/bundle.mjs'], { cwd: root, encoding: 'utf8' });
    assert.equal(built.status, 0, `scripts/bundle.mjs: ${built.stdout}${built.stderr}`);
    server = await spawnServer(['--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--open-wa-start-deadline-ms', '15000'], {}, 60_000, [join(root, 'dist/bundle/main.js')]);
  });
  after(async () => {
    server?.child.kill('SIGTERM');
    if (server) assert.equal(await server.exited, 0, server.output());
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers GraphQL with the package version, REST, metrics and the dashboard', async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    assert.equal((await post('{ serverInfo { version } }')).serverInfo.version, version);
    const rest = await fetch(`${server.url}/api/v1/sessions`);
    assert.equal(rest.status, 200);
    assert.equal(((await rest.json()) as { success: boolean }).success, true);
    assert.match(await (await fetch(`${server.url}/metrics`)).text(), /wa_gateway_http_requests_total/);
    const dashboard = await fetch(`${server.url}/`);
    assert.equal(dashboard.status, 200);
    assert.match(await dashboard.text(), /<html/i);
    const graphiql = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    assert.equal(graphiql.status, 200);
    const graphiqlPage = await graphiql.text();
    assert.match(graphiqlPage, /graphiql/i);
    assert.match(graphiqlPage, /first steps against the sandbox/, 'the first-steps document');
    // The docs page's Swagger UI files are found in node_modules from the bundle too.
    const swagger = await fetch(`${server.url}/api/v1/docs/assets/swagger-ui-bundle.js`);
    assert.equal(swagger.status, 200);
    assert.ok((await swagger.arrayBuffer()).byteLength > 100_000);
  });

  it('shows a QR PNG and streams the session status over graphql-ws', async () => {
    await post('mutation { createSession(input: { sessionId: "bundled" }) { session { sessionId } } }');
    const client = createClient({ url: `${server.url.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const statuses: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: 'subscription { sessionStatus(sessionId: "bundled") { status } }' },
        { next: (v) => void statuses.push((v.data as { sessionStatus: { status: string } }).sessionStatus.status), error: reject, complete: resolve },
      );
    });
    void done.catch(() => undefined);
    const qr = await waitFor(async () => (await post('{ session(sessionId: "bundled") { qr { dataUrl } } }')).session?.qr?.dataUrl as string | undefined, 15_000, 'a QR code');
    assert.match(qr, /^data:image\/png;base64,/);
    // The subscription starts with the current status.
    await waitFor(() => statuses.includes('QR_READY'), 15_000, 'QR_READY over graphql-ws');
    await client.dispose();
  });

  it('finds the open-wa worker: an open-wa session fails for being offline, not for a missing file', async () => {
    await post('mutation { createSession(input: { sessionId: "real", config: { engine: OPEN_WA, headless: true } }) { session { sessionId } } }').catch(() => undefined);
    const failed = await waitFor(async () => {
      const { session } = await post('{ session(sessionId: "real") { status failureReason } }');
      return session?.status === 'FAILED' ? (session.failureReason as string) : null;
    }, 60_000, 'the open-wa session to fail offline');
    assert.doesNotMatch(failed, /worker\.js|MODULE_NOT_FOUND|Cannot find module/);
  });
});
