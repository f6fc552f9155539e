/**
 * The open trajectories of one daemon connection (the inspector's `trajlab/trajectory/*`
 * requests, common/src/protocol.ts): a handle per open editor → the imported trajectory, its
 * facts and its search. Two handles on the same unchanged file share one import; opening a file
 * that changed on disk (size or mtime) imports it again. `close` forgets a handle; `dispose`
 * forgets all (the connection closed).
 */
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ScreenshotResult, SearchHit, StepDetail, StepFilter, StepRow, TrajectoryHeader } from '../../../common/src/inspector';
import { MAX_STEP_PAGE, TRAJECTORY_TEXT_CLIP } from '../../../common/src/inspector';
import type { Action, Observation, Trajectory } from '../../../common/src/trajectory';
import { readTrajectoryFile, TrajectoryImportError } from '../import/trajectoryFile';
import { diffFilePath, diffSides, editTexts, findDiffFile, parseUnifiedDiff, type DiffFile } from './diff';
import { readScreenshot } from './screenshot';
import { TrajectorySearch } from './search';
import { filterSteps, stepDetail, stepRow, trajectoryFacts, trajectoryHeader, type TrajectoryFacts } from './view';

/** Why an inspector request failed; `message` is for the user. */
export type InspectorErrorKind = 'badParams' | 'notOpen' | 'notFound' | 'unreadable';

