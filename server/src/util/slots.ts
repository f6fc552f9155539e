/**
 * A counting semaphore: at most `size` calls of `use` run their work at once; the others wait
 * in the order they came. Used where running more at once only makes each slower (container
 * starts on an engine host with few cores).
 */
export class Slots {
  private readonly waiting: (() => void)[] = [];
  private busy = 0;

  /** Errors: `size` below 1. */
  constructor(readonly size: number) {
    if (!(size >= 1)) throw new Error(`Slots: size must be at least 1 (got ${size})`);
  }

  /** Runs `work` once a slot is free and frees it when `work` settles; resolves or rejects as `work` does. */
  async use<T>(work: () => Promise<T>): Promise<T> {
    if (this.busy >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.busy++;
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter, or is given back.
      const next = this.waiting.shift();
      if (next) next();
      else this.busy--;
    }
  }
}
