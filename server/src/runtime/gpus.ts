import { throwIfAborted } from '../util/abort';

/**
 * Hands out explicit GPU device ids so concurrent attempts never share a GPU by accident
 * (Docker's `--gpus N` would let two containers take the same devices). The pool comes from
 * the host's configuration (`--gpus-available 0,1` / `TRAJLAB_GPUS`), else from the engine
 * (gpuPool).
 */
export class GpuAllocator {
  private readonly free: string[];
  private readonly waiters: (() => void)[] = [];

  constructor(readonly devices: string[]) {
    this.free = [...devices];
  }

  /**
   * Reserves devices for a task's `gpus` (a count or explicit ids), waiting while they are busy.
   * Errors: more GPUs than the host has, or an id the host does not have; AbortedError when
   * `signal` fires (also while waiting).
   */
  async acquire(request: number | string[] | undefined, signal?: AbortSignal): Promise<string[]> {
    if (!needsGpus(request)) return [];
    const problem = this.problem(request);
    if (problem) throw new Error(problem);
    const wanted = Array.isArray(request) ? request : undefined;
    const count = wanted ? wanted.length : (request as number);
    for (;;) {
      throwIfAborted(signal);
      const ids = wanted ? (wanted.every((id) => this.free.includes(id)) ? wanted : undefined) : this.free.length >= count ? this.free.slice(0, count) : undefined;
      if (ids) {
        for (const id of ids) this.free.splice(this.free.indexOf(id), 1);
        return ids;
      }
      // Woken by a release, or by `signal` (then the check above throws).
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        this.waiters.push(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  /**
   * Why a task's `gpus` can never be given here, or undefined when it can (now or once devices
   * are released): more GPUs than the pool has, or an id the pool does not have.
   */
  problem(request: number | string[] | undefined): string | undefined {
    if (!needsGpus(request)) return undefined;
    const wanted = Array.isArray(request) ? request : undefined;
    const count = wanted ? wanted.length : (request as number);
    if (count > this.devices.length) return `the task needs ${count} GPU(s) but the host has ${this.devices.length} (set --gpus-available or TRAJLAB_GPUS)`;
    const unknown = wanted?.find((id) => !this.devices.includes(id));
    if (unknown) return `the task asks for GPU "${unknown}" but the host's GPUs are ${this.devices.join(', ') || 'none'}`;
    return undefined;
  }

  /** How many devices are free now. */
  get freeCount(): number {
    return this.free.length;
  }

  /** The devices held by attempts now, in the pool's order. */
  inUse(): string[] {
    return this.devices.filter((id) => !this.free.includes(id));
  }

  /** Returns devices to the pool and wakes waiting attempts. */
  release(ids: string[]): void {
    if (!ids.length) return;
    this.free.push(...ids);
    for (const w of this.waiters.splice(0)) w();
  }
}

/** A comma-separated list of device ids (`0,1`, `GPU-3f…`), trimmed; empty entries dropped. */
export function parseGpuList(text: string | undefined): string[] {
  return (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

/**
 * The GPU ids an engine's `/info` reports (`DiscoveredDevices`, Docker 25+ with CDI: entries
 * whose id or source names a GPU or NVIDIA). Older engines report none.
 */
export function gpusOfEngine(info: { DiscoveredDevices?: { Source?: string; ID?: string }[] }): string[] {
  return (info.DiscoveredDevices ?? []).filter((d) => /gpu/i.test(d.ID ?? '') || /nvidia/i.test(d.Source ?? '')).map((d) => d.ID!);
}

/**
 * The pool a run hands GPUs out of: `configured` (the run's `gpus` option) when given, else
 * TRAJLAB_GPUS, else what `engine` reports (asked only when `needed`, one `/info` call). Errors:
 * none; an engine that cannot answer gives an empty pool (tasks with `gpus` then fail with a
 * message that says how to name the devices).
 */
export async function gpuPool(configured: string[] | undefined, needed: boolean, engine: () => Promise<{ DiscoveredDevices?: { Source?: string; ID?: string }[] }>): Promise<string[]> {
  if (configured?.length) return configured;
  const fromEnv = parseGpuList(process.env.TRAJLAB_GPUS);
  if (fromEnv.length || !needed) return fromEnv;
  // An engine that cannot answer /info gives an empty pool (documented above): the GPU tasks'
  // own error then says to name the devices, and the engine's failure shows at the first start.
  return gpusOfEngine(await engine().catch(() => ({})));
}

/** True when a task's `gpus` asks for at least one device (a count > 0 or a non-empty id list). */
export function needsGpus(request: number | string[] | undefined): boolean {
  return Array.isArray(request) ? request.length > 0 : (request ?? 0) > 0;
}
