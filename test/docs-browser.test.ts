import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServer, waitFor, type TestServer } from './helpers/app.js';
import { launchBrowser, screenshots } from './helpers/browser.js';
import { needs } from './helpers/system-tools.js';

const KEY = 'docs-try-it-key-0123456789';

describe('REST docs in a browser (Swagger UI, served offline)', needs('chromium'), () => {
  let server: TestServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  before(async () => {
    server = await startServer({ auth: { apiKeys: [KEY] } });
    // The session the examples name, READY, as the docs' first steps leave it.
    const headers = { 'content-type': 'application/json', 'x-api-key': KEY };
    await fetch(`${server.url}/api/v1/sessions`, { method: 'POST', headers, body: JSON.stringify({ sessionId: 'demo', waitForQR: true }) });
    await fetch(`${server.url}/api/v1/sessions/demo/sandbox/scan`, { method: 'POST', headers });
    await waitFor(async () => ((await (await fetch(`${server.url}/api/v1/sessions/demo/status`, { headers })).json()) as any).data.status === 'ready', 5000, 'ready');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  it('Authorize with the key, then send-text from Try it out succeeds with the prefilled example', async () => {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(20_000);
    const problems: string[] = [];
    const foreign: string[] = [];
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('request', (request) => {
      if (!request.url().startsWith(server.url) && !request.url().startsWith('data:')) foreign.push(request.url());
    });
    await page.goto(`${server.url}/api/v1/docs`);
    await page.locator('#operations-Messaging-sendText').waitFor();
    await screenshots(page, 'docs-01-loaded', { fullPage: false });

    // Authorize: the X-Api-Key scheme.
    await page.click('.auth-wrapper .btn.authorize');
    const modal = page.locator('.modal-ux');
    await modal.waitFor();
    await modal.locator('input[type=text], input[type=password]').first().fill(KEY);
    await modal.locator('.auth-btn-wrapper .btn.modal-btn.auth.authorize').first().click();
    await modal.locator('.btn.modal-btn.auth', { hasText: 'Logout' }).first().waitFor();
    await screenshots(page, 'docs-02-authorized', { fullPage: false });
    await modal.locator('.btn-done, button.close-modal').first().click();

    // send-text: open it, Try it out (the example fills session id and body), Execute.
    const op = page.locator('#operations-Messaging-sendText');
    await op.locator('.opblock-summary').first().click();
    await op.locator('button.try-out__btn').click();
    const body = await op.locator('textarea.body-param__text').inputValue();
    assert.deepEqual(JSON.parse(body), { chatId: '15550000001@c.us', content: 'Hello from wa-gateway' }, 'the example body, no "string" placeholders');
    assert.equal(await op.locator('tr[data-param-name="sessionId"] input').inputValue(), 'demo');
    const sent = page.waitForRequest((r) => r.url().endsWith('/api/v1/sessions/demo/send-text') && r.method() === 'POST');
    await op.locator('button.execute').click();
    const request = await sent;
    assert.equal((await request.allHeaders())['x-api-key'], KEY, 'Try it sends the key');
    assert.match((await request.allHeaders())['content-type'] ?? '', /^application\/json/);
    const status = op.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor();
    assert.equal((await status.textContent())?.trim(), '200');
    const answer = await op.locator('.live-responses-table .response-col_description .microlight, .live-responses-table .response-col_description pre').first().textContent();
    assert.match(answer ?? '', /"messageId":\s*"true_15550000001@c\.us_/);
    await screenshots(page, 'docs-03-try-it', { fullPage: false, show: '#operations-Messaging-sendText .live-responses-table' });

    // The server agrees: the message is in the chat.
    const data = await server.gql(`{ session(sessionId: "demo") { chat(chatId: "15550000001@c.us") { messages(last: 5) { edges { node { body fromMe } } } } } }`, {}, { 'x-api-key': KEY });
    assert.ok(data.data.session.chat.messages.edges.some((e: any) => e.node.fromMe && e.node.body === 'Hello from wa-gateway'));
    assert.deepEqual(foreign, [], 'nothing is fetched from elsewhere');
    assert.deepEqual(problems, [], 'no script errors or CSP violations');
    await page.close();
  });

  it('the page takes the key the dashboard stored (no Authorize needed)', async () => {
    const page = await browser.context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(`${server.url}/`);
    await page.evaluate((key) => localStorage.setItem('wa-gateway.apiKey', key), KEY);
    // A fresh page: Swagger UI's own remembered authorization is cleared first.
    await page.evaluate(() => localStorage.removeItem('authorized'));
    await page.goto(`${server.url}/api/v1/docs#/Sessions/listSessions`);
    const op = page.locator('#operations-Sessions-listSessions');
    await op.locator('button.try-out__btn').click();
    const sent = page.waitForRequest((r) => r.url().endsWith('/api/v1/sessions') && r.method() === 'GET');
    await op.locator('button.execute').click();
    assert.equal((await (await sent).allHeaders())['x-api-key'], KEY);
    await op.locator('.live-responses-table .response-col_status', { hasText: '200' }).first().waitFor();
    await page.close();
  });
});
