/**
 * The `trajlab.*` commands, one factory per command (rust-analyzer's commands.ts):
 * `(ctx, views) => handler`. Commands that need the daemon say "TrajLab daemon is not running"
 * (Ctx.requireClient) instead of throwing; other errors are shown, logged and recorded for the
 * test API (`lastCommandError`), and the command returns undefined.
 *
 * Arguments: commands taking a run accept a Runs/Trajectories tree item, `{runId}` or a run id
 * string; task commands accept a task item or `{tasksFile, taskId}` (what the CodeLens passes);
 * `trajlab.generateTrajectories` accepts a GenerateArgs object (runOptions.ts) and then shows
 * no UI, or a tasks file (tree item or Uri) to preselect.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RunCancelRequest, RunPlanRerunRequest, TasksReadRequest } from '../../common/src/protocol';
import { oneLine } from '../../common/src/format';
import type { RunInfo } from '../../common/src/run';
import { providerOf } from '../../common/src/settings';
import * as config from './config';
import type { Ctx } from './ctx';
import { inspectorViewTypeFor } from './inspector/inspectorProvider';
import { isRunId, runDir, runIdOf, taskRefOf, type TaskRef } from './refs';
import { buildRunOptions, parseGenerateArgs, resumeOptions, type GenerateArgs } from './runOptions';
import { askRunSettings } from './runSettingsWizard';
import { importTasks as importTasksCommand } from './importTasks';
import { ApiKeyStore } from './secrets';
import { TRAJECTORY_SORTS, type TrajectorySort } from './trajectories';
import type { HostNode, HostsTreeProvider } from './views/hostsTree';
import type { RunsTreeProvider } from './views/runsTree';
import type { TasksTreeProvider } from './views/tasksTree';
import type { TrajectoriesTreeProvider } from './views/trajectoriesTree';

/** The tree providers commands act on. */
export interface Views {
  tasks: TasksTreeProvider;
  runs: RunsTreeProvider;
  trajectories: TrajectoriesTreeProvider;
  hosts: HostsTreeProvider;
}

type Handler = (...args: unknown[]) => unknown;
type Factory = (ctx: Ctx, views: Views) => Handler;

/** The walkthrough's id as `workbench.action.openWalkthrough` wants it. */
const WALKTHROUGH_ID = 'trajlab.trajlab#trajlab.firstRun';

// ---- runs ---------------------------------------------------------------------------------

const generateTrajectories: Factory = (ctx) => async (arg) => {
  const folder = requireFolder(ctx);
  if (!folder) return undefined;
  if (isPlainArgs(arg)) {
    const args = parseGenerateArgs(arg);
    return startFromArgs(ctx, folder, args, args.tasksFile);
  }
  const tasksFile = await pickTasksFile(ctx, preselectedFile(arg));
  if (!tasksFile) return undefined;
  const args = await askRunSettings(ctx, folder, tasksFile);
  if (!args) return undefined;
  return startFromArgs(ctx, folder, args, tasksFile);
};

const generateTask: Factory = (ctx) => async (arg) => {
  const folder = requireFolder(ctx);
  if (!folder) return undefined;
  const ref = taskRefOf(arg) ?? (await pickTask(ctx, 'Generate trajectories for which task?'));
  if (!ref) return undefined;
  return startFromArgs(ctx, folder, { tasksFile: ref.tasksFile, taskIds: [ref.taskId] }, ref.tasksFile, `TrajLab: ${ref.taskId}`);
};

const validateTaskWithGold: Factory = (ctx) => async (arg) => {
  const folder = requireFolder(ctx);
  if (!folder) return undefined;
  const ref = taskRefOf(arg) ?? (await pickTask(ctx, 'Validate which task with its gold solution?'));
  if (!ref) return undefined;
  return startFromArgs(ctx, folder, { tasksFile: ref.tasksFile, taskIds: [ref.taskId], model: 'gold', attempts: 1 }, ref.tasksFile, `TrajLab gold check: ${ref.taskId}`);
};

const cancelRun: Factory = (ctx) => async (arg) => {
  const runId = runIdOf(arg) ?? (await pickRun(ctx, 'Cancel which run?', (r) => r.status === 'running'));
  if (!runId) return undefined;
  const client = await ctx.requireClient();
  if (!client) return undefined;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: `Cancelling TrajLab run ${runId}…` },
    () => client.sendRequest(RunCancelRequest.type, { runId }),
  );
  if (!result.cancelled) void ctx.showMessage('info', `TrajLab run ${runId} is not running.`);
  // The cancel went through; a failed refresh only leaves the views a notification behind.
  await ctx.loadAttempts(runId).catch((err: Error) => ctx.log.warn(`run ${runId}: ${err.message}`));
  return result;
};

