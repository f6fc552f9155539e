/**
 * TrajLab trajectory → mini-swe-agent's trajectory format, `trajectory_format:
 * "mini-swe-agent-1.1"` (`{info, messages, trajectory_format, instance_id}`).
 *
 * Source of the format: the repository SWE-agent/mini-swe-agent, v2
 * (`src/minisweagent/agents/default.py` `serialize`, `models/utils/actions_toolcall.py`,
 * `models/utils/actions_text.py`, `environments/local.py` `_check_finished`). Written:
 * - `system` and `user` messages (the system prompt and the task prompt), then per step an
 *   `assistant` message (content, `tool_calls`, `reasoning_content`, `extra.actions` with the
 *   bash commands, `extra.cost` USD, `extra.response.usage`, `extra.timestamp` Unix seconds of
 *   the reply) and one result message per recorded action result: role `"tool"` with
 *   `tool_call_id` for tool calls, role `"user"` in text mode, with `extra.raw_output`,
 *   `extra.returncode`, `extra.exception_info`, `extra.timestamp` (the step's end) and the
 *   content rendered with mini-swe-agent's
 *   observation template (`<returncode>N</returncode>\n<output>\n…</output>`, without its
 *   10,000-character head/tail cut);
 * - a step whose only action is a format error becomes, as in mini-swe-agent, a lone `user`
 *   message with `extra.interrupt_type: "FormatError"` and the reply in `extra.model_response`;
 * - the run ends with an `exit` message: for a submission it replaces the submitting command's
 *   result (`content` = the output after the `COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT` line);
 *   statuses are mini-swe-agent's (`Submitted`, `LimitsExceeded`, `TimeExceeded`, …; an
 *   imported mini-swe-agent trajectory keeps its own);
 * - `info`: `model_stats` (`instance_cost`, `api_calls`), `config.model.model_name`,
 *   `config.environment.image`, `exit_status`, `submission`, and `info.trajlab` (`{task_id,
 *   task, result}`: the task snapshot and the evaluated result, which the format has no field
 *   for; TrajLab's importer reads it back). `events` become `system` / `user` messages.
 * Values the source did not record (`imported_from.unknown_fields`) are left out.
 * Text-only: a task's images (ChatMessage.images) are not written (`info.trajlab.task` keeps its
 * `images` paths); `sharegpt` carries them.
 */
import type { Action, Observation, Step, Trajectory } from '../../../common/src/trajectory';
import { taskPrompt } from '../../../common/src/task';
import { SUBMIT_MARKER } from '../agent/actions';

/** The `trajectory_format` written. */
export const MINI_SWE_AGENT_FORMAT = 'mini-swe-agent-1.1';

/** Key of `info` where the export keeps what the format has no field for. */
export const MINI_TRAJLAB_KEY = 'trajlab';

type Json = Record<string, unknown>;

/**
 * Converts a TrajLab trajectory (native or imported) to a mini-swe-agent 1.1 trajectory object
 * (see the module comment), ready for `JSON.stringify`. Pure; never throws.
 */
export function toMiniSweAgent(t: Trajectory): Json {
  const fromMini = t.imported_from?.format === 'mini-swe-agent' || t.imported_from?.format === 'mini-swe-agent-legacy';
  const unknown = new Set(t.imported_from?.unknown_fields ?? []);
  const messages: Json[] = [];
  if (t.system_prompt) messages.push({ role: 'system', content: t.system_prompt });
  const firstAssistant = t.messages.findIndex((m) => m.role === 'assistant');
  const prompt = t.messages.slice(0, firstAssistant < 0 ? undefined : firstAssistant).find((m) => m.role === 'user')?.content ?? taskPrompt(t.task);
  messages.push({ role: 'user', content: prompt });

  const events = t.events ?? [];
  let e = 0;
  const flushEvents = (upTo: number) => {
    for (; e < events.length && events[e]!.before_step <= upTo; e++) messages.push({ role: events[e]!.source, content: events[e]!.message });
  };
  const submitted = t.result?.exit_status === 'submitted';
  const last = t.steps.length - 1;
  let exitContent: string | undefined;

  t.steps.forEach((s, i) => {
    flushEvents(i);
    const submitAt = submitted && i === last ? submittingAction(s, fromMini) : -1;
    const only = s.actions.length === 1 ? s.actions[0] : undefined;
    if (only?.kind === 'format_error' && !s.response.tool_calls?.length) {
      messages.push({ role: 'user', content: only.message, extra: { interrupt_type: 'FormatError', ...(s.response.content !== null ? { model_response: s.response.content } : {}) } });
      return;
    }
    messages.push(assistantMessage(s, unknown));
    const endedAt = s.ended_at ? Date.parse(s.ended_at) / 1000 : NaN;
    const stamp = Number.isFinite(endedAt) ? { timestamp: endedAt } : {};
    s.actions.forEach((a, j) => {
      const o = s.observations[j];
      if (j === submitAt) {
        exitContent = a.kind === 'submit' ? (t.result?.submission ?? a.answer ?? '') : afterMarker(o?.stdout ?? '');
        return;
      }
      if (!o || o.missing) return;
      const msg = resultMessage(a, o, fromMini);
      msg.extra = { ...(msg.extra as Json), ...stamp };
      messages.push(msg);
    });
    for (const o of s.other_observations ?? []) {
      messages.push({ role: o.tool_call_id ? 'tool' : 'user', ...(o.tool_call_id ? { tool_call_id: o.tool_call_id } : {}), content: o.content });
    }
  });
  flushEvents(Number.POSITIVE_INFINITY);

  const status = exitStatusOf(t, fromMini);
  if (t.result && status) {
    const submission = submitted ? (t.result.submission ?? exitContent ?? '') : '';
    messages.push({
      role: 'exit',
      content: submitted ? (exitContent ?? submission) : (t.result.error ?? status),
      extra: { exit_status: status, submission: submitted ? (exitContent ?? submission) : '' },
    });
  }

  const config: Json = {
    ...(t.model.spec || t.model.name ? { model: { model_name: t.model.spec || t.model.name, ...(t.model.temperature !== undefined ? { model_kwargs: { temperature: t.model.temperature } } : {}) } } : {}),
    ...(t.environment.image ? { environment: { image: t.environment.image } } : {}),
  };
  return {
    info: {
      model_stats: {
        ...(unknown.has('totals.cost_usd') ? {} : { instance_cost: t.totals.cost_usd }),
        api_calls: t.steps.length,
      },
      config,
      ...(fromMini && t.imported_from?.agent.version ? { mini_version: t.imported_from.agent.version } : {}),
      exit_status: status ?? '',
      submission: t.result?.submission ?? '',
      [MINI_TRAJLAB_KEY]: { task_id: t.task_id, task: t.task, ...(t.result ? { result: t.result } : {}) },
    },
    messages,
    trajectory_format: MINI_SWE_AGENT_FORMAT,
    instance_id: t.task_id,
  };
}

