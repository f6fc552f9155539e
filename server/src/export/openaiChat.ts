/**
 * OpenAI chat fine-tuning JSONL, and per-inference samples in the same message shape.
 *
 * `openai` — one row per trajectory:
 *   `{"messages": [...], "tools": [...], "metadata": {...}}`
 * Source: OpenAI's fine-tuning input schema `FineTuneChatRequestInput` (OpenAPI spec,
 * https://platform.openai.com/docs/api-reference/fine-tuning/chat-input: `messages`, `tools`,
 * `parallel_tool_calls`) and its tool-calling example (Azure OpenAI "Fine-tuning and tool
 * calling", https://learn.microsoft.com/azure/ai-services/openai/how-to/fine-tuning-functions):
 * - system / user messages `{role, content}` with string content;
 * - assistant messages `{role: "assistant", content, tool_calls?}`, each tool call
 *   `{id, type: "function", function: {name, arguments}}` with `arguments` a JSON **string**
 *   (`--tool-arguments string`, the default). `--tool-arguments object` writes them as a JSON
 *   object instead, the form transformers documents for `apply_chat_template` ("Tool use /
 *   function calling": `"arguments": {"location": …}`), which GLM and Qwen3.5 templates need and
 *   which the Qwen2.5, Llama-3.1, Mistral, Command-A and Hermes templates otherwise double-encode
 *   (a call whose arguments are not a JSON object keeps its raw string either way);
 *   content is `""` beside tool calls when the model wrote no text: OpenAI allows `""` as well as
 *   null, and chat templates that test `'</think>' in content` (Qwen3) raise on null. No consumer
 *   we checked needs null (OpenAI's fine-tuning API, TRL's SFTTrainer and the templates in
 *   ../shared/fixtures/chat-templates all take `""`), so there is no switch back to null;
 * - tool results `{role: "tool", tool_call_id, content}`;
 * - mid-conversation system notes and consecutive user turns are folded into one user message
 *   (fold.ts `foldUserTurns`, the same folding as the ShareGPT export);
 * - top-level `tools`: `[{type: "function", function: {name, description, parameters}}]`,
 *   left out when the trajectory recorded none.
 * TRL's SFTTrainer reads the same `messages` / `tools` columns (conversational format).
 * `metadata` is TrajLab's (same keys in every row, chat.ts `rowMetadata`); `--no-metadata`
 * leaves it out for loaders that reject unknown keys. Reasoning goes to `reasoning_content`
 * (the field DeepSeek and vLLM return) only when asked.
 *
 * `samples` — one row per LLM call with its full prompt and response, as SPAgent's
 * DataCollector records each inference (repository zhangzaibin/spagent,
 * docs/Data_collection/DATA_COLLECTION_README.md: `sample_id`, `iteration`, `prompt`,
 * `response`, `context`):
 *   `{"sample_id": "<run>/<task>/<attempt>/<n>", "iteration": n, "prompt": [messages before
 *     the call], "response": {assistant message}, "tools": [...], "metadata": {..., "step",
 *     "usage", "latency_ms", "cost_usd"}}`
 * with messages in the OpenAI shape above; `iteration` is 1-based like SPAgent's.
 *
 * Both are text-only: no image (ChatMessage.images) is written, neither a task's on its user
 * message nor a browser screenshot sent with a tool result or a text-mode observation; each
 * message keeps its string content (OpenAI's vision fine-tuning takes images only as HTTP URLs
 * or base64 data URLs, https://developers.openai.com/api/docs/guides/vision-fine-tuning: inline
 * data would make rows huge, and local files have no URL). A screenshot's tool message
 * keeps its text (URL, title, page tree); the PNG stays beside the trajectory
 * (`<trajectory>.assets/`, Observation.browser.screenshot). The `sharegpt` format carries every
 * image as an absolute path with its `<image>` placeholder (export/shareGpt.ts), and `atif` as
 * ATIF v1.6 image content parts (export/atif.ts).
 */
import type { ToolArgumentsForm } from '../../../common/src/dataset';
import type { ChatMessage, ToolCall, Trajectory } from '../../../common/src/trajectory';
import { argumentsObject, argumentsString, rowMetadata, toolSchemas, trainingMessages, type RowContext } from './chat';
import { foldUserTurns } from './fold';

type Json = Record<string, unknown>;

/**
 * One message in OpenAI's fine-tuning shape (see the module comment), tool-call arguments as a
 * JSON string (default) or an object (`toolArguments: "object"`). Pure.
 */
export function openaiMessage(m: ChatMessage, includeReasoning: boolean, toolArguments: ToolArgumentsForm = 'string'): Json {
  switch (m.role) {
    case 'assistant': {
      const calls = m.tool_calls?.length ? m.tool_calls : undefined;
      return {
        role: 'assistant',
        content: m.content ?? '',
        ...(includeReasoning && m.reasoning ? { reasoning_content: m.reasoning } : {}),
        ...(calls ? { tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.function.name, arguments: callArguments(c, toolArguments) } })) } : {}),
      };
    }
    case 'tool':
      return { role: 'tool', tool_call_id: m.tool_call_id ?? '', content: m.content ?? '' };
    default:
      return { role: m.role, content: m.content ?? '' };
  }
}

function callArguments(c: ToolCall, form: ToolArgumentsForm): unknown {
  return form === 'object' ? (argumentsObject(c) ?? argumentsString(c)) : argumentsString(c);
}

/** The training conversation of `t` in OpenAI's shape, folded (fold.ts). Pure. */
export function openaiMessages(t: Trajectory, ctx: Pick<RowContext, 'includeReasoning' | 'toolArguments'>): Json[] {
  return foldUserTurns(trainingMessages(t)).map((m) => openaiMessage(m, ctx.includeReasoning, ctx.toolArguments));
}

/** The `openai` row of a trajectory. Pure. */
export function toOpenAiRow(t: Trajectory, ctx: RowContext): Json {
  const tools = toolSchemas(t);
  return {
    messages: openaiMessages(t, ctx),
    ...(tools.length ? { tools } : {}),
    ...(ctx.metadata ? { metadata: rowMetadata(t, ctx.summary) } : {}),
  };
}

/**
 * The `samples` rows of a trajectory, one per assistant message. The n-th assistant message is
 * step n-1's reply (TrajLab records one model call per step); its usage, latency and cost come
 * from that step when it exists. Pure.
 */
export function toSampleRows(t: Trajectory, ctx: RowContext): Json[] {
  const tools = toolSchemas(t);
  const base = ctx.metadata ? rowMetadata(t, ctx.summary) : undefined;
  const rows: Json[] = [];
  const prompt: Json[] = [];
  for (const om of openaiMessages(t, ctx)) {
    if (om.role === 'assistant') {
      const n = rows.length + 1;
      const step = t.steps[n - 1];
      rows.push({
        sample_id: `${ctx.summary.run_id}/${ctx.summary.task_id}/${ctx.summary.attempt}/${n}`,
        iteration: n,
        prompt: prompt.slice(),
        response: om,
        ...(tools.length ? { tools } : {}),
        ...(base ? { metadata: { ...base, step: n - 1, usage: step?.usage ?? null, latency_ms: step ? step.latency_ms : null, cost_usd: step ? step.cost_usd : null } } : {}),
      });
    }
    prompt.push(om);
  }
  return rows;
}
