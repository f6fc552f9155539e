import * as path from 'node:path';
import type { PoolHostState } from '../../../common/src/protocol';
import type { RunInfo, RunReport } from '../../../common/src/run';
import * as metrics from '../metrics/metrics';
import { explainDockerError } from '../runtime/hostErrors';
import { GpuAllocator, gpuPool, needsGpus } from '../runtime/gpus';
import { imageSourceOf, imageWorkOn } from '../runtime/images';
import { reapContainers, reapOrphans } from '../runtime/reaper';
import type { RunEvent } from '../store/runStore';
import { removeStaleProcessTempDirs } from '../util/processTemp';
import { HostLostError, RequeueError, type JobPlace, type JobRunner, type JobWork } from './jobRunner';
import type { Job } from './jobs';
import { jobEnvironment, type LocalRunnerContext } from './localRunner';
import { Lookahead } from './lookahead';
import type { PendingEnvironment } from './environment';
import { RUN_DEFAULTS } from './runDefaults';
import { readDrained } from '../pool/drain';
import { chooseHost, fitsNow, gpuCount, imageKey, probeDelaySec } from '../pool/placement';
import { PoolHost, imageKeysOn, pingHost } from './poolHost';

/** How long a host has to answer the ping at open, ms. */
const OPEN_PING_MS = 5_000;
/** Between two periodic pings of each host that is up, and between two reads of the drain file, ms. */
const TICK_MS = 1_000;
/** How long a periodic ping, a probe or a confirming ping waits for its answer, ms. */
const PING_MS = 3_000;
/** Periodic pings in a row without an answer in time before a host is marked down (a refused connection marks it at once). */
const SLOW_PINGS_DOWN = 2;
/** How long the end of a run waits for clean-up on a host that is down, ms (its containers are removed when it answers again). */
const SETTLE_DOWN_MS = 10_000;

/** What a PoolRunner needs of its run: LocalRunner's context, and where host events go. */
export interface PoolRunnerContext extends LocalRunnerContext {
  /** Appends `host_down` / `host_up` to the run's events. Errors: the write failed (logged here). */
  record(event: RunEvent): Promise<void>;
}

/**
 * The JobRunner of a pool of Docker hosts (`options.hosts`). Each host has its own connection
 * (every URL form connectDocker takes), `workers` slots, GPU allocator, removal queue and
 * Lookahead of environments prepared ahead. A job goes to a host that is up, not drained, has a
 * free slot and, for a GPU task, free devices; a job prepared ahead on a host runs there; else
 * the host holding the task's image is preferred, then the least loaded (pool/placement.ts). Jobs
 * keep their order of preference.
 *
 * Host death: a failed Docker call (confirmed by a quick ping) or a periodic ping (every second,
 * 3 s to answer) marks a host down: event `host_down`, its running attempts stop without a
 * result (JobPlace.hostSignal: trajectory left `running`, every finished step in its journal)
 * and their jobs go to the front of the queue, to continue on another host from the journal as
 * a resume does (JobPlace.move); its prepared environments are dropped. It is probed again after
 * 1, 2, 4, 8, then every 15 s; once it answers, this run's leftover containers there are removed
 * (event `host_up`) and it takes work again. While every host is down, jobs wait up to
 * `hostWaitSec` (default 600 s), then fail one by one (JobWork.fail), not the run.
 *
 * Drain: the drain file (pool/drain.ts) is read every second; a drained host takes no new attempt
 * and drops its prepared environments; its running attempts finish.
 */
export class PoolRunner implements JobRunner {
  private readonly hosts: PoolHost[];
  /** Jobs not started yet, in order of preference (moved ones at the front). */
  private pending: Job[] = [];
  /** The host whose Lookahead prepares a job (until its attempt there ends). */
  private readonly claims = new Map<Job, PoolHost>();
  /** Jobs whose host went down: where they come from and why (JobPlace.move), until they start again. */
  private readonly moves = new Map<Job, { from: string; reason: string }>();
  private work: JobWork | undefined;
  private needGpus = false;
  /** Attempts (and failures recorded by JobWork.fail) under way. */
  private active = 0;
  /** The first error of JobWork (other than HostLostError): the run stops placing and runAll rejects with it. */
  private failure: { error: unknown } | undefined;
  private done: (() => void) | undefined;
  private moved = 0;
  private ticker: NodeJS.Timeout | undefined;
  private ticking = false;
  /** When every host was first found down (ms, Date.now), while they all are. */
  private allDownSince: number | undefined;
  private waitTimer: NodeJS.Timeout | undefined;
  /** Every host stayed down past hostWaitSec: jobs fail instead of waiting, until one answers. */
  private gaveUp = false;
  /** Jobs told they wait for a host (JobWork.waiting). */
  private readonly waiting = new Set<Job>();
  /** The drain file's last error, said once. */
  private drainError: string | undefined;
  private opened = false;
  private stopped = false;
  /** Whether this run counts in gaugeUsers (from open until stop). */
  private inGauge = false;

