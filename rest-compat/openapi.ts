import { errorCodes, errorStatus, type ErrorCode } from '../src/errors.js';
import { eventPayloadDocs } from './event-payload.js';
import { ECHO_BOT, EXAMPLE_SESSION, EXAMPLE_TIME, EXAMPLE_UNIX, type JsonSchema, type RestRoute } from './route.js';

/** A message of each code, for the error examples (one per code: a new code in src/errors.ts needs one here). */
const sampleMessages: Record<ErrorCode, string> = {
  SESSION_NOT_FOUND: "Session with ID 'demo' not found",
  NOT_FOUND: "Session 'demo' has no chat '15550009999@c.us'",
  METHOD_NOT_ALLOWED: 'PUT is not allowed on /api/v1/sessions (allowed: POST, GET, HEAD)',
  SESSION_NOT_READY: "Session 'demo' is not ready (status qr_ready)",
  SESSION_ALREADY_EXISTS: "Session 'demo' already exists",
  INVALID_SESSION_STATE: "Session 'demo' has no QR code (status ready)",
  MESSAGE_NOT_FOUND: "Session 'demo' has no message 'false_15550000001@c.us_01A242D70CB40000E7EB'",
  MEDIA_GONE: 'The media of this message is no longer kept (pruned after --media-retention-days, or gone from WhatsApp)',
  INVALID_CHAT_ID: "chatId must look like 15550001234@c.us or ...@g.us, not 'bob'",
  VALIDATION_ERROR: 'content must not be empty',
  BAD_REQUEST: 'the request body is not valid JSON',
  NOT_ON_WHATSAPP: '15559999999@c.us is not on WhatsApp',
  ENGINE_UNSUPPORTED: 'sandboxScanQr works on sandbox sessions only',
  MAX_SESSIONS_REACHED: 'At most 10 sessions may run at once',
  RATE_LIMITED: 'Too many requests; retry after 1 s',
  TOO_MANY_SUBSCRIPTIONS: 'at most 100 live subscriptions per connection',
  UNAUTHENTICATED: 'a valid API key is required',
  FORBIDDEN: "this API key may not MANAGE session 'demo'",
  NOT_GROUP_ADMIN: "Only admins of group '15551000001-1768469400@g.us' may change its settings",
  GROUP_ANNOUNCE_ONLY: "Only admins may send to group '15551000001-1768469400@g.us' (announce)",
  CONTACT_BLOCKED: 'You blocked 15550000001@c.us: unblock it to write',
  PAYLOAD_TOO_LARGE: 'the request body is larger than 16777216 bytes',
  UNSUPPORTED_MEDIA_TYPE: 'the request body must be JSON (Content-Type: application/json), not text/plain',
  ENGINE_ERROR: 'the engine failed: browser closed',
  STORAGE_FULL: "The server's storage is full: nothing was written. Retry once space is freed.",
  DATABASE_UNAVAILABLE: 'The database is unreachable (PostgreSQL down or restarting): nothing was written. Retry after the Retry-After seconds.',
  INTERNAL_ERROR: 'Unexpected error.',
};

const statusNames: Record<number, string> = {
  400: 'Bad request',
  401: 'No or wrong API key',
  403: 'The API key may not do this, or WhatsApp refused it (group admin, announce group, blocked contact)',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict with the session state',
  413: 'Body too large',
  415: 'Body is not JSON',
  429: 'Too many requests or sessions',
  500: 'Unexpected error',
  502: 'The engine failed',
  507: "The server's storage is full",
};

const codesOf = (status: number) => errorCodes.filter((code) => errorStatus[code] === status);
const statuses = [...new Set(Object.values(errorStatus))].sort();
const responseRef = (status: number) => ({ $ref: `#/components/responses/Error${status}` });

function errorResponses(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const status of statuses) {
    const codes = codesOf(status);
    out[`Error${status}`] = {
      description: `${statusNames[status] ?? 'Error'}: ${codes.join(', ')}`,
      ...(status === 401 ? { headers: { 'WWW-Authenticate': { schema: { type: 'string' }, description: 'How to present a key' } } } : {}),
      content: {
        'application/json': {
          schema: { $ref: '#/components/schemas/ErrorEnvelope' },
          examples: Object.fromEntries(
            codes.map((code) => [code, { summary: code, value: { success: false, error: { code, message: sampleMessages[code], details: {} } } }]),
          ),
        },
      },
    };
  }
  return out;
}

