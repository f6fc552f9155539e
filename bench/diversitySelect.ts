/**
 * `npm run bench -- diversity`: diversity selection (`--select 1000 --by diversity`,
 * server/src/dataset/diversity.ts) of K = 1,000 from 10,000 generated trajectories of 30 steps
 * (bench/nearDedup.ts's run: 2,000 tasks of 5 attempts, ~35 KB a file), against reading the same
 * files the way every export and `trajlab stats` reads them, measured in the same process.
 *
 * Printed: reading; `scanSources` with `select` (read, summarise with flags, sign task text +
 * actions, k-center greedy: what `trajlab stats --select` and the first pass of
 * `trajlab export --select` do) and its ratio to the reading; the k-center greedy alone on those
 * signatures, and on 10,000 random signatures (every pair at distance ~1: the early stop of a
 * comparison never helps, the worst case). Target: the greedy alone within a few seconds (< 5 s).
 * Best of two runs each, after a warm-up on 1,000 (page cache, JIT).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SelectionFilters } from '../common/src/dataset';
import { selectDiverse, type DiversityCandidate } from '../server/src/dataset/diversity';
import { NUM_PERM } from '../server/src/dataset/nearDuplicates';
import { scanSources } from '../server/src/stats/stats';
import { makeRun, readAll, timed } from './nearDedup';

/** `TRAJLAB_BENCH_DIVERSITY_SCALE=0.1` runs it on a tenth (a quick check). */
const SCALE = Number(process.env.TRAJLAB_BENCH_DIVERSITY_SCALE ?? 1) || 1;
const N = Math.round(10_000 * SCALE);
const K = Math.round(1_000 * SCALE);

const fmt = (x: number, d = 2) => x.toFixed(d);

/** `n` candidates with uniformly random signatures (a seeded LCG: the same every run). */
function randomCandidates(n: number): DiversityCandidate[] {
  let x = 12345;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  return Array.from({ length: n }, (_, i) => ({ index: i, file: `r${i}`, key: `r${i}`, features: { signature: Uint32Array.from({ length: NUM_PERM }, () => next() >>> 6), groups: { type: 'code', repo: '(none)', difficulty: 'none' } } }));
}

/** Runs the diversity-selection benchmark and prints its figures. */
export async function diversityBench(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-bench-diversity-'));
  try {
    const run = path.join(root, 'runs', 'near-bench');
    const warm = path.join(root, 'runs', 'warm');
    const t0 = performance.now();
    const bytes = makeRun(run, N);
    makeRun(warm, Math.min(N, 1_000));
    console.log(`diversity: generated ${N.toLocaleString('en-US')} trajectories of 30 steps, ${fmt(bytes / 1e6, 0)} MB, in ${fmt((performance.now() - t0) / 1000, 1)} s`);
    const base = { includeUnfinished: true, keepTampered: true };
    const select: SelectionFilters = { ...base, select: { k: K, by: 'diversity' } };
    await readAll(warm);
    await scanSources([warm], { ...base, select: { k: Math.min(K, 100), by: 'diversity' } });
    let readMs = Infinity;
    let selectMs = Infinity;
    let radius = 0;
    for (let i = 0; i < 2; i++) {
      const r = await timed(() => readAll(run));
      if (r.value !== N) throw new Error(`read ${r.value} of ${N} trajectories`);
      readMs = Math.min(readMs, r.ms);
      const s = await timed(() => scanSources([run], select));
      if (s.value.summaries.length !== K) throw new Error(`selected ${s.value.summaries.length} of ${K}`);
      selectMs = Math.min(selectMs, s.ms);
      radius = s.value.selection!.radius;
    }
    // The greedy alone, on the same signatures (kept from one scan without the selection step).
    const { summaries } = await scanSources([run], { ...select, select: { k: N, by: 'diversity' } });
    const candidates: DiversityCandidate[] = summaries.map((s) => ({ index: s.index, file: s.file, key: s.file, features: s.diversity! }));
    let greedyMs = Infinity;
    let randomMs = Infinity;
    const random = randomCandidates(N);
    for (let i = 0; i < 2; i++) {
      greedyMs = Math.min(greedyMs, (await timed(async () => selectDiverse(candidates, { k: K, by: 'diversity' }))).ms);
      randomMs = Math.min(randomMs, (await timed(async () => selectDiverse(random, { k: K, by: 'diversity' }))).ms);
    }
    console.log(`diversity: reading ${fmt(readMs / 1000)} s; read + summarise + sign + select ${K.toLocaleString('en-US')} ${fmt(selectMs / 1000)} s (radius ${fmt(radius, 3)}); ratio select/reading = ${fmt(selectMs / readMs)}×`);
    console.log(`diversity: k-center greedy alone, K = ${K.toLocaleString('en-US')} of ${N.toLocaleString('en-US')}: ${fmt(greedyMs / 1000)} s on these signatures, ${fmt(randomMs / 1000)} s on random ones (worst case; target < 5 s) ${randomMs < 5_000 && greedyMs < 5_000 ? 'PASS' : 'MISS'}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) {
  diversityBench().catch((err: Error) => {
    console.error(`bench: ${err.message}`);
    process.exit(1);
  });
}
