/**
 * Diversity selection (issue 19, `--select K --by diversity`, server/src/dataset/diversity.ts):
 * k-center greedy over signatures built in code (clusters, points on a line, random ones) checked
 * against the greedy's own invariant computed here by brute force with estimateJaccard; quotas;
 * the seed; validation; and how exports and statistics carry the selection (run folders written
 * to a temporary directory, test/helpers/taskTypes.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseQuota, type SelectionSpec } from '../../common/src/dataset';
import { difficultyBucket, diversityFeatures, quotaGroups, selectDiverse, taskTextTokens, type DiversityCandidate } from '../../server/src/dataset/diversity';
import { estimateJaccard, NearSigner, NUM_PERM } from '../../server/src/dataset/nearDuplicates';
import { validateFilters } from '../../server/src/dataset/select';
import { exportTrajectories } from '../../server/src/export/dataset';
import { computeStats } from '../../server/src/stats/stats';
import { CATEGORIES, categoryTrajectory } from '../helpers/taskTypes';
import { writeRun } from '../helpers/trajectories';

/** A seeded generator of 26-bit values (MinHash values are below 2^26). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 6;
}

/** A candidate named `name` with signature `sig` and groups (type `code` unless given). */
function cand(index: number, name: string, sig: Uint32Array | null, groups: Record<string, string> = {}): DiversityCandidate {
  return { index, file: name, key: name, features: { signature: sig, groups: { type: 'code', repo: '(none)', difficulty: 'none', ...groups } } };
}

/** A signature `d` positions away from `base` (positions [0, d) get values of their own, drawn from `next`). */
function near(base: Uint32Array, d: number, next: () => number): Uint32Array {
  const s = Uint32Array.from(base);
  for (let j = 0; j < d; j++) s[j] = next();
  return s;
}

const dist = (a: Uint32Array | null, b: Uint32Array | null) => 1 - estimateJaccard(a, b);

/**
 * Checks the k-center greedy's invariant on a result: each pick (after the first, and while no
 * quota is being filled) is at the largest distance to the earlier picks of any candidate then
 * unpicked, its `distance` and `nearest` are that distance and the earlier pick nearest to it; the
 * radius and each unpicked candidate's nearest pick are right. Returns the picks in order.
 */
function checkGreedy(cs: DiversityCandidate[], picks: Map<number, { order: number; distance: number | null; nearest: string | null; quota?: string[]; cluster_size: number }>, left: Map<number, { file: string; distance: number; cluster: number }>, radius: number): DiversityCandidate[] {
  const ordered = cs.filter((c) => picks.has(c.index)).sort((a, b) => picks.get(a.index)!.order - picks.get(b.index)!.order);
  const sig = (c: DiversityCandidate) => c.features.signature;
  const minTo = (c: DiversityCandidate, centers: DiversityCandidate[]) => Math.min(...centers.map((x) => dist(sig(c), sig(x))));
  ordered.forEach((c, p) => {
    const pick = picks.get(c.index)!;
    assert.equal(pick.order, p + 1);
    if (p === 0) {
      assert.equal(pick.distance, null);
      assert.equal(pick.nearest, null);
      return;
    }
    const earlier = ordered.slice(0, p);
    assert.equal(pick.distance, minTo(c, earlier), `pick ${p + 1}: its distance to the earlier picks`);
    assert.equal(dist(sig(c), sig(cs.find((x) => x.file === pick.nearest)!)), pick.distance, `pick ${p + 1}: nearest names a pick at that distance`);
    if (!pick.quota) {
      const unpicked = cs.filter((x) => !ordered.slice(0, p).includes(x));
      assert.equal(pick.distance, Math.max(...unpicked.map((x) => minTo(x, earlier))), `pick ${p + 1} is the farthest candidate`);
    }
  });
  let r = 0;
  for (const c of cs) {
    const d = minTo(c, ordered);
    r = Math.max(r, d);
    if (picks.has(c.index)) continue;
    const l = left.get(c.index)!;
    assert.equal(l.distance, d, `${c.file}: distance to its nearest pick`);
    assert.equal(dist(sig(c), sig(cs.find((x) => x.file === l.file)!)), d);
    assert.equal(picks.get(cs.find((x) => x.file === l.file)!.index)!.order, l.cluster);
  }
  assert.equal(radius, r, 'the radius is the largest distance to the nearest pick');
  assert.equal([...picks.values()].reduce((a, p) => a + p.cluster_size, 0), cs.length, 'every candidate is in one cluster');
  return ordered;
}

