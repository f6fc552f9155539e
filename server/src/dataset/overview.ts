/**
 * A trajectory's overview: what a viewer shows of it, in data: the header (task, model, exit
 * status, reward, totals, diff stats) and one line per step (the action as a one-line command,
 * exit codes, tokens, cost). Used by `trajlab show` (cli/showText.ts) and the inspector
 * (inspect/view.ts). Not to be confused with a TrajectorySummary (summary.ts), the facts that
 * selection and statistics keep. Values the source did not record
 * (`imported_from.unknown_fields`, `usage` absent) are null here, never 0.
 */
import type { Action, ExitStatus, Step, Trajectory } from '../../../common/src/trajectory';
import { browserActionLine } from '../../../common/src/trajectory';
import { oneLine } from '../../../common/src/format';
import { taskPrompt } from '../../../common/src/task';

/** The header of a trajectory's overview. */
export interface TrajectoryOverview {
  task_id: string;
  /** The task prompt (may be long; clip for display). */
  description: string;
  /** `trajlab`, or the foreign format the file was read from. */
  format: string;
  /** The version the file states, null when none. */
  format_version: string | null;
  /** The agent that produced it: `name version` (`mini-swe-agent 2.3.0`, `trajlab 0.1.0`). */
  agent: string;
  /** The model's name as recorded, '' when unknown. */
  model: string;
  /** null while running or when the source records no outcome. */
  exit_status: ExitStatus | null;
  /** The source's own exit status word when imported (`Submitted`, `exit_cost`), else null. */
  source_exit_status: string | null;
  /** 0..1; null when unknown (not evaluated). */
  reward: number | null;
  success: boolean | null;
  error: string | null;
  steps: number;
  /** Tokens; null when unknown. */
  prompt_tokens: number | null;
  completion_tokens: number | null;
  /** USD; null when unknown. */
  cost_usd: number | null;
  /** ms; null when unknown. */
  duration_ms: number | null;
  diff: { files_changed: number; insertions: number; deletions: number } | null;
  submission_chars: number | null;
}

/** One step of the timeline. */
export interface StepOverview {
  index: number;
  /** One line per action (actionLine); a step without actions shows its tool calls or reply. */
  actions: string[];
  /** Per action: the exit code, null when unknown, `"missing"` when the source recorded no result. */
  exit_codes: (number | null | 'missing')[];
  /** prompt + completion tokens; null when unknown. */
  tokens: number | null;
  /** USD; null when unknown. */
  cost_usd: number | null;
  /** ms since the trajectory started; null when unknown. */
  elapsed_ms: number | null;
  error: string | null;
}

/** The header of a trajectory (see TrajectoryOverview). Pure. */
export function trajectoryOverview(t: Trajectory): TrajectoryOverview {
  const imp = t.imported_from;
  const unknown = new Set(imp?.unknown_fields ?? []);
  const r = t.result;
  const rewardKnown = !!r && !unknown.has('result.reward');
  return {
    task_id: t.task_id,
    description: taskPrompt(t.task),
    format: imp ? imp.format : 'trajlab',
    format_version: imp ? imp.version : t.schema_version,
    agent: imp ? [imp.agent.name || 'unknown agent', imp.agent.version].filter(Boolean).join(' ') : `${t.agent.name} ${t.agent.version}`,
    model: t.model.spec || t.model.name,
    exit_status: r ? r.exit_status : null,
    source_exit_status: imp?.exit_status ?? null,
    reward: rewardKnown ? r!.reward : null,
    success: rewardKnown ? r!.success : null,
    error: r?.error ?? null,
    steps: t.steps.length,
    prompt_tokens: unknown.has('totals.prompt_tokens') ? null : t.totals.prompt_tokens,
    completion_tokens: unknown.has('totals.completion_tokens') ? null : t.totals.completion_tokens,
    cost_usd: unknown.has('totals.cost_usd') ? null : t.totals.cost_usd,
    duration_ms: unknown.has('totals.duration_ms') ? null : t.totals.duration_ms,
    diff: r && r.diff ? { files_changed: r.diff_stats.files_changed, insertions: r.diff_stats.insertions, deletions: r.diff_stats.deletions } : null,
    submission_chars: r?.submission != null ? r.submission.length : null,
  };
}

/** One line per step (see StepOverview). Pure; linear in the number of steps. */
export function stepOverviews(t: Trajectory): StepOverview[] {
  const unknown = new Set(t.imported_from?.unknown_fields ?? []);
  const t0 = Date.parse(t.started_at);
  return t.steps.map((s) => ({
    index: s.index,
    actions: stepActionLines(s),
    exit_codes: s.actions.map((_, i) => {
      const o = s.observations[i];
      return !o || o.missing ? 'missing' : o.exit_code;
    }),
    tokens: s.usage ? s.usage.prompt_tokens + s.usage.completion_tokens : null,
    cost_usd: unknown.has('steps.cost_usd') && s.cost_usd === 0 ? null : s.cost_usd,
    elapsed_ms: s.started_at && Number.isFinite(t0) ? Date.parse(s.started_at) - t0 : null,
    error: s.error ?? null,
  }));
}

/** The one-line form of each action of a step; for a step without actions, its tool calls, or its reply. */
export function stepActionLines(s: Step): string[] {
  if (s.actions.length) return s.actions.map(actionLine);
  if (s.response.tool_calls?.length) return s.response.tool_calls.map((c) => `${c.function.name} ${oneLine(c.function.arguments)}`);
  return [`(no action) ${oneLine(s.response.content ?? '')}`.trimEnd()];
}

/**
 * An action as one line: the command for `bash` (newlines shown as ` ⏎ `), `edit <command>
 * <path>`, `submit [answer]`, `format error: <message>`. Not clipped and not sanitised: clip and
 * neutralise control characters where it is displayed.
 */
export function actionLine(a: Action): string {
  switch (a.kind) {
    case 'bash':
      return oneLine(a.command);
    case 'edit':
      return `edit ${a.command} ${a.path}`;
    case 'submit':
      return a.answer ? `submit ${oneLine(a.answer)}` : 'submit';
    case 'format_error':
      return `format error: ${oneLine(a.message)}`;
    case 'browser':
      return oneLine(browserActionLine(a));
  }
}

