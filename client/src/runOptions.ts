/**
 * Building the options of `trajlab/run/start` from the settings and a command's arguments.
 * Pure (no `vscode` import) so that unit tests cover it.
 */
import * as path from 'node:path';
import type { HostSpec, ModelEntry, RunInfo, RunOptions } from '../../common/src/run';
import { dockerUrl, type DockerHostSetting } from '../../common/src/settings';
import type { NetworkPolicy } from '../../common/src/task';

// The hosts view and the run settings wizard name hosts as the daemon will see them.
export { dockerUrl };

/** The built-in agent configs (server/src/agent/agentConfig.ts BUILTIN_AGENTS). */
const BUILTIN_AGENT_NAMES = ['default', 'mini-swe-agent'];

/** The run settings of `trajlab.*` as config.ts reads them. */
export interface RunSettings {
  model: string;
  baseUrl?: string;
  /** `trajlab.models`: a models list (RunOptions.models); non-empty, it wins over `model` and `baseUrl` unless a command argument names a model. */
  models?: ModelEntry[];
  /** `trajlab.modelSwitch` (RunOptions.modelSwitch). */
  modelSwitch?: boolean;
  /** `trajlab.agent`: a built-in agent config name or a file (relative to the workspace folder). */
  agent?: string;
  workers: number;
  attempts: number;
  maxSteps: number;
  /** Wall-clock limit per attempt, seconds. */
  timeout: number;
  defaultImage?: string;
  /** Network policy for tasks that set none. */
  network?: NetworkPolicy;
  /** `trajlab.dockerHosts`: the pool of a run with `pool: true` (poolHosts). */
  dockerHosts?: DockerHostSetting[];
  /** `trajlab.queue.*`: a Redis queue the attempts go on (RunOptions.queue, queuePackLimitMb); no URL: the Docker host(s). */
  queue?: { url?: string; packLimitMb?: number };
  /** `trajlab.sandbox.*`: the ceilings on what a task may ask for (RunOptions maxMemoryMb, maxCpus, maxPids, allowNetwork). */
  sandbox?: { maxMemoryMb?: number; maxCpus?: number; maxPids?: number; allowNetwork?: NetworkPolicy };
}

/**
 * The argument object `trajlab.generateTrajectories` accepts (tests and other extensions call
 * it with `executeCommand('trajlab.generateTrajectories', args)`; no UI is shown then). Every
 * field but `tasksFile` falls back to the settings.
 */
export interface GenerateArgs {
  /** Tasks file: absolute, or relative to the first workspace folder. */
  tasksFile: string;
  model?: string;
  baseUrl?: string;
  workers?: number;
  attempts?: number;
  maxSteps?: number;
  /** Wall-clock limit per attempt, seconds. */
  timeout?: number;
  /** Exact task ids to run. */
  taskIds?: string[];
  /** Glob over task ids (picomatch). */
  filter?: string;
  mode?: 'tools' | 'text';
  temperature?: number;
  /** Cost limit per attempt, USD. */
  costLimit?: number;
  /** USD for the whole run (RunOptions.runCostLimit). */
  runCostLimit?: number;
  /** Docker host URL; default the daemon's. */
  host?: string;
  /** true: run on the pool of the enabled `trajlab.dockerHosts` entries (`host` is then ignored); default false. */
  pool?: boolean;
  /** false: run on the Docker host(s) even when `trajlab.queue.url` is set; default: the queue when it is set and neither `host` nor `pool` is given. */
  queue?: boolean;
  /** Show no progress notification for this run (the status bar and views still follow it). */
  quiet?: boolean;
}

/** A command argument that is not a valid GenerateArgs; the message names the field. */
export class InvalidArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidArgsError';
  }
}

const INT_FIELDS = ['workers', 'attempts', 'maxSteps', 'timeout'] as const;
const NUM_FIELDS = ['temperature', 'costLimit', 'runCostLimit'] as const;
const STR_FIELDS = ['model', 'baseUrl', 'filter', 'host'] as const;