test('selectDiverse: one pick per cluster first (three clusters of 10, 5 and 2 at distance ~1 from each other), each the farthest candidate; cluster sizes and nearest picks right', () => {
  const next = lcg(7);
  const bases = [0, 1, 2].map(() => Uint32Array.from({ length: NUM_PERM }, next));
  const sizes = [10, 5, 2];
  const cs: DiversityCandidate[] = [];
  sizes.forEach((size, b) => {
    for (let j = 0; j < size; j++) cs.push(cand(cs.length, `c${b}-${j}`, near(bases[b]!, 3 + 4 * j, next), { type: `t${b}` }));
  });
  const r = selectDiverse(cs, { k: 3, by: 'diversity' });
  const ordered = checkGreedy(cs, r.picks, r.left, r.summary.radius);
  assert.deepEqual(ordered.map((c) => c.file.slice(0, 2)).sort(), ['c0', 'c1', 'c2'], 'one pick in each cluster');
  assert.deepEqual([...r.picks.values()].map((p) => p.cluster_size).sort((a, b) => a - b), [2, 5, 10]);
  assert.ok(ordered.slice(1).every((c) => r.picks.get(c.index)!.distance! > 0.9), 'the 2nd and 3rd picks are ~1 away');
  for (const [index, l] of r.left) assert.equal(l.file.slice(0, 2), cs[index]!.file.slice(0, 2), `${cs[index]!.file}: nearest pick of its own cluster`);
  assert.deepEqual(r.summary.coverage.type, { t0: { candidates: 10, selected: 1 }, t1: { candidates: 5, selected: 1 }, t2: { candidates: 2, selected: 1 } });
  assert.equal(r.summary.selected, 3);
  assert.equal(r.summary.candidates, 17);
  // K above the candidates: all of them, in greedy order.
  const all = selectDiverse(cs, { k: 50, by: 'diversity' });
  assert.equal(all.picks.size, 17);
  assert.equal(all.left.size, 0);
  assert.equal(all.summary.radius, 0);
  checkGreedy(cs, all.picks, all.left, 0);
});

test('selectDiverse: farthest-point order on a line (distance = |a − b|/128) and on random signatures; distances never grow', () => {
  const next = lcg(11);
  const base = Uint32Array.from({ length: NUM_PERM }, next);
  const shared = Uint32Array.from({ length: NUM_PERM }, next);
  // Point d: base with positions [0, d) taken from `shared`: the distance of two points is |d1 − d2| / 128.
  const line = Array.from({ length: 13 }, (_, j) => {
    const s = Uint32Array.from(base);
    s.set(shared.subarray(0, 10 * j));
    return cand(j, `d${10 * j}`, s);
  });
  for (const seed of [0, 1, 2, 3]) {
    const r = selectDiverse(line, { k: 4, by: 'diversity', seed });
    const ordered = checkGreedy(line, r.picks, r.left, r.summary.radius);
    // Whatever the first pick, the next is an end of the line.
    assert.ok(['d0', 'd120'].includes(ordered[1]!.file), `seed ${seed}: second pick ${ordered[1]!.file}`);
    const ds = ordered.slice(1).map((c) => r.picks.get(c.index)!.distance!);
    assert.deepEqual(ds, [...ds].sort((a, b) => b - a), 'distances do not grow');
  }
  const random = Array.from({ length: 300 }, (_, i) => cand(i, `r${i}`, Uint32Array.from({ length: NUM_PERM }, next)));
  const r = selectDiverse(random, { k: 25, by: 'diversity' });
  checkGreedy(random, r.picks, r.left, r.summary.radius);
});

test('selectDiverse: a trajectory without signature is at 0 from its like and 1 from the others; a signature of the wrong length is a RangeError', () => {
  const next = lcg(3);
  const cs = [cand(0, 'a', null), cand(1, 'b', null), cand(2, 'c', Uint32Array.from({ length: NUM_PERM }, next))];
  const r = selectDiverse(cs, { k: 2, by: 'diversity' });
  const ordered = checkGreedy(cs, r.picks, r.left, r.summary.radius);
  assert.ok(ordered.some((c) => c.file === 'c'), 'the signed one is picked with one of the unsigned');
  assert.equal(r.summary.radius, 0);
  assert.throws(() => selectDiverse([cand(0, 'x', new Uint32Array(64))], { k: 1, by: 'diversity' }), /x: a signature of 64 values \(expected 128\)/);
});

