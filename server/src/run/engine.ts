import { setMaxListeners } from 'node:events';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PoolHostState } from '../../../common/src/protocol';
import type { AttemptState, ModelCounters, RejectedLine, RunCounts, RunInfo, RunOptions, RunReport, RunStatus } from '../../../common/src/run';
import type { Task } from '../../../common/src/task';
import { formatCost } from '../../../common/src/format';
import type { Step, Trajectory } from '../../../common/src/trajectory';
import { parseModelSpec, type ModelClient } from '../agent/model';
import * as runMetrics from '../metrics/runMetrics';
import { RunStore, newRunId } from '../store/runStore';
import { readTasksOrSource } from '../import/sourceReader';
import { AbortedError } from '../util/abort';
import { CoalescingJsonWriter } from '../util/fsAtomic';
import type { Logger } from '../util/log';
import { runSecrets, type Secrets } from '../util/secrets';
import { withoutCredentials } from '../util/urlCredentials';
import { TRAJLAB_VERSION } from '../version';
import { runAttempt } from './attempt';
import { HostLostError, RequeueError, type JobPlace, type JobRunner } from './jobRunner';
import { AttemptModel, ModelUnavailableError, type ModelPool } from '../agent/modelPool';
import { runModelOf, type RunModel } from './runModel';
import { QueueRunner } from './queueRunner';
import { AgentProtocol, agentConfigHash, readAgentConfig } from '../agent/agentConfig';
import { attemptKey, jobList, selectTasks, stripUndefined, type Job } from './jobs';
import { LocalRunner } from './localRunner';
import { PoolRunner } from './poolRunner';
import { buildReport } from './report';
import { attemptLimits, RUN_DEFAULTS } from './runDefaults';

export { RUN_DEFAULTS };

/** What the engine reports while it runs (the CLI draws a progress bar, the daemon notifies). */
export type EngineEvent =
  | { type: 'attempt'; taskId: string; attempt: number; state: AttemptState }
  | { type: 'step'; taskId: string; attempt: number; step: Step }
  | { type: 'progress'; status: RunStatus; counts: RunCounts; elapsedMs: number; /** Runs with a models list: each entry's counters. */ models?: ModelCounters[] };

/**
 * What the engine is given. Every text the engine passes to `logger` and `onEvent` is scrubbed of
 * the run's secrets first (util/secrets.ts: the API keys in `env` and the process environment,
 * passwords in its URLs).
 */
export interface EngineHooks {
  logger: Logger;
  onEvent?(event: EngineEvent): void;
  /** Extra environment for API keys (the daemon passes keys from the client); never written to disk. */
  env?: NodeJS.ProcessEnv;
  /** GPU device ids this host offers; wins over `options.gpus` (see gpuPool). */
  gpus?: string[];
  /** A model client to use instead of the one `options.model` names (embedding, benchmarks). */
  model?: ModelClient;
}

/** How the engine makes a run's model: one client for every task, or one per task; see RunEngine.resolveModel. */

/**
 * One run of tasks × attempts: reads tasks.jsonl (bad lines are reported, good ones run),
 * hands the attempts to a JobRunner (LocalRunner: a pool of `workers` on one Docker host;
 * PoolRunner: several hosts, `options.hosts`), writes trajectories, events, run.json and report.json under `<out>/runs/<run_id>/`.
 * Resuming (same run id, or an existing run dir as
 * `out`) skips finished attempts and continues unfinished ones from their last finished step.
 * `cancel()` aborts every attempt and removes their containers.
 */
export class RunEngine {
  readonly options: RunOptions;
  readonly store: RunStore;
  private readonly controller = new AbortController();
  private readonly counts: RunCounts = { total: 0, done: 0, failed: 0, running: 0, queued: 0, resolved: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0 };
  private readonly states = new Map<string, AttemptState>();
  private status: RunStatus = 'running';
  /** Attempts this process has begun (runJob called), by attemptKey(): their earlier steps are counted once. */
  private readonly started = new Set<string>();
  /** Attempts not started because `runCostLimit` was reached. */
  private notStartedForCost = 0;
  /** The models list's pool (`options.models`), once resolveModel made it: its counters go to progress events and run.json. */
  private pool: ModelPool | undefined;
  /** The agent config's protocol (`options.agent`); undefined: the built-in one. */
  private readonly protocol: AgentProtocol | undefined;
  /** Requeues of each attempt (key) because its model was unavailable, and of all. */
  private readonly requeues = new Map<string, number>();
  private requeueCount = 0;
  /** Attempts that ended in error with their model still unavailable after their requeues. */
  private gaveUp = 0;
  private startedAt = performance.now();
  private info: RunInfo | undefined;
  /** Set once `run()` has made it. */
  private runner: JobRunner | undefined;
  private readonly hooks: EngineHooks;
  /** The run's secrets, scrubbed from everything it writes (run folder) and reports (logger, events, errors). */
  readonly secrets: Secrets;

