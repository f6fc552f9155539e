/**
 * Harbor's Agent Trajectory Interchange Format (ATIF, `trajectory.json`) → TrajLab trajectories.
 *
 * Spec: "RFC: Agent Trajectory Interchange Format (ATIF) Specification", repository
 * harbor-framework/harbor (formerly laude-institute/harbor), `docs/rfcs/0001-trajectory-format.md`
 * (v1.0 – v1.7), summarised at https://harborframework.com/docs/trajectory-format. Root:
 * `schema_version` ("ATIF-v1.x"), `session_id`, `agent` {name, version, model_name,
 * tool_definitions (v1.5, OpenAI function schemas), extra}, `steps`, `notes`, `final_metrics`
 * {total_prompt_tokens, total_completion_tokens, total_cached_tokens, total_cost_usd,
 * total_steps, extra}, `continued_trajectory_ref`, `extra` (v1.1), `trajectory_id` and
 * `subagent_trajectories` (v1.7). A step: `step_id` (from 1), `timestamp` (ISO 8601), `source`
 * ("system" | "user" | "agent"), `model_name`, `reasoning_effort`, `message` (a string, or
 * content parts in v1.6), `reasoning_content`, `tool_calls` [{tool_call_id, function_name,
 * arguments}], `observation` {results: [{source_call_id, content, subagent_trajectory_ref}]},
 * `metrics` {prompt_tokens (cached included), completion_tokens, cached_tokens, cost_usd,
 * prompt_token_ids (v1.4), completion_token_ids (v1.3), logprobs, extra}, `extra`.
 * Real examples: Harbor's golden test files `tests/golden/openhands/hello-world.trajectory.json`
 * and `tests/golden/terminus_2/hello-world-context-summarization.trajectory.json`.
 *
 * Mapping: each agent step is a TrajLab step. The first step, when a system step, is the system
 * prompt; the first user step before any agent step is the task prompt; every other system or
 * user step is an `events` entry (e.g. a context-summarization hand-off with its subagent
 * trajectory refs). Tool calls become actions by tool name (importHelpers.actionFromToolCall);
 * results join their call by `source_call_id`; results without one go, in order, to the
 * actions still without a result (terminus-2 records its terminal output that way), the rest to
 * `other_observations`. ATIF has no exit codes (`exit_code: null`), no durations and no exit
 * status: the result is `submitted` when the last agent step called a submit tool (`finish`,
 * `mark_task_complete`…), else null. Fields with no native home are kept verbatim in
 * `source_fields` (step) and `imported_from.source_fields` (root), so exporting back to ATIF
 * restores them.
 *
 * Content parts (v1.6, Harbor `harbor/models/trajectories/content.py`: `{type: "text", text}`,
 * `{type: "image", source: {media_type, path}}`): the task prompt's and a linked result's text
 * is their text parts joined by newlines; their image parts with a file path become the images
 * of the message that carries them (ChatMessage.images: the prompt's user message, the result's
 * tool message or text-mode user message), the path made absolute against the ATIF file's folder
 * as Harbor's validator resolves it (`TrajectoryValidator._validate_image_paths`), sha256 `''`
 * and bytes `0` (`messages.images.bytes` in `unknown_fields`) as the file is not read. An image
 * given by URL (`scheme://…`) stays in the text as `[image: <url>]` (importHelpers.textOf), as do
 * the images of agent messages, events and results with no action. TrajLab's own export puts the
 * exact images back instead (`extra.trajlab` `prompt_images`, and per observation `images` and
 * the browser page state `browser`, with the screenshot's path as recorded).
 */
import * as path from 'node:path';
import type { Task } from '../../../common/src/task';
import type { BrowserObservation, ChatImage, ChatMessage, Observation, OtherObservation, Step, SubagentTrajectoryRef, ToolCall, Trajectory, TrajectoryEvent, TrajectoryResult } from '../../../common/src/trajectory';
import {
  actionFromToolCall,
  importedResult,
  importedTrajectory,
  isObject,
  missingObservation,
  modelOf,
  num,
  observation,
  str,
  taskIdFromPath,
  textOf,
  UnknownFields,
  type Json,
} from './importHelpers';

