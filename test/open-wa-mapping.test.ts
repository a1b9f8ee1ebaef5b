// The open-wa engine's translations, fed with payloads recorded in the library's shapes
// (test/fixtures/open-wa). The library's Client is replaced by a recorder that answers with those
// payloads; everything of ours runs as in production.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Chat, Client, Contact, GroupChatCreationResponse, Message, ReactionEvent } from '@open-wa/wa-automate-types-only';
import { EngineError, type EngineSession } from '../src/engine/engine.js';
import {
  assertChatId,
  libraryError,
  mapAck,
  mapAddParticipants,
  mapChat,
  mapChatState,
  mapContact,
  mapCreateGroup,
  mapMe,
  mapMessage,
  mapMessageDeleted,
  mapParticipantsChanged,
  mapReaction,
  mapRemoveParticipant,
  pageMessages,
  sentMessageId,
  toDataUrl,
  type ParticipantChangedEventModel,
} from '../src/engine/open-wa/mapping.js';
import { defaultOpenWaSettings } from '../src/engine/open-wa/open-wa-engine.js';
import { OpenWaSupervisor } from '../src/engine/open-wa/supervisor.js';
import { clientCalls } from '../src/engine/open-wa/worker-calls.js';
import { createLogger } from '../src/logger.js';

function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/open-wa/${name}`, import.meta.url), 'utf8')) as T;
}

const messages = fixture<Record<'incomingText' | 'sentReply' | 'groupImage' | 'document' | 'voiceNote' | 'location' | 'poll', Message>>('messages.json');
const chats = fixture<Chat[]>('chats.json');
const contacts = fixture<Contact[]>('contacts.json');
const groups = fixture<{
  createGroupResponse: GroupChatCreationResponse;
  createGroupFailed: GroupChatCreationResponse;
  members: string[];
  admins: string[];
  addParticipantError: { message: string; data: Record<string, number> };
  participantsChangedAdd: ParticipantChangedEventModel;
  participantsChangedRemove: ParticipantChangedEventModel;
  participantsChangedPromote: ParticipantChangedEventModel;
}>('groups.json');
const errors = fixture<Record<string, string>>('errors.json');
const actions = fixture<{
  reactionEvent: ReactionEvent;
  reactionEventEmpty: ReactionEvent;
  deletedMessage: Message;
  chatStateGroup: unknown;
  chatStateDirect: unknown;
  chatStateUnknown: unknown;
  forwardResult: string[];
  editResult: string;
}>('actions.json');

const ME = '4915100000009@c.us';
const ALICE = '4915100000001@c.us';
const GROUP = '4915100000009-1764000000@g.us';
/** A message whose action the recorded client refuses with the library's licence message. */
const LICENSED = 'true_4915100000001@c.us_3EB0L1CENCE000000009';

function expectEngineError(code: EngineError['code']) {
  return (error: unknown) => {
    assert.ok(error instanceof EngineError, `expected an EngineError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

