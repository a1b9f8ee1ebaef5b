// The chat list and the chat view of a READY session. Sends go out one at a time in the order they were
// typed: the box is cleared on submit, each message shows as pending at once, then sent/delivered/read
// from its acks; a send that fails stays in the view with its text and a Retry button. A file attached to
// the box goes out as an image, video, audio or document (the text as its caption). Media, locations,
// contact cards and polls show inline; reactions, edits, revokes and poll votes arrive live through the
// `events` subscription and change the message they belong to.

import { $, button, el, errorText, shortTimeOf, timeOf } from './dom.js';
import { gql } from './graphql.js';
import { releaseMedia } from './media.js';
import { contentOf, DELETED, MESSAGE_FIELDS, sizeText, summaryOf, type Message, type Poll, type Reaction } from './message-view.js';
import type { WsClient } from './ws.js';

interface ChatRow {
  id: string;
  name: string | null;
  isGroup: boolean;
  unreadCount: number;
  timestamp: number;
  lastMessage: Pick<Message, 'body' | 'caption' | 'type' | 'fromMe' | 'timestamp' | 'filename'> | null;
}

/** The events that change a message already shown. */
type ChangeEvent =
  | { type: 'REACTION'; messageId: string; chatId: string; reaction: Reaction }
  | { type: 'MESSAGE_EDITED'; message: Message }
  | { type: 'MESSAGE_REVOKED'; messageId: string; chatId: string }
  | { type: 'POLL_VOTE'; messageId: string; chatId: string; poll: Poll };

const CHANGE_EVENTS = `subscription($id: String!) { events(sessionId: $id, types: [REACTION, MESSAGE_EDITED, MESSAGE_REVOKED, POLL_VOTE]) { type
  ... on ReactionEvent { messageId chatId reaction { emoji senderId } }
  ... on MessageEditedEvent { message { ${MESSAGE_FIELDS} } }
  ... on MessageRevokedEvent { messageId chatId }
  ... on PollVoteEvent { messageId chatId poll { name allowMultipleAnswers options { name votes } } }
} }`;

/** The send mutation for a file of this type (the server checks the type and size again). */
function sendMutationFor(type: string): string {
  if (type.startsWith('image/')) return 'sendImage';
  if (type.startsWith('video/')) return 'sendVideo';
  if (type.startsWith('audio/')) return 'sendAudio';
  return 'sendFile';
}

const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];
const REACT = `mutation($input: ReactToMessageInput!) { reactToMessage(input: $input) { message { ${MESSAGE_FIELDS} } } }`;
const EDIT = `mutation($input: EditMessageInput!) { editMessage(input: $input) { message { ${MESSAGE_FIELDS} } } }`;
const DELETE = 'mutation($input: DeleteMessageInput!) { deleteMessage(input: $input) { messageId } }';
const VOTE = `mutation($input: VotePollInput!) { votePoll(input: $input) { message { ${MESSAGE_FIELDS} } } }`;
const REVOKED_FIELDS: Partial<Message> = { type: 'REVOKED', body: null, caption: null, media: null, location: null, vcard: null, poll: null, reactions: [] };

const readAsDataUrl = (file: File) =>
  new Promise<string>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error(`could not read ${file.name}`));
    reader.readAsDataURL(file);
  });

interface Contact {
  id: string;
  name: string | null;
  pushname: string | null;
}

/** Whether `m` is the message `out` sent. */
const sameContent = (out: Outgoing, m: Message) =>
  out.file ? m.media !== null && (m.media.filename ?? m.filename) === out.file.name && (m.caption ?? '') === out.content : m.body === out.content;

/** A typed message on its way: shown at once, sent when the ones before it are. */
interface Outgoing {
  sessionId: string;
  chatId: string;
  content: string;
  /** An attached file (content is then its caption). */
  file: File | null;
  li: HTMLLIElement;
  meta: HTMLElement;
  messageId: string | null;
  failed: boolean;
}

const CHAT_FIELDS = 'id name isGroup unreadCount timestamp lastMessage { body caption type fromMe timestamp filename }';
const ACK_LABEL: Record<string, string> = { PENDING: 'pending', SERVER: 'sent', DEVICE: 'delivered', READ: 'read', PLAYED: 'played', ERROR: 'failed' };
const ACK_RANK: Record<string, number> = { ERROR: -1, PENDING: 0, SERVER: 1, DEVICE: 2, READ: 3, PLAYED: 4 };

