/**
 * The run settings wizard of "TrajLab: Generate trajectories" (`trajlab.generateTrajectories`
 * started without GenerateArgs): one QuickPick whose first item, "Start", runs with the values
 * shown, and one item per value to change — model (the current one, recent ones from
 * workspaceState, presets, or a typed spec), workers, attempts per task, and the Docker host
 * when `trajlab.dockerHosts` lists any: the daemon's engine ("local"), one host, or "all enabled
 * hosts (pool)" — preselected when two or more entries are enabled (poolByDefault), and the run
 * cost limit (none by default). With `trajlab.queue.url` set, the place is that Redis queue unless
 * another is picked. With `trajlab.models` set, the model is that list unless one is
 * picked. A model whose provider needs an API key that is not stored asks for it (modal) before starting.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { PROVIDER_KEY_ENV } from '../../common/src/settings';
import * as config from './config';
import { providerNeedsKey, type Ctx } from './ctx';
import { dockerUrl, poolByDefault, type GenerateArgs } from './runOptions';

/** workspaceState key: models used recently, newest first. */
const RECENT_MODELS_KEY = 'trajlab.recentModels';
const MODEL_PRESETS = ['openai:gpt-4o-mini', 'openai:gpt-4o', 'deepseek:deepseek-chat', 'gemini:gemini-2.0-flash', 'vllm:', 'ollama:', 'gold'];

interface SettingItem extends vscode.QuickPickItem {
  action: 'start' | 'model' | 'workers' | 'attempts' | 'runCostLimit' | 'host';
}

/** The label of the models-list choice (`trajlab.models`) in the model picker. */
const MODELS_LIST = 'models list (trajlab.models)';

/**
 * The run settings QuickPick for `tasksFile`: "Start" first (Enter runs with the settings'
 * values), then one item per value to change. Before returning, asks for the API key when the
 * model's provider needs one and none is stored, and records the model as recently used.
 * Returns the GenerateArgs to start with, or undefined when dismissed.
 */
export async function askRunSettings(ctx: Ctx, folder: vscode.WorkspaceFolder, tasksFile: string): Promise<GenerateArgs | undefined> {
  const s = config.runSettings(folder.uri);
  const hosts = config.dockerHosts();
  // With trajlab.models set, no model argument: the run takes the list (buildRunOptions), unless one is picked.
  const listed = s.models?.length ? `models list: ${s.models.map((m) => m.name ?? m.model).join(', ')}` : undefined;
  const args: GenerateArgs = { tasksFile, ...(listed ? {} : { model: s.model }), workers: s.workers, attempts: s.attempts };
  const modelText = () => args.model ?? listed ?? s.model;
  const enabled = hosts.filter((h) => h.enabled !== false);
  const poolLabel = `all enabled hosts (pool of ${enabled.length})`;
  // trajlab.queue.url: the attempts go on the queue unless another place is picked.
  const queueLabel = s.queue?.url ? `Redis queue (${queueHost(s.queue.url)})` : undefined;
  if (!queueLabel && poolByDefault(hosts)) args.pool = true;
  let hostName = queueLabel ?? (args.pool ? poolLabel : 'local');
  for (;;) {
    const items: SettingItem[] = [
      {
        action: 'start',
        label: '$(play) Start',
        description: `${path.basename(tasksFile)} · ${modelText()} · ${args.workers} worker${args.workers === 1 ? '' : 's'} · ${args.attempts} attempt${args.attempts === 1 ? '' : 's'} per task${args.runCostLimit !== undefined ? ` · at most $${args.runCostLimit}` : ''}`,
      },
      { action: 'model', label: '$(hubot) Model', description: modelText() },
      { action: 'workers', label: '$(server-process) Workers', description: String(args.workers) },
      { action: 'attempts', label: '$(debug-rerun) Attempts per task', description: String(args.attempts) },
      { action: 'runCostLimit', label: '$(credit-card) Run cost limit', description: args.runCostLimit !== undefined ? `$${args.runCostLimit}: no new attempt once the run has cost this much` : 'none' },
    ];
    if (hosts.length || queueLabel) items.push({ action: 'host', label: '$(server) Docker host', description: hostName });
    const pick = await vscode.window.showQuickPick(items, { title: `Generate trajectories — ${vscode.workspace.asRelativePath(tasksFile)}`, placeHolder: 'Enter to start, or pick a value to change' });
    if (!pick) return undefined;
    if (pick.action === 'start') break;
    if (pick.action === 'model') {
      const picked = await pickModel(ctx, args.model ?? (listed ? MODELS_LIST : s.model), !!listed);
      if (picked === MODELS_LIST) delete args.model;
      else if (picked) args.model = picked;
    }
    if (pick.action === 'runCostLimit') {
      const limit = await askCost('Run cost limit, USD (empty: none): no new attempt starts once the whole run has cost this much', args.runCostLimit);
      if (limit === null) delete args.runCostLimit;
      else if (limit !== undefined) args.runCostLimit = limit;
    }
    if (pick.action === 'workers') args.workers = (await askInt('Workers (attempts run at once)', args.workers!)) ?? args.workers;
    if (pick.action === 'attempts') args.attempts = (await askInt('Attempts per task (rollouts for pass@k)', args.attempts!)) ?? args.attempts;
    if (pick.action === 'host') {
      const choices = [
        ...(queueLabel ? [{ label: queueLabel, description: 'trajlab worker processes take the attempts', url: undefined as string | undefined, pool: false, queue: true }] : []),
        ...(enabled.length ? [{ label: poolLabel, description: enabled.map((x) => x.name).join(', '), url: undefined as string | undefined, pool: true }] : []),
        { label: 'local', description: "the daemon's Docker engine", url: undefined as string | undefined, pool: false },
        ...hosts.map((x) => ({ label: x.name, description: x.url, url: dockerUrl(x) as string | undefined, pool: false })),
      ];
      const h = await vscode.window.showQuickPick(choices, { title: 'Docker host' });
      if (h) {
        hostName = h.label;
        args.host = h.url;
        args.pool = h.pool || undefined;
        args.queue = queueLabel ? 'queue' in h : undefined;
      }
    }
  }
  const needs = args.model ? providerNeedsKey(args.model) : undefined;
  if (needs && !s.baseUrl && !(await ctx.keys.has(needs))) {
    const pick = await vscode.window.showWarningMessage(
      `No API key is stored for ${needs}. The daemon uses ${PROVIDER_KEY_ENV[needs]} from its environment if it has one.`,
      { modal: true },
      'Set API key',
      'Start anyway',
    );
    if (!pick) return undefined;
    if (pick === 'Set API key' && !(await vscode.commands.executeCommand('trajlab.setApiKey', needs))) return undefined;
  }
  if (args.model) {
    const recent = ctx.context.workspaceState.get<string[]>(RECENT_MODELS_KEY, []).filter((m) => m !== args.model);
    await ctx.context.workspaceState.update(RECENT_MODELS_KEY, [args.model, ...recent].slice(0, 8));
  }
  return args;
}

