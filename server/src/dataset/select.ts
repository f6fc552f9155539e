/**
 * Selection: the filters of `trajlab export` / `trajlab stats` and the Dataset view, over
 * trajectory summaries (summary.ts), and the split of the kept trajectories by task.
 *
 * Per-trajectory filters (`dropReason`) need one trajectory; the selection-wide ones
 * (`selectAcross`: de-duplication, best attempt per task, at most K per task, then the diversity
 * selection of diversity.ts) need the summaries of every candidate, which is why an export with
 * them reads its sources twice.
 * Each dropped trajectory gets exactly one reason: the first filter it fails, in the order of
 * compileFilter (the selection's scope — run, task, type, exit status — then tampering, loops
 * and flags, then outcome and size).
 */
import { createHash } from 'node:crypto';
import picomatch from 'picomatch';
import {
  NEAR_DUPLICATE_THRESHOLD,
  parseSplit,
  quotaProblem,
  SELECT_BY,
  splitProblem,
  TRAJECTORY_FLAGS,
  type DropReason,
  type NearDuplicateOf,
  type NotSelected,
  type SelectionFilters,
  type SelectionPick,
  type SelectionSummary,
  type SplitSpec,
} from '../../../common/src/dataset';
import type { Trajectory } from '../../../common/src/trajectory';
import { diversityFeatures, selectDiverse } from './diversity';
import { describeFlag } from './flags';
import { findNearDuplicates, NearSigner } from './nearDuplicates';
import type { CandidateSummary, TrajectorySummary } from './summary';

/** A drop decision with its human-readable detail (and, for `near_duplicate`, the trajectory kept instead; for `not_selected`, the nearest selected one). */
export interface Drop {
  reason: DropReason;
  detail: string;
  near_duplicate_of?: NearDuplicateOf;
  not_selected?: NotSelected;
}

/** The de-duplication `filters` asks for: none, `exact` (`dedupe: true` too) or `near`. */
export function dedupeMode(f: SelectionFilters): 'exact' | 'near' | undefined {
  return f.dedupe === true || f.dedupe === 'exact' ? 'exact' : f.dedupe === 'near' ? 'near' : undefined;
}

/** True when `filters` needs the whole selection (dedupe, best per task, max per task, select). */
export function needsWholeSelection(filters: SelectionFilters): boolean {
  return !!(dedupeMode(filters) || filters.bestPerTask || filters.maxPerTask !== undefined || filters.select);
}

/**
 * What `selectAcross` needs of a trajectory beyond its summary, for `filters`: a function that
 * sets the summary's MinHash signatures (`near`, for dedupe `near`) and diversity features
 * (`diversity`, for `select`) from the trajectory; undefined when the filters need neither.
 * Call it on the candidates that passed the per-trajectory filters. Rejects only if the xxHash
 * WebAssembly module cannot be loaded (NearSigner.create).
 */
export async function acrossSigner(filters: SelectionFilters): Promise<((s: TrajectorySummary, t: Trajectory) => void) | undefined> {
  const near = dedupeMode(filters) === 'near';
  if (!near && !filters.select) return undefined;
  const signer = await NearSigner.create();
  const metadataKeys = (filters.select?.quotas ?? []).map((q) => q.key).filter((k) => k.startsWith('metadata.'));
  return (s, t) => {
    if (near) s.near = signer.sign(t);
    if (filters.select) s.diversity = diversityFeatures(signer, t, metadataKeys);
  };
}

/**
 * Checks `filters` for one rejection message per bad value (an empty list when all is well):
 * bounds that are not numbers, min above max, a max per task below 1, an invalid glob, a
 * `select` whose K is not an integer ≥ 1, whose `by` or a quota's key is unknown, a quota's
 * minimum not an integer ≥ 1, a key given twice, a seed not an integer ≥ 0.
 */
