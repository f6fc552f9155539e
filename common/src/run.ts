import type { NetworkPolicy } from './task';

/**
 * Runs: `trajlab/runs/<run_id>/` (run.json, events.jsonl, trajectories/, report.json, logs/).
 * These shapes are written to disk and sent over the protocol.
 */

/**
 * A run id as the run store accepts it (server/src/store/runStore.ts) and the extension passes
 * it around: letters, digits, `_`, `-` and `.`, not starting with a dot, so that
 * `<out>/runs/<run_id>` is always one folder of the store. Generated ids look like
 * `20261121-101500-a1b2`.
 */
export function isRunId(value: unknown): value is string {
  return typeof value === 'string' && /^[\w.-]+$/.test(value) && !value.startsWith('.');
}

/** Options of a run, as given on the CLI or by the extension. Never holds a secret. */
export interface RunOptions {
  /** Path of the tasks.jsonl file. */
  tasksFile: string;
  /** Model spec: `openai:<model>`, `vllm:<model>`, `ollama:…`, `deepseek:…`, `gemini:…`, `gold`, `replay:<file>`. */
  model: string;
  baseUrl?: string;
  workers: number;
  attempts: number;
  /** Output root; the run lives in `<out>/runs/<run_id>`. */
  out: string;
  runId?: string;
  /** Docker host URL (`unix:///var/run/docker.sock`, `tcp://h:2376`, `ssh://user@h`). */
  host?: string;
  /**
   * A pool of Docker hosts for this run (`--host` given more than once, `--hosts FILE`, the
   * enabled `trajlab.dockerHosts` entries): attempts are placed on any of them (see HostSpec).
   * When set, `host` is ignored. Credentials in URLs are never written (run.json keeps the user).
   */
  hosts?: HostSpec[];
  /**
   * How long a pool run whose every host is down waits for one to come back before its
   * remaining attempts fail, seconds (default 600).
   */
  hostWaitSec?: number;
  maxSteps?: number;
  /** Wall-clock limit per attempt, seconds. */
  timeout?: number;
  temperature?: number;
  mode: 'tools' | 'text';
  /** Glob over task ids (picomatch). */
  filter?: string;
  /** Exact task ids to run (any Unicode; never parsed as a glob). Combined with `filter` when both are given. */
  taskIds?: string[];
  /** Cost limit per attempt, USD. */
  costLimit?: number;
  /**
   * Cost limit of the whole run, USD: once the run's steps have cost this much, no new attempt
   * starts (those running finish, each under `costLimit`); the others are left cancelled, for a
   * resume with a higher limit. The report's `run_cost_limit` says so.
   */
  runCostLimit?: number;
  /** Image used when a task names none. */
  defaultImage?: string;
  /** Network policy for tasks that name none (default `none`: no network). */
  network?: NetworkPolicy;
  /** Per-command timeout, seconds. */
  commandTimeout?: number;
  /** Cap on stdout+stderr kept per command, bytes. */
  outputCap?: number;
  /** A file of the diff whose old or new content is larger than this (bytes) is listed with its size in `diff_stats.files`, not inlined in the diff. */
  maxDiffFileBytes?: number;
  /**
   * GPU device ids the Docker host offers, handed to tasks with `gpus` as explicit ids, never
   * two attempts at once (default: TRAJLAB_GPUS, comma-separated, else the GPUs the engine reports).
   */
  gpus?: string[];
  /**
   * Operator ceilings on what a task may ask for (checked per attempt before its container is
   * made; a task over one fails with an error naming the field, never clamped; see
   * server/src/runtime/sandboxLimits.ts). Memory in MiB (default 8192), CPU cores (default: the
   * Docker host's count), processes (default 4096), and the widest network a task or `network`
   * may use, `none` < `bridge` < `host` (default `bridge`).
   */
  maxMemoryMb?: number;
  maxCpus?: number;
  maxPids?: number;
  allowNetwork?: NetworkPolicy;
  /**
   * The user the container runs as, for tasks that name none (Docker's `User`: `name`, `uid`,
   * `name:group` or `uid:gid`); a task's `user` wins. Default: the image's user (root in ours).
   */
  user?: string;
  /**
   * Disk limit of each container's writable layer, MiB (default 10240): Docker's `StorageOpt
   * size` where the storage driver supports it, else a watchdog that stops the attempt with
   * `exit_status: "error"` once the layer is over it.
   */
  diskLimitMb?: number;
}

