/**
 * `trajlab worker --queue URL`: takes attempts from the Redis queue and runs each with today's
 * engine code on this machine's Docker engine (runAttempt, the environment of jobEnvironment),
 * reporting every state, every finished step and the result on the run's stream (queue/queue.ts).
 * The run folder is the coordinator's: here a trajectory lives only in a scratch folder while its
 * attempt runs.
 *
 * Which jobs it takes. Each job is on the queue of its task's type and GPU need
 * (attemptQueueName); the worker runs one BullMQ Worker per queue it serves (servedQueues: the
 * task types of `--task-types`, default all; GPU queues only when it has devices), so a job of a
 * type it does not serve, or a GPU job on a worker without GPUs, is never taken here at all. All
 * its Workers share one limit of `workers` attempts at once (WorkerCapacity): a job taken asks for
 * a place (a slot, and the devices its task needs from this worker's GpuAllocator) and waits for
 * one at most PLACE_WAIT_MS; if none comes it goes back to the queue (job.moveToDelayed +
 * DelayedError, which BullMQ counts as no try), delayed BUSY_DELAY_MS, for a worker with room.
 * Why not manual fetching (getNextJob): BullMQ's Worker keeps the locks, the stalled-job check and
 * the blocking waits for us, and a Worker per queue is how it serves several queues. What keeps
 * this from a busy loop is each Worker's concurrency, set after every change to its attempts
 * running here plus the free slots (WorkerCapacity.concurrencyOf): while the worker is full each
 * Worker holds at most one job waiting for a place (prepared ahead, below, or for a GPU queue
 * waiting PLACE_WAIT_MS), so a full worker puts back at most one GPU job per queue every
 * PLACE_WAIT_MS.
 *
 * Jobs it cannot run. A worker without the API key a job's model needs (missingApiKeys), or
 * without the GPUs its task asks for (more than it has, an id it lacks), does not run it: it says
 * which in its log and puts the job back for another worker, counting the refusal in the job's
 * data and who refused it; once every worker serving its queue (BullMQ's worker list, by worker
 * name) has refused it and it was refused MIN_REFUSALS times, or after MAX_REFUSALS, the attempt
 * stops with an error that names the variable (or the GPUs), which the coordinator records as
 * the attempt's failure. A worker that can run it is never out-voted by one that keeps taking it. The refusing worker's Worker of that
 * queue pauses past the job's delay (coolOff) when it runs nothing from that queue: BullMQ tells
 * one idle Worker when a delayed job is due, and it would otherwise take the job back first,
 * every time, before a worker that can run it.
 *
 * Prepared ahead. A job without GPUs taken while every slot here is busy does not wait idle: its
 * environment (container, tree, `setup`) is prepared at once, as a local run's lookahead does
 * (run/lookahead.ts), and its attempt starts when a slot frees (AHEAD_WAIT_MS at most, then the
 * environment is removed and the job goes back for another worker). So the next attempt's
 * container start overlaps the running ones instead of following them.
 *
 * An attempt that was reported on before (its worker died, or its model was unavailable and its
 * job came back) continues from the steps on the stream, replayed in a fresh container as a resume
 * does. A model unavailable past its retries (ModelUnavailableError, a models list) puts the job
 * back for the model's cool-down, its container removed, as a local run requeues the attempt;
 * `modelRequeues` bounds it as there. API keys come from this process's environment. A run's
 * cancel key (set by its coordinator) stops its attempts here.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DelayedError, Queue, Worker, type Job as BullJob } from 'bullmq';
import type Docker from 'dockerode';
import type IORedis from 'ioredis';
import type { RunOptions } from '../../../common/src/run';
import type { Task, TaskType } from '../../../common/src/task';
import type { Step, Trajectory } from '../../../common/src/trajectory';
import { AgentProtocol } from '../agent/agentConfig';
import { ModelUnavailableError } from '../agent/modelPool';
import { runAttempt } from './attempt';
import { releaseEnvironment, startEnvironment, type PendingEnvironment } from './environment';
import type { Job } from './jobs';
import { jobEnvironment } from './localRunner';
import { attemptLimits, RUN_DEFAULTS } from './runDefaults';
import { missingApiKeys, runModelOf, type RunModel } from './runModel';
import { WorkerCapacity, type WorkerPlace } from './workerCapacity';
import { connectDocker, hostName } from '../runtime/connection';
import { explainDockerError } from '../runtime/hostErrors';
import { GpuAllocator, gpuPool, needsGpus } from '../runtime/gpus';
import { reapOrphans } from '../runtime/reaper';
import { RunStore } from '../store/runStore';
import * as runMetrics from '../metrics/runMetrics';
import { registerQueueDepth } from '../metrics/metrics';
import { AbortedError } from '../util/abort';
import type { Logger } from '../util/log';
import { runSecrets } from '../util/secrets';
import { withoutCredentials } from '../util/urlCredentials';
import { imagePathsBack, PackCache, type LocalTask } from '../queue/packs';
import { ATTEMPT_QUEUES, cancelKey, eventsKey, reportedKey, parseQueueEvent, QUEUE_DEPTH_STATES, redisConnection, servedQueues, type AttemptJobData, type QueueEvent } from '../queue/queue';

/** How long a worker waits at its start for the queue to answer, ms. */
const START_TIMEOUT_MS = 10_000;
/** How often a running attempt checks its run's cancel key, ms. */
const CANCEL_POLL_MS = 500;
/** How long a job taken waits here for a slot and its GPUs before it goes back to the queue, ms. */
const PLACE_WAIT_MS = 2_000;
/** How long a job prepared ahead (its environment started while every slot here was busy) waits for a slot before it goes back, ms. */
const AHEAD_WAIT_MS = 30_000;
/** How long a job put back because this worker was full waits before any worker may take it again, ms. */
const BUSY_DELAY_MS = 1_000;
/**
 * Refusals (a worker without the job's API key or GPUs put it back) after which the attempt stops
 * with the reason once every worker serving its queue has refused it (so that a worker started a
 * little later still gets it: the refusals' delays add up to 7 s).
 */
