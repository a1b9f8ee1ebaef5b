// The peer: stock graphql-yoga + Pothos (no plugins, no caches turned on or off) with the same `sessions` shape.
import { createServer } from 'node:http';
import SchemaBuilder from '@pothos/core';
import { createYoga } from 'graphql-yoga';
import { sessions } from './fixture.mjs';

const builder = new SchemaBuilder({});
const Status = builder.enumType('SessionStatus', { values: ['INITIALIZING', 'QR_READY', 'AUTHENTICATED', 'READY', 'FAILED', 'TERMINATED'] });
const Session = builder.objectRef('Session').implement({
  fields: (t) => ({
    sessionId: t.exposeString('sessionId'),
    status: t.field({ type: Status, resolve: (s) => s.status }),
    lastActivity: t.string({ resolve: (s) => s.lastActivity }),
  }),
});
builder.queryType({ fields: (t) => ({ sessions: t.field({ type: [Session], resolve: () => sessions }) }) });

const yoga = createYoga({ schema: builder.toSchema(), logging: false, landingPage: false, graphiql: false });
const server = createServer(yoga);
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
process.on('SIGTERM', () => process.exit(0));
