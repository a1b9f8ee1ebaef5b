import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Caps how far V8 lets the old generation grow past what its last full collection kept. V8 picks that factor
 * itself, up to 4x when the process allocates fast and its GCs are cheap, which is exactly a fan-out burst: the
 * bench's 10,000 subscribers kept ~160 MB live but reached ~790 MB RSS before each full collection; at 50% they
 * peak under 400 MB at the same delivery rate. V8 reads the flag at every full collection, so setting it after
 * start-up takes effect at the next one. 0 hands the choice back to V8. The flag is process-wide.
 */
export function applyHeapGrowth(percent: number): void {
  setFlagsFromString(`--heap-growing-percent=${Math.trunc(percent)}`);
}

let collect: (() => void) | null | undefined;
let pending: NodeJS.Timeout | null = null;

/**
 * Asks for one full collection a few seconds after a big request body (tens of MB) is done with. V8 would otherwise
 * keep that garbage, and the RSS it holds, until allocation pressure or its idle-time memory reducer comes back.
 * Debounced: a burst of big bodies costs one collection (tens of ms on this heap), 5 s after the last. The hook is V8's own gc()
 * (exposed by flag at the first call); when that is unavailable this does nothing.
 */
export function collectSoon(): void {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    } catch {
      collect = null;
    }
  }
  if (!collect) return;
  if (pending) clearTimeout(pending);
  pending = setTimeout(() => {
    pending = null;
    collect?.();
  }, 5000);
  pending.unref();
}
