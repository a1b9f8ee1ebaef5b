// The live event log of the selected session: the `events` subscription, newest first, the last 200.

import { $, el } from './dom.js';
import type { WsClient } from './ws.js';

interface SessionEvent {
  type: string;
  at: string;
  message?: { chatId: string; fromMe: boolean; body: string | null; type: string };
  messageId?: string;
  ack?: string;
  status?: string;
  reason?: string | null;
  disconnectReason?: string;
  qr?: { expiresAt: string };
  me?: { id: string };
  groupId?: string;
  participants?: string[];
  chatId?: string;
  reaction?: { emoji: string; senderId: string };
  options?: string[];
  voter?: string;
  presence?: string;
  contactId?: string;
}

const EVENT_FIELDS = `type at
  ... on MessageEvent { message { chatId fromMe body type } }
  ... on AckEvent { messageId ack }
  ... on StatusEvent { status reason }
  ... on QrEvent { qr { expiresAt } }
  ... on ReadyEvent { me { id } }
  ... on DisconnectedEvent { disconnectReason: reason }
  ... on GroupJoinEvent { groupId participants }
  ... on GroupLeaveEvent { groupId participants }
  ... on ReactionEvent { messageId chatId reaction { emoji senderId } }
  ... on MessageEditedEvent { message { chatId fromMe body type } }
  ... on MessageRevokedEvent { messageId chatId }
  ... on PollVoteEvent { messageId voter options }
  ... on PresenceEvent { contactId presence }`;

const KEEP = 200;

function summary(e: SessionEvent): string {
  switch (e.type) {
    case 'MESSAGE':
      return `${e.message!.fromMe ? 'to' : 'from'} ${e.message!.chatId}: ${e.message!.body ?? `[${e.message!.type.toLowerCase()}]`}`;
    case 'ACK':
      return `${e.ack} ${e.messageId}`;
    case 'STATUS':
      return `${e.status}${e.reason ? ` (${e.reason})` : ''}`;
    case 'QR':
      return `new QR code, expires ${new Date(e.qr!.expiresAt).toLocaleTimeString()}`;
    case 'READY':
      return `logged in as ${e.me!.id}`;
    case 'DISCONNECTED':
      return e.disconnectReason ?? '';
    case 'REACTION':
      return `${e.reaction!.senderId} ${e.reaction!.emoji ? `reacted ${e.reaction!.emoji}` : 'took a reaction back'} on ${e.messageId}`;
    case 'MESSAGE_EDITED':
      return `edited in ${e.message!.chatId}: ${e.message!.body ?? ''}`;
    case 'MESSAGE_REVOKED':
      return `deleted for everyone in ${e.chatId}: ${e.messageId}`;
    case 'POLL_VOTE':
      return `${e.voter} voted ${e.options!.length ? e.options!.join(', ') : '(taken back)'} on ${e.messageId}`;
    case 'PRESENCE':
      return `${e.contactId} ${e.presence!.toLowerCase()}`;
    case 'GROUP_JOIN':
    case 'GROUP_LEAVE':
      return `${e.groupId}: ${e.participants!.join(', ')}`;
    default:
      return '';
  }
}

export class EventLog {
  private sessionId: string | null = null;
  private off: (() => void) | null = null;

  constructor(private readonly ws: WsClient) {
    $('events-clear').addEventListener('click', () => $('event-log').replaceChildren());
  }

  open(sessionId: string): void {
    if (this.sessionId === sessionId) return;
    this.close();
    this.sessionId = sessionId;
    this.off = this.ws.subscribe<{ events: SessionEvent }>(`subscription($id: String!) { events(sessionId: $id) { ${EVENT_FIELDS} } }`, { id: sessionId }, {
      next: ({ events }) => this.add(events),
      error: (message) => this.add({ type: 'ERROR', at: new Date().toISOString(), reason: message }),
    });
  }

  close(): void {
    this.off?.();
    this.off = null;
    this.sessionId = null;
    $('event-log').replaceChildren();
  }

  private add(e: SessionEvent): void {
    const log = $('event-log');
    const li = el('li');
    li.dataset.type = e.type;
    const at = el('time', new Date(e.at).toLocaleTimeString(), 'muted');
    at.dateTime = e.at;
    li.append(at, el('span', e.type, `pill event ${e.type}`), el('span', e.type === 'ERROR' ? (e.reason ?? '') : summary(e), 'summary'));
    log.prepend(li);
    while (log.childElementCount > KEEP) log.lastElementChild!.remove();
  }
}
