/**
 * One Docker host of a run's pool (poolRunner.ts) and what the run holds there: its connection,
 * slots, GPUs, environments prepared ahead, removal queue, the images it is known to hold, and
 * whether it answers.
 */
import type Docker from 'dockerode';
import type { HostSpec } from '../../../common/src/run';
import { connectDocker, hostName } from '../runtime/connection';
import type { GpuAllocator } from '../runtime/gpus';
import { BackgroundQueue } from '../util/backgroundQueue';
import type { Logger } from '../util/log';
import type { Job } from '../run/jobs';
import type { Lookahead } from '../run/lookahead';
import { hostKey } from './drain';
import { withTag, type HostView } from './placement';

export class PoolHost {
  /** HostSpec.name, or the URL without credentials. */
  readonly name: string;
  /** The URL without password (user kept): how the drain file and run.json name it. */
  readonly url: string;
  /** The URL as runtime messages and shared pulls name the engine (hostName). */
  readonly label: string;
  readonly docker: Docker;
  /** Its `workers`. */
  readonly slots: number;
  status: 'up' | 'down' = 'down';
  /** Listed in the drain file: takes no new attempt. */
  drained = false;
  /** Set once it has answered during runAll (its devices: HostSpec.gpus, else gpuPool). */
  gpus: GpuAllocator | undefined;
  /** Devices that attempts placed here hold or will hold (placement's view; the allocator hands out the ids). */
  gpusPlaced = 0;
  readonly gpuIdsPlaced = new Set<string>();
  /** Prepares the environments of the jobs it will run next; replaced each time it comes back (up, undrained). */
  lookahead: Lookahead<Job> | undefined;
  /** Container removals and other clean-up here, yielding to running attempts. */
  readonly cleanups: BackgroundQueue;
  /** Images it holds (placement.imageKey form), listed when it answers and added after each pull or build. */
  images = new Set<string>();
  running = 0;
  /** One controller per running attempt: aborted (reason `host down: …`) when it goes down. */
  readonly attempts = new Set<AbortController>();
  attemptsStarted = 0;
  /** Times it was marked down. */
  failures = 0;
  lastError: string | undefined;
  downSince: string | undefined;
  /** Probes since it went down (the backoff's exponent). */
  probes = 0;
  /** The next probe while it is down. */
  probeTimer: NodeJS.Timeout | undefined;
  /** A periodic ping is under way. */
  pinging = false;
  /** Periodic pings in a row that got no answer in time (a refused connection counts at once). */
  slowPings = 0;

  /** Errors: an unparsable URL (connectDocker). */
  constructor(
    readonly spec: HostSpec,
    defaultWorkers: number,
    logger: Logger,
  ) {
    this.label = hostName(spec.url);
    this.name = spec.name ?? this.label;
    this.url = hostKey(spec.url);
    this.docker = connectDocker(spec.url);
    this.slots = Math.max(1, spec.workers ?? defaultWorkers);
    this.cleanups = new BackgroundQueue(2, (err) => logger.error(`clean-up in the background on Docker host ${this.name} failed: ${(err as Error)?.message ?? String(err)}`));
  }

  /** Up and not drained: it may take a new attempt. */
  get placeable(): boolean {
    return this.status === 'up' && !this.drained;
  }

  /** What placement sees of it for a task whose image has key `image`. */
  view(image: string): HostView {
    return {
      placeable: this.placeable,
      running: this.running,
      slots: this.slots,
      gpus: this.gpus?.devices,
      gpusPlaced: this.gpusPlaced,
      gpuIdsPlaced: this.gpuIdsPlaced,
      hasImage: this.images.has(image),
    };
  }
}

/**
 * Pings `docker` (`GET /_ping`), waiting at most `timeoutMs`. Returns undefined when it answered,
 * else the error (a timeout is an Error saying so, with `code` `ETIMEDOUT`). Never throws.
 */
export async function pingHost(docker: Docker, timeoutMs: number): Promise<Error | undefined> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    // dockerode's ping takes an abortSignal (docker-modem dial); its typings leave it out.
    await (docker as unknown as { ping(o: { abortSignal: AbortSignal }): Promise<unknown> }).ping({ abortSignal: controller.signal });
    return undefined;
  } catch (err) {
    if (!controller.signal.aborted) return err instanceof Error ? err : new Error(String(err));
    return Object.assign(new Error(`no answer to a ping within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' });
  } finally {
    clearTimeout(timer);
  }
}

/** The images on `docker` (placement.imageKey form: each repository tag). Errors: engine errors. */
export async function imageKeysOn(docker: Docker): Promise<Set<string>> {
  const images = await docker.listImages();
  const keys = new Set<string>();
  for (const image of images) for (const tag of image.RepoTags ?? []) if (tag !== '<none>:<none>') keys.add(withTag(tag));
  return keys;
}
