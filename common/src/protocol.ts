/**
 * Custom LSP messages between the extension (client) and the daemon (server).
 * Each message is a namespace with `method` and `type` (vscode-eslint style).
 * Methods are `trajlab/<noun>/<verb>`.
 */
import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { DatasetProgress, DatasetStats, ExportOptions, ExportResult, RunComparison, SelectionFilters } from './dataset';
import type { QualityReport } from './qualityReport';
import type { ScreenshotResult, SearchHit, StepDetail, StepFilter, StepRow, TrajectoryHeader } from './inspector';
import type { AttemptState, ModelCounters, RejectedLine, RunCounts, RunInfo, RunOptions, RunStatus, UnreadableRun } from './run';
import type { DockerHostSetting } from './settings';

export interface RunStartParams {
  options: Partial<RunOptions> & { tasksFile: string };
  /** API keys for this run only (see ApiKeys); never part of `options`, never written. */
  apiKeys?: ApiKeys;
  /**
   * The client's `trajlab.dockerHosts`: the daemon caps `options.workers` at the
   * `maxConcurrent` of the entry whose url is `options.host` (server/src/daemon/runPolicy.ts).
   */
  dockerHosts?: DockerHostSetting[];
}
export interface RunStartResult {
  runId: string;
}

/** Sent from the client to the server to start a run; answers with the run id at once. */
export namespace RunStartRequest {
  export const method: 'trajlab/run/start' = 'trajlab/run/start';
  export const type = new RequestType<RunStartParams, RunStartResult, void>(method);
}

export interface RunCancelParams {
  runId: string;
}

/** Sent from the client to the server to cancel a run; resolves once its containers are removed. */
export namespace RunCancelRequest {
  export const method: 'trajlab/run/cancel' = 'trajlab/run/cancel';
  export const type = new RequestType<RunCancelParams, { cancelled: boolean }, void>(method);
}

export interface RunListParams {
  /** Output root to list; defaults to the daemon's. */
  out?: string;
}

/** The runs of an output root: readable ones newest first; `unreadable` only when there are some. */
export interface RunListResult {
  runs: RunInfo[];
  /** Run folders whose run.json could not be read, by run id, with why. */
  unreadable?: UnreadableRun[];
}

/** Sent from the client to the server: the runs on disk and in memory, newest first. */
export namespace RunListRequest {
  export const method: 'trajlab/run/list' = 'trajlab/run/list';
  export const type = new RequestType<RunListParams, RunListResult, void>(method);
}

export interface RunGetParams {
  runId: string;
  out?: string;
}

export interface AttemptInfo {
  taskId: string;
  attempt: number;
  state: AttemptState;
  trajectoryPath: string;
}

/** Sent from the client to the server: one run with the state of each attempt. */
export namespace RunGetRequest {
  export const method: 'trajlab/run/get' = 'trajlab/run/get';
  export const type = new RequestType<RunGetParams, { run: RunInfo; attempts: AttemptInfo[] } | null, void>(method);
}

export interface RunPlanRerunParams {
  runId: string;
  /** Output root of the run; default: the daemon's. */
  out?: string;
}

/** What "Re-run failed tasks" of a run starts. */
export interface RunPlanRerunResult {
  /**
   * The tasks to run again: those with no resolved attempt (unresolved, errored, cancelled or
   * never run), in first-seen order; empty when every task was resolved.
   */
  taskIds: string[];
  /** The options of the new run: the run's own, without its run id and filter, limited to `taskIds`. */
  options: Partial<RunOptions> & { tasksFile: string };
}

/** Sent from the client to the server: what re-running a run's failed tasks starts; null for an unknown run. */
export namespace RunPlanRerunRequest {
  export const method: 'trajlab/run/planRerun' = 'trajlab/run/planRerun';
  export const type = new RequestType<RunPlanRerunParams, RunPlanRerunResult | null, void>(method);
}

export interface RunPlanResumeParams {
  /** The runs the client saw running, started from its workspace, when its daemon went away. */
  runIds: string[];
  /** Output root of the runs; default: the daemon's. */
  out?: string;
}

