// The Baileys engine's tests: recorded fixtures of Baileys' objects, a fake socket that records the calls
// it gets (as Baileys' documented signatures take them) and the engine's store on the suite's backend
// (WA_TEST_STORE=postgres: a database of its own).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as baileys from 'baileys';
import { openAnyStore, type AnyStore } from '../../src/store/database.js';
import type { BaileysModule } from '../../src/engine/baileys/auth-store.js';
import { createBaileysEngine, type BaileysEngine } from '../../src/engine/baileys/baileys-engine.js';
import type { EngineEvent, SessionConfig } from '../../src/engine/engine.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, testStore } from './pg.js';
import { tempDir } from './app.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'baileys');

/** A fixture file, Buffers revived as Baileys' BufferJSON writes them. */
export function fixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(join(fixtures, name), 'utf8'), baileys.BufferJSON.reviver) as T;
}

export interface RecordedCall {
  method: string;
  args: unknown[];
}

type Handler = (events: Record<string, unknown>) => void;

/** What the session uses of a WASocket; every call is recorded. */
export class FakeSocket {
  readonly calls: RecordedCall[] = [];
  private handlers: Handler[] = [];
  closed = false;
  readonly ws = { get isClosed() { return true; } };
  user: { id: string } | undefined;
  nextId = 1;

  constructor(readonly config: Record<string, unknown>) {}

  readonly ev = {
    process: (handler: Handler) => {
      this.handlers.push(handler);
      return () => (this.handlers = this.handlers.filter((h) => h !== handler));
    },
    removeAllListeners: () => undefined,
  };

  /** Delivers events as Baileys' buffered `ev.process` does. */
  emit(events: Record<string, unknown>): void {
    for (const handler of this.handlers) handler(events);
  }

  get listening(): number {
    return this.handlers.length;
  }

  private record(method: string, args: unknown[]): void {
    this.calls.push({ method, args });
  }

  async end(error: unknown): Promise<void> {
    this.record('end', [error]);
    this.closed = true;
  }

  async sendMessage(jid: string, content: Record<string, unknown>, options?: Record<string, unknown>) {
    this.record('sendMessage', options === undefined ? [jid, content] : [jid, content, options]);
    const id = `FAKE${String(this.nextId++).padStart(4, '0')}`;
    const message = 'text' in content && !('edit' in content) ? { extendedTextMessage: { text: content.text } } : 'image' in content ? { imageMessage: { mimetype: content.mimetype, caption: content.caption, fileLength: (content.image as Buffer).length } } : { conversation: '' };
    return { key: { remoteJid: jid, fromMe: true, id }, messageTimestamp: 1764901000 + this.nextId, status: 1, message };
  }

  async chatModify(mod: unknown, jid: string) {
    this.record('chatModify', [mod, jid]);
  }

  async sendPresenceUpdate(presence: string, jid?: string) {
    this.record('sendPresenceUpdate', [presence, jid]);
  }

  async readMessages(keys: unknown[]) {
    this.record('readMessages', [keys]);
  }

  /** The group the fake account is in: what groupMetadata answers and the group calls change. */
  group = {
    subject: 'Team',
    desc: undefined as string | undefined,
    owner: '4915550000001@s.whatsapp.net',
    creation: 1764800000,
    announce: false,
    restrict: false,
    admins: new Map<string, 'admin' | 'superadmin' | null>([
      ['4915550000001@s.whatsapp.net', 'superadmin'],
      ['201863227543599@lid', null],
    ]),
    code: 'InviteCode0001',
  };
  /** A method's next call throws this (a Boom as Baileys throws them: `output.statusCode`). */
  failNext = new Map<string, Error>();

  private refuse(method: string): void {
    const error = this.failNext.get(method);
    if (error) {
      this.failNext.delete(method);
      throw error;
    }
  }

