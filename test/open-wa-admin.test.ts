// The open-wa engine's group administration, contact and call methods (issue 24), fed with payloads recorded in
// the library's shapes (test/fixtures/open-wa/admin.json), as test/open-wa-mapping.test.ts does for messages: a
// recorder stands in for the library's Client; our mapping, handlers and the engineCalls checks run as in production.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Call, Client } from '@open-wa/wa-automate-types-only';
import { EngineError } from '../src/engine/engine.js';
import { libraryError, mapCall, mapGroup, mapInviteLink, mapJoinGroup, mapNumberCheck } from '../src/engine/open-wa/mapping.js';
import { engineCalls } from '../src/engine/open-wa/protocol.js';
import { clientCalls, seenCalls } from '../src/engine/open-wa/worker-calls.js';

const admin = JSON.parse(readFileSync(new URL('./fixtures/open-wa/admin.json', import.meta.url), 'utf8'));
const errors = JSON.parse(readFileSync(new URL('./fixtures/open-wa/errors.json', import.meta.url), 'utf8')) as Record<string, string>;

const ME = '4915100000009@c.us';
const ALICE = '4915100000001@c.us';
const BOB = '4915100000002@c.us';
const GROUP = '4915100000009-1764000500@g.us';

const expectCode = (code: EngineError['code']) => (error: unknown) => {
  assert.ok(error instanceof EngineError, String(error));
  assert.equal(error.code, code, error.message);
  return true;
};

/** The library's Client for these methods: recorded answers, each call noted. */
function recordedClient(options: { withRejectCall?: boolean; notAdmin?: boolean } = {}) {
  const calls: unknown[][] = [];
  const note = (name: string, ...args: unknown[]) => calls.push([name, ...args]);
  const client: Record<string, unknown> = {
    async checkNumberStatus(id: string) {
      note('checkNumberStatus', id);
      return id === ALICE ? admin.numberExists : admin.numberMissing;
    },
    async getChatById(id: string) {
      return id === GROUP ? admin.adminGroupChat : null;
    },
    async getGroupMembersId() {
      return admin.members;
    },
    async setGroupTitle(groupId: string, title: string) {
      note('setGroupTitle', groupId, title);
      return options.notAdmin ? errors.insufficientPermissions : true;
    },
    async setGroupDescription(groupId: string, description: string) {
      note('setGroupDescription', groupId, description);
      return true;
    },
    async setGroupToAdminsOnly(groupId: string, on: boolean) {
      note('setGroupToAdminsOnly', groupId, on);
      return true;
    },
    async setGroupEditToAdminsOnly(groupId: string, on: boolean) {
      note('setGroupEditToAdminsOnly', groupId, on);
      return true;
    },
    async promoteParticipant(groupId: string, ids: string[]) {
      note('promoteParticipant', groupId, ids);
      if (options.notAdmin) throw new Error(errors.insufficientPermissions);
      return true;
    },
    async demoteParticipant(groupId: string, ids: string[]) {
      note('demoteParticipant', groupId, ids);
      return true;
    },
    async getGroupInviteLink(groupId: string) {
      note('getGroupInviteLink', groupId);
      return admin.inviteLink;
    },
    async revokeGroupInviteLink(groupId: string) {
      note('revokeGroupInviteLink', groupId);
      return true;
    },
    async joinGroupViaLink(link: string) {
      note('joinGroupViaLink', link);
      return link === admin.inviteLink ? admin.joinAnswer : admin.joinRefused;
    },
    async leaveGroup(groupId: string) {
      note('leaveGroup', groupId);
      return true;
    },
    async getStatus(id: string) {
      return id === ALICE ? admin.status : { id, status: '' };
    },
    async getProfilePicFromServer(id: string) {
      return id === ALICE ? admin.profilePicUrl : admin.profilePicNone;
    },
    async getBlockedIds() {
      return admin.blockedIds;
    },
    async contactBlock(id: string) {
      note('contactBlock', id);
      return true;
    },
    async contactUnblock(id: string) {
      note('contactUnblock', id);
      return false;
    },
    async setMyName(name: string) {
      note('setMyName', name);
      return true;
    },
    async setMyStatus(about: string) {
      note('setMyStatus', about);
      return undefined;
    },
    async setProfilePic(data: string) {
      note('setProfilePic', data.slice(0, 23));
      return true;
    },
    async sendText(to: string, text: string) {
      note('sendText', to, text);
      return `true_${to}_3EB0REPLY000000000001`;
    },
  };
  if (options.withRejectCall) {
    client.rejectCall = async (callId: string) => {
      note('rejectCall', callId);
      return true;
    };
  }
  return { client: client as unknown as Client, calls };
}

