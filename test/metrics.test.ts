import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collect, CREATE, readySession, startServer, waitFor, type TestServer } from './helpers/app.js';
import { live } from './helpers/messaging.js';
import { sample, scrape } from './helpers/metrics.js';

describe('/metrics', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.dispose());

  it('serves Prometheus text with process memory and event-loop lag', async () => {
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.ok(res.headers.get('x-request-id'));
    const text = await res.text();
    assert.ok(sample(text, 'process_resident_memory_bytes') > 0, 'resident memory');
    assert.ok(sample(text, 'nodejs_heap_size_used_bytes') > 0, 'heap used');
    assert.match(text, /^nodejs_eventloop_lag_seconds \d/m, 'event-loop lag');
    assert.match(text, /^# TYPE wa_gateway_graphql_operations_total counter$/m);
  });

  it('counters move by the right amounts after a scripted run', async () => {
    const before = await scrape(server.url);
    const delta = (text: string, name: string, labels: Record<string, string> = {}) => sample(text, name, labels) - sample(before, name, labels);

    // Sessions: one READY, one waiting in QR_READY.
    await readySession(server, 'metrics-ready');
    await server.gqlOk(CREATE, { input: { sessionId: 'metrics-qr', waitForQR: true } });

    // GraphQL: three named queries, two failures with a code, one invalid document, one subscription.
    for (let i = 0; i < 3; i++) await server.gqlOk('query Probe { serverInfo { version } }');
    for (let i = 0; i < 2; i++) {
      const res = await server.gql('mutation Gone { removeSession(sessionId: "nope") { removed } }');
      assert.equal(res.errors?.[0]?.extensions?.code, 'SESSION_NOT_FOUND');
    }
    const bad = await server.gql('query Bad { noSuchField }');
    assert.equal(bad.errors?.[0]?.extensions?.code, 'VALIDATION_ERROR');
    const watch = collect(server.wsClient(), 'subscription Watch($id: String!) { sessionStatus(sessionId: $id) { status } }', { id: 'metrics-ready' });
    await watch.next(1);

    // HTTP: two health checks, one unknown path, one REST path.
    for (let i = 0; i < 2; i++) assert.equal((await fetch(`${server.url}/health`)).status, 200);
    assert.equal((await fetch(`${server.url}/nowhere`)).status, 404);
    await fetch(`${server.url}/api/v1/no-such-route`); // an unknown REST route: 404 under /api/*

    // Messages: one text to the Echo Bot (sent) and its echo (received).
    const echoes = await live(server, server.wsClient(), 'subscription($id: String!) { message(sessionId: $id, chatId: "15550000001@c.us") { body fromMe } }', { id: 'metrics-ready' });
    await server.gqlOk('mutation Hello($input: SendTextInput!) { sendText(input: $input) { message { id } } }', {
      input: { sessionId: 'metrics-ready', chatId: '15550000001@c.us', content: 'count me' },
    });
    await echoes.next(2);
    assert.deepEqual(echoes.values.map((v) => [v.message.body, v.message.fromMe]), [['count me', true], ['count me', false]]);

    // The webhook worker's and other components' counters.
    server.app.services.metrics.webhookDelivery('delivered', 0.02);
    server.app.services.metrics.webhookDelivery('delivered', 0.04);
    server.app.services.metrics.webhookDelivery('retry', 1.5);
    const armor = { inputLimits: 0, introspection: 0 };
    server.app.services.metrics.countsFrom('wa_gateway_test_rejections_total', 'test', 'rule', () => armor);
    armor.inputLimits += 4;

    // The edge records a request when its response is done, which may be just after the client has it.
    const after = await waitFor(async () => {
      const text = await scrape(server.url);
      return delta(text, 'wa_gateway_http_requests_total', { route: '/api/*', method: 'GET', status: '404' }) === 1 ? text : null;
    }, 5000, 'the last request to be recorded');

    assert.equal(sample(after, 'wa_gateway_sessions', { status: 'READY', engine: 'sandbox' }), 1);
    assert.equal(sample(after, 'wa_gateway_sessions', { status: 'QR_READY', engine: 'sandbox' }), 1);
    assert.equal(sample(after, 'wa_gateway_sessions', { status: 'FAILED', engine: 'sandbox' }), 0);

    assert.equal(delta(after, 'wa_gateway_graphql_operations_total', { operation: 'Probe', type: 'query', outcome: 'ok' }), 3);
    assert.equal(delta(after, 'wa_gateway_graphql_operations_total', { operation: 'Gone', type: 'mutation', outcome: 'SESSION_NOT_FOUND' }), 2);
    assert.equal(delta(after, 'wa_gateway_graphql_operations_total', { operation: 'Bad', outcome: 'VALIDATION_ERROR' }), 1);
    assert.equal(delta(after, 'wa_gateway_graphql_operations_total', { operation: 'Watch', type: 'subscription', outcome: 'ok' }), 1);
    assert.equal(delta(after, 'wa_gateway_graphql_operations_total', { operation: 'createSession', type: 'mutation', outcome: 'ok' }), 2, 'anonymous operations by root field');
    assert.equal(delta(after, 'wa_gateway_graphql_operation_duration_seconds_count', { type: 'query' }) >= 3, true);

    assert.equal(delta(after, 'wa_gateway_http_requests_total', { route: '/health', method: 'GET', status: '200' }), 2);
    assert.equal(delta(after, 'wa_gateway_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' }), 1);
    assert.equal(delta(after, 'wa_gateway_rest_requests_total', { route: '/api/*', method: 'GET', status: '404' }), 1);
    assert.equal(delta(after, 'wa_gateway_rest_requests_total', { route: '/health' }), 0, 'only /api routes count as REST');

    assert.equal(delta(after, 'wa_gateway_messages_total', { direction: 'sent', type: 'CHAT' }), 1);
    assert.equal(delta(after, 'wa_gateway_messages_total', { direction: 'received', type: 'CHAT' }), 1);
    assert.equal(delta(after, 'wa_gateway_graphql_operations_total', { operation: 'Hello', type: 'mutation', outcome: 'ok' }), 1);

    assert.equal(delta(after, 'wa_gateway_webhook_deliveries_total', { outcome: 'delivered' }), 2);
    assert.equal(delta(after, 'wa_gateway_webhook_deliveries_total', { outcome: 'retry' }), 1);
    assert.equal(delta(after, 'wa_gateway_webhook_delivery_duration_seconds_count', { outcome: 'delivered' }), 2);
    assert.ok(Math.abs(delta(after, 'wa_gateway_webhook_delivery_duration_seconds_sum', { outcome: 'delivered' }) - 0.06) < 1e-9);
    assert.equal(delta(after, 'wa_gateway_webhook_delivery_duration_seconds_bucket', { outcome: 'retry', le: '1' }), 0);
    assert.equal(delta(after, 'wa_gateway_webhook_delivery_duration_seconds_bucket', { outcome: 'retry', le: '2.5' }), 1);

    assert.equal(sample(after, 'wa_gateway_test_rejections_total', { rule: 'inputLimits' }), 4);
    assert.equal(sample(after, 'wa_gateway_test_rejections_total', { rule: 'introspection' }), 0);
  });

  it('drops a removed session from the gauge at the next scrape', async () => {
    await server.gqlOk(CREATE, { input: { sessionId: 'metrics-gone', waitForQR: true } });
    const before = sample(await scrape(server.url), 'wa_gateway_sessions', { status: 'QR_READY', engine: 'sandbox' });
    await server.gqlOk('mutation { removeSession(sessionId: "metrics-gone") { removed } }');
    assert.equal(sample(await scrape(server.url), 'wa_gateway_sessions', { status: 'QR_READY', engine: 'sandbox' }), before - 1);
  });
});
