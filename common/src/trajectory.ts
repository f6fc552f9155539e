/**
 * TrajLab's native trajectory, `schema_version: "trajlab.trajectory/1"`
 * (published schema: `schemas/trajectory.schema.json`). Self-contained: the task snapshot,
 * agent and model identity (never a secret), the exact system prompt and tool schemas, the
 * full message list sent to the model, every step, and the result.
 */
import type { AgentConfig } from './agentConfig';
import type { HostMove } from './run';
import type { EvalHarness, Task } from './task';

export const TRAJECTORY_SCHEMA_VERSION = 'trajlab.trajectory/1';

/** How an attempt ended. */
export type ExitStatus = 'submitted' | 'step_limit' | 'cost_limit' | 'timeout' | 'error' | 'cancelled';

/** Chat message in OpenAI chat-completions shape (what was sent to / received from the model). */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | null;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  /** Reasoning text, when the endpoint returns one (`reasoning_content`). */
  reasoning?: string;
  /**
   * Images sent with this message, in order: a task's `images` on the attempt's first user
   * message; a browser observation's screenshot on the tool message (or text mode's user
   * message) that carries the observation, when screenshots go to the model (the task's
   * `screenshots`, or a model that takes images). The model client reads each file when it sends
   * the message and sends it as OpenAI `image_url` content parts (server/src/agent/model.ts
   * `toOpenAIMessages`: tool results' screenshots follow them in a user message; only the latest
   * few screenshots are sent); the bytes are never stored here.
   */
  images?: ChatImage[];
}

/** An image file sent to the model with a message: a reference, never the bytes. */
export interface ChatImage {
  /** Absolute path of the file on the machine that ran the attempt. */
  path: string;
  /** MIME type (`image/png`, `image/jpeg`, `image/gif`, `image/webp`), from the file's extension. */
  mime: string;
  /** SHA-256 of the file's bytes, lowercase hex: what was sent, checked again at every send. */
  sha256: string;
  /** Size of the file, bytes. */
  bytes: number;
}

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Prompt tokens served from the provider's cache (a subset of `prompt_tokens`), when reported. */
  cached_tokens?: number;
}

/** What the agent did in a step. `format_error` is a malformed reply fed back to the model. */
export type Action =
  | { kind: 'bash'; command: string; tool_call_id?: string }
  | { kind: 'edit'; command: string; path: string; args: Record<string, unknown>; tool_call_id?: string }
  | { kind: 'submit'; answer?: string; tool_call_id?: string }
  | BrowserAction
  | { kind: 'format_error'; message: string; tool_call_id?: string };

/** The actions of the `browser` tool (server/src/browser/session.ts). */
export const BROWSER_ACTIONS = ['goto', 'click', 'type', 'scroll', 'back', 'forward', 'find', 'read', 'screenshot'] as const;
export type BrowserActionName = (typeof BROWSER_ACTIONS)[number];

/**
 * One `browser` tool call: `action` and its arguments as the model gave them, checked
 * (`url` for goto; `element_id` for click and type; `text` for type and find; `submit` for type;
 * `direction` `up` | `down` for scroll).
 */
export interface BrowserAction {
  kind: 'browser';
  action: BrowserActionName;
  args: { url?: string; element_id?: number; text?: string; submit?: boolean; direction?: 'up' | 'down' };
  tool_call_id?: string;
}

/** A browser action's tool-call arguments, as the `browser` tool takes them: `{action, ...args}`. */
export function browserCallArgs(a: BrowserAction): Record<string, unknown> {
  return { action: a.action, ...a.args };
}

/** A browser action as one line: `browser click 3`, `browser goto <url>`, `browser type 4 "text" submit`. */
export function browserActionLine(a: BrowserAction): string {
  const x = a.args;
  const parts = ['browser', a.action];
  if (x.url !== undefined) parts.push(x.url);
  if (x.element_id !== undefined) parts.push(String(x.element_id));
  if (x.text !== undefined) parts.push(JSON.stringify(x.text));
  if (x.direction !== undefined) parts.push(x.direction);
  if (x.submit) parts.push('submit');
  return parts.join(' ');
}

