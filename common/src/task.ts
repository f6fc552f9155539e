/**
 * A task: one line of `tasks.jsonl`. The published schema is `schemas/task.schema.json`
 * (JSON Schema 2020-12); this type mirrors it. Seed formats: SWE-bench / SWE-smith
 * instances (FAIL_TO_PASS / PASS_TO_PASS, base_commit, problem_statement) and Harbor tasks
 * (instruction, verifier writing `/logs/verifier/reward.txt`).
 */
export type TaskType = 'code' | 'swe' | 'reasoning' | 'web';

/** Every task type, in the schema's order; a task without `task_type` is a `code` task. */
export const TASK_TYPES: readonly TaskType[] = ['code', 'swe', 'reasoning', 'web'];

export type NetworkPolicy = 'none' | 'bridge' | 'host';

export interface TaskWorkspace {
  /** A local path (relative to the tasks file) or a git URL. */
  repo?: string;
  /** Commit (or any git revision) to check out; the diff is computed against it. */
  base_commit?: string;
  /** Absolute path of the tree inside the container. Default `/workspace`. */
  path?: string;
  /**
   * The repository is already in the image at `path` (SWE-bench / SWE-smith images: `/testbed`):
   * nothing is cloned or copied in, the base is `base_commit` checked out in the container (else
   * the image's HEAD) and git diffs inside the container. Implied by `path` without `repo`.
   */
  in_image?: boolean;
}

/** The graders TrajLab ports from other harnesses (see `TaskEval.harness`). */
export type EvalHarness = 'swe-bench' | 'swe-smith' | 'harbor';

/** A folder of the tasks file copied into the container only for evaluation (Harbor's `tests/` → `/tests`). */
export interface EvalFiles {
  /** Folder, relative to the tasks file. */
  from: string;
  /** Absolute path in the container. Default `/tests`. */
  to?: string;
}

export interface TaskEval {
  /** Shell commands run in the container after the agent stops, in order. Browser tasks: the final page is in `$TRAJLAB_PAGE_DIR` (server/src/eval/pageChecks.ts PAGE_DIR). */
  commands?: string[];
  /** Tests that fail before the fix and must pass after it (SWE-bench / SWE-smith). */
  FAIL_TO_PASS?: string[];
  /** Tests that pass before the fix and must still pass after it. */
  PASS_TO_PASS?: string[];
  /** Expected answer, compared with the text the answer pattern captures. */
  answer?: string;
  /** Regular expression whose first group is the agent's answer. Default `<answer>(.*?)</answer>`. */
  answer_pattern?: string;
  /** Browser tasks: a regular expression the URL of the browser's final page must match (JavaScript syntax). */
  url_matches?: string;
  /** Browser tasks: text the final page must contain (its `innerText`, whitespace runs as one space). */
  page_contains?: string;
  /** Per-command timeout for eval commands, seconds. Default 300; with `harness`, the whole script's, default that harness's (SWE-bench: 1,800). */
  timeout?: number;
  /**
   * Grade as this harness grades: `commands` are its eval script (one bash script, as the harness
   * runs `eval.sh`), parsed with `log_parser`, FAIL_TO_PASS / PASS_TO_PASS graded by its rules.
   * `harbor`: the reward is only Harbor's verifier file (`/logs/verifier/reward.txt`, else
   * `reward.json`); none is an evaluation error, the exit codes never decide.
   */
  harness?: EvalHarness;
  /** The harness's log parser by name (`pytest`, `django`, `sympy`, `jest`, …); only with `harness`. */
  log_parser?: string;
  /** Copied in only for evaluation; a string is `{ from: string, to: '/tests' }`; an array copies each. */
  files?: TaskFiles;
  /** Environment variables of the eval commands (Harbor `[verifier.env]`). */
  env?: Record<string, string>;
  /** Paths relative to the workspace reset to the base commit (the tree after `setup` when there is one: what the agent started from) before evaluation. */
  restore?: string[];
  /** Paths relative to the workspace the eval commands reset themselves (a harness's script): left alone, recorded in `tampered_paths`. */
  resets?: string[];
}

/** Folders of the tasks file copied into the container: one (`string` → default destination) or several. */
export type TaskFiles = string | EvalFiles | (string | EvalFiles)[];

/** One step of a multi-step task (Harbor `[[steps]]`). */
export interface TaskStep {
  name: string;
  /** The step's instruction. */
  description: string;
  /**
   * The step's eval, over the task's (see taskStepEval): its fields win, `files` add to the
   * task's (copied after them: Harbor merges top-level and step `tests/`), `env` adds to the
   * task's. Without one, the task's eval grades the step.
   */
  eval?: TaskEval | string[];
  /** The reward this step's eval must reach for the next step to run. */
  min_reward?: number;
  /** The agent's wall-clock limit for this step, seconds. */
  timeout?: number;
  max_steps?: number;
  /** Copied in before the agent starts this step (Harbor `steps/<name>/workdir/`); default destination: the workspace path. */
  files?: TaskFiles;
  /** Commands run before the agent starts this step; one that fails ends the attempt as an error. */
  setup?: string[];
  /** This step's gold solution (Harbor `steps/<name>/solution/`). */
  solution?: TaskSolution;
}

/** Build the task's image from a Dockerfile (Harbor's `environment/`); used when `image` is absent. */
export interface TaskEnvironment {
  /** Relative to the tasks file, or absolute. */
  dockerfile: string;
  /** Build context folder, relative to the tasks file or absolute. Default: the Dockerfile's folder. */
  context?: string;
}

