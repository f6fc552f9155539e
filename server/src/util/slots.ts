/**
 * A counting semaphore: at most `size` calls of `use` run their work at once; the others wait
 * in the order they came. Used where running more at once only makes each slower: container
 * starts on an engine host with few cores, container removal while attempts run
 * (BackgroundQueue), trajectory files read at once.
 */
export class Slots {
  private readonly waiting: (() => void)[] = [];
  private busy = 0;
  private limit: number;

  /** Errors: `size` below 1. */
  constructor(size: number) {
    if (!(size >= 1)) throw new Error(`Slots: size must be at least 1 (got ${size})`);
    this.limit = size;
  }

  /** How many calls may run at once (Infinity once `grow(Infinity)`). */
  get size(): number {
    return this.limit;
  }

  /** Runs `work` once a slot is free and frees it when `work` settles; resolves or rejects as `work` does. */
  async use<T>(work: () => Promise<T>): Promise<T> {
    if (this.busy >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
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

  /** Raises the limit to `size` (Infinity: none) and starts the waiting calls that now fit. Errors: a smaller size. */
  grow(size: number): void {
    if (!(size >= this.limit)) throw new Error(`Slots: grow cannot shrink ${this.limit} to ${size}`);
    this.limit = size;
    while (this.waiting.length && this.busy < this.limit) {
      this.busy++;
      this.waiting.shift()!();
    }
  }
}
