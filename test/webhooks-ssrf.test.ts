import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, parseArgs } from '../src/config.js';
import { AppError } from '../src/errors.js';
import { parseIp } from '../src/webhooks/cidr.js';
import { blockedReason, SsrfGuard } from '../src/webhooks/ssrf-guard.js';
import { CREATE, startServer, tempDir } from './helpers/app.js';
import { REGISTER, startReceiver, TEST } from './helpers/webhooks.js';

describe('SSRF guard', () => {
  it('refuses loopback, private, link-local, metadata and names resolving to loopback at registration, without the allow-list', async () => {
    const server = await startServer();
    try {
      await server.gqlOk(CREATE, { input: { sessionId: 'ssrf' } });
      const refused: [string, RegExp][] = [
        ['http://127.0.0.1/hook', /loopback/],
        ['http://10.0.0.1/', /private/],
        ['http://[::1]/', /loopback/],
        ['http://169.254.169.254/latest/meta-data/', /link-local/],
        ['http://localhost:8080/', /loopback/],
        ['https://LOCALHOST/x', /loopback/],
        ['http://[::ffff:127.0.0.1]/', /loopback/],
        ['http://[::ffff:a9fe:a9fe]/', /link-local/],
        ['http://2130706433/', /loopback/],
        ['http://0x7f.1/', /loopback/],
        ['http://0.0.0.0/', /reserved/],
        ['http://100.64.0.1/', /CGNAT/],
        ['http://172.16.5.4/', /private/],
        ['http://192.168.1.1/', /private/],
        ['http://224.0.0.1/', /multicast/],
        ['http://255.255.255.255/', /reserved/],
        ['http://[fe80::1]/', /link-local/],
        ['http://[fd00::1]/', /private/],
        ['http://[ff02::1]/', /multicast/],
        ['http://[64:ff9b::a00:1]/', /NAT64/],
        ['http://[2001:db8::1]/', /documentation/],
      ];
      for (const [url, why] of refused) {
        const result = await server.gql(REGISTER, { input: { sessionId: 'ssrf', url } });
        const error = result.errors?.[0];
        assert.equal(error?.extensions?.code, 'VALIDATION_ERROR', url);
        assert.match(error!.message, why, url);
        assert.equal(error!.extensions!.details.field, 'url');
      }
      const unresolvable = await server.gql(REGISTER, { input: { sessionId: 'ssrf', url: 'http://no-such-host.invalid/' } });
      assert.equal(unresolvable.errors?.[0]?.extensions?.code, 'VALIDATION_ERROR');
      assert.match(unresolvable.errors![0]!.message, /cannot resolve host/);
      assert.deepEqual((await server.gqlOk('{ session(sessionId: "ssrf") { webhooks { id } } }')).session.webhooks, []);

      // A public address literal is accepted (nothing is sent: no event matches the filter).
      const ok = await server.gqlOk(REGISTER, { input: { sessionId: 'ssrf', url: 'https://93.184.216.34/hook', events: ['MESSAGE'] } });
      assert.equal(ok.registerWebhook.webhook.url, 'https://93.184.216.34/hook');
    } finally {
      await server.dispose();
    }
  });

  it('checks again at delivery: a webhook allowed when registered is refused once the range is no longer allowed', async () => {
    const rx = await startReceiver();
    const dataDir = tempDir();
    const fast = { retryScheduleMs: [100], timeoutMs: 400, pollIntervalMs: 20 };
    const first = await startServer({ webhooks: { ...fast, allowCidrs: '127.0.0.0/8' } }, dataDir);
    let webhookId: string;
    try {
      await first.gqlOk(CREATE, { input: { sessionId: 'rebind' } });
      webhookId = (await first.gqlOk(REGISTER, { input: { sessionId: 'rebind', url: rx.url, events: ['MESSAGE'] } })).registerWebhook.webhook.id;
      assert.equal((await first.gqlOk(TEST, { s: 'rebind', w: webhookId })).testWebhook.status, 'SUCCEEDED');
    } finally {
      await first.stop();
    }
    const second = await startServer({ webhooks: { ...fast, allowCidrs: '' } }, dataDir);
    try {
      const ping = (await second.gqlOk(TEST, { s: 'rebind', w: webhookId })).testWebhook;
      assert.equal(ping.status, 'PENDING');
      assert.equal(ping.lastResponseCode, null);
      assert.match(ping.lastError, /127\.0\.0\.1, a loopback address that webhooks may not reach/);
      assert.equal(rx.received.length, 1, 'only the ping sent while allowed arrived');
    } finally {
      await second.dispose();
      await rx.close();
    }
  });

  it('resolves the name on every check, so DNS rebinding to a private address is caught', async () => {
    let answer = '93.184.216.34';
    const guard = new SsrfGuard('', async () => [{ address: answer, family: 4 }]);
    const url = SsrfGuard.parseUrl('https://hooks.example.com/x');
    assert.deepEqual(await guard.resolve(url), { url, address: '93.184.216.34', family: 4 });
    answer = '10.1.2.3';
    await assert.rejects(guard.resolve(url), (e: unknown) => e instanceof AppError && e.code === 'VALIDATION_ERROR' && /private/.test(e.message));
    // One private record among public ones refuses the name.
    const mixed = new SsrfGuard('', async () => [{ address: '93.184.216.34', family: 4 }, { address: '::1', family: 6 }]);
    await assert.rejects(mixed.resolve(url), /loopback/);
    const allowed = new SsrfGuard('10.0.0.0/8, ::1', async () => [{ address: '10.9.9.9', family: 4 }, { address: '::1', family: 6 }]);
    assert.equal((await allowed.resolve(url)).address, '10.9.9.9');
  });

  it('classifies IPv4, IPv6 and IPv4-mapped IPv6 addresses', () => {
    const cases: [string, string | null][] = [
      ['8.8.8.8', null],
      ['1.1.1.1', null],
      ['2606:4700:4700::1111', null],
      ['::ffff:8.8.8.8', null],
      ['127.0.0.1', 'loopback'],
      ['127.255.0.9', 'loopback'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['::ffff:10.0.0.1', 'private'],
      ['10.255.255.255', 'private'],
      ['172.31.0.1', 'private'],
      ['172.32.0.1', null],
      ['100.127.255.255', 'carrier-grade NAT (CGNAT)'],
      ['100.128.0.1', null],
      ['169.254.169.254', 'link-local'],
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['fe80::1%eth0', 'link-local'],
      ['fc00::1', 'private (unique local)'],
      ['ff05::2', 'multicast'],
      ['2001::1', 'reserved (IETF protocol assignments, Teredo)'],
      ['2002:7f00:1::', 'reserved (6to4)'],
      ['::1.2.3.4', 'reserved'],
      ['4000::1', 'reserved'],
    ];
    for (const [address, why] of cases) assert.equal(blockedReason(parseIp(address)!), why, address);
  });

  it('validates the allow-list and retry schedule settings (flags and environment)', () => {
    assert.equal(loadConfig({}, { WEBHOOK_ALLOW_CIDRS: '127.0.0.1/32,::1' }).webhooks.allowCidrs, '127.0.0.1/32,::1');
    assert.deepEqual(loadConfig({}, { WEBHOOK_RETRY_SCHEDULE: '200,400,800' }).webhooks.retryScheduleMs, [200, 400, 800]);
    assert.deepEqual(parseArgs(['--webhook-retry-schedule', '1,2', '--webhook-allow-cidrs=10.0.0.0/8'])?.webhooks, { retryScheduleMs: [1, 2], allowCidrs: '10.0.0.0/8' });
    assert.throws(() => parseArgs(['--webhook-allow-cidrs', '10.0.0.0/33']), ConfigError);
    assert.throws(() => loadConfig({}, { WEBHOOK_ALLOW_CIDRS: 'localhost' }), ConfigError);
    assert.throws(() => loadConfig({}, { WEBHOOK_RETRY_SCHEDULE: '1,x' }), ConfigError);
    const defaults = loadConfig().webhooks;
    assert.deepEqual(defaults.retryScheduleMs, [5000, 300000, 1800000, 7200000, 18000000, 36000000, 36000000]);
    assert.equal(defaults.timeoutMs, 15000);
  });
});