describe('open-wa mapping: messages', () => {
  it('maps an incoming text message', () => {
    assert.deepEqual(mapMessage(messages.incomingText), {
      id: 'false_4915100000001@c.us_3EB0C4A1B2C3D4E5F601',
      chatId: ALICE,
      from: ALICE,
      to: ME,
      fromMe: false,
      body: 'hello from the phone',
      timestamp: 1764000000,
      author: null,
      type: 'CHAT',
      ack: 'SERVER',
      caption: null,
      media: null,
      quotedMessageId: null,
    });
  });

  it('maps a sent reply with an id-object chat id and a quoted message', () => {
    const m = mapMessage(messages.sentReply);
    assert.equal(m.chatId, ALICE);
    assert.equal(m.fromMe, true);
    assert.equal(m.from, ME);
    assert.equal(m.ack, 'PENDING');
    assert.equal(m.timestamp, 1764000060);
    assert.equal(m.quotedMessageId, 'false_4915100000001@c.us_3EB0C4A1B2C3D4E5F601');
  });

  it('maps a group image: the author is the sender, the thumbnail is not the body', () => {
    assert.deepEqual(mapMessage(messages.groupImage), {
      id: messages.groupImage.id,
      chatId: GROUP,
      from: '4915100000002@c.us',
      to: ME,
      fromMe: false,
      body: null,
      timestamp: 1764000120,
      author: '4915100000002@c.us',
      type: 'IMAGE',
      ack: 'READ',
      caption: 'the whiteboard',
      media: { mimetype: 'image/jpeg', size: 48213 },
      quotedMessageId: null,
    });
  });

  it('maps documents, voice notes, locations and unknown types', () => {
    const doc = mapMessage(messages.document);
    assert.deepEqual([doc.type, doc.ack, doc.body, doc.caption, doc.media], ['DOCUMENT', 'PLAYED', null, null, { mimetype: 'application/pdf', filename: 'invoice.pdf', size: 1024 }]);
    const ptt = mapMessage(messages.voiceNote);
    assert.deepEqual([ptt.type, ptt.ack, ptt.media?.mimetype], ['PTT', 'DEVICE', 'audio/ogg; codecs=opus']);
    const loc = mapMessage(messages.location);
    assert.deepEqual([loc.type, loc.ack, loc.body, loc.media], ['LOCATION', 'ERROR', 'Berlin', null]);
    assert.deepEqual(loc.location, { latitude: 52.52, longitude: 13.405, name: 'Berlin', address: null });
    assert.equal(mapMessage({ ...messages.incomingText, type: 'gp2' } as unknown as Message).type, 'UNKNOWN');
  });

  it('maps the ack enum -1..4 and nothing else', () => {
    assert.deepEqual([-1, 0, 1, 2, 3, 4].map(mapAck), ['ERROR', 'PENDING', 'SERVER', 'DEVICE', 'READ', 'PLAYED']);
    assert.equal(mapAck(5), null);
    assert.equal(mapAck(undefined), null);
  });

  it('pages messages oldest first, before a cursor', () => {
    const all = Object.values(messages).map(mapMessage).filter((m) => m.chatId === ALICE);
    const newest = pageMessages(all, 2);
    assert.deepEqual(newest.map((m) => m.timestamp), [1764000300, 1764000360]);
    const before = pageMessages(all, 10, messages.document.id);
    assert.deepEqual(before.map((m) => m.timestamp), [1764000000, 1764000060]);
    assert.deepEqual(pageMessages(all, 10, 'false_1@c.us_unknown'), []);
  });
});

describe('open-wa mapping: chats, contacts, groups', () => {
  it('maps chats with title fallbacks and no negative unread counts', () => {
    assert.deepEqual(chats.map(mapChat), [
      { id: ALICE, name: 'Alice', isGroup: false, unreadCount: 2, timestamp: 1764000300, lastMessage: null },
      { id: GROUP, name: 'Project group', isGroup: true, unreadCount: 0, timestamp: 1764000120, lastMessage: null },
    ]);
  });

  it('maps contacts and the host account', () => {
    assert.deepEqual(contacts.map(mapContact), [
      { id: ALICE, name: 'Alice', pushname: 'Alice P.', isMyContact: true, isWAContact: true },
      { id: '4915100000003@c.us', name: null, pushname: 'Carol', isMyContact: false, isWAContact: true },
    ]);
    assert.deepEqual(mapMe('+49 151 00000009', { pushname: 'Gateway' }), { id: ME, name: null, pushname: 'Gateway', isMyContact: true, isWAContact: true });
  });

  it('maps the group creation response (gid as an id object, a code per participant)', () => {
    const requested = [ALICE, '4915100000003@c.us', '4915100000004@c.us'];
    assert.deepEqual(mapCreateGroup(groups.createGroupResponse, requested), {
      gid: '4915100000009-1764000400@g.us',
      participants: [
        { id: ALICE, status: 200 },
        { id: '4915100000003@c.us', status: 403 },
        { id: '4915100000004@c.us', status: 200 },
      ],
    });
    assert.throws(() => mapCreateGroup(groups.createGroupFailed, requested), expectEngineError('ENGINE_ERROR'));
    assert.throws(() => mapCreateGroup(errors.licenseRequired, requested), expectEngineError('ENGINE_UNSUPPORTED'));
  });

  it('maps per-participant add results from AddParticipantError and plain codes', () => {
    const requested = [ALICE, '4915100000004@c.us', '4915100000005@c.us', '4915100000006@c.us'];
    assert.deepEqual(mapAddParticipants(GROUP, requested, groups.addParticipantError), [
      { id: ALICE, status: 409 },
      { id: '4915100000004@c.us', status: 403 },
      { id: '4915100000005@c.us', status: 403 },
      { id: '4915100000006@c.us', status: 200 },
    ]);
    assert.deepEqual(mapAddParticipants(GROUP, [ALICE], true), [{ id: ALICE, status: 200 }]);
    assert.deepEqual(mapAddParticipants(GROUP, [ALICE], { message: 'NOT_A_CONTACT' }), [{ id: ALICE, status: 404 }]);
    assert.deepEqual(mapAddParticipants(GROUP, [ALICE], { message: errors.insufficientPermissions! }), [{ id: ALICE, status: 403 }]);
    assert.throws(() => mapAddParticipants(GROUP, [ALICE], { message: errors.notAGroup! }), expectEngineError('INVALID_CHAT_ID'));
  });

  it('maps per-participant remove results', () => {
    assert.deepEqual(mapRemoveParticipant(GROUP, ALICE, true), { id: ALICE, status: 200 });
    assert.deepEqual(mapRemoveParticipant(GROUP, ALICE, errors.notAParticipant!), { id: ALICE, status: 409 });
    assert.deepEqual(mapRemoveParticipant(GROUP, ALICE, new Error(errors.insufficientPermissions)), { id: ALICE, status: 403 });
    assert.deepEqual(mapRemoveParticipant(GROUP, ALICE, false), { id: ALICE, status: 403 });
    assert.throws(() => mapRemoveParticipant(GROUP, ALICE, errors.groupMissing!), expectEngineError('INVALID_CHAT_ID'));
  });

  it('maps participant change events to group_join / group_leave / group_promote', () => {
    assert.deepEqual(mapParticipantsChanged(groups.participantsChangedAdd), { type: 'group_join', groupId: GROUP, participants: ['4915100000004@c.us'], by: ME });
    assert.deepEqual(mapParticipantsChanged(groups.participantsChangedRemove), { type: 'group_leave', groupId: GROUP, participants: ['4915100000002@c.us'], by: ME });
    assert.deepEqual(mapParticipantsChanged(groups.participantsChangedPromote), { type: 'group_promote', groupId: GROUP, participants: ['4915100000002@c.us'], by: ME });
  });
});

