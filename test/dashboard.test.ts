import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type TestServer } from './helpers/app.js';
import { buildDashboard, launchBrowser } from './helpers/browser.js';
import { root } from './helpers/process.js';
import { needs, requireTools } from './helpers/system-tools.js';

const ECHO_BOT = '15550000001@c.us';
const artifacts = join(root, 'test-artifacts');

describe('dashboard', needs('chromium'), () => {
  let server: TestServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  before(async () => {
    requireTools('chromium');
    buildDashboard();
    mkdirSync(artifacts, { recursive: true });
    server = await startServer({ sandbox: { qrRotateMs: 600, startDelayMs: 20, authDelayMs: 50, botReplyDelayMs: 50 } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it('is served at / with its scripts and a strict content security policy', async () => {
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(await page.text(), /<script type="module" src="\/dashboard\/main\.js">/);
    for (const file of ['/dashboard/main.js', '/dashboard/ws.js', '/dashboard/graphql.js', '/dashboard/style.css']) {
      assert.equal((await fetch(`${server.url}${file}`)).status, 200, file);
    }
    assert.equal((await fetch(`${server.url}/dashboard/../package.json`)).status, 404);
    assert.equal((await fetch(`${server.url}/dashboard/nope.js`)).status, 404);
  });

  it('creates a session, shows the rotating QR, scans it, goes READY and chats with the echo bot', async () => {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });

    await page.goto(`${server.url}/`);
    await page.locator('#no-sessions').waitFor({ state: 'visible' });

    await page.fill('#new-session-id', 'browser-1');
    await page.click('#new-session-create');
    await page.locator('li[data-session="browser-1"]').waitFor();

    // The QR image appears large, and is replaced when it rotates.
    const qr = page.locator('#qr');
    await qr.waitFor({ state: 'visible' });
    await page.waitForFunction(() => (document.getElementById('qr') as HTMLImageElement).src.startsWith('data:image/png;base64,'));
    const first = await qr.getAttribute('src');
    const box = await qr.boundingBox();
    assert.ok(box && box.width >= 300 && box.height >= 300, `QR shown large (${JSON.stringify(box)})`);
    assert.ok(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), 'the PNG decodes');
    await page.waitForFunction((src) => (document.getElementById('qr') as HTMLImageElement).src !== src, first);
    assert.equal(await page.textContent('#detail-status'), 'QR_READY');
    await page.screenshot({ path: join(artifacts, 'dashboard-qr.png') });

    await page.click('#scan');
    await page.locator('#detail-status', { hasText: /^READY$/ }).waitFor();
    await page.locator('li[data-session="browser-1"] .status', { hasText: /^READY$/ }).waitFor();
    assert.equal(await page.textContent('#detail-status'), 'READY');
    assert.equal(await page.isHidden('#qr-panel'), true, 'the QR is gone once logged in');

    // The chat view opens on the echo bot; a message goes out and its echo comes back live.
    await page.locator('#chat-panel').waitFor({ state: 'visible' });
    assert.equal(await page.inputValue('#chat-id'), ECHO_BOT);
    const text = `hello from the browser ${Date.now()}`;
    await page.fill('#send-text', text);
    await page.click('#send');
    await page.locator('#messages li.out', { hasText: text }).waitFor();
    await page.locator('#messages li.in', { hasText: text }).waitFor();
    assert.equal(await page.locator('#messages li').count(), 2);
    // The echo bot reads what it answers: the sent message's ack moves on to READ, live.
    await page.locator('#messages li.out .meta', { hasText: 'read' }).waitFor();

    // The server agrees: the chat holds both messages.
    const data = await server.gqlOk(`{ session(sessionId: "browser-1") { chat(chatId: "${ECHO_BOT}") { messages(last: 20) { edges { node { body fromMe } } } } } }`);
    assert.deepEqual(
      data.session.chat.messages.edges.map((e: any) => [e.node.body, e.node.fromMe]),
      [[text, true], [text, false]],
    );

    await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true });
    assert.deepEqual(problems, [], 'no script errors or CSP violations in the page');
    await page.close();
  });

  it('shows sessions created elsewhere and follows their status live', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/`);
    await page.locator('li[data-session="browser-1"]').waitFor();
    await server.gqlOk('mutation { createSession(input: { sessionId: "browser-2", waitForQR: true }) { session { status } } }');
    await page.reload();
    const pill = page.locator('li[data-session="browser-2"] .status');
    await pill.waitFor();
    assert.equal(await pill.textContent(), 'QR_READY');
    await server.gqlOk('mutation { sandboxScanQr(sessionId: "browser-2") { status } }');
    await page.locator('li[data-session="browser-2"] .status', { hasText: /^READY$/ }).waitFor();
    await server.gqlOk('mutation { removeSession(sessionId: "browser-2") { removed } }');
    await page.locator('li[data-session="browser-2"]').waitFor({ state: 'detached' });
    await page.close();
  });
});
