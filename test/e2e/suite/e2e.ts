/**
 * What the e2e suites use inside VS Code's extension host, besides the `vscode` API:
 * - `e2eEnv`: where the runner's helpers are (scripted model server, artifacts folder);
 * - `ui`: real user input on the workbench through the runner's Playwright page (command
 *   palette, quick picks, Notifications center, views, screenshots), over the bridge
 *   (test/e2e/bridgeProtocol.ts);
 * - `reloadWindow` / `resumedData`: a test that reloads the window and continues afterwards;
 * - `activationTimes`: the extension host's own activation times of an extension;
 * - `waitFor`: bounded polling.
 * Environment variables: test/e2e/README.md.
 */
import type { Context } from 'mocha';
import * as vscode from 'vscode';
import type { BridgeMethod, BridgeMethods } from '../bridgeProtocol';
import { persistent, readJournal, reloadState, updateJournal } from './journal';

export const EXTENSION_ID = 'trajlab.trajlab';

/** The environment the runner gives the suites (undefined where a runner does not provide it). */
export const e2eEnv = {
  /** `http://127.0.0.1:<port>/v1` of the scripted model server that solves the fixture tasks. */
  modelBaseUrl: process.env.TRAJLAB_E2E_MODEL_BASE_URL,
  /** Model spec to run with (`openai:scripted`). */
  model: process.env.TRAJLAB_E2E_MODEL,
  /** The API key to give TrajLab (through its command or settings), never to be found in a file. */
  apiKey: process.env.TRAJLAB_E2E_API_KEY,
  /** Folder for the suites' own artefacts (kept after the run). */
  artifacts: process.env.TRAJLAB_E2E_ARTIFACTS,
  /** `dev` (extension from the repository) or `vsix` (the packaged extension, installed). */
  mode: (process.env.TRAJLAB_E2E_MODE ?? 'dev') as 'dev' | 'vsix',
};

/** The workspace folder the tests run in (a fresh copy of test/e2e/workspace + examples/). */
export function workspaceFolder(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the e2e tests need a workspace folder open');
  return folder.uri;
}

// ---------------------------------------------------------------------------------------------
// The bridge to the runner's browser page

const BRIDGE_URL = process.env.TRAJLAB_E2E_BRIDGE_URL;

/** True when a runner with a browser page drives this window (the code-server runner). */
export const uiAvailable = !!BRIDGE_URL;

