import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestServer } from './helpers/app.js';
import { errorOf, history, live, MESSAGE_SUB, SEND_TEXT, sendMedia, twoSessions } from './helpers/messaging.js';

const dataUrl = (type: string, bytes: Buffer) => `data:${type};base64,${bytes.toString('base64')}`;
// A 1x1 PNG, a tiny PDF and an MP3 frame header: real bytes of each kind.
const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const pdf = Buffer.from('%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n');
const mp3 = Buffer.from([0xff, 0xfb, 0x90, 0x64, ...Array(60).fill(0)]);

describe('media messages', () => {
  let server: TestServer;
  let b: string;
  let a: string;
  before(async () => {
    ({ server, a, b } = await twoSessions({ media: { maxImageBytes: 1000, maxFileBytes: 2000 } }));
  });
  after(() => server.dispose());

  it('image, file and audio arrive with type, mimetype, filename, size and caption, and stay in history', async () => {
    const incoming = await live(server, server.wsClient(), MESSAGE_SUB, { s: 'B' });
    const cases = [
      { mutation: 'sendImage', type: 'IMAGE', mimetype: 'image/png', bytes: png, filename: 'dot.png', caption: 'a dot' },
      { mutation: 'sendFile', type: 'DOCUMENT', mimetype: 'application/pdf', bytes: pdf, filename: 'report.pdf', caption: 'the report' },
      { mutation: 'sendAudio', type: 'AUDIO', mimetype: 'audio/mpeg', bytes: mp3, filename: 'voice.mp3', caption: null },
    ] as const;
    const sentIds: string[] = [];
    for (const c of cases) {
      const input = { sessionId: 'A', chatId: b, data: dataUrl(c.mimetype, c.bytes), filename: c.filename, caption: c.caption };
      const sent = (await server.gqlOk(sendMedia(c.mutation), { input }))[c.mutation].message;
      sentIds.push(sent.id);
      assert.deepEqual([sent.type, sent.mimetype, sent.filename, sent.caption, sent.size, sent.body], [c.type, c.mimetype, c.filename, c.caption, c.bytes.length, null]);
    }
    const got = (await incoming.next(3)).map((v) => v.message);
    const expected = cases.map((c) => [c.type, c.mimetype, c.filename, c.caption, c.bytes.length, false]);
    assert.deepEqual(got.map((m) => [m.type, m.mimetype, m.filename, m.caption, m.size, m.fromMe]), expected);
    const bHistory = await history(server, 'B', a);
    assert.deepEqual(bHistory.map((m) => [m.type, m.mimetype, m.filename, m.caption, m.size, m.fromMe]), expected);
    const aHistory = await history(server, 'A', b);
    assert.deepEqual(aHistory.map((m) => m.id), sentIds);
  });

  it('each bad data URL gets VALIDATION_ERROR with details, and nothing is stored or delivered', async () => {
    const incoming = await live(server, server.wsClient(), MESSAGE_SUB, { s: 'B' });
    const before = (await history(server, 'A', b)).length;
    const big = Buffer.alloc(1500, 7);
    const bad = [
      { mutation: 'sendImage', data: 'not a data url', reason: 'NOT_A_DATA_URL' },
      { mutation: 'sendImage', data: `data:image/png,${png.toString('base64')}`, reason: 'NOT_BASE64' },
      { mutation: 'sendImage', data: 'data:image/png;base64,***not base64***', reason: 'NOT_BASE64' },
      { mutation: 'sendImage', data: 'data:image/png;base64,', reason: 'NOT_BASE64' },
      { mutation: 'sendImage', data: 'data:image/png;base64,abc', reason: 'NOT_BASE64' },
      { mutation: 'sendImage', data: dataUrl('application/pdf', pdf), reason: 'WRONG_TYPE' },
      { mutation: 'sendAudio', data: dataUrl('image/png', png), reason: 'WRONG_TYPE' },
      { mutation: 'sendAudio', data: dataUrl('video/mp4', mp3), reason: 'WRONG_TYPE' },
      { mutation: 'sendImage', data: dataUrl('image/png', big), reason: 'TOO_LARGE' },
      { mutation: 'sendAudio', data: dataUrl('audio/mpeg', big), reason: 'TOO_LARGE' },
      { mutation: 'sendFile', data: dataUrl('application/octet-stream', Buffer.alloc(2001)), reason: 'TOO_LARGE' },
    ] as const;
    for (const c of bad) {
      const result = await server.gql(sendMedia(c.mutation), { input: { sessionId: 'A', chatId: b, data: c.data } });
      const error = errorOf(result);
      assert.equal(error?.code, 'VALIDATION_ERROR', `${c.mutation} ${c.data.slice(0, 40)}`);
      assert.equal(error?.details.reason, c.reason, `${c.mutation} ${c.data.slice(0, 40)}`);
      assert.equal(error?.details.field, 'data');
    }
    const sizeError = errorOf(await server.gql(sendMedia('sendImage'), { input: { sessionId: 'A', chatId: b, data: dataUrl('image/png', big) } }));
    assert.deepEqual([sizeError?.details.size, sizeError?.details.limit], [1500, 1000]);
    // A file of exactly the limit is fine: the limit is inclusive.
    await server.gqlOk(sendMedia('sendFile'), { input: { sessionId: 'A', chatId: b, data: dataUrl('application/octet-stream', Buffer.alloc(2000)) } });
    await incoming.next(1);
    assert.equal(incoming.values.length, 1, 'only the valid file was delivered');
    assert.equal((await history(server, 'A', b)).length, before + 1, 'only the valid file was stored');
  });
});

