/**
 * An imported trajectory as the inspector shows it (common/src/inspector.ts): the header, the
 * rows of the timeline, one step in full, and the timeline's filters. Pure functions of the
 * trajectory; values the source did not record are null (as in server/src/dataset/overview.ts).
 */
import type { ActionDetail, BrowserDetail, ClippedText, StepDetail, StepFilter, StepRow, TrajectoryHeader } from '../../../common/src/inspector';
import { ROW_TEXT_CLIP, TRAJECTORY_TEXT_CLIP } from '../../../common/src/inspector';
import { formatCount, oneLine } from '../../../common/src/format';
import type { Action, BrowserObservation, Step, Trajectory, TrajectoryEvent } from '../../../common/src/trajectory';
import { browserActionLine } from '../../../common/src/trajectory';
import { actionLine, trajectoryOverview } from '../dataset/overview';
import { clipLines, clipText } from './clip';
import { editDiff } from './diff';

/** Clip of the final diff in the header (characters): larger than a step's texts, since the Diff tab shows it whole. */
export const HEADER_DIFF_CLIP = 2_000_000;

/** What of a trajectory the source left unknown, precomputed once per open trajectory. */
export interface TrajectoryFacts {
  unknown: Set<string>;
  /** ms since epoch of `started_at`; NaN when unknown. */
  t0: number;
  /** Events by the step they come before. */
  eventsBefore: Map<number, TrajectoryEvent[]>;
}

/** The facts a trajectory's rows and details need (see TrajectoryFacts). Linear in its events. */
export function trajectoryFacts(t: Trajectory): TrajectoryFacts {
  const eventsBefore = new Map<number, TrajectoryEvent[]>();
  for (const e of t.events ?? []) {
    const list = eventsBefore.get(e.before_step);
    if (list) list.push(e);
    else eventsBefore.set(e.before_step, [e]);
  }
  return { unknown: new Set(t.imported_from?.unknown_fields ?? []), t0: Date.parse(t.started_at), eventsBefore };
}

/**
 * The header of an open trajectory. `handle` and `file` (absolute) are the store's;
 * `replayable` says whether the tasks file the trajectory names exists (the caller checks).
 */
export function trajectoryHeader(t: Trajectory, handle: string, file: string, replayable: boolean): TrajectoryHeader {
  const s = trajectoryOverview(t);
  const r = t.result;
  const ev = r?.evaluation;
  const notes: string[] = [];
  const unknown = t.imported_from?.unknown_fields ?? [];
  if (unknown.length) notes.push(`Not recorded by the source (shown as unknown): ${unknown.join(', ')}`);
  if (t.status === 'running') notes.push('The attempt is still running: the inspector follows the file as the run rewrites it (every step while small, every few seconds once large).');
  const trailing = (t.events ?? []).filter((e) => e.before_step >= t.steps.length).length;
  if (trailing) notes.push(`${trailing} system / user turn(s) after the last step (not shown in the timeline).`);
  const diff = clipLines(r?.diff ?? '', HEADER_DIFF_CLIP);
  if (diff.text.length < diff.length) notes.push(`The final diff is clipped to its first ${formatCount(diff.text.length)} of ${formatCount(diff.length)} characters.`);
  return {
    handle,
    file,
    format: s.format as TrajectoryHeader['format'],
    formatVersion: s.format_version,
    taskId: s.task_id,
    taskType: t.task.task_type ?? null,
    description: clipText(s.description, TRAJECTORY_TEXT_CLIP),
    agent: s.agent,
    model: s.model,
    runId: t.run_id,
    attempt: t.attempt,
    status: t.status,
    exitStatus: s.exit_status,
    sourceExitStatus: s.source_exit_status,
    reward: s.reward,
    success: s.success,
    error: s.error,
    startedAt: t.started_at || null,
    totals: {
      steps: s.steps,
      promptTokens: s.prompt_tokens,
      completionTokens: s.completion_tokens,
      costUsd: s.cost_usd,
      durationMs: s.duration_ms,
    },
    diff,
    diffStats: r && r.diff ? r.diff_stats : null,
    evaluation: ev
      ? {
          method: ev.method,
          tests: [
            ...(ev.tests?.FAIL_TO_PASS ?? []).map((x) => ({ name: x.name, status: x.status, list: 'FAIL_TO_PASS' as const })),
            ...(ev.tests?.PASS_TO_PASS ?? []).map((x) => ({ name: x.name, status: x.status, list: 'PASS_TO_PASS' as const })),
          ],
          error: ev.error ?? null,
        }
      : null,
    replayable,
    tasksFile: t.imported_from ? null : t.source?.tasks_file || null,
    notes,
  };
}