test('selectDiverse quotas: a small group inside a big cluster is missed without a quota and picked with one (type=1), marked with the group; a group smaller than its quota gives all it has', () => {
  const next = lcg(5);
  const a = Uint32Array.from({ length: NUM_PERM }, next);
  const cs: DiversityCandidate[] = [];
  // Cluster A: 20 of type common, spread up to 60 positions; 2 of type rare, 2 positions from A's base.
  for (let j = 0; j < 20; j++) cs.push(cand(cs.length, `common-${j}`, near(a, 3 * j, next), { type: 'common' }));
  for (let j = 0; j < 2; j++) cs.push(cand(cs.length, `rare-${j}`, near(a, 2, next), { type: 'rare' }));
  // Three far clusters of one each.
  for (let j = 0; j < 3; j++) cs.push(cand(cs.length, `far-${j}`, Uint32Array.from({ length: NUM_PERM }, next), { type: 'common' }));
  const spec: SelectionSpec = { k: 5, by: 'diversity' };
  const free = selectDiverse(cs, spec);
  checkGreedy(cs, free.picks, free.left, free.summary.radius);
  assert.equal(free.summary.coverage.type!.rare!.selected, 0, 'k-center alone does not reach the rare type');
  const quota = selectDiverse(cs, { ...spec, quotas: [{ key: 'type', min: 1 }] });
  checkGreedy(cs, quota.picks, quota.left, quota.summary.radius);
  assert.equal(quota.summary.coverage.type!.rare!.selected, 1);
  const rare = [...quota.picks].find(([i]) => cs[i]!.file.startsWith('rare'))!;
  assert.deepEqual(rare[1].quota, ['type=rare']);
  assert.ok(rare[1].order <= 2, 'quotas are filled first');
  assert.equal(quota.picks.size, 5);
  const three = selectDiverse(cs, { ...spec, quotas: [{ key: 'type', min: 3 }] });
  assert.equal(three.summary.coverage.type!.rare!.selected, 2, 'all of a group smaller than its quota');
  assert.ok(three.summary.coverage.type!.common!.selected >= 3);
});

test('selectDiverse quotas that K cannot hold: one quota over K is an Error before any pick; several keys that run out of K name the groups left short', () => {
  const next = lcg(9);
  const cs = Array.from({ length: 10 }, (_, i) => cand(i, `x${i}`, Uint32Array.from({ length: NUM_PERM }, next), { type: `t${i % 5}` }));
  assert.throws(() => selectDiverse(cs, { k: 6, by: 'diversity', quotas: [{ key: 'type', min: 2 }] }), /--quota type=2 needs 10 picks \(2 in each of 5 task types, all of those with fewer\) but --select keeps 6: raise --select to 10 or lower the quota/);
  assert.doesNotThrow(() => selectDiverse(cs, { k: 10, by: 'diversity', quotas: [{ key: 'type', min: 2 }] }));
  // Each key needs 2 (≤ K), but covering t2, r2 and d2 takes three picks: X, Y and Z.
  const g = (type: string, repo: string, difficulty: string) => ({ type, repo, difficulty });
  const three = [g('t1', 'r1', 'd1'), g('t2', 'r1', 'd1'), g('t1', 'r2', 'd1'), g('t1', 'r1', 'd2')].map((gr, i) => cand(i, `y${i}`, Uint32Array.from({ length: NUM_PERM }, next), gr));
  for (const seed of [0, 1, 2]) {
    assert.throws(
      () => selectDiverse(three, { k: 2, by: 'diversity', seed, quotas: [{ key: 'type', min: 1 }, { key: 'repo', min: 1 }, { key: 'difficulty', min: 1 }] }),
      /the quotas type=1, repo=1, difficulty=1 were not all met within --select 2 \(short: .*(type=t2|repo=r2|difficulty=d2).*\); raise --select or lower a quota/,
    );
  }
});

