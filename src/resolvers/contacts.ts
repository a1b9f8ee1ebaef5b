import { policy, session } from '../auth/access-policy.js';
import type { GraphQLContext } from '../context.js';
import type { EngineProfile } from '../engine/engine.js';
import { builder } from '../schema/builder.js';
import { ContactRef, NumberCheckRef, PairingCodeRef, ProfilePictureRef, type ContactView } from '../schema/contact.js';
import { CallRef } from '../schema/group.js';
import { SessionRef } from '../schema/session.js';

// One profile read per contact and request, whichever of about, isBlocked and profilePicture a query selects.
const profiles = new WeakMap<GraphQLContext, Map<string, Promise<EngineProfile | null>>>();

function profileOf(contact: ContactView, ctx: GraphQLContext): Promise<EngineProfile | null> {
  if (!contact.sessionId) return Promise.resolve(null);
  let cache = profiles.get(ctx);
  if (!cache) profiles.set(ctx, (cache = new Map()));
  const key = `${contact.sessionId} ${contact.id}`;
  let found = cache.get(key);
  if (!found) {
    found = ctx.services.accounts.profile(contact.sessionId, contact.id).catch(() => null);
    cache.set(key, found);
  }
  return found;
}

builder.objectFields(ContactRef, (t) => ({
  about: t.string({ nullable: true, description: 'The text the account shows about itself', resolve: async (c, _a, ctx) => (await profileOf(c, ctx))?.about ?? null }),
  isBlocked: t.boolean({ description: 'Whether this session blocked the contact', resolve: async (c, _a, ctx) => (await profileOf(c, ctx))?.isBlocked === true }),
  profilePicture: t.field({
    type: ProfilePictureRef,
    nullable: true,
    description: 'Null when the contact shows no picture (or hides it from this account)',
    resolve: async (c, _a, ctx) => ((await profileOf(c, ctx))?.hasPicture && c.sessionId ? { sessionId: c.sessionId, contactId: c.id } : null),
  }),
}));

const withSession = (sessionId: string) => (contact: ContactView): ContactView => ({ ...contact, sessionId });

builder.queryFields((t) => ({
  checkNumber: t.field({
    extensions: policy(session('read'), 'messaging'),
    type: NumberCheckRef,
    description: 'Whether a number (15550001234, +1 555 000 1234 or 15550001234@c.us) is on WhatsApp; asks WhatsApp, so it counts against the messaging limit',
    args: { sessionId: t.arg.string({ required: true }), number: t.arg.string({ required: true }) },
    resolve: (_root, { sessionId, number }, ctx) => ctx.services.accounts.checkNumber(sessionId, number),
  }),
}));

const contactArgs = (t: Parameters<Parameters<typeof builder.mutationFields>[0]>[0]) => ({
  sessionId: t.arg.string({ required: true }),
  contactId: t.arg.string({ required: true }),
});

builder.mutationFields((t) => ({
  requestPairingCode: t.field({
    extensions: policy(session('manage')),
    type: PairingCodeRef,
    description: 'Log in without the QR: a code for a session waiting for its login (QR_READY), which the phone of phoneNumber enters',
    args: { sessionId: t.arg.string({ required: true }), phoneNumber: t.arg.string({ required: true }) },
    resolve: async (_root, { sessionId, phoneNumber }, ctx) => ({ code: await ctx.services.sessions.pairingCode(sessionId, phoneNumber) }),
  }),
  sandboxEnterPairingCode: t.field({
    extensions: policy(session('manage')),
    type: SessionRef,
    description: 'Sandbox engine only: enter the pairing code on the phone, which logs the session in',
    args: { sessionId: t.arg.string({ required: true }), code: t.arg.string({ required: true }) },
    resolve: (_root, { sessionId, code }, ctx) => ctx.services.sessions.sandboxEnterPairingCode(sessionId, code),
  }),
  blockContact: t.field({
    extensions: policy(session('send')),
    type: ContactRef,
    description: 'Block a contact: its messages and calls no longer arrive, and this session cannot write to it until unblocked',
    args: contactArgs(t),
    resolve: async (_root, { sessionId, contactId }, ctx) => withSession(sessionId)(await ctx.services.accounts.block(sessionId, contactId, true)),
  }),
  unblockContact: t.field({
    extensions: policy(session('send')),
    type: ContactRef,
    args: contactArgs(t),
    resolve: async (_root, { sessionId, contactId }, ctx) => withSession(sessionId)(await ctx.services.accounts.block(sessionId, contactId, false)),
  }),
  setProfileName: t.field({
    extensions: policy(session('manage')),
    type: ContactRef,
    description: "The session's own name (its pushname), 1-25 characters; answers its own contact",
    args: { sessionId: t.arg.string({ required: true }), name: t.arg.string({ required: true }) },
    resolve: async (_root, { sessionId, name }, ctx) => withSession(sessionId)(await ctx.services.accounts.setProfile(sessionId, { name })),
  }),
  setProfileAbout: t.field({
    extensions: policy(session('manage')),
    type: ContactRef,
    description: "The session's own about text, at most 139 characters",
    args: { sessionId: t.arg.string({ required: true }), about: t.arg.string({ required: true }) },
    resolve: async (_root, { sessionId, about }, ctx) => withSession(sessionId)(await ctx.services.accounts.setProfile(sessionId, { about })),
  }),
  setProfilePicture: t.field({
    extensions: policy(session('manage')),
    type: ContactRef,
    description: "The session's own profile picture, a data URL of an image (JPEG or PNG)",
    args: { sessionId: t.arg.string({ required: true }), data: t.arg.string({ required: true }) },
    resolve: async (_root, { sessionId, data }, ctx) => withSession(sessionId)(await ctx.services.accounts.setProfile(sessionId, { picture: data })),
  }),
  rejectCall: t.field({
    extensions: policy(session('send')),
    type: 'Boolean',
    description: 'Reject a ringing call (the id of its CALL event); `message` is then sent to the caller',
    args: { sessionId: t.arg.string({ required: true }), callId: t.arg.string({ required: true }), message: t.arg.string() },
    resolve: async (_root, { sessionId, callId, message }, ctx) => {
      await ctx.services.accounts.rejectCall(sessionId, callId, message);
      return true;
    },
  }),
  sandboxInjectCall: t.field({
    extensions: policy(session('send')),
    type: CallRef,
    description: 'Sandbox engine only: a call from `from` rings on this session (a CALL event)',
    args: { sessionId: t.arg.string({ required: true }), from: t.arg.string({ required: true }), isVideo: t.arg.boolean() },
    resolve: (_root, { sessionId, from, isVideo }, ctx) => ctx.services.accounts.injectCall(sessionId, from, isVideo === true),
  }),
}));
