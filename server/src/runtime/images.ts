/**
 * A task's image on the Docker host that runs it: an `image` missing there is pulled (with
 * the docker CLI's registry credentials, registryAuth.ts), an `environment.dockerfile` is built
 * (buildImage) and tagged by the content hash of its build context (buildContext.ts), so each
 * environment builds once per host. Progress goes out as one-line texts; a build's log is kept
 * in the run folder. Attempts that need the same pull or build at once share one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Docker from 'dockerode';
import type { Task } from '../../../common/src/task';
import { AbortedError } from '../util/abort';
import { Secrets } from '../util/secrets';
import { packBuildContext, readBuildContext } from './buildContext';
import { registryAuthFor, secretsOfAuth } from './registryAuth';

/** The repository of images built from a task's Dockerfile (tag: the context hash); `TRAJLAB_ENV_REPOSITORY` renames it. */
export const ENV_REPOSITORY = 'trajlab-env';
/** Hex digits of the context hash in a built image's tag. */
const TAG_HASH_DIGITS = 20;
/** Label of a built image: the full context hash. */
export const LABEL_CONTEXT_HASH = 'trajlab.context-hash';
/** At most one progress text per this many ms per pull (layer events come by the hundred). */
const PROGRESS_INTERVAL_MS = 500;

/** Where a task's image comes from: a name on the host (pulled when missing), or a Dockerfile to build. */
export type ImageSource = { kind: 'image'; image: string } | { kind: 'build'; dockerfile: string; context: string };

/**
 * The image source of `task`: its `image`, else its `environment` (paths resolved against
 * `tasksDir`; the context defaults to the Dockerfile's folder), else `defaultImage`.
 */
export function imageSourceOf(task: Task, tasksDir: string, defaultImage: string): ImageSource {
  if (task.image) return { kind: 'image', image: task.image };
  const env = task.environment;
  if (!env) return { kind: 'image', image: defaultImage };
  const dockerfile = path.resolve(tasksDir, env.dockerfile);
  return { kind: 'build', dockerfile, context: env.context ? path.resolve(tasksDir, env.context) : path.dirname(dockerfile) };
}

/** A pull or build that failed; the message names the image (or Dockerfile) and the host. */
export class ImageError extends Error {}

