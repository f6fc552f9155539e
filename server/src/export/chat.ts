/**
 * The conversation a trainer learns from, shared by every message-based export format:
 * the trajectory's `messages` (exactly what was sent to and received from the model), with the
 * system prompt first and nothing after the last assistant message (the reply to a final
 * `submit`, or a text-mode observation nobody answered, teaches nothing and breaks formats that
 * must end on the model's turn). Also the per-row metadata and the tool schemas.
 */
import type { ChatMessage, ToolCall, Trajectory } from '../../../common/src/trajectory';
import type { ToolArgumentsForm } from '../../../common/src/dataset';
import type { TrajectorySummary } from '../dataset/summary';
import { messagesAsSent } from '../agent/history';

/** What a format writer gets besides the trajectory. */
export interface RowContext {
  summary: TrajectorySummary;
  /** Include reasoning text (see ExportOptions.includeReasoning). */
  includeReasoning: boolean;
  /** Write `metadata` where the format has room for it. */
  metadata: boolean;
  /** How OpenAI-shaped rows write tool-call arguments (ExportOptions.toolArguments); default `string`. */
  toolArguments?: ToolArgumentsForm;
}

/**
 * The training conversation of `t` (see the module comment). Messages are returned as they are
 * in the trajectory (not copied); callers must not mutate them. When a step's request elided old
 * observations (Step.history, agent/history.ts), they are elided here as that last such request
 * sent them, so a trainer learns from what the model saw.
 */
export function trainingMessages(t: Trajectory): ChatMessage[] {
  // A conversation that outgrew the context window: what the model saw at its last request.
  const last = t.steps.findLast((s) => s.history);
  const msgs = last ? messagesAsSent(t.messages, last) : t.messages;
  let end = msgs.length;
  while (end > 0 && msgs[end - 1]!.role !== 'assistant') end--;
  const body = end === msgs.length ? msgs : msgs.slice(0, end);
  if (body[0]?.role !== 'system' && t.system_prompt) return [{ role: 'system', content: t.system_prompt }, ...body];
  return body;
}

/**
 * The tool schemas of `t` in OpenAI's `{type: "function", function: {name, description,
 * parameters}}` shape (a bare `{name, description, parameters}` is wrapped); other shapes are
 * kept as they are.
 */
export function toolSchemas(t: Trajectory): unknown[] {
  return (t.tools ?? []).map((tool) => {
    if (tool && typeof tool === 'object' && !('function' in tool) && typeof (tool as { name?: unknown }).name === 'string') return { type: 'function', function: tool };
    return tool;
  });
}

/** Tool call arguments as the JSON string OpenAI's format requires (an object is serialised). */
export function argumentsString(c: ToolCall): string {
  const a: unknown = c.function.arguments;
  return typeof a === 'string' ? a : JSON.stringify(a ?? {});
}

/** Tool call arguments as an object; `undefined` when they are not a JSON object (a malformed call). */
export function argumentsObject(c: ToolCall): Record<string, unknown> | undefined {
  const a: unknown = c.function.arguments;
  if (a && typeof a === 'object' && !Array.isArray(a)) return a as Record<string, unknown>;
  if (typeof a !== 'string') return undefined;
  try {
    const v: unknown = JSON.parse(a || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    // Malformed JSON from the model: a malformed call, exported as such.
    return undefined;
  }
}

/**
 * The metadata of a row: the same keys in every row (null when unknown), so that a dataset
 * loader that infers one schema (Hugging Face `datasets`, pyarrow) reads every row alike.
 */
export function rowMetadata(t: Trajectory, s: TrajectorySummary): Record<string, unknown> {
  return {
    run_id: s.run_id,
    task_id: s.task_id,
    attempt: s.attempt,
    task_type: s.task_type,
    model: s.model,
    reward: s.reward,
    success: s.success,
    resolved: s.resolved,
    exit_status: s.exit_status,
    steps: s.steps,
    source_format: t.imported_from?.format ?? 'trajlab',
  };
}

/** `<think>\n…\n</think>\n\n` + text: how text-only formats carry reasoning (LLaMA-Factory's default thought words). */
export function withThink(reasoning: string | undefined, text: string): string {
  return reasoning ? `<think>\n${reasoning}\n</think>\n\n${text}` : text;
}
