/**
 * "Replay in a fresh container": a new run of the trajectory's own task with the engine's
 * `replay:<trajectory>` policy (server/src/agent/policies.ts), started the way every run is
 * (`trajlab.generateTrajectories` with GenerateArgs, runOptions.ts), so it shows in the Runs
 * view and its progress notification like any other. Only TrajLab trajectories whose tasks file
 * is recorded can be replayed (`TrajectoryHeader.replayable`).
 */
import * as fs from 'node:fs';
import type { TrajectoryHeader } from '../../../common/src/inspector';
import type { GenerateArgs } from '../runOptions';

/**
 * The GenerateArgs of the replay of `file` (its header from the daemon). Errors (for the user):
 * the trajectory is not replayable, its tasks file is not recorded, or no longer exists.
 */
export function replayArgs(file: string, header: TrajectoryHeader): GenerateArgs {
  if (!header.replayable) throw new Error(`${header.taskId} cannot be replayed: only TrajLab trajectories with a recorded tasks file can (this one is ${header.format}).`);
  const tasksFile = header.tasksFile;
  if (!tasksFile) throw new Error(`cannot replay ${header.taskId}: the trajectory records no tasks file (source.tasks_file).`);
  if (!fs.existsSync(tasksFile)) throw new Error(`cannot replay ${header.taskId}: its tasks file ${tasksFile} no longer exists.`);
  return { tasksFile, model: `replay:${file}`, taskIds: [header.taskId], attempts: 1, workers: 1 };
}