export const MIN_REFUSALS = 3;
/** Refusals after which the attempt stops whoever refused it (workers that come and go could pass it around forever). */
export const MAX_REFUSALS = 30;
/**
 * How long past a refused job's delay the refusing worker's Worker of that queue stays paused
 * (when it runs nothing from that queue), ms: BullMQ's idle Workers look for due jobs at least
 * every drainDelay (5 s), so a worker that can run the job takes it first.
 */
const COOL_OFF_EXTRA_MS = 6_000;
/** Shortest wait of a job put back for its model's cool-down, ms. */
const MIN_REQUEUE_DELAY_MS = 1_000;

/** Workers made by this process (each its own scratch folder). */
let workerCount = 0;

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
  /** The task types whose jobs it takes (default: every type; see queue/queue.ts servedQueues). */
  taskTypes?: TaskType[];
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
  /** Disk the unpacked packs may take before idle ones are removed, bytes (default DEFAULT_PACK_CACHE_BYTES, 4 GiB). */
  packCacheBytes?: number;
}

/** A running worker; `close()` stops it. */
export class QueueWorker {
  readonly name: string;
  private readonly docker: Docker;
  private readonly redis: IORedis;
  /** One BullMQ Worker per queue served, with whether its jobs need GPUs. */
  private readonly workers: { queue: string; gpu: boolean; worker: Worker<AttemptJobData> }[] = [];
  /** BullMQ's connection (each Worker duplicates it for its blocking reads). */
  private workerRedis: IORedis | undefined;
  private capacity: WorkerCapacity | undefined;
  /** Jobs whose environments are prepared ahead here, waiting for a slot (at most `workers`). */
  private preparingAhead = 0;
  /** The last error of the queue connection (for the message when it never answers). */
  private lastQueueError: string | undefined;
  /** Worker queues paused after a refusal, with the timer that resumes each (see coolOff). */
  private readonly coolingOff = new Map<string, NodeJS.Timeout>();
  /** Stops reporting the queues' depth in /metrics. */
  private unregisterDepth: (() => void) | undefined;
  /** Every attempt queue, for its job counts only. */
  private readonly depthQueues: Queue[] = [];
  private readonly scratch: string;
  /** The coordinators' files jobs need, unpacked here once each. */
  private readonly packs: PackCache;
  /** Each run's model (a models list's limits are shared by the run's attempts here). */
  private readonly models = new Map<string, RunModel>();

