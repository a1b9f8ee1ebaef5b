// The dashboard's chat view with everything a chat can hold, in Chromium, on a server with an API key and
// introspection off: media another sandbox session sends shows inline (the image decoded from bytes fetched
// with the key), a document downloads byte for byte, locations, contact cards and polls show with their
// fields and votes; a reaction, an edit and a revoke change the message live and stay after a reload; a
// file attached in the dashboard reaches the other session byte for byte; a reaction, a vote, an edit and
// deletes made in the dashboard reach the other side.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import type { Page } from 'playwright-core';
import { readySession, startServer, waitFor, type TestServer } from './helpers/app.js';
import { gqlOkAs } from './helpers/auth.js';
import { buildDashboard, launchBrowser, screenshots } from './helpers/browser.js';
import { needs, requireTools } from './helpers/system-tools.js';

const KEY = 'dashboard-media-key-0123456789abcdef';
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const DELETED = 'This message was deleted';
const dataUrl = (type: string, bytes: Buffer) => `data:${type};base64,${bytes.toString('base64')}`;

/** A w×h PNG in two colours (so a screenshot shows it). */
function png(w: number, h: number, rgb: [number, number, number]): Buffer {
  const image = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      const on = (x >> 3) % 2 === (y >> 3) % 2;
      image.data[i] = on ? rgb[0] : 255;
      image.data[i + 1] = on ? rgb[1] : 255;
      image.data[i + 2] = on ? rgb[2] : 255;
      image.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(image);
}

const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n');
const SEND = (name: string) => `mutation($input: ${name === 'sendLocation' ? 'SendLocationInput' : name === 'sendContactCard' ? 'SendContactCardInput' : name === 'sendPoll' ? 'SendPollInput' : name === 'sendText' ? 'SendTextInput' : 'SendMediaInput'}!) { ${name}(input: $input) { message { id } } }`;
const HISTORY = `query($s: String!, $c: String!) { session(sessionId: $s) { chat(chatId: $c) { messages(last: 50) { edges { node { id type body caption fromMe media { mimetype filename size dataUrl } } } } } } }`;

