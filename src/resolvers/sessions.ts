import { filtered, policy, session } from '../auth/access-policy.js';
import type { StateExtensions } from '../http/result-cache.js';
import { builder } from '../schema/builder.js';
import { SessionStatusEventRef } from '../schema/events.js';
import { CreateSessionInput, CreateSessionPayload, QrCodeRef, RemoveSessionPayload, SessionRef } from '../schema/session.js';

// Everything these return is SessionManager state, which its `version` counts (src/http/result-cache.ts).
const versioned: StateExtensions = { versionedBy: 'sessions' };

builder.queryFields((t) => ({
  sessions: t.field({
    type: [SessionRef],
    description: 'Every session, oldest first',
    extensions: { ...versioned, ...policy(filtered('read')) },
    resolve: (_root, _args, ctx) => ctx.services.sessions.list(),
  }),
  session: t.field({
    type: SessionRef,
    nullable: true,
    description: 'One session; null when it does not exist',
    extensions: { ...versioned, ...policy(session('read', 'args', 'null')) },
    args: { sessionId: t.arg.string({ required: true }) },
    resolve: (_root, { sessionId }, ctx) => ctx.services.sessions.get(sessionId),
  }),
}));

// Lifecycle: INVALID_SESSION_STATE when the session is in no state for the call (start of a running one,
// stop of a stopped one). One row per mutation: the SessionManager's call and the field's description.
const lifecycle = {
  startSession: [
    'start',
    'Start a TERMINATED or FAILED session again: READY without a QR when its login is kept, else QR_READY. Answers once it shows a QR, is READY or FAILED (at most the server\'s wait-for-QR time)',
  ],
  stopSession: ['stop', 'Stop the engine: the session stays listed as TERMINATED with its config, webhooks, history and login, also across server restarts, until startSession'],
  restartSession: ['restart', 'Stop the session if it runs, then start it (in any status); answers like startSession'],
  logoutSession: ['logout', 'Log the account out and leave the session TERMINATED: its next start shows a QR. Config, webhooks and history stay'],
} as const satisfies Record<string, readonly ['start' | 'stop' | 'restart' | 'logout', string]>;

const lifecycleFields = (t: Parameters<Parameters<typeof builder.mutationFields>[0]>[0]) =>
  Object.fromEntries(
    Object.entries(lifecycle).map(([name, [call, description]]) => [
      name,
      t.field({
        extensions: policy(session('manage')),
        type: SessionRef,
        description,
        args: { sessionId: t.arg.string({ required: true }) },
        resolve: (_root, { sessionId }, ctx) => ctx.services.sessions[call](sessionId),
      }),
    ]),
  );

builder.mutationFields((t) => ({
  createSession: t.field({
    extensions: policy(session('manage', 'input'), 'sessionCreate'),
    type: CreateSessionPayload,
    args: { input: t.arg({ type: CreateSessionInput, required: true }) },
    resolve: async (_root, { input }, ctx) => ({ session: await ctx.services.sessions.create(input) }),
  }),
  removeSession: t.field({
    extensions: policy(session('manage')),
    type: RemoveSessionPayload,
    description: 'Stop the session, log it out and delete it with everything stored for it',
    args: { sessionId: t.arg.string({ required: true }) },
    resolve: async (_root, { sessionId }, ctx) => {
      await ctx.services.sessions.remove(sessionId);
      return { sessionId, removed: true };
    },
  }),
  ...lifecycleFields(t),
  sandboxScanQr: t.field({
    extensions: policy(session('manage')),
    type: SessionRef,
    description: 'Sandbox engine only: scan the current QR code as a phone would',
    args: { sessionId: t.arg.string({ required: true }) },
    resolve: (_root, { sessionId }, ctx) => ctx.services.sessions.sandboxScan(sessionId),
  }),
}));

builder.subscriptionFields((t) => ({
  qr: t.field({
    extensions: policy(session('read')),
    type: QrCodeRef,
    description: 'The current QR code (if any) and then every new one until the session leaves the QR phase',
    args: { sessionId: t.arg.string({ required: true }) },
    subscribe: (_root, { sessionId }, ctx) => {
      const session = ctx.services.sessions.require(sessionId);
      return ctx.services.live.stream(
        ctx,
        sessionId,
        ctx.services.bus.subscribe(sessionId, (e) => (e.type === 'QR' ? e.qr : undefined), { initial: session.qr ? [session.qr] : [] }),
      );
    },
    resolve: (qr) => qr,
  }),
  sessionStatus: t.field({
    extensions: policy(session('read')),
    type: SessionStatusEventRef,
    description: 'The current status first, then every change (READY included) until the session is removed',
    args: { sessionId: t.arg.string({ required: true }) },
    subscribe: (_root, { sessionId }, ctx) => {
      const session = ctx.services.sessions.require(sessionId);
      return ctx.services.live.stream(
        ctx,
        sessionId,
        ctx.services.bus.subscribe(sessionId, (e) => (e.type === 'STATUS' ? { sessionId, status: e.status, reason: e.reason, at: e.at } : undefined), {
          initial: [{ sessionId, status: session.status, reason: session.failureReason, at: session.lastActivity }],
        }),
      );
    },
    resolve: (event) => event,
  }),
}));
