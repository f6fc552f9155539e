import * as path from 'node:path';
import type Docker from 'dockerode';
import type { PoolHostState } from '../../../common/src/protocol';
import type { RunOptions } from '../../../common/src/run';
import { connectDocker, hostName } from '../runtime/connection';
import { explainDockerError } from '../runtime/hostErrors';
import { imageWorkOn } from '../runtime/images';
import { reapContainers, reapOrphans } from '../runtime/reaper';
import { removeStaleProcessTempDirs } from '../util/processTemp';
import { GpuAllocator, gpuPool, needsGpus } from '../runtime/gpus';
import { BackgroundQueue } from '../util/backgroundQueue';
import type { Logger } from '../util/log';
import type { EnvironmentContext } from './environment';
import { RequeueError, type JobPlace, type JobRunner, type JobWork } from './jobRunner';
import type { Job } from './jobs';
import { Lookahead } from './lookahead';
import { RUN_DEFAULTS } from './runDefaults';

/** What a LocalRunner needs of its run. */
export interface LocalRunnerContext {
  runId: string;
  /** The run's folder (build logs go to its `builds/`). */
  runDir: string;
  /** An attempt's image pull or build said `detail`; `undefined` when that step ended. */
  onImageProgress?(taskId: string, attempt: number, detail: string | undefined): void;
  /** The run's options (resolved: absolute `tasksFile` and `out`). */
  options: RunOptions;
  /** GPU device ids this host offers; wins over `options.gpus` (see gpuPool). */
  gpus?: string[];
  logger: Logger;
  /** The run's cancel signal: no job starts after it fires. */
  signal: AbortSignal;
}

/**
 * The JobRunner of one Docker host (`options.host`): a pool of `options.workers` workers,
 * each taking the next job in order, while a Lookahead prepares the environments of the jobs
 * coming next. GPUs come from the host's pool (gpuPool); finished containers are removed in the
 * background, yielding to running attempts (BackgroundQueue).
 */
export class LocalRunner implements JobRunner {
  private readonly docker: Docker;
  /** Container removals and other clean-up, yielding to running attempts. */
  private readonly cleanups: BackgroundQueue;
  /** Set by runAll. */
  private lookahead: Lookahead<Job> | undefined;
  private gpus: GpuAllocator | undefined;
  /** Attempts running now (hostsState). */
  private running = 0;
  private opened = false;

  constructor(private readonly run: LocalRunnerContext) {
    this.docker = connectDocker(run.options.host);
    this.cleanups = new BackgroundQueue(2, (err) => run.logger.error(`clean-up in the background failed: ${(err as Error)?.message ?? String(err)}`));
  }

  /** Pings the Docker host and removes containers and temp folders an earlier crash left. Errors: the host does not answer (explainDockerError). */
  async open(): Promise<void> {
    const { options, logger } = this.run;
    try {
      await this.docker.ping();
    } catch (err) {
      throw new Error(explainDockerError(options.host, err));
    }
    const reaped = await reapOrphans(this.docker, logger);
    if (reaped) logger.info(`removed ${reaped} container(s) left by an earlier crash`);
    const temp = await removeStaleProcessTempDirs();
    if (temp.removed.length) logger.info(`removed ${temp.removed.length} temp folder(s) left by an earlier crash`);
    for (const f of temp.failed) logger.warn(`temp folder ${f.dir} left by an earlier crash not removed: ${f.error}`);
    this.opened = true;
  }

  /** The one host, as the Hosts view shows it: always `up` (a host that stops answering fails its attempts here). */
  hostsState(): PoolHostState[] | undefined {
    if (!this.opened) return undefined;
    const { options } = this.run;
    const host = hostName(options.host);
    return [{
      name: host,
      url: host,
      status: 'up',
      running: this.running,
      slots: options.workers,
      gpus: this.gpus?.devices ?? [],
      gpusInUse: this.gpus?.inUse() ?? [],
      ...imageWorkOn(host),
    }];
  }

