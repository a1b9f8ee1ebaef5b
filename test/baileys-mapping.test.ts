// The Baileys engine's pure translations, against recorded fixtures of Baileys' objects
// (test/fixtures/baileys/events.json, written from the package's types): message kinds, reactions, revokes,
// edits, poll votes, acks, presence, group and call events; the ID mapping both ways; every send and action
// as the socket call Baileys documents.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actionCall, contentFor, sendCall } from '../src/engine/baileys/calls.js';
import { formatPairingCode, inviteCode, mapGroupMetadata, socketError } from '../src/engine/baileys/account.js';
import { canonicalId, fromJid, toGroupJid, toJid, toUserJid } from '../src/engine/baileys/ids.js';
import {
  applyPollVote,
  applyReaction,
  mapCall,
  mapChat,
  mapContact,
  mapGroupUpdate,
  mapParticipants,
  mapPresence,
  mapReaction,
  mapUpdate,
  mapUpsert,
  type MapContext,
  type StoredMessage,
} from '../src/engine/baileys/mapping.js';
import { EngineError } from '../src/engine/engine.js';
import { fixture } from './helpers/baileys.js';

const f = fixture('events.json');
const lids = new Map([['201863227543594', '4915550000004']]);
const ctx: MapContext = { meId: '4915550000001@c.us', lids };
const PEER = '4915550000002@c.us';

function message(name: string): StoredMessage {
  const out = mapUpsert(f.upserts[name], ctx);
  assert.equal(out.kind, 'message', `${name}: ${JSON.stringify(out)}`);
  return (out as { message: StoredMessage }).message;
}

function invalid(fn: () => unknown) {
  assert.throws(fn, (e: unknown) => e instanceof EngineError && e.code === 'INVALID_CHAT_ID');
}

describe('Baileys ID mapping', () => {
  it('round-trips users, groups, broadcast and @lid', () => {
    assert.equal(toJid('4915550000002@c.us'), '4915550000002@s.whatsapp.net');
    assert.equal(fromJid('4915550000002@s.whatsapp.net'), '4915550000002@c.us');
    assert.equal(fromJid('4915550000002:12@s.whatsapp.net'), '4915550000002@c.us', 'device part dropped');
    for (const id of ['4915550000002@c.us', '120363025246125486@g.us', '4915550000002-1764900000@g.us', 'status@broadcast']) {
      assert.equal(fromJid(toJid(id)), id);
    }
    assert.equal(toJid('201863227543594@lid'), '201863227543594@lid');
    assert.equal(fromJid('201863227543594@lid'), '201863227543594@lid', 'unknown lid kept');
    assert.equal(fromJid('201863227543594:3@lid', lids), '4915550000004@c.us', 'known lid shown as the phone id');
    assert.equal(toUserJid('4915550000002@c.us'), '4915550000002@s.whatsapp.net');
    assert.equal(toGroupJid('120363025246125486@g.us'), '120363025246125486@g.us');
  });

  it('answers INVALID_CHAT_ID for malformed ids, never a crash', () => {
    for (const bad of ['', 'abc', '123@bogus.net', '12@c.us', '4915550000002@c.us@c.us', 'x@g.us', '4915550000002', null, 42, { id: 1 }]) invalid(() => toJid(bad));
    invalid(() => toUserJid('120363025246125486@g.us'));
    invalid(() => toGroupJid('4915550000002@c.us'));
    assert.equal(fromJid('123@bogus.net'), null);
    assert.equal(fromJid(undefined), null);
  });
});

