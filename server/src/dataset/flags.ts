/**
 * Curation flags of one trajectory (common/src/dataset.ts TRAJECTORY_FLAGS): loops, repeated
 * observations, format errors, an idle tail, an empty submission, truncated outputs and
 * tampering (tampering.ts). Pure: computed from the trajectory alone, in one pass over its steps.
 *
 * "State change" — what splits loops and ends the idle tail — is read from what a step records:
 * an edit action other than `view` that did not fail (exit code not ≠ 0), or a bash command that
 * did not fail and writes files by its look (STATE_CHANGING_COMMAND: `sed -i`, a `>` / `>>`
 * redirection to a file, `tee`, `mv`, `cp`, `rm`, `mkdir`, `touch`, `patch`, `git apply` /
 * `checkout` / `reset` / `commit` / …, package installs). Steps record no per-step diff, so a
 * script that writes files (`python fix.py`) is not seen as a change: the heuristic errs towards
 * flagging, and the thresholds are set so that ordinary work (run the tests after each edit,
 * read a few files before submitting) stays unflagged.
 */
import { clipAtSpace } from '../../../common/src/format';
import type { TrajectoryFlag, TrajectoryFlagFacts } from '../../../common/src/dataset';
import { browserActionLine, type Action, type Observation, type Trajectory } from '../../../common/src/trajectory';
import { actionPathText, tamperingReport } from './tampering';
import { stepActions } from './wellFormed';

/**
 * When each flag is raised (inclusive): `loop` at 5 repeats of one action with nothing changed
 * in between (reading the same file 5 times without an edit is stuck, not careful);
 * `repeated-observation` at 3 identical non-empty observations in a row; `format-errors` at 3;
 * `idle-tail` at 10 steps after the last change (checking the tests and the diff takes 2–4);
 * `truncated-output` at 1.
 */
export const FLAG_THRESHOLDS = {
  loop: 5,
  'repeated-observation': 3,
  'format-errors': 3,
  'idle-tail': 10,
  'truncated-output': 1,
} as const;

/**
 * A bash command that changes files, by its look (see the module comment). Matched against the
 * whole command; `2>/dev/null`, `>&2` and `2>&1` are not writes.
 */
