import * as path from 'node:path';
import type { Action, ChatImage, ChatMessage, ExitStatus, Observation, Step, StepTokens } from '../../../common/src/trajectory';
import { DEFAULT_KEEP_LAST, estimateTokens, isContextOverflow, lastNObservations, observationIndexes } from './history';
import type { Sandbox } from '../runtime/sandbox';
import { AbortedError } from '../util/abort';
import { SUBMIT_MARKER, TOOLS, executeAction, observationMessages, parseActions } from './actions';
import type { ModelClient } from './model';
import { ModelUnavailableError } from './modelPool';
import type { AgentProtocol } from './agentConfig';
import type OpenAI from 'openai';
import type { BrowserActOptions } from '../browser/session';

/** Limits and settings of one agent loop. */
export interface LoopOptions {
  mode: 'tools' | 'text';
  /** Most model calls (steps). */
  maxSteps: number;
  /** Cost limit, USD (Infinity for none). */
  costLimit: number;
  /** Per-command timeout, seconds. */
  commandTimeoutSec: number;
  /** Output cap per command, bytes. */
  outputCap: number;
  /** Aborts on cancel (reason 'cancelled') or wall-clock timeout (reason 'timeout'). */
  signal: AbortSignal;
  /**
   * Multi-step tasks: the index in `task.steps` of the task step this loop works on (recorded
   * as each step's `task_step`), and how many agent steps earlier task steps took (`maxSteps`
   * counts from 0 all the same; a submission among those earlier steps does not end this loop).
   */
  taskStep?: { index: number; stepsBefore: number };
  /** The agent config's protocol (templates, action regex, submission message); absent: the built-in one. */
  protocol?: AgentProtocol;
  /** Tool mode: the tools offered (default all of TOOLS). */
  tools?: OpenAI.Chat.ChatCompletionTool[];
  /**
   * Browser actions: per-action timeout and observation budget, and where screenshots go (the
   * trajectory's `<trajectory>.assets/` folder; each is named `step-<step>-<action>.png`).
   */
  browser?: Omit<BrowserActOptions, 'signal' | 'assetName' | 'screenshot'>;
  /** The task's `screenshots`: every browser observation carries a screenshot (else only when the model takes images). */
  screenshots?: boolean;
}

/** The conversation and steps so far; the loop appends to both (resume passes them in). */
export interface LoopState {
  messages: ChatMessage[];
  steps: Step[];
  costUsd: number;
}

export interface LoopResult {
  exitStatus: ExitStatus;
  submission: string | null;
  error?: string;
}

/**
 * Runs the agent loop (mini-swe-agent's shape): ask the model, parse its actions, execute them
 * in the sandbox, feed the observations back, until it submits or a limit is hit. `onStep` is
 * awaited after every step (the engine writes the trajectory there, atomically), with the call's
 * token ids and log-probabilities when the model returned them (`--record-tokens`). Malformed
 * replies are fed back and counted as steps. A conversation that would outgrow the model's
 * context window (ModelClient.contextWindow, or the server's "maximum context length" 400) is
 * sent with old observations elided (history.ts, recorded as each step's `history`). Model
 * errors that survive the SDK's retries end the attempt with `error`. Never throws except AbortedError when cancelled and
 * ModelUnavailableError when a models list has no answer for it now (the engine requeues it).
 */
