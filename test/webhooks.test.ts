import assert from 'node:assert/strict';
import { sample, scrape } from './helpers/metrics.js';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { CREATE, SCAN, startServer, tempDir, waitFor, type TestServer } from './helpers/app.js';
import { DELIVERIES, REDELIVER, REGISTER, startReceiver, TEST, UPDATE, type Receiver, type Received } from './helpers/webhooks.js';

/** Verifies a Standard Webhooks signature with node:crypto only (an implementation independent of ours). */
function verifyIndependently(secret: string, r: Pick<Received, 'headers' | 'body'>): boolean {
  const id = r.headers['webhook-id'] as string;
  const timestamp = r.headers['webhook-timestamp'] as string;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${r.body}`).digest();
  return (r.headers['webhook-signature'] as string).split(' ').some((sig) => {
    const [version, value] = sig.split(',');
    const given = Buffer.from(value ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

function verifyWithPackage(secret: string, r: Pick<Received, 'headers' | 'body'>): boolean {
  try {
    new StandardWebhook(secret).verify(r.body, r.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
}

async function webhookState(server: TestServer, sessionId: string, last = 50) {
  const data = await server.gqlOk(DELIVERIES, { id: sessionId, last });
  return data.session.webhooks[0];
}

// A filter no event matches on a session that never gets READY: only testWebhook's pings are sent.
const onlyPings = { events: ['MESSAGE'] };

const settings = {
  webhooks: { allowCidrs: '127.0.0.1/32', retryScheduleMs: [100, 200, 400], timeoutMs: 2000, pollIntervalMs: 20, concurrency: 2 },
};

describe('webhook deliveries', () => {
  let server: TestServer;
  const receivers: Receiver[] = [];
  const receiver = async (...args: Parameters<typeof startReceiver>) => {
    const r = await startReceiver(...args);
    receivers.push(r);
    return r;
  };
  const register = async (sessionId: string, url: string, extra: Record<string, unknown> = {}) =>
    (await server.gqlOk(REGISTER, { input: { sessionId, url, ...extra } })).registerWebhook;

  before(async () => {
    server = await startServer(settings);
  });
  after(async () => {
    await server.dispose();
    await Promise.all(receivers.map((r) => r.close()));
  });

  it('signs every delivery per Standard Webhooks: node:crypto and the standardwebhooks package verify it; a tampered body fails', async () => {
    const rx = await receiver();
    await server.gqlOk(CREATE, { input: { sessionId: 'sig', waitForQR: true } });
    const { secret, webhook } = await register('sig', rx.url, { events: ['READY', 'STATUS'] });
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(webhook.enabled, true);
    assert.deepEqual(webhook.events, ['READY', 'STATUS']);
    assert.equal(webhook.allEvents, false);

    await server.gqlOk(SCAN, { id: 'sig' });
    // The READY status is a delivery of its own, which may arrive after the ready event's.
    await waitFor(
      () => rx.received.some((r) => r.json?.event === 'ready') && rx.received.some((r) => r.json?.event === 'status' && r.json.data.status === 'ready'),
      5000,
      'the ready event and the READY status delivered',
    );
    const ready = rx.received.find((r) => r.json.event === 'ready')!;
    assert.deepEqual(Object.keys(ready.json).sort(), ['data', 'event', 'id', 'sessionId', 'timestamp']);
    assert.equal(ready.json.sessionId, 'sig');
    assert.equal(ready.json.id, ready.headers['webhook-id']);
    assert.match(ready.json.data.me, /^\d+@c\.us$/);
    assert.ok(!Number.isNaN(Date.parse(ready.json.timestamp)));
    assert.equal(ready.headers['content-type'], 'application/json');
    assert.match(ready.headers['webhook-timestamp'] as string, /^\d{10}$/, 'seconds');
    assert.ok(Math.abs(Number(ready.headers['webhook-timestamp']) - Date.now() / 1000) < 60);
    assert.match(ready.headers['webhook-signature'] as string, /^v1,[A-Za-z0-9+/]+=*$/);
    assert.match(ready.headers['user-agent'] as string, /^wa-gateway-webhooks\/\d+\.\d+\.\d+$/, 'one server: no node named');

    for (const r of rx.received) {
      assert.ok(verifyIndependently(secret, r), 'node:crypto verifies');
      assert.ok(verifyWithPackage(secret, r), 'standardwebhooks verifies');
    }
    const tampered = { headers: ready.headers, body: ready.body.replace('"sig"', '"sih"') };
    assert.notEqual(tampered.body, ready.body);
    assert.equal(verifyIndependently(secret, tampered), false);
    assert.equal(verifyWithPackage(secret, tampered), false);
    assert.equal(verifyWithPackage(`whsec_${Buffer.alloc(32, 1).toString('base64')}`, ready), false, 'another secret fails');

    // The filter held: only STATUS and READY were sent (no QR, no AUTHENTICATED).
    assert.deepEqual([...new Set(rx.received.map((r) => r.json.event))].sort(), ['ready', 'status']);
    const statuses = rx.received.filter((r) => r.json.event === 'status').map((r) => r.json.data.status);
    assert.deepEqual(statuses.sort(), ['authenticated', 'ready'], 'each status once (deliveries run side by side: in any order)');
    // The secret is never shown again.
    const listed = await server.gqlOk('{ session(sessionId: "sig") { webhooks { id } } }');
    assert.equal(listed.session.webhooks[0].id, webhook.id);
    assert.ok(!JSON.stringify(await webhookState(server, 'sig')).includes(secret.slice(6)));
  });

  it('retries a receiver that fails twice, with the same webhook-id, until it succeeds (3 attempts)', async () => {
    const rx = await receiver((n) => ({ status: n < 2 ? 500 : 200 }));
    const metricsBefore = await scrape(server.url);
    await server.gqlOk(CREATE, { input: { sessionId: 'retry' } });
    const { webhook } = await register('retry', rx.url, onlyPings);
    const first = (await server.gqlOk(TEST, { s: 'retry', w: webhook.id })).testWebhook;
    assert.equal(first.event, 'ping');
    assert.equal(first.status, 'PENDING');
    assert.equal(first.attempts, 1);
    assert.equal(first.lastResponseCode, 500);
    assert.equal(first.lastError, 'HTTP 500');
    assert.ok(first.nextAttemptAt);
    await waitFor(async () => (await webhookState(server, 'retry')).deliveries.some((d: any) => d.status === 'SUCCEEDED'), 5000, 'success');
    const pings = rx.received.filter((r) => r.json.event === 'ping');
    assert.equal(pings.length, 3);
    assert.equal(new Set(pings.map((r) => r.headers['webhook-id'])).size, 1, 'same webhook-id on every attempt');
    assert.equal(new Set(pings.map((r) => r.body)).size, 1, 'same body on every attempt');
    const state = await webhookState(server, 'retry');
    const delivery = state.deliveries.find((d: any) => d.id === first.id);
    assert.deepEqual({ status: delivery.status, attempts: delivery.attempts, code: delivery.lastResponseCode, error: delivery.lastError, next: delivery.nextAttemptAt }, { status: 'SUCCEEDED', attempts: 3, code: 200, error: null, next: null });
    assert.equal(state.failingSince, null, 'a success clears the failing state');
    const metricsAfter = await scrape(server.url);
    const moved = (outcome: string) =>
      sample(metricsAfter, 'wa_gateway_webhook_deliveries_total', { outcome }) - sample(metricsBefore, 'wa_gateway_webhook_deliveries_total', { outcome });
    assert.ok(moved('retry') >= 2, 'the two failed attempts show in /metrics');
    assert.ok(moved('delivered') >= 1, 'the successful attempt shows in /metrics');
  });

  it('410 Gone disables the webhook; nothing more is queued until an update re-enables it', async () => {
    let gone = true;
    const rx = await receiver(() => ({ status: gone ? 410 : 200 }));
    await server.gqlOk(CREATE, { input: { sessionId: 'gone', waitForQR: true } });
    const { webhook } = await register('gone', rx.url, { events: ['STATUS'] });
    const ping = (await server.gqlOk(TEST, { s: 'gone', w: webhook.id })).testWebhook;
    assert.equal(ping.status, 'FAILED');
    assert.equal(ping.lastResponseCode, 410);
    let state = await webhookState(server, 'gone');
    assert.equal(state.enabled, false);
    assert.match(state.disabledReason, /410/);
    const before = rx.received.length;
    await server.gqlOk(SCAN, { id: 'gone' });
    await waitFor(async () => (await server.gqlOk('{ session(sessionId: "gone") { status } }')).session.status === 'READY');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(rx.received.length, before, 'a disabled webhook gets nothing');
    assert.equal((await webhookState(server, 'gone')).deliveries.length, 1);
    const again = await server.gql(TEST, { s: 'gone', w: webhook.id });
    assert.equal(again.errors?.[0]?.extensions?.code, 'VALIDATION_ERROR');
    const redeliver = await server.gql(REDELIVER, { id: ping.id });
    assert.equal(redeliver.errors?.[0]?.extensions?.code, 'VALIDATION_ERROR');

    gone = false;
    const updated = (await server.gqlOk(UPDATE, { input: { sessionId: 'gone', webhookId: webhook.id, enabled: true } })).updateWebhook;
    assert.deepEqual({ enabled: updated.enabled, reason: updated.disabledReason }, { enabled: true, reason: null });
    const ok = (await server.gqlOk(TEST, { s: 'gone', w: webhook.id })).testWebhook;
    assert.equal(ok.status, 'SUCCEEDED');
    state = await webhookState(server, 'gone');
    assert.equal(state.enabled, true);
  });

  it('does not follow a 302; the attempt counts as failed and is retried', async () => {
    const target = await receiver();
    const rx = await receiver(() => ({ status: 302, headers: { location: target.url } }));
    await server.gqlOk(CREATE, { input: { sessionId: 'redirect' } });
    const { webhook } = await register('redirect', rx.url, onlyPings);
    const ping = (await server.gqlOk(TEST, { s: 'redirect', w: webhook.id })).testWebhook;
    assert.equal(ping.lastResponseCode, 302);
    assert.match(ping.lastError, /redirect to http:\/\/127\.0\.0\.1:\d+\/hook not followed/);
    assert.equal(ping.status, 'PENDING');
    await waitFor(() => rx.received.length >= 2, 5000, 'a retry');
    assert.equal(target.received.length, 0, 'the redirect target got nothing');
  });

  it('a hanging receiver times out and the delivery is retried (same webhook-id)', async () => {
    const rx = await receiver((n) => (n === 0 ? 'hang' : { status: 204 }));
    await server.gqlOk(CREATE, { input: { sessionId: 'hang' } });
    const { webhook } = await register('hang', rx.url, onlyPings);
    const ping = (await server.gqlOk(TEST, { s: 'hang', w: webhook.id })).testWebhook;
    assert.equal(ping.status, 'PENDING');
    assert.equal(ping.lastResponseCode, null);
    assert.match(ping.lastError, /^timed out after 2000 ms$/);
    await waitFor(async () => (await webhookState(server, 'hang')).deliveries[0].status === 'SUCCEEDED', 5000, 'retried');
    assert.equal(rx.received.length, 2);
    assert.equal(rx.received[0]!.headers['webhook-id'], rx.received[1]!.headers['webhook-id']);
  });

  it('honours Retry-After on 429', async () => {
    const rx = await receiver((n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 }));
    await server.gqlOk(CREATE, { input: { sessionId: 'slow' } });
    const { webhook } = await register('slow', rx.url, onlyPings);
    const ping = (await server.gqlOk(TEST, { s: 'slow', w: webhook.id })).testWebhook;
    assert.equal(ping.lastResponseCode, 429);
    assert.ok(Date.parse(ping.nextAttemptAt) - Date.now() > 700, 'next attempt follows Retry-After, not the 100 ms schedule');
    await waitFor(() => rx.received.length >= 2, 5000, 'the retry');
    assert.ok(rx.received[1]!.at - rx.received[0]!.at >= 950, 'waited about a second');
  });

  it('marks a delivery failed when the schedule is exhausted (kept, visible); redeliver sends it again', async () => {
    let ok = false;
    const rx = await receiver(() => ({ status: ok ? 200 : 503 }));
    await server.gqlOk(CREATE, { input: { sessionId: 'exhaust' } });
    const { webhook } = await register('exhaust', rx.url, onlyPings);
    const ping = (await server.gqlOk(TEST, { s: 'exhaust', w: webhook.id })).testWebhook;
    const failed = await waitFor(async () => {
      const d = (await webhookState(server, 'exhaust')).deliveries.find((x: any) => x.id === ping.id);
      return d.status === 'FAILED' ? d : null;
    }, 5000, 'FAILED');
    assert.equal(failed.attempts, 4, 'one attempt and three retries');
    assert.equal(failed.lastResponseCode, 503);
    assert.match(failed.lastError, /HTTP 503 \(retries exhausted\)/);
    assert.equal(failed.nextAttemptAt, null);
    assert.equal(rx.received.length, 4);
    let state = await webhookState(server, 'exhaust');
    assert.deepEqual(state.deliveryCounts, { pending: 0, succeeded: 0, failed: 1 });
    assert.ok(state.failingSince);
    assert.equal(state.enabled, true, 'the disable window (default 5 days) has not passed');

    ok = true;
    const requeued = (await server.gqlOk(REDELIVER, { id: ping.id })).redeliver;
    assert.equal(requeued.status, 'PENDING');
    await waitFor(async () => (await webhookState(server, 'exhaust')).deliveries[0].status === 'SUCCEEDED', 5000);
    assert.equal(rx.received.length, 5);
    assert.equal(rx.received[4]!.headers['webhook-id'], ping.id);
    state = await webhookState(server, 'exhaust');
    assert.equal(state.deliveries[0].attempts, 5);
    assert.equal(state.failingSince, null);
    const missing = await server.gql(REDELIVER, { id: 'msg_nope' });
    assert.equal(missing.errors?.[0]?.extensions?.code, 'NOT_FOUND');
  });

  it('keeps at most `concurrency` deliveries in flight per endpoint', async () => {
    const rx = await receiver(() => ({ status: 200, delayMs: 80 }));
    await server.gqlOk(CREATE, { input: { sessionId: 'conc' } });
    const { webhook } = await register('conc', rx.url, onlyPings);
    const results = await Promise.all(Array.from({ length: 6 }, () => server.gqlOk(TEST, { s: 'conc', w: webhook.id })));
    assert.ok(results.every((r) => r.testWebhook.status === 'SUCCEEDED'));
    assert.equal(rx.received.length, 6);
    assert.equal(rx.maxConcurrent, 2);
  });

  it('sends the custom headers, shows them masked, and removes a webhook with its deliveries', async () => {
    const rx = await receiver();
    await server.gqlOk(CREATE, { input: { sessionId: 'hdr' } });
    const { webhook } = await register('hdr', rx.url, {
      eventNames: ['message', 'ack', 'group_join'],
      headers: { Authorization: 'Bearer your-token', 'X-Short': 'abc' },
    });
    assert.deepEqual(webhook.events, ['MESSAGE', 'ACK', 'GROUP_JOIN']);
    assert.deepEqual(webhook.headers, { Authorization: 'Bear****', 'X-Short': '****' });
    await server.gqlOk(TEST, { s: 'hdr', w: webhook.id });
    assert.equal(rx.received[0]!.headers.authorization, 'Bearer your-token');
    assert.equal(rx.received[0]!.headers['x-short'], 'abc');

    const removed = await server.gqlOk('mutation($w: ID!) { removeWebhook(sessionId: "hdr", webhookId: $w) { webhookId removed } }', { w: webhook.id });
    assert.deepEqual(removed.removeWebhook, { webhookId: webhook.id, removed: true });
    assert.deepEqual((await server.gqlOk('{ session(sessionId: "hdr") { webhooks { id } } }')).session.webhooks, []);
    const again = await server.gql('mutation($w: ID!) { removeWebhook(sessionId: "hdr", webhookId: $w) { removed } }', { w: webhook.id });
    assert.equal(again.errors?.[0]?.extensions?.code, 'NOT_FOUND');
    assert.deepEqual((await server.gqlOk('{ webhooks(sessionId: "hdr") { id } }')).webhooks, []);
    const unknown = await server.gql('{ webhooks(sessionId: "nobody") { id } }');
    assert.equal(unknown.errors?.[0]?.extensions?.code, 'SESSION_NOT_FOUND');
    const other = await server.gql('mutation($w: ID!) { removeWebhook(sessionId: "nobody", webhookId: $w) { removed } }', { w: webhook.id });
    assert.equal(other.errors?.[0]?.extensions?.code, 'SESSION_NOT_FOUND');
  });

  it('rejects bad input with VALIDATION_ERROR, changing nothing', async () => {
    await server.gqlOk(CREATE, { input: { sessionId: 'bad' } });
    const cases: Record<string, unknown>[] = [
      { url: 'ftp://127.0.0.1/x' },
      { url: 'not a url' },
      { url: '' },
      { url: 'http://user:pw@127.0.0.1/' },
      { url: 'http://127.0.0.1/', eventNames: ['messages'] },
      { url: 'http://127.0.0.1/', headers: ['x'] },
      { url: 'http://127.0.0.1/', headers: { 'Bad Name': 'x' } },
      { url: 'http://127.0.0.1/', headers: { 'Content-Type': 'text/plain' } },
      { url: 'http://127.0.0.1/', headers: { 'webhook-id': 'x' } },
      { url: 'http://127.0.0.1/', headers: { 'X-A': 'a\r\nInjected: 1' } },
      { url: 'http://127.0.0.1/', headers: { 'X-A': 5 } },
    ];
    for (const input of cases) {
      const result = await server.gql(REGISTER, { input: { sessionId: 'bad', ...input } });
      assert.equal(result.errors?.[0]?.extensions?.code, 'VALIDATION_ERROR', JSON.stringify(input));
    }
    const unknownEnum = await server.gql(REGISTER, { input: { sessionId: 'bad', url: 'http://127.0.0.1/', events: ['NOPE'] } });
    assert.equal(unknownEnum.errors?.[0]?.extensions?.code, 'VALIDATION_ERROR');
    const noSession = await server.gql(REGISTER, { input: { sessionId: 'ghost', url: 'http://127.0.0.1/' } });
    assert.equal(noSession.errors?.[0]?.extensions?.code, 'SESSION_NOT_FOUND');
    assert.deepEqual((await server.gqlOk('{ session(sessionId: "bad") { webhooks { id } } }')).session.webhooks, []);
    const star = (await server.gqlOk(REGISTER, { input: { sessionId: 'bad', url: 'http://127.0.0.1/', eventNames: ['*'] } })).registerWebhook;
    assert.deepEqual({ events: star.webhook.events, all: star.webhook.allEvents }, { events: [], all: true });
    const tooMany = await server.gql('{ session(sessionId: "bad") { webhooks { deliveries(last: 5000) { id } } } }');
    assert.equal(tooMany.errors?.[0]?.extensions?.code, 'VALIDATION_ERROR');
  });
});

describe('webhook disable window', () => {
  it('disables a webhook whose deliveries keep failing for the configured window, and an update re-enables it', async () => {
    const rx = await startReceiver(() => ({ status: 500 }));
    const server = await startServer({
      webhooks: { allowCidrs: '127.0.0.1/32', retryScheduleMs: Array(20).fill(60), disableAfterMs: 300, timeoutMs: 400, pollIntervalMs: 20 },
    });
    try {
      await server.gqlOk(CREATE, { input: { sessionId: 'window' } });
      const { webhook } = (await server.gqlOk(REGISTER, { input: { sessionId: 'window', url: rx.url, ...onlyPings } })).registerWebhook;
      const ping = (await server.gqlOk(TEST, { s: 'window', w: webhook.id })).testWebhook;
      const state = await waitFor(async () => {
        const s = await webhookState(server, 'window');
        return s.enabled ? null : s;
      }, 5000, 'disabled');
      assert.match(state.disabledReason, /^deliveries failing since /);
      const d = state.deliveries.find((x: any) => x.id === ping.id);
      assert.equal(d.status, 'FAILED', 'its queued delivery is failed, kept and visible');
      assert.ok(d.attempts >= 2);
      const count = rx.received.length;
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(rx.received.length, count, 'nothing more is sent');

      rx.reply = () => ({ status: 200 });
      const updated = (await server.gqlOk(UPDATE, { input: { sessionId: 'window', webhookId: webhook.id, enabled: true } })).updateWebhook;
      assert.deepEqual({ enabled: updated.enabled, failingSince: updated.failingSince }, { enabled: true, failingSince: null });
      await server.gqlOk(REDELIVER, { id: ping.id });
      await waitFor(async () => (await webhookState(server, 'window')).deliveries[0].status === 'SUCCEEDED', 5000);
    } finally {
      await server.dispose();
      await rx.close();
    }
  });
});

describe('webhooks across session removal and restart', () => {
  it("a removed session's webhooks still send its TERMINATED status, then are gone (a new session of that id has none)", async () => {
    const rx = await startReceiver();
    const server = await startServer(settings);
    try {
      await server.gqlOk(CREATE, { input: { sessionId: 'bye' } });
      await server.gqlOk(REGISTER, { input: { sessionId: 'bye', url: rx.url, events: ['STATUS'] } });
      await server.gqlOk('mutation { removeSession(sessionId: "bye") { removed } }');
      await waitFor(() => rx.received.some((r) => r.json.data.status === 'terminated'), 5000, 'TERMINATED delivery');
      await server.gqlOk(CREATE, { input: { sessionId: 'bye' } });
      assert.deepEqual((await server.gqlOk('{ session(sessionId: "bye") { webhooks { id } } }')).session.webhooks, []);
    } finally {
      await server.dispose();
      await rx.close();
    }
  });

  it('a delivery cut off by a shutdown is sent after the restart with the same webhook-id', async () => {
    const rx = await startReceiver((n) => (n === 0 ? 'hang' : { status: 200 }));
    const dataDir = tempDir();
    const slow = { ...settings.webhooks, timeoutMs: 5000 };
    const first = await startServer({ webhooks: slow }, dataDir);
    let webhookId: string;
    try {
      await first.gqlOk(CREATE, { input: { sessionId: 'cut', waitForQR: true } });
      webhookId = (await first.gqlOk(REGISTER, { input: { sessionId: 'cut', url: rx.url, events: ['STATUS'] } })).registerWebhook.webhook.id;
      await first.gqlOk(SCAN, { id: 'cut' });
      await waitFor(() => rx.received.length >= 1, 5000, 'the first delivery to be in flight');
    } finally {
      await first.stop();
    }
    const second = await startServer({ webhooks: slow }, dataDir);
    try {
      await waitFor(() => rx.received.some((r, i) => i > 0 && r.headers['webhook-id'] === rx.received[0]!.headers['webhook-id']), 5000, 'the resend');
      assert.equal(rx.received.filter((r) => r.body === rx.received[0]!.body).length, 2, 'same body');
      // The receiver sees the resend before the server has its answer and writes the outcome.
      const resent = () => webhookState(second, 'cut').then((state) => ({ state, first: state.deliveries.find((d: any) => d.id === rx.received[0]!.headers['webhook-id']) }));
      await waitFor(async () => (await resent()).first?.status === 'SUCCEEDED', 5000, 'the resend recorded').catch(() => undefined);
      const { state, first } = await resent();
      assert.equal(state.id, webhookId);
      assert.equal(first.status, 'SUCCEEDED');
    } finally {
      await second.dispose();
      await rx.close();
    }
  });
});
