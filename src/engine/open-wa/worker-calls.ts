// The engine-interface methods, answered by a running open-wa Client inside the worker.
import type { Client, Message } from '@open-wa/wa-automate-types-only';
import { EngineError, type EngineMessage, type OutgoingContent } from '../engine.js';
import { mediaBytes, mediaError, sendContent, sentFallback } from './send-mapping.js';
import {
  libraryError,
  mapAddParticipants,
  mapChat,
  mapContact,
  mapCreateGroup,
  mapMessage,
  mapRemoveParticipant,
  pageMessages,
  sentMessageId,
  toDataUrl,
  type AddOutcome,
} from './mapping.js';
import type { CallMethod, WorkerCalls } from './protocol.js';

type Handlers = { [M in CallMethod]: (...args: WorkerCalls[M]['args']) => Promise<WorkerCalls[M]['result']> };

// The library brands its id strings (ContactId, ChatId ...); ours are checked plain strings.
const id = (s: string): any => s;

const EARLIER_PAGES = 5;

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

    async act(action) {
      switch (action.kind) {
        case 'vote':
          // The library has no call that votes on a poll.
          throw new EngineError('ENGINE_UNSUPPORTED', 'open-wa cannot vote on polls', { messageId: action.messageId });
        default:
          throw new EngineError('ENGINE_UNSUPPORTED', `open-wa: '${action.kind}' is not supported here`, { kind: action.kind });
      }
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

    async logout() {
      await client.logout();
    },
  };
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