/**
 * What a browser action left (Observation.browser): the page after it, and how its
 * accessibility tree was cut to the observation budget. The observation's `stdout` is the text
 * the model got (URL, title, then the tree, the page text or the lines found).
 */
export interface BrowserObservation {
  /** The page's URL and title after the action ('' when no page could be read). */
  url: string;
  title: string;
  /** Interactive elements numbered in the tree (the `element_id`s the model may use next). */
  elements: number;
  /**
   * Set when the text was cut to its budget: lines and characters of the whole text and of what
   * was shown, and (tree observations) how many elements the whole tree numbered.
   */
  cut?: { total_lines: number; shown_lines: number; total_chars: number; shown_chars: number; total_elements?: number };
  /**
   * `screenshot()`: the PNG file beside the trajectory (`<trajectory>.assets/…`, `path` relative
   * to the trajectory's folder), referenced by its SHA-256, never inlined.
   */
  screenshot?: { path: string; mime: 'image/png'; sha256: string; bytes: number };
}

/**
 * The folder of a trajectory's files (screenshots): `<trajectory>.assets/` beside
 * `<trajectory>.json` (`run/x.0.json` → `run/x.0.assets`). Pure; the path as given (absolute or
 * relative).
 */
export function assetsDirOf(trajectoryFile: string): string {
  return `${trajectoryFile.replace(/\.json$/, '')}.assets`;
}

export interface Observation {
  stdout: string;
  stderr: string;
  exit_code: number | null;
  /** True when stdout or stderr was cut at the output cap. */
  truncated: boolean;
  /** True when the command was killed at its per-command timeout. */
  timed_out: boolean;
  /** Bytes produced before truncation (stdout + stderr). */
  output_bytes: number;
  duration_ms: number;
  /**
   * Imported trajectories only: true when the source recorded no result for this action (e.g.
   * an ATIF tool call without an observation). stdout/stderr are then '' and exit_code null.
   */
  missing?: boolean;
  /** Subagent trajectories this action delegated to (ATIF `subagent_trajectory_ref`). */
  subagent_trajectory_refs?: SubagentTrajectoryRef[];
  /** A `browser` action's page state (see BrowserObservation). */
  browser?: BrowserObservation;
}

/** A reference to a subagent's trajectory (ATIF `SubagentTrajectoryRefSchema`), kept verbatim. */
export interface SubagentTrajectoryRef {
  session_id?: string;
  trajectory_id?: string;
  /** A file path or URL of the subagent's trajectory. */
  trajectory_path?: string;
  extra?: Record<string, unknown>;
}

/**
 * An observation result the source tied to no action of the step: the result of a tool call
 * that maps to no Action kind (OpenHands' `think`, `task_tracker`…; the call itself is in
 * `response.tool_calls`), or an ATIF result without `source_call_id` when no action was left
 * to take it. Imported trajectories only.
 */
export interface OtherObservation {
  tool_call_id: string | null;
  content: string;
  subagent_trajectory_refs?: SubagentTrajectoryRef[];
}

