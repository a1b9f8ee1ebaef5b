import type { AnyStore } from '../../store/database.js';
import type { Engine, EngineEventSink, EngineSession, EngineStartOptions } from '../engine.js';
import { SandboxNetwork, type SandboxSettings } from './network.js';
import { SandboxSession } from './sandbox-session.js';
import { SqliteSandboxStore, type SandboxStore } from './store.js';
import { PgSandboxStore } from './pg-store.js';

export interface SandboxEngine extends Engine {
  readonly network: SandboxNetwork;
  forget(sessionId: string): Promise<void>;
}

/** The sandbox network on the app's store: SQLite or PostgreSQL (its `kind` tells). */
export function createSandboxEngine(options: { store: AnyStore; settings: SandboxSettings }): SandboxEngine {
  const { store } = options;
  const sandboxStore: SandboxStore = store.kind === 'postgres' ? new PgSandboxStore(store.pool, store.batch) : new SqliteSandboxStore(store.sqlite, store.batch);
  const network = new SandboxNetwork(store.db, sandboxStore, options.settings);
  return {
    kind: 'sandbox',
    network,
    async start(start: EngineStartOptions, sink: EngineEventSink): Promise<EngineSession> {
      await sandboxStore.ready();
      const session = new SandboxSession(start.sessionId, network, sink, start.config.sandbox?.autoScanMs);
      await session.begin();
      return session;
    },
    forget: (sessionId) => network.forget(sessionId),
    forgetLogin: ({ sessionId }) => network.setLinked(sessionId, false),
    async close() {
      network.close();
    },
  };
}