const components = {
  securitySchemes: {
    ApiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-Api-Key', description: 'The API key (--api-key or one made by createApiKey)' },
    Bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <key>' },
    Basic: { type: 'http', scheme: 'basic', description: 'HTTP Basic with the key as the password (or as the user name with an empty password)' },
  },
  schemas: {
    SessionStatus: {
      type: 'string',
      enum: ['initializing', 'qr_ready', 'authenticated', 'ready', 'failed', 'terminated'],
    },
    SessionConfigInput: {
      type: 'object',
      additionalProperties: false,
      properties: {
        engine: { type: 'string', enum: ['sandbox', 'open-wa', 'baileys'], description: 'Defaults to the server default (--engine)' },
        multiDevice: { type: 'boolean' },
        headless: { type: 'boolean' },
        qrTimeout: { type: 'number', description: 'Seconds an unscanned QR phase may last' },
        authTimeout: { type: 'number', description: 'Seconds the authenticated phase may last' },
        proxyServerCredentials: {
          type: 'object',
          required: ['address'],
          properties: { protocol: { type: 'string' }, address: { type: 'string' }, username: { type: 'string' }, password: { type: 'string' } },
        },
        licenceKey: { type: 'string' },
        sandbox: { type: 'object', properties: { autoScanMs: { type: 'integer', minimum: 0, description: 'Scan the QR automatically after this many ms' } } },
      },
    },
    ErrorEnvelope: {
      type: 'object',
      required: ['success', 'error'],
      properties: {
        success: { const: false },
        error: {
          type: 'object',
          required: ['code', 'message', 'details'],
          properties: {
            code: { type: 'string', enum: errorCodes },
            message: { type: 'string' },
            details: { type: 'object', description: 'What the code is about: the field, the session id, the limit ...' },
          },
        },
      },
    },
  },
  responses: errorResponses(),
};

function envelope(route: RestRoute): JsonSchema {
  const properties: Record<string, unknown> = { success: { const: true } };
  const required = ['success'];
  if (route.response.message) {
    properties.message = { type: 'string' };
    required.push('message');
  }
  if (route.response.data) {
    properties.data = route.response.data;
    required.push('data');
  }
  return { type: 'object', required, properties };
}

/** The error statuses a route can answer besides 401/403/429/500, which every route can. */
function errorStatuses(route: RestRoute): number[] {
  const out = [400, 401, 403];
  if (route.path.includes('{')) out.push(404);
  if (route.path.includes('{sessionId}') || route.method === 'POST') out.push(409);
  if (route.body) out.push(413, 415);
  out.push(429, 500);
  if (route.path.includes('{sessionId}')) out.push(502);
  return out;
}

function operation(route: RestRoute, byId: Map<string, RestRoute>): Record<string, unknown> {
  const example = route.example;
  const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
    ...(example.params?.[m[1]!] !== undefined ? { example: example.params[m[1]!] } : {}),
  }));
  const queryParams = (route.query ?? []).map((q) => ({
    name: q.name,
    in: 'query',
    required: false,
    description: q.description,
    schema: q.schema,
    ...(example.query?.[q.name] !== undefined ? { example: example.query[q.name] } : {}),
  }));
  const success = String(route.response.status ?? 200);
  const sample: Record<string, unknown> = { success: true };
  if (route.response.message) sample.message = route.response.message;
  if (example.data !== undefined) sample.data = example.data;
  const content =
    route.response.contentType
      ? { [route.response.contentType]: { schema: { type: 'string', contentMediaType: route.response.contentType } } }
      : { 'application/json': { schema: envelope(route), example: sample } };
  const errors: Record<string, unknown> = {};
  for (const status of errorStatuses(route)) errors[String(status)] = responseRef(status);
  const alias = route.aliasOf ? byId.get(route.aliasOf) : undefined;
  const description = [route.description, alias ? `Alias of \`${alias.method} ${alias.path}\`.` : undefined].filter(Boolean).join('\n\n');
  return {
    operationId: route.id,
    summary: route.summary,
    ...(description ? { description } : {}),
    tags: [route.tag],
    ...(pathParams.length + queryParams.length > 0 ? { parameters: [...pathParams, ...queryParams] } : {}),
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: route.body, ...(example.body ? { example: example.body } : {}) } } } } : {}),
    responses: { [success]: { description: 'Success', content }, ...errors },
  };
}

// ---- webhooks: what a registered URL receives ----------------------------------------------------------

/** Every body a webhook receives, by its `event` name (`data` is what the /ws socket sends for the same event). */
const webhookEvents = [
  ...eventPayloadDocs(),
  {
    event: 'ping',
    summary: 'A test delivery (testWebhook; webhooks only)',
    data: { type: 'object', additionalProperties: false, required: ['webhookId', 'message'], properties: { webhookId: { type: 'string' }, message: { type: 'string' } } },
    example: { webhookId: 'wh_qDa0Ok2UB4AHQbhA', message: 'Test delivery from wa-gateway' },
  },
];

