import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ApiKeys, AttemptInfo, HostsStateResult, RunListResult, RunProgressParams, TaskUpdateParams } from '../../../common/src/protocol';
import type { ModelCounters, RunCounts, RunInfo, RunOptions, RunStatus } from '../../../common/src/run';
import type { DockerHostSetting } from '../../../common/src/settings';
import { isContainerUser } from '../../../common/src/task';
import { checkModelEntries } from '../agent/modelEntries';
import { queueUrlProblem } from '../queue/queue';
import { ListEntryError } from '../util/listFile';
import { checkHostSpecs } from '../pool/hostSpec';
import { RunEngine, type EngineEvent } from '../run/engine';
import { RunStore, listRuns } from '../store/runStore';
import { throwIfAborted } from '../util/abort';
import { settledOrAborted } from '../util/cancellation';
import type { Logger } from '../util/log';
import { TRAJLAB_VERSION } from '../version';
import { readAttemptStates } from './attemptHistory';
import { ProgressThrottle } from './progressThrottle';
import { capWorkersForHost } from './runPolicy';

/** What the run manager tells the daemon's clients. None of these may throw. */
export interface RunManagerHooks {
  /** Absolute output root used when a request names none. */
  out: string;
  logger: Logger;
  /** A run's counts or status changed (throttled per run; the final one is always sent). */
  onProgress(params: RunProgressParams): void;
  /** One attempt changed state. */
  onTaskUpdate(params: TaskUpdateParams): void;
  /** A run failed as a whole (no API key, Docker down, unreadable tasks file…). */
  onRunError(runId: string, message: string): void;
  /** Least time between two progress notifications of one run, ms (default 100, i.e. ≤ 10/s). */
  progressIntervalMs?: number;
  /** Builds engines (tests swap it); default `new RunEngine(options, hooks)`. */
  createEngine?: (options: Partial<RunOptions> & { tasksFile: string }, hooks: ConstructorParameters<typeof RunEngine>[1]) => RunEngine;
}

/** A `trajlab/run/start` request whose parameters are wrong; the message says which and why. */
export class InvalidRunParamsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRunParamsError';
  }
}

/**
 * Finished runs kept in memory besides the running ones; older ones are read from disk (a run
 * that failed before writing run.json is then forgotten).
 */
const FINISHED_KEPT = 50;

interface ManagedRun {
  engine: RunEngine;
  /** Settles when `engine.run()` has returned or thrown; never rejects. */
  done: Promise<void>;
  status: RunStatus;
  error?: string;
  createdAt: string;
  startedAt: number;
  lastCounts: RunCounts;
  /** Runs with a models list: the entries' counters of the last progress event. */
  lastModels?: ModelCounters[];
  throttle: ProgressThrottle<RunProgressParams>;
}

/**
 * The daemon's registry of runs: starts engines in the background, cancels them, and answers
 * list / get by merging the runs in memory (fresher, and the only record of a run that failed
 * before writing run.json) with the runs on disk under an output root (`listRuns`). One
 * manager serves every connected client, so runs outlive the window that started them.
 */
export class RunManager {
  private readonly runs = new Map<string, ManagedRun>();
  private disposed = false;

  constructor(private readonly hooks: RunManagerHooks) {}

  /** The output root of requests that name none (absolute). */
  get out(): string {
    return this.hooks.out;
  }

  /**
   * The live host state of each running run that has one (RunEngine.hostsState: a pool run's
   * hosts, or a single host's), for the Hosts view. Runs not connected yet are left out.
   */
  hostsState(): HostsStateResult {
    const runs: HostsStateResult['runs'] = [];
    for (const [runId, run] of this.runs) {
      if (run.status !== 'running') continue;
      const hosts = run.engine.hostsState();
      if (hosts) runs.push({ runId, hosts });
    }
    return { runs };
  }

