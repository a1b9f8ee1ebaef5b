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
  MESSAGE_NOT_FOUND: 404,
  MEDIA_GONE: 404,
  MAX_SESSIONS_REACHED: 429,
  RATE_LIMITED: 429,
  TOO_MANY_SUBSCRIPTIONS: 429,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  /** A group change only its admins may make. */
  NOT_GROUP_ADMIN: 403,
  /** A send to an announce group by a member who is not an admin. */
  GROUP_ANNOUNCE_ONLY: 403,
  /** A send to a number this account blocked. */
  CONTACT_BLOCKED: 403,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  ENGINE_ERROR: 502,
  STORAGE_FULL: 507,
  DATABASE_UNAVAILABLE: 503,
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

/** Seconds a client is told to wait (Retry-After) when the database is unreachable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** Response headers that go with an error code (Retry-After with DATABASE_UNAVAILABLE). */
export function errorHeaders(code: string): Record<string, string> {
  return code === 'DATABASE_UNAVAILABLE' ? { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) } : {};
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * An error of a database that cannot be reached (refused or lost connections, PostgreSQL shutting down or
 * starting, SQLSTATE classes 08 and 57P, a connect or query timeout), as the DATABASE_UNAVAILABLE error callers see.
 */
export function databaseUnavailableOf(error: unknown): AppError | null {
  const e = error as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  const unavailable =
    /^(08|57P)/.test(code) ||
    CONNECTION_CODES.has(code) ||
    /Connection terminated|Query read timeout|timeout expired|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|not queryable|the database is closed/i.test(message);
  if (!unavailable) return null;
  return new AppError('DATABASE_UNAVAILABLE', 'The database is unreachable: nothing was written. Retry shortly.', {});
}

/** A failure of the storage itself (full, or unreachable) as the error callers see; null for any other error. */
export function storeFailureOf(error: unknown): AppError | null {
  return storageFullOf(error) ?? databaseUnavailableOf(error) ?? fencedOf(error);
}

/** A write of a cluster node whose lease lapsed (the fence, SQLSTATE WAF01): refused whole, as for a database away. */
export function fencedOf(error: unknown): AppError | null {
  if ((error as { code?: unknown } | null)?.code !== 'WAF01') return null;
  return new AppError('DATABASE_UNAVAILABLE', "This node's cluster lease lapsed: nothing was written. Retry shortly.", {});
}