export function validateFilters(f: SelectionFilters): string[] {
  const errors: string[] = [];
  const pair = (name: string, min?: number, max?: number) => {
    for (const [k, v] of [[`min${name}`, min], [`max${name}`, max]] as const) {
      if (v !== undefined && !Number.isFinite(v)) errors.push(`${k} must be a number (got ${String(v)})`);
    }
    if (min !== undefined && max !== undefined && min > max) errors.push(`min${name} (${min}) is above max${name} (${max})`);
  };
  pair('Reward', f.minReward, f.maxReward);
  pair('Steps', f.minSteps, f.maxSteps);
  pair('TotalTokens', f.minTotalTokens, f.maxTotalTokens);
  if (f.maxPerTask !== undefined && (!Number.isInteger(f.maxPerTask) || f.maxPerTask < 1)) errors.push(`maxPerTask must be an integer ≥ 1 (got ${f.maxPerTask})`);
  if (f.dedupe !== undefined && ![true, false, 'exact', 'near'].includes(f.dedupe)) errors.push(`dedupe must be true, false, "exact" or "near" (got ${JSON.stringify(f.dedupe)})`);
  if (f.nearThreshold !== undefined) {
    if (!(typeof f.nearThreshold === 'number' && f.nearThreshold > 0 && f.nearThreshold <= 1)) errors.push(`nearThreshold must be a number in (0, 1] (got ${String(f.nearThreshold)})`);
    else if (f.dedupe !== 'near') errors.push('nearThreshold applies to dedupe "near" only; set dedupe to "near" too');
  }
  if (f.maxRepeats !== undefined && (!Number.isInteger(f.maxRepeats) || f.maxRepeats < 0)) errors.push(`maxRepeats must be an integer ≥ 0 (got ${f.maxRepeats})`);
  for (const flag of f.noFlags ?? []) {
    if (!(TRAJECTORY_FLAGS as readonly string[]).includes(flag)) errors.push(`unknown flag ${JSON.stringify(flag)}; the flags are ${TRAJECTORY_FLAGS.join(', ')}`);
  }
  if (f.select !== undefined) errors.push(...selectProblems(f.select));
  if (f.taskGlob !== undefined) {
    try {
      picomatch(f.taskGlob, { dot: true });
    } catch (err) {
      errors.push(`taskGlob ${JSON.stringify(f.taskGlob)} is not a valid glob: ${(err as Error).message}`);
    }
  }
  return errors;
}

function selectProblems(sel: SelectionFilters['select']): string[] {
  if (typeof sel !== 'object' || sel === null || Array.isArray(sel)) return [`select must be an object {k, by, seed?, quotas?} (got ${JSON.stringify(sel)})`];
  const errors: string[] = [];
  if (!Number.isSafeInteger(sel.k) || sel.k < 1) errors.push(`select.k (--select) must be an integer ≥ 1 (got ${JSON.stringify(sel.k)})`);
  if (!(SELECT_BY as readonly unknown[]).includes(sel.by)) errors.push(`select.by (--by) must be ${SELECT_BY.join(', ')} (got ${JSON.stringify(sel.by)})`);
  if (sel.seed !== undefined && (!Number.isSafeInteger(sel.seed) || sel.seed < 0)) errors.push(`select.seed (--seed) must be an integer ≥ 0 (got ${JSON.stringify(sel.seed)})`);
  if (sel.quotas !== undefined) {
    if (!Array.isArray(sel.quotas)) return [...errors, `select.quotas must be a list of {key, min} (got ${JSON.stringify(sel.quotas)})`];
    const seen = new Set<string>();
    for (const q of sel.quotas) {
      const problem = typeof q === 'object' && q !== null ? quotaProblem(q) : `a quota must be {key, min} (got ${JSON.stringify(q)})`;
      if (problem) errors.push(`select.quotas (--quota): ${problem}`);
      else if (seen.has(q.key)) errors.push(`select.quotas (--quota): ${q.key} is given twice; give each key one minimum`);
      else seen.add(q.key);
    }
  }
  return errors;
}

