import { pino, stdTimeFunctions, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { prettyStream } from './observability/pretty.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

function wrap(p: PinoLogger): Logger {
  return {
    debug: (msg, fields) => p.debug(fields ?? {}, msg),
    info: (msg, fields) => p.info(fields ?? {}, msg),
    warn: (msg, fields) => p.warn(fields ?? {}, msg),
    error: (msg, fields) => p.error(fields ?? {}, msg),
    child: (fields) => wrap(p.child(fields)),
  };
}

/**
 * pino, one JSON object per line on stdout (`{level, time, msg, ...fields}`); pretty lines instead when
 * `format` is pretty, or auto and stdout is a terminal. `write` receives each line (tests, embedding).
 */
export function createLogger(
  level: LogLevel,
  base: Record<string, unknown> = {},
  write?: (line: string) => void,
  format: LogFormat = 'auto',
): Logger {
  let destination: DestinationStream;
  if (write) destination = { write: (chunk: string) => write(chunk.replace(/\n$/, '')) };
  else if (format === 'pretty' || (format === 'auto' && process.stdout.isTTY)) destination = prettyStream(process.stdout, Boolean(process.stdout.isTTY));
  else destination = process.stdout;
  const p = pino(
    {
      level,
      base,
      messageKey: 'msg',
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return wrap(p);
}
