/**
 * The V8 heap setting of the `trajlab` process (the CLI and the daemon, both started from cli.ts).
 */
import { setFlagsFromString } from 'node:v8';

/**
 * How much V8 lets the old generation grow past what survived its last full collection, in
 * percent: 50 instead of its default of up to 300 when collecting is cheap. An export or `stats`
 * streams thousands of files whose short-lived objects get promoted; with the default, garbage
 * piled up to 4× the live heap before a full collection, so the peak memory of an export of
 * 10,000 trajectories was 1.4× that of 1,000 (bench/export.ts; the live heap is ~25 MB in both).
 * With 50 it is ~1.04× (160 MB at both sizes in the bench), and the user CPU of that export stayed
 * within the spread of two runs each (15.1–17.8 s with the default, 16.1–16.9 s with 50).
 */
export const HEAP_GROWING_PERCENT = 50;

/**
 * Sets V8's `--heap-growing-percent` (see HEAP_GROWING_PERCENT) for this process. V8 reads it at
 * every full collection, so setting it once the process runs works (the semi-space size, the
 * other lever, is fixed before any script runs). Call it once, at start-up.
 */
export function limitHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
