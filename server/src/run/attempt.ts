import type { AttemptState } from '../../../common/src/run';
import { taskPrompt, taskStepEval, type Task } from '../../../common/src/task';
import type { DiffStats, ReplayDifference, Step, StepTokens, Trajectory, TrajectoryResult } from '../../../common/src/trajectory';
import { assetsDirOf, TRAJECTORY_SCHEMA_VERSION } from '../../../common/src/trajectory';
import { toolsForTask, wantsBrowser } from '../agent/actions';
import { DEFAULT_BROWSER_ACTION_MS } from '../browser/session';
import { restoreSteps, runAgentLoop, type LoopResult } from '../agent/loop';
import { resolveTaskImages } from '../agent/images';
import type { ModelClient } from '../agent/model';
import { answerFormat, systemPrompt, taskMessage, taskStepMessage } from '../agent/prompts';
import type { AgentProtocol } from '../agent/agentConfig';
import type OpenAI from 'openai';
import { evaluate } from '../eval/evaluate';
import { restoreForEval, tamperedPaths } from '../eval/restore';
import { HARBOR_LOG_DIRS, isHarborTask } from '../harness/harbor';
import type { Sandbox } from '../runtime/sandbox';
import { imageDiff } from '../runtime/imageWorkspace';
import { copyTaskFolders, makeContainerDirs, taskFolders } from '../runtime/taskFiles';
import { computeDiff, extractTree, type PreparedWorkspace } from '../runtime/workspace';
import { TrajectoryWriter } from '../store/trajectoryWriter';
import type { RunStore } from '../store/runStore';
import { AbortedError, untilAborted } from '../util/abort';
import { traced } from '../util/trace';
import { hostMoves, messagesToKeep } from '../pool/moves';
import { HostLostError } from './jobRunner';
import { ModelUnavailableError } from '../agent/modelPool';
import { appendStepTokens } from '../store/tokenSidecar';
import { TRAJLAB_VERSION } from '../version';
import { DEFAULT_WORKDIR, releaseEnvironment, removeEnvironment, SetupError, type Environment, type EnvironmentContext, type PendingEnvironment } from './environment';
import { DEFAULT_SOLUTION_FILES_TO, runTaskSteps } from './taskSteps';

/** Everything one attempt needs; built by the run engine. */
export interface AttemptContext extends EnvironmentContext {
  source: { tasks_file: string; line: number };
  /** Takes the attempt's environment, prepared ahead or started now (see Lookahead in lookahead.ts); called once the attempt needs it. */
  environment(): PendingEnvironment;
  hostLabel: string;
  store: RunStore;
  model: ModelClient;
  /** Set when no model could be made for this task (e.g. `gold` on a task without a solution): the attempt is recorded as an error. */
  modelError?: string;
  mode: 'tools' | 'text';
  /** The run's agent config (`--agent`); absent: the built-in prompts and protocol. */
  protocol?: AgentProtocol;
  maxSteps: number;
  /** Wall-clock limit of the attempt, seconds. */
  timeoutSec: number;
  costLimit: number;
  /** The recorded trajectory, for the `replay:` policy's comparison. */
  replaySource?: { file: string; trajectory: Trajectory };
  /** The run's cancel signal. */
  signal: AbortSignal;
  /** Queues clean-up work (container removal) that need not block the next attempt; the engine runs it as running attempts allow and awaits it before the run ends. */
  background(work: () => Promise<unknown>): void;
  onState(state: AttemptState): void;
  onStep(trajectory: Trajectory, step: Step): Promise<void>;
  /** Pool runs: fires when the host is judged down (JobPlace.hostSignal): the attempt stops and throws HostLostError. */
  hostSignal?: AbortSignal;
  /** Pool runs: whether the host is lost, asked before an error is recorded (JobPlace.hostLost). */
  hostLost?(): Promise<string | undefined>;
  /** Pool runs: the attempt comes here from a host that went down; a HostMove is added to `environment.moves`. */
  move?: { from: string; reason: string };
}