/** Step keys that have a native home; any other key of a step is kept in `source_fields`. */
const STEP_KEYS = new Set(['step_id', 'timestamp', 'source', 'message', 'reasoning_content', 'tool_calls', 'observation', 'metrics']);
const METRIC_KEYS = new Set(['prompt_tokens', 'completion_tokens', 'cached_tokens', 'cost_usd']);
const ROOT_KEYS = new Set(['schema_version', 'session_id', 'agent', 'steps', 'final_metrics']);
const FINAL_KEYS = new Set(['total_prompt_tokens', 'total_completion_tokens', 'total_cost_usd']);

/** Key of `source_fields` listing the actions whose ATIF result had no `source_call_id`. */
export const UNLINKED_RESULTS = 'atif_unlinked_results';
/**
 * Key of the root `extra` where TrajLab's ATIF export keeps what ATIF has no field for:
 * `{task_id, result}` (exit status, submission, diff, evaluation, reward).
 */
export const TRAJLAB_EXTRA_KEY = 'trajlab';
/** Flag in a step's `extra.trajlab`: its tool calls stand for text-mode actions (TrajLab's ATIF export); read back without them. */
export const ACTIONS_FROM_TEXT = 'actions_from_text';

/**
 * The root `extra.trajlab` of TrajLab's ATIF export (export/atif.ts): what ATIF has no field
 * for. Every key but `task_id` is optional on reading (older exports wrote `{task_id, result}`).
 * `duration_ms` is the run's `totals.duration_ms` (ms); `unknown_fields` those of an imported
 * trajectory, so that a placeholder stays marked as one.
 */
export interface TrajlabRootExtra {
  task_id: string;
  result?: TrajectoryResult;
  run_id?: string;
  attempt?: number;
  task?: Task;
  started_at?: string;
  ended_at?: string | null;
  model?: Trajectory['model'];
  agent?: { mode: Trajectory['agent']['mode']; policy: Trajectory['agent']['policy']; version: string };
  source?: Trajectory['source'];
  environment?: Trajectory['environment'];
  status?: Trajectory['status'];
  duration_ms?: number;
  unknown_fields?: string[];
  /** The images of the task prompt's message, exactly (the user step's image parts lack sha256 and bytes). */
  prompt_images?: ChatImage[];
}

/** Observation details a step's `extra.trajlab.observations` keeps per action (null: no result recorded). */
export interface TrajlabObservationExtra {
  exit_code: number | null;
  stderr: string;
  truncated: boolean;
  timed_out: boolean;
  output_bytes: number;
  /** ms */
  duration_ms: number;
  /** A browser action's page state (Observation.browser), its screenshot path relative to the trajectory's folder as recorded. */
  browser?: BrowserObservation;
  /** The images sent to the model with this observation's message (ChatMessage.images), exactly. */
  images?: ChatImage[];
}

/** A step's `extra.trajlab` in TrajLab's ATIF export; latency in ms. */
export interface TrajlabStepExtra {
  [ACTIONS_FROM_TEXT]?: true;
  ended_at?: string;
  /** The reply had no content (`null`); ATIF's `message` is a required string, written as ''. */
  content_null?: true;
  latency_ms?: number;
  error?: string;
  task_step?: number;
  observations?: (TrajlabObservationExtra | null)[];
  /** The step's `source_fields` of a trajectory another importer read (mini-swe-agent's, SWE-agent's): kept through ATIF. */
  source_fields?: Record<string, unknown>;
}

/**
 * The ATIF result `content` of an observation: stdout, then stderr after a newline when both
 * are non-empty (whichever one there is, else ''). No prompt template around it: the exit code
 * travels in the step's `extra.trajlab` (TrajlabStepExtra). `stdoutOf` inverts it.
 */
export function observationContent(o: Pick<Observation, 'stdout' | 'stderr'>): string {
  return o.stdout && o.stderr ? `${o.stdout}\n${o.stderr}` : o.stdout || o.stderr;
}

/** The stdout inside `content` written by observationContent for this `stderr`; the content as is when it does not end with it. */
function stdoutOf(content: string, stderr: string): string {
  if (!stderr) return content;
  if (content === stderr) return '';
  return content.endsWith(`\n${stderr}`) ? content.slice(0, content.length - stderr.length - 1) : content;
}

/**
 * Imports a parsed ATIF trajectory (see the module comment). `file` is recorded in
 * `imported_from`; `reward` is the verifier's reward when the caller found one (Harbor keeps it
 * beside the trajectory, not in it). Never throws for missing optional parts.
 */