  async groupMetadata(jid: string) {
    this.record('groupMetadata', [jid]);
    this.refuse('groupMetadata');
    const g = this.group;
    return {
      id: jid,
      subject: g.subject,
      desc: g.desc,
      owner: g.owner,
      creation: g.creation,
      announce: g.announce,
      restrict: g.restrict,
      participants: [...g.admins].map(([id, admin]) => (id.endsWith('@lid') ? { id, phoneNumber: '4915550000006@s.whatsapp.net', admin } : { id, admin })),
    };
  }

  async groupUpdateSubject(jid: string, subject: string) {
    this.record('groupUpdateSubject', [jid, subject]);
    this.refuse('groupUpdateSubject');
    this.group.subject = subject;
  }

  async groupSettingUpdate(jid: string, setting: 'announcement' | 'not_announcement' | 'locked' | 'unlocked') {
    this.record('groupSettingUpdate', [jid, setting]);
    this.refuse('groupSettingUpdate');
    if (setting === 'announcement' || setting === 'not_announcement') this.group.announce = setting === 'announcement';
    else this.group.restrict = setting === 'locked';
  }

  async groupInviteCode(jid: string) {
    this.record('groupInviteCode', [jid]);
    this.refuse('groupInviteCode');
    return this.group.code;
  }

  async groupRevokeInvite(jid: string) {
    this.record('groupRevokeInvite', [jid]);
    this.group.code = 'InviteCode0002';
    return this.group.code;
  }

  async groupAcceptInvite(code: string) {
    this.record('groupAcceptInvite', [code]);
    this.refuse('groupAcceptInvite');
    return '120363025246125777@g.us';
  }

  async groupLeave(jid: string) {
    this.record('groupLeave', [jid]);
  }

  async onWhatsApp(...jids: string[]) {
    this.record('onWhatsApp', jids);
    this.refuse('onWhatsApp');
    return jids.filter((j) => !j.startsWith('4915559')).map((jid) => ({ jid, exists: true }));
  }

  async requestPairingCode(phoneNumber: string, customPairingCode?: string) {
    this.record('requestPairingCode', customPairingCode === undefined ? [phoneNumber] : [phoneNumber, customPairingCode]);
    return 'ABCD2345';
  }

  blocked = new Set<string>();
  /** Where profilePictureUrl points (tests: a local HTTP server); none: the contact has no picture (WhatsApp's 404). */
  pictureUrl: string | null = null;

  async fetchStatus(...jids: string[]) {
    this.record('fetchStatus', jids);
    return jids.map((id) => ({ id, status: { status: 'Available for calls', setAt: new Date(1764800000000) } }));
  }

  async profilePictureUrl(jid: string, type?: string) {
    this.record('profilePictureUrl', [jid, type]);
    if (!this.pictureUrl) throw Object.assign(new Error('item-not-found'), { output: { statusCode: 404 } });
    return this.pictureUrl;
  }

  async fetchBlocklist() {
    this.record('fetchBlocklist', []);
    return [...this.blocked];
  }

  async updateBlockStatus(jid: string, action: 'block' | 'unblock') {
    this.record('updateBlockStatus', [jid, action]);
    if (action === 'block') this.blocked.add(jid);
    else this.blocked.delete(jid);
  }

  async updateProfileName(name: string) {
    this.record('updateProfileName', [name]);
  }

  async updateProfileStatus(status: string) {
    this.record('updateProfileStatus', [status]);
  }

  async updateProfilePicture(jid: string, content: unknown) {
    this.record('updateProfilePicture', [jid, content]);
  }

  async rejectCall(callId: string, callFrom: string) {
    this.record('rejectCall', [callId, callFrom]);
  }

  async groupCreate(subject: string, participants: string[]) {
    this.record('groupCreate', [subject, participants]);
    return { id: '120363025246125999@g.us', subject, participants: participants.slice(0, 1).map((id) => ({ id, admin: null })) };
  }

  async groupUpdateDescription(jid: string, description?: string) {
    this.record('groupUpdateDescription', [jid, description]);
    this.refuse('groupUpdateDescription');
    this.group.desc = description;
  }

