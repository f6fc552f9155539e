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
  /**
   * Models as a list in order of priority (`--model` given more than once, `--models FILE`, the
   * `trajlab.models` setting): requests go to the first entry that is not benched (or by
   * `weight`); see ModelEntry. When set, `model` is the first entry's spec (for records) and
   * `baseUrl` and `temperature` are ignored (each entry has its own).
   */
  models?: ModelEntry[];
  /**
   * Whether an attempt may change models mid-trajectory when its entry is benched (default
   * false: the attempt waits for its model, so a trajectory is one policy's; an attempt that has
   * no answer yet may always take the next entry).
   */
  modelSwitch?: boolean;
  /**
   * Run the attempts on a Redis queue (`redis://[:password@]host:6379/0`, `rediss://` for TLS):
   * `trajlab worker` processes take them; this process enqueues them and writes the run folder
   * from what the workers report (server/src/run/queueRunner.ts). run.json keeps the URL without its password.
   */
  queue?: string;
  /**
   * With `queue`: the largest pack of the coordinator's files a task may need (a local
   * repository, tasks-folder files, images, a Dockerfile's context), MiB, as stored in Redis
   * (gzipped); default 256 (server/src/queue/packs.ts).
   */
  queuePackLimitMb?: number;
  /**
   * The agent configuration: a built-in name (`default`, `mini-swe-agent`) or a YAML/JSON file
   * (AgentConfig, common/src/agentConfig.ts). Default `default`. Its `mode`, `step_limit` and
   * `cost_limit` apply where `mode`, `maxSteps` and `costLimit` are not given.
   */
  agent?: string;
  /**
   * Keep each model call's token ids and log-probabilities (vLLM: prompt and completion token
   * ids and completion log-probabilities; OpenAI and others: log-probabilities) in the
   * trajectory's token sidecar, for RL trainers (exported in ATIF's step `metrics`).
   */
  recordTokens?: boolean;
  /**
   * How many times an attempt whose model stays unavailable (429s, 5xx, refused connections past
   * the retries) is put back in the queue before it ends in error (default 3). The report's
   * `rate_limited` counts both.
   */
  modelRequeues?: number;
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
 * One model of a run's models list (`--models FILE`, YAML or JSON: a list of these or
 * `{models: [...]}`; the `trajlab.models` setting; a repeated `--model SPEC`). Checked by
 * checkModelEntries (server/src/agent/modelEntries.ts). Never holds a secret: the key is read
 * from the variable `api_key_env` names.
 */
export interface ModelEntry {
  /** A model spec as `--model` takes it: `provider:model` (openai:, vllm:, ollama:, deepseek:, gemini:). */
  model: string;
  /** Name in steps, logs and counters; default the spec (with the endpoint's host when two entries share a spec). */
  name?: string;
  /** OpenAI-compatible endpoint; default the provider's (its base-URL variable, then its preset). */
  base_url?: string;
  /** The environment variable holding this entry's key; default the provider's (OPENAI_API_KEY, …). */
  api_key_env?: string;
  /** Relative share of new attempts among the entries not benched (default: none, strict priority order). */
  weight?: number;
  /** Requests in flight at once to this entry, across every attempt of the process. */
  max_concurrency?: number;
  /** Requests per minute (spaced evenly: one every 60/rpm s). */
  rpm?: number;
  /** Tokens per minute (prompt + completion; estimated before the request, settled from its usage). */
  tpm?: number;
  /** Tokens the model takes in one request (prompt + completion). */
  context_window?: number;
  /**
   * Whether the model takes images (OpenAI `image_url` content parts): browser observations then
   * carry a screenshot of the page. Default: the tokenlens registry's `imageIn` for the spec.
   */
  vision?: boolean;
  /** USD per 1M tokens; wins over the price table and the endpoint's `usage.cost`. `cached_input`: cached prompt tokens (default `input`). */
  price?: { input: number; output: number; cached_input?: number };
  /** Retries of one request on 429, 408, 409, 5xx and connection errors (the openai SDK's, with its backoff; default 6). */
  max_retries?: number;
  /** Seconds an entry that failed past its retries is benched (default 30; doubles while it keeps failing, up to 600). */
  cooldown_sec?: number;
  temperature?: number;
  top_p?: number;
  seed?: number;
  max_tokens?: number;
  stop?: string | string[];
  /** Extra fields of the request body (vLLM's `top_k`, `repetition_penalty`, …), sent as given. */
  extra_body?: Record<string, unknown>;
}

/** Live counters of one models-list entry in one process (run.json `models`, progress notifications, the Runs view tooltip). */
export interface ModelCounters {
  /** The entry's name (ModelEntry.name or its spec). */
  name: string;
  spec: string;
  /** HTTP requests sent to it, the SDK's retries included. */
  requests: number;
  /** Of those, answered 429. */
  rate_limited: number;
  /** Calls that failed past their retries (each benched the entry). */
  failures: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  /** ISO time its bench ends, while it is benched. */
  benched_until?: string;
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
  /** Runs with a models list: each entry's counters in this process (ModelCounters). */
  models?: ModelCounters[];
  /** The agent config of the run: its name and the sha256 of its JSON with sorted keys (agentConfigHash); each trajectory holds the config itself. */
  agent_config?: { name: string; sha256: string };
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
  /**
   * Present when a model stayed unavailable (429s, 5xx, refused connections past the retries):
   * `requeues`, times an attempt went back to the queue for it (it continued later from its
   * journal); `gave_up`, attempts that ended in error after `modelRequeues` requeues (they are
   * also in `error`).
   */
  rate_limited?: { requeues: number; gave_up: number };
}
