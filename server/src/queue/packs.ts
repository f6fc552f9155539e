/**
 * Packs: the files of the coordinator's machine that a queued attempt needs, stored in Redis by
 * content so that a worker on any machine can run it (issue 18, "Workspaces").
 *
 * What a task may need of the coordinator's machine (every path relative to the tasks file's
 * folder, or absolute): a local repository (`workspace.repo` as a path or a `file://` URL), the
 * folders of `eval.files`, `solution.files` and each step's `files` / `eval.files` /
 * `solution.files`, `images`, and a Dockerfile with its build context (`environment`). The
 * coordinator packs each once per run (packTask) into a gzipped tar stored under
 * `trajlab:pack:<sha256 of the bytes>` (storePack; the same bytes are stored once); the job
 * carries only the references (TaskPacks). The worker fetches each pack once, checks its
 * SHA-256, unpacks it into its scratch folder and runs the task with those paths put in
 * (PackCache.localTask); what it reports names the coordinator's paths again (coordinatorTask,
 * the message images of imagePathsBack).
 *
 * A repository is packed as the local run would check it out: a clone at `base_commit`
 * (runtime/workspace.ts prepareWorkspace) with its `.git`, so the worker's clone of the pack has
 * the same commits and the same base commit hash, and the agent sees the same history as in a
 * local run. (`git archive` would be smaller, but it drops the history and, through
 * `export-ignore` attributes, files a local run has.) A folder that is no repository is packed as
 * it is; the worker snapshots it exactly as a local run does.
 *
 * A pack over the limit (`--queue-pack-limit-mb`, setting `trajlab.queue.packLimitMb`) fails its
 * task with a PackTooLargeError naming that setting.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable, Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import type IORedis from 'ioredis';
import * as tarFs from 'tar-fs';
import { workspaceInImage, type EvalFiles, type Task, type TaskFiles } from '../../../common/src/task';
import type { ChatMessage } from '../../../common/src/trajectory';
import { isGitUrl, prepareWorkspace } from '../runtime/workspace';
import type { Logger } from '../util/log';

/** How long a pack stays in Redis after the last run that stored it, seconds (7 days). */
export const PACK_TTL_SEC = 7 * 24 * 3600;

/** The default of `--queue-pack-limit-mb`: the largest pack, MiB. */
export const DEFAULT_PACK_LIMIT_MB = 256;

/** One stored pack: the SHA-256 (lowercase hex) of its bytes, their count, and what it holds. */
export interface PackRef {
  sha256: string;
  bytes: number;
  /** A folder's contents, or one file (stored under its base name). */
  kind: 'folder' | 'file';
}

/** The packs of one task (AttemptJobData.packs). */
export interface TaskPacks {
  /** The repository at its base commit (a clone with `.git`), and that commit's full hash. */
  repo?: PackRef & { base_commit: string };
  /** Each other path the task names, as written in the task (`images`, `files`, `environment`). */
  paths: Record<string, PackRef>;
}

/** A pack over the size limit. */
export class PackTooLargeError extends Error {}

/** A local path the task names, with what it is for (in messages) and whether it is a file or a folder. */
interface NamedPath {
  written: string;
  kind: 'folder' | 'file';
  what: string;
}

/** True when `task.workspace.repo` is on the coordinator's machine: a path, or a `file://` URL. */
export function hasLocalRepo(task: Task): boolean {
  const repo = task.workspace?.repo;
  return repo !== undefined && !workspaceInImage(task.workspace) && (!isGitUrl(repo) || repo.startsWith('file://'));
}

/** The `from` of each entry of `files`. */
function fromsOf(files: TaskFiles | undefined): string[] {
  if (files === undefined) return [];
  return (Array.isArray(files) ? files : [files]).map((e) => (typeof e === 'string' ? e : e.from));
}

/** Every local path `task` names besides its repository, in task order (duplicates kept). */
function namedPaths(task: Task): NamedPath[] {
  const out: NamedPath[] = [];
  const folders = (files: TaskFiles | undefined, what: string) => {
    for (const written of fromsOf(files)) out.push({ written, kind: 'folder', what });
  };
  const ev = typeof task.eval === 'object' && !Array.isArray(task.eval) ? task.eval : undefined;
  folders(ev?.files, 'eval.files');
  folders(task.solution?.files, 'solution.files');
  for (const [i, s] of (task.steps ?? []).entries()) {
    folders(s.files, `steps[${i}].files`);
    folders(typeof s.eval === 'object' && !Array.isArray(s.eval) ? s.eval.files : undefined, `steps[${i}].eval.files`);
    folders(s.solution?.files, `steps[${i}].solution.files`);
  }
  for (const written of task.images ?? []) out.push({ written, kind: 'file', what: 'images' });
  const env = task.environment;
  if (env?.dockerfile) {
    out.push({ written: env.dockerfile, kind: 'file', what: 'environment.dockerfile' });
    out.push({ written: env.context ?? path.dirname(env.dockerfile), kind: 'folder', what: 'environment.context' });
  }
  return out;
}

