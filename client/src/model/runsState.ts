/**
 * The client's projection of the daemon's runs: run.json records from `trajlab/run/list`,
 * attempts from `trajlab/run/get`, both kept current by `trajlab/run/progress` and
 * `trajlab/task/update`. Not a second source of truth: everything here came from the daemon
 * and is replaced by its next answer. Pure (no `vscode` import).
 */
import type { AttemptInfo, RunProgressParams, TaskUpdateParams } from '../../../common/src/protocol';
import type { RunInfo, UnreadableRun } from '../../../common/src/run';

/** One run as the views show it. */
export interface RunEntry {
  info: RunInfo;
  /** Elapsed time from the last progress notification, ms. */
  elapsedMs?: number;
  /** Attempts by `attemptKey`, in the daemon's order; absent until `trajlab/run/get` answered. */
  attempts?: Map<string, AttemptInfo>;
}

/** What changed, for listeners: a run id, or undefined for "everything". */
export type RunsChange = { runId?: string; ended?: boolean };

/** The key of an attempt within a run. */
export function attemptKey(taskId: string, attempt: number): string {
  return `${attempt}\u0000${taskId}`;
}

/** What applying a progress notification did. */
export type ProgressOutcome =
  /** The run is not known here yet: list the runs again. */
  | 'unknown'
  | 'updated'
  /** The run went from running to an end status (finished, cancelled, failed, interrupted). */
  | 'ended';

/**
 * The runs of one output root, newest first. Listeners are told after each change; they
 * coalesce refreshes themselves.
 */
export class RunsState {
  private readonly runs = new Map<string, RunEntry>();
  private unreadableRuns: UnreadableRun[] = [];
  private readonly listeners = new Set<(c: RunsChange) => void>();

  /** Adds a listener; returns the function that removes it. */
  onChange(listener: (c: RunsChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** All runs, newest first (by created_at, then run id). */
  list(): RunEntry[] {
    return [...this.runs.values()].sort((a, b) => b.info.created_at.localeCompare(a.info.created_at) || b.info.run_id.localeCompare(a.info.run_id));
  }

  /** The runs whose status is `running`. */
  running(): RunEntry[] {
    return this.list().filter((r) => r.info.status === 'running');
  }

  /** The run folders whose run.json the daemon could not read, with why (from the last list). */
  unreadable(): UnreadableRun[] {
    return this.unreadableRuns;
  }

  get(runId: string): RunEntry | undefined {
    return this.runs.get(runId);
  }

  /** The attempts of a run in the daemon's order, or undefined when not loaded. */
  attempts(runId: string): AttemptInfo[] | undefined {
    const a = this.runs.get(runId)?.attempts;
    return a && [...a.values()];
  }

  /**
   * Replaces the runs with a `trajlab/run/list` answer (`unreadable`: its unreadable run
   * folders); attempts already loaded are kept for runs still listed. Returns the ids of runs
   * whose status changed from `running` to another.
   */
  replaceAll(list: RunInfo[], unreadable: UnreadableRun[] = []): string[] {
    this.unreadableRuns = unreadable;
    const ended: string[] = [];
    const next = new Map<string, RunEntry>();
    for (const info of list) {
      const old = this.runs.get(info.run_id);
      if (old?.info.status === 'running' && info.status !== 'running') ended.push(info.run_id);
      next.set(info.run_id, { info, elapsedMs: info.status === 'running' ? old?.elapsedMs : elapsedOf(info), attempts: old?.attempts });
    }
    this.runs.clear();
    for (const [k, v] of next) this.runs.set(k, v);
    this.emit({});
    return ended;
  }

  /** Adds or replaces one run's record (a run just started, or a `trajlab/run/get` answer). */
  upsertRun(info: RunInfo): void {
    const old = this.runs.get(info.run_id);
    this.runs.set(info.run_id, { info, elapsedMs: info.status === 'running' ? old?.elapsedMs : elapsedOf(info), attempts: old?.attempts });
    this.emit({ runId: info.run_id });
  }

  /**
   * Sets a run's attempts from a `trajlab/run/get` answer. Task updates that arrived before
   * the answer are older than it (one connection keeps order), so the answer replaces them.
   */
  setAttempts(runId: string, attempts: AttemptInfo[]): void {
    const entry = this.runs.get(runId);
    if (!entry) return;
    entry.attempts = new Map(attempts.map((a) => [attemptKey(a.taskId, a.attempt), a]));
    this.emit({ runId });
  }

  /** Forgets a run's attempts (they are fetched again when next shown). */
  dropAttempts(runId: string): void {
    const entry = this.runs.get(runId);
    if (entry) entry.attempts = undefined;
  }

  /** Applies a `trajlab/run/progress` notification. */
  applyProgress(p: RunProgressParams): ProgressOutcome {
    const entry = this.runs.get(p.runId);
    if (!entry) return 'unknown';
    const wasRunning = entry.info.status === 'running';
    entry.info = { ...entry.info, status: p.status, counts: p.counts, updated_at: new Date().toISOString(), ...(p.models ? { models: p.models } : {}) };
    entry.elapsedMs = p.elapsedMs;
    const ended = wasRunning && p.status !== 'running';
    this.emit({ runId: p.runId, ended });
    return ended ? 'ended' : 'updated';
  }

  /**
   * Applies a `trajlab/task/update` notification to a run whose attempts are loaded; returns
   * false when they are not (the next `trajlab/run/get` brings the state).
   */
  applyTaskUpdate(p: TaskUpdateParams): boolean {
    const attempts = this.runs.get(p.runId)?.attempts;
    if (!attempts) return false;
    const key = attemptKey(p.taskId, p.attempt);
    const old = attempts.get(key);
    attempts.set(key, { taskId: p.taskId, attempt: p.attempt, state: p.state, trajectoryPath: old?.trajectoryPath ?? '' });
    this.emit({ runId: p.runId });
    return true;
  }

  private emit(c: RunsChange): void {
    for (const l of [...this.listeners]) l(c);
  }
}

/** Elapsed time of a run from its record (created_at to updated_at), ms. */
export function elapsedOf(info: RunInfo): number | undefined {
  const ms = Date.parse(info.updated_at) - Date.parse(info.created_at);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}
