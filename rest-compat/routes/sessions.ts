import {
  EXAMPLE_QR,
  EXAMPLE_SESSION,
  EXAMPLE_TIME,
  foundSession,
  jsonString,
  type JsonSchema,
  lower,
  pick,
  restError,
  type RestRequest,
  type RestRoute,
  sessionIdOf,
} from '../route.js';

const params = { sessionId: EXAMPLE_SESSION };

// REST callers write the engine as the reference and the CLI do ("sandbox", "open-wa").
const engineNames: Record<string, string> = { sandbox: 'SANDBOX', 'open-wa': 'OPEN_WA', baileys: 'BAILEYS' };

function configVariable(config: unknown): unknown {
  if (!config || typeof config !== 'object' || Array.isArray(config)) return config ?? undefined;
  const out = { ...(config as Record<string, unknown>) };
  if (typeof out.engine === 'string') out.engine = engineNames[out.engine] ?? out.engine;
  return out;
}

const summaryFields = `sessionId status createdAt lastActivity`;

const sessionSummary: JsonSchema = {
  type: 'object',
  required: ['sessionId', 'status', 'createdAt', 'lastActivity'],
  properties: {
    sessionId: { type: 'string' },
    status: { $ref: '#/components/schemas/SessionStatus' },
    createdAt: { type: 'string', format: 'date-time' },
    lastActivity: { type: 'string', format: 'date-time' },
  },
};

const qrData: JsonSchema = {
  type: 'object',
  required: ['qrCode', 'expiresAt'],
  properties: {
    qrCode: { type: 'string', description: 'data:image/png;base64,...' },
    expiresAt: { type: 'string', format: 'date-time' },
  },
};

const statusData: JsonSchema = {
  type: 'object',
  required: ['sessionId', 'status'],
  properties: { sessionId: { type: 'string' }, status: { $ref: '#/components/schemas/SessionStatus' } },
};

type LifecycleField = 'startSession' | 'stopSession' | 'restartSession' | 'logoutSession';

/** POST /sessions/{id}/<action>: one lifecycle mutation, answering the session's id and status. */
function lifecycleRoute(field: LifecycleField, action: string, summary: string, description: string, message: string, exampleStatus: string): RestRoute {
  const operation = `Rest${field[0]!.toUpperCase()}${field.slice(1)}`;
  return {
    id: field,
    method: 'POST',
    path: `/sessions/{sessionId}/${action}`,
    tag: 'Sessions',
    summary,
    description: `${description} SESSION_NOT_FOUND (404) for an unknown session.`,
    document: `mutation ${operation}($sessionId: String!) { ${field}(sessionId: $sessionId) { sessionId status } }`,
    variables: (req) => ({ sessionId: sessionIdOf(req) }),
    reply: (data) => {
      const s = data[field] as { sessionId: string; status: string };
      return { message, data: { sessionId: s.sessionId, status: lower(s.status) } };
    },
    response: { message, data: statusData },
    example: { params, data: { sessionId: EXAMPLE_SESSION, status: exampleStatus } },
  };
}

function qrOf(data: { session: { status: string; qr: { dataUrl: string; expiresAt: string } | null } | null }, req: RestRequest) {
  const session = foundSession(data.session, req);
  if (!session.qr) {
    throw restError('INVALID_SESSION_STATE', `Session '${sessionIdOf(req)}' has no QR code (status ${lower(session.status)})`, {
      sessionId: sessionIdOf(req),
      status: lower(session.status),
    });
  }
  return session.qr;
}

const QR_DOCUMENT = `query RestSessionQr($sessionId: String!) { session(sessionId: $sessionId) { status qr { dataUrl expiresAt } } }`;

const qrImageRoute = (id: string, path: string, aliasOf?: string): RestRoute => ({
  id,
  method: 'GET',
  path,
  tag: 'Sessions',
  summary: 'Get the current QR code as a PNG image',
  ...(aliasOf ? { aliasOf } : {}),
  document: QR_DOCUMENT,
  variables: (req) => ({ sessionId: sessionIdOf(req) }),
  reply: (data, req) => {
    const qr = qrOf(data, req);
    return { binary: Buffer.from(qr.dataUrl.slice(qr.dataUrl.indexOf(',') + 1), 'base64'), contentType: 'image/png' };
  },
  response: { contentType: 'image/png' },
  example: { params },
});

