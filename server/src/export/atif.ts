/**
 * TrajLab trajectory → Harbor ATIF v1.5, v1.6 when it has images (`trajectory.json`).
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
 *   the `unknown_fields` of an imported trajectory, and the prompt's images (see Images below);
 * - a step's `extra.trajlab` (`TrajlabStepExtra`): `ended_at`, `latency_ms`, `error`,
 *   `task_step`, and per action (in order, null for a missing result) the observation's
 *   `exit_code`, `stderr`, `truncated`, `timed_out`, `output_bytes` and `duration_ms`, and for
 *   a browser action its page state (`browser`) and the images sent (`images`).
 * TrajLab's ATIF importer reads both back (import/atif.ts). Values the source did not record
 * (`imported_from.unknown_fields`) are left out rather than written as 0. Tool-call arguments
 * that are not a JSON object (a malformed call) are written as `{}` (ATIF requires an object).
 * Fields an ATIF import kept in `source_fields` are restored.
 *
 * Images (ATIF v1.6: Harbor's `harbor/models/trajectories/content.py`, "Added in ATIF-v1.6 to
 * support multimodal content (images)": a step's `message` and a result's `content` are a string
 * or a list of content parts, `ContentPart` is `{"type": "text", "text"}` or `{"type": "image",
 * "source": ImageSource}`, `ImageSource` is `{"media_type": "image/jpeg" | "image/png" |
 * "image/gif" | "image/webp", "path"}`, no other keys; read in a copy of that file and in
 * NVIDIA NeMo Agent Toolkit's `nat.atif.content`, which mirrors it): a result whose observation
 * has a browser screenshot (Observation.browser.screenshot), or whose message sent images to the
 * model (ChatMessage.images on its `tool` message, or on the `user` message of a text-mode
 * observation), is written as `[{type: "text", text: <the same content as without images>},
 * {type: "image", source}…]`: the images sent, in order, then the screenshot unless it is one of
 * them (same sha256). The user step with a task's images (ChatMessage.images of the prompt's
 * message) is `[{type: "text", text: <prompt>}, {type: "image", source}…]` likewise. Paths are
 * absolute: `ImageSource.path` is "a relative or absolute file path, or a URL", and Harbor's
 * validator resolves a relative one against the folder of the trajectory file
 * (`harbor/utils/trajectory_validator.py` `TrajectoryValidator._validate_image_paths`), but an
 * export is written elsewhere than the trajectory (a folder of documents, a JSON Lines file) and
 * does not copy the image files, so only an absolute path names the file wherever the document
 * is read; `sharegpt` writes absolute paths for the same reason. A screenshot's path, relative to
 * the trajectory's folder, is made absolute with `AtifExportOptions.file`. `schema_version` is
 * `ATIF-v1.6` when the document has an image part (content parts do not exist before v1.6),
 * else `ATIF-v1.5` as before, so a document without images stays what readers of v1.5 take (the
 * version is a `Literal` of the known versions in Harbor's `Trajectory.schema_version`, so a
 * reader pinned to an older model set rejects a newer string). What the image part has
 * no field for travels in `extra.trajlab`: per observation the images sent with exact sha256 and
 * bytes (`images`) and the browser page state (`browser`, screenshot path as recorded), and the
 * prompt's images (`prompt_images`), so that TrajLab's import puts them back.
 */
import * as path from 'node:path';
import type { ChatImage, Observation, Step, ToolCall, Trajectory, TrajectoryEvent } from '../../../common/src/trajectory';
import { browserCallArgs } from '../../../common/src/trajectory';
import { taskPrompt } from '../../../common/src/task';
import { ACTIONS_FROM_TEXT, observationContent, TRAJLAB_EXTRA_KEY, UNLINKED_RESULTS, type TrajlabRootExtra, type TrajlabStepExtra } from '../import/atif';
import { isObject, parseArgs } from '../import/importHelpers';
import { TRAJLAB_VERSION } from '../version';

/** The ATIF version written for a trajectory without images. */
export const ATIF_EXPORT_VERSION = 'ATIF-v1.5';
/** The ATIF version written when a message or result has image content parts (v1.6 added them). */
export const ATIF_MULTIMODAL_VERSION = 'ATIF-v1.6';

type Json = Record<string, unknown>;

/** What toAtif needs besides the trajectory. */
export interface AtifExportOptions {
  /**
   * The trajectory's file: browser screenshot paths, relative to its folder, are written
   * absolute. Absent (a trajectory never written), they are written as recorded.
   */
  file?: string;
}

/**
 * Converts a TrajLab trajectory (native or imported) to an ATIF v1.5 object, v1.6 when it has
 * images (see the module comment), ready for `JSON.stringify`. Pure (a relative `options.file`
 * is resolved against the working directory); never throws.
 */
