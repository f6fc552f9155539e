/**
 * The quality report (common/src/qualityReport.ts) of the trajectories behind some sources:
 * `trajlab report` and the daemon's `trajlab/dataset/quality` (the Dataset panel's Quality tab).
 *
 * One pass over the sources through `scanSources` (stats.ts), the same reading, filters, flags
 * (dataset/flags.ts) and secret scan (dataset/secretScan.ts) as `trajlab stats`, with every
 * selected trajectory also signed for near-duplicates (dataset/nearDuplicates.ts). It lives in
 * stats/ because it builds on the statistics (stats/ imports dataset/, never the reverse). Memory is that of stats plus
 * ~1 KB of signatures per trajectory, as an export with `--dedupe near`: summaries, never
 * trajectories, are kept. The figures (flag counts, coverage distributions) come from `statsOf`;
 * near-duplicate clusters from `findNearDuplicates` at the report's threshold, ranked as an
 * export ranks them (`compareAttempts`).
 *
 * Nothing secret reaches the report: secrets are described by rule and JSON path only, and every
 * text taken from a trajectory (a quoted command, a task id) is scanned and redacted as
 * `<REDACTED:rule>` before it goes in.
 */
import type { DatasetProgress, SelectionFilters, SelectionSummary, TrajectoryFlag } from '../../../common/src/dataset';
import { NEAR_DUPLICATE_THRESHOLD, TRAJECTORY_FLAGS } from '../../../common/src/dataset';
import { QUALITY_REPORT_VERSION, type NearCluster, type QualityExample, type QualityReport, type QualitySecretRule, type QualityTrajectory } from '../../../common/src/qualityReport';
import { scanSources, statsOf } from './stats';
import { TRAJLAB_VERSION } from '../version';
import { describeFlag } from '../dataset/flags';
import { findNearDuplicates } from '../dataset/nearDuplicates';
import { redactText } from '../dataset/secretScan';
import { compareAttempts } from '../dataset/select';
import type { TrajectorySummary } from '../dataset/summary';

/** Default caps of the report's lists (QualityReport.limits). */
export const QUALITY_LIMITS = { examples: 10, clusters: 50, members: 20, tampered: 100 } as const;
/** Repositories listed by name in the coverage (the rest are summed as `(other)`). */
const REPOSITORIES_LISTED = 30;
/** Characters of a finding's detail line. */
const DETAIL_CHARS = 300;

/** What `computeQualityReport` is asked for. */
export interface QualityReportOptions {
  /** The same filters as stats; unfinished and tampered trajectories are counted unless they say otherwise. */
  filters?: SelectionFilters;
  /** Jaccard threshold of the near-duplicate clusters, in (0, 1] (default NEAR_DUPLICATE_THRESHOLD, as `--dedupe near`). */
  nearThreshold?: number;
  /** Examples listed per flag and per secret rule (default QUALITY_LIMITS.examples), ≥ 0. */
  examples?: number;
  /** Scan for secrets (default true). */
  secrets?: boolean;
}

/**
 * The quality report of the trajectories behind `sources` (see the module comment). Throws
 * RangeError for a threshold outside (0, 1] or a negative example count, Error for invalid
 * filters, SourceError for a missing path, AbortedError when `signal` fires.
 */