const signatureHeaders = [
  { name: 'webhook-id', description: "The delivery's id, the same on every attempt (dedupe on it)", example: 'msg_0mx9gq7jpZubm-ASd-Gh2' },
  { name: 'webhook-timestamp', description: 'Unix seconds of this attempt', example: String(EXAMPLE_UNIX) },
  { name: 'webhook-signature', description: 'v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>" with the secret>', example: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=' },
].map((h) => ({ name: h.name, in: 'header', required: true, description: h.description, schema: { type: 'string' }, example: h.example }));

function webhooks(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const e of webhookEvents) {
    out[e.event] = {
      post: {
        operationId: `webhook_${e.event}`,
        summary: e.summary,
        description:
          'POSTed to every registered URL whose events include it, signed per Standard Webhooks. ' +
          'A 2xx answer completes the delivery; anything else is retried with backoff; 410 Gone disables the webhook. ' +
          'The legacy socket `ws://host/ws/{sessionId}` sends the same `data` as `{event, sessionId, data}` for qr, authenticated, ready, ' +
          'message (received ones), ack, disconnected, reaction, message_revoked, message_edited and presence.',
        tags: ['Webhook payloads'],
        parameters: signatureHeaders,
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['id', 'event', 'sessionId', 'timestamp', 'data'],
                properties: {
                  id: { type: 'string', description: 'The same as webhook-id' },
                  event: { const: e.event },
                  sessionId: { type: 'string' },
                  timestamp: { type: 'string', format: 'date-time' },
                  data: e.data,
                },
              },
              example: { id: 'msg_0mx9gq7jpZubm-ASd-Gh2', event: e.event, sessionId: EXAMPLE_SESSION, timestamp: EXAMPLE_TIME, data: e.example },
            },
          },
        },
        responses: { '200': { description: 'Received (any 2xx)' }, '410': { description: 'Gone: disable this webhook' } },
      },
    };
  }
  return out;
}

function introduction(): string {
  const codes = statuses.map((status) => `| ${status} | ${codesOf(status).map((code) => `\`${code}\``).join(', ')} |`).join('\n');
  return [
    'The REST compatibility layer of wa-gateway (the multi-session API reference). Every route runs a GraphQL operation of `/graphql`, ' +
      'so both APIs share the same checks, limits and answers.',
    '**First steps against the sandbox** (every example below runs as written, in this order): `POST /sessions` creates the session ' +
      `\`${EXAMPLE_SESSION}\` with its QR code, \`POST /sessions/${EXAMPLE_SESSION}/sandbox/scan\` scans it as a phone would, and a moment later ` +
      `\`POST /sessions/${EXAMPLE_SESSION}/send-text\` writes to the Echo Bot (\`${ECHO_BOT}\`), which answers with the same text.`,
    '**API key**: when the server runs with `--api-key`, press **Authorize** and give the key in one of the three ways (X-Api-Key, Bearer, or Basic).',
    'Success: `{success: true, message?, data}`. Error: `{success: false, error: {code, message, details}}`; the HTTP status follows the code. ' +
      'Every answer carries `x-request-id`.',
    `| HTTP status | error codes |\n| --- | --- |\n${codes}`,
  ].join('\n\n');
}

/** The OpenAPI 3.1 document of the route table (plus the document itself and the docs page). */
export function buildOpenApi(routes: readonly RestRoute[], o: { version: string; basePath: string }): Record<string, unknown> {
  const byId = new Map(routes.map((r) => [r.id, r]));
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route, byId);
  }
  paths['/openapi.json'] = {
    get: {
      operationId: 'getOpenApi',
      summary: 'This OpenAPI document',
      tags: ['Meta'],
      security: [{}],
      responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
    },
  };
  paths['/docs'] = {
    get: {
      operationId: 'getDocs',
      summary: 'This page: the document rendered by Swagger UI, served from this server',
      tags: ['Meta'],
      security: [{}],
      responses: { '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } },
    },
  };
  const tags = [...new Set([...routes.map((r) => r.tag), 'Meta'])].map((name) => ({ name }));
  return {
    openapi: '3.1.0',
    info: { title: 'wa-gateway REST API', version: o.version, description: introduction() },
    servers: [{ url: o.basePath }],
    // Any one of the three; `{}`: a server without --api-key needs none.
    security: [{ ApiKeyHeader: [] }, { Bearer: [] }, { Basic: [] }, {}],
    tags,
    paths,
    webhooks: webhooks(),
    components,
  };
}
