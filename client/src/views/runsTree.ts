/**
 * The Runs view: the runs under the output folder, newest first, live from the daemon's
 * notifications (refreshes coalesced to at most ~10 per second); each run expands into its
 * attempts with their state and reward. Run folders whose run.json the daemon could not read
 * follow, each with why. A projection of `Ctx.runs`, nothing more.
 */
import * as vscode from 'vscode';
import type { AttemptInfo } from '../../../common/src/protocol';
import type { Ctx } from '../ctx';
import { attemptLabel, attemptStateText, modelCounterLines, runDescription } from '../format';
import { Coalescer } from '../../../common/src/coalesce';
import { attemptIcon, runIcon } from './icons';

/** A run item; commands taking a run accept it (`runId`). */
export interface RunNode {
  kind: 'run';
  runId: string;
}

/** An attempt item; trajectory commands accept it. `trajectoryPath` is '' until the daemon said. */
export interface AttemptNode {
  kind: 'attempt';
  runId: string;
  taskId: string;
  attempt: number;
  trajectoryPath: string;
}

/** A run folder whose run.json could not be read: shown with why, takes no run command. */
export interface UnreadableRunNode {
  kind: 'unreadable';
  runId: string;
  error: string;
}

export type RunsNode = RunNode | AttemptNode | UnreadableRunNode;

/** Least time between two refreshes of the view, ms (≤ 10 per second). */
export const REFRESH_INTERVAL_MS = 100;

/** The `trajlab.runs` tree (see the file comment). */
export class RunsTreeProvider implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly _onDidChangeTreeData = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  private readonly refresher: Coalescer;
  private readonly unsubscribe: () => void;
  /** How many times the view was told to refresh (for the test API). */
  refreshCount = 0;

  constructor(private readonly ctx: Ctx) {
    this.refresher = new Coalescer(REFRESH_INTERVAL_MS, () => {
      this.refreshCount++;
      this._onDidChangeTreeData.fire(undefined);
    }, (err) => ctx.log.error(`Runs view: ${String(err)}`));
    this.unsubscribe = ctx.runs.onChange(() => this.refresher.schedule());
  }

  /** Asks for a refresh (coalesced). */
  refresh(): void {
    this.refresher.schedule();
  }

  async getChildren(node?: RunsNode): Promise<RunsNode[]> {
    if (!node) {
      await this.ctx.whenRunsLoaded();
      const runs: RunsNode[] = this.ctx.runs.list().map((r) => ({ kind: 'run', runId: r.info.run_id }));
      return runs.concat(this.ctx.runs.unreadable().map((u) => ({ kind: 'unreadable', runId: u.run_id, error: u.error })));
    }
    if (node.kind !== 'run') return [];
    let attempts = this.ctx.runs.attempts(node.runId);
    if (!attempts) attempts = await this.ctx.loadAttempts(node.runId).catch((err: Error) => {
      this.ctx.log.warn(`run ${node.runId}: ${err.message}`);
      return undefined;
    });
    return (attempts ?? []).map((a) => attemptNode(node.runId, a));
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    if (node.kind === 'run') return this.runItem(node);
    if (node.kind === 'unreadable') return unreadableItem(node);
    return this.attemptItem(node);
  }

  getParent(node: RunsNode): RunsNode | undefined {
    return node.kind === 'attempt' ? { kind: 'run', runId: node.runId } : undefined;
  }

  dispose(): void {
    this.unsubscribe();
    this.refresher.dispose();
    this._onDidChangeTreeData.dispose();
  }

  private runItem(node: RunNode): vscode.TreeItem {
    const entry = this.ctx.runs.get(node.runId);
    const item = new vscode.TreeItem(node.runId, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `run:${node.runId}`;
    if (!entry) return item;
    const { info } = entry;
    item.description = runDescription(info.status, info.counts, entry.elapsedMs);
    item.iconPath = runIcon(info.status);
    item.contextValue = `run:${info.status}`;
    const o = info.options;
    item.tooltip = [
      `Run ${info.run_id} — ${info.status}`,
      `Tasks file: ${o.tasksFile}`,
      `Model: ${o.model || '(default)'}${o.baseUrl ? ` at ${o.baseUrl}` : ''}`,
      `Workers: ${o.workers} · attempts per task: ${o.attempts}`,
      `Started: ${info.created_at}`,
      info.rejected_lines.length ? `${info.rejected_lines.length} tasks file line(s) rejected` : '',
      ...(info.models?.length ? ['Models:', ...modelCounterLines(info.models).map((line) => `  ${line}`)] : []),
    ]
      .filter(Boolean)
      .join('\n');
    return item;
  }

  private attemptItem(node: AttemptNode): vscode.TreeItem {
    const entry = this.ctx.runs.get(node.runId);
    const a = entry?.attempts?.get(`${node.attempt}\u0000${node.taskId}`);
    const item = new vscode.TreeItem(attemptLabel(node, entry?.info.options.attempts ?? 1), vscode.TreeItemCollapsibleState.None);
    item.id = `attempt:${node.runId}:${node.attempt}:${node.taskId}`;
    if (!a) return item;
    item.description = attemptStateText(a.state);
    item.iconPath = attemptIcon(a.state);
    item.contextValue = a.state.kind === 'queued' ? 'attempt:queued' : 'attempt';
    item.tooltip = `${node.taskId} (attempt ${node.attempt})\n${attemptStateText(a.state)}${a.state.kind === 'failed' ? `\n${a.state.error}` : ''}`;
    if (a.state.kind !== 'queued') item.command = { command: 'trajlab.openTrajectory', title: 'Open trajectory', arguments: [node] };
    return item;
  }
}

function unreadableItem(node: UnreadableRunNode): vscode.TreeItem {
  const item = new vscode.TreeItem(node.runId, vscode.TreeItemCollapsibleState.None);
  item.id = `unreadable:${node.runId}`;
  item.description = `unreadable: ${node.error}`;
  item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
  item.contextValue = 'unreadableRun';
  item.tooltip = `Run ${node.runId} cannot be shown: ${node.error}\nRepair or remove runs/${node.runId}/run.json.`;
  return item;
}

function attemptNode(runId: string, a: AttemptInfo): AttemptNode {
  return { kind: 'attempt', runId, taskId: a.taskId, attempt: a.attempt, trajectoryPath: a.trajectoryPath };
}