export function importAtif(data: Json, file: string, reward?: { value: number; file: string }): Trajectory {
  const agent = isObject(data.agent) ? data.agent : {};
  const raw = Array.isArray(data.steps) ? data.steps.filter(isObject) : [];
  const unknown = new UnknownFields();
  const messages: ChatMessage[] = [];
  const steps: Step[] = [];
  const events: TrajectoryEvent[] = [];
  let systemPrompt = '';
  let taskPrompt: string | undefined;
  let sawToolCalls = false;
  let firstModel: string | undefined;
  const dir = path.dirname(path.resolve(file));
  const oursRoot = isObject(data.extra) && isObject(data.extra[TRAJLAB_EXTRA_KEY]) ? data.extra[TRAJLAB_EXTRA_KEY] : undefined;

  raw.forEach((s, i) => {
    const source = str(s.source);
    const text = textOf(s.message);
    if (source === 'agent') {
      const { step, images } = agentStep(s, steps.length, unknown, dir);
      if (step.response.tool_calls?.length) sawToolCalls = true;
      firstModel ??= str(s.model_name);
      steps.push(step);
      messages.push({
        role: 'assistant',
        content: step.response.content,
        ...(step.response.tool_calls ? { tool_calls: step.response.tool_calls } : {}),
        ...(step.response.reasoning ? { reasoning: step.response.reasoning } : {}),
      });
      step.actions.forEach((a, j) => {
        const o = step.observations[j]!;
        const sent = images[j];
        if (!o.missing) messages.push({ role: a.tool_call_id ? 'tool' : 'user', content: o.stdout, ...(a.tool_call_id ? { tool_call_id: a.tool_call_id } : {}), ...(sent?.length ? { images: sent } : {}) });
      });
      for (const o of step.other_observations ?? []) messages.push({ role: o.tool_call_id ? 'tool' : 'user', content: o.content, ...(o.tool_call_id ? { tool_call_id: o.tool_call_id } : {}) });
      return;
    }
    if (source !== 'system' && source !== 'user') return;
    if (source === 'user' && taskPrompt === undefined && !steps.length) {
      // The task prompt: its image parts are the images of its message (TrajLab's export keeps them exactly).
      const prompt = contentOf(s.message, dir);
      const exact = Array.isArray(oursRoot?.prompt_images) ? (oursRoot.prompt_images as ChatImage[]) : undefined;
      if (!exact && prompt.images.length) unknown.add(UNKNOWN_IMAGE_BYTES);
      const images = exact ?? prompt.images;
      messages.push({ role: 'user', content: prompt.text, ...(images.length ? { images } : {}) });
      taskPrompt = prompt.text;
      return;
    }
    messages.push({ role: source, content: text });
    if (source === 'system' && i === 0) {
      systemPrompt = text;
      return;
    }
    const results = isObject(s.observation) && Array.isArray(s.observation.results) ? s.observation.results.filter(isObject) : [];
    const rest = restOf(s, STEP_KEYS);
    if (typeof s.message !== 'string' && s.message !== undefined) rest.message = s.message;
    events.push({
      before_step: steps.length,
      source,
      message: text,
      timestamp: str(s.timestamp) ?? '',
      ...(results.length ? { results: results.map((r) => ({ content: typeof r.content === 'undefined' ? null : textOf(r.content), ...refsOf(r) })) } : {}),
      ...(Object.keys(rest).length ? { source_fields: rest } : {}),
    });
  });

  const extra = isObject(data.extra) ? data.extra : {};
  const fm = isObject(data.final_metrics) ? data.final_metrics : {};
  const agentExtra = isObject(agent.extra) ? agent.extra : {};
  const sourceFields: Record<string, unknown> = restOf(data, ROOT_KEYS);
  if (isObject(sourceFields.extra)) {
    const { [TRAJLAB_EXTRA_KEY]: _, ...others } = sourceFields.extra;
    if (Object.keys(others).length) sourceFields.extra = others;
    else delete sourceFields.extra;
  }
  if (agent.extra !== undefined) sourceFields.agent_extra = agent.extra;
  const fmRest = restOf(fm, FINAL_KEYS);
  if (Object.keys(fmRest).length) sourceFields.final_metrics = fmRest;

  const ours = isObject(extra[TRAJLAB_EXTRA_KEY]) ? extra[TRAJLAB_EXTRA_KEY] : {};
  const saved = isObject(ours.result) ? (ours.result as unknown as TrajectoryResult) : undefined;
  let result: TrajectoryResult | null = saved && typeof saved.exit_status === 'string' ? saved : null;
  let rawStatus: string | null = null;
  if (!result) {
    const last = steps[steps.length - 1];
    const submit = last?.actions.find((a) => a.kind === 'submit');
    if (submit?.kind === 'submit') {
      rawStatus = null;
      result = importedResult('submitted', submit.answer ?? null, reward ? { reward } : {});
    }
  }

  const t = importedTrajectory({
    format: 'atif',
    version: str(data.schema_version) ?? null,
    file,
    agent: { name: str(agent.name) ?? '', version: str(agent.version) ?? null },
    rawExitStatus: rawStatus,
    runId: str(data.session_id) ?? '',
    task: {
      task_id: str(ours.task_id) || taskIdFromPath(file),
      ...(taskPrompt !== undefined ? { description: taskPrompt } : {}),
    },
    mode: sawToolCalls ? 'tools' : 'text',
    model: modelOf(str(agent.model_name) ?? firstModel, num(agentExtra.temperature)),
    systemPrompt,
    tools: Array.isArray(agent.tool_definitions) ? agent.tool_definitions : [],
    messages,
    steps,
    startedAt: str(raw[0]?.timestamp) ?? '',
    endedAt: str(raw[raw.length - 1]?.timestamp) ?? '',
    image: '',
    result,
    totals: {
      ...(num(fm.total_prompt_tokens) !== undefined ? { prompt_tokens: num(fm.total_prompt_tokens) } : {}),
      ...(num(fm.total_completion_tokens) !== undefined ? { completion_tokens: num(fm.total_completion_tokens) } : {}),
      ...(num(fm.total_cost_usd) !== undefined ? { cost_usd: num(fm.total_cost_usd) } : {}),
    },
    unknown,
    events,
    sourceFields,
  });
  return isObject(extra[TRAJLAB_EXTRA_KEY]) ? restoreTrajlab(t, extra[TRAJLAB_EXTRA_KEY] as Partial<TrajlabRootExtra>) : t;
}

