/**
 * Diversity selection, a coreset of the trajectories (`trajlab export --select K --by diversity
 * [--seed N] [--quota KEY=MIN …]`, SelectionFilters.select): K trajectories that cover the task
 * and behaviour space, chosen after every other filter.
 *
 * - Points. Each trajectory is one MinHash signature (NearSigner.signTokens of
 *   nearDuplicates.ts: the same tokens, shingles, hashing and NUM_PERM seeded functions as the
 *   near-duplicate check) of its task text (the prompt's words, lower case, numbers as `<n>`, at
 *   most MAX_TASK_TOKENS) followed by its normalised action sequence (actionSequenceTokens).
 *   Distance = 1 − estimated Jaccard similarity = the fraction of the NUM_PERM positions where
 *   two signatures differ; computed as that count (an integer 0..NUM_PERM), so ties are exact.
 *   Values are compared on their low 16 bits, two to a 32-bit word (half the memory traffic); two
 *   different values agree there with probability 2^-16, which moves the estimate by ~10^-5, far
 *   below its own standard deviation (√(J(1 − J)/NUM_PERM), up to 0.044).
 *   A trajectory with neither text nor actions is at distance 0 from its like and 1 from any other.
 * - k-center greedy (farthest-point traversal): pick a first center, then repeatedly the candidate
 *   farthest from its nearest center, until K. Gonzalez (1985), "Clustering to minimize the
 *   maximum intercluster distance", Theoretical Computer Science 38: a 2-approximation of the
 *   minimal covering radius; Sener & Savarese (2018), "Active Learning for Convolutional Neural
 *   Networks: A Core-Set Approach" (ICLR), Algorithm 1 (k-Center-Greedy), the same greedy for
 *   choosing a training subset. Each candidate keeps its distance to the nearest center so far
 *   (an Int16Array) and each pick updates it: O(K·N) signature comparisons, each stopping as soon
 *   as it cannot bring the candidate nearer (at most NUM_PERM values).
 * - Quotas (`type=2`: at least 2 of every task type, all of a type that has fewer; also `repo`,
 *   `difficulty` and `metadata.NAME`, common/src/dataset.ts QUOTA_KEYS): while a group
 *   is under its quota, the pick is the farthest candidate among those of under-quota groups, so
 *   quotas are met first and still spread out. Each quota's needs must fit in K (else an Error
 *   before anything is picked); with several quota keys the greedy may run out of K before all are
 *   met (also an Error, naming the groups left short).
 * - Seed. Candidates are ranked by sha256(`<seed>\0<run>\0<task>\0<attempt>\0<action hash>`):
 *   the first center is the first in that rank (of an under-quota group, with quotas), and a tie
 *   in distance goes to the earlier one. The same candidates and seed give the same selection in
 *   any source order; another seed may change the first center and the ties.
 */
import { createHash } from 'node:crypto';
import type { NotSelected, QuotaKey, SelectionPick, SelectionSpec, SelectionSummary } from '../../../common/src/dataset';
import { QUOTA_KEYS } from '../../../common/src/dataset';
import { taskPrompt } from '../../../common/src/task';
import type { Trajectory } from '../../../common/src/trajectory';
import { actionSequenceTokens, NUM_PERM, type NearSigner } from './nearDuplicates';

/** Words of the task text signed (a long SWE-bench problem statement's first ~2,000). */
export const MAX_TASK_TOKENS = 2_000;
/** The token between the task text and the actions (no shell word or prose word is it). */
const TASK_END = '⏎task⏎';
/** Fills a missing signature: two 16-bit halves of all ones, as unlikely as any other value to match a real one (2^-16 a position). */
const NO_SIGNATURE = 0xffffffff;

/** What selection keeps of a trajectory: its signature and its group under each quota key. */
export interface DiversityFeatures {
  /** NUM_PERM MinHash values; null when the trajectory has neither task text nor actions. */
  signature: Uint32Array | null;
  /** Under every one of QUOTA_KEYS and the `metadata.NAME` keys asked for. */
  groups: Record<string, string>;
}

