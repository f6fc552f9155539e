/**
 * `npm run bench -- near-dedup`: near-duplicate detection (`--dedupe near`,
 * server/src/dataset/nearDuplicates.ts) over 10,000 generated trajectories of 30 steps, against
 * reading the same files the way every export and `trajlab stats` reads them (read + JSON.parse
 * + the trajectory checks, dataset/reader.ts), measured in the same process.
 *
 * The trajectories: 2,000 tasks of 5 attempts; three attempts of a task are reruns of one
 * SWE-style session (other paths and numbers, one extra command: test/helpers/nearCopies.ts),
 * two are reruns of another approach (so 3 near-duplicates a task); every step has ~500 bytes
 * of output (~35 KB a file). The
 * near-dedup is `scanSources` with `dedupe: 'near'` (what `trajlab stats --dedupe near` and the
 * first pass of `trajlab export --dedupe near` do: read, summarise with flags and MinHash
 * signatures, then LSH). Targets: < 10 s, and ≤ 2× the reading, both in one thread
 * (`TRAJLAB_SCAN_THREADS=1`, like for like with the reading; the scan threads' time, what
 * `trajlab stats` takes on this machine, is printed for information). Best of two runs each,
 * interleaved, after a warm-up on 1,000 (page cache, JIT). The whole `export --dedupe near` (two
 * passes and the writing) is printed for information.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Trajectory } from '../common/src/trajectory';
import { readSources } from '../server/src/dataset/reader';
import { listSources } from '../server/src/dataset/sources';
import { exportTrajectories } from '../server/src/export/dataset';
import { scanSources } from '../server/src/stats/stats';
import { baseCommands, nearCopy, otherApproach, otherApproachCommands } from '../test/helpers/nearCopies';
import { finishedTrajectory } from '../test/helpers/trajectories';

/** `TRAJLAB_BENCH_NEAR_SCALE=0.1` runs it on a tenth (a quick check). */
const SCALE = Number(process.env.TRAJLAB_BENCH_NEAR_SCALE ?? 1) || 1;
const N = Math.round(10_000 * SCALE);
const ATTEMPTS = 5;

/** Trajectory `i`: attempt i mod 5 of task ⌊i / 5⌋, 30 steps plus the submit, ~500 bytes of output a step. */
function trajectory(i: number): Trajectory {
  const taskId = `bench-${String(Math.floor(i / ATTEMPTS)).padStart(5, '0')}`;
  const a = i % ATTEMPTS;
  let t: Trajectory;
  if (a < 3) {
    t = nearCopy(i, { taskId, runId: 'near-bench', reward: a === 0 ? 1 : 0 });
    t.steps = t.steps.slice(0, 30).concat(t.steps.slice(-1));
  } else {
    // 12 commands of another approach, then 18 of the session in another order.
    const actions = [...otherApproachCommands(i), ...baseCommands(i).reverse().slice(0, 18), { kind: 'submit' as const }];
    t = finishedTrajectory({ taskId, runId: 'near-bench', actions, diff: otherApproach(i).result!.diff });
  }
  t.attempt = a + 1;
  for (const s of t.steps) {
    for (const o of s.observations) {
      o.stdout = `${s.index}: ${'collected 12 items\n'.repeat(4)}${'tests/test_dates.py::test_case PASSED\n'.repeat(10)}`;
      o.output_bytes = o.stdout.length;
    }
  }
  t.messages = t.messages.map((m) => (m.role === 'tool' ? { ...m, content: `<returncode>0</returncode>\n<output>\n${t.steps[0]!.observations[0]!.stdout}</output>` } : m));
  t.totals.steps = t.steps.length;
  return t;
}

/** Writes run `near-bench` of `n` trajectories (`trajectory(i)`) into `dir`; returns the bytes written. Also the diversity bench's input. */
export function makeRun(dir: string, n: number): number {
  fs.mkdirSync(path.join(dir, 'trajectories'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ run_id: 'near-bench', status: 'finished', created_at: '2025-01-01T00:00:00Z', options: { model: 'openai:bench' }, trajlab_version: '0.1.0' }));
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const f = path.join(dir, 'trajectories', `t${String(i).padStart(5, '0')}.json`);
    fs.writeFileSync(f, JSON.stringify(trajectory(i), null, 2));
    bytes += fs.statSync(f).size;
  }
  return bytes;
}