export async function computeQualityReport(sources: string[], options: QualityReportOptions = {}, onProgress?: (p: DatasetProgress) => void, signal?: AbortSignal): Promise<QualityReport> {
  const threshold = options.nearThreshold ?? NEAR_DUPLICATE_THRESHOLD;
  if (!(typeof threshold === 'number' && threshold > 0 && threshold <= 1)) throw new RangeError(`the near-duplicate threshold must be a number in (0, 1] (got ${String(threshold)})`);
  const examples = options.examples ?? QUALITY_LIMITS.examples;
  if (!Number.isInteger(examples) || examples < 0) throw new RangeError(`the number of examples must be an integer ≥ 0 (got ${String(examples)})`);
  const limits = { ...QUALITY_LIMITS, examples };
  const filters = { includeUnfinished: true, keepTampered: true, ...options.filters };
  const scanSecrets = options.secrets !== false;

  // Secrets by rule, collected as the scan goes (where only; the texts are gone once scanned).
  const rules: Record<string, QualitySecretRule> = {};
  const scan = await scanSources(sources, filters, onProgress, signal, {
    secrets: scanSecrets,
    sign: true,
    onSecrets: (s, found) => {
      for (const [type, n] of Object.entries(found.byType)) {
        const r = (rules[type] ??= { found: 0, trajectories: 0, examples: [] });
        r.found += n;
        r.trajectories++;
        const first = found.findings.find((f) => f.type === type);
        if (first && r.examples.length < limits.examples) r.examples.push({ ...refOf(s), step: first.step, detail: first.path });
      }
    },
  });
  const stats = statsOf(scan);
  const ss = scan.summaries;

  const flags = Object.fromEntries(TRAJECTORY_FLAGS.map((f) => [f, { count: stats.flags[f], examples: [] as QualityExample[] }])) as QualityReport['flags'];
  const tampered: QualityExample[] = [];
  for (const s of ss) {
    for (const f of s.flags) {
      if (flags[f].examples.length < limits.examples) flags[f].examples.push(await exampleOf(s, f));
    }
    if (s.flags.includes('tampered') && tampered.length < limits.tampered) {
      tampered.push({ ...(await exampleOf(s, 'tampered')), detail: clip(await redactText(s.flag_facts.tampered.join('; '))) });
    }
  }

  const repos = new Map<string, number>();
  for (const s of ss) repos.set(s.repo ?? '(none)', (repos.get(s.repo ?? '(none)') ?? 0) + 1);
  const byRepo = [...repos].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const repositories: Record<string, number> = {};
  for (const [k, v] of byRepo.slice(0, REPOSITORIES_LISTED)) repositories[await redactText(k)] = v;
  const rest = byRepo.slice(REPOSITORIES_LISTED).reduce((a, [, v]) => a + v, 0);
  if (rest) repositories['(other)'] = rest;

  const redactedRules: Record<string, QualitySecretRule> = {};
  for (const [k, r] of Object.entries(rules)) redactedRules[k] = { ...r, examples: await Promise.all(r.examples.map(async (e) => ({ ...e, task_id: await redactText(e.task_id) }))) };

  return {
    schema_version: QUALITY_REPORT_VERSION,
    trajlab_version: TRAJLAB_VERSION,
    created_at: new Date().toISOString(),
    sources: scan.sources,
    limits,
    trajectories: ss.length,
    tasks: stats.overall.tasks,
    runs: stats.runs,
    corrupt: scan.corrupt,
    dropped: scan.dropped,
    dropped_by_reason: scan.droppedByReason,
    flags,
    near_duplicates: await nearClusters(ss, threshold, limits),
    selection: scan.selection ? await redactedSelection(scan.selection) : null,
    secrets: scan.secrets ? { mode: scan.secrets.mode, scanner: scan.secrets.scanner, found: scan.secrets.found, by_rule: scan.secrets.by_rule, trajectories: scan.secrets.trajectories, rules: redactedRules } : null,
    tampered,
    coverage: {
      task_types: Object.fromEntries(Object.entries(stats.by_task_type).map(([k, g]) => [k, g.trajectories])),
      repositories,
      reward: stats.reward,
      steps: stats.steps,
      exit_statuses: stats.exit_statuses,
    },
  };
}

/** `selection` with its group names redacted (a repository URL or a metadata value may hold a token). */
async function redactedSelection(selection: SelectionSummary): Promise<SelectionSummary> {
  const coverage: SelectionSummary['coverage'] = {};
  for (const [key, groups] of Object.entries(selection.coverage)) {
    const out: SelectionSummary['coverage'][string] = {};
    for (const [group, c] of Object.entries(groups)) out[await redactText(group)] = c;
    coverage[key] = out;
  }
  return { ...selection, coverage };
}

/** The near-duplicate clusters of `ss` at `threshold` (see QualityReport.near_duplicates). */
async function nearClusters(ss: TrajectorySummary[], threshold: number, limits: QualityReport['limits']): Promise<QualityReport['near_duplicates']> {
  const ranked = [...ss].sort(compareAttempts);
  const byIndex = new Map(ranked.map((s) => [s.index, s]));
  const matches = findNearDuplicates(
    ranked.map((s) => ({ index: s.index, task_id: s.task_id, near: s.near ?? { actions: null, diff: null } })),
    threshold,
  );
  const groups = new Map<number, number[]>();
  for (const [index, m] of matches) {
    const g = groups.get(m.kept);
    if (g) g.push(index);
    else groups.set(m.kept, [index]);
  }
  const sorted = [...groups].sort((a, b) => b[1].length - a[1].length || a[0] - b[0]);
  const largest: NearCluster[] = [];
  for (const [kept, members] of sorted.slice(0, limits.clusters)) {
    const k = byIndex.get(kept)!;
    const listed = members
      .map((i) => byIndex.get(i)!)
      .sort(compareAttempts)
      .slice(0, limits.members);
    largest.push({
      task_id: await redactText(k.task_id),
      size: members.length + 1,
      kept: await trajectoryOf(k),
      members: await Promise.all(listed.map(async (m) => ({ ...(await trajectoryOf(m)), jaccard: matches.get(m.index)!.jaccard, diff_jaccard: matches.get(m.index)!.diff_jaccard }))),
    });
  }
  return { threshold, clusters: groups.size, in_clusters: matches.size + groups.size, redundant: matches.size, largest };
}

/** What the report says of a trajectory, its task id redacted. */
async function trajectoryOf(s: TrajectorySummary): Promise<QualityTrajectory> {
  return { ...refOf(s), task_id: await redactText(s.task_id) };
}

function refOf(s: TrajectorySummary): QualityTrajectory {
  return { file: s.file, run_id: s.run_id, task_id: s.task_id, attempt: s.attempt, task_type: s.task_type, reward: s.reward, steps: s.steps };
}

/** An example of flag `f` on `s`: its step and why, redacted and clipped. */
async function exampleOf(s: TrajectorySummary, f: TrajectoryFlag): Promise<QualityExample> {
  return { ...(await trajectoryOf(s)), step: s.flag_facts.steps[f] ?? null, detail: clip(await redactText(describeFlag(f, s.flag_facts))) };
}

function clip(text: string): string {
  return text.length > DETAIL_CHARS ? `${text.slice(0, DETAIL_CHARS - 1)}…` : text;
}