/**
 * Checks an untrusted argument object and returns it typed. Errors: InvalidArgsError saying
 * which field is wrong, e.g. `workers must be an integer ≥ 1 (got "four")`.
 */
export function parseGenerateArgs(value: unknown): GenerateArgs {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgsError('the argument must be an object with at least tasksFile');
  const v = value as Record<string, unknown>;
  const got = (x: unknown) => (JSON.stringify(x) ?? String(x)).slice(0, 60);
  if (typeof v.tasksFile !== 'string' || !v.tasksFile) throw new InvalidArgsError(`tasksFile must be the path of a tasks.jsonl file (got ${got(v.tasksFile)})`);
  const out: GenerateArgs = { tasksFile: v.tasksFile };
  for (const k of STR_FIELDS) {
    if (v[k] === undefined || v[k] === null || v[k] === '') continue;
    if (typeof v[k] !== 'string') throw new InvalidArgsError(`${k} must be a string (got ${got(v[k])})`);
    out[k] = v[k] as string;
  }
  for (const k of INT_FIELDS) {
    if (v[k] === undefined || v[k] === null) continue;
    if (typeof v[k] !== 'number' || !Number.isInteger(v[k]) || (v[k] as number) < 1) throw new InvalidArgsError(`${k} must be an integer ≥ 1 (got ${got(v[k])})`);
    out[k] = v[k] as number;
  }
  for (const k of NUM_FIELDS) {
    if (v[k] === undefined || v[k] === null) continue;
    if (typeof v[k] !== 'number' || !Number.isFinite(v[k]) || (v[k] as number) < 0) throw new InvalidArgsError(`${k} must be a number ≥ 0 (got ${got(v[k])})`);
    out[k] = v[k] as number;
  }
  if (v.mode !== undefined) {
    if (v.mode !== 'tools' && v.mode !== 'text') throw new InvalidArgsError(`mode must be "tools" or "text" (got ${got(v.mode)})`);
    out.mode = v.mode;
  }
  if (v.taskIds !== undefined) {
    if (!Array.isArray(v.taskIds) || v.taskIds.some((t) => typeof t !== 'string')) throw new InvalidArgsError(`taskIds must be an array of task id strings (got ${got(v.taskIds)})`);
    out.taskIds = [...(v.taskIds as string[])];
  }
  if (v.pool !== undefined && typeof v.pool !== 'boolean') throw new InvalidArgsError(`pool must be true or false (got ${got(v.pool)})`);
  if (v.pool) out.pool = true;
  if (v.queue !== undefined && typeof v.queue !== 'boolean') throw new InvalidArgsError(`queue must be true or false (got ${got(v.queue)})`);
  if (v.queue !== undefined) out.queue = v.queue;
  if (v.quiet !== undefined) out.quiet = v.quiet === true;
  return out;
}

/**
 * The `options` of `trajlab/run/start`: the arguments over the settings, the tasks file made
 * absolute against `baseDir` (the workspace folder), `out` the absolute output root.
 * Never holds a secret.
 */
