/** Rows of the Trajectories view and their sorting. No `vscode` import. */
import type { AttemptState } from '../../common/src/run';

/** One trajectory of a run. */
export interface TrajectoryRow {
  runId: string;
  taskId: string;
  attempt: number;
  /** Absolute path, as the daemon's run store laid it out. */
  path: string;
  state: AttemptState;
  /** Model cost of the attempt, USD, when the daemon reports it. */
  costUsd?: number;
}

export type TrajectorySort = 'reward' | 'steps' | 'cost' | 'task';

/** The sort keys and how the view names them. */
export const TRAJECTORY_SORTS: { key: TrajectorySort; label: string; detail: string }[] = [
  { key: 'reward', label: 'Reward', detail: 'highest reward first' },
  { key: 'steps', label: 'Steps', detail: 'most steps first' },
  { key: 'cost', label: 'Cost', detail: 'most expensive first' },
  { key: 'task', label: 'Task id', detail: 'alphabetical, then attempt' },
];

/** Reward of a row, when its attempt has finished. */
export function rowReward(r: TrajectoryRow): number | undefined {
  return r.state.kind === 'finished' ? r.state.reward : undefined;
}

/** Steps of a row: final for finished attempts, the current step for running ones. */
export function rowSteps(r: TrajectoryRow): number | undefined {
  if (r.state.kind === 'finished') return r.state.steps;
  if (r.state.kind === 'running') return r.state.step;
  return undefined;
}

/**
 * A sorted copy of `rows`: by reward, steps or cost descending (rows without the value last),
 * or by task id; ties broken by task id, then attempt, then run id.
 */
export function sortTrajectories(rows: TrajectoryRow[], key: TrajectorySort): TrajectoryRow[] {
  const value = key === 'reward' ? rowReward : key === 'steps' ? rowSteps : key === 'cost' ? (r: TrajectoryRow) => r.costUsd : () => undefined;
  const tie = (a: TrajectoryRow, b: TrajectoryRow) => a.taskId.localeCompare(b.taskId) || a.attempt - b.attempt || a.runId.localeCompare(b.runId);
  return [...rows].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va !== vb) {
      if (va === undefined) return 1;
      if (vb === undefined) return -1;
      return vb - va;
    }
    return tie(a, b);
  });
}
