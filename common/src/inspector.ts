/**
 * What the trajectory inspector (webviews/src/trajectory/) is sent about an open trajectory.
 * The daemon imports the file once (any format server/src/import/ reads), keeps it under a
 * handle and answers pages of it (protocol.ts `trajlab/trajectory/*`); the extension forwards
 * pages to the webview. The whole file never crosses postMessage.
 *
 * Every string here is untrusted (model output, command output, file content, task text):
 * the webview renders it as text, never as HTML. Values the source did not record are null,
 * never 0 (as in server/src/dataset/overview.ts).
 */
import type { DiffStats, ExitStatus } from './trajectory';

/** `trajlab`, or the foreign format the file was read from (see common/src/trajectory.ts ForeignTrajectoryFormat). */
export type InspectorFormat = 'trajlab' | 'mini-swe-agent' | 'mini-swe-agent-legacy' | 'swe-agent' | 'atif';

/** A text clipped for transport: `text` holds at most the requested number of characters. */
export interface ClippedText {
  text: string;
  /** Length of the whole text in UTF-16 code units; `> text.length` when clipped. */
  length: number;
}

/** Everything above the timeline. */
export interface TrajectoryHeader {
  /** The daemon's handle for later requests (valid until `trajlab/trajectory/close`). */
  handle: string;
  /** Absolute path of the file (for display and "Open as text"; never used by the webview as a path). */
  file: string;
  format: InspectorFormat;
  /** The version the file states, null when none. */
  formatVersion: string | null;
  taskId: string;
  taskType: string | null;
  /** The task prompt, clipped (see TRAJECTORY_TEXT_CLIP). */
  description: ClippedText;
  /** `name version` of the agent that wrote it. */
  agent: string;
  /** Model name as recorded, '' when unknown. */
  model: string;
  runId: string;
  attempt: number;
  /** `running` while the attempt is in flight. */
  status: 'running' | 'finished';
  exitStatus: ExitStatus | null;
  /** The source's own word for how it ended (imports), else null. */
  sourceExitStatus: string | null;
  reward: number | null;
  success: boolean | null;
  error: string | null;
  startedAt: string | null;
  totals: {
    steps: number;
    promptTokens: number | null;
    completionTokens: number | null;
    costUsd: number | null;
    durationMs: number | null;
  };
  /** The final diff (unified, git format), clipped; '' when none. */
  diff: ClippedText;
  diffStats: DiffStats | null;
  /** Evaluation in brief: how the reward was obtained and the test lists (FAIL_TO_PASS / PASS_TO_PASS). */
  evaluation: {
    method: string;
    tests: { name: string; status: string; list: 'FAIL_TO_PASS' | 'PASS_TO_PASS' }[];
    error: string | null;
  } | null;
  /** The file is a TrajLab trajectory whose tasks file is known: "Replay in a fresh container" can run. */
  replayable: boolean;
  /** The tasks file the attempt came from (`source.tasks_file`, absolute) for TrajLab trajectories; null for imports. */
  tasksFile: string | null;
  /** Problems the importer noted (unknown fields…), one line each. */
  notes: string[];
}

/** One row of the timeline (compact: pages of these are what the list scrolls through). */
export interface StepRow {
  /** 0-based. */
  index: number;
  /** ms since the trajectory started; null when unknown. */
  elapsedMs: number | null;
  /** ms the step took (model latency + actions); null when unknown. */
  durationMs: number | null;
  /** The step's actions as one line each (clipped to ROW_TEXT_CLIP characters). */
  actions: string[];
  /** Kinds of the step's actions, in order. */
  kinds: ('bash' | 'edit' | 'submit' | 'browser' | 'format_error')[];
  /** Per action: the exit code, null when unknown, `"missing"` when no result was recorded. */
  exitCodes: (number | null | 'missing')[];
  /** prompt + completion tokens; null when unknown. */
  tokens: number | null;
  costUsd: number | null;
  /** The step's error, or a format error's message; null when none. */
  error: string | null;
}

