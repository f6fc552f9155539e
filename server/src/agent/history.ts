/**
 * Long conversations: what is sent to the model once the conversation would outgrow the
 * model's context window. The processor is SWE-agent's `last_n_observations`
 * (SWE-agent/SWE-agent, sweagent/agent/history_processors.py, LastNObservations.__call__): every
 * observation but the last `n` is sent as `Old environment output: (<lines> lines omitted)`,
 * where <lines> is Python's `len(content.splitlines())`; the task's first message (SWE-agent's
 * instance template, its first observation) is always kept in full. The trajectory keeps every
 * message whole; each step records which ones its request elided (Step.history), so an export
 * can rebuild what the model saw.
 */
import type { ChatMessage, Step } from '../../../common/src/trajectory';

/** Observations kept in full when the processor first applies (SWE-agent's configs use 5). */
export const DEFAULT_KEEP_LAST = 5;

/** The placeholder of an elided observation (LastNObservations). */
export function elidedObservation(content: string): string {
  return `Old environment output: (${pythonLineCount(content)} lines omitted)`;
}

/** `len(text.splitlines())` of Python: lines split at \n, \r\n, \r, \v, \f, \x1c-\x1e, \x85, \u2028, \u2029; a final line break ends a line, it does not start one. */
export function pythonLineCount(text: string): number {
  if (!text) return 0;
  const parts = text.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  return parts.at(-1) === '' ? parts.length - 1 : parts.length;
}

/**
 * The indexes of the observations in `messages`: every `tool` message, and every `user` message
 * after the first (the first is the task).
 */
export function observationIndexes(messages: readonly ChatMessage[]): number[] {
  const out: number[] = [];
  let seenTask = false;
  messages.forEach((m, i) => {
    if (m.role === 'tool') out.push(i);
    else if (m.role === 'user') {
      if (seenTask) out.push(i);
      seenTask = true;
    }
  });
  return out;
}

/**
 * `messages` with every observation but the last `n` elided (see the file comment), and the
 * indexes elided. The messages themselves are not changed (elided ones are copies). Errors: `n`
 * below 1 (SWE-agent: "n must be a positive integer").
 */
export function lastNObservations(messages: readonly ChatMessage[], n: number): { messages: ChatMessage[]; elided: number[] } {
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`n must be a positive integer (got ${n})`);
  const observations = observationIndexes(messages);
  const elided = observations.slice(0, Math.max(0, observations.length - n));
  const set = new Set(elided);
  return {
    messages: messages.map((m, i) => (set.has(i) ? { ...m, content: elidedObservation(m.content ?? ''), images: undefined } : m)),
    elided,
  };
}

/** Messages as a step recorded them sent: its `history` elisions applied (the trajectory's messages up to that request). */
export function messagesAsSent(messages: readonly ChatMessage[], step: Pick<Step, 'history'>): ChatMessage[] {
  const elided = new Set(step.history?.elided ?? []);
  return messages.map((m, i) => (elided.has(i) ? { ...m, content: elidedObservation(m.content ?? ''), images: undefined } : m));
}

/**
 * A rough count of the tokens `messages` (and `tools`) take: characters / 3, an over-estimate for
 * English and code with the tokenizers of today's models, so a request judged to fit rarely
 * overflows (the server's "maximum context length" 400 is the backstop).
 */
export function estimateTokens(messages: readonly ChatMessage[], tools?: unknown): number {
  let chars = tools ? JSON.stringify(tools).length : 0;
  for (const m of messages) {
    chars += (m.content?.length ?? 0) + 8;
    for (const c of m.tool_calls ?? []) chars += c.function.name.length + c.function.arguments.length + 16;
  }
  return Math.ceil(chars / 3);
}

/**
 * Whether a model error says the request was over the context window: HTTP 400 whose message
 * reads like OpenAI's (`maximum context length is … tokens`), vLLM's (`This model's maximum
 * context length is …`, `… longer than the maximum model length`), Anthropic's (`prompt is too
 * long`) or Gemini's (`exceeds the maximum number of tokens`).
 */
export function isContextOverflow(err: unknown): boolean {
  const e = err as { status?: number; message?: string };
  if (e?.status !== 400) return false;
  return /maximum context length|context[_ ]length[_ ]exceeded|context window|maximum model length|prompt is too long|maximum number of tokens|too many tokens/i.test(e.message ?? '');
}