export function buildRunOptions(settings: RunSettings, args: GenerateArgs, baseDir: string, out: string): Partial<RunOptions> & { tasksFile: string } {
  const options: Partial<RunOptions> & { tasksFile: string } = {
    tasksFile: path.resolve(baseDir, args.tasksFile),
    model: args.model ?? settings.model,
    workers: args.workers ?? settings.workers,
    attempts: args.attempts ?? settings.attempts,
    maxSteps: args.maxSteps ?? settings.maxSteps,
    timeout: args.timeout ?? settings.timeout,
    out,
  };
  const baseUrl = args.baseUrl ?? settings.baseUrl;
  if (!args.model && settings.models?.length) {
    // The models list: its first spec names the run; each entry has its own endpoint.
    options.models = settings.models;
    options.model = settings.models[0]!.model;
    if (settings.modelSwitch) options.modelSwitch = true;
  } else if (baseUrl) options.baseUrl = baseUrl;
  if (settings.defaultImage) options.defaultImage = settings.defaultImage;
  // A built-in name as it is; a file made absolute (the daemon's working folder is not the workspace).
  if (settings.agent) options.agent = BUILTIN_AGENT_NAMES.includes(settings.agent) ? settings.agent : path.resolve(baseDir, settings.agent);
  if (settings.network && settings.network !== 'none') options.network = settings.network;
  const sandbox = settings.sandbox ?? {};
  if (sandbox.maxMemoryMb !== undefined) options.maxMemoryMb = sandbox.maxMemoryMb;
  if (sandbox.maxCpus !== undefined) options.maxCpus = sandbox.maxCpus;
  if (sandbox.maxPids !== undefined) options.maxPids = sandbox.maxPids;
  if (sandbox.allowNetwork) options.allowNetwork = sandbox.allowNetwork;
  if (args.taskIds) options.taskIds = args.taskIds;
  if (args.filter) options.filter = args.filter;
  if (args.mode) options.mode = args.mode;
  if (args.temperature !== undefined) options.temperature = args.temperature;
  if (args.costLimit !== undefined) options.costLimit = args.costLimit;
  if (args.runCostLimit !== undefined) options.runCostLimit = args.runCostLimit;
  if (args.pool) options.hosts = poolHosts(settings.dockerHosts ?? []);
  else if (args.host) options.host = args.host;
  // A run given a host or the pool runs there; otherwise a configured queue takes its attempts.
  else if (settings.queue?.url && args.queue !== false) {
    options.queue = settings.queue.url;
    if (settings.queue.packLimitMb !== undefined) options.queuePackLimitMb = settings.queue.packLimitMb;
  }
  return options;
}

/**
 * The pool of `trajlab.dockerHosts`: its enabled entries as HostSpec, URLs as the daemon takes
 * them (`dockerUrl`: `tls` makes `https://`), with their name, workers and GPUs. Errors: none
 * is enabled (the message says so).
 */
export function poolHosts(hosts: readonly DockerHostSetting[]): HostSpec[] {
  const pool = hosts
    .filter((h) => h.enabled !== false)
    .map((h): HostSpec => ({
      url: dockerUrl(h),
      name: h.name,
      ...(h.workers !== undefined && { workers: h.workers }),
      ...(h.gpus?.length && { gpus: [...h.gpus] }),
    }));
  if (!pool.length) throw new InvalidArgsError('no enabled host in trajlab.dockerHosts to run a pool on: add hosts there, or set "enabled": true on one');
  return pool;
}

/** Whether a run should default to the pool: two or more `trajlab.dockerHosts` entries are enabled (one host is no pool; the daemon's engine stays the default then). */
export function poolByDefault(hosts: readonly DockerHostSetting[]): boolean {
  return hosts.filter((h) => h.enabled !== false).length >= 2;
}

/**
 * The options that resume a run: its original options (run.json) with its run id, so the
 * engine skips finished attempts and continues unfinished ones. run.json keeps a queue URL
 * without its password: `queueUrl` (`trajlab.queue.url`) puts it back when it names the same
 * queue.
 */
export function resumeOptions(run: RunInfo, queueUrl?: string): Partial<RunOptions> & { tasksFile: string } {
  const options = { ...run.options, runId: run.run_id };
  if (options.queue && queueUrl && sameQueue(options.queue, queueUrl)) options.queue = queueUrl;
  return options;
}

/** Whether two queue URLs name the same Redis database, whatever their passwords. */
function sameQueue(a: string, b: string): boolean {
  const bare = (url: string) => {
    try {
      const u = new URL(url);
      u.username = u.password = '';
      return `${u.protocol}//${u.hostname}:${u.port || '6379'}/${u.pathname.replace(/^\//, '') || '0'}`;
    } catch {
      return url; // not a URL: the daemon refuses it when the run starts
    }
  };
  return bare(a) === bare(b);
}
