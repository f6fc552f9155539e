/**
 * TrajLab trajectory → Harbor ATIF v1.5 (`trajectory.json`).
 *
 * Spec: "RFC: Agent Trajectory Interchange Format (ATIF) Specification", repository
 * harbor-framework/harbor, `docs/rfcs/0001-trajectory-format.md` (v1.5 adds
 * `agent.tool_definitions`); https://harborframework.com/docs/trajectory-format.
 *
 * Layout: a system step with the exact system prompt (when there is one), a user step with the
 * task prompt (the first user message, else the task's description), then one agent step per
 * TrajLab step, with the `events` (system / user turns between steps) in their places. An agent
 * step carries the reply (`message`), `reasoning_content`, the tool calls (arguments as
 * objects), one observation result per recorded action result (`source_call_id` = its tool
 * call), and `metrics` (tokens, cached tokens, cost). Text-mode actions (parsed from the reply)
 * are written as tool calls `call_<step>_<n>` (`bash` / `str_replace_based_edit` / `submit`),
 * as Harbor's text-based agents record theirs, with `extra.trajlab.actions_from_text: true` so
 * that TrajLab reads the step back as text mode. The tool
 * schemas go to `agent.tool_definitions`. ATIF has no field for the outcome: the exit status,
 * submission, diff, evaluation and reward go to the root `extra.trajlab` (`{task_id, result}`),
 * which TrajLab's ATIF importer reads back.
 *
 * Observation text: a result's `content` is the command's output as recorded (stdout, then
 * stderr after a newline; see `observationContent`), never wrapped in a prompt template. What
 * ATIF has no field for travels in `extra.trajlab` (ATIF v1.5 allows `extra` on the root, the
 * agent, a step, metrics and final metrics, not on an observation result; Harbor's
 * `harbor/models/trajectories/*.py`):
 * - root `extra.trajlab` (`TrajlabRootExtra`): task id and definition (eval, solution,
 *   workspace, task_type, max_steps…), result, run id, attempt, start and end times, model
 *   identity, agent mode and policy, source line, environment, status, `totals.duration_ms`,
 *   and the `unknown_fields` of an imported trajectory;
 * - a step's `extra.trajlab` (`TrajlabStepExtra`): `ended_at`, `latency_ms`, `error`,
 *   `task_step`, and per action (in order, null for a missing result) the observation's
 *   `exit_code`, `stderr`, `truncated`, `timed_out`, `output_bytes` and `duration_ms`.
 * TrajLab's ATIF importer reads both back (import/atif.ts). Values the source did not record
 * (`imported_from.unknown_fields`) are left out rather than written as 0. Tool-call arguments
 * that are not a JSON object (a malformed call) are written as `{}` (ATIF requires an object).
 * Fields an ATIF import kept in `source_fields` are restored. Text-only: a task's images
 * (ChatMessage.images) are not written (the user step keeps the prompt text; `sharegpt`
 * carries images as paths).
 */
import type { Step, ToolCall, Trajectory, TrajectoryEvent } from '../../../common/src/trajectory';
import { browserCallArgs } from '../../../common/src/trajectory';
import { taskPrompt } from '../../../common/src/task';
import { ACTIONS_FROM_TEXT, observationContent, TRAJLAB_EXTRA_KEY, UNLINKED_RESULTS, type TrajlabRootExtra, type TrajlabStepExtra } from '../import/atif';
import { isObject, parseArgs } from '../import/importHelpers';
import { TRAJLAB_VERSION } from '../version';

/** The ATIF version written. */
export const ATIF_EXPORT_VERSION = 'ATIF-v1.5';

type Json = Record<string, unknown>;

/**
 * Converts a TrajLab trajectory (native or imported) to an ATIF v1.5 object (see the module
 * comment), ready for `JSON.stringify`. Pure; never throws.
 */
