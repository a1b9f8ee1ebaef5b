// The engine-interface methods, answered by a running open-wa Client inside the worker.
import type { Client, Message } from '@open-wa/wa-automate-types-only';
import { EngineError, type EngineMessage, type MessageAction, type OutgoingContent } from '../engine.js';
import { mediaBytes, mediaError, sendContent, sentFallback } from './send-mapping.js';
import {
  chatIdFromMessageId,
  libraryError,
  mapAdminChange,
  mapGroup,
  mapInviteLink,
  mapJoinGroup,
  mapNumberCheck,
  mapAddParticipants,
  mapChat,
  mapContact,
  mapCreateGroup,
  mapMessage,
  mapRemoveParticipant,
  pageMessages,
  sentMessageId,
  serialized,
  toDataUrl,
  type AddOutcome,
} from './mapping.js';
import type { CallMethod, WorkerCalls } from './protocol.js';

type Handlers = { [M in CallMethod]: (...args: WorkerCalls[M]['args']) => Promise<WorkerCalls[M]['result']> };

// The library brands its id strings (ContactId, ChatId ...); ours are checked plain strings.
const id = (s: string): any => s;

const EARLIER_PAGES = 5;

/** The caller of each call seen (onIncomingCall), for the message a rejection sends back. */
export const seenCalls = new Map<string, string>();

