/**
 * How runs, attempts and counts read in the status bar, tree views and notifications.
 * Pure (no `vscode` import) so that unit tests cover it.
 */
import { formatCost, formatDuration, formatTokens, oneLine } from '../../common/src/format';
import type { AttemptInfo } from '../../common/src/protocol';
import type { AttemptState, ModelCounters, RunCounts, RunStatus } from '../../common/src/run';

/** Attempts that have ended, resolved or not (`done` counts finished ones, `failed` errored ones). */
export function endedCount(c: RunCounts): number {
  return c.done + c.failed;
}

/**
 * `12/40 ✓9 ✗3`: ended / total attempts, ✓ resolved, ✗ ended without being resolved
 * (unresolved or errored).
 */
export function formatCounts(c: RunCounts): string {
  const ended = endedCount(c);
  return `${ended}/${c.total} ✓${c.resolved} ✗${Math.max(0, ended - c.resolved)}`;
}

/** The status bar text: `TrajLab: 12/40 ✓9 ✗3`, counts summed over the runs given. */
export function statusBarText(counts: RunCounts[]): string {
  return `TrajLab: ${formatCounts(sumCounts(counts))}`;
}

/** Field-wise sum of run counts. */
export function sumCounts(counts: RunCounts[]): RunCounts {
  const sum: RunCounts = { total: 0, done: 0, failed: 0, running: 0, queued: 0, resolved: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0 };
  for (const c of counts) for (const k of Object.keys(sum) as (keyof RunCounts)[]) sum[k] += c[k] ?? 0;
  return sum;
}

/** A reward as `1`, `0` or `0.75`. */
export function formatReward(r: number): string {
  return Number.isInteger(r) ? String(r) : r.toFixed(2);
}

/** One line for a run's tree item: `running · 12/40 ✓9 ✗3 · 1.2k tok · $0.01 · 2 min 03 s` (common/src/format.ts). */
export function runDescription(status: RunStatus, c: RunCounts, elapsedMs: number | undefined): string {
  const parts: string[] = [status, formatCounts(c)];
  const tokens = c.prompt_tokens + c.completion_tokens;
  if (tokens) parts.push(`${formatTokens(tokens)} tok`);
  if (c.cost_usd) parts.push(formatCost(c.cost_usd));
  if (elapsedMs !== undefined) parts.push(formatDuration(elapsedMs));
  return parts.join(' · ');
}

/** An attempt's state in words: `queued`, `running step 3`, `submitted · reward 1`, `failed: …`. */
export function attemptStateText(s: AttemptState): string {
  switch (s.kind) {
    case 'queued':
      return 'queued';
    case 'running':
      return `running step ${s.step + 1}`;
    case 'evaluating':
      return 'evaluating';
    case 'preparing':
      return oneLine(s.detail, 100);
    case 'finished': {
      const text = `${s.exitStatus} · reward ${formatReward(s.reward)} · ${s.steps} step${s.steps === 1 ? '' : 's'}`;
      return s.error ? `${text} · ${oneLine(s.error, 80)}` : text;
    }
    case 'failed':
      return `failed: ${oneLine(s.error, 100)}`;
    case 'cancelled':
      return 'cancelled';
  }
}

/** The label of an attempt: the task id, with `#n` when the run has several attempts per task. */
export function attemptLabel(a: { taskId: string; attempt: number }, attemptsPerTask: number): string {
  return attemptsPerTask > 1 ? `${a.taskId} #${a.attempt}` : a.taskId;
}

/** The end-of-run message: `TrajLab run X finished: 38/40 resolved (2 errors), 1.2M tok, $3.10, 12 min 04 s.` */
export function runEndMessage(runId: string, status: RunStatus, c: RunCounts, elapsedMs: number): string {
  const parts = [`${c.resolved}/${c.total} resolved`];
  if (c.failed) parts[0] += ` (${c.failed} error${c.failed === 1 ? '' : 's'})`;
  const tokens = c.prompt_tokens + c.completion_tokens;
  if (tokens) parts.push(`${formatTokens(tokens)} tok`);
  if (c.cost_usd) parts.push(formatCost(c.cost_usd));
  parts.push(formatDuration(elapsedMs));
  return `TrajLab run ${runId} ${status}: ${parts.join(', ')}.`;
}

/**
 * A run's models-list counters for the Runs view tooltip, one line per entry:
 * `deepseek:deepseek-chat: 120 requests, 3 × 429, 1 failure, 45.2k + 3.1k tokens, $0.0123 (benched until 12:00:30)`.
 */
export function modelCounterLines(models: readonly ModelCounters[]): string[] {
  return models.map((m) => {
    const parts = [`${m.requests} request${m.requests === 1 ? '' : 's'}`];
    if (m.rate_limited) parts.push(`${m.rate_limited} × 429`);
    if (m.failures) parts.push(`${m.failures} failure${m.failures === 1 ? '' : 's'}`);
    parts.push(`${formatTokens(m.prompt_tokens)} + ${formatTokens(m.completion_tokens)} tokens`, formatCost(m.cost_usd));
    const benched = m.benched_until ? ` (benched until ${m.benched_until.slice(11, 19)} UTC)` : '';
    return `${oneLine(m.name, 80)}: ${parts.join(', ')}${benched}`;
  });
}
