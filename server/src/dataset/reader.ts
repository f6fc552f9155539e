/**
 * Reading source trajectory files one at a time, with a small read-ahead: at most `prefetch`
 * files are in memory at once, whatever the number of files (constant memory in the number of
 * trajectories). Each file's bytes are hashed (sha256, for the manifest) as read.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { oneLine } from '../../../common/src/format';
import type { Trajectory } from '../../../common/src/trajectory';
import { TRAJECTORY_SCHEMA_VERSION } from '../../../common/src/trajectory';
import { importTrajectory, parseJson, readTrajectoryFile, TrajectoryImportError } from '../import/trajectoryFile';
import { throwIfAborted } from '../util/abort';
import type { SourceFile } from './sources';
import { attachStepTokens, tokenSidecarPath } from '../store/tokenSidecar';

/** A source file read: its trajectory, or why it is not one. */
export type ReadResult =
  | { ok: true; source: SourceFile; sha256: string; bytes: number; trajectory: Trajectory; /** Read, but something beside it was not (a token sidecar): said as a warning. */ warning?: string }
  | { ok: false; source: SourceFile; sha256: string | null; bytes: number; reason: 'corrupt' | 'not_a_trajectory'; detail: string };

/**
 * Reads, hashes and parses one file. TrajLab's own trajectories are parsed once (and their steps
 * get their token ids from the token sidecar, store/tokenSidecar.ts); foreign ones go
 * through `readTrajectoryFile` (which also picks up a Harbor trial's verifier reward). Never
 * throws for a bad file: unreadable, invalid JSON or an unknown format give `ok: false` with the
 * reason and a one-line detail. `hash: false` skips the sha256 (`sha256` is then '');
 * `tokens: true` reads the token sidecar (store/tokenSidecar.ts) into the steps' `token_data`: a
 * sidecar that cannot be read leaves them without and says so in `warning`. `sync: true` reads
 * the bytes with one blocking call (for a worker thread that reads one file at a time: the
 * promise API's open, stat, read and close cost ~0.3 ms a file more).
 */
export async function readSourceFile(source: SourceFile, opts: { hash?: boolean; tokens?: boolean; sync?: boolean } = {}): Promise<ReadResult> {
  let buf: Buffer;
  try {
    buf = opts.sync ? fs.readFileSync(source.file) : await fs.promises.readFile(source.file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, source, sha256: null, bytes: 0, reason: 'corrupt', detail: e.code === 'ENOENT' ? 'no such file (removed while listing?)' : e.message };
  }
  const sha256 = opts.hash === false ? '' : createHash('sha256').update(buf).digest('hex');
  const fail = (detail: string, reason: 'corrupt' | 'not_a_trajectory' = 'corrupt'): ReadResult => ({ ok: false, source, sha256, bytes: buf.length, reason, detail: errorLine(detail) });
  let text: string;
  try {
    text = buf.toString('utf8');
  } catch (err) {
    return fail(`too large to read as one string: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    try {
      parseJson(text);
      return fail('not valid JSON');
    } catch (err) {
      return fail((err as Error).message);
    }
  }
  try {
    const native = typeof data === 'object' && data !== null && (data as { schema_version?: unknown }).schema_version === TRAJECTORY_SCHEMA_VERSION;
    const trajectory = native ? importTrajectory(data, source.file) : await readTrajectoryFile(source.file);
    if (!isUsable(trajectory)) return fail('a TrajLab trajectory with missing fields (task_id, messages, steps, totals)');
    if (native && opts.tokens) {
      try {
        await attachStepTokens(trajectory, source.file);
      } catch (err) {
        return { ok: true, source, sha256, bytes: buf.length, trajectory, warning: `its token sidecar (${tokenSidecarPath(source.file)}) cannot be read (${errorLine((err as Error).message)}): its steps are exported without token ids` };
      }
    }
    return { ok: true, source, sha256, bytes: buf.length, trajectory };
  } catch (err) {
    if (err instanceof TrajectoryImportError) {
      const msg = err.message.startsWith(source.file) ? err.message.slice(source.file.length).replace(/^:\s*/, '') : err.message;
      return fail(msg, source.walked && /^not a trajectory TrajLab can read|task instance/.test(msg) ? 'not_a_trajectory' : 'corrupt');
    }
    return fail((err as Error).message);
  }
}

/**
 * Reads `sources` in order, `prefetch` files ahead (default 4), yielding each result once its
 * turn comes (`hash: false`: no sha256, for statistics; `tokens: true`: token sidecars too, see
 * readSourceFile). Throws AbortedError when `signal` fires.
 */
export async function* readSources(sources: SourceFile[], signal?: AbortSignal, opts: { prefetch?: number; hash?: boolean; tokens?: boolean } = {}): AsyncGenerator<ReadResult> {
  const prefetch = opts.prefetch ?? 4;
  const queue: Promise<ReadResult>[] = [];
  let next = 0;
  const fill = () => {
    while (queue.length < prefetch && next < sources.length) queue.push(readSourceFile(sources[next++]!, { hash: opts.hash, tokens: opts.tokens }));
  };
  fill();
  while (queue.length) {
    throwIfAborted(signal);
    const r = await queue.shift()!;
    fill();
    yield r;
  }
}

/** The fields every consumer reads; a file lacking them is reported instead of crashing a writer. */
function isUsable(t: Trajectory): boolean {
  return typeof t.task_id === 'string' && Array.isArray(t.messages) && Array.isArray(t.steps) && typeof t.totals === 'object' && t.totals !== null && typeof t.task === 'object';
}

/** The message on one line, without the importers' long "; expected <every format>" tail. */
function errorLine(s: string): string {
  return oneLine(s.replace(/; expected a TrajLab trajectory[\s\S]*$/, ''), 500, ' ');
}