export function clientCalls(client: Client): Handlers {
  /** The sent message as the library stores it, or what we know of it when that lookup fails. */
  async function sentMessage(result: unknown, chatId: string, fallback: Omit<EngineMessage, 'id' | 'chatId'>): Promise<EngineMessage> {
    const messageId = sentMessageId(result, chatId);
    const stored = await client.getMessageById(id(messageId)).catch(() => null);
    if (stored && typeof stored === 'object') return mapMessage(stored);
    return { ...fallback, id: messageId, chatId };
  }

  async function me(): Promise<string> {
    return `${(await client.getHostNumber()).replace(/\D/g, '')}@c.us`;
  }

  const handlers: Handlers = {
    async send({ chatId, content: wire, quotedMessageId }) {
      // Buffers cross the IPC channel as Uint8Arrays.
      const content: OutgoingContent = wire.kind === 'media' ? { ...wire, data: Buffer.from(wire.data) } : wire;
      const quoted = quotedMessageId ? id(quotedMessageId) : undefined;
      const result = await sendContent(client, chatId, content, quoted);
      const from = await me();
      return sentMessage(result, chatId, {
        ...sentFallback(content), from, to: chatId, fromMe: true, timestamp: Math.floor(Date.now() / 1000), author: null,
        ack: 'PENDING', quotedMessageId: quotedMessageId ?? null,
      });
    },

    async getMedia(messageId) {
      const message = await client.getMessageById(id(messageId)).catch(() => null);
      if (!message || typeof message !== 'object') throw new EngineError('MESSAGE_NOT_FOUND', `No message '${messageId}'`, { messageId });
      const mapped = mapMessage(message);
      if (!mapped.media) return null;
      let dataUrl: string;
      try {
        dataUrl = String(await client.decryptMedia(message));
      } catch (error) {
        throw mediaError(error, messageId);
      }
      return mediaBytes(dataUrl, mapped.media.mimetype, mapped.media.filename ?? null);
    },

    async getChats() {
      return (await client.getAllChats()).map(mapChat);
    },

    async getChat(chatId) {
      const chat = await client.getChatById(id(chatId)).catch(() => null);
      return chat && typeof chat === 'object' ? mapChat(chat) : null;
    },

    async getMessages(chatId, { limit, before }) {
      const chat = await client.getChatById(id(chatId)).catch(() => null);
      if (!chat) return [];
      let all: Message[] = await client.getAllMessagesInChat(id(chatId), true, false);
      // Older messages are loaded into the page on demand; fetch more until the page can be filled.
      for (let i = 0; i < EARLIER_PAGES && needsMore(all, limit, before); i++) {
        const earlier = await client.loadEarlierMessages(id(chatId)).catch(() => []);
        if (!earlier?.length) break;
        all = await client.getAllMessagesInChat(id(chatId), true, false);
      }
      return pageMessages(all.map(mapMessage), limit, before);
    },

    async getContacts() {
      return (await client.getAllContacts()).map(mapContact);
    },

    async getContact(contactId) {
      const contact = await client.getContact(id(contactId)).catch(() => null);
      return contact && typeof contact === 'object' ? mapContact(contact) : null;
    },

    async getGroupParticipants(groupId) {
      const chat = await client.getChatById(id(groupId)).catch(() => null);
      if (!chat || !chat.isGroup) return null;
      const [members, admins] = await Promise.all([client.getGroupMembersId(id(groupId)), client.getGroupAdmins(id(groupId))]);
      const adminSet = new Set(admins.map(String));
      return members.map((m) => ({ id: String(m), isAdmin: adminSet.has(String(m)) }));
    },

    async createGroup(name, participants, description) {
      const result = mapCreateGroup(await client.createGroup(name, participants.map(id)), participants);
      if (description) {
        // The group exists either way; a description that did not stick is not worth failing for.
        await client.setGroupDescription(id(result.gid), description).catch(() => false);
      }
      return result;
    },

    async addParticipants(groupId, participants) {
      let outcome: AddOutcome;
      try {
        const result: unknown = await client.addParticipant(id(groupId), participants.map(id));
        outcome = result === true ? true : { message: typeof result === 'string' ? result : 'open-wa did not add the participants' };
      } catch (error) {
        const e = error as Error & { data?: Record<string, number> };
        outcome = { message: e.message, data: e.data };
      }
      return mapAddParticipants(groupId, participants, outcome);
    },

    async removeParticipants(groupId, participants) {
      const chat = await client.getChatById(id(groupId)).catch(() => null);
      if (!chat || !chat.isGroup) throw libraryError('GROUP_DOES_NOT_EXIST', { groupId });
      const members = new Set((await client.getGroupMembersId(id(groupId))).map(String));
      const results = [];
      for (const participant of participants) {
        if (!members.has(participant)) {
          results.push(mapRemoveParticipant(groupId, participant, 'NOT_A_PARTICIPANT'));
          continue;
        }
        let outcome: boolean | string | Error;
        try {
          outcome = (await client.removeParticipant(id(groupId), id(participant))) as boolean | string;
        } catch (error) {
          outcome = error as Error;
        }
        results.push(mapRemoveParticipant(groupId, participant, outcome));
      }
      return results;
    },

    async markChatRead(chatId) {
      const done: unknown = await client.sendSeen(id(chatId));
      if (done !== true) {
        if (typeof done === 'string') throw libraryError(done, { chatId });
        throw new EngineError('INVALID_CHAT_ID', `no chat '${chatId}' on this account`, { chatId });
      }
    },

    act(action) {
      return act(action as MessageAction);
    },

    async checkNumber(number) {
      return mapNumberCheck(await client.checkNumberStatus(id(number)), number);
    },

    async requestPairingCode() {
      throw new EngineError('ENGINE_UNSUPPORTED', 'open-wa takes the phone number only as its linkCode start option', {});
    },

    async getGroup(groupId) {
      const chat = await client.getChatById(id(groupId)).catch(() => null);
      return chat && typeof chat === 'object' ? mapGroup(chat) : null;
    },

    async groupAction(groupId, action) {
      const done = (result: unknown, what: string) => {
        if (result === false || (typeof result === 'string' && !/^https?:/.test(result))) throw libraryError(result === false ? `open-wa could not ${what}` : result, { groupId });
      };
      switch (action.kind) {
        case 'subject':
          done(await client.setGroupTitle(id(groupId), action.subject), 'set the subject');
          break;
        case 'description':
          done(await client.setGroupDescription(id(groupId), action.description), 'set the description');
          break;
        case 'settings':
          if (action.announce != null) done(await client.setGroupToAdminsOnly(id(groupId), action.announce), 'change who sends');
          if (action.restrict != null) done(await client.setGroupEditToAdminsOnly(id(groupId), action.restrict), 'change who edits');
          break;
        case 'promote':
        case 'demote': {
          const members = (await client.getGroupMembersId(id(groupId))).map(String);
          const present = action.participants.filter((p) => members.includes(p));
          let outcome: boolean | string | Error = true;
          if (present.length > 0) {
            try {
              outcome = action.kind === 'promote' ? await client.promoteParticipant(id(groupId), present.map(id)) : await client.demoteParticipant(id(groupId), present.map(id));
            } catch (error) {
              outcome = error as Error;
            }
          }
          const participants = mapAdminChange(groupId, action.participants, members, outcome);
          return { group: await handlers.getGroup(groupId), participants };
        }
        case 'inviteLink':
          return { group: await handlers.getGroup(groupId), link: mapInviteLink(await client.getGroupInviteLink(id(groupId)), groupId) };
        case 'revokeInviteLink':
          done(await client.revokeGroupInviteLink(id(groupId)), 'revoke the invite link');
          return { group: await handlers.getGroup(groupId), link: mapInviteLink(await client.getGroupInviteLink(id(groupId)), groupId) };
        case 'leave':
          done(await client.leaveGroup(id(groupId)), 'leave the group');
          return { group: null };
      }
      return { group: await handlers.getGroup(groupId) };
    },

    async joinGroup(link) {
      return mapJoinGroup(await client.joinGroupViaLink(link), link);
    },

    async getProfile(contactId) {
      const [status, picture, blocked] = await Promise.all([
        client.getStatus(id(contactId)).catch(() => null),
        client.getProfilePicFromServer(id(contactId)).catch(() => null),
        client.getBlockedIds().catch(() => [] as unknown[]),
      ]);
      return {
        about: typeof status?.status === 'string' && status.status ? status.status : null,
        hasPicture: typeof picture === 'string' && /^https?:/.test(picture),
        isBlocked: (blocked as unknown[]).map(String).includes(contactId),
      };
    },

    async getProfilePicture(contactId) {
      const url = await client.getProfilePicFromServer(id(contactId)).catch(() => null);
      if (typeof url !== 'string' || !/^https?:/.test(url)) return null;
      // WhatsApp's CDN URL: fetched here so callers get the bytes through the gateway's own route.
      const res = await fetch(url);
      if (!res.ok) return null;
      return { data: Buffer.from(await res.arrayBuffer()), mimetype: res.headers.get('content-type') ?? 'image/jpeg', filename: null };
    },

    async accountAction(action) {
      let result: unknown;
      switch (action.kind) {
        case 'block':
          result = await client.contactBlock(id(action.contactId));
          break;
        case 'unblock':
          result = await client.contactUnblock(id(action.contactId));
          break;
        case 'setName':
          result = await client.setMyName(action.name);
          break;
        case 'setAbout':
          result = (await client.setMyStatus(action.about)) ?? true;
          break;
        case 'setPicture':
          result = await client.setProfilePic(id(toDataUrl(action.mimetype, action.data)));
          break;
        case 'rejectCall': {
          // Newer open-wa releases have rejectCall(callId); 4.76 only rejects every call (autoReject).
          const reject = (client as unknown as { rejectCall?: (callId: string) => Promise<unknown> }).rejectCall;
          if (!reject) throw new EngineError('ENGINE_UNSUPPORTED', 'this open-wa version cannot reject one call (use the session config rejectCalls)', {});
          result = await reject.call(client, action.callId);
          const caller = seenCalls.get(action.callId);
          seenCalls.delete(action.callId);
          if (result !== false && caller && action.message) await client.sendText(id(caller), id(action.message));
          break;
        }
      }
      if (result === false || typeof result === 'string') throw libraryError(result === false ? `open-wa could not ${action.kind}` : result);
    },

    async logout() {
      await client.logout();
    },
  };

  /** The message as the library has it now (after an action), or null when it has none. */
  async function messageNow(messageId: string): Promise<EngineMessage | null> {
    const stored = await client.getMessageById(id(messageId)).catch(() => null);
    return stored && typeof stored === 'object' ? mapMessage(stored) : null;
  }

  /** `false` (or an error string) from an action method is a failure with the library's words. */
  function done(result: unknown, what: string, details: Record<string, unknown>): void {
    if (result === false || result === null) throw new EngineError('ENGINE_ERROR', `open-wa could not ${what}`, details);
    if (typeof result === 'string' && !/^(true|false)_/.test(result)) throw libraryError(result, details);
  }

  async function act(action: MessageAction): Promise<EngineMessage | null> {
    switch (action.kind) {
      case 'react': {
        done(await client.react(id(action.messageId), action.emoji), 'react to the message', { messageId: action.messageId });
        return messageNow(action.messageId);
      }
      case 'forward': {
        const result = await client.forwardMessages(id(action.chatId), id(action.messageId), false);
        done(result, 'forward the message', { messageId: action.messageId, chatId: action.chatId });
        const sent = Array.isArray(result) ? serialized(result[0]) : null;
        if (!sent) return null;
        // The copy as the library stores it, else the original as what was sent.
        const original = await messageNow(action.messageId);
        if (!original) return messageNow(sent);
        return sentMessage(sent, action.chatId, {
          ...original, from: await me(), to: action.chatId, fromMe: true, timestamp: Math.floor(Date.now() / 1000), author: null, ack: 'PENDING',
          quotedMessageId: null, reactions: [], edited: false,
        });
      }
      case 'delete': {
        const chatId = chatIdFromMessageId(action.messageId);
        if (!chatId) throw new EngineError('NOT_FOUND', `'${action.messageId}' is not a message id`, { messageId: action.messageId });
        await client.deleteMessage(id(chatId), id(action.messageId), !action.forEveryone);
        return action.forEveryone ? messageNow(action.messageId) : null;
      }
      case 'edit': {
        done(await client.editMessage(id(action.messageId), id(action.content)), 'edit the message', { messageId: action.messageId });
        return messageNow(action.messageId);
      }
      case 'presence': {
        const chatId = id(action.chatId);
        const details = { chatId: action.chatId, presence: action.presence };
        if (action.presence === 'TYPING') done(await client.simulateTyping(chatId, true), 'show typing', details);
        else if (action.presence === 'RECORDING') done(await client.simulateRecording(chatId, true), 'show recording', details);
        else if (action.presence === 'PAUSED') {
          await client.simulateTyping(chatId, false);
          await client.simulateRecording(chatId, false);
        } else await client.setPresence(action.presence === 'AVAILABLE');
        return null;
      }
      case 'markUnread':
        done(await client.markAsUnread(id(action.chatId)), 'mark the chat unread', { chatId: action.chatId });
        return null;
      case 'vote':
        throw new EngineError('ENGINE_UNSUPPORTED', 'open-wa cannot vote on polls (the library has no call for it)', { messageId: action.messageId });
    }
  }
  // Whatever the library throws leaves here as an EngineError with our code.
  for (const name of Object.keys(handlers) as CallMethod[]) {
    const handler = handlers[name] as (...args: unknown[]) => Promise<unknown>;
    (handlers as Record<CallMethod, unknown>)[name] = (...args: unknown[]) =>
      handler(...args).catch((error: unknown) => {
        throw libraryError(error);
      });
  }
  return handlers;
}

function needsMore(all: Message[], limit: number, before?: string | null): boolean {
  if (!before) return all.length < limit;
  const index = all.findIndex((m) => m.id === before);
  return index < 0 || index < limit;
}
