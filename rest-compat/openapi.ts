import type { JsonSchema, RestRoute } from './route.js';

const errorResponse = { $ref: '#/components/responses/Error' };

const components = {
  schemas: {
    SessionStatus: {
      type: 'string',
      enum: ['initializing', 'qr_ready', 'authenticated', 'ready', 'failed', 'terminated'],
    },
    SessionConfigInput: {
      type: 'object',
      additionalProperties: false,
      properties: {
        engine: { type: 'string', enum: ['sandbox', 'open-wa'], description: 'Defaults to the server default (--engine)' },
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
            code: { type: 'string', examples: ['SESSION_NOT_FOUND'] },
            message: { type: 'string' },
            details: { type: 'object' },
          },
        },
      },
    },
  },
  responses: {
    Error: {
      description: 'An error: `{success:false, error:{code, message, details}}`; the HTTP status follows the code',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } },
    },
  },
};

function envelope(route: RestRoute): JsonSchema {
  const properties: Record<string, unknown> = { success: { const: true } };
  const required = ['success'];
  if (route.response.message) {
    properties.message = { type: 'string', examples: [route.response.message] };
    required.push('message');
  }
  if (route.response.data) {
    properties.data = route.response.data;
    required.push('data');
  }
  return { type: 'object', required, properties };
}

function operation(route: RestRoute, byId: Map<string, RestRoute>): Record<string, unknown> {
  const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  const queryParams = (route.query ?? []).map((q) => ({ name: q.name, in: 'query', required: false, description: q.description, schema: q.schema }));
  const success = String(route.response.status ?? 200);
  const content =
    route.response.contentType === 'image/png'
      ? { 'image/png': { schema: { type: 'string', contentMediaType: 'image/png' } } }
      : { 'application/json': { schema: envelope(route) } };
  const errors: Record<string, unknown> = { '400': errorResponse };
  if (route.path.includes('{')) errors['404'] = errorResponse;
  if (route.path.includes('{sessionId}') || route.method === 'POST') errors['409'] = errorResponse;
  if (route.body) {
    errors['413'] = errorResponse;
    errors['415'] = errorResponse;
  }
  errors['500'] = errorResponse;
  const alias = route.aliasOf ? byId.get(route.aliasOf) : undefined;
  const description = [route.description, alias ? `Alias of \`${alias.method} ${alias.path}\`.` : undefined].filter(Boolean).join('\n\n');
  return {
    operationId: route.id,
    summary: route.summary,
    ...(description ? { description } : {}),
    tags: [route.tag],
    ...(pathParams.length + queryParams.length > 0 ? { parameters: [...pathParams, ...queryParams] } : {}),
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
    responses: { [success]: { description: 'Success', content }, ...errors, default: errorResponse },
  };
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
      responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
    },
  };
  paths['/docs'] = {
    get: {
      operationId: 'getDocs',
      summary: 'A page that renders this document (no external scripts)',
      tags: ['Meta'],
      responses: { '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } },
    },
  };
  const tags = [...new Set([...routes.map((r) => r.tag), 'Meta'])].map((name) => ({ name }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'wa-gateway REST API',
      version: o.version,
      description:
        'The REST compatibility layer of wa-gateway (the multi-session API reference). Every route runs a GraphQL operation of /graphql. ' +
        'Success: `{success:true, message?, data}`. Error: `{success:false, error:{code, message, details}}`. Every response carries `x-request-id`.',
    },
    servers: [{ url: o.basePath }],
    tags,
    paths,
    components,
  };
}
