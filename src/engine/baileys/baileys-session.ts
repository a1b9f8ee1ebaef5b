// One Baileys session: at most one socket at a time, its close reasons turned into reconnects (capped
// backoff) or a FAILED session, its events into the gateway's events and the history store. Whatever the
// socket or a handler throws ends here, as this session's failure, never another session's or the process's.
import type { Agent } from 'node:https';
import type { BaileysEventMap, GroupMetadata, WAMessage, WASocket } from 'baileys';
import {
  EngineError,
  type AccountAction,
  type CreateGroupResult,
  type GroupAction,
  type EngineGroup,
  type GroupChange,
  type EngineProfile,
  type GroupActionResult,
  type NumberCheck,
  type EngineChat,
  type EngineContact,
  type EngineEvent,
  type EngineEventSink,
  type EngineMediaBytes,
  type EngineMessage,
  type EngineSession,
  type EngineStartOptions,
  type GroupParticipantInfo,
  type MessageAction,
  type ParticipantResult,
  type SendInput,
} from '../engine.js';
import type { Logger } from '../../logger.js';
import { qrDataUrl } from '../sandbox/qr.js';
import { deleteAuthState, loadAuthState, loadLidMap, type AuthCipher, type BaileysModule, type StoredAuthState } from './auth-store.js';
import { formatPairingCode, GROUP_ERRORS, INVITE_ERRORS, inviteCode, inviteLink, lidPairs, mapGroupMetadata, socketError, statusOf } from './account.js';
import { actionCall, sendCall, type SocketCall } from './calls.js';
import { HistoryStore, type IncomingMessage } from './history-store.js';
import { canonicalId, fromJid, isGroupJid, lidUser, phoneUser, toGroupJid, toJid, toUserJid } from './ids.js';
import {
  applyPollVote,
  applyReaction,
  mapCall,
  mapChat,
  mapContact,
  mapGroupUpdate,
  mapParticipants,
  mapPresence,
  mapReaction,
  mapUpdate,
  mapUpsert,
  publicMessage,
  toSeconds,
  type MapContext,
  type SideEvent,
  type StoredMessage,
  type UpdateOutcome,
  type UpsertOutcome,
} from './mapping.js';
import type { BaileysSql } from './sql.js';

export interface BaileysSettings {
  /** The WhatsApp endpoint ('' = Baileys' own, wss://web.whatsapp.com/ws/chat); tests give a local server. */
  wsUrl: string;
  /** A connection attempt (WebSocket and handshake) that takes longer fails. */
  connectTimeoutMs: number;
  /** Wait before the n-th reconnect in a row (the last entry repeats). */
  reconnectBackoffMs: number[];
  /** Failed attempts in a row, before the socket ever opened in this start, after which the session is FAILED. */
  connectAttempts: number;
  /** Lost connections in a row (after it was open) that are reconnected; the next one fails the session. */
  maxReconnects: number;
  /** Messages kept per chat (the newest). */
  historyPerChat: number;
}

export const defaultBaileysSettings: BaileysSettings = {
  wsUrl: '',
  connectTimeoutMs: 20_000,
  reconnectBackoffMs: [1_000, 2_000, 5_000, 10_000, 30_000],
  connectAttempts: 3,
  maxReconnects: 10,
  historyPerChat: 1_000,
};

export interface BaileysDeps {
  lib: BaileysModule;
  sql: BaileysSql;
  cipher: AuthCipher;
  settings: BaileysSettings;
  logger: Logger;
  /** Told when the session stopped or failed for good (the engine's list of live sessions). */
  onStopped: () => void;
  /** The session's proxy (proxyServerCredentials) as the socket's agent. */
  agent?: Agent;
}

type Phase = 'connecting' | 'open' | 'waiting' | 'failed' | 'stopped';

// DisconnectReason's codes (Baileys' Types/index): kept here so the decision needs no import at run time.
const LOGGED_OUT = 401;
const FORBIDDEN = 403;
const MULTIDEVICE_MISMATCH = 411;
const CONNECTION_REPLACED = 440;
const BAD_SESSION = 500;
const RESTART_REQUIRED = 515;

/** The reason a close gives: Boom's status code and message. */
function closeReason(update: Partial<BaileysEventMap['connection.update']>): { code: number | null; message: string } {
  const error = update.lastDisconnect?.error as (Error & { output?: { statusCode?: number } }) | undefined;
  return { code: error?.output?.statusCode ?? null, message: error?.message || 'connection closed' };
}

export class BaileysSession implements EngineSession {
  readonly sessionId: string;
  private phase: Phase = 'connecting';
  private sock: WASocket | null = null;
  private detach: (() => void) | null = null;
  private socketClosed: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private opened = false;
  private authenticated = false;
  private firstQr = true;
  private auth: StoredAuthState | null = null;
  private work: Promise<void> = Promise.resolve();
  private readonly lids = new Map<string, string>();
  /** Ringing calls: id -> the caller's JID (Baileys' rejectCall takes both). */
  private readonly calls = new Map<string, string>();
  readonly history: HistoryStore;
  private readonly log: Logger;
  /** Sockets made by this session (tests: never two open at once). */
  socketsMade = 0;