/**
 * One Docker host of a run's pool, as `--hosts FILE` (YAML or JSON: a list of these, or
 * `{hosts: [...]}`), a repeated `--host URL` and the `trajlab.dockerHosts` setting give it.
 */
export interface HostSpec {
  /** Docker host URL: every form connectDocker takes (unix://, tcp://, https:// with TLS, ssh://). */
  url: string;
  /** Name in logs, events, the Hosts view and metrics; default: the URL without credentials. */
  name?: string;
  /** Attempts at once on this host (each one container); default: the run's `workers`. */
  workers?: number;
  /** GPU device ids this host offers to tasks with `gpus` (default: TRAJLAB_GPUS, else the engine's list). */
  gpus?: string[];
  /** Free labels (`{gpu: "a100", site: "lab"}`), recorded with the host; no placement rule reads them yet. */
  labels?: Record<string, string>;
  /** false: listed but not used (the setting's switch); default true. */
  enabled?: boolean;
}

/**
 * An attempt that left a host that went down mid-attempt and continued on another from its
 * journal (the steps it had finished were replayed in a fresh container). In
 * `Trajectory.environment.moves`, oldest first.
 */
export interface HostMove {
  /** Host names (HostSpec.name or the URL without credentials). */
  from: string;
  to: string;
  /** Steps finished before the move (all kept, replayed on `to`). */
  at_step: number;
  /** ISO time the attempt started again on `to`. */
  time: string;
  /** Why it moved, e.g. `host down: connect ECONNREFUSED /run/trajlab-e3/docker.sock`. */
  reason: string;
}

export type AttemptState =
  | { kind: 'queued' }
  | { kind: 'running'; step: number; /** The host running it (pool runs). */ host?: string }
  /** Getting the task's image on its host (a pull or a build from its Dockerfile): `detail` is the latest progress line. */
  | { kind: 'preparing'; detail: string }
  | { kind: 'evaluating' }
  | { kind: 'finished'; exitStatus: string; reward: number; success: boolean; steps: number; error?: string; /** Model cost of the attempt, USD (absent in states rebuilt from older events). */ costUsd?: number }
  | { kind: 'failed'; error: string }
  | { kind: 'cancelled' };

export interface RunCounts {
  total: number;
  done: number;
  failed: number;
  running: number;
  queued: number;
  resolved: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
}

export type RunStatus = 'running' | 'finished' | 'cancelled' | 'failed' | 'interrupted';

/** `run.json`. */
export interface RunInfo {
  run_id: string;
  status: RunStatus;
  created_at: string;
  updated_at: string;
  options: RunOptions;
  counts: RunCounts;
  rejected_lines: RejectedLine[];
  trajlab_version: string;
  /**
   * The process that runs it while `status` is `running`: a reader on the same host sees a
   * dead `pid` and reports the run as `interrupted` (it can be resumed).
   */
  owner?: { hostname: string; pid: number };
  /** Pool runs: each host (credentials removed) with the attempts it started so far. */
  hosts?: { name: string; url: string; workers: number; gpus?: string[]; labels?: Record<string, string>; attempts_started: number }[];
}

/**
 * A run folder whose run.json exists but could not be read (torn or hand-edited JSON, not a run
 * record, a read error): listed with why instead of hidden, so the run can be repaired or removed.
 */
export interface UnreadableRun {
  /** The folder's name under `runs/`. */
  run_id: string;
  /** Why, e.g. `run.json: Unexpected end of JSON input`. */
  error: string;
}

/** A tasks.jsonl line that did not become a task. Lines and columns are 1-based. */
export interface RejectedLine {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** `report.json`, SWE-smith style plus reward statistics. */
export interface RunReport {
  run_id: string;
  total: number;
  submitted: number;
  resolved: number;
  unresolved: number;
  error: number;
  ids_resolved: string[];
  ids_unresolved: string[];
  ids_error: string[];
  reward_mean: number;
  /** pass@k for k = 1..attempts (unbiased estimator of Chen et al. 2021), present when attempts > 1. */
  pass_at_k?: Record<string, number>;
  attempts: number;
  rejected_lines: RejectedLine[];
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  /** Set when `runCostLimit` was reached: the limit (USD) and the attempts that did not start because of it. */
  run_cost_limit?: { limit_usd: number; not_started: number };
  /** Pool runs: times a host of the run was marked down. */
  host_failures?: number;
  /** Pool runs: attempts moved to another host after theirs went down (an attempt moved twice counts twice). */
  moved_attempts?: number;
}
