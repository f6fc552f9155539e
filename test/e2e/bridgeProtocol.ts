/**
 * The messages between the e2e suites (in VS Code's extension host) and the runner (a Node
 * process outside VS Code that owns the browser page and the helper servers). The suites call
 * the runner over HTTP: `POST <TRAJLAB_E2E_BRIDGE_URL>/<method>` with the params as a JSON
 * body; the answer is `{ result }` (200) or `{ error }` (500). Types only: imported by
 * test/e2e/bridge.ts (runner side) and test/e2e/suite/e2e.ts (extension host side).
 */

/** One row of a tree or list, as the workbench renders it. */
export interface UiRow {
  /** The row's visible text (label, description), lines joined with " / ". */
  text: string;
  /** The row's aria-label (usually label + description + tooltip). */
  ariaLabel: string;
  /** Tree depth, 1-based (`aria-level`); 0 for flat lists. */
  level: number;
  /** `true` / `false` for expandable rows, undefined for leaves. */
  expanded?: boolean;
}

/** One entry of the Notifications center. */
export interface UiNotification {
  message: string;
  /** "Source: …" line, e.g. the extension's display name. */
  source: string;
  buttons: string[];
  /** The entry shows a progress bar (a `withProgress` notification that has not ended). */
  progress: boolean;
}

/** A request the scripted model server answered (test/helpers/scriptedModelServer.ts). */
export interface ModelRequestSummary {
  callIndex: number;
  /** First 200 characters of the task prompt. */
  prompt: string;
  step: number;
  conversation: number;
  status: number;
  model: string;
  /** The `Authorization` header as sent (tests check that the key reaches the model). */
  authorization?: string;
}

/** Every bridge method: its params and its result. */
export interface BridgeMethods {
  /** Runs a command from the command palette (F1), by its title as shown ("TrajLab: Generate trajectories"); retries until the command is registered. Does not wait for the command to finish. */
  runCommand: { params: { title: string; timeoutMs?: number }; result: null };
  /** The items of the open quick pick / quick input. */
  quickPickItems: { params: Record<string, never>; result: string[] };
  /** Picks the first item of the open quick pick whose text contains `label` (waits for it), like a click. */
  quickPickSelect: { params: { label: string; timeoutMs?: number }; result: null };
  /** Types into the open quick input (replacing its value; with `title`, the one whose title contains it) and, unless `submit` is false, presses Enter. */
  quickInputType: { params: { text: string; submit?: boolean; timeoutMs?: number; title?: string }; result: null };
  /** Presses a key on the page (Playwright key names: "Escape", "Enter", "Control+S"). */
  quickPickAccept: { params: { title: string; timeoutMs?: number }; result: null };
  pressKey: { params: { key: string }; result: null };
  /** The entries of the Notifications center (opened, read, closed again). */
  notifications: { params: Record<string, never>; result: UiNotification[] };
  /** Clicks a button of the first notification whose message contains `message`. */
  clickNotificationButton: { params: { message: string; button: string; timeoutMs?: number }; result: null };
  /** Opens a view container of the activity bar by its title ("Explorer", "TrajLab"). */
  openViewContainer: { params: { title: string }; result: null };
  /** The visible rows of a view, found by the title of its pane header ("Runs"). */
  viewRows: { params: { view: string; timeoutMs?: number }; result: UiRow[] };
  /** Collapses the pane of a view, found by the title of its pane header ("Hosts"). */
  collapseView: { params: { view: string; timeoutMs?: number }; result: null };
  /** Right-clicks the first row of a view whose text contains `row` and clicks its context menu entry `item` ("Drain"). */
  viewRowContextMenu: { params: { view: string; row: string; item: string; timeoutMs?: number }; result: null };
  /**
   * The rendered text (innerText) of the first element matching `selector` in a webview's page
   * (the extension's HTML, inside VS Code's webview iframes) whose text contains `contains`
   * (any, when not given); waits for one. Errors say what the webviews showed.
   */
  webviewText: { params: { selector: string; contains?: string; timeoutMs?: number }; result: string };
  /** Clicks the first element matching `selector` in a webview's page whose text contains `contains` (waits for it). */
  webviewClick: { params: { selector: string; contains?: string; timeoutMs?: number }; result: null };
  /**
   * Saves a screenshot of the whole window as `<artifacts>/screenshots/<name>.png`; returns its
   * path. With `visible` (a Playwright selector of the workbench page), once that element shows.
   */
  screenshot: { params: { name: string; visible?: string; timeoutMs?: number }; result: string };
  /** Requests the scripted model server answered so far. */
  modelRequests: { params: Record<string, never>; result: ModelRequestSummary[] };
  /** Delay before each scripted model reply from now on, ms (slow runs to cancel or reload during). */
  modelDelay: { params: { ms: number }; result: null };
}

export type BridgeMethod = keyof BridgeMethods;