  /** Errors: no enabled host, two hosts with one name, an unparsable URL. */
  constructor(private readonly run: PoolRunnerContext) {
    const specs = (run.options.hosts ?? []).filter((h) => h.enabled !== false);
    if (!specs.length) throw new Error('the run\'s host pool has no enabled host: enable one, or give --host');
    this.hosts = specs.map((spec) => new PoolHost(spec, run.options.workers, run.logger));
    const names = new Set<string>();
    for (const h of this.hosts) {
      if (names.has(h.name)) throw new Error(`two hosts of the pool are named "${h.name}": give each a distinct name`);
      names.add(h.name);
    }
  }

  private get logger() {
    return this.run.logger;
  }

  /**
   * Pings every host (5 s each, at once); each that answers has its orphan containers removed
   * and its images listed; one that does not is marked down and probed again with backoff. No
   * host answering is not an error here: runAll waits up to hostWaitSec for one (said in a
   * warning). Errors: none from the hosts; temp folder clean-up failures are logged.
   */
  async open(): Promise<void> {
    for (const h of this.hosts) gaugeUsers.set(h.name, (gaugeUsers.get(h.name) ?? 0) + 1);
    this.inGauge = true;
    await Promise.all(
      this.hosts.map(async (h) => {
        const err = await pingHost(h.docker, OPEN_PING_MS);
        if (err) return this.down(h, err);
        await this.join(h, true).catch((e: Error) => this.down(h, e));
      }),
    );
    const temp = await removeStaleProcessTempDirs();
    if (temp.removed.length) this.logger.info(`removed ${temp.removed.length} temp folder(s) left by an earlier crash`);
    for (const f of temp.failed) this.logger.warn(`temp folder ${f.dir} left by an earlier crash not removed: ${f.error}`);
    this.opened = true;
  }

  /** Places the jobs on the hosts until each has run, moved attempts included; see JobRunner.runAll. */
  async runAll(jobs: readonly Job[], work: JobWork): Promise<void> {
    this.work = work;
    this.pending = [...jobs];
    this.needGpus = jobs.some((j) => needsGpus(j.entry.task.gpus));
    const { signal } = this.run;
    for (const h of this.hosts) {
      if (h.status === 'up') {
        await this.gpusOf(h);
        this.takeWork(h);
      } else await this.record({ type: 'host_down', time: h.downSince ?? new Date().toISOString(), host: h.name, error: h.lastError ?? 'no answer' });
    }
    await this.pollDrain();
    const finished = new Promise<void>((resolve) => (this.done = resolve));
    const onAbort = () => this.maybeFinish();
    signal.addEventListener('abort', onAbort, { once: true });
    this.ticker = setInterval(() => void this.tick(), TICK_MS);
    try {
      this.checkAllDown();
      this.schedule();
      this.maybeFinish();
      await finished;
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.stop();
    }
    if (this.failure) throw this.failure.error;
  }

