import type { GroupParticipantInfo, ParticipantResult } from '../engine/engine.js';
import { builder } from './builder.js';
import { eventObject } from './events.js';

export const GroupParticipantRef = builder.objectRef<GroupParticipantInfo>('GroupParticipant').implement({
  fields: (t) => ({ id: t.exposeString('id'), isAdmin: t.exposeBoolean('isAdmin') }),
});

export const ParticipantResultRef = builder.objectRef<ParticipantResult>('ParticipantResult').implement({
  description: 'One participant of a group change',
  fields: (t) => ({
    id: t.exposeString('id'),
    status: t.exposeInt('status', { description: '200 done, 403 not allowed (not an admin), 404 not on WhatsApp, 409 already in / not in the group' }),
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
