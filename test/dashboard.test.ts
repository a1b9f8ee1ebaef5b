import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startServer, type TestServer } from './helpers/app.js';
import { buildDashboard, launchBrowser, screenshots } from './helpers/browser.js';
import { startReceiver, type Receiver } from './helpers/webhooks.js';

const ECHO_BOT = '15550000001@c.us';
const JOHN = '1234567890@c.us';

/** A page that records script errors and CSP violations. */
async function openPage(browser: Awaited<ReturnType<typeof launchBrowser>>, url: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(15_000);
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  await page.goto(url);
  return { page, problems };
}

const texts = (page: Page, selector: string) => page.locator(selector).evaluateAll((nodes) => nodes.map((n) => n.textContent ?? ''));

describe('dashboard', () => {
  let server: TestServer;
  let receiver: Receiver;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  before(async () => {
    buildDashboard();
    receiver = await startReceiver();
    // Introspection off, as under NODE_ENV=production: the page must not depend on it. Sends are paced as a
    // real server paces them (one at a time, with a gap), so a quick burst waits its turn.
    server = await startServer({
      introspection: false,
      sandbox: { qrRotateMs: 600, startDelayMs: 20, authDelayMs: 50, botReplyDelayMs: 150, readDelayMs: 50 },
      sendQueue: { minGapMs: 400, jitterMs: 0 },
      webhooks: { allowCidrs: '127.0.0.0/8' },
    });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
    await receiver?.close();
  });

  it('is served at / with its scripts and a strict content security policy', async () => {
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(await page.text(), /<script type="module" src="\/dashboard\/main\.js">/);
    for (const file of ['main', 'ws', 'graphql', 'dom', 'chat', 'events', 'webhooks'].map((n) => `/dashboard/${n}.js`).concat('/dashboard/style.css')) {
      assert.equal((await fetch(`${server.url}${file}`)).status, 200, file);
    }
    assert.equal((await fetch(`${server.url}/dashboard/../package.json`)).status, 404);
    assert.equal((await fetch(`${server.url}/dashboard/nope.js`)).status, 404);
  });

  it('a user logs in a session, opens the Echo Bot from the chat list, sends three messages quickly and sees them all, their echoes and acks, in order; typing during a pending send keeps the text', async () => {
    const { page, problems } = await openPage(browser, `${server.url}/`);
    await page.locator('#no-sessions').waitFor({ state: 'visible' });
    await screenshots(page, '01-empty');

    await page.fill('#new-session-id', 'browser-1');
    await page.press('#new-session-id', 'Enter');
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
    await screenshots(page, '02-qr');

    await page.click('#scan');
    await page.locator('#detail-status', { hasText: /^READY$/ }).waitFor();
    await page.locator('li[data-session="browser-1"] .status', { hasText: /^READY$/ }).waitFor();
    assert.equal(await page.isHidden('#qr-panel'), true, 'the QR is gone once logged in');

    // The chat list offers the Echo Bot by name (a contact, no chat yet); it opens from there.
    const echoItem = page.locator(`#chat-list li[data-chat-id="${ECHO_BOT}"] button`);
    await echoItem.waitFor();
    assert.match((await echoItem.textContent()) ?? '', /Echo Bot/);
    await screenshots(page, '03-chat-list');
    await echoItem.click();
    await page.locator('#chat-title', { hasText: 'Echo Bot' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'send-text', 'the message box has the focus');

    // Three messages in quick succession, from the keyboard; the box is empty right after each Enter.
    const stamp = Date.now();
    const sent = ['first', 'second', 'third'].map((w) => `${w} ${stamp}`);
    for (const text of sent) {
      await page.fill('#send-text', text);
      await page.press('#send-text', 'Enter');
      assert.equal(await page.inputValue('#send-text'), '', 'cleared on submit');
    }
    // The server paces sends (400 ms apart here): the later ones show as pending meanwhile, and what the
    // user types now stays in the box while they go out.
    await page.locator('#messages li.out.pending').first().waitFor();
    await page.type('#send-text', 'a draft');
    await screenshots(page, '04-sending');

    for (const text of sent) await page.locator('#messages li.in', { hasText: text }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('#messages li.out[data-ack="read"]').length === 3);
    assert.equal(await page.inputValue('#send-text'), 'a draft', 'the text typed during the sends is kept');
    assert.equal(await page.locator('#messages li.pending, #messages li.failed').count(), 0);

    const outs = await texts(page, '#messages li.out .text');
    const ins = await texts(page, '#messages li.in .text');
    assert.deepEqual(outs, sent, 'all three sent, once each, in order');
    assert.deepEqual(ins, sent, 'all three echoes, in order');
    const all = await texts(page, '#messages li .text');
    for (const text of sent) assert.ok(all.indexOf(text) < all.lastIndexOf(text), `${text}: the echo comes after the message`);
    for (const meta of await texts(page, '#messages li.out .meta')) assert.match(meta, / · read$/, 'each shows its ack');
    await screenshots(page, '05-chat');
    assert.deepEqual(problems, [], 'no script errors or CSP violations in the page');
    await page.close();
  });
});