export const sessionRoutes: RestRoute[] = [
  {
    id: 'createSession',
    method: 'POST',
    path: '/sessions',
    tag: 'Sessions',
    summary: 'Create a session',
    description: 'With `waitForQR: true` the answer waits for the first QR code and carries it in `qrCode`.',
    document: `mutation RestCreateSession($input: CreateSessionInput!) {
      createSession(input: $input) { session { ${summaryFields} qr { dataUrl expiresAt } } }
    }`,
    variables: (req) => ({ input: { ...pick(req.body, ['sessionId', 'waitForQR']), config: configVariable(req.body.config) } }),
    reply: ({ createSession: { session } }) => ({
      status: 201,
      message: 'Session created successfully',
      data: {
        sessionId: session.sessionId,
        status: lower(session.status),
        createdAt: session.createdAt,
        qrCode: session.qr?.dataUrl ?? null,
        expiresAt: session.qr?.expiresAt ?? null,
      },
    }),
    body: {
      type: 'object',
      required: ['sessionId'],
      properties: {
        sessionId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
        waitForQR: { type: 'boolean' },
        config: { $ref: '#/components/schemas/SessionConfigInput' },
      },
    },
    response: {
      status: 201,
      message: 'Session created successfully',
      data: {
        type: 'object',
        required: ['sessionId', 'status', 'createdAt', 'qrCode'],
        properties: {
          sessionId: { type: 'string' },
          status: { $ref: '#/components/schemas/SessionStatus' },
          createdAt: { type: 'string', format: 'date-time' },
          qrCode: { type: ['string', 'null'], description: 'The first QR code as a PNG data URL (with waitForQR)' },
          expiresAt: { type: ['string', 'null'], format: 'date-time' },
        },
      },
    },
    example: {
      body: { sessionId: EXAMPLE_SESSION, waitForQR: true },
      data: { sessionId: EXAMPLE_SESSION, status: 'qr_ready', createdAt: EXAMPLE_TIME, qrCode: EXAMPLE_QR, expiresAt: '2026-01-15T09:30:20.000Z' },
    },
  },
  {
    id: 'listSessions',
    method: 'GET',
    path: '/sessions',
    tag: 'Sessions',
    summary: 'List every session',
    document: `query RestListSessions { sessions { ${summaryFields} } }`,
    variables: () => ({}),
    // Written straight to JSON (the order of summaryFields): the list is the REST API's hottest answer, and an
    // object per item built only to be stringified made its serialization about a sixth slower.
    reply: ({ sessions }) => {
      let json = '[';
      for (let i = 0; i < sessions.length; i++) {
        const s = sessions[i] as { sessionId: string; status: string; createdAt: string; lastActivity: string };
        json += `${i === 0 ? '' : ','}{"sessionId":${jsonString(s.sessionId)},"status":${jsonString(lower(s.status))},"createdAt":${jsonString(s.createdAt)},"lastActivity":${jsonString(s.lastActivity)}}`;
      }
      return { dataJson: `${json}]` };
    },
    response: { data: { type: 'array', items: sessionSummary } },
    example: { data: [{ sessionId: EXAMPLE_SESSION, status: 'qr_ready', createdAt: EXAMPLE_TIME, lastActivity: EXAMPLE_TIME }] },
  },
  {
    id: 'getSession',
    method: 'GET',
    path: '/sessions/{sessionId}',
    tag: 'Sessions',
    summary: 'Get one session',
    document: `query RestGetSession($sessionId: String!) {
      session(sessionId: $sessionId) {
        ${summaryFields} engine failureReason me { id }
        config { engine multiDevice headless qrTimeout authTimeout proxyServerCredentials { protocol address username } }
      }
    }`,
    variables: (req) => ({ sessionId: sessionIdOf(req) }),
    reply: (data, req) => {
      const s = foundSession(data.session, req);
      const { proxyServerCredentials, engine, ...config } = s.config;
      return {
        data: {
          sessionId: s.sessionId,
          status: lower(s.status),
          createdAt: s.createdAt,
          lastActivity: s.lastActivity,
          config: { ...config, ...(proxyServerCredentials ? { proxyServerCredentials } : {}) },
          engine: engine === 'OPEN_WA' ? 'open-wa' : engine === 'BAILEYS' ? 'baileys' : 'sandbox',
          failureReason: s.failureReason,
          me: s.me?.id ?? null,
        },
      };
    },
    response: {
      data: {
        type: 'object',
        required: ['sessionId', 'status', 'createdAt', 'lastActivity', 'config'],
        properties: {
          ...(sessionSummary.properties as object),
          config: {
            type: 'object',
            properties: {
              multiDevice: { type: 'boolean' },
              headless: { type: 'boolean' },
              qrTimeout: { type: 'number' },
              authTimeout: { type: 'number' },
              proxyServerCredentials: { type: 'object', description: 'Without the password' },
            },
          },
          engine: { type: 'string', enum: ['sandbox', 'open-wa', 'baileys'] },
          failureReason: { type: ['string', 'null'] },
          me: { type: ['string', 'null'], description: "The account's own id once ready, e.g. 15551000001@c.us" },
        },
      },
    },
    example: {
      params,
      data: {
        sessionId: EXAMPLE_SESSION,
        status: 'qr_ready',
        createdAt: EXAMPLE_TIME,
        lastActivity: EXAMPLE_TIME,
        config: { multiDevice: true, headless: true, qrTimeout: 60, authTimeout: 120 },
        engine: 'sandbox',
        failureReason: null,
        me: null,
      },
    },
  },
  {
    id: 'getSessionStatus',
    method: 'GET',
    path: '/sessions/{sessionId}/status',
    tag: 'Sessions',
    summary: "Get a session's status",
    document: `query RestSessionStatus($sessionId: String!) { session(sessionId: $sessionId) { status lastActivity failureReason } }`,
    variables: (req) => ({ sessionId: sessionIdOf(req) }),
    reply: (data, req) => {
      const s = foundSession(data.session, req);
      return { data: { status: lower(s.status), lastActivity: s.lastActivity, failureReason: s.failureReason } };
    },
    response: {
      data: {
        type: 'object',
        required: ['status', 'lastActivity'],
        properties: {
          status: { $ref: '#/components/schemas/SessionStatus' },
          lastActivity: { type: 'string', format: 'date-time' },
          failureReason: { type: ['string', 'null'] },
        },
      },
    },
    example: { params, data: { status: 'qr_ready', lastActivity: EXAMPLE_TIME, failureReason: null } },
  },
  {
    id: 'getSessionQr',
    method: 'GET',
    path: '/sessions/{sessionId}/qr',
    tag: 'Sessions',
    summary: 'Get the current QR code',
    description: 'INVALID_SESSION_STATE (409) when the session shows no QR code (not qr_ready).',
    document: QR_DOCUMENT,
    variables: (req) => ({ sessionId: sessionIdOf(req) }),
    reply: (data, req) => {
      const qr = qrOf(data, req);
      return { data: { qrCode: qr.dataUrl, expiresAt: qr.expiresAt } };
    },
    response: { data: qrData },
    example: { params, data: { qrCode: EXAMPLE_QR, expiresAt: '2026-01-15T09:30:20.000Z' } },
  },
  qrImageRoute('getSessionQrImage', '/sessions/{sessionId}/qr/image'),
  qrImageRoute('getSessionQrPng', '/sessions/{sessionId}/qr.png', 'getSessionQrImage'),
  {
    id: 'removeSession',
    method: 'DELETE',
    path: '/sessions/{sessionId}',
    tag: 'Sessions',
    summary: 'Stop and remove a session',
    document: `mutation RestRemoveSession($sessionId: String!) { removeSession(sessionId: $sessionId) { sessionId removed } }`,
    variables: (req) => ({ sessionId: sessionIdOf(req) }),
    reply: () => ({ message: 'Session removed successfully' }),
    response: { message: 'Session removed successfully' },
    example: { params },
  },
  lifecycleRoute(
    'stopSession',
    'stop',
    'Stop a session',
    'The engine stops; the session stays listed as terminated with its config, webhooks, history and login, also across server restarts. INVALID_SESSION_STATE (409) when it is already stopped.',
    'Session has been stopped',
    'terminated',
  ),
  lifecycleRoute(
    'startSession',
    'start',
    'Start a stopped or failed session',
    'Answers once the session shows a QR code (qr_ready), is ready (its login was kept) or failed. INVALID_SESSION_STATE (409) when it is running.',
    'Session has been started',
    'ready',
  ),
  lifecycleRoute('restartSession', 'restart', 'Restart a session', 'Stops the session if it runs, then starts it; answers like start.', 'Session has been restarted', 'ready'),
  lifecycleRoute(
    'logoutSession',
    'logout',
    'Log a session out',
    'Forgets the login and leaves the session terminated: its next start shows a QR code. Config, webhooks and history stay.',
    'Session has been logged out',
    'terminated',
  ),
  {
    id: 'sandboxScanQr',
    method: 'POST',
    path: '/sessions/{sessionId}/sandbox/scan',
    tag: 'Sandbox',
    summary: 'Scan the QR code as a phone would (sandbox engine only)',
    description: 'ENGINE_UNSUPPORTED on other engines; INVALID_SESSION_STATE when there is no QR code to scan.',
    document: `mutation RestSandboxScan($sessionId: String!) { sandboxScanQr(sessionId: $sessionId) { sessionId status } }`,
    variables: (req) => ({ sessionId: sessionIdOf(req) }),
    reply: ({ sandboxScanQr: s }) => ({ message: 'QR code scanned', data: { sessionId: s.sessionId, status: lower(s.status) } }),
    response: {
      message: 'QR code scanned',
      data: {
        type: 'object',
        required: ['sessionId', 'status'],
        properties: { sessionId: { type: 'string' }, status: { $ref: '#/components/schemas/SessionStatus' } },
      },
    },
    example: { params, data: { sessionId: EXAMPLE_SESSION, status: 'authenticated' } },
  },
];