export const STATE_CHANGING_COMMAND =
  /(^|[\s;&|(`])(sed\s+(-[A-Za-z]+\s+)*-[A-Za-z]*i|perl\s+-[A-Za-z]*i|tee|mv|cp|rm|rmdir|mkdir|touch|truncate|patch|ln|chmod|git\s+(apply|am|checkout|switch|restore|reset|stash|commit|merge|rebase|cherry-pick|rm|mv|clean)|pip3?\s+install|npm\s+(install|i|ci)|yarn\s+add|apt(-get)?\s+install)(\s|$)|(^|[^0-9&>])>>?\s*(?!&|\/dev\/null)[^\s&|;>]/;

/** A trajectory's flags and the facts behind them. */
export interface FlagReport {
  flags: TrajectoryFlag[];
  facts: TrajectoryFlagFacts;
}

/** Whether one action (with its observation) changed state: see the module comment. */
export function changesState(a: Action, o: Observation | undefined): boolean {
  const failed = o !== undefined && o.exit_code !== null && o.exit_code !== 0;
  if (failed) return false;
  if (a.kind === 'edit') return a.command !== 'view';
  if (a.kind === 'bash') return STATE_CHANGING_COMMAND.test(a.command);
  if (a.kind === 'browser') return PAGE_CHANGING_ACTIONS.has(a.action);
  return false;
}

/** Browser actions that change the page or what the site holds (a web task's state); scroll, find, read and screenshot only look. */
const PAGE_CHANGING_ACTIONS: ReadonlySet<string> = new Set(['goto', 'click', 'type', 'back', 'forward']);

/** What identifies an action for loop counting: the exact command (whitespace collapsed), or the edit with its arguments. */
export function loopKey(a: Action): string | undefined {
  if (a.kind === 'bash') return a.command.trim().replace(/\s+/g, ' ');
  if (a.kind === 'browser') return browserActionLine(a);
  if (a.kind === 'edit') {
    const { command: _c, path: _p, ...rest } = a.args ?? {};
    return `${a.command} ${a.path} ${JSON.stringify(Object.fromEntries(Object.entries(rest).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))))}`;
  }
  return undefined;
}

/** Whether the task is answered in text (an answer pattern or expected answer), so its diff does not count as a submission. */
function answersInText(t: Trajectory): boolean {
  const e = t.task?.eval;
  return !!e && !Array.isArray(e) && (e.answer !== undefined || e.answer_pattern !== undefined);
}

/**
 * The flags of `t` (see TRAJECTORY_FLAGS and FLAG_THRESHOLDS) with their facts. Never throws on
 * a well-formed trajectory; a step whose observations are fewer than its actions (imported) is
 * read with the missing ones absent.
 */
export function flagsOf(t: Trajectory): FlagReport {
  let windowCounts = new Map<string, number>();
  let maxRepeats = 0;
  let repeated = null as string | null;
  let sameRun = 0;
  let maxSame = 0;
  let prevObs: string | undefined;
  let formatErrors = 0;
  let truncated = 0;
  let lastChange = -1;
  let lastWork = -1;
  const at: TrajectoryFlagFacts['steps'] = {};
  let loopAt = -1;
  let sameAt = -1;
  let formatAt = -1;
  let truncatedAt = -1;
  let lastSubmit = -1;
  t.steps.forEach((s, si) => {
    const acts = stepActions(s);
    let onlySubmit = acts.length > 0;
    acts.forEach(({ a, o }) => {
      if (a.kind !== 'submit') onlySubmit = false;
      else lastSubmit = si;
      if (a.kind === 'format_error' && ++formatErrors === FLAG_THRESHOLDS['format-errors']) formatAt = si;
      if (o?.truncated && truncated++ === 0) truncatedAt = si;
      const key = loopKey(a);
      if (key !== undefined) {
        const n = (windowCounts.get(key) ?? 0) + 1;
        windowCounts.set(key, n);
        if (n > maxRepeats) {
          maxRepeats = n;
          repeated = key;
          if (n === FLAG_THRESHOLDS.loop) loopAt = si;
        }
      }
      if (o && !o.missing && (a.kind === 'bash' || a.kind === 'edit' || a.kind === 'browser')) {
        const text = `${o.exit_code}\u0000${o.stdout}\u0000${o.stderr}`;
        const empty = !o.stdout.trim() && !o.stderr.trim();
        if (!empty && text === prevObs) sameRun++;
        else sameRun = empty ? 0 : 1;
        prevObs = empty ? undefined : text;
        if (sameRun > maxSame) {
          maxSame = sameRun;
          if (sameRun === FLAG_THRESHOLDS['repeated-observation']) sameAt = si;
        }
      }
      if (changesState(a, o)) {
        lastChange = si;
        windowCounts = new Map();
      }
    });
    if (!onlySubmit) lastWork = si;
  });
  const r = t.result;
  const blank = (x: unknown) => typeof x !== 'string' || !x.trim();
  const emptySubmission = r?.exit_status === 'submitted' && blank(r.submission) && (answersInText(t) || blank(r.diff));
  const idleTail = lastChange < 0 ? 0 : Math.max(0, lastWork - lastChange);
  const tampering = tamperingReport(t);
  const tampered = tampering.why;
  const facts: TrajectoryFlagFacts = {
    max_repeats: maxRepeats,
    repeated_action: repeated !== null ? clipAtSpace(repeated, 200) : repeated,
    max_same_observation: maxSame,
    format_errors: formatErrors,
    idle_tail_steps: idleTail,
    empty_submission: emptySubmission,
    truncated_outputs: truncated,
    tampered,
    steps: at,
  };
  const flags: TrajectoryFlag[] = [];
  const flag = (f: TrajectoryFlag, step: number) => {
    flags.push(f);
    if (step >= 0) at[f] = step;
  };
  if (maxRepeats >= FLAG_THRESHOLDS.loop) flag('loop', loopAt);
  if (maxSame >= FLAG_THRESHOLDS['repeated-observation']) flag('repeated-observation', sameAt);
  if (formatErrors >= FLAG_THRESHOLDS['format-errors']) flag('format-errors', formatAt);
  if (idleTail >= FLAG_THRESHOLDS['idle-tail']) flag('idle-tail', lastChange + 1);
  if (emptySubmission) flag('empty-submission', lastSubmit >= 0 ? lastSubmit : t.steps.length - 1);
  if (truncated >= FLAG_THRESHOLDS['truncated-output']) flag('truncated-output', truncatedAt);
  if (tampered.length) flag('tampered', tampering.step ?? stepChanging(t, tampering.edited));
  return { flags, facts };
}

/**
 * The first step (0-based) whose bash command or edit path names one of `paths`, preferring one
 * that changes state (`sed -i tests/test_x.py` over `cat tests/test_x.py`); -1 when none does.
 */
function stepChanging(t: Trajectory, paths: string[]): number {
  if (!paths.length) return -1;
  let named = -1;
  for (let si = 0; si < t.steps.length; si++) {
    for (const { a, o } of stepActions(t.steps[si])) {
      const text = actionPathText(a);
      if (!text || !paths.some((p) => text.includes(p))) continue;
      if (changesState(a, o)) return si;
      if (named < 0) named = si;
    }
  }
  return named;
}

/** One line saying why `flag` is set, from `facts` (for a manifest's drop detail). */
export function describeFlag(flag: TrajectoryFlag, facts: TrajectoryFlagFacts): string {
  switch (flag) {
    case 'loop':
      return `loop: ${JSON.stringify(facts.repeated_action)} ${facts.max_repeats} times with no state change in between`;
    case 'repeated-observation':
      return `repeated-observation: the same output ${facts.max_same_observation} times in a row`;
    case 'format-errors':
      return `format-errors: ${facts.format_errors} replies the agent could not parse`;
    case 'idle-tail':
      return `idle-tail: ${facts.idle_tail_steps} steps after the last state change`;
    case 'empty-submission':
      return 'empty-submission: submitted nothing (empty submission and no diff)';
    case 'truncated-output':
      return `truncated-output: ${facts.truncated_outputs} output(s) cut at the output cap`;
    case 'tampered':
      return `tampered: ${facts.tampered.join('; ')}`;
  }
}