/** True when `task` needs anything of the coordinator's machine (a local repository or any other named path). */
export function needsPacks(task: Task): boolean {
  return hasLocalRepo(task) || namedPaths(task).length > 0;
}

/**
 * Packs `path` (a folder's contents, or one file under its base name) as a gzipped tar with fixed
 * times and owners, in name order, so that the same tree gives the same bytes. Errors:
 * PackTooLargeError past `limitBytes` (naming `what` and the setting), the path cannot be read.
 */
export async function packPath(source: string, kind: 'folder' | 'file', limitBytes: number, what: string): Promise<Buffer> {
  const stat = await fs.promises.stat(source).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`${what}: cannot read ${source}: ${err.code === 'ENOENT' ? 'it does not exist' : err.message}`);
  });
  if (kind === 'folder' && !stat.isDirectory()) throw new Error(`${what}: ${source} is not a folder`);
  if (kind === 'file' && !stat.isFile()) throw new Error(`${what}: ${source} is not a file`);
  const tar = tarFs.pack(kind === 'folder' ? source : path.dirname(source), {
    ...(kind === 'file' ? { entries: [path.basename(source)] } : {}),
    sort: true,
    map: (h) => ({ ...h, mtime: new Date(0), uid: 0, gid: 0, uname: '', gname: '' }),
  } as tarFs.PackOptions) as unknown as Readable;
  const chunks: Buffer[] = [];
  let bytes = 0;
  await pipeline(
    tar,
    zlib.createGzip(),
    new Writable({
      write(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        if (bytes > limitBytes) done(new PackTooLargeError(`${what} (${source}) packs to more than ${mib(limitBytes)} MiB, the queue's limit: raise --queue-pack-limit-mb (VS Code: trajlab.queue.packLimitMb), or put it in the task's image or a git URL the workers clone`));
        else {
          chunks.push(chunk);
          done();
        }
      },
    }),
  );
  return Buffer.concat(chunks);
}

function mib(bytes: number): string {
  return String(Math.round((bytes / 2 ** 20) * 10) / 10);
}

/** The Redis key of the pack whose bytes hash to `sha256`. */
export function packKey(sha256: string): string {
  return `trajlab:pack:${sha256}`;
}

/** Stores `data` under its SHA-256 (once: existing bytes are kept) for PACK_TTL_SEC; returns its reference. */
export async function storePack(redis: IORedis, data: Buffer, kind: PackRef['kind']): Promise<PackRef> {
  const sha256 = createHash('sha256').update(data).digest('hex');
  const stored = await redis.set(packKey(sha256), data, 'EX', PACK_TTL_SEC, 'NX');
  if (stored === null) await redis.expire(packKey(sha256), PACK_TTL_SEC);
  return { sha256, bytes: data.length, kind };
}

/**
 * Packs and stores what `task` needs of this machine (see the file comment), each distinct
 * source once per `memo` (one per run). `tasksDir` resolves relative paths; `cacheDir` holds
 * clones of `file://` repositories. Errors: PackTooLargeError; a path that cannot be read;
 * the repository or its base commit cannot be checked out (prepareWorkspace's message).
 */
export async function packTask(
  redis: IORedis,
  task: Task,
  o: { tasksDir: string; cacheDir: string; limitBytes: number; memo: Map<string, Promise<PackRef & { base_commit?: string }>> },
): Promise<TaskPacks> {
  const once = (key: string, make: () => Promise<PackRef & { base_commit?: string }>) => {
    let p = o.memo.get(key);
    if (!p) o.memo.set(key, (p = make()));
    return p;
  };
  const packs: TaskPacks = { paths: {} };
  if (hasLocalRepo(task)) {
    const ws = task.workspace!;
    const repo = ws.repo!;
    const source = repo.startsWith('file://') ? repo : path.resolve(o.tasksDir, repo);
    const ref = await once(`repo\0${source}\0${ws.base_commit ?? ''}`, async () => {
      const prepared = await prepareWorkspace({ repo: source, ...(ws.base_commit ? { base_commit: ws.base_commit } : {}) }, o.tasksDir, o.cacheDir);
      try {
        const data = await packPath(prepared.dir, 'folder', o.limitBytes, `workspace.repo ${JSON.stringify(repo)}`);
        return { ...(await storePack(redis, data, 'folder')), base_commit: prepared.baseCommit };
      } finally {
        await prepared.dispose();
      }
    });
    packs.repo = { sha256: ref.sha256, bytes: ref.bytes, kind: ref.kind, base_commit: ref.base_commit! };
  }
  for (const p of namedPaths(task)) {
    if (packs.paths[p.written]) continue;
    const source = path.resolve(o.tasksDir, p.written);
    const ref = await once(`${p.kind}\0${source}`, async () => storePack(redis, await packPath(source, p.kind, o.limitBytes, `${p.what} ${JSON.stringify(p.written)}`), p.kind));
    packs.paths[p.written] = { sha256: ref.sha256, bytes: ref.bytes, kind: ref.kind };
  }
  return packs;
}

