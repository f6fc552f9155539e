/**
 * ShareGPT, as LLaMA-Factory reads it (repository hiyouga/LLaMA-Factory, `data/README.md`,
 * "Sharegpt Format"; `src/llamafactory/data/formatter.py` `FunctionFormatter`):
 *   `{"conversations": [{"from": "human" | "gpt" | "function_call" | "observation", "value"}],
 *     "system": "…", "tools": "[…]", "metadata": {…}}`
 * - `human` and `observation` turns sit at odd positions, `gpt` and `function_call` at even ones
 *   (1-based), and the list ends on the model's turn: turns that would break this are merged
 *   (mid-conversation system notes and consecutive user turns are first folded into one human
 *   turn, fold.ts `foldUserTurns`, as the OpenAI export folds them; consecutive tool results
 *   become one observation, joined by a blank line; a human turn right after a tool result is
 *   appended to it);
 * - a reply with tool calls is a `function_call` whose value is the JSON of
 *   `{"name", "arguments": {…}}` (a list of them for parallel calls), arguments as an object
 *   (the formatter `json.dumps` them; a call whose arguments are not a JSON object keeps the
 *   raw string). `<think>` holds reasoning only: with `--reasoning` the reply's reasoning goes
 *   before the JSON as `<think>\n…\n</think>\n\n` (the thought words `FunctionFormatter.apply`
 *   strips before `json.loads`; LLaMA-Factory's Llama2-style templates do not strip them, see
 *   README), and a `gpt` turn is `<think>\n…\n</think>\n\n` + its text. The visible text of a
 *   reply with tool calls has no place in a function_call and is left out, as LLaMA-Factory's
 *   own `OpenAIDatasetConverter` does (`src/llamafactory/data/converter.py`, commit 908cd68e457d,
 *   lines 259–263: an assistant message with `tool_calls` becomes a function message whose
 *   content is the calls' JSON): wrapped in `<think>` it would teach the model to write `<think>` around
 *   ordinary text, and it breaks the Llama2-style templates. Two model replies in a row (an
 *   imported agent step that got no observation) become one turn: their reasonings and texts
 *   joined by a blank line, and their calls together when either has some;
 * - `system` is the system prompt; `tools` is the JSON **string** of the tool schemas (the
 *   `ToolFormatter` `json.loads` it), `"[]"` when there are none;
 * - `images` (multimodal rows only, LLaMA-Factory's multimodal ShareGPT convention: an `images`
 *   column of paths mapped in `dataset_info.json`'s `columns` beside `messages`, `system` and
 *   `tools` (a `columns` object replaces every default, `parser.py` `DatasetAttr.join`), and one
 *   `<image>` placeholder in the text per image, `src/llamafactory/data/mm_plugin.py` checking
 *   that the counts match; SPAgent's DataCollector likewise writes an `images` path list per
 *   sample): the absolute paths of the images the trajectory's messages carried
 *   (ChatMessage.images: a task's `images` on its first user message, the browser screenshots
 *   sent with a tool result or a text-mode observation), in conversation order, with one
 *   `<image>` per image at the start of the text of the message that carried them
 *   (`<image><image>Describe…`; a screenshot's tool result is `<image>URL: …` in its observation
 *   turn). Where messages are merged into one turn (consecutive tool results, a human turn after
 *   a tool result, folded user turns) each keeps its placeholders before its own text, so the
 *   turn holds exactly the placeholders of the images of the messages in it, in the order of the
 *   `images` list (LLaMA-Factory only counts placeholders and takes the images in order:
 *   `mm_plugin.py` `_validate_messages`, then each plugin's `process_messages` replaces the
 *   `<image>`s one by one from the list). Images of observations that a long conversation's
 *   request elided (Step.history) are left out with their text, as the model never saw them
 *   (chat.ts trainingMessages). Rows of trajectories without images have no `images` key and no
 *   placeholder. LLaMA-Factory counts every
 *   `<image>`, `<video>` and `<audio>` in the conversation as a placeholder and has no escape for
 *   them (export/llamaFactory.ts), so a row with images whose task, tool or model text itself
 *   contains one is refused (`shareGptRefusal`: the trajectory is dropped with reason
 *   `media_placeholder_in_text` in the manifest) rather than rewritten;
 * - `metadata` is TrajLab's (ignored by LLaMA-Factory, which reads only mapped columns).
 */
import type { ChatMessage, Trajectory } from '../../../common/src/trajectory';
import type { Drop } from '../dataset/select';
import { argumentsObject, rowMetadata, toolSchemas, trainingMessages, withThink, type RowContext } from './chat';
import { placeholderMismatch } from './llamaFactory';
import { foldUserTurns } from './fold';