/** Reads every trajectory of `runDir` as statistics do (no sha256); returns how many were read. */
export async function readAll(runDir: string): Promise<number> {
  const { files } = await listSources([runDir]);
  let n = 0;
  for await (const r of readSources(files, undefined, { hash: false })) if (r.ok) n++;
  return n;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

const fmt = (x: number, d = 2) => x.toFixed(d);
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

/** Runs the near-dedup benchmark and prints its figures. */
export async function nearDedupBench(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-bench-near-'));
  try {
    const run = path.join(root, 'runs', 'near-bench');
    const warm = path.join(root, 'runs', 'warm');
    let t0 = performance.now();
    const bytes = makeRun(run, N);
    makeRun(warm, Math.min(N, 1_000));
    console.log(`near-dedup: generated ${N.toLocaleString('en-US')} trajectories of 30 steps, ${fmt(bytes / 1e6, 0)} MB, in ${fmt((performance.now() - t0) / 1000, 1)} s`);
    const near = { dedupe: 'near' as const, includeUnfinished: true, keepTampered: true };
    await readAll(warm);
    await scanSources([warm], near);
    const threadsBefore = process.env.TRAJLAB_SCAN_THREADS;
    process.env.TRAJLAB_SCAN_THREADS = '1';
    let readMs = Infinity;
    let scanMs = Infinity;
    let nearMs = Infinity;
    let dropped = 0;
    for (let i = 0; i < 2; i++) {
      const r = await timed(() => readAll(run));
      if (r.value !== N) throw new Error(`read ${r.value} of ${N} trajectories`);
      readMs = Math.min(readMs, r.ms);
      scanMs = Math.min(scanMs, (await timed(() => scanSources([run], { includeUnfinished: true, keepTampered: true }))).ms);
      const s = await timed(() => scanSources([run], near));
      nearMs = Math.min(nearMs, s.ms);
      dropped = s.value.droppedByReason.near_duplicate ?? 0;
    }
    if (threadsBefore === undefined) delete process.env.TRAJLAB_SCAN_THREADS;
    else process.env.TRAJLAB_SCAN_THREADS = threadsBefore;
    const threaded = await timed(() => scanSources([run], near));
    console.log(`near-dedup: with scan threads (${os.availableParallelism()} CPUs) ${fmt(threaded.ms / 1000)} s → ${fmt(nearMs / threaded.ms)}× one thread (information)`);
    console.log(`near-dedup: of which summaries and flags without signatures (what \`trajlab stats\` does) ${fmt(scanMs / 1000)} s (information)`);
    // Recall: two reruns of each task's first session and one of its other approach should go.
    const expected = Math.floor(N / ATTEMPTS) * 3;
    console.log(`near-dedup: reading ${fmt(readMs / 1000)} s; near-dedup (read, summarise, sign, LSH) ${fmt(nearMs / 1000)} s; ${dropped.toLocaleString('en-US')} near-duplicates dropped of ${expected.toLocaleString('en-US')} planted (${fmt((100 * dropped) / expected, 1)}%; the reruns are at Jaccard ~0.83–0.91, where 128 hash functions read under 0.8 now and then, and a task has only 3)`);
    console.log(`near-dedup: ${fmt(nearMs / 1000)} s for ${N.toLocaleString('en-US')} (target < 10 s) ${verdict(nearMs < 10_000)}; ratio near-dedup/reading = ${fmt(nearMs / readMs)}× (target ≤ 2×) ${verdict(nearMs / readMs <= 2)}`);
    const out = path.join(root, 'out');
    const plain = await timed(() => exportTrajectories([run], { format: 'openai', out: path.join(out, 'plain.jsonl'), overwrite: true }));
    const dedup = await timed(() => exportTrajectories([run], { format: 'openai', out: path.join(out, 'near.jsonl'), overwrite: true, filters: { dedupe: 'near' } }));
    console.log(`near-dedup: export to OpenAI JSONL ${fmt(plain.ms / 1000)} s; with --dedupe near (two passes) ${fmt(dedup.ms / 1000)} s, ${dedup.value.manifest.counts.kept.toLocaleString('en-US')} kept (information)`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) {
  nearDedupBench().catch((err: Error) => {
    console.error(`bench: ${err.message}`);
    process.exit(1);
  });
}
