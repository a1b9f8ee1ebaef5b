// The messages between the supervisor (in the server) and one worker process per session. They travel
// over the fork IPC channel with `serialization: 'advanced'`, so Buffers arrive as Uint8Arrays.
import type { EngineError, EngineEvent, EngineSession, SessionConfig } from '../engine.js';
import { assertChatId } from './mapping.js';

/** What the worker starts a session with: the session config fields the library uses, and where things are. */
export interface WorkerStartConfig
  extends Pick<SessionConfig, 'multiDevice' | 'headless' | 'qrTimeout' | 'authTimeout' | 'proxyServerCredentials' | 'licenceKey' | 'rejectCalls' | 'rejectCallsMessage' | 'linkCode'> {
  sessionId: string;
  /** The session's own folder; the library's files (browser profile, saved login) go under it. */
  dataDir: string;
  /** Where `npm run install:open-wa` put the package. */
  runtimeDir: string;
  /** The command to show when the package is missing. */
  installCommand: string;
  executablePath: string;
  /** How long a QR code shown to the user stays valid. */
  qrLifetimeMs: number;
}

/** The engine calls a worker answers: every method of the engine interface but `stop` (the supervisor's own). */
export type CallMethod = Exclude<
  { [K in keyof EngineSession]-?: EngineSession[K] extends (...args: never[]) => Promise<unknown> ? K : never }[keyof EngineSession],
  'stop'
>;

/** A value as it arrives over the channel: Buffers become Uint8Arrays. */
export type Wire<T> = T extends Buffer ? Uint8Array : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;

/** Every engine call a worker answers, with its arguments (as they arrive) and result: derived from the engine interface. */
export type WorkerCalls = { [M in CallMethod]: { args: Wire<Parameters<EngineSession[M]>>; result: Awaited<ReturnType<EngineSession[M]>> } };

export interface CallRow<M extends CallMethod> {
  /** What the supervisor checks before the call leaves the process (a bad id never reaches the worker). */
  check?: (...args: Parameters<EngineSession[M]>) => void;
  /** The supervisor implements the method itself, calling the worker as part of it (logout: bounded, then stop). */
  own?: true;
}

const contacts = (participants: string[]) => {
  for (const p of participants) assertChatId(p, 'contact');
};

/**
 * One row per engine call: the supervisor forwards each (after its check) to the worker, which answers it
 * with the handler of the same name (worker-calls.ts). The types make the table, the forwarding and the
 * handlers complete: a new engine method is a row here and its handler there.
 */
export const engineCalls: { [M in CallMethod]: CallRow<M> } = {
  send: { check: (input) => assertChatId(input.chatId) },
  getMedia: {},
  act: { check: (action) => ('chatId' in action ? assertChatId(action.chatId) : undefined) },
  getChats: {},
  getChat: { check: (chatId) => assertChatId(chatId) },
  getMessages: { check: (chatId) => assertChatId(chatId) },
  getContacts: {},
  getContact: { check: (contactId) => assertChatId(contactId, 'contact') },
  getGroupParticipants: { check: (groupId) => assertChatId(groupId, 'group') },
  createGroup: { check: (_name, participants) => contacts(participants) },
  addParticipants: { check: (groupId, participants) => (assertChatId(groupId, 'group'), contacts(participants)) },
  removeParticipants: { check: (groupId, participants) => (assertChatId(groupId, 'group'), contacts(participants)) },
  markChatRead: { check: (chatId) => assertChatId(chatId) },
  checkNumber: { check: (number) => assertChatId(number, 'contact') },
  // open-wa takes the phone number only as its `linkCode` start option (see the supervisor's own method).
  requestPairingCode: { own: true },
  getGroup: { check: (groupId) => assertChatId(groupId, 'group') },
  groupAction: {
    check: (groupId, action) => {
      assertChatId(groupId, 'group');
      if (action.kind === 'promote' || action.kind === 'demote') contacts(action.participants);
    },
  },
  joinGroup: {},
  getProfile: { check: (contactId) => assertChatId(contactId, 'contact') },
  getProfilePicture: { check: (contactId) => assertChatId(contactId, 'contact') },
  accountAction: { check: (action) => (action.kind === 'block' || action.kind === 'unblock' ? assertChatId(action.contactId, 'contact') : undefined) },
  logout: { own: true },
};

export interface WireError {
  code: EngineError['code'];
  message: string;
  details: Record<string, unknown>;
}

export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

/** Marks our messages: the library itself calls `process.send` with messages of its own. */
export const TAG = 'wa-gateway/open-wa/1';

export type SupervisorMessage =
  | { tag: typeof TAG; kind: 'start'; config: WorkerStartConfig }
  | { [M in CallMethod]: { tag: typeof TAG; kind: 'call'; id: number; method: M; args: WorkerCalls[M]['args'] } }[CallMethod]
  | { tag: typeof TAG; kind: 'stop' };

export type WorkerMessage =
  | { tag: typeof TAG; kind: 'event'; event: EngineEvent }
  | { tag: typeof TAG; kind: 'result'; id: number; ok: true; value: unknown }
  | { tag: typeof TAG; kind: 'result'; id: number; ok: false; error: WireError }
  | { tag: typeof TAG; kind: 'log'; level: LogLevelName; msg: string; fields?: Record<string, unknown> }
  /** Sent just before the worker ends on its own, so the supervisor can tell why. */
  | { tag: typeof TAG; kind: 'exiting'; reason: string };

export function isTagged<T extends { tag: typeof TAG }>(message: unknown): message is T {
  return typeof message === 'object' && message !== null && (message as { tag?: unknown }).tag === TAG;
}
