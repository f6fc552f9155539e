/**
 * `trajlab show`: a trajectory as terminal text (an overview and one line per step, or one step
 * in full) or as JSON. Everything in a trajectory is untrusted (model output, command output), so
 * every string goes through `sanitizeForTerminal` (util/terminal.ts) before it reaches the
 * terminal.
 */
import { clip, formatCost, formatCount, formatDuration, formatTokens, oneLine } from '../../../common/src/format';
import type { Observation, Step, Trajectory } from '../../../common/src/trajectory';
import { stepOverviews, trajectoryOverview, type StepOverview } from '../dataset/overview';
import { safeJson, sanitizeForTerminal } from '../util/terminal';

/** Options of the text rendering. */
export interface ShowOptions {
  /** Terminal width in columns (lines of the step list are clipped to it). */
  width?: number;
  /** Path shown in the header. */
  file?: string;
}

/** The overview (with the host that ran the attempt and each move of a pool run) and the step list of `trajlab show <file>`, as sanitised text. */
export function renderTrajectory(t: Trajectory, opts: ShowOptions = {}): string {
  const width = Math.max(40, opts.width ?? 120);
  const s = trajectoryOverview(t);
  const out: string[] = [];
  const row = (k: string, v: string) => out.push(`${k.padEnd(12)}${clip(sanitizeForTerminal(v), width - 12)}`);
  row('task', s.task_id);
  if (opts.file) row('file', opts.file);
  row('format', `${s.format}${s.format_version ? ` (${s.format_version})` : ''}, agent ${s.agent}`);
  row('model', s.model || 'unknown');
  const answered = [...new Set(t.steps.flatMap((st) => (st.model !== undefined ? [st.model] : [])))];
  if (answered.length) row('answered by', answered.join(', '));
  if (t.agent?.config) row('agent', `config ${t.agent.config.name}`);
  row('exit', s.exit_status ? `${s.exit_status}${s.source_exit_status && s.source_exit_status.toLowerCase() !== s.exit_status ? ` (${s.source_exit_status})` : ''}${s.error ? `: ${oneLine(s.error)}` : ''}` : t.status === 'running' ? 'unfinished (no result recorded)' : 'unknown');
  row('reward', s.reward === null ? 'unknown' : `${s.reward}${s.success ? ' (success)' : ''}`);
  const tampered = t.result?.tampered_paths ?? [];
  if (tampered.length) row('tampered', `${tampered.length} file(s) the evaluation restores: ${tampered.join(', ')}`);
  const host = t.environment?.host;
  if (host) row('host', host);
  for (const m of t.environment?.moves ?? []) row('moved', `${m.from} → ${m.to} after ${m.at_step} step(s), ${m.time}: ${oneLine(m.reason)}`);
  row('steps', String(s.steps));
  row('tokens', s.prompt_tokens === null && s.completion_tokens === null ? 'unknown' : `${tok(s.prompt_tokens)} prompt, ${tok(s.completion_tokens)} completion`);
  row('cost', s.cost_usd === null ? 'unknown' : formatCost(s.cost_usd));
  row('duration', s.duration_ms === null ? 'unknown' : formatDuration(s.duration_ms));
  row('diff', s.diff ? `${s.diff.files_changed} file(s) changed, +${s.diff.insertions} -${s.diff.deletions}` : s.submission_chars ? `none (submission: ${n(s.submission_chars)} chars)` : 'none');
  const lines = sanitizeForTerminal(s.description).split('\n').filter((l) => l.trim());
  if (lines.length) {
    row('description', lines[0]!);
    for (const l of lines.slice(1, 4)) out.push(`${''.padEnd(12)}${clip(l, width - 12)}`);
    if (lines.length > 4) out.push(`${''.padEnd(12)}… (${lines.length - 4} more lines)`);
  }
  out.push('');
  out.push(`${'step'.padStart(5)}  ${'exit'.padStart(7)}  ${'tokens'.padStart(9)}  action`);
  const events = t.events ?? [];
  let e = 0;
  const eventLine = (i: number) => {
    for (; e < events.length && events[e]!.before_step <= i; e++) {
      const ev = events[e]!;
      const refs = (ev.results ?? []).reduce((k, r) => k + (r.subagent_trajectory_refs?.length ?? 0), 0);
      out.push(clip(`${''.padStart(5)}  ${''.padStart(7)}  ${''.padStart(9)}  · ${ev.source}: ${sanitizeForTerminal(oneLine(ev.message))}${refs ? ` (${refs} subagent trajectories)` : ''}`, width));
    }
  };
  for (const st of stepOverviews(t)) {
    eventLine(st.index);
    out.push(clip(stepRow(st), width));
  }
  eventLine(Number.POSITIVE_INFINITY);
  return out.join('\n') + '\n';
}

