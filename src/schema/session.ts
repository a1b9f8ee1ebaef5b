import type { SessionConfig } from '../engine/engine.js';
import type { QrInfo, SessionStatus } from '../events/bus.js';
import type { SessionView } from '../sessions/session-manager.js';
import type { StateExtensions } from '../http/result-cache.js';
import { builder } from './builder.js';
import { ContactRef } from './contact.js';

// Computed from the parent alone, so answers made of sessions can be reused (src/http/result-cache.ts).
const derived: StateExtensions = { derivedFromParent: true };

export const SessionStatusEnum = builder.enumType('SessionStatus', {
  values: ['INITIALIZING', 'QR_READY', 'AUTHENTICATED', 'READY', 'FAILED', 'TERMINATED'] as const satisfies readonly SessionStatus[],
});

export const EngineKindEnum = builder.enumType('EngineKind', {
  values: { SANDBOX: { value: 'sandbox' }, OPEN_WA: { value: 'open-wa' }, BAILEYS: { value: 'baileys' } } as const,
});

export const QrCodeRef = builder.objectRef<QrInfo>('QrCode').implement({
  description: 'A login QR code; scan it before it expires (a new one replaces it)',
  fields: (t) => ({
    dataUrl: t.exposeString('dataUrl', { description: 'data:image/png;base64,...' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
  }),
});

const ProxyInfoRef = builder.objectRef<NonNullable<SessionConfig['proxyServerCredentials']>>('ProxyServerInfo').implement({
  description: 'The proxy a session uses; the password is never returned',
  fields: (t) => ({
    protocol: t.exposeString('protocol', { nullable: true }),
    address: t.exposeString('address'),
    username: t.exposeString('username', { nullable: true }),
    hasPassword: t.boolean({ resolve: (p) => Boolean(p.password), extensions: derived }),
  }),
});

const SandboxConfigRef = builder.objectRef<NonNullable<SessionConfig['sandbox']>>('SandboxConfig').implement({
  fields: (t) => ({
    autoScanMs: t.exposeInt('autoScanMs', { nullable: true }),
  }),
});

export const SessionConfigRef = builder.objectRef<SessionConfig>('SessionConfig').implement({
  description: 'How a session was created; secrets (proxy password, licence key) are never returned',
  fields: (t) => ({
    engine: t.expose('engine', { type: EngineKindEnum }),
    multiDevice: t.exposeBoolean('multiDevice'),
    headless: t.exposeBoolean('headless'),
    qrTimeout: t.exposeFloat('qrTimeout', { description: 'Seconds' }),
    authTimeout: t.exposeFloat('authTimeout', { description: 'Seconds' }),
    proxyServerCredentials: t.field({ type: ProxyInfoRef, nullable: true, resolve: (c) => c.proxyServerCredentials ?? null, extensions: derived }),
    hasLicenceKey: t.boolean({ resolve: (c) => Boolean(c.licenceKey), extensions: derived }),
    sandbox: t.field({ type: SandboxConfigRef, nullable: true, resolve: (c) => c.sandbox ?? null, extensions: derived }),
    rejectCalls: t.boolean({ resolve: (c) => c.rejectCalls === true, extensions: derived }),
    rejectCallsMessage: t.string({ nullable: true, resolve: (c) => c.rejectCallsMessage ?? null, extensions: derived }),
    linkCode: t.string({ nullable: true, description: 'open-wa: the phone number it logs in with a pairing code', resolve: (c) => c.linkCode ?? null, extensions: derived }),
  }),
});

export const SessionRef = builder.objectRef<SessionView>('Session').implement({
  description: 'One WhatsApp account served by this gateway',
  fields: (t) => ({
    sessionId: t.exposeString('sessionId'),
    status: t.expose('status', { type: SessionStatusEnum }),
    engine: t.expose('engine', { type: EngineKindEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastActivity: t.expose('lastActivity', { type: 'DateTime' }),
    config: t.expose('config', { type: SessionConfigRef }),
    qr: t.expose('qr', { type: QrCodeRef, nullable: true, description: 'Set while the status is QR_READY' }),
    failureReason: t.exposeString('failureReason', { nullable: true }),
    me: t.field({
      type: ContactRef,
      nullable: true,
      description: "The account's own number once READY",
      resolve: (s) => (s.me ? { ...s.me, sessionId: s.sessionId } : null),
      extensions: derived,
    }),
    node: t.exposeString('node', { nullable: true, description: 'Cluster: the id of the node that drives the session (null for a server on its own, or while it moves)' }),
  }),
});

export const ProxyInput = builder.inputType('ProxyServerCredentialsInput', {
  fields: (t) => ({
    protocol: t.string(),
    address: t.string({ required: true }),
    username: t.string(),
    password: t.string(),
  }),
});

export const SandboxConfigInput = builder.inputType('SandboxConfigInput', {
  fields: (t) => ({
    autoScanMs: t.int({ description: 'Scan the QR automatically this many ms after it is shown (demos)' }),
  }),
});

export const SessionConfigInput = builder.inputType('SessionConfigInput', {
  fields: (t) => ({
    engine: t.field({ type: EngineKindEnum, description: 'Defaults to the server default (--engine)' }),
    multiDevice: t.boolean(),
    headless: t.boolean(),
    qrTimeout: t.float({ description: 'Seconds an unscanned QR phase may last (default 60)' }),
    authTimeout: t.float({ description: 'Seconds the AUTHENTICATED phase may last (default 120)' }),
    proxyServerCredentials: t.field({ type: ProxyInput }),
    licenceKey: t.string({ description: 'open-wa licence key, for the methods that need one' }),
    sandbox: t.field({ type: SandboxConfigInput }),
    rejectCalls: t.boolean({ description: 'Reject every incoming call as it rings (the CALL event is still sent)' }),
    rejectCallsMessage: t.string({ description: 'With rejectCalls: a message sent to the caller after each rejection' }),
    linkCode: t.string({ description: "open-wa: log in with a pairing code for this phone number (the library's linkCode start option) instead of the QR" }),
  }),
});

export const CreateSessionInput = builder.inputType('CreateSessionInput', {
  fields: (t) => ({
    sessionId: t.string({ required: true, description: 'Letters, digits, "-" and "_", 1-64 characters' }),
    waitForQR: t.boolean({ description: 'Wait for the first QR code and return it in session.qr' }),
    config: t.field({ type: SessionConfigInput }),
  }),
});

export const CreateSessionPayload = builder.objectRef<{ session: SessionView }>('CreateSessionPayload').implement({
  fields: (t) => ({ session: t.expose('session', { type: SessionRef }) }),
});

export const RemoveSessionPayload = builder.objectRef<{ sessionId: string; removed: boolean }>('RemoveSessionPayload').implement({
  fields: (t) => ({ sessionId: t.exposeString('sessionId'), removed: t.exposeBoolean('removed') }),
});
