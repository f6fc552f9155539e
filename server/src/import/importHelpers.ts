/**
 * Pieces shared by the trajectory importers (miniSweAgent.ts, sweAgent.ts, atif.ts): turning
 * foreign tool calls into TrajLab actions, observations with unknown values marked the one
 * documented way (common/src/trajectory.ts, `ImportedFrom`), diff stats from a unified diff,
 * and the skeleton of an imported trajectory.
 */
import * as path from 'node:path';
import type { Action, ChatMessage, DiffStats, ExitStatus, ForeignTrajectoryFormat, Observation, Step, ToolCall, Trajectory, TrajectoryResult } from '../../../common/src/trajectory';
import { TRAJECTORY_SCHEMA_VERSION } from '../../../common/src/trajectory';
import type { Task } from '../../../common/src/task';
import { TRAJLAB_VERSION } from '../version';
import { BROWSER_TOOL, parseBrowserArgs } from '../agent/actions';

/** A JSON object (anything else is not one). */
export type Json = Record<string, unknown>;

/** True for a JSON object (not null, not an array). */
export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `v` when it is a string, else undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** `v` when it is a finite number, else undefined. */
export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** An error in a file TrajLab was asked to read: says which file, what was expected and what was found. */
export class TrajectoryImportError extends Error {
  override name = 'TrajectoryImportError';
}

/**
 * The text of a message content: a string as is; an array of content parts (OpenAI / ATIF
 * v1.6 multimodal) as its text parts joined by newlines, each image as `[image: <path or url>]`;
 * null / undefined as ''.
 */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content == null ? '' : JSON.stringify(content);
  const parts: string[] = [];
  for (const p of content) {
    if (typeof p === 'string') parts.push(p);
    else if (isObject(p)) {
      if (typeof p.text === 'string') parts.push(p.text);
      else if (p.type === 'image' || p.type === 'image_url') {
        const src = isObject(p.source) ? (str(p.source.path) ?? str(p.source.url)) : isObject(p.image_url) ? str(p.image_url.url) : undefined;
        parts.push(`[image: ${src ?? 'inline'}]`);
      }
    }
  }
  return parts.join('\n');
}

/** Tool names that run a shell command, and the argument that holds it. */
const SHELL_TOOLS = new Set(['bash', 'execute_bash', 'bash_command', 'shell', 'run_shell_command', 'run_command', 'execute_command', 'exec_command', 'terminal', 'run_bash']);
const SHELL_ARGS = ['command', 'cmd', 'keystrokes'];
/** Tool names of str_replace-style editors (a `command` and a `path` argument). */
const EDIT_TOOLS = new Set(['str_replace_editor', 'str_replace_based_edit', 'str_replace_based_edit_tool', 'text_editor', 'edit_file', 'file_editor']);
/** Tool names by which an agent declares the task done. */
const SUBMIT_TOOLS = new Set(['submit', 'finish', 'mark_task_complete', 'task_complete', 'complete_task', 'attempt_completion']);

/**
 * The TrajLab action for one tool call of a foreign trajectory, by tool name (case-insensitive):
 * shell tools (`bash`, OpenHands `execute_bash`, terminus-2 `bash_command` with `keystrokes`…)
 * → `bash`; str_replace editors (OpenHands / Anthropic `str_replace_editor`, TrajLab's
 * `str_replace_based_edit`) → `edit`; `finish` / `submit` / `mark_task_complete`… → `submit`
 * (answer from `answer`, `message` or `result`); TrajLab's `browser` with valid arguments →
 * `browser` (agent/actions.ts parseBrowserArgs). Any other tool (OpenHands `think`,
 * `task_tracker`…) has no action kind: returns undefined, and the caller keeps its result as an
 * `other_observations` entry (the call stays in `response.tool_calls`).
 */
