import { AppError } from '../errors.js';

// A number is `<country code and number>@c.us`; a group is `<creator>-<time>@g.us` or `<digits>@g.us`.
const CONTACT_ID = /^[1-9]\d{4,19}@c\.us$/;
const GROUP_ID = /^\d{5,20}(-\d{5,20})?@g\.us$/;

export const isContactId = (id: string) => CONTACT_ID.test(id);
export const isGroupId = (id: string) => GROUP_ID.test(id);

/** A chat id (a number or a group), or INVALID_CHAT_ID. */
export function checkChatId(chatId: string, field = 'chatId'): string {
  if (isContactId(chatId) || isGroupId(chatId)) return chatId;
  throw new AppError('INVALID_CHAT_ID', `'${chatId}' is not a valid chat id (like 15550001234@c.us or a group id ending in @g.us)`, {
    [field]: chatId,
  });
}

/** A number's id (not a group), or INVALID_CHAT_ID. */
export function checkContactId(id: string, field = 'contactId'): string {
  if (isContactId(id)) return id;
  throw new AppError('INVALID_CHAT_ID', `'${id}' is not a valid contact id (like 15550001234@c.us)`, { [field]: id });
}

/** A group's id, or INVALID_CHAT_ID. */
export function checkGroupId(id: string, field = 'groupId'): string {
  if (isGroupId(id)) return id;
  throw new AppError('INVALID_CHAT_ID', `'${id}' is not a valid group id (ending in @g.us)`, { [field]: id });
}
