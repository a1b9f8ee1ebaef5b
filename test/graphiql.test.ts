import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kind, parse, print, type OperationDefinitionNode } from 'graphql';
import { FIRST_STEPS } from '../src/observability/graphiql-page.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gqlAs } from './helpers/auth.js';
import { ARTIFACTS, launchBrowser } from './helpers/browser.js';
import { collect, startServer, waitFor, type TestServer } from './helpers/app.js';
import { needs } from './helpers/system-tools.js';

const KEY = 'graphiql-first-steps-key-0123456789';

describe('GraphiQL', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ auth: { apiKeys: [KEY] } });
  });
  after(() => server?.dispose());

  it('opens on the first-steps document, offline, with the key the dashboard stored', async () => {
    const res = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<title>wa-gateway GraphiQL<\/title>/);
    assert.ok(html.includes(JSON.stringify(FIRST_STEPS)), 'the first steps are the default document');
    // Nothing is loaded from elsewhere: no script or stylesheet URL at all (the renderer inlines them).
    assert.doesNotMatch(html, /<script[^>]+src=/i);
    assert.doesNotMatch(html, /<link[^>]+rel="stylesheet"/i);
    assert.doesNotMatch(html, /unpkg|jsdelivr|cdnjs/);
    // The headers and the WebSocket's connection_init read the dashboard's key in the browser.
    assert.ok(html.includes(`localStorage.getItem("wa-gateway.apiKey")`));
    assert.match(html, /"headers":\(function\(\)\{var k=null;.*"X-Api-Key":k/);
    assert.match(html, /"connectionParams":function\(\)\{var k=null;.*return k\?\{apiKey:k\}:\{\}\}/);
    assert.doesNotMatch(html, /__wa_gateway_/);
  });

  it('every operation of the first steps runs as written, in order, with the key', async () => {
    const operations = parse(FIRST_STEPS).definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    assert.deepEqual(
      operations.map((o) => o.name?.value),
      ['CreateSession', 'Scan', 'Session', 'SendToEchoBot', 'Events', 'Chat'],
    );
    const run = async (name: string) => {
      const op = operations.find((o) => o.name?.value === name)!;
      const answer = await gqlAs(server, print(op), {}, { 'x-api-key': KEY });
      assert.equal(answer.errors, undefined, `${name}: ${JSON.stringify(answer.errors)}`);
      return answer.data;
    };
    assert.equal((await run('CreateSession')).createSession.session.status, 'QR_READY');
    await run('Scan');
    await waitFor(async () => (await run('Session')).session.status === 'READY', 5000, 'READY');
    const sent = await run('SendToEchoBot');
    assert.match(sent.sendText.message.id, /^true_/);

    const events = collect(server.wsClient({ apiKey: KEY }), print(operations.find((o) => o.name?.value === 'Events')!));
    // Sent again until the subscription, live at some point after it was asked for (later on a loaded machine),
    // has seen a send's acks and an echo.
    const echoed = () => events.values.some((v) => v.events.type === 'MESSAGE' && v.events.message.fromMe === false);
    const acked = () => events.values.some((v) => v.events.type === 'ACK');
    await waitFor(async () => {
      await run('SendToEchoBot');
      await waitFor(() => echoed() && acked(), 2000).catch(() => undefined);
      return echoed() && acked();
    }, 20_000, 'the echo and acks as events');
    events.unsubscribe();

    // Two sends and their echoes: the echo event waited for above may have been the first send's.
    await waitFor(async () => (await run('Chat')).session.chat.messages.edges.length >= 4, 5000, 'both sends and both echoes in the chat');
    assert.equal((await run('Chat')).session.chat.name, 'Echo Bot');
  });

  it('in a browser, it sends the key the dashboard stored: over HTTP (Headers tab) and in the WebSocket connection_init of a subscription', needs('chromium'), async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      page.setDefaultTimeout(20_000);
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(`${server.url}/api/v1/openapi.json`);
      await page.evaluate((key) => localStorage.setItem('wa-gateway.apiKey', key), KEY);
      await page.goto(`${server.url}/graphql`);
      await page.locator('.graphiql-query-editor', { hasText: 'first steps against the sandbox' }).waitFor();
      await page.locator('.graphiql-editor-tool', { hasText: KEY }).or(page.locator('.graphiql-editors', { hasText: `"X-Api-Key": "${KEY}"` })).first().waitFor();
      const sent = page.waitForRequest((r) => r.url().endsWith('/graphql') && r.method() === 'POST' && (r.postData() ?? '').includes('query Session'));
      await page.locator('.graphiql-query-editor .view-line', { hasText: 'session(sessionId: "demo") { status me' }).click();
      await page.keyboard.press('Control+Enter');
      assert.equal((await (await sent).allHeaders())['x-api-key'], KEY);
      await page.locator('.graphiql-response', { hasText: '"status": "READY"' }).waitFor();
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'graphiql-first-steps-1280.png') });

      // A subscription runs over graphql-ws; its connection_init carries the key.
      const frames: string[] = [];
      page.on('websocket', (socket) => socket.on('framesent', (frame) => frames.push(String(frame.payload))));
      await page.goto(`${server.url}/graphql?query=${encodeURIComponent('subscription Live { events(sessionId: "demo") { type } }')}`);
      await page.locator('.graphiql-query-editor .view-line', { hasText: 'subscription Live' }).click();
      await page.keyboard.press('Control+Enter');
      await waitFor(() => frames.some((f) => f.includes('"connection_init"')), 10_000, 'connection_init');
      assert.deepEqual(JSON.parse(frames.find((f) => f.includes('"connection_init"'))!).payload, { apiKey: KEY });
      await waitFor(() => frames.some((f) => f.includes('"subscribe"')), 10_000, 'subscribe');
      await gqlAs(server, 'mutation { sendText(input: { sessionId: "demo", chatId: "15550000001@c.us", content: "live" }) { message { id } } }', {}, { 'x-api-key': KEY });
      await page.locator('.graphiql-response', { hasText: '"MESSAGE"' }).waitFor();
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  });
});