/** A candidate of `selectDiverse`: its position in source order, its file, its seeding key and features. */
export interface DiversityCandidate {
  index: number;
  file: string;
  /** What identifies it for the seeded rank (run, task, attempt, action hash); not its path, so copies of a dataset elsewhere select alike. */
  key: string;
  features: DiversityFeatures;
}

/** The picks (by candidate index), the others with their nearest pick, and the summary. */
export interface DiversityResult {
  picks: Map<number, SelectionPick>;
  left: Map<number, NotSelected>;
  summary: SelectionSummary;
}

/** The task text's tokens: words and symbols, lower case, digit runs as `<n>`; at most MAX_TASK_TOKENS. */
export function taskTextTokens(text: string): string[] {
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(/[a-z_][a-z0-9_]*|\d+(?:\.\d+)?|[^\s\w]/g)) {
    out.push(/^\d/.test(m[0]) ? '<n>' : m[0]);
    if (out.length >= MAX_TASK_TOKENS) break;
  }
  return out;
}

/** The bucket of a FAIL_TO_PASS count (DIFFICULTY_BUCKETS): null or 0 → `none`, 1, 2-3, 4-9, 10+. */
export function difficultyBucket(failToPass: number | null): string {
  if (!failToPass) return 'none';
  return failToPass === 1 ? '1' : failToPass <= 3 ? '2-3' : failToPass <= 9 ? '4-9' : '10+';
}

/**
 * A trajectory's group under each of QUOTA_KEYS and each `metadata.NAME` of `metadataKeys` (see
 * common/src/dataset.ts for what each means).
 */
export function quotaGroups(t: Trajectory, metadataKeys: readonly string[] = []): Record<string, string> {
  const task = t.task;
  const meta = task?.metadata && typeof task.metadata === 'object' ? task.metadata : {};
  const metaRepo = Object.hasOwn(meta, 'repo') ? meta.repo : undefined;
  const repo = typeof metaRepo === 'string' && metaRepo ? metaRepo : task?.workspace?.repo || '(none)';
  const ev = task?.eval;
  const f2p = ev && !Array.isArray(ev) && Array.isArray(ev.FAIL_TO_PASS) ? ev.FAIL_TO_PASS.length : null;
  const groups: Record<string, string> = { type: task?.task_type ?? 'unknown', repo, difficulty: difficultyBucket(f2p) };
  for (const key of metadataKeys) {
    const name = key.slice('metadata.'.length);
    const v = Object.hasOwn(meta, name) ? meta[name] : undefined;
    groups[key] = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '(none)';
  }
  return groups;
}

/** The features of a trajectory for `selectDiverse` (see the module comment); `metadataKeys`: the `metadata.NAME` quota keys. */
export function diversityFeatures(signer: NearSigner, t: Trajectory, metadataKeys: readonly string[] = []): DiversityFeatures {
  const text = taskTextTokens(t.task ? taskPrompt(t.task) : '');
  const tokens = text.concat(TASK_END, actionSequenceTokens(t));
  return { signature: text.length || tokens.length > 1 ? signer.signTokens(tokens) : null, groups: quotaGroups(t, metadataKeys) };
}

/**
 * Brings every unpicked candidate's distance to its nearest center (`minDist`, in differing
 * positions, and `nearest`, the pick number) up to date with the new center `center` (pick `p`).
 * `sig` holds W words per candidate, two 16-bit values each. A comparison stops, 16 values at a
 * time, once it cannot bring the candidate nearer. Kept small and monomorphic for the JIT: this is
 * the O(K·N) part.
 */