  constructor(private readonly o: WorkerOptions) {
    this.name = o.name ?? `${os.hostname()}:${process.pid}`;
    this.docker = connectDocker(o.host);
    this.redis = redisConnection(o.queueUrl, `trajlab-worker ${this.name}`, (err) => o.logger.warn(`queue: ${err.message}`));
    this.redis.on('error', (err: Error) => (this.lastQueueError = err.message));
    // Its own (a process may run one worker per Docker host: `trajlab worker --hosts FILE`).
    this.scratch = path.join(os.tmpdir(), `trajlab-worker-${process.pid}-${++workerCount}`);
    this.packs = new PackCache(this.redis, path.join(this.scratch, 'packs'), o.packCacheBytes, o.logger);
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
    await this.pingQueue();
    const reaped = await reapOrphans(this.docker, o.logger);
    if (reaped) o.logger.info(`removed ${reaped} container(s) left by an earlier crash`);
    const size = o.workers ?? RUN_DEFAULTS.workers;
    const gpus = new GpuAllocator(await gpuPool(o.gpus, true, () => this.docker.info()));
    const capacity = (this.capacity = new WorkerCapacity(size, gpus, () => this.setConcurrency()));
    this.workerRedis = redisConnection(o.queueUrl, `trajlab-worker ${this.name} (jobs)`, (err) => o.logger.warn(`queue: ${err.message}`));
    const queues = servedQueues(o.taskTypes, gpus.devices.length > 0);
    for (const queue of queues) {
      const gpu = queue.endsWith('-gpu');
      const worker = new Worker<AttemptJobData>(queue, (job, token) => this.process(queue, job, token), {
        // Named: Redis's client list then tells which workers serve the queue (workersServing).
        name: this.name,
        connection: this.workerRedis,
        concurrency: capacity.concurrencyOf(queue, gpu),
        // A worker killed mid-attempt: its jobs come back after the lock expires, as often as needed.
        maxStalledCount: 1000,
        lockDuration: o.lockMs ?? 30_000,
        stalledInterval: o.lockMs ?? 30_000,
      });
      worker.on('error', (err) => o.logger.warn(`queue worker (${queue}): ${err.message}`));
      this.workers.push({ queue, gpu, worker });
    }
    await Promise.all(this.workers.map((w) => w.worker.waitUntilReady()));
    // The depth of every attempt queue in this worker's /metrics (trajlab_queue_jobs): what an autoscaler of workers watches.
    this.depthQueues.push(...ATTEMPT_QUEUES.map((name) => new Queue(name, { connection: this.redis })));
    this.unregisterDepth = registerQueueDepth(() => Promise.all(this.depthQueues.map(async (q) => ({ queue: q.name, counts: await q.getJobCounts(...QUEUE_DEPTH_STATES) }))));
    const types = o.taskTypes?.join(', ') ?? 'every task type';
    o.logger.info(`worker ${this.name}: taking attempts from the queue, ${size} at once (${types}; ${gpus.devices.length ? `GPUs ${gpus.devices.join(', ')}` : 'no GPU tasks'}), Docker host ${hostName(o.host)}`);
  }

  /** Gives each BullMQ Worker the concurrency the free slots allow now (WorkerCapacity.concurrencyOf). */
  private setConcurrency(): void {
    for (const w of this.workers) w.worker.concurrency = this.capacity!.concurrencyOf(w.queue, w.gpu);
  }

