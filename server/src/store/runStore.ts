import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { utcStamp } from '../../../common/src/format';
import { isRunId, type RunInfo, type RunReport, type UnreadableRun } from '../../../common/src/run';
import type { Trajectory } from '../../../common/src/trajectory';
import { readJsonIfExists, writeFileAtomic, writeJsonAtomic } from '../util/fsAtomic';
import { isMissing, unlessMissing } from '../util/missing';
import { processAlive } from '../util/process';
import { isSafeFileName, safeFileName, trajectoryFileNames } from '../util/safeName';
import { NO_SECRETS, type Secrets } from '../util/secrets';
import { readTrajectoryWithJournal } from './trajectoryWriter';

/** One line of `events.jsonl` (append-only). */
export type RunEvent =
  | { type: 'run_started'; time: string; run_id: string; resumed: boolean }
  | { type: 'attempt_started'; time: string; task_id: string; attempt: number; resumed_from_step: number; /** Pool runs: the host it started on. */ host?: string }
  /** Pool runs: an attempt whose host went down continues on another from `at_step`. */
  | { type: 'attempt_moved'; time: string; task_id: string; attempt: number; from: string; to: string; at_step: number; reason: string }
  /** A models list: an attempt's model was unavailable (`reason`); the attempt went back to the queue (`requeues`: its count so far). */
  | { type: 'attempt_requeued'; time: string; task_id: string; attempt: number; reason: string; requeues: number }
  /** Pool runs: a host stopped answering (its attempts move), or answers again. */
  | { type: 'host_down'; time: string; host: string; error: string }
  | { type: 'host_up'; time: string; host: string }
  | { type: 'step'; time: string; task_id: string; attempt: number; index: number; exit_codes: (number | null)[] }
  | { type: 'attempt_finished'; time: string; task_id: string; attempt: number; exit_status: string; reward: number; success: boolean; steps: number; cost_usd?: number }
  | { type: 'attempt_failed'; time: string; task_id: string; attempt: number; error: string }
  | { type: 'run_finished'; time: string; status: string };

/**
 * The files of one run: `<root>/runs/<run_id>/` with `run.json`, `events.jsonl`,
 * `trajectories/<safe-task-id>.<attempt>.json`, `report.json`, `logs/` and
 * `trajectory_names.json`. Task ids never become paths as given: `safeFileName` makes them safe,
 * and `assignTrajectoryNames` makes the names of a run's ids distinct (see trajectoryFileNames).
 */
export class RunStore {
  readonly dir: string;
  /** Scrubbed from every file the store writes: report, events (and trajectories: attempt.ts gives them to its TrajectoryWriter). */
  secrets: Secrets = NO_SECRETS;
  /** Task id → trajectory file stem, for the ids assigned or loaded (others: `safeFileName`). */
  private names = new Map<string, string>();

  constructor(readonly root: string, readonly runId: string) {
    if (!isRunId(runId)) {
      throw new Error(`invalid run id "${runId}": use letters, digits, '-', '_' and '.'`);
    }
    this.dir = path.join(root, 'runs', runId);
  }

  /** True when `dir` is a run folder (holds run.json). */
  static isRunDir(dir: string): boolean {
    return fs.existsSync(path.join(dir, 'run.json'));
  }

  /** Opens the store of an existing run directory (one that holds run.json). */
  static fromRunDir(dir: string): RunStore {
    const abs = path.resolve(dir);
    return new RunStore(path.dirname(path.dirname(abs)), path.basename(abs));
  }

  get trajectoriesDir(): string {
    return path.join(this.dir, 'trajectories');
  }

  async init(): Promise<void> {
    await fs.promises.mkdir(this.trajectoriesDir, { recursive: true });
    await fs.promises.mkdir(path.join(this.dir, 'logs'), { recursive: true });
  }

  exists(): boolean {
    return fs.existsSync(path.join(this.dir, 'run.json'));
  }

  /** run.json as written (a crashed run still says `running`; see `readLiveInfo`). */
  readInfo(): Promise<RunInfo | undefined> {
    return readJsonIfExists<RunInfo>(path.join(this.dir, 'run.json'));
  }

  /** run.json with `status` corrected by `withLiveness`: what a reader should show. */
  async readLiveInfo(): Promise<RunInfo | undefined> {
    const info = await this.readInfo();
    return info && withLiveness(info);
  }

  /** Path of run.json. */
  get infoPath(): string {
    return path.join(this.dir, 'run.json');
  }

  writeReport(report: RunReport): Promise<void> {
    return writeFileAtomic(path.join(this.dir, 'report.json'), this.secrets.json(report, 2) + '\n');
  }

  /** Appends one event line. Events are a log for tools and humans; trajectories hold the steps. */
  async appendEvent(event: RunEvent): Promise<void> {
    await fs.promises.appendFile(path.join(this.dir, 'events.jsonl'), this.secrets.json(event) + '\n');
  }

  /** Path of `trajectory_names.json`: `[[task_id, file stem], …]`, every name the run has given. */
  get namesPath(): string {
    return path.join(this.dir, 'trajectory_names.json');
  }

