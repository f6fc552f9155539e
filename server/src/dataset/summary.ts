/**
 * The few facts about one trajectory that selection (select.ts) and statistics (stats/) need,
 * kept instead of the trajectory (a few hundred bytes each): identity, outcome, size, cost,
 * a hash of its action sequence (de-duplication), its failing commands, its curation flags
 * (flags.ts) and, for near-duplicate detection and diversity selection only, its MinHash
 * signatures (~1 KB each).
 */
import { clipAtSpace } from '../../../common/src/format';
import { createHash } from 'node:crypto';
import type { TrajectoryFlag, TrajectoryFlagFacts, TrajectoryRow } from '../../../common/src/dataset';
import type { Action, Trajectory } from '../../../common/src/trajectory';
import { browserCallArgs } from '../../../common/src/trajectory';
import { flagsOf } from './flags';
import type { DiversityFeatures } from './diversity';
import type { NearSignature } from './nearDuplicates';
import type { RunContext } from './sources';

/**
 * What is kept of a trajectory once read: the TrajectoryRow that statistics show (identity,
 * outcome, size, cost) plus what selection needs. Unknown values are null (never a placeholder 0).
 */
export interface TrajectorySummary extends TrajectoryRow {
  /** Position in source order (ties in rankings go to the earlier one). */
  index: number;
  /** sha256 of the file's bytes (hex); '' when not computed (statistics). */
  sha256: string;
  model: string | null;
  status: 'running' | 'finished';
  /** sha256 of the action sequence (kind and arguments of every action, in order). */
  action_hash: string;
  /** Replies the agent could not parse (format errors). */
  format_errors: number;
  /** Assistant messages in the conversation (0: nothing to train on). */
  assistant_messages: number;
  /** Failing commands (exit code ≠ 0), at most MAX_FAILING per trajectory. */
  failing: { program: string; command: string }[];
  /**
   * The task's repository, for coverage: `metadata.repo` (SWE-bench / SWE-smith instances:
   * `django/django`), else `workspace.repo` (a git URL or a local path); null when neither.
   */
  repo: string | null;
  /** Curation flags (dataset/flags.ts). */
  flags: TrajectoryFlag[];
  flag_facts: TrajectoryFlagFacts;
  /** MinHash signatures (dataset/nearDuplicates.ts `NearSigner.sign`), set for `dedupe: 'near'` once the per-trajectory filters passed. */
  near?: NearSignature;
  /** Signature and quota groups (dataset/diversity.ts `diversityFeatures`), set for `select` once the per-trajectory filters passed. */
  diversity?: DiversityFeatures;
}

/**
 * What a candidate of the choices across trajectories (select.ts `selectAcross`) keeps between
 * an export's two passes: its summary without what only statistics read (the failing commands
 * and the flags' facts: about half of a summary's memory, so 10,000 candidates hold ~25 MB less).
 */
export type CandidateSummary = Omit<TrajectorySummary, 'failing' | 'flag_facts'>;

/** `s` as a CandidateSummary (a new object; `s` itself is unchanged). */
export function candidateOf(s: TrajectorySummary): CandidateSummary {
  const { failing: _failing, flag_facts: _facts, ...rest } = s;
  return rest;
}

const MAX_FAILING = 20;

