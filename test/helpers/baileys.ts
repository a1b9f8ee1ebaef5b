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

  async groupMetadata(jid: string) {
    this.record('groupMetadata', [jid]);
    return {
      id: jid,
      subject: 'Team',
      participants: [
        { id: '4915550000001@s.whatsapp.net', admin: 'superadmin' },
        { id: '201863227543599@lid', phoneNumber: '4915550000006@s.whatsapp.net', admin: null },
      ],
    };
  }

  async groupCreate(subject: string, participants: string[]) {
    this.record('groupCreate', [subject, participants]);
    return { id: '120363025246125999@g.us', subject, participants: participants.slice(0, 1).map((id) => ({ id, admin: null })) };
  }

  async groupUpdateDescription(jid: string, description?: string) {
    this.record('groupUpdateDescription', [jid, description]);
  }

  async groupParticipantsUpdate(jid: string, participants: string[], action: string) {
    this.record('groupParticipantsUpdate', [jid, participants, action]);
    return participants.map((p, i) => ({ status: i === 0 ? '200' : '403', jid: p }));
  }

  async logout(msg?: string) {
    this.record('logout', [msg]);
  }

  async updateMediaMessage(m: unknown) {
    return m;
  }
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

/** Settles the session's event work and the store's commits. */
export async function settle(store: AnyStore): Promise<void> {
  await new Promise((r) => setTimeout(r, 20));
  await store.batch.committed();
}
