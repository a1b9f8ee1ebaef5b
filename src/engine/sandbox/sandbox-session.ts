import { randomBytes } from 'node:crypto';
import {
  EngineError,
  type CreateGroupResult,
  type EngineChat,
  type EngineContact,
  type EngineEvent,
  type EngineEventSink,
  type EngineMessage,
  type EngineSession,
  type GroupParticipantInfo,
  type ParticipantResult,
  type SandboxControls,
  type EngineMediaBytes,
  type MessageAction,
  type OutgoingContent,
  type SendInput,
  mediaMessageType,
} from '../engine.js';
import { phoneOf, toJid, type Draft, type SandboxNetwork } from './network.js';
import { qrDataUrl } from './qr.js';
import { after } from '../../store/maybe-promise.js';
import { countEngineCall } from './stats.js';

/** What each kind of content is as a message of the network. */
function draftOf(content: OutgoingContent): Omit<Draft, 'chatId' | 'quotedMessageId'> {
  const plain = { body: null, caption: null, media: null };
  switch (content.kind) {
    case 'text':
      return { ...plain, type: 'CHAT', body: content.text };
    case 'media':
      return {
        ...plain,
        type: mediaMessageType[content.media],
        caption: content.caption ?? null,
        media: { mimetype: content.mimetype, ...(content.filename ? { filename: content.filename } : {}), size: content.data.length },
        mediaData: content.data,
      };
    case 'location': {
      const location = { latitude: content.latitude, longitude: content.longitude, name: content.name ?? null, address: content.address ?? null };
      return { ...plain, type: 'LOCATION', fields: { location } };
    }
    case 'contact':
      return { ...plain, type: 'VCARD', fields: { vcard: content.vcard ?? contactCard(content.contactId ?? '') } };
    case 'poll':
      return {
        ...plain,
        type: 'POLL',
        fields: { poll: { name: content.name, options: content.options.map((name) => ({ name, votes: 0 })), allowMultipleAnswers: content.allowMultipleAnswers } },
      };
  }
}

/** The card WhatsApp makes for a contact id: its number as the name and the phone. */
function contactCard(contactId: string): string {
  const phone = phoneOf(contactId);
  return `BEGIN:VCARD\nVERSION:3.0\nFN:+${phone}\nTEL;type=CELL;waid=${phone}:+${phone}\nEND:VCARD`;
}

type Phase = 'starting' | 'qr' | 'authenticating' | 'ready' | 'stopped';

export class SandboxSession implements EngineSession {
  private phase: Phase = 'starting';
  private readonly timers = new Set<NodeJS.Timeout>();
  private qrSeq = 0;
  phone = '';

  readonly sandbox: SandboxControls = {
    scanQr: () => this.scanQr(),
    injectMessage: async (from, body) => {
      this.requireReady();
      if (!/^\d{5,20}@c\.us$/.test(from)) throw new EngineError('INVALID_CHAT_ID', `'${from}' is not a number like 15550001234@c.us`, { from });
      return this.network.inject(this, from, body);
    },
    markChatRead: (chatId) => this.markChatRead(chatId),
  };

  constructor(
    readonly sessionId: string,
    private readonly network: SandboxNetwork,
    private readonly emit: EngineEventSink,
    private readonly autoScanMs: number | undefined,
  ) {}

