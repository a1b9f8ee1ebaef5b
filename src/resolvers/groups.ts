import { policy, session } from '../auth/access-policy.js';
import { builder } from '../schema/builder.js';
import type { EngineGroup, GroupAction } from '../engine/engine.js';
import { ChatRef, chatKey, loadBySession } from '../schema/chat.js';
import {
  CreateGroupInput,
  CreateGroupPayload,
  GroupInviteLinkRef,
  GroupParticipantsInput,
  GroupParticipantsPayload,
  GroupPayloadRef,
  GroupRef,
  SetGroupDescriptionInput,
  SetGroupSettingsInput,
  SetGroupSubjectInput,
} from '../schema/group.js';

builder.mutationFields((t) => ({
  createGroup: t.field({
    extensions: policy(session('send', 'input')),
    type: CreateGroupPayload,
    description: 'Create a group with this session as its admin; each participant gets a status (200, 404 ...)',
    args: { input: t.arg({ type: CreateGroupInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.messaging.createGroup(input),
  }),
  addParticipants: t.field({
    extensions: policy(session('send', 'input')),
    type: GroupParticipantsPayload,
    args: { input: t.arg({ type: GroupParticipantsInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ groupId: input.groupId, participants: await ctx.services.messaging.changeParticipants('add', input) }),
  }),
  removeParticipants: t.field({
    extensions: policy(session('send', 'input')),
    type: GroupParticipantsPayload,
    args: { input: t.arg({ type: GroupParticipantsInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ groupId: input.groupId, participants: await ctx.services.messaging.changeParticipants('remove', input) }),
  }),
}));

builder.objectFields(ChatRef, (t) => ({
  group: t.loadable({
    type: GroupRef,
    nullable: true,
    description: "A group chat's administration view; null for one-to-one chats",
    load: (keys: string[], ctx) =>
      loadBySession(keys, (sessionId, ids) => Promise.all(ids.map((id) => ctx.services.accounts.group(sessionId, id)))) as Promise<(EngineGroup | Error)[]>,
    resolve: (chat) => chatKey(chat.sessionId, chat.id),
  }),
}));

type MutationT = Parameters<Parameters<typeof builder.mutationFields>[0]>[0];

// The administration steps that answer { group }: the input type and the action each builds.
const groupSteps = {
  setGroupSubject: [SetGroupSubjectInput, (i: { subject: string }): GroupAction => ({ kind: 'subject', subject: i.subject }), 'Rename the group (1-100 characters); with restrict on, admins only'],
  setGroupDescription: [
    SetGroupDescriptionInput,
    (i: { description: string }): GroupAction => ({ kind: 'description', description: i.description }),
    "Set the group's description; with restrict on, admins only",
  ],
  setGroupSettings: [
    SetGroupSettingsInput,
    (i: { announce?: boolean | null; restrict?: boolean | null }): GroupAction => ({ kind: 'settings', announce: i.announce, restrict: i.restrict }),
    'Admins only: announce (only admins send; others get GROUP_ANNOUNCE_ONLY) and restrict (only admins edit the info)',
  ],
} as const;

const stepFields = (t: MutationT) =>
  Object.fromEntries(
    Object.entries(groupSteps).map(([name, [input, action, description]]) => [
      name,
      t.field({
        extensions: policy(session('send', 'input')),
        type: GroupPayloadRef,
        description,
        args: { input: t.arg({ type: input as typeof SetGroupSettingsInput, required: true }) },
        resolve: (_root, { input: i }, ctx) => ctx.services.accounts.groupAction(i.sessionId, i.groupId, (action as (i: unknown) => GroupAction)(i)),
      }),
    ]),
  );

const adminFields = (t: MutationT) =>
  Object.fromEntries(
    (['promote', 'demote'] as const).map((kind) => [
      `${kind}Participants`,
      t.field({
        extensions: policy(session('send', 'input')),
        type: GroupParticipantsPayload,
        description:
          kind === 'promote'
            ? 'Admins only: make participants admins; each gets a status (200, 400 malformed, 403, 404 not in the group, 409 already an admin)'
            : "Admins only: take participants' admin rights (the creator keeps them: 403); each gets a status",
        args: { input: t.arg({ type: GroupParticipantsInput, required: true }) },
        resolve: async (_root, { input }, ctx) => {
          const result = await ctx.services.accounts.groupAction(input.sessionId, input.groupId, { kind, participants: input.participants });
          return { groupId: input.groupId, participants: result.participants ?? [] };
        },
      }),
    ]),
  );

const groupArgs = (t: MutationT) => ({ sessionId: t.arg.string({ required: true }), groupId: t.arg.string({ required: true }) });

builder.mutationFields((t) => ({
  ...stepFields(t),
  ...adminFields(t),
  groupInviteLink: t.field({
    extensions: policy(session('send')),
    type: GroupInviteLinkRef,
    description: "Admins only: the group's invite link (made on first ask)",
    args: groupArgs(t),
    resolve: async (_root, { sessionId, groupId }, ctx) => {
      const r = await ctx.services.accounts.groupAction(sessionId, groupId, { kind: 'inviteLink' });
      return { groupId, link: r.link! };
    },
  }),
  revokeGroupInviteLink: t.field({
    extensions: policy(session('send')),
    type: GroupInviteLinkRef,
    description: 'Admins only: the old link stops working; answers the new one',
    args: groupArgs(t),
    resolve: async (_root, { sessionId, groupId }, ctx) => {
      const r = await ctx.services.accounts.groupAction(sessionId, groupId, { kind: 'revokeInviteLink' });
      return { groupId, link: r.link! };
    },
  }),
  joinGroup: t.field({
    extensions: policy(session('send')),
    type: GroupPayloadRef,
    description: 'Join a group by its invite link (https://chat.whatsapp.com/...)',
    args: { sessionId: t.arg.string({ required: true }), link: t.arg.string({ required: true }) },
    resolve: async (_root, { sessionId, link }, ctx) => {
      const groupId = await ctx.services.accounts.joinGroup(sessionId, link);
      return { groupId, group: await ctx.services.accounts.group(sessionId, groupId) };
    },
  }),
  leaveGroup: t.field({
    extensions: policy(session('send')),
    type: GroupPayloadRef,
    description: 'Leave the group (its chat and history stay); group is null in the answer',
    args: groupArgs(t),
    resolve: (_root, { sessionId, groupId }, ctx) => ctx.services.accounts.groupAction(sessionId, groupId, { kind: 'leave' }),
  }),
}));
