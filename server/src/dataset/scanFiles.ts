/**
 * Scanning trajectory files for statistics (`trajlab stats`, the Dataset view): each file is
 * read, summarised (summary.ts), put through the per-trajectory filters (select.ts) and, when it
 * stays, MinHash-signed (nearDuplicates.ts) and scanned for secrets (secretScan.ts). Only the
 * summaries come back, so the work can be spread over worker threads (scanWorker.ts): reading
 * and parsing JSON is most of the time, and it is per file.
 *
 * Threads: `os.availableParallelism()` of them (at most 8; `TRAJLAB_SCAN_THREADS=N` sets it, 1
 * scans in this thread), for 200 files or more (fewer are not worth a thread's start-up of
 * ~0.2 s). Files go out in batches, at most 4 batches a thread ahead, and come back in source
 * order: memory holds a few batches of summaries, whatever the number of files.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DropReason, SelectionFilters } from '../../../common/src/dataset';
import type { Trajectory } from '../../../common/src/trajectory';
import { AbortedError, throwIfAborted } from '../util/abort';
import { NearSigner } from './nearDuplicates';
import { readSourceFile, readSources, type ReadResult } from './reader';
import { scanTrajectory, type TrajectoryScan } from './secretScan';
import { acrossSigner, compileFilter, type TrajectoryFilter } from './select';
import type { RunContext, SourceFile } from './sources';
import { summarize, type TrajectorySummary } from './summary';

/** What to do with each file. Structured-clonable (it is sent to the threads). */
export interface ScanJob {
  filters: SelectionFilters;
  /** MinHash-sign every kept trajectory (TrajectorySummary.near), whatever the filters' dedupe (which signs when it needs to). */
  near: boolean;
  /** Scan the kept trajectories for secrets (counts and where only, never the text). */
  secrets: boolean;
}

/** One file scanned: why it is not a trajectory, or its summary and what the filters and the secret scan said. */
export type FileScan =
  | { ok: false; file: string; reason: 'corrupt' | 'not_a_trajectory'; detail: string }
  | { ok: true; summary: TrajectorySummary; drop?: DropReason; leaks?: TrajectoryScan };

/** The per-file work, set up once per thread. */
export class FileScanner {
  private constructor(
    private readonly filter: TrajectoryFilter,
    /** What selection across the trajectories needs (select.ts acrossSigner: near-dedup signatures, diversity features). */
    private readonly across: ((s: TrajectorySummary, t: Trajectory) => void) | undefined,
    private readonly signer: NearSigner | undefined,
    private readonly secrets: boolean,
  ) {}

  static async create(job: ScanJob): Promise<FileScanner> {
    return new FileScanner(compileFilter(job.filters), await acrossSigner(job.filters), job.near ? await NearSigner.create() : undefined, job.secrets);
  }

  /** Scans read file `r`, the `index`th of the sources. */
  async scan(r: ReadResult, index: number): Promise<FileScan> {
    if (!r.ok) return { ok: false, file: r.source.file, reason: r.reason, detail: r.detail };
    const summary = summarize(r.trajectory, r.source.file, r.sha256, index, r.source.run);
    const d = this.filter(summary);
    if (d) return { ok: true, summary, drop: d.reason };
    this.across?.(summary, r.trajectory);
    if (this.signer && !summary.near) summary.near = this.signer.sign(r.trajectory);
    if (!this.secrets) return { ok: true, summary };
    const found = await scanTrajectory(r.trajectory, { redact: false });
    return found.findings.length ? { ok: true, summary, leaks: found } : { ok: true, summary };
  }
}

/** Files per message to a thread. */
const BATCH = 8;
/** Batches a thread may have waiting. */
const AHEAD = 4;
/** Fewer files than this are scanned in this thread. */
const MIN_FILES_FOR_THREADS = 200;

/** Messages to a scan thread (scanWorker.ts). */
export type ToScanThread =
  | { kind: 'init'; job: ScanJob; runs: RunContext[] }
  | { kind: 'batch'; batch: number; files: { index: number; file: string; walked: boolean; run: number }[] };
/** Messages from a scan thread. */
export type FromScanThread = { kind: 'batch'; batch: number; results: FileScan[] } | { kind: 'error'; message: string };

/** How many threads to scan `files` files with (1: this thread). */
export function scanThreads(files: number): number {
  const env = process.env.TRAJLAB_SCAN_THREADS;
  const wanted = env !== undefined && /^\d+$/.test(env) ? Number(env) : Math.min(8, os.availableParallelism());
  return files < MIN_FILES_FOR_THREADS ? 1 : Math.max(1, wanted);
}

/**
 * The thread's script: scanWorker.js beside the bundle (dist/, built by scripts/build.mjs), or
 * scanWorker.ts beside this file when running from sources (tests, benches: the thread then
 * loads tsx's CommonJS hook, as `--import tsx` does not reach threads in Node 20). Undefined
 * when it is missing.
 */
function threadScript(): { file: string; execArgv?: string[] } | undefined {
  const fromSources = __filename.endsWith('.ts');
  const file = path.join(__dirname, fromSources ? 'scanWorker.ts' : 'scanWorker.js');
  if (!fs.existsSync(file)) return undefined;
  return fromSources ? { file, execArgv: ['--require', 'tsx/cjs'] } : { file };
}

