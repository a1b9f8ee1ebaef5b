// One list of error codes and one code -> HTTP status map, shared by GraphQL (extensions.code) and REST.

export const errorStatus = {
  SESSION_NOT_FOUND: 404,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  SESSION_NOT_READY: 409,
  SESSION_ALREADY_EXISTS: 409,
  INVALID_SESSION_STATE: 409,
  INVALID_CHAT_ID: 400,
  VALIDATION_ERROR: 400,
  BAD_REQUEST: 400,
  NOT_ON_WHATSAPP: 404,
  ENGINE_UNSUPPORTED: 400,
  MAX_SESSIONS_REACHED: 429,
  RATE_LIMITED: 429,
  TOO_MANY_SUBSCRIPTIONS: 429,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  ENGINE_ERROR: 502,
  STORAGE_FULL: 507,
  INTERNAL_ERROR: 500,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof errorStatus;

export const errorCodes = Object.keys(errorStatus) as ErrorCode[];

export function httpStatusFor(code: string): number {
  return (errorStatus as Record<string, number>)[code] ?? 500;
}

/** An expected failure: its message and details are shown to the caller as they are. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const sessionNotFound = (sessionId: string) =>
  new AppError('SESSION_NOT_FOUND', `Session with ID '${sessionId}' not found`, { sessionId });

export const validationError = (message: string, details: Record<string, unknown> = {}) =>
  new AppError('VALIDATION_ERROR', message, details);

/**
 * A write that failed for want of space (SQLite SQLITE_FULL; PostgreSQL SQLSTATE 53100 disk_full), as the
 * STORAGE_FULL error callers see; null for any other error.
 */
export function storageFullOf(error: unknown): AppError | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'SQLITE_FULL' && code !== '53100') return null;
  return new AppError('STORAGE_FULL', "The server's storage is full: nothing was written. Retry once space is freed.", {});
}