describe('open-wa mapping: error strings from the library', () => {
  const cases: [string, EngineError['code']][] = [
    ['notAContact', 'ENGINE_UNSUPPORTED'],
    ['notAContactPlain', 'ENGINE_UNSUPPORTED'],
    ['licenseRequired', 'ENGINE_UNSUPPORTED'],
    ['notLinked', 'NOT_ON_WHATSAPP'],
    ['broadcast', 'VALIDATION_ERROR'],
    ['noChats', 'ENGINE_ERROR'],
    ['notAGroup', 'INVALID_CHAT_ID'],
    ['groupMissing', 'INVALID_CHAT_ID'],
    ['pageClosed', 'SESSION_NOT_READY'],
    ['somethingElse', 'ENGINE_ERROR'],
  ];
  for (const [name, code] of cases) {
    it(`${name} -> ${code}, returned or thrown`, () => {
      const text = errors[name]!;
      assert.equal(libraryError(text).code, code);
      assert.equal(libraryError(new Error(text)).code, code);
      assert.equal(libraryError(text).details.reason, text);
      assert.throws(() => sentMessageId(text, ALICE), expectEngineError(code));
    });
  }

  it('accepts message ids and rejects false from send methods', () => {
    assert.equal(sentMessageId('true_4915100000001@c.us_3EB0AB', ALICE), 'true_4915100000001@c.us_3EB0AB');
    assert.throws(() => sentMessageId(false, ALICE), expectEngineError('ENGINE_ERROR'));
  });

  it('checks chat ids before anything reaches the library', () => {
    assert.doesNotThrow(() => assertChatId(ALICE));
    assert.doesNotThrow(() => assertChatId(GROUP, 'group'));
    assert.throws(() => assertChatId('alice'), expectEngineError('INVALID_CHAT_ID'));
    assert.throws(() => assertChatId(GROUP, 'contact'), expectEngineError('INVALID_CHAT_ID'));
    assert.throws(() => assertChatId(ALICE, 'group'), expectEngineError('INVALID_CHAT_ID'));
  });
});