export interface TaskSolution {
  /** A unified diff applied with `git apply` in the workspace. */
  patch?: string;
  /** Shell commands that solve the task. */
  commands?: string[];
  /** For answer tasks: the final reply, e.g. `<answer>120</answer>`. */
  answer?: string;
  /** Copied in before the solution runs (Harbor `solution/` → `/solution`); default destination `/solution`. */
  files?: TaskFiles;
}

export interface TaskResources {
  cpus?: number;
  memory_mb?: number;
  pids?: number;
  /** Disk limit of the container's writable layer, MiB (the smaller of this and `--disk-limit-mb` wins). */
  storage_mb?: number;
}

export interface Task {
  task_id: string;
  task_type?: TaskType;
  description?: string;
  problem_statement?: string;
  image?: string;
  environment?: TaskEnvironment;
  workspace?: TaskWorkspace;
  setup?: string[];
  eval?: TaskEval | string[];
  solution?: TaskSolution;
  /** A multi-step task: run in order in one container, each step's eval gating the next. */
  steps?: TaskStep[];
  /**
   * How a multi-step task's reward comes from its steps' (Harbor `multi_step_reward_strategy`):
   * `mean` (default) over the steps whose eval gave a reward, `final` the last step's.
   */
  step_reward?: 'mean' | 'final';
  expected_tools?: string[];
  /**
   * Browser tasks: every browser action's observation carries a screenshot of the page (PNG in
   * `<trajectory>.assets/`), sent to the model with the observation. Default: only when the
   * model takes images (a models list's `vision`, else the tokenlens registry's `imageIn`).
   */
  screenshots?: boolean;
  max_steps?: number;
  timeout?: number;
  priority?: number;
  gpus?: number | string[];
  network?: NetworkPolicy;
  /** Environment variables of the container (Harbor `[environment.env]`). */
  env?: Record<string, string>;
  resources?: TaskResources;
  /**
   * The user the container runs as (Docker's `User`: `name`, `uid`, `name:group`, `uid:gid`);
   * wins over the run's `--user`. The workspace is given to it before setup.
   */
  user?: string;
  /**
   * Image files shown to the model with the task prompt (multimodal tasks): paths relative to
   * the tasks file (like `workspace.repo`) or absolute, at most 16, each ending in one of
   * TASK_IMAGE_MIME's extensions. They are attached to the attempt's first user message
   * (ChatMessage.images) and sent as OpenAI `image_url` content parts (data URLs).
   */
  images?: string[];
  metadata?: Record<string, unknown>;
}

/**
 * Image extensions a task's `images` may have (lower case, with the dot) and the MIME type each
 * is sent as. The formats OpenAI's vision input accepts (PNG, JPEG, WEBP, non-animated GIF;
 * https://platform.openai.com/docs/guides/images-vision).
 */
export const TASK_IMAGE_MIME: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};

/** The MIME type of an image path by its extension (case-insensitive), or undefined when it is not one of TASK_IMAGE_MIME's. */
export function taskImageMime(file: string): string | undefined {
  const dot = file.lastIndexOf('.');
  if (dot < 0 || Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) > dot) return undefined;
  return TASK_IMAGE_MIME[file.slice(dot).toLowerCase()];
}

/**
 * Whether `value` is a container user as a task's `user` and `--user` accept it: `name`, `uid`,
 * `name:group` or `uid:gid` of letters, digits, `_`, `.` and `-` (not leading), each part at most
 * 64 characters (the pattern of schemas/task.schema.json's `user`).
 */
export function isContainerUser(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,63})?$/.test(value);
}

/** The prompt of a task: `description`, or its alias `problem_statement`. */
export function taskPrompt(task: Task): string {
  return task.description ?? task.problem_statement ?? '';
}

/**
 * Whether the task's repository lives in its image (TaskWorkspace.in_image): the explicit flag
 * when given, else implied by `path` without `repo`.
 */
export function workspaceInImage(ws: TaskWorkspace | undefined): boolean {
  return ws?.in_image ?? (ws?.path !== undefined && !ws.repo);
}

/** The eval section in its object form (`eval: [...]` is shorthand for `{commands: [...]}`). */
export function taskEval(task: Task): TaskEval {
  if (!task.eval) return {};
  return Array.isArray(task.eval) ? { commands: task.eval } : task.eval;
}

/**
 * The eval that grades one step of a multi-step task: the task's eval with the step's over it
 * (the step's fields win), except `files`, the task's then the step's (Harbor's verifier uploads
 * the top-level `tests/` then the step's into `/tests`), and `env`, the task's with the step's
 * added (Harbor: `{**verifier.env, **step.verifier.env}`).
 */
export function taskStepEval(task: Task, step: TaskStep): TaskEval {
  const base = taskEval(task);
  const own: TaskEval = !step.eval ? {} : Array.isArray(step.eval) ? { commands: step.eval } : step.eval;
  const asList = (f: TaskFiles | undefined) => (f === undefined ? [] : Array.isArray(f) ? f : [f]);
  const files = [...asList(base.files), ...asList(own.files)];
  const env = base.env || own.env ? { ...base.env, ...own.env } : undefined;
  return { ...base, ...own, ...(files.length ? { files } : {}), ...(env ? { env } : {}) };
}
