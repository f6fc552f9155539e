/**
 * The JobRunner of a run on a Redis queue (`generate --queue URL`): the coordinator's side. It
 * enqueues one BullMQ job per attempt to run (deterministic job ids, the task's priority) on the
 * queue of its task's type and GPU need (attemptQueueName), and
 * reads the run's stream (queue/queue.ts; the workers: run/queueWorker.ts) from its start: an attempt starts here (the engine's
 * records: counts, states, events) when a worker first reports on it, and its trajectory is
 * written here from the worker's reports (JobPlace.execute): each finished step through the
 * journal, the whole trajectory at the end, as a local run writes it. The coordinator stays the
 * only writer of the run folder.
 *
 * What a task needs of this machine (a local repository, tasks-folder files, images, a
 * Dockerfile's context) is packed into Redis before its jobs are enqueued (queue/packs.ts); a task
 * whose packs cannot be made (too large, unreadable) fails here, saying why.
 *
 * An attempt a worker reports `requeued` (its model unavailable: the job went back to the queue)
 * is requeued here as a local run requeues it (the engine records `attempt_requeued`); the next
 * report on it starts it again, once this process has recorded the requeue.
 *
 * A cancel sets the run's cancel key (workers stop its attempts, which report `stopped`) and
 * removes its jobs not started yet.
 */
import * as path from 'node:path';
import { Queue } from 'bullmq';
import type IORedis from 'ioredis';
import type { AgentConfig } from '../../../common/src/agentConfig';
import type { Task } from '../../../common/src/task';
import type { Trajectory } from '../../../common/src/trajectory';
import { totalsOf } from './attempt';
import { RequeueError, type JobPlace, type JobRunner, type JobWork, type RemoteAttempt } from './jobRunner';
import { ModelUnavailableError } from '../agent/modelPool';
import { needsGpus } from '../runtime/gpus';
import { attemptKey, stripUndefined, type Job } from './jobs';
import type { LocalRunnerContext } from './localRunner';
import { TrajectoryWriter } from '../store/trajectoryWriter';
import { AbortedError } from '../util/abort';
import { withoutCredentials } from '../util/urlCredentials';
import { DEFAULT_PACK_LIMIT_MB, needsPacks, packTask, type PackRef, type TaskPacks } from '../queue/packs';
import { registerQueueDepth } from '../metrics/metrics';
import { ATTEMPT_QUEUES, attemptJobId, attemptQueueName, cancelKey, EVENTS_TTL_SEC, eventsKey, reportedKey, parseQueueEvent, QUEUE_DEPTH_STATES, redisConnection, type AttemptJobData, type QueueEvent, type WorkerRunOptions } from '../queue/queue';

/** How long opening waits for Redis to answer, ms. */
const OPEN_TIMEOUT_MS = 5_000;
/** How long one blocking read of the stream waits, ms (the reader checks for a cancel between reads). */
const READ_BLOCK_MS = 1_000;

/** What a QueueRunner needs of its run. */
export interface QueueRunnerContext extends LocalRunnerContext {
  queueUrl: string;
  /** The run's agent config (sent with each job). */
  agentConfig?: AgentConfig;
}

/** One attempt's reports, delivered in order to whoever waits on them. */
class Mailbox {
  private readonly items: QueueEvent[] = [];
  private wake: (() => void) | undefined;

  push(e: QueueEvent): void {
    this.items.push(e);
    this.wake?.();
  }

  async next(): Promise<QueueEvent> {
    while (!this.items.length) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = undefined;
    return this.items.shift()!;
  }
}

export class QueueRunner implements JobRunner {
  private readonly redis: IORedis;
  private reader: IORedis | undefined;
  private queueRedis: IORedis | undefined;
  /** The BullMQ queues this run's jobs are on, by name (queueOf). */
  private readonly queues = new Map<string, Queue<AttemptJobData>>();
  private readonly mailboxes = new Map<string, Mailbox>();
  /** The stream entry ids of each attempt's reports (key: attemptKey), deleted once its trajectory is saved. */
  private readonly entryIds = new Map<string, string[]>();
  /** Stops reporting the queue's depth in /metrics. */
  private unregisterDepth: (() => void) | undefined;