/**
 * Puts back what TrajLab's ATIF export kept in the root `extra.trajlab` (TrajlabRootExtra): run
 * id, attempt, task definition, times, model, agent mode and policy, source, environment,
 * status and duration. `unknown_fields` then lists the placeholders of steps without
 * `extra.trajlab` timing and those the exported trajectory had itself.
 */
function restoreTrajlab(t: Trajectory, ours: Partial<TrajlabRootExtra>): Trajectory {
  const from = t.imported_from!;
  const unknown = new Set(from.unknown_fields);
  if (typeof ours.run_id === 'string') t.run_id = ours.run_id;
  if (typeof ours.attempt === 'number') t.attempt = ours.attempt;
  if (isObject(ours.task) && typeof ours.task.task_id === 'string') t.task = ours.task as Task;
  if (typeof ours.started_at === 'string') t.started_at = ours.started_at;
  if (typeof ours.ended_at === 'string' || ours.ended_at === null) t.ended_at = ours.ended_at;
  if (isObject(ours.model)) t.model = ours.model as Trajectory['model'];
  if (isObject(ours.agent)) t.agent = { ...t.agent, mode: ours.agent.mode, policy: ours.agent.policy };
  if (isObject(ours.source)) t.source = ours.source as Trajectory['source'];
  if (isObject(ours.environment)) t.environment = ours.environment as Trajectory['environment'];
  if (ours.status === 'running' || ours.status === 'finished') t.status = ours.status;
  // The export writes the run's model name on every agent step; it is the run's, not a step's own.
  for (const s of t.steps) if (s.source_fields && s.source_fields.model_name === t.model.name) {
    delete s.source_fields.model_name;
    if (!Object.keys(s.source_fields).length) delete s.source_fields;
  }
  if (typeof ours.duration_ms === 'number') {
    t.totals.duration_ms = ours.duration_ms;
    unknown.delete('totals.duration_ms');
  }
  // The totals and the reward were written as values (an export leaves out what was unknown, and
  // then lists it in its own unknown_fields, added back below).
  for (const f of ['totals.prompt_tokens', 'totals.completion_tokens', 'totals.cost_usd', 'result.reward']) unknown.delete(f);
  for (const f of Array.isArray(ours.unknown_fields) ? ours.unknown_fields : []) if (typeof f === 'string') unknown.add(f);
  from.unknown_fields = [...unknown].sort();
  return t;
}