/**
 * Runs one attempt of one task end to end: the task's images resolved onto the first user
 * message, its environment (`ctx.environment`: workspace, container, tree in, setup; see
 * environment.ts), agent loop, tree out and diff, evaluation, and the trajectory written after
 * every step. `previous` is an unfinished trajectory of the same
 * attempt: its steps are kept and re-executed in the fresh container, then the loop continues.
 * The container and the temp workspace are removed on every path.
 * Returns the finished trajectory. Throws AbortedError when the run is cancelled, and
 * HostLostError when its host was lost (pool runs: the failure is not recorded, the step in
 * flight neither), and ModelUnavailableError when its model has no answer for now; either way
 * the trajectory is left unfinished on disk, so a resume continues it.
 */
export function runAttempt(ctx: AttemptContext, previous?: Trajectory): Promise<Trajectory> {
  return traced('attempt', `${ctx.task.task_id}#${ctx.attempt}`, () => runAttemptNow(ctx, previous));
}

async function runAttemptNow(ctx: AttemptContext, previous?: Trajectory): Promise<Trajectory> {
  const task = ctx.task;
  const key = `${task.task_id}#${ctx.attempt}`;
  const workdir = task.workspace?.path ?? DEFAULT_WORKDIR;
  const image = task.image ?? ctx.defaultImage;
  const resumed = previous && previous.status === 'running' && previous.steps.length ? previous : undefined;
  const t: Trajectory = resumed
    ? { ...resumed, task, environment: { image, host: ctx.hostLabel } }
    : newTrajectory(ctx, image, workdir);
  // Host changes of a pool run: the earlier ones kept (also when no step had finished), this one added.
  const moves = hostMoves(previous?.environment.moves, ctx.move, ctx.hostLabel, resumed?.steps.length ?? 0, new Date().toISOString());
  if (moves.length) t.environment.moves = moves;
  // The task's images go with the first user message before the first write, so the JSON that a
  // resume starts from always has them (the step journal holds only later messages). A resumed
  // trajectory already has them. A missing file fails the attempt in the try below.
  let imageError: string | undefined;
  const prompt = t.messages.find((m) => m.role === 'user');
  if (!resumed && task.images?.length && prompt) {
    try {
      prompt.images = await resolveTaskImages(task.images, ctx.tasksDir);
    } catch (err) {
      imageError = (err as Error).message;
    }
  }
  const priorMs = resumed ? resumed.totals.duration_ms : 0;
  const started = performance.now();
  // Every step goes to the step journal at once; the JSON is rewritten in the background
  // (store/trajectoryWriter.ts). `save()` puts everything in the JSON.
  const writer = new TrajectoryWriter(ctx.store.trajectoryPath(t.task_id, t.attempt), () => {
    t.totals = totalsOf(t.steps, priorMs + (performance.now() - started));
    return t;
  }, { secrets: ctx.store.secrets });
  const save = () => traced('save', key, () => writer.save());
  await save();
  // Messages up to the last finished step: a reply whose actions did not finish (cancel, lost
  // host) is dropped before the trajectory is left for a resume, which asks the model again.
  let finishedMessages = t.messages.length;
  const dropStepInFlight = () => {
    t.messages.length = messagesToKeep(t.messages, finishedMessages);
  };

  const controller = new AbortController();
  const onCancel = () => controller.abort('cancelled');
  if (ctx.signal.aborted) onCancel();
  ctx.signal.addEventListener('abort', onCancel, { once: true });
  // A lost host stops the agent and the evaluation alike (nothing more can be recorded there).
  const onHostLost = () => controller.abort('host lost');
  if (ctx.hostSignal?.aborted) onHostLost();
  ctx.hostSignal?.addEventListener('abort', onHostLost, { once: true });
  const evalSignal = ctx.hostSignal ? AbortSignal.any([ctx.signal, ctx.hostSignal]) : ctx.signal;
  let lost: string | undefined;
  // The wall clock starts once the task's image is on its host (PendingEnvironment.imageReady):
  // pulling or building it is not the agent's time. A cancel stops the pull or build all the same.
  const wallMs = Math.max(1000, ctx.timeoutSec * 1000 - priorMs);
  let timer: NodeJS.Timeout | undefined;
  let clockStopped = false;
  const startClock = () => {
    if (!clockStopped) timer = setTimeout(() => controller.abort('timeout'), wallMs);
  };
  const stopClock = () => {
    clockStopped = true;
    clearTimeout(timer);
  };

  let pending: PendingEnvironment | undefined;
  let env: Environment | undefined;
  let loop: LoopResult | undefined;
  let diskOver: string | undefined;
  let stopDiskWatch = () => {};
  try {
    if (ctx.modelError) throw new SetupError(ctx.modelError);
    if (imageError) throw new SetupError(imageError);
    pending = ctx.environment();
    void pending.imageReady.then(startClock);
    // The wall clock and a cancel stop the preparation too (gpus.acquire, setup commands).
    const stop = () => pending!.abort(String(controller.signal.reason));
    if (controller.signal.aborted) stop();
    controller.signal.addEventListener('abort', stop, { once: true });
    try {
      // A lost host stops the wait even where its engine no longer answers at all (no reset, no
      // refusal): the environment, if it ever comes, is released in the background (below).
      env = await untilAborted(traced('wait-env', key, () => pending!.ready), ctx.hostSignal);
    } finally {
      controller.signal.removeEventListener('abort', stop);
    }
    const { ws, sandbox } = env;
    t.environment.image = env.image;
    t.environment.container_id = sandbox.id;
    stopDiskWatch = sandbox.watchDisk((reason) => {
      diskOver = reason;
      controller.abort('disk');
    });
    // A Harbor task's log folders exist before the agent starts (harness/harbor.ts HARBOR_LOG_DIRS).
    if (isHarborTask(task)) await makeContainerDirs(sandbox, HARBOR_LOG_DIRS);
    const onStep = async (step: Step, tokens?: StepTokens) => {
      // --record-tokens: the sidecar line first, so a step in the journal always has its tokens.
      if (tokens && step.token_record) await appendStepTokens(ctx.store.trajectoryPath(t.task_id, t.attempt), step.index, tokens);
      finishedMessages = t.messages.length;
      // A models list: the trajectory names the entry that answered.
      if (step.model !== undefined) t.model = { ...ctx.model.identity };
      writer.step();
      ctx.onState({ kind: 'running', step: t.steps.length });
      await ctx.onStep(t, step);
    };
    // The gold solution's files are copied in before it runs: for the gold policy, and for a replay of a gold run.
    const solutionFiles = ctx.model.policy === 'gold' || ctx.replaySource?.trajectory.agent.policy === 'gold';
    // A multi-step task runs its steps, each with its own agent turn and eval (taskSteps.ts).
    if (wantsBrowser(task)) tellNoScreenshots(task, ctx);
    // Browser actions: timeout per action (at most the command timeout), screenshots beside the trajectory.
    const browser = { timeoutMs: Math.min(DEFAULT_BROWSER_ACTION_MS, ctx.commandTimeoutSec * 1000), assetsDir: assetsDirOf(ctx.store.trajectoryPath(t.task_id, t.attempt)) };
    const stepped = task.steps?.length ? await runTaskSteps({
      task, sandbox, model: ctx.model, state: { messages: t.messages, steps: t.steps, costUsd: t.totals.cost_usd }, tasksDir: ctx.tasksDir, workdir,
      mode: ctx.mode, maxSteps: ctx.maxSteps, costLimit: ctx.costLimit, commandTimeoutSec: ctx.commandTimeoutSec, outputCap: ctx.outputCap,
      protocol: ctx.protocol, tools: t.tools.length ? (t.tools as OpenAI.Chat.ChatCompletionTool[]) : undefined, browser, screenshots: task.screenshots,
      signal: controller.signal, evalSignal, resumed: !!resumed, solutionFiles, onStep, onEvaluating: () => ctx.onState({ kind: 'evaluating' }),
      beforeEvaluate: (stepTask) => restoreForEval(stepTask, ws, sandbox, workdir, evalSignal),
    }) : undefined;
    if (!stepped && solutionFiles) await copyTaskFolders(sandbox, taskFolders(task.solution?.files, ctx.tasksDir, DEFAULT_SOLUTION_FILES_TO), 'solution.files');
    if (resumed && !stepped) await restoreSteps(t.steps, sandbox, { commandTimeoutSec: ctx.commandTimeoutSec, outputCap: ctx.outputCap, signal: controller.signal, browser });
    ctx.onState({ kind: 'running', step: t.steps.length });
    loop = stepped?.loop ?? await traced('agent', key, () => runAgentLoop(
      ctx.model,
      sandbox,
      { messages: t.messages, steps: t.steps, costUsd: t.totals.cost_usd },
      {
        mode: ctx.mode, maxSteps: ctx.maxSteps, costLimit: ctx.costLimit, commandTimeoutSec: ctx.commandTimeoutSec, outputCap: ctx.outputCap, signal: controller.signal,
        protocol: ctx.protocol, tools: t.tools.length ? (t.tools as OpenAI.Chat.ChatCompletionTool[]) : undefined, browser, screenshots: task.screenshots,
      },
      onStep,
    ));
    stopClock();
    // An engine call that failed ends the loop with `error`: on a lost host that is no result.
    if (loop.exitStatus === 'error' && ctx.hostLost && (lost = await ctx.hostLost())) throw new HostLostError(lost);
    // Diff and eval run even after a wall-clock timeout; only a cancel (or a lost host) stops them.
    ctx.onState({ kind: 'evaluating' });
    const { diff, stats } = await traced('diff', key, () => captureDiff(task, ws, sandbox, workdir, ctx.maxDiffFileBytes, evalSignal));
    const tampered = await tamperedPathsOf(task, stats, workdir, ctx.tasksDir);
    // A multi-step task's steps were evaluated (and restored) one by one above.
    if (!stepped) await traced('restore', key, () => restoreForEval(task, ws, sandbox, workdir, evalSignal));
    const lastReply = [...t.messages].reverse().find((m) => m.role === 'assistant')?.content ?? null;
    const evaluation = stepped?.evaluation ?? await traced('eval', key, () => evaluate(task, sandbox, { submission: loop!.submission, lastReply }, { outputCap: ctx.outputCap, signal: evalSignal, tasksDir: ctx.tasksDir }));
    t.result = {
      exit_status: loop.exitStatus,
      submission: loop.submission,
      diff,
      diff_stats: stats,
      evaluation,
      reward: stepped?.reward ?? evaluation.reward,
      // An attempt that ended in error (e.g. its model call failed) is never resolved, whatever
      // the eval says of the untouched workspace; the reward stays what the eval measured.
      success: (stepped ? stepped.reward >= 1 : evaluation.success) && loop.exitStatus !== 'error',
      ...(loop.error ? { error: loop.error } : {}),
      ...(tampered ? { tampered_paths: tampered } : {}),
      ...(stepped ? { task_steps: stepped.results } : {}),
    };
    if (diskOver) throw new SetupError(diskOver);
  } catch (err) {
    stopClock();
    if (ctx.signal.aborted) {
      t.ended_at = new Date().toISOString();
      dropStepInFlight();
      await save();
      throw new AbortedError('cancelled');
    }
    // Its model is unavailable for now: no result; the attempt goes back to the queue and continues from its journal.
    if (err instanceof ModelUnavailableError) {
      dropStepInFlight();
      await save();
      throw err;
    }
    // Pool runs: a failure on a lost host is no result; the attempt continues elsewhere from its journal.
    if (ctx.hostLost && (lost ??= await ctx.hostLost())) {
      dropStepInFlight();
      await save();
      throw new HostLostError(lost);
    }
    const message = err instanceof AbortedError && String(controller.signal.reason) === 'timeout'
      ? `the attempt's wall-clock limit (${ctx.timeoutSec} s) ran out before the agent started`
      : (err as Error).message;
    t.result = errorResult(diskOver ?? (err instanceof SetupError ? message : `${loop ? 'evaluation' : 'attempt'} failed: ${message}`));
  } finally {
    stopClock();
    stopDiskWatch();
    ctx.signal.removeEventListener('abort', onCancel);
    ctx.hostSignal?.removeEventListener('abort', onHostLost);
    // Removing a container takes ~0.1 s of engine time: let the worker go on meanwhile. An
    // environment whose wait was stopped (wall clock, cancel) is released once it settles; if it
    // failed instead, it released what it made itself and this attempt has its own error.
    if (env) {
      ctx.gpus.release(env.gpuIds);
      // On a lost host only the temp workspace goes: its containers are removed when it answers
      // again. Otherwise the container stops by itself now, while its removal waits its turn.
      if (!lost) env.sandbox.release();
      const made = lost ? { ws: env.ws } : env;
      ctx.background(() => removeEnvironment(made, ctx.logger));
    } else if (pending) {
      pending.abort('not used');
      const stopped = pending;
      ctx.background(() => stopped.ready.then((e) => releaseEnvironment(e, ctx), () => undefined));
    }
  }
  if (ctx.replaySource && t.result) t.result.replay = compareReplay(ctx.replaySource.file, ctx.replaySource.trajectory, t);
  t.status = 'finished';
  t.ended_at = new Date().toISOString();
  await save();
  return t;
}