/**
 * Sent from the client to the server once it is connected again after its daemon crashed: which
 * of `runIds` to resume, in the order given. Those the daemon reads as `interrupted` (their
 * owner process is gone) are; one already running again (another window resumed it), ended or
 * unknown is not.
 */
export namespace RunPlanResumeRequest {
  export const method: 'trajlab/run/planResume' = 'trajlab/run/planResume';
  export const type = new RequestType<RunPlanResumeParams, { runs: RunInfo[] }, void>(method);
}

export interface RunProgressParams {
  runId: string;
  status: RunStatus;
  counts: RunCounts;
  elapsedMs: number;
  /** Runs with a models list: each entry's counters (requests, 429s, tokens, cost). */
  models?: ModelCounters[];
}

/** Sent from the server to the client whenever a run's counts or status change. */
export namespace RunProgressNotification {
  export const method: 'trajlab/run/progress' = 'trajlab/run/progress';
  export const type = new NotificationType<RunProgressParams>(method);
}

export interface TaskUpdateParams {
  runId: string;
  taskId: string;
  attempt: number;
  state: AttemptState;
}

/** Sent from the server to the client when one attempt changes state (queued, step N, finished…). */
export namespace TaskUpdateNotification {
  export const method: 'trajlab/task/update' = 'trajlab/task/update';
  export const type = new NotificationType<TaskUpdateParams>(method);
}

/**
 * API keys for one run, by the environment variable the provider reads (`OPENAI_API_KEY`,
 * `DEEPSEEK_API_KEY`, … see PROVIDER_KEY_ENV in settings.ts). They come from the client's
 * SecretStorage, live only in the daemon's memory for that run and are never written.
 */
export type ApiKeys = Record<string, string>;

export interface HostInfoParams {
  /** Docker host URL (`unix:///var/run/docker.sock`, `tcp://h:2376`, `ssh://user@h`); default: the local engine. */
  url?: string;
}

/** What the Hosts view shows about one Docker host. */
export type HostInfo =
  | {
      kind: 'reachable';
      url: string;
      /** Docker engine version, e.g. `26.1.5+dfsg1`. */
      serverVersion: string;
      os: string;
      cpus: number;
      memoryBytes: number;
      /** Running containers labelled `trajlab.run`. */
      trajlabContainers: number;
      /** GPU device ids the host offers (from TRAJLAB_GPUS on the daemon or the engine's runtimes). */
      gpus: string[];
      /** Image tags present on the host (for completion and the "image not present" warning). */
      images: string[];
    }
  | { kind: 'unreachable'; url: string; error: string };

/** Sent from the client to the server: reachability, version, TrajLab containers and GPUs of a Docker host. */
export namespace HostInfoRequest {
  export const method: 'trajlab/host/info' = 'trajlab/host/info';
  export const type = new RequestType<HostInfoParams, HostInfo, void>(method);
}

/** One host of a running pool run, as the Hosts view shows it live. */
export interface PoolHostState {
  /** HostSpec.name, or the URL without credentials. */
  name: string;
  /** The URL without credentials. */
  url: string;
  /** `draining`: up, takes no new attempt (`trajlab hosts drain`); `down`: not answering, probed again with backoff. */
  status: 'up' | 'down' | 'draining';
  /** Attempts running on it now, and its `workers`. */
  running: number;
  slots: number;
  /** GPU device ids it offers, and those held by attempts now. */
  gpus: string[];
  gpusInUse: string[];
  /** Image pulls and builds in progress on it. */
  pulls: number;
  builds: number;
  /** The last Docker error seen on it (scrubbed of secrets), if any. */
  lastError?: string;
  /** ISO time it went down (while `down`). */
  downSince?: string;
}

/** The pool state of every running run of the daemon that has one. */
export interface HostsStateResult {
  runs: { runId: string; hosts: PoolHostState[] }[];
}

