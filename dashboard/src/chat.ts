// The chat list and the chat view of a READY session. Sends go out one at a time in the order they were
// typed: the box is cleared on submit, each message shows as pending at once, then sent/delivered/read
// from its acks; a send that fails stays in the view with its text and a Retry button.

import { $, button, el, errorText, shortTimeOf, timeOf } from './dom.js';
import { gql } from './graphql.js';
import type { WsClient } from './ws.js';

export interface Message {
  id: string;
  chatId: string;
  body: string | null;
  caption: string | null;
  type: string;
  fromMe: boolean;
  timestamp: number;
  ack: string | null;
}

interface ChatRow {
  id: string;
  name: string | null;
  isGroup: boolean;
  unreadCount: number;
  timestamp: number;
  lastMessage: Pick<Message, 'body' | 'caption' | 'type' | 'fromMe' | 'timestamp'> | null;
}

interface Contact {
  id: string;
  name: string | null;
  pushname: string | null;
}

/** A typed message on its way: shown at once, sent when the ones before it are. */
interface Outgoing {
  sessionId: string;
  chatId: string;
  content: string;
  li: HTMLLIElement;
  meta: HTMLElement;
  messageId: string | null;
  failed: boolean;
}

const MESSAGE_FIELDS = 'id chatId body caption type fromMe timestamp ack';
const CHAT_FIELDS = 'id name isGroup unreadCount timestamp lastMessage { body caption type fromMe timestamp }';
const ACK_LABEL: Record<string, string> = { PENDING: 'pending', SERVER: 'sent', DEVICE: 'delivered', READ: 'read', PLAYED: 'played', ERROR: 'failed' };
const ACK_RANK: Record<string, number> = { ERROR: -1, PENDING: 0, SERVER: 1, DEVICE: 2, READ: 3, PLAYED: 4 };

const textOf = (m: Pick<Message, 'body' | 'caption' | 'type'>) => m.body ?? m.caption ?? `[${m.type.toLowerCase()}]`;
const metaText = (m: Message) => `${timeOf(m.timestamp)}${m.fromMe && m.ack ? ` · ${ACK_LABEL[m.ack] ?? m.ack.toLowerCase()}` : ''}`;
/** A number typed as digits (with + or spaces) becomes its chat id. */
const chatIdFrom = (typed: string) => (/^[+\d][\d\s-]*$/.test(typed) ? `${typed.replace(/\D/g, '')}@c.us` : typed);

