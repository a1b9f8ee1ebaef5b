import type { EngineCall, EngineGroup, GroupParticipantInfo, ParticipantResult } from '../engine/engine.js';
import { builder } from './builder.js';
import { eventObject } from './events.js';

export const GroupParticipantRef = builder.objectRef<GroupParticipantInfo & { isSuperAdmin?: boolean }>('GroupParticipant').implement({
  fields: (t) => ({
    id: t.exposeString('id'),
    isAdmin: t.exposeBoolean('isAdmin'),
    isSuperAdmin: t.boolean({ description: "The group's creator, whom no one can demote", resolve: (p) => p.isSuperAdmin === true }),
  }),
});

export const GroupRef = builder.objectRef<EngineGroup>('Group').implement({
  description: "A group's administration view, as its members see it",
  fields: (t) => ({
    id: t.exposeString('id'),
    subject: t.exposeString('subject', { description: "The group's name" }),
    description: t.exposeString('description', { nullable: true }),
    owner: t.exposeString('owner', { nullable: true, description: 'Who created it' }),
    createdAt: t.field({ type: 'DateTime', nullable: true, resolve: (g) => (g.createdAt === null ? null : g.createdAt * 1000) }),
    announce: t.exposeBoolean('announce', { description: 'Only admins send messages' }),
    restrict: t.exposeBoolean('restrict', { description: 'Only admins edit the subject, description and settings' }),
    participants: t.expose('participants', { type: [GroupParticipantRef] }),
  }),
});

export const GroupPayloadRef = builder.objectRef<{ groupId: string; group: EngineGroup | null }>('GroupPayload').implement({
  fields: (t) => ({
    groupId: t.exposeString('groupId'),
    group: t.expose('group', { type: GroupRef, nullable: true, description: 'The group after the change (null after leaving it)' }),
  }),
});

export const GroupInviteLinkRef = builder.objectRef<{ groupId: string; link: string }>('GroupInviteLink').implement({
  fields: (t) => ({
    groupId: t.exposeString('groupId'),
    link: t.exposeString('link', { description: 'https://chat.whatsapp.com/<code>; anyone with it can join (joinGroup)' }),
  }),
});

export const SetGroupSubjectInput = builder.inputType('SetGroupSubjectInput', {
  fields: (t) => ({ sessionId: t.string({ required: true }), groupId: t.string({ required: true }), subject: t.string({ required: true }) }),
});

export const SetGroupDescriptionInput = builder.inputType('SetGroupDescriptionInput', {
  fields: (t) => ({ sessionId: t.string({ required: true }), groupId: t.string({ required: true }), description: t.string({ required: true }) }),
});

export const SetGroupSettingsInput = builder.inputType('SetGroupSettingsInput', {
  fields: (t) => ({
    sessionId: t.string({ required: true }),
    groupId: t.string({ required: true }),
    announce: t.boolean({ description: 'Only admins send' }),
    restrict: t.boolean({ description: 'Only admins edit the group info' }),
  }),
});

export const CallRef = builder.objectRef<EngineCall>('Call').implement({
  description: 'An incoming call',
  fields: (t) => ({
    id: t.exposeString('id', { description: 'For rejectCall' }),
    from: t.exposeString('from'),
    isVideo: t.exposeBoolean('isVideo'),
    isGroup: t.exposeBoolean('isGroup'),
    timestamp: t.exposeInt('timestamp', { description: 'Unix seconds' }),
  }),
});

export const ParticipantResultRef = builder.objectRef<ParticipantResult>('ParticipantResult').implement({
  description: 'One participant of a group change',
  fields: (t) => ({
    id: t.exposeString('id'),
    status: t.exposeInt('status', {
      description: '200 done, 400 not a valid contact id, 403 not allowed (not an admin), 404 not on WhatsApp (promote/demote: not in the group), 409 already in / not in the group (already / not an admin)',
    }),
  }),
});

export const CreateGroupInput = builder.inputType('CreateGroupInput', {
  fields: (t) => ({
    sessionId: t.string({ required: true }),
    name: t.string({ required: true }),
    participants: t.stringList({ required: true, description: 'Numbers like 15550001234@c.us' }),
    description: t.string(),
  }),
});

export const CreateGroupPayload = builder.objectRef<{ gid: string; participants: ParticipantResult[] }>('CreateGroupPayload').implement({
  fields: (t) => ({
    gid: t.exposeString('gid', { description: 'The new group id, like 15550001234-1642694598@g.us' }),
    participants: t.expose('participants', { type: [ParticipantResultRef] }),
  }),
});

export const GroupParticipantsInput = builder.inputType('GroupParticipantsInput', {
  fields: (t) => ({
    sessionId: t.string({ required: true }),
    groupId: t.string({ required: true }),
    participants: t.stringList({ required: true }),
  }),
});

export const GroupParticipantsPayload = builder.objectRef<{ groupId: string; participants: ParticipantResult[] }>('GroupParticipantsPayload').implement({
  fields: (t) => ({
    groupId: t.exposeString('groupId'),
    participants: t.expose('participants', { type: [ParticipantResultRef] }),
  }),
});

eventObject('GROUP_JOIN', 'GroupJoinEvent', (t) => ({
  groupId: t.exposeString('groupId'),
  participants: t.exposeStringList('participants', { description: 'Who joined' }),
  by: t.exposeString('by', { nullable: true, description: 'Who added them' }),
}));

eventObject('GROUP_LEAVE', 'GroupLeaveEvent', (t) => ({
  groupId: t.exposeString('groupId'),
  participants: t.exposeStringList('participants', { description: 'Who left or was removed' }),
  by: t.exposeString('by', { nullable: true, description: 'Who removed them' }),
}));

const groupChangeFields = { description: 'Who was promoted or demoted' };

eventObject('GROUP_PROMOTE', 'GroupPromoteEvent', (t) => ({
  groupId: t.exposeString('groupId'),
  participants: t.exposeStringList('participants', groupChangeFields),
  by: t.exposeString('by', { nullable: true }),
}));

eventObject('GROUP_DEMOTE', 'GroupDemoteEvent', (t) => ({
  groupId: t.exposeString('groupId'),
  participants: t.exposeStringList('participants', groupChangeFields),
  by: t.exposeString('by', { nullable: true }),
}));

eventObject('GROUP_UPDATE', 'GroupUpdateEvent', (t) => ({
  groupId: t.exposeString('groupId'),
  by: t.exposeString('by', { nullable: true }),
  subject: t.string({ nullable: true, description: 'The new subject, when it changed', resolve: (e) => e.change.subject ?? null }),
  description: t.string({ nullable: true, resolve: (e) => e.change.description ?? null }),
  announce: t.boolean({ nullable: true, resolve: (e) => e.change.announce ?? null }),
  restrict: t.boolean({ nullable: true, resolve: (e) => e.change.restrict ?? null }),
}));

eventObject('CALL', 'CallEvent', (t) => ({ call: t.expose('call', { type: CallRef }) }));
