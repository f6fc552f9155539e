/**
 * One inspector editor: the webview page and the messages between it and the daemon
 * (common/src/webviewMessages.ts). The page posts `ready` each time it loads (the webview is
 * not retained while hidden, so showing it again loads it again; it keeps its own state with
 * setState); the panel answers `open` with the header, or `failed` with a message for the user
 * (unknown format, invalid JSON, daemon not running). Page requests go to the daemon with the
 * handle added (TrajectoryHandle); the toolbar actions (diff, replay, export, open as text) run
 * here. The file is reopened when it changes on disk (at most once a second) and when the daemon
 * comes back after the panel failed for want of one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { HostToInspector, InspectorToHost } from '../../../common/src/webviewMessages';
import type { Ctx } from '../ctx';
import { Coalescer } from '../../../common/src/coalesce';
import { makeNonce, webviewHtml } from '../webviewHtml';
import type { DiffContentProvider } from './diffContentProvider';
import { exportTrajectory } from './exportTrajectory';
import { parseInspectorMessage } from './inspectorMessages';
import { replayArgs } from './replay';
import { DaemonNotRunningError, TrajectoryHandle } from './trajectoryHandle';

/** Least time between two reopenings after changes on disk (a running attempt rewrites its file after every step), ms. */
const RELOAD_INTERVAL_MS = 1000;

/** What the panel shows: loading, the open trajectory, or a failure message. */
type PanelState = { kind: 'loading' } | { kind: 'open' } | { kind: 'failed'; message: string; daemonDown: boolean };

