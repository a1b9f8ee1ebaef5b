import type { Engine, EngineEventSink, EngineKind, EngineSession, EngineStartOptions } from './engine.js';

export type EngineFactory = () => Engine;

/** Engines by kind, each created on first use so an unused engine costs nothing. */
export class EngineRegistry {
  private readonly engines = new Map<EngineKind, Engine>();

  constructor(private readonly factories: Partial<Record<EngineKind, EngineFactory>>) {}

  get(kind: EngineKind): Engine {
    let engine = this.engines.get(kind);
    if (!engine) {
      const factory = this.factories[kind];
      engine = factory ? factory() : unavailableEngine(kind);
      this.engines.set(kind, engine);
    }
    return engine;
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.engines.values()].map((e) => e.close()));
    this.engines.clear();
  }
}

function unavailableEngine(kind: EngineKind): Engine {
  return {
    kind,
    async start(_options: EngineStartOptions, sink: EngineEventSink): Promise<EngineSession> {
      queueMicrotask(() => sink({ type: 'failed', reason: `the ${kind} engine is not available in this build` }));
      return new Proxy({} as EngineSession, {
        get: (_t, prop) => (prop === 'sessionId' ? _options.sessionId : prop === 'then' ? undefined : async () => undefined),
      });
    },
    async close() {},
  };
}
