/**
 * Multi-step tasks (`Task.steps`, Harbor `[[steps]]`): the steps run in order in one container.
 * Each step gets its files, its setup commands, then the agent's turn — the step's description
 * as a new user message in the same conversation, with the step's timeout and max_steps — then
 * its eval; a step whose eval gives no reward, or a reward below its `min_reward`, stops the
 * task. The task's reward is Harbor's rule over the steps' (harness/harbor.ts).
 *
 * Port of Harbor's `trial/multi_step.py` `MultiStepTrial._run` / `_run_step` (order of a step:
 * workdir upload, setup, agent, verifier; the agent's failure or timeout still verifies). Where
 * TrajLab differs, on purpose:
 * - the conversation goes on across steps (Harbor calls `agent.run` once per step and leaves the
 *   agent's memory to the agent; its built-in agents keep their chat): a TrajLab trajectory is
 *   one conversation, so the model sees what it did in earlier steps, the container holds what
 *   they left, and a resume rebuilds both from one record;
 * - evaluation files (`/tests`) are removed after each step's eval (Harbor leaves them in the
 *   container until the next verification empties them), so they are absent whenever the agent
 *   works.
 */
import type { Task, TaskStep } from '../../../common/src/task';
import { taskStepEval } from '../../../common/src/task';
import type { Evaluation, Step, StepTokens, TaskStepResult } from '../../../common/src/trajectory';
import { recordedSubmission, restoreSteps, runAgentLoop, type LoopOptions, type LoopResult, type LoopState } from '../agent/loop';
import type { ModelClient } from '../agent/model';
import { taskStepMessage } from '../agent/prompts';
import { evaluate } from '../eval/evaluate';
import { harborStopReason, harborTrialReward } from '../harness/harbor';
import type { Sandbox } from '../runtime/sandbox';
import { copyTaskFolders, taskFolders } from '../runtime/taskFiles';
import { SetupError } from './environment';

/** Where `solution.files` go when a folder names no destination (Harbor's `/solution`). */
export const DEFAULT_SOLUTION_FILES_TO = '/solution';

/**
 * What running the steps needs (a subset of the attempt's context, plus its live state). The
 * loop options are the attempt's: `signal` is its signal (a cancel, or its wall clock with reason
 * 'timeout', stops the agent).
 */
export interface TaskStepsContext extends Pick<LoopOptions, 'mode' | 'costLimit' | 'commandTimeoutSec' | 'outputCap' | 'signal' | 'protocol' | 'tools' | 'browser' | 'screenshots'> {
  task: Task;
  sandbox: Sandbox;
  model: ModelClient;
  /** The attempt's conversation and agent steps (the trajectory's; appended to). */
  state: LoopState;
  /** Folder the task's `files` are relative to. */
  tasksDir: string;
  workdir: string;
  /** Default most agent turns per task step (a step's `max_steps` wins). */
  maxSteps: number;
  /** The run's cancel signal: only this stops an eval. */
  evalSignal: AbortSignal;
  /** Continue a recorded attempt: its steps are re-done in the fresh container, then it goes on. */
  resumed: boolean;
  /** Copy each step's `solution.files` in before its turn (the gold policy, or a replay of a gold run). */
  solutionFiles: boolean;
  onStep(step: Step, tokens?: StepTokens): Promise<void>;
  onEvaluating(): void;
  /** Runs before each step's eval with the step's task (its merged eval): resets `eval.restore` (eval/restore.ts). */
  beforeEvaluate(stepTask: Task): Promise<void>;
}

/** The outcome of a multi-step attempt. */
export interface TaskStepsOutcome {
  /** The last task step's agent turn. */
  loop: LoopResult;
  /** The last task step's evaluation. */
  evaluation: Evaluation;
  /** The task's reward (0 when no step gave one). */
  reward: number;
  results: TaskStepResult[];
}

/**
 * Runs the task's steps (see the file comment). A resumed attempt first re-does the task steps
 * its record holds — files, setup, its recorded actions and its eval, without the model — and
 * goes on from the last one. Errors: SetupError (a step's files could not be copied or a setup
 * command failed), AbortedError (cancelled), engine errors.
 */
