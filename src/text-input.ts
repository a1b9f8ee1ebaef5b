import { validationError } from './errors.js';

// Free text from callers, by what it is. Ids (sessions, chats, messages) have patterns of their own.
//  - a name (group subject, API key name, file name, proxy and licence settings): one line of text, no control
//    characters at all; WhatsApp shows a group subject on one line, and these strings end up in headers and URLs;
//  - a description (group description): lines of text, so tab, CR and LF pass, other control characters do not;
//  - message text (content, caption): passed on as the caller wrote it, newlines, tabs and any other Unicode
//    included (bots relay text from elsewhere), except NUL, which no one types and which cuts strings short in
//    C-based parts on the way.
// None may hold a lone UTF-16 surrogate: that is not text, and it would be stored as U+FFFD, not as sent.

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const NUL = /\u0000/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export type TextKind = 'name' | 'description' | 'message';

/** What is wrong with `value` as text of `kind`, or null. */
export function textProblem(value: string, kind: TextKind): string | null {
  const bad = kind === 'name' ? CONTROL : kind === 'description' ? CONTROL_BUT_LINES : NUL;
  if (bad.test(value)) {
    return kind === 'name'
      ? 'must not contain control characters (NUL, line breaks, tabs ...)'
      : kind === 'description'
        ? 'must not contain control characters other than tabs and line breaks'
        : 'must not contain NUL characters';
  }
  if (LONE_SURROGATE.test(value)) return 'must be valid Unicode text (it holds a lone surrogate)';
  return null;
}

/** `value`, or VALIDATION_ERROR naming `field`. */
export function checkText<T extends string | null | undefined>(value: T, kind: TextKind, field: string): T {
  if (typeof value !== 'string') return value;
  const problem = textProblem(value, kind);
  if (problem) throw validationError(`${field} ${problem}`, { field, rule: `text.${kind}` });
  return value;
}