function stepRow(st: StepOverview): string {
  const codes = st.exit_codes.map((c) => (c === null ? '-' : c === 'missing' ? '∅' : String(c)));
  const exit = codes.length ? codes.join(',') : '';
  const more = st.actions.length > 1 ? ` (+${st.actions.length - 1} more)` : '';
  return `${String(st.index).padStart(5)}  ${exit.padStart(7)}  ${(st.tokens === null ? '-' : tok(st.tokens)).padStart(9)}  ${sanitizeForTerminal(st.actions[0] ?? '')}${more}${st.error ? '  [error]' : ''}`;
}

/** Characters of one section (a reply, an observation, an action…) that `show --step` prints without `--full`. */
export const STEP_SECTION_CHARS = 100_000;

/** Options of `renderStep`. */
export interface StepOptions {
  /** Characters printed per section at most (default STEP_SECTION_CHARS); Infinity for `--full`. */
  maxSectionChars?: number;
  /** The file as the user named it, for the clip note's command (`trajlab show FILE --step N --full`). */
  file?: string;
}

/**
 * `trajlab show <file> --step N`: step N (0-based) in full, as sanitised text. A section longer
 * than `opts.maxSectionChars` is clipped and followed by a note saying how many bytes (UTF-8) were
 * not shown and how to see them. Throws RangeError when there is no such step.
 */
export function renderStep(t: Trajectory, index: number, opts: StepOptions = {}): string {
  const s = stepAt(t, index);
  const out: string[] = [];
  const unknown = new Set(t.imported_from?.unknown_fields ?? []);
  const max = opts.maxSectionChars ?? STEP_SECTION_CHARS;
  const section = (title: string, body?: string) => {
    out.push(`── ${sanitizeForTerminal(title)} ${'─'.repeat(Math.max(3, 60 - title.length))}`);
    if (body === undefined) return;
    if (body.length <= max) return void out.push(sanitizeForTerminal(body));
    // Do not cut a surrogate pair in two.
    const cut = /[\ud800-\udbff]/.test(body.charAt(max - 1)) ? max - 1 : max;
    const hidden = Buffer.byteLength(body.slice(cut));
    const command = `trajlab show ${opts.file ? shellWord(opts.file) : 'FILE'} --step ${index} --full`;
    out.push(sanitizeForTerminal(body.slice(0, cut)));
    out.push(`… [${formatCount(hidden)} more bytes not shown (of ${formatCount(Buffer.byteLength(body))}); all of them: ${sanitizeForTerminal(command)}, or \`trajlab convert\` to a file]`);
  };
  out.push(`step ${s.index} of ${t.steps.length} (0-based) — task ${sanitizeForTerminal(t.task_id)}`);
  out.push(`started     ${s.started_at || 'unknown'}`);
  out.push(`latency     ${unknown.has('steps.latency_ms') && s.latency_ms === 0 ? 'unknown' : formatDuration(s.latency_ms)}`);
  const u = s.usage;
  out.push(`tokens      ${u ? `${tok(u.prompt_tokens)} prompt${u.cached_tokens !== undefined ? ` (${tok(u.cached_tokens)} cached)` : ''}, ${tok(u.completion_tokens)} completion` : 'unknown'}`);
  out.push(`cost        ${unknown.has('steps.cost_usd') && s.cost_usd === 0 ? 'unknown' : formatCost(s.cost_usd)}`);
  if (s.model !== undefined) out.push(`model       ${sanitizeForTerminal(s.model)}`);
  if (s.history) out.push(`context     ${s.history.elided.length} older observation(s) sent elided (${s.history.processor}, the last ${s.history.n} in full)`);
  if (s.token_record) out.push(`token ids   ${formatCount(s.token_record.prompt_token_ids)} prompt, ${formatCount(s.token_record.completion_token_ids)} completion, ${formatCount(s.token_record.logprobs)} logprobs (in the .tokens.jsonl.gz sidecar)`);
  if (s.response.reasoning) section('reasoning', s.response.reasoning);
  section('reply', s.response.content ?? '(none)');
  if (s.response.tool_calls?.length) {
    section('tool calls');
    for (const c of s.response.tool_calls) out.push(sanitizeForTerminal(`${c.function.name}  id=${c.id}\n${prettyArgs(c.function.arguments)}`));
  }
  s.actions.forEach((a, i) => {
    const label = `action ${i + 1}: ${a.kind}${a.tool_call_id ? ` (${a.tool_call_id})` : ''}`;
    switch (a.kind) {
      case 'bash':
        section(label, a.command);
        break;
      case 'edit':
        section(label, `${a.command} ${a.path}\n${prettyArgs(JSON.stringify(a.args))}`);
        break;
      case 'submit':
        section(label, a.answer ?? '(no answer)');
        break;
      case 'format_error':
        section(label, a.message);
        break;
    }
    observationSection(s.observations[i], i, section, unknown);
  });
  for (const o of s.other_observations ?? []) section(`result of tool call ${o.tool_call_id ?? '(no id)'}`, o.content);
  if (s.error) section('error', s.error);
  return out.join('\n') + '\n';
}

