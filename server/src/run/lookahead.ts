import type { GpuAllocator } from '../runtime/gpus';
import { AbortedError } from '../util/abort';
import type { Logger } from '../util/log';
import { tracePoint } from '../util/trace';
import { releaseEnvironment, startEnvironment, type EnvironmentContext, type PendingEnvironment } from './environment';

/** A job turned out to need nothing prepared ahead (see Lookahead.fill). */
class NotPreparedAhead extends Error {}

/**
 * Prepares environments ahead of the attempts that will use them (the run's next jobs, in
 * order), so that container start, the tree copy and `setup` overlap the running attempts'
 * agent loops instead of delaying the next ones. At most `limit` environments wait ahead. None
 * is started while an attempt waits for its own image (a pull or build: those come first), but
 * they are started while attempts wait for their containers, which come first too: containers
 * prepared ahead yield to theirs in the engine's slots (EnvironmentContext.ahead, see
 * Sandbox.create). So with 16 workers on a small host the next 16 containers are made while the
 * first 16 attempts run, not after the last of the first 16 containers is up (by when the first
 * attempts are finishing).
 * Tasks with GPUs are not prepared ahead (their devices would sit idle). An environment
 * prepared ahead is not charged to its attempt's wall-clock limit, which starts when the
 * attempt does.
 */
export class Lookahead<J> {
  private readonly ahead = new Map<J, PendingEnvironment>();
  /** Jobs found to need nothing prepared ahead. */
  private readonly passed = new Set<J>();
  /** Environments started for attempts waiting for them whose image step has not ended. */
  private imagesOnDemand = 0;

  constructor(
    private readonly limit: number,
    /** The jobs not yet taken, in the order they will run. */
    private readonly upcoming: () => Iterable<J>,
    /** The environment context of a job, or undefined when it needs none prepared ahead (finished already, GPUs). */
    private readonly contextOf: (job: J) => Promise<EnvironmentContext | undefined>,
    private readonly signal: AbortSignal,
    /** Where the failure of an environment that no attempt took goes (see dispose). */
    private readonly logger: Logger,
  ) {}

  /** The environment of `job`: the one prepared ahead, or one started now. */
  take(job: J, ctx: EnvironmentContext): PendingEnvironment {
    const ahead = this.ahead.get(job);
    if (!ahead) return this.startNow(ctx);
    this.ahead.delete(job);
    // It may turn out not to be prepared ahead after all (see fill): then start it now, unless
    // the attempt gave up on it meanwhile.
    let now: PendingEnvironment | undefined;
    let abortedFor: string | undefined;
    let imageDone!: () => void;
    const imageReady = new Promise<void>((resolve) => (imageDone = resolve));
    // Prepared ahead: that preparation's image step (the entry's imageReady never settles when
    // it was not prepared after all); else the one started now.
    void ahead.imageReady.then(imageDone);
    const ready = ahead.ready.catch((err) => {
      if (!(err instanceof NotPreparedAhead)) throw err;
      if (abortedFor !== undefined) throw new AbortedError(abortedFor);
      now = this.startNow(ctx);
      void now.imageReady.then(imageDone);
      return now.ready;
    });
    // Once this one is settled, the room it held goes to the next job (a failure reaches the
    // attempt through `ready`), and there is no image step left to wait for.
    const refill = () => this.fill();
    void ready.then(refill, refill);
    ready.then(imageDone, imageDone);
    return {
      ready,
      imageReady,
      abort: (reason) => {
        abortedFor = reason;
        ahead.abort(reason);
        now?.abort(reason);
      },
    };
  }

  private startNow(ctx: EnvironmentContext): PendingEnvironment {
    tracePoint('prepare-now', `${ctx.task.task_id}#${ctx.attempt}`);
    const pending = startEnvironment(ctx, this.signal);
    this.imagesOnDemand++;
    // Once its image is there, preparing ahead may go on (its containers yield to this one's).
    void pending.imageReady.then(() => {
      this.imagesOnDemand--;
      this.fill();
    });
    return pending;
  }

  /** Starts preparing upcoming jobs' environments while there is room. */
  fill(): void {
    if (this.imagesOnDemand > 0 || this.signal.aborted) return;
    for (const job of this.upcoming()) {
      if (this.ahead.size >= this.limit) return;
      if (this.ahead.has(job) || this.passed.has(job)) continue;
      let started: PendingEnvironment | undefined;
      let dropped = false;
      let imageDone!: () => void;
      const imageReady = new Promise<void>((resolve) => (imageDone = resolve));
      const ready = this.contextOf(job).then((ctx) => {
        if (!ctx || dropped) throw new NotPreparedAhead();
        tracePoint('prepare-ahead', `${ctx.task.task_id}#${ctx.attempt}`);
        started = startEnvironment({ ...ctx, ahead: true }, this.signal);
        void started.imageReady.then(imageDone);
        return started.ready;
      });
      // Any other failure ends the image step too; a job that was not prepared after all leaves
      // its image step to whoever takes it (take starts one now).
      ready.then(imageDone, (err) => {
        if (!(err instanceof NotPreparedAhead)) imageDone();
      });
      const entry: PendingEnvironment = {
        ready,
        imageReady,
        abort: (reason) => {
          dropped = true;
          started?.abort(reason);
        },
      };
      this.ahead.set(job, entry);
      ready.catch((err) => {
        // A job that needs nothing prepared gives its room to the next one. Any other failure
        // reaches whoever takes the entry: the job's attempt (take) or dispose.
        if (err instanceof NotPreparedAhead && this.ahead.get(job) === entry) {
          this.ahead.delete(job);
          this.passed.add(job);
          this.fill();
        }
      });
    }
  }

  /**
   * Releases every environment prepared ahead that no attempt took (the run was cancelled or
   * ended) to `gpus`. Never throws: one that failed is logged unless it was only stopped here
   * or needed nothing prepared (no attempt will report it).
   */
  async dispose(gpus: GpuAllocator): Promise<void> {
    const left = [...this.ahead.values()];
    this.ahead.clear();
    await Promise.all(
      left.map(async (p) => {
        p.abort('run ended');
        const env = await p.ready.catch((err: Error) => {
          if (!(err instanceof AbortedError || err instanceof NotPreparedAhead)) this.logger.warn(`an environment prepared ahead for no attempt failed: ${err.message}`);
          return undefined;
        });
        if (env) await releaseEnvironment(env, { gpus, logger: this.logger });
      }),
    );
  }
}