export async function runAgentLoop(
  model: ModelClient,
  sandbox: Sandbox,
  state: LoopState,
  options: LoopOptions,
  onStep: (step: Step, tokens?: StepTokens) => Promise<void>,
): Promise<LoopResult> {
  const tools = options.mode === 'tools' ? (options.tools ?? TOOLS) : undefined;
  const limits = { timeoutSec: options.commandTimeoutSec, outputCap: options.outputCap, signal: options.signal };
  // A resumed attempt that had already submitted (the process died during diff or eval) goes
  // straight to evaluation: asking the model again would add steps after its submission.
  const last = state.steps.length > (options.taskStep?.stepsBefore ?? 0) ? state.steps.at(-1) : undefined;
  const recorded = last ? recordedSubmission(last) : undefined;
  if (recorded !== undefined) return { exitStatus: 'submitted', submission: recorded };
  // Once the conversation outgrew the context window, every later request elides old
  // observations too (history.ts); a resumed attempt goes on as its last step did.
  let keepLast = state.steps.findLast((s) => s.history)?.history?.n;
  try {
    while (state.steps.length < options.maxSteps) {
      if (state.costUsd >= options.costLimit) return { exitStatus: 'cost_limit', submission: null };
      const startedAt = new Date();
      let reply;
      let sent: { messages: ChatMessage[]; elided: number[] };
      for (;;) {
        sent = keepLast === undefined ? { messages: state.messages, elided: [] } : lastNObservations(state.messages, keepLast);
        const window = model.contextWindow;
        const fewer = window !== undefined && estimateTokens(sent.messages, tools) > window ? shrink(keepLast, state.messages) : undefined;
        if (fewer !== undefined) {
          keepLast = fewer;
          continue;
        }
        try {
          reply = await model.complete(sent.messages, tools, options.signal);
          break;
        } catch (err) {
          if (options.signal.aborted) throw new AbortedError(String(options.signal.reason));
          // The attempt goes back to the queue; it records nothing for this call.
          if (err instanceof ModelUnavailableError) throw err;
          // Over the context window by the server's count: elide more and ask again.
          const fewer = isContextOverflow(err) ? shrink(keepLast, state.messages) : undefined;
          if (fewer !== undefined) {
            keepLast = fewer;
            continue;
          }
          return { exitStatus: 'error', submission: null, error: `model call failed: ${describeError(err)}` };
        }
      }
      state.messages.push(reply.message);
      const actions = parseActions(reply.message, options.mode, options.protocol);
      const observations: Observation[] = [];
      let submitted: string | undefined;
      // Screenshots go with browser observations when the task asks for them or the model takes images.
      const screenshots = !!options.browser?.assetsDir && (!!options.screenshots || !!model.takesImages);
      for (const [i, action] of actions.entries()) {
        const browser = { ...options.browser, assetName: `step-${state.steps.length}-${i}.png`, screenshot: screenshots };
        const outcome = await executeAction(action, sandbox, { ...limits, browser });
        observations.push(outcome.observation);
        // An agent config with submission_message decides by mini-swe-agent's rule (and its submission text).
        const bySubmission = action.kind === 'bash' && options.mode === 'text' ? options.protocol?.submission(outcome.observation) : undefined;
        if (bySubmission) outcome.submitted = bySubmission.submitted ? bySubmission.text : undefined;
        if (outcome.submitted !== undefined) {
          submitted = outcome.submitted;
          break;
        }
      }
      const done = actions.slice(0, observations.length);
      const step: Step = {
        index: state.steps.length,
        started_at: startedAt.toISOString(),
        ended_at: new Date().toISOString(),
        latency_ms: reply.latencyMs,
        response: {
          content: reply.message.content,
          ...(reply.message.reasoning ? { reasoning: reply.message.reasoning } : {}),
          ...(reply.message.tool_calls ? { tool_calls: reply.message.tool_calls } : {}),
        },
        ...(reply.usage ? { usage: reply.usage } : {}),
        cost_usd: reply.costUsd,
        ...(reply.model !== undefined ? { model: reply.model } : {}),
        ...(keepLast !== undefined ? { history: { processor: 'last_n_observations' as const, n: keepLast, elided: sent.elided } } : {}),
        ...(reply.tokens ? { token_record: { prompt_token_ids: reply.tokens.prompt_token_ids?.length ?? 0, completion_token_ids: reply.tokens.completion_token_ids?.length ?? 0, logprobs: reply.tokens.logprobs?.length ?? 0 } } : {}),
        actions: done,
        observations,
        ...(options.taskStep ? { task_step: options.taskStep.index } : {}),
      };
      state.costUsd += reply.costUsd;
      const answers = observationMessages(done, observations, options.mode, options.protocol);
      if (screenshots) withScreenshots(answers, done, observations, options.browser!.assetsDir!);
      if (submitted === undefined) state.messages.push(...answers);
      else if (options.mode === 'tools') state.messages.push(...answers.filter((m) => m.role === 'tool'));
      // mini-swe-agent sends the submission back as the last user message.
      else if (options.protocol?.config.submission_message) state.messages.push({ role: 'user', content: submitted });
      state.steps.push(step);
      await onStep(step, reply.tokens);
      if (submitted !== undefined) return { exitStatus: 'submitted', submission: submitted };
    }
    return { exitStatus: 'step_limit', submission: null };
  } catch (err) {
    if (err instanceof ModelUnavailableError) throw err;
    if (err instanceof AbortedError || options.signal.aborted) {
      if (String(options.signal.reason) === 'timeout') return { exitStatus: 'timeout', submission: null };
      throw err instanceof AbortedError ? err : new AbortedError(String(options.signal.reason));
    }
    return { exitStatus: 'error', submission: null, error: describeError(err) };
  }
}