  /**
   * Gives each of `taskIds` its trajectory file name for this run (trajectoryFileNames): the
   * names recorded by an earlier process of the run are kept, so a resumed run finds its files
   * again even when the tasks file gained an id since; new names are recorded in
   * `trajectory_names.json`. Call after `init()`. Errors: the file cannot be read or written.
   */
  async assignTrajectoryNames(taskIds: readonly string[]): Promise<void> {
    await this.loadTrajectoryNames();
    const before = this.names.size;
    this.names = trajectoryFileNames(taskIds, this.names);
    if (this.names.size !== before || !fs.existsSync(this.namesPath)) await writeJsonAtomic(this.namesPath, [...this.names]);
  }

  /**
   * Reads the names recorded in `trajectory_names.json` (readers of a run written by another
   * process). A run without the file (none yet, or written by an older TrajLab) uses
   * `safeFileName`. Errors: the file exists but cannot be read or is not `[[string, string], …]`.
   */
  async loadTrajectoryNames(): Promise<void> {
    const recorded = await readJsonIfExists<unknown>(this.namesPath);
    if (recorded === undefined) return;
    const valid = Array.isArray(recorded) && recorded.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'string' && isSafeFileName(e[1]));
    if (!valid) throw new Error(`${this.namesPath}: not a list of [task_id, file name] pairs`);
    this.names = new Map(recorded as [string, string][]);
  }

  /** Path of an attempt's trajectory; always inside `trajectoriesDir`. */
  trajectoryPath(taskId: string, attempt: number): string {
    return path.join(this.trajectoriesDir, `${this.names.get(taskId) ?? safeFileName(taskId)}.${attempt}.json`);
  }

  /**
   * The saved trajectory of an attempt with the steps of its journal (see trajectoryWriter.ts),
   * if any. An unreadable one (not JSON, or a read error) counts as absent, so the attempt is
   * redone and its new trajectory replaces the file; `onUnreadable` is told which file and why
   * first (the engine logs it).
   */
  async readTrajectory(taskId: string, attempt: number, onUnreadable: (file: string, why: string) => void): Promise<Trajectory | undefined> {
    const file = this.trajectoryPath(taskId, attempt);
    try {
      const t = await readTrajectoryWithJournal(file);
      return t && t.task_id === taskId && t.attempt === attempt ? t : undefined;
    } catch (err) {
      onUnreadable(file, (err as Error)?.message ?? String(err));
      return undefined;
    }
  }
}

/**
 * Lists the runs under `root/runs`: `runs` newest first (by run.json's created_at), with
 * `status` corrected by `withLiveness` (a run whose process died reads `interrupted`), and
 * `unreadable`, the folders whose run.json exists but could not be read or is not a run
 * record, by name, with why. Entries without run.json are not runs and are skipped; no
 * `runs/` folder lists nothing. Errors: `runs/` exists but cannot be listed.
 */
export async function listRuns(root: string): Promise<{ runs: RunInfo[]; unreadable: UnreadableRun[] }> {
  const runsDir = path.join(root, 'runs');
  const names = await unlessMissing(fs.promises.readdir(runsDir), [] as string[]); // no runs/: no run yet
  const runs: RunInfo[] = [];
  const unreadable: UnreadableRun[] = [];
  await Promise.all(
    names.map(async (name) => {
      let info: RunInfo | undefined;
      try {
        info = await readJsonIfExists<RunInfo>(path.join(runsDir, name, 'run.json'));
      } catch (err) {
        if (isMissing(err)) return; // ENOTDIR: a file beside the run folders
        unreadable.push({ run_id: name, error: `run.json: ${(err as Error).message}` });
        return;
      }
      if (info === undefined) return; // a folder without run.json: not a run
      const problem = notARunRecord(info);
      if (problem) unreadable.push({ run_id: name, error: `run.json: ${problem}` });
      else runs.push(withLiveness(info));
    }),
  );
  runs.sort((a, b) => b.created_at.localeCompare(a.created_at));
  unreadable.sort((a, b) => b.run_id.localeCompare(a.run_id));
  return { runs, unreadable };
}

/** Why parsed run.json content is not a run record a list can show, or undefined when it is. */
function notARunRecord(info: unknown): string | undefined {
  if (!info || typeof info !== 'object' || Array.isArray(info)) return `not a run record (got ${info === null ? 'null' : Array.isArray(info) ? 'an array' : typeof info})`;
  const r = info as Partial<Record<keyof RunInfo, unknown>>;
  for (const field of ['run_id', 'status', 'created_at'] as const) {
    if (typeof r[field] !== 'string') return `not a run record ("${field}" is not a string)`;
  }
  return undefined;
}

/**
 * A run.json that says `running` while its owner process (same hostname) no longer exists is
 * reported as `interrupted`: the process crashed or was killed, and the run can be resumed
 * with its run id. A run owned by another host, or written before `owner` existed, is
 * returned as it is.
 */
export function withLiveness(info: RunInfo): RunInfo {
  if (info.status !== 'running' || !info.owner || info.owner.hostname !== os.hostname()) return info;
  return processAlive(info.owner.pid) ? info : { ...info, status: 'interrupted' };
}

/** A new run id: UTC time plus a random suffix, e.g. `20261121-101500-a1b2`. Sorts by time. */
export function newRunId(now = new Date()): string {
  return `${utcStamp(now)}-${Math.random().toString(16).slice(2, 6)}`;
}
