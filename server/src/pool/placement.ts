/**
 * The pure decisions of the host pool (poolRunner.ts): which host an attempt goes to, how long
 * to wait before probing a down host again, and what key an image is known by on a host.
 */
import type { ImageSource } from '../runtime/images';

/** What placement sees of one host. */
export interface HostView {
  /** Up and not drained. */
  placeable: boolean;
  /** Attempts running on it now, and its `workers`. */
  running: number;
  slots: number;
  /** GPU device ids it offers (undefined: not known yet, the host has not answered). */
  gpus: readonly string[] | undefined;
  /** Devices that attempts placed on it hold or will hold: a count, and the ids asked for by name. */
  gpusPlaced: number;
  gpuIdsPlaced: ReadonlySet<string>;
  /** Whether it holds the task's image (or the image built from its environment). */
  hasImage: boolean;
}

/** A task's `gpus`: a count, device ids, or none. */
export type GpuRequest = number | string[] | undefined;

/** How many devices `request` asks for (0 when none). */
export function gpuCount(request: GpuRequest): number {
  return Array.isArray(request) ? request.length : Math.max(0, request ?? 0);
}

/** Whether `host` has room for an attempt asking for `request` now: a free slot, and free devices (by count, or those ids). */
export function fitsNow(host: HostView, request: GpuRequest): boolean {
  if (!host.placeable || host.running >= host.slots) return false;
  const count = gpuCount(request);
  if (!count) return true;
  if (!host.gpus || count > host.gpus.length - host.gpusPlaced) return false;
  return !Array.isArray(request) || request.every((id) => host.gpus!.includes(id) && !host.gpuIdsPlaced.has(id));
}

/** Whether `host` could ever run an attempt asking for `request` (enough devices, the ids named); false while its devices are unknown. */
export function couldEverFit(host: HostView, request: GpuRequest): boolean {
  const count = gpuCount(request);
  if (!count) return true;
  if (!host.gpus) return false;
  return count <= host.gpus.length && (!Array.isArray(request) || request.every((id) => host.gpus!.includes(id)));
}

/**
 * The index of the host an attempt asking for `request` goes to now, or undefined when none has
 * room: among hosts that fit now (fitsNow), the ones holding the task's image first, then the
 * least loaded (running / slots), then the fewest running, then the earliest listed. When no
 * host could ever fit the request and every host's devices are known, the least loaded host
 * with a free slot takes it anyway: its GPU allocator then fails the attempt with a message that
 * says how many devices the host has (gpus.ts), instead of the attempt waiting for ever.
 */
export function chooseHost(hosts: readonly HostView[], request: GpuRequest): number | undefined {
  let fits = hosts.map((h, i) => ({ h, i })).filter(({ h }) => fitsNow(h, request));
  if (!fits.length && gpuCount(request) && hosts.every((h) => h.gpus !== undefined) && !hosts.some((h) => couldEverFit(h, request))) {
    fits = hosts.map((h, i) => ({ h, i })).filter(({ h }) => fitsNow(h, undefined));
  }
  let best: { h: HostView; i: number } | undefined;
  for (const c of fits) if (!best || better(c.h, best.h)) best = c;
  return best?.i;
}

/** Whether `a` is a better place than `b` (see chooseHost); ties keep the earlier host. */
function better(a: HostView, b: HostView): boolean {
  if (a.hasImage !== b.hasImage) return a.hasImage;
  const la = a.running / a.slots;
  const lb = b.running / b.slots;
  if (la !== lb) return la < lb;
  return a.running < b.running;
}

/** Seconds before the `n`th probe (0-based) of a down host: 1, 2, 4, 8, then 15 each time. */
export function probeDelaySec(n: number): number {
  return Math.min(15, 2 ** Math.max(0, n));
}

/**
 * The key an image is known by on a host: a named image with its tag (`:latest` when it names
 * none; a digest kept as is), or `build:<Dockerfile path>` for an environment built from a
 * Dockerfile (its tag is a hash of the context, known only once it is read).
 */
export function imageKey(source: ImageSource): string {
  if (source.kind === 'build') return `build:${source.dockerfile}`;
  return withTag(source.image);
}

/** `name` with `:latest` added when it names no tag or digest (`repo`, `host:5000/repo`). */
export function withTag(name: string): string {
  if (name.includes('@')) return name;
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last.includes(':') ? name : `${name}:latest`;
}