const resumeRun: Factory = (ctx) => async (arg) => {
  const runId = runIdOf(arg) ?? (await pickRun(ctx, 'Resume which run?', (r) => r.status !== 'running' && r.status !== 'finished'));
  if (!runId) return undefined;
  const got = await ctx.getRun(runId);
  if (!got) return notFound(ctx, runId);
  if (got.run.status === 'running') {
    void ctx.showMessage('info', `TrajLab run ${runId} is already running.`);
    return runId;
  }
  return ctx.startRun(resumeOptions(got.run, config.runSettings().queue?.url), { title: `Resuming TrajLab run ${runId}` });
};

const rerunFailed: Factory = (ctx) => async (arg) => {
  const runId = runIdOf(arg) ?? (await pickRun(ctx, 'Re-run the failed tasks of which run?', (r) => r.status !== 'running'));
  if (!runId) return undefined;
  const client = await ctx.requireClient();
  if (!client) return undefined;
  // The daemon decides which tasks run again (those with no resolved attempt).
  const plan = await client.sendRequest(RunPlanRerunRequest.type, { runId, out: ctx.out });
  if (!plan) return notFound(ctx, runId);
  if (!plan.taskIds.length) {
    void ctx.showMessage('info', `Every task of TrajLab run ${runId} was resolved; nothing to re-run.`);
    return undefined;
  }
  return ctx.startRun(plan.options, { title: `TrajLab: re-running ${plan.taskIds.length} task(s) of ${runId}` });
};

const openRunFolder: Factory = (ctx) => async (arg) => {
  const runId = runIdOf(arg) ?? (await pickRun(ctx, 'Open the folder of which run?'));
  const out = ctx.out;
  if (!runId || !out) return undefined;
  const dir = runDir(out, runId);
  const runJson = vscode.Uri.file(path.join(dir, 'run.json'));
  if (vscode.workspace.getWorkspaceFolder(runJson)) {
    await vscode.commands.executeCommand('revealInExplorer', runJson);
  } else {
    await vscode.window.showTextDocument(runJson, { preview: true });
  }
  return dir;
};

const openReport: Factory = (ctx) => async (arg) => {
  const runId = runIdOf(arg) ?? (await pickRun(ctx, 'Open the report of which run?'));
  const out = ctx.out;
  if (!runId || !out) return undefined;
  const dir = runDir(out, runId);
  const report = path.join(dir, 'report.json');
  const file = fs.existsSync(report) ? report : path.join(dir, 'run.json');
  await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
  return file;
};

// ---- trajectories -------------------------------------------------------------------------

const openTrajectory: Factory = (ctx) => async (arg) => {
  const file = await trajectoryPathOf(ctx, arg);
  if (!file) return undefined;
  await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), inspectorViewTypeFor(file), { preview: true } satisfies vscode.TextDocumentShowOptions);
  return file;
};

/** Any file in the TrajLab Inspector: the given Uri (CodeLens, menus) or path, else the active editor's file. */
const openInInspector: Factory = (ctx) => async (arg) => {
  const uri = arg instanceof vscode.Uri ? arg : typeof arg === 'string' && arg ? vscode.Uri.file(arg) : activeEditorUri();
  if (!uri) {
    void ctx.showMessage('info', 'Open a trajectory file (JSON) first, then run "Open in TrajLab Inspector".');
    return undefined;
  }
  await vscode.commands.executeCommand('vscode.openWith', uri, inspectorViewTypeFor(uri.fsPath));
  return uri.fsPath;
};

const revealTrajectory: Factory = (ctx) => async (arg) => {
  const file = await trajectoryPathOf(ctx, arg);
  if (!file) return undefined;
  const uri = vscode.Uri.file(file);
  if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
  else await vscode.commands.executeCommand('revealFileInOS', uri);
  return file;
};

const showRunTrajectories: Factory = (ctx, views) => async (arg) => {
  const runId = runIdOf(arg) ?? (await pickRun(ctx, 'Show the trajectories of which run?'));
  if (!runId) return undefined;
  views.trajectories.setScope({ kind: 'run', runId });
  await vscode.commands.executeCommand('trajlab.trajectories.focus');
  return runId;
};