/** Summarises a trajectory read from `file` (`run`: its run, for report.json's verdict). Pure. */
export function summarize(t: Trajectory, file: string, sha256: string, index: number, run: RunContext | undefined): TrajectorySummary {
  const unknown = new Set(t.imported_from?.unknown_fields ?? []);
  const result = t.result;
  const rewardKnown = !!result && !unknown.has('result.reward');
  const success = rewardKnown ? result!.success : null;
  let resolved: boolean | null = success;
  if (run?.resolved && result) resolved = run.resolved.has(t.task_id) && result.success;
  const tokensKnown = !unknown.has('totals.prompt_tokens') && !unknown.has('totals.completion_tokens');
  const failing: TrajectorySummary['failing'] = [];
  let formatErrors = 0;
  const hash = createHash('sha256');
  for (const s of t.steps) {
    s.actions.forEach((a, i) => {
      hash.update(actionKey(a));
      hash.update('\u0000');
      if (a.kind === 'format_error') formatErrors++;
      const o = s.observations[i];
      if (a.kind === 'bash' && o && o.exit_code !== null && o.exit_code !== 0 && failing.length < MAX_FAILING) {
        failing.push({ program: commandProgram(a.command), command: clipAtSpace(a.command, 200) });
      }
    });
    hash.update('\u0001');
  }
  let assistant = 0;
  for (const m of t.messages) if (m.role === 'assistant') assistant++;
  const { flags, facts } = flagsOf(t);
  return {
    index,
    file,
    sha256,
    run_id: t.run_id || run?.runId || '',
    task_id: t.task_id,
    attempt: t.attempt,
    task_type: t.task?.task_type ?? 'unknown',
    model: t.model?.spec || t.model?.name || null,
    status: t.status,
    exit_status: result?.exit_status ?? null,
    reward: rewardKnown ? result!.reward : null,
    success,
    resolved,
    steps: t.steps.length,
    tokens: tokensKnown ? t.totals.prompt_tokens + t.totals.completion_tokens : null,
    cost_usd: unknown.has('totals.cost_usd') ? null : t.totals.cost_usd,
    duration_ms: unknown.has('totals.duration_ms') ? null : t.totals.duration_ms,
    ended_at: t.ended_at || null,
    action_hash: hash.digest('hex'),
    format_errors: formatErrors,
    assistant_messages: assistant,
    failing,
    repo: repoOf(t),
    flags,
    flag_facts: facts,
  };
}

/** See TrajectorySummary.repo (a damaged field is no repository). */
function repoOf(t: Trajectory): string | null {
  const meta = t.task?.metadata as Record<string, unknown> | undefined;
  const repo = meta && typeof meta === 'object' ? meta.repo : undefined;
  if (typeof repo === 'string' && repo.trim()) return repo.trim();
  const ws = t.task?.workspace?.repo;
  return typeof ws === 'string' && ws.trim() ? ws.trim() : null;
}

/** What identifies an action for de-duplication: its kind and arguments, never its tool call id. */
function actionKey(a: Action): string {
  switch (a.kind) {
    case 'bash':
      return `bash\u0002${a.command}`;
    case 'edit':
      return `edit\u0002${a.command}\u0002${a.path}\u0002${stableJson(a.args)}`;
    case 'submit':
      return `submit\u0002${a.answer ?? ''}`;
    case 'format_error':
      return 'format_error';
    case 'browser':
      return `browser\u0002${stableJson(browserCallArgs(a))}`;
  }
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * The program a shell command runs, for grouping failures: the first word of its last
 * `&&` / `;` / `|` segment that is not `cd …`, with `VAR=value` prefixes and `sudo` / `timeout N`
 * / `env` wrappers skipped (`cd /testbed && python -m pytest x` → `python`). Examples:
 * `pytest -q` → `pytest`; `FOO=1 make test` → `make`.
 */
export function commandProgram(command: string): string {
  const segments = command
    .split(/&&|\|\||;|\n/)
    .map((s) => s.trim())
    .filter(Boolean);
  const seg = [...segments].reverse().find((s) => !/^cd(\s|$)/.test(s)) ?? segments[0] ?? '';
  const words = seg.split(/\s+/);
  let i = 0;
  while (i < words.length) {
    const w = words[i]!;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w) || w === 'sudo' || w === 'env' || w === 'exec' || w === 'time' || w === 'nohup') i++;
    else if (w === 'timeout') i += 2;
    else break;
  }
  const prog = (words[i] ?? '').replace(/^["']|["']$/g, '');
  return prog.includes('/') ? prog.slice(prog.lastIndexOf('/') + 1) || prog : prog || '(empty)';
}