export function toAtif(t: Trajectory, options: AtifExportOptions = {}): Json {
  const fromAtif = isFromAtif(t);
  // Only an ATIF import's source_fields are ATIF fields (another importer keeps its own format's).
  const kept = fromAtif ? (t.imported_from?.source_fields ?? {}) : {};
  const unknown = new Set(t.imported_from?.unknown_fields ?? []);
  const out: Json[] = [];
  const add = (s: Json) => out.push({ step_id: out.length + 1, ...s });
  const images: ImageContext = { sent: sentImages(t), dir: options.file ? path.dirname(path.resolve(options.file)) : undefined, written: false };

  if (t.system_prompt) add({ source: 'system', message: t.system_prompt });
  const firstAssistant = t.messages.findIndex((m) => m.role === 'assistant');
  const promptMessage = t.messages.slice(0, firstAssistant < 0 ? undefined : firstAssistant).find((m) => m.role === 'user');
  const prompt = promptMessage?.content ?? taskPrompt(t.task);
  const promptImages = promptMessage?.images ?? [];
  if (prompt || promptImages.length) add({ source: 'user', message: withImageParts(prompt ?? '', promptImages, images) });

  const events = t.events ?? [];
  let e = 0;
  const flushEvents = (upTo: number) => {
    while (e < events.length && events[e]!.before_step <= upTo) add(eventStep(events[e++]!, fromAtif));
  };
  t.steps.forEach((s, i) => {
    flushEvents(i);
    add(agentStep(s, t, unknown, images));
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
  if (!fromAtif) extra[TRAJLAB_EXTRA_KEY] = { ...rootExtra(t), ...(promptImages.length ? { prompt_images: promptImages } : {}) };
  return {
    schema_version: images.written ? ATIF_MULTIMODAL_VERSION : ATIF_EXPORT_VERSION,
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

function agentStep(s: Step, t: Trajectory, unknown: Set<string>, images: ImageContext): Json {
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
    const shown = resultImages(o, images);
    results.push({
      ...(callIds[i] && !unlinked.has(i) ? { source_call_id: callIds[i] } : {}),
      ...(text || shown.length || !refs ? { content: withImageParts(text, shown, images) } : {}),
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
    ...(isFromAtif(t) && !fromText ? {} : { extra: { ...(isObject(keptStep.extra) ? keptStep.extra : {}), [TRAJLAB_EXTRA_KEY]: stepExtra(s, fromText, isFromAtif(t), images.sent) } }),
  };
}

/** True for a trajectory TrajLab read from ATIF (its export restores the source instead of adding TrajLab's fields). */
const isFromAtif = (t: Trajectory): boolean => t.imported_from?.format === 'atif';

/**
 * A step's `extra.trajlab` (see TrajlabStepExtra): for a trajectory that came from ATIF only the
 * text-mode flag (the rest was never there to keep); else the step's timing, error, task step
 * and each action's observation details.
 */
function stepExtra(s: Step, fromText: boolean, atifSource: boolean, sent: Map<Observation, ChatImage[]>): TrajlabStepExtra {
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
      const images = sent.get(o);
      return {
        exit_code: o.exit_code,
        stderr: o.stderr,
        truncated: o.truncated,
        timed_out: o.timed_out,
        output_bytes: o.output_bytes,
        duration_ms: o.duration_ms,
        ...(o.browser ? { browser: o.browser } : {}),
        ...(images ? { images } : {}),
      };
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

/** What the image parts of one export need: the images each observation sent, the trajectory's folder, and whether any part was written (the version). */
interface ImageContext {
  sent: Map<Observation, ChatImage[]>;
  /** Absolute folder of the trajectory's file, when known. */
  dir: string | undefined;
  written: boolean;
}

/**
 * The images sent to the model with each observation (ChatMessage.images of the message that
 * carried it back): in tools mode the `tool` message answering the action's call; in text mode
 * the first `user` message after the step's reply (the loop pushes one assistant message per
 * step, then the step's observation message: agent/loop.ts, agent/actions.ts
 * observationMessages; the importers rebuild messages in the same order). Observations whose
 * message carried none are absent.
 */
function sentImages(t: Trajectory): Map<Observation, ChatImage[]> {
  const out = new Map<Observation, ChatImage[]>();
  if (!t.messages.some((m) => m.images?.length)) return out;
  const byCall = new Map<string, ChatImage[]>();
  const afterReply: (ChatImage[] | undefined)[] = [];
  let replies = 0;
  let answered = true;
  for (const m of t.messages) {
    if (m.role === 'assistant') {
      replies++;
      answered = false;
    } else if (m.role === 'tool') {
      if (m.tool_call_id && m.images?.length) byCall.set(m.tool_call_id, m.images);
    } else if (m.role === 'user' && !answered) {
      answered = true;
      if (m.images?.length) afterReply[replies - 1] = m.images;
    }
  }
  t.steps.forEach((s, i) =>
    s.actions.forEach((a, j) => {
      const o = s.observations[j];
      const sent = !o || o.missing ? undefined : a.tool_call_id ? byCall.get(a.tool_call_id) : j === 0 ? afterReply[i] : undefined;
      if (o && sent) out.set(o, sent);
    }),
  );
  return out;
}

/** The images an observation's result shows: those sent with it, then its browser screenshot unless it was sent (same sha256). */
function resultImages(o: Observation, images: ImageContext): ChatImage[] {
  const sent = images.sent.get(o) ?? [];
  const shot = o.browser?.screenshot;
  if (!shot || sent.some((img) => img.sha256 === shot.sha256)) return sent;
  const file = images.dir && !path.isAbsolute(shot.path) ? path.join(images.dir, shot.path) : shot.path;
  return [...sent, { path: file, mime: shot.mime, sha256: shot.sha256, bytes: shot.bytes }];
}

/** `text` as is without images; with images, ATIF v1.6 content parts: the text, then one image part per image (absolute path; see the module comment). */
function withImageParts(text: string, shown: readonly ChatImage[], images: ImageContext): string | Json[] {
  if (!shown.length) return text;
  images.written = true;
  return [{ type: 'text', text }, ...shown.map((img) => ({ type: 'image', source: { media_type: img.mime, path: img.path } }))];
}