/**
 * One ATIF agent step → a TrajLab step (actions, observations, usage, cost, kept fields), and per
 * action the images its result sent (from TrajLab's `extra.trajlab`, else the result's image
 * parts; see the module comment). `dir`: the ATIF file's folder, for relative image paths.
 */
function agentStep(s: Json, index: number, unknown: UnknownFields, dir: string): { step: Step; images: (ChatImage[] | undefined)[] } {
  const calls: ToolCall[] = [];
  const actions: Step['actions'] = [];
  const byId = new Map<string, number>();
  for (const c of Array.isArray(s.tool_calls) ? s.tool_calls.filter(isObject) : []) {
    const id = str(c.tool_call_id) ?? '';
    const name = str(c.function_name) ?? '';
    const args = isObject(c.arguments) ? c.arguments : {};
    calls.push({ id, type: 'function', function: { name, arguments: JSON.stringify(c.arguments ?? {}) } });
    const a = actionFromToolCall(name, args, id);
    if (a) {
      byId.set(id, actions.length);
      actions.push(a);
    } else byId.set(id, -1);
  }
  const observations: (Observation | undefined)[] = new Array(actions.length);
  const partImages: ChatImage[][] = new Array(actions.length);
  const other: OtherObservation[] = [];
  const unlinked: Json[] = [];
  const results = isObject(s.observation) && Array.isArray(s.observation.results) ? s.observation.results.filter(isObject) : [];
  const take = (at: number, r: Json): void => {
    const c = contentOf(r.content, dir);
    observations[at] = observation(c.text, null, refsOf(r));
    partImages[at] = c.images;
  };
  for (const r of results) {
    const sid = str(r.source_call_id);
    const at = sid !== undefined ? byId.get(sid) : undefined;
    if (at !== undefined && at >= 0 && !observations[at]) take(at, r);
    else if (sid !== undefined) other.push({ tool_call_id: sid, content: textOf(r.content), ...refsOf(r) });
    else unlinked.push(r);
  }
  const unlinkedAt: number[] = [];
  for (const r of unlinked) {
    let at = -1;
    for (let i = 0; i < actions.length; i++) if (!observations[i]) {
      at = i;
      break;
    }
    if (at >= 0) {
      take(at, r);
      unlinkedAt.push(at);
    } else other.push({ tool_call_id: null, content: textOf(r.content), ...refsOf(r) });
  }

  const metrics = isObject(s.metrics) ? s.metrics : {};
  const prompt = num(metrics.prompt_tokens);
  const completion = num(metrics.completion_tokens);
  const cached = num(metrics.cached_tokens);
  const cost = num(metrics.cost_usd);
  if (cost === undefined) unknown.add('steps.cost_usd');
  const rest = restOf(s, STEP_KEYS);
  if (typeof s.message !== 'string' && s.message !== undefined) rest.message = s.message;
  const metricsRest = restOf(metrics, METRIC_KEYS);
  if (Object.keys(metricsRest).length) rest.metrics = metricsRest;
  if (unlinkedAt.length) rest[UNLINKED_RESULTS] = unlinkedAt;
  const reasoning = str(s.reasoning_content);
  const ours = (isObject(s.extra) && isObject(s.extra[TRAJLAB_EXTRA_KEY]) ? s.extra[TRAJLAB_EXTRA_KEY] : undefined) as Partial<TrajlabStepExtra> | undefined;
  if (ours) {
    const { [TRAJLAB_EXTRA_KEY]: _, ...otherExtra } = s.extra as Json;
    if (Object.keys(otherExtra).length) rest.extra = otherExtra;
    else delete rest.extra;
  }
  // TrajLab's export of a text-mode step: the calls were parsed from the reply, not made by the model.
  if (ours?.[ACTIONS_FROM_TEXT] === true) {
    calls.length = 0;
    for (const a of actions) delete a.tool_call_id;
    delete rest[UNLINKED_RESULTS];
  }
  if (typeof ours?.latency_ms !== 'number') unknown.add('steps.latency_ms');
  const details = Array.isArray(ours?.observations) ? ours.observations : [];
  const images: (ChatImage[] | undefined)[] = new Array(actions.length);
  const restored = Array.from(observations, (o, i) => {
    const d = details[i];
    if (o && !isObject(d)) unknown.add('observations.duration_ms');
    if (!o || !isObject(d)) {
      if (partImages[i]?.length) unknown.add(UNKNOWN_IMAGE_BYTES);
      images[i] = partImages[i];
      return o ?? missingObservation();
    }
    // TrajLab's export: the images sent, exactly (an unsent screenshot is an image part too).
    images[i] = Array.isArray(d.images) ? (d.images as ChatImage[]) : undefined;
    const stderr = str(d.stderr) ?? '';
    const exit = num(d.exit_code);
    return {
      ...o,
      stdout: stdoutOf(o.stdout, stderr),
      stderr,
      exit_code: exit ?? null,
      truncated: d.truncated === true,
      timed_out: d.timed_out === true,
      output_bytes: num(d.output_bytes) ?? o.output_bytes,
      duration_ms: num(d.duration_ms) ?? 0,
      ...(isObject(d.browser) ? { browser: d.browser as unknown as BrowserObservation } : {}),
    };
  });
  const step: Step = {
    index,
    started_at: str(s.timestamp) ?? '',
    ended_at: str(ours?.ended_at) ?? '',
    latency_ms: num(ours?.latency_ms) ?? 0,
    response: { content: ours?.content_null === true && s.message === '' ? null : textOf(s.message), ...(reasoning !== undefined ? { reasoning } : {}), ...(calls.length ? { tool_calls: calls } : {}) },
    ...(prompt !== undefined || completion !== undefined
      ? { usage: { prompt_tokens: prompt ?? 0, completion_tokens: completion ?? 0, total_tokens: (prompt ?? 0) + (completion ?? 0), ...(cached !== undefined ? { cached_tokens: cached } : {}) } }
      : {}),
    cost_usd: cost ?? 0,
    actions,
    observations: restored,
    ...(typeof ours?.error === 'string' ? { error: ours.error } : {}),
    ...(typeof ours?.task_step === 'number' ? { task_step: ours.task_step } : {}),
    ...(other.length ? { other_observations: other } : {}),
    ...sourceFieldsOf(ours?.source_fields, rest),
  };
  return { step, images };
}