describe('dashboard chat view: media, message kinds and message changes', needs('chromium'), () => {
  let server: TestServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  const problems: string[] = [];
  let me: string;
  let friend: string;
  const gql = (query: string, variables: Record<string, unknown> = {}) => gqlOkAs(server, KEY, query, variables);
  const send = async (name: string, input: Record<string, unknown>) => (await gql(SEND(name), { input }))[name].message.id as string;
  /** The id of `sessionId`'s copy of a message (same key, the id's last part). */
  const copyId = async (sessionId: string, chatId: string, id: string) => {
    const key = id.slice(id.lastIndexOf('_'));
    return waitFor(async () => {
      const edges = (await gql(HISTORY, { s: sessionId, c: chatId })).session.chat?.messages.edges ?? [];
      return (edges.map((e: any) => e.node).find((m: any) => m.id.endsWith(key))?.id as string | undefined) ?? null;
    }, 5000, `${sessionId}'s copy`);
  };
  const bubble = (messageId: string) => page.locator(`#messages li[data-message-id="${messageId}"]`);

  before(async () => {
    requireTools('chromium');
    await buildDashboard();
    server = await startServer({ auth: { apiKeys: [KEY] }, introspection: false });
    const admin = { ...server, gqlOk: (q: string, v?: Record<string, unknown>) => gqlOkAs(server, KEY, q, v) } as TestServer;
    [me, friend] = await Promise.all([readySession(admin, 'dash'), readySession(admin, 'friend')]);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(15_000);
    // The key is in the browser before the page's scripts run (the dialog asking for it is dashboard.test.ts's).
    // (Not by visiting another page of the server first: its favicon's 404 could arrive after the listeners.)
    await page.addInitScript(`try { localStorage.setItem('wa-gateway.apiKey', ${JSON.stringify(KEY)}); } catch {}`);
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
    });
    await page.goto(`${server.url}/`);
  });
  after(async () => {
    await browser?.close();
    await server?.dispose();
  });

  const IMAGE = png(96, 64, [11, 122, 110]);
  let imageId: string;
  let editedId: string;
  let revokedId: string;
  let pollId: string;

  it('an image sent from another session appears inline, from bytes fetched with the API key; video, voice, document, location, contact card and poll show too', async () => {
    await page.locator('li[data-session="dash"] button').click();
    await page.locator('#detail-status', { hasText: /^READY$/ }).waitFor();

    imageId = await send('sendImage', { sessionId: 'friend', chatId: me, data: dataUrl('image/png', IMAGE), filename: 'tiles.png', caption: 'look at this' });
    // The chat list shows the new chat live, with what the message is.
    const item = page.locator(`#chat-list li[data-chat-id="${friend}"]`);
    await item.locator('.last', { hasText: 'Photo: look at this' }).waitFor();
    await item.locator('button').click();
    const ownImageId = await copyId('dash', friend, imageId);
    const img = bubble(ownImageId).locator('img.media');
    await page.waitForFunction((id) => {
      const node = document.querySelector(`#messages li[data-message-id="${id}"] img.media`) as HTMLImageElement | null;
      return node !== null && node.complete && node.naturalWidth > 0;
    }, ownImageId);
    assert.deepEqual(await img.evaluate((n: HTMLImageElement) => [n.naturalWidth, n.naturalHeight, n.src.slice(0, 5)]), [96, 64, 'blob:'], 'the PNG decoded, from a blob');
    assert.equal(await bubble(ownImageId).locator('.text').textContent(), 'look at this');

    const video = Buffer.concat([Buffer.from('AAAAGGZ0eXBtcDQyAAAAAG1wNDJpc29t', 'base64'), Buffer.alloc(500, 1)]);
    const voice = Buffer.concat([Buffer.from('OggS'), Buffer.alloc(400, 2)]);
    const ids = {
      video: await send('sendVideo', { sessionId: 'friend', chatId: me, data: dataUrl('video/mp4', video), filename: 'clip.mp4' }),
      voice: await send('sendVoice', { sessionId: 'friend', chatId: me, data: dataUrl('audio/ogg', voice), filename: 'note.ogg' }),
      document: await send('sendFile', { sessionId: 'friend', chatId: me, data: dataUrl('application/pdf', PDF), filename: 'report.pdf', caption: 'the report' }),
      location: await send('sendLocation', { sessionId: 'friend', chatId: me, latitude: 52.516275, longitude: 13.377704, name: 'Brandenburg Gate', address: 'Pariser Platz, 10117 Berlin' }),
      contact: await send('sendContactCard', { sessionId: 'friend', chatId: me, vcard: 'BEGIN:VCARD\nVERSION:3.0\nFN:Jane Roe\nTEL;type=CELL;waid=15550002222:+15550002222\nEND:VCARD' }),
    };
    const own: Record<string, string> = {};
    for (const [kind, id] of Object.entries(ids)) own[kind] = await copyId('dash', friend, id);
    await bubble(own.video!).locator('video.media[src^="blob:"]').waitFor({ state: 'attached' });
    await bubble(own.voice!).locator('audio.media[src^="blob:"]').waitFor({ state: 'attached' });
    assert.equal(await bubble(own.voice!).getAttribute('data-type'), 'ptt');

    const doc = bubble(own.document!).locator('a.document');
    assert.match((await doc.textContent()) ?? '', new RegExp(`report\\.pdf.*application/pdf · ${PDF.length} B`));
    const [download] = await Promise.all([page.waitForEvent('download'), doc.click()]);
    assert.equal(download.suggestedFilename(), 'report.pdf');
    assert.equal(sha(readFileSync(await download.path())), sha(PDF), 'the document downloads byte for byte');

    const place = bubble(own.location!).locator('a.location');
    assert.match((await place.textContent()) ?? '', /Brandenburg Gate.*Pariser Platz, 10117 Berlin.*52\.516275, 13\.377704/);
    assert.match((await place.getAttribute('href')) ?? '', /mlat=52\.516275&mlon=13\.377704/);
    assert.match((await bubble(own.contact!).locator('.contact-card').textContent()) ?? '', /Jane Roe.*\+15550002222/);
    await screenshots(page, 'media-01-received', { show: `#messages li[data-message-id="${own.contact}"]` });
  });

  it('a poll shows its votes, updated live when the other side votes', async () => {
    pollId = await send('sendPoll', { sessionId: 'dash', chatId: friend, name: 'Lunch?', options: ['Pizza', 'Salad', 'Soup'] });
    const poll = bubble(pollId).locator('.poll');
    await poll.waitFor();
    assert.match((await poll.textContent()) ?? '', /Lunch\?.*Pizza0.*Salad0.*Soup0/);
    const theirs = await copyId('friend', me, pollId);
    await gql('mutation($input: VotePollInput!) { votePoll(input: $input) { message { id } } }', { input: { sessionId: 'friend', messageId: theirs, options: ['Salad'] } });
    await poll.locator('li[data-option="Salad"] .votes', { hasText: /^1$/ }).waitFor();
    assert.equal(await poll.locator('li[data-option="Pizza"] .votes').textContent(), '0');
  });

  it('a reaction, an edit and a revoke by the other side show live, and the same after a reload', async () => {
    const ownImageId = await copyId('dash', friend, imageId);
    // The friend reacts to the image it sent (its own copy): the dashboard's copy shows it.
    await gql('mutation($input: ReactToMessageInput!) { reactToMessage(input: $input) { message { id } } }', { input: { sessionId: 'friend', messageId: imageId, emoji: '👍' } });
    await bubble(ownImageId).locator('.reactions .reaction', { hasText: '👍' }).waitFor();

    const typo = await send('sendText', { sessionId: 'friend', chatId: me, content: 'see you at 8' });
    editedId = await copyId('dash', friend, typo);
    await bubble(editedId).locator('.text', { hasText: 'see you at 8' }).waitFor();
    await gql('mutation($input: EditMessageInput!) { editMessage(input: $input) { message { id } } }', { input: { sessionId: 'friend', messageId: typo, content: 'see you at 9' } });
    await bubble(editedId).locator('.text', { hasText: /^see you at 9$/ }).waitFor();
    assert.match((await bubble(editedId).locator('.meta').textContent()) ?? '', /^edited · /);

    const oops = await send('sendText', { sessionId: 'friend', chatId: me, content: 'wrong chat, sorry' });
    revokedId = await copyId('dash', friend, oops);
    await bubble(revokedId).locator('.text', { hasText: 'wrong chat, sorry' }).waitFor();
    await gql('mutation($input: DeleteMessageInput!) { deleteMessage(input: $input) { messageId } }', { input: { sessionId: 'friend', messageId: oops, forEveryone: true } });
    await bubble(revokedId).locator('.text.revoked', { hasText: /^This message was deleted$/ }).waitFor();
    assert.match((await page.locator(`#chat-list li[data-chat-id="${friend}"] .last`).textContent()) ?? '', /This message was deleted/, 'the chat list too');
    await screenshots(page, 'media-02-changes', { show: `#messages li[data-message-id="${revokedId}"]` });

    // The event log names each change.
    await page.click('#tab-events');
    await page.locator('#event-log li[data-type="REACTION"]', { hasText: `${friend} reacted 👍` }).waitFor();
    await page.locator('#event-log li[data-type="MESSAGE_EDITED"]', { hasText: 'see you at 9' }).waitFor();
    await page.locator('#event-log li[data-type="MESSAGE_REVOKED"]', { hasText: `deleted for everyone in ${friend}` }).waitFor();
    await page.locator('#event-log li[data-type="POLL_VOTE"]', { hasText: `${friend} voted Salad` }).waitFor();
    await screenshots(page, 'media-03-event-log');
    await page.click('#tab-chats');

    // From the history: the same.
    await page.reload();
    await page.locator('li[data-session="dash"] button').click();
    await page.locator(`#chat-list li[data-chat-id="${friend}"] button`).click();
    await bubble(ownImageId).locator('.reactions .reaction', { hasText: '👍' }).waitFor();
    await bubble(editedId).locator('.text', { hasText: /^see you at 9$/ }).waitFor();
    assert.match((await bubble(editedId).locator('.meta').textContent()) ?? '', /^edited · /);
    await bubble(revokedId).locator('.text.revoked', { hasText: /^This message was deleted$/ }).waitFor();
    await bubble(pollId).locator('.poll li[data-option="Salad"] .votes', { hasText: /^1$/ }).waitFor();
  });

  it('from the dashboard: a reaction, a vote, an edit and deletes, each seen by the other side', async () => {
    const COPY = `query($s: String!, $c: String!) { session(sessionId: $s) { chat(chatId: $c) { messages(last: 50) { edges { node { id type body edited reactions { emoji senderId } } } } } } }`;
    const friendsCopy = async (id: string) => {
      const key = id.slice(id.lastIndexOf('_'));
      const edges = (await gql(COPY, { s: 'friend', c: me })).session.chat.messages.edges as any[];
      return edges.map((e) => e.node).find((m) => m.id.endsWith(key)) ?? null;
    };
    // React to the friend's message, from the keyboard: its actions open with Enter.
    const theirs = bubble(editedId);
    await theirs.locator('.message-actions summary').focus();
    await page.keyboard.press('Enter');
    await theirs.locator('button[aria-label="React ❤️"]').focus();
    await page.keyboard.press('Enter');
    await theirs.locator('.reactions .reaction', { hasText: '❤️' }).waitFor();
    await waitFor(async () => (await friendsCopy(editedId))?.reactions.some((r: any) => r.emoji === '❤️' && r.senderId === me), 5000, "the reaction on the friend's copy");
    await screenshots(page, 'media-04-actions', { show: `#messages li[data-message-id="${editedId}"]` });

    // A vote on the poll.
    await bubble(pollId).locator('.message-actions summary').click();
    await bubble(pollId).locator('button', { hasText: 'Vote Pizza' }).click();
    await bubble(pollId).locator('.poll li[data-option="Pizza"] .votes', { hasText: /^1$/ }).waitFor();

    // Edit a message of its own, then delete it for everyone.
    await page.fill('#send-text', 'meet at the station');
    await page.press('#send-text', 'Enter');
    const mine = page.locator('#messages li.out[data-message-id]', { hasText: 'meet at the station' });
    await mine.locator('.meta', { hasText: / · (sent|delivered|read)$/ }).waitFor();
    const mineId = (await mine.getAttribute('data-message-id'))!;
    page.once('dialog', (dialog) => void dialog.accept('meet at the bridge'));
    await bubble(mineId).locator('.message-actions summary').click();
    await bubble(mineId).locator('button', { hasText: /^Edit$/ }).click();
    await bubble(mineId).locator('.text', { hasText: /^meet at the bridge$/ }).waitFor();
    assert.match((await bubble(mineId).locator('.meta').textContent()) ?? '', /^edited · /);
    await waitFor(async () => {
      const copy = await friendsCopy(mineId);
      return copy?.body === 'meet at the bridge' && copy.edited;
    }, 5000, "the edit on the friend's copy");
    page.once('dialog', (dialog) => void dialog.accept());
    await bubble(mineId).locator('.message-actions summary').click();
    await bubble(mineId).locator('button', { hasText: 'Delete for everyone' }).click();
    await bubble(mineId).locator('.text.revoked', { hasText: DELETED }).waitFor();
    await waitFor(async () => (await friendsCopy(mineId))?.type === 'REVOKED', 5000, "the friend's copy revoked");

    // Delete for me: gone here, kept on the other side.
    page.once('dialog', (dialog) => void dialog.accept());
    await theirs.locator('.message-actions summary').click();
    await theirs.locator('button', { hasText: 'Delete for me' }).click();
    await theirs.waitFor({ state: 'detached' });
    assert.equal((await friendsCopy(editedId))?.body, 'see you at 9');
  });

  it('a file attached in the dashboard is sent as an image or a document, with the text as its caption', async () => {
    const picture = png(48, 48, [200, 60, 30]);
    // Attach, from the keyboard: the button opens the file chooser. The wait starts first, so the chooser is
    // intercepted (Playwright asks for that without waiting for an answer) before the key goes out.
    const chooserShown = page.waitForEvent('filechooser');
    await page.focus('#attach');
    await page.keyboard.press('Enter');
    const chooser = await chooserShown;
    await chooser.setFiles({ name: 'from-dashboard.png', mimeType: 'image/png', buffer: picture });
    await page.locator('#attachment-name', { hasText: 'from-dashboard.png' }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'send-text', 'the caption box has the focus');
    await page.fill('#send-text', 'my picture');
    await page.press('#send-text', 'Enter');
    assert.equal(await page.isHidden('#attachment'), true, 'the attachment is cleared on submit');
    const sent = page.locator('#messages li.out', { hasText: 'my picture' });
    await page.waitForFunction(() => [...document.querySelectorAll('#messages li.out img.media')].some((n) => (n as HTMLImageElement).naturalWidth === 48));
    await sent.locator('.meta', { hasText: / · (sent|delivered|read)$/ }).waitFor();

    await page.setInputFiles('#send-file', { name: 'notes.pdf', mimeType: 'application/pdf', buffer: PDF });
    await page.click('#send');
    await page.locator('#messages li.out a.document', { hasText: 'notes.pdf' }).waitFor();
    await screenshots(page, 'media-05-attached', { show: '#send-form' });

    const received = await waitFor(async () => {
      const list = ((await gql(HISTORY, { s: 'friend', c: me })).session.chat.messages.edges as any[]).map((e) => e.node).filter((m) => !m.fromMe);
      const image = list.find((m) => m.media?.filename === 'from-dashboard.png');
      const document = list.find((m) => m.media?.filename === 'notes.pdf');
      return image && document ? { image, document } : null;
    }, 5000, 'the friend to receive both');
    assert.deepEqual([received.image.type, received.image.caption, received.image.media.mimetype], ['IMAGE', 'my picture', 'image/png']);
    assert.equal(sha(Buffer.from(received.image.media.dataUrl.split(',')[1], 'base64')), sha(picture));
    assert.deepEqual([received.document.type, received.document.media.mimetype], ['DOCUMENT', 'application/pdf']);
    assert.equal(sha(Buffer.from(received.document.media.dataUrl.split(',')[1], 'base64')), sha(PDF));
    assert.deepEqual(problems, [], 'no script errors or CSP violations in the page');
  });
});