function assistantMessage(s: Step, unknown: Set<string>): Json {
  const bash = s.actions.filter((a): a is Extract<Action, { kind: 'bash' }> => a.kind === 'bash');
  const u = s.usage;
  const replyAt = s.started_at ? Date.parse(s.started_at) + s.latency_ms : NaN;
  const extra: Json = {
    actions: bash.map((a) => ({ command: a.command, ...(a.tool_call_id ? { tool_call_id: a.tool_call_id } : {}) })),
    ...(unknown.has('steps.cost_usd') && s.cost_usd === 0 ? {} : { cost: s.cost_usd }),
    ...(u
      ? {
          response: {
            usage: {
              prompt_tokens: u.prompt_tokens,
              completion_tokens: u.completion_tokens,
              total_tokens: u.total_tokens,
              ...(u.cached_tokens !== undefined ? { prompt_tokens_details: { cached_tokens: u.cached_tokens } } : {}),
            },
          },
        }
      : {}),
    ...(Number.isFinite(replyAt) && !(unknown.has('steps.latency_ms') && s.latency_ms === 0) ? { timestamp: replyAt / 1000 } : {}),
  };
  return {
    role: 'assistant',
    content: s.response.content ?? '',
    ...(s.response.tool_calls?.length ? { tool_calls: s.response.tool_calls } : {}),
    ...(s.response.reasoning !== undefined ? { reasoning_content: s.response.reasoning } : {}),
    extra,
  };
}

/**
 * One action's result message. An imported mini-swe-agent trajectory keeps `exception_info` in
 * `stderr` (its output is merged); for others stdout and stderr are merged, as mini-swe-agent's
 * environments do.
 */
function resultMessage(a: Action, o: Observation, fromMini: boolean): Json {
  const id = a.tool_call_id;
  const head = { role: id ? 'tool' : 'user', ...(id ? { tool_call_id: id } : {}) };
  if (a.kind === 'format_error') return { ...head, content: a.message, extra: { interrupt_type: 'FormatError' } };
  const raw = fromMini ? o.stdout : o.stdout && o.stderr ? `${o.stdout}${o.stdout.endsWith('\n') ? '' : '\n'}${o.stderr}` : o.stdout || o.stderr;
  const exception = fromMini ? o.stderr : o.timed_out ? 'the command timed out' : '';
  const content = `${exception ? `<exception>${exception}</exception>\n` : ''}<returncode>${o.exit_code ?? 'None'}</returncode>\n<output>\n${raw}</output>`;
  return { ...head, content, extra: { raw_output: raw, returncode: o.exit_code, exception_info: exception } };
}

/** Index of the action that submitted in the last step of a submitted trajectory, -1 when none can be told. */
function submittingAction(s: Step, fromMini: boolean): number {
  const submit = s.actions.findIndex((a) => a.kind === 'submit');
  if (submit >= 0) return submit;
  const marked = s.actions.findIndex((a, i) => a.kind === 'bash' && (firstLine(s.observations[i]?.stdout ?? '') === SUBMIT_MARKER || (fromMini && a.command.includes(SUBMIT_MARKER))));
  if (marked >= 0) return marked;
  return fromMini ? s.actions.length - 1 : -1;
}

function firstLine(text: string): string {
  const t = text.trimStart();
  const nl = t.indexOf('\n');
  return (nl < 0 ? t : t.slice(0, nl)).trim();
}

/** The output after the submit marker line (mini-swe-agent's `"".join(lines[1:])`); the text as is when it has no marker line. */
function afterMarker(stdout: string): string {
  if (firstLine(stdout) !== SUBMIT_MARKER) return stdout;
  const t = stdout.trimStart();
  const nl = t.indexOf('\n');
  return nl < 0 ? '' : t.slice(nl + 1);
}

/** mini-swe-agent's exit status for a result: an imported mini-swe-agent file's own, else mapped. */
function exitStatusOf(t: Trajectory, fromMini: boolean): string | undefined {
  if (!t.result) return undefined;
  if (fromMini && t.imported_from?.exit_status) return t.imported_from.exit_status;
  switch (t.result.exit_status) {
    case 'submitted':
      return 'Submitted';
    case 'step_limit':
    case 'cost_limit':
      return 'LimitsExceeded';
    case 'timeout':
      return 'TimeExceeded';
    case 'cancelled':
      return 'KeyboardInterrupt';
    case 'error':
      return 'Error';
  }
}
