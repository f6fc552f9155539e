/**
 * What one `trajlab worker` process may run at once (run/queueWorker.ts): `size` attempts in all,
 * whichever of its queues they come from, and its GPU devices. A job taken from a queue asks for
 * a place (a slot and the GPUs its task needs) and waits for one a short while; the worker puts
 * the job back on the queue when none comes in time, so that a worker with room takes it. The
 * concurrency each BullMQ Worker gets (concurrencyOf) keeps the jobs taken and not yet placed
 * few: one per queue while every slot is busy.
 */
import { AbortedError } from '../util/abort';
import type { GpuAllocator } from '../runtime/gpus';

/** A place taken for one attempt: its GPU devices (none for a task without `gpus`); `release()` gives the slot and the devices back (once). */
export interface WorkerPlace {
  gpuIds: string[];
  release(): void;
}

export class WorkerCapacity {
  private running = 0;
  private readonly runningOf = new Map<string, number>();
  /** Jobs waiting for a slot, first come first served; each is handed the slot of the next release. */
  private readonly waiters: (() => void)[] = [];

  /**
   * `size`: attempts at once (≥ 1); `gpus`: the worker's devices; `onChange`: told after every
   * place taken or released (the worker then sets its BullMQ Workers' concurrency).
   * Errors: `size` below 1.
   */
  constructor(readonly size: number, readonly gpus: GpuAllocator, private readonly onChange: () => void = () => undefined) {
    if (!(Number.isInteger(size) && size >= 1)) throw new Error(`a worker runs at least 1 attempt at once (got ${size})`);
  }

  /** Attempts of `queue` placed now. */
  placedFrom(queue: string): number {
    return this.runningOf.get(queue) ?? 0;
  }

  /** Attempts placed now, of every queue. */
  get busy(): number {
    return this.running;
  }

  /**
   * A place for one attempt of a job of `queue` whose task asks for `gpus` (Task.gpus: a count or
   * device ids): a slot, then the devices, waiting at most `waitMs` in all. Resolves undefined
   * when they did not come in time (the worker is full, or its devices are busy). Errors: the
   * devices can never be given here (GpuAllocator.problem: more than the worker has, an id it
   * does not have).
   */
  async take(queue: string, gpus: number | string[] | undefined, waitMs: number): Promise<WorkerPlace | undefined> {
    const problem = this.gpus.problem(gpus);
    if (problem) throw new Error(problem);
    const deadline = Date.now() + waitMs;
    if (!(await this.slot(waitMs))) return undefined;
    let gpuIds: string[];
    // A timer of our own (AbortSignal.timeout's does not keep the process alive while it waits).
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort('no place in time'), Math.max(1, deadline - Date.now()));
    try {
      gpuIds = await this.gpus.acquire(gpus, timeout.signal);
    } catch (err) {
      this.releaseSlot();
      if (err instanceof AbortedError) return undefined;
      throw err;
    } finally {
      clearTimeout(timer);
    }
    this.runningOf.set(queue, (this.runningOf.get(queue) ?? 0) + 1);
    this.onChange();
    let released = false;
    return {
      gpuIds,
      release: () => {
        if (released) return;
        released = true;
        this.gpus.release(gpuIds);
        this.runningOf.set(queue, this.runningOf.get(queue)! - 1);
        this.releaseSlot();
        this.onChange();
      },
    };
  }

  /**
   * How many jobs the BullMQ Worker of `queue` may hold now (its `concurrency`): its attempts
   * placed, plus the free slots (for a GPU queue, no more than the free devices), and for a queue
   * without GPUs one more: the job prepared ahead (its environment made while the slots are busy,
   * see run/queueWorker.ts). Held from the start, since BullMQ's Worker looks at its concurrency
   * again only when one of its jobs ends. A GPU queue holds at least one (a Worker at its
   * concurrency stops listening until one of its own jobs ends, which could leave devices freed
   * by another queue unused); such a job only waits for a place a short while and goes back.
   */
  concurrencyOf(queue: string, gpu: boolean): number {
    const free = this.size - this.running;
    return (this.runningOf.get(queue) ?? 0) + (gpu ? Math.max(1, Math.min(free, this.gpus.freeCount)) : free + 1);
  }

  /** Takes a slot, waiting at most `waitMs`; false when none came. */
  private slot(waitMs: number): Promise<boolean> {
    if (this.running < this.size) {
      this.running++;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const go = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(go);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(false);
      }, waitMs);
      this.waiters.push(go);
    });
  }

  /** Hands the slot to the first waiter, or frees it. */
  private releaseSlot(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.running--;
  }
}
