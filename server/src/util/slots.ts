/**
 * A counting semaphore: at most `size` calls of `use` run their work at once; the others wait
 * in the order of their `rank` (lower first), and of their coming within a rank. Used where running more at once only makes each slower: container
 * starts on an engine host with few cores, container removal while attempts run
 * (BackgroundQueue), trajectory files read at once.
 */
export class Slots {
  /** Waiting calls, by rank then arrival. */
  private readonly waiting: { rank: number; go: () => void }[] = [];
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

  /**
   * Runs `work` once a slot is free and no call of a lower `rank` waits (default 0: a free slot
   * goes to calls of rank 0 first, then 1…), and frees the slot when `work` settles; resolves or
   * rejects as `work` does. A call already running is never stopped for a lower rank.
   */
  async use<T>(work: () => Promise<T>, rank = 0): Promise<T> {
    if (this.busy >= this.limit) {
      await new Promise<void>((go) => {
        const at = this.waiting.findIndex((w) => w.rank > rank);
        this.waiting.splice(at < 0 ? this.waiting.length : at, 0, { rank, go });
      });
    } else this.busy++;
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter, or is given back.
      const next = this.waiting.shift();
      if (next) next.go();
      else this.busy--;
    }
  }

  /** Raises the limit to `size` (Infinity: none) and starts the waiting calls that now fit. Errors: a smaller size. */
  grow(size: number): void {
    if (!(size >= this.limit)) throw new Error(`Slots: grow cannot shrink ${this.limit} to ${size}`);
    this.limit = size;
    while (this.waiting.length && this.busy < this.limit) {
      this.busy++;
      this.waiting.shift()!.go();
    }
  }
}
