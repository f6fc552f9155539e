/**
 * `trajlab worker --queue URL`: takes attempts from the Redis queue (BullMQ's Worker on
 * QUEUE_NAME, `workers` at once) and runs each with today's engine code on this machine's Docker
 * engine (runAttempt, the environment of jobEnvironment), reporting every state, every finished
 * step and the result on the run's stream (queue/queue.ts). The run folder is the coordinator's:
 * here a trajectory lives only in a scratch folder while its attempt runs.
 *
 * An attempt that was reported on before (its worker died, the job came back) continues from the
 * steps on the stream, replayed in a fresh container as a resume does. API keys come from this
 * process's environment. A run's cancel key (set by its coordinator) stops its attempts here.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Queue, Worker, type Job as BullJob } from 'bullmq';
import type Docker from 'dockerode';
import type IORedis from 'ioredis';
import type { RunOptions } from '../../../common/src/run';
import type { Task } from '../../../common/src/task';
import type { Step, Trajectory } from '../../../common/src/trajectory';
import { AgentProtocol } from '../agent/agentConfig';
import { runAttempt } from './attempt';
import { startEnvironment } from './environment';
import type { Job } from './jobs';
import { jobEnvironment } from './localRunner';
import { attemptLimits, RUN_DEFAULTS } from './runDefaults';
import { runModelOf, type RunModel } from './runModel';
import { connectDocker, hostName } from '../runtime/connection';
import { explainDockerError } from '../runtime/hostErrors';
import { GpuAllocator, gpuPool } from '../runtime/gpus';
import { reapOrphans } from '../runtime/reaper';
import { RunStore } from '../store/runStore';
import * as runMetrics from '../metrics/runMetrics';
import { registerQueueDepth } from '../metrics/metrics';
import { AbortedError } from '../util/abort';
import type { Logger } from '../util/log';
import { runSecrets } from '../util/secrets';
import { imagePathsBack, PackCache } from '../queue/packs';
import { cancelKey, eventsKey, parseQueueEvent, QUEUE_DEPTH_STATES, QUEUE_NAME, redisConnection, type AttemptJobData, type QueueEvent } from '../queue/queue';

/** How often a running attempt checks its run's cancel key, ms. */
const CANCEL_POLL_MS = 500;

/** Options of a worker process. */
export interface WorkerOptions {
  /** redis:// or rediss:// URL of the queue. */
  queueUrl: string;
  /** Docker host URL (default: DOCKER_HOST or the local socket). */
  host?: string;
  /** Attempts at once (default 4). */
  workers?: number;
  /** GPU device ids this machine offers (default: TRAJLAB_GPUS, else the engine's). */
  gpus?: string[];
  /** Name in reports and logs (default `<hostname>:<pid>`). */
  name?: string;
  /**
   * How long a job this worker holds stays its own without the worker renewing it, ms (BullMQ's
   * lockDuration; default 30 000): after a worker dies, its jobs go back to the queue once their
   * lock expires and another worker's stall check (every this long) finds them.
   */
  lockMs?: number;
  logger: Logger;
  /** The environment API keys are read from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** A running worker; `close()` stops it. */
export class QueueWorker {
  readonly name: string;
  private readonly docker: Docker;
  private readonly redis: IORedis;
  private worker: Worker<AttemptJobData> | undefined;
  /** BullMQ's connection (a worker's blocking reads need one of their own). */
  private workerRedis: IORedis | undefined;
  private gpus: GpuAllocator | undefined;
  /** Stops reporting the queue's depth in /metrics. */
  private unregisterDepth: (() => void) | undefined;
  /** The queue, for its job counts only. */
  private counts: Queue | undefined;
  private readonly scratch: string;
  /** The coordinators' files jobs need, unpacked here once each. */
  private readonly packs: PackCache;
  /** Each run's model (a models list's limits are shared by the run's attempts here). */
  private readonly models = new Map<string, RunModel>();

  constructor(private readonly o: WorkerOptions) {
    this.name = o.name ?? `${os.hostname()}:${process.pid}`;
    this.docker = connectDocker(o.host);
    this.redis = redisConnection(o.queueUrl, `trajlab-worker ${this.name}`, (err) => o.logger.warn(`queue: ${err.message}`));
    this.scratch = path.join(os.tmpdir(), `trajlab-worker-${process.pid}`);
    this.packs = new PackCache(this.redis, path.join(this.scratch, 'packs'));
  }

