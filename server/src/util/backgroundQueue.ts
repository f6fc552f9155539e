/**
 * Work that must be done before a run ends but should not compete with the attempts still
 * running, such as removing finished containers (~25 ms of the engine's CPU each; sixteen at
 * once delay the next attempts' first commands by ~0.2 s on two cores). At most `concurrency`
 * pieces run at a time until `drain()`, which lifts the limit and waits for everything added,
 * including work added while it waits. Failures are swallowed: the work reports its own.
 */
export class BackgroundQueue {
  private readonly waiting: (() => void)[] = [];
  private readonly pending = new Set<Promise<void>>();
  private running = 0;
  private draining = false;

  constructor(private readonly concurrency: number) {}

  /** Queues `work` (started when a slot is free). */
  add(work: () => Promise<unknown>): void {
    const done: Promise<void> = new Promise<void>((resolve) => {
      this.waiting.push(() => {
        this.running++;
        Promise.resolve()
          .then(work)
          .catch(() => undefined)
          .finally(() => {
            this.running--;
            this.pending.delete(done);
            resolve();
            this.pump();
          });
      });
    });
    this.pending.add(done);
    this.pump();
  }

  /** Runs everything left without a limit and resolves when nothing is queued or running. */
  async drain(): Promise<void> {
    this.draining = true;
    this.pump();
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private pump(): void {
    while (this.waiting.length && (this.draining || this.running < this.concurrency)) this.waiting.shift()!();
  }
}