const NO_DIFF: { diff: string; stats: DiffStats } = { diff: '', stats: { files_changed: 0, insertions: 0, deletions: 0, files: [] } };

/**
 * The attempt's diff against its base. A workspace in the image is diffed by git inside the
 * container (imageDiff). Otherwise the tree comes back through the archive API and git
 * diffs it (workspace.ts). A task that started in an empty folder (no repository, no setup)
 * and still has an empty one has no diff; that is checked with one command in the session,
 * saving the archive copy (~30 ms of the engine's CPU) and the git processes.
 */
async function captureDiff(task: Task, ws: PreparedWorkspace, sandbox: Sandbox, workdir: string, maxFileBytes: number, signal: AbortSignal): Promise<{ diff: string; stats: DiffStats }> {
  if (ws.inImage) return imageDiff(sandbox, workdir, ws.diffBase, maxFileBytes, signal);
  if (!task.workspace?.repo && !task.setup?.length) {
    const o = await sandbox.exec(`find . -mindepth 1 -maxdepth 1 -print -quit`, { timeoutSec: 30, outputCap: 4096, signal });
    if (o.exit_code === 0 && o.stdout === '' && !o.truncated) return NO_DIFF;
  }
  await extractTree(ws, await sandbox.getArchive(workdir), maxFileBytes);
  return computeDiff(ws, maxFileBytes);
}