describe('open-wa mapping: groups, numbers, calls', () => {
  it('checkNumberStatus: 200 / numberExists is on WhatsApp, 404 is not', () => {
    assert.deepEqual(mapNumberCheck(admin.numberExists, ALICE), { exists: true, id: ALICE });
    assert.deepEqual(mapNumberCheck(admin.numberMissing, '4915100000077@c.us'), { exists: false, id: null });
    assert.throws(() => mapNumberCheck(errors.licenseRequired, ALICE), (e: unknown) => e instanceof EngineError && e.code === 'ENGINE_UNSUPPORTED');
  });

  it("a group chat's groupMetadata: subject, description, owner, creation, announce, restrict, admins and the super admin", () => {
    assert.deepEqual(mapGroup(admin.adminGroupChat), {
      id: GROUP,
      subject: 'Admins',
      description: 'who runs what',
      owner: ME,
      createdAt: 1764000500,
      announce: true,
      restrict: false,
      participants: [
        { id: ME, isAdmin: true, isSuperAdmin: true },
        { id: ALICE, isAdmin: true, isSuperAdmin: false },
        { id: BOB, isAdmin: false, isSuperAdmin: false },
      ],
    });
  });

  it('invite links, joins, calls, INSUFFICIENT_PERMISSIONS', () => {
    assert.equal(mapInviteLink(admin.inviteLink, GROUP), admin.inviteLink);
    assert.equal(mapInviteLink(admin.inviteCodeOnly, GROUP), admin.inviteLink);
    assert.equal(mapJoinGroup(admin.joinAnswer, admin.inviteLink), admin.joinAnswer);
    assert.throws(() => mapJoinGroup(admin.joinRefused, 'x'), (e: unknown) => e instanceof EngineError && e.code === 'NOT_FOUND');
    assert.deepEqual(mapCall(admin.incomingCall as Call), { id: '8D3A0C1B6E2F4A5B9C7D', from: ALICE, isVideo: true, isGroup: false, timestamp: 1764000600 });
    assert.equal(libraryError(errors.insufficientPermissions!).code, 'NOT_GROUP_ADMIN');
  });
});