/** One action of a step with its observation, as the detail pane shows it. */
export interface ActionDetail {
  kind: 'bash' | 'edit' | 'submit' | 'browser' | 'format_error';
  /** The command, the edit's command line, the answer or the format error message. */
  command: ClippedText;
  /** Edits only: the file path (text, never opened by the webview) and the edit as a unified diff. */
  path?: string;
  editDiff?: ClippedText;
  /** Browser actions whose observation recorded the page (Observation.browser). */
  browser?: BrowserDetail;
  observation: {
    stdout: ClippedText;
    stderr: ClippedText;
    exitCode: number | null;
    truncated: boolean;
    timedOut: boolean;
    missing: boolean;
    durationMs: number | null;
    outputBytes: number;
  } | null;
}

/**
 * The page a browser action left (common/src/trajectory.ts BrowserObservation), as the detail
 * pane shows it above the observation's text (the accessibility tree, the page text or the
 * lines found).
 */
export interface BrowserDetail {
  /** The page's URL and title after the action (text: never a link, never HTML); '' when none could be read. */
  url: ClippedText;
  title: ClippedText;
  /** Interactive elements the whole tree numbered (the `element_id`s the model could use next). */
  elements: number;
  /** How the observation's text was cut to its budget (lines, characters; elements for trees); null when it was whole. */
  cut: { totalLines: number; shownLines: number; totalChars: number; shownChars: number; totalElements: number | null } | null;
  /**
   * The screenshot the action saved, as recorded: `path` relative to the trajectory's folder
   * (text for display; the webview asks for the image by step and action, `screenshot`
   * request), `bytes` its size, `sha256` hex. Null when the action saved none.
   */
  screenshot: { path: ClippedText; bytes: number; sha256: string } | null;
}

/** Why a recorded screenshot is not shown (ScreenshotResult). */
export type ScreenshotProblem =
  /** No file at the recorded path (or no `<trajectory>.assets/` folder). */
  | 'missing'
  /** The recorded path, or a symbolic link on it, leads outside `<trajectory>.assets/`. */
  | 'outside'
  /** The file's SHA-256 is not the recorded one (edited or replaced since the run). */
  | 'changed'
  /** Larger than MAX_SCREENSHOT_BYTES. */
  | 'tooLarge'
  /** Not a readable regular file, or not a PNG image. */
  | 'unreadable';

/**
 * A browser action's screenshot for the detail pane (`trajlab/trajectory/screenshot`): the
 * checked PNG's bytes in base64 (the webview shows them as a `data:image/png;base64,` URL), or
 * why it is not shown (`message` for the user: what is wrong with which file).
 */
export type ScreenshotResult =
  | { ok: true; mime: 'image/png'; base64: string; bytes: number }
  | { ok: false; problem: ScreenshotProblem; message: string };

/** Largest screenshot the inspector shows (bytes); a larger file is refused as `tooLarge`. */
export const MAX_SCREENSHOT_BYTES = 8 * 1024 * 1024;

/** One step in full (texts clipped to the requested size). */
export interface StepDetail {
  row: StepRow;
  startedAt: string | null;
  endedAt: string | null;
  latencyMs: number | null;
  reasoning: ClippedText | null;
  reply: ClippedText | null;
  toolCalls: { id: string; name: string; arguments: ClippedText }[];
  actions: ActionDetail[];
  /** Results tied to no action (imports). */
  otherObservations: ClippedText[];
  usage: { promptTokens: number; completionTokens: number; cachedTokens: number | null } | null;
  /** System / user turns recorded before this step (imports). */
  eventsBefore: { source: 'system' | 'user'; message: ClippedText }[];
}

/** Filters of the timeline; they compose (AND). */
export interface StepFilter {
  /** Steps with an error or a format error. */
  errorsOnly?: boolean;
  /** Steps with an action whose exit code is not 0 (unknown codes excluded). */
  nonZeroExit?: boolean;
  /** Steps with an edit action. */
  editsOnly?: boolean;
}

/** A search hit: the step and which of its texts matched. */
export interface SearchHit {
  step: number;
  field: 'action' | 'reply' | 'reasoning' | 'tool_call' | 'stdout' | 'stderr' | 'error' | 'event';
}

/** Default clip of long texts in a StepDetail (characters); "show all" asks again with `clip: 0`. */
export const TRAJECTORY_TEXT_CLIP = 20_000;
/** Clip of the one-line actions of a StepRow (characters). */
export const ROW_TEXT_CLIP = 300;
/** Largest page of rows one `trajlab/trajectory/steps` request returns. */
export const MAX_STEP_PAGE = 1000;