  /** Ids of the runs still running. */
  get activeRunIds(): string[] {
    return [...this.runs].filter(([, r]) => r.status === 'running').map(([id]) => id);
  }

  /**
   * Starts a run and returns its id at once; the run continues in the background and reports
   * through the hooks. Relative paths are resolved against the daemon's working directory;
   * `out` defaults to the daemon's output root; `workers` (of the run, or of each pool host) is
   * capped at the `maxConcurrent` of `params.dockerHosts`' entry for the host (capWorkersForHost).
   * Errors: InvalidRunParamsError when the parameters are malformed, the tasks file does not
   * exist or is not a file, the run id is invalid or that run is already running here.
   */
  async start(params: unknown): Promise<string> {
    if (this.disposed) throw new Error('the daemon is shutting down; start the run again once it is back');
    const options = capWorkersForHost(validateStartOptions(params), validateDockerHosts(params));
    const apiKeys = validateApiKeys(params);
    const tasksFile = path.resolve(options.tasksFile);
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(tasksFile);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(err as Error).message})`;
      throw new InvalidRunParamsError(`the tasks file ${tasksFile} ${why} (options.tasksFile); pass the path of a tasks.jsonl file`);
    }
    if (!stat.isFile()) throw new InvalidRunParamsError(`the tasks file ${tasksFile} is not a file (options.tasksFile); pass the path of a tasks.jsonl file`);
    if (options.runId && this.runs.get(options.runId)?.status === 'running') {
      throw new InvalidRunParamsError(`run ${options.runId} is already running in this daemon; cancel it first or pick another run id`);
    }

    const createEngine = this.hooks.createEngine ?? ((o, h) => new RunEngine(o, h));
    let engine: RunEngine;
    const ref: { run?: ManagedRun } = {};
    try {
      engine = createEngine(
        { ...options, tasksFile, out: path.resolve(options.out ?? this.hooks.out) },
        { logger: this.hooks.logger, env: apiKeys, onEvent: (e) => ref.run && this.onEngineEvent(ref.run, e) },
      );
    } catch (err) {
      throw new InvalidRunParamsError((err as Error).message);
    }
    const runId = engine.runId;
    if (this.runs.get(runId)?.status === 'running') {
      throw new InvalidRunParamsError(`run ${runId} is already running in this daemon; cancel it first or pick another run id`);
    }
    const run: ManagedRun = {
      engine,
      done: Promise.resolve(),
      status: 'running',
      createdAt: new Date().toISOString(),
      startedAt: performance.now(),
      lastCounts: emptyCounts(),
      throttle: new ProgressThrottle(this.hooks.progressIntervalMs ?? 100, (p) => this.safely(() => this.hooks.onProgress(p))),
    };
    ref.run = run;
    this.runs.delete(runId);
    this.runs.set(runId, run);
    this.hooks.logger.info(`run ${runId}: started (${tasksFile}, model ${engine.options.model}, out ${engine.options.out})`);
    run.done = engine.run().then(
      (report) => {
        run.status = engine.signal.aborted ? 'cancelled' : 'finished';
        this.hooks.logger.info(`run ${runId}: ${run.status} (${report.resolved}/${report.total} resolved)`);
        this.sendFinalProgress(run);
        this.evictFinished();
      },
      (err: Error) => {
        run.status = 'failed';
        run.error = err.message;
        this.hooks.logger.error(`run ${runId} failed: ${err.message}`);
        this.sendFinalProgress(run);
        this.safely(() => this.hooks.onRunError(runId, `TrajLab run ${runId} failed: ${err.message}`));
        this.evictFinished();
      },
    );
    return runId;
  }

  /**
   * Cancels a running run and resolves once `engine.run()` has returned, i.e. once every
   * container of the run is removed. Returns false for an unknown run or one that no longer
   * runs. When `signal` fires first (the client gave up waiting) the run is still cancelled
   * and the answer is true.
   */
  async cancel(runId: string, signal?: AbortSignal): Promise<boolean> {
    const run = this.runs.get(runId);
    if (!run || run.status !== 'running') return false;
    this.hooks.logger.info(`run ${runId}: cancelling`);
    run.engine.cancel();
    await settledOrAborted(run.done, signal);
    return true;
  }

  /**
   * The runs under output root `out` (default: the daemon's), newest first by created_at: the
   * ones on disk, with those in memory in place of their run.json; `unreadable` (only when
   * there are some) lists the run folders whose run.json could not be read (see listRuns).
   * Errors: AbortedError, or `runs/` cannot be listed.
   */
  async list(out?: string, signal?: AbortSignal): Promise<RunListResult> {
    const root = path.resolve(out ?? this.hooks.out);
    const byId = new Map<string, RunInfo>();
    const disk = await listRuns(root);
    for (const info of disk.runs) byId.set(info.run_id, info);
    throwIfAborted(signal);
    for (const run of this.runs.values()) {
      if (run.engine.options.out === root) byId.set(run.engine.runId, this.infoOf(run));
    }
    const runs = [...byId.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
    // A run this daemon holds in memory is listed from there, whatever its run.json says.
    const unreadable = disk.unreadable.filter((u) => !byId.has(u.run_id));
    return unreadable.length ? { runs, unreadable } : { runs };
  }

  /**
   * One run and the state of each of its attempts, or null when there is none. Without `out`,
   * a run in memory is found whatever its output root; otherwise the run is looked up under
   * `out` (default: the daemon's) on disk. Errors: AbortedError.
   */
  async get(runId: string, out?: string, signal?: AbortSignal): Promise<{ run: RunInfo; attempts: AttemptInfo[] } | null> {
    const root = path.resolve(out ?? this.hooks.out);
    const mem = this.runs.get(runId);
    if (mem && (out === undefined || mem.engine.options.out === root)) {
      return { run: this.infoOf(mem), attempts: mem.engine.attemptStates() };
    }
    let store: RunStore;
    try {
      store = new RunStore(root, runId);
    } catch {
      return null; // not a valid run id (RunStore says why): no run has it
    }
    const info = await store.readLiveInfo().catch((err: Error) => {
      // Answered as no such run (as the run list leaves it out), but the log says why.
      this.hooks.logger.warn(`run ${runId}: cannot read ${store.infoPath}: ${err.message}`);
      return undefined;
    });
    throwIfAborted(signal);
    if (!info) return null;
    return { run: info, attempts: await readAttemptStates(store, info.status, signal) };
  }

  /**
   * Cancels every running run and waits up to `timeoutMs` for their containers to be removed
   * (daemon shutdown). Later `start` calls are refused.
   */
  async dispose(timeoutMs = 30_000): Promise<void> {
    this.disposed = true;
    const active = [...this.runs.values()].filter((r) => r.status === 'running');
    for (const r of active) r.engine.cancel();
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([Promise.all(active.map((r) => r.done)), timeout]);
  }

  private onEngineEvent(run: ManagedRun, e: EngineEvent): void {
    const runId = run.engine.runId;
    if (e.type === 'attempt') {
      this.safely(() => this.hooks.onTaskUpdate({ runId, taskId: e.taskId, attempt: e.attempt, state: e.state }));
    } else if (e.type === 'progress') {
      run.lastCounts = e.counts;
      // The engine's last progress event carries the final status; the manager sends that
      // one itself once run() has returned, so that it is never throttled away.
      run.lastModels = e.models;
      if (e.status === 'running') run.throttle.push({ runId, status: e.status, counts: e.counts, elapsedMs: e.elapsedMs, ...(e.models ? { models: e.models } : {}) });
    }
  }

  private sendFinalProgress(run: ManagedRun): void {
    const counts = run.engine.currentInfo()?.counts ?? run.lastCounts;
    run.throttle.push(
      { runId: run.engine.runId, status: run.status, counts, elapsedMs: Math.round(performance.now() - run.startedAt), ...(run.lastModels ? { models: run.lastModels } : {}) },
      true,
    );
  }

  /** The run.json of a run in memory; synthesised when the engine failed before writing one. */
  private infoOf(run: ManagedRun): RunInfo {
    const info = run.engine.currentInfo();
    if (info) return run.status === 'running' ? info : { ...info, status: run.status };
    return {
      run_id: run.engine.runId,
      status: run.status,
      created_at: run.createdAt,
      updated_at: new Date().toISOString(),
      options: run.engine.options,
      counts: { ...run.lastCounts },
      rejected_lines: [],
      trajlab_version: TRAJLAB_VERSION,
    };
  }

  /** Forgets the oldest finished runs beyond FINISHED_KEPT (their files stay on disk). */
  private evictFinished(): void {
    const finished = [...this.runs].filter(([, r]) => r.status !== 'running');
    for (const [id] of finished.slice(0, Math.max(0, finished.length - FINISHED_KEPT))) this.runs.delete(id);
  }

  private safely(f: () => void): void {
    try {
      f();
    } catch (err) {
      this.hooks.logger.error(`cannot notify the client: ${(err as Error).message}`);
    }
  }
}

function emptyCounts(): RunCounts {
  return { total: 0, done: 0, failed: 0, running: 0, queued: 0, resolved: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0 };
}

/**
 * Checks the shape of `trajlab/run/start` parameters (`{options: {tasksFile, …}}`, see
 * RunStartParams in common/src/protocol.ts) and returns the options.
 * Errors: InvalidRunParamsError naming the field.
 */
export function validateStartOptions(params: unknown): Partial<RunOptions> & { tasksFile: string } {
  const options = (params as { options?: unknown } | null | undefined)?.options;
  if (!options || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidRunParamsError('trajlab/run/start needs {options: {tasksFile, …}}');
  }
  const o = options as Record<string, unknown>;
  if (typeof o.tasksFile !== 'string' || !o.tasksFile) throw new InvalidRunParamsError('options.tasksFile must be the path of a tasks.jsonl file');
  for (const field of ['model', 'baseUrl', 'out', 'runId', 'host', 'filter', 'defaultImage', 'agent', 'queue'] as const) {
    if (o[field] !== undefined && typeof o[field] !== 'string') throw new InvalidRunParamsError(`options.${field} must be a string (got ${JSON.stringify(o[field])})`);
  }
  for (const field of ['workers', 'attempts', 'maxSteps'] as const) {
    const v = o[field];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= 1)) throw new InvalidRunParamsError(`options.${field} must be an integer ≥ 1 (got ${JSON.stringify(v)})`);
  }
  for (const field of ['timeout', 'temperature', 'costLimit', 'runCostLimit', 'commandTimeout', 'outputCap', 'maxDiffFileBytes'] as const) {
    const v = o[field];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new InvalidRunParamsError(`options.${field} must be a number ≥ 0 (got ${JSON.stringify(v)})`);
  }
  if (o.mode !== undefined && o.mode !== 'tools' && o.mode !== 'text') throw new InvalidRunParamsError(`options.mode must be "tools" or "text" (got ${JSON.stringify(o.mode)})`);
  if (o.network !== undefined && o.network !== 'none' && o.network !== 'bridge' && o.network !== 'host') {
    throw new InvalidRunParamsError(`options.network must be "none", "bridge" or "host" (got ${JSON.stringify(o.network)})`);
  }
  if (o.allowNetwork !== undefined && o.allowNetwork !== 'none' && o.allowNetwork !== 'bridge' && o.allowNetwork !== 'host') {
    throw new InvalidRunParamsError(`options.allowNetwork must be "none", "bridge" or "host" (got ${JSON.stringify(o.allowNetwork)})`);
  }
  for (const field of ['maxMemoryMb', 'maxPids', 'diskLimitMb'] as const) {
    const v = o[field];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= 16)) throw new InvalidRunParamsError(`options.${field} must be an integer ≥ 16 (got ${JSON.stringify(v)})`);
  }
  if (o.maxCpus !== undefined && !(typeof o.maxCpus === 'number' && Number.isFinite(o.maxCpus) && o.maxCpus > 0)) {
    throw new InvalidRunParamsError(`options.maxCpus must be a number > 0 (got ${JSON.stringify(o.maxCpus)})`);
  }
  if (o.user !== undefined && !isContainerUser(o.user)) throw new InvalidRunParamsError(`options.user must be name, uid, name:group or uid:gid (got ${JSON.stringify(o.user)})`);
  if (o.taskIds !== undefined && !(Array.isArray(o.taskIds) && o.taskIds.every((id) => typeof id === 'string' && id))) {
    throw new InvalidRunParamsError(`options.taskIds must be a list of task id strings (got ${JSON.stringify(o.taskIds)})`);
  }
  if (o.gpus !== undefined && !(Array.isArray(o.gpus) && o.gpus.every((id) => typeof id === 'string' && id))) {
    throw new InvalidRunParamsError(`options.gpus must be a list of GPU device id strings (got ${JSON.stringify(o.gpus)})`);
  }
  if (o.hosts !== undefined) o.hosts = validateList('hosts', o.hosts, '{url, name?, workers?, gpus?, labels?, enabled?}', checkHostSpecs);
  if (o.models !== undefined) o.models = validateList('models', o.models, '{model, …}', checkModelEntries);
  const queueProblem = typeof o.queue === 'string' ? queueUrlProblem(o.queue) : undefined;
  if (queueProblem) throw new InvalidRunParamsError(`options.queue: ${queueProblem}`);
  if (o.queuePackLimitMb !== undefined && !(typeof o.queuePackLimitMb === 'number' && Number.isFinite(o.queuePackLimitMb) && o.queuePackLimitMb >= 1)) {
    throw new InvalidRunParamsError(`options.queuePackLimitMb must be a number of MiB ≥ 1 (got ${JSON.stringify(o.queuePackLimitMb)})`);
  }
  if (o.recordTokens !== undefined && typeof o.recordTokens !== 'boolean') throw new InvalidRunParamsError(`options.recordTokens must be true or false (got ${JSON.stringify(o.recordTokens)})`);
  if (o.modelSwitch !== undefined && typeof o.modelSwitch !== 'boolean') throw new InvalidRunParamsError(`options.modelSwitch must be true or false (got ${JSON.stringify(o.modelSwitch)})`);
  if (o.modelRequeues !== undefined && !(Number.isInteger(o.modelRequeues) && (o.modelRequeues as number) >= 0)) {
    throw new InvalidRunParamsError(`options.modelRequeues must be an integer ≥ 0 (got ${JSON.stringify(o.modelRequeues)})`);
  }
  if (o.hostWaitSec !== undefined && !(typeof o.hostWaitSec === 'number' && Number.isFinite(o.hostWaitSec) && o.hostWaitSec >= 0)) {
    throw new InvalidRunParamsError(`options.hostWaitSec must be a number of seconds ≥ 0 (got ${JSON.stringify(o.hostWaitSec)})`);
  }
  // Only known fields go on: run.json records the options, and nothing unexpected (a key a
  // client put in the wrong place) may reach a file.
  const unknown = Object.keys(o).filter((k) => !RUN_OPTION_KEYS.has(k));
  if (unknown.length) throw new InvalidRunParamsError(`unknown option(s) ${unknown.map((k) => `options.${k}`).join(', ')}; API keys go in params.apiKeys`);
  return o as Partial<RunOptions> & { tasksFile: string };
}

const RUN_OPTION_KEYS = new Set<string>([
  'tasksFile', 'model', 'baseUrl', 'workers', 'attempts', 'out', 'runId', 'host', 'maxSteps', 'timeout', 'temperature',
  'mode', 'filter', 'taskIds', 'costLimit', 'runCostLimit', 'defaultImage', 'network', 'commandTimeout', 'outputCap', 'maxDiffFileBytes', 'gpus',
  'maxMemoryMb', 'maxCpus', 'maxPids', 'allowNetwork', 'user', 'diskLimitMb', 'hosts', 'hostWaitSec', 'models', 'modelSwitch', 'modelRequeues', 'recordTokens', 'agent', 'queue',
  'queuePackLimitMb',
] satisfies (keyof RunOptions)[]);

/**
 * `options.<field>` of `trajlab/run/start` (`hosts`, `models`) checked as its file is (`check`:
 * checkHostSpecs, checkModelEntries): a non-empty list (`shape` describes an entry). Errors:
 * InvalidRunParamsError naming the entry (`options.hosts[1].workers: "workers" must be an
 * integer ≥ 1 (got 0)`).
 */
function validateList<T>(field: string, value: unknown, shape: string, check: (list: readonly unknown[]) => T[]): T[] {
  if (!Array.isArray(value) || !value.length) {
    throw new InvalidRunParamsError(`options.${field} must be a non-empty list of ${shape} (got ${String(JSON.stringify(value)).slice(0, 80)})`);
  }
  try {
    return check(value);
  } catch (err) {
    if (!(err instanceof ListEntryError)) throw err;
    const [i, ...rest] = err.at;
    throw new InvalidRunParamsError(`options.${field}[${i}]${rest.length ? `.${rest.join('.')}` : ''}: ${err.problem}`);
  }
}

/**
 * Checks `apiKeys` of `trajlab/run/start` (ApiKeys in common/src/protocol.ts): an object from
 * environment variable names ending in `_API_KEY` to non-empty strings. Returns them, or
 * undefined when absent. Errors: InvalidRunParamsError naming the bad entry (never its value).
 */
export function validateApiKeys(params: unknown): ApiKeys | undefined {
  const keys = (params as { apiKeys?: unknown } | null | undefined)?.apiKeys;
  if (keys === undefined || keys === null) return undefined;
  if (typeof keys !== 'object' || Array.isArray(keys)) throw new InvalidRunParamsError('apiKeys must be an object {ENV_NAME_API_KEY: key}');
  for (const [name, value] of Object.entries(keys)) {
    if (!/^[A-Z][A-Z0-9_]*_API_KEY$/.test(name)) throw new InvalidRunParamsError(`apiKeys: "${name}" is not an API key variable name (NAME_API_KEY)`);
    if (typeof value !== 'string' || !value) throw new InvalidRunParamsError(`apiKeys.${name} must be a non-empty string`);
  }
  return keys as ApiKeys;
}

/**
 * The `dockerHosts` of `trajlab/run/start` params (the client's `trajlab.dockerHosts`); none
 * when absent. Errors: InvalidRunParamsError when it is not a list of `{name, url,
 * maxConcurrent?}` entries.
 */
export function validateDockerHosts(params: unknown): DockerHostSetting[] {
  const hosts = (params as { dockerHosts?: unknown } | null | undefined)?.dockerHosts;
  if (hosts === undefined || hosts === null) return [];
  const valid = (h: unknown): h is DockerHostSetting => {
    const x = h as Partial<DockerHostSetting> | null;
    return !!x && typeof x === 'object' && typeof x.name === 'string' && typeof x.url === 'string' && (x.maxConcurrent === undefined || typeof x.maxConcurrent === 'number');
  };
  if (!Array.isArray(hosts) || !hosts.every(valid)) {
    throw new InvalidRunParamsError(`dockerHosts must be a list of {name, url, maxConcurrent?} entries (got ${String(JSON.stringify(hosts)).slice(0, 80)})`);
  }
  return hosts;
}