export interface Step {
  /** 0-based. */
  index: number;
  started_at: string;
  ended_at: string;
  /** Model latency for this step, ms (0 for policies without a model). */
  latency_ms: number;
  response: {
    content: string | null;
    reasoning?: string;
    tool_calls?: ToolCall[];
  };
  usage?: TokenUsage;
  /** Cost of this step's model call, USD (0 when unknown). */
  cost_usd: number;
  /** Runs with a models list: the entry that answered (ModelEntry's name; `model.spec` names the spec). */
  model?: string;
  /**
   * Set when this step's request did not send the whole conversation (it would have outgrown the
   * model's context window): SWE-agent's `last_n_observations` with `n`, and the indexes in
   * `messages` of the observations sent as `Old environment output: (<lines> lines omitted)`
   * (server/src/agent/history.ts). The messages themselves stay whole.
   */
  history?: { processor: 'last_n_observations'; n: number; elided: number[] };
  /**
   * `--record-tokens`: how many prompt token ids, completion token ids and completion
   * log-probabilities the endpoint returned for this call. The values themselves are in the
   * trajectory's sidecar `<trajectory>.tokens.jsonl.gz` (server/src/store/tokenSidecar.ts), so
   * the JSON stays small; readers that need them fill `token_data` from it.
   */
  token_record?: { prompt_token_ids: number; completion_token_ids: number; logprobs: number };
  /** In memory only (never written in the trajectory JSON): this step's StepTokens, read from the sidecar. */
  token_data?: StepTokens;
  /** One step may carry several actions when the model made several tool calls. */
  actions: Action[];
  observations: Observation[];
  error?: string;
  /** Imported trajectories only: results that belong to no action (see OtherObservation). */
  other_observations?: OtherObservation[];
  /**
   * Multi-step tasks: the 0-based index in `task.steps` of the task step this agent turn belongs
   * to (its name: `task.steps[task_step].name`; its outcome: `result.task_steps`).
   */
  task_step?: number;
  /**
   * Imported trajectories only: fields of the source step that have no native home, verbatim,
   * so that an export back to the same format restores them (ATIF: `model_name`,
   * `reasoning_effort`, `extra`, and `metrics.prompt_token_ids` / `completion_token_ids` /
   * `logprobs` / `extra`).
   */
  source_fields?: Record<string, unknown>;
}

/**
 * Token ids and log-probabilities of one model call, as an RL trainer uses them without
 * re-tokenising (the fields of Harbor's ATIF step `metrics`): the prompt's token ids, the
 * completion's token ids, and each completion token's log-probability.
 */
export interface StepTokens {
  prompt_token_ids?: number[];
  completion_token_ids?: number[];
  logprobs?: number[];
}

export interface DiffStats {
  files_changed: number;
  insertions: number;
  deletions: number;
  /**
   * `bytes`: the file's size (the new content's, or the old one's when deleted) for binaries
   * and omitted files; `omitted`: larger than the run's maxDiffFileBytes, so not in the diff.
   */
  files: { path: string; insertions: number; deletions: number; binary: boolean; bytes?: number; omitted?: boolean }[];
}

export interface TestStatus {
  name: string;
  status: 'passed' | 'failed' | 'error' | 'skipped' | 'missing';
  /**
   * Graded by a ported harness (`Evaluation.harness`): the status word its log parser recorded
   * (SWE-bench: PASSED, FAILED, ERROR, SKIPPED, XFAIL, or another word it found in the status's
   * place, which it counts, like SKIPPED, as neither passed nor failed). Absent when the test is
   * not in the log (`missing`).
   */
  harness_status?: string;
}

export interface Evaluation {
  /** Which rule produced the reward (`page`: the browser's final page, eval.url_matches / eval.page_contains). */
  method: 'tests' | 'reward_file' | 'answer' | 'page' | 'exit_code' | 'none';
  commands: { command: string; observation: Observation }[];
  tests?: {
    FAIL_TO_PASS: TestStatus[];
    PASS_TO_PASS: TestStatus[];
  };
  answer?: { expected: string; got: string | null };
  /** The checks on the browser's final page (method `page`). */
  page?: PageCheck;
  reward_file?: string;
  /** The task's `eval.harness`: its eval script ran as one bash script and its rules decided `success`. */
  harness?: EvalHarness;
  /** The harness's log parser that read the script's output (`eval.log_parser`). */
  log_parser?: string;
  /** The harness's resolution (SWE-bench: `RESOLVED_FULL`, `RESOLVED_PARTIAL`, `RESOLVED_NO`); `success` is RESOLVED_FULL. */
  resolution?: string;
  reward: number;
  success: boolean;
  error?: string;
}