/**
 * tamperedPaths of the task, or of a multi-step task the union over its steps' evals (each step's
 * eval merged over the task's: taskStepEval), sorted; undefined when none of them
 * restores or copies anything into the workspace.
 */
async function tamperedPathsOf(task: Task, stats: DiffStats, workdir: string, tasksDir: string): Promise<string[] | undefined> {
  if (!task.steps?.length) return tamperedPaths(task, stats, workdir, tasksDir);
  let all: string[] | undefined;
  for (const step of task.steps) {
    const found = await tamperedPaths({ ...task, eval: taskStepEval(task, step) }, stats, workdir, tasksDir);
    if (found) all = [...new Set([...(all ?? []), ...found])].sort();
  }
  return all;
}

/** Model specs already told that their browser observations go without screenshots (once per process). */
const toldNoScreenshots = new Set<string>();

/**
 * Logs once per model, for a browser task, that its observations go without screenshots when
 * neither the task nor what is known of the model asks for them, and how to change that: a
 * local vision model the registry does not know would otherwise never see a page.
 */
function tellNoScreenshots(task: Task, ctx: AttemptContext): void {
  const spec = ctx.model.identity.spec;
  if (task.screenshots || ctx.model.policy !== 'model' || ctx.model.takesImages || toldNoScreenshots.has(spec)) return;
  toldNoScreenshots.add(spec);
  ctx.logger.info(`${spec}: browser observations go without screenshots (nothing says this model takes images); to send them, give its models-list entry "vision": true (--models) or the task "screenshots": true`);
}