/** A stand-in for the library's Client that answers with the recorded payloads and notes each call. */
function recordedClient() {
  const calls: [string, ...unknown[]][] = [];
  const chatById = (id: string) => chats.find((c) => c.id === id) ?? null;
  const stored = new Map<string, Message>([[messages.sentReply.id, messages.sentReply]]);
  const client = {
    async getHostNumber() {
      return '4915100000009';
    },
    async sendText(to: string, content: string) {
      calls.push(['sendText', to, content]);
      if (to === '4915100000007@c.us') return errors.notAContact;
      if (to === '4915100000008@c.us') throw new Error(errors.notLinked);
      return `true_${to}_3EB0SENT0000000000A1`;
    },
    async reply(to: string, content: string, quoted: string) {
      calls.push(['reply', to, content, quoted]);
      return messages.sentReply.id;
    },
    async getMessageById(id: string) {
      return stored.get(id) ?? null;
    },
    async sendImage(to: string, file: string, filename: string, caption: string, quoted?: string, waitForId?: boolean) {
      calls.push(['sendImage', to, file, filename, caption, quoted, waitForId]);
      return `true_${to}_3EB0IMG00000000000A2`;
    },
    async sendFile(to: string, file: string, filename: string, caption: string) {
      calls.push(['sendFile', to, file.slice(0, 30), filename, caption]);
      return false;
    },
    async sendAudio(to: string, file: string) {
      calls.push(['sendAudio', to, file.slice(0, 20)]);
      return `true_${to}_3EB0AUD00000000000A3`;
    },
    async getAllChats() {
      return chats;
    },
    async getChatById(id: string) {
      return chatById(id);
    },
    async getAllMessagesInChat(chatId: string) {
      return Object.values(messages).filter((m) => mapMessage(m).chatId === chatId);
    },
    async loadEarlierMessages() {
      calls.push(['loadEarlierMessages']);
      return [];
    },
    async getAllContacts() {
      return contacts;
    },
    async getContact(id: string) {
      return contacts.find((c) => c.id === id) ?? null;
    },
    async getGroupMembersId() {
      return groups.members;
    },
    async getGroupAdmins() {
      return groups.admins;
    },
    async createGroup(name: string, participants: string[]) {
      calls.push(['createGroup', name, participants]);
      return groups.createGroupResponse;
    },
    async setGroupDescription(groupId: string, description: string) {
      calls.push(['setGroupDescription', groupId, description]);
      return true;
    },
    async addParticipant(groupId: string) {
      if (groupId !== GROUP) throw new Error(errors.groupMissing);
      throw Object.assign(new Error(groups.addParticipantError.message), { name: 'AddParticipantError', data: groups.addParticipantError.data });
    },
    async removeParticipant(_groupId: string, participant: string) {
      if (participant === '4915100000002@c.us') throw new Error(errors.insufficientPermissions);
      return true;
    },
    async sendSeen(chatId: string) {
      return chatById(chatId) !== null;
    },
    async logout() {
      calls.push(['logout']);
      return true;
    },
    async react(messageId: string, emoji: string) {
      calls.push(['react', messageId, emoji]);
      if (messageId === LICENSED) throw new Error(errors.licenseRequired);
      return stored.has(messageId);
    },
    async forwardMessages(to: string, ids: string, skipMyMessages: boolean) {
      calls.push(['forwardMessages', to, ids, skipMyMessages]);
      return actions.forwardResult;
    },
    async deleteMessage(chatId: string, messageId: string, onlyLocal: boolean) {
      calls.push(['deleteMessage', chatId, messageId, onlyLocal]);
    },
    async editMessage(messageId: string, text: string) {
      calls.push(['editMessage', messageId, text]);
      return actions.editResult;
    },
    async simulateTyping(to: string, on: boolean) {
      calls.push(['simulateTyping', to, on]);
      return true;
    },
    async simulateRecording(to: string, on: boolean) {
      calls.push(['simulateRecording', to, on]);
      return true;
    },
    async setPresence(available: boolean) {
      calls.push(['setPresence', available]);
    },
    async markAsUnread(chatId: string) {
      calls.push(['markAsUnread', chatId]);
      if (chatId === GROUP) throw new Error(errors.licenseRequired);
      return chatById(chatId) !== null;
    },
  };
  return { client: client as unknown as Client, calls };
}

