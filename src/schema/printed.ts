import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from './index.js';

export function printedSchema(): string {
  return `# Printed from the code by \`npm run print-schema\`; test/schema.test.ts fails when it drifts.\n\n${printSchema(lexicographicSortSchema(schema))}\n`;
}
