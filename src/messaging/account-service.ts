import type {
  AccountAction,
  EngineCall,
  EngineContact,
  EngineGroup,
  EngineMediaBytes,
  EngineProfile,
  EngineSession,
  GroupAction,
  GroupActionResult,
  NumberCheck,
  ParticipantResult,
} from '../engine/engine.js';
import { AppError, validationError } from '../errors.js';
import { mapEngineError, type SessionManager } from '../sessions/session-manager.js';
import { checkText } from '../text-input.js';
import { checkContactId, checkGroupId, isContactId, takesLids } from './chat-id.js';
import { parseMediaDataUrl } from './media.js';
import type { Config } from '../config.js';

const MAX_PARTICIPANTS = 256;
const MAX_SUBJECT = 100;
const MAX_DESCRIPTION = 2048;
const MAX_NAME = 25;
const MAX_ABOUT = 139;
const MAX_LINK = 200;

/**
 * A participant list of createGroup, addParticipants, removeParticipants, promote and demote: the well-formed
 * ids go to the engine; a malformed one gets its own 400 in the answer (in its place), and the call fails only
 * when none is well-formed.
 */
export function splitParticipants(participants: string[]): { valid: string[]; answer: (results: ParticipantResult[]) => ParticipantResult[] } {
  if (participants.length === 0) throw validationError('participants must not be empty', { field: 'participants' });
  if (participants.length > MAX_PARTICIPANTS) throw validationError(`at most ${MAX_PARTICIPANTS} participants at once`, { field: 'participants' });
  const valid = participants.filter(isContactId);
  if (valid.length === 0) {
    throw new AppError('INVALID_CHAT_ID', 'no participant is a valid contact id (like 15550001234@c.us)', {
      field: 'participants',
      participants: participants.map((id) => ({ id, status: 400 })),
    });
  }
  return {
    valid,
    answer: (results) => {
      let next = 0;
      return participants.map((id) => (isContactId(id) ? (results[next++] ?? { id, status: 500 }) : { id, status: 400 }));
    },
  };
}

/** A number as callers write it (digits, +, spaces, dashes, or an id) as the digits of a `@c.us` id. */
export function normalizeNumber(number: string): string {
  const digits = number.replace(/@c\.us$/, '').replace(/[\s+()-]/g, '');
  const id = `${digits}@c.us`;
  if (!isContactId(id)) throw new AppError('INVALID_CHAT_ID', `'${number}' is not a phone number (country code first, like 15550001234)`, { number });
  return id;
}

const groupActionLabels: Record<GroupAction['kind'], string> = {
  subject: 'setGroupSubject',
  description: 'setGroupDescription',
  settings: 'setGroupSettings',
  promote: 'promoteParticipants',
  demote: 'demoteParticipants',
  inviteLink: 'groupInviteLink',
  revokeInviteLink: 'revokeGroupInviteLink',
  leave: 'leaveGroup',
};

/** Group administration, contacts (numbers, profiles, blocks), the own profile and calls: the rules GraphQL and REST share. */
export class AccountService {
  constructor(
    private readonly sessions: SessionManager,
    private readonly config: Config,
  ) {}

  private async engine<T>(sessionId: string, fn: (engine: EngineSession) => Promise<T>): Promise<T> {
    const engine = this.sessions.engineSession(sessionId);
    try {
      return await fn(engine);
    } catch (error) {
      throw mapEngineError(error);
    }
  }

  /** A contact id given for a session: `@lid` ids where its engine takes them. */
  private contactOf(sessionId: string, contactId: string): string {
    return checkContactId(contactId, 'contactId', takesLids(this.sessions.require(sessionId).engine));
  }

  async checkNumber(sessionId: string, number: string): Promise<NumberCheck & { number: string }> {
    this.sessions.require(sessionId);
    const id = normalizeNumber(number);
    const found = await this.engine(sessionId, (e) => e.checkNumber(id));
    return { number: id.replace(/@c\.us$/, ''), ...found };
  }

  async group(sessionId: string, groupId: string): Promise<EngineGroup | null> {
    if (!groupId.endsWith('@g.us')) return null;
    return this.engine(sessionId, (e) => e.getGroup(groupId));
  }