describe('Baileys contact and group answers', () => {
  it('an @lid id given to the API is the number where Baileys told it, else kept', () => {
    assert.equal(canonicalId('201863227543594@lid', lids), '4915550000004@c.us');
    assert.equal(canonicalId('201863227500000@lid', lids), '201863227500000@lid');
    assert.equal(canonicalId(PEER, lids), PEER);
  });

  it('maps groupMetadata (members by number, admins, owner) and socket refusals to the gateway codes', () => {
    const group = mapGroupMetadata(
      {
        id: '120363025246125486@g.us',
        subject: 'Team',
        owner: '201863227543594@lid',
        ownerPn: '4915550000004@s.whatsapp.net',
        creation: 1764800000,
        announce: true,
        participants: [
          { id: '201863227543594@lid', phoneNumber: '4915550000004@s.whatsapp.net', admin: 'superadmin' },
          { id: '4915550000002@s.whatsapp.net', admin: 'admin' },
          { id: '4915550000003@s.whatsapp.net', admin: null },
          { id: 'nonsense' },
        ],
      },
      lids,
    );
    assert.deepEqual(group, {
      id: '120363025246125486@g.us',
      subject: 'Team',
      description: null,
      owner: '4915550000004@c.us',
      createdAt: 1764800000,
      announce: true,
      restrict: false,
      participants: [
        { id: '4915550000004@c.us', isAdmin: true, isSuperAdmin: true },
        { id: PEER, isAdmin: true, isSuperAdmin: false },
        { id: '4915550000003@c.us', isAdmin: false, isSuperAdmin: false },
      ],
    });
    const boom = (statusCode: number) => Object.assign(new Error('refused'), { output: { statusCode } });
    assert.equal(socketError('groupUpdateSubject', boom(403), { 403: ['NOT_GROUP_ADMIN', 'admins only'] }).code, 'NOT_GROUP_ADMIN');
    assert.equal(socketError('onWhatsApp', boom(428)).code, 'SESSION_NOT_READY');
    assert.equal(socketError('onWhatsApp', boom(500)).code, 'ENGINE_ERROR');
    assert.equal(socketError('updateProfilePicture', new Error('No image processing library available')).code, 'ENGINE_UNSUPPORTED');
    assert.equal(inviteCode('https://chat.whatsapp.com/AbCdEf123456'), 'AbCdEf123456');
    assert.equal(formatPairingCode('abcd2345'), 'ABCD-2345');
  });
});

describe('Baileys messages.upsert', () => {
  it('maps every message kind', () => {
    const text = message('text');
    assert.deepEqual(
      { id: text.id, chatId: text.chatId, from: text.from, to: text.to, fromMe: text.fromMe, body: text.body, type: text.type, ack: text.ack, timestamp: text.timestamp },
      { id: '3EB0A1B2C3D4E5F60001', chatId: PEER, from: PEER, to: '4915550000001@c.us', fromMe: false, body: 'hello there', type: 'CHAT', ack: null, timestamp: 1764900001 },
    );
    const quote = message('extendedTextQuote');
    assert.equal(quote.body, 'replying');
    assert.equal(quote.quotedMessageId, '3EB0A1B2C3D4E5F60001');
    assert.equal(quote.timestamp, 1764900000, 'a Long timestamp');
    const image = message('image');
    assert.deepEqual([image.type, image.caption, image.media], ['IMAGE', 'a picture', { mimetype: 'image/jpeg', size: 20480 }]);
    const doc = message('document');
    assert.deepEqual([doc.type, doc.caption, doc.media], ['DOCUMENT', 'the report', { mimetype: 'application/pdf', filename: 'report.pdf', size: 20480 }]);
    assert.equal(message('audio').type, 'AUDIO');
    assert.equal(message('voice').type, 'PTT');
    assert.deepEqual([message('video').type, message('video').caption], ['VIDEO', 'a clip']);
    assert.equal(message('sticker').type, 'STICKER');
    assert.deepEqual(message('location').location, { latitude: 52.52, longitude: 13.405, name: 'Alexanderplatz', address: '10178 Berlin' });
    const card = message('contact');
    assert.equal(card.type, 'VCARD');
    assert.match(card.vcard ?? '', /waid=4915550000003/);
    assert.equal(message('contacts').vcard, 'BEGIN:VCARD\nFN:A\nEND:VCARD\nBEGIN:VCARD\nFN:B\nEND:VCARD');
    const poll = message('poll');
    assert.deepEqual(poll.poll, { name: 'Lunch?', options: [{ name: 'Pizza', votes: 0 }, { name: 'Sushi', votes: 0 }, { name: 'Salad', votes: 0 }], allowMultipleAnswers: false });
    assert.deepEqual([poll.fromMe, poll.from, poll.to, poll.ack], [true, '4915550000001@c.us', PEER, 'SERVER']);
    assert.equal(message('ownText').ack, 'PENDING');
    assert.equal(message('ephemeral').body, 'disappearing');
  });

  it('maps a group message of a @lid member to the phone id Baileys gave beside it', () => {
    const m = message('groupLid');
    assert.deepEqual([m.chatId, m.author, m.from, m.to], ['120363025246125486@g.us', '4915550000004@c.us', '4915550000004@c.us', '120363025246125486@g.us']);
    // Without the alternate address and without a known mapping the lid is kept as it is.
    const bare = structuredClone(f.upserts.groupLid);
    delete bare.key.participantAlt;
    const out = mapUpsert(bare, { meId: ctx.meId });
    assert.equal(out.kind === 'message' && out.message.author, '201863227543594@lid');
  });

  it('maps reactions, revokes and edits to what they change', () => {
    assert.deepEqual(mapUpsert(f.upserts.reaction, ctx), {
      kind: 'reaction',
      messageId: '3EB0A1B2C3D4E5F60012',
      chatId: PEER,
      reaction: { emoji: '👍', senderId: PEER, timestamp: 1764900013 },
    });
    assert.deepEqual(mapUpsert(f.upserts.revoke, ctx), { kind: 'revoke', messageId: '3EB0A1B2C3D4E5F60001', chatId: PEER, by: PEER });
    assert.deepEqual(mapUpsert(f.upserts.stubRevoked, ctx), { kind: 'revoke', messageId: '3EB0A1B2C3D4E5F60019', chatId: PEER, by: PEER });
    assert.deepEqual(mapUpsert(f.upserts.edit, ctx), { kind: 'edit', messageId: '3EB0A1B2C3D4E5F60002', chatId: PEER, body: 'replying (edited)', timestamp: 1764900015 });
    assert.equal(mapUpsert(f.upserts.unknownServer, ctx).kind, 'ignore');
  });
});

