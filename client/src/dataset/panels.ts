/**
 * The Dataset and Compare runs webview panels (viewType `trajlab.dataset`, one bundle:
 * dist/webviews/dataset.js). One panel per source set: opening the same runs again reveals it.
 * A panel asks the daemon for `trajlab/dataset/stats` (with rows) or `trajlab/dataset/compare`,
 * forwards the progress, and answers the page's messages (common/src/webviewMessages.ts):
 * `openTrajectory {row}` opens `stats.rows[row].file` (the page never names a path), `refresh`
 * recomputes, `export` starts the Export… wizard with the panel's sources, `quality` asks the
 * daemon for the quality report (`trajlab/dataset/quality`, the Quality tab; kept until a
 * refresh), and `openStep {file, step}` opens a file that report names (no other) at that step.
 *
 * Panels do not keep their context while hidden (`retainContextWhenHidden: false`): a page that
 * comes back says `ready` again and gets the last result from here, not a recomputation. After a
 * window reload the serializer restores a panel from its page state (DatasetPanelState), using
 * only saved sources that still exist inside the workspace or the output folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TrajectoryRow } from '../../../common/src/dataset';
import { DatasetCompareRequest, DatasetQualityRequest, DatasetStatsRequest } from '../../../common/src/protocol';
import type { QualityReport } from '../../../common/src/qualityReport';
import type { DatasetPanelState, DatasetToHost, HostToDataset } from '../../../common/src/webviewMessages';
import type { Ctx } from '../ctx';
import { makeNonce, webviewHtml } from '../webviewHtml';
import type { DatasetProgressHub } from './progressHub';
import { datasetTitle, isRestorableSource, sourceLabel } from './sources';

/** The webview panel type of both panels (and of their serializer). */
export const DATASET_VIEW_TYPE = 'trajlab.dataset';

/** What a panel shows: the statistics of some sources, or the comparison of two runs (A, B). */
export type PanelSpec = { kind: 'stats'; sources: string[] } | { kind: 'compare'; sources: [string, string] };

/** A host message (both `stats` and `compare` carry their sources, which the page saves for the serializer). */
type HostMessage = HostToDataset;

/** What the test API and the commands can read about an open panel. */
export interface DatasetPanelInfo {
  kind: PanelSpec['kind'];
  sources: string[];
  /** `loading`, `ready` (figures shown) or `failed`. */
  status: 'loading' | 'ready' | 'failed';
  /** Trajectories in the stats (stats panels, once ready). */
  trajectories?: number;
}

/** The open Dataset / Compare panels (see the file comment). */
export class DatasetPanels implements vscode.Disposable {
  private readonly panels = new Map<string, DatasetPanel>();

  constructor(
    private readonly ctx: Ctx,
    private readonly hub: DatasetProgressHub,
  ) {}

  /** Shows the panel of `spec` (revealing the one already open for the same sources). */
  show(spec: PanelSpec): DatasetPanelInfo {
    const key = keyOf(spec);
    const existing = this.panels.get(key);
    if (existing) {
      existing.panel.reveal();
      return existing.info();
    }
    const panel = vscode.window.createWebviewPanel(DATASET_VIEW_TYPE, panelTitle(spec), vscode.ViewColumn.Active, {
      enableScripts: true,
      enableCommandUris: false,
      retainContextWhenHidden: false,
      localResourceRoots: this.resourceRoots(),
    });
    return this.adopt(panel, spec).info();
  }