function observationSection(o: Observation | undefined, i: number, section: (t: string, b?: string) => void, unknown: Set<string>): void {
  if (!o || o.missing) {
    section(`observation ${i + 1}: not recorded`);
    return;
  }
  const facts = [
    `exit ${o.exit_code ?? 'unknown'}`,
    `${n(o.output_bytes)} bytes`,
    unknown.has('observations.duration_ms') && o.duration_ms === 0 ? 'duration unknown' : formatDuration(o.duration_ms),
    ...(o.truncated ? ['TRUNCATED'] : []),
    ...(o.timed_out ? ['TIMED OUT'] : []),
  ];
  section(`observation ${i + 1}: ${facts.join(', ')}`, o.stdout);
  if (o.stderr) section(`stderr ${i + 1}`, o.stderr);
  for (const r of o.subagent_trajectory_refs ?? []) section('subagent trajectory', JSON.stringify(r));
}

/** The JSON of `trajlab show --json`: the overview (key `summary`), the host that ran the attempt (`host`, with `moves` when a pool run moved it: HostMove[]) and the step lines, or with `step` that step. Throws RangeError for a missing step. */
export function showJson(t: Trajectory, step?: number): string {
  if (step !== undefined) return safeJson(stepAt(t, step)) + '\n';
  const env = t.environment;
  const host = env?.host ? { host: env.host, ...(env.moves?.length ? { moves: env.moves } : {}) } : {};
  return safeJson({ summary: trajectoryOverview(t), ...host, steps: stepOverviews(t), ...(t.events?.length ? { events: t.events.map((e) => ({ before_step: e.before_step, source: e.source, message: e.message })) } : {}) }) + '\n';
}

function stepAt(t: Trajectory, index: number): Step {
  const s = t.steps[index];
  if (!s) {
    throw new RangeError(t.steps.length ? `step ${index} does not exist: the trajectory has ${t.steps.length} step(s), numbered 0 to ${t.steps.length - 1}` : `step ${index} does not exist: the trajectory has no steps`);
  }
  return s;
}

/** `word` quoted for a POSIX shell when it needs it. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function prettyArgs(args: string): string {
  try {
    return JSON.stringify(JSON.parse(args), null, 2);
  } catch {
    // Not JSON (a malformed call): shown as the model wrote it.
    return args;
  }
}

/** A count (bytes, characters) as `12,345`, or `unknown`. */
function n(v: number | null): string {
  return v === null ? 'unknown' : formatCount(v);
}

/** A token count as `1.2k`, or `unknown`. */
function tok(v: number | null): string {
  return v === null ? 'unknown' : formatTokens(v);
}