/** A per-trajectory filter: `(summary) => drop or undefined`. Compiled once (the glob). */
export type TrajectoryFilter = (s: TrajectorySummary) => Drop | undefined;

/** Compiles the per-trajectory filters of `f` (see the module comment for the order). */
export function compileFilter(f: SelectionFilters): TrajectoryFilter {
  const glob = f.taskGlob !== undefined ? picomatch(f.taskGlob, { dot: true }) : undefined;
  const runs = f.runs?.length ? new Set(f.runs) : undefined;
  const types = f.taskTypes?.length ? new Set(f.taskTypes) : undefined;
  const exits = f.exitStatuses?.length ? new Set(f.exitStatuses) : undefined;
  const noFlags = f.noFlags?.length ? new Set(f.noFlags) : undefined;
  return (s) => {
    if (!f.includeUnfinished && s.status !== 'finished') return { reason: 'unfinished', detail: 'the attempt has not finished (no result)' };
    if (runs && !runs.has(s.run_id)) return { reason: 'run', detail: `run ${JSON.stringify(s.run_id)} is not selected` };
    if (glob && !glob(s.task_id)) return { reason: 'task_glob', detail: `task id does not match ${JSON.stringify(f.taskGlob)}` };
    if (types && !types.has(s.task_type)) return { reason: 'task_type', detail: `task type ${s.task_type}` };
    if (exits && !exits.has(s.exit_status ?? '')) return { reason: 'exit_status', detail: `exit status ${s.exit_status ?? 'none'}` };
    if (!f.keepTampered && s.flags.includes('tampered')) return { reason: 'tampered', detail: describeFlag('tampered', s.flag_facts) };
    if (f.maxRepeats !== undefined && s.flag_facts.max_repeats > f.maxRepeats) {
      return { reason: 'too_many_repeats', detail: `${JSON.stringify(s.flag_facts.repeated_action)} ${s.flag_facts.max_repeats} times with no state change in between (at most ${f.maxRepeats})` };
    }
    if (noFlags) {
      const hit = s.flags.filter((x) => noFlags.has(x));
      if (hit.length) return { reason: 'flagged', detail: hit.map((x) => describeFlag(x, s.flag_facts)).join('; ') };
    }
    if (f.successOnly && s.success !== true) return { reason: 'not_successful', detail: s.success === null ? 'outcome unknown (the source recorded no reward)' : `reward ${s.reward}, success false` };
    if (f.resolvedOnly && s.resolved !== true) return { reason: 'not_resolved', detail: s.resolved === null ? 'outcome unknown' : 'not resolved' };
    if (f.minReward !== undefined || f.maxReward !== undefined) {
      if (s.reward === null) return { reason: 'reward_unknown', detail: 'the source recorded no reward' };
      if (f.minReward !== undefined && s.reward < f.minReward) return { reason: 'reward_below_min', detail: `reward ${s.reward} < ${f.minReward}` };
      if (f.maxReward !== undefined && s.reward > f.maxReward) return { reason: 'reward_above_max', detail: `reward ${s.reward} > ${f.maxReward}` };
    }
    if ((f.minSteps !== undefined && s.steps < f.minSteps) || (f.maxSteps !== undefined && s.steps > f.maxSteps)) {
      return { reason: 'steps_out_of_range', detail: `${s.steps} step(s), outside ${range(f.minSteps, f.maxSteps)}` };
    }
    if (f.minTotalTokens !== undefined || f.maxTotalTokens !== undefined) {
      if (s.tokens === null) return { reason: 'tokens_out_of_range', detail: 'token usage unknown' };
      if ((f.minTotalTokens !== undefined && s.tokens < f.minTotalTokens) || (f.maxTotalTokens !== undefined && s.tokens > f.maxTotalTokens)) {
        return { reason: 'tokens_out_of_range', detail: `${s.tokens} token(s), outside ${range(f.minTotalTokens, f.maxTotalTokens)}` };
      }
    }
    if (s.assistant_messages === 0) return { reason: 'no_assistant_message', detail: 'no model reply to train on' };
    return undefined;
  };
}

