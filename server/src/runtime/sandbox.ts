/**
 * The container an attempt runs in (Sandbox): created with labels and limits, started under a
 * per-engine start limiter, commands through its shell session (shellSession.ts), files
 * through the archive API (archive.ts for single files).
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { type Duplex, PassThrough, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import * as tarStream from 'tar-stream';
import type { NetworkPolicy, TaskResources } from '../../../common/src/task';
import type { Observation } from '../../../common/src/trajectory';
import { AbortedError } from '../util/abort';
import { waitForCommand } from '../util/backstop';
import type { Logger } from '../util/log';
import { containerStart } from '../metrics/metrics';
import { Slots } from '../util/slots';
import { traced, tracePoint } from '../util/trace';
import { CappedBuffer, observationOf } from './cappedBuffer';
import { LABEL_ATTEMPT, LABEL_OWNER, LABEL_RUN, LABEL_TASK, OWNER, removeContainer } from './reaper';
import { SANDBOX_DEFAULTS } from './sandboxLimits';
import { sessionCommand, ShellSession } from './shellSession';

/** Options of one sandbox container. */
export interface SandboxOptions {
  image: string;
  runId: string;
  taskId: string;
  attempt: number;
  network?: NetworkPolicy;
  resources?: TaskResources;
  /** Explicit GPU device ids (already allocated; see GpuAllocator). */
  gpuIds?: string[];
  /** Docker's `User` (`name`, `uid`, `name:group`, `uid:gid`); absent: the image's user. */
  user?: string;
  /**
   * Disk limit of the container's writable layer, MiB: Docker's `StorageOpt size` where the
   * engine's storage driver supports it, else the watchdog of `watchDisk`. Absent: no limit.
   */
  diskLimitMb?: number;
  workdir: string;
  /**
   * Seconds after which the container ends itself whatever happens (a second line behind the end
   * of its attached stdin, should the connection to TrajLab wedge); 0 or absent: no deadline.
   */
  deadlineSec?: number;
  /** Where a failed removal of the container is reported (see removeContainer). */
  logger: Logger;
  /** Environment variables of the container (a task's `env`, Harbor `[environment.env]`), after TrajLab's own defaults. */
  env?: Record<string, string>;
  /** The Docker host's name (hostName in connection.ts), the `host` label of `trajlab_container_start_seconds`; default `local`. */
  host?: string;
  /** Made for an attempt that is not waiting for it yet (prepared ahead): it yields to containers attempts wait for (see startSlotsOf). */
  ahead?: boolean;
}

/** Options of one command run in a sandbox. */
export interface ExecOptions {
  /** Per-command timeout, seconds; the command is killed (SIGTERM, then SIGKILL 2 s later). */
  timeoutSec: number;
  /** Cap on stdout + stderr kept, bytes; the head and tail are kept and `truncated` is set. */
  outputCap: number;
  cwd?: string;
  signal?: AbortSignal;
}

/** How long a container whose lifeline was closed is given to stop by itself before it is removed by force, ms. */
const STOP_WAIT_MS = 3000;

/** Exit code coreutils `timeout` returns when it killed the command. */
const TIMEOUT_EXIT = 124;

/**
 * How many containers may be made (created, attached, started) or removed at once on each
 * engine: twice the engine host's CPUs (`docker info` NCPU; 4 when it does not say). Both are
 * CPU-bound on that host (dockerd, containerd, the shim, runc, the kernel: ~0.17 CPU-s per
 * container on two cores); sixteen at once all finish late together, while four at a time get
 * each one running sooner. A free slot goes first to a container an attempt is waiting for
 * (SLOT_RANK.now), then to one prepared ahead (SLOT_RANK.ahead: see Lookahead), then to a
 * removal (SLOT_RANK.removal), so that neither delays an attempt that could start.
 */
const startSlots = new WeakMap<Docker, Promise<Slots>>();

