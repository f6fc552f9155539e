/**
 * The TrajLab Inspector as a custom editor (`contributes.customEditors`): read-only, one
 * InspectorPanel per editor (several editors of one file are allowed). Two view types share it:
 * `trajlab.inspector`, the default editor of TrajLab trajectories (`*.trajectory.json`, a run's
 * `trajectories/*.json`), and `trajlab.inspector.foreign`, offered by "Open With…" for
 * mini-swe-agent, SWE-agent and ATIF files without replacing their text editor. VS Code restores
 * open inspectors after a window reload by calling `resolveCustomEditor` again with a new panel;
 * the page keeps its own state (selected step, filters, scroll) with setState.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import type { DiffContentProvider } from './diffContentProvider';
import { InspectorPanel } from './inspectorPanel';

/** The inspector's view type (the default editor of TrajLab trajectories); `vscode.openWith` it on any file. */
export const INSPECTOR_VIEW_TYPE = 'trajlab.inspector';
/** The same inspector, offered as an option for foreign trajectory files. */
export const INSPECTOR_FOREIGN_VIEW_TYPE = 'trajlab.inspector.foreign';

/**
 * The view type to open `file` with: the foreign one for the file names its selectors name
 * (package.json: `*.traj.json`, `*.traj`, `trajectory.json`), so VS Code labels the editor by its
 * display name there too; `trajlab.inspector` for everything else (it opens any file when asked
 * by id).
 */
export function inspectorViewTypeFor(file: string): string {
  const name = path.basename(file).toLowerCase();
  return name.endsWith('.traj.json') || name.endsWith('.traj') || name === 'trajectory.json' ? INSPECTOR_FOREIGN_VIEW_TYPE : INSPECTOR_VIEW_TYPE;
}

/** What an inspector editor shows, as the test API reports it. */
export interface InspectorStatus {
  /** Absolute path of the file. */
  file: string;
  kind: 'loading' | 'open' | 'failed';
  /** The failure message the page shows. */
  message?: string;
  taskId?: string;
  steps?: number;
}

/** A file opened in the inspector; holds nothing (each panel opens it in the daemon). */
class InspectorDocument implements vscode.CustomDocument {
  constructor(readonly uri: vscode.Uri) {}
  dispose(): void {}
}

/** The custom editor provider (see the file comment). */
export class InspectorProvider implements vscode.CustomReadonlyEditorProvider<InspectorDocument>, vscode.Disposable {
  private readonly panels = new Set<InspectorPanel>();
  /** Steps to select in the next editor of a file (by fsPath), set by openAt. */
  private readonly pendingSteps = new Map<string, number>();
  private readonly registrations: vscode.Disposable[];

  constructor(
    private readonly ctx: Ctx,
    private readonly diffs: DiffContentProvider,
  ) {
    const options = { webviewOptions: { retainContextWhenHidden: false }, supportsMultipleEditorsPerDocument: true };
    this.registrations = [INSPECTOR_VIEW_TYPE, INSPECTOR_FOREIGN_VIEW_TYPE].map((viewType) => vscode.window.registerCustomEditorProvider(viewType, this, options));
  }

  openCustomDocument(uri: vscode.Uri): InspectorDocument {
    return new InspectorDocument(uri);
  }

  resolveCustomEditor(document: InspectorDocument, panel: vscode.WebviewPanel): void {
    const p = new InspectorPanel(this.ctx, this.diffs, document.uri, panel);
    this.panels.add(p);
    p.onDidDispose(() => this.panels.delete(p));
    const step = this.pendingSteps.get(document.uri.fsPath);
    if (step !== undefined) {
      this.pendingSteps.delete(document.uri.fsPath);
      p.selectStep(step);
    }
  }

  /**
   * Opens `file` (absolute; the caller has checked it may be opened) in the inspector and selects
   * step `step` (0-based; null: none): in the editor it opens, or in the open editors of the file
   * when VS Code reveals one instead. Rejects when VS Code cannot open the editor.
   */
  async openAt(file: string, step: number | null): Promise<void> {
    const uri = vscode.Uri.file(file);
    if (step !== null) this.pendingSteps.set(uri.fsPath, step);
    try {
      await vscode.commands.executeCommand('vscode.openWith', uri, inspectorViewTypeFor(uri.fsPath));
    } finally {
      // No new editor took it: VS Code revealed an open one.
      if (step !== null && this.pendingSteps.get(uri.fsPath) === step) {
        this.pendingSteps.delete(uri.fsPath);
        for (const p of this.panels) if (p.uri.fsPath === uri.fsPath) p.selectStep(step);
      }
    }
  }

  /** The open inspector editors, in opening order. */
  statuses(): InspectorStatus[] {
    return [...this.panels].map((p) => ({ file: p.uri.fsPath, ...p.status }));
  }

  dispose(): void {
    for (const r of this.registrations.splice(0)) r.dispose();
    for (const p of [...this.panels]) p.dispose();
    this.panels.clear();
  }
}