const metaText = (m: Message) => `${m.edited && m.type !== 'REVOKED' ? 'edited · ' : ''}${timeOf(m.timestamp)}${m.fromMe && m.ack ? ` · ${ACK_LABEL[m.ack] ?? m.ack.toLowerCase()}` : ''}`;
/** A number typed as digits (with + or spaces) becomes its chat id. */
const chatIdFrom = (typed: string) => (/^[+\d][\d\s-]*$/.test(typed) ? `${typed.replace(/\D/g, '')}@c.us` : typed);

export class ChatPanel {
  private sessionId: string | null = null;
  /** The session's own id (who "my" reaction is from). */
  private me: string | null = null;
  private chats = new Map<string, ChatRow>();
  private contacts = new Map<string, Contact>();
  private openChatId: string | null = null;
  /** Live messages and changes of the open chat that arrived before its history did. */
  private early: (() => void)[] | null = null;
  private subs: (() => void)[] = [];
  private readonly shown = new Map<string, { message: Message; li: HTMLLIElement; meta: HTMLElement }>();
  private readonly outbox: Outgoing[] = [];
  /** Acks of sent messages not shown under their id yet (the ack can beat the send's answer). */
  private readonly earlyAcks = new Map<string, string>();
  private sending = false;
  private markReadTimer: ReturnType<typeof setTimeout> | null = null;
  /** The file attached to the message box, sent with the next submit. */
  private attached: File | null = null;
  /** Whether the message list is scrolled to its end (where it stays as images and players load). */
  private atBottom = true;