export class ChatPanel {
  private sessionId: string | null = null;
  private chats = new Map<string, ChatRow>();
  private contacts = new Map<string, Contact>();
  private openChatId: string | null = null;
  /** Live messages of the open chat that arrived before its history did. */
  private early: Message[] | null = null;
  private subs: (() => void)[] = [];
  private readonly shown = new Map<string, { message: Message; li: HTMLLIElement; meta: HTMLElement }>();
  private readonly outbox: Outgoing[] = [];
  /** Acks of sent messages not shown under their id yet (the ack can beat the send's answer). */
  private readonly earlyAcks = new Map<string, string>();
  private sending = false;
  private markReadTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly ws: WsClient) {
    $('send-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    $('chat-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const input = $<HTMLInputElement>('chat-id');
      const typed = input.value.trim();
      if (!typed) return;
      input.value = '';
      this.openChat(chatIdFrom(typed));
    });
  }

  /** Shows the chats of this (READY) session, live. */
  open(sessionId: string): void {
    if (this.sessionId === sessionId) return;
    this.close();
    this.sessionId = sessionId;
    $('chat-not-ready').hidden = true;
    $('chat-layout').hidden = false;
    this.subs.push(
      this.ws.subscribe<{ message: Message }>(
        `subscription($id: String!) { message(sessionId: $id) { ${MESSAGE_FIELDS} } }`,
        { id: sessionId },
        { next: ({ message }) => this.onMessage(message), error: (message) => ($('chat-error').textContent = message) },
      ),
      this.ws.subscribe<{ ack: { messageId: string; ack: string } }>(
        'subscription($id: String!) { ack(sessionId: $id) { messageId ack } }',
        { id: sessionId },
        { next: ({ ack }) => this.onAck(ack.messageId, ack.ack) },
      ),
    );
    void this.loadChats(sessionId);
  }

  close(): void {
    for (const off of this.subs) off();
    this.subs = [];
    this.sessionId = null;
    this.openChatId = null;
    this.early = null;
    this.earlyAcks.clear();
    this.chats.clear();
    this.contacts.clear();
    this.shown.clear();
    $('chat-list').replaceChildren();
    $('messages').replaceChildren();
    $('chat-view').hidden = true;
    $('chat-pick').hidden = false;
    $('chat-layout').hidden = true;
    $('chat-not-ready').hidden = false;
  }

  private async loadChats(sessionId: string): Promise<void> {
    try {
      const data = await gql<{ session: { chats: { edges: { node: ChatRow }[] }; contacts: Contact[] } | null }>(
        `query($id: String!) { session(sessionId: $id) { chats(first: 100) { edges { node { ${CHAT_FIELDS} } } } contacts { id name pushname } } }`,
        { id: sessionId },
      );
      if (this.sessionId !== sessionId || !data.session) return;
      for (const { node } of data.session.chats.edges) if (!this.chats.has(node.id)) this.chats.set(node.id, node);
      for (const contact of data.session.contacts) this.contacts.set(contact.id, contact);
      this.renderList();
    } catch (error) {
      $('chat-error').textContent = errorText(error);
    }
  }

  private nameOf(chatId: string): string {
    const contact = this.contacts.get(chatId);
    return this.chats.get(chatId)?.name ?? contact?.name ?? contact?.pushname ?? chatId.replace(/@c\.us$/, '');
  }

  /** Chats, newest first, then the contacts there is no chat with yet. */
  private renderList(): void {
    const list = $('chat-list');
    const items: HTMLLIElement[] = [];
    const rows = [...this.chats.values()].reverse().sort((a, b) => b.timestamp - a.timestamp);
    for (const chat of rows) items.push(this.chatItem(chat.id, chat.lastMessage ? `${chat.lastMessage.fromMe ? 'You: ' : ''}${textOf(chat.lastMessage)}` : '', chat.unreadCount, chat.lastMessage?.timestamp ?? null));
    for (const contact of this.contacts.values()) if (!this.chats.has(contact.id)) items.push(this.chatItem(contact.id, 'no messages yet', 0, null));
    list.replaceChildren(...items);
  }

  private chatItem(chatId: string, last: string, unread: number, at: number | null): HTMLLIElement {
    const li = el('li');
    li.dataset.chatId = chatId;
    const open = el('button', undefined, `chat-item${chatId === this.openChatId ? ' selected' : ''}`);
    open.type = 'button';
    if (chatId === this.openChatId) open.setAttribute('aria-current', 'true');
    const top = el('span', undefined, 'line');
    top.append(el('span', this.nameOf(chatId), 'name'));
    if (at !== null) top.append(el('time', shortTimeOf(at), 'muted'));
    const bottom = el('span', undefined, 'line');
    bottom.append(el('span', last, 'last muted'));
    if (unread > 0) {
      const badge = el('span', String(unread), 'badge');
      badge.setAttribute('aria-label', `${unread} unread`);
      bottom.append(badge);
    }
    open.append(top, bottom);
    open.addEventListener('click', () => this.openChat(chatId));
    li.append(open);
    return li;
  }

  private openChat(chatId: string): void {
    const sessionId = this.sessionId;
    if (!sessionId) return;
    this.openChatId = chatId;
    this.shown.clear();
    this.early = [];
    $('messages').replaceChildren();
    $('chat-error').textContent = '';
    $('chat-view').hidden = false;
    $('chat-pick').hidden = true;
    $('chat-title').textContent = this.nameOf(chatId);
    $('chat-subtitle').textContent = chatId;
    this.renderList();
    gql<{ session: { chat: { messages: { edges: { node: Message }[] } } | null } | null }>(
      `query($id: String!, $chat: String!) { session(sessionId: $id) { chat(chatId: $chat) { messages(last: 50) { edges { node { ${MESSAGE_FIELDS} } } } } } }`,
      { id: sessionId, chat: chatId },
    ).then(
      (data) => {
        if (this.sessionId !== sessionId || this.openChatId !== chatId) return;
        const early = this.early ?? [];
        this.early = null;
        for (const edge of data.session?.chat?.messages.edges ?? []) this.addMessage(edge.node);
        // Sends still on their way to this chat show after its history.
        for (const out of this.outbox) if (out.sessionId === sessionId && out.chatId === chatId && !out.messageId) $('messages').append(out.li);
        for (const message of early) this.addMessage(message);
        this.markRead();
      },
      (error: unknown) => {
        this.early = null;
        $('chat-error').textContent = errorText(error);
      },
    );
    $('send-text').focus();
  }

  private onMessage(m: Message): void {
    const known = this.chats.get(m.chatId);
    const row: ChatRow = known ?? { id: m.chatId, name: null, isGroup: m.chatId.endsWith('@g.us'), unreadCount: 0, timestamp: 0, lastMessage: null };
    row.lastMessage = m;
    row.timestamp = Math.max(row.timestamp, m.timestamp);
    if (!m.fromMe && m.chatId !== this.openChatId) row.unreadCount++;
    // Timestamps are whole seconds: the map's order (the latest message's chat last) breaks ties.
    this.chats.delete(m.chatId);
    this.chats.set(m.chatId, row);
    this.renderList();
    if (m.chatId !== this.openChatId) return;
    if (this.early) this.early.push(m);
    else {
      this.addMessage(m);
      if (!m.fromMe) this.markRead();
    }
  }

  private onAck(messageId: string, ack: string): void {
    const shown = this.shown.get(messageId);
    if (!shown) {
      if (this.outbox.length > 0 && (ACK_RANK[ack] ?? 0) > (ACK_RANK[this.earlyAcks.get(messageId) ?? 'PENDING'] ?? 0)) this.earlyAcks.set(messageId, ack);
      return;
    }
    if ((ACK_RANK[ack] ?? 0) < (ACK_RANK[shown.message.ack ?? 'PENDING'] ?? 0)) return;
    shown.message.ack = ack;
    shown.meta.textContent = metaText(shown.message);
    shown.li.dataset.ack = ack.toLowerCase();
  }

  private addMessage(m: Message): void {
    if (m.chatId !== this.openChatId) return;
    const known = this.shown.get(m.id);
    if (known) {
      if (m.ack) this.onAck(m.id, m.ack);
      return;
    }
    // A message we sent that comes back before its send answered: it is the first pending one with its text.
    const pending = m.fromMe ? this.outbox.find((o) => o.sessionId === this.sessionId && o.chatId === m.chatId && !o.messageId && !o.failed && o.content === m.body) : undefined;
    if (pending) {
      pending.messageId = m.id;
      this.settle(pending, m);
      return;
    }
    const li = el('li', undefined, m.fromMe ? 'out' : 'in');
    li.append(el('span', textOf(m), 'text'));
    const meta = el('span', metaText(m), 'meta');
    li.append(meta);
    this.register(li, meta, m);
    // Received messages go above the sends still waiting, as in a phone's chat.
    const list = $('messages');
    const firstWaiting = list.querySelector('li.pending, li.failed');
    list.insertBefore(li, firstWaiting);
    list.scrollTop = list.scrollHeight;
  }

  private register(li: HTMLLIElement, meta: HTMLElement, m: Message): void {
    li.dataset.messageId = m.id;
    if (m.ack) li.dataset.ack = m.ack.toLowerCase();
    this.shown.set(m.id, { message: { ...m }, li, meta });
    const early = this.earlyAcks.get(m.id);
    if (early) {
      this.earlyAcks.delete(m.id);
      this.onAck(m.id, early);
    }
  }

  private submit(): void {
    const input = $<HTMLInputElement>('send-text');
    const content = input.value;
    if (!this.sessionId || !this.openChatId || !content.trim()) return;
    input.value = '';
    $('chat-error').textContent = '';
    const li = el('li', undefined, 'out pending');
    li.append(el('span', content, 'text'));
    const meta = el('span', 'pending', 'meta');
    li.append(meta);
    const out: Outgoing = { sessionId: this.sessionId, chatId: this.openChatId, content, li, meta, messageId: null, failed: false };
    const list = $('messages');
    list.append(li);
    list.scrollTop = list.scrollHeight;
    this.outbox.push(out);
    void this.pump();
  }

  /** Sends the outbox one message at a time, in order; the server paces them. */
  private async pump(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      for (let out = this.nextToSend(); out; out = this.nextToSend()) {
        try {
          const { sendText } = await gql<{ sendText: { message: Message } }>(
            `mutation($input: SendTextInput!) { sendText(input: $input) { message { ${MESSAGE_FIELDS} } } }`,
            { input: { sessionId: out.sessionId, chatId: out.chatId, content: out.content } },
          );
          out.messageId ??= sendText.message.id;
          this.settle(out, sendText.message);
        } catch (error) {
          this.fail(out, error);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  private nextToSend(): Outgoing | undefined {
    return this.outbox.find((o) => !o.messageId && !o.failed);
  }

  /** The pending line becomes the sent message (or goes, when the message is already shown). */
  private settle(out: Outgoing, m: Message): void {
    const index = this.outbox.indexOf(out);
    // Settled already, by its message arriving before the send's answer: the answer only brings an ack.
    if (index === -1) {
      if (m.ack) this.onAck(m.id, m.ack);
      return;
    }
    this.outbox.splice(index, 1);
    const shown = this.shown.get(m.id);
    if (shown && shown.li !== out.li) {
      out.li.remove();
      if (m.ack) this.onAck(m.id, m.ack);
      return;
    }
    out.li.classList.remove('pending', 'failed');
    out.meta.textContent = metaText(m);
    if (this.sessionId === out.sessionId && this.openChatId === out.chatId) this.register(out.li, out.meta, m);
    if (this.outbox.length === 0) this.earlyAcks.clear();
  }

  private fail(out: Outgoing, error: unknown): void {
    out.failed = true;
    out.li.classList.remove('pending');
    out.li.classList.add('failed');
    out.meta.replaceChildren(
      el('span', `not sent: ${errorText(error)} `),
      button('Retry', () => {
        out.failed = false;
        out.li.classList.replace('failed', 'pending');
        out.meta.textContent = 'pending';
        void this.pump();
      }, 'small'),
    );
  }

  /** The open chat's messages are read (the sender sees READ); a burst of arrivals is one call. */
  private markRead(): void {
    const sessionId = this.sessionId;
    const chatId = this.openChatId;
    if (!sessionId || !chatId || this.markReadTimer) return;
    this.markReadTimer = setTimeout(() => {
      this.markReadTimer = null;
      const row = this.chats.get(chatId);
      if (row) row.unreadCount = 0;
      this.renderList();
      gql('mutation($id: String!, $chat: String!) { markChatRead(sessionId: $id, chatId: $chat) { chatId } }', { id: sessionId, chat: chatId }).catch(() => {});
    }, 300);
  }
}
