/**
 * The VS Code webview API (`acquireVsCodeApi`, callable once per page), typed by the messages a
 * panel sends and the state it keeps. A browser test page defines `acquireVsCodeApi` itself
 * (a stub of the host), so the bundle runs the same there.
 */
export interface VsCodeApi<ToHost, State> {
  postMessage(message: ToHost): void;
  getState(): State | undefined;
  setState(state: State): void;
}

declare function acquireVsCodeApi(): VsCodeApi<unknown, unknown>;

let api: VsCodeApi<unknown, unknown> | undefined;

/** The page's VS Code API (acquired on first use). */
export function vscodeApi<ToHost, State>(): VsCodeApi<ToHost, State> {
  api ??= acquireVsCodeApi();
  return api as VsCodeApi<ToHost, State>;
}