/** A model spec: the current one, the models list (`withList`), recent ones, presets, or what the user types. */
function pickModel(ctx: Ctx, current: string, withList: boolean): Promise<string | undefined> {
  const recent = ctx.context.workspaceState.get<string[]>(RECENT_MODELS_KEY, []);
  const specs = [...new Set([current, ...(withList ? [MODELS_LIST] : []), ...recent, ...MODEL_PRESETS])];
  const base: vscode.QuickPickItem[] = specs.map((m) => ({
    label: m,
    description: m === current ? '(current)' : m === 'gold' ? "applies each task's reference solution" : m.endsWith(':') ? 'type the model name after the colon' : '',
  }));
  return new Promise((resolve) => {
    const qp = vscode.window.createQuickPick();
    qp.title = 'Model (provider:model, gold, replay:<trajectory>)';
    qp.placeholder = 'openai:gpt-4o-mini, vllm:Qwen/Qwen2.5-Coder-7B-Instruct, gold…';
    qp.items = base;
    qp.onDidChangeValue((v) => {
      qp.items = v && !specs.includes(v) ? [{ label: v, description: 'use this model spec' }, ...base] : base;
    });
    qp.onDidAccept(() => {
      const label = qp.selectedItems[0]?.label ?? qp.value;
      if (label.endsWith(':')) {
        qp.value = label;
        return;
      }
      resolve(label || undefined);
      qp.hide();
    });
    qp.onDidHide(() => {
      resolve(undefined);
      qp.dispose();
    });
    qp.show();
  });
}

/** A number of USD ≥ 0 typed in an input box, starting from `current`: the number, null for none (empty), undefined when dismissed. */
async function askCost(title: string, current: number | undefined): Promise<number | null | undefined> {
  const v = await vscode.window.showInputBox({
    title,
    value: current === undefined ? '' : String(current),
    validateInput: (s) => (s.trim() === '' || (Number.isFinite(Number(s)) && Number(s) >= 0) ? undefined : 'a number of USD ≥ 0, or empty for none'),
  });
  if (v === undefined) return undefined;
  return v.trim() === '' ? null : Number(v.trim());
}

/** A whole number ≥ 1 typed in an input box, starting from `current`; undefined when dismissed. */
async function askInt(title: string, current: number): Promise<number | undefined> {
  const v = await vscode.window.showInputBox({
    title,
    value: String(current),
    validateInput: (s) => (/^\d+$/.test(s.trim()) && Number(s) >= 1 ? undefined : 'an integer ≥ 1'),
  });
  return v === undefined ? undefined : Number(v.trim());
}

/** The host and port of a queue URL, without its password, for labels. */
function queueHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}`;
  } catch {
    return 'its URL is not valid: see trajlab.queue.url';
  }
}