  /**
   * Checks the Docker host and the queue, removes containers an earlier crash of a worker left
   * here, and starts taking jobs. Errors: the Docker host or Redis does not answer.
   */
  async start(): Promise<void> {
    const { o } = this;
    try {
      await this.docker.ping();
    } catch (err) {
      throw new Error(explainDockerError(o.host, err));
    }
    await this.redis.ping();
    const reaped = await reapOrphans(this.docker, o.logger);
    if (reaped) o.logger.info(`removed ${reaped} container(s) left by an earlier crash`);
    this.gpus = new GpuAllocator(await gpuPool(o.gpus, false, () => this.docker.info()));
    this.workerRedis = redisConnection(o.queueUrl, `trajlab-worker ${this.name} (jobs)`, (err) => o.logger.warn(`queue: ${err.message}`));
    this.worker = new Worker<AttemptJobData>(QUEUE_NAME, (job) => this.process(job), {
      connection: this.workerRedis,
      concurrency: o.workers ?? RUN_DEFAULTS.workers,
      // A worker killed mid-attempt: its jobs come back after the lock expires, as often as needed.
      maxStalledCount: 1000,
      lockDuration: o.lockMs ?? 30_000,
      stalledInterval: o.lockMs ?? 30_000,
    });
    this.worker.on('error', (err) => o.logger.warn(`queue worker: ${err.message}`));
    await this.worker.waitUntilReady();
    const counts = (this.counts = new Queue(QUEUE_NAME, { connection: this.redis }));
    this.unregisterDepth = registerQueueDepth(() => counts.getJobCounts(...QUEUE_DEPTH_STATES));
    o.logger.info(`worker ${this.name}: taking attempts from the queue, ${o.workers ?? RUN_DEFAULTS.workers} at once, Docker host ${hostName(o.host)}`);
  }

  /** Stops taking jobs, lets the attempts running here finish, and disconnects. */
  async close(): Promise<void> {
    this.unregisterDepth?.();
    await this.worker?.close();
    await this.counts?.close();
    this.workerRedis?.disconnect();
    this.redis.disconnect();
    await fs.promises.rm(this.scratch, { recursive: true, force: true });
  }

  /**
   * Runs one job (see the file comment). Never throws for the attempt's own failures: they are
   * reported. Trouble outside the attempt (Redis, the scratch folder) throws: BullMQ gives the job
   * again (5 tries); on the last, the failure is reported so the coordinator does not wait for it.
   */
  private async process(job: BullJob<AttemptJobData>): Promise<void> {
    try {
      await this.processAttempt(job);
    } catch (err) {
      const d = job.data;
      this.o.logger.warn(`worker ${this.name}: ${d.taskId} #${d.attempt}: ${(err as Error).message}`);
      if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
        const e: QueueEvent = { kind: 'stopped', taskId: d.taskId, attempt: d.attempt, worker: this.name, error: `the worker could not run it: ${(err as Error).message}` };
        await this.redis.xadd(eventsKey(d.runId), '*', 'e', JSON.stringify(e)).catch((reportErr: Error) =>
          this.o.logger.error(`worker ${this.name}: ${d.taskId} #${d.attempt}: its failure could not be reported (${reportErr.message}); the coordinator waits for it until the run is resumed`),
        );
      }
      throw err;
    }
  }

