// Writes schema.graphql from the code-first schema: `npm run print-schema`.
import { writeFileSync } from 'node:fs';
import { printedSchema } from '../src/schema/printed.js';

writeFileSync(new URL('../schema.graphql', import.meta.url), printedSchema());
console.log('schema.graphql written');