test('selectDiverse seed: the same candidates in any order and the same seed give the same picks in the same order; another seed can change the first pick', () => {
  const next = lcg(13);
  const cs = Array.from({ length: 60 }, (_, i) => cand(i, `s${i}`, Uint32Array.from({ length: NUM_PERM }, next), { type: `t${i % 4}` }));
  const picksOf = (list: DiversityCandidate[], seed: number) => {
    const r = selectDiverse(list, { k: 8, by: 'diversity', seed, quotas: [{ key: 'type', min: 1 }] });
    return [...r.picks].sort((a, b) => a[1].order - b[1].order).map(([i, p]) => `${list.find((c) => c.index === i)!.file}:${p.distance}`);
  };
  const shuffled = [...cs].reverse().map((c, i) => ({ ...c, index: 1000 + i }));
  for (const seed of [0, 42]) {
    assert.deepEqual(picksOf(cs, seed), picksOf(cs, seed));
    assert.deepEqual(picksOf(shuffled, seed), picksOf(cs, seed), `seed ${seed}: the source order does not matter`);
  }
  const firsts = new Set([0, 1, 2, 3, 4, 5].map((seed) => picksOf(cs, seed)[0]));
  assert.ok(firsts.size > 1, 'the seed decides the first pick');
});

test('validateFilters and parseQuota: select.k an integer ≥ 1, a known by, known quota keys (metadata.NAME too) with integer minimums ≥ 1, one per key, a seed ≥ 0', () => {
  assert.deepEqual(validateFilters({ select: { k: 20, by: 'diversity', seed: 3, quotas: [{ key: 'type', min: 1 }, { key: 'metadata.category', min: 2 }] } }), []);
  assert.deepEqual(validateFilters({ select: { k: 0, by: 'diversity' } }), ['select.k (--select) must be an integer ≥ 1 (got 0)']);
  assert.deepEqual(validateFilters({ select: { k: 2.5, by: 'diversity' } }), ['select.k (--select) must be an integer ≥ 1 (got 2.5)']);
  assert.deepEqual(validateFilters({ select: { k: 5, by: 'random' as 'diversity' } }), ['select.by (--by) must be diversity (got "random")']);
  assert.deepEqual(validateFilters({ select: { k: 5, by: 'diversity', seed: -1 } }), ['select.seed (--seed) must be an integer ≥ 0 (got -1)']);
  assert.deepEqual(validateFilters({ select: { k: 5, by: 'diversity', quotas: [{ key: 'lang' as 'type', min: 1 }] } }), ['select.quotas (--quota): unknown quota "lang"; the quotas are type, repo, difficulty and metadata.NAME (a field of the task\'s metadata)']);
  assert.deepEqual(validateFilters({ select: { k: 5, by: 'diversity', quotas: [{ key: 'type', min: 0 }] } }), ['select.quotas (--quota): the minimum of quota type must be an integer ≥ 1 (got 0)']);
  assert.deepEqual(validateFilters({ select: { k: 5, by: 'diversity', quotas: [{ key: 'type', min: 1 }, { key: 'type', min: 2 }] } }), ['select.quotas (--quota): type is given twice; give each key one minimum']);
  assert.deepEqual(validateFilters({ select: 'x' as unknown as SelectionSpec }), ['select must be an object {k, by, seed?, quotas?} (got "x")']);
  assert.deepEqual(validateFilters({ select: { k: 5, by: 'diversity', quotas: {} as [] } }), ['select.quotas must be a list of {key, min} (got {})']);

  assert.deepEqual(parseQuota('type=2'), [{ key: 'type', min: 2 }]);
  assert.deepEqual(parseQuota('type=2, repo=1,metadata.category=3'), [{ key: 'type', min: 2 }, { key: 'repo', min: 1 }, { key: 'metadata.category', min: 3 }]);
  assert.equal(parseQuota('type:2'), '"type:2" is not KEY=MIN (e.g. type=2; the keys are type, repo, difficulty, metadata.NAME)');
  assert.equal(parseQuota('type=0'), 'the minimum of quota type must be an integer ≥ 1 (got 0)');
  assert.match(parseQuota('lang=1') as string, /^unknown quota "lang"/);
  assert.equal(parseQuota(''), 'expected KEY=MIN,… (e.g. type=2)');
});

