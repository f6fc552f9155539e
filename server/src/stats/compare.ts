/**
 * Comparing two runs (or any two selections of trajectories): `trajlab compare A B` and the
 * Compare runs view. Per task, side by side: attempts, mean reward, resolved, mean steps and
 * cost; the tasks B fixed (unresolved in A, resolved in B) and broke (the reverse); and overall
 * paired differences B − A over the tasks both sides have, with a 95% Student's t confidence
 * interval (n − 1 degrees of freedom), plus McNemar's exact test on fixed vs broken for the
 * resolved rate.
 */
import type { DatasetProgress, CompareSide, PairedDifference, RunComparison, SelectionFilters } from '../../../common/src/dataset';
import { jStat } from 'jstat';
import type { TrajectorySummary } from '../dataset/summary';
import { groupBy, groupStats, scanSources } from './stats';

/**
 * Compares the trajectories behind `a` and `b` (each a list of sources: run folders,
 * trajectory folders, files). `labels` name the sides (default: the run id when a side is one
 * run, else its paths). Tampered trajectories are compared unless the filters say
 * `keepTampered: false`. Errors as `scanSources`.
 */
export async function compareRuns(
  a: string[],
  b: string[],
  options: { filters?: SelectionFilters; labels?: [string, string] } = {},
  onProgress?: (p: DatasetProgress & { side: 'a' | 'b' }) => void,
  signal?: AbortSignal,
): Promise<RunComparison> {
  const filters = { keepTampered: true, ...options.filters };
  const sa = await scanSources(a, filters, onProgress && ((p) => onProgress({ ...p, side: 'a' })), signal);
  const sb = await scanSources(b, filters, onProgress && ((p) => onProgress({ ...p, side: 'b' })), signal);
  const label = (scan: typeof sa, paths: string[]) => {
    const runs = new Set(scan.summaries.map((s) => s.run_id).filter(Boolean));
    return runs.size === 1 ? [...runs][0]! : paths.join(', ');
  };
  return compareSummaries(sa.summaries, sb.summaries, options.labels ?? [label(sa, a), label(sb, b)]);
}

/** The comparison of two sets of summaries (see the module comment). Pure. */
export function compareSummaries(a: TrajectorySummary[], b: TrajectorySummary[], labels: [string, string]): RunComparison {
  const ta = groupBy(a, (s) => s.task_id);
  const tb = groupBy(b, (s) => s.task_id);
  const ids = [...new Set([...ta.keys(), ...tb.keys()])].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const tasks: RunComparison['tasks'] = [];
  const pairs = { reward: [] as number[], resolved: [] as number[], steps: [] as number[], cost: [] as number[] };
  const fixed: string[] = [];
  const broken: string[] = [];
  for (const id of ids) {
    const sideA = ta.has(id) ? side(ta.get(id)!) : null;
    const sideB = tb.has(id) ? side(tb.get(id)!) : null;
    let change: RunComparison['tasks'][number]['change'];
    if (!sideA) change = 'only_b';
    else if (!sideB) change = 'only_a';
    else {
      change = sideA.resolved === sideB.resolved ? (sideA.resolved ? 'same_resolved' : 'same_unresolved') : sideB.resolved ? 'fixed' : 'broken';
      if (change === 'fixed') fixed.push(id);
      if (change === 'broken') broken.push(id);
      if (sideA.reward_mean !== null && sideB.reward_mean !== null) pairs.reward.push(sideB.reward_mean - sideA.reward_mean);
      pairs.resolved.push(Number(sideB.resolved) - Number(sideA.resolved));
      pairs.steps.push(sideB.steps_mean - sideA.steps_mean);
      if (sideA.cost_usd_mean !== null && sideB.cost_usd_mean !== null) pairs.cost.push(sideB.cost_usd_mean - sideA.cost_usd_mean);
    }
    tasks.push({ task_id: id, a: sideA, b: sideB, change });
  }
  return {
    a: { label: labels[0], stats: groupStats(a) },
    b: { label: labels[1], stats: groupStats(b) },
    tasks,
    fixed,
    broken,
    tasks_in_both: pairs.resolved.length,
    reward: paired(pairs.reward),
    resolved: { ...paired(pairs.resolved), mcnemar_p: pairs.resolved.length ? mcnemarExact(fixed.length, broken.length) : null },
    steps: paired(pairs.steps),
    cost_usd: paired(pairs.cost),
  };
}

function mean(xs: number[]): number | null {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

function side(g: TrajectorySummary[]): CompareSide {
  const rewards = g.map((s) => s.reward).filter((r): r is number => r !== null);
  const costs = g.map((s) => s.cost_usd).filter((c): c is number => c !== null);
  return {
    attempts: g.length,
    reward_mean: mean(rewards),
    resolved: g.some((s) => s.resolved === true),
    steps_mean: mean(g.map((s) => s.steps)) ?? 0,
    cost_usd_mean: costs.length === g.length ? mean(costs) : null,
  };
}

/**
 * Mean, standard deviation (n − 1), standard error and 95% confidence interval of paired
 * differences: Student's t interval, mean ± t(0.975, n − 1)·se (t quantile from jStat), which
 * for small task sets is wider than the normal approximation's ±1.96·se (n = 5: ±2.776·se) and
 * tends to it as n grows. Null sd / se / ci95 below 2 pairs.
 */
export function paired(d: number[]): PairedDifference {
  const n = d.length;
  const m = mean(d);
  if (m === null) return { n, mean: null, sd: null, se: null, ci95: null };
  if (n < 2) return { n, mean: m, sd: null, se: null, ci95: null };
  const sd = Math.sqrt(d.reduce((a, x) => a + (x - m) ** 2, 0) / (n - 1));
  const se = sd / Math.sqrt(n);
  const t = jStat.studentt.inv(0.975, n - 1);
  return { n, mean: m, sd, se, ci95: [m - t * se, m + t * se] };
}

/**
 * McNemar's exact test (two-sided) for `b` discordant pairs one way and `c` the other:
 * 2 · P(X ≤ min(b, c)) for X ~ Binomial(b + c, 1/2), capped at 1; 1 when there are none.
 * Computed in log space, so it holds for thousands of pairs.
 */
export function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  let logC = 0;
  const logs: number[] = [];
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    logs.push(logC + n * Math.log(0.5));
  }
  const top = Math.max(...logs);
  const tail = Math.exp(top) * logs.reduce((a, l) => a + Math.exp(l - top), 0);
  return Math.min(1, 2 * tail);
}