  constructor(private readonly ws: WsClient) {
    $('send-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    const picker = $<HTMLInputElement>('send-file');
    $('attach').addEventListener('click', () => picker.click());
    picker.addEventListener('change', () => {
      this.attach(picker.files?.[0] ?? null);
      picker.value = '';
      $('send-text').focus();
    });
    const list = $('messages');
    list.addEventListener('scroll', () => (this.atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 48));
    // load and loadedmetadata do not bubble: caught on their way down.
    for (const type of ['load', 'loadedmetadata']) list.addEventListener(type, () => this.keepAtBottom(), true);
    $('attachment-remove').addEventListener('click', () => {
      this.attach(null);
      $('send-text').focus();
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
  open(sessionId: string, me: string | null): void {
    this.me = me;
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
      this.ws.subscribe<{ events: ChangeEvent }>(CHANGE_EVENTS, { id: sessionId }, { next: ({ events }) => this.onChange(events) }),
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
    this.attach(null);
    releaseMedia();
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
    for (const chat of rows) items.push(this.chatItem(chat.id, chat.lastMessage ? `${chat.lastMessage.fromMe ? 'You: ' : ''}${summaryOf(chat.lastMessage)}` : '', chat.unreadCount, chat.lastMessage?.timestamp ?? null));
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
    releaseMedia();
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
        for (const apply of early) apply();
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
    if (this.early) this.early.push(() => this.addMessage(m));
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
    // A message we sent that comes back before its send answered: it is the first pending one with its content.
    const pending = m.fromMe ? this.outbox.find((o) => o.sessionId === this.sessionId && o.chatId === m.chatId && !o.messageId && !o.failed && sameContent(o, m)) : undefined;
    if (pending) {
      pending.messageId = m.id;
      this.settle(pending, m);
      return;
    }
    const li = el('li', undefined, m.fromMe ? 'out' : 'in');
    const meta = el('span', metaText(m), 'meta');
    this.register(li, meta, m);
    this.draw(m.id);
    // Received messages go above the sends still waiting, as in a phone's chat.
    const list = $('messages');
    const firstWaiting = list.querySelector('li.pending, li.failed');
    list.insertBefore(li, firstWaiting);
    list.scrollTop = list.scrollHeight;
  }

  private register(li: HTMLLIElement, meta: HTMLElement, m: Message): void {
    li.dataset.messageId = m.id;
    if (m.ack) li.dataset.ack = m.ack.toLowerCase();
    this.shown.set(m.id, { message: { ...m, reactions: [...m.reactions] }, li, meta });
    const early = this.earlyAcks.get(m.id);
    if (early) {
      this.earlyAcks.delete(m.id);
      this.onAck(m.id, early);
    }
  }

  /** (Re)draws a shown message from its current state. */
  private draw(messageId: string): void {
    const shown = this.shown.get(messageId);
    if (!shown) return;
    const { message: m, li, meta } = shown;
    li.dataset.type = m.type.toLowerCase();
    li.classList.toggle('edited', m.edited && m.type !== 'REVOKED');
    li.classList.toggle('revoked', m.type === 'REVOKED');
    meta.textContent = metaText(m);
    li.replaceChildren(...contentOf(m), ...(m.type === 'REVOKED' ? [] : [this.actionsFor(m)]), meta);
    this.keepAtBottom();
  }

  /** React, vote, edit and delete: a disclosure in the bubble (a keyboard reaches it like any button). */
  private actionsFor(m: Message): HTMLElement {
    const menu = el('details', undefined, 'message-actions');
    const summary = el('summary', '⋯');
    summary.setAttribute('aria-label', 'Message actions');
    const row = el('span', undefined, 'action-row');
    const mine = m.reactions.find((r) => r.senderId === this.me)?.emoji;
    for (const emoji of QUICK_REACTIONS) {
      const react = button(emoji, () => void this.react(m.id, mine === emoji ? '' : emoji), 'small reaction-button');
      react.setAttribute('aria-label', mine === emoji ? `Take back ${emoji}` : `React ${emoji}`);
      react.setAttribute('aria-pressed', String(mine === emoji));
      row.append(react);
    }
    for (const option of m.poll?.options ?? []) row.append(button(`Vote ${option.name}`, () => void this.vote(m.id, option.name), 'small'));
    if (m.fromMe && m.type === 'CHAT') row.append(button('Edit', () => void this.edit(m.id), 'small'));
    if (m.fromMe) row.append(button('Delete for everyone', () => void this.remove(m.id, true), 'small danger'));
    row.append(button('Delete for me', () => void this.remove(m.id, false), 'small danger'));
    menu.append(summary, row);
    return menu;
  }

  /** One message action; a refusal shows under the chat. */
  private async act<T>(query: string, input: Record<string, unknown>): Promise<T | null> {
    $('chat-error').textContent = '';
    try {
      return await gql<T>(query, { input: { sessionId: this.sessionId, ...input } });
    } catch (error) {
      $('chat-error').textContent = errorText(error);
      return null;
    }
  }

  /** The message as an action answered it. */
  private update(messageId: string, changes: Partial<Message>): void {
    const shown = this.shown.get(messageId);
    if (!shown) return;
    Object.assign(shown.message, changes);
    this.draw(messageId);
  }

  private async react(messageId: string, emoji: string): Promise<void> {
    const answer = await this.act<{ reactToMessage: { message: Message } }>(REACT, { messageId, emoji });
    if (answer) this.update(messageId, { reactions: answer.reactToMessage.message.reactions });
  }

  private async vote(messageId: string, option: string): Promise<void> {
    const answer = await this.act<{ votePoll: { message: Message } }>(VOTE, { messageId, options: [option] });
    if (answer?.votePoll.message.poll) this.update(messageId, { poll: answer.votePoll.message.poll });
  }

  private async edit(messageId: string): Promise<void> {
    const shown = this.shown.get(messageId);
    const content = prompt('Change the text to', shown?.message.body ?? '');
    if (!shown || content === null || !content.trim() || content === shown.message.body) return;
    const answer = await this.act<{ editMessage: { message: Message } }>(EDIT, { messageId, content });
    if (answer) this.update(messageId, { body: answer.editMessage.message.body, edited: true });
  }

  private async remove(messageId: string, forEveryone: boolean): Promise<void> {
    if (!confirm(forEveryone ? 'Delete this message for everyone in the chat?' : 'Delete this message from this session only?')) return;
    if (!(await this.act(DELETE, { messageId, forEveryone }))) return;
    if (forEveryone) this.update(messageId, REVOKED_FIELDS);
    else {
      this.shown.get(messageId)?.li.remove();
      this.shown.delete(messageId);
    }
  }

  private keepAtBottom(): void {
    const list = $('messages');
    if (this.atBottom) list.scrollTop = list.scrollHeight;
  }

  /** A reaction, an edit, a revoke or a poll vote on a message of this session. */
  private onChange(e: ChangeEvent): void {
    const messageId = e.type === 'MESSAGE_EDITED' ? e.message.id : e.messageId;
    const chatId = e.type === 'MESSAGE_EDITED' ? e.message.chatId : e.chatId;
    if (e.type === 'MESSAGE_REVOKED' || e.type === 'MESSAGE_EDITED') this.changeLastMessage(chatId, messageId, e.type === 'MESSAGE_EDITED' ? e.message : null);
    if (chatId !== this.openChatId) return;
    if (this.early) {
      this.early.push(() => this.onChange(e));
      return;
    }
    const shown = this.shown.get(messageId);
    if (!shown) return;
    const m = shown.message;
    switch (e.type) {
      case 'REACTION':
        m.reactions = m.reactions.filter((r) => r.senderId !== e.reaction.senderId);
        if (e.reaction.emoji) m.reactions.push(e.reaction);
        break;
      case 'MESSAGE_EDITED':
        Object.assign(m, { body: e.message.body, caption: e.message.caption, edited: true });
        break;
      case 'MESSAGE_REVOKED':
        Object.assign(m, REVOKED_FIELDS);
        break;
      case 'POLL_VOTE':
        m.poll = e.poll;
        break;
    }
    this.draw(messageId);
  }

  /** The chat list shows an edit or a revoke of a chat's last message (known by its time and sender only). */
  private changeLastMessage(chatId: string, messageId: string, edited: Message | null): void {
    const row = this.chats.get(chatId);
    const shown = this.shown.get(messageId)?.message;
    const last = row?.lastMessage;
    if (!row || !last || !shown || last.timestamp !== shown.timestamp || last.fromMe !== shown.fromMe) return;
    row.lastMessage = edited ? { ...last, body: edited.body, caption: edited.caption } : { ...last, type: 'REVOKED', body: DELETED, caption: null };
    this.renderList();
  }

  private attach(file: File | null): void {
    this.attached = file;
    const chip = $('attachment');
    chip.hidden = !file;
    $('attachment-name').textContent = file ? `${file.name} (${sizeText(file.size)})` : '';
    $<HTMLInputElement>('send-text').placeholder = file ? 'Add a caption (optional)' : 'Type a message';
  }

  private submit(): void {
    const input = $<HTMLInputElement>('send-text');
    const content = input.value;
    const file = this.attached;
    if (!this.sessionId || !this.openChatId || (!content.trim() && !file)) return;
    input.value = '';
    this.attach(null);
    $('chat-error').textContent = '';
    const li = el('li', undefined, 'out pending');
    if (file) li.append(el('span', `${file.name} (${sizeText(file.size)})`, 'attachment-pending'));
    if (content) li.append(el('span', content, 'text'));
    const meta = el('span', 'pending', 'meta');
    li.append(meta);
    const out: Outgoing = { sessionId: this.sessionId, chatId: this.openChatId, content, file, li, meta, messageId: null, failed: false };
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
          const message = out.file ? await this.sendFile(out, out.file) : await this.sendText(out);
          out.messageId ??= message.id;
          this.settle(out, message);
        } catch (error) {
          this.fail(out, error);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  private async sendText(out: Outgoing): Promise<Message> {
    const { sendText } = await gql<{ sendText: { message: Message } }>(
      `mutation($input: SendTextInput!) { sendText(input: $input) { message { ${MESSAGE_FIELDS} } } }`,
      { input: { sessionId: out.sessionId, chatId: out.chatId, content: out.content } },
    );
    return sendText.message;
  }

  private async sendFile(out: Outgoing, file: File): Promise<Message> {
    const mutation = sendMutationFor(file.type);
    const data = await readAsDataUrl(file);
    const input = { sessionId: out.sessionId, chatId: out.chatId, data, filename: file.name, ...(out.content.trim() ? { caption: out.content } : {}) };
    const answer = await gql<Record<string, { message: Message }>>(`mutation($input: SendMediaInput!) { ${mutation}(input: $input) { message { ${MESSAGE_FIELDS} } } }`, { input });
    return answer[mutation]!.message;
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
    if (this.sessionId === out.sessionId && this.openChatId === out.chatId) {
      this.register(out.li, out.meta, m);
      // A file shows as what it became (the image inline ...), and every message gets its actions.
      this.draw(m.id);
    }
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
