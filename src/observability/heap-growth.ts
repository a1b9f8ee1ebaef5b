import { setFlagsFromString } from 'node:v8';

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