  constructor(
    private readonly options: EngineStartOptions,
    private readonly sink: EngineEventSink,
    private readonly deps: BaileysDeps,
  ) {
    this.sessionId = options.sessionId;
    this.log = deps.logger.child({ sessionId: options.sessionId, engine: 'baileys' });
    this.history = new HistoryStore(deps.sql, options.sessionId, deps.settings.historyPerChat);
  }

  private get ctx(): MapContext {
    const me = this.auth?.state.creds.me;
    return { meId: fromJid(me?.id) , lids: this.lids };
  }

  /** Loads the login and opens the first socket; a failure here is the session's FAILED, not a throw. */
  async begin(): Promise<void> {
    try {
      this.auth = await loadAuthState(this.deps.sql, this.deps.cipher, this.sessionId, this.deps.lib);
      for (const [lid, phone] of await loadLidMap(this.deps.sql, this.deps.cipher, this.sessionId)) this.lids.set(lid, phone);
      this.connect();
    } catch (error) {
      this.failWith(`could not start Baileys: ${(error as Error).message}`);
    }
  }

  private emit(event: EngineEvent): void {
    if (this.phase === 'failed' || this.phase === 'stopped') return;
    try {
      this.sink(event);
    } catch (error) {
      this.log.warn('event sink threw', { err: String(error) });
    }
  }

