import { AppError } from '../errors.js';

// A number is `<country code and number>@c.us`; a group is `<creator>-<time>@g.us` or `<digits>@g.us`.
const CONTACT_ID = /^[1-9]\d{4,19}@c\.us$/;
const GROUP_ID = /^\d{5,20}(-\d{5,20})?@g\.us$/;
// WhatsApp's linked (privacy) id of an account, `<digits>@lid`: only engines that speak it take one.
const LID_ID = /^\d{5,25}@lid$/;

export const isContactId = (id: string) => CONTACT_ID.test(id);
export const isGroupId = (id: string) => GROUP_ID.test(id);
export const isLidId = (id: string) => LID_ID.test(id);

/** Whether a session's engine addresses accounts by their `@lid` ids too (Baileys maps them to numbers where it can). */
export const takesLids = (engine: string) => engine === 'baileys';

function lidRefused(id: string, field: string): AppError {
  return new AppError('INVALID_CHAT_ID', `'${id}' is a WhatsApp linked id (@lid), which only sessions on the Baileys engine take; use the number's id (like 15550001234@c.us)`, {
    [field]: id,
  });
}

/** A chat id (a number or a group; `@lid` where `lids`), or INVALID_CHAT_ID. */
export function checkChatId(chatId: string, field = 'chatId', lids = false): string {
  if (isContactId(chatId) || isGroupId(chatId)) return chatId;
  if (isLidId(chatId)) {
    if (lids) return chatId;
    throw lidRefused(chatId, field);
  }
  throw new AppError('INVALID_CHAT_ID', `'${chatId}' is not a valid chat id (like 15550001234@c.us or a group id ending in @g.us)`, {
    [field]: chatId,
  });
}

/** A number's id (not a group; `@lid` where `lids`), or INVALID_CHAT_ID. */
export function checkContactId(id: string, field = 'contactId', lids = false): string {
  if (isContactId(id)) return id;
  if (isLidId(id)) {
    if (lids) return id;
    throw lidRefused(id, field);
  }
  throw new AppError('INVALID_CHAT_ID', `'${id}' is not a valid contact id (like 15550001234@c.us)`, { [field]: id });
}

/** A group's id, or INVALID_CHAT_ID. */
export function checkGroupId(id: string, field = 'groupId'): string {
  if (isGroupId(id)) return id;
  throw new AppError('INVALID_CHAT_ID', `'${id}' is not a valid group id (ending in @g.us)`, { [field]: id });
}