export function actionFromToolCall(name: string, args: Json, toolCallId: string | undefined): Action | undefined {
  const n = name.toLowerCase();
  const id = toolCallId !== undefined ? { tool_call_id: toolCallId } : {};
  if (SHELL_TOOLS.has(n)) {
    for (const k of SHELL_ARGS) if (typeof args[k] === 'string') return { kind: 'bash', command: args[k] as string, ...id };
    return undefined;
  }
  if (EDIT_TOOLS.has(n) && typeof args.command === 'string' && typeof args.path === 'string') {
    return { kind: 'edit', command: args.command, path: args.path, args, ...id };
  }
  if (SUBMIT_TOOLS.has(n)) {
    const answer = str(args.answer) ?? str(args.message) ?? str(args.result);
    return { kind: 'submit', ...(answer !== undefined ? { answer } : {}), ...id };
  }
  if (n === BROWSER_TOOL) {
    const a = parseBrowserArgs(args, toolCallId);
    return a.kind === 'browser' ? a : undefined;
  }
  return undefined;
}

/** Parses tool-call arguments (a JSON object string, or already an object); {} when they are not an object. */
export function parseArgs(args: unknown): Json {
  if (isObject(args)) return args;
  if (typeof args !== 'string' || !args.trim()) return {};
  try {
    const v: unknown = JSON.parse(args);
    return isObject(v) ? v : {};
  } catch {
    // Malformed JSON from the model: a call without usable arguments (the action says so).
    return {};
  }
}

/** An OpenAI-style tool call (`{id, function: {name, arguments}}`) normalised to TrajLab's ToolCall; undefined when malformed. */
export function toolCallOf(v: unknown): ToolCall | undefined {
  if (!isObject(v) || !isObject(v.function) || typeof v.function.name !== 'string') return undefined;
  const a = v.function.arguments;
  return {
    id: str(v.id) ?? '',
    type: 'function',
    function: { name: v.function.name, arguments: typeof a === 'string' ? a : JSON.stringify(a ?? {}) },
  };
}

/**
 * An observation from recorded text. `exitCode` null when the source did not record one;
 * duration 0 (the importers list `observations.duration_ms` as unknown unless they pass one).
 */
export function observation(stdout: string, exitCode: number | null, extra: Partial<Observation> = {}): Observation {
  return {
    stdout,
    stderr: '',
    exit_code: exitCode,
    truncated: false,
    timed_out: false,
    output_bytes: Buffer.byteLength(stdout) + Buffer.byteLength(extra.stderr ?? ''),
    duration_ms: 0,
    ...extra,
  };
}

/** The observation of an action whose result the source did not record. */
export function missingObservation(): Observation {
  return { stdout: '', stderr: '', exit_code: null, truncated: false, timed_out: false, output_bytes: 0, duration_ms: 0, missing: true };
}

/** The observation of a malformed reply: the error text fed back to the model (as TrajLab's own loop records it). */
export function formatErrorObservation(message: string): Observation {
  return { stdout: '', stderr: message, exit_code: null, truncated: false, timed_out: false, output_bytes: Buffer.byteLength(message), duration_ms: 0 };
}

/** ISO 8601 of a Unix time in seconds (mini-swe-agent's `time.time()`), '' when not a number. */
export function isoFromSeconds(v: unknown): string {
  const n = num(v);
  return n === undefined ? '' : new Date(Math.round(n * 1000)).toISOString();
}

/** True when `text` is a unified diff (git's `diff --git` or a plain `--- a/…` / `+++ b/…` pair). */
export function looksLikeDiff(text: string | null | undefined): boolean {
  if (!text) return false;
  const t = text.trimStart();
  return t.startsWith('diff --git ') || /^--- \S.*\n\+\+\+ \S/.test(t);
}

/**
 * Files changed, insertions and deletions of a unified diff (git's or plain), in one pass.
 * Hunk lengths from the `@@ -a,b +c,d @@` headers decide where a hunk ends, so a removed line
 * that reads `-- x` is never taken for a file header. Binary patches count as binary files.
 */
