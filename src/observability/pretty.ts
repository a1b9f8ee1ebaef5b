// A small formatter for a terminal: pino-pretty pulls in a dozen packages for what is one line of
// formatting here. Lines that are not JSON pass through unchanged.

const colors: Record<string, string> = { trace: '90', debug: '36', info: '32', warn: '33', error: '31', fatal: '35' };
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

function show(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

/** `12:00:01.234 INFO  message key=value ...`, coloured by level. */
export function prettyLine(line: string, color = true): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = String(entry.level ?? 'info');
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : new Date().toISOString().slice(11, 23);
  const label = level.toUpperCase().padEnd(5);
  const fields = Object.entries(entry)
    .filter(([key, value]) => !OMIT.has(key) && value !== undefined && value !== null)
    .map(([key, value]) => (color ? `\x1b[2m${key}=\x1b[0m${show(value)}` : `${key}=${show(value)}`))
    .join(' ');
  const head = color ? `\x1b[2m${time}\x1b[0m \x1b[${colors[level] ?? '0'}m${label}\x1b[0m` : `${time} ${label}`;
  return `${head} ${String(entry.msg ?? '')}${fields ? ` ${fields}` : ''}`;
}

/** A pino destination that writes pretty lines to `out`. */
export function prettyStream(out: NodeJS.WritableStream, color = true): { write(chunk: string): void } {
  return {
    write(chunk) {
      for (const line of chunk.split('\n')) if (line) out.write(prettyLine(line, color) + '\n');
    },
  };
}
