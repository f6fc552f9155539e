import type Docker from 'dockerode';
import { taskStepEval, type NetworkPolicy, type Task } from '../../../common/src/task';
import { ensureImageOf, ImageError, imageSourceOf } from '../runtime/images';
import { engineCpus, Sandbox } from '../runtime/sandbox';
import { checkSandboxLimits, type SandboxCeilings } from '../runtime/sandboxLimits';
import type { GpuAllocator } from '../runtime/gpus';
import { commitImageSetupTree, initImageBase } from '../runtime/imageWorkspace';
import { commitSetupTree, extractTree, packTree, prepareWorkspace, type PreparedWorkspace } from '../runtime/workspace';
import { AbortedError } from '../util/abort';
import type { Logger } from '../util/log';
import { traced } from '../util/trace';

export const DEFAULT_WORKDIR = '/workspace';

/** A task's environment, ready for the agent: the daemon-side workspace, the container (tree copied in, `setup` run) and the GPUs it holds. */
export interface Environment {
  /** The image the container runs: the task's `image`, the tag built from its `environment`, or the run's default. */
  image: string;
  ws: PreparedWorkspace;
  sandbox: Sandbox;
  gpuIds: string[];
}

/** What preparing an environment needs (a subset of the attempt's context). */
export interface EnvironmentContext {
  runId: string;
  task: Task;
  attempt: number;
  /** Folder that a relative `workspace.repo` is resolved against. */
  tasksDir: string;
  cacheDir: string;
  docker: Docker;
  gpus: GpuAllocator;
  defaultImage: string;
  network?: NetworkPolicy;
  /** The operator's ceilings on a task's network and resources (see sandboxLimits.ts). */
  ceilings: SandboxCeilings;
  /** The container's user for tasks that name none (RunOptions.user); absent: the image's. */
  user?: string;
  /** Disk limit of each container's writable layer, MiB (RunOptions.diskLimitMb). */
  diskLimitMb?: number;
  commandTimeoutSec: number;
  /** The attempt's wall-clock limit, seconds (task `timeout`, `--timeout`); sizes the container's own deadline. */
  wallSec: number;
  outputCap: number;
  /** Changed files larger than this (bytes) are listed with their sizes, not inlined in the diff (see computeDiff). */
  maxDiffFileBytes: number;
  /** Where clean-up failures go (a container or temp workspace that could not be removed). */
  logger: Logger;
  /** The Docker host as messages name it (hostName); default `local`. */
  host?: string;
  /** Where the logs of images built for the task go (the run folder's `builds/`); absent: kept nowhere. */
  buildLogDir?: string;
  /** The task's image is being pulled or built (`detail`: the latest line), or that ended (`undefined`). */
  onImageProgress?(detail: string | undefined): void;
  /** Prepared ahead of its attempt (Lookahead): its container yields to those attempts wait for (SandboxOptions.ahead). */
  ahead?: boolean;
}

/** A `setup` command failed: the attempt is recorded as an error with this message. */
export class SetupError extends Error {}

/**
 * Prepares the environment of one attempt: the task's network and resources checked against
 * the run's ceilings (before anything is made), its image (pulled or built: taskImage), the
 * workspace at its base commit (simple-git), GPUs
 * from the pool, the container (dockerode), the tree copied in (archive API), `setup` run, and
 * the tree after setup committed as the diff base. A workspace in the image (workspace.in_image)
 * is neither cloned nor copied: git finds its base and records the tree after setup inside the
 * container (imageWorkspace.ts). Everything it made is released when it
 * fails. Errors: SetupError (a request over a ceiling, a setup command failed), AbortedError (`signal` fired), workspace
 * and engine errors.
 */
export async function prepareEnvironment(ctx: EnvironmentContext, signal: AbortSignal, onImageReady?: () => void): Promise<Environment> {
  const task = ctx.task;
  const workdir = task.workspace?.path ?? DEFAULT_WORKDIR;
  const network = task.network ?? ctx.network;
  const key = `${task.task_id}#${ctx.attempt}`;
  try {
    checkSandboxLimits({ network, resources: task.resources }, ctx.ceilings, ctx.ceilings.maxCpus === undefined ? await engineCpus(ctx.docker) : undefined);
  } catch (err) {
    throw new SetupError((err as Error).message);
  }
  const made: Partial<Environment> = {};
  try {
    try {
      made.image = await traced('image', key, () => taskImage(ctx, signal));
    } finally {
      onImageReady?.();
    }
    made.ws = await traced('workspace', key, () => prepareWorkspace(task.workspace, ctx.tasksDir, ctx.cacheDir));
    made.gpuIds = await ctx.gpus.acquire(task.gpus, signal);
    if (signal.aborted) throw new AbortedError(String(signal.reason));
    const image = made.image;
    made.sandbox = await traced('sandbox', key, () => Sandbox.create(ctx.docker, {
      image,
      runId: ctx.runId,
      taskId: task.task_id,
      attempt: ctx.attempt,
      network,
      resources: task.resources,
      gpuIds: made.gpuIds,
      user: task.user ?? ctx.user,
      diskLimitMb: ctx.diskLimitMb,
      workdir,
      deadlineSec: containerDeadlineSec(task, ctx.wallSec, ctx.commandTimeoutSec),
      logger: ctx.logger,
      env: task.env,
      host: ctx.host,
      ahead: ctx.ahead,
    }));
    if (made.ws.inImage) {
      // The repository is the image's: nothing is copied in; its base is found in the container.
      made.ws.baseCommit = made.ws.diffBase = await initImageBase(made.sandbox, workdir, task.workspace, signal);
    } else {
      // A task without a repository starts in an empty folder: nothing to copy in.
      await traced('chown', key, () => made.sandbox!.giveWorkdirToUser());
      if (task.workspace?.repo) await traced('copy', key, () => made.sandbox!.putArchive(packTree(made.ws!.dir, workdir), '/'));
    }
    const limits = { timeoutSec: ctx.commandTimeoutSec, outputCap: ctx.outputCap, signal };
    for (const [i, command] of (task.setup ?? []).entries()) {
      const o = await made.sandbox.exec(command, limits);
      if (o.exit_code !== 0) {
        throw new SetupError(`setup command ${i + 1} failed (exit ${o.exit_code}${o.timed_out ? ', timed out' : ''}): ${command}\n${(o.stderr || o.stdout).slice(-2000)}`);
      }
    }
    if (task.setup?.length && made.ws.inImage) {
      made.ws.diffBase = await commitImageSetupTree(made.sandbox, workdir, made.ws.baseCommit, signal);
    } else if (task.setup?.length) {
      await extractTree(made.ws, await made.sandbox.getArchive(workdir));
      await commitSetupTree(made.ws);
    }
    return made as Environment;
  } catch (err) {
    await releaseEnvironment(made, ctx);
    throw err;
  }
}