/** Milliseconds step `s` took: ended_at − started_at when both are known, else model latency + action durations when those are known; null otherwise. */
function stepDuration(s: Step, f: TrajectoryFacts): number | null {
  const a = Date.parse(s.started_at);
  const b = Date.parse(s.ended_at);
  if (Number.isFinite(a) && Number.isFinite(b) && b >= a) return b - a;
  const latencyKnown = !(f.unknown.has('steps.latency_ms') && s.latency_ms === 0);
  const durationsKnown = !f.unknown.has('observations.duration_ms');
  if (!latencyKnown && !durationsKnown) return null;
  return (latencyKnown ? s.latency_ms : 0) + (durationsKnown ? s.observations.reduce((sum, o) => sum + (o.duration_ms || 0), 0) : 0);
}

/** Texts longer than this are cut before they are put on one line (a row shows ROW_TEXT_CLIP of them). */
const ROW_SOURCE_CUT = ROW_TEXT_CLIP * 4;

function cut(text: string): string {
  return text.length > ROW_SOURCE_CUT ? text.slice(0, ROW_SOURCE_CUT) : text;
}

/**
 * summary.ts `stepActionLines` (actionLine / oneLine), on texts cut first: a 5 MB command costs a
 * row no more than a short one.
 */
function rowActionLines(s: Step): string[] {
  if (s.actions.length) {
    return s.actions.map((a) => {
      switch (a.kind) {
        case 'bash':
          return actionLine({ ...a, command: cut(a.command) });
        case 'edit':
          return actionLine({ ...a, command: cut(a.command), path: cut(a.path) });
        case 'submit':
          return actionLine(a.answer === undefined ? a : { ...a, answer: cut(a.answer) });
        case 'format_error':
          return actionLine({ ...a, message: cut(a.message) });
        case 'browser':
          return actionLine(a.args.text === undefined && a.args.url === undefined ? a : { ...a, args: { ...a.args, ...(a.args.text !== undefined ? { text: cut(a.args.text) } : {}), ...(a.args.url !== undefined ? { url: cut(a.args.url) } : {}) } });
      }
    });
  }
  if (s.response.tool_calls?.length) return s.response.tool_calls.map((c) => `${cut(c.function.name)} ${oneLine(cut(c.function.arguments))}`);
  return [`(no action) ${oneLine(cut(s.response.content ?? ''))}`.trimEnd()];
}

/** The first format error message among a step's actions, if any. */
function formatError(s: Step): string | undefined {
  for (const a of s.actions) if (a.kind === 'format_error') return a.message;
  return undefined;
}

/** The timeline row of step `s`, the `index`-th of its trajectory (see StepRow). Pure; constant time but for the step's own actions. */
export function stepRow(s: Step, index: number, f: TrajectoryFacts): StepRow {
  const started = Date.parse(s.started_at);
  return {
    index,
    elapsedMs: Number.isFinite(started) && Number.isFinite(f.t0) ? started - f.t0 : null,
    durationMs: stepDuration(s, f),
    actions: rowActionLines(s).map((l) => clipText(l, ROW_TEXT_CLIP).text),
    kinds: s.actions.map((a) => a.kind),
    exitCodes: s.actions.map((_, i) => {
      const o = s.observations[i];
      return !o || o.missing ? 'missing' : o.exit_code;
    }),
    tokens: s.usage ? s.usage.prompt_tokens + s.usage.completion_tokens : null,
    costUsd: f.unknown.has('steps.cost_usd') && s.cost_usd === 0 ? null : s.cost_usd,
    error: s.error ?? formatError(s) ?? null,
  };
}

/** The command text of an action as the detail pane shows it (see ActionDetail.command). */
export function actionCommand(a: Action): string {
  switch (a.kind) {
    case 'bash':
      return a.command;
    case 'edit':
      return `${a.command} ${a.path}`;
    case 'submit':
      return a.answer ?? '';
    case 'format_error':
      return a.message;
    case 'browser':
      return browserActionLine(a).replace(/^browser /, '');
  }
}

/** The text of an event as the detail pane and search see it: its message, then its results. */
export function eventText(e: TrajectoryEvent): string {
  const results = (e.results ?? []).map((r) => r.content ?? '').filter(Boolean);
  return results.length ? `${e.message}\n\n${results.join('\n\n')}` : e.message;
}