  /** Errors: an invalid run id or output folder. Nothing is read or written until `run()`. */
  constructor(options: Partial<RunOptions> & { tasksFile: string }, hooks: EngineHooks) {
    // The agent config first: a bad file fails here, before anything is written. Its mode applies where none is given.
    const agent = options.agent !== undefined ? readAgentConfig(options.agent) : undefined;
    this.protocol = agent && new AgentProtocol(agent);
    const o: RunOptions = {
      model: RUN_DEFAULTS.model,
      workers: RUN_DEFAULTS.workers,
      attempts: RUN_DEFAULTS.attempts,
      out: RUN_DEFAULTS.out,
      ...stripUndefined(options),
      mode: options.mode ?? agent?.mode ?? RUN_DEFAULTS.mode,
      tasksFile: options.tasksFile,
    };
    if (!o.runId && RunStore.isRunDir(o.out)) {
      // `--out` names an existing run folder: resume it.
      const s = RunStore.fromRunDir(o.out);
      o.out = s.root;
      o.runId = s.runId;
    }
    o.runId ??= newRunId();
    o.tasksFile = path.resolve(o.tasksFile);
    o.out = path.resolve(o.out);
    this.options = o;
    this.secrets = runSecrets(
      { ...process.env, ...hooks.env },
      [o.baseUrl, o.host, o.queue, ...(o.hosts ?? []).map((h) => h.url), ...(o.models ?? []).map((m) => m.base_url)],
      (o.models ?? []).flatMap((m) => (m.api_key_env ? [m.api_key_env] : [])),
    );
    const secrets = this.secrets;
    const { onEvent } = hooks;
    this.hooks = { ...hooks, logger: secrets.logger(hooks.logger), onEvent: onEvent && ((e) => onEvent(secrets.value(e))) };
    this.store = new RunStore(o.out, o.runId);
    this.store.secrets = secrets;
    // Every attempt listens on the run's signal; hundreds at once are expected.
    setMaxListeners(0, this.controller.signal);
  }

  get runId(): string {
    return this.options.runId!;
  }

  /** The state of every attempt seen so far, keyed `taskId\u0000attempt`. */
  attemptStates(): { taskId: string; attempt: number; state: AttemptState; trajectoryPath: string }[] {
    return [...this.states].map(([key, state]) => {
      const [taskId, attempt] = key.split('\u0000') as [string, string];
      return { taskId, attempt: Number(attempt), state, trajectoryPath: this.store.trajectoryPath(taskId, Number(attempt)) };
    });
  }

  currentInfo(): RunInfo | undefined {
    return this.info && { ...this.info, status: this.status, counts: { ...this.counts } };
  }

  /** The live state of each Docker host of the run (pool or single host), for the Hosts view; undefined before the run has connected. */
  hostsState(): PoolHostState[] | undefined {
    return this.runner?.hostsState?.();
  }