export function toAtif(t: Trajectory): Json {
  const fromAtif = isFromAtif(t);
  // Only an ATIF import's source_fields are ATIF fields (another importer keeps its own format's).
  const kept = fromAtif ? (t.imported_from?.source_fields ?? {}) : {};
  const unknown = new Set(t.imported_from?.unknown_fields ?? []);
  const out: Json[] = [];
  const add = (s: Json) => out.push({ step_id: out.length + 1, ...s });

  if (t.system_prompt) add({ source: 'system', message: t.system_prompt });
  const firstAssistant = t.messages.findIndex((m) => m.role === 'assistant');
  const prompt = t.messages.slice(0, firstAssistant < 0 ? undefined : firstAssistant).find((m) => m.role === 'user')?.content ?? taskPrompt(t.task);
  if (prompt) add({ source: 'user', message: prompt });

  const events = t.events ?? [];
  let e = 0;
  const flushEvents = (upTo: number) => {
    while (e < events.length && events[e]!.before_step <= upTo) add(eventStep(events[e++]!, fromAtif));
  };
  t.steps.forEach((s, i) => {
    flushEvents(i);
    add(agentStep(s, t, unknown));
  });
  flushEvents(Number.POSITIVE_INFINITY);

  const agent: Json = {
    name: t.imported_from?.agent.name || t.agent.name,
    version: t.imported_from ? (t.imported_from.agent.version ?? '') : t.agent.version,
    ...(t.model.name ? { model_name: t.model.name } : {}),
    ...(t.tools.length ? { tool_definitions: t.tools } : {}),
    ...(kept.agent_extra !== undefined ? { extra: kept.agent_extra } : !t.imported_from ? { extra: { mode: t.agent.mode, policy: t.agent.policy, model_spec: t.model.spec, ...(t.model.temperature !== undefined ? { temperature: t.model.temperature } : {}) } } : {}),
  };
  let cached = 0;
  let anyCached = false;
  for (const s of t.steps) {
    if (s.usage?.cached_tokens !== undefined) {
      cached += s.usage.cached_tokens;
      anyCached = true;
    }
  }
  const finalMetrics: Json = {
    ...(unknown.has('totals.prompt_tokens') ? {} : { total_prompt_tokens: t.totals.prompt_tokens }),
    ...(unknown.has('totals.completion_tokens') ? {} : { total_completion_tokens: t.totals.completion_tokens }),
    ...(anyCached ? { total_cached_tokens: cached } : {}),
    ...(unknown.has('totals.cost_usd') ? {} : { total_cost_usd: t.totals.cost_usd }),
    ...(fromAtif ? (isObject(kept.final_metrics) ? kept.final_metrics : {}) : { total_steps: out.length }),
  };
  const { agent_extra: _a, final_metrics: _f, extra: keptExtra, ...keptRoot } = kept;
  const extra: Json = { ...(isObject(keptExtra) ? keptExtra : {}) };
  if (!fromAtif) extra[TRAJLAB_EXTRA_KEY] = rootExtra(t);
  return {
    schema_version: ATIF_EXPORT_VERSION,
    session_id: fromAtif ? t.run_id : [t.run_id, t.task_id, t.attempt].filter((x) => x !== '').join('/'),
    agent,
    steps: out,
    ...(!fromAtif ? { notes: `Exported by TrajLab ${TRAJLAB_VERSION}${t.imported_from ? ` from ${t.imported_from.format} (${t.imported_from.file})` : ''}.` } : {}),
    final_metrics: finalMetrics,
    ...keptRoot,
    ...(Object.keys(extra).length ? { extra } : {}),
  };
}

/** What the root `extra.trajlab` carries of a trajectory that did not come from ATIF (see TrajlabRootExtra). */
function rootExtra(t: Trajectory): TrajlabRootExtra {
  return {
    task_id: t.task_id,
    ...(t.result ? { result: t.result } : {}),
    run_id: t.run_id,
    attempt: t.attempt,
    task: t.task,
    started_at: t.started_at,
    ended_at: t.ended_at,
    model: t.model,
    agent: { mode: t.agent.mode, policy: t.agent.policy, version: t.agent.version },
    source: t.source,
    environment: t.environment,
    status: t.status,
    duration_ms: t.totals.duration_ms,
    ...(t.imported_from ? { unknown_fields: t.imported_from.unknown_fields } : {}),
  };
}