/** Sent from the client to the server: the live state of the hosts of the daemon's running runs (the Hosts view polls it during runs). */
export namespace HostsStateRequest {
  export const method: 'trajlab/hosts/state' = 'trajlab/hosts/state';
  export const type = new RequestType<Record<string, never> | undefined, HostsStateResult, void>(method);
}

export interface HostDrainParams {
  /** The host's URL (as configured; credentials are ignored in the match). */
  url: string;
  /** true: drain (no new attempt starts there; running ones finish); false: undrain. */
  drain: boolean;
  /** Output root whose runs it applies to; default: the daemon's. */
  out?: string;
}

/** Sent from the client to the server: drains or undrains a host for the runs of an output root (the same file `trajlab hosts drain` writes). Answers with the hosts now drained. */
export namespace HostDrainRequest {
  export const method: 'trajlab/host/drain' = 'trajlab/host/drain';
  export const type = new RequestType<HostDrainParams, { drained: string[] }, void>(method);
}

export interface TaskHistoryParams {
  /** Output root whose runs are read; default: the daemon's. */
  out?: string;
  /** Only these task ids; default: all. */
  taskIds?: string[];
}

/** One finished attempt of a task, as the Tasks view, hover and CodeLens show it. */
export interface TaskResult {
  runId: string;
  attempt: number;
  model: string;
  exitStatus: string;
  reward: number;
  success: boolean;
  steps: number;
  /** Model cost of the attempt, USD, when recorded. */
  costUsd?: number;
  /** ISO time the attempt finished. */
  finishedAt: string;
  /** Absolute path of the trajectory file. */
  trajectoryPath: string;
}

/** Sent from the client to the server: the finished attempts of each task over the runs on disk, newest first. */
export namespace TaskHistoryRequest {
  export const method: 'trajlab/task/history' = 'trajlab/task/history';
  export const type = new RequestType<TaskHistoryParams, { history: Record<string, TaskResult[]> }, void>(method);
}

export interface TasksReadParams {
  /** Absolute path of a tasks.jsonl file. */
  file: string;
}

/** One valid task of a tasks file, as the Tasks view lists it. Lines are 1-based. */
export interface TaskLineInfo {
  taskId: string;
  /** `task_type` as written, absent when the task sets none. */
  taskType?: string;
  line: number;
  /** The prompt (`description` or `problem_statement`), untrusted text. */
  description: string;
}

/**
 * Sent from the client to the server: a tasks file read and validated exactly as
 * `trajlab validate` and a run read it (JSON, the task schema, duplicate ids), so the Tasks view
 * shows the same valid tasks and rejected lines as the run will.
 */
export namespace TasksReadRequest {
  export const method: 'trajlab/tasks/read' = 'trajlab/tasks/read';
  export const type = new RequestType<TasksReadParams, { tasks: TaskLineInfo[]; rejected: RejectedLine[] }, void>(method);
}

export interface TasksImportParams {
  /** Absolute paths: instance files (JSON, JSON Lines, Parquet), Harbor task folders, dataset folders or task.toml files. */
  sources: string[];
  /** Absolute path of the tasks file to write. */
  out: string;
  /** Source format; default `auto` (detected from the content). */
  from?: 'auto' | 'swe-bench' | 'swe-smith' | 'harbor';
  /** Glob over task ids (as `generate --filter`). */
  filter?: string;
  /** Keep the first N tasks. */
  limit?: number;
  /** Rewrites image names (`{instance_id}`, `{task_id}`, `{repo}`, `{owner}`, `{name}`, `{image}`). */
  imageTemplate?: string;
  /** Replace `out` when it exists. */
  overwrite?: boolean;
}

/** A source, or one entry of it, that was not imported: its file, its 1-based line (JSON Lines) or entry (list, Parquet row). */
export interface TaskSourceError {
  file: string;
  line?: number;
  entry?: number;
  message: string;
}

export interface TasksImportResult {
  /** The tasks file written (absolute). */
  out: string;
  /** Tasks written. */
  tasks: number;
  errors: TaskSourceError[];
}