describe('open-wa worker calls: every engine-interface method against recorded payloads', () => {
  it('send text: sends, reports the library error strings, and replies when quoting', async () => {
    const { client, calls } = recordedClient();
    const api = clientCalls(client);
    const sent = await api.send({ chatId: ALICE, content: { kind: 'text', text: 'hi' } });
    assert.deepEqual([sent.id, sent.chatId, sent.from, sent.fromMe, sent.body, sent.type], [`true_${ALICE}_3EB0SENT0000000000A1`, ALICE, ME, true, 'hi', 'CHAT']);
    await assert.rejects(api.send({ chatId: '4915100000007@c.us', content: { kind: 'text', text: 'hi' } }), expectEngineError('ENGINE_UNSUPPORTED'));
    await assert.rejects(api.send({ chatId: '4915100000008@c.us', content: { kind: 'text', text: 'hi' } }), expectEngineError('NOT_ON_WHATSAPP'));
    const reply = await api.send({ chatId: ALICE, content: { kind: 'text', text: 'and hello back' }, quotedMessageId: messages.incomingText.id });
    assert.equal(reply.quotedMessageId, messages.incomingText.id);
    assert.deepEqual(calls.find((c) => c[0] === 'reply'), ['reply', ALICE, 'and hello back', messages.incomingText.id]);
  });

  it('send media: images, files and audio as data URLs; false becomes an error', async () => {
    const { client, calls } = recordedClient();
    const api = clientCalls(client);
    const data = new Uint8Array(Buffer.from('PNGDATA'));
    const image = await api.send({ chatId: ALICE, content: { kind: 'media', media: 'image', data, mimetype: 'image/png', caption: 'look' } });
    assert.deepEqual([image.type, image.caption, image.media], ['IMAGE', 'look', { mimetype: 'image/png', size: 7 }]);
    assert.deepEqual(calls[0], ['sendImage', ALICE, toDataUrl('image/png', data), 'image', 'look', undefined, true]);
    assert.equal(toDataUrl('image/png', data), `data:image/png;base64,${Buffer.from('PNGDATA').toString('base64')}`);
    const audio = await api.send({ chatId: ALICE, content: { kind: 'media', media: 'audio', data, mimetype: 'audio/ogg' } });
    assert.equal(audio.type, 'AUDIO');
    await assert.rejects(api.send({ chatId: ALICE, content: { kind: 'media', media: 'file', data, mimetype: 'application/pdf', filename: 'a.pdf' } }), expectEngineError('ENGINE_ERROR'));
  });

  it('getChats, getChat, getMessages', async () => {
    const api = clientCalls(recordedClient().client);
    assert.deepEqual((await api.getChats()).map((c) => c.id), [ALICE, GROUP]);
    assert.equal((await api.getChat(GROUP))?.name, 'Project group');
    assert.equal(await api.getChat('4915100000077@c.us'), null);
    const page = await api.getMessages(ALICE, { limit: 2 });
    assert.deepEqual(page.map((m) => m.timestamp), [1764000300, 1764000360]);
    const older = await api.getMessages(ALICE, { limit: 2, before: messages.document.id });
    assert.deepEqual(older.map((m) => m.id), [messages.incomingText.id, messages.sentReply.id]);
    assert.deepEqual(await api.getMessages('4915100000077@c.us', { limit: 5 }), []);
  });

  it('getContacts, getContact', async () => {
    const api = clientCalls(recordedClient().client);
    assert.equal((await api.getContacts()).length, 2);
    assert.equal((await api.getContact(ALICE))?.pushname, 'Alice P.');
    assert.equal(await api.getContact('4915100000077@c.us'), null);
  });

  it('getGroupParticipants, createGroup, addParticipants, removeParticipants', async () => {
    const { client, calls } = recordedClient();
    const api = clientCalls(client);
    assert.deepEqual(await api.getGroupParticipants(GROUP), [
      { id: ME, isAdmin: true },
      { id: ALICE, isAdmin: false },
      { id: '4915100000002@c.us', isAdmin: false },
    ]);
    assert.equal(await api.getGroupParticipants(ALICE), null);
    const created = await api.createGroup('New', [ALICE, '4915100000003@c.us'], 'about');
    assert.equal(created.gid, '4915100000009-1764000400@g.us');
    assert.deepEqual(calls.find((c) => c[0] === 'setGroupDescription'), ['setGroupDescription', created.gid, 'about']);
    const added = await api.addParticipants(GROUP, [ALICE, '4915100000004@c.us']);
    assert.deepEqual(added, [{ id: ALICE, status: 409 }, { id: '4915100000004@c.us', status: 403 }]);
    await assert.rejects(api.addParticipants('4915100000009-1764000999@g.us', [ALICE]), expectEngineError('INVALID_CHAT_ID'));
    const removed = await api.removeParticipants(GROUP, [ALICE, '4915100000002@c.us', '4915100000004@c.us']);
    assert.deepEqual(removed, [{ id: ALICE, status: 200 }, { id: '4915100000002@c.us', status: 403 }, { id: '4915100000004@c.us', status: 409 }]);
    await assert.rejects(api.removeParticipants('4915100000009-1764000999@g.us', [ALICE]), expectEngineError('INVALID_CHAT_ID'));
  });

  it('markChatRead, logout', async () => {
    const { client, calls } = recordedClient();
    const api = clientCalls(client);
    assert.equal(await api.markChatRead(ALICE), undefined);
    await assert.rejects(api.markChatRead('4915100000077@c.us'), expectEngineError('INVALID_CHAT_ID'));
    assert.equal(await api.logout(), undefined);
    assert.deepEqual(calls.at(-1), ['logout']);
  });
});