export async function runTaskSteps(ctx: TaskStepsContext): Promise<TaskStepsOutcome> {
  const steps = ctx.task.steps ?? [];
  const results: TaskStepResult[] = [];
  const recorded = ctx.resumed ? ctx.state.steps.length : 0;
  const resumeAt = recorded ? (ctx.state.steps.at(-1)?.task_step ?? 0) : -1;
  let loop: LoopResult = { exitStatus: 'error', submission: null, error: 'no step ran' };
  let evaluation: Evaluation | undefined;
  for (const [index, step] of steps.entries()) {
    const stepsBefore = firstAgentStepOf(ctx.state.steps, index);
    await prepareStep(ctx, step, index);
    const own = index <= resumeAt ? ctx.state.steps.filter((s) => s.task_step === index) : [];
    if (own.length) await restoreSteps(own, ctx.sandbox, { commandTimeoutSec: ctx.commandTimeoutSec, outputCap: ctx.outputCap, signal: ctx.signal, browser: ctx.browser });
    // The first step's message is the attempt's first user message; a later step's is in the
    // record once the step has an agent turn.
    if (index > 0 && !own.length) ctx.state.messages.push({ role: 'user', content: taskStepMessage(ctx.task, index) });
    loop = index < resumeAt ? recordedTurn(own) : await runStepLoop(ctx, step, index, stepsBefore);
    dropUnfinishedReply(ctx.state);
    ctx.onEvaluating();
    const lastReply = [...ctx.state.messages].reverse().find((m) => m.role === 'assistant')?.content ?? null;
    const stepTask: Task = { ...ctx.task, eval: taskStepEval(ctx.task, step) };
    await ctx.beforeEvaluate(stepTask);
    evaluation = await evaluate(stepTask, ctx.sandbox, { submission: loop.submission, lastReply }, { outputCap: ctx.outputCap, signal: ctx.evalSignal, tasksDir: ctx.tasksDir });
    const result: TaskStepResult = {
      index,
      name: step.name,
      exit_status: loop.exitStatus,
      agent_steps: ctx.state.steps.length - stepsBefore,
      evaluation,
      reward: evaluation.error ? null : evaluation.reward,
    };
    results.push(result);
    const stop = harborStopReason(result, step.min_reward) ?? (index < steps.length - 1 && String(ctx.signal.reason) === 'timeout' ? `the attempt's wall-clock limit ran out` : undefined);
    if (stop && index < steps.length - 1) {
      result.stopped = stop;
      break;
    }
  }
  const reward = harborTrialReward(results, ctx.task.step_reward);
  return { loop, evaluation: evaluation!, reward: reward ?? 0, results };
}

/**
 * Drops the last assistant reply when its actions were cut off (the step's time ran out while
 * they ran): it has no recorded step, and the conversation that goes on must not hold tool
 * calls without their results. Every recorded step has exactly one reply.
 */
function dropUnfinishedReply(state: LoopState): void {
  const replies = state.messages.filter((m) => m.role === 'assistant').length;
  if (replies > state.steps.length && state.messages.at(-1)?.role === 'assistant') state.messages.pop();
}

/**
 * How a recorded task step's turn ended, read from its agent steps (a resume re-does a finished
 * task step without the model): `submitted` when its last turn submitted; otherwise the record
 * does not say whether the step limit or the step's timeout ended it, and `timeout` is assumed.
 */
function recordedTurn(own: Step[]): LoopResult {
  const submission = own.length ? recordedSubmission(own.at(-1)!) : undefined;
  return submission !== undefined ? { exitStatus: 'submitted', submission } : { exitStatus: 'timeout', submission: null };
}

/** The index in `steps` of the first agent turn of task step `index` (the number of turns before it). */
function firstAgentStepOf(steps: Step[], index: number): number {
  const i = steps.findIndex((s) => (s.task_step ?? 0) >= index);
  return i < 0 ? steps.length : i;
}

/** A step's files, the gold solution's files of the step (TaskStepsContext.solutionFiles), then its setup commands. */
async function prepareStep(ctx: TaskStepsContext, step: TaskStep, index: number): Promise<void> {
  const where = `step ${index + 1} (${JSON.stringify(step.name)})`;
  try {
    await copyTaskFolders(ctx.sandbox, taskFolders(step.files, ctx.tasksDir, ctx.workdir), `${where} files`);
    if (ctx.solutionFiles) {
      await copyTaskFolders(ctx.sandbox, taskFolders(step.solution?.files, ctx.tasksDir, DEFAULT_SOLUTION_FILES_TO), `${where} solution.files`);
    }
  } catch (err) {
    throw new SetupError((err as Error).message);
  }
  const limits = { timeoutSec: ctx.commandTimeoutSec, outputCap: ctx.outputCap, signal: ctx.signal };
  for (const [i, command] of (step.setup ?? []).entries()) {
    const o = await ctx.sandbox.exec(command, limits);
    if (o.exit_code !== 0) {
      throw new SetupError(`${where}: setup command ${i + 1} failed (exit ${o.exit_code}${o.timed_out ? ', timed out' : ''}): ${command}\n${(o.stderr || o.stdout).slice(-2000)}`);
    }
  }
}

/**
 * The agent's turn of one step: its `max_steps` (else the attempt's) counted from the step's
 * first turn, its `timeout` on top of the attempt's wall clock (either ends the turn as
 * `timeout`; a cancel propagates).
 */
async function runStepLoop(ctx: TaskStepsContext, step: TaskStep, index: number, stepsBefore: number): Promise<LoopResult> {
  const controller = new AbortController();
  const forward = () => controller.abort(ctx.signal.reason);
  if (ctx.signal.aborted) forward();
  else ctx.signal.addEventListener('abort', forward, { once: true });
  const timer = step.timeout !== undefined ? setTimeout(() => controller.abort('timeout'), step.timeout * 1000) : undefined;
  try {
    return await runAgentLoop(
      ctx.model,
      ctx.sandbox,
      ctx.state,
      {
        mode: ctx.mode,
        maxSteps: stepsBefore + (step.max_steps ?? ctx.maxSteps),
        costLimit: ctx.costLimit,
        commandTimeoutSec: ctx.commandTimeoutSec,
        outputCap: ctx.outputCap,
        signal: controller.signal,
        taskStep: { index, stepsBefore },
        protocol: ctx.protocol,
        tools: ctx.tools,
        browser: ctx.browser,
        screenshots: ctx.screenshots,
      },
      ctx.onStep,
    );
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', forward);
  }
}