const showAllTrajectories: Factory = (_ctx, views) => () => {
  views.trajectories.setScope({ kind: 'all' });
};

const sortTrajectories: Factory = (_ctx, views) => async (arg) => {
  let key = typeof arg === 'string' ? arg : undefined;
  if (!key) {
    const pick = await vscode.window.showQuickPick(
      TRAJECTORY_SORTS.map((s) => ({ label: s.label, description: s.key === views.trajectories.sort ? '(current)' : '', detail: s.detail, key: s.key })),
      { title: 'Sort trajectories by' },
    );
    key = pick?.key;
  }
  if (!key) return undefined;
  if (!TRAJECTORY_SORTS.some((s) => s.key === key)) throw new Error(`unknown sort "${key}"; use one of ${TRAJECTORY_SORTS.map((s) => s.key).join(', ')}`);
  await views.trajectories.setSort(key as TrajectorySort);
  return key;
};

// ---- daemon, keys, views ------------------------------------------------------------------

const setApiKey: Factory = (ctx) => async (arg) => {
  const given = arg as { provider?: unknown; key?: unknown } | undefined;
  if (given && typeof given === 'object' && typeof given.provider === 'string' && typeof given.key === 'string') {
    await ctx.keys.set(given.provider, given.key);
    return given.provider;
  }
  const current = providerOf(config.runSettings().model);
  const providers = ApiKeyStore.providers().sort((a, b) => (a === current ? -1 : b === current ? 1 : 0));
  const items = await Promise.all(
    providers.map(async (p) => ({ label: p, description: (await ctx.keys.has(p)) ? 'key stored' : '', detail: p === current ? 'the provider of trajlab.model' : undefined })),
  );
  const provider = typeof arg === 'string' ? arg : (await vscode.window.showQuickPick(items, { title: 'Set the API key of which provider?' }))?.label;
  if (!provider) return undefined;
  const key = await vscode.window.showInputBox({
    title: `${provider} API key`,
    prompt: `Stored in VS Code's secret storage and sent to the daemon only for runs with ${provider}: models. Leave empty to remove the stored key.`,
    password: true,
    ignoreFocusOut: true,
  });
  if (key === undefined) return undefined;
  await ctx.keys.set(provider, key.trim());
  void ctx.showMessage('info', key.trim() ? `Stored the ${provider} API key in VS Code's secret storage.` : `Removed the stored ${provider} API key.`);
  return provider;
};

const showDaemonLog: Factory = (ctx) => async () => {
  const file = ctx.daemon.currentLogFile();
  if (file && fs.existsSync(file)) {
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
    return file;
  }
  ctx.log.show(true);
  return undefined;
};

const restartDaemon: Factory = (ctx) => async () => {
  await ctx.daemon.restart();
  const s = ctx.daemon.state;
  if (s.kind === 'running') void ctx.showMessage('info', `TrajLab daemon ${s.spawned ? 'started' : 'connected'} (${s.socket}).`);
  return s.kind;
};

const refresh: Factory = (ctx, views) => async () => {
  await ctx.refreshRuns();
  views.tasks.refresh(true);
  views.runs.refresh();
  views.trajectories.refresh();
  views.hosts.refresh();
};

const copyExamples: Factory = (ctx) => async () => {
  const folder = requireFolder(ctx);
  if (!folder) return undefined;
  const source = ctx.context.asAbsolutePath('examples');
  const target = path.join(folder.uri.fsPath, 'trajlab-examples');
  const tasksFile = path.join(target, 'tasks.jsonl');
  if (!fs.existsSync(tasksFile)) {
    await fs.promises.mkdir(target, { recursive: true });
    await fs.promises.copyFile(path.join(source, 'tasks.jsonl'), tasksFile);
    await fs.promises.cp(path.join(source, 'repos'), path.join(target, 'repos'), { recursive: true });
  }
  await vscode.window.showTextDocument(vscode.Uri.file(tasksFile), { preview: false });
  return tasksFile;
};

// ---- hosts --------------------------------------------------------------------------------

/**
 * Drain / Undrain on a Hosts view item (or `{name, url}`): the pool runs of the folder's output
 * root start no new attempt on the host (running ones finish), or start them again. Returns the
 * hosts drained now.
 */
