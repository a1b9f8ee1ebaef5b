// What travels between nodes: engine calls as JSON, Buffers as base64, and errors as their code and message.
import { AppError, errorCodes, type ErrorCode } from '../errors.js';
import { EngineError } from '../engine/engine.js';

/** Values with every Buffer as `{ $b64 }` (JSON.stringify would make an array of numbers of it). */
export function encode(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { $b64: value.toString('base64') };
  if (Array.isArray(value)) return value.map(encode);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = encode(v);
    return out;
  }
  return value;
}

export function decode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.$b64 === 'string' && Object.keys(o).length === 1) return Buffer.from(o.$b64, 'base64');
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = decode(v);
    return out;
  }
  return value;
}

export interface WireError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** An error thrown at the owner, as the caller's node rethrows it (unexpected ones only as INTERNAL_ERROR). */
export function toWireError(error: unknown): WireError {
  if (error instanceof AppError || error instanceof EngineError) return { code: error.code, message: error.message, details: error.details };
  return { code: 'INTERNAL_ERROR', message: 'Unexpected error at the session\'s node.' };
}

export function fromWireError(error: WireError): Error {
  if ((errorCodes as string[]).includes(error.code)) return new AppError(error.code as ErrorCode, error.message, error.details ?? {});
  return new AppError('INTERNAL_ERROR', error.message, {});
}

/** One answer of a batch of calls: a value, an error, or "not mine" (the call was not run: safe to send elsewhere). */
export type CallOutcome = { ok: unknown } | { error: WireError } | { notOwner: true };