/** A failed inspector request: `kind` says which (daemon/trajectoryHandlers.ts maps it to a ResponseError code). */
export class InspectorError extends Error {
  override name = 'InspectorError';
  constructor(
    readonly kind: InspectorErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** One import of a file, shared by the handles open on it. */
interface Loaded {
  file: string;
  size: number;
  mtimeMs: number;
  trajectory: Trajectory;
  facts: TrajectoryFacts;
  search: TrajectorySearch;
  /** The final diff's files, parsed on first use. */
  diffFiles?: DiffFile[];
  /** Filter results by filter key (the last few). */
  filters: Map<string, number[]>;
  handles: Set<string>;
}

/** The handles of one connection and the imports they share. */
export class InspectorService {
  private readonly handles = new Map<string, Loaded>();
  private readonly byFile = new Map<string, Loaded>();
  /** Imports in flight per file, so that two opens at once read the file once. */
  private readonly loading = new Map<string, Promise<Loaded>>();

  /**
   * Opens `file` (an absolute path; any format server/src/import/ reads) under a new handle and
   * returns its header. Throws InspectorError `badParams` for a relative path, `unreadable`
   * when the file cannot be read or is not a trajectory (the importer's message: file, what was
   * found, what was expected).
   */
  async open(file: unknown): Promise<TrajectoryHeader> {
    if (typeof file !== 'string' || !path.isAbsolute(file)) {
      throw new InspectorError('badParams', `params.file must be the absolute path of a trajectory file (got ${JSON.stringify(file)?.slice(0, 120)})`);
    }
    const loaded = await this.load(path.normalize(file));
    const handle = randomUUID();
    loaded.handles.add(handle);
    this.handles.set(handle, loaded);
    return trajectoryHeader(loaded.trajectory, handle, loaded.file, replayable(loaded.trajectory));
  }

  private async load(file: string): Promise<Loaded> {
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(file);
    } catch (err) {
      throw unreadable(file, err);
    }
    const known = this.byFile.get(file);
    if (known && known.size === stat.size && known.mtimeMs === stat.mtimeMs) return known;
    const inFlight = this.loading.get(file);
    if (inFlight) return inFlight;
    const promise = (async () => {
      let trajectory: Trajectory;
      try {
        trajectory = await readTrajectoryFile(file);
      } catch (err) {
        throw unreadable(file, err);
      }
      const facts = trajectoryFacts(trajectory);
      const loaded: Loaded = { file, size: stat.size, mtimeMs: stat.mtimeMs, trajectory, facts, search: new TrajectorySearch(trajectory, facts), filters: new Map(), handles: new Set() };
      // Handles on the previous version keep it until they close; new opens get this one.
      this.byFile.set(file, loaded);
      return loaded;
    })();
    this.loading.set(file, promise);
    try {
      return await promise;
    } finally {
      this.loading.delete(file);
    }
  }

  /** The import behind `handle`; throws InspectorError `notOpen` (the client should reopen the file). */
  private get(handle: unknown): Loaded {
    const loaded = typeof handle === 'string' ? this.handles.get(handle) : undefined;
    if (!loaded) {
      throw new InspectorError('notOpen', `This trajectory is not open in the TrajLab daemon (handle ${JSON.stringify(handle)?.slice(0, 60)}; the daemon may have restarted): reopen the file.`);
    }
    return loaded;
  }

  /** The trajectory behind `handle` (tests, the CLI); throws like every request on an unknown handle. */
  trajectory(handle: string): Trajectory {
    return this.get(handle).trajectory;
  }

  /**
   * A page of timeline rows: steps `[start, start + count)` clamped to the steps there are
   * (count at most MAX_STEP_PAGE, default MAX_STEP_PAGE), or exactly `indices` (at most
   * MAX_STEP_PAGE, each an existing step, else InspectorError `badParams`). `total` is the
   * number of steps.
   */
  steps(params: { handle: string; start?: number; count?: number; indices?: number[] }): { rows: StepRow[]; total: number } {
    const l = this.get(params.handle);
    const steps = l.trajectory.steps;
    if (params.indices !== undefined) {
      const idx = params.indices;
      if (!Array.isArray(idx) || idx.length > MAX_STEP_PAGE) {
        throw new InspectorError('badParams', `params.indices must be an array of at most ${MAX_STEP_PAGE} step indices`);
      }
      return { rows: idx.map((i) => stepRow(steps[checkIndex(i, steps.length)]!, i, l.facts)), total: steps.length };
    }
    const start = Math.max(0, Math.min(intOr(params.start, 0, 'start'), steps.length));
    const count = Math.max(0, Math.min(intOr(params.count, MAX_STEP_PAGE, 'count'), MAX_STEP_PAGE, steps.length - start));
    const rows: StepRow[] = new Array(count);
    for (let k = 0; k < count; k++) rows[k] = stepRow(steps[start + k]!, start + k, l.facts);
    return { rows, total: steps.length };
  }

  /** Step `index` in full, texts clipped to `clip` characters (default TRAJECTORY_TEXT_CLIP; 0: whole). Throws InspectorError `notFound` for a step that does not exist. */
  step(params: { handle: string; index: number; clip?: number }): StepDetail {
    const l = this.get(params.handle);
    const steps = l.trajectory.steps;
    const i = checkIndex(params.index, steps.length);
    const clip = intOr(params.clip, TRAJECTORY_TEXT_CLIP, 'clip');
    return stepDetail(steps[i]!, i, l.facts, Math.max(0, clip));
  }

  /** Indices (ascending) of the steps `filter` keeps; the last few filters of a trajectory are remembered. */
  filter(params: { handle: string; filter: StepFilter }): { indices: number[] } {
    const l = this.get(params.handle);
    const f = params.filter ?? {};
    const key = `${!!f.errorsOnly}${!!f.nonZeroExit}${!!f.editsOnly}`;
    let indices = l.filters.get(key);
    if (!indices) {
      indices = filterSteps(l.trajectory, { errorsOnly: !!f.errorsOnly, nonZeroExit: !!f.nonZeroExit, editsOnly: !!f.editsOnly });
      l.filters.set(key, indices);
    }
    return { indices };
  }

  /** Where `query` occurs across all steps (see TrajectorySearch.search). */
  search(params: { handle: string; query: string; caseSensitive?: boolean; maxHits?: number }, signal?: AbortSignal): Promise<{ hits: SearchHit[]; truncated: boolean }> {
    const l = this.get(params.handle);
    if (typeof params.query !== 'string') throw new InspectorError('badParams', 'params.query must be a string');
    return l.search.search(params.query, { caseSensitive: !!params.caseSensitive, maxHits: params.maxHits, signal });
  }

  /**
   * The two sides of a diff for VS Code's diff editor: a file of the final diff (`file`, its path
   * as the diff names it, with or without `b/`), rebuilt from its hunks (diff.ts diffSides); or
   * the edit action `action` of step `step` (replaced text / new text). Throws InspectorError
   * `notFound` when there is no such file or edit (binary files have no text sides).
   */
  diffSides(params: { handle: string; file?: string; step?: number; action?: number }): { left: string; right: string; title: string } {
    const l = this.get(params.handle);
    if (typeof params.file === 'string') {
      const diff = l.trajectory.result?.diff ?? '';
      l.diffFiles ??= parseUnifiedDiff(diff);
      const f = findDiffFile(l.diffFiles, params.file);
      if (!f) throw new InspectorError('notFound', `The final diff has no file ${JSON.stringify(params.file)}${l.diffFiles.length ? '' : ' (it is empty)'}.`);
      const name = diffFilePath(f);
      if (f.binary) throw new InspectorError('notFound', `${name} is a binary file in the final diff: it has no text to compare.`);
      const what = f.oldPath === null ? 'added' : f.newPath === null ? 'deleted' : f.oldPath !== f.newPath ? `renamed from ${f.oldPath}` : 'changed';
      return { ...diffSides(f), title: `${name} (final diff, ${what}; rebuilt from its hunks)` };
    }
    if (params.step !== undefined || params.action !== undefined) {
      const ai = params.action ?? 0;
      const { action: a } = stepAction(l.trajectory, params.step, ai);
      if (a.kind !== 'edit') throw new InspectorError('notFound', `Action ${ai} of step ${params.step} is a ${a.kind} action, not an edit.`);
      const t = editTexts(a);
      if (!t) throw new InspectorError('notFound', `Action ${ai} of step ${params.step} (${a.command} ${a.path}) changes no text.`);
      return { left: t.old, right: t.new, title: `${a.path} (step ${params.step}, ${a.command})` };
    }
    throw new InspectorError('badParams', 'params needs `file` (a file of the final diff) or `step` and `action` (an edit action)');
  }

  /**
   * The screenshot of the browser action `action` of step `step`, read from beside the
   * trajectory file and checked (screenshot.ts readScreenshot: inside `<trajectory>.assets/`,
   * recorded SHA-256, size cap); a file that fails a check is answered as `ok: false` with why.
   * Throws InspectorError `notFound` when there is no such step or action, or the action
   * recorded no screenshot.
   */
  async screenshot(params: { handle: string; step: number; action: number }): Promise<ScreenshotResult> {
    const l = this.get(params.handle);
    const { action: a, observation: o } = stepAction(l.trajectory, params.step, params.action);
    const shot = a.kind === 'browser' ? o?.browser?.screenshot : undefined;
    if (!shot || typeof shot !== 'object') throw new InspectorError('notFound', `Action ${params.action} of step ${params.step} recorded no screenshot.`);
    return readScreenshot(l.file, shot);
  }

  /** Forgets `handle` (unknown handles are ignored); the import goes once no handle holds it. */
  close(handle: unknown): void {
    if (typeof handle !== 'string') return;
    const l = this.handles.get(handle);
    if (!l) return;
    this.handles.delete(handle);
    l.handles.delete(handle);
    if (!l.handles.size && this.byFile.get(l.file) === l) this.byFile.delete(l.file);
  }

  /** Number of open handles (tests). */
  get openCount(): number {
    return this.handles.size;
  }

  /** Forgets every handle (the connection closed). */
  dispose(): void {
    this.handles.clear();
    this.byFile.clear();
  }
}

/** A TrajLab trajectory whose tasks file exists can be replayed (the engine's `replay:` policy). */
function replayable(t: Trajectory): boolean {
  if (t.imported_from || !t.source?.tasks_file || !path.isAbsolute(t.source.tasks_file)) return false;
  try {
    return fs.statSync(t.source.tasks_file).isFile();
  } catch {
    // Gone (ENOENT) or out of reach (EACCES): the engine could not read it to replay either.
    return false;
  }
}

function unreadable(file: string, err: unknown): InspectorError {
  if (err instanceof InspectorError) return err;
  if (err instanceof TrajectoryImportError) return new InspectorError('unreadable', err.message);
  const e = err as NodeJS.ErrnoException;
  const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message ?? String(err);
  return new InspectorError('unreadable', `${JSON.stringify(file).slice(1, -1)}: ${why}`);
}

/** Action `ai` of step `step` of `t` with its observation (if any); throws InspectorError `notFound` when either does not exist. */
function stepAction(t: Trajectory, step: unknown, ai: unknown): { action: Action; observation: Observation | undefined } {
  const s = t.steps[checkIndex(step, t.steps.length)]!;
  const a = typeof ai === 'number' && Number.isInteger(ai) ? s.actions[ai] : undefined;
  if (!a) throw new InspectorError('notFound', `Step ${step} has no action ${JSON.stringify(ai)} (it has ${s.actions.length}).`);
  return { action: a, observation: s.observations[ai as number] };
}

function checkIndex(i: unknown, length: number): number {
  if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= length) {
    throw new InspectorError('notFound', `Step ${JSON.stringify(i)} does not exist: the trajectory has ${length} step(s) (0 to ${length - 1}).`);
  }
  return i;
}

function intOr(v: unknown, fallback: number, name: string): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new InspectorError('badParams', `params.${name} must be an integer (got ${JSON.stringify(v)?.slice(0, 40)})`);
  return v;
}