/** A job's task with its files where they lie on this worker (PackCache.localTask). */
export interface LocalTask {
  task: Task;
  /** Each local image path → the path as written in the task. */
  images: Map<string, string>;
  /** Lets the packs go: they may be removed once no other attempt holds them. Idempotent. */
  release(): void;
}

/** Default disk budget of a worker's unpacked packs, bytes (`trajlab worker --pack-cache-mib`). */
export const DEFAULT_PACK_CACHE_BYTES = 4 * 1024 ** 3;

/** One unpacked pack: where, its size on disk once unpacked, the attempts holding it, when it was last taken. */
interface Unpacked {
  at: Promise<string>;
  bytes: number;
  holds: number;
  used: number;
}

/**
 * A worker's packs: each fetched from Redis once, checked and unpacked under `dir`
 * (`<dir>/<sha256>/`), and reused by every attempt that needs it. Attempts hold the packs of
 * their task (localTask … release); once the unpacked packs take more than `budgetBytes` of
 * disk, the least recently taken ones that no attempt holds are removed (and fetched again if a
 * later job needs them). Packs held by running attempts are never removed, so the budget can be
 * exceeded while they run.
 */
export class PackCache {
  private readonly unpacked = new Map<string, Unpacked>();
  private clock = 0;

  constructor(
    private readonly redis: IORedis,
    private readonly dir: string,
    private readonly budgetBytes = DEFAULT_PACK_CACHE_BYTES,
    private readonly logger?: Logger,
  ) {}

  /** Bytes on disk of the unpacked packs (those still unpacking count 0). */
  get diskBytes(): number {
    let n = 0;
    for (const u of this.unpacked.values()) n += u.bytes;
    return n;
  }

  /**
   * `task` with each packed path replaced by where its pack lies here (the repository's
   * `base_commit` by the full hash the coordinator resolved), the map from each local image
   * path back to the path as written, and `release`, to call once the attempt no longer reads
   * them (the packs are held until then). Errors: a pack gone from Redis (expired: run the
   * coordinator again), or whose bytes do not hash to its name (the packs taken so far are let go).
   */
  async localTask(task: Task, packs: TaskPacks): Promise<LocalTask> {
    const held: string[] = [];
    const release = () => {
      for (const sha of held.splice(0)) {
        const u = this.unpacked.get(sha);
        if (u) u.holds--;
      }
      void this.evict();
    };
    try {
      return { ...(await this.withLocalPaths(task, packs, held)), release };
    } catch (err) {
      release();
      throw err;
    }
  }

  private async withLocalPaths(task: Task, packs: TaskPacks, held: string[]): Promise<Omit<LocalTask, 'release'>> {
    const hold = (ref: PackRef): Promise<string> => {
      held.push(ref.sha256);
      return this.fetch(ref);
    };
    const local = async (written: string): Promise<string> => {
      const ref = packs.paths[written];
      if (!ref) return written;
      const at = await hold(ref);
      return ref.kind === 'file' ? path.join(at, path.basename(written)) : at;
    };
    const files = async (f: TaskFiles | undefined): Promise<TaskFiles | undefined> => {
      if (f === undefined) return undefined;
      const one = async (e: string | EvalFiles) => (typeof e === 'string' ? local(e) : { ...e, from: await local(e.from) });
      return Array.isArray(f) ? Promise.all(f.map(one)) : one(f);
    };
    const out: Task = structuredClone(task);
    if (packs.repo) out.workspace = { ...out.workspace, repo: await hold(packs.repo), base_commit: packs.repo.base_commit };
    if (typeof out.eval === 'object' && !Array.isArray(out.eval) && out.eval.files) out.eval.files = await files(out.eval.files);
    if (out.solution?.files) out.solution.files = await files(out.solution.files);
    for (const s of out.steps ?? []) {
      if (s.files) s.files = await files(s.files);
      if (typeof s.eval === 'object' && !Array.isArray(s.eval) && s.eval.files) s.eval.files = await files(s.eval.files);
      if (s.solution?.files) s.solution.files = await files(s.solution.files);
    }
    const images = new Map<string, string>();
    if (out.images) out.images = await Promise.all(out.images.map(async (w) => {
      const at = await local(w);
      images.set(at, w);
      return at;
    }));
    if (out.environment?.dockerfile) {
      const { dockerfile, context } = task.environment!;
      out.environment = { dockerfile: await local(dockerfile), context: await local(context ?? path.dirname(dockerfile)) };
    }
    return { task: out, images };
  }