  constructor(private readonly run: QueueRunnerContext) {
    this.redis = redisConnection(run.queueUrl, `trajlab-coordinator ${run.runId}`, (err) => run.logger.warn(`queue ${withoutCredentials(run.queueUrl)}: ${err.message}`), { lazyConnect: true });
  }

  /** Connects to Redis. Errors: it does not answer within 5 s (the message names the URL without its password). */
  async open(): Promise<void> {
    const url = withoutCredentials(this.run.queueUrl);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.redis.connect().then(() => this.redis.ping()),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${OPEN_TIMEOUT_MS / 1000} s`)), OPEN_TIMEOUT_MS))),
      ]);
    } catch (err) {
      this.redis.disconnect();
      throw new Error(`cannot reach the queue at ${url}: ${(err as Error).message}; start redis-server there (with --appendonly yes) or check the URL and its password`);
    } finally {
      clearTimeout(timer);
    }
    const onError = (err: Error) => this.run.logger.warn(`queue ${url}: ${err.message}`);
    this.queueRedis = redisConnection(this.run.queueUrl, `trajlab-coordinator ${this.run.runId} (jobs)`, onError);
    // The depth of every attempt queue in /metrics (trajlab_queue_jobs), while this run is on.
    this.unregisterDepth = registerQueueDepth(() => Promise.all(ATTEMPT_QUEUES.map(async (name) => ({ queue: name, counts: await this.queueOf(name).getJobCounts(...QUEUE_DEPTH_STATES) }))));
    this.reader = redisConnection(this.run.queueUrl, `trajlab-coordinator ${this.run.runId} (reports)`, onError);
  }

  /**
   * Enqueues the jobs to run and records each attempt as workers report on it; resolves when
   * every job has ended, or after a cancel once the attempts started have stopped. Jobs an
   * earlier process finished (or the run cost limit skips) go to `work.attempt` here at once.
   */
  async runAll(jobs: readonly Job[], work: JobWork): Promise<void> {
    const { signal } = this.run;
    const ended: Promise<void>[] = [];
    const toRun: Job[] = [];
    const o = this.run.options;
    // What tasks need of this machine is packed into Redis once per task (and once per source).
    const packing = new Map<Task, Promise<TaskPacks>>();
    const packsOf = new Map<Job, TaskPacks>();
    const memo = new Map<string, Promise<PackRef & { base_commit?: string }>>();
    const packOpts = { tasksDir: path.dirname(o.tasksFile), cacheDir: path.join(o.out, 'cache', 'repos'), limitBytes: (o.queuePackLimitMb ?? DEFAULT_PACK_LIMIT_MB) * 2 ** 20, memo };
    for (const job of jobs) {
      const task = job.entry.task;
      // Finished by an earlier process, skipped by the run cost limit, or without a model: the engine records it without running it.
      if (!(await work.wantsEnvironment(job))) ended.push(work.attempt(job, this.placeOf(job)));
      else if (!needsPacks(task)) toRun.push(job);
      else {
        let packs = packing.get(task);
        if (!packs) packing.set(task, (packs = packTask(this.redis, task, packOpts)));
        try {
          packsOf.set(job, await packs);
          toRun.push(job);
        } catch (err) {
          ended.push(work.fail!(job, `its files could not go on the queue: ${(err as Error).message}`));
        }
      }
    }
    const options: WorkerRunOptions = {
      model: o.model, models: o.models, modelSwitch: o.modelSwitch, recordTokens: o.recordTokens, baseUrl: o.baseUrl, temperature: o.temperature, mode: o.mode,
      maxSteps: o.maxSteps, timeout: o.timeout, costLimit: o.costLimit, defaultImage: o.defaultImage, network: o.network, commandTimeout: o.commandTimeout,
      outputCap: o.outputCap, maxDiffFileBytes: o.maxDiffFileBytes, maxMemoryMb: o.maxMemoryMb, maxCpus: o.maxCpus, maxPids: o.maxPids, allowNetwork: o.allowNetwork,
      user: o.user, diskLimitMb: o.diskLimitMb, modelRequeues: o.modelRequeues,
    };
    await this.redis.del(cancelKey(this.run.runId));
    // Reports from before this process (an earlier coordinator's run): their steps and ends still
    // count, but an attempt they say stopped (cancelled, or failed on a worker) runs again now.
    const latest = (await this.redis.xrevrange(eventsKey(this.run.runId), '+', '-', 'COUNT', 1)) as [string, string[]][];
    const startId = latest[0]?.[0] ?? '0-0';
    const byQueue = new Map<string, Job[]>();
    for (const job of toRun) {
      const name = queueNameOf(job);
      byQueue.set(name, [...(byQueue.get(name) ?? []), job]);
    }
    for (const [name, queued] of byQueue) {
      await this.queueOf(name).addBulk(
        queued.map((job) => ({
          name: 'attempt',
          data: {
            runId: this.run.runId, taskId: job.entry.task.task_id, attempt: job.attempt, task: job.entry.task, line: job.entry.line, tasksFile: o.tasksFile,
            options: stripUndefined(options) as WorkerRunOptions, ...(this.run.agentConfig ? { agentConfig: this.run.agentConfig } : {}),
            ...(packsOf.has(job) ? { packs: packsOf.get(job) } : {}),
          },
          // A worker that fails outside the attempt (Redis or disk trouble) gets the job again, 5 times at most.
          opts: { jobId: attemptJobId(this.run.runId, job.entry.task.task_id, job.attempt), priority: bullPriority(job.entry.task.priority), removeOnComplete: true, removeOnFail: true, attempts: 5, backoff: { type: 'exponential', delay: 1000 } },
        })),
      );
    }
    await this.warnUnserved([...byQueue.keys()]);
    // Jobs no worker reported on yet; `open`: jobs not ended (started ones until they end, others until removed by a cancel).
    const toRunByKey = new Map(toRun.map((job) => [attemptKey(job.entry.task.task_id, job.attempt), job]));
    const waiting = new Map(toRunByKey);
    let open = toRun.length;
    const onCancel = () =>
      void this.cancel([...waiting.values()]).then((removed) => {
        for (const job of removed) if (waiting.delete(attemptKey(job.entry.task.task_id, job.attempt))) open--;
      });
    if (signal.aborted) onCancel();
    else signal.addEventListener('abort', onCancel, { once: true });
    // Kept while a coordinator runs; 7 days after it stops (settle), for a resume.
    await this.redis.persist(eventsKey(this.run.runId));
    await this.redis.persist(reportedKey(this.run.runId));
    // Each attempt's recording here (its work.attempt); the start after a requeue waits for the one before.
    const recording = new Map<string, Promise<void>>();
    const reading = this.read((e, id) => {
      // Stopped or requeued before this process: the process that read it recorded it, and the job runs or reports again.
      if (e.kind === 'saved' || ((e.kind === 'stopped' || e.kind === 'requeued') && !streamIdAfter(id, startId))) return;
      const k = attemptKey(e.taskId, e.attempt);
      let ids = this.entryIds.get(k);
      if (!ids) this.entryIds.set(k, (ids = []));
      ids.push(id);
      let box = this.mailboxes.get(k);
      const job = waiting.get(k);
      if (!box && job) {
        // The first report of an attempt, or the first since its requeue: it starts here.
        waiting.delete(k);
        this.mailboxes.set(k, (box = new Mailbox()));
        const before = recording.get(k) ?? Promise.resolve();
        const done = before
          .then(() => work.attempt(job, this.placeOf(job)))
          .catch((err: unknown) => {
            // Requeued: the engine recorded it; the job waits on the queue for its next report.
            if (!(err instanceof RequeueError)) throw err;
          })
          .finally(() => open--);
        recording.set(k, done);
        ended.push(done);
      }
      box?.push(e);
      if (e.kind === 'requeued' && box) {
        // Its worker put the job back: this mailbox ends with the requeue (follow), the next report starts the attempt again.
        this.mailboxes.delete(k);
        waiting.set(k, toRunByKey.get(k)!);
        open++;
      }
    }, () => open === 0);
    try {
      await reading;
      await Promise.all(ended);
    } finally {
      signal.removeEventListener('abort', onCancel);
    }
  }

  async settle(): Promise<void> {
    this.unregisterDepth?.();
    if (this.queues.size) {
      const keys = [eventsKey(this.run.runId), reportedKey(this.run.runId)];
      await Promise.all(keys.map((k) => this.redis.expire(k, EVENTS_TTL_SEC))).catch((err: Error) =>
        this.run.logger.warn(`the run's reports on the queue could not be given their ${EVENTS_TTL_SEC / 86400}-day expiry (${err.message}): they stay in Redis until deleted (DEL ${keys.join(' ')})`),
      );
    }
    await Promise.all([...this.queues.values()].map((q) => q.close().catch((err: Error) => this.run.logger.warn(`closing the queue connection: ${err.message}`))));
    this.queueRedis?.disconnect();
    this.reader?.disconnect();
    this.redis.disconnect();
  }

  /** After a cancel: the workers stop the run's attempts and remove their containers themselves. */
  async removeLeftovers(): Promise<void> {}

  /** The BullMQ queue `name`, opened on first use. */
  private queueOf(name: string): Queue<AttemptJobData> {
    let queue = this.queues.get(name);
    if (!queue) this.queues.set(name, (queue = new Queue<AttemptJobData>(name, { connection: this.queueRedis! })));
    return queue;
  }

  /** The place of `job`: its attempt is executed by a worker and recorded from the stream. */
  private placeOf(job: Job): JobPlace {
    return {
      hostLabel: 'queue',
      background: () => undefined,
      execute: (attempt, previous) => this.follow(job, attempt, previous),
    };
  }

  /**
   * Records one attempt from its reports until it ends: states, each finished step (journal),
   * the final trajectory. Throws AbortedError when it stopped without a result after a cancel,
   * an Error with the worker's message when the worker could not run it, ModelUnavailableError
   * when its worker put it back for its model (the engine requeues it).
   */
  private async follow(job: Job, attempt: RemoteAttempt, previous: Trajectory | undefined): Promise<Trajectory> {
    const box = this.mailboxes.get(attemptKey(job.entry.task.task_id, job.attempt))!;
    let t: Trajectory | undefined = previous?.status === 'running' ? previous : undefined;
    const writer = new TrajectoryWriter(attempt.store.trajectoryPath(attempt.task.task_id, attempt.attempt), () => {
      t!.totals = totalsOf(t!.steps, t!.totals.duration_ms);
      return t!;
    }, { secrets: attempt.store.secrets });
    for (;;) {
      const e = await box.next();
      switch (e.kind) {
        case 'state':
          attempt.onState(e.state.kind === 'running' ? { ...e.state, host: e.worker } : e.state);
          break;
        case 'step': {
          if (!t && !e.header) break;
          t ??= { ...e.header!, messages: [], steps: [] };
          if (e.step.index !== t.steps.length) break; // reported twice (a worker took the job again), or out of order
          const truncated = e.from < t.messages.length;
          t.messages.length = Math.min(e.from, t.messages.length);
          t.messages.push(...e.messages);
          t.steps.push(e.step);
          t.environment = { ...t.environment, host: e.worker };
          if (truncated) await writer.save();
          else writer.step();
          await attempt.onStep(t, e.step);
          break;
        }
        case 'end':
          t = e.trajectory;
          await writer.save();
          await this.forget(job);
          return t;
        case 'requeued':
          // Its model was unavailable: the engine requeues the attempt, which continues later from these steps.
          if (t) await writer.save();
          throw new ModelUnavailableError(e.reason);
        case 'stopped':
          if (t) await writer.save();
          if (e.error) throw new Error(`worker ${e.worker}: ${e.error}`);
          throw new AbortedError('cancelled');
      }
    }
  }

  /**
   * Says, for each of `queues` that no worker listens to now (Redis's client list), that its jobs
   * wait until one does and which worker to start: a run whose GPU or task-type queue has no
   * worker would otherwise wait without a word. Only a warning: a worker may come later.
   */
  private async warnUnserved(queues: string[]): Promise<void> {
    for (const name of queues) {
      let workers: unknown[];
      try {
        workers = await this.queueOf(name).getWorkers();
      } catch (err) {
        this.run.logger.warn(`queue ${name}: its workers could not be listed (${(err as Error).message})`);
        continue;
      }
      if (workers.length) continue;
      const [, type, gpu] = /^trajlab-attempts-([a-z]+)(-gpu)?$/.exec(name) ?? [];
      this.run.logger.warn(`no worker takes ${name} yet: its attempts wait until one does (start \`trajlab worker --queue URL${type ? ` --task-types ${type}` : ''}${gpu ? ' --gpus IDS' : ''}\` on a machine with Docker${gpu ? ' and GPUs' : ''})`);
    }
  }

  /**
   * After an attempt's final trajectory is saved: marks it `saved` on the stream and deletes its
   * other reports there (a run's stream would otherwise hold every trajectory in Redis's memory).
   * A failure only leaves them in Redis: the trajectory is saved.
   */
  private async forget(job: Job): Promise<void> {
    const k = attemptKey(job.entry.task.task_id, job.attempt);
    const ids = this.entryIds.get(k) ?? [];
    this.entryIds.delete(k);
    const stream = eventsKey(this.run.runId);
    try {
      const saved: QueueEvent = { kind: 'saved', taskId: job.entry.task.task_id, attempt: job.attempt, worker: 'coordinator' };
      await this.redis.xadd(stream, '*', 'e', JSON.stringify(saved));
      if (ids.length) await this.redis.xdel(stream, ...ids);
    } catch (err) {
      this.run.logger.warn(`${job.entry.task.task_id} #${job.attempt}: its reports stay on the queue's stream (${(err as Error).message}); its trajectory is saved`);
    }
  }

  /** Reads the run's stream from its start, handing each event to `onEvent`, until `done()` says so. */
  private async read(onEvent: (e: QueueEvent, id: string) => void, done: () => boolean): Promise<void> {
    let last = '0';
    while (!done()) {
      const res = (await this.reader!.xread('COUNT', 1000, 'BLOCK', READ_BLOCK_MS, 'STREAMS', eventsKey(this.run.runId), last)) as [string, [string, string[]][]][] | null;
      for (const [, entries] of res ?? []) {
        for (const [id, fields] of entries) {
          last = id;
          const e = parseQueueEvent(fields);
          if (e) onEvent(e, id);
        }
      }
    }
  }

  /**
   * Cancels the run on every worker (its cancel key, for a day) and removes `jobs` from the queue
   * where no worker holds them yet; returns those removed (a job a worker holds reports `stopped`).
   */
  private async cancel(jobs: readonly Job[]): Promise<Job[]> {
    try {
      await this.redis.set(cancelKey(this.run.runId), '1', 'EX', 24 * 3600);
      // 1: removed; 0: a worker holds it (it stops on the cancel key and reports).
      const removed = await Promise.all(
        jobs.map((j) =>
          this.queueOf(queueNameOf(j)).remove(attemptJobId(this.run.runId, j.entry.task.task_id, j.attempt)).catch((err: Error) => {
            this.run.logger.warn(`${j.entry.task.task_id} #${j.attempt}: its job could not be removed from the queue (${err.message}); a worker that takes it stops at once (the run's cancel key)`);
            return 0;
          }),
        ),
      );
      return jobs.filter((_, i) => removed[i] === 1);
    } catch (err) {
      this.run.logger.warn(`cancel on the queue: ${(err as Error).message}`);
      return [];
    }
  }
}

/** Whether Redis stream id `a` (`<ms>-<seq>`) comes after `b`. */
function streamIdAfter(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am > bm || (am === bm && as > bs);
}

/** The queue of `job`'s attempt: its task's type and whether it needs GPUs (queue/queue.ts attemptQueueName). */
function queueNameOf(job: Job): string {
  return attemptQueueName(job.entry.task.task_type, needsGpus(job.entry.task.gpus));
}

/** BullMQ's priority (1 first) of a task's `priority` (higher first, default 5). */
function bullPriority(priority: number | undefined): number {
  return Math.min(2 ** 21, Math.max(1, 1000 - Math.round(priority ?? 5)));
}


