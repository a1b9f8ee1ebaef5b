// The open-wa engine's send kinds, decryptMedia, poll votes and the received kinds (issue 23), against
// payloads recorded in the library's shapes (test/fixtures/open-wa/kinds.json). The library's Client is a
// recorder answering with those payloads; our mapping and worker calls run as in production.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Client, Message } from '@open-wa/wa-automate-types-only';
import type { PollData } from '@open-wa/wa-automate-types-only/dist/api/model/message.js';
import { EngineError, type OutgoingContent } from '../src/engine/engine.js';
import { mapMessage } from '../src/engine/open-wa/mapping.js';
import { mapPollVote } from '../src/engine/open-wa/send-mapping.js';
import { clientCalls } from '../src/engine/open-wa/worker-calls.js';

const kinds = JSON.parse(readFileSync(new URL('./fixtures/open-wa/kinds.json', import.meta.url), 'utf8')) as Record<
  'sticker' | 'video' | 'vcard' | 'locationWithAddress' | 'groupPoll',
  Message
> & { pollData: PollData; mediaGone: string; decrypted: string };
const errors = JSON.parse(readFileSync(new URL('./fixtures/open-wa/errors.json', import.meta.url), 'utf8')) as Record<string, string>;

const ALICE = '4915100000001@c.us';
const GROUP = '4915100000009-1764000000@g.us';
const GONE = 'false_4915100000001@c.us_3EB0GONE000000000099';