/**
 * Sent from the client to the server: `trajlab import` (server/src/import/sources.ts). Answers
 * once the tasks file is written (also when some entries failed: they are in `errors`). Errors
 * (ResponseError, message for the user): `out` exists without `overwrite`, cannot be written,
 * or a bad `filter` / `imageTemplate`.
 */
export namespace TasksImportRequest {
  export const method: 'trajlab/tasks/import' = 'trajlab/tasks/import';
  export const type = new RequestType<TasksImportParams, TasksImportResult, void>(method);
}

// ---------------------------------------------------------------------------------------------
// The trajectory inspector (common/src/inspector.ts). The daemon imports a trajectory file once
// and answers pages of it; handles live until closed (or the daemon exits).

export interface TrajectoryOpenParams {
  /** Absolute path of a trajectory file in any format server/src/import/ reads. */
  file: string;
}

/**
 * Sent from the client to the server: import a trajectory file and keep it open. Answers its
 * header (with the handle for later requests). Errors (ResponseError, message for the user):
 * unreadable file, invalid JSON, or not a trajectory format TrajLab reads (the message says what
 * was found and what was expected).
 */
export namespace TrajectoryOpenRequest {
  export const method: 'trajlab/trajectory/open' = 'trajlab/trajectory/open';
  export const type = new RequestType<TrajectoryOpenParams, TrajectoryHeader, void>(method);
}

export interface TrajectoryStepsParams {
  handle: string;
  /** A range of step indices: `[start, start + count)`, clamped to the steps there are. */
  start?: number;
  count?: number;
  /** Or exactly these step indices (a filtered list). At most MAX_STEP_PAGE either way. */
  indices?: number[];
}

/** Sent from the client to the server: a page of timeline rows of an open trajectory. */
export namespace TrajectoryStepsRequest {
  export const method: 'trajlab/trajectory/steps' = 'trajlab/trajectory/steps';
  export const type = new RequestType<TrajectoryStepsParams, { rows: StepRow[]; total: number }, void>(method);
}

export interface TrajectoryStepParams {
  handle: string;
  index: number;
  /** Clip long texts to this many characters (default TRAJECTORY_TEXT_CLIP; 0: the whole text). */
  clip?: number;
}

/** Sent from the client to the server: one step in full (the inspector's detail pane). */
export namespace TrajectoryStepRequest {
  export const method: 'trajlab/trajectory/step' = 'trajlab/trajectory/step';
  export const type = new RequestType<TrajectoryStepParams, StepDetail, void>(method);
}

export interface TrajectoryFilterParams {
  handle: string;
  filter: StepFilter;
}

/** Sent from the client to the server: the indices of the steps a filter keeps, ascending. */
export namespace TrajectoryFilterRequest {
  export const method: 'trajlab/trajectory/filter' = 'trajlab/trajectory/filter';
  export const type = new RequestType<TrajectoryFilterParams, { indices: number[] }, void>(method);
}

export interface TrajectorySearchParams {
  handle: string;
  /** Plain text (not a regular expression); case-insensitive unless `caseSensitive`. */
  query: string;
  caseSensitive?: boolean;
  /** Stop after this many hits (default 10,000). */
  maxHits?: number;
}

/** Sent from the client to the server: where a text occurs across all steps, in step order. */
export namespace TrajectorySearchRequest {
  export const method: 'trajlab/trajectory/search' = 'trajlab/trajectory/search';
  export const type = new RequestType<TrajectorySearchParams, { hits: SearchHit[]; truncated: boolean }, void>(method);
}

export interface TrajectoryDiffSidesParams {
  handle: string;
  /** A file of the final diff (its path as the diff names it, b/ side)… */
  file?: string;
  /** …or the edit action `action` of step `step`. */
  step?: number;
  action?: number;
}

/**
 * Sent from the client to the server: the two sides of a diff for VS Code's diff editor. For a
 * file of the final diff the sides are rebuilt from its hunks (context and removed lines /
 * context and added lines, with `…` between hunks): a trajectory records the patch, not the
 * files. For an edit action: the replaced and the new text. Error: no such file or edit.
 */