describe('open-wa message actions and their events', () => {
  it('maps onReaction: the newest sender record is the reaction (times in ms become seconds)', () => {
    assert.deepEqual(mapReaction(actions.reactionEvent), {
      type: 'reaction',
      messageId: messages.sentReply.id,
      chatId: ALICE,
      reaction: { emoji: '👍', senderId: ALICE, timestamp: 1764000120 },
    });
    assert.equal(mapReaction(actions.reactionEventEmpty), null);
  });

  it('maps onMessageDeleted to message_revoked (in a group, by the member) and onChatState to presence', () => {
    assert.deepEqual(mapMessageDeleted(actions.deletedMessage), {
      type: 'message_revoked',
      messageId: actions.deletedMessage.id,
      chatId: GROUP,
      by: '4915100000002@c.us',
    });
    assert.deepEqual(mapChatState(actions.chatStateGroup), { type: 'presence', chatId: GROUP, contactId: '4915100000002@c.us', presence: 'TYPING' });
    assert.deepEqual(mapChatState(actions.chatStateDirect), { type: 'presence', chatId: ALICE, contactId: ALICE, presence: 'RECORDING' });
    assert.equal(mapChatState(actions.chatStateUnknown), null);
    assert.equal(mapChatState(2), null);
  });

  it('act: react, forward, delete, edit, presence and markUnread call the library; a licence refusal is ENGINE_UNSUPPORTED', async () => {
    const { client, calls } = recordedClient();
    const api = clientCalls(client);
    const reacted = await api.act({ kind: 'react', messageId: messages.sentReply.id, emoji: '👍' });
    assert.equal(reacted?.id, messages.sentReply.id);
    assert.deepEqual(calls.at(-1), ['react', messages.sentReply.id, '👍']);
    await assert.rejects(api.act({ kind: 'react', messageId: 'true_4915100000001@c.us_3EB0NOPE', emoji: '👍' }), expectEngineError('ENGINE_ERROR'));
    await assert.rejects(api.act({ kind: 'react', messageId: LICENSED, emoji: '👍' }), (error: unknown) => {
      expectEngineError('ENGINE_UNSUPPORTED')(error);
      assert.match((error as Error).message, /requires a license key/, "the library's words");
      return true;
    });

    const forwarded = await api.act({ kind: 'forward', messageId: messages.sentReply.id, chatId: '4915100000002@c.us' });
    assert.deepEqual(
      [forwarded?.id, forwarded?.chatId, forwarded?.body, forwarded?.fromMe, forwarded?.from],
      [actions.forwardResult[0], '4915100000002@c.us', 'and hello back', true, ME],
      'the copy, from the original when the library does not have it yet',
    );
    assert.deepEqual(calls.at(-1), ['forwardMessages', '4915100000002@c.us', messages.sentReply.id, false]);

    assert.equal(await api.act({ kind: 'delete', messageId: messages.incomingText.id, forEveryone: false }), null);
    assert.deepEqual(calls.at(-1), ['deleteMessage', ALICE, messages.incomingText.id, true]);
    await api.act({ kind: 'delete', messageId: messages.sentReply.id, forEveryone: true });
    assert.deepEqual(calls.at(-1), ['deleteMessage', ALICE, messages.sentReply.id, false]);
    await assert.rejects(api.act({ kind: 'delete', messageId: 'nonsense', forEveryone: true }), expectEngineError('NOT_FOUND'));

    const edited = await api.act({ kind: 'edit', messageId: messages.sentReply.id, content: 'and hello again' });
    assert.equal(edited?.id, messages.sentReply.id);
    assert.deepEqual(calls.at(-1), ['editMessage', messages.sentReply.id, 'and hello again']);

    for (const [presence, expected] of [
      ['TYPING', [['simulateTyping', ALICE, true]]],
      ['RECORDING', [['simulateRecording', ALICE, true]]],
      ['PAUSED', [['simulateTyping', ALICE, false], ['simulateRecording', ALICE, false]]],
      ['AVAILABLE', [['setPresence', true]]],
      ['UNAVAILABLE', [['setPresence', false]]],
    ] as const) {
      const before = calls.length;
      assert.equal(await api.act({ kind: 'presence', chatId: ALICE, presence }), null);
      assert.deepEqual(calls.slice(before), expected, presence);
    }

    assert.equal(await api.act({ kind: 'markUnread', chatId: ALICE }), null);
    assert.deepEqual(calls.at(-1), ['markAsUnread', ALICE]);
    await assert.rejects(api.act({ kind: 'markUnread', chatId: '4915100000077@c.us' }), expectEngineError('ENGINE_ERROR'));
    await assert.rejects(api.act({ kind: 'markUnread', chatId: GROUP }), expectEngineError('ENGINE_UNSUPPORTED'));
    await assert.rejects(api.act({ kind: 'vote', messageId: messages.poll.id as string, options: ['a'] }), expectEngineError('ENGINE_UNSUPPORTED'));
  });
});

