// npm run db:copy -- --from <data dir> --to postgres://user:password@host:5432/database
// Copies a SQLite install (the data dir's wa-gateway.sqlite) into an empty PostgreSQL database and says what
// it copied. Stop the server first. Exit codes: 0 copied, 1 refused or failed, 2 wrong usage.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { CopyError, copySqliteToPostgres, redactUrl } from '../src/store/pg/copy-from-sqlite.js';

pg.types.setTypeParser(20, Number);

const usage = `usage: npm run db:copy -- --from <data dir> --to postgres://user:password@host:5432/database

Copies every table of the SQLite install in <data dir> (sessions, the sandbox network and history, webhooks
with their pending deliveries, API keys) into the PostgreSQL database, which must be empty. Stop the server
first; then start it with --database-url (DATABASE_URL) set to the same URL.`;

let from: string | undefined;
let to: string | undefined;
try {
  const { values } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  // npm runs the script in the package folder; a relative --from means the folder npm was called from.
  from = values.from === undefined ? undefined : resolve(process.env.INIT_CWD ?? process.cwd(), values.from);
  to = values.to;
} catch (error) {
  console.error(`db:copy: ${(error as Error).message}\n\n${usage}`);
  process.exit(2);
}
if (!from || !to) {
  console.error(`db:copy: ${!from ? '--from <data dir>' : '--to <postgres URL>'} is missing\n\n${usage}`);
  process.exit(2);
}

try {
  const started = Date.now();
  const report = await copySqliteToPostgres(from, to);
  const width = Math.max(...report.rows.map((r) => r.table.length));
  console.log(`copied ${report.source} to ${redactUrl(to)} in ${((Date.now() - started) / 1000).toFixed(1)} s:`);
  for (const { table, rows } of report.rows) console.log(`  ${table.padEnd(width)}  ${rows} rows`);
  console.log(`  total${' '.repeat(Math.max(1, width - 3))}${report.rows.reduce((sum, r) => sum + r.rows, 0)} rows`);
  for (const { name, value } of report.next) console.log(`next ${name}: ${value}`);
  if (report.nulReplaced) console.log(`${report.nulReplaced} text values held NUL characters, which PostgreSQL text cannot store: copied with U+FFFD in their place`);
  console.log(`start the server with --database-url ${redactUrl(to)} (DATABASE_URL)`);
} catch (error) {
  console.error(`db:copy: ${error instanceof CopyError ? error.message : (error as Error).stack ?? String(error)}`);
  process.exit(1);
}