  /**
   * Restores a panel VS Code kept across a reload from its page state. Sources that are no
   * longer usable (see isRestorableSource) are dropped; with none left the panel says so.
   */
  restore(panel: vscode.WebviewPanel, state: unknown): void {
    const s = state as Partial<DatasetPanelState> | undefined;
    const roots = [...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath), ...(this.ctx.out ? [this.ctx.out] : [])];
    const sources = Array.isArray(s?.sources) ? s.sources.filter((p) => isRestorableSource(p, roots)).map((p) => path.resolve(p)) : [];
    const spec: PanelSpec | undefined =
      s?.kind === 'compare' ? (sources.length === 2 ? { kind: 'compare', sources: [sources[0]!, sources[1]!] } : undefined) : sources.length ? { kind: 'stats', sources } : undefined;
    panel.webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: this.resourceRoots() };
    if (!spec || this.panels.has(keyOf(spec))) {
      // Nothing to show (or a duplicate): a page that says why.
      this.setHtml(panel);
      const sub = panel.webview.onDidReceiveMessage((m: DatasetToHost) => {
        if (m?.type === 'ready') void panel.webview.postMessage({ type: 'failed', message: spec ? 'This dataset is already open in another panel.' : 'The runs of this panel are no longer available. Open them again with "TrajLab: Open dataset".' } satisfies HostToDataset);
      });
      panel.onDidDispose(() => sub.dispose());
      return;
    }
    this.adopt(panel, spec);
  }

  /** The open panels (for the test API). */
  list(): DatasetPanelInfo[] {
    return [...this.panels.values()].map((p) => p.info());
  }

  dispose(): void {
    for (const p of [...this.panels.values()]) p.panel.dispose();
    this.panels.clear();
  }

  private adopt(panel: vscode.WebviewPanel, spec: PanelSpec): DatasetPanel {
    const key = keyOf(spec);
    panel.title = panelTitle(spec);
    this.setHtml(panel);
    const p = new DatasetPanel(this.ctx, this.hub, panel, spec, () => this.panels.delete(key));
    this.panels.set(key, p);
    return p;
  }

  private resourceRoots(): vscode.Uri[] {
    const ext = this.ctx.context.extensionUri;
    return [vscode.Uri.joinPath(ext, 'dist', 'webviews'), vscode.Uri.joinPath(ext, 'media')];
  }

  private setHtml(panel: vscode.WebviewPanel): void {
    const dir = vscode.Uri.joinPath(this.ctx.context.extensionUri, 'dist', 'webviews');
    const css = vscode.Uri.joinPath(dir, 'dataset.css');
    panel.webview.html = webviewHtml({
      cspSource: panel.webview.cspSource,
      nonce: makeNonce(),
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(dir, 'dataset.js')).toString(),
      styleUris: fs.existsSync(css.fsPath) ? [panel.webview.asWebviewUri(css).toString()] : [],
      title: 'TrajLab dataset',
      scriptId: 'trajlab-dataset-script',
    });
  }
}

/** A request of a panel while it is under way (see DatasetPanel.request). */
interface Job {
  cts?: vscode.CancellationTokenSource;
}

type DaemonClient = NonNullable<Awaited<ReturnType<Ctx['requireClient']>>>;