/** The checks on a browser task's final page (server/src/eval/pageChecks.ts). */
export interface PageCheck {
  /** The final page's URL and title ('' when there was none). */
  url: string;
  title: string;
  /** Set when the task asks: whether the URL matched `eval.url_matches`, whether the page held `eval.page_contains`. */
  url_matches?: boolean;
  page_contains?: boolean;
  /** Every asked check held. */
  passed: boolean;
  /** Why the page could not be checked. */
  error?: string;
}

export interface TrajectoryResult {
  exit_status: ExitStatus;
  submission: string | null;
  diff: string;
  diff_stats: DiffStats;
  evaluation: Evaluation | null;
  reward: number;
  success: boolean;
  error?: string;
  /**
   * Files the attempt's diff touched (paths relative to the workspace) that the evaluation resets
   * or overwrites: under an `eval.restore` path or an `eval.resets` one (reset by the eval
   * commands themselves), or written by an `eval.files` copy whose destination lies in the
   * workspace (SWE-bench's test files reach `eval.restore`, SWE-smith's `eval.resets`, through the
   * converter). Set (possibly empty) when the task restores, resets or copies anything into the
   * workspace; a non-empty list marks an attempt that edited the tests.
   */
  tampered_paths?: string[];
  /** Set by the `replay:` policy: how the new observations differ from the recorded ones. */
  replay?: { source: string; steps_compared: number; differences: ReplayDifference[] };
  /**
   * Multi-step tasks: each task step that ran, in order (a step whose predecessor stopped the
   * task is absent). `reward` is then Harbor's rule over them (see Task.step_reward), and
   * `evaluation` the last step's.
   */
  task_steps?: TaskStepResult[];
}

/** How one step of a multi-step task ended (TrajectoryResult.task_steps). */
export interface TaskStepResult {
  /** 0-based index in `task.steps`. */
  index: number;
  name: string;
  /** How the agent's turn of this task step ended. */
  exit_status: ExitStatus;
  /** Agent turns (entries of `steps`) this task step took. */
  agent_steps: number;
  evaluation: Evaluation;
  /** The step's reward, 0..1; null when its evaluation gave none (an evaluation error: Harbor's step without a verifier result). */
  reward: number | null;
  /** Set on the step that stopped the task: why the steps after it did not run. */
  stopped?: string;
}

export interface ReplayDifference {
  step: number;
  action: number;
  field: 'exit_code' | 'stdout' | 'stderr' | 'missing';
  recorded: string | number | null;
  replayed: string | number | null;
}

/**
 * Foreign trajectory formats TrajLab reads (server/src/import/) and writes (server/src/export/):
 * mini-swe-agent's dict format (`trajectory_format: "mini-swe-agent-1.1"`), its older bare
 * message list, SWE-agent's `.traj`, and Harbor's ATIF.
 */
export type ForeignTrajectoryFormat = 'mini-swe-agent' | 'mini-swe-agent-legacy' | 'swe-agent' | 'atif';

/**
 * Where an imported trajectory came from, and which values the source did not record.
 *
 * Unknown values are marked the same way in every importer: an unknown exit code is `null`;
 * unknown timestamps, names, images and ids are `''`; unknown token usage is left out (`usage`
 * absent); an action without a recorded result has an observation with `missing: true`; a
 * required number the source lacks (latency, cost, duration, reward) is `0` and its path is
 * listed in `unknown_fields`; a result the source lacks entirely is `result: null`.
 * The required fields that only TrajLab's own runs have are fixed for imports: `agent` is
 * TrajLab's reading of the file (`name: "trajlab"`, the importing TrajLab's version, the
 * detected action mode, `policy: "model"`; the real agent is `imported_from.agent`),
 * `attempt` is 1, `source` is `{tasks_file: '', line: 0}`, `run_id` is the source's run id
 * (ATIF `session_id`) or '', `environment.host` is '', and `status` is `"finished"` when the
 * source records how the run ended, else `"running"` (unfinished) with `result: null`.
 */
