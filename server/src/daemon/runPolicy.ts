/**
 * What the daemon decides about runs for its clients (the extension only shows the outcome):
 * the tasks "Re-run failed tasks" runs again, the worker cap of a Docker host, and which runs
 * to resume after a daemon crash. Pure, so that unit tests cover it.
 */
import type { AttemptInfo, RunPlanRerunResult } from '../../../common/src/protocol';
import type { RunInfo, RunOptions } from '../../../common/src/run';
import { dockerUrl, type DockerHostSetting } from '../../../common/src/settings';
import { RUN_DEFAULTS } from '../run/runDefaults';

/**
 * The task ids of a run worth running again: those with no resolved attempt (unresolved,
 * errored, cancelled or never run), in first-seen order.
 */
export function failedTaskIds(attempts: readonly AttemptInfo[]): string[] {
  const resolved = new Set(attempts.filter((a) => a.state.kind === 'finished' && a.state.success).map((a) => a.taskId));
  const ids = new Set<string>();
  for (const a of attempts) if (!resolved.has(a.taskId)) ids.add(a.taskId);
  return [...ids];
}

/**
 * "Re-run failed tasks" of `run`: a new run (no run id: the daemon names it) with the run's
 * options, its filter replaced by the failed task ids (`failedTaskIds`).
 */
export function rerunPlan(run: RunInfo, attempts: readonly AttemptInfo[]): RunPlanRerunResult {
  const taskIds = failedTaskIds(attempts);
  const { runId: _old, filter: _filter, ...rest } = run.options;
  return { taskIds, options: { ...rest, taskIds } };
}

/**
 * Applies the `maxConcurrent` of the `trajlab.dockerHosts` entries (matched by url as given, or
 * as `dockerUrl` makes it): a single-host run's `workers` (attempts at once, each one container)
 * never exceed its host's limit; in a pool run (`options.hosts`) each host's `workers` (default:
 * the run's) never exceeds its entry's. Hosts without an entry or a limit are left unchanged.
 */
export function capWorkersForHost<T extends Partial<RunOptions>>(options: T, hosts: readonly DockerHostSetting[]): T {
  const limitOf = (url: string) => {
    const limit = hosts.find((h) => h.url === url || dockerUrl(h) === url)?.maxConcurrent;
    return limit && Number.isInteger(limit) && limit >= 1 ? limit : undefined;
  };
  if (options.hosts) {
    const capped = options.hosts.map((h) => {
      const limit = limitOf(h.url);
      const workers = h.workers ?? options.workers ?? RUN_DEFAULTS.workers;
      return limit !== undefined && workers > limit ? { ...h, workers: limit } : h;
    });
    return { ...options, hosts: capped };
  }
  const limit = options.host ? limitOf(options.host) : undefined;
  if (!limit || (options.workers !== undefined && options.workers <= limit)) return options;
  return { ...options, workers: limit };
}

/**
 * The runs to resume after a daemon crash, from what the daemon reads of the runs a client saw
 * running (`found`, in the client's order; null for a run it does not know): those now
 * `interrupted`. A run running again (another window resumed it) or ended stays as it is.
 */
export function runsToResume(found: readonly (RunInfo | null | undefined)[]): RunInfo[] {
  return found.filter((r): r is RunInfo => r?.status === 'interrupted');
}
