import { EXAMPLE_SESSION, EXAMPLE_TIME, lower, sessionIdOf, type JsonSchema, type RestRoute } from '../route.js';

const params = { sessionId: EXAMPLE_SESSION };
// A receiver on this machine: loopback needs --webhook-allow-cidrs 127.0.0.0/8; a public https URL needs nothing.
const exampleUrl = 'http://127.0.0.1:3000/webhook';
const exampleId = 'wh_qDa0Ok2UB4AHQbhA';
const exampleWebhook = {
  id: exampleId,
  sessionId: EXAMPLE_SESSION,
  url: exampleUrl,
  headers: {},
  enabled: true,
  disabledReason: null,
  failingSince: null,
  createdAt: EXAMPLE_TIME,
  updatedAt: EXAMPLE_TIME,
  events: ['message', 'ack'],
};

const WEBHOOK_FIELDS = 'id sessionId url events allEvents headers enabled disabledReason failingSince createdAt updatedAt';

interface GqlWebhook {
  id: string;
  sessionId: string;
  url: string;
  events: string[];
  allEvents: boolean;
  headers: Record<string, string>;
  enabled: boolean;
  disabledReason: string | null;
  failingSince: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A webhook as REST shows it: the reference's lower-case event names, `["*"]` for every event. */
const restWebhook = ({ allEvents, events, ...w }: GqlWebhook) => ({ ...w, events: allEvents ? ['*'] : events.map((e) => lower(e)) });

const webhookSchema: JsonSchema = {
  type: 'object',
  required: ['id', 'sessionId', 'url', 'events', 'headers', 'enabled', 'createdAt'],
  properties: {
    id: { type: 'string' },
    sessionId: { type: 'string' },
    url: { type: 'string' },
    events: { type: 'array', items: { type: 'string' }, description: 'message, ack, group_join ...; ["*"] = every event' },
    headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Custom headers, values masked' },
    enabled: { type: 'boolean' },
    disabledReason: { type: ['string', 'null'] },
    failingSince: { type: ['string', 'null'], format: 'date-time' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
};

export const webhookRoutes: RestRoute[] = [
  {
    id: 'registerWebhook',
    method: 'POST',
    path: '/sessions/{sessionId}/webhooks',
    tag: 'Webhooks',
    summary: 'Register a webhook',
    description:
      'Deliveries are signed per Standard Webhooks with the `secret` returned here (only here, once). ' +
      'Private, loopback and other reserved addresses are refused (VALIDATION_ERROR) unless `--webhook-allow-cidrs` lets them in: ' +
      'the example posts to a receiver on this machine, so it needs `--webhook-allow-cidrs 127.0.0.0/8`. The payloads are listed under Webhooks.',
    document: `mutation RestRegisterWebhook($input: RegisterWebhookInput!) {
      registerWebhook(input: $input) { secret webhook { ${WEBHOOK_FIELDS} } }
    }`,
    // `events` are the reference's names ("message", "ack", "group_join", "*"): the service maps them.
    variables: (req) => ({
      input: {
        sessionId: sessionIdOf(req),
        url: req.body.url,
        eventNames: req.body.events ?? null,
        headers: req.body.headers ?? null,
        ...(req.body.includeMedia !== undefined ? { includeMedia: req.body.includeMedia } : {}),
      },
    }),
    reply: ({ registerWebhook: { secret, webhook } }) => ({
      status: 201,
      message: 'Webhook registered successfully',
      data: { ...restWebhook(webhook), secret },
    }),
    body: {
      type: 'object',
      required: ['url'],
      properties: {
        url: { type: 'string', format: 'uri' },
        events: { type: 'array', items: { type: 'string' }, description: 'message, ack, group_join ... or "*"; empty or absent = every event' },
        headers: { type: 'object', additionalProperties: { type: 'string' } },
        includeMedia: { type: 'boolean', default: false, description: "Message deliveries carry the media's bytes as media.dataUrl, up to --webhook-max-media-bytes" },
      },
    },
    response: {
      status: 201,
      message: 'Webhook registered successfully',
      data: {
        ...webhookSchema,
        required: [...(webhookSchema.required as string[]), 'secret'],
        properties: { ...(webhookSchema.properties as object), secret: { type: 'string', description: 'whsec_...: the signing secret, shown once' } },
      },
    },
    example: {
      params,
      body: { url: exampleUrl, events: ['message', 'ack'] },
      data: { ...exampleWebhook, secret: 'whsec_DGnZqxiXZdRb3JOx+5VVkW9MNfi4GfVol6kkDNhZ6Ok=' },
    },
  },
  {
    id: 'listWebhooks',
    method: 'GET',
    path: '/sessions/{sessionId}/webhooks',
    tag: 'Webhooks',
    summary: "List a session's webhooks",
    document: `query RestListWebhooks($sessionId: String!) { webhooks(sessionId: $sessionId) { ${WEBHOOK_FIELDS} } }`,
    variables: (req) => ({ sessionId: sessionIdOf(req) }),
    reply: ({ webhooks }) => ({ data: (webhooks as GqlWebhook[]).map(restWebhook) }),
    response: { data: { type: 'array', items: webhookSchema } },
    example: { params, data: [exampleWebhook] },
  },
  {
    id: 'removeWebhook',
    method: 'DELETE',
    path: '/sessions/{sessionId}/webhooks/{webhookId}',
    tag: 'Webhooks',
    summary: 'Remove a webhook',
    description: 'Its queued deliveries are dropped; nothing more is sent to it.',
    document: `mutation RestRemoveWebhook($sessionId: String!, $webhookId: ID!) {
      removeWebhook(sessionId: $sessionId, webhookId: $webhookId) { webhookId removed }
    }`,
    variables: (req) => ({ sessionId: sessionIdOf(req), webhookId: req.params.webhookId! }),
    reply: ({ removeWebhook }) => ({ message: 'Webhook removed successfully', data: removeWebhook }),
    response: {
      message: 'Webhook removed successfully',
      data: { type: 'object', required: ['webhookId', 'removed'], properties: { webhookId: { type: 'string' }, removed: { type: 'boolean' } } },
    },
    example: { params: { ...params, webhookId: exampleId }, data: { webhookId: exampleId, removed: true } },
  },
];