/** Ranks of the engine's slots (see startSlotsOf and Slots.use): lower goes first. */
const SLOT_RANK = { now: 0, ahead: 1, removal: 2 } as const;

function startSlotsOf(docker: Docker): Promise<Slots> {
  let slots = startSlots.get(docker);
  if (!slots) {
    slots = engineCpus(docker).then((n) => (n === undefined ? new Slots(4) : new Slots(Math.max(2, 2 * n))));
    startSlots.set(docker, slots);
  }
  return slots;
}

const storageOptEngines = new WeakMap<Docker, Promise<boolean>>();

/**
 * Whether the engine's storage driver may take a per-container `StorageOpt size`: overlay2 on
 * xfs (which also needs the `pquota` mount option, seen only when a create fails), btrfs, zfs.
 * Asked once per engine (`docker info`); false when it cannot be asked.
 */
function storageOptMayWork(docker: Docker): Promise<boolean> {
  let may = storageOptEngines.get(docker);
  if (!may) {
    may = docker.info().then(
      (info: { Driver?: string; DriverStatus?: [string, string][] }) =>
        info.Driver === 'btrfs' || info.Driver === 'zfs' || (info.Driver === 'overlay2' && !!info.DriverStatus?.some(([k, v]) => k === 'Backing Filesystem' && v === 'xfs')),
      () => false,
    );
    storageOptEngines.set(docker, may);
  }
  return may;
}

const cpuCounts = new WeakMap<Docker, Promise<number | undefined>>();

/**
 * The Docker host's CPU count (`docker info` NCPU), asked once per engine; undefined when the
 * engine does not say or cannot be asked (never throws).
 */
export function engineCpus(docker: Docker): Promise<number | undefined> {
  let count = cpuCounts.get(docker);
  if (!count) {
    count = docker.info().then(
      (info: { NCPU?: number }) => (typeof info.NCPU === 'number' && info.NCPU > 0 ? info.NCPU : undefined),
      () => undefined,
    );
    cpuCounts.set(docker, count);
  }
  return count;
}

/**
 * One container an attempt runs in. Created with labels, limits and no privileges; commands go
 * through the shell session on the container's attached stdin (the Docker exec API when the
 * image has no bash; no `docker` CLI), files through the archive API. Call `remove()` on every
 * path (the run engine does it in `finally`).
 */
export class Sandbox {
  private constructor(
    readonly docker: Docker,
    readonly container: Docker.Container,
    readonly workdir: string,
    /** Where the sandbox and what it holds (a browser session) report what goes wrong. */
    readonly logger: Logger,
    /** The container's user when it is not the image's (see SandboxOptions.user). */
    readonly user?: string,
  ) {}

  get id(): string {
    return this.container.id;
  }

  /**
   * Creates and starts a container. Limits default to 1 CPU, 2048 MiB, 512 pids; network
   * `none` unless asked (the caller has checked them against the run's ceilings: see
   * sandboxLimits.ts); it runs as `user` when given, else as the image's user; `gpuIds` go to Docker's `nvidia` device driver as explicit device ids
   * (the container sees them in NVIDIA_VISIBLE_DEVICES). Errors: the image is missing on the
   * host (the message says to build or pull it), the host has no NVIDIA GPU support (says to
   * install the NVIDIA Container Toolkit), or the engine is unreachable. Creating, attaching and
   * starting wait for one of the engine's slots (startSlotsOf).
   */
  static async create(docker: Docker, options: SandboxOptions): Promise<Sandbox> {
    const slots = await startSlotsOf(docker);
    const key = `${options.taskId}#${options.attempt}`;
    return traced('make', key, () => slots.use(() => Sandbox.make(docker, options, key), options.ahead ? SLOT_RANK.ahead : SLOT_RANK.now));
  }

