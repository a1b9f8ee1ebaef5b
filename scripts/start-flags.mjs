// The node flags `npm start` gives the server (package.json's "start"), for the scripts that start it as a
// user does (the soak, the bench) and for the test that holds the Dockerfile's CMD to the same.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const start = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start.split(' ');

/** The words between `node` and the bundle in package.json's "start", e.g. ['--max-semi-space-size=64']. */
export const startNodeFlags = start.slice(1, start.indexOf('dist/bundle/main.js'));
