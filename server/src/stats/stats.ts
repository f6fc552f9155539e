/**
 * Dataset statistics (`trajlab stats`, the Dataset webview, the quality report): counts,
 * success and resolved rates, pass@k, reward / steps / tokens / cost / duration distributions
 * with histograms, exit statuses, the most failing commands, and the same figures per task
 * type and per run. Sources are read one at a time and reduced to summaries
 * (dataset/summary.ts); the figures are computed over the summaries.
 */
import type {
  DatasetProgress,
  DatasetStats,
  Distribution,
  DropReason,
  GroupStats,
  ManifestSource,
  SelectionFilters,
  SelectionSummary,
  TrajectoryFlag,
  TrajectoryRow,
} from '../../../common/src/dataset';
import { TRAJECTORY_FLAGS } from '../../../common/src/dataset';
import { scanFiles } from '../dataset/scanFiles';
import { addToTally, emptyTally, type TrajectoryScan } from '../dataset/secretScan';
import { selectAcross, validateFilters } from '../dataset/select';
import { listSources, type RunContext } from '../dataset/sources';
import type { TrajectorySummary } from '../dataset/summary';
import { passAtK } from '../run/report';
import { TRAJLAB_VERSION } from '../version';

/** Options of `computeStats`. */
export interface StatsOptions {
  /** The same filters as an export; unfinished trajectories are included unless `includeUnfinished: false`. */
  filters?: SelectionFilters;
  /** Include one row per trajectory (the Dataset webview's table). */
  rows?: boolean;
  /** Scan the texts for secrets, as an export would (dataset/secretScan.ts). Default true. */
  secrets?: boolean;
}

/** What a scan of sources gives: the selected summaries and what was left out. */
export interface ScanResult {
  sources: ManifestSource[];
  runs: RunContext[];
  summaries: TrajectorySummary[];
  corrupt: { file: string; detail: string }[];
  dropped: number;
  droppedByReason: Partial<Record<DropReason, number>>;
  warnings: string[];
  /** With `filters.select`: what it chose (DatasetStats.selection). */
  selection?: SelectionSummary;
  /** With `secrets: true`: the secrets in the selected trajectories (see DatasetStats.secrets). */
  secrets?: NonNullable<DatasetStats['secrets']>;
}

/** What `scanSources` does beyond selecting. */
export interface ScanOptions {
  /** Scan each selected trajectory's texts for secrets (ScanResult.secrets). */
  secrets?: boolean;
  /** Sign every selected trajectory for near-duplicate detection (TrajectorySummary.near; ~1 KB each), whatever the filters' dedupe. */
  sign?: boolean;
  /** With `secrets`: called once per selected trajectory that holds any, in source order, with where they are (never the secrets). */
  onSecrets?(s: TrajectorySummary, scan: TrajectoryScan): void;
}

/** Trajectories listed by name in DatasetStats.secrets (the counts cover all). */
const SECRET_FILES_LISTED = 100;

/**
 * Reads the trajectories behind `sources` one at a time and keeps the summaries of those that
 * pass `filters` (per trajectory, then selection-wide); with `secrets`, also scans each kept
 * trajectory's texts for secrets (keeping only counts and where, never the text). Throws Error for
 * invalid filters, SourceError for a missing path, AbortedError when `signal` fires.
 */
