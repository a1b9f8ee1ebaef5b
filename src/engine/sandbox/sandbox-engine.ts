import type SQLite from 'better-sqlite3';
import type { WriteBatch } from '../../store/write-batch.js';
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import type { Engine, EngineEventSink, EngineSession, EngineStartOptions } from '../engine.js';
import { SandboxNetwork, type SandboxSettings } from './network.js';
import { SandboxSession } from './sandbox-session.js';

export interface SandboxEngine extends Engine {
  readonly network: SandboxNetwork;
  forget(sessionId: string): Promise<void>;
}

export function createSandboxEngine(options: { db: Kysely<Database>; sqlite: SQLite.Database; batch: WriteBatch; settings: SandboxSettings }): SandboxEngine {
  const network = new SandboxNetwork(options.db, options.sqlite, options.settings, options.batch);
  return {
    kind: 'sandbox',
    network,
    async start(start: EngineStartOptions, sink: EngineEventSink): Promise<EngineSession> {
      const session = new SandboxSession(start.sessionId, network, sink, start.config.sandbox?.autoScanMs);
      await session.begin();
      return session;
    },
    forget: (sessionId) => network.forget(sessionId),
    async close() {
      network.close();
    },
  };
}
