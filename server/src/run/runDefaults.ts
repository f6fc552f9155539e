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