test('diversity features: quota groups (type, repo from metadata or workspace, FAIL_TO_PASS bucket, metadata.NAME) and a signature of task text + actions', async () => {
  assert.deepEqual(['none', '1', '2-3', '2-3', '4-9', '4-9', '10+'], [0, 1, 2, 3, 4, 9, 10].map(difficultyBucket));
  assert.equal(difficultyBucket(null), 'none');
  assert.deepEqual(taskTextTokens('Fix parse_date() in 3 files.'), ['fix', 'parse_date', '(', ')', 'in', '<n>', 'files', '.']);
  const swe = categoryTrajectory('swe', 1, { task: { metadata: { category: 'swe', repo: 'django/django' }, workspace: { repo: 'ignored' }, eval: { FAIL_TO_PASS: ['a', 'b', 'c', 'd'] } } });
  assert.deepEqual(quotaGroups(swe, ['metadata.category', 'metadata.missing']), { type: 'swe', repo: 'django/django', difficulty: '4-9', 'metadata.category': 'swe', 'metadata.missing': '(none)' });
  const local = categoryTrajectory('data', 2, { task: { workspace: { repo: './repos/calc' }, eval: ['pytest'] } });
  assert.deepEqual(quotaGroups(local), { type: 'code', repo: './repos/calc', difficulty: 'none' });
  const signer = await NearSigner.create();
  const f1 = diversityFeatures(signer, categoryTrajectory('web', 1));
  const f2 = diversityFeatures(signer, categoryTrajectory('web', 2));
  const f3 = diversityFeatures(signer, categoryTrajectory('ml', 3));
  assert.equal(f1.signature!.length, NUM_PERM);
  assert.ok(estimateJaccard(f1.signature, f2.signature) > 0.3, 'two web trajectories are alike');
  assert.ok(estimateJaccard(f1.signature, f3.signature) < 0.1, 'a web and an ml trajectory are not');
  // The task text counts: the same actions under another prompt move away.
  const reworded = categoryTrajectory('web', 1, { task: { description: 'Something else entirely, about penguins and their migration routes across the ice.' } });
  assert.ok(estimateJaccard(f1.signature, diversityFeatures(signer, reworded).signature) < 1);
});

test('export with select: K kept, the others not_selected naming their nearest pick, every pick with order / distance / cluster, coverage in the manifest; after max-per-task; stats preview the same selection', async () => {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-diversity-')));
  try {
    const run = path.join(dir, 'run');
    // 30 tasks of 3 categories, two attempts each (attempt 2: the same commands, reward 0).
    const ts = Array.from({ length: 30 }, (_, i) => categoryTrajectory(CATEGORIES[i % 3]!, i));
    const again = ts.map((t) => ({ ...structuredClone(t), attempt: 2, result: { ...t.result!, reward: 0, success: false } }));
    writeRun(run, 'div', [...ts, ...again]);
    const filters = { maxPerTask: 1, select: { k: 6, by: 'diversity' as const, quotas: [{ key: 'metadata.category' as const, min: 2 }] } };
    const { manifest } = await exportTrajectories([run], { format: 'openai', out: path.join(dir, 'a.jsonl'), filters });
    assert.equal(manifest.counts.kept, 6);
    assert.deepEqual(manifest.counts.dropped_by_reason, { over_max_per_task: 30, not_selected: 24 });
    const kept = manifest.trajectories.filter((e) => e.kept);
    assert.deepEqual(kept.map((e) => e.selection!.order).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6]);
    for (const e of kept) assert.equal(e.selection!.cluster, e.selection!.order);
    assert.equal(kept.reduce((a, e) => a + e.selection!.cluster_size, 0), 30, 'the 30 candidates left after max-per-task');
    assert.deepEqual(manifest.selection!.coverage['metadata.category'], { code: { candidates: 10, selected: 2 }, reasoning: { candidates: 10, selected: 2 }, swe: { candidates: 10, selected: 2 } });
    const left = manifest.trajectories.filter((e) => e.reason === 'not_selected');
    for (const e of left) {
      const center = kept.find((k) => k.file === e.not_selected!.file)!;
      assert.equal(e.not_selected!.cluster, center.selection!.order);
      assert.match(e.detail!, new RegExp(`^not among the 6 selected by diversity; nearest selected: .*${path.basename(center.file)} \\(cluster ${center.selection!.cluster}, distance ${e.not_selected!.distance.toFixed(3)}\\)$`));
    }
    const rows = fs.readFileSync(path.join(dir, 'a.jsonl'), 'utf8').trim().split('\n');
    assert.equal(rows.length, 6);

    const stats = await computeStats([run], { filters, secrets: false });
    assert.equal(stats.overall.trajectories, 6);
    assert.deepEqual(stats.selection, manifest.selection);
    assert.equal(stats.dropped_by_reason.not_selected, 24);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
