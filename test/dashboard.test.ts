import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startServer, waitFor, type TestServer } from './helpers/app.js';
import { buildDashboard, launchBrowser, screenshots } from './helpers/browser.js';
import { startReceiver, type Receiver } from './helpers/webhooks.js';
import { needs, requireTools } from './helpers/system-tools.js';

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

describe('dashboard', needs('chromium'), () => {
  let server: TestServer;
  let receiver: Receiver;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  before(async () => {
    requireTools('chromium');
    await buildDashboard();
    receiver = await startReceiver();
    // Introspection off, as under NODE_ENV=production: the page must not depend on it. Sends are paced as a
    // real server paces them (one at a time, with a gap), so a quick burst waits its turn. The gap is twice
    // the default: typing three messages took 0.8 s of it on a loaded 2-core machine, and with a 1 s gap the
    // second was sometimes out before the third was typed, so none was seen waiting.
    server = await startServer({
      introspection: false,
      sandbox: { qrRotateMs: 600, startDelayMs: 20, authDelayMs: 50, botReplyDelayMs: 150, readDelayMs: 50 },
      sendQueue: { minGapMs: 2000, jitterMs: 0 },
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
    // Media is shown from blobs fetched with the key; nothing else loosens.
    assert.match(page.headers.get('content-security-policy') ?? '', /img-src 'self' data: blob:; media-src 'self' blob:;/);
    assert.doesNotMatch(page.headers.get('content-security-policy') ?? '', /unsafe-/);
    assert.match(await page.text(), /<script type="module" src="\/dashboard\/main\.js">/);
    for (const file of ['main', 'ws', 'graphql', 'dom', 'chat', 'events', 'webhooks', 'media', 'message-view'].map((n) => `/dashboard/${n}.js`).concat('/dashboard/style.css')) {
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
    // Watched from inside the page: on a loaded machine the three sends can all be out before the test reads the list.
    // (A string, not a function: the test's compiler would add helpers the page does not have.)
    await page.evaluate(`{
      const list = document.getElementById('messages');
      window.mostPending = 0;
      const count = () => (window.mostPending = Math.max(window.mostPending, list.querySelectorAll('li.out.pending').length));
      new MutationObserver(count).observe(list, { subtree: true, childList: true, attributes: true });
    }`);
    for (const text of sent) {
      await page.fill('#send-text', text);
      await page.press('#send-text', 'Enter');
      assert.equal(await page.inputValue('#send-text'), '', 'cleared on submit');
    }
    // The server paces sends (two seconds apart here): the later ones show as pending meanwhile, and
    // what the user types now stays in the box while they go out.
    assert.ok((await page.evaluate('window.mostPending')) as number >= 2, 'a send waiting its turn shows as pending');
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

    // The server agrees: the chat holds the six messages in the same order.
    const data = await server.gqlOk(`{ session(sessionId: "browser-1") { chat(chatId: "${ECHO_BOT}") { messages(last: 20) { edges { node { body fromMe } } } } } }`);
    assert.deepEqual(
      data.session.chat.messages.edges.map((e: any) => [e.node.body, e.node.fromMe]),
      sent.flatMap((text) => [[text, true], [text, false]]),
    );

    // A message from someone else: the chat list shows it live, on top, with its unread count.
    await server.gqlOk(`mutation { sandboxInjectMessage(sessionId: "browser-1", from: "${JOHN}", body: "are you there?") { id } }`);
    const john = page.locator(`#chat-list li[data-chat-id="${JOHN}"]`);
    await john.locator('.badge', { hasText: '1' }).waitFor();
    assert.match((await john.textContent()) ?? '', /John Doe.*are you there\?/s);
    assert.equal(await page.locator('#chat-list li').first().getAttribute('data-chat-id'), JOHN, 'newest activity first');
    assert.match((await page.locator(`#chat-list li[data-chat-id="${ECHO_BOT}"]`).textContent()) ?? '', new RegExp(sent[2]!), 'the last message of a chat');
    await screenshots(page, '06-unread');
    await john.locator('button').click();
    await page.locator('#messages li.in', { hasText: 'are you there?' }).waitFor();
    await john.locator('.badge').waitFor({ state: 'detached' });
    // Opening it read it: the server's count is 0 too.
    await waitFor(async () => (await server.gqlOk(`{ session(sessionId: "browser-1") { chat(chatId: "${JOHN}") { unreadCount } } }`)).session.chat.unreadCount === 0, 5000, 'read');

    // The event log, reached from the keyboard (arrow keys move between the tabs).
    await page.focus('#tab-chats');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getAttribute('#tab-events', 'aria-selected'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'tab-events');
    await page.locator('#events-panel').waitFor({ state: 'visible' });
    const types = await texts(page, '#event-log li .event');
    for (const type of ['MESSAGE', 'ACK', 'READY']) assert.ok(types.includes(type), `${type} in the event log: ${types.join(' ')}`);
    await server.gqlOk(`mutation { sandboxInjectMessage(sessionId: "browser-1", from: "${JOHN}", body: "live in the log") { id } }`);
    await page.locator('#event-log li[data-type="MESSAGE"]', { hasText: 'live in the log' }).first().waitFor();
    await screenshots(page, '07-events');

    assert.deepEqual(problems, [], 'no script errors or CSP violations in the page');
    await page.close();
  });

  it('a webhook is registered, tested, and its deliveries listed and redelivered from the dashboard, with introspection off', async () => {
    const introspection = await server.gql('{ __type(name: "Webhook") { name } }');
    assert.match(introspection.errors?.[0]?.message ?? '', /introspection has been disabled/, 'this server has introspection off');
    const { page, problems } = await openPage(browser, `${server.url}/`);
    await page.locator('li[data-session="browser-1"] button').click();
    await page.locator('#detail-status', { hasText: /^READY$/ }).waitFor();
    await page.click('#tab-webhooks');
    await page.locator('#webhooks', { hasText: 'No webhooks yet' }).waitFor();

    await page.fill('#webhook-url', receiver.url);
    await page.check('#webhook-events input[value="MESSAGE"]');
    await page.click('#webhook-save');
    await page.locator('#webhook-secret code', { hasText: /^whsec_/ }).waitFor();
    const card = page.locator('#webhooks article.webhook');
    await card.waitFor();
    assert.match((await card.textContent()) ?? '', new RegExp(`${receiver.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*enabled.*message`, 's'));
    await screenshots(page, '08-webhook-registered');

    // Test: a signed ping is delivered at once; the result and the delivery show.
    await card.locator('button', { hasText: 'Send test' }).click();
    await card.locator('.result', { hasText: /test delivery: succeeded, HTTP 200/ }).waitFor();
    const ping = card.locator('tr', { hasText: 'ping' });
    await ping.waitFor();
    assert.match((await ping.textContent()) ?? '', /ping.*succeeded.*1.*HTTP 200/s);
    assert.ok(receiver.received.some((r) => JSON.parse(r.body).event === 'ping'), 'the receiver got the ping');

    // An event of the session: its delivery is listed (the panel refreshes itself).
    await server.gqlOk(`mutation { sendText(input: { sessionId: "browser-1", chatId: "${ECHO_BOT}", content: "to the webhook" }) { message { id } } }`);
    await card.locator('tr', { hasText: 'message' }).first().waitFor();
    // Redeliver the ping: the same delivery is sent again (attempts 2).
    await ping.locator('button', { hasText: 'Redeliver' }).click();
    await card.locator('tr', { hasText: 'ping' }).locator('td:nth-child(4)', { hasText: /^2$/ }).waitFor();
    assert.equal(receiver.received.filter((r) => JSON.parse(r.body).event === 'ping').length, 2);
    await screenshots(page, '09-webhook-deliveries');

    // Disable, enable, remove.
    await card.locator('button', { hasText: 'Disable' }).click();
    await card.locator('.pill', { hasText: /^disabled/ }).waitFor();
    await card.locator('button', { hasText: 'Enable' }).click();
    await card.locator('.pill', { hasText: /^enabled$/ }).waitFor();
    page.once('dialog', (dialog) => void dialog.accept());
    await card.locator('button', { hasText: 'Remove' }).click();
    await page.locator('#webhooks', { hasText: 'No webhooks yet' }).waitFor();
    assert.deepEqual((await server.gqlOk('{ webhooks(sessionId: "browser-1") { id } }')).webhooks, []);
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('shows sessions created elsewhere and follows their status live', async () => {
    const { page } = await openPage(browser, `${server.url}/`);
    await page.locator('li[data-session="browser-1"]').waitFor();
    await server.gqlOk('mutation { createSession(input: { sessionId: "browser-2", waitForQR: true }) { session { status } } }');
    await page.reload();
    const pill = page.locator('li[data-session="browser-2"] .status');
    await pill.waitFor();
    assert.equal(await pill.textContent(), 'QR_READY');
    await server.gqlOk('mutation { sandboxScanQr(sessionId: "browser-2") { status } }');
    await page.locator('li[data-session="browser-2"] .status', { hasText: /^READY$/ }).waitFor();
    // Stop keeps it listed as TERMINATED; Start brings it back READY (its login kept).
    await page.locator('li[data-session="browser-2"] button').click();
    await page.click('#stop-session');
    await page.locator('li[data-session="browser-2"] .status', { hasText: /^TERMINATED$/ }).waitFor();
    assert.equal(await page.locator('#start-session').isDisabled(), false);
    await page.click('#start-session');
    await page.locator('li[data-session="browser-2"] .status', { hasText: /^READY$/ }).waitFor();
    await server.gqlOk('mutation { removeSession(sessionId: "browser-2") { removed } }');
    await page.locator('li[data-session="browser-2"]').waitFor({ state: 'detached' });
    await page.close();
  });

  it('every lifecycle action from the dashboard (stop, start, restart, log out, remove), the status changing live; a login with a pairing code', async () => {
    const { page, problems } = await openPage(browser, `${server.url}/`);
    await page.fill('#new-session-id', 'browser-3');
    await page.press('#new-session-id', 'Enter');
    await page.locator('#detail-status', { hasText: /^QR_READY$/ }).waitFor();
    // Every status the page shows, in order (from the status subscription).
    await page.evaluate(`{
      const pill = document.getElementById('detail-status');
      window.statuses = [];
      new MutationObserver(() => window.statuses.at(-1) !== pill.textContent && window.statuses.push(pill.textContent)).observe(pill, { childList: true, characterData: true, subtree: true });
    }`);
    const seen = async () => (await page.evaluate('window.statuses')) as string[];
    const status = (s: string) => page.locator('li[data-session="browser-3"] .status', { hasText: new RegExp(`^${s}$`) }).waitFor();

    // Instead of the QR: a pairing code for a phone number, entered on the (sandbox) phone.
    await page.locator('#pairing summary').click();
    await page.fill('#pairing-phone', '+1 555 000 3333');
    await page.press('#pairing-phone', 'Enter');
    await page.locator('#pairing-result').waitFor({ state: 'visible' });
    assert.match((await page.textContent('#pairing-code')) ?? '', /^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/);
    await screenshots(page, '11-pairing-code');
    await page.click('#pairing-enter');
    await status('READY');
    assert.equal(await page.textContent('#detail-status'), 'READY');
    assert.equal(await page.isHidden('#qr-panel'), true);

    // Stop, from the keyboard: TERMINATED, live; only Start is offered to bring it back.
    await page.focus('#stop-session');
    await page.keyboard.press('Enter');
    await status('TERMINATED');
    await page.locator('#detail-status', { hasText: /^TERMINATED$/ }).waitFor();
    assert.deepEqual([await page.isDisabled('#stop-session'), await page.isDisabled('#start-session')], [true, false]);
    await screenshots(page, '12-stopped');
    // Start: READY again without a QR (the login is kept).
    await page.click('#start-session');
    await status('READY');
    assert.equal((await seen()).includes('QR_READY'), false, 'no QR on a start with the login kept');

    // Restart: it starts over (INITIALIZING) and is READY again.
    const count = (await seen()).length;
    await page.click('#restart-session');
    await page.waitForFunction((n) => (window as any).statuses.length > n + 1 && (window as any).statuses.at(-1) === 'READY', count);
    assert.ok((await seen()).slice(count).includes('INITIALIZING'), `restart starts over: ${(await seen()).join(' ')}`);

    // Log out (asked first): TERMINATED, and the next start shows a QR code.
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#logout-session');
    await status('TERMINATED');
    await page.click('#start-session');
    await status('QR_READY');
    await page.locator('#qr').waitFor({ state: 'visible' });
    assert.equal(await page.isHidden('#pairing-result'), true, 'the old pairing code is gone');

    // Remove (asked first): gone from the list and from the server.
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('#remove-session');
    await page.locator('li[data-session="browser-3"]').waitFor({ state: 'detached' });
    await page.locator('#detail').waitFor({ state: 'hidden' });
    assert.equal((await server.gqlOk('{ session(sessionId: "browser-3") { status } }')).session, null);
    assert.deepEqual(problems, []);
    await page.close();
  });
});

describe('dashboard on a server with an API key', needs('chromium'), () => {
  const KEY = 'dashboard-key-0123456789abcdef';
  let server: TestServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  before(async () => {
    await buildDashboard();
    server = await startServer({ auth: { apiKeys: [KEY] } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it('asks for the key on 401, keeps it, and works with it (GraphQL and the live socket)', async () => {
    const { page } = await openPage(browser, `${server.url}/`);
    const dialog = page.locator('#key-dialog');
    await dialog.waitFor({ state: 'visible' });
    assert.match((await page.textContent('#key-reason')) ?? '', /asks for an API key/);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'api-key', 'the key box has the focus');
    await screenshots(page, '10-api-key');
    await page.fill('#api-key', 'a wrong key');
    await page.press('#api-key', 'Enter');
    await dialog.waitFor({ state: 'visible' });
    await page.locator('#key-reason', { hasText: /refused this API key/ }).waitFor();
    await page.fill('#api-key', KEY);
    await page.press('#api-key', 'Enter');
    await dialog.waitFor({ state: 'hidden' });
    await page.locator('#server-info', { hasText: /^v\d/ }).waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('wa-gateway.apiKey')), KEY);
    await page.fill('#new-session-id', 'keyed');
    await page.press('#new-session-id', 'Enter');
    await page.locator('#detail-status', { hasText: /^QR_READY$/ }).waitFor();
    await page.locator('#connection', { hasText: 'connected' }).waitFor();
    await page.close();
  });
});