export async function scanSources(sources: string[], filters: SelectionFilters, onProgress?: (p: DatasetProgress) => void, signal?: AbortSignal, opts: ScanOptions = {}): Promise<ScanResult> {
  const problems = validateFilters(filters);
  if (problems.length) throw new Error(problems.join('; '));
  const listing = await listSources(sources, signal);
  const kept: TrajectorySummary[] = [];
  const corrupt: ScanResult['corrupt'] = [];
  const byReason: Partial<Record<DropReason, number>> = {};
  let dropped = 0;
  const leaks = new Map<number, TrajectoryScan>();
  const dropOne = (r: DropReason) => {
    byReason[r] = (byReason[r] ?? 0) + 1;
    dropped++;
  };
  let i = 0;
  const total = listing.files.length;
  const job = { filters, near: !!opts.sign, secrets: !!opts.secrets };
  for await (const r of scanFiles(listing.files, job, signal, { warn: (w) => listing.warnings.push(w) })) {
    const idx = i++;
    if (!r.ok) {
      if (r.reason === 'corrupt') corrupt.push({ file: r.file, detail: r.detail });
      dropOne(r.reason);
    } else if (r.drop) dropOne(r.drop);
    else {
      kept.push(r.summary);
      if (r.leaks) leaks.set(idx, r.leaks);
    }
    if (onProgress && (i % 100 === 0 || i === total)) onProgress({ phase: 'scan', done: i, total, kept: kept.length, dropped });
  }
  const { drops: across, selection } = selectAcross(kept, filters);
  for (const d of across.values()) dropOne(d.reason);
  let secrets: ScanResult['secrets'];
  if (opts.secrets) {
    secrets = { ...emptyTally('keep'), files: [] };
    for (const s of kept) {
      const found = leaks.get(s.index);
      if (!found || across.has(s.index)) continue;
      addToTally(secrets, found);
      opts.onSecrets?.(s, found);
      if (secrets.files.length < SECRET_FILES_LISTED) {
        secrets.files.push({ file: s.file, run_id: s.run_id, task_id: s.task_id, attempt: s.attempt, by_rule: found.byType, where: found.findings.map((f) => `${f.path}: ${f.type}`) });
      }
    }
  }
  return {
    secrets,
    ...(selection ? { selection } : {}),
    sources: listing.sources,
    runs: listing.runs,
    summaries: across.size ? kept.filter((s) => !across.has(s.index)) : kept,
    corrupt,
    dropped,
    droppedByReason: byReason,
    warnings: listing.warnings,
  };
}

/**
 * The statistics of the trajectories behind `sources` (see the module comment and
 * DatasetStats). Unfinished and tampered trajectories are counted unless the filters say
 * `includeUnfinished: false` / `keepTampered: false`. Errors as `scanSources`.
 */
export async function computeStats(sources: string[], options: StatsOptions = {}, onProgress?: (p: DatasetProgress) => void, signal?: AbortSignal): Promise<DatasetStats> {
  const filters = { includeUnfinished: true, keepTampered: true, ...options.filters };
  const scan = await scanSources(sources, filters, onProgress, signal, { secrets: options.secrets !== false });
  return statsOf(scan, { rows: options.rows });
}

/** The statistics of scanned summaries. Pure. */
export function statsOf(scan: ScanResult, opts: { rows?: boolean } = {}): DatasetStats {
  const ss = scan.summaries;
  const models = new Map(scan.runs.map((r) => [r.runId, r.info?.options?.model ?? null]));
  const byType = groupBy(ss, (s) => s.task_type);
  const byRun = groupBy(ss, (s) => s.run_id || '(no run)');
  const exit: Record<string, number> = {};
  for (const s of ss) {
    const k = s.exit_status ?? 'unfinished';
    exit[k] = (exit[k] ?? 0) + 1;
  }
  const stats: DatasetStats = {
    trajlab_version: TRAJLAB_VERSION,
    sources: scan.sources,
    corrupt: scan.corrupt,
    dropped: scan.dropped,
    dropped_by_reason: scan.droppedByReason,
    runs: [...byRun.keys()],
    overall: { ...groupStats(ss), unfinished: ss.filter((s) => s.status !== 'finished').length, format_errors: ss.reduce((a, s) => a + s.format_errors, 0) },
    ...flagCounts(ss),
    pass_at_k: passAtKOf(ss),
    reward: distribution(ss.map((s) => s.reward), { bins: 10, unitRange: true }),
    steps: distribution(ss.map((s) => s.steps), { bins: 20, integer: true }),
    tokens: distribution(ss.map((s) => s.tokens), { bins: 20, integer: true }),
    cost_usd: distribution(ss.map((s) => s.cost_usd), { bins: 20 }),
    duration_ms: distribution(ss.map((s) => s.duration_ms), { bins: 20, integer: true }),
    exit_statuses: exit,
    top_failing_commands: topFailing(ss, 10),
    by_task_type: Object.fromEntries([...byType].map(([k, g]) => [k, { ...groupStats(g), steps_p50: quantile(sorted(g.map((s) => s.steps)), 0.5) }])),
    by_run: Object.fromEntries([...byRun].map(([k, g]) => [k, { ...groupStats(g), model: models.get(k) ?? g.find((s) => s.model)?.model ?? null }])),
    cost_over_time: costOverTime(ss, 200),
  };
  if (opts.rows) stats.rows = ss.map(rowOf);
  if (scan.secrets) stats.secrets = scan.secrets;
  if (scan.selection) stats.selection = scan.selection;
  return stats;
}