  /** Sandbox.create, once it holds a slot. */
  private static async make(docker: Docker, options: SandboxOptions, key: string): Promise<Sandbox> {
    const res = options.resources ?? {};
    const network = options.network ?? SANDBOX_DEFAULTS.network;
    const hostConfig: Docker.HostConfig = {
      NetworkMode: network,
      Memory: (res.memory_mb ?? SANDBOX_DEFAULTS.memoryMb) * 1024 * 1024,
      NanoCpus: Math.round((res.cpus ?? SANDBOX_DEFAULTS.cpus) * 1e9),
      PidsLimit: res.pids ?? SANDBOX_DEFAULTS.pids,
      Privileged: false,
      CapDrop: ['NET_RAW', 'SYS_ADMIN', 'MKNOD'],
      SecurityOpt: ['no-new-privileges'],
      Init: true,
      // Command output goes through the attached session, so the engine must not also log it.
      LogConfig: { Type: 'none', Config: {} },
    };
    if (options.gpuIds?.length) {
      hostConfig.DeviceRequests = [{ Driver: 'nvidia', DeviceIDs: options.gpuIds, Capabilities: [['gpu']] }];
    }
    let diskByEngine = false;
    if (options.diskLimitMb !== undefined && (await storageOptMayWork(docker))) {
      hostConfig.StorageOpt = { size: `${options.diskLimitMb}m` };
      diskByEngine = true;
    }
    const noBashMarker = `__TRAJLAB_NO_BASH_${randomBytes(8).toString('hex')}__`;
    const createOptions = (): Docker.ContainerCreateOptions => ({
      Image: options.image,
      Cmd: sessionCommand(noBashMarker, options.deadlineSec),
      Entrypoint: [],
      OpenStdin: true,
      StdinOnce: true,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      WorkingDir: options.workdir,
      ...(options.user ? { User: options.user } : {}),
      Labels: {
        [LABEL_RUN]: options.runId,
        [LABEL_TASK]: options.taskId.slice(0, 1000),
        [LABEL_ATTEMPT]: String(options.attempt),
        [LABEL_OWNER]: OWNER,
      },
      Env: ['PAGER=cat', 'MANPAGER=cat', 'LESS=-R', 'PIP_PROGRESS_BAR=off', 'TQDM_DISABLE=1', 'GIT_PAGER=cat', ...containerEnv(options.env)],
      HostConfig: hostConfig,
      NetworkDisabled: network === 'none',
      });
    let container: Docker.Container;
    const createdAt = performance.now();
    try {
      // The main process is the shell session (attached below), so commands need no Docker exec.
      container = await traced('create', key, () => docker.createContainer(createOptions())).catch((err: Error) => {
        // overlay2 on xfs without pquota, or a driver that refuses the option: the watchdog limits it.
        if (!diskByEngine || !/storage-?opt|quota/i.test(err.message)) throw err;
        storageOptEngines.set(docker, Promise.resolve(false));
        diskByEngine = false;
        delete hostConfig.StorageOpt;
        return docker.createContainer(createOptions());
      });
    } catch (err) {
      const e = err as { statusCode?: number; message: string };
      if (e.statusCode === 404) {
        throw new Error(`image "${options.image}" is not on the Docker host; build it (npm run setup builds trajlab/sandbox:1) or pull it there`);
      }
      throw err;
    }
    const sandbox = new Sandbox(docker, container, options.workdir, options.logger, options.user);
    if (options.diskLimitMb !== undefined) sandbox.disk = { limitMb: options.diskLimitMb, byEngine: diskByEngine };
    try {
      tracePoint('container', key, container.id);
      const stdio = (await traced('attach', key, () => container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true }))) as unknown as Duplex;
      sandbox.lifeline = stdio;
      sandbox.session = ShellSession.over(docker, stdio, noBashMarker, true);
      await traced('start', key, () => container.start()).catch((err: Error) => {
        if (options.gpuIds?.length && /device driver/i.test(err.message)) {
          throw new Error(`the Docker host cannot give this container GPUs ${options.gpuIds.join(', ')} (${err.message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim()}): install the NVIDIA Container Toolkit there, or run tasks with "gpus" on a host that has it`);
        }
        throw err;
      });
    } catch (err) {
      // Not through the slots: this call holds one.
      await sandbox.removeNow();
      throw err;
    }
    containerStart.observe({ host: options.host ?? 'local' }, (performance.now() - createdAt) / 1000);
    return sandbox;
  }

  private session: ShellSession | undefined;
  private sessionUnavailable = false;
  /** The disk limit (SandboxOptions.diskLimitMb) and whether the engine enforces it (StorageOpt) or watchDisk must. */
  disk: { limitMb: number; byEngine: boolean } | undefined;

  /**
   * Watches the container's writable layer (`inspect` with `size`: SizeRw, bytes) every
   * `intervalMs` while the disk limit is enforced by no one else, and calls `onOver` once with
   * a reason when it is over the limit. A failed inspect (the container is gone) is ignored.
   * Returns a function that stops watching. Does nothing when there is no limit or the engine
   * enforces it.
   */
  watchDisk(onOver: (reason: string) => void, intervalMs = 2000): () => void {
    const disk = this.disk;
    if (!disk || disk.byEngine) return () => undefined;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    let warned = false;
    const poll = async () => {
      let info: unknown;
      try {
        info = await this.container.inspect({ size: true } as Docker.ContainerInspectOptions);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return; // the container is gone: nothing left to watch
        // The engine did not answer this time: say so once (the limit is not being checked), keep polling.
        if (!warned) this.logger.warn(`disk limit of container ${this.id.slice(0, 12)} not checked: ${(err as Error).message}`);
        warned = true;
      }
      if (stopped) return;
      const bytes = (info as { SizeRw?: number } | undefined)?.SizeRw ?? 0;
      if (bytes > disk.limitMb * 1024 * 1024) {
        stopped = true;
        onOver(`the container wrote ${Math.round(bytes / (1024 * 1024))} MiB to its filesystem, over the disk limit of ${disk.limitMb} MiB (raise it with --disk-limit-mb); the attempt was stopped`);
        return;
      }
      timer = setTimeout(() => void poll(), intervalMs);
    };
    timer = setTimeout(() => void poll(), intervalMs);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  /**
   * The attached stdio of the container's main process, open for the sandbox's whole life (also
   * when commands fell back to Docker execs): the container stops itself when it closes, which the
   * kernel does for us when this process dies, even by SIGKILL (see sessionCommand).
   */
  private lifeline: Duplex | undefined;

  /**
   * Runs `command` with `bash -c` under coreutils `timeout` and returns the observation; never
   * throws for a failing or timed-out command. Commands go through one long-lived shell session
   * per container (see ShellSession: it saves the ~30 ms runc exec of each Docker exec); images
   * without bash fall back to one Docker exec per command (`sh -c`). Errors: AbortedError when
   * `signal` fires (the container is removed by the caller), or an engine error.
   */
  exec(command: string, options: ExecOptions): Promise<Observation> {
    return traced(() => `exec ${traceName(command)}`, this.id, () => this.execNow(command, options));
  }

  private async execNow(command: string, options: ExecOptions): Promise<Observation> {
    if (!this.sessionUnavailable) {
      try {
        if (!this.session || this.session.broken) this.session = await ShellSession.start(this.docker, this.container);
        return await this.session.run(command, options.cwd ?? this.workdir, options.timeoutSec, options.outputCap, options.signal);
      } catch (err) {
        if (err instanceof AbortedError) throw err;
        // No bash in the image, or the session died: use one exec per command from now on.
        this.sessionUnavailable = true;
      }
    }
    return this.execOnce(command, options);
  }

  /** Runs one command as its own Docker exec (`sh -c`, bash when present), under `timeout`. */
  async execOnce(command: string, options: ExecOptions): Promise<Observation> {
    const started = performance.now();
    const t = Math.max(1, Math.ceil(options.timeoutSec));
    const wrapper = `if command -v bash >/dev/null 2>&1; then exec timeout -k 2 ${t} bash -c "$0"; else exec timeout -k 2 ${t} sh -c "$0"; fi`;
    const exec = await this.container.exec({
      Cmd: ['sh', '-c', wrapper, command],
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: false,
      Tty: false,
      WorkingDir: options.cwd ?? this.workdir,
    });
    const stream = (await exec.start({ hijack: true, stdin: false })) as NodeJS.ReadWriteStream & Readable;
    const out = new CappedBuffer(Math.floor(options.outputCap / 2));
    const err = new CappedBuffer(Math.floor(options.outputCap / 2));
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stdout.on('data', (c: Buffer) => out.push(c));
    stderr.on('data', (c: Buffer) => err.push(c));
    this.docker.modem.demuxStream(stream, stdout, stderr);
    // Backstop in case `timeout` itself cannot run: stop waiting a few seconds after the limit.
    const end = await waitForCommand(
      (done, fail) => {
        stream.on('end', done);
        stream.on('close', done);
        stream.on('error', fail);
      },
      { backstopMs: (t + 5) * 1000, stop: () => stream.destroy(), signal: options.signal },
    );
    const killedByBackstop = end === 'backstop';
    const info = killedByBackstop ? undefined : await exec.inspect();
    return observationOf(out, err, info?.ExitCode ?? null, killedByBackstop, t, started);
  }

  /**
   * Copies a tar stream into `dir` in the container (archive API; works on remote hosts). The
   * engine gives each entry the archive's uid and gid: when the container runs as a `user`,
   * every entry is rewritten to that user's (see ownerOf), so the tree copied in is the agent's
   * own (Docker's `copyUIDGID` would need the user in the image's passwd file; `1000:1000`
   * often is not). Errors: the owner cannot be told, a malformed archive, or an engine error.
   */
  async putArchive(tar: Readable, dir: string): Promise<void> {
    const archive = this.user ? withOwner(tar, await this.ownerOf()) : tar;
    await this.container.putArchive(archive, { path: dir });
  }

  /**
   * Makes the workdir (created by Docker as root) belong to the container's user, so that a
   * non-root agent can create files at its top: one directory entry put through the archive
   * API (see putArchive). Does nothing when the container runs as the image's user.
   * Errors: see putArchive.
   */
  async giveWorkdirToUser(): Promise<void> {
    if (!this.user || path.posix.dirname(this.workdir) === this.workdir) return;
    const pack = tarStream.pack();
    pack.entry({ name: path.posix.basename(this.workdir), type: 'directory', mode: 0o755 });
    pack.finalize();
    await this.putArchive(pack as unknown as Readable, path.posix.dirname(this.workdir));
  }

  private owner: Promise<{ uid: number; gid: number }> | undefined;

  /**
   * The numeric uid and gid of the container's user, asked once with `id -u; id -g` in the
   * container (a `user` may be a name that only the image's /etc/passwd knows). Errors: `id`
   * failed or printed something else (the message has its output).
   */
  private ownerOf(): Promise<{ uid: number; gid: number }> {
    this.owner ??= this.exec('id -u && id -g', { timeoutSec: 30, outputCap: 4096 }).then((o) => {
      const m = /^(\d+)\n(\d+)\n?$/.exec(o.stdout);
      if (o.exit_code !== 0 || !m) throw new Error(`cannot tell the uid and gid of user "${this.user}" in the container (id -u; id -g exit ${o.exit_code}: ${JSON.stringify((o.stdout + o.stderr).slice(0, 300))})`);
      return { uid: Number(m[1]), gid: Number(m[2]) };
    });
    return this.owner;
  }

  /** A tar stream of `dir` in the container; entries are prefixed with its base name. */
  async getArchive(dir: string): Promise<Readable> {
    return (await this.container.getArchive({ path: dir })) as unknown as Readable;
  }

  /**
   * Lets the container go: no more commands, and its lifeline is closed, so that it stops by
   * itself (see sessionCommand) while its removal waits (Sandbox.remove). Idempotent.
   */
  release(): void {
    this.session?.close();
    this.lifeline?.destroy();
    const hooks = this.releaseHooks.splice(0);
    for (const hook of hooks) hook();
  }

  private readonly releaseHooks: (() => void)[] = [];

  /** Calls `hook` once when the sandbox is released (what lives in the container, a browser session, lets go of it). */
  onRelease(hook: () => void): void {
    this.releaseHooks.push(hook);
  }

  /**
   * Removes the container (force, with its anonymous volumes); never throws (a container
   * already gone is fine; another failure is logged and counted: see removeContainer). It is
   * released first (a container whose removal fails still stops) and given up to STOP_WAIT_MS
   * to stop by itself: a stopped container is removed without the engine's kill (one runc
   * command less). The removal itself waits for one of the engine's slots with no container
   * waiting for one (startSlotsOf).
   */
  async remove(): Promise<void> {
    this.release();
    if (this.lifeline) await traced('stop', this.id, () => this.stopped(STOP_WAIT_MS));
    const slots = await startSlotsOf(this.docker);
    await traced('remove', this.id, () => slots.use(() => removeContainer(this.container, this.logger, true), SLOT_RANK.removal));
  }

  /** Sandbox.remove without waiting for a slot (the caller holds one). */
  private async removeNow(): Promise<void> {
    this.release();
    if (this.lifeline) await this.stopped(STOP_WAIT_MS);
    await removeContainer(this.container, this.logger, true);
  }

  /**
   * Resolves once the container is not running (the engine's `wait` with condition
   * `not-running`: at once when it never started or already stopped) or after `ms`. Never
   * throws: when the engine cannot say (the container is gone, the engine failed), the forced
   * removal that follows has the last word and reports what matters (removeContainer).
   */
  private async stopped(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const waited = this.container.wait({ condition: 'not-running' }).then(
      () => undefined,
      (err: Error) => void err, // reported, if it matters, by the removal that follows
    );
    await Promise.race([waited, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }
}

/**
 * The tar stream `tar` with every entry's uid and gid set to `owner`'s (names dropped), entry by
 * entry without holding the archive (tar-stream). An error of `tar` or a malformed archive
 * destroys the returned stream with it.
 */
function withOwner(tar: Readable, owner: { uid: number; gid: number }): Readable {
  const extract = tarStream.extract();
  const pack = tarStream.pack();
  extract.on('entry', (header, body, next) => {
    const entry = pack.entry({ ...header, uid: owner.uid, gid: owner.gid, uname: undefined, gname: undefined }, (err) => (err ? extract.destroy(err) : next()));
    if (header.type === 'file' || header.type === 'contiguous-file') body.pipe(entry);
    else body.resume();
  });
  extract.on('finish', () => pack.finalize());
  extract.on('error', (err) => pack.destroy(err));
  tar.on('error', (err) => extract.destroy(err));
  tar.pipe(extract);
  return pack as unknown as Readable;
}

/**
 * A command's name for the trace (util/trace.ts): its first word when that is a short plain name
 * (`sleep`, `./run.sh`), else `…`, so that no assignment or token in a command reaches the file.
 */
function traceName(command: string): string {
  const first = command.trimStart().split(/\s/, 1)[0]!;
  return /^[\w./-]{1,24}$/.test(first) ? first : '…';
}

/**
 * A task's environment variables as Docker's `Env` list (`NAME=value`). Errors: a name that is
 * empty or holds `=` (Docker would split it elsewhere).
 */
export function containerEnv(env: Record<string, string> | undefined): string[] {
  return Object.entries(env ?? {}).map(([name, value]) => {
    if (!name || name.includes('=')) throw new Error(`env: ${JSON.stringify(name)} is not a valid environment variable name`);
    return `${name}=${value}`;
  });
}

/** Quotes a string for POSIX sh. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
