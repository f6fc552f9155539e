import type { AgentConfig } from '../../../common/src/agentConfig';
import type { RunOptions } from '../../../common/src/run';
import type { Task } from '../../../common/src/task';

/** Defaults of a run, where neither the task nor the options say (seconds, bytes). */
export const RUN_DEFAULTS = {
  workers: 4,
  attempts: 1,
  maxSteps: 30,
  timeoutSec: 1800,
  commandTimeoutSec: 120,
  outputCap: 64 * 1024,
  maxDiffFileBytes: 1024 * 1024,
  /** Disk limit of a container's writable layer, MiB. */
  diskLimitMb: 10 * 1024,
  defaultImage: 'trajlab/sandbox:1',
  mode: 'tools' as const,
  model: 'openai:gpt-4o-mini',
  out: 'trajlab',
  /** Times an attempt goes back to the queue while its model is unavailable before it ends in error. */
  modelRequeues: 3,
};

/**
 * An attempt's limits: the task's value wins, then the run's option, then the agent config's
 * (`step_limit`, `cost_limit`; 0 there is none), then the default. `maxSteps` model calls,
 * `timeoutSec` wall-clock seconds, `costLimit` USD (Infinity: none). Shared by the engine and
 * queue workers so that an attempt has the same limits wherever it runs.
 */
export function attemptLimits(
  task: Pick<Task, 'max_steps' | 'timeout'>,
  options: Pick<RunOptions, 'maxSteps' | 'timeout' | 'costLimit'>,
  agent: Pick<AgentConfig, 'step_limit' | 'cost_limit'> | undefined,
): { maxSteps: number; timeoutSec: number; costLimit: number } {
  return {
    maxSteps: task.max_steps ?? options.maxSteps ?? (agent?.step_limit || undefined) ?? RUN_DEFAULTS.maxSteps,
    timeoutSec: task.timeout ?? options.timeout ?? RUN_DEFAULTS.timeoutSec,
    costLimit: options.costLimit ?? (agent?.cost_limit || Infinity),
  };
}