/** Trajectories per flag (every flag, 0 when none) and up to 5 example files of each. */
export function flagCounts(ss: TrajectorySummary[]): Pick<DatasetStats, 'flags' | 'flag_examples'> {
  const flags = Object.fromEntries(TRAJECTORY_FLAGS.map((f) => [f, 0])) as Record<TrajectoryFlag, number>;
  const examples: Partial<Record<TrajectoryFlag, string[]>> = {};
  for (const s of ss) {
    for (const f of s.flags) {
      flags[f]++;
      const e = (examples[f] ??= []);
      if (e.length < 5) e.push(s.file);
    }
  }
  return { flags, flag_examples: examples };
}

function rowOf(s: TrajectorySummary): TrajectoryRow {
  return {
    file: s.file,
    run_id: s.run_id,
    task_id: s.task_id,
    attempt: s.attempt,
    task_type: s.task_type,
    exit_status: s.exit_status,
    reward: s.reward,
    success: s.success,
    resolved: s.resolved,
    steps: s.steps,
    tokens: s.tokens,
    cost_usd: s.cost_usd,
    duration_ms: s.duration_ms,
    ended_at: s.ended_at,
  };
}

export function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const g = m.get(k);
    if (g) g.push(x);
    else m.set(k, [x]);
  }
  return m;
}

/** Counts and rates of a group (see GroupStats). */
export function groupStats(ss: TrajectorySummary[]): GroupStats {
  const known = ss.filter((s) => s.success !== null);
  const tasks = groupBy(ss, (s) => s.task_id);
  let resolvedTasks = 0;
  let knownTasks = 0;
  for (const g of tasks.values()) {
    if (g.some((s) => s.resolved !== null)) knownTasks++;
    if (g.some((s) => s.resolved === true)) resolvedTasks++;
  }
  const rewards = ss.map((s) => s.reward).filter((r): r is number => r !== null);
  return {
    trajectories: ss.length,
    tasks: tasks.size,
    success_rate: known.length ? known.filter((s) => s.success).length / known.length : null,
    resolved_rate: knownTasks ? resolvedTasks / tasks.size : null,
    reward_mean: rewards.length ? rewards.reduce((a, b) => a + b, 0) / rewards.length : null,
  };
}

/**
 * pass@k: per task and run, n attempts with a known outcome and c successes, the unbiased
 * estimator 1 − C(n−c, k) / C(n, k) (Chen et al. 2021), averaged over the (run, task) pairs
 * with n ≥ k. Attempts of different runs (different models or settings) are never pooled.
 */
export function passAtKOf(ss: TrajectorySummary[]): Record<string, { value: number; tasks: number }> {
  const perTask = [...groupBy(ss.filter((s) => s.success !== null), (s) => `${s.run_id}\u0000${s.task_id}`).values()].map((g) => ({ n: g.length, c: g.filter((s) => s.success).length }));
  const maxN = perTask.reduce((m, t) => Math.max(m, t.n), 0);
  const out: Record<string, { value: number; tasks: number }> = {};
  for (let k = 1; k <= maxN; k++) {
    const eligible = perTask.filter((t) => t.n >= k);
    out[`pass@${k}`] = { value: eligible.reduce((a, t) => a + passAtK(t.n, t.c, k), 0) / eligible.length, tasks: eligible.length };
  }
  return out;
}