function newTrajectory(ctx: AttemptContext, image: string, workdir: string): Trajectory {
  const protocol = ctx.protocol;
  const tools = ctx.mode === 'tools' ? toolsForTask(ctx.task, protocol) : [];
  const toolNames = tools.map((tool) => (tool as { function: { name: string } }).function.name);
  const system = protocol?.systemPrompt({ workdir, commandTimeoutSec: ctx.commandTimeoutSec, mode: ctx.mode, tools: toolNames }) ?? systemPrompt(ctx.mode, workdir, ctx.commandTimeoutSec, wantsBrowser(ctx.task));
  // A multi-step task's first message is built in (each step's description follows the task's prompt).
  const instance = ctx.task.steps?.length ? taskStepMessage(ctx.task, 0) : (protocol?.instanceMessage(taskPrompt(ctx.task), answerFormat(ctx.task), workdir) ?? taskMessage(ctx.task));
  return {
    schema_version: TRAJECTORY_SCHEMA_VERSION,
    run_id: ctx.runId,
    task_id: ctx.task.task_id,
    attempt: ctx.attempt,
    task: ctx.task,
    source: ctx.source,
    agent: { name: 'trajlab', version: TRAJLAB_VERSION, mode: ctx.mode, policy: ctx.model.policy, ...(protocol ? { config: protocol.config } : {}) },
    model: ctx.model.identity,
    system_prompt: system,
    tools,
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: instance },
    ],
    steps: [],
    started_at: new Date().toISOString(),
    ended_at: null,
    environment: { image, host: ctx.hostLabel },
    status: 'running',
    result: null,
    totals: { steps: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0, duration_ms: 0 },
  };
}