  private async processAttempt(job: BullJob<AttemptJobData>): Promise<void> {
    const d = job.data;
    const options: RunOptions = { workers: 1, attempts: 1, out: this.scratch, runId: d.runId, tasksFile: d.tasksFile, ...d.options, mode: d.options.mode ?? RUN_DEFAULTS.mode };
    const env = { ...process.env, ...this.o.env };
    // This worker's keys (and URL passwords) never leave it: every report is scrubbed of them.
    const secrets = runSecrets(env, [options.baseUrl, ...(options.models ?? []).map((m) => m.base_url)], (options.models ?? []).flatMap((m) => (m.api_key_env ? [m.api_key_env] : [])));
    const report = (e: QueueEvent) => this.redis.xadd(eventsKey(d.runId), '*', 'e', secrets.json(e));
    const base = { taskId: d.taskId, attempt: d.attempt, worker: this.name };
    if (await this.redis.exists(cancelKey(d.runId))) {
      await report({ kind: 'stopped', ...base });
      return;
    }
    // The coordinator's files (repository, tasks-folder files, images) where their packs lie here;
    // what is reported names the coordinator's paths, as its own run would.
    let local: { task: Task; images: Map<string, string> };
    try {
      local = d.packs ? await this.packs.localTask(d.task, d.packs) : { task: d.task, images: new Map() };
    } catch (err) {
      await report({ kind: 'stopped', ...base, error: `its files: ${(err as Error).message}` });
      return;
    }
    const tasksDir = path.dirname(d.tasksFile);
    const localImages = new Map([...local.images].map(([at, written]) => [path.resolve(tasksDir, written), at]));
    const earlier = await this.reported(d, localImages);
    if (earlier === 'finished') return;
    // A worker that died here with this attempt left its container: gone before the attempt runs again.
    if (earlier || job.attemptsStarted > 1) await reapOrphans(this.docker, this.o.logger);
    const logger = secrets.logger(this.o.logger);
    // Each attempt its own scratch store: nothing is shared between attempts of a run here.
    const store = new RunStore(path.join(this.scratch, job.id ?? `${d.runId}-${d.taskId}-${d.attempt}`), d.runId);
    store.secrets = secrets;
    await store.init();
    await store.assignTrajectoryNames([d.taskId]);
    const controller = new AbortController();
    const poll = setInterval(() => {
      // A failed check (Redis reconnecting) is tried again at the next tick.
      void this.redis.exists(cancelKey(d.runId)).then((n) => n && controller.abort('cancelled'), () => undefined);
    }, CANCEL_POLL_MS);
    const cleanups: Promise<unknown>[] = [];
    const host = hostName(this.o.host);
    const began = performance.now();
    let ended = 'cancelled';
    runMetrics.attemptTaken(host);
    let reportedMessages = earlier?.messages.length ?? 0;
    let headerSent = false;
    try {
      const model = this.modelOf(d, options, env, logger);
      let attemptModel;
      let modelError: string | undefined;
      try {
        attemptModel = model.forTask(local.task, earlier, false);
      } catch (err) {
        modelError = (err as Error).message;
      }
      const protocol = d.agentConfig && new AgentProtocol(d.agentConfig);
      const job1: Job = { entry: { task: local.task, line: d.line }, attempt: d.attempt };
      const context = { runId: d.runId, runDir: store.dir, options, logger, signal: controller.signal };
      const place = jobEnvironment(context, job1, { docker: this.docker, gpus: this.gpus!, host: hostName(this.o.host) });
      const t = await runAttempt(
        {
          ...place,
          environment: () => startEnvironment(place, controller.signal),
          source: { tasks_file: d.tasksFile, line: d.line },
          hostLabel: this.name,
          store,
          model: attemptModel ?? { identity: { spec: options.model, provider: 'none', name: options.model }, policy: 'model', complete: () => Promise.reject(new Error('no model')) },
          modelError,
          mode: options.mode,
          protocol,
          ...attemptLimits(d.task, options, protocol?.config),
          signal: controller.signal,
          background: (work) => void cleanups.push(work().catch((err: Error) => logger.warn(`clean-up: ${err.message}`))),
          // A state is only what the views show; the steps and the end are what must arrive.
          onState: (state) => void report({ kind: 'state', ...base, state }).catch((err: Error) => logger.warn(`${d.taskId} #${d.attempt}: state ${state.kind} not reported (${err.message})`)),
          onStep: async (trajectory: Trajectory, step: Step) => {
            runMetrics.stepFinished(step);
            const from = Math.min(reportedMessages, trajectory.messages.length);
            const header = headerSent ? undefined : { ...trajectory, task: d.task, messages: [], steps: [] };
            headerSent = true;
            await report({ kind: 'step', ...base, step, from, messages: imagePathsBack(trajectory.messages.slice(from), local.images, tasksDir), ...(header ? { header } : {}) });
            reportedMessages = trajectory.messages.length;
          },
        },
        earlier,
      );
      ended = t.result?.exit_status ?? 'error';
      // Its container is gone before the coordinator hears the attempt ended.
      await Promise.all(cleanups);
      await report({ kind: 'end', ...base, trajectory: { ...t, task: d.task, messages: imagePathsBack(t.messages, local.images, tasksDir) } });
    } catch (err) {
      if (!(err instanceof AbortedError)) ended = 'error';
      await Promise.all(cleanups);
      // Cancelled (the trajectory stays unfinished, for a resume), or the attempt could not run.
      await report({ kind: 'stopped', ...base, ...(err instanceof AbortedError ? {} : { error: secrets.scrub((err as Error).message) }) });
    } finally {
      runMetrics.attemptEnded(host, ended, ended === 'cancelled' || ended === 'error' ? undefined : (performance.now() - began) / 1000);
      clearInterval(poll);
      await Promise.all(cleanups);
      await fs.promises.rm(store.dir, { recursive: true, force: true });
    }
  }

  /** The model of a job's run, made once per run in this process. */
  private modelOf(d: AttemptJobData, options: RunOptions, env: NodeJS.ProcessEnv, logger: Logger): RunModel {
    let model = this.models.get(d.runId);
    if (!model) this.models.set(d.runId, (model = runModelOf(options, env, (m) => logger.warn(m))));
    return model;
  }

  /**
   * What the run's stream holds of this attempt: `finished` when it ended, else the trajectory its
   * reported steps make (undefined when none was reported), to continue from, with the
   * coordinator's image paths put back to where they lie here (`localImages`).
   */
  private async reported(d: AttemptJobData, localImages: Map<string, string>): Promise<Trajectory | 'finished' | undefined> {
    const entries = (await this.redis.xrange(eventsKey(d.runId), '-', '+')) as [string, string[]][];
    let t: Trajectory | undefined;
    for (const [, fields] of entries) {
      const e = parseQueueEvent(fields);
      if (!e || e.taskId !== d.taskId || e.attempt !== d.attempt) continue;
      if (e.kind === 'end' || e.kind === 'saved') return 'finished';
      if (e.kind !== 'step') continue;
      t ??= e.header ? { ...e.header, messages: [], steps: [] } : undefined;
      if (!t || e.step.index !== t.steps.length) continue;
      t.messages.length = Math.min(e.from, t.messages.length);
      t.messages.push(...e.messages);
      t.steps.push(e.step);
    }
    return t && { ...t, messages: imagePathsBack(t.messages, localImages, '/'), status: 'running', result: null };
  }
}