// Bodies of 1 MB and more are parsed on a worker thread, which also takes apart data URLs of 2 MB and more there
// (the main thread gets a marker, never the string): the answers must be the same as for small ones.
describe('media messages: big data URLs taken apart off the event loop', () => {
  let server: TestServer;
  let b: string;
  let a: string;
  const MB = 1024 * 1024;
  before(async () => {
    ({ server, a, b } = await twoSessions({ media: { maxImageBytes: 3 * MB, maxFileBytes: 4 * MB } }));
  });
  after(() => server.dispose());

  it('a 3 MB image and a 4 MB file (with line breaks) arrive whole; over the limit, bad base64 and wrong types get the same errors', async () => {
    const image = Buffer.alloc(3 * MB, 9);
    image.write('exact bytes', 1000);
    const incoming = await live(server, server.wsClient(), MESSAGE_SUB, { s: 'B' });
    const sent = (await server.gqlOk(sendMedia('sendImage'), { input: { sessionId: 'A', chatId: b, data: dataUrl('image/png', image), caption: 'big' } })).sendImage.message;
    assert.deepEqual([sent.type, sent.mimetype, sent.size, sent.caption], ['IMAGE', 'image/png', 3 * MB, 'big']);
    const wrapped = `data:application/octet-stream;base64,${Buffer.alloc(4 * MB, 3).toString('base64').replace(/.{76}/g, '$&\r\n')}`;
    const file = (await server.gqlOk(sendMedia('sendFile'), { input: { sessionId: 'A', chatId: b, data: wrapped, filename: 'big.bin' } })).sendFile.message;
    assert.equal(file.size, 4 * MB);
    assert.deepEqual((await incoming.next(2)).map((v) => v.message.size), [3 * MB, 4 * MB]);

    const over = errorOf(await server.gql(sendMedia('sendImage'), { input: { sessionId: 'A', chatId: b, data: dataUrl('image/png', Buffer.alloc(3 * MB + 1)) } }));
    assert.deepEqual([over?.code, over?.details.reason, over?.details.size, over?.details.limit], ['VALIDATION_ERROR', 'TOO_LARGE', 3 * MB + 1, 3 * MB]);
    const far = errorOf(await server.gql(sendMedia('sendFile'), { input: { sessionId: 'A', chatId: b, data: dataUrl('application/pdf', Buffer.alloc(6 * MB)) } }));
    assert.deepEqual([far?.details.reason, far?.details.size], ['TOO_LARGE', 6 * MB]);
    const notBase64 = `data:image/png;base64,${'A'.repeat(3 * MB - 4)}*AAA`;
    assert.equal(errorOf(await server.gql(sendMedia('sendImage'), { input: { sessionId: 'A', chatId: b, data: notBase64 } }))?.details.reason, 'NOT_BASE64');
    const wrongType = dataUrl('application/pdf', Buffer.alloc(2 * MB));
    assert.equal(errorOf(await server.gql(sendMedia('sendImage'), { input: { sessionId: 'A', chatId: b, data: wrongType } }))?.details.reason, 'WRONG_TYPE');
    // The same string as a text message is refused by the string limit at its real length.
    const textResult = await server.gql(SEND_TEXT, { input: { sessionId: 'A', chatId: b, content: wrongType } });
    assert.equal(errorOf(textResult)?.details.rule, 'maxStringLength');
    assert.match(String(textResult.errors?.[0]?.message), new RegExp(`${wrongType.length} characters`));
    // A caller cannot name another request's media: a marker-like string is just not a data URL.
    const forged = errorOf(await server.gql(sendMedia('sendImage'), { input: { sessionId: 'A', chatId: b, data: '\u0000preparsed-media:00000000-0000-4000-8000-000000000000' } }));
    assert.equal(forged?.details.reason, 'NOT_A_DATA_URL');
    const aHistory = await history(server, 'A', b);
    assert.deepEqual(aHistory.map((m) => m.size), [3 * MB, 4 * MB]);
  });
});