export function diffStats(diff: string): DiffStats {
  const files: DiffStats['files'] = [];
  let cur: DiffStats['files'][number] | undefined;
  let oldLeft = 0;
  let newLeft = 0;
  // Between a `diff --git` line and its first hunk: a ---/+++ pair there names the same file.
  let gitHeaderOpen = false;
  const lines = diff.split('\n');
  const pathOf = (p: string) => p.split('\t')[0]!.replace(/^"(.*)"$/, '$1').replace(/^[ab]\//, '');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (oldLeft > 0 || newLeft > 0) {
      const c = line[0];
      if (c === '+') {
        newLeft--;
        if (cur) cur.insertions++;
        continue;
      }
      if (c === '-') {
        oldLeft--;
        if (cur) cur.deletions++;
        continue;
      }
      if (c === ' ' || line === '') {
        oldLeft--;
        newLeft--;
        continue;
      }
      if (c === '\\') continue;
      oldLeft = newLeft = 0; // a malformed hunk: resynchronise on the headers
    }
    if (line.startsWith('diff --git ')) {
      const m = /^diff --git "?a\/(.*?)"? "?b\/(.*?)"?$/.exec(line);
      cur = { path: m ? m[2]! : line.slice(11), insertions: 0, deletions: 0, binary: false };
      files.push(cur);
      gitHeaderOpen = true;
    } else if (line.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ')) {
      const before = pathOf(line.slice(4));
      const after = pathOf(lines[i + 1]!.slice(4));
      const name = after === '/dev/null' ? before : after;
      if (gitHeaderOpen && cur) cur.path = name;
      else {
        cur = { path: name, insertions: 0, deletions: 0, binary: false };
        files.push(cur);
      }
      gitHeaderOpen = false;
      i++;
    } else if (line.startsWith('@@ ')) {
      const m = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line);
      if (m) {
        oldLeft = m[1] === undefined ? 1 : Number(m[1]);
        newLeft = m[2] === undefined ? 1 : Number(m[2]);
      }
      gitHeaderOpen = false;
    } else if (cur && (line.startsWith('Binary files ') || line === 'GIT binary patch')) {
      cur.binary = true;
    }
  }
  return {
    files_changed: files.length,
    insertions: files.reduce((n, f) => n + f.insertions, 0),
    deletions: files.reduce((n, f) => n + f.deletions, 0),
    files,
  };
}

/** Empty diff stats. */
export function noDiffStats(): DiffStats {
  return { files_changed: 0, insertions: 0, deletions: 0, files: [] };
}

/**
 * The result of an imported trajectory: the submission (its diff when it is one), no
 * evaluation, and reward 0 marked unknown unless `reward` is given (then from a reward file).
 */
export function importedResult(
  exitStatus: ExitStatus,
  submission: string | null,
  opts: { error?: string; reward?: { value: number; file: string } } = {},
): TrajectoryResult {
  const diff = looksLikeDiff(submission) ? submission! : '';
  const r = opts.reward;
  return {
    exit_status: exitStatus,
    submission,
    diff,
    diff_stats: diff ? diffStats(diff) : noDiffStats(),
    evaluation: r ? { method: 'reward_file', commands: [], reward_file: r.file, reward: r.value, success: r.value >= 1 } : null,
    reward: r ? r.value : 0,
    success: r ? r.value >= 1 : false,
    ...(opts.error ? { error: opts.error } : {}),
  };
}

/** Collects the placeholder paths of one import (ImportedFrom.unknown_fields). */
export class UnknownFields {
  private readonly set = new Set<string>();
  add(field: string): void {
    this.set.add(field);
  }
  list(): string[] {
    return [...this.set].sort();
  }
}

/**
 * The task id of a file whose format records none: its name without the format's extension
 * (`<instance_id>.traj.json`, `<instance_id>.traj`, as mini-swe-agent and SWE-agent name their
 * files); for Harbor's `…/<trial>/agent/trajectory.json`, the trial folder's name.
 */