async function call<M extends BridgeMethod>(method: M, params: BridgeMethods[M]['params'], timeoutMs = 180_000): Promise<BridgeMethods[M]['result']> {
  if (!BRIDGE_URL) throw new Error(`ui.${method} needs the code-server runner (test/e2e/run.ts); skip UI tests with requireUi(this)`);
  const res = await fetch(`${BRIDGE_URL}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as { result?: BridgeMethods[M]['result']; error?: string };
  if (!res.ok) throw new Error(`ui.${method}(${JSON.stringify(params)}): ${body.error ?? res.statusText}`);
  return body.result as BridgeMethods[M]['result'];
}

/** Skips the current test when no runner drives the UI (e.g. under @vscode/test-electron). */
export function requireUi(ctx: Context): void {
  if (!uiAvailable) ctx.skip();
}

/** User input on the workbench, performed by the runner with Playwright. See BridgeMethods for each. */
export const ui = {
  runCommand: (title: string, timeoutMs?: number) => call('runCommand', { title, timeoutMs }),
  quickPickItems: () => call('quickPickItems', {}),
  quickPickSelect: (label: string, timeoutMs?: number) => call('quickPickSelect', { label, timeoutMs }),
  quickInputType: (text: string, submit?: boolean, timeoutMs?: number, title?: string) => call('quickInputType', { text, submit, timeoutMs, title }),
  quickPickAccept: (title: string, timeoutMs?: number) => call('quickPickAccept', { title, timeoutMs }),
  pressKey: (key: string) => call('pressKey', { key }),
  notifications: () => call('notifications', {}),
  clickNotificationButton: (message: string, button: string, timeoutMs?: number) => call('clickNotificationButton', { message, button, timeoutMs }),
  openViewContainer: (title: string) => call('openViewContainer', { title }),
  viewRows: (view: string, timeoutMs?: number) => call('viewRows', { view, timeoutMs }),
  collapseView: (view: string, timeoutMs?: number) => call('collapseView', { view, timeoutMs }),
  viewRowContextMenu: (view: string, row: string, item: string, timeoutMs?: number) => call('viewRowContextMenu', { view, row, item, timeoutMs }),
  webviewText: (selector: string, contains?: string, timeoutMs?: number) => call('webviewText', { selector, contains, timeoutMs }),
  webviewClick: (selector: string, contains?: string, timeoutMs?: number) => call('webviewClick', { selector, contains, timeoutMs }),
  screenshot: (name: string, visible?: string, timeoutMs?: number) => call('screenshot', { name, visible, timeoutMs }),
  modelRequests: () => call('modelRequests', {}),
  modelDelay: (ms: number) => call('modelDelay', { ms }),
};

// ---------------------------------------------------------------------------------------------
// Window reloads

/**
 * Reloads the window from inside a test and never returns: the reload ends this extension
 * host. The reloaded window runs the suites again; tests that finished are skipped, and this
 * test runs again from its start, where `resumedData(this)` returns `data`. Hooks of its suite
 * run again too (`suiteSetup` before it; `suiteTeardown` did not run before the reload).
 *
 *   test('a run survives a reload', async function () {
 *     const resumed = resumedData<{ runId: string }>(this);
 *     if (!resumed) {
 *       const runId = await startRun();
 *       await reloadWindow(this, { runId });
 *     }
 *     // second half, in the reloaded window: resumed.runId
 *   });
 *
 * `data` must be JSON. Needs the code-server runner (TRAJLAB_E2E_STATE); the test's timeout
 * still applies, across the reload.
 */
export async function reloadWindow(ctx: Context, data: unknown = null): Promise<never> {
  if (!persistent) throw new Error('reloadWindow needs the code-server runner (TRAJLAB_E2E_STATE is not set)');
  const test = ctx.test?.fullTitle();
  if (!test) throw new Error('reloadWindow must be called from inside a test');
  updateJournal((j) => {
    j.resume = { test, data };
  });
  const state = reloadState();
  state.reloading = true;
  state.onReload?.();
  // The command may settle either way while the window unloads; what matters is that this
  // extension host ends. If it is still here after a minute, the reload did not happen.
  void Promise.resolve(vscode.commands.executeCommand('workbench.action.reloadWindow')).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 60_000));
  // The window did reload, but this extension host outlived it (code-server under load can take
  // more than a minute to shut an old one down): it must not touch the journal the new window
  // now owns, nor report anything.
  if (state.load !== undefined && readJournal().loads > state.load) return new Promise<never>(() => undefined);
  state.reloading = false;
  state.muted = false;
  updateJournal((j) => {
    j.resume = undefined;
  });
  throw new Error('the window did not reload within 60 s of workbench.action.reloadWindow');
}

/** In the second half of a test that called `reloadWindow`: the data it left; otherwise undefined. */
export function resumedData<T>(ctx: Context): T | undefined {
  const resume = readJournal().resume;
  return resume && resume.test === ctx.test?.fullTitle() ? (resume.data as T) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Activation times

/** An extension's activation times as the extension host measured them, ms. */
export interface ActivationTimes {
  /** Loading the extension's main module. */
  codeLoadingMs: number;
  /** The synchronous part of `activate()`. */
  activateCallMs: number;
  /** From `activate()` returning until its promise resolved. */
  activateResolvedMs: number;
  /** Activated at start-up (`*`, `workspaceContains:…`) rather than on demand. */
  eager: boolean;
  /** The activation event, e.g. `workspaceContains:**∕tasks.jsonl`. */
  event: string;
}

/**
 * The activation times the extension host reported for `extensionId`, read from VS Code's
 * "Developer: Startup Performance" document (`perf:Startup Performance`, table "Extension
 * Activation Stats", columns Load Code / Call Activate / Finish Activate — the same
 * `ActivationTimes` that "Developer: Show Running Extensions" shows). Waits until the
 * extension appears there (the document fills in once the window has settled).
 * Throws after `timeoutMs` with the document's text. The document says "Loading..." until the
 * workbench's startup metrics are complete; the wait bounds that, it is not what is measured.
 */
export async function activationTimes(extensionId: string, timeoutMs = 60_000): Promise<ActivationTimes> {
  const uri = vscode.Uri.from({ scheme: 'perf', path: 'Startup Performance' });
  let doc: vscode.TextDocument;
  let shown = false;
  try {
    doc = await vscode.workspace.openTextDocument(uri);
  } catch {
    // The document's provider is registered lazily, by the first "Developer: Startup Performance".
    // Its editor stays open until the table is read: closed at once, the page's model could go
    // and this copy of the document would keep saying "Loading...".
    await vscode.commands.executeCommand('perfview.show');
    shown = true;
    doc = await vscode.workspace.openTextDocument(uri);
  }
  try {
    return await waitFor(`activation times of ${extensionId} in "Startup Performance"`, () => parseActivationRow(doc.getText(), extensionId), timeoutMs, 250);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- perf:Startup Performance ---\n${doc.getText().slice(0, 4000)}`);
  } finally {
    // Closed again (it would be restored after a reload).
    if (shown) {
      const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputText && t.input.uri.scheme === 'perf');
      await vscode.window.tabGroups.close(tabs);
    }
  }
}

function parseActivationRow(markdown: string, extensionId: string): ActivationTimes | undefined {
  const section = markdown.split(/^#+ /m).find((s) => s.startsWith('Extension Activation Stats'));
  if (!section) return undefined;
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // | Extension | Eager | Load Code | Call Activate | Finish Activate | Event | By |
    if (cells.length < 8 || cells[1]?.toLowerCase() !== extensionId.toLowerCase()) continue;
    const [codeLoadingMs, activateCallMs, activateResolvedMs] = [cells[3], cells[4], cells[5]].map(Number);
    if ([codeLoadingMs, activateCallMs, activateResolvedMs].some((n) => !Number.isFinite(n))) continue;
    return { codeLoadingMs: codeLoadingMs!, activateCallMs: activateCallMs!, activateResolvedMs: activateResolvedMs!, eager: cells[2] === 'true', event: cells[6] ?? '' };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------

/** Polls `check` every `intervalMs` until it returns a truthy value; throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