  async groupParticipantsUpdate(jid: string, participants: string[], action: string) {
    this.record('groupParticipantsUpdate', [jid, participants, action]);
    this.refuse('groupParticipantsUpdate');
    if (action === 'promote' || action === 'demote') {
      return participants.map((p) => {
        // The member known by its @lid is also addressed by its number.
        const member = p === '4915550000006@s.whatsapp.net' ? '201863227543599@lid' : p;
        if (!this.group.admins.has(member)) return { status: '404', jid: p };
        this.group.admins.set(member, action === 'promote' ? 'admin' : null);
        return { status: '200', jid: p };
      });
    }
    return participants.map((p, i) => ({ status: i === 0 ? '200' : '403', jid: p }));
  }

  async logout(msg?: string) {
    this.record('logout', [msg]);
  }

  async updateMediaMessage(m: unknown) {
    return m;
  }
}

/** A Boom as Baileys throws it for a refused query (the IQ error node's code as `output.statusCode`). */
export function boomError(statusCode: number, message: string): Error {
  return Object.assign(new Error(message), { output: { statusCode } });
}

/** Baileys' module with makeWASocket replaced by FakeSockets (kept in `sockets`) and a fake media download. */
export function fakeBaileys(): { lib: BaileysModule; sockets: FakeSocket[]; downloads: unknown[] } {
  const sockets: FakeSocket[] = [];
  const downloads: unknown[] = [];
  const lib = {
    ...baileys,
    makeWASocket: (config: Record<string, unknown>) => {
      const socket = new FakeSocket(config);
      sockets.push(socket);
      return socket;
    },
    downloadMediaMessage: async (message: unknown) => {
      downloads.push(message);
      return Buffer.from('media bytes');
    },
  } as unknown as BaileysModule;
  return { lib, sockets, downloads };
}

export interface TestStore {
  store: AnyStore;
  dataDir: string;
  databaseUrl: string;
  /** Closes and opens the same storage again (a server restart). */
  reopen(): Promise<AnyStore>;
  close(): Promise<void>;
}

/** The app's store on this suite's backend (WA_TEST_STORE), in a temp dir or a new database. */
export async function openTestStore(): Promise<TestStore> {
  const dataDir = tempDir('wa-baileys-');
  const database = testStore === 'postgres' ? await createTestDatabase() : null;
  const config = { dataDir, databaseUrl: database?.url ?? '' };
  const result: TestStore = {
    store: await openAnyStore(config),
    dataDir,
    databaseUrl: config.databaseUrl,
    async reopen() {
      await result.store.close();
      result.store = await openAnyStore(config);
      return result.store;
    },
    async close() {
      await result.store.close();
      await database?.drop();
    },
  };
  return result;
}

export const quietLogger = createLogger('silent');

export function baileysConfig(extra: Partial<SessionConfig> = {}): SessionConfig {
  return { engine: 'baileys', multiDevice: true, headless: true, qrTimeout: 60, authTimeout: 60, ...extra };
}

/** An engine on `store` with a fake module; events of every session go to `events`. */
export function fakeEngine(store: AnyStore, options: { authKey?: Buffer | null; settings?: Parameters<typeof createBaileysEngine>[0]['settings'] } = {}) {
  const fake = fakeBaileys();
  const engine: BaileysEngine = createBaileysEngine({
    store,
    logger: quietLogger,
    authKey: options.authKey ?? null,
    settings: { reconnectBackoffMs: [10, 20, 40], ...options.settings },
    load: async () => fake.lib,
    warned: true,
  });
  const events: EngineEvent[] = [];
  return { ...fake, engine, events, sink: (e: EngineEvent) => events.push(e) };
}

/** Waits until `check` holds (polling), at most `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Settles the session's event work (all of it, when given the session) and the store's commits. */
export async function settle(store: AnyStore, session?: { idle(): Promise<void> }): Promise<void> {
  await new Promise((r) => setTimeout(r, 20));
  await session?.idle();
  await store.batch.committed();
}