/** A trajectory's totals from its steps (tokens and cost summed) and its duration, ms. */
export function totalsOf(steps: Step[], durationMs: number): Trajectory['totals'] {
  let prompt = 0;
  let completion = 0;
  let cost = 0;
  for (const s of steps) {
    prompt += s.usage?.prompt_tokens ?? 0;
    completion += s.usage?.completion_tokens ?? 0;
    cost += s.cost_usd;
  }
  return { steps: steps.length, prompt_tokens: prompt, completion_tokens: completion, cost_usd: cost, duration_ms: Math.round(durationMs) };
}

function errorResult(error: string): TrajectoryResult {
  return {
    exit_status: 'error',
    submission: null,
    diff: '',
    diff_stats: { files_changed: 0, insertions: 0, deletions: 0, files: [] },
    evaluation: null,
    reward: 0,
    success: false,
    error,
  };
}

/** Compares replayed observations with recorded ones: exit codes and stdout/stderr text. */
function compareReplay(file: string, recorded: Trajectory, replayed: Trajectory): NonNullable<TrajectoryResult['replay']> {
  const differences: ReplayDifference[] = [];
  recorded.steps.forEach((step, i) => {
    const other = replayed.steps[i];
    step.observations.forEach((o, j) => {
      const n = other?.observations[j];
      if (!n) {
        differences.push({ step: i, action: j, field: 'missing', recorded: o.exit_code, replayed: null });
        return;
      }
      if (o.exit_code !== n.exit_code) differences.push({ step: i, action: j, field: 'exit_code', recorded: o.exit_code, replayed: n.exit_code });
      if (o.stdout !== n.stdout) differences.push({ step: i, action: j, field: 'stdout', recorded: o.stdout.slice(0, 2000), replayed: n.stdout.slice(0, 2000) });
      if (o.stderr !== n.stderr) differences.push({ step: i, action: j, field: 'stderr', recorded: o.stderr.slice(0, 2000), replayed: n.stderr.slice(0, 2000) });
    });
  });
  return { source: file, steps_compared: recorded.steps.length, differences };
}