describe('Baileys messages.update, messages.reaction', () => {
  it('maps acks', () => {
    const acks = ['ackServer', 'ackDelivered', 'ackRead', 'ackPlayed'].map((n) => mapUpdate(f.updates[n], ctx));
    assert.deepEqual(
      acks.map((a) => a[0]),
      ['SERVER', 'DEVICE', 'READ', 'PLAYED'].map((ack) => ({ kind: 'ack', messageId: '3EB0A1B2C3D4E5F60017', chatId: PEER, ack })),
    );
  });

  it('maps edits and revokes', () => {
    assert.deepEqual(mapUpdate(f.updates.edit, ctx), [{ kind: 'edit', messageId: '3EB0A1B2C3D4E5F60003', chatId: PEER, body: 'a better caption', timestamp: 1764900100 }]);
    assert.deepEqual(mapUpdate(f.updates.revoke, ctx), [{ kind: 'revoke', messageId: '3EB0A1B2C3D4E5F60004', chatId: PEER, by: null }]);
  });

  it('counts poll votes, a changed vote replacing the earlier one', () => {
    let poll = message('poll');
    const [first] = mapUpdate(f.updates.pollVote, ctx);
    assert.equal(first?.kind, 'pollVote');
    poll = applyPollVote(poll, first as Extract<typeof first, { kind: 'pollVote' }> & object);
    assert.deepEqual(poll.poll?.options.map((o) => o.votes), [0, 1, 0]);
    const [changed] = mapUpdate(f.updates.pollVoteChanged, ctx);
    poll = applyPollVote(poll, changed as never);
    assert.deepEqual(poll.poll?.options.map((o) => o.votes), [1, 0, 0]);
    assert.deepEqual(poll.pollVoters, { [PEER]: ['Pizza'] });
  });

  it('maps reactions, an empty one removing the sender’s', () => {
    const added = mapReaction(f.reactions.added, ctx);
    assert.deepEqual(added, { kind: 'reaction', messageId: '3EB0A1B2C3D4E5F60017', chatId: PEER, reaction: { emoji: '❤️', senderId: PEER, timestamp: 1764900400 } });
    let m = applyReaction(message('ownText'), added!.reaction);
    assert.deepEqual(m.reactions?.map((r) => r.emoji), ['❤️']);
    m = applyReaction(m, mapReaction(f.reactions.removed, ctx)!.reaction);
    assert.deepEqual(m.reactions, []);
  });
});