/**
 * Puts each browser observation's screenshot on the message that answers its action (`images`,
 * sent to the model as image parts by model.ts `toOpenAIMessages`): the tool message of its call
 * (tools mode), else the observation's user message (text mode). The image's path is absolute:
 * `assetsDir`'s folder joined with the observation's trajectory-relative path.
 */
function withScreenshots(messages: ChatMessage[], actions: Action[], observations: Observation[], assetsDir: string): void {
  const folder = path.dirname(assetsDir);
  actions.forEach((action, i) => {
    const shot = observations[i]?.browser?.screenshot;
    if (!shot) return;
    const m = action.tool_call_id ? messages.find((x) => x.role === 'tool' && x.tool_call_id === action.tool_call_id) : messages.find((x) => x.role === 'user');
    if (!m) return;
    const image: ChatImage = { path: path.join(folder, shot.path), mime: shot.mime, sha256: shot.sha256, bytes: shot.bytes };
    m.images = [...(m.images ?? []), image];
  });
}

/**
 * Re-executes the actions of recorded steps in a fresh sandbox, without the model, so a
 * resumed attempt continues from the state its finished steps left. Observations are not
 * re-recorded. Throws on abort or engine errors.
 */
export async function restoreSteps(steps: Step[], sandbox: Sandbox, options: Pick<LoopOptions, 'commandTimeoutSec' | 'outputCap' | 'signal' | 'browser'>): Promise<void> {
  const limits = { timeoutSec: options.commandTimeoutSec, outputCap: options.outputCap, signal: options.signal, browser: { ...options.browser, assetsDir: undefined } };
  for (const step of steps) {
    for (const action of step.actions as Action[]) {
      // Browser actions that change the page (or what the site behind it holds) are done again; reading ones are not.
      const changes = action.kind === 'browser' && !['find', 'read', 'screenshot'].includes(action.action);
      if (action.kind === 'bash' || action.kind === 'edit' || changes) await executeAction(action, sandbox, limits);
    }
  }
}

/**
 * The next `n` of last_n_observations for a request that does not fit: DEFAULT_KEEP_LAST at
 * first, then one fewer each time, always below the number of observations (else it elides
 * nothing); undefined when no `n` ≥ 1 elides more.
 */
function shrink(keepLast: number | undefined, messages: readonly ChatMessage[]): number | undefined {
  const next = Math.min(keepLast === undefined ? DEFAULT_KEEP_LAST : keepLast - 1, observationIndexes(messages).length - 1);
  return next >= 1 ? next : undefined;
}

/** The submission a recorded step made (a `submit` call, or text mode's marker line), if any. */
export function recordedSubmission(step: Step): string | undefined {
  for (const [i, action] of step.actions.entries()) {
    if (action.kind === 'submit') return action.answer ?? '';
    const o = step.observations[i];
    if (action.kind === 'bash' && o && o.exit_code === 0) {
      const lines = o.stdout.split('\n');
      if (lines[0]?.trim() === SUBMIT_MARKER) return lines.slice(1).join('\n').trim();
    }
  }
  return undefined;
}

function describeError(err: unknown): string {
  const e = err as { status?: number; message?: string };
  return e.status ? `HTTP ${e.status}: ${e.message}` : String(e.message ?? err);
}