function updateNearest(sig: Uint32Array, W: number, center: number, p: number, picked: Uint8Array, minDist: Int16Array, nearest: Int32Array): void {
  const n = picked.length;
  const base = center * W;
  for (let i = 0; i < n; i++) {
    if (picked[i]) continue;
    const limit = minDist[i]!;
    const o = i * W;
    let differ = 0;
    for (let w = 0; w < W && differ < limit; w += 8) {
      for (let j = w; j < w + 8; j++) {
        const x = sig[base + j]! ^ sig[o + j]!;
        // Bit 15 / 31 of t set where that half of the XOR is non-zero (no carry crosses into the other half).
        const t = (((x & 0x7fff7fff) + 0x7fff7fff) | x) & 0x80008000;
        differ += ((t >>> 15) & 1) + (t >>> 31);
      }
    }
    if (differ < limit) {
      minDist[i] = differ;
      nearest[i] = p;
    }
  }
}

/** `3 task types` for messages. */
const groupWord = (key: QuotaKey, n: number) => (key === 'type' ? `${n} task type${n === 1 ? '' : 's'}` : key === 'repo' ? `${n} repositor${n === 1 ? 'y' : 'ies'}` : key === 'difficulty' ? `${n} difficulty bucket${n === 1 ? '' : 's'}` : `${n} value${n === 1 ? '' : 's'} of ${key}`);

/**
 * Chooses `min(spec.k, candidates.length)` of `candidates` by k-center greedy with quotas (see
 * the module comment). Returns each pick's SelectionPick, each other candidate's nearest pick,
 * and the summary (coverage of every quota key's groups, the final radius). Distances are in
 * [0, 1] (multiples of 1/NUM_PERM). Throws Error when a quota needs more picks than K
 * (`--quota type=2 needs 20 picks …`), or when K ran out before every quota was met; RangeError
 * for a signature that is not NUM_PERM values long.
 */