  async settle(): Promise<void> {
    this.stop();
    await Promise.all(
      this.hosts.map(async (h) => {
        const lookahead = h.lookahead;
        h.lookahead = undefined;
        const gpus = h.gpus;
        const work = Promise.allSettled([lookahead && gpus && lookahead.dispose(gpus), h.cleanups.drain()]).then((settled) => {
          for (const s of settled) if (s.status === 'rejected') this.logger.error(`clean-up on Docker host ${h.name} at the end of the run failed: ${(s.reason as Error).message}`);
        });
        if (h.status === 'up') return work;
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, SETTLE_DOWN_MS)));
        await Promise.race([work.then(() => 'done'), late.then(() => 'late')]).then((how) => {
          if (how === 'late') this.logger.warn(`clean-up on Docker host ${h.name} (down) did not end within ${SETTLE_DOWN_MS / 1000} s; the run's containers there are removed when a run next starts on it`);
        });
        clearTimeout(timer);
      }),
    );
  }

  /** Removes every container of the run on each host that answers (after a cancel); a host that fails is logged, the others go on. */
  async removeLeftovers(): Promise<void> {
    await Promise.all(
      this.hosts.map((h) =>
        reapContainers(h.docker, this.logger, this.run.runId).catch((err: Error) => this.logger.warn(`containers of run ${this.run.runId} on Docker host ${h.name} not removed (${explainDockerError(h.spec.url, err)}); the next run there removes them`)),
      ),
    );
  }

  hostsState(): PoolHostState[] | undefined {
    if (!this.opened) return undefined;
    return this.hosts.map((h) => ({
      name: h.name,
      url: h.url,
      status: h.status === 'down' ? 'down' : h.drained ? 'draining' : 'up',
      running: h.running,
      slots: h.slots,
      gpus: h.gpus?.devices ?? h.spec.gpus ?? [],
      gpusInUse: h.gpus?.inUse() ?? [],
      ...imageWorkOn(h.label),
      ...(h.lastError !== undefined ? { lastError: h.lastError } : {}),
      ...(h.downSince !== undefined && h.status === 'down' ? { downSince: h.downSince } : {}),
    }));
  }

  hostsInfo(): RunInfo['hosts'] {
    return this.hosts.map((h) => ({
      name: h.name,
      url: h.url,
      workers: h.slots,
      ...(h.gpus?.devices.length || h.spec.gpus ? { gpus: h.gpus?.devices ?? h.spec.gpus } : {}),
      ...(h.spec.labels ? { labels: h.spec.labels } : {}),
      attempts_started: h.attemptsStarted,
    }));
  }

  poolReport(): Pick<RunReport, 'host_failures' | 'moved_attempts'> {
    return { host_failures: this.hosts.reduce((n, h) => n + h.failures, 0), moved_attempts: this.moved };
  }

  /** Starts every pending job that has a place now (in order), then lets each host prepare ahead. */
  private schedule(): void {
    if (this.stopped || this.run.signal.aborted || this.failure || !this.work) return;
    if (this.gaveUp) return this.failPending();
    for (let i = 0; i < this.pending.length; i++) {
      if (!this.hosts.some((h) => h.placeable && h.running < h.slots)) break;
      const job = this.pending[i]!;
      const host = this.placeOf(job);
      if (!host) continue;
      this.pending.splice(i--, 1);
      this.start(job, host);
    }
    for (const h of this.hosts) if (h.placeable) h.lookahead?.fill();
  }

  /** The host `job` starts on now, or undefined: the one preparing it if it has room, else chooseHost. */
  private placeOf(job: Job): PoolHost | undefined {
    const request = job.entry.task.gpus;
    const image = this.imageKeyOf(job);
    const owner = this.claims.get(job);
    if (owner) return fitsNow(owner.view(image), request) ? owner : undefined;
    const i = chooseHost(this.hosts.map((h) => h.view(image)), request);
    return i === undefined ? undefined : this.hosts[i];
  }

  private imageKeyOf(job: Job): string {
    const o = this.run.options;
    return imageKey(imageSourceOf(job.entry.task, path.dirname(o.tasksFile), o.defaultImage ?? RUN_DEFAULTS.defaultImage));
  }

  /** Runs `job`'s attempt on `h`; a HostLostError puts the job back at the front of the queue, a RequeueError at its end. */
  private start(job: Job, h: PoolHost): void {
    const work = this.work!;
    const request = job.entry.task.gpus;
    h.running++;
    h.attemptsStarted++;
    h.gpusPlaced += gpuCount(request);
    if (Array.isArray(request)) for (const id of request) h.gpuIdsPlaced.add(id);
    const host = new AbortController();
    h.attempts.add(host);
    this.active++;
    this.stopWaiting(job);
    const move = this.moves.get(job);
    this.moves.delete(job);
    if (move) {
      this.moved++;
      metrics.attemptsMoved.inc({ host: move.from });
    }
    const lookahead = h.lookahead!;
    const environment = jobEnvironment(this.run, job, { docker: h.docker, gpus: h.gpus!, host: h.label });
    const image = this.imageKeyOf(job);
    const place: JobPlace = {
      environment,
      takeEnvironment: () => noteImage(lookahead.take(job, environment), h, image),
      hostLabel: h.name,
      background: (w) => h.cleanups.add(w),
      hostSignal: host.signal,
      hostLost: () => this.hostLost(h, host),
      ...(move ? { move } : {}),
    };
    work.attempt(job, place).then(
      () => undefined,
      (err: unknown) => {
        if (err instanceof HostLostError) {
          this.pending.unshift(job);
          this.moves.set(job, { from: h.name, reason: err.message });
        } else if (err instanceof RequeueError) {
          this.pending.push(job);
        } else {
          this.failure ??= { error: err };
        }
      },
    ).finally(() => {
      h.running--;
      h.gpusPlaced -= gpuCount(request);
      if (Array.isArray(request)) for (const id of request) h.gpuIdsPlaced.delete(id);
      h.attempts.delete(host);
      if (this.claims.get(job) === h) this.claims.delete(job);
      this.active--;
      this.checkAllDown();
      this.schedule();
      this.maybeFinish();
    });
  }

  /**
   * Whether the attempt's host `h` is lost: its reason when `h` was marked down since the attempt
   * started, else after a quick ping that got no answer (two, when the first only timed out;
   * `h` is marked down then).
   */
  private async hostLost(h: PoolHost, attempt: AbortController): Promise<string | undefined> {
    if (!attempt.signal.aborted) {
      let err = await pingHost(h.docker, PING_MS);
      // A slow answer (a loaded host, an ssh handshake) is asked once more before its attempts all move.
      if ((err as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT') err = await pingHost(h.docker, PING_MS);
      if (err) this.down(h, err);
    }
    return attempt.signal.aborted ? String(attempt.signal.reason) : undefined;
  }

  private maybeFinish(): void {
    if (this.active > 0) return;
    if (this.pending.length && !this.run.signal.aborted && !this.failure) return;
    this.done?.();
  }

  /** Marks `h` down (once): events, metrics, its attempts stopped, its prepared environments dropped, probes scheduled. */
  private down(h: PoolHost, err: Error): void {
    metrics.dockerErrors.inc({ host: h.name });
    h.lastError = explainDockerError(h.spec.url, err);
    if (h.status === 'down' && h.downSince) return;
    const reason = `host down: ${(err.message.split('\n')[0] ?? '').trim()}`;
    h.status = 'down';
    h.downSince = new Date().toISOString();
    h.failures++;
    h.probes = 0;
    h.slowPings = 0;
    metrics.hostUp.set({ host: h.name }, 0);
    metrics.hostFailures.inc({ host: h.name });
    const moving = h.attempts.size;
    this.logger.warn(`Docker host ${h.name} is down (${h.lastError})${moving ? `: its ${moving} running attempt(s) continue on other hosts` : ''}; probing it again in ${probeDelaySec(0)} s`);
    if (this.work) void this.record({ type: 'host_down', time: h.downSince, host: h.name, error: h.lastError });
    for (const a of h.attempts) a.abort(reason);
    this.dropAhead(h);
    this.probeLater(h);
    this.checkAllDown();
  }

  /** Drops the environments prepared on `h` (down or drained) and its claims on jobs not started. */
  private dropAhead(h: PoolHost): void {
    for (const [job, owner] of this.claims) if (owner === h && this.pending.includes(job)) this.claims.delete(job);
    const lookahead = h.lookahead;
    h.lookahead = undefined;
    const gpus = h.gpus;
    if (lookahead && gpus) h.cleanups.add(() => lookahead.dispose(gpus));
  }

  private probeLater(h: PoolHost): void {
    if (this.stopped) return;
    clearTimeout(h.probeTimer);
    // Unref'd: a run that failed between open and runAll must not be kept alive by probes (runAll's ticker keeps the process up meanwhile).
    h.probeTimer = setTimeout(() => void this.probe(h), probeDelaySec(h.probes++) * 1000).unref();
  }

  /** Pings a down host; when it answers, it rejoins (join), else the next probe is scheduled. */
  private async probe(h: PoolHost): Promise<void> {
    h.probeTimer = undefined;
    if (this.stopped || h.status === 'up') return;
    const err = await pingHost(h.docker, PING_MS);
    if (!err) {
      try {
        await this.join(h, !this.work);
        return;
      } catch (e) {
        h.lastError = explainDockerError(h.spec.url, e);
      }
    } else {
      metrics.dockerErrors.inc({ host: h.name });
      h.lastError = explainDockerError(h.spec.url, err);
    }
    this.probeLater(h);
  }

  /**
   * Brings `h` up: at open its orphans are removed (reapOrphans), on a rejoin this run's
   * leftover containers there (reapContainers); its images are listed; during runAll it gets
   * its GPUs and a Lookahead and takes work. Errors: engine errors (it stays down).
   */
  private async join(h: PoolHost, atOpen: boolean): Promise<void> {
    const { logger } = this;
    const reaped = atOpen ? await reapOrphans(h.docker, logger) : await reapContainers(h.docker, logger, this.run.runId);
    if (reaped && atOpen) logger.info(`removed ${reaped} container(s) left by an earlier crash on Docker host ${h.name}`);
    h.images = await imageKeysOn(h.docker);
    if (this.work) await this.gpusOf(h);
    // From here on nothing is awaited before it takes work (no placement sees it half ready).
    const wasDown = !!h.downSince;
    h.status = 'up';
    h.downSince = undefined;
    h.probes = 0;
    metrics.hostUp.set({ host: h.name }, 1);
    if (wasDown && !atOpen) logger.info(`Docker host ${h.name} answers again${reaped ? ` (removed ${reaped} leftover container(s) of this run)` : ''}; it takes work again`);
    if (!this.work) return;
    if (wasDown) void this.record({ type: 'host_up', time: new Date().toISOString(), host: h.name });
    this.takeWork(h);
    this.checkAllDown();
    this.schedule();
  }

  /** During runAll: gives a host its GPU allocator (once, when it first answers). */
  private async gpusOf(h: PoolHost): Promise<void> {
    const o = this.run.options;
    // A host's own list wins, also when empty (no GPUs there); else the run's, TRAJLAB_GPUS or its engine's (gpuPool).
    h.gpus ??= new GpuAllocator(h.spec.gpus ?? (await gpuPool(o.gpus, this.needGpus, () => h.docker.info())));
  }

  /** During runAll: an up, undrained host with its GPUs gets a fresh Lookahead, which makes it placeable. */
  private takeWork(h: PoolHost): void {
    if (h.status === 'up' && !h.drained && h.gpus && !h.lookahead) h.lookahead = this.newLookahead(h);
  }

  private newLookahead(h: PoolHost): Lookahead<Job> {
    const gpus = h.gpus!;
    const lookahead: Lookahead<Job> = new Lookahead<Job>(
      h.slots,
      () => (h.lookahead === lookahead && h.placeable ? this.upcoming(h) : []),
      async (job) => {
        // Claimed before the first await: no other host's Lookahead prepares it from here on.
        const owner = this.claims.get(job);
        if (owner && owner !== h) return undefined;
        this.claims.set(job, h);
        const wanted = await this.work!.wantsEnvironment(job);
        if (wanted && this.claims.get(job) === h) return jobEnvironment(this.run, job, { docker: h.docker, gpus, host: h.label });
        if (!wanted && this.claims.get(job) === h) this.claims.delete(job);
        return undefined;
      },
      this.run.signal,
      this.logger,
    );
    return lookahead;
  }

  /**
   * The jobs `h` may prepare next (at most twice its slots): pending jobs that no other host
   * prepares, without GPUs, whose image `h` holds or no other placeable host does. The
   * Lookahead claims each one it starts preparing (newLookahead).
   */
  private *upcoming(h: PoolHost): Generator<Job> {
    let n = 0;
    for (const job of this.pending) {
      if (n >= 2 * h.slots) return;
      const owner = this.claims.get(job);
      if (owner && owner !== h) continue;
      if (needsGpus(job.entry.task.gpus)) continue;
      const image = this.imageKeyOf(job);
      if (!h.images.has(image) && this.hosts.some((o) => o !== h && o.placeable && o.images.has(image))) continue;
      n++;
      yield job;
    }
  }

  /** Each second while the run goes on: pings the hosts that are up and reads the drain file. */
  private async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    // Each host's ping goes on by itself (a host that does not answer takes up to PING_MS); the drain file is read meanwhile.
    for (const h of this.hosts) if (h.status === 'up' && !h.pinging) void this.ping(h);
    try {
      await this.pollDrain();
    } finally {
      this.ticking = false;
    }
  }

  private async ping(h: PoolHost): Promise<void> {
    h.pinging = true;
    const err = await pingHost(h.docker, PING_MS);
    h.pinging = false;
    if (!err) {
      h.slowPings = 0;
      return;
    }
    if ((err as NodeJS.ErrnoException).code === 'ETIMEDOUT' && ++h.slowPings < SLOW_PINGS_DOWN) return;
    // One that ends after the run did records nothing.
    if (h.status === 'up' && !this.stopped) this.down(h, err);
  }

  /** Reads the drain file: a host newly drained drops its prepared environments; one undrained takes work again. A bad file is a warning. */
  private async pollDrain(): Promise<void> {
    let drained: Set<string>;
    try {
      drained = new Set(await readDrained(this.run.options.out));
      this.drainError = undefined;
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.drainError) this.logger.warn(`${message}; drains are ignored until it is fixed`);
      this.drainError = message;
      return;
    }
    for (const h of this.hosts) {
      const now = drained.has(h.url) || drained.has(h.name);
      if (now === h.drained) continue;
      h.drained = now;
      if (now) {
        this.logger.info(`Docker host ${h.name} is drained: no new attempt starts there${h.running ? `; its ${h.running} running attempt(s) finish` : ''}`);
        this.dropAhead(h);
      } else {
        this.logger.info(`Docker host ${h.name} is undrained: it takes work again`);
        this.takeWork(h);
        this.schedule();
      }
    }
  }

  /**
   * While no host is up: says so once, marks the waiting jobs, and gives up after hostWaitSec
   * (schedule then fails the jobs left). A host answering again ends the wait.
   */
  private checkAllDown(): void {
    if (!this.work || this.stopped) return;
    if (this.hosts.some((h) => h.status === 'up')) {
      if (this.allDownSince === undefined) return;
      this.allDownSince = undefined;
      this.gaveUp = false;
      clearTimeout(this.waitTimer);
      for (const job of [...this.waiting]) this.stopWaiting(job);
      return;
    }
    if (this.allDownSince !== undefined) return;
    this.allDownSince = Date.now();
    const waitSec = this.run.options.hostWaitSec ?? 600;
    const n = this.hosts.length;
    this.logger.warn(`all ${n} Docker host(s) of the pool are down; waiting up to ${waitSec} s for one to answer (${this.hosts.map((h) => `${h.name}: ${h.lastError ?? 'no answer'}`).join('; ')})`);
    for (const job of this.pending) {
      this.waiting.add(job);
      this.work.waiting?.(job, `waiting for a Docker host: all ${n} are down (up to ${waitSec} s)`);
    }
    this.waitTimer = setTimeout(() => {
      this.gaveUp = true;
      this.schedule();
    }, waitSec * 1000);
  }

  private stopWaiting(job: Job): void {
    if (this.waiting.delete(job)) this.work?.waiting?.(job, undefined);
  }

  /** Fails every pending job: every host stayed down past hostWaitSec. */
  private failPending(): void {
    const work = this.work!;
    const waitSec = this.run.options.hostWaitSec ?? 600;
    const error = `no Docker host of the pool answered for ${waitSec} s (${this.hosts.map((h) => `${h.name}: ${h.lastError ?? 'no answer'}`).join('; ')}); run the task again once a host is back`;
    for (const job of this.pending.splice(0)) {
      this.waiting.delete(job);
      this.moves.delete(job);
      if (!work.fail) {
        this.failure ??= { error: new Error(error) };
        continue;
      }
      this.active++;
      work.fail(job, error).catch((err: unknown) => (this.failure ??= { error: err })).finally(() => {
        this.active--;
        this.maybeFinish();
      });
    }
    this.maybeFinish();
  }

  private async record(event: RunEvent): Promise<void> {
    await this.run.record(event).catch((err: Error) => this.logger.error(`the ${event.type} event was not written: ${err.message}`));
  }

  /**
   * Stops the timers (ping, drain, probes, the all-down wait) and takes the hosts out of
   * `trajlab_host_up` unless another pool run of this process still uses them (the gauge
   * describes the hosts of running runs; /health reads it): the run has ended. Called from
   * runAll and settle; the second call finds nothing left to do.
   */
  private stop(): void {
    this.stopped = true;
    clearInterval(this.ticker);
    clearTimeout(this.waitTimer);
    for (const h of this.hosts) clearTimeout(h.probeTimer);
    if (!this.inGauge) return;
    this.inGauge = false;
    for (const h of this.hosts) {
      const users = (gaugeUsers.get(h.name) ?? 1) - 1;
      if (users > 0) gaugeUsers.set(h.name, users);
      else {
        gaugeUsers.delete(h.name);
        metrics.hostUp.remove({ host: h.name });
      }
    }
  }
}

/** Pool runs of this process that use each host name: `trajlab_host_up` keeps a host while one does. */
const gaugeUsers = new Map<string, number>();

/** `pending`, noting that `h` holds `image` once the environment is ready there (its pull or build done); a failure reaches the attempt through `ready` as before. */
function noteImage(pending: PendingEnvironment, h: PoolHost, image: string): PendingEnvironment {
  return {
    ...pending,
    ready: pending.ready.then((env) => {
      h.images.add(image);
      return env;
    }),
  };
}
