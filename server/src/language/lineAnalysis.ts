/**
 * What the editor keeps about one line of tasks.jsonl: its problems on its own (syntax and
 * schema, from the same checkTaskLine the CLI uses) and the few fields the cross-line and
 * environment checks need (task_id for duplicates, image, workspace.repo, task_type). The parsed
 * object is not kept: 100,000 lines of objects would cost far more memory than their text.
 */
import { checkTaskLine, type LineProblem } from '../tasks/reader';
import { isSweInstance } from '../import/sweInstance';
import { findTopLevelProperty, trimmedSpan } from './jsonLine';
import { TOOL_ALIASES, TOOL_NAMES } from '../agent/actions';

/** Codes of the diagnostics this language produces (`Diagnostic.code`), for code actions and tests. */
export const DiagnosticCode = {
  syntax: 'invalid-json',
  notObject: 'not-an-object',
  unknownKey: 'unknown-key',
  missingKey: 'missing-key',
  schema: 'schema',
  duplicateId: 'duplicate-task-id',
  repoNotFound: 'repo-not-found',
  imageNotFound: 'image-not-found',
  evalMissing: 'eval-missing',
  unknownTool: 'unknown-tool',
} as const;
export type DiagnosticCode = (typeof DiagnosticCode)[keyof typeof DiagnosticCode];

/** One problem of a line on its own. Offsets are UTF-16 within the line. */
export interface LineDiagnostic {
  offset: number;
  length: number;
  message: string;
  severity: 'error' | 'warning';
  code: DiagnosticCode;
  /** For `unknown-key` / `missing-key`: the JSON path of the object and the key. */
  path?: (string | number)[];
  key?: string;
}

/** The analysis of one line; immutable, shared by identical lines. */
export interface LineAnalysis {
  /** `skip`: blank or `//` comment; `invalid`: not a JSON object; `object`: a JSON object (valid or not). */
  kind: 'skip' | 'invalid' | 'object';
  problems: LineDiagnostic[];
  /** task_id when it is a non-empty string (also read from a line that is not valid JSON). */
  taskId?: string;
  /** task_type as written (when a string). */
  taskType?: string;
  /** `image` when a non-empty string. */
  image?: string;
  /** `workspace.repo` when a non-empty string. */
  repo?: string;
  /** The line is a SWE-bench / SWE-smith instance rather than a task (offers the conversion). */
  sweInstance?: boolean;
  /** The task has a `solution` (the gold policy can run it). */
  hasSolution?: boolean;
  /** The line has no schema or syntax problem. */
  valid: boolean;
}

const NO_PROBLEMS: LineDiagnostic[] = Object.freeze([]) as unknown as LineDiagnostic[];
const SKIP: LineAnalysis = Object.freeze({ kind: 'skip', problems: NO_PROBLEMS, valid: true }) as LineAnalysis;
/** One string per task type for 100,000 lines, not one each. */
const TASK_TYPES = new Map(['code', 'swe', 'reasoning', 'web'].map((t) => [t, t]));

/**
 * Analyses one line of tasks.jsonl on its own. A leading byte order mark (U+FEFF, only
 * meaningful on line 1) is ignored and offsets still count it. Never throws: any text, however
 * long or binary, gives an analysis.
 */
export function analyzeLine(text: string): LineAnalysis {
  if (text.charCodeAt(0) === 0xfeff) {
    const inner = analyzeLine(text.slice(1));
    return inner.problems.length ? { ...inner, problems: inner.problems.map((p) => ({ ...p, offset: p.offset + 1 })) } : inner;
  }
  const check = checkTaskLine(text);
  if (check.kind === 'skip') return SKIP;
  if (check.kind === 'invalid') {
    // A line cut short still names its task (outline, duplicates), when its task_id comes first.
    const analysis: LineAnalysis = { kind: 'invalid', problems: check.problems.map(toDiagnostic), valid: false };
    const id = stringValue(text, 'task_id');
    if (id) analysis.taskId = id;
    return analysis;
  }
  const value = check.value;
  const problems = check.problems.length ? check.problems.map(toDiagnostic).sort((a, b) => a.offset - b.offset) : NO_PROBLEMS;
  const analysis: LineAnalysis = { kind: 'object', problems, valid: problems.length === 0 };
  if (typeof value.task_id === 'string' && value.task_id) analysis.taskId = value.task_id;
  if (typeof value.task_type === 'string') analysis.taskType = TASK_TYPES.get(value.task_type) ?? value.task_type;
  if (typeof value.image === 'string' && value.image) analysis.image = value.image;
  const ws = value.workspace;
  if (ws && typeof ws === 'object' && typeof (ws as { repo?: unknown }).repo === 'string' && (ws as { repo: string }).repo) analysis.repo = (ws as { repo: string }).repo;
  if (value.solution && typeof value.solution === 'object') analysis.hasSolution = true;
  if (!analysis.valid && isSweInstance(value)) analysis.sweInstance = true;
  const toolProblems = unknownTools(text, value.expected_tools);
  if (toolProblems.length) analysis.problems = [...analysis.problems, ...toolProblems];
  const evalProblem = missingEval(value);
  if (evalProblem) {
    const at = findTopLevelProperty(text, 'task_type')?.value ?? findTopLevelProperty(text, 'task_id')?.key ?? trimmedSpan(text);
    analysis.problems = [...analysis.problems, { ...evalProblem, ...at }];
  }
  return analysis;
}