export function taskIdFromPath(file: string): string {
  let base = path.basename(file).replace(/(\.traj\.json|\.trajectory\.json|\.traj|\.json)$/i, '');
  if (base === 'trajectory') {
    const dir = path.dirname(path.resolve(file));
    base = path.basename(dir) === 'agent' ? path.basename(path.dirname(dir)) : path.basename(dir);
  }
  return base.slice(0, 512) || 'imported';
}

/** A model identity from a name as the source writes it (`deepseek/deepseek-chat`, `openai/gpt-4o`); litellm's prefix is the provider. */
export function modelOf(name: string | undefined, temperature?: number): Trajectory['model'] {
  const n = name ?? '';
  const slash = n.indexOf('/');
  return { spec: n, provider: slash > 0 ? n.slice(0, slash) : '', name: n, ...(temperature !== undefined ? { temperature } : {}) };
}

/** Everything an importer decides; the rest of an imported trajectory is fixed (see ImportedFrom). */
export interface ImportedParts {
  format: ForeignTrajectoryFormat;
  version: string | null;
  file: string;
  agent: { name: string; version: string | null };
  rawExitStatus: string | null;
  runId: string;
  task: Task;
  mode: 'tools' | 'text';
  model: Trajectory['model'];
  systemPrompt: string;
  tools: unknown[];
  messages: ChatMessage[];
  steps: Step[];
  startedAt: string;
  endedAt: string;
  image: string;
  result: TrajectoryResult | null;
  /** Totals the source states (they win over sums of the steps). */
  totals?: { prompt_tokens?: number; completion_tokens?: number; cost_usd?: number };
  unknown: UnknownFields;
  events?: Trajectory['events'];
  sourceFields?: Record<string, unknown>;
}

/** Assembles an imported trajectory (fixed values documented on `ImportedFrom`). */
export function importedTrajectory(p: ImportedParts): Trajectory {
  let prompt = 0;
  let completion = 0;
  let cost = 0;
  for (const s of p.steps) {
    prompt += s.usage?.prompt_tokens ?? 0;
    completion += s.usage?.completion_tokens ?? 0;
    cost += s.cost_usd;
  }
  const costKnown = p.totals?.cost_usd !== undefined;
  if (!costKnown && p.unknown.list().includes('steps.cost_usd')) p.unknown.add('totals.cost_usd');
  p.unknown.add('totals.duration_ms');
  if (p.steps.some((s) => !s.usage)) {
    if (p.totals?.prompt_tokens === undefined) p.unknown.add('totals.prompt_tokens');
    if (p.totals?.completion_tokens === undefined) p.unknown.add('totals.completion_tokens');
  }
  if (p.result && p.result.evaluation === null) p.unknown.add('result.reward');
  const t: Trajectory = {
    schema_version: TRAJECTORY_SCHEMA_VERSION,
    run_id: p.runId,
    task_id: p.task.task_id,
    attempt: 1,
    task: p.task,
    agent: { name: 'trajlab', version: TRAJLAB_VERSION, mode: p.mode, policy: 'model' },
    model: p.model,
    system_prompt: p.systemPrompt,
    tools: p.tools,
    messages: p.messages,
    steps: p.steps,
    started_at: p.startedAt,
    ended_at: p.endedAt,
    source: { tasks_file: '', line: 0 },
    environment: { image: p.image, host: '' },
    status: p.result ? 'finished' : 'running',
    result: p.result,
    totals: {
      steps: p.steps.length,
      prompt_tokens: p.totals?.prompt_tokens ?? prompt,
      completion_tokens: p.totals?.completion_tokens ?? completion,
      cost_usd: p.totals?.cost_usd ?? cost,
      duration_ms: 0,
    },
    imported_from: {
      format: p.format,
      version: p.version,
      file: path.resolve(p.file),
      agent: p.agent,
      exit_status: p.rawExitStatus,
      unknown_fields: p.unknown.list(),
      ...(p.sourceFields && Object.keys(p.sourceFields).length ? { source_fields: p.sourceFields } : {}),
    },
    ...(p.events?.length ? { events: p.events } : {}),
  };
  return t;
}