/**
 * Step `s`, the `index`-th of its trajectory, in full, each long text clipped to `clip`
 * characters (0: whole texts). Edit actions that change text get `editDiff` (jsdiff unified
 * diff; see diff.ts). Pure.
 */
export function stepDetail(s: Step, index: number, f: TrajectoryFacts, clip: number = TRAJECTORY_TEXT_CLIP): StepDetail {
  const c = (text: string): ClippedText => clipText(text, clip);
  const actions = s.actions.map((a, i): ActionDetail => {
    const o = s.observations[i];
    const detail: ActionDetail = {
      kind: a.kind,
      command: c(actionCommand(a)),
      observation: o
        ? {
            stdout: c(o.stdout),
            stderr: c(o.stderr),
            exitCode: o.exit_code,
            truncated: o.truncated,
            timedOut: o.timed_out,
            missing: !!o.missing,
            durationMs: f.unknown.has('observations.duration_ms') && o.duration_ms === 0 ? null : o.duration_ms,
            outputBytes: o.output_bytes,
          }
        : null,
    };
    if (a.kind === 'edit') {
      detail.path = a.path;
      const d = editDiff(a);
      if (d !== undefined) detail.editDiff = clipLines(d, clip);
    }
    if (a.kind === 'browser' && o?.browser) detail.browser = browserDetail(o.browser, c);
    return detail;
  });
  return {
    row: stepRow(s, index, f),
    startedAt: s.started_at || null,
    endedAt: s.ended_at || null,
    latencyMs: f.unknown.has('steps.latency_ms') && s.latency_ms === 0 ? null : s.latency_ms,
    reasoning: s.response.reasoning ? c(s.response.reasoning) : null,
    reply: s.response.content ? c(s.response.content) : null,
    toolCalls: (s.response.tool_calls ?? []).map((t) => ({ id: t.id, name: t.function.name, arguments: c(t.function.arguments) })),
    actions,
    otherObservations: (s.other_observations ?? []).map((o) => c(o.content)),
    usage: s.usage ? { promptTokens: s.usage.prompt_tokens, completionTokens: s.usage.completion_tokens, cachedTokens: s.usage.cached_tokens ?? null } : null,
    eventsBefore: (f.eventsBefore.get(index) ?? []).map((e) => ({ source: e.source, message: c(eventText(e)) })),
  };
}

/**
 * The page facts of a browser observation for the detail pane (BrowserDetail), texts clipped
 * by `c`. The observation comes from an untrusted file: a field of the wrong type reads as
 * unknown ('' / 0 / null), never as a crash. Pure.
 */
export function browserDetail(b: BrowserObservation, c: (text: string) => ClippedText): BrowserDetail {
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const count = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
  const cut = b.cut && typeof b.cut === 'object' ? b.cut : undefined;
  const shot = b.screenshot && typeof b.screenshot === 'object' ? b.screenshot : undefined;
  return {
    url: c(str(b.url)),
    title: c(str(b.title)),
    elements: count(b.elements),
    cut: cut
      ? {
          totalLines: count(cut.total_lines),
          shownLines: count(cut.shown_lines),
          totalChars: count(cut.total_chars),
          shownChars: count(cut.shown_chars),
          totalElements: typeof cut.total_elements === 'number' ? count(cut.total_elements) : null,
        }
      : null,
    screenshot: shot ? { path: c(str(shot.path)), bytes: count(shot.bytes), sha256: str(shot.sha256).slice(0, 128) } : null,
  };
}

/** True when step `s` passes every filter that is set (they compose with AND). */
export function stepMatches(s: Step, filter: StepFilter): boolean {
  if (filter.errorsOnly && !(s.error || s.actions.some((a) => a.kind === 'format_error'))) return false;
  if (filter.nonZeroExit && !s.observations.some((o, i) => i < s.actions.length && !o.missing && o.exit_code !== null && o.exit_code !== 0)) return false;
  if (filter.editsOnly && !s.actions.some((a) => a.kind === 'edit')) return false;
  return true;
}

/** Indices (ascending) of the steps a filter keeps. Linear in the steps. */
export function filterSteps(t: Trajectory, filter: StepFilter): number[] {
  const out: number[] = [];
  for (let i = 0; i < t.steps.length; i++) if (stepMatches(t.steps[i]!, filter)) out.push(i);
  return out;
}