export namespace TrajectoryDiffSidesRequest {
  export const method: 'trajlab/trajectory/diffSides' = 'trajlab/trajectory/diffSides';
  export const type = new RequestType<TrajectoryDiffSidesParams, { left: string; right: string; title: string }, void>(method);
}

export interface TrajectoryScreenshotParams {
  handle: string;
  /** The browser action `action` of step `step` (0-based). */
  step: number;
  action: number;
}

/**
 * Sent from the client to the server: the screenshot a browser action saved, read from the
 * trajectory's `<trajectory>.assets/` folder and checked there (server/src/inspect/screenshot.ts):
 * its bytes in base64, or why it is not shown (missing, outside the folder, changed since the
 * run, too large). Error: no such step or action, or the action saved no screenshot.
 */
export namespace TrajectoryScreenshotRequest {
  export const method: 'trajlab/trajectory/screenshot' = 'trajlab/trajectory/screenshot';
  export const type = new RequestType<TrajectoryScreenshotParams, ScreenshotResult, void>(method);
}

/** Sent from the client to the server: the inspector closed; the daemon forgets the handle. */
export namespace TrajectoryCloseNotification {
  export const method: 'trajlab/trajectory/close' = 'trajlab/trajectory/close';
  export const type = new NotificationType<{ handle: string }>(method);
}

// ---------------------------------------------------------------------------------------------
// Datasets (common/src/dataset.ts): the Dataset and Compare webviews and the Export… wizard.
// Long requests report `trajlab/dataset/progress` under the caller's `progressToken` and stop
// on $/cancelRequest.

export interface DatasetStatsParams {
  /** Run folders, folders of trajectory files, trajectory files or export manifests (absolute). */
  sources: string[];
  filters?: SelectionFilters;
  /** Include one TrajectoryRow per trajectory (the Dataset webview's table). */
  rows?: boolean;
  progressToken?: string;
}

/** Sent from the client to the server: `trajlab stats` over the sources. */
export namespace DatasetStatsRequest {
  export const method: 'trajlab/dataset/stats' = 'trajlab/dataset/stats';
  export const type = new RequestType<DatasetStatsParams, DatasetStats, void>(method);
}

export interface DatasetCompareParams {
  /** Two run folders (absolute). */
  runA: string;
  runB: string;
  filters?: SelectionFilters;
  progressToken?: string;
}

/** Sent from the client to the server: `trajlab compare A B`. */
export namespace DatasetCompareRequest {
  export const method: 'trajlab/dataset/compare' = 'trajlab/dataset/compare';
  export const type = new RequestType<DatasetCompareParams, RunComparison, void>(method);
}

export interface DatasetExportParams {
  sources: string[];
  /** `out` absolute; `command` is filled in by the daemon. */
  options: ExportOptions;
  progressToken?: string;
}

/** Sent from the client to the server: `trajlab export`; answers once the files and the manifest are written. */
export namespace DatasetExportRequest {
  export const method: 'trajlab/dataset/export' = 'trajlab/dataset/export';
  export const type = new RequestType<DatasetExportParams, ExportResult, void>(method);
}

export interface DatasetQualityParams {
  /** Run folders, folders of trajectory files, trajectory files or export manifests (absolute). */
  sources: string[];
  filters?: SelectionFilters;
  /** Jaccard threshold of the near-duplicate clusters, in (0, 1] (default NEAR_DUPLICATE_THRESHOLD). */
  nearThreshold?: number;
  progressToken?: string;
}

/** Sent from the client to the server: `trajlab report --json` over the sources (the Dataset panel's Quality tab). */
export namespace DatasetQualityRequest {
  export const method: 'trajlab/dataset/quality' = 'trajlab/dataset/quality';
  export const type = new RequestType<DatasetQualityParams, QualityReport, void>(method);
}

/** Sent from the server to the client during a stats / compare / export / quality request that gave a `progressToken`. */
export namespace DatasetProgressNotification {
  export const method: 'trajlab/dataset/progress' = 'trajlab/dataset/progress';
  export const type = new NotificationType<{ token: string; progress: DatasetProgress }>(method);
}