  /** Aborts the run: attempts stop, containers are removed, the run is marked `cancelled`. */
  cancel(): void {
    this.controller.abort('cancelled');
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Runs to the end and returns the report. Errors: the tasks file cannot be read, the model
   * spec is invalid or has no key (the message names the variable), the Docker host does not
   * answer. Per-attempt failures never throw: they are recorded in the trajectory and report.
   */
  async run(): Promise<RunReport> {
    runMetrics.runStarted();
    try {
      return await this.runInner();
    } catch (err) {
      this.status = 'failed';
      // The original error is the one to report; a record that could not be written is logged.
      const { logger } = this.hooks;
      const lost = (what: string) => (e: Error) => logger.error(`${what} not written after the run failed: ${e.message}`);
      if (this.info) {
        await this.writeInfo().catch(lost('run.json'));
        await this.store.appendEvent({ type: 'run_finished', time: new Date().toISOString(), status: 'failed' }).catch(lost('the run_finished event'));
      }
      this.emitProgress();
      await this.infoWriter.flush().catch(lost('run.json'));
      throw this.secrets.error(err);
    } finally {
      runMetrics.runEnded(this.counts.queued);
    }
  }

  /** The run, step by step: tasks, the runner, the run's record, the jobs, then the report. */
  private async runInner(): Promise<RunReport> {
    const o = this.options;
    const model = this.resolveModel();
    // The tasks file first: a wrong path fails at once, before Docker is asked and before any folder is made.
    const { tasks: valid, rejected } = await readTasksOrSource(o.tasksFile);
    const runner = (this.runner = this.createRunner());
    await runner.open();

    const resumed = this.store.exists();
    await this.store.init();
    await this.store.assignTrajectoryNames(valid.map((t) => t.task.task_id));
    const tasks = selectTasks(valid, rejected, { tasksFile: o.tasksFile, filter: o.filter, taskIds: o.taskIds, replay: model.replay?.trajectory }, this.hooks.logger);
    await this.recordStart(rejected, resumed);

    const jobs = jobList(tasks, o.attempts);
    this.queue(jobs);
    const finished: Trajectory[] = [];
    const earlier = new EarlierTrajectories(this.store, this.hooks.logger);
    this.emitProgress();
    // Settled also when runAll fails (a record could not be written): environments prepared ahead are released either way.
    await runner.runAll(jobs, {
      attempt: async (job, place) => {
        const t = await this.runJob(job, await earlier.take(job), model, place);
        if (t) finished.push(t);
      },
      fail: async (job, error) => {
        this.counts.queued--;
        await this.fail(job.entry.task.task_id, job.attempt, error);
      },
      waiting: (job, detail) => this.imageProgress(job.entry.task.task_id, job.attempt, detail),
      wantsEnvironment: async (job) => !this.runCostReached() && hasModel(model, job.entry.task) && (await earlier.peek(job))?.status !== 'finished',
    }).finally(() => runner.settle());

    if (this.signal.aborted) {
      this.status = 'cancelled';
      await runner.removeLeftovers();
    } else {
      this.status = 'finished';
    }
    const report: RunReport = {
      ...buildReport(this.runId, tasks.map((t) => t.task.task_id), finished, o.attempts, rejected),
      ...(this.notStartedForCost ? { run_cost_limit: { limit_usd: o.runCostLimit!, not_started: this.notStartedForCost } } : {}),
      ...runner.poolReport?.(),
      ...(this.requeueCount || this.gaveUp ? { rate_limited: { requeues: this.requeueCount, gave_up: this.gaveUp } } : {}),
    };
    await this.recordEnd(report);
    return this.secrets.value(report);
  }

  /** Where this run's jobs run: the pool of `options.hosts` when given, else the local worker pool on `options.host`. */
  private createRunner(): JobRunner {
    const context = {
      runId: this.runId,
      runDir: this.store.dir,
      options: this.options,
      gpus: this.hooks.gpus,
      logger: this.hooks.logger,
      signal: this.signal,
      onImageProgress: (taskId: string, attempt: number, detail: string | undefined) => this.imageProgress(taskId, attempt, detail),
    };
    if (this.options.queue) return new QueueRunner({ ...context, queueUrl: this.options.queue, agentConfig: this.protocol?.config });
    if (this.options.hosts?.length) return new PoolRunner({ ...context, record: (event) => this.store.appendEvent(event) });
    return new LocalRunner(context);
  }

  /** Each attempt's state from before its image step began (see imageProgress). */
  private readonly beforePreparing = new Map<string, AttemptState>();

  /**
   * An attempt's image is being pulled or built (`detail`: the latest line; the state becomes
   * `preparing`), or that step ended (`undefined`: the state it had before comes back).
   */
  private imageProgress(taskId: string, attempt: number, detail: string | undefined): void {
    const k = attemptKey(taskId, attempt);
    const current = this.states.get(k);
    if (detail !== undefined) {
      if (current?.kind !== 'preparing') this.beforePreparing.set(k, current ?? { kind: 'queued' });
      this.setState(taskId, attempt, { kind: 'preparing', detail });
    } else if (current?.kind === 'preparing') {
      this.setState(taskId, attempt, this.beforePreparing.get(k) ?? { kind: 'queued' });
      this.beforePreparing.delete(k);
    }
  }

  /**
   * Starts the run's record: run.json (`created_at` kept from an earlier process when resuming,
   * the rejected lines, this process as owner) and the `run_started` event. Errors: the writes failed.
   */
  private async recordStart(rejected: RejectedLine[], resumed: boolean): Promise<void> {
    const previous = await this.store.readInfo();
    this.info = {
      run_id: this.runId,
      status: 'running',
      created_at: previous?.created_at ?? new Date().toISOString(),
      updated_at: new Date().toISOString(),
      options: recordedOptions(this.options),
      counts: this.counts,
      rejected_lines: rejected,
      trajlab_version: TRAJLAB_VERSION,
      owner: { hostname: os.hostname(), pid: process.pid },
      ...(this.protocol ? { agent_config: { name: this.protocol.config.name, sha256: agentConfigHash(this.protocol.config) } } : {}),
    };
    await this.writeInfo();
    await this.store.appendEvent({ type: 'run_started', time: new Date().toISOString(), run_id: this.runId, resumed });
  }

  /** Counts every job as queued and gives it the `queued` state. */
  private queue(jobs: readonly Job[]): void {
    this.counts.total = jobs.length;
    this.counts.queued = jobs.length;
    runMetrics.attemptsQueuedAdded(jobs.length);
    for (const j of jobs) this.states.set(attemptKey(j.entry.task.task_id, j.attempt), { kind: 'queued' });
  }

  /**
   * Ends the run's record with `this.status`: report.json, run.json, the `run_finished` event,
   * a last progress event. Nothing is left writing into the run folder when it returns (a
   * caller may move or delete it). Errors: the writes failed.
   */
  private async recordEnd(report: RunReport): Promise<void> {
    await this.store.writeReport(report);
    await this.writeInfo();
    await this.store.appendEvent({ type: 'run_finished', time: new Date().toISOString(), status: this.status });
    this.emitProgress();
    // emitProgress scheduled one more run.json write.
    await this.infoWriter.flush();
  }

  /** The run's model (runModelOf); a models list's pool is kept for its counters, a replay sets the mode. */
  private resolveModel(): RunModel {
    if (this.hooks.model) {
      const model = this.hooks.model;
      return { forTask: () => model };
    }
    // A queue run's model is called on the workers, with their keys (issue 18): the coordinator
    // makes no client, so it needs no key. The specs are still checked here, before anything is enqueued.
    if (this.options.queue && (this.options.models?.length || parseModelSpec(this.options.model).kind === 'api')) {
      for (const entry of this.options.models ?? []) parseModelSpec(entry.model);
      const remote = unavailableModel(this.options.model);
      return { forTask: () => remote };
    }
    const resolved = runModelOf(this.options, { ...process.env, ...this.hooks.env }, (m) => this.hooks.logger.warn(this.secrets.scrub(m)));
    this.pool = resolved.pool;
    if (resolved.replay) this.options.mode = resolved.replay.trajectory.agent.mode;
    return resolved;
  }

  /**
   * Runs one job's attempt at `place` and records it (counts, states, events): a job an earlier
   * process finished (`previous`) is counted as it was; an unfinished `previous` is continued.
   * Returns the finished trajectory, or undefined when the attempt was cancelled or failed
   * outside the trajectory (logged and recorded as `attempt_failed`). Errors: the events file
   * could not be written.
   */
  private async runJob(job: Job, previous: Trajectory | undefined, model: RunModel, place: JobPlace): Promise<Trajectory | undefined> {
    const o = this.options;
    const task = job.entry.task;
    this.counts.queued--;
    // Once per attempt: a moved attempt comes back here with steps this process already counted.
    if (previous && !this.started.has(attemptKey(task.task_id, job.attempt))) this.countEarlierSteps(previous);
    this.started.add(attemptKey(task.task_id, job.attempt));
    if (previous?.status === 'finished' && previous.result) {
      runMetrics.attemptDequeued();
      this.finish(task.task_id, job.attempt, previous);
      return previous;
    }
    if (this.runCostReached()) return this.skipForCost(task.task_id, job.attempt);
    runMetrics.attemptDequeued(place.hostLabel);
    const began = performance.now();
    this.counts.running++;
    // Pool runs name the host in the running state and the events.
    const host = o.hosts?.length ? place.hostLabel : undefined;
    const withHost = (state: AttemptState): AttemptState => (host && state.kind === 'running' ? { ...state, host } : state);
    this.setState(task.task_id, job.attempt, withHost({ kind: 'running', step: previous?.steps.length ?? 0 }));
    this.emitProgress();
    if (place.move) {
      const { from, reason } = place.move;
      await this.store.appendEvent({ type: 'attempt_moved', time: new Date().toISOString(), task_id: task.task_id, attempt: job.attempt, from, to: place.hostLabel, at_step: previous?.status === 'running' ? previous.steps.length : 0, reason });
    }
    await this.store.appendEvent({ type: 'attempt_started', time: new Date().toISOString(), task_id: task.task_id, attempt: job.attempt, resumed_from_step: previous?.steps.length ?? 0, ...(host ? { host } : {}) });
    let attemptModel: ModelClient | undefined;
    let modelError: string | undefined;
    try {
      attemptModel = model.forTask(task, previous, (this.requeues.get(attemptKey(task.task_id, job.attempt)) ?? 0) < (o.modelRequeues ?? RUN_DEFAULTS.modelRequeues));
    } catch (err) {
      modelError = (err as Error).message;
    }
    const onState = (state: AttemptState) => this.setState(task.task_id, job.attempt, withHost(state));
    const onStep = async (trajectory: Trajectory, step: Step) => {
      runMetrics.stepFinished(step);
      const u = step.usage;
      this.counts.prompt_tokens += u?.prompt_tokens ?? 0;
      this.counts.completion_tokens += u?.completion_tokens ?? 0;
      this.counts.cost_usd += step.cost_usd;
      this.hooks.onEvent?.({ type: 'step', taskId: task.task_id, attempt: job.attempt, step });
      await this.store.appendEvent({
        type: 'step',
        time: step.ended_at,
        task_id: trajectory.task_id,
        attempt: trajectory.attempt,
        index: step.index,
        exit_codes: step.observations.map((ob) => ob.exit_code),
      });
    };
    // A place that runs attempts elsewhere has no environment here to record the model's error in.
    if (place.execute && modelError) {
      this.counts.running--;
      runMetrics.attemptEnded(place.hostLabel, 'error');
      return this.fail(task.task_id, job.attempt, modelError);
    }
    try {
      // A place that runs attempts elsewhere (a queue worker) executes it and reports; otherwise it runs here.
      const t = place.execute ? await place.execute({ runId: this.runId, task, attempt: job.attempt, store: this.store, signal: this.signal, onState, onStep }, previous) : await runAttempt(
        {
          ...place.environment!,
          environment: () => place.takeEnvironment!(),
          source: { tasks_file: o.tasksFile, line: job.entry.line },
          hostLabel: place.hostLabel,
          store: this.store,
          model: attemptModel ?? unavailableModel(o.model),
          modelError,
          mode: o.mode,
          protocol: this.protocol,
          ...attemptLimits(task, o, this.protocol?.config),
          replaySource: model.replay,
          signal: this.signal,
          hostSignal: place.hostSignal,
          hostLost: place.hostLost && (() => place.hostLost!()),
          move: place.move,
          background: (work) => place.background(work),
          onState,
          onStep,
        },
        previous,
      );
      this.counts.running--;
      if (attemptModel instanceof AttemptModel && attemptModel.gaveUp) this.gaveUp++;
      runMetrics.attemptEnded(place.hostLabel, t.result!.exit_status, (performance.now() - began) / 1000);
      this.finish(task.task_id, job.attempt, t);
      await this.store.appendEvent({
        type: 'attempt_finished',
        time: new Date().toISOString(),
        task_id: task.task_id,
        attempt: job.attempt,
        exit_status: t.result!.exit_status,
        reward: t.result!.reward,
        success: t.result!.success,
        steps: t.steps.length,
        cost_usd: t.totals.cost_usd,
      });
      return t;
    } catch (err) {
      this.counts.running--;
      if (err instanceof HostLostError) {
        // Its host went down: queued again, the runner runs it elsewhere from its journal.
        runMetrics.attemptRequeued(place.hostLabel);
        this.counts.queued++;
        this.setState(task.task_id, job.attempt, { kind: 'queued' });
        this.emitProgress();
        throw err;
      }
      if (err instanceof ModelUnavailableError) return this.requeue(task.task_id, job.attempt, place.hostLabel, err);
      runMetrics.attemptEnded(place.hostLabel, err instanceof AbortedError ? 'cancelled' : 'error');
      if (err instanceof AbortedError) {
        this.setState(task.task_id, job.attempt, { kind: 'cancelled' });
        this.emitProgress();
        return undefined;
      }
      return this.fail(task.task_id, job.attempt, (err as Error).message);
    }
  }

  /**
   * An attempt whose model was unavailable goes back to the queue (it continues later from its
   * journal): counted, its state `queued`, an `attempt_requeued` event, said in the log.
   * Throws RequeueError for the runner. Errors: the event could not be written.
   */
  private async requeue(taskId: string, attempt: number, host: string, err: ModelUnavailableError): Promise<never> {
    const k = attemptKey(taskId, attempt);
    const n = (this.requeues.get(k) ?? 0) + 1;
    this.requeues.set(k, n);
    this.requeueCount++;
    runMetrics.attemptRequeued(host);
    this.counts.queued++;
    this.setState(taskId, attempt, { kind: 'queued' });
    this.emitProgress();
    const max = this.options.modelRequeues ?? RUN_DEFAULTS.modelRequeues;
    this.hooks.logger.warn(`${taskId} #${attempt}: ${err.message}; back in the queue (${n} of ${max} requeues), it continues from its last finished step`);
    await this.store.appendEvent({ type: 'attempt_requeued', time: new Date().toISOString(), task_id: taskId, attempt, reason: err.message, requeues: n });
    throw new RequeueError(err.message);
  }

  /** Adds the tokens and cost of the steps an earlier process of this run recorded (a resume) to the counts, so they and `runCostLimit` cover the whole run. */
  private countEarlierSteps(previous: Trajectory): void {
    for (const step of previous.steps) {
      this.counts.prompt_tokens += step.usage?.prompt_tokens ?? 0;
      this.counts.completion_tokens += step.usage?.completion_tokens ?? 0;
      this.counts.cost_usd += step.cost_usd;
    }
  }

  /** Whether the run's steps, in this process and earlier ones, have cost `runCostLimit` or more (no new attempt starts then). */
  private runCostReached(): boolean {
    const limit = this.options.runCostLimit;
    return limit !== undefined && this.counts.cost_usd >= limit;
  }

  /** An attempt not started because the run cost limit was reached: left cancelled (a resume with a higher limit runs it), counted for the report, said once in the log. */
  private skipForCost(taskId: string, attempt: number): undefined {
    runMetrics.attemptDequeued();
    if (this.notStartedForCost++ === 0) {
      this.hooks.logger.warn(`the run has cost ${formatCost(this.counts.cost_usd)}, its limit (--run-cost-limit ${formatCost(this.options.runCostLimit)}) is reached: no new attempts start; those running finish. Resume the run (--resume ${this.runId}) with a higher --run-cost-limit to run the rest`);
    }
    this.setState(taskId, attempt, { kind: 'cancelled' });
    this.emitProgress();
    return undefined;
  }

  private finish(taskId: string, attempt: number, t: Trajectory): void {
    const r = t.result!;
    if (r.exit_status === 'error') this.counts.failed++;
    else this.counts.done++;
    if (r.success) this.counts.resolved++;
    this.setState(taskId, attempt, {
      kind: 'finished',
      exitStatus: r.exit_status,
      reward: r.reward,
      success: r.success,
      steps: t.steps.length,
      costUsd: t.totals.cost_usd,
      ...(r.error ? { error: r.error } : {}),
    });
    this.emitProgress();
  }

  private async fail(taskId: string, attempt: number, error: string): Promise<undefined> {
    this.counts.failed++;
    this.hooks.logger.error(`${JSON.stringify(taskId)} attempt ${attempt}: ${error}`);
    this.setState(taskId, attempt, { kind: 'failed', error });
    await this.store.appendEvent({ type: 'attempt_failed', time: new Date().toISOString(), task_id: taskId, attempt, error });
    this.emitProgress();
    return undefined;
  }

  private setState(taskId: string, attempt: number, state: AttemptState): void {
    state = this.secrets.value(state);
    this.states.set(attemptKey(taskId, attempt), state);
    this.hooks.onEvent?.({ type: 'attempt', taskId, attempt, state });
  }

  private emitProgress(): void {
    const models = this.pool?.counters();
    this.hooks.onEvent?.({ type: 'progress', status: this.status, counts: { ...this.counts }, elapsedMs: Math.round(performance.now() - this.startedAt), ...(models ? { models } : {}) });
    // A failed write surfaces at the next writeInfo() (run start and end).
    if (this.info) this.infoWriter.schedule();
  }

  /** run.json, written in the background and coalesced (progress changes often; only the newest state matters). */
  private readonly infoWriter = new CoalescingJsonWriter(
    () => this.store.infoPath,
    (): RunInfo => ({ ...this.info!, status: this.status, counts: { ...this.counts }, updated_at: new Date().toISOString(), ...this.poolHosts(), ...(this.pool ? { models: this.pool.counters() } : {}) }),
    undefined,
    (value) => this.secrets.json(value, 2),
  );

  /** Pool runs: run.json's `hosts` (each with the attempts started there). */
  private poolHosts(): Pick<RunInfo, 'hosts'> {
    const hosts = this.runner?.hostsInfo?.();
    return hosts ? { hosts } : {};
  }

  /** Writes run.json now and waits for it. Errors: the write failed (disk full, permissions). */
  private writeInfo(): Promise<void> {
    if (!this.info) return Promise.resolve();
    this.infoWriter.schedule();
    return this.infoWriter.flush();
  }

}

/**
 * Whether `model` has a client for `task`: false when making one throws (e.g. `gold` for a task
 * without a solution). Not lost: the job's attempt makes it again and records that error
 * (runJob); nothing is prepared ahead for it.
 */
function hasModel(model: RunModel, task: Task): boolean {
  try {
    model.forTask(task);
    return true;
  } catch {
    return false;
  }
}

/**
 * Each job's trajectory from an earlier process (unfinished or finished), read once from the
 * run folder: the runner's prepare-ahead may look at it first (`peek`), then the job's attempt
 * takes it (`take`, which forgets it).
 */
class EarlierTrajectories {
  private readonly reads = new Map<Job, Promise<Trajectory | undefined>>();