function expectEngineError(code: EngineError['code'], message?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof EngineError, `expected an EngineError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  };
}

function recorder() {
  const calls: unknown[][] = [];
  const stored = new Map<string, Message>(Object.values(kinds).filter((m): m is Message => typeof m === 'object' && 'type' in m).map((m) => [String(m.id), m]));
  stored.set(GONE, { ...kinds.video, id: GONE } as unknown as Message);
  const answer = (name: string, to: string, ...rest: unknown[]) => {
    calls.push([name, to, ...rest]);
    return `true_${to}_3EB0SENT${name.toUpperCase().slice(0, 8).padEnd(8, '0')}0000`;
  };
  const client = {
    getHostNumber: async () => '4915100000009',
    getMessageById: async (id: string) => stored.get(id) ?? null,
    sendFile: async (to: string, file: string, name: string, caption: string, quoted?: string) => answer('sendFile', to, file.slice(0, 16), name, caption, quoted),
    sendPtt: async (to: string, file: string, quoted?: string) => answer('sendPtt', to, file.slice(0, 16), quoted),
    sendImageAsSticker: async (to: string, image: string) => answer('sendImageAsSticker', to, image.slice(0, 16)),
    sendRawWebpAsSticker: async (to: string, webp: string) => answer('sendRawWebpAsSticker', to, webp.slice(0, 8)),
    sendLocation: async (to: string, lat: string, lng: string, loc: string, address?: string) => answer('sendLocation', to, lat, lng, loc, address),
    sendVCard: async (to: string, vcard: string) => answer('sendVCard', to, vcard.slice(0, 11)),
    sendContact: async (to: string, contactId: string) => {
      calls.push(['sendContact', to, contactId]);
      throw new Error(errors.licenseRequired);
    },
    sendPoll: async (to: string, name: string, options: string[], quoted?: string, multi?: boolean) => answer('sendPoll', to, name, options, quoted, multi),
    decryptMedia: async (message: Message) => {
      if (String(message.id) === GONE) throw new Error(kinds.mediaGone);
      return kinds.decrypted;
    },
  };
  return { client: client as unknown as Client, calls };
}

const send = (content: OutgoingContent, chatId = ALICE, quotedMessageId?: string) => {
  const { client, calls } = recorder();
  return { result: clientCalls(client).send({ chatId, content: content as any, ...(quotedMessageId ? { quotedMessageId } : {}) }), calls };
};

describe('open-wa: each send kind calls its library method', () => {
  const bytes = new Uint8Array(Buffer.from('RIFF....WEBPVP8L'));

  it('video through sendFile, voice note through sendPtt (type PTT), quoting', async () => {
    const video = send({ kind: 'media', media: 'video', data: bytes as any, mimetype: 'video/mp4', filename: 'clip.mp4', caption: 'look' }, ALICE, kinds.video.id as string);
    const sent = await video.result;
    assert.deepEqual(video.calls[0], ['sendFile', ALICE, 'data:video/mp4;b', 'clip.mp4', 'look', kinds.video.id]);
    assert.equal(sent.quotedMessageId, kinds.video.id);
    const voice = send({ kind: 'media', media: 'voice', data: bytes as any, mimetype: 'audio/ogg' });
    const note = await voice.result;
    assert.deepEqual(voice.calls[0], ['sendPtt', ALICE, 'data:audio/ogg;b', undefined]);
    assert.deepEqual([note.type, note.media?.mimetype], ['PTT', 'audio/ogg']);
  });

  it('stickers: a WebP as it is (sendRawWebpAsSticker), another image converted (sendImageAsSticker)', async () => {
    const webp = send({ kind: 'media', media: 'sticker', data: bytes as any, mimetype: 'image/webp' });
    assert.equal((await webp.result).type, 'STICKER');
    assert.deepEqual(webp.calls[0], ['sendRawWebpAsSticker', ALICE, Buffer.from(bytes).toString('base64').slice(0, 8)]);
    const png = send({ kind: 'media', media: 'sticker', data: bytes as any, mimetype: 'image/png' });
    await png.result;
    assert.deepEqual(png.calls[0], ['sendImageAsSticker', ALICE, 'data:image/png;b']);
  });

  it('location (sendLocation with strings), contact card (sendVCard), poll (sendPoll, groups only)', async () => {
    const loc = send({ kind: 'location', latitude: 52.52, longitude: 13.405, name: 'Gate', address: 'Pariser Platz' });
    const located = await loc.result;
    assert.deepEqual(loc.calls[0], ['sendLocation', ALICE, '52.52', '13.405', 'Gate', 'Pariser Platz']);
    assert.deepEqual([located.type, located.location], ['LOCATION', { latitude: 52.52, longitude: 13.405, name: 'Gate', address: 'Pariser Platz' }]);
    const card = send({ kind: 'contact', vcard: 'BEGIN:VCARD\nEND:VCARD' });
    assert.equal((await card.result).type, 'VCARD');
    assert.deepEqual(card.calls[0], ['sendVCard', ALICE, 'BEGIN:VCARD']);
    const poll = send({ kind: 'poll', name: 'Day?', options: ['Mo', 'Tu'], allowMultipleAnswers: true }, GROUP);
    const polled = await poll.result;
    assert.deepEqual(poll.calls[0], ['sendPoll', GROUP, 'Day?', ['Mo', 'Tu'], undefined, true]);
    assert.deepEqual(polled.poll, { name: 'Day?', options: [{ name: 'Mo', votes: 0 }, { name: 'Tu', votes: 0 }], allowMultipleAnswers: true });
    const direct = send({ kind: 'poll', name: 'Day?', options: ['Mo', 'Tu'], allowMultipleAnswers: false });
    await assert.rejects(direct.result, expectEngineError('ENGINE_UNSUPPORTED', /groups only/));
    assert.deepEqual(direct.calls, [], 'the library is not asked');
  });

  it("a licence-gated method answers ENGINE_UNSUPPORTED with the library's message", async () => {
    const contact = send({ kind: 'contact', contactId: '4915100000005@c.us' });
    await assert.rejects(contact.result, expectEngineError('ENGINE_UNSUPPORTED', /requires a license key/));
    assert.deepEqual(contact.calls[0], ['sendContact', ALICE, '4915100000005@c.us']);
  });

  it('votes: the library cannot cast one (ENGINE_UNSUPPORTED)', async () => {
    const api = clientCalls(recorder().client);
    await assert.rejects(api.act({ kind: 'vote', messageId: kinds.groupPoll.id as string, options: ['Monday'] }), expectEngineError('ENGINE_UNSUPPORTED'));
  });
});

describe('open-wa: decryptMedia, received kinds and onPollVote', () => {
  it('getMedia: the bytes of decryptMedia with the type and filename; gone media is MEDIA_GONE; unknown and text messages', async () => {
    const api = clientCalls(recorder().client);
    const media = await api.getMedia(kinds.sticker.id as string);
    assert.equal(media?.mimetype, 'image/webp');
    assert.equal(Buffer.from(media!.data).toString('base64'), kinds.decrypted.split(',')[1]);
    await assert.rejects(api.getMedia(GONE), expectEngineError('MEDIA_GONE'));
    await assert.rejects(api.getMedia('false_1@c.us_NONE'), expectEngineError('MESSAGE_NOT_FOUND'));
    assert.equal(await api.getMedia(kinds.vcard.id as string), null);
  });

  it('onMessage kinds: sticker, video, contact card, location with its address, poll', () => {
    const sticker = mapMessage(kinds.sticker);
    assert.deepEqual([sticker.type, sticker.body, sticker.media], ['STICKER', null, { mimetype: 'image/webp', size: 8120 }]);
    const video = mapMessage(kinds.video);
    assert.deepEqual([video.type, video.caption, video.media?.size], ['VIDEO', 'the clip', 204800]);
    const card = mapMessage(kinds.vcard);
    assert.deepEqual([card.type, card.vcard], ['VCARD', kinds.vcard.body]);
    const loc = mapMessage(kinds.locationWithAddress);
    assert.deepEqual(loc.location, { latitude: 52.516275, longitude: 13.377704, name: 'Brandenburg Gate', address: 'Pariser Platz, 10117 Berlin' });
    const poll = mapMessage(kinds.groupPoll);
    assert.deepEqual([poll.type, poll.from, poll.poll], [
      'POLL',
      ALICE,
      { name: 'Meeting day?', options: [{ name: 'Monday', votes: 0 }, { name: 'Tuesday', votes: 0 }], allowMultipleAnswers: false },
    ]);
  });

  it('onPollVote: the PollData as a poll_vote event with the counts and the newest voter', () => {
    assert.deepEqual(mapPollVote(kinds.pollData), {
      type: 'poll_vote',
      messageId: kinds.pollData.pollMessage.id,
      chatId: GROUP,
      voter: ALICE,
      options: ['Tuesday'],
      poll: { name: 'Meeting day?', options: [{ name: 'Monday', votes: 0 }, { name: 'Tuesday', votes: 1 }], allowMultipleAnswers: false },
    });
    assert.equal(mapPollVote({ ...kinds.pollData, pollMessage: {} as Message }), null);
  });
});