/** What getting an image needs besides the engine. */
export interface ImageOptions {
  /** The Docker host as messages name it (hostName of the connection). */
  host: string;
  signal: AbortSignal;
  /** One-line progress texts (`pulling python:3.11: 45% of 120 MB`, `building …: Step 2/5 : RUN …`). */
  onProgress?(text: string): void;
  /** Build logs go to `<logDir>/<tag>.log` (the run folder's `builds/`); absent: kept nowhere. */
  logDir?: string;
  /** Where DOCKER_CONFIG, DOCKER_AUTH_CONFIG, PATH (credential helpers) and TRAJLAB_ENV_REPOSITORY come from. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The image `source` names, present on the host when this resolves: a named image is pulled
 * if missing; a Dockerfile is built unless an image with its context's tag is there (its base
 * images pulled first when missing, with credentials). Returns the image name or tag.
 * Errors: ImageError (naming the image or Dockerfile and the host, and why: the engine's
 * message, the failing build step), AbortedError (`signal` fired).
 */
export async function ensureImageOf(docker: Docker, source: ImageSource, o: ImageOptions): Promise<string> {
  if (source.kind === 'image') {
    await ensureImage(docker, source.image, o);
    return source.image;
  }
  return buildEnvironmentImage(docker, source.dockerfile, source.context, o);
}

/** Whether `image` is on the host. Errors: the engine failed otherwise than "no such image". */
export async function hasImage(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/**
 * Images seen on each engine (asked once per engine connection: every attempt of a run would
 * otherwise ask again). One removed meanwhile fails at container creation with its own message.
 */
const seenOn = new WeakMap<Docker, Set<string>>();

/**
 * Pulls `image` unless it is on the host. Errors: ImageError `image "X" is not on Docker host H
 * and could not be pulled: …`, AbortedError.
 */
export async function ensureImage(docker: Docker, image: string, o: ImageOptions): Promise<void> {
  let seen = seenOn.get(docker);
  if (!seen) seenOn.set(docker, (seen = new Set()));
  if (seen.has(image)) return;
  const present = await hasImage(docker, image).catch((err: Error) => Promise.reject(new ImageError(`image "${image}" on Docker host ${o.host}: ${err.message}`)));
  if (!present) await shared(`${o.host}\u0000pull\u0000${image}`, o, (signal, progress) => pull(docker, image, { ...o, signal, onProgress: progress }));
  seen.add(image);
}

/** One pull with progress; see ensureImage. */
async function pull(docker: Docker, image: string, o: ImageOptions): Promise<void> {
  const fail = (why: string) => new ImageError(`image "${image}" is not on Docker host ${o.host} and could not be pulled: ${why}`);
  let auth;
  try {
    auth = await registryAuthFor(image, o.env ?? process.env);
  } catch (err) {
    throw fail((err as Error).message);
  }
  // The credentials reach only dockerode's X-Registry-Auth header; any text about the pull is scrubbed of them.
  const secrets = new Secrets(secretsOfAuth(auth));
  o.onProgress?.(`pulling ${image}${auth ? ' (with credentials from the docker config)' : ''}`);
  let stream: NodeJS.ReadableStream;
  try {
    // dockerode's pull takes the credentials as `authconfig` (sent as X-Registry-Auth, never in the URL).
    stream = await docker.pull(image, { abortSignal: o.signal, ...(auth ? { authconfig: auth } : {}) });
  } catch (err) {
    if (o.signal.aborted) throw new AbortedError(String(o.signal.reason));
    throw fail(secrets.scrub(engineMessage(err)));
  }
  const layers = new Map<string, { current: number; total: number }>();
  let last = 0;
  const onEvent = (e: PullEvent) => {
    if (e.id && e.progressDetail?.total) layers.set(e.id, { current: e.progressDetail.current ?? 0, total: e.progressDetail.total });
    if (e.id && /^(Download complete|Pull complete|Already exists)$/.test(e.status ?? '')) {
      const l = layers.get(e.id);
      if (l) l.current = l.total;
    }
    const now = Date.now();
    if (now - last < PROGRESS_INTERVAL_MS || !layers.size) return;
    last = now;
    let current = 0;
    let total = 0;
    for (const l of layers.values()) {
      current += l.current;
      total += l.total;
    }
    o.onProgress?.(secrets.scrub(`pulling ${image}: ${Math.floor((100 * current) / total)}% of ${formatMb(total)} (${layers.size} layer(s))`));
  };
  try {
    await followProgress(docker, stream, o.signal, onEvent);
  } catch (err) {
    if (err instanceof AbortedError) throw err;
    throw fail(secrets.scrub(engineMessage(err)));
  }
  o.onProgress?.(`pulled ${image}`);
}

/** One event of the engine's pull stream (Docker Engine API, POST /images/create). */
interface PullEvent {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * Follows an engine progress stream (`modem.followProgress`) to its end; an `error` event in
 * it rejects (the engine reports a failed pull or build step in the stream, not the status).
 */
function followProgress<E extends { error?: string; errorDetail?: { message?: string } }>(docker: Docker, stream: NodeJS.ReadableStream, signal: AbortSignal, onEvent: (e: E) => void): Promise<E[]> {
  return new Promise((resolve, reject) => {
    let failed: Error | undefined;
    const onAbort = () => {
      (stream as unknown as { destroy?(): void }).destroy?.();
      reject(new AbortedError(String(signal.reason)));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    docker.modem.followProgress(
      stream,
      (err: Error | null, output: E[]) => {
        signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else if (failed) reject(failed);
        else resolve(output);
      },
      (e: E) => {
        if (e.error || e.errorDetail?.message) failed ??= new Error(e.errorDetail?.message ?? e.error);
        onEvent(e);
      },
    );
  });
}

/**
 * Builds the image of a Dockerfile and its context unless one with the context's tag is on the
 * host; returns the tag (`trajlab-env:<20 hex digits>`). The build log (the engine's output,
 * as `docker build` prints it) goes to `<logDir>/<tag>.log` as it comes, each `Step` line and
 * error out through `onProgress`. Errors: ImageError naming the Dockerfile, the host and the
 * failing step with the engine's message; AbortedError.
 */
export async function buildEnvironmentImage(docker: Docker, dockerfile: string, context: string, o: ImageOptions): Promise<string> {
  const fail = (why: string) => new ImageError(`building ${dockerfile} on Docker host ${o.host} failed: ${why}`);
  let ctx;
  try {
    ctx = await readBuildContext(dockerfile, context);
  } catch (err) {
    throw fail((err as Error).message);
  }
  const env = o.env ?? process.env;
  const tag = `${env.TRAJLAB_ENV_REPOSITORY || ENV_REPOSITORY}:${ctx.hash.slice(0, TAG_HASH_DIGITS)}`;
  if (await hasImage(docker, tag).catch((err: Error) => Promise.reject(fail(err.message)))) return tag;
  const logFile = o.logDir && path.join(o.logDir, `${tag.replace(/[^A-Za-z0-9._-]/g, '_')}.log`);
  const build = shared(`${o.host}\u0000build\u0000${tag}`, o, async (signal, progress) => {
    // Base images missing on the host are pulled first, with credentials and progress (the build itself is not given any).
    for (const base of baseImagesOf(await fs.promises.readFile(ctx.dockerfile, 'utf8'))) await ensureImage(docker, base, { ...o, signal, onProgress: progress });
    return runBuild(docker, ctx, tag, { ...o, signal, onProgress: progress }, logFile, fail);
  });
  const log = await build;
  // Another run's attempt started this build: its log goes to this run's folder too.
  if (logFile && log.file !== logFile) await copyLog(log.file, logFile, log.text);
  return tag;
}

/** What a finished (or failed) build leaves: where its log was written, and the log. */
interface BuildLog {
  file?: string;
  text: string;
}

async function copyLog(from: string | undefined, to: string, text: string): Promise<void> {
  await fs.promises.mkdir(path.dirname(to), { recursive: true });
  if (from) await fs.promises.copyFile(from, to);
  else await fs.promises.writeFile(to, text);
}

/** One build through the engine's /build (the classic builder's JSON stream). */
async function runBuild(docker: Docker, ctx: Awaited<ReturnType<typeof readBuildContext>>, tag: string, o: ImageOptions, logFile: string | undefined, fail: (why: string) => ImageError): Promise<BuildLog> {
  o.onProgress?.(`building ${ctx.dockerfile} as ${tag}`);
  let text = '';
  let out: fs.WriteStream | undefined;
  if (logFile) {
    await fs.promises.mkdir(path.dirname(logFile), { recursive: true });
    out = fs.createWriteStream(logFile);
    // The build goes on without its log file (disk full…): said once, where its progress goes.
    out.on('error', (err) => {
      out = undefined;
      o.onProgress?.(`build log ${logFile} not written: ${err.message}`);
    });
  }
  const write = (s: string) => {
    text += s;
    out?.write(s);
  };
  write(`# trajlab: docker build of ${ctx.dockerfile} (context ${ctx.dir}, ${ctx.entries.length} entries, sha256 ${ctx.hash}) as ${tag} on ${o.host}\n`);
  let step = '';
  try {
    const stream = (await docker.buildImage(packBuildContext(ctx) as unknown as NodeJS.ReadableStream, {
      t: tag,
      dockerfile: ctx.dockerfileName,
      labels: { [LABEL_CONTEXT_HASH]: ctx.hash },
      rm: true,
      forcerm: true,
      abortSignal: o.signal,
    } as Docker.ImageBuildOptions)) as NodeJS.ReadableStream;
    await followProgress<BuildEvent>(docker, stream, o.signal, (e) => {
      if (e.stream) {
        write(e.stream);
        const m = /^Step \d+\/\d+ : .*/m.exec(e.stream);
        if (m) {
          step = m[0];
          o.onProgress?.(`building ${tag}: ${step.slice(0, 200)}`);
        }
      }
      if (e.status) write(`${e.id ? `${e.id}: ` : ''}${e.status}\n`);
      if (e.error || e.errorDetail?.message) write(`ERROR: ${e.errorDetail?.message ?? e.error}\n`);
    });
    write(`# trajlab: built ${tag}\n`);
    o.onProgress?.(`built ${tag}`);
  } catch (err) {
    if (err instanceof AbortedError || o.signal.aborted) {
      write(`# trajlab: build stopped (${String(o.signal.reason)})\n`);
      throw err instanceof AbortedError ? err : new AbortedError(String(o.signal.reason));
    }
    const message = engineMessage(err);
    write(`# trajlab: build failed: ${message}\n`);
    throw fail(`${step ? `${step}: ` : ''}${message}${logFile ? ` (build log: ${logFile})` : ''}`);
  } finally {
    await new Promise<void>((resolve) => (out ? out.end(resolve) : resolve()));
  }
  return { file: logFile, text };
}

/** One event of the classic builder's stream (Docker Engine API, POST /build). */
interface BuildEvent {
  stream?: string;
  status?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * The images a Dockerfile's `FROM` lines name (Dockerfile reference, FROM: `FROM [--platform=…]
 * image [AS name]`), leaving out `scratch`, earlier stages' names and images with build
 * arguments (`$…`: the builder resolves those itself).
 */
export function baseImagesOf(dockerfile: string): string[] {
  const stages = new Set<string>();
  const images: string[] = [];
  // Line continuations joined first (a backslash at the end of a line).
  for (const line of dockerfile.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    const m = /^\s*FROM\s+(.*)$/i.exec(line);
    if (!m) continue;
    const words = m[1]!.trim().split(/\s+/).filter((w) => !w.startsWith('--'));
    const image = words[0];
    const known = !image || image.includes('$') || image.toLowerCase() === 'scratch' || stages.has(image.toLowerCase()) || images.includes(image);
    if (!known) images.push(image);
    if (words.length >= 3 && words[1]!.toLowerCase() === 'as') stages.add(words[2]!.toLowerCase());
  }
  return images;
}

/** The engine's message of a failed request, without dockerode's `(HTTP code 500) server error - ` prefix. */
function engineMessage(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string };
  const message = e?.json?.message ?? e?.message ?? String(err);
  return message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

function formatMb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
}

/** One pull or build under way on a host, shared by the attempts waiting for it. */
interface SharedWork {
  done: Promise<unknown>;
  controller: AbortController;
  listeners: Set<(text: string) => void>;
  waiters: number;
}

const underWay = new Map<string, SharedWork>();

/** Image pulls and builds under way on the Docker host named `host` (ImageOptions.host), over every run of the process. */
export function imageWorkOn(host: string): { pulls: number; builds: number } {
  const counts = { pulls: 0, builds: 0 };
  for (const key of underWay.keys()) {
    const [h, kind] = key.split('\u0000');
    if (h !== host) continue;
    if (kind === 'pull') counts.pulls++;
    else counts.builds++;
  }
  return counts;
}

/**
 * Runs `work` once for every caller that asks for the same `key` while it is under way; each
 * caller gets its progress texts from then on and its result. A caller whose signal fires stops
 * waiting (AbortedError); the work itself is stopped only when no caller is left waiting.
 */
function shared<T>(key: string, o: ImageOptions, work: (signal: AbortSignal, progress: (text: string) => void) => Promise<T>): Promise<T> {
  // A caller that already gave up starts nothing. Every work started below gets its first
  // waiter's handler at once, so its failure always reaches someone (no catch-all needed).
  if (o.signal.aborted) return Promise.reject(new AbortedError(String(o.signal.reason)));
  let w = underWay.get(key);
  // One that every waiter gave up is still settling: a new caller starts afresh.
  if (!w || w.controller.signal.aborted) {
    const controller = new AbortController();
    const listeners = new Set<(text: string) => void>();
    const progress = (text: string) => {
      for (const l of listeners) l(text);
    };
    const entry: SharedWork = { done: Promise.resolve(), controller, listeners, waiters: 0 };
    entry.done = work(controller.signal, progress).finally(() => {
      if (underWay.get(key) === entry) underWay.delete(key);
    });
    underWay.set(key, (w = entry));
  }
  const work_ = w;
  const listener = (text: string) => o.onProgress?.(text);
  work_.listeners.add(listener);
  work_.waiters++;
  return new Promise<T>((resolve, reject) => {
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      o.signal.removeEventListener('abort', onAbort);
      work_.listeners.delete(listener);
      work_.waiters--;
    };
    const onAbort = () => {
      if (left) return;
      leave();
      if (work_.waiters === 0) work_.controller.abort(o.signal.reason);
      reject(new AbortedError(String(o.signal.reason)));
    };
    o.signal.addEventListener('abort', onAbort, { once: true });
    (work_.done as Promise<T>).then(
      (v) => {
        leave();
        resolve(v);
      },
      (err: unknown) => {
        leave();
        reject(err);
      },
    );
  });
}