export interface ImportedFrom {
  format: ForeignTrajectoryFormat;
  /** The version the file states (`"mini-swe-agent-1.1"`, `"ATIF-v1.5"`), null when it states none. */
  version: string | null;
  /** Absolute path of the file read. */
  file: string;
  /** The agent that wrote it (`mini-swe-agent` 2.3.0, `openhands` 1.0.0…); version null when unknown. */
  agent: { name: string; version: string | null };
  /** The exit status exactly as the source wrote it (`"Submitted"`, `"LimitsExceeded"`, `"exit_cost"`), null when none. */
  exit_status: string | null;
  /**
   * Fields that hold a placeholder `0` in at least one place because the source has no such
   * value: `"steps.latency_ms"`, `"steps.cost_usd"`, `"observations.duration_ms"`,
   * `"totals.duration_ms"`, `"totals.cost_usd"`, `"totals.prompt_tokens"`,
   * `"totals.completion_tokens"` (sums over steps that lack usage), `"result.reward"`
   * (with `result.success` and `result.evaluation: null`), `"messages.images.bytes"` (an
   * image read from ATIF content parts: its file is not read, sha256 `''`, bytes 0).
   */
  unknown_fields: string[];
  /**
   * Trajectory-level fields of the source with no native home, verbatim, so that an export
   * back to the same format restores them (ATIF: root keys such as `notes`, `extra`,
   * `continued_trajectory_ref`, `subagent_trajectories`; `agent_extra` for `agent.extra`;
   * `final_metrics` for its fields beyond the three totals).
   */
  source_fields?: Record<string, unknown>;
}

/**
 * A turn between model calls that is not a step's observation: a system notice or a user
 * message (ATIF system / user steps after the task prompt, e.g. a context-summarization
 * hand-off with its subagent trajectories). Imported trajectories only.
 */
export interface TrajectoryEvent {
  /** Index of the step it comes before (`steps.length` when it comes after the last one). */
  before_step: number;
  source: 'system' | 'user';
  message: string;
  /** ISO 8601, '' when unknown. */
  timestamp: string;
  /** What the event produced (ATIF observation results). */
  results?: { content: string | null; subagent_trajectory_refs?: SubagentTrajectoryRef[] }[];
  /** Source fields with no native home (ATIF step `extra`), verbatim. */
  source_fields?: Record<string, unknown>;
}

export interface Trajectory {
  schema_version: typeof TRAJECTORY_SCHEMA_VERSION;
  run_id: string;
  task_id: string;
  /** 1-based attempt number. */
  attempt: number;
  task: Task;
  agent: { name: 'trajlab'; version: string; mode: 'tools' | 'text'; policy: 'model' | 'gold' | 'replay'; /** The agent config the attempt ran under (`--agent`; absent: the built-in default). */ config?: AgentConfig };
  model: { spec: string; provider: string; name: string; base_url?: string; temperature?: number };
  system_prompt: string;
  tools: unknown[];
  messages: ChatMessage[];
  steps: Step[];
  started_at: string;
  ended_at: string | null;
  /** Where the task came from: the tasks file (absolute) and its 1-based line. */
  source: { tasks_file: string; line: number };
  /**
   * Container environment: image and host the attempt ran on (the last one, for an attempt that
   * moved: `moves` lists each host change of a pool run, oldest first).
   */
  environment: { image: string; host: string; container_id?: string; moves?: HostMove[] };
  /** `running` while the attempt is in flight; `finished` once `result` is final. */
  status: 'running' | 'finished';
  result: TrajectoryResult | null;
  totals: { steps: number; prompt_tokens: number; completion_tokens: number; cost_usd: number; duration_ms: number };
  /** Set when the trajectory was read from another tool's format (see ImportedFrom). */
  imported_from?: ImportedFrom;
  /** System / user turns between steps (imported trajectories; see TrajectoryEvent). */
  events?: TrajectoryEvent[];
}