function range(min?: number, max?: number): string {
  return `[${min ?? '-∞'}, ${max ?? '∞'}]`;
}

/**
 * Ranking of attempts of one task, best first: highest reward (unknown last), then fewest
 * steps, then the first in source order.
 */
export function compareAttempts(a: CandidateSummary, b: CandidateSummary): number {
  const ra = a.reward ?? Number.NEGATIVE_INFINITY;
  const rb = b.reward ?? Number.NEGATIVE_INFINITY;
  if (ra !== rb) return rb - ra;
  if (a.steps !== b.steps) return a.steps - b.steps;
  return a.index - b.index;
}

/** What `selectAcross` decided: the drops by candidate index; with `select`, the picks by index and the summary. */
export interface AcrossResult {
  drops: Map<number, Drop>;
  picks: Map<number, SelectionPick>;
  selection?: SelectionSummary;
}

/**
 * The selection-wide filters over the candidates that passed the per-trajectory ones: returns
 * the drop of every candidate that is dropped (by `index`). De-duplication first: `exact`, same
 * task and same action sequence (the best of each group stays, the others are `duplicate` of
 * it); `near`, those exact duplicates too, then near-copies within a task
 * (dataset/nearDuplicates.ts; `near_duplicate`, with the kept one and the estimated
 * similarities). Then at most K per task (`bestPerTask` is K = 1),
 * ranked by `compareAttempts`. Tasks are matched by `task_id` across every source. Last, `select`
 * keeps K of those left (dataset/diversity.ts `selectDiverse`; the others are `not_selected`, the
 * picks are returned with why). Throws Error when `near` or `select` is asked for and a candidate
 * was summarised without its signatures (see `acrossSigner`), and selectDiverse's Error when the
 * quotas do not fit in K.
 */
