import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kind, parse, print, type OperationDefinitionNode } from 'graphql';
import { FIRST_STEPS } from '../src/observability/graphiql-page.js';
import { gqlAs } from './helpers/auth.js';
import { collect, startServer, waitFor, type TestServer } from './helpers/app.js';

const KEY = 'graphiql-first-steps-key-0123456789';

describe('GraphiQL', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ auth: { apiKeys: [KEY] } });
  });
  after(() => server?.dispose());

  it('opens on the first-steps document, offline, with the key the dashboard stored', async () => {
    const res = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<title>wa-gateway GraphiQL<\/title>/);
    assert.ok(html.includes(JSON.stringify(FIRST_STEPS)), 'the first steps are the default document');
    // Nothing is loaded from elsewhere: no script or stylesheet URL at all (the renderer inlines them).
    assert.doesNotMatch(html, /<script[^>]+src=/i);
    assert.doesNotMatch(html, /<link[^>]+rel="stylesheet"/i);
    assert.doesNotMatch(html, /unpkg|jsdelivr|cdnjs/);
    // The headers and the WebSocket's connection_init read the dashboard's key in the browser.
    assert.ok(html.includes(`localStorage.getItem("wa-gateway.apiKey")`));
    assert.match(html, /"headers":\(function\(\)\{var k=null;.*"X-Api-Key":k/);
    assert.match(html, /"connectionParams":function\(\)\{var k=null;.*return k\?\{apiKey:k\}:\{\}\}/);
    assert.doesNotMatch(html, /__wa_gateway_/);
  });

  it('every operation of the first steps runs as written, in order, with the key', async () => {
    const operations = parse(FIRST_STEPS).definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    assert.deepEqual(
      operations.map((o) => o.name?.value),
      ['CreateSession', 'Scan', 'Session', 'SendToEchoBot', 'Events', 'Chat'],
    );
    const run = async (name: string) => {
      const op = operations.find((o) => o.name?.value === name)!;
      const answer = await gqlAs(server, print(op), {}, { 'x-api-key': KEY });
      assert.equal(answer.errors, undefined, `${name}: ${JSON.stringify(answer.errors)}`);
      return answer.data;
    };
    assert.equal((await run('CreateSession')).createSession.session.status, 'QR_READY');
    await run('Scan');
    await waitFor(async () => (await run('Session')).session.status === 'READY', 5000, 'READY');
    const sent = await run('SendToEchoBot');
    assert.match(sent.sendText.message.id, /^true_/);

    const events = collect(server.wsClient({ apiKey: KEY }), print(operations.find((o) => o.name?.value === 'Events')!));
    // The subscription is live before the second message goes out.
    await new Promise((r) => setTimeout(r, 100));
    await run('SendToEchoBot');
    await waitFor(() => events.values.some((v) => v.events.type === 'MESSAGE' && v.events.message.fromMe === false), 5000, 'the echo as an event');
    await waitFor(() => events.values.some((v) => v.events.type === 'ACK'), 5000, 'acks as events');
    events.unsubscribe();

    const chat = (await run('Chat')).session.chat;
    assert.equal(chat.name, 'Echo Bot');
    assert.ok(chat.messages.edges.length >= 4);
  });
});