  private connect(): void {
    if (this.phase === 'failed' || this.phase === 'stopped' || !this.auth) return;
    // Never two sockets: a previous one is closed and detached before the next is made.
    if (this.sock) this.dropSocket();
    this.phase = 'connecting';
    const { lib, settings } = this.deps;
    const auth = this.auth;
    let sock: WASocket;
    try {
      sock = lib.makeWASocket({
        auth: { creds: auth.state.creds, keys: lib.makeCacheableSignalKeyStore(auth.state.keys, baileysLogger(this.log)) },
        logger: baileysLogger(this.log),
        ...(settings.wsUrl ? { waWebSocketUrl: settings.wsUrl } : {}),
        connectTimeoutMs: settings.connectTimeoutMs,
        ...(this.deps.agent ? { agent: this.deps.agent, fetchAgent: this.deps.agent } : {}),
        markOnlineOnConnect: false,
        syncFullHistory: false,
        getMessage: async (key) => {
          const found = key.id ? await this.history.getMessage(key.id) : null;
          return found?.raw ? (this.parseRaw(found.raw)?.message ?? undefined) : undefined;
        },
      });
    } catch (error) {
      this.failWith(`Baileys could not make a socket: ${(error as Error).message}`);
      return;
    }
    this.socketsMade++;
    this.sock = sock;
    // Resolves once this socket's WebSocket is closed (a stop waits for it, so nothing of it outlives the session).
    this.socketClosed = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (socketIsClosed(sock)) {
          clearInterval(check);
          resolve();
        }
      }, 20);
      check.unref();
    });
    this.detach = sock.ev.process((events) => {
      if (this.sock !== sock) return;
      this.work = this.work.then(() => this.onEvents(sock, events)).catch((error: unknown) => this.failWith(`Baileys event handling failed: ${(error as Error).message}`));
    });
  }

  /** Resolves once the events received so far are handled and their writes handed to the store. */
  async idle(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.work;
      await seen.catch(() => undefined);
    } while (seen !== this.work);
  }

  /** Detaches from the current socket and ends it; its own close event is not heard. */
  private dropSocket(): Promise<void> {
    const sock = this.sock;
    this.sock = null;
    this.detach?.();
    this.detach = null;
    if (!sock) return Promise.resolve();
    try {
      sock.ev.removeAllListeners('connection.update');
      void Promise.resolve(sock.end(undefined)).catch(() => undefined);
    } catch (error) {
      this.log.debug('ending the Baileys socket threw', { err: String(error) });
    }
    return this.socketClosed;
  }

  private async onEvents(sock: WASocket, events: Partial<BaileysEventMap>): Promise<void> {
    if (events['creds.update']) await this.auth?.saveCreds();
    if (events['connection.update']) await this.onConnection(sock, events['connection.update']);
    if (this.sock !== sock) return;
    if (events['lid-mapping.update']) this.learnLid(events['lid-mapping.update']);
    const historySet = events['messaging-history.set'];
    if (historySet) {
      for (const m of historySet.lidPnMappings ?? []) this.learnLid(m);
      await this.history.upsertContacts(historySet.contacts.map((c) => mapContact(c, this.ctx)).filter((c): c is EngineContact => c !== null));
      await this.history.upsertChats(historySet.chats.map((c) => mapChat(c, this.ctx)).filter((c) => c !== null));
      await this.onMessages(historySet.messages, false);
    }
    if (events['contacts.upsert']) await this.history.upsertContacts(events['contacts.upsert'].map((c) => mapContact(c, this.ctx)).filter((c): c is EngineContact => c !== null));
    if (events['contacts.update']) await this.history.upsertContacts(events['contacts.update'].map((c) => mapContact(c, this.ctx)).filter((c): c is EngineContact => c !== null));
    if (events['chats.upsert']) await this.history.upsertChats(events['chats.upsert'].map((c) => mapChat(c, this.ctx)).filter((c) => c !== null));
    if (events['chats.update']) await this.history.upsertChats(events['chats.update'].map((c) => mapChat(c, this.ctx)).filter((c) => c !== null));
    if (events['chats.delete']) await this.history.deleteChats(events['chats.delete'].map((id) => fromJid(id, this.lids)).filter((id): id is string => id !== null));
    const upsert = events['messages.upsert'];
    if (upsert) await this.onMessages(upsert.messages, true, upsert.type === 'notify');
    for (const entry of events['messages.update'] ?? []) for (const outcome of mapUpdate(entry, this.ctx)) await this.apply(outcome);
    for (const entry of events['messages.reaction'] ?? []) {
      const outcome = mapReaction(entry, this.ctx);
      if (outcome) await this.apply(outcome);
    }
    if (events['presence.update']) for (const e of mapPresence(events['presence.update'], this.ctx)) this.side(e);
    for (const g of events['groups.update'] ?? []) {
      const e = mapGroupUpdate(g, this.ctx);
      if (!e) continue;
      if (e.kind === 'group_update' && e.subject) await this.history.upsertChats([{ id: e.groupId, name: e.subject, isGroup: true, unreadCount: null, timestamp: null }]);
      this.side(e);
    }
    const groups = events['groups.upsert'] ?? [];
    await this.history.upsertChats(groups.filter((g) => isGroupJid(g.id)).map((g) => ({ id: g.id, name: g.subject ?? null, isGroup: true, unreadCount: null, timestamp: toSeconds(g.creation) || null })));
    const participants = events['group-participants.update'];
    if (participants) {
      const e = mapParticipants(participants, this.ctx);
      if (e && 'type' in e) this.emit(e);
      else if (e) this.side(e);
    }
    for (const call of events.call ?? []) {
      if (call.status === 'offer') {
        this.calls.set(call.id, call.from);
        // Bounded: calls nobody rejected are forgotten oldest first.
        if (this.calls.size > 100) this.calls.delete(this.calls.keys().next().value!);
      } else if (['timeout', 'reject', 'accept', 'terminate'].includes(call.status)) this.calls.delete(call.id);
      const e = mapCall(call, this.ctx);
      if (e) this.side(e);
    }
  }

  /** The events mapped apart from the message ones, as the gateway's events (a group 'modify' has none). */
  private side(event: SideEvent): void {
    switch (event.kind) {
      case 'presence':
        this.emit({ type: 'presence', chatId: event.chatId, contactId: event.contactId, presence: event.presence });
        return;
      case 'group_update': {
        const change: GroupChange = {};
        if (event.subject !== undefined) change.subject = event.subject;
        if (event.description != null) change.description = event.description;
        if (event.announce !== undefined) change.announce = event.announce;
        if (event.restrict !== undefined) change.restrict = event.restrict;
        this.emit({ type: 'group_update', groupId: event.groupId, by: event.by, change });
        return;
      }
      case 'group_admin':
        if (event.action === 'modify') this.log.debug('baileys event', { event });
        else this.emit({ type: event.action === 'promote' ? 'group_promote' : 'group_demote', groupId: event.groupId, participants: event.participants, by: event.by });
        return;
      case 'call':
        // Only a ringing call is news to the gateway (its CALL event); the other states are logged.
        if (event.status === 'offer') this.emit({ type: 'call', call: { id: event.callId, from: event.from, isVideo: event.isVideo, isGroup: event.isGroup, timestamp: event.timestamp } });
        else this.log.debug('baileys event', { event });
        return;
    }
  }

  private learnLid(mapping: { lid: string; pn: string }): void {
    const lid = lidUser(mapping.lid);
    const pn = phoneUser(mapping.pn);
    if (lid && pn) this.lids.set(lid, pn);
  }

  private async onMessages(messages: WAMessage[], live: boolean, notify = false): Promise<void> {
    const save: IncomingMessage[] = [];
    const later: UpsertOutcome[] = [];
    for (const msg of messages) {
      for (const alt of [
        [msg.key?.remoteJid, msg.key?.remoteJidAlt],
        [msg.key?.participant, msg.key?.participantAlt],
      ] as const) {
        if (lidUser(alt[0]) && phoneUser(alt[1])) this.lids.set(lidUser(alt[0])!, phoneUser(alt[1])!);
      }
      const outcome = mapUpsert(msg, this.ctx);
      if (outcome.kind === 'message') save.push({ message: outcome.message, raw: JSON.stringify(msg, this.deps.lib.BufferJSON.replacer), unread: live && notify && !outcome.message.fromMe });
      else if (outcome.kind !== 'ignore') later.push(outcome);
    }
    await this.history.saveMessages(save);
    for (const outcome of later) await this.apply(outcome);
    if (live) for (const { message } of save) this.emit({ type: 'message', message: publicMessage(message) });
  }

  private async apply(outcome: UpsertOutcome | UpdateOutcome): Promise<void> {
    switch (outcome.kind) {
      case 'ack':
        await this.history.updateMessage(outcome.messageId, (m) => ({ ...m, ack: outcome.ack }));
        this.emit({ type: 'ack', messageId: outcome.messageId, chatId: outcome.chatId, ack: outcome.ack });
        return;
      case 'revoke':
        await this.history.updateMessage(outcome.messageId, (m) => ({ ...m, type: 'REVOKED', body: null, caption: null, media: null }));
        this.emit({ type: 'message_revoked', messageId: outcome.messageId, chatId: outcome.chatId, by: outcome.by });
        return;
      case 'edit': {
        const edited = await this.history.updateMessage(outcome.messageId, (m) => ({ ...m, body: m.type === 'CHAT' ? outcome.body : m.body, caption: m.type === 'CHAT' ? m.caption : outcome.body, edited: true }));
        if (edited) this.emit({ type: 'message_edited', message: publicMessage(edited) });
        return;
      }
      case 'reaction':
        await this.history.updateMessage(outcome.messageId, (m) => applyReaction(m, outcome.reaction));
        this.emit({ type: 'reaction', messageId: outcome.messageId, chatId: outcome.chatId, reaction: outcome.reaction });
        return;
      case 'pollVote':
        await this.history.updateMessage(outcome.messageId, (m) => applyPollVote(m, outcome));
        return;
      default:
        return;
    }
  }

  private async onConnection(sock: WASocket, update: Partial<BaileysEventMap['connection.update']>): Promise<void> {
    if (this.sock !== sock) return;
    if (update.qr) {
      const lifetime = this.firstQr ? 60_000 : 20_000;
      this.firstQr = false;
      const dataUrl = await qrDataUrl(update.qr);
      if (this.sock === sock) this.emit({ type: 'qr', dataUrl, expiresAt: Date.now() + lifetime });
    }
    if (update.isNewLogin && !this.authenticated) {
      this.authenticated = true;
      this.emit({ type: 'authenticated' });
    }
    if (update.connection === 'open') {
      this.phase = 'open';
      this.opened = true;
      this.failures = 0;
      if (!this.authenticated) {
        this.authenticated = true;
        this.emit({ type: 'authenticated' });
      }
      const me = this.auth?.state.creds.me;
      const id = fromJid(me?.id) ?? '';
      this.emit({ type: 'ready', me: { id, name: me?.name ?? null, pushname: me?.name ?? null, isMyContact: true, isWAContact: true } });
      return;
    }
    if (update.connection === 'close') this.onClose(update);
  }

  private onClose(update: Partial<BaileysEventMap['connection.update']>): void {
    const { code, message } = closeReason(update);
    this.sock = null;
    this.detach?.();
    this.detach = null;
    switch (code) {
      case LOGGED_OUT:
        this.failWith('logged out (401): the phone removed this device; the saved login was forgotten, start the session again to scan a new QR code');
        void deleteAuthState(this.deps.sql, this.sessionId).catch((error: unknown) => this.log.warn('could not delete the login', { err: String(error) }));
        return;
      case CONNECTION_REPLACED:
        this.failWith('connection replaced (440): another client opened this WhatsApp account; not reconnecting');
        return;
      case FORBIDDEN:
      case MULTIDEVICE_MISMATCH:
      case BAD_SESSION:
        this.failWith(`WhatsApp refused the session (${code}): ${message}`);
        return;
      case RESTART_REQUIRED:
        // After pairing WhatsApp asks for a new connection: made at once, not counted as a failure.
        this.log.debug('Baileys restart required; reconnecting');
        this.connect();
        return;
      default:
        break;
    }
    this.failures++;
    const reason = `${message}${code ? ` (${code})` : ''}`;
    if (!this.opened && this.failures >= this.deps.settings.connectAttempts) {
      this.failWith(`could not connect to WhatsApp (${this.failures} attempts): ${reason}`);
      return;
    }
    if (this.opened && this.failures > this.deps.settings.maxReconnects) {
      this.failWith(`connection to WhatsApp lost ${this.failures} times in a row; giving up: ${reason}`);
      return;
    }
    const schedule = this.deps.settings.reconnectBackoffMs;
    const wait = schedule[Math.min(this.failures - 1, schedule.length - 1)] ?? 1_000;
    this.log.info('Baileys connection closed; reconnecting', { reason, attempt: this.failures, inMs: wait });
    this.phase = 'waiting';
    this.emit({ type: 'disconnected', reason: `${reason}; reconnecting in ${wait} ms` });
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, wait);
  }

  private failWith(reason: string): void {
    if (this.phase === 'failed' || this.phase === 'stopped') return;
    this.log.info('Baileys session failed', { reason });
    this.emit({ type: 'failed', reason });
    this.phase = 'failed';
    this.clearTimer();
    void this.dropSocket();
    this.deps.onStopped();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    this.clearTimer();
    await this.dropSocket();
    await this.work.catch(() => undefined);
    this.deps.onStopped();
  }

  async logout(): Promise<void> {
    const sock = this.sock;
    if (sock && this.phase === 'open') {
      // Bounded: the session manager gives logout and stop 10 s in all.
      await Promise.race([sock.logout().catch(() => undefined), new Promise((r) => setTimeout(r, 3_000).unref())]);
    }
    await this.stop();
    await deleteAuthState(this.deps.sql, this.sessionId);
  }

  // ---- calls --------------------------------------------------------------------------------------------

  private ready(): WASocket {
    if (this.phase !== 'open' || !this.sock) throw new EngineError('SESSION_NOT_READY', `session '${this.sessionId}' is not connected to WhatsApp`, { sessionId: this.sessionId });
    return this.sock;
  }

  private parseRaw(raw: string): WAMessage | null {
    try {
      return JSON.parse(raw, this.deps.lib.BufferJSON.reviver) as WAMessage;
    } catch {
      return null;
    }
  }

  private async stored(messageId: string): Promise<WAMessage | null> {
    const found = await this.history.getMessage(messageId);
    return found?.raw ? this.parseRaw(found.raw) : null;
  }

  private async call(sock: WASocket, call: SocketCall): Promise<unknown> {
    try {
      return await (sock[call.method] as (...args: unknown[]) => Promise<unknown>)(...call.args);
    } catch (error) {
      if (error instanceof EngineError) throw error;
      throw new EngineError('ENGINE_ERROR', `Baileys ${call.method} failed: ${(error as Error).message}`, { method: call.method });
    }
  }

  async send(input: SendInput): Promise<EngineMessage> {
    const sock = this.ready();
    input = { ...input, chatId: canonicalId(input.chatId, this.lids) };
    const quoted = input.quotedMessageId ? await this.stored(input.quotedMessageId) : null;
    const sent = (await this.call(sock, sendCall(input, quoted))) as WAMessage | undefined;
    if (!sent?.key) throw new EngineError('ENGINE_ERROR', 'Baileys sent the message but returned no message', {});
    const outcome = mapUpsert(sent, this.ctx);
    if (outcome.kind !== 'message') throw new EngineError('ENGINE_ERROR', 'Baileys returned a message the gateway cannot read', {});
    await this.history.saveMessages([{ message: outcome.message, raw: JSON.stringify(sent, this.deps.lib.BufferJSON.replacer), unread: false }]);
    return publicMessage(outcome.message);
  }

  /**
   * An action on a message or chat. Answers what it leaves behind (as main's actions work defines it): the
   * reacted or edited message, the forwarded copy, the REVOKED copy of a delete for everyone; null otherwise.
   */
  async act(action: MessageAction): Promise<EngineMessage | null> {
    const sock = this.ready();
    if ('chatId' in action) {
      action = { ...action, chatId: canonicalId(action.chatId, this.lids) };
      toJid(action.chatId);
    }
    const target = 'messageId' in action ? await this.stored(action.messageId) : null;
    const lastMessages =
      action.kind === 'markUnread'
        ? (await this.history.newest(action.chatId, 1)).map((m) => (m.raw ? this.parseRaw(m.raw) : null)).filter((m): m is WAMessage => m !== null)
        : undefined;
    const result = await this.call(sock, actionCall(action, { target, ...(lastMessages ? { lastMessages } : {}) }));
    const changed = (m: StoredMessage | null) => (m ? publicMessage(m) : null);
    switch (action.kind) {
      case 'react':
        return changed(
          await this.history.updateMessage(action.messageId, (m) => applyReaction(m, { emoji: action.emoji, senderId: this.ctx.meId ?? '', timestamp: Math.floor(Date.now() / 1000) })),
        );
      case 'edit':
        return changed(
          await this.history.updateMessage(action.messageId, (m) => ({ ...m, body: m.type === 'CHAT' ? action.content : m.body, caption: m.type === 'CHAT' ? m.caption : action.content, edited: true })),
        );
      case 'delete':
        if (!action.forEveryone) return null;
        return changed(await this.history.updateMessage(action.messageId, (m) => ({ ...m, type: 'REVOKED', body: null, caption: null, media: null })));
      case 'forward': {
        const sent = result as WAMessage | undefined;
        const outcome = sent?.key ? mapUpsert(sent, this.ctx) : null;
        if (!sent || outcome?.kind !== 'message') return null;
        await this.history.saveMessages([{ message: outcome.message, raw: JSON.stringify(sent, this.deps.lib.BufferJSON.replacer), unread: false }]);
        return publicMessage(outcome.message);
      }
      case 'markUnread':
        await this.deps.sql.run(`UPDATE baileys_chats SET unread_count = CASE WHEN unread_count > 0 THEN unread_count ELSE 1 END WHERE session_id = $1 AND chat_id = $2`, [
          this.sessionId,
          action.chatId,
        ]);
        return null;
      default:
        return null;
    }
  }

  async getMedia(messageId: string): Promise<EngineMediaBytes> {
    const sock = this.ready();
    const found = await this.history.getMessage(messageId);
    const raw = found?.raw ? this.parseRaw(found.raw) : null;
    if (!found || !raw) throw new EngineError('VALIDATION_ERROR', `message '${messageId}' is not known to this session`, { messageId });
    if (!found.message.media) throw new EngineError('VALIDATION_ERROR', `message '${messageId}' has no media`, { messageId });
    try {
      const data = await this.deps.lib.downloadMediaMessage(raw, 'buffer', {}, { logger: baileysLogger(this.log), reuploadRequest: (m) => sock.updateMediaMessage(m) });
      return { data, mimetype: found.message.media.mimetype, filename: found.message.media.filename ?? null };
    } catch (error) {
      throw new EngineError('ENGINE_ERROR', `Baileys could not download the media: ${(error as Error).message}`, { messageId });
    }
  }

  getChats(): Promise<EngineChat[]> {
    return this.history.chats();
  }

  async getChat(chatId: string): Promise<EngineChat | null> {
    toJid(chatId);
    return this.history.chat(canonicalId(chatId, this.lids));
  }

  async getMessages(chatId: string, options: { limit: number; before?: string | null }): Promise<EngineMessage[]> {
    toJid(chatId);
    return this.history.messages(canonicalId(chatId, this.lids), options.limit, options.before ?? null);
  }

  getContacts(): Promise<EngineContact[]> {
    return this.history.contacts();
  }

  async getContact(contactId: string): Promise<EngineContact | null> {
    toUserJid(contactId);
    return this.history.contact(canonicalId(contactId, this.lids));
  }

  async getGroupParticipants(groupId: string): Promise<GroupParticipantInfo[] | null> {
    const jid = toGroupJid(groupId);
    const sock = this.ready();
    try {
      const meta = await sock.groupMetadata(jid);
      return meta.participants
        .map((p) => ({ id: fromJid(p.phoneNumber ?? p.id, this.lids) ?? fromJid(p.id, this.lids), isAdmin: Boolean(p.admin) }))
        .filter((p): p is GroupParticipantInfo => p.id !== null);
    } catch (error) {
      const code = (error as { output?: { statusCode?: number } }).output?.statusCode;
      if (code === 404 || code === 403) return null;
      throw new EngineError('ENGINE_ERROR', `Baileys groupMetadata failed: ${(error as Error).message}`, {});
    }
  }

  async createGroup(name: string, participants: string[], description?: string | null): Promise<CreateGroupResult> {
    const jids = participants.map(toUserJid);
    const sock = this.ready();
    const meta = (await this.call(sock, { method: 'groupCreate', args: [name, jids] } as unknown as SocketCall)) as Awaited<ReturnType<WASocket['groupCreate']>>;
    if (description) await sock.groupUpdateDescription(meta.id, description).catch((error: unknown) => this.log.warn('group description not set', { err: String(error) }));
    const inGroup = new Set(meta.participants.map((p) => fromJid(p.phoneNumber ?? p.id, this.lids)));
    return { gid: meta.id, participants: participants.map((id) => ({ id, status: inGroup.has(id) ? 200 : 403 })) };
  }

  private async changeParticipants(groupId: string, participants: string[], action: 'add' | 'remove'): Promise<ParticipantResult[]> {
    const jid = toGroupJid(groupId);
    const jids = participants.map(toUserJid);
    const sock = this.ready();
    const results = (await this.call(sock, { method: 'groupParticipantsUpdate', args: [jid, jids, action] } as unknown as SocketCall)) as Awaited<
      ReturnType<WASocket['groupParticipantsUpdate']>
    >;
    return results.map((r, i) => ({ id: fromJid(r.jid, this.lids) ?? participants[i]!, status: Number(r.status) || 500 }));
  }

  addParticipants(groupId: string, participants: string[]): Promise<ParticipantResult[]> {
    return this.changeParticipants(groupId, participants, 'add');
  }

  removeParticipants(groupId: string, participants: string[]): Promise<ParticipantResult[]> {
    return this.changeParticipants(groupId, participants, 'remove');
  }

  async markChatRead(chatId: string): Promise<void> {
    toJid(chatId);
    chatId = canonicalId(chatId, this.lids);
    const sock = this.ready();
    const unread = await this.history.newest(chatId, 20, true);
    const keys = unread.map((m) => (m.raw ? this.parseRaw(m.raw)?.key : null)).filter((k): k is NonNullable<WAMessage['key']> => Boolean(k));
    if (keys.length) await this.call(sock, { method: 'readMessages', args: [keys] } as unknown as SocketCall);
    await this.history.markRead(chatId);
  }

  // ---- contacts, profiles, group administration, calls ---------------------------------------------------

  /** A socket call whose refusals map through `table` (account.ts). */
  private async ask<T>(method: string, run: () => Promise<T>, table?: Parameters<typeof socketError>[2], details?: Record<string, unknown>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw socketError(method, error, table, details);
    }
  }

  async checkNumber(number: string): Promise<NumberCheck> {
    const jid = toUserJid(number);
    const sock = this.ready();
    const found = await this.ask('onWhatsApp', () => sock.onWhatsApp(jid));
    const hit = found?.find((r) => r.exists);
    const id = hit ? fromJid(hit.jid, this.lids) : null;
    return id ? { exists: true, id } : { exists: false, id: null };
  }

  /** While the socket waits for its login (a QR shown), the phone can enter a code instead of scanning. */
  async requestPairingCode(phoneNumber: string): Promise<string> {
    const sock = this.sock;
    if (!sock || this.phase !== 'connecting' || this.auth?.state.creds.registered) {
      throw new EngineError('VALIDATION_ERROR', 'the session is not waiting for a login', { sessionId: this.sessionId });
    }
    const digits = phoneNumber.replace(/\D/g, '');
    return formatPairingCode(await this.ask('requestPairingCode', () => sock.requestPairingCode(digits)));
  }

  private async metadata(sock: WASocket, jid: string): Promise<GroupMetadata> {
    const meta = await this.ask('groupMetadata', () => sock.groupMetadata(jid), GROUP_ERRORS, { groupId: jid });
    for (const [lid, phone] of lidPairs(meta)) this.lids.set(lid, phone);
    return meta;
  }

  async getGroup(groupId: string): Promise<EngineGroup | null> {
    const jid = toGroupJid(groupId);
    const sock = this.ready();
    try {
      return mapGroupMetadata(await this.metadata(sock, jid), this.lids);
    } catch (error) {
      // Not a member (403) or no such group (404): the account knows no such group.
      if (error instanceof EngineError && (error.code === 'INVALID_CHAT_ID' || error.code === 'NOT_GROUP_ADMIN')) return null;
      throw error;
    }
  }

  async groupAction(groupId: string, action: GroupAction): Promise<GroupActionResult> {
    const jid = toGroupJid(groupId);
    const sock = this.ready();
    const details = { groupId };
    const group = async () => mapGroupMetadata(await this.metadata(sock, jid), this.lids);
    switch (action.kind) {
      case 'subject':
        await this.ask('groupUpdateSubject', () => sock.groupUpdateSubject(jid, action.subject), GROUP_ERRORS, details);
        return { group: await group() };
      case 'description':
        // An empty description removes it (Baileys: no description).
        await this.ask('groupUpdateDescription', () => sock.groupUpdateDescription(jid, action.description || undefined), GROUP_ERRORS, details);
        return { group: await group() };
      case 'settings':
        if (action.announce != null) {
          const setting = action.announce ? 'announcement' : 'not_announcement';
          await this.ask('groupSettingUpdate', () => sock.groupSettingUpdate(jid, setting), GROUP_ERRORS, details);
        }
        if (action.restrict != null) {
          const setting = action.restrict ? 'locked' : 'unlocked';
          await this.ask('groupSettingUpdate', () => sock.groupSettingUpdate(jid, setting), GROUP_ERRORS, details);
        }
        return { group: await group() };
      case 'promote':
      case 'demote': {
        const jids = action.participants.map((p) => toUserJid(canonicalId(p, this.lids)));
        const results = await this.ask('groupParticipantsUpdate', () => sock.groupParticipantsUpdate(jid, jids, action.kind), GROUP_ERRORS, details);
        const participants = action.participants.map((id, i) => ({ id, status: Number(results[i]?.status) || 500 }));
        return { group: await group(), participants };
      }
      case 'inviteLink': {
        const link = inviteLink(await this.ask('groupInviteCode', () => sock.groupInviteCode(jid), GROUP_ERRORS, details), 'groupInviteCode');
        return { group: await group(), link };
      }
      case 'revokeInviteLink': {
        const link = inviteLink(await this.ask('groupRevokeInvite', () => sock.groupRevokeInvite(jid), GROUP_ERRORS, details), 'groupRevokeInvite');
        return { group: await group(), link };
      }
      case 'leave':
        await this.ask('groupLeave', () => sock.groupLeave(jid), GROUP_ERRORS, details);
        return { group: null };
    }
  }

  async joinGroup(link: string): Promise<string> {
    const sock = this.ready();
    const gid = await this.ask('groupAcceptInvite', () => sock.groupAcceptInvite(inviteCode(link)), INVITE_ERRORS, { link });
    const id = fromJid(gid, this.lids);
    if (!id || !isGroupJid(id)) throw new EngineError('ENGINE_ERROR', 'Baileys joined but answered no group id', { link });
    return id;
  }

  async getProfile(contactId: string): Promise<EngineProfile> {
    const id = canonicalId(contactId, this.lids);
    const jid = toUserJid(id);
    const sock = this.ready();
    // As on open-wa: what WhatsApp will not tell (a hidden about or picture) is shown as none.
    const [status, picture, blocked] = await Promise.all([
      sock.fetchStatus(jid).catch(() => undefined),
      sock.profilePictureUrl(jid, 'preview').catch(() => undefined),
      sock.fetchBlocklist().catch(() => [] as (string | undefined)[]),
    ]);
    const about = (status?.[0]?.status as { status?: unknown } | undefined)?.status;
    return {
      about: typeof about === 'string' && about ? about : null,
      hasPicture: typeof picture === 'string' && picture.length > 0,
      isBlocked: blocked.some((b) => fromJid(b, this.lids) === id),
    };
  }

  async getProfilePicture(contactId: string): Promise<EngineMediaBytes | null> {
    const jid = toUserJid(canonicalId(contactId, this.lids));
    const sock = this.ready();
    let url: string | undefined;
    try {
      url = await sock.profilePictureUrl(jid, 'image');
    } catch (error) {
      // No picture, or one hidden from this account.
      if ([401, 403, 404].includes(statusOf(error) ?? 0)) return null;
      throw socketError('profilePictureUrl', error, {}, { contactId });
    }
    if (!url) return null;
    // WhatsApp's CDN URL: fetched here so callers get the bytes through the gateway's own route.
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.deps.settings.connectTimeoutMs) });
      if (res.status === 404 || res.status === 410) return null;
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return { data: Buffer.from(await res.arrayBuffer()), mimetype: res.headers.get('content-type') ?? 'image/jpeg', filename: null };
    } catch (error) {
      throw new EngineError('ENGINE_ERROR', `could not fetch the profile picture: ${(error as Error).message}`, { contactId });
    }
  }

  async accountAction(action: AccountAction): Promise<void> {
    const sock = this.ready();
    switch (action.kind) {
      case 'block':
      case 'unblock': {
        const jid = toUserJid(canonicalId(action.contactId, this.lids));
        await this.ask('updateBlockStatus', () => sock.updateBlockStatus(jid, action.kind), {}, { contactId: action.contactId });
        return;
      }
      case 'setName':
        await this.ask('updateProfileName', () => sock.updateProfileName(action.name));
        return;
      case 'setAbout':
        await this.ask('updateProfileStatus', () => sock.updateProfileStatus(action.about));
        return;
      case 'setPicture': {
        const me = this.auth?.state.creds.me?.id;
        if (!me) throw new EngineError('SESSION_NOT_READY', 'the session has no account yet', { sessionId: this.sessionId });
        await this.ask('updateProfilePicture', () => sock.updateProfilePicture(me, action.data));
        return;
      }
      case 'rejectCall': {
        const caller = this.calls.get(action.callId);
        if (!caller) throw new EngineError('NOT_FOUND', `No call '${action.callId}' is ringing`, { callId: action.callId });
        await this.ask('rejectCall', () => sock.rejectCall(action.callId, caller), {}, { callId: action.callId });
        this.calls.delete(action.callId);
        if (action.message) await this.send({ chatId: fromJid(caller, this.lids) ?? caller, content: { kind: 'text', text: action.message } });
        return;
      }
    }
  }
}

function socketIsClosed(sock: WASocket): boolean {
  const ws = (sock as { ws?: { isClosed?: boolean } }).ws;
  return !ws || ws.isClosed !== false;
}

/** Baileys logs pino-style (`fields, message`); its chatter goes to debug, its warnings and errors to warn. */
function baileysLogger(log: Logger) {
  const write =
    (level: 'debug' | 'warn') =>
    (a: unknown, b?: unknown): void => {
      const msg = typeof a === 'string' ? a : typeof b === 'string' ? b : 'baileys';
      const err = a && typeof a === 'object' ? ((a as { err?: unknown; trace?: unknown }).err ?? (a as { trace?: unknown }).trace) : undefined;
      const text = err instanceof Error ? err.message : String(err ?? '').split('\n')[0];
      log[level](msg, { source: 'baileys', ...(text ? { err: text.slice(0, 500) } : {}) });
    };
  const logger = {
    level: 'debug',
    child: () => logger,
    trace: () => undefined,
    debug: write('debug'),
    info: write('debug'),
    warn: write('warn'),
    error: write('warn'),
  };
  return logger;
}
