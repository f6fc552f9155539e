/**
 * SWE-smith's fine-tuning styles (repository SWE-bench/SWE-smith,
 * `swesmith/train/traj_mgr/transform_to_ft.py` and `utils.py`: `transform_traj_xml`,
 * `transform_traj_backticks`, `transform_traj_toolcalls`, `MAP_STYLE_TO_FUNC` = xml / ticks /
 * tool). One row per trajectory, with the keys SWE-smith's `collect_trajs` writes, in its order
 * (`swesmith/train/traj_mgr/collect_trajs.py`, `process_single_trajectory`, at commit 56b3cdb6:
 * `traj = transform_traj(traj_orig)` then `instance_id`, `resolved`, `model`, `traj_id`, `patch`),
 * plus TrajLab's `metadata`:
 *   `{"messages": [...], "instance_id": "<task_id>", "resolved": bool, "model": "<model>",
 *     "traj_id": "<task_id>.<run_id>.<attempt>", "patch": "<diff>"}`
 * - `resolved`: SWE-smith reads it from the SWE-bench evaluation report,
 *   `report[instance_id].get("resolved", False)`; TrajLab writes the trajectory's resolved
 *   verdict (the run's report.json when it has one, else the evaluation's success), `false` when
 *   unknown (as `.get("resolved", False)`; SWE-smith skips trajectories without a report).
 * - `model`: SWE-smith writes `replay_config.agent.model.name` when the .traj has a replay config;
 *   TrajLab the trajectory's model spec (or name), left out when unknown.
 * - `traj_id`: SWE-smith's is `{instance_id}.{generate_hash(str(traj_dir))}` (8 characters drawn
 *   by Python's `random` seeded with the traj folder's sha256; `swesmith/constants.py`), an id of
 *   the trajectory within its run folder; TrajLab writes `{task_id}.{run_id}.{attempt}`, readable
 *   and unique per attempt (a run folder holds several attempts of a task, SWE-agent's one).
 * - `patch`: SWE-smith's `read_patch` reads SWE-agent's `{instance_id}.pred` `model_patch` (else
 *   the `.patch` file, else ""): the diff the agent submitted; TrajLab writes the attempt's diff
 *   (`result.diff`, what the evaluation applied), "" when none.
 *
 * - `swesmith-xml`: roles system / user / assistant only, string contents. Tool results become
 *   `user` messages. An assistant turn is `(thought + "\n\n" + calls).strip()` where each call is
 *   ```
 *   <function=NAME>
 *   <parameter=KEY>VALUE</parameter>
 *   </function>
 *   ```
 *   with `old_str`, `new_str` and `file_text` values on their own lines
 *   (`<parameter=old_str>\nVALUE\n</parameter>`, SWE-smith's XML_STR_REPLACES), parameters in the
 *   order of the call's arguments, values as Python's `str()` prints them for strings, numbers,
 *   booleans (`True`) and null (`None`); lists and objects as JSON.
 * - `swesmith-ticks`: the same roles; an assistant turn is `thought + "\n\n```\n" + action +
 *   "\n```"`, the action as a command line: a bash call is its command; another tool is
 *   `NAME <command> <path> --key value …` (SWE-agent's command-line form of tool calls, values
 *   shell-quoted when needed). TrajLab leaves out the leading blank line when there is no thought.
 * - `swesmith-tool`: SWE-smith's `transform_traj_toolcalls` keeps SWE-agent's `query` messages as
 *   they are (`get_messages`), so the shape is SWE-agent's history (repository SWE-agent/SWE-agent,
 *   `sweagent/agent/agents.py`: `add_step_to_history` and `_add_templated_messages_to_history`):
 *   assistant messages `{role, content, tool_calls}` with `content` the model's text, `""` when
 *   it wrote none (`models.py` takes `choice.message.content or ""`), tool calls in OpenAI's shape
 *   (JSON-string arguments); a tool result is `{role: "tool", content, tool_call_ids: [id]}`, a
 *   list of exactly one id (SWE-agent asserts it; its `_history_to_messages` sends
 *   `tool_call_ids[0]` as `tool_call_id`). SWE-agent's bookkeeping keys (`agent`,
 *   `message_type`, `thought`, `action`, `thinking_blocks`) are not written.
 *
 * Differences from SWE-smith, on purpose: the system prompt is the one the trajectory actually
 * used (SWE-smith swaps in its own inference prompt); text-mode trajectories (one fenced bash
 * block per reply) get their action as a `bash` call, the thought being the reply without its
 * fenced block; a reply with no action (a format error) is kept as it was written; a call whose
 * arguments are not a JSON object is written with its raw arguments between the function tags.
 * Text-only: a task's images (ChatMessage.images) are not written; `sharegpt` carries them.
 */
import type { Action, ChatMessage, Step, ToolCall, Trajectory } from '../../../common/src/trajectory';
import { browserCallArgs } from '../../../common/src/trajectory';
import { argumentsObject, rowMetadata, trainingMessages, withThink, type RowContext } from './chat';
import { openaiMessage } from './openaiChat';

/** SWE-smith's XML_STR_REPLACES: parameters written on their own lines. */
const XML_STR_REPLACES = new Set(['old_str', 'new_str', 'file_text']);

export type SweSmithStyle = 'xml' | 'ticks' | 'tool';

