import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { printedSchema } from '../src/schema/printed.js';

it('schema.graphql matches the schema built from the code (run `npm run print-schema` after a change)', () => {
  const onDisk = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');
  assert.equal(onDisk, printedSchema());
});

it('keeps every name of the GraphQL contract', () => {
  const printed = printedSchema();
  for (const name of [
    'sessions: [Session!]!',
    'session(sessionId: String!): Session',
    'serverInfo: ServerInfo!',
    'health: Health!',
    'createSession(input: CreateSessionInput!): CreateSessionPayload!',
    'removeSession(sessionId: String!): RemoveSessionPayload!',
    'sandboxScanQr(sessionId: String!): Session!',
    'startSession(sessionId: String!): Session!',
    'stopSession(sessionId: String!): Session!',
    'restartSession(sessionId: String!): Session!',
    'logoutSession(sessionId: String!): Session!',
    'qr(sessionId: String!): QrCode!',
    'sessionStatus(sessionId: String!): SessionStatusEvent!',
    'events(sessionId: String!, types: [EventType!]): SessionEvent!',
  ]) {
    assert.ok(printed.includes(name), `schema has ${name}`);
  }
});