function sorted(xs: number[]): Float64Array {
  return Float64Array.from(xs).sort();
}

/** Quantile `q` of an ascending array, linear interpolation between ranks (numpy's default); null when empty. */
export function quantile(asc: ArrayLike<number>, q: number): number | null {
  const n = asc.length;
  if (!n) return null;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return asc[lo]! + (h - lo) * (asc[hi]! - asc[lo]!);
}

/**
 * The distribution of `values` (nulls counted as unknown). Histogram: `unitRange` uses bins of
 * 0.1 over [0, 1] when every value lies there; otherwise `bins` equal bins from min to max
 * (integer widths for `integer` values).
 */
export function distribution(values: (number | null)[], opts: { bins: number; integer?: boolean; unitRange?: boolean }): Distribution {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const asc = Float64Array.from(known).sort();
  const n = asc.length;
  const sum = known.reduce((a, b) => a + b, 0);
  const d: Distribution = {
    count: n,
    unknown: values.length - n,
    sum,
    mean: n ? sum / n : null,
    min: n ? asc[0]! : null,
    p50: quantile(asc, 0.5),
    p90: quantile(asc, 0.9),
    max: n ? asc[n - 1]! : null,
    histogram: { edges: [], counts: [] },
  };
  if (!n) return d;
  const min = asc[0]!;
  const max = asc[n - 1]!;
  let edges: number[];
  if (opts.unitRange && min >= 0 && max <= 1) {
    edges = Array.from({ length: opts.bins + 1 }, (_, i) => +(i / opts.bins).toFixed(10));
  } else {
    let width = (max - min) / opts.bins;
    if (opts.integer) width = Math.max(1, Math.ceil((max - min + 1) / opts.bins));
    if (width <= 0) width = 1;
    const count = opts.integer ? Math.ceil((max - min + 1) / width) : opts.bins;
    edges = Array.from({ length: count + 1 }, (_, i) => min + i * width);
  }
  const counts = new Array<number>(edges.length - 1).fill(0);
  const last = counts.length - 1;
  const lo = edges[0]!;
  const w = edges[1]! - edges[0]!;
  for (let i = 0; i < n; i++) {
    const b = Math.min(last, Math.max(0, Math.floor((asc[i]! - lo) / w + 1e-9)));
    counts[b]!++;
  }
  d.histogram = { edges, counts };
  return d;
}

function topFailing(ss: TrajectorySummary[], top: number): DatasetStats['top_failing_commands'] {
  const m = new Map<string, { failures: number; trajectories: number; example: string }>();
  for (const s of ss) {
    const seen = new Set<string>();
    for (const f of s.failing) {
      const e = m.get(f.program) ?? { failures: 0, trajectories: 0, example: f.command };
      e.failures++;
      if (!seen.has(f.program)) {
        seen.add(f.program);
        e.trajectories++;
      }
      m.set(f.program, e);
    }
  }
  return [...m]
    .map(([program, e]) => ({ program, ...e }))
    .sort((a, b) => b.failures - a.failures || (a.program < b.program ? -1 : 1))
    .slice(0, top);
}

function costOverTime(ss: TrajectorySummary[], maxPoints: number): { t: string; cost_usd: number }[] {
  const pts = ss.filter((s) => s.ended_at && s.cost_usd !== null).sort((a, b) => (a.ended_at! < b.ended_at! ? -1 : a.ended_at! > b.ended_at! ? 1 : 0));
  const out: { t: string; cost_usd: number }[] = [];
  let cum = 0;
  const every = Math.max(1, Math.ceil(pts.length / maxPoints));
  pts.forEach((s, i) => {
    cum += s.cost_usd!;
    if (i % every === every - 1 || i === pts.length - 1) out.push({ t: s.ended_at!, cost_usd: cum });
  });
  return out;
}