  /**
   * Waits for the queue to answer PING, START_TIMEOUT_MS at most. Errors: it did not (refused,
   * TLS certificate not trusted, wrong password…), naming the URL without its password and the
   * last connection error.
   */
  private async pingQueue(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([this.redis.ping(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer')), START_TIMEOUT_MS)))]);
    } catch (err) {
      this.redis.disconnect();
      throw new Error(`cannot reach the queue at ${withoutCredentials(this.o.queueUrl)} within ${START_TIMEOUT_MS / 1000} s: ${this.lastQueueError ?? (err as Error).message}; check that redis-server runs there, its password, and for rediss:// that this machine trusts its certificate (NODE_EXTRA_CA_CERTS=ca.pem for a private CA)`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops taking jobs, lets the attempts running here finish, and disconnects. */
  async close(): Promise<void> {
    this.unregisterDepth?.();
    for (const timer of this.coolingOff.values()) clearTimeout(timer);
    this.coolingOff.clear();
    await Promise.all(this.workers.map((w) => w.worker.close()));
    await Promise.all(this.depthQueues.map((q) => q.close()));
    this.workerRedis?.disconnect();
    this.redis.disconnect();
    await fs.promises.rm(this.scratch, { recursive: true, force: true });
  }

  /**
   * Runs one job of `queue` (see the file comment): stops it when its run was cancelled, puts it
   * back (job.moveToDelayed, then DelayedError for BullMQ) when this worker cannot run it or has
   * no place for it now, else runs its attempt in a place. Never throws for the attempt's own
   * failures: they are reported. Trouble outside the attempt (Redis, the scratch folder) throws:
   * BullMQ gives the job again (5 tries); on the last, the failure is reported so the coordinator
   * does not wait for it.
   */
  private async process(queue: string, job: BullJob<AttemptJobData>, token: string | undefined): Promise<void> {
    const d = job.data;
    try {
      if (await this.redis.exists(cancelKey(d.runId))) return await this.report(d, { kind: 'stopped', ...this.base(d) });
      const refusal = this.refusal(d);
      if (refusal) return await this.refuse(queue, job, token, refusal);
      // A task without GPUs taken while every slot here is busy is prepared ahead (below), as a local run's lookahead does.
      const ahead = !needsGpus(d.task.gpus) && this.preparingAhead < this.capacity!.size;
      const place = await this.capacity!.take(queue, d.task.gpus, ahead ? 0 : PLACE_WAIT_MS);
      if (place) {
        try {
          await this.processAttempt(job, token, place);
        } finally {
          place.release();
        }
      } else if (!ahead) return await putBack(job, token, Date.now() + BUSY_DELAY_MS);
      else {
        // Its container starts (and its tree and setup go in) while the attempts here run; the attempt
        // starts when a slot frees, AHEAD_WAIT_MS at most (then it goes back for another worker).
        this.preparingAhead++;
        let finished = false;
        let got: WorkerPlace | undefined;
        const slot = this.capacity!.take(queue, undefined, AHEAD_WAIT_MS).then((p) => {
          this.preparingAhead--;
          // A slot that comes after the attempt gave up on it goes back at once.
          if (finished) p?.release();
          else got = p;
          return p;
        });
        try {
          await this.processAttempt(job, token, slot);
        } finally {
          finished = true;
          got?.release();
        }
      }
    } catch (err) {
      if (err instanceof DelayedError) throw err;
      this.o.logger.warn(`worker ${this.name}: ${d.taskId} #${d.attempt}: ${(err as Error).message}`);
      if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
        await this.report(d, { kind: 'stopped', ...this.base(d), error: `the worker could not run it: ${(err as Error).message}` }).catch((reportErr: Error) =>
          this.o.logger.error(`worker ${this.name}: ${d.taskId} #${d.attempt}: its failure could not be reported (${reportErr.message}); the coordinator waits for it until the run is resumed`),
        );
      }
      throw err;
    }
  }

  /** Who reports on `d`'s attempt: the fields every QueueEvent of it has. */
  private base(d: AttemptJobData): { taskId: string; attempt: number; worker: string } {
    return { taskId: d.taskId, attempt: d.attempt, worker: this.name };
  }

  /** Adds `e` to the stream of `d`'s run (an event that holds nothing of this worker's environment; attempts scrub theirs). */
  private async report(d: AttemptJobData, e: QueueEvent): Promise<void> {
    await this.redis.xadd(eventsKey(d.runId), '*', 'e', JSON.stringify(e));
  }

  /**
   * Why this worker can never run `d`'s attempt, and what would let a worker run it; undefined
   * when it can: its model's API key is not in this worker's environment (missingApiKeys), or
   * its task asks for GPUs this worker does not have. Errors: an unknown model provider.
   */
  private refusal(d: AttemptJobData): { why: string; fix: string } | undefined {
    const missing = missingApiKeys(d.options, { ...process.env, ...this.o.env });
    if (missing.length) {
      return { why: `${missing.join(', ')} (the API key${missing.length > 1 ? 's' : ''} of its model) ${missing.length > 1 ? 'are' : 'is'} not set`, fix: `start a worker with ${missing.join(' and ')} in its environment` };
    }
    const gpus = this.capacity!.gpus.problem(d.task.gpus);
    if (gpus) return { why: gpus, fix: 'start a worker with the GPUs it asks for (--gpus)' };
    return undefined;
  }

  /**
   * Puts `job` back for another worker because this one cannot run it (`r`), counting the refusal
   * and who refused it in its data and saying so in the log; when every worker serving `queue`
   * has refused it (after MIN_REFUSALS refusals at least), or at the MAX_REFUSALS-th, the attempt
   * ends instead: it is reported `stopped` with an error that says why and what to do. Throws DelayedError when put back.
   */
  private async refuse(queue: string, job: BullJob<AttemptJobData>, token: string | undefined, r: { why: string; fix: string }): Promise<void> {
    const d = job.data;
    const n = (d.refusals ?? 0) + 1;
    const by = [...new Set([...(d.refusedBy ?? []), this.name])];
    const serving = await this.workersServing(queue);
    const everyOne = serving !== undefined && serving.every((w) => by.includes(w));
    if ((everyOne && n >= MIN_REFUSALS) || n >= MAX_REFUSALS) {
      const who = everyOne ? `every worker serving its queue refused it (${by.join(', ')}; ${n} takes)` : `${n} takes by ${by.join(', ')}`;
      const error = `not run: ${r.why} on the workers that took it: ${who}; ${r.fix}, then resume the run`;
      this.o.logger.error(`worker ${this.name}: ${d.taskId} #${d.attempt}: ${error}`);
      return this.report(d, { kind: 'stopped', ...this.base(d), error });
    }
    this.o.logger.warn(`worker ${this.name}: ${d.taskId} #${d.attempt}: ${r.why} here: put back for another worker (refusal ${n}; it stops once every worker serving ${queue} has refused it, after ${MIN_REFUSALS} refusals at least)`);
    await job.updateData({ ...d, refusals: n, refusedBy: by });
    this.coolOff(queue, refusalDelayMs(n) + COOL_OFF_EXTRA_MS);
    return putBack(job, token, Date.now() + refusalDelayMs(n));
  }

  /**
   * The names of the workers (of every process) listening to `queue` now, from Redis's client
   * list (BullMQ's getWorkers; each Worker's connection is named after its worker); undefined
   * when Redis will not list its clients (then only MAX_REFUSALS ends a refused job).
   */
  private async workersServing(queue: string): Promise<string[] | undefined> {
    const q = this.depthQueues.find((x) => x.name === queue);
    try {
      const clients = await q!.getWorkers();
      const names = clients.map((c) => /:w:(.*)$/.exec(c.rawname ?? '')?.[1]).filter((x): x is string => !!x);
      return names.length ? names : undefined;
    } catch (err) {
      this.o.logger.warn(`queue ${queue}: its workers could not be listed (${(err as Error).message}); a job no worker can run stops after ${MAX_REFUSALS} refusals`);
      return undefined;
    }
  }

  /**
   * Pauses this worker's BullMQ Worker of `queue` for `ms` after it refused a job, when it runs
   * nothing from that queue: else, idle and told first when the job is due, it would take the job
   * again before any worker that can run it. (A Worker running attempts is left alone: paused, it
   * would take no job of its queue until one of them ends.)
   */
  private coolOff(queue: string, ms: number): void {
    const w = this.workers.find((x) => x.queue === queue);
    if (!w || this.coolingOff.has(queue) || this.capacity!.placedFrom(queue) > 0) return;
    void w.worker.pause(true).catch((err: Error) => this.o.logger.warn(`queue worker (${queue}): not paused after a refusal (${err.message}); it may take the refused job again first`));
    this.coolingOff.set(queue, setTimeout(() => {
      this.coolingOff.delete(queue);
      w.worker.resume();
    }, ms));
  }

  /**
   * Runs `job`'s attempt in `place` and reports it (see the file comment). Its model unavailable
   * (ModelUnavailableError) with requeues left: reported `requeued`, the job put back for the
   * model's cool-down (throws DelayedError). Errors: Redis or scratch-folder trouble.
   */
  /**
   * Runs the attempt of `job` in `placed`: a place taken, or one to wait for (prepared ahead: the
   * environment starts now, the attempt when the place comes; none in time puts the job back).
   */
  private async processAttempt(job: BullJob<AttemptJobData>, token: string | undefined, placed: WorkerPlace | Promise<WorkerPlace | undefined>): Promise<void> {
    const d = job.data;
    const options: RunOptions = { workers: 1, attempts: 1, out: this.scratch, runId: d.runId, tasksFile: d.tasksFile, ...d.options, mode: d.options.mode ?? RUN_DEFAULTS.mode };
    const env = { ...process.env, ...this.o.env };
    // This worker's keys (and URL passwords) never leave it: every report is scrubbed of them.
    const secrets = runSecrets(env, [options.baseUrl, ...(options.models ?? []).map((m) => m.base_url)], (options.models ?? []).flatMap((m) => (m.api_key_env ? [m.api_key_env] : [])));
    const report = (e: QueueEvent) => this.redis.xadd(eventsKey(d.runId), '*', 'e', secrets.json(e));
    const base = this.base(d);
    // The coordinator's files (repository, tasks-folder files, images) where their packs lie here;
    // what is reported names the coordinator's paths, as its own run would.
    let local: LocalTask;
    try {
      local = d.packs ? await this.packs.localTask(d.task, d.packs) : { task: d.task, images: new Map(), release: () => undefined };
    } catch (err) {
      await report({ kind: 'stopped', ...base, error: `its files: ${(err as Error).message}` });
      return;
    }
    // The packs stay on disk while the attempt may read them (its eval files come in last).
    try {
      await this.attemptWithFiles(job, token, placed, local, { options, env, secrets, report, base });
    } finally {
      local.release();
    }
  }

  /** processAttempt once the attempt's files are here (`local`, held until it returns). */
  private async attemptWithFiles(
    job: BullJob<AttemptJobData>,
    token: string | undefined,
    placed: WorkerPlace | Promise<WorkerPlace | undefined>,
    local: LocalTask,
    { options, env, secrets, report, base }: { options: RunOptions; env: NodeJS.ProcessEnv; secrets: ReturnType<typeof runSecrets>; report: (e: QueueEvent) => Promise<unknown>; base: ReturnType<QueueWorker['base']> },
  ): Promise<void> {
    const d = job.data;
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
    const job1: Job = { entry: { task: local.task, line: d.line }, attempt: d.attempt };
    const context = { runId: d.runId, runDir: store.dir, options, logger, signal: controller.signal };
    let place: ReturnType<typeof jobEnvironment>;
    let pending: PendingEnvironment | undefined;
    let workerPlace: WorkerPlace;
    if (placed instanceof Promise) {
      // Prepared ahead (a task without GPUs): its environment starts while it waits for a slot here.
      place = jobEnvironment(context, job1, { docker: this.docker, gpus: new GpuAllocator([]), host });
      const ahead = (pending = startEnvironment(place, controller.signal));
      const cancelled = new Promise<undefined>((resolve) => controller.signal.addEventListener('abort', () => resolve(undefined), { once: true }));
      const got = await Promise.race([placed, cancelled]);
      if (!got) {
        await dropAhead(ahead, controller.signal.aborted ? 'cancelled' : 'no slot in time', `${d.taskId} #${d.attempt}`, logger);
        clearInterval(poll);
        await fs.promises.rm(store.dir, { recursive: true, force: true });
        if (controller.signal.aborted) return void (await report({ kind: 'stopped', ...base }));
        return await putBack(job, token, Date.now() + BUSY_DELAY_MS);
      }
      workerPlace = got;
    } else {
      workerPlace = placed;
      // The devices of the worker's place are this attempt's whole pool: its environment takes them at once.
      place = jobEnvironment(context, job1, { docker: this.docker, gpus: new GpuAllocator(workerPlace.gpuIds), host });
    }
    let envTaken = false;
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
        attemptModel = model.forTask(local.task, earlier, (d.modelRequeues ?? 0) < (options.modelRequeues ?? RUN_DEFAULTS.modelRequeues));
      } catch (err) {
        modelError = (err as Error).message;
      }
      const protocol = d.agentConfig && new AgentProtocol(d.agentConfig);
      const t = await runAttempt(
        {
          ...place,
          environment: () => {
            envTaken = true;
            return pending ?? startEnvironment(place, controller.signal);
          },
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
            if (header) await this.markReported(d);
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
      await this.markReported(d);
      await report({ kind: 'end', ...base, trajectory: { ...t, task: d.task, messages: imagePathsBack(t.messages, local.images, tasksDir) } });
    } catch (err) {
      if (err instanceof ModelUnavailableError) {
        // As a local run requeues it: no result, its container gone, back in the queue until its model is back.
        ended = 'requeued';
        await Promise.all(cleanups);
        const requeues = (d.modelRequeues ?? 0) + 1;
        const retryAt = Math.max(Date.now() + MIN_REQUEUE_DELAY_MS, err.retryAt ?? 0);
        logger.warn(`${d.taskId} #${d.attempt}: ${err.message}; back in the queue for ${Math.round((retryAt - Date.now()) / 1000)} s (${requeues} of ${options.modelRequeues ?? RUN_DEFAULTS.modelRequeues} requeues), it continues from its last finished step`);
        await report({ kind: 'requeued', ...base, reason: err.message, requeues });
        await job.updateData({ ...d, modelRequeues: requeues });
        return await putBack(job, token, retryAt);
      }
      if (!(err instanceof AbortedError)) ended = 'error';
      await Promise.all(cleanups);
      // Cancelled (the trajectory stays unfinished, for a resume), or the attempt could not run.
      await report({ kind: 'stopped', ...base, ...(err instanceof AbortedError ? {} : { error: secrets.scrub((err as Error).message) }) });
    } finally {
      // Prepared ahead for an attempt that ended before it took it (it could not start).
      if (pending && !envTaken) await dropAhead(pending, 'the attempt did not take it', `${d.taskId} #${d.attempt}`, logger);
      if (ended === 'requeued') runMetrics.attemptReturned(host);
      else runMetrics.attemptEnded(host, ended, ended === 'cancelled' || ended === 'error' ? undefined : (performance.now() - began) / 1000);
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

  /** Records that the attempt of `d` has reports on its run's stream (queue/queue.ts reportedKey). */
  private async markReported(d: AttemptJobData): Promise<void> {
    await this.redis.hset(reportedKey(d.runId), `${d.taskId}#${d.attempt}`, '1');
  }

  /**
   * What the run's stream holds of this attempt: `finished` when it ended, else the trajectory its
   * reported steps make (undefined when none was reported), to continue from, with the
   * coordinator's image paths put back to where they lie here (`localImages`).
   */
  private async reported(d: AttemptJobData, localImages: Map<string, string>): Promise<Trajectory | 'finished' | undefined> {
    // Most attempts were never reported on: then the stream (every attempt's reports) is not read.
    if (!(await this.redis.hexists(reportedKey(d.runId), `${d.taskId}#${d.attempt}`))) return undefined;
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

/** Puts `job` (held with `token`) back on its queue until `at` (epoch ms), as no try of it, and throws DelayedError: what BullMQ asks of a processor that does so. */
async function putBack(job: BullJob<AttemptJobData>, token: string | undefined, at: number): Promise<never> {
  await job.moveToDelayed(at, token);
  throw new DelayedError();
}

/** How long a job refused for the `n`-th time (1-based) waits before any worker may take it again, ms: 1 s, doubled at each refusal, at most 30 s. */
export function refusalDelayMs(n: number): number {
  return Math.min(30_000, 1_000 * 2 ** Math.max(0, n - 1));
}

/**
 * Stops an environment prepared ahead that no attempt will take (`reason`) and removes what it
 * made (its container, its temp workspace). Its failure is only logged: no attempt depends on it.
 */
async function dropAhead(pending: PendingEnvironment, reason: string, what: string, logger: Logger): Promise<void> {
  pending.abort(reason);
  const env = await pending.ready.catch((err: Error) => {
    if (!(err instanceof AbortedError)) logger.warn(`${what}: its environment prepared ahead failed (${err.message}); no attempt used it`);
    return undefined;
  });
  if (env) await releaseEnvironment(env, { gpus: new GpuAllocator([]), logger });
}
