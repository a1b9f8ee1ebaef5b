import { randomBytes, randomInt } from 'node:crypto';
import {
  EngineError,
  type AccountAction,
  type EngineCall,
  type EngineGroup,
  type EngineMediaBytes,
  type EngineProfile,
  type GroupAction,
  type GroupActionResult,
  type NumberCheck,
  type CreateGroupResult,
  type EngineChat,
  type EngineContact,
  type EngineEvent,
  type EngineEventSink,
  type EngineMessage,
  type EngineSession,
  type GroupParticipantInfo,
  type MessageAction,
  type ParticipantResult,
  type SandboxControls,
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
    enterPairingCode: (code) => this.enterPairingCode(code),
    injectCall: async (from, isVideo) => {
      this.requireReady();
      if (this.network.store.isBlocked(this.phone, phoneOf(from))) {
        throw new EngineError('CONTACT_BLOCKED', `This account blocked ${from}: its calls do not ring`, { from });
      }
      const call: EngineCall = { id: randomBytes(16).toString('hex').toUpperCase(), from, isVideo, isGroup: false, timestamp: Math.floor(Date.now() / 1000) };
      this.calls.set(call.id, call);
      this.emit({ type: 'call', call });
      return call;
    },
  };

  /** Calls ringing now, by id. */
  private readonly calls = new Map<string, EngineCall>();
  /** The pairing code handed out last while waiting for the login (what the phone must enter). */
  private pairingCode: string | null = null;

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
    return this.linked();
  }

  /** WhatsApp shows pairing codes as 8 letters and digits (no 0, O, 1, I), in two groups of four. */
  async requestPairingCode(_phoneNumber: string): Promise<string> {
    // The sandbox keeps the number it gave this session's account: the phone number only says which phone enters the code.
    if (this.phase !== 'qr') throw new EngineError('VALIDATION_ERROR', 'the session is not waiting for a login');
    const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
    const chars = Array.from({ length: 8 }, () => alphabet[randomInt(alphabet.length)]).join('');
    this.pairingCode = chars;
    return `${chars.slice(0, 4)}-${chars.slice(4)}`;
  }

  private async enterPairingCode(code: string): Promise<void> {
    if (this.phase !== 'qr') throw new EngineError('VALIDATION_ERROR', 'the session is not waiting for a login');
    const entered = code.replace(/[\s-]/g, '').toUpperCase();
    if (!this.pairingCode || entered !== this.pairingCode) throw new EngineError('VALIDATION_ERROR', 'this is not the pairing code the session showed', {});
    this.pairingCode = null;
    return this.linked();
  }

  /** The QR was scanned or the pairing code entered: the account is linked, and the session logs in. */
  private async linked(): Promise<void> {
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
      // The name an account set for itself (setProfileName) is its pushname; else its session id.
      if (owner) return after(store.profile(phone), (profile) => this.contactOf(contactId, owner, profile?.name ?? null));
      return after(store.chat(this.sessionId, contactId), (chat) => (chat ? this.contactOf(contactId, null) : null));
    });
  }

  private contactOf(id: string, ownerSession: string | null, profileName: string | null = null): EngineContact {
    // Sandbox sessions have no address book: numbers are known by the pushname (their session id).
    return { id, name: null, pushname: profileName ?? ownerSession, isMyContact: false, isWAContact: ownerSession !== null };
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

  async act(action: MessageAction): Promise<EngineMessage | null> {
    this.requireReady();
    return this.network.act(this, action);
  }

  // --- groups, contacts, calls ------------------------------------------------------------------------

  async checkNumber(number: string): Promise<NumberCheck> {
    this.requireReady();
    return this.network.checkNumber(number);
  }

  async getGroup(groupId: string): Promise<EngineGroup | null> {
    countEngineCall('getGroup');
    const group = this.network.groupView(groupId);
    return group && group.participants.some((p) => p.id === toJid(this.phone)) ? group : null;
  }

  async groupAction(groupId: string, action: GroupAction): Promise<GroupActionResult> {
    this.requireReady();
    return this.network.groupAction(this, groupId, action);
  }

  async joinGroup(link: string): Promise<string> {
    this.requireReady();
    return this.network.joinGroup(this, link);
  }

  async getProfile(contactId: string): Promise<EngineProfile> {
    const phone = phoneOf(contactId);
    const builtin = this.network.builtins.get(phone);
    const isBlocked = this.network.store.isBlocked(this.phone, phone);
    if (builtin) return { about: builtin.about ?? null, hasPicture: false, isBlocked };
    return after(this.network.store.profile(phone), (profile) => ({ about: profile?.about ?? null, hasPicture: !!profile?.picture, isBlocked }));
  }

  async getProfilePicture(contactId: string): Promise<EngineMediaBytes | null> {
    const phone = phoneOf(contactId);
    if (this.network.builtins.has(phone)) return null;
    return after(this.network.store.profile(phone), (profile) =>
      profile?.picture ? { data: Buffer.from(profile.picture, 'base64'), mimetype: profile.pictureMimetype ?? 'image/jpeg', filename: null } : null,
    );
  }

  async accountAction(action: AccountAction): Promise<void> {
    this.requireReady();
    const store = this.network.store;
    switch (action.kind) {
      case 'block':
      case 'unblock':
        store.setBlocked(this.phone, phoneOf(action.contactId), action.kind === 'block');
        return;
      case 'setName':
        store.setProfile(this.phone, { name: action.name });
        return;
      case 'setAbout':
        store.setProfile(this.phone, { about: action.about });
        return;
      case 'setPicture':
        store.setProfile(this.phone, { picture: action.data.toString('base64'), pictureMimetype: action.mimetype });
        return;
      case 'rejectCall': {
        const call = this.calls.get(action.callId);
        if (!call) throw new EngineError('NOT_FOUND', `No call '${action.callId}' is ringing`, { callId: action.callId });
        this.calls.delete(call.id);
        if (action.message) {
          // The reply is a courtesy: a caller that is not on the network (an injected number) gets none.
          try {
            await this.network.send(this, { chatId: call.from, body: action.message, type: 'CHAT', caption: null, media: null, quotedMessageId: null });
          } catch (error) {
            if (!(error instanceof EngineError && error.code === 'NOT_ON_WHATSAPP')) throw error;
          }
        }
        return;
      }
    }
  }
}