describe('open-wa worker calls: group administration, contacts, own profile, calls', () => {
  it('checkNumber, getGroup', async () => {
    const api = clientCalls(recordedClient().client);
    assert.deepEqual(await api.checkNumber(ALICE), { exists: true, id: ALICE });
    assert.deepEqual(await api.checkNumber('4915100000077@c.us'), { exists: false, id: null });
    assert.equal((await api.getGroup(GROUP))?.announce, true);
    assert.equal(await api.getGroup('4915100000009-1764000999@g.us'), null);
  });

  it('groupAction: setGroupTitle, setGroupDescription, setGroupToAdminsOnly, setGroupEditToAdminsOnly, promote/demote, links, leave', async () => {
    const { client, calls } = recordedClient();
    const api = clientCalls(client);
    assert.equal((await api.groupAction(GROUP, { kind: 'subject', subject: 'New name' })).group?.id, GROUP);
    await api.groupAction(GROUP, { kind: 'description', description: 'd' });
    await api.groupAction(GROUP, { kind: 'settings', announce: false, restrict: true });
    const promoted = await api.groupAction(GROUP, { kind: 'promote', participants: [BOB, '4915100000077@c.us'] });
    assert.deepEqual(promoted.participants, [{ id: BOB, status: 200 }, { id: '4915100000077@c.us', status: 404 }]);
    const demoted = await api.groupAction(GROUP, { kind: 'demote', participants: [ALICE] });
    assert.deepEqual(demoted.participants, [{ id: ALICE, status: 200 }]);
    assert.equal((await api.groupAction(GROUP, { kind: 'inviteLink' })).link, admin.inviteLink);
    assert.equal((await api.groupAction(GROUP, { kind: 'revokeInviteLink' })).link, admin.inviteLink);
    assert.deepEqual(await api.groupAction(GROUP, { kind: 'leave' }), { group: null });
    assert.deepEqual(
      calls.map((c) => c[0]),
      ['setGroupTitle', 'setGroupDescription', 'setGroupToAdminsOnly', 'setGroupEditToAdminsOnly', 'promoteParticipant', 'demoteParticipant', 'getGroupInviteLink', 'revokeGroupInviteLink', 'getGroupInviteLink', 'leaveGroup'],
    );
    assert.deepEqual(calls[2], ['setGroupToAdminsOnly', GROUP, false]);
    assert.deepEqual(calls[4], ['promoteParticipant', GROUP, [BOB]]);
  });

  it('a non-admin: NOT_GROUP_ADMIN for a step, 403 per participant for promote', async () => {
    const api = clientCalls(recordedClient({ notAdmin: true }).client);
    await assert.rejects(api.groupAction(GROUP, { kind: 'subject', subject: 'x' }), expectCode('NOT_GROUP_ADMIN'));
    const promoted = await api.groupAction(GROUP, { kind: 'promote', participants: [BOB] });
    assert.deepEqual(promoted.participants, [{ id: BOB, status: 403 }]);
  });

  it('joinGroupViaLink, getStatus, getProfilePicFromServer, getBlockedIds', async () => {
    const api = clientCalls(recordedClient().client);
    assert.equal(await api.joinGroup(admin.inviteLink), admin.joinAnswer);
    await assert.rejects(api.joinGroup('https://chat.whatsapp.com/Revoked0000000000000'), expectCode('NOT_FOUND'));
    assert.deepEqual(await api.getProfile(ALICE), { about: 'Available for calls', hasPicture: true, isBlocked: false });
    assert.deepEqual(await api.getProfile(BOB), { about: null, hasPicture: false, isBlocked: true });
    assert.equal(await api.getProfilePicture(BOB), null);
  });

  it('accountAction: contactBlock, contactUnblock (false is an error), setMyName, setMyStatus, setProfilePic, rejectCall with its reply', async () => {
    const { client, calls } = recordedClient({ withRejectCall: true });
    const api = clientCalls(client);
    await api.accountAction({ kind: 'block', contactId: BOB });
    await assert.rejects(api.accountAction({ kind: 'unblock', contactId: BOB }), expectCode('ENGINE_ERROR'));
    await api.accountAction({ kind: 'setName', name: 'Bot' });
    await api.accountAction({ kind: 'setAbout', about: 'here' });
    await api.accountAction({ kind: 'setPicture', data: new Uint8Array(Buffer.from('JPEG')) as Buffer, mimetype: 'image/jpeg' });
    seenCalls.set(admin.incomingCall.id, ALICE);
    await api.accountAction({ kind: 'rejectCall', callId: admin.incomingCall.id, message: 'No calls' });
    assert.deepEqual(calls, [
      ['contactBlock', BOB],
      ['contactUnblock', BOB],
      ['setMyName', 'Bot'],
      ['setMyStatus', 'here'],
      ['setProfilePic', 'data:image/jpeg;base64,'],
      ['rejectCall', admin.incomingCall.id],
      ['sendText', ALICE, 'No calls'],
    ]);
    // 4.76 has no rejectCall: one call cannot be rejected (the rejectCalls config uses its autoReject instead).
    const old = clientCalls(recordedClient().client);
    await assert.rejects(old.accountAction({ kind: 'rejectCall', callId: 'x' }), expectCode('ENGINE_UNSUPPORTED'));
  });

  it('the engineCalls table checks ids before they leave the server', () => {
    assert.throws(() => engineCalls.groupAction.check!('not-a-group', { kind: 'leave' }), /not a valid group id/);
    assert.throws(() => engineCalls.groupAction.check!(GROUP, { kind: 'promote', participants: ['bob'] }), /not a valid contact id/);
    assert.throws(() => engineCalls.accountAction.check!({ kind: 'block', contactId: 'bob' }), /not a valid contact id/);
    assert.equal(engineCalls.requestPairingCode.own, true);
  });
});
