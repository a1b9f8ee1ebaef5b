import { randomBytes } from 'node:crypto';
import {
  EngineError,
  type CreateGroupResult,
  type EngineChat,
  type EngineContact,
  type EngineEventSink,
  type EngineMessage,
  type EngineSession,
  type GroupParticipantInfo,
  type ParticipantResult,
  type SandboxControls,
  type SendMediaInput,
  type SendTextInput,
} from '../engine.js';
import { toJid, type SandboxNetwork } from './network.js';
import { qrDataUrl } from './qr.js';

type Phase = 'starting' | 'qr' | 'authenticating' | 'ready' | 'stopped';

export class SandboxSession implements EngineSession {
  private phase: Phase = 'starting';
  private readonly timers = new Set<NodeJS.Timeout>();
  private qrSeq = 0;
  phone = '';

  readonly sandbox: SandboxControls = {
    scanQr: () => this.scanQr(),
    injectMessage: () => Promise.reject(new EngineError('ENGINE_UNSUPPORTED', 'sandbox messaging is not available yet')),
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

  private notYet(): never {
    throw new EngineError('ENGINE_UNSUPPORTED', 'sandbox messaging is not available yet');
  }

  async sendText(_input: SendTextInput): Promise<EngineMessage> {
    return this.notYet();
  }
  async sendMedia(_input: SendMediaInput): Promise<EngineMessage> {
    return this.notYet();
  }
  async getChats(): Promise<EngineChat[]> {
    return [];
  }
  async getChat(_chatId: string): Promise<EngineChat | null> {
    return null;
  }
  async getMessages(_chatId: string, _options: { limit: number; before?: string | null }): Promise<EngineMessage[]> {
    return [];
  }
  async getContacts(): Promise<EngineContact[]> {
    return [...this.network.builtins.values()].map((b) => b.contact);
  }
  async getContact(contactId: string): Promise<EngineContact | null> {
    return (await this.getContacts()).find((c) => c.id === contactId) ?? null;
  }
  async getGroupParticipants(_groupId: string): Promise<GroupParticipantInfo[] | null> {
    return null;
  }
  async createGroup(_name: string, _participants: string[]): Promise<CreateGroupResult> {
    return this.notYet();
  }
  async addParticipants(_groupId: string, _participants: string[]): Promise<ParticipantResult[]> {
    return this.notYet();
  }
  async removeParticipants(_groupId: string, _participants: string[]): Promise<ParticipantResult[]> {
    return this.notYet();
  }
  async markChatRead(_chatId: string): Promise<void> {
    return this.notYet();
  }
}
