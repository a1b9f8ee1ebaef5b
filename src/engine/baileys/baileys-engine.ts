// The Baileys engine: WhatsApp's multi-device protocol over a WebSocket, no browser. The package is loaded
// when the first Baileys session starts, so sandbox-only servers never load it.
import type { Agent } from 'node:https';
import type { AnyStore } from '../../store/database.js';
import type { Engine, EngineEventSink, EngineStartOptions, ProxyServerCredentials } from '../engine.js';
import type { Logger } from '../../logger.js';
import { AuthCipher, deleteAuthState, type BaileysModule } from './auth-store.js';
import { BaileysSession, defaultBaileysSettings, type BaileysSettings } from './baileys-session.js';
import { deleteHistory } from './history-store.js';
import { baileysSql, type BaileysSql } from './sql.js';

export interface BaileysEngine extends Engine {
  start(options: EngineStartOptions, sink: EngineEventSink): Promise<BaileysSession>;
  forget(sessionId: string): Promise<void>;
}

export interface BaileysEngineOptions {
  store: AnyStore;
  logger: Logger;
  /** --auth-state-key, parsed (null: logins stored unencrypted). */
  authKey: Buffer | null;
  settings?: Partial<BaileysSettings>;
  /** The server warned of unencrypted logins at start-up already. */
  warned?: boolean;
  /** Tests give a module of their own (a fake socket); default: the baileys package. */
  load?: () => Promise<BaileysModule>;
}

let loaded: Promise<BaileysModule> | null = null;

/** The package, imported once on first use. */
export function loadBaileys(): Promise<BaileysModule> {
  loaded ??= import('baileys').catch((error: unknown) => {
    loaded = null;
    throw error;
  });
  return loaded;
}

export function createBaileysEngine(options: BaileysEngineOptions): BaileysEngine {
  const settings: BaileysSettings = { ...defaultBaileysSettings, ...options.settings };
  const sql: BaileysSql = baileysSql(options.store);
  const cipher = new AuthCipher(options.authKey);
  const live = new Set<BaileysSession>();
  const log = options.logger;
  let warned = options.warned ?? false;
  return {
    kind: 'baileys',
    async start(start, sink) {
      if (!cipher.encrypts && !warned) {
        warned = true;
        log.warn('Baileys logins are stored unencrypted: set --auth-state-key (AUTH_STATE_KEY, 32 bytes base64) to encrypt them at rest');
      }
      const lib = await (options.load ?? loadBaileys)();
      const agent = start.config.proxyServerCredentials ? await proxyAgent(start.config.proxyServerCredentials) : undefined;
      const session: BaileysSession = new BaileysSession(start, sink, {
        lib,
        sql,
        cipher,
        settings,
        logger: log,
        onStopped: () => live.delete(session),
        ...(agent ? { agent } : {}),
      });
      live.add(session);
      await session.begin();
      return session;
    },
    async forgetLogin({ sessionId }) {
      await deleteAuthState(sql, sessionId);
    },
    async forget(sessionId) {
      await deleteAuthState(sql, sessionId);
      await deleteHistory(sql, sessionId);
    },
    async close() {
      await Promise.allSettled([...live].map((s) => s.stop()));
      live.clear();
    },
  };
}

/** `proxyServerCredentials` of the reference as an agent: HTTP(S) CONNECT, or SOCKS for a socks protocol. */
export async function proxyAgent(proxy: ProxyServerCredentials): Promise<Agent> {
  const protocol = (proxy.protocol || 'http').replace(/:$/, '').toLowerCase();
  const auth = proxy.username ? `${encodeURIComponent(proxy.username)}:${encodeURIComponent(proxy.password ?? '')}@` : '';
  const url = `${protocol}://${auth}${proxy.address.replace(/^[a-z0-9+.-]+:\/\//i, '')}`;
  if (protocol.startsWith('socks')) {
    const { SocksProxyAgent } = await import('socks-proxy-agent');
    return new SocksProxyAgent(url);
  }
  const { HttpsProxyAgent } = await import('https-proxy-agent');
  return new HttpsProxyAgent(url);
}