/**
 * The task's image on its host: pulled when missing, or built from its `environment.dockerfile`
 * (runtime/images.ts), with progress to `ctx.onImageProgress`. Errors: SetupError naming the
 * image (or Dockerfile) and the host when the pull or build failed; AbortedError.
 */
async function taskImage(ctx: EnvironmentContext, signal: AbortSignal): Promise<string> {
  const progress = ctx.onImageProgress;
  try {
    const source = imageSourceOf(ctx.task, ctx.tasksDir, ctx.defaultImage);
    return await ensureImageOf(ctx.docker, source, { host: ctx.host ?? 'local', signal, logDir: ctx.buildLogDir, onProgress: progress && ((text) => progress(text)) });
  } catch (err) {
    if (err instanceof ImageError) throw new SetupError(err.message);
    throw err;
  } finally {
    progress?.(undefined);
  }
}

/**
 * When a container ends itself if TrajLab never removes it (seconds; see Sandbox deadlineSec): a
 * second line behind the end of its attached stdin, so generous that no attempt meets it. One
 * attempt's budget is its setup commands at the command timeout, the wall clock, the eval
 * commands at their timeout (default 300 s) and 120 s of TrajLab's own commands; the deadline is
 * three budgets (an environment prepared ahead waits for up to two attempts before it) plus 600 s.
 */
export function containerDeadlineSec(task: Task, wallSec: number, commandTimeoutSec: number): number {
  const evalCommands = Array.isArray(task.eval) ? task.eval.length : (task.eval?.commands?.length ?? 0);
  const evalTimeout = Array.isArray(task.eval) ? 300 : (task.eval?.timeout ?? 300);
  // A multi-step task adds each step's setup commands and eval commands.
  const steps = (task.steps ?? []).reduce((sum, step) => {
    const ev = taskStepEval(task, step);
    return sum + (step.setup?.length ?? 0) * commandTimeoutSec + (ev.commands?.length ?? 0) * (ev.timeout ?? 300);
  }, 0);
  const budget = (task.setup?.length ?? 0) * commandTimeoutSec + wallSec + evalCommands * evalTimeout + steps + 120;
  return Math.ceil(3 * budget + 600);
}

/**
 * Gives back what an environment holds: its GPUs to `gpus` (at once), its container (removed)
 * and its temp workspace. Never throws (see removeEnvironment).
 */
export async function releaseEnvironment(env: Partial<Environment>, { gpus, logger }: { gpus: GpuAllocator; logger: Logger }): Promise<void> {
  if (env.gpuIds) gpus.release(env.gpuIds);
  await removeEnvironment(env, logger);
}

/**
 * Removes an environment's container and temp workspace (not its GPUs: see releaseEnvironment).
 * Never throws: it runs on clean-up paths (after a failure, or once the attempt has its result),
 * where an error would hide the one that matters; a temp folder that cannot be removed is
 * logged as left behind.
 */
export async function removeEnvironment(env: Partial<Environment>, logger: Logger): Promise<void> {
  const ws = env.ws;
  await Promise.all([
    env.sandbox?.remove(),
    ws?.dispose().catch((err: Error) => logger.warn(`temp workspace ${ws.dir} not removed: ${err.message}`)),
  ]);
}

/** An environment being prepared, and a way to stop that (the attempt's wall clock ran out, or it was cancelled). */
export interface PendingEnvironment {
  ready: Promise<Environment>;
  /**
   * Settles (never rejects) once the task's image is on its host, or its pull or build failed,
   * or preparing stopped before that step: the attempt's wall clock starts there, since a pull
   * or build (minutes, for a SWE-bench image) is not the agent's time.
   */
  imageReady: Promise<void>;
  abort(reason: string): void;
}

/** Starts preparing an environment; it stops with `signal` or `abort()`. */
export function startEnvironment(ctx: EnvironmentContext, signal: AbortSignal): PendingEnvironment {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  let imageDone!: () => void;
  const imageReady = new Promise<void>((resolve) => (imageDone = resolve));
  const ready = prepareEnvironment(ctx, controller.signal, imageDone).finally(() => signal.removeEventListener('abort', onAbort));
  // Not swallowed: the failure reaches whoever awaits `ready` (the attempt, or Lookahead.dispose);
  // this only keeps it from counting as unhandled until then. Either way the image step is over.
  ready.then(imageDone, imageDone);
  return { ready, imageReady, abort: (reason) => controller.abort(reason) };
}
