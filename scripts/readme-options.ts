// Rewrites the options table in README.md from src/config.ts: `node --import tsx scripts/readme-options.ts`.
import { readFileSync, writeFileSync } from 'node:fs';
import { settings } from '../src/config.js';

const file = new URL('../README.md', import.meta.url);
const rows = settings.map((s) => `| \`${s.flag}\` | \`${s.env}\` | ${JSON.stringify(s.default).replace(/\|/g, '\\|')} | ${s.doc} |`);
const table = ['| flag | environment | default | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
const readme = readFileSync(file, 'utf8').replace(/<!-- options:start -->[\s\S]*<!-- options:end -->/, `<!-- options:start -->\n${table}\n<!-- options:end -->`);
writeFileSync(file, readme);
