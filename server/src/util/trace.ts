/**
 * Phase timings of attempts for finding where a run's time goes (bench/traceScheduling.ts reads
 * them): with the environment variable TRAJLAB_TRACE set to a file, every traced phase appends
 * one JSON line `{"phase","key","start","end"}` (and `detail` for some points) there (`key`: `<task_id>#<attempt>` or a
 * container id; times in ms since the Unix epoch, sub-millisecond). Unset (the normal case),
 * `traced` only calls its function and nothing is written.
 */
import * as fs from 'node:fs';

let file = process.env.TRAJLAB_TRACE;
let out: fs.WriteStream | undefined;

/** Traces to `traceFile` from now on, as TRAJLAB_TRACE would (a benchmark that traces itself). */
export function traceTo(traceFile: string): void {
  file = traceFile;
}

function write(line: object): void {
  out ??= fs.createWriteStream(file!, { flags: 'a' });
  out.write(JSON.stringify(line) + '\n');
}

/** Milliseconds since the Unix epoch, with the precision of performance.now(). */
function now(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Runs `work` and, when tracing, records how long it took as `phase` of `key` (whether it
 * resolved or threw; a function for `phase` is called only when tracing). Returns or throws
 * what `work` does.
 */
export function traced<T>(phase: string | (() => string), key: string, work: () => Promise<T>): Promise<T> {
  if (!file) return work();
  const start = now();
  const done = () => write({ phase: typeof phase === 'string' ? phase : phase(), key, start, end: now() });
  const p = work();
  p.then(done, done);
  return p;
}

/** Records an instant `phase` of `key` (e.g. an environment started ahead), with `detail` (e.g. the container id), when tracing. */
export function tracePoint(phase: string, key: string, detail?: string): void {
  if (!file) return;
  const t = now();
  write({ phase, key, start: t, end: t, ...(detail === undefined ? {} : { detail }) });
}

/** Writes what is buffered (before the process exits or the trace is read). */
export function flushTrace(): Promise<void> {
  return new Promise((resolve) => (out ? out.write('', () => resolve()) : resolve()));
}
