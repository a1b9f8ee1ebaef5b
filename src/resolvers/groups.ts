import { policy, session } from '../auth/access-policy.js';
import { builder } from '../schema/builder.js';
import { CreateGroupInput, CreateGroupPayload, GroupParticipantsInput, GroupParticipantsPayload } from '../schema/group.js';

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