export function selectDiverse(candidates: DiversityCandidate[], spec: SelectionSpec): DiversityResult {
  const n = candidates.length;
  const k = Math.min(spec.k, n);
  const seed = spec.seed ?? 0;
  const quotas = spec.quotas ?? [];
  const P = NUM_PERM;
  if (!Number.isSafeInteger(spec.k) || spec.k < 1) throw new RangeError(`k must be an integer ≥ 1 (got ${spec.k})`);

  // Two values' low 16 bits per word (see the module comment).
  const W = P / 2;
  const sig = new Uint32Array(n * W);
  candidates.forEach((c, i) => {
    const s = c.features.signature;
    if (s === null) sig.fill(NO_SIGNATURE, i * W, (i + 1) * W);
    else if (s.length !== P) throw new RangeError(`${c.file}: a signature of ${s.length} values (expected ${P})`);
    else for (let w = 0; w < W; w++) sig[i * W + w] = (s[2 * w]! & 0xffff) | ((s[2 * w + 1]! & 0xffff) << 16);
  });
  // Seeded rank: rank[i] is candidate i's place in the seeded order.
  const order = candidates.map((c, i) => ({ i, h: createHash('sha256').update(`${seed}\u0000${c.key}`).digest('hex') }));
  order.sort((a, b) => (a.h < b.h ? -1 : a.h > b.h ? 1 : candidates[a.i]!.index - candidates[b.i]!.index));
  const rank = new Int32Array(n);
  order.forEach((o, r) => (rank[o.i] = r));

  // Quota bookkeeping: per quota, each candidate's group id and each group's remaining need.
  const qs = quotas.map((q) => {
    const ids = new Map<string, number>();
    const groupOf = new Int32Array(n);
    const sizes: number[] = [];
    candidates.forEach((c, i) => {
      const name = c.features.groups[q.key] ?? '(none)';
      let g = ids.get(name);
      if (g === undefined) {
        g = ids.size;
        ids.set(name, g);
        sizes.push(0);
      }
      groupOf[i] = g;
      sizes[g]!++;
    });
    const need = Int32Array.from(sizes, (s) => Math.min(q.min, s));
    const total = need.reduce((a, b) => a + b, 0);
    if (total > k) {
      throw new Error(`--quota ${q.key}=${q.min} needs ${total} picks (${q.min} in each of ${groupWord(q.key, ids.size)}, all of those with fewer) but --select keeps ${k}${k < spec.k ? ` (there are only ${n} candidates)` : ''}: raise --select to ${total} or lower the quota`);
    }
    return { q, names: [...ids.keys()], groupOf, need };
  });
  let unmet = qs.reduce((a, x) => a + x.need.reduce((s, v) => s + v, 0), 0);

  const FAR = P + 1; // no center yet
  const minDist = new Int16Array(n).fill(FAR);
  const nearest = new Int32Array(n).fill(-1);
  const picked = new Uint8Array(n);
  const pickedAt: number[] = [];
  const picks = new Map<number, SelectionPick>();
  for (let p = 0; p < k; p++) {
    let best = -1;
    for (let i = 0; i < n; i++) {
      if (picked[i]) continue;
      if (unmet > 0 && !qs.some((x) => x.need[x.groupOf[i]!]! > 0)) continue;
      if (best < 0 || minDist[i]! > minDist[best]! || (minDist[i] === minDist[best] && rank[i]! < rank[best]!)) best = i;
    }
    if (best < 0) break; // unreachable: an under-quota group always has an unpicked member
    const filled: string[] = [];
    for (const x of qs) {
      const g = x.groupOf[best]!;
      if (x.need[g]! > 0) {
        x.need[g]!--;
        unmet--;
        filled.push(`${x.q.key}=${x.names[g]}`);
      }
    }
    picked[best] = 1;
    pickedAt.push(best);
    const c = candidates[best]!;
    picks.set(c.index, {
      order: p + 1,
      cluster: p + 1,
      distance: minDist[best] === FAR ? null : minDist[best]! / P,
      nearest: nearest[best]! < 0 ? null : candidates[pickedAt[nearest[best]!]!]!.file,
      cluster_size: 0,
      ...(filled.length ? { quota: filled } : {}),
    });
    minDist[best] = 0;
    nearest[best] = p;
    updateNearest(sig, W, best, p, picked, minDist, nearest);
  }
  if (unmet > 0) {
    const short = qs.flatMap((x) => x.names.filter((_, g) => x.need[g]! > 0).map((name) => `${x.q.key}=${name}`));
    throw new Error(`the quotas ${quotas.map((q) => `${q.key}=${q.min}`).join(', ')} were not all met within --select ${k} (short: ${short.slice(0, 10).join(', ')}${short.length > 10 ? ', …' : ''}); raise --select or lower a quota`);
  }

  const left = new Map<number, NotSelected>();
  let radius = 0;
  for (let i = 0; i < n; i++) {
    const center = pickedAt[nearest[i]!]!;
    picks.get(candidates[center]!.index)!.cluster_size++;
    radius = Math.max(radius, minDist[i]!);
    if (!picked[i]) left.set(candidates[i]!.index, { file: candidates[center]!.file, cluster: nearest[i]! + 1, distance: minDist[i]! / P });
  }
  // Group names are data (a repository may be called anything): no prototype to collide with.
  const keys = [...new Set<string>([...QUOTA_KEYS, ...quotas.map((q) => q.key)])];
  const counts = new Map(keys.map((key) => [key, new Map<string, { candidates: number; selected: number }>()]));
  candidates.forEach((c, i) => {
    for (const key of keys) {
      const byGroup = counts.get(key)!;
      const name = c.features.groups[key] ?? '(none)';
      const g = byGroup.get(name) ?? { candidates: 0, selected: 0 };
      byGroup.set(name, g);
      g.candidates++;
      if (picked[i]) g.selected++;
    }
  });
  // Groups by name (the same manifest whatever the source order); fromEntries defines own properties, whatever a group is called.
  const coverage = Object.fromEntries([...counts].map(([key, byGroup]) => [key, Object.fromEntries([...byGroup].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)))]));
  return { picks, left, summary: { by: spec.by, k: spec.k, seed, quotas, candidates: n, selected: picks.size, radius: radius / P, coverage } };
}
