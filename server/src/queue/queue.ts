/**
 * Attempts on a Redis queue (`trajlab generate --queue URL`, `trajlab worker --queue URL`): the
 * names, shapes and connections the coordinator (run/queueRunner.ts) and the workers
 * (run/queueWorker.ts) share. The queue is BullMQ's: one job per attempt, on the queue of its
 * task's type and GPU need (attemptQueueName: `trajlab-attempts-code`, `trajlab-attempts-swe-gpu`,
 * …), so that a worker takes only the jobs it can run by listening to those queues alone
 * (servedQueues: the task types it serves, GPU queues only where it has devices). What a worker
 * reports goes to one Redis stream per run,
 * `trajlab:run:<run_id>:events` (XADD, field `e`: a QueueEvent as JSON), which the coordinator
 * reads from its start, so that a coordinator started again (a resume) sees everything that
 * happened meanwhile. Nothing here holds a secret: API keys stay in each worker's environment,
 * and a queue URL's password is only in the connection.
 */
import { createHash } from 'node:crypto';
import IORedis, { type RedisOptions } from 'ioredis';
import type { AgentConfig } from '../../../common/src/agentConfig';
import type { AttemptState, RunOptions } from '../../../common/src/run';
import { TASK_TYPES, type Task, type TaskType } from '../../../common/src/task';
import type { ChatMessage, Step, Trajectory } from '../../../common/src/trajectory';
import { withoutCredentials } from '../util/urlCredentials';
import type { TaskPacks } from './packs';

/** The prefix of the BullMQ queues every coordinator and worker of a Redis database uses (see attemptQueueName). */
export const QUEUE_NAME = 'trajlab-attempts';

/** The BullMQ job states `trajlab_queue_jobs` reports (metrics/metrics.ts). */
export const QUEUE_DEPTH_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed'] as const;
/**
 * The queue of an attempt of a task of type `taskType` (`code` for a task without one) that
 * needs GPUs (`gpu`) or not: `trajlab-attempts-<type>` or `trajlab-attempts-<type>-gpu` (BullMQ
 * forbids `:` in queue names).
 */
export function attemptQueueName(taskType: TaskType | undefined, gpu: boolean): string {
  return `${QUEUE_NAME}-${taskType ?? 'code'}${gpu ? '-gpu' : ''}`;
}

/** Every queue an attempt may be on (a cancel or a test looks at all of them). */
export const ATTEMPT_QUEUES: readonly string[] = TASK_TYPES.flatMap((t) => [attemptQueueName(t, false), attemptQueueName(t, true)]);

/**
 * The queues a worker listens to: those of `taskTypes` (every type when undefined), and their GPU
 * queues only when it has GPU devices (`hasGpus`), so that a worker without GPUs never holds a GPU job.
 */
export function servedQueues(taskTypes: readonly TaskType[] | undefined, hasGpus: boolean): string[] {
  return (taskTypes ?? TASK_TYPES).flatMap((t) => (hasGpus ? [attemptQueueName(t, false), attemptQueueName(t, true)] : [attemptQueueName(t, false)]));
}

/**
 * The task types of `trajlab worker --task-types` (`swe,code`): trimmed, each one the project
 * knows (TASK_TYPES), without repeats. Errors: an unknown or empty list, naming the known types.
 */