  /** The folder holding the unpacked `ref` (fetched and unpacked on first use), held once more. */
  private fetch(ref: PackRef): Promise<string> {
    let u = this.unpacked.get(ref.sha256);
    if (!u) {
      const entry: Unpacked = { at: Promise.resolve(''), bytes: 0, holds: 0, used: 0 };
      // A failure is told to this caller, and forgotten: the next one tries again.
      entry.at = this.unpack(ref).then(
        async (at) => {
          try {
            entry.bytes = await folderBytes(at);
          } catch (err) {
            // Unmeasured, it counts as the pack's own size: the budget stays roughly right.
            entry.bytes = ref.bytes;
            this.logger?.warn(`could not measure the unpacked pack ${ref.sha256.slice(0, 12)}: ${(err as Error).message}`);
          }
          return at;
        },
        (err: unknown) => {
          if (this.unpacked.get(ref.sha256) === entry) this.unpacked.delete(ref.sha256);
          throw err;
        },
      );
      this.unpacked.set(ref.sha256, (u = entry));
    }
    u.holds++;
    u.used = ++this.clock;
    return u.at;
  }

  /**
   * Removes the least recently taken unpacked packs that no attempt holds until the rest fit in
   * the budget. A removal that fails is logged; the pack is forgotten all the same (a later
   * unpack of it starts by clearing its folder).
   */
  private async evict(): Promise<void> {
    let over = this.diskBytes - this.budgetBytes;
    if (over <= 0) return;
    const idle = [...this.unpacked].filter(([, u]) => u.holds === 0 && u.bytes > 0).sort(([, a], [, b]) => a.used - b.used);
    for (const [sha, u] of idle) {
      if (over <= 0) break;
      // Taken again (or already removed by another eviction) since the list was made: it stays.
      if (this.unpacked.get(sha) !== u || u.holds > 0) continue;
      this.unpacked.delete(sha);
      over -= u.bytes;
      // A fetch of this pack that comes now waits for the removal before it unpacks into the same folder.
      const removal = fs.promises.rm(path.join(this.dir, sha), { recursive: true, force: true }).catch((err: Error) => {
        this.logger?.warn(`could not remove the unpacked pack ${sha.slice(0, 12)}: ${err.message}`);
      });
      this.removing.set(sha, removal);
      await removal;
      if (this.removing.get(sha) === removal) this.removing.delete(sha);
    }
  }

  /** Removals of evicted packs under way, by SHA-256. */
  private readonly removing = new Map<string, Promise<void>>();

  private async unpack(ref: PackRef): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(ref.sha256)) throw new Error(`a pack named ${JSON.stringify(ref.sha256)} is no SHA-256`);
    const data = await this.redis.getBuffer(packKey(ref.sha256));
    if (!data) throw new Error(`the pack ${ref.sha256.slice(0, 12)} (${mib(ref.bytes)} MiB) is gone from the queue's Redis (kept ${PACK_TTL_SEC / 86400} days): resume the run on the coordinator, which stores it again`);
    const got = createHash('sha256').update(data).digest('hex');
    if (got !== ref.sha256) throw new Error(`the pack ${ref.sha256.slice(0, 12)} in Redis does not hash to its name (got ${got.slice(0, 12)}): refusing it`);
    const at = path.join(this.dir, ref.sha256);
    await this.removing.get(ref.sha256);
    await fs.promises.rm(at, { recursive: true, force: true });
    await fs.promises.mkdir(at, { recursive: true });
    await pipeline(Readable.from([data]), zlib.createGunzip(), tarFs.extract(at, { validateSymlinks: true } as tarFs.ExtractOptions));
    return at;
  }
}

/** Bytes of the regular files under `dir` (its size on disk, near enough: block rounding left out). */
async function folderBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await fs.promises.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += (await fs.promises.lstat(path.join(e.parentPath, e.name))).size;
  }
  return n;
}

/**
 * `messages` with each image path of this worker (keys of `images`, from PackCache.localTask)
 * replaced by the coordinator's path of the same file (the path as written, resolved against
 * `tasksDir`, the coordinator's tasks folder), as a local run records it. Messages without such
 * images are returned as they are.
 */
export function imagePathsBack(messages: ChatMessage[], images: Map<string, string>, tasksDir: string): ChatMessage[] {
  if (!images.size) return messages;
  return messages.map((m) =>
    m.images?.some((i) => images.has(i.path)) ? { ...m, images: m.images.map((i) => (images.has(i.path) ? { ...i, path: path.resolve(tasksDir, images.get(i.path)!) } : i)) } : m,
  );
}