/**
 * Scans `files` (see the module comment), yielding one FileScan per file in their order.
 * `hooks.warn` hears why threads were not used when they would have been; `hooks.threads` how
 * many threads scan (1: this one). Throws AbortedError when `signal` fires, and Error when a
 * thread fails (the message says which file's batch).
 */
export async function* scanFiles(files: SourceFile[], job: ScanJob, signal?: AbortSignal, hooks: { warn?: (message: string) => void; threads?: (n: number) => void } = {}): AsyncGenerator<FileScan> {
  const wanted = scanThreads(files.length);
  const script = wanted > 1 ? threadScript() : undefined;
  if (wanted > 1 && !script) hooks.warn?.(`scanning in one thread: ${path.join(__dirname, 'scanWorker.js')} is missing (rebuild with npm run build)`);
  const threads = script ? Math.min(wanted, Math.ceil(files.length / BATCH)) : 1;
  hooks.threads?.(threads);
  if (!script) {
    const scanner = await FileScanner.create(job);
    let i = 0;
    for await (const r of readSources(files, signal, { hash: false })) yield await scanner.scan(r, i++);
    return;
  }
  yield* scanInThreads(files, job, threads, script, signal);
}

async function* scanInThreads(files: SourceFile[], job: ScanJob, threads: number, script: { file: string; execArgv?: string[] }, signal?: AbortSignal): AsyncGenerator<FileScan> {
  const runs: RunContext[] = [];
  const runIndex = new Map<RunContext, number>();
  for (const f of files) {
    if (f.run && !runIndex.has(f.run)) {
      runIndex.set(f.run, runs.length);
      runs.push(f.run);
    }
  }
  const batches = Math.ceil(files.length / BATCH);
  const done = new Map<number, FileScan[]>();
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  let nextBatch = 0;
  /** The batch the consumer waits for: no batch past it by more than the threads' look-ahead goes out, so results waiting for a slow batch stay few. */
  let nextYield = 0;
  const workers: { worker: Worker; waiting: number }[] = [];
  const send = (w: (typeof workers)[number]) => {
    while (w.waiting < AHEAD && nextBatch < batches && nextBatch < nextYield + threads * AHEAD) {
      const b = nextBatch++;
      const slice = files.slice(b * BATCH, (b + 1) * BATCH).map((f, k) => ({ index: b * BATCH + k, file: f.file, walked: f.walked, run: f.run ? runIndex.get(f.run)! : -1 }));
      w.worker.postMessage({ kind: 'batch', batch: b, files: slice } satisfies ToScanThread);
      w.waiting++;
    }
  };
  const onAbort = () => {
    failure ??= new AbortedError(String(signal?.reason ?? 'aborted'));
    notify();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (let t = 0; t < threads; t++) {
      const w = { worker: new Worker(script.file, { execArgv: script.execArgv }), waiting: 0 };
      workers.push(w);
      w.worker.on('message', (m: FromScanThread) => {
        if (m.kind === 'error') failure ??= new Error(`scanning trajectories: ${m.message}`);
        else {
          done.set(m.batch, m.results);
          w.waiting--;
          send(w);
        }
        notify();
      });
      w.worker.on('error', (err) => {
        failure ??= new Error(`scanning trajectories: a scan thread failed: ${err.message}`);
        notify();
      });
      w.worker.on('exit', (code) => {
        if (code !== 0) failure ??= new Error(`scanning trajectories: a scan thread exited with code ${code}`);
        notify();
      });
      w.worker.postMessage({ kind: 'init', job, runs } satisfies ToScanThread);
      send(w);
    }
    for (let b = 0; b < batches; b++) {
      while (!done.has(b)) {
        if (failure) throw failure;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      throwIfAborted(signal);
      const results = done.get(b)!;
      done.delete(b);
      nextYield = b + 1;
      for (const w of workers) send(w);
      yield* results;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    for (const w of workers) {
      w.worker.removeAllListeners('exit');
      await w.worker.terminate();
    }
  }
}

/** A scan thread's work (scanWorker.ts): answers each batch with its files' scans. */
export function serveScanThread(port: { on(event: 'message', fn: (m: ToScanThread) => void): void; postMessage(m: FromScanThread): void }): void {
  let scanner: Promise<FileScanner> | undefined;
  let runs: RunContext[] = [];
  // Batches are answered in the order they came, one at a time.
  let chain: Promise<void> = Promise.resolve();
  port.on('message', (m) => {
    if (m.kind === 'init') {
      scanner = FileScanner.create(m.job);
      runs = m.runs;
      return;
    }
    chain = chain.then(async () => {
      try {
        const s = await scanner!;
        const results: FileScan[] = [];
        for (const f of m.files) {
          const source: SourceFile = { file: f.file, walked: f.walked, run: f.run >= 0 ? runs[f.run] : undefined };
          results.push(await s.scan(await readSourceFile(source, { hash: false, sync: true }), f.index));
        }
        port.postMessage({ kind: 'batch', batch: m.batch, results });
      } catch (err) {
        port.postMessage({ kind: 'error', message: `${m.files[0]?.file ?? ''}…: ${(err as Error).stack ?? String(err)}` });
      }
    });
  });
}