  private later(ms: number, fn: () => void | Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      Promise.resolve()
        .then(fn)
        .catch((error: unknown) => this.emit({ type: 'failed', reason: `sandbox: ${(error as Error).message}` }));
    }, ms);
    this.timers.add(timer);
  }

  async begin(): Promise<void> {
    const account = await this.network.account(this.sessionId);
    this.phone = account.phone;
    this.later(this.network.settings.startDelayMs, async () => {
      if (this.phase !== 'starting') return;
      if (account.linked) {
        // A saved login: no QR, straight to authenticated and ready, as a real engine restores a session.
        this.phase = 'authenticating';
        this.emit({ type: 'authenticated' });
        this.later(this.network.settings.authDelayMs, () => this.becomeReady());
        return;
      }
      this.phase = 'qr';
      await this.showQr();
      if (this.autoScanMs !== undefined) this.later(this.autoScanMs, () => (this.phase === 'qr' ? this.scanQr() : undefined));
    });
  }

  private async showQr(): Promise<void> {
    if (this.phase !== 'qr') return;
    const seq = ++this.qrSeq;
    const text = `wa-gateway-sandbox:${this.sessionId}:${seq}:${randomBytes(8).toString('hex')}`;
    const dataUrl = await qrDataUrl(text);
    if (this.phase !== 'qr' || seq !== this.qrSeq) return;
    const rotateMs = this.network.settings.qrRotateMs;
    this.emit({ type: 'qr', dataUrl, expiresAt: Date.now() + rotateMs });
    this.later(rotateMs, () => this.showQr());
  }

  async scanQr(): Promise<void> {
    if (this.phase !== 'qr') throw new EngineError('VALIDATION_ERROR', 'there is no QR code to scan right now');
    this.phase = 'authenticating';
    this.qrSeq++;
    await this.network.setLinked(this.sessionId, true);
    if (this.phase !== 'authenticating') return;
    this.emit({ type: 'authenticated' });
    this.later(this.network.settings.authDelayMs, () => this.becomeReady());
  }

  me(): EngineContact {
    return { id: toJid(this.phone), name: null, pushname: this.sessionId, isMyContact: true, isWAContact: true };
  }

  private becomeReady(): void {
    if (this.phase !== 'authenticating') return;
    this.phase = 'ready';
    this.network.goOnline(this.phone, this);
    this.emit({ type: 'ready', me: this.me() });
    // What was sent to this number while it was away arrives now.
    this.later(0, () => this.network.drain(this.phone));
  }

  /** An event from the network (a delivery, an ack, a group change), passed on while this session is READY. */
  notify(event: EngineEvent): void {
    if (this.phase === 'ready') this.emit(event);
  }

  private requireReady(): void {
    if (this.phase !== 'ready') throw new EngineError('SESSION_NOT_READY', `Session '${this.sessionId}' is not ready`, { sessionId: this.sessionId });
  }

  get isReady(): boolean {
    return this.phase === 'ready';
  }

  async stop(): Promise<void> {
    this.phase = 'stopped';
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.network.goOffline(this.phone, this);
  }

  async logout(): Promise<void> {
    await this.stop();
    await this.network.setLinked(this.sessionId, false);
  }

  async send(input: SendInput): Promise<EngineMessage> {
    this.requireReady();
    return this.network.send(this, { chatId: input.chatId, quotedMessageId: input.quotedMessageId ?? null, ...draftOf(input.content) });
  }

  async getMedia(messageId: string): Promise<EngineMediaBytes | null> {
    return this.network.media(this, messageId);
  }

  async act(action: MessageAction): Promise<EngineMessage | null> {
    this.requireReady();
    switch (action.kind) {
      case 'vote':
        return this.network.vote(this, action.messageId, action.options);
      default:
        throw new EngineError('ENGINE_UNSUPPORTED', `'${action.kind}' is not supported`, { kind: action.kind });
    }
  }

  async getChats(): Promise<EngineChat[]> {
    countEngineCall('getChats');
    return this.network.store.chats(this.sessionId);
  }

  async getChat(chatId: string): Promise<EngineChat | null> {
    countEngineCall('getChat');
    return this.network.store.chat(this.sessionId, chatId);
  }

  async getMessages(chatId: string, options: { limit: number; before?: string | null }): Promise<EngineMessage[]> {
    countEngineCall('getMessages');
    const store = this.network.store;
    if (!options.before) return store.messages(this.sessionId, chatId, options.limit, null);
    const before = options.before;
    return after(store.messageById(this.sessionId, before), (row) => {
      if (!row || row.chat_id !== chatId) {
        throw new EngineError('VALIDATION_ERROR', `No message '${before}' in chat '${chatId}'`, { before });
      }
      return store.messages(this.sessionId, chatId, options.limit, row.seq);
    });
  }

  async getContacts(): Promise<EngineContact[]> {
    countEngineCall('getContacts');
    const builtins = [...this.network.builtins.values()].map((b) => b.contact);
    const known = new Set(builtins.map((c) => c.id));
    return after(this.network.store.directChats(this.sessionId), (chats) => [
      ...builtins,
      ...chats.filter((c) => !known.has(c.chatId)).map((c) => this.contactOf(c.chatId, c.ownerSession)),
    ]);
  }

  async getContact(contactId: string): Promise<EngineContact | null> {
    countEngineCall('getContact');
    const phone = phoneOf(contactId);
    const builtin = this.network.builtins.get(phone);
    if (builtin) return builtin.contact;
    const store = this.network.store;
    return after(store.sessionOfPhone(phone), (owner) => {
      if (owner) return this.contactOf(contactId, owner);
      return after(store.chat(this.sessionId, contactId), (chat) => (chat ? this.contactOf(contactId, null) : null));
    });
  }

  private contactOf(id: string, ownerSession: string | null): EngineContact {
    // Sandbox sessions have no address book: numbers are known by the pushname (their session id).
    return { id, name: null, pushname: ownerSession, isMyContact: false, isWAContact: ownerSession !== null };
  }

  async getGroupParticipants(groupId: string): Promise<GroupParticipantInfo[] | null> {
    countEngineCall('getGroupParticipants');
    return this.network.store.participants(groupId);
  }

  async createGroup(name: string, participants: string[], description?: string | null): Promise<CreateGroupResult> {
    this.requireReady();
    return this.network.createGroup(this, name, participants, description ?? null);
  }

  async addParticipants(groupId: string, participants: string[]): Promise<ParticipantResult[]> {
    this.requireReady();
    return this.network.changeMembers(this, groupId, participants, 'add');
  }

  async removeParticipants(groupId: string, participants: string[]): Promise<ParticipantResult[]> {
    this.requireReady();
    return this.network.changeMembers(this, groupId, participants, 'remove');
  }

  async markChatRead(chatId: string): Promise<void> {
    this.requireReady();
    return this.network.markRead(this, chatId);
  }
}
