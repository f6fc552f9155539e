/**
 * Messages between the extension and its webviews (postMessage), as typed unions. Each webview
 * starts with `{type: 'ready'}`; the extension answers with the panel's content. Webviews import
 * only types from common/src.
 *
 * Nothing a webview sends is used as a path or a command line: it names things by index or by
 * the handle the extension gave it, and the extension looks them up.
 */
import type { DatasetProgress, DatasetStats, RunComparison } from './dataset';
import type { QualityReport } from './qualityReport';
import type { ScreenshotResult, SearchHit, StepDetail, StepFilter, StepRow, TrajectoryHeader } from './inspector';

// ---------------------------------------------------------------------------------------------
// The trajectory inspector (custom editor `trajlab.inspector`).

/**
 * Requests the inspector sends; the extension adds the handle and forwards each to the daemon
 * as `trajlab/trajectory/<method>` (protocol.ts), so the webview gets pages, never the file.
 */
export interface InspectorRequests {
  steps: { params: { start?: number; count?: number; indices?: number[] }; result: { rows: StepRow[]; total: number } };
  step: { params: { index: number; clip?: number }; result: StepDetail };
  filter: { params: { filter: StepFilter }; result: { indices: number[] } };
  search: { params: { query: string; caseSensitive?: boolean; maxHits?: number }; result: { hits: SearchHit[]; truncated: boolean } };
  /** The screenshot of browser action `action` of step `step` (asked for the step shown only). */
  screenshot: { params: { step: number; action: number }; result: ScreenshotResult };
}
export type InspectorMethod = keyof InspectorRequests;

export type InspectorToHost =
  | { type: 'ready' }
  | { [M in InspectorMethod]: { type: 'request'; id: number; method: M; params: InspectorRequests[M]['params'] } }[InspectorMethod]
  /** Open VS Code's diff editor on a file of the final diff (its path as the diff names it) or on one edit action. */
  | { type: 'openDiff'; file?: string; step?: number; action?: number }
  /** "Replay in a fresh container" (the engine's `replay:` policy). */
  | { type: 'replay' }
  /** "Export this trajectory…" (the datasets' formats). */
  | { type: 'export' }
  /** Reopen the file in the text editor. */
  | { type: 'openAsText' };

export type HostToInspector =
  /** The trajectory is open (sent after `ready`, and again when the file changes on disk). */
  | { type: 'open'; header: TrajectoryHeader }
  /** The file cannot be shown (unknown format, invalid JSON, daemon down): a message for the user. */
  | { type: 'failed'; message: string }
  | { type: 'response'; id: number; result?: unknown; error?: string }
  /** A short status line (replay started, export written…). */
  | { type: 'notice'; message: string }
  /** Select step `index` (0-based) and show it (a quality report's link, "open at step"); sent after `open`. */
  | { type: 'selectStep'; index: number };

/** What the inspector keeps in webview state (survives hiding the panel and a window reload). */
export interface InspectorState {
  selectedStep: number | null;
  filter: StepFilter;
  query: string;
  scrollTop: number;
  diffLayout: 'side-by-side' | 'line-by-line';
  /** Which tab of the lower pane is shown. */
  tab: 'step' | 'diff' | 'task';
}

// ---------------------------------------------------------------------------------------------
// The Dataset and Compare runs webviews.

export type DatasetToHost =
  | { type: 'ready' }
  /** Open row `row` of the stats' trajectory table in the inspector. */
  | { type: 'openTrajectory'; row: number }
  | { type: 'refresh' }
  /** Start the Export… wizard with this panel's sources. */
  | { type: 'export' }
  /** Compute the quality report of this panel's sources (the Quality tab), or again. */
  | { type: 'quality' }
  /**
   * Open `file` at `step` in the inspector (a link of the Quality tab). The host opens it only if
   * the last quality report it sent names that file.
   */
  | { type: 'openStep'; file: string; step: number | null };

export type HostToDataset =
  | { type: 'stats'; title: string; sources: string[]; stats: DatasetStats }
  | { type: 'compare'; title: string; sources: string[]; comparison: RunComparison }
  | { type: 'progress'; progress: DatasetProgress }
  | { type: 'failed'; message: string }
  /** The quality report (answers `quality`). */
  | { type: 'quality'; report: QualityReport }
  /** The quality report could not be computed: a message for the user. */
  | { type: 'qualityFailed'; message: string };

/** What the Dataset / Compare panels keep in webview state (and their serializer restores from). */
export interface DatasetPanelState {
  kind: 'stats' | 'compare';
  sources: string[];
  /** The tab shown in a stats panel (default `stats`). */
  tab?: 'stats' | 'quality';
  sortBy?: string;
  sortDescending?: boolean;
}
