/**
 * The VS Code extension's entry. `activate` registers the views, commands, status bar and
 * progress synchronously and starts the daemon connection in the background (never awaited:
 * activation stays well under 300 ms of the extension's own time). Returns the TrajLabApi
 * (api.ts) that the end-to-end suites use.
 */
import * as vscode from 'vscode';
import { createApi, type TrajLabApi } from './api';
import { registerCommands, type Views } from './commands';
import * as config from './config';
import { Ctx } from './ctx';
import { RESTART_DAEMON, runDaemonAction } from './daemon/daemonActions';
import { registerDataset } from './dataset';
import { registerInspector } from './inspector';
import { RunProgress } from './progress';
import { StatusBar } from './statusBar';
import { HostsTreeProvider } from './views/hostsTree';
import { RunsTreeProvider, type RunsNode } from './views/runsTree';
import { TasksTreeProvider } from './views/tasksTree';
import { TrajectoriesTreeProvider } from './views/trajectoriesTree';

let ctx: Ctx | undefined;

/** Activates the extension; see the file comment. */
export function activate(context: vscode.ExtensionContext): TrajLabApi {
  const started = performance.now();
  ctx = new Ctx(context);
  const c = ctx;
  void vscode.commands.executeCommand('setContext', 'trajlab.daemonState', 'stopped');

  const views: Views = {
    tasks: new TasksTreeProvider(c),
    runs: new RunsTreeProvider(c),
    trajectories: new TrajectoriesTreeProvider(c),
    hosts: new HostsTreeProvider(c),
  };
  const tasksView = vscode.window.createTreeView('trajlab.tasks', { treeDataProvider: views.tasks, showCollapseAll: true });
  const runsView = vscode.window.createTreeView<RunsNode>('trajlab.runs', { treeDataProvider: views.runs, showCollapseAll: true, canSelectMany: true });
  const trajectoriesView = vscode.window.createTreeView('trajlab.trajectories', { treeDataProvider: views.trajectories });
  const hostsView = vscode.window.createTreeView('trajlab.hosts', { treeDataProvider: views.hosts });
  views.trajectories.view = trajectoriesView;
  views.hosts.visible = hostsView.visible;

  const statusBar = new StatusBar(c);
  const progress = new RunProgress(c);
  const inspector = registerInspector(c);
  context.subscriptions.push(
    ...Object.values(views),
    tasksView,
    runsView,
    trajectoriesView,
    hostsView,
    statusBar,
    progress,
    ...registerCommands(c, views),
    ...inspector.disposables,
    ...registerDataset(c).disposables,
    runsView.onDidChangeSelection((e) => {
      const node = e.selection[0];
      if (node) views.trajectories.setScope({ kind: 'run', runId: node.runId });
    }),
    hostsView.onDidChangeVisibility((e) => {
      views.hosts.visible = e.visible;
      if (e.visible) views.hosts.refresh();
    }),
    vscode.workspace.onDidChangeConfiguration((e) => onConfigurationChanged(c, e)),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void c.daemon.restart()),
  );

  // In the background: probe the socket, spawn the daemon if needed, connect.
  void c.daemon.start();
  const activationMs = performance.now() - started;
  c.log.info(`activated in ${activationMs.toFixed(1)} ms`);
  return createApi(c, views, runsView, statusBar, progress, activationMs, inspector.provider);
}

/** Disconnects from the daemon; the daemon and its runs keep going. */
export async function deactivate(): Promise<void> {
  await ctx?.daemon.stop();
  ctx = undefined;
}

function onConfigurationChanged(c: Ctx, e: vscode.ConfigurationChangeEvent): void {
  if (config.RESTART_SETTINGS.some((s) => e.affectsConfiguration(s))) {
    void c.showMessage('info', 'The TrajLab daemon settings changed; restart the daemon connection to use them.', RESTART_DAEMON).then(runDaemonAction);
    return;
  }
  if (e.affectsConfiguration('trajlab.outputFolder') || e.affectsConfiguration('trajlab.defaultImage') || e.affectsConfiguration('trajlab.metrics.port')) {
    void c.daemon.sendSettings().catch((err: Error) => c.log.warn(`sending settings: ${err.message}`));
    if (e.affectsConfiguration('trajlab.outputFolder')) void c.refreshRuns();
  }
}
