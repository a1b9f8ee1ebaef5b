/**
 * Real counters of the sandbox's work, per process: every SQL statement the sandbox store runs and every
 * call into a sandbox session's read methods. Tests read them to prove that a query's cost is bounded.
 */
export const sandboxStats = {
  storeQueries: 0,
  engineCalls: {} as Record<string, number>,
};

export function countEngineCall(method: string): void {
  sandboxStats.engineCalls[method] = (sandboxStats.engineCalls[method] ?? 0) + 1;
}