const setHostDrained =
  (drain: boolean): Factory =>
  (ctx, views) =>
  async (arg) => {
    const folder = requireFolder(ctx);
    if (!folder) return undefined;
    const node = arg as Partial<HostNode> | undefined;
    if (!node || typeof node !== 'object' || (node.url !== undefined && typeof node.url !== 'string')) {
      throw new Error('Drain / Undrain act on a host of the Hosts view');
    }
    const host: HostNode = { kind: 'host', name: typeof node.name === 'string' ? node.name : (node.url ?? 'local'), url: node.url };
    const drained = await views.hosts.setDrained(host, drain, config.outputRoot(folder));
    if (!drained) return undefined;
    void ctx.showMessage(
      'info',
      drain
        ? `Drained ${host.name}: pool runs start no new attempt there; its running attempts finish.`
        : `Undrained ${host.name}: pool runs place attempts there again.`,
    );
    return drained;
  };

const importTasks: Factory = (ctx) => (arg) => importTasksCommand(ctx, arg);

const openWalkthrough: Factory = () => () => vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false);

/** Every command, by its id without the `trajlab.` prefix. */
export const COMMANDS: Record<string, Factory> = {
  'hosts.drain': setHostDrained(true),
  'hosts.undrain': setHostDrained(false),
  generateTrajectories,
  generateTask,
  validateTaskWithGold,
  cancelRun,
  resumeRun,
  rerunFailed,
  openRunFolder,
  openReport,
  openTrajectory,
  openInInspector,
  revealTrajectory,
  showRunTrajectories,
  showAllTrajectories,
  sortTrajectories,
  setApiKey,
  showDaemonLog,
  restartDaemon,
  refresh,
  copyExamples,
  importTasks,
  openWalkthrough,
};

/** Registers every command; errors are shown and logged, never thrown at the caller. */
export function registerCommands(ctx: Ctx, views: Views): vscode.Disposable[] {
  return Object.entries(COMMANDS).map(([name, factory]) => ctx.registerCommand(`trajlab.${name}`, factory(ctx, views)));
}

// ---- helpers ------------------------------------------------------------------------------

/** The file of the active editor: a text editor's document, or a custom editor's (e.g. an inspector's) resource. */
function activeEditorUri(): vscode.Uri | undefined {
  const doc = vscode.window.activeTextEditor?.document;
  if (doc && doc.uri.scheme === 'file') return doc.uri;
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (input instanceof vscode.TabInputText || input instanceof vscode.TabInputCustom) return input.uri.scheme === 'file' ? input.uri : undefined;
  return undefined;
}

function requireFolder(ctx: Ctx): vscode.WorkspaceFolder | undefined {
  const folder = ctx.folder;
  if (!folder) void ctx.showMessage('warning', 'TrajLab needs a workspace folder: open a folder first.');
  return folder;
}

/** An argument object meant as GenerateArgs (not a tree item, not a Uri). */
function isPlainArgs(arg: unknown): arg is Record<string, unknown> {
  return !!arg && typeof arg === 'object' && !(arg instanceof vscode.Uri) && !('kind' in arg) && 'tasksFile' in arg;
}

function preselectedFile(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.fsPath;
  const a = arg as { kind?: unknown; tasksFile?: unknown } | undefined;
  return a && typeof a === 'object' && typeof a.tasksFile === 'string' ? a.tasksFile : undefined;
}

async function startFromArgs(ctx: Ctx, folder: vscode.WorkspaceFolder, args: GenerateArgs, tasksFile: string, title?: string): Promise<string | undefined> {
  const out = config.outputRoot(folder);
  const options = buildRunOptions(config.runSettings(folder.uri), { ...args, tasksFile }, folder.uri.fsPath, out);
  return ctx.startRun(options, { quiet: args.quiet, title: title ?? `TrajLab run (${path.basename(options.tasksFile)}, ${options.model})`, dockerHosts: config.dockerHosts() });
}

