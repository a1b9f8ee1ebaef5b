import { z } from 'zod';
import type { EngineKind, SessionConfig } from '../engine/engine.js';
import { validationError } from '../errors.js';
import { textProblem } from '../text-input.js';

export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

// These end up in a proxy URL or a browser's command line: one line, no control characters.
const oneLine = (max: number, min = 0) => z.string().min(min).max(max).refine((v) => !textProblem(v, 'name'), 'must be one line of text without control characters');

const configInput = z
  .object({
    engine: z.enum(['sandbox', 'open-wa', 'baileys']).optional(),
    multiDevice: z.boolean().optional(),
    headless: z.boolean().optional(),
    qrTimeout: z.number().positive().max(86400).optional(),
    authTimeout: z.number().positive().max(86400).optional(),
    proxyServerCredentials: z
      .object({
        protocol: oneLine(16).optional(),
        address: oneLine(512, 1),
        username: oneLine(256).optional(),
        password: oneLine(256).optional(),
      })
      .optional(),
    licenceKey: oneLine(512).optional(),
    sandbox: z.object({ autoScanMs: z.number().int().nonnegative().max(3_600_000).optional() }).optional(),
    rejectCalls: z.boolean().optional(),
    rejectCallsMessage: z.string().min(1).max(4096).refine((v) => !textProblem(v, 'message'), 'must be text without control characters').optional(),
    linkCode: z.string().regex(/^\+?[1-9]\d{4,19}$/, 'must be a phone number in international format, digits only').optional(),
  })
  .strict();

export type SessionConfigInput = z.input<typeof configInput>;

export interface SessionDefaults {
  engine: EngineKind;
  qrTimeout: number;
  authTimeout: number;
}

export function validateSessionId(sessionId: unknown): string {
  if (typeof sessionId !== 'string' || !SESSION_ID_PATTERN.test(sessionId)) {
    throw validationError('sessionId must be 1-64 letters, digits, "-" or "_"', { field: 'sessionId', value: sessionId });
  }
  return sessionId;
}

/** Accepts the reference's config object (null fields count as absent) and fills in the defaults. */
export function resolveSessionConfig(input: unknown, defaults: SessionDefaults): SessionConfig {
  const cleaned = input === undefined || input === null ? {} : stripNulls(input);
  const parsed = configInput.safeParse(cleaned);
  if (!parsed.success) {
    throw validationError('invalid session config', {
      field: 'config',
      issues: parsed.error.issues.map((i) => ({ path: ['config', ...i.path].join('.'), message: i.message })),
    });
  }
  const c = parsed.data;
  return {
    engine: c.engine ?? defaults.engine,
    multiDevice: c.multiDevice ?? true,
    headless: c.headless ?? true,
    qrTimeout: c.qrTimeout ?? defaults.qrTimeout,
    authTimeout: c.authTimeout ?? defaults.authTimeout,
    ...(c.proxyServerCredentials ? { proxyServerCredentials: c.proxyServerCredentials } : {}),
    ...(c.licenceKey ? { licenceKey: c.licenceKey } : {}),
    ...(c.sandbox ? { sandbox: c.sandbox } : {}),
    ...(c.rejectCalls ? { rejectCalls: true } : {}),
    ...(c.rejectCallsMessage ? { rejectCallsMessage: c.rejectCallsMessage } : {}),
    ...(c.linkCode ? { linkCode: c.linkCode.replace(/^\+/, '') } : {}),
  };
}

function stripNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripNulls);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, stripNulls(v)]));
  }
  return value;
}