/** The `unknown_fields` entry of an image read from content parts: its size (and sha256, '') are not known without reading the file. */
const UNKNOWN_IMAGE_BYTES = 'messages.images.bytes';

/**
 * ATIF content (a string, or v1.6 content parts) → its text and the images of its image parts
 * that give a file path (made absolute against `dir`, the ATIF file's folder; sha256 '' and
 * bytes 0: the file is not read). Image parts given by URL stay in the text (textOf writes
 * `[image: <url>]`); text parts are joined by newlines (textOf).
 */
function contentOf(content: unknown, dir: string): { text: string; images: ChatImage[] } {
  if (!Array.isArray(content)) return { text: textOf(content), images: [] };
  const images: ChatImage[] = [];
  const rest = content.filter((p) => {
    const source = isObject(p) && p.type === 'image' && isObject(p.source) ? p.source : undefined;
    const file = source ? str(source.path) : undefined;
    if (!source || !file || file.includes('://')) return true;
    images.push({ path: path.resolve(dir, file), mime: str(source.media_type) ?? '', sha256: '', bytes: 0 });
    return false;
  });
  return { text: textOf(rest), images };
}

/** `{source_fields}` of a step: what another importer kept (carried in `extra.trajlab`), then the ATIF step's own unknown keys; {} when neither has any. */
function sourceFieldsOf(carried: unknown, rest: Json): { source_fields?: Record<string, unknown> } {
  const fields = { ...(isObject(carried) ? carried : {}), ...rest };
  return Object.keys(fields).length ? { source_fields: fields } : {};
}

/** `{subagent_trajectory_refs}` of a result when it has refs, else {}. */
function refsOf(r: Json): { subagent_trajectory_refs?: SubagentTrajectoryRef[] } {
  const refs = Array.isArray(r.subagent_trajectory_ref) ? r.subagent_trajectory_ref.filter(isObject) : [];
  return refs.length ? { subagent_trajectory_refs: refs as SubagentTrajectoryRef[] } : {};
}

/** The keys of `o` that are not in `known`, verbatim. */
function restOf(o: Json, known: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (!known.has(k)) out[k] = v;
  return out;
}
