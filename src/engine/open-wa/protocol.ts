// The messages between the supervisor (in the server) and one worker process per session. They travel
// over the fork IPC channel with `serialization: 'advanced'`, so Buffers arrive as Uint8Arrays.
import type {
  CreateGroupResult,
  EngineChat,
  EngineContact,
  EngineError,
  EngineEvent,
  EngineMessage,
  GroupParticipantInfo,
  ParticipantResult,
  SendMediaInput,
  SessionConfig,
  SendTextInput,
} from '../engine.js';

/** What the worker starts a session with: the session config fields the library uses, and where things are. */
export interface WorkerStartConfig
  extends Pick<SessionConfig, 'multiDevice' | 'headless' | 'qrTimeout' | 'authTimeout' | 'proxyServerCredentials' | 'licenceKey'> {
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

export type WireSendMediaInput = Omit<SendMediaInput, 'data'> & { data: Uint8Array };

/** Every engine-interface method a worker answers, with its arguments and result. */
export interface WorkerCalls {
  sendText: { args: [SendTextInput]; result: EngineMessage };
  sendMedia: { args: [WireSendMediaInput]; result: EngineMessage };
  getChats: { args: []; result: EngineChat[] };
  getChat: { args: [chatId: string]; result: EngineChat | null };
  getMessages: { args: [chatId: string, options: { limit: number; before?: string | null }]; result: EngineMessage[] };
  getContacts: { args: []; result: EngineContact[] };
  getContact: { args: [contactId: string]; result: EngineContact | null };
  getGroupParticipants: { args: [groupId: string]; result: GroupParticipantInfo[] | null };
  createGroup: { args: [name: string, participants: string[], description: string | null]; result: CreateGroupResult };
  addParticipants: { args: [groupId: string, participants: string[]]; result: ParticipantResult[] };
  removeParticipants: { args: [groupId: string, participants: string[]]; result: ParticipantResult[] };
  markChatRead: { args: [chatId: string]; result: null };
  logout: { args: []; result: null };
}

export type CallMethod = keyof WorkerCalls;

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