  constructor(
    private readonly store: RunStore,
    private readonly logger: Logger,
  ) {}

  peek(job: Job): Promise<Trajectory | undefined> {
    let read = this.reads.get(job);
    const unreadable = (file: string, why: string) => this.logger.warn(`${file} cannot be read (${why}): its attempt runs again and replaces it`);
    if (!read) this.reads.set(job, (read = this.store.readTrajectory(job.entry.task.task_id, job.attempt, unreadable)));
    return read;
  }

  take(job: Job): Promise<Trajectory | undefined> {
    const read = this.peek(job);
    this.reads.delete(job);
    return read;
  }
}

/**
 * Stands in for a task's model where this process calls none: none could be made (for the
 * trajectory's identity; the attempt fails first), or a queue run's coordinator (the workers call it).
 */
function unavailableModel(spec: string): ModelClient {
  return {
    identity: { spec, provider: 'none', name: spec },
    policy: spec === 'gold' ? 'gold' : 'model',
    complete: () => Promise.reject(new Error('no model for this task')),
  };
}



/** The run's options as run.json records them: no password in a URL (the pool's hosts too), no user name in the model's base URL (util/urlCredentials.ts). */
function recordedOptions(options: RunOptions): RunOptions {
  return {
    ...options,
    ...(options.baseUrl !== undefined ? { baseUrl: withoutCredentials(options.baseUrl) } : {}),
    ...(options.host !== undefined ? { host: withoutCredentials(options.host, { keepUser: true }) } : {}),
    ...(options.queue !== undefined ? { queue: withoutCredentials(options.queue) } : {}),
    ...(options.hosts ? { hosts: options.hosts.map((h) => ({ ...h, url: withoutCredentials(h.url, { keepUser: true }) })) } : {}),
    ...(options.models ? { models: options.models.map((m) => (m.base_url !== undefined ? { ...m, base_url: withoutCredentials(m.base_url) } : m)) } : {}),
  };
}