/** The tasks file to run: the given one, the active editor's, the only one, or the user's pick. */
async function pickTasksFile(ctx: Ctx, given: string | undefined): Promise<string | undefined> {
  if (given) return given;
  const doc = vscode.window.activeTextEditor?.document;
  if (doc && doc.uri.scheme === 'file' && (doc.languageId === 'trajlab-tasks' || vscode.languages.match({ pattern: config.tasksGlob() }, doc) > 0)) return doc.uri.fsPath;
  const uris = await vscode.workspace.findFiles(config.tasksGlob(), '**/node_modules/**', 200);
  if (uris.length === 1) return uris[0]!.fsPath;
  if (!uris.length) {
    const pick = await ctx.showMessage('warning', `No tasks file in the workspace (trajlab.tasksGlob is "${config.tasksGlob()}").`, 'Copy the example tasks');
    if (pick) return (await vscode.commands.executeCommand<string | undefined>('trajlab.copyExamples')) ?? undefined;
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    uris
      .map((u) => ({ label: vscode.workspace.asRelativePath(u), file: u.fsPath }))
      .sort((a, b) => a.label.localeCompare(b.label)),
    { title: 'Generate trajectories: which tasks file?' },
  );
  return pick?.file;
}

/**
 * A task for the task commands run from the palette: the task on the cursor's line of the
 * active tasks file, else the user's pick among the tasks of the active (or only, or picked) file.
 */
async function pickTask(ctx: Ctx, title: string): Promise<TaskRef | undefined> {
  const editor = vscode.window.activeTextEditor;
  const doc = editor?.document;
  const isTasks = !!doc && doc.uri.scheme === 'file' && (doc.languageId === 'trajlab-tasks' || vscode.languages.match({ pattern: config.tasksGlob() }, doc) > 0);
  const tasksFile = isTasks ? doc!.uri.fsPath : await pickTasksFile(ctx, undefined);
  if (!tasksFile) return undefined;
  // The tasks as the run will read them: the file on disk, validated by the daemon.
  const client = await ctx.requireClient();
  if (!client) return undefined;
  if (isTasks && doc!.isDirty) await doc!.save();
  const { tasks } = await client.sendRequest(TasksReadRequest.type, { file: tasksFile });
  if (isTasks) {
    const onCursor = tasks.find((t) => t.line === editor!.selection.active.line + 1);
    if (onCursor) return { tasksFile, taskId: onCursor.taskId };
  }
  if (!tasks.length) {
    void ctx.showMessage('warning', `${path.basename(tasksFile)} holds no valid task.`);
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    tasks.map((t) => ({ label: t.taskId, description: t.taskType ?? '', detail: oneLine(t.description, 120) })),
    { title, matchOnDetail: true },
  );
  return pick && { tasksFile, taskId: pick.label };
}

/** Lets the user pick one of the runs matching `filter`; undefined when none or dismissed. */
async function pickRun(ctx: Ctx, title: string, filter: (r: RunInfo) => boolean = () => true): Promise<string | undefined> {
  if (!ctx.daemon.client) await ctx.requireClient();
  await ctx.refreshRuns();
  const runs = ctx.runs.list().map((r) => r.info).filter(filter);
  if (!runs.length) {
    void ctx.showMessage('info', 'No TrajLab run to choose from.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    runs.map((r) => ({ label: r.run_id, description: `${r.status} · ${r.options.model}`, detail: r.options.tasksFile })),
    { title },
  );
  return pick?.label;
}

function notFound(ctx: Ctx, runId: string): undefined {
  void ctx.showMessage('warning', `No TrajLab run ${runId} under ${ctx.out ?? 'the output folder'}.`);
  return undefined;
}

/**
 * The trajectory file of a command argument: a path string, a Uri, a tree item with
 * `trajectoryPath` (asking the daemon when the item does not know it yet), or `{path}`.
 */
async function trajectoryPathOf(ctx: Ctx, arg: unknown): Promise<string | undefined> {
  if (typeof arg === 'string') return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  const a = arg as { runId?: unknown; taskId?: unknown; attempt?: unknown; trajectoryPath?: unknown; path?: unknown } | undefined;
  if (!a || typeof a !== 'object') throw new Error('trajlab.openTrajectory needs a trajectory path, or a Runs / Trajectories item');
  if (typeof a.trajectoryPath === 'string' && a.trajectoryPath) return a.trajectoryPath;
  if (typeof a.path === 'string' && a.path) return a.path;
  if (isRunId(a.runId) && typeof a.taskId === 'string' && typeof a.attempt === 'number') {
    const attempts = await ctx.loadAttempts(a.runId);
    const found = attempts?.find((x) => x.taskId === a.taskId && x.attempt === a.attempt)?.trajectoryPath;
    if (found) return found;
    void ctx.showMessage('info', `The trajectory of ${a.taskId} (attempt ${a.attempt}) is not written yet.`);
    return undefined;
  }
  throw new Error('trajlab.openTrajectory needs a trajectory path, or a Runs / Trajectories item');
}