  /** Runs the jobs on `min(workers, jobs)` workers (at least one); see JobRunner.runAll. */
  async runAll(jobs: readonly Job[], work: JobWork): Promise<void> {
    const { options, signal, logger } = this.run;
    const needGpus = jobs.some((j) => needsGpus(j.entry.task.gpus));
    const gpus = (this.gpus = new GpuAllocator(await gpuPool(this.run.gpus ?? options.gpus, needGpus, () => this.docker.info())));
    // Requeued jobs (RequeueError) go to the end; a worker without a job waits while others run, as theirs may come back.
    const queue = [...jobs];
    let next = 0;
    let inFlight = 0;
    let wake: (() => void) | undefined;
    let woken = new Promise<void>((resolve) => (wake = resolve));
    const workers = Math.max(1, Math.min(options.workers, jobs.length));
    const lookahead = (this.lookahead = new Lookahead<Job>(
      workers,
      () => queue.slice(next, next + 2 * workers),
      async (job) => (!needsGpus(job.entry.task.gpus) && (await work.wantsEnvironment(job)) ? this.environmentOf(job, gpus) : undefined),
      signal,
      logger,
    ));
    const worker = async () => {
      while (!signal.aborted) {
        if (next >= queue.length) {
          if (!inFlight) break;
          await woken;
          continue;
        }
        const job = queue[next++]!;
        this.running++;
        inFlight++;
        try {
          await work.attempt(job, this.placeOf(job, gpus, lookahead));
        } catch (err) {
          if (!(err instanceof RequeueError)) throw err;
          queue.push(job);
        } finally {
          this.running--;
          inFlight--;
          wake!();
          woken = new Promise<void>((resolve) => (wake = resolve));
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, worker));
  }

  async settle(): Promise<void> {
    // No attempt starts after runAll returns, so these sets only shrink.
    const settled = await Promise.allSettled([this.gpus && this.lookahead?.dispose(this.gpus), this.cleanups.drain()]);
    for (const s of settled) if (s.status === 'rejected') this.run.logger.error(`clean-up at the end of the run failed: ${(s.reason as Error).message}`);
  }

  /** Removes every container of the run on the host (after a cancel). Errors: engine errors. */
  async removeLeftovers(): Promise<void> {
    await reapContainers(this.docker, this.run.logger, this.run.runId);
  }

  private placeOf(job: Job, gpus: GpuAllocator, lookahead: Lookahead<Job>): JobPlace {
    const environment = this.environmentOf(job, gpus);
    return {
      environment,
      takeEnvironment: () => lookahead.take(job, environment),
      hostLabel: hostName(this.run.options.host),
      background: (work) => this.cleanups.add(work),
    };
  }

  private environmentOf(job: Job, gpus: GpuAllocator): EnvironmentContext {
    return jobEnvironment(this.run, job, { docker: this.docker, gpus, host: hostName(this.run.options.host) });
  }
}

/**
 * The environment context of `job` on one Docker host (`docker`, its `gpus`, `host` as messages
 * name it): the run's options and defaults resolved for the job's task. Shared by the runners.
 */
export function jobEnvironment(run: LocalRunnerContext, job: Job, where: { docker: Docker; gpus: GpuAllocator; host: string }): EnvironmentContext {
  const o = run.options;
  return {
    runId: run.runId,
    task: job.entry.task,
    attempt: job.attempt,
    tasksDir: path.dirname(o.tasksFile),
    cacheDir: path.join(o.out, 'cache', 'repos'),
    docker: where.docker,
    gpus: where.gpus,
    defaultImage: o.defaultImage ?? RUN_DEFAULTS.defaultImage,
    network: o.network,
    ceilings: { maxMemoryMb: o.maxMemoryMb, maxCpus: o.maxCpus, maxPids: o.maxPids, allowNetwork: o.allowNetwork },
    user: o.user,
    diskLimitMb: o.diskLimitMb ?? RUN_DEFAULTS.diskLimitMb,
    commandTimeoutSec: o.commandTimeout ?? RUN_DEFAULTS.commandTimeoutSec,
    wallSec: job.entry.task.timeout ?? o.timeout ?? RUN_DEFAULTS.timeoutSec,
    outputCap: o.outputCap ?? RUN_DEFAULTS.outputCap,
    maxDiffFileBytes: o.maxDiffFileBytes ?? RUN_DEFAULTS.maxDiffFileBytes,
    logger: run.logger,
    host: where.host,
    buildLogDir: path.join(run.runDir, 'builds'),
    onImageProgress: run.onImageProgress && ((detail) => run.onImageProgress!(job.entry.task.task_id, job.attempt, detail)),
  };
}