describe('Baileys presence, group and call events', () => {
  it('maps presence updates', () => {
    assert.deepEqual(mapPresence(f.presence, ctx), [{ kind: 'presence', chatId: PEER, contactId: PEER, presence: 'TYPING' }]);
    assert.deepEqual(mapPresence(f.presenceGroup, ctx), [
      { kind: 'presence', chatId: '120363025246125486@g.us', contactId: '4915550000004@c.us', presence: 'RECORDING' },
      { kind: 'presence', chatId: '120363025246125486@g.us', contactId: '4915550000004@c.us', presence: 'UNAVAILABLE' },
    ]);
  });

  it('maps group-participants.update to the gateway’s group_join/group_leave events', () => {
    assert.deepEqual(mapParticipants(f.participants.add, ctx), { type: 'group_join', groupId: '120363025246125486@g.us', participants: ['4915550000005@c.us'], by: '4915550000004@c.us' });
    assert.deepEqual(mapParticipants(f.participants.remove, ctx), { type: 'group_leave', groupId: '120363025246125486@g.us', participants: ['4915550000006@c.us'], by: '4915550000004@c.us' });
    assert.deepEqual(mapParticipants(f.participants.promote, ctx), { kind: 'group_admin', groupId: '120363025246125486@g.us', participants: ['4915550000005@c.us'], action: 'promote', by: '4915550000004@c.us' });
  });

  it('maps groups.update', () => {
    assert.deepEqual(
      f.groupsUpdate.map((g: never) => mapGroupUpdate(g, ctx)),
      [
        { kind: 'group_update', groupId: '120363025246125486@g.us', subject: 'Team', by: '4915550000004@c.us' },
        { kind: 'group_update', groupId: '120363025246125486@g.us', announce: true, by: '4915550000004@c.us' },
        { kind: 'group_update', groupId: '120363025246125486@g.us', description: 'new description', by: null },
      ],
    );
  });

  it('maps calls', () => {
    assert.deepEqual(mapCall(f.call[0], ctx), { kind: 'call', callId: 'CALL1A2B3C4D5E6F', from: PEER, isVideo: true, isGroup: false, status: 'offer', timestamp: 1796436000 });
  });

  it('maps history chats and contacts, skipping what the API has no id for', () => {
    assert.deepEqual(f.history.chats.map((c: never) => mapChat(c, ctx)), [
      { id: PEER, name: 'Peer', isGroup: false, unreadCount: 2, timestamp: 1764800005 },
      { id: '120363025246125486@g.us', name: 'Team', isGroup: true, unreadCount: 0, timestamp: 1764800100 },
      null,
    ]);
    assert.deepEqual(f.history.contacts.map((c: never) => mapContact(c, ctx)), [
      { id: PEER, name: 'Peer Saved', pushname: 'Peer', isMyContact: true, isWAContact: true },
      { id: '4915550000004@c.us', name: null, pushname: 'Member', isMyContact: false, isWAContact: true },
      null,
    ]);
  });
});