describe('open-wa supervisor: answers before a worker is ready', () => {
  const supervisor = new OpenWaSupervisor(
    { sessionId: 'idle', dataDir: '/nonexistent/idle', config: { engine: 'open-wa', multiDevice: true, headless: true, qrTimeout: 60, authTimeout: 60 } },
    () => undefined,
    defaultOpenWaSettings(),
    createLogger('silent'),
  );
  const session: EngineSession = supervisor;
  const notReady: [string, () => Promise<unknown>][] = [
    ['send', () => session.send({ chatId: ALICE, content: { kind: 'text', text: 'x' } })],
    ['send media', () => session.send({ chatId: ALICE, content: { kind: 'media', media: 'image', data: Buffer.from('x'), mimetype: 'image/png' } })],
    ['getMedia', () => session.getMedia(messages.groupImage.id)],
    ['act', () => session.act({ kind: 'vote', messageId: messages.poll.id, options: ['a'] })],
    ['getChats', () => session.getChats()],
    ['getChat', () => session.getChat(ALICE)],
    ['getMessages', () => session.getMessages(ALICE, { limit: 1 })],
    ['getContacts', () => session.getContacts()],
    ['getContact', () => session.getContact(ALICE)],
    ['getGroupParticipants', () => session.getGroupParticipants(GROUP)],
    ['createGroup', () => session.createGroup('g', [ALICE])],
    ['addParticipants', () => session.addParticipants(GROUP, [ALICE])],
    ['removeParticipants', () => session.removeParticipants(GROUP, [ALICE])],
    ['markChatRead', () => session.markChatRead(ALICE)],
  ];
  for (const [name, call] of notReady) {
    it(`${name} -> SESSION_NOT_READY`, async () => {
      await assert.rejects(call(), expectEngineError('SESSION_NOT_READY'));
    });
  }

  it('rejects malformed ids with INVALID_CHAT_ID before asking the worker', async () => {
    await assert.rejects(session.send({ chatId: 'alice', content: { kind: 'text', text: 'x' } }), expectEngineError('INVALID_CHAT_ID'));
    await assert.rejects(session.getGroupParticipants(ALICE), expectEngineError('INVALID_CHAT_ID'));
    await assert.rejects(session.addParticipants(GROUP, ['bob']), expectEngineError('INVALID_CHAT_ID'));
  });

  it('stop and logout of a session that never started resolve', async () => {
    await session.logout();
    await session.stop();
  });
});