  async groupAction(sessionId: string, groupId: string, action: GroupAction): Promise<GroupActionResult & { groupId: string }> {
    this.sessions.require(sessionId);
    checkGroupId(groupId);
    let answer: ((results: ParticipantResult[]) => ParticipantResult[]) | null = null;
    switch (action.kind) {
      case 'subject': {
        const subject = checkText(action.subject, 'name', 'subject').trim();
        if (!subject || subject.length > MAX_SUBJECT) throw validationError(`subject must be 1-${MAX_SUBJECT} characters`, { field: 'subject' });
        action = { kind: 'subject', subject };
        break;
      }
      case 'description':
        checkText(action.description, 'description', 'description');
        if (action.description.length > MAX_DESCRIPTION) throw validationError(`description is longer than ${MAX_DESCRIPTION} characters`, { field: 'description' });
        break;
      case 'settings':
        if (action.announce == null && action.restrict == null) throw validationError('give announce, restrict or both', { field: 'announce' });
        break;
      case 'promote':
      case 'demote': {
        const split = splitParticipants(action.participants);
        answer = split.answer;
        action = { kind: action.kind, participants: split.valid };
        break;
      }
      default:
        break;
    }
    const kind = action.kind;
    const finalAction = action;
    const result = await this.engine(sessionId, (e) => e.groupAction(groupId, finalAction));
    if (answer && result.participants) return { ...result, groupId, participants: answer(result.participants) };
    if (kind !== 'leave' && !result.group) throw new AppError('INVALID_CHAT_ID', `${groupActionLabels[kind]}: no group '${groupId}'`, { groupId });
    return { ...result, groupId };
  }

  async joinGroup(sessionId: string, link: string): Promise<string> {
    this.sessions.require(sessionId);
    if (!link || link.length > MAX_LINK || !/^(https:\/\/chat\.whatsapp\.com\/)?[A-Za-z0-9_-]{6,40}$/.test(link)) {
      throw validationError('link must be an invite link like https://chat.whatsapp.com/AbCdEf123456', { field: 'link' });
    }
    return this.engine(sessionId, (e) => e.joinGroup(link));
  }

  async profile(sessionId: string, contactId: string): Promise<EngineProfile> {
    return this.engine(sessionId, (e) => e.getProfile(contactId));
  }

  async picture(sessionId: string, contactId: string): Promise<EngineMediaBytes | null> {
    this.contactOf(sessionId, contactId);
    return this.engine(sessionId, (e) => e.getProfilePicture(contactId));
  }

  /** Block or unblock a contact; answers it as the session knows it. */
  async block(sessionId: string, contactId: string, blocked: boolean): Promise<EngineContact> {
    this.contactOf(sessionId, contactId);
    await this.engine(sessionId, (e) => e.accountAction({ kind: blocked ? 'block' : 'unblock', contactId }));
    const contact = await this.engine(sessionId, (e) => e.getContact(contactId));
    return contact ?? { id: contactId, name: null, pushname: null, isMyContact: false, isWAContact: false };
  }

  /** A change to the session's own profile; answers its own contact. */
  async setProfile(sessionId: string, change: { name?: string; about?: string; picture?: string }): Promise<EngineContact> {
    this.sessions.require(sessionId);
    let action: AccountAction;
    if (change.name !== undefined) {
      const name = checkText(change.name, 'name', 'name').trim();
      if (!name || name.length > MAX_NAME) throw validationError(`name must be 1-${MAX_NAME} characters`, { field: 'name' });
      action = { kind: 'setName', name };
    } else if (change.about !== undefined) {
      checkText(change.about, 'message', 'about');
      if (change.about.length > MAX_ABOUT) throw validationError(`about is longer than ${MAX_ABOUT} characters`, { field: 'about' });
      action = { kind: 'setAbout', about: change.about };
    } else {
      const media = parseMediaDataUrl('image', change.picture ?? '', this.config.media);
      action = { kind: 'setPicture', data: media.data, mimetype: media.mimetype };
    }
    const me = await this.engine(sessionId, async (e) => {
      await e.accountAction(action);
      return this.sessions.get(sessionId)?.me?.id ?? null;
    });
    const contact = me ? await this.engine(sessionId, (e) => e.getContact(me)) : null;
    return contact ?? this.sessions.get(sessionId)!.me!;
  }

  async rejectCall(sessionId: string, callId: string, message?: string | null): Promise<void> {
    this.sessions.require(sessionId);
    if (!/^[A-Za-z0-9._:-]{1,128}$/.test(callId)) throw validationError('callId is not a call id', { field: 'callId' });
    if (message) checkText(message, 'message', 'message');
    await this.engine(sessionId, (e) => e.accountAction({ kind: 'rejectCall', callId, message: message || null }));
  }

  async injectCall(sessionId: string, from: string, isVideo: boolean): Promise<EngineCall> {
    const session = this.sessions.require(sessionId);
    if (session.engine !== 'sandbox') {
      throw new AppError('ENGINE_UNSUPPORTED', `Session '${sessionId}' does not run on the sandbox engine`, { sessionId, engine: session.engine });
    }
    checkContactId(from, 'from');
    return this.engine(sessionId, async (e) => {
      if (!e.sandbox) throw new AppError('ENGINE_UNSUPPORTED', 'This session has no sandbox controls', { sessionId });
      return e.sandbox.injectCall(from, isVideo);
    });
  }
}