describe('Baileys sends and actions as socket calls', () => {
  const data = Buffer.from('bytes');
  const quoted = f.upserts.text;

  it('maps every send kind to sendMessage(jid, content, options)', () => {
    const cases: [Parameters<typeof contentFor>[0], unknown][] = [
      [{ kind: 'text', text: 'hi' }, { text: 'hi' }],
      [{ kind: 'media', media: 'image', data, mimetype: 'image/png', caption: 'cap' }, { image: data, mimetype: 'image/png', caption: 'cap' }],
      [{ kind: 'media', media: 'file', data, mimetype: 'application/pdf', filename: 'a.pdf' }, { document: data, mimetype: 'application/pdf', fileName: 'a.pdf' }],
      [{ kind: 'media', media: 'audio', data, mimetype: 'audio/mpeg' }, { audio: data, mimetype: 'audio/mpeg', ptt: false }],
      [{ kind: 'media', media: 'voice' as never, data, mimetype: 'audio/ogg' }, { audio: data, mimetype: 'audio/ogg', ptt: true }],
      [{ kind: 'media', media: 'video' as never, data, mimetype: 'video/mp4', caption: 'v' }, { video: data, mimetype: 'video/mp4', caption: 'v' }],
      [{ kind: 'media', media: 'sticker' as never, data, mimetype: 'image/webp' }, { sticker: data, mimetype: 'image/webp' }],
      [{ kind: 'location', latitude: 1.5, longitude: -2.25, name: 'Here', address: null }, { location: { degreesLatitude: 1.5, degreesLongitude: -2.25, name: 'Here' } }],
      [
        { kind: 'contact', contactId: '4915550000003@c.us' },
        {
          contacts: {
            displayName: '+4915550000003',
            contacts: [{ vcard: 'BEGIN:VCARD\nVERSION:3.0\nFN:+4915550000003\nTEL;type=CELL;type=VOICE;waid=4915550000003:+4915550000003\nEND:VCARD', displayName: '+4915550000003' }],
          },
        },
      ],
      [{ kind: 'poll', name: 'Q', options: ['a', 'b'], allowMultipleAnswers: true }, { poll: { name: 'Q', values: ['a', 'b'], selectableCount: 2 } }],
      [{ kind: 'poll', name: 'Q', options: ['a', 'b'], allowMultipleAnswers: false }, { poll: { name: 'Q', values: ['a', 'b'], selectableCount: 1 } }],
    ];
    for (const [content, expected] of cases) {
      assert.deepEqual(sendCall({ chatId: PEER, content }, null), { method: 'sendMessage', args: ['4915550000002@s.whatsapp.net', expected, {}] });
    }
    assert.deepEqual(sendCall({ chatId: PEER, content: { kind: 'text', text: 're' }, quotedMessageId: quoted.key.id }, quoted).args[2], { quoted });
    invalid(() => sendCall({ chatId: 'nope', content: { kind: 'text', text: 'x' } }, null));
    assert.throws(() => sendCall({ chatId: PEER, content: { kind: 'text', text: 'x' }, quotedMessageId: 'UNKNOWN' }, null), /not known/);
  });

  it('maps every message action, and refuses a vote as ENGINE_UNSUPPORTED', () => {
    const own = f.upserts.ownText;
    const jid = '4915550000002@s.whatsapp.net';
    assert.deepEqual(actionCall({ kind: 'react', messageId: own.key.id, emoji: '🎉' }, { target: own }), { method: 'sendMessage', args: [jid, { react: { text: '🎉', key: own.key } }] });
    assert.deepEqual(actionCall({ kind: 'forward', messageId: own.key.id, chatId: '120363025246125486@g.us' }, { target: own }), {
      method: 'sendMessage',
      args: ['120363025246125486@g.us', { forward: own }],
    });
    assert.deepEqual(actionCall({ kind: 'delete', messageId: own.key.id, forEveryone: true }, { target: own }), { method: 'sendMessage', args: [jid, { delete: own.key }] });
    assert.deepEqual(actionCall({ kind: 'delete', messageId: own.key.id, forEveryone: false }, { target: own }), {
      method: 'chatModify',
      args: [{ deleteForMe: { key: own.key, timestamp: 1764900017, deleteMedia: false } }, jid],
    });
    assert.deepEqual(actionCall({ kind: 'edit', messageId: own.key.id, content: 'new' }, { target: own }), { method: 'sendMessage', args: [jid, { text: 'new', edit: own.key }] });
    assert.throws(() => actionCall({ kind: 'edit', messageId: quoted.key.id, content: 'x' }, { target: quoted }), /own messages/);
    assert.throws(
      () => actionCall({ kind: 'vote', messageId: 'P', options: ['a'] }, { target: null }),
      (e: unknown) => e instanceof EngineError && e.code === 'ENGINE_UNSUPPORTED' && /poll votes/.test(e.message),
    );
    const presences = { TYPING: 'composing', RECORDING: 'recording', PAUSED: 'paused', AVAILABLE: 'available', UNAVAILABLE: 'unavailable' } as const;
    for (const [presence, wa] of Object.entries(presences)) {
      assert.deepEqual(actionCall({ kind: 'presence', chatId: PEER, presence: presence as never }, { target: null }), { method: 'sendPresenceUpdate', args: [wa, jid] });
    }
    assert.deepEqual(actionCall({ kind: 'markUnread', chatId: PEER }, { target: null, lastMessages: [quoted] }), {
      method: 'chatModify',
      args: [{ markRead: false, lastMessages: [{ key: quoted.key, messageTimestamp: quoted.messageTimestamp }] }, jid],
    });
    assert.throws(() => actionCall({ kind: 'react', messageId: 'UNKNOWN', emoji: 'x' }, { target: null }), /not known/);
    invalid(() => actionCall({ kind: 'presence', chatId: 'bad', presence: 'TYPING' }, { target: null }));
  });
});