/** The inspector in one webview panel (see the file comment); disposed with the panel. */
export class InspectorPanel implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly trajectory: TrajectoryHandle;
  private readonly reloads: Coalescer;
  private state: PanelState = { kind: 'loading' };
  private loading: Promise<void> | undefined;
  private reloadAgain = false;
  private pageReady = false;
  private disposed = false;
  /** A step to select once the page shows the trajectory (selectStep). */
  private pendingStep: number | undefined;
  private readonly _onDidDispose = new vscode.EventEmitter<void>();
  /** Fires once, when the panel is closed or the extension deactivates. */
  readonly onDidDispose = this._onDidDispose.event;

  /** `uri`: the trajectory file; `panel`: the webview panel VS Code made for this editor. */
  constructor(
    private readonly ctx: Ctx,
    private readonly diffs: DiffContentProvider,
    readonly uri: vscode.Uri,
    readonly panel: vscode.WebviewPanel,
  ) {
    this.trajectory = new TrajectoryHandle(ctx, uri.fsPath);
    this.reloads = new Coalescer(RELOAD_INTERVAL_MS, () => void this.reload(), (err) => ctx.log.error(`inspector: ${String(err)}`));
    const extension = ctx.context.extensionUri;
    const webviewsDir = vscode.Uri.joinPath(extension, 'dist', 'webviews');
    panel.webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: [webviewsDir, vscode.Uri.joinPath(extension, 'media')] };
    const css = path.join(webviewsDir.fsPath, 'trajectory.css');
    panel.webview.html = webviewHtml({
      cspSource: panel.webview.cspSource,
      nonce: makeNonce(),
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(webviewsDir, 'trajectory.js')).toString(),
      styleUris: fs.existsSync(css) ? [panel.webview.asWebviewUri(vscode.Uri.file(css)).toString()] : [],
      title: `TrajLab Inspector: ${path.basename(uri.fsPath)}`,
    });

    this.disposables.push(
      this._onDidDispose,
      panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m)),
      panel.onDidDispose(() => this.dispose()),
      ctx.daemon.onDidChangeState((s) => {
        if (s.kind === 'running' && this.state.kind === 'failed' && this.state.daemonDown) this.reloads.schedule();
      }),
    );
    if (uri.scheme === 'file') {
      // Watch the folder and filter by path: a file name is no glob (it may hold `[`, `{`, `*`).
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(uri.fsPath)), '*'));
      const onChange = (changed: vscode.Uri) => {
        if (changed.fsPath === uri.fsPath) this.reloads.schedule();
      };
      this.disposables.push(watcher, watcher.onDidChange(onChange), watcher.onDidCreate(onChange), watcher.onDidDelete(onChange));
      void this.reload();
    } else {
      this.state = { kind: 'failed', message: `The TrajLab Inspector opens files on disk, not ${uri.scheme}: documents.`, daemonDown: false };
    }
  }

  /** What the page was last told (for tests and logs). */
  get status(): { kind: PanelState['kind']; message?: string; taskId?: string; steps?: number } {
    const header = this.trajectory.header;
    if (this.state.kind === 'failed') return { kind: 'failed', message: this.state.message };
    if (this.state.kind === 'open' && header) return { kind: 'open', taskId: header.taskId, steps: header.totals.steps };
    return { kind: this.state.kind };
  }

  /** Selects step `index` (0-based) in the page: now if it shows the trajectory, else once it does. */
  selectStep(index: number): void {
    this.pendingStep = index;
    this.postStep();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.reloads.dispose();
    this.trajectory.dispose();
    this._onDidDispose.fire();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  // ---- loading --------------------------------------------------------------------------

  /** Opens the file in the daemon (again) and tells the page; a change during a load loads once more after it. */
  private async reload(): Promise<void> {
    if (this.loading) {
      this.reloadAgain = true;
      return this.loading;
    }
    this.loading = this.load().finally(() => {
      this.loading = undefined;
      if (this.reloadAgain && !this.disposed) {
        this.reloadAgain = false;
        this.reloads.schedule();
      }
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    const file = this.uri.fsPath;
    try {
      if (!fs.existsSync(file)) throw new Error(`${file} does not exist (deleted or moved).`);
      await this.trajectory.open();
      this.state = { kind: 'open' };
    } catch (err) {
      let message = (err as Error)?.message ?? String(err);
      const daemonDown = err instanceof DaemonNotRunningError;
      // The importer's messages start with the path; the panel already names the file.
      if (message.startsWith(`${file}: `)) message = message.slice(file.length + 2);
      this.state = { kind: 'failed', message: daemonDown ? message : `Cannot show ${path.basename(file)} in the TrajLab Inspector: ${message}`, daemonDown };
      this.ctx.log.warn(`inspector: ${file}: ${message}`);
    }
    if (this.disposed) return;
    this.postState();
  }

  /** Posts `open` or `failed` to a page that said `ready` (nothing while still loading). */
  private postState(): void {
    if (!this.pageReady) return;
    const header = this.trajectory.header;
    if (this.state.kind === 'open' && header) this.post({ type: 'open', header });
    else if (this.state.kind === 'failed') this.post({ type: 'failed', message: this.state.message });
    this.postStep();
  }

  /** Posts the pending step to a page that shows the trajectory. */
  private postStep(): void {
    if (this.pendingStep === undefined || !this.pageReady || this.state.kind !== 'open') return;
    this.post({ type: 'selectStep', index: this.pendingStep });
    this.pendingStep = undefined;
  }

  // ---- messages -------------------------------------------------------------------------

  private onMessage(raw: unknown): void {
    const parsed = parseInspectorMessage(raw);
    if (!parsed.ok) {
      this.ctx.log.warn(`inspector: refused a webview message: ${parsed.error}`);
      if (parsed.id !== undefined) this.post({ type: 'response', id: parsed.id, error: parsed.error });
      return;
    }
    void this.handle(parsed.message).catch((err: Error) => {
      this.ctx.log.error(`inspector: ${parsed.message.type}: ${err?.message ?? String(err)}`);
      this.post({ type: 'notice', message: err?.message ?? String(err) });
    });
  }

  private async handle(m: InspectorToHost): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.pageReady = true;
        this.postState();
        return;
      case 'request': {
        try {
          const result = await this.trajectory.request(m.method, m.params);
          this.post({ type: 'response', id: m.id, result });
        } catch (err) {
          this.post({ type: 'response', id: m.id, error: (err as Error)?.message ?? String(err) });
        }
        return;
      }
      case 'openDiff': {
        const sides = await this.trajectory.diffSides(m.file !== undefined ? { file: m.file } : { step: m.step, action: m.action });
        // The documents' name only picks a language mode: the diff's file name, or none for an edit.
        const uris = this.diffs.add(sides.left, sides.right, m.file ?? `step-${m.step ?? 0}.action-${m.action ?? 0}`);
        await vscode.commands.executeCommand('vscode.diff', uris.left, uris.right, sides.title, { preview: true });
        return;
      }
      case 'replay': {
        const header = this.trajectory.header;
        if (!header) throw new Error('the trajectory is not open');
        const args = await replayArgs(this.uri.fsPath, header);
        const runId = await vscode.commands.executeCommand<string | undefined>('trajlab.generateTrajectories', args);
        this.post({ type: 'notice', message: runId ? `Replay started: run ${runId} (see the Runs view).` : 'The replay did not start (see the notification).' });
        return;
      }
      case 'export': {
        const out = await exportTrajectory(this.ctx, this.uri.fsPath, this.trajectory.header);
        if (out) this.post({ type: 'notice', message: `Exported to ${out}.` });
        return;
      }
      case 'openAsText':
        await vscode.commands.executeCommand('vscode.openWith', this.uri, 'default', this.panel.viewColumn);
        return;
    }
  }

  private post(message: HostToInspector): void {
    if (this.disposed) return;
    void this.panel.webview.postMessage(message).then(undefined, (err: Error) => this.ctx.log.warn(`inspector: postMessage: ${err.message}`));
  }
}
