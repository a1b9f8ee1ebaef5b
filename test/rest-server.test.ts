import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { routeTable } from '../rest-compat/route-table.js';
import { errorCodes, errorStatus } from '../src/errors.js';
import { startServer, type TestServer } from './helpers/app.js';
import { root } from './helpers/process.js';
import { CHROMIUM, needs, requireTools } from './helpers/system-tools.js';
import { ISO, rest } from './rest-helpers.js';

describe('REST server routes, OpenAPI and docs', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ maxSessions: 7 });
  });
  after(() => server.dispose());

  it('GET /info has the reference fields', async () => {
    await rest(server, 'POST', '/sessions', { sessionId: 'info-1' });
    const res = await rest(server, 'GET', '/info');
    assert.equal(res.status, 200);
    assert.equal(res.body.success, true);
    const d = res.body.data;
    assert.match(d.version, /^\d+\.\d+\.\d+/);
    assert.equal(d.maxSessions, 7);
    assert.equal(d.activeSessions, 1);
    assert.equal(typeof d.uptime, 'number');
    assert.match(d.memory.used, /^\d+(\.\d+)?[MG]B$/);
    assert.match(d.memory.total, /^\d+(\.\d+)?[MG]B$/);
  });

  it('GET /health has the reference fields', async () => {
    const res = await rest(server, 'GET', '/health');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data.checks, { database: 'ok', sessions: 'ok', memory: 'ok' });
    assert.equal(res.body.data.status, 'healthy');
    assert.match(res.body.data.timestamp, ISO);
  });

  it('GET /openapi.json is a valid OpenAPI 3.1 document listing every route of the table', async () => {
    const res = await rest(server, 'GET', '/openapi.json');
    assert.equal(res.status, 200);
    const doc = res.body;
    assert.equal(doc.openapi, '3.1.0');
    await SwaggerParser.validate(structuredClone(doc));
    const listed = new Set<string>();
    for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) listed.add(`${method.toUpperCase()} ${path} ${op.operationId}`);
    }
    for (const route of routeTable) assert.ok(listed.has(`${route.method} ${route.path} ${route.id}`), `${route.method} ${route.path} is documented`);
    // The reference's routes and the aliases.
    for (const expected of [
      'POST /sessions',
      'GET /sessions',
      'GET /sessions/{sessionId}',
      'GET /sessions/{sessionId}/status',
      'GET /sessions/{sessionId}/qr',
      'GET /sessions/{sessionId}/qr/image',
      'GET /sessions/{sessionId}/qr.png',
      'DELETE /sessions/{sessionId}',
      'POST /sessions/{sessionId}/sandbox/scan',
      'POST /sessions/{sessionId}/send-text',
      'POST /sessions/{sessionId}/send-message',
      'POST /sessions/{sessionId}/send-image',
      'POST /sessions/{sessionId}/send-file',
      'POST /sessions/{sessionId}/send-audio',
      'GET /sessions/{sessionId}/chats',
      'GET /sessions/{sessionId}/chats/{chatId}/messages',
      'GET /sessions/{sessionId}/contacts',
      'GET /sessions/{sessionId}/contacts/{contactId}',
      'POST /sessions/{sessionId}/groups',
      'POST /sessions/{sessionId}/groups/{groupId}/participants',
      'DELETE /sessions/{sessionId}/groups/{groupId}/participants',
      'POST /sessions/{sessionId}/webhooks',
      'GET /sessions/{sessionId}/webhooks',
      'DELETE /sessions/{sessionId}/webhooks/{webhookId}',
      'GET /info',
      'GET /health',
    ]) {
      assert.ok([...listed].some((l) => l.startsWith(`${expected} `)), `${expected} is listed`);
    }
    assert.equal(doc.paths['/sessions/{sessionId}/qr/image'].get.responses['200'].content['image/png'] !== undefined, true);
  });

  it('GET /docs is Swagger UI served from this server (no CDN): the page, its pinned package files and its start-up script', async () => {
    for (const path of ['/docs', '/docs/', '']) {
      const res = await fetch(`${server.url}/api/v1${path}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /^text\/html/);
      assert.match(res.headers.get('content-security-policy')!, /script-src 'self';/);
      const html = await res.text();
      assert.match(html, /data-openapi="\/api\/v1\/openapi.json"/);
      const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      assert.ok(refs.includes('/api/v1/docs/assets/swagger-ui-bundle.js'), 'loads Swagger UI from this server');
      assert.doesNotMatch(html, /https?:\/\//, 'nothing from elsewhere');
      for (const ref of refs.filter((r) => r.startsWith('/api/v1/docs/assets/'))) {
        const asset = await fetch(`${server.url}${ref}`);
        assert.equal(asset.status, 200, ref);
        assert.match(asset.headers.get('content-type')!, ref.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
        await asset.arrayBuffer();
      }
    }
    const pinned = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).dependencies['swagger-ui-dist'];
    assert.match(pinned, /^\d+\.\d+\.\d+$/, 'swagger-ui-dist is pinned exactly');
    const start = await (await fetch(`${server.url}/api/v1/docs/assets/wa-docs.js`)).text();
    assert.match(start, /validatorUrl: null/, 'no online validator badge');
    assert.match(start, /preauthorizeApiKey\('ApiKeyHeader'/, 'uses the key the dashboard stored');
    for (const name of ['package.json', '..%2Fpackage.json', 'index.html', 'swagger-initializer.js']) {
      assert.equal((await fetch(`${server.url}/api/v1/docs/assets/${name}`)).status, 404, name);
    }
  });

  it('the document lists the webhook payloads (OpenAPI 3.1 webhooks) and every error code with its status', async () => {
    const doc = (await rest(server, 'GET', '/openapi.json')).body;
    assert.deepEqual(Object.keys(doc.webhooks).sort(), [
      'ack', 'authenticated', 'call', 'disconnected', 'group_demote', 'group_join', 'group_leave', 'group_promote', 'group_update', 'message', 'message_edited', 'message_revoked', 'ping', 'poll_vote', 'presence', 'qr', 'reaction', 'ready', 'status',
    ]);
    const message = doc.webhooks.message.post;
    assert.equal(message.requestBody.content['application/json'].example.event, 'message');
    assert.deepEqual(message.parameters.map((p: any) => p.name), ['webhook-id', 'webhook-timestamp', 'webhook-signature']);
    for (const code of errorCodes) {
      const response = doc.components.responses[`Error${errorStatus[code]}`];
      assert.ok(response.content['application/json'].examples[code], `${code} has an example under ${errorStatus[code]}`);
      assert.match(doc.info.description, new RegExp(`^\\| ${errorStatus[code]} \\|.*\`${code}\``, 'm'), `${code} is in the table under ${errorStatus[code]}`);
    }
    assert.deepEqual(doc.components.schemas.ErrorEnvelope.properties.error.properties.code.enum, errorCodes);
  });

  // Here Chromium renders the page as a browser would.
  it('the docs page renders every route in a headless browser (Chromium)', needs('chromium'), async () => {
    requireTools('chromium');
    const profile = mkdtempSync(join(tmpdir(), 'wa-docs-chromium-'));
    try {
      const { stdout } = await promisify(execFile)(
        CHROMIUM,
        ['--headless', '--no-sandbox', '--disable-gpu', `--user-data-dir=${profile}`, '--virtual-time-budget=10000', '--dump-dom', `${server.url}/api/v1/docs`],
        { timeout: 90_000, maxBuffer: 32 * 1024 * 1024 },
      );
      for (const route of routeTable) {
        assert.ok(stdout.includes(`id="operations-${route.tag}-${route.id}"`), `the page shows ${route.method} ${route.path}`);
      }
      assert.ok(stdout.includes('/sessions/{sessionId}/qr.png'));
      assert.match(stdout, /class="btn authorize/, 'the Authorize control');
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
