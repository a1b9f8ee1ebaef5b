import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { buildApp, type App, type BuildOptions } from '../../src/app.js';
import type { Config, DeepPartial } from '../../src/config.js';
import { databaseFor, dropDatabaseFor, queryDatabase, testStore } from './pg.js';

/** Settings that make the sandbox run in milliseconds; a test overrides what it needs. */
export const fastSettings: DeepPartial<Config> = {
  logLevel: 'silent',
  sandbox: { startDelayMs: 20, qrRotateMs: 2000, authDelayMs: 20, deliveryDelayMs: 5, botReplyDelayMs: 20, readDelayMs: 0 },
  // Generous limits so suites that are not about rate limiting never meet them.
  rateLimit: { general: 1_000_000, sessionCreate: 1_000_000, messaging: 1_000_000 },
  sendQueue: { minGapMs: 0, jitterMs: 0 },
};

// Every temp dir a test file made is removed when its process exits (each test file runs in its own
// process), including those of servers a test only stopped to restart.
const made = new Set<string>();
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'wa-gateway-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}

export interface GqlResult<T = any> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string; details?: any } }[];
}

export interface TestServer {
  app: App;
  url: string;
  wsUrl: string;
  dataDir: string;
  /** The backend it stores to (WA_TEST_STORE=postgres: a database of its own, one per data dir). */
  store: 'sqlite' | 'postgres';
  /** Its PostgreSQL database, when store is 'postgres'. */
  databaseUrl: string | undefined;
  /**
   * One statement on the server's storage, from outside the app (`?` placeholders on both backends): the
   * rows of a read; a write runs on its own connection. Column names of expressions differ between the two.
   */
  sql<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** POST a GraphQL operation; returns the JSON body (data and errors). */
  gql<T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GqlResult<T>>;
  /** Like gql, but throws on errors and returns data. */
  gqlOk<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
  wsClient(connectionParams?: Record<string, unknown>): Client;
  /** Stop the app (keeps the data dir, for restart tests). */
  stop(): Promise<void>;
  /** Stop and delete the data dir (and its PostgreSQL database). */
  dispose(): Promise<void>;
}

function merge<T>(a: T, b: unknown): T {
  if (!b || typeof b !== 'object' || Array.isArray(b)) return (b ?? a) as T;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b)) out[k] = v && typeof v === 'object' && !Array.isArray(v) ? merge(out[k] ?? {}, v) : v;
  return out as T;
}

/** The storage of a data dir from outside the app: see TestServer.sql. */
export async function storeSql<T = Record<string, unknown>>(dataDir: string, text: string, params: readonly unknown[] = []): Promise<T[]> {
  if (testStore === 'postgres') return queryDatabase<T>((await databaseFor(dataDir)).url, text, params);
  const reads = /^\s*(select|with|pragma)\b/i.test(text);
  const db = new Database(join(dataDir, 'wa-gateway.sqlite'), { readonly: reads });
  try {
    const statement = db.prepare(text);
    if (statement.reader) return statement.all(...params) as T[];
    statement.run(...params);
    return [];
  } finally {
    db.close();
  }
}

/**
 * Start the real app on a free loopback port with its own data dir (or the one given, to restart). With
 * WA_TEST_STORE=postgres it stores to a PostgreSQL database of that data dir instead of the SQLite file.
 */
export async function startServer(overrides: DeepPartial<Config> = {}, dataDir = tempDir(), options: BuildOptions = {}): Promise<TestServer> {
  const databaseUrl = testStore === 'postgres' ? (await databaseFor(dataDir)).url : undefined;
  // Config's databaseUrl ('' = SQLite); a test's own overrides still win.
  const storage = (databaseUrl ? { databaseUrl } : {}) as DeepPartial<Config>;
  const app = await buildApp(merge(merge(fastSettings, { host: '127.0.0.1', dataDir, ...storage }), overrides), options);
  if (databaseUrl) await assertOnPostgres(app, databaseUrl);
  const { port } = await app.start(0);
  const url = `http://127.0.0.1:${port}`;
  const wsUrl = `ws://127.0.0.1:${port}`;
  const clients: Client[] = [];
  const gql = async <T>(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GqlResult<T>;
  };
  const server: TestServer = {
    app,
    url,
    wsUrl,
    dataDir,
    store: testStore,
    databaseUrl,
    sql: (text, params) => storeSql(dataDir, text, params),
    gql,
    async gqlOk<T>(query: string, variables: Record<string, unknown> = {}) {
      const result = await gql<T>(query, variables);
      if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
      return result.data as T;
    },
    wsClient(connectionParams) {
      const client = createClient({ url: `${wsUrl}/graphql`, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.allSettled(clients.map((c) => c.dispose()));
      await app.stop();
    },
    async dispose() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
      await dropDatabaseFor(dataDir);
    },
  };
  return server;
}

// A PostgreSQL pass whose servers quietly stored to SQLite would prove nothing: the app must have migrated
// the database it was given.
async function assertOnPostgres(app: App, url: string): Promise<void> {
  const [row] = await queryDatabase<{ n: number }>(url, "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'sessions'");
  if (row?.n !== 1) {
    await app.stop();
    throw new Error(`WA_TEST_STORE=postgres: the server did not migrate ${url} (does the config take databaseUrl?)`);
  }
}

/** Collects the values of a graphql-ws subscription; `next(n)` waits until n values have arrived. */
export function collect<T = any>(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const values: T[] = [];
  const errors: unknown[] = [];
  let waiters: { n: number; resolve: () => void }[] = [];
  let completed = false;
  const wake = () => {
    waiters = waiters.filter((w) => {
      if (values.length >= w.n || errors.length > 0 || completed) {
        w.resolve();
        return false;
      }
      return true;
    });
  };
  const unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (value) => {
        if (value.errors) errors.push(value.errors);
        else values.push(value.data as T);
        wake();
      },
      error: (error) => {
        errors.push(error);
        wake();
      },
      complete: () => {
        completed = true;
        wake();
      },
    },
  );
  return {
    values,
    errors,
    get completed() {
      return completed;
    },
    unsubscribe,
    /** Waits until `n` values arrived (or an error or completion), at most `timeoutMs`. */
    async next(n: number, timeoutMs = 5000): Promise<T[]> {
      if (values.length < n && errors.length === 0 && !completed) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} values, got ${values.length}: ${JSON.stringify(values)}`)), timeoutMs);
          waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
        });
      }
      if (errors.length) throw new Error(`subscription error: ${JSON.stringify(errors)}`);
      return values;
    },
  };
}

/** Polls `check` until it returns a truthy value, at most `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const CREATE = `mutation($input: CreateSessionInput!) { createSession(input: $input) { session { sessionId status qr { dataUrl expiresAt } failureReason } } }`;
export const SCAN = `mutation($id: String!) { sandboxScanQr(sessionId: $id) { sessionId status } }`;
export const STATUS = `query($id: String!) { session(sessionId: $id) { sessionId status failureReason me { id } } }`;

/** Create a sandbox session and bring it to READY; returns its own chat id (`<phone>@c.us`). */
export async function readySession(server: TestServer, sessionId: string): Promise<string> {
  await server.gqlOk(CREATE, { input: { sessionId, waitForQR: true } });
  await server.gqlOk(SCAN, { id: sessionId });
  const session = await waitFor(async () => {
    const data = await server.gqlOk(STATUS, { id: sessionId });
    return data.session?.status === 'READY' ? data.session : null;
  }, 5000, `${sessionId} READY`);
  return session.me.id as string;
}