function agentStep(s: Step, t: Trajectory, unknown: Set<string>): Json {
  const kept = isFromAtif(t) ? (s.source_fields ?? {}) : {};
  const { metrics: keptMetrics, [UNLINKED_RESULTS]: unlinkedRaw, message: keptMessage, model_name: keptModel, reasoning_effort: keptEffort, ...keptStep } = kept;
  const unlinked = new Set(Array.isArray(unlinkedRaw) ? unlinkedRaw : []);
  // Text-mode actions (parsed from the reply, no tool calls) are written as tool calls, as
  // Harbor's own agents do (terminus-2's bash_command), and flagged so TrajLab reads them back as text mode.
  const fromText = !s.response.tool_calls?.length && s.actions.some((a) => a.kind !== 'format_error');
  const callIds = s.actions.map((a, i) => a.tool_call_id ?? (fromText && a.kind !== 'format_error' ? `call_${s.index}_${i + 1}` : undefined));
  const toolCalls = fromText
    ? s.actions.flatMap((a, i) => (a.kind === 'format_error' ? [] : [{ tool_call_id: callIds[i], ...textActionCall(a) }]))
    : (s.response.tool_calls ?? []).map(atifToolCall);
  const results: Json[] = [];
  s.actions.forEach((_a, i) => {
    const o = s.observations[i];
    if (!o || o.missing) return;
    const text = observationContent(o);
    const refs = o.subagent_trajectory_refs;
    results.push({
      ...(callIds[i] && !unlinked.has(i) ? { source_call_id: callIds[i] } : {}),
      ...(text || !refs ? { content: text } : {}),
      ...(refs ? { subagent_trajectory_ref: refs } : {}),
    });
  });
  for (const o of s.other_observations ?? []) {
    results.push({
      ...(o.tool_call_id ? { source_call_id: o.tool_call_id } : {}),
      ...(o.content || !o.subagent_trajectory_refs ? { content: o.content } : {}),
      ...(o.subagent_trajectory_refs ? { subagent_trajectory_ref: o.subagent_trajectory_refs } : {}),
    });
  }
  const u = s.usage;
  const metrics: Json = {
    ...(u ? { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens } : {}),
    ...(u?.cached_tokens !== undefined ? { cached_tokens: u.cached_tokens } : {}),
    ...(unknown.has('steps.cost_usd') && s.cost_usd === 0 ? {} : { cost_usd: s.cost_usd }),
    // --record-tokens: as Harbor's terminus-2 writes them (prompt_token_ids, completion_token_ids, logprobs).
    ...(s.token_data?.prompt_token_ids ? { prompt_token_ids: s.token_data.prompt_token_ids } : {}),
    ...(s.token_data?.completion_token_ids ? { completion_token_ids: s.token_data.completion_token_ids } : {}),
    ...(s.token_data?.logprobs ? { logprobs: s.token_data.logprobs } : {}),
    ...(isObject(keptMetrics) ? keptMetrics : {}),
  };
  // Keys in the spec's order, so an exported file diffs cleanly against its source.
  const model = keptModel !== undefined ? { model_name: keptModel } : !t.imported_from && t.model.name ? { model_name: t.model.name } : {};
  return {
    ...(s.started_at ? { timestamp: s.started_at } : {}),
    source: 'agent',
    ...model,
    ...(keptEffort !== undefined ? { reasoning_effort: keptEffort } : {}),
    message: keptMessage ?? s.response.content ?? '',
    ...(s.response.reasoning !== undefined ? { reasoning_content: s.response.reasoning } : {}),
    ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
    ...(results.length ? { observation: { results } } : {}),
    ...(Object.keys(metrics).length ? { metrics } : {}),
    ...keptStep,
    ...(isFromAtif(t) && !fromText ? {} : { extra: { ...(isObject(keptStep.extra) ? keptStep.extra : {}), [TRAJLAB_EXTRA_KEY]: stepExtra(s, fromText, isFromAtif(t)) } }),
  };
}

/** True for a trajectory TrajLab read from ATIF (its export restores the source instead of adding TrajLab's fields). */
const isFromAtif = (t: Trajectory): boolean => t.imported_from?.format === 'atif';

/**
 * A step's `extra.trajlab` (see TrajlabStepExtra): for a trajectory that came from ATIF only the
 * text-mode flag (the rest was never there to keep); else the step's timing, error, task step
 * and each action's observation details.
 */
function stepExtra(s: Step, fromText: boolean, atifSource: boolean): TrajlabStepExtra {
  if (atifSource) return { [ACTIONS_FROM_TEXT]: true };
  return {
    ...(fromText ? { [ACTIONS_FROM_TEXT]: true } : {}),
    ended_at: s.ended_at,
    ...(s.response.content === null ? { content_null: true as const } : {}),
    latency_ms: s.latency_ms,
    ...(s.error !== undefined ? { error: s.error } : {}),
    ...(s.task_step !== undefined ? { task_step: s.task_step } : {}),
    // Another importer's own fields (not ATIF's: they cannot go on the step itself).
    ...(s.source_fields && Object.keys(s.source_fields).length ? { source_fields: s.source_fields } : {}),
    observations: s.actions.map((_a, i) => {
      const o = s.observations[i];
      if (!o || o.missing) return null;
      return { exit_code: o.exit_code, stderr: o.stderr, truncated: o.truncated, timed_out: o.timed_out, output_bytes: o.output_bytes, duration_ms: o.duration_ms };
    }),
  };
}

/** The tool call standing for a text-mode action: TrajLab's own tool names and arguments. */
function textActionCall(a: Exclude<Step['actions'][number], { kind: 'format_error' }>): Json {
  switch (a.kind) {
    case 'bash':
      return { function_name: 'bash', arguments: { command: a.command } };
    case 'edit':
      return { function_name: 'str_replace_based_edit', arguments: a.args };
    case 'submit':
      return { function_name: 'submit', arguments: a.answer !== undefined ? { answer: a.answer } : {} };
    case 'browser':
      return { function_name: 'browser', arguments: browserCallArgs(a) as Json };
  }
}

function atifToolCall(c: ToolCall): Json {
  return { tool_call_id: c.id, function_name: c.function.name, arguments: parseArgs(c.function.arguments) };
}

function eventStep(e: TrajectoryEvent, fromAtif: boolean): Json {
  const { message: keptMessage, ...kept } = fromAtif ? (e.source_fields ?? {}) : {};
  return {
    ...(e.timestamp ? { timestamp: e.timestamp } : {}),
    source: e.source,
    message: keptMessage ?? e.message,
    ...(e.results?.length
      ? {
          observation: {
            results: e.results.map((r) => ({
              ...(r.content !== null ? { content: r.content } : {}),
              ...(r.subagent_trajectory_refs ? { subagent_trajectory_ref: r.subagent_trajectory_refs } : {}),
            })),
          },
        }
      : {}),
    ...kept,
  };
}