/** The row of a trajectory in one of SWE-smith's styles (see the module comment). Pure. */
export function toSweSmithRow(t: Trajectory, style: SweSmithStyle, ctx: RowContext): Record<string, unknown> {
  const msgs = trainingMessages(t);
  let messages: Record<string, unknown>[];
  if (style === 'tool') {
    messages = msgs.map((m) => sweAgentMessage(openaiMessage(m, ctx.includeReasoning)));
  } else {
    let n = 0;
    messages = msgs.map((m) => {
      if (m.role !== 'assistant') return { role: m.role === 'tool' ? 'user' : m.role, content: m.content ?? '' };
      const step = t.steps[n++];
      return { role: 'assistant', content: withThink(ctx.includeReasoning ? m.reasoning : undefined, style === 'xml' ? xmlTurn(m, step) : ticksTurn(m, step)) };
    });
  }
  const s = ctx.summary;
  return {
    messages,
    instance_id: t.task_id,
    resolved: s.resolved === true,
    ...(s.model ? { model: s.model } : {}),
    traj_id: [t.task_id, s.run_id, String(s.attempt)].filter(Boolean).join('.'),
    patch: t.result?.diff ?? '',
    ...(ctx.metadata ? { metadata: rowMetadata(t, s) } : {}),
  };
}

/** An OpenAI-shaped message as SWE-agent's history holds it (see the module comment: `tool_call_ids`, content never null). */
function sweAgentMessage(m: Record<string, unknown>): Record<string, unknown> {
  if (m.role === 'tool') return { role: 'tool', content: m.content, tool_call_ids: [m.tool_call_id] };
  if (m.role === 'assistant' && m.content === null) return { ...m, content: '' };
  return m;
}

/** A call standing for a text-mode action, with TrajLab's tool names (as atif.ts writes them). */
function textActionCalls(m: ChatMessage, step: Step | undefined): { name: string; args: Record<string, unknown> }[] {
  if (m.tool_calls?.length || !step) return [];
  return step.actions.flatMap((a: Action) => {
    switch (a.kind) {
      case 'bash':
        return [{ name: 'bash', args: { command: a.command } }];
      case 'edit':
        return [{ name: 'str_replace_based_edit', args: a.args }];
      case 'submit':
        return [{ name: 'submit', args: a.answer !== undefined ? { answer: a.answer } : {} }];
      case 'browser':
        return [{ name: 'browser', args: browserCallArgs(a) }];
      case 'format_error':
        return [];
    }
  });
}

/** The reply without its fenced shell block(s): the thought of a text-mode turn. */
function stripFences(content: string): string {
  return content.replace(/```(?:bash|sh)?[ \t]*\n[\s\S]*?\n?```/g, '').trim();
}

interface Call {
  name: string;
  args: Record<string, unknown> | undefined;
  raw: string;
}

function callsOf(m: ChatMessage, step: Step | undefined): { thought: string; calls: Call[] } {
  if (m.tool_calls?.length) {
    return { thought: m.content ?? '', calls: m.tool_calls.map((c: ToolCall) => ({ name: c.function.name, args: argumentsObject(c), raw: String(c.function.arguments) })) };
  }
  const fromText = textActionCalls(m, step);
  if (fromText.length) return { thought: stripFences(m.content ?? ''), calls: fromText.map((c) => ({ ...c, raw: JSON.stringify(c.args) })) };
  return { thought: m.content ?? '', calls: [] };
}

function xmlTurn(m: ChatMessage, step: Step | undefined): string {
  const { thought, calls } = callsOf(m, step);
  if (!calls.length) return m.content ?? '';
  const action = calls
    .map((c) => {
      const lines = [`<function=${c.name}>`];
      if (c.args) {
        for (const [k, v] of Object.entries(c.args)) lines.push(XML_STR_REPLACES.has(k) ? `<parameter=${k}>\n${pyStr(v)}\n</parameter>` : `<parameter=${k}>${pyStr(v)}</parameter>`);
      } else {
        lines.push(c.raw);
      }
      lines.push('</function>');
      return lines.join('\n');
    })
    .join('\n');
  return `${thought}\n\n${action}`.trim();
}

function ticksTurn(m: ChatMessage, step: Step | undefined): string {
  const { thought, calls } = callsOf(m, step);
  if (!calls.length) return m.content ?? '';
  const action = calls.map(commandLine).join('\n');
  const block = '```\n' + action + '\n```';
  return thought ? `${thought}\n\n${block}` : block;
}

/** A tool call as a command line (see the module comment). */
export function commandLine(c: Call): string {
  if (!c.args) return `${c.name} ${c.raw}`;
  if (c.name === 'bash' && typeof c.args.command === 'string') return c.args.command;
  const parts = [c.name];
  for (const k of ['command', 'path']) if (c.args[k] !== undefined) parts.push(shellQuote(pyStr(c.args[k])));
  for (const [k, v] of Object.entries(c.args)) if (k !== 'command' && k !== 'path') parts.push(`--${k}`, shellQuote(pyStr(v)));
  return parts.join(' ');
}

/** Python's `str()` of a JSON value for scalars (`True`, `None`); JSON for lists and objects. */
export function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

/** POSIX shell quoting: bare when safe, else single quotes (`'` as `'\''`). */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