/** One panel and its requests. */
class DatasetPanel {
  private last: HostMessage | undefined;
  private failed: string | undefined;
  private rows: TrajectoryRow[] = [];
  /** The figures' request and the quality report's, each while under way. */
  private readonly figures: Job = {};
  private readonly qualityJob: Job = {};
  /** The quality report (Quality tab) once computed, and the files it names (what `openStep` may open). */
  private quality: QualityReport | undefined;
  private qualityFiles = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly ctx: Ctx,
    private readonly hub: DatasetProgressHub,
    readonly panel: vscode.WebviewPanel,
    private readonly spec: PanelSpec,
    onDispose: () => void,
  ) {
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: DatasetToHost) => this.onMessage(m)),
      panel.onDidDispose(() => {
        this.figures.cts?.cancel();
        this.qualityJob.cts?.cancel();
        for (const d of this.disposables.splice(0)) d.dispose();
        onDispose();
      }),
    );
  }

  info(): DatasetPanelInfo {
    const status = this.failed !== undefined ? 'failed' : this.last ? 'ready' : 'loading';
    return {
      kind: this.spec.kind,
      sources: [...this.spec.sources],
      status,
      trajectories: this.last?.type === 'stats' ? this.last.stats.overall.trajectories : undefined,
    };
  }

  private onMessage(m: DatasetToHost): void {
    if (!m || typeof m !== 'object') return;
    switch (m.type) {
      case 'ready':
        if (this.last) void this.post(this.last);
        else if (this.failed !== undefined) void this.post({ type: 'failed', message: this.failed });
        else if (!this.figures.cts) void this.load();
        break;
      case 'refresh':
        this.quality = undefined;
        this.qualityFiles = new Set();
        this.qualityJob.cts?.cancel();
        void this.load();
        break;
      case 'quality':
        if (this.quality) void this.post({ type: 'quality', report: this.quality });
        else if (!this.qualityJob.cts) void this.loadQuality();
        break;
      case 'openStep': {
        const step = m.step;
        if (typeof m.file !== 'string' || !this.qualityFiles.has(m.file) || !(step === null || (Number.isInteger(step) && step >= 0))) {
          this.ctx.log.warn(`dataset panel: refused to open ${JSON.stringify(m.file)} at step ${JSON.stringify(step)}: not a trajectory of the quality report`);
          return;
        }
        void vscode.commands.executeCommand('trajlab.openTrajectoryAtStep', m.file, step);
        break;
      }
      case 'openTrajectory': {
        const row = Number.isInteger(m.row) ? this.rows[m.row] : undefined;
        if (!row) {
          this.ctx.log.warn(`dataset panel: no trajectory row ${JSON.stringify(m.row)}`);
          return;
        }
        void vscode.commands.executeCommand('trajlab.openTrajectory', row.file);
        break;
      }
      case 'export':
        void vscode.commands.executeCommand('trajlab.exportDataset', { sources: [...this.spec.sources] });
        break;
    }
  }

  /** Asks the daemon for the figures (cancelling a request still under way) and posts progress, then the result or the failure. */
  private async load(): Promise<void> {
    void this.post({ type: 'progress', progress: { phase: 'list', done: 0, total: 0, kept: 0, dropped: 0 } });
    await this.request(
      this.figures,
      '',
      async (client, token, progressToken): Promise<HostMessage> => {
        if (this.spec.kind === 'stats') {
          const stats = await client.sendRequest(DatasetStatsRequest.type, { sources: this.spec.sources, rows: true, progressToken }, token);
          this.rows = stats.rows ?? [];
          return { type: 'stats', title: datasetTitle(this.spec.sources), sources: this.spec.sources, stats };
        }
        const [runA, runB] = this.spec.sources;
        const comparison = await client.sendRequest(DatasetCompareRequest.type, { runA, runB, progressToken }, token);
        return { type: 'compare', title: `Compare runs: ${comparison.a.label} → ${comparison.b.label}`, comparison, sources: [runA, runB] };
      },
      (message) => {
        this.last = message;
        this.failed = undefined;
        void this.post(message);
      },
      (text) => {
        this.failed = text;
        this.last = undefined;
        void this.post({ type: 'failed', message: text });
      },
    );
  }

  /** Asks the daemon for the quality report of the panel's sources and posts it (or `qualityFailed`). */
  private async loadQuality(): Promise<void> {
    await this.request(
      this.qualityJob,
      'quality ',
      (client, token, progressToken) => client.sendRequest(DatasetQualityRequest.type, { sources: this.spec.sources, progressToken }, token),
      (report) => {
        this.quality = report;
        this.qualityFiles = qualityFilesOf(report);
        void this.post({ type: 'quality', report });
      },
      (text) => void this.post({ type: 'qualityFailed', message: text }),
    );
  }

  /**
   * One daemon request of kind `job` (a newer one cancels the one under way): its progress is
   * posted, then `done` gets the answer, or `failed` a message for the user (also logged). A
   * cancelled or superseded request calls neither.
   */
  private async request<T>(job: Job, label: string, ask: (client: DaemonClient, token: vscode.CancellationToken, progressToken: string) => Promise<T>, done: (r: T) => void, failed: (text: string) => void): Promise<void> {
    job.cts?.cancel();
    const cts = new vscode.CancellationTokenSource();
    job.cts = cts;
    const progress = this.hub.listen((p) => {
      if (job.cts === cts) void this.post({ type: 'progress', progress: p });
    });
    try {
      const client = await this.ctx.requireClient();
      if (!client) throw new Error('The TrajLab daemon is not running; restart it ("TrajLab: Restart daemon") and press Refresh.');
      const result = await ask(client, cts.token, progress.token);
      if (job.cts === cts) done(result);
    } catch (err) {
      if (job.cts !== cts || cts.token.isCancellationRequested) return;
      const text = (err as Error)?.message ?? String(err);
      this.ctx.log.warn(`dataset panel ${label}(${this.spec.sources.join(', ')}): ${text}`);
      failed(text);
    } finally {
      progress.dispose();
      if (job.cts === cts) job.cts = undefined;
      cts.dispose();
    }
  }

  private post(m: HostMessage): Thenable<boolean> {
    return this.panel.webview.postMessage(m);
  }
}

/** Every trajectory file a quality report names (its links). */
export function qualityFilesOf(r: QualityReport): Set<string> {
  const files = new Set<string>();
  for (const f of Object.values(r.flags)) for (const e of f.examples) files.add(e.file);
  for (const c of r.near_duplicates.largest) for (const t of [c.kept, ...c.members]) files.add(t.file);
  for (const rule of Object.values(r.secrets?.rules ?? {})) for (const e of rule.examples) files.add(e.file);
  for (const e of r.tampered) files.add(e.file);
  return files;
}

function keyOf(spec: PanelSpec): string {
  return spec.kind === 'compare' ? `compare\0${spec.sources.join('\0')}` : `stats\0${[...spec.sources].sort().join('\0')}`;
}

function panelTitle(spec: PanelSpec): string {
  return spec.kind === 'compare' ? `Compare: ${sourceLabel(spec.sources[0])} → ${sourceLabel(spec.sources[1])}` : datasetTitle(spec.sources);
}
