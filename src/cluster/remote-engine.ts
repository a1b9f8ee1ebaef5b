// A session owned by another node, as an EngineSession: every method is generated from one table, so a new
// engine method (send, act ...) is one more row here, not a forwarding function of its own.
import { AppError } from '../errors.js';
import type { EngineSession, SandboxControls } from '../engine/engine.js';

export interface CallSpec {
  /** Changes something at WhatsApp: never sent twice when the first attempt's fate is unknown. */
  mutates?: true;
  /** Runs through the owner's send queue (its pacing), as a local send does. */
  paced?: true;
}

/**
 * Every engine call another node may forward. `sandbox.x` is a method of the sandbox controls. Names the engine
 * session of the owner lacks (an older node) answer ENGINE_UNSUPPORTED there.
 */
export const engineCalls = {
  sendText: { mutates: true, paced: true },
  sendMedia: { mutates: true, paced: true },
  send: { mutates: true, paced: true },
  act: { mutates: true },
  getChats: {},
  getChat: {},
  getMessages: {},
  getContacts: {},
  getContact: {},
  getGroupParticipants: {},
  createGroup: { mutates: true },
  addParticipants: { mutates: true },
  removeParticipants: { mutates: true },
  markChatRead: {},
  checkNumber: {},
  requestPairingCode: { mutates: true },
  getGroup: {},
  groupAction: { mutates: true },
  joinGroup: { mutates: true },
  getProfile: {},
  getProfilePicture: {},
  accountAction: { mutates: true },
  getMedia: {},
  'sandbox.scanQr': { mutates: true },
  'sandbox.enterPairingCode': { mutates: true },
  'sandbox.injectCall': { mutates: true },
  'sandbox.injectMessage': { mutates: true },
  'sandbox.markChatRead': {},
} as const satisfies Record<string, CallSpec>;

export type EngineCallName = keyof typeof engineCalls;

export function callSpec(method: string): CallSpec | null {
  return Object.hasOwn(engineCalls, method) ? (engineCalls as Record<string, CallSpec>)[method]! : null;
}

/** Runs `method` on a local engine session (at the owner). */
export function invokeLocal(session: EngineSession, method: string, args: unknown[]): Promise<unknown> {
  const [target, name] = method.startsWith('sandbox.') ? [session.sandbox as unknown, method.slice('sandbox.'.length)] : [session as unknown, method];
  const fn = (target as Record<string, unknown> | undefined)?.[name];
  if (typeof fn !== 'function') {
    return Promise.reject(new AppError('ENGINE_UNSUPPORTED', `Session '${session.sessionId}' does not offer ${method}`, { sessionId: session.sessionId, method }));
  }
  return Promise.resolve((fn as (...a: unknown[]) => unknown).apply(target, args));
}

export type Forward = (sessionId: string, method: string, args: unknown[], spec: CallSpec) => Promise<unknown>;

/** An EngineSession whose calls go through `forward` (to the owner, batched per owner). */
export function remoteEngineSession(sessionId: string, forward: Forward, sandbox: boolean): EngineSession {
  const session: Record<string, unknown> = { sessionId };
  const controls: Record<string, unknown> = {};
  for (const [method, spec] of Object.entries(engineCalls) as [string, CallSpec][]) {
    const call = (...args: unknown[]) => forward(sessionId, method, args, spec);
    if (method.startsWith('sandbox.')) controls[method.slice('sandbox.'.length)] = call;
    else session[method] = call;
  }
  if (sandbox) session.sandbox = controls as unknown as SandboxControls;
  const notHere = () => Promise.reject(new AppError('INVALID_SESSION_STATE', `Session '${sessionId}' runs on another node; its lifecycle goes there`, { sessionId }));
  session.stop = notHere;
  session.logout = notHere;
  return session as unknown as EngineSession;
}