export function parseTaskTypes(text: string): TaskType[] {
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (!names.length) throw new Error(`no task type in "${text}"; name one or more of ${TASK_TYPES.join(', ')}, comma-separated`);
  const unknown = names.filter((n) => !(TASK_TYPES as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`unknown task type${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; the task types are ${TASK_TYPES.join(', ')}`);
  return [...new Set(names as TaskType[])];
}

/** The run options a worker needs to run an attempt as the coordinator would (no secret, no path of the coordinator's machine). */
export type WorkerRunOptions = Pick<
  RunOptions,
  | 'model' | 'models' | 'modelSwitch' | 'recordTokens' | 'baseUrl' | 'temperature' | 'mode' | 'maxSteps' | 'timeout' | 'costLimit'
  | 'defaultImage' | 'network' | 'commandTimeout' | 'outputCap' | 'maxDiffFileBytes' | 'maxMemoryMb' | 'maxCpus' | 'maxPids' | 'allowNetwork' | 'user' | 'diskLimitMb'
  | 'modelRequeues'
>;

/** The data of one job: one attempt of one task of one run. */
export interface AttemptJobData {
  runId: string;
  taskId: string;
  attempt: number;
  /** The task as the coordinator read and checked it. */
  task: Task;
  /** 1-based line of the task in its file (recorded in the trajectory's `source`). */
  line: number;
  /** The coordinator's tasks file, for the trajectory's `source` only (never read by the worker). */
  tasksFile: string;
  options: WorkerRunOptions;
  /** The agent config the coordinator resolved (`--agent`), itself (a file of the coordinator's is not on the worker). */
  agentConfig?: AgentConfig;
  /** What the task needs of the coordinator's machine, stored in Redis (queue/packs.ts). */
  packs?: TaskPacks;
  /** Times a worker that took the job could not run it (no API key for its model, not the GPUs it asks for) and put it back; set by workers. */
  refusals?: number;
  /** Workers that put it back (refusals), for the error after the last. */
  refusedBy?: string[];
  /** Times the attempt went back to the queue because its model was unavailable (bounded by `options.modelRequeues`); set by workers. */
  modelRequeues?: number;
}

/** What a worker reports about one attempt, in order, on the run's stream. */
export type QueueEvent =
  /** The attempt's state changed (running step N, evaluating, preparing its image). */
  | { kind: 'state'; taskId: string; attempt: number; worker: string; state: AttemptState }
  /**
   * A step finished: the step, and the trajectory's messages from index `from` on (those added
   * since the last report of this worker). `header` (the trajectory without messages and steps)
   * comes with a worker's first report of the attempt.
   */
  | { kind: 'step'; taskId: string; attempt: number; worker: string; step: Step; from: number; messages: ChatMessage[]; header?: Trajectory }
  /** The attempt finished: its whole trajectory (result included). */
  | { kind: 'end'; taskId: string; attempt: number; worker: string; trajectory: Trajectory }
  /**
   * Its model was unavailable (rate limited past its retries: ModelUnavailableError, `reason`): the
   * job went back to the queue for its model's cool-down, its container removed; the next take
   * continues from the steps reported. `requeues`: its count so far.
   */
  | { kind: 'requeued'; taskId: string; attempt: number; worker: string; reason: string; requeues: number }
  /** The attempt stopped without a result: cancelled, or the worker could not run it (`error`). */
  | { kind: 'stopped'; taskId: string; attempt: number; worker: string; error?: string }
  /**
   * Written by the coordinator (`worker` is `coordinator`): it saved the attempt's final
   * trajectory and deleted the attempt's other reports from the stream. A worker that takes the
   * job again (its first worker died after reporting the end) finds it finished.
   */
  | { kind: 'saved'; taskId: string; attempt: number; worker: string };

/** The stream of run `runId`'s events. */
export function eventsKey(runId: string): string {
  return `trajlab:run:${runId}:events`;
}

/**
 * The hash of run `runId`'s attempts that have reports on its stream (field: `<task_id>#<attempt>`,
 * set by a worker before an attempt's first step report and before its end), so that a worker
 * taking a job reads the stream (XRANGE, the whole run's) only for an attempt that has reports:
 * one taken again after its worker died, requeued, or resumed.
 */
export function reportedKey(runId: string): string {
  return `trajlab:run:${runId}:reported`;
}

/** How long a run's stream is kept after its coordinator last stopped, seconds (7 days: a resume within them continues from it). */
export const EVENTS_TTL_SEC = 7 * 24 * 3600;

/** The key whose presence cancels run `runId` on every worker. */
export function cancelKey(runId: string): string {
  return `trajlab:run:${runId}:cancel`;
}

/**
 * The BullMQ job id of an attempt: deterministic (enqueueing twice is harmless: BullMQ keeps
 * the first), `<run_id>.<first 16 hex of sha256(task_id)>.<attempt>` (task ids may hold any
 * character; BullMQ's ids may not hold `:`).
 */
export function attemptJobId(runId: string, taskId: string, attempt: number): string {
  return `${runId}.${createHash('sha256').update(taskId).digest('hex').slice(0, 16)}.${attempt}`;
}

/**
 * What is wrong with `url` as a queue URL, or undefined: `redis://[[user]:password@]host[:port][/db]`
 * or `rediss://` (TLS).
 */
export function queueUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `"${withoutCredentials(url)}" is not a URL; write redis://[:password@]host:6379/0 (rediss:// for TLS)`;
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return `"${withoutCredentials(url)}": ${u.protocol}// is not a Redis URL; write redis://[:password@]host:6379/0 (rediss:// for TLS)`;
  if (!u.hostname) return `"${withoutCredentials(url)}" names no host`;
  if (u.pathname && u.pathname !== '/' && !/^\/\d+$/.test(u.pathname)) return `"${withoutCredentials(url)}": the database is a number (/0), not ${u.pathname}`;
  return undefined;
}

/**
 * A Redis connection for `url` (ioredis, which reads redis:// and rediss:// URLs), as BullMQ
 * requires it (`maxRetriesPerRequest: null`: commands wait for a reconnect instead of failing).
 * `name` is the connection's client name in Redis (CLIENT LIST). Connecting happens in the
 * background; errors reach `onError` (ioredis retries by itself).
 */
export function redisConnection(url: string, name: string, onError?: (err: Error) => void, extra: RedisOptions = {}): IORedis {
  const redis = new IORedis(url, { maxRetriesPerRequest: null, connectionName: name, ...extra });
  // Told once per outage, not at every reconnect try.
  let said = false;
  redis.on('error', (err: Error) => {
    if (!said) onError?.(err);
    said = true;
  });
  redis.on('ready', () => (said = false));
  return redis;
}

/** Parses one stream entry's fields (`['e', json]`) into its QueueEvent; undefined for an entry that is not one. */
export function parseQueueEvent(fields: string[]): QueueEvent | undefined {
  const i = fields.indexOf('e');
  if (i < 0 || i % 2 !== 0) return undefined;
  try {
    const e = JSON.parse(fields[i + 1]!) as QueueEvent;
    return e && typeof e === 'object' && typeof e.kind === 'string' && typeof e.taskId === 'string' && typeof e.attempt === 'number' ? e : undefined;
  } catch {
    return undefined;
  }
}