/** Task types whose reward needs an `eval`, and what each one needs (evaluate.ts decides rewards). */
const EVAL_NEEDS: Record<string, string> = {
  code: 'eval commands (exit code 0 = reward 1) or a reward file',
  swe: 'FAIL_TO_PASS / PASS_TO_PASS tests or eval commands',
  reasoning: 'an eval "answer" (checked against the agent\'s final answer)',
};

/**
 * The warning for a task whose type needs an eval and that has none that decides a reward
 * (evaluate.ts gives such attempts the method `none` and reward 0). `web` tasks are exempt.
 */
function missingEval(value: Record<string, unknown>): Omit<LineDiagnostic, 'offset' | 'length'> | undefined {
  const type = typeof value.task_type === 'string' ? value.task_type : 'code';
  const needs = EVAL_NEEDS[type];
  if (!needs) return undefined;
  const ev = value.eval;
  if (Array.isArray(ev) && ev.length) return undefined;
  if (ev && typeof ev === 'object' && !Array.isArray(ev)) {
    const e = ev as Record<string, unknown>;
    if (nonEmpty(e.commands) || nonEmpty(e.FAIL_TO_PASS) || nonEmpty(e.PASS_TO_PASS) || nonEmpty(e.answer)) return undefined;
  }
  if (ev !== undefined && typeof ev !== 'object') return undefined; // a type error is already reported
  return {
    message: `a "${type}" task needs an "eval" with ${needs}: without one every attempt gets reward 0`,
    severity: 'warning',
    code: DiagnosticCode.evalMissing,
  };
}

/**
 * A warning for each name in `expected_tools` that is no tool of TrajLab's agent (TOOL_NAMES or
 * an alias): a typo such as `browsr` would silently leave a web task without its browser. The
 * name is still recorded in the trajectory (the schema allows any string), so it is no error.
 * Each warning spans the name's string in the array (its first occurrence there after the
 * previous one).
 */
function unknownTools(text: string, tools: unknown): LineDiagnostic[] {
  if (!Array.isArray(tools)) return NO_PROBLEMS;
  const known = new Set([...TOOL_NAMES, ...Object.keys(TOOL_ALIASES)]);
  const span = findTopLevelProperty(text, 'expected_tools')?.value;
  if (!span) return NO_PROBLEMS;
  const out: LineDiagnostic[] = [];
  let from = span.offset;
  for (const name of tools) {
    if (typeof name !== 'string') continue;
    const literal = JSON.stringify(name);
    const at = text.indexOf(literal, from);
    if (at >= 0 && at < span.offset + span.length) from = at + literal.length;
    if (known.has(name)) continue;
    out.push({
      offset: at >= 0 ? at : span.offset,
      length: at >= 0 ? literal.length : span.length,
      message: `${literal} is not a tool of TrajLab's agent (${TOOL_NAMES.join(', ')}; \`editor\` for ${TOOL_ALIASES.editor}): it is recorded, and offers nothing`,
      severity: 'warning',
      code: DiagnosticCode.unknownTool,
    });
  }
  return out;
}

/** The string value of top-level `key` in a line that may not parse as a whole. */
function stringValue(text: string, key: string): string | undefined {
  const v = findTopLevelProperty(text, key)?.value;
  if (!v || text.charCodeAt(v.offset) !== 0x22) return undefined;
  try {
    const s: unknown = JSON.parse(text.slice(v.offset, v.offset + v.length));
    return typeof s === 'string' && s ? s : undefined;
  } catch {
    return undefined; // a malformed string literal: no value yet (the line's diagnostics say why)
  }
}

/** A non-empty list, or any other value than undefined and ''. */
function nonEmpty(v: unknown): boolean {
  return Array.isArray(v) ? v.length > 0 : v !== undefined && v !== '';
}

function toDiagnostic(p: LineProblem): LineDiagnostic {
  const base = { offset: p.offset, length: p.length, message: p.message, severity: 'error' as const };
  switch (p.keyword) {
    case 'syntax':
      return { ...base, code: DiagnosticCode.syntax };
    case 'not-object':
      return { ...base, code: DiagnosticCode.notObject };
    case 'additionalProperties':
      return { ...base, code: DiagnosticCode.unknownKey, path: p.path, key: p.key };
    case 'required':
      return { ...base, code: DiagnosticCode.missingKey, path: p.path, key: p.key };
    default:
      return { ...base, code: DiagnosticCode.schema, path: p.path };
  }
}
