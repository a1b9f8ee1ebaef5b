import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { maskUrl } from '../src/webhooks/webhook-service.js';
import { readySession, startServer, type TestServer } from './helpers/app.js';
import { ADMIN_KEY, createKey, gqlAs, gqlOkAs, withKey } from './helpers/auth.js';
import { startReceiver, type Receiver } from './helpers/webhooks.js';
import { rest } from './rest-helpers.js';

const LIST = 'query($id: String!) { webhooks(sessionId: $id) { id url headers } session(sessionId: $id) { webhooks { url } } }';

describe('webhook URLs: in full with MANAGE, masked without', () => {
  let server: TestServer;
  let rx: Receiver;
  let full: string;
  let masked: string;
  let readKey: string;
  let manageKey: string;
  before(async () => {
    server = await startServer({ auth: { apiKeys: [ADMIN_KEY] }, webhooks: { allowCidrs: '127.0.0.1/32' } });
    rx = await startReceiver();
    const asAdmin = { ...server, gqlOk: (q: string, v?: Record<string, unknown>) => gqlOkAs(server, ADMIN_KEY, q, v) } as TestServer;
    await readySession(asAdmin, 'w');
    // A Slack-style path secret and a query-string token, as receivers hand them out.
    full = `${rx.url}/services/T0AB1C2D3/B0123ABCD/a1b2C3d4E5f6G7h8I9j0K1l2?token=s3cr3t-value`;
    masked = `${rx.url}/services/****/****/****?****`;
    await gqlOkAs(server, ADMIN_KEY, 'mutation($input: RegisterWebhookInput!) { registerWebhook(input: $input) { webhook { id } } }', {
      input: { sessionId: 'w', url: full, headers: { Authorization: 'Bearer a-long-secret-token' } },
    });
    readKey = (await createKey(server, { sessionIds: ['w'], actions: ['READ'] })).key;
    manageKey = (await createKey(server, { sessionIds: ['w'], actions: ['READ', 'MANAGE'] })).key;
  });
  after(async () => {
    await server.dispose();
    await rx.close();
  });

  it('GraphQL: a READ key sees the URL masked (Query.webhooks and Session.webhooks); MANAGE and admin keys see it in full', async () => {
    const asRead = await gqlAs(server, LIST, { id: 'w' }, withKey(readKey));
    assert.equal(asRead.errors, undefined);
    assert.equal(asRead.data.webhooks[0].url, masked);
    assert.equal(asRead.data.session.webhooks[0].url, masked);
    assert.deepEqual(asRead.data.webhooks[0].headers, { Authorization: 'Bear****' });
    for (const key of [manageKey, ADMIN_KEY]) {
      const data = await gqlOkAs(server, key, LIST, { id: 'w' });
      assert.equal(data.webhooks[0].url, full);
      assert.equal(data.session.webhooks[0].url, full);
      assert.deepEqual(data.webhooks[0].headers, { Authorization: 'Bear****' }, 'header values stay masked for everyone');
    }
  });

  it('REST: the same rule on GET /sessions/{id}/webhooks', async () => {
    const asRead = await rest(server, 'GET', '/sessions/w/webhooks', undefined, withKey(readKey));
    assert.equal(asRead.status, 200);
    assert.equal(asRead.body.data[0].url, masked);
    const asManage = await rest(server, 'GET', '/sessions/w/webhooks', undefined, withKey(manageKey));
    assert.equal(asManage.body.data[0].url, full);
    // A cached answer for one key is never given to another.
    assert.equal((await rest(server, 'GET', '/sessions/w/webhooks', undefined, withKey(readKey))).body.data[0].url, masked);
  });

  it('the masking rule: credentials, query, fragment and id- or token-like path segments; plain words stay', () => {
    const cases: [string, string][] = [
      ['https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX', 'https://hooks.slack.com/services/****/****/****'],
      ['https://discord.com/api/webhooks/123456789012345678/Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8', 'https://discord.com/api/webhooks/****/****'],
      ['https://hooks.zapier.com/hooks/catch/1234567/abc1de2/', 'https://hooks.zapier.com/hooks/catch/****/****/'],
      ['https://example.com/hooks/wa?token=s3cr3t&x=1#frag', 'https://example.com/hooks/wa?****#****'],
      ['https://user:pw@example.com:8443/incoming-webhooks-endpoint/', 'https://****@example.com:8443/incoming-webhooks-endpoint/'],
      ['https://example.com/v2/events', 'https://example.com/v2/events'],
      ['http://10.0.0.1:9000/', 'http://10.0.0.1:9000/'],
      ['not a url', '****'],
    ];
    for (const [url, expected] of cases) assert.equal(maskUrl(url), expected, url);
  });
});