type Turn = { from: 'human' | 'gpt' | 'function_call' | 'observation'; value: string };

/** One model turn before it is written: reasoning (with --reasoning only), visible text, tool calls. */
interface Reply {
  reasoning: string[];
  text: string[];
  calls: unknown[];
}

/** The `sharegpt` row of a trajectory. Pure. */
export function toShareGptRow(t: Trajectory, ctx: RowContext): Record<string, unknown> {
  const msgs = trainingMessages(t);
  const system = msgs[0]?.role === 'system' ? (msgs[0].content ?? '') : '';
  const turns: Turn[] = [];
  const images: string[] = [];
  let reply: Reply | undefined;
  for (const m of foldUserTurns(msgs[0]?.role === 'system' ? msgs.slice(1) : msgs)) {
    if (m.role === 'assistant') {
      reply = joinReplies(reply, replyOf(m, ctx.includeReasoning));
      continue;
    }
    if (reply) turns.push(modelTurn(reply));
    reply = undefined;
    const turn: Turn = { from: m.role === 'tool' ? 'observation' : 'human', value: m.content ?? '' };
    // A task's images on a user message, a screenshot on a tool result or a text-mode observation.
    if (m.images?.length) {
      turn.value = IMAGE_PLACEHOLDER.repeat(m.images.length) + turn.value;
      for (const img of m.images) images.push(img.path);
    }
    push(turns, turn);
  }
  if (reply) turns.push(modelTurn(reply));
  return {
    conversations: turns,
    system,
    tools: JSON.stringify(toolSchemas(t)),
    ...(images.length ? { images } : {}),
    ...(ctx.metadata ? { metadata: rowMetadata(t, ctx.summary) } : {}),
  };
}

/**
 * Why the `sharegpt` row of `t` must not be written, or undefined: a row with images whose
 * conversation holds more `<image>` (or any `<video>`, `<audio>`) than its images, which
 * LLaMA-Factory's multimodal plugins reject (`MMPluginMixin._validate_messages`, ported in
 * export/llamaFactory.ts) and which no escape gets past. Rows without images are never refused:
 * text-only templates do not count placeholders. Pure.
 */
export function shareGptRefusal(t: Trajectory, ctx: RowContext): Drop | undefined {
  if (!t.messages.some((m) => m.images?.length)) return undefined;
  const row = toShareGptRow(t, { ...ctx, metadata: false }) as { conversations: Turn[]; images?: string[] };
  if (!row.images) return undefined;
  const mismatch = placeholderMismatch(
    row.conversations.map((c) => c.value),
    { images: row.images.length },
  );
  if (!mismatch) return undefined;
  return {
    reason: 'media_placeholder_in_text',
    detail: `the task, tool or model text contains a literal <image>, <video> or <audio>, which LLaMA-Factory counts as a media placeholder: ${mismatch}`,
  };
}

/** LLaMA-Factory's image placeholder (`IMAGE_PLACEHOLDER`, src/llamafactory/extras/constants.py). */
const IMAGE_PLACEHOLDER = '<image>';

function replyOf(m: ChatMessage, includeReasoning: boolean): Reply {
  const reasoning = includeReasoning && m.reasoning?.trim() ? [m.reasoning] : [];
  const text = m.content ? [m.content] : [];
  const calls = (m.tool_calls ?? []).map((c) => ({ name: c.function.name, arguments: argumentsObject(c) ?? c.function.arguments }));
  return { reasoning, text, calls };
}

function joinReplies(a: Reply | undefined, b: Reply): Reply {
  return a ? { reasoning: [...a.reasoning, ...b.reasoning], text: [...a.text, ...b.text], calls: [...a.calls, ...b.calls] } : b;
}

/** A `gpt` turn (reasoning in `<think>`, then the text), or a `function_call` turn (reasoning in `<think>`, then the calls' JSON; the text left out). */
function modelTurn(r: Reply): Turn {
  const reasoning = r.reasoning.join('\n\n') || undefined;
  if (!r.calls.length) return { from: 'gpt', value: withThink(reasoning, r.text.join('\n\n')) };
  return { from: 'function_call', value: withThink(reasoning, JSON.stringify(r.calls.length === 1 ? r.calls[0] : r.calls)) };
}

/** Appends a human-side turn, merging it into the previous one when that is a human-side turn too. */
function push(turns: Turn[], turn: Turn): void {
  const prev = turns.at(-1);
  if (!prev || prev.from === 'gpt' || prev.from === 'function_call') {
    turns.push(turn);
    return;
  }
  prev.value = prev.value && turn.value ? `${prev.value}\n\n${turn.value}` : prev.value || turn.value;
}