export function selectAcross(candidates: CandidateSummary[], f: SelectionFilters): AcrossResult {
  const drops = new Map<number, Drop>();
  let alive = candidates;
  const mode = dedupeMode(f);
  // Identical action sequences are duplicates in either mode (near's estimate would miss a pair
  // whose diffs differ, yet as training rows their model turns are the same).
  if (mode === 'exact' || mode === 'near') {
    const groups = new Map<string, CandidateSummary[]>();
    for (const s of alive) {
      const key = `${s.task_id}\u0000${s.action_hash}`;
      const g = groups.get(key);
      if (g) g.push(s);
      else groups.set(key, [s]);
    }
    for (const g of groups.values()) {
      if (g.length < 2) continue;
      g.sort(compareAttempts);
      for (const s of g.slice(1)) drops.set(s.index, { reason: 'duplicate', detail: `same task and actions as ${g[0]!.file}` });
    }
    alive = alive.filter((s) => !drops.has(s.index));
  }
  if (mode === 'near') {
    const threshold = f.nearThreshold ?? NEAR_DUPLICATE_THRESHOLD;
    const ranked = [...alive].sort(compareAttempts);
    const byIndex = new Map(ranked.map((s) => [s.index, s]));
    const matches = findNearDuplicates(
      ranked.map((s) => {
        if (!s.near) throw new Error(`${s.file}: summarised without near-duplicate signatures (summarize needs a NearSigner for dedupe "near")`);
        return { index: s.index, task_id: s.task_id, near: s.near };
      }),
      threshold,
    );
    for (const [index, m] of matches) {
      const k = byIndex.get(m.kept)!;
      const via = m.via !== undefined ? byIndex.get(m.via)!.file : undefined;
      drops.set(index, {
        reason: 'near_duplicate',
        detail: `a near-copy of ${k.file} (estimated Jaccard ${m.jaccard.toFixed(3)} of the actions, ${m.diff_jaccard.toFixed(3)} of the diff; threshold ${threshold}${via ? `; found near ${via}, of the same group` : ''})`,
        near_duplicate_of: { file: k.file, run_id: k.run_id, task_id: k.task_id, attempt: k.attempt, jaccard: m.jaccard, diff_jaccard: m.diff_jaccard, ...(via ? { via } : {}) },
      });
    }
    alive = alive.filter((s) => !drops.has(s.index));
  }
  const k = f.bestPerTask ? 1 : f.maxPerTask;
  if (k !== undefined) {
    const byTask = new Map<string, CandidateSummary[]>();
    for (const s of alive) {
      const g = byTask.get(s.task_id);
      if (g) g.push(s);
      else byTask.set(s.task_id, [s]);
    }
    for (const g of byTask.values()) {
      if (g.length <= k) continue;
      g.sort(compareAttempts);
      for (const s of g.slice(k)) {
        drops.set(s.index, k === 1 && f.bestPerTask ? { reason: 'not_best_attempt', detail: `${g[0]!.file} is better (reward ${g[0]!.reward ?? 'unknown'}, ${g[0]!.steps} steps)` } : { reason: 'over_max_per_task', detail: `the task already has ${k} better trajectories` });
      }
    }
    alive = alive.filter((s) => !drops.has(s.index));
  }
  if (!f.select) return { drops, picks: new Map() };
  const chosen = selectDiverse(
    alive.map((s) => {
      if (!s.diversity) throw new Error(`${s.file}: summarised without diversity features (summarize needs acrossSigner for select)`);
      return { index: s.index, file: s.file, key: `${s.run_id}\u0000${s.task_id}\u0000${s.attempt}\u0000${s.action_hash}`, features: s.diversity };
    }),
    f.select,
  );
  for (const [index, ns] of chosen.left) {
    drops.set(index, { reason: 'not_selected', detail: `not among the ${f.select.k} selected by ${f.select.by}; nearest selected: ${ns.file} (cluster ${ns.cluster}, distance ${ns.distance.toFixed(3)})`, not_selected: ns });
  }
  return { drops, picks: chosen.picks, selection: chosen.summary };
}

/**
 * Parses `train=0.9,val=0.1` (common/src/dataset.ts `parseSplit`).
 * Throws Error with a message saying what is wrong.
 */
export function parseSplitSpec(spec: string): SplitSpec[] {
  const split = parseSplit(spec);
  if (typeof split === 'string') throw new Error(`--split: ${split}`);
  return split;
}

/** Throws when the fractions do not sum to 1 (±1e-6) or a name repeats (common/src/dataset.ts `splitProblem`). */
export function validateSplit(split: SplitSpec[]): void {
  const problem = splitProblem(split);
  if (problem) throw new Error(`--split: ${problem}`);
}

/**
 * Assigns every task to one split: tasks are ordered by sha256(`<seed>\0<task_id>`) (a seeded
 * shuffle that does not depend on the order they were read in), and the splits take
 * consecutive runs of that order, sized by largest remainder so the counts add up exactly
 * (10 tasks at 0.9 / 0.1 → 9 and 1). The same seed and task set always give the same split.
 */
export function assignSplits(taskIds: Iterable<string>, split: SplitSpec[], seed: number): Map<string, string> {
  const ids = [...new Set(taskIds)];
  const keyed = ids.map((id) => ({ id, key: createHash('sha256').update(`${seed}\u0000${id}`).digest('hex') }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const n = keyed.length;
  const exact = split.map((s) => s.fraction * n);
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((a, c) => a + c, 0);
  const byRemainder = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let j = 0; left > 0; j++, left--) counts[byRemainder[j % byRemainder.length]!.i]!++;
  const out = new Map<string, string>();
  let at = 0;
  split.forEach((s, i) => {
    for (let c = 0; c < counts[i]!; c++) out.set(keyed[at++]!.id, s.name);
  });
  return out;
}
