/**
 * "TrajLab: Export…": the trajectories of runs (or folders / files) as training data, through a
 * QuickPick wizard: sources (preselected from where it was started), format, filters, split,
 * token counts, a chat-template check (for formats with messages: a file picker for the
 * template, `.jinja` or `tokenizer_config.json`, and the tool-argument form), destination (a save
 * dialog under `<output folder>/exports/`); then
 * `trajlab/dataset/export` (the engine of `trajlab export`) under a notification with Cancel
 * and progress, and a final message with "Open file" / "Open manifest".
 *
 * Called with an ExportArgs object that has `format` and `out`, it asks nothing and exports
 * (scripts, tests).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  CHAT_TEMPLATE_FORMATS,
  EXPORT_FORMATS,
  parseSplit,
  TOKENIZERS,
  type ExportFormat,
  type ExportOptions,
  type ExportResult,
  type SelectionFilters,
  type SelectionQuota,
  NEAR_DUPLICATE_THRESHOLD,
  parseQuota,
  QUOTA_KEYS,
  SECRETS_MODES,
  type SecretsMode,
  TRAJECTORY_FLAGS,
  type TrajectoryFlag,
  type SplitSpec,
  type TokenizerName,
  type ToolArgumentsForm,
} from '../../../common/src/dataset';
import { DatasetExportRequest } from '../../../common/src/protocol';
import type { Ctx } from '../ctx';
import { EXPORT_FORMAT_INFO } from '../inspector/exportTrajectory';
import { runDir } from '../refs';
import type { DatasetProgressHub } from './progressHub';
import { defaultFileName, parseRange } from './exportOptions';
import { sourceLabel } from './sources';

/** An export asked from code: no question when `format` and `out` are given. */
export interface ExportArgs {
  sources: string[];
  format?: ExportFormat;
  /** Absolute output file. */
  out?: string;
  filters?: SelectionFilters;
  split?: SplitSpec[];
  seed?: number;
  tokenCounts?: boolean;
  tokenizer?: TokenizerName;
  includeReasoning?: boolean;
  toolArguments?: ToolArgumentsForm;
  /** Absolute path of a chat template (`.jinja` or `tokenizer_config.json`, `#NAME` allowed): see ExportOptions.chatTemplate. */
  chatTemplate?: string;
  strict?: boolean;
  overwrite?: boolean;
}

const STEPS = 7;

/**
 * Runs the wizard (or, with `args.format` and `args.out`, the export alone). Returns the
 * daemon's ExportResult, or undefined when dismissed, cancelled or the daemon is down (each said
 * to the user). Errors: the daemon's (an unreadable source, an unwritable output…).
 */
export async function exportDataset(ctx: Ctx, hub: DatasetProgressHub, args: ExportArgs): Promise<ExportResult | undefined> {
  let options: { sources: string[]; options: ExportOptions } | undefined;
  if (args.format && args.out) {
    if (!EXPORT_FORMATS.includes(args.format)) throw new Error(`unknown format "${args.format}"; use one of ${EXPORT_FORMATS.join(', ')}`);
    if (!args.sources.length) throw new Error('trajlab.exportDataset needs sources: run folders, trajectory folders or files');
    const { sources, format, out, ...rest } = args;
    options = { sources, options: { ...rest, format, out: path.resolve(out) } };
  } else {
    options = await askExport(ctx, args.sources);
  }
  if (!options) return undefined;
  return runExport(ctx, hub, options.sources, options.options);
}

// ---- the questions ---------------------------------------------------------------------------

interface SourceItem extends vscode.QuickPickItem {
  source: string;
}

/** The wizard's questions; undefined when the user dismisses one. */
async function askExport(ctx: Ctx, preselected: string[]): Promise<{ sources: string[]; options: ExportOptions } | undefined> {
  const sources = await askSources(ctx, preselected);
  if (!sources?.length) return undefined;
  const format = await askFormat(sources);
  if (!format) return undefined;
  const filters = await askFilters();
  if (!filters) return undefined;
  const split = await askSplit();
  if (!split) return undefined;
  const tokens = await askTokens();
  if (!tokens) return undefined;
  const check = CHAT_TEMPLATE_FORMATS.includes(format) ? await askChatTemplate(ctx) : {};
  if (!check) return undefined;
  const dest = await askDestination(ctx, format, sources);
  if (!dest) return undefined;
  const { includeReasoning, maxTokens, secrets, ...selection } = filters;
  const options: ExportOptions = { format, out: dest.out, filters: selection, overwrite: dest.overwrite };
  if (includeReasoning) options.includeReasoning = true;
  if (secrets) options.secrets = secrets;
  if (check.chatTemplate) options.chatTemplate = check.chatTemplate;
  if (check.toolArguments) options.toolArguments = check.toolArguments;
  if (split.split) options.split = split.split;
  if (tokens.tokenizer) {
    options.tokenCounts = true;
    options.tokenizer = tokens.tokenizer;
  }
  // --max-tokens counts with the tokenizer picked (o200k_base when counts were not asked for).
  if (maxTokens !== undefined) options.maxTokens = maxTokens;
  return { sources, options };
}

/** Step 1: which runs (and the folders / files the command was started on). */
async function askSources(ctx: Ctx, preselected: string[]): Promise<string[] | undefined> {
  if (!ctx.daemon.client) await ctx.requireClient();
  await ctx.refreshRuns();
  const out = ctx.out;
  const runs = ctx.runs.list().map((r) => r.info);
  const runDirs = new Map(out ? runs.map((r) => [path.normalize(runDir(out, r.run_id)), r] as const) : []);
  const items: SourceItem[] = [];
  for (const s of preselected) {
    if (runDirs.has(s)) continue;
    items.push({ label: sourceLabel(s), description: vscode.workspace.asRelativePath(s), source: s, picked: true });
  }
  for (const [dir, r] of runDirs) {
    items.push({ label: r.run_id, description: `${r.status} · ${r.options.model}`, detail: r.options.tasksFile ? vscode.workspace.asRelativePath(r.options.tasksFile) : undefined, source: dir, picked: preselected.includes(dir) });
  }
  if (!items.length) {
    void ctx.showMessage('info', 'No TrajLab run to export. Run some tasks first, or start Export… from a folder of trajectories in the Explorer.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(items, {
    title: `Export… (1/${STEPS}): sources`,
    placeHolder: 'Runs (and folders) whose trajectories to export; Enter to go on',
    canPickMany: true,
    matchOnDescription: true,
    ignoreFocusOut: true,
  });
  if (!picked) return undefined;
  if (!picked.length) {
    void ctx.showMessage('info', 'Export…: no source picked; nothing to export.');
    return undefined;
  }
  return picked.map((p) => p.source);
}

/** Step 2: the format. */
async function askFormat(sources: string[]): Promise<ExportFormat | undefined> {
  const pick = await vscode.window.showQuickPick(
    EXPORT_FORMATS.map((format) => ({ label: format, description: EXPORT_FORMAT_INFO[format].description, format })),
    { title: `Export… (2/${STEPS}): format`, placeHolder: `Training-data format for ${sources.length} source${sources.length === 1 ? '' : 's'}`, matchOnDescription: true, ignoreFocusOut: true },
  );
  return pick?.format;
}

type FilterKey =
  | 'successOnly' | 'resolvedOnly' | 'bestPerTask' | 'dedupe' | 'includeUnfinished' | 'includeReasoning'
  | 'rewardRange' | 'maxPerTask' | 'taskTypes' | 'exitStatuses' | 'stepsRange' | 'tokensRange' | 'taskGlob' | 'maxTokens' | 'select'
  | 'curation';
type CurationKey = 'nearDedupe' | 'maxRepeats' | 'noFlags' | 'keepTampered' | 'secrets';

interface FilterItem extends vscode.QuickPickItem {
  key: FilterKey;
}

const FILTER_ITEMS: FilterItem[] = [
  { key: 'successOnly', label: 'Success only', description: 'trajectories whose result says success' },
  { key: 'resolvedOnly', label: 'Resolved only', description: "tasks the run's report.json lists as resolved" },
  { key: 'bestPerTask', label: 'Best attempt per task', description: 'highest reward, then fewest steps' },
  { key: 'dedupe', label: 'Drop duplicates', description: 'same task and same action sequence' },
  { key: 'curation', label: 'Curation…', description: 'near-duplicates, loops, flagged and tampered attempts, secrets (asks which next)' },
  { key: 'includeUnfinished', label: 'Include unfinished attempts', description: 'attempts without a result yet' },
  { key: 'rewardRange', label: 'Reward range…', description: 'e.g. 1, or 0.5..1 (asks next; unknown rewards are dropped)' },
  { key: 'maxPerTask', label: 'At most K per task…', description: 'asks K next' },
  { key: 'select', label: 'Keep K diverse trajectories…', description: 'k-center greedy over task text and actions, after the other filters; asks K and quotas next' },
  { key: 'taskTypes', label: 'Task types…', description: 'code, swe, reasoning, web, unknown (asks next)' },
  { key: 'exitStatuses', label: 'Exit statuses…', description: 'submitted, step_limit, … (asks next)' },
  { key: 'stepsRange', label: 'Steps range…', description: 'e.g. 5..30 (asks next)' },
  { key: 'tokensRange', label: 'Total tokens range…', description: 'prompt + completion tokens as the provider reported them (asks next)' },
  { key: 'taskGlob', label: 'Task ids matching…', description: 'a glob, e.g. django__* (asks next)' },
  { key: 'maxTokens', label: 'Drop rows over N tokens…', description: 'counted with the tokenizer of the next steps (asks next)' },
  { key: 'includeReasoning', label: "Include the model's reasoning", description: 'reasoning_content, or <think>…</think>' },
];

const TASK_TYPES = ['code', 'swe', 'reasoning', 'web', 'unknown'];
const EXIT_STATUSES = ['submitted', 'step_limit', 'cost_limit', 'timeout', 'error', 'cancelled'];

/** Asks a range (parseRange); undefined when dismissed. */
async function askRange(title: string, prompt: string, value: string, integer: boolean): Promise<{ min?: number; max?: number } | undefined> {
  const v = await vscode.window.showInputBox({
    title,
    prompt,
    value,
    ignoreFocusOut: true,
    validateInput: (s) => {
      const r = parseRange(s, { integer });
      return typeof r === 'string' ? r : undefined;
    },
  });
  if (v === undefined) return undefined;
  return parseRange(v, { integer }) as { min?: number; max?: number };
}

/** Asks an integer ≥ 1; undefined when dismissed. */
async function askCount(title: string, prompt: string, value: string): Promise<number | undefined> {
  const v = await vscode.window.showInputBox({
    title,
    prompt,
    value,
    ignoreFocusOut: true,
    validateInput: (s) => (/^\s*\d+\s*$/.test(s) && Number(s) >= 1 ? undefined : 'an integer ≥ 1'),
  });
  return v === undefined ? undefined : Number(v.trim());
}

/** Asks some of `values` (canPickMany); undefined when dismissed or none picked. */
async function askSome(title: string, values: string[]): Promise<string[] | undefined> {
  const picked = await vscode.window.showQuickPick(values.map((label) => ({ label })), { title, canPickMany: true, ignoreFocusOut: true });
  return picked?.length ? picked.map((p) => p.label) : undefined;
}

/** The curation choices (issue 19's filters), a second pick so the filters list stays short enough to show whole. */
const CURATION_ITEMS: (vscode.QuickPickItem & { key: CurationKey })[] = [
  { key: 'nearDedupe', label: 'Drop near-duplicates…', description: `same task, the same actions or an estimated Jaccard of the normalised actions and diff ≥ a threshold (default ${NEAR_DUPLICATE_THRESHOLD}; asks next; includes "Drop duplicates")` },
  { key: 'maxRepeats', label: 'Drop loops…', description: 'one action repeated more than N times with no state change in between (asks N next)' },
  { key: 'noFlags', label: 'Drop flagged trajectories…', description: `${TRAJECTORY_FLAGS.join(', ')} (asks which next)` },
  { key: 'keepTampered', label: 'Keep tampered attempts', description: 'attempts that edited the tests grading them or read the hidden tests (dropped by default)' },
  { key: 'secrets', label: 'Secrets: fail, keep or skip the scan…', description: 'found API keys, tokens and private keys are redacted by default (asks next)' },
];

const SECRETS_ITEMS: Record<SecretsMode, string> = {
  redact: 'replace each with <REDACTED:rule> (the default)',
  fail: 'stop, naming trajectory, step and rule; nothing is written',
  keep: 'keep them in the data (still counted in the manifest)',
  off: 'do not scan',
};

/** Step 3: filters (toggles; those with a value ask it), the same filters as `trajlab export`'s flags. */
async function askFilters(): Promise<(SelectionFilters & { includeReasoning?: boolean; maxTokens?: number; secrets?: SecretsMode }) | undefined> {
  const picked = await vscode.window.showQuickPick(FILTER_ITEMS, {
    title: `Export… (3/${STEPS}): filters`,
    placeHolder: 'Pick the filters to apply (none: every finished trajectory); Enter to go on',
    canPickMany: true,
    ignoreFocusOut: true,
  });
  if (!picked) return undefined;
  const on = new Set(picked.map((p) => p.key));
  const filters: SelectionFilters & { includeReasoning?: boolean; maxTokens?: number; secrets?: SecretsMode } = {};
  for (const k of ['successOnly', 'resolvedOnly', 'bestPerTask', 'dedupe', 'includeUnfinished', 'includeReasoning'] as const) if (on.has(k)) filters[k] = true;
  const curation = new Set<CurationKey>();
  if (on.has('curation')) {
    const more = await vscode.window.showQuickPick(CURATION_ITEMS, { title: 'Export…: curation', placeHolder: 'Pick the curation filters; Enter to go on', canPickMany: true, ignoreFocusOut: true });
    if (!more) return undefined;
    for (const m of more) curation.add(m.key);
  }
  if (curation.has('keepTampered')) filters.keepTampered = true;
  if (curation.has('nearDedupe')) {
    const v = await vscode.window.showInputBox({
      title: 'Export…: drop near-duplicates',
      prompt: 'Jaccard threshold in (0, 1]: of each group at or above it, the best stays (reward, then fewest steps)',
      value: String(NEAR_DUPLICATE_THRESHOLD),
      ignoreFocusOut: true,
      validateInput: (s) => (Number(s) > 0 && Number(s) <= 1 ? undefined : 'a number in (0, 1], e.g. 0.8'),
    });
    if (v === undefined) return undefined;
    filters.dedupe = 'near';
    if (Number(v) !== NEAR_DUPLICATE_THRESHOLD) filters.nearThreshold = Number(v);
  }
  if (curation.has('maxRepeats')) {
    const v = await vscode.window.showInputBox({
      title: 'Export…: drop loops',
      prompt: 'Drop trajectories that repeat one action more than N times with no state change in between',
      value: '4',
      ignoreFocusOut: true,
      validateInput: (s) => (/^\s*\d+\s*$/.test(s) ? undefined : 'an integer ≥ 0'),
    });
    if (v === undefined) return undefined;
    filters.maxRepeats = Number(v.trim());
  }
  if (curation.has('noFlags')) {
    const flags = await askSome('Export…: drop trajectories with any of these flags', [...TRAJECTORY_FLAGS]);
    if (!flags) return undefined;
    filters.noFlags = flags as TrajectoryFlag[];
  }
  if (curation.has('secrets')) {
    const pick = await vscode.window.showQuickPick(
      SECRETS_MODES.map((mode) => ({ label: mode, description: SECRETS_ITEMS[mode], mode })),
      { title: 'Export…: secrets found in the exported texts', ignoreFocusOut: true },
    );
    if (!pick) return undefined;
    filters.secrets = pick.mode;
  }
  if (on.has('rewardRange')) {
    const r = await askRange('Export…: reward range', 'Keep trajectories whose reward is in this range: 1, 0.5..1, 0.5.. or ..0.5', '1', false);
    if (!r) return undefined;
    if (r.min !== undefined) filters.minReward = r.min;
    if (r.max !== undefined) filters.maxReward = r.max;
  }
  if (on.has('taskTypes')) {
    const types = await askSome('Export…: keep these task types', TASK_TYPES);
    if (!types) return undefined;
    filters.taskTypes = types;
  }
  if (on.has('exitStatuses')) {
    const statuses = await askSome('Export…: keep these exit statuses', EXIT_STATUSES);
    if (!statuses) return undefined;
    filters.exitStatuses = statuses;
  }
  if (on.has('stepsRange')) {
    const r = await askRange('Export…: steps range', 'Keep trajectories with this many steps (model calls): 5..30, 5.. or ..30', '1..50', true);
    if (!r) return undefined;
    if (r.min !== undefined) filters.minSteps = r.min;
    if (r.max !== undefined) filters.maxSteps = r.max;
  }
  if (on.has('tokensRange')) {
    const r = await askRange('Export…: total tokens range', 'Keep trajectories whose prompt + completion tokens are in this range: 1000..200000, ..200000', '..200000', true);
    if (!r) return undefined;
    if (r.min !== undefined) filters.minTotalTokens = r.min;
    if (r.max !== undefined) filters.maxTotalTokens = r.max;
  }
  if (on.has('taskGlob')) {
    const v = await vscode.window.showInputBox({
      title: 'Export…: task ids matching',
      prompt: 'A glob over task ids (picomatch; * does not cross /), e.g. django__* or calc-py__*',
      value: '*',
      ignoreFocusOut: true,
      validateInput: (s) => (s.trim() ? undefined : 'a glob, e.g. django__*'),
    });
    if (v === undefined) return undefined;
    filters.taskGlob = v.trim();
  }
  if (on.has('maxTokens')) {
    const n = await askCount('Export…: drop rows over N tokens', 'Rows whose token count exceeds N are dropped (and listed in the manifest)', '32768');
    if (n === undefined) return undefined;
    filters.maxTokens = n;
  }
  if (on.has('maxPerTask')) {
    const n = await askCount('Export…: at most K trajectories per task', 'Ranked by reward, then fewest steps', '1');
    if (n === undefined) return undefined;
    filters.maxPerTask = n;
  }
  if (on.has('select')) {
    const k = await askCount('Export…: keep K diverse trajectories', 'How many to keep, chosen to cover the task and behaviour space (the others are listed in the manifest as not_selected)', '1000');
    if (k === undefined) return undefined;
    const q = await vscode.window.showInputBox({
      title: 'Export…: quotas (optional)',
      prompt: `At least MIN picks from every group: KEY=MIN,… with keys ${QUOTA_KEYS.join(', ')} or metadata.NAME (empty: none)`,
      value: '',
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() && typeof parseQuota(v) === 'string' ? (parseQuota(v) as string) : undefined),
    });
    if (q === undefined) return undefined;
    const quotas = q.trim() ? (parseQuota(q) as SelectionQuota[]) : undefined;
    filters.select = { k, by: 'diversity', ...(quotas ? { quotas } : {}) };
  }
  return filters;
}

/** Step 4: split by task. */
async function askSplit(): Promise<{ split?: SplitSpec[] } | undefined> {
  const items: (vscode.QuickPickItem & { spec?: string; custom?: boolean })[] = [
    { label: 'No split', description: 'one file' },
    { label: 'train=0.9,val=0.1', description: 'by task: a task never lands in two splits', spec: 'train=0.9,val=0.1' },
    { label: 'train=0.8,val=0.1,test=0.1', description: 'by task', spec: 'train=0.8,val=0.1,test=0.1' },
    { label: 'Custom…', description: 'name=fraction,… (fractions sum to 1)', custom: true },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: `Export… (4/${STEPS}): split`, placeHolder: 'Split the tasks into files (seed 0)?', ignoreFocusOut: true });
  if (!pick) return undefined;
  if (pick.spec) return { split: parseSplit(pick.spec) as SplitSpec[] };
  if (!pick.custom) return {};
  const v = await vscode.window.showInputBox({
    title: 'Export…: split by task',
    prompt: 'name=fraction,… e.g. train=0.9,val=0.1 (each file is <name>.<split>.jsonl)',
    value: 'train=0.9,val=0.1',
    ignoreFocusOut: true,
    validateInput: (s) => {
      const r = parseSplit(s);
      return typeof r === 'string' ? r : undefined;
    },
  });
  if (v === undefined) return undefined;
  return { split: parseSplit(v) as SplitSpec[] };
}

/** Step 5: token counts. */
async function askTokens(): Promise<{ tokenizer?: TokenizerName } | undefined> {
  const pick = await vscode.window.showQuickPick(
    [
      { label: 'No token counts', tokenizer: undefined as TokenizerName | undefined },
      ...TOKENIZERS.map((t) => ({ label: `Count tokens (${t})`, description: 'adds metadata.num_tokens to every row (js-tiktoken)', tokenizer: t as TokenizerName | undefined })),
    ],
    { title: `Export… (5/${STEPS}): token counts`, ignoreFocusOut: true },
  );
  return pick && { tokenizer: pick.tokenizer };
}

/**
 * Step 6 (formats with messages): render every row through the chat template the user will train
 * with (a file picker), and the tool-argument form it reads. `{}` for no check.
 */
async function askChatTemplate(ctx: Ctx): Promise<{ chatTemplate?: string; toolArguments?: ToolArgumentsForm } | undefined> {
  type Item = vscode.QuickPickItem & { check: boolean; toolArguments?: ToolArgumentsForm };
  const pick = await vscode.window.showQuickPick<Item>(
    [
      { label: 'No chat-template check', description: 'tool-call arguments as a JSON string (OpenAI fine-tuning)', check: false },
      { label: 'No chat-template check, arguments as objects', description: 'the dict transformers documents (GLM, Qwen3.5 templates)', check: false, toolArguments: 'object' },
      { label: 'Check against a chat template…', description: 'pick a .jinja or tokenizer_config.json; rows it cannot render are dropped (see the manifest)', check: true },
      { label: 'Check against a chat template…, arguments as objects', description: 'for templates that read arguments as a dict (GLM, Qwen3.5)', check: true, toolArguments: 'object' },
    ],
    { title: `Export… (6/${STEPS}): chat template`, placeHolder: 'Render every row through the chat template you will train with?', ignoreFocusOut: true },
  );
  if (!pick) return undefined;
  if (!pick.check) return { toolArguments: pick.toolArguments };
  const uris = await vscode.window.showOpenDialog({
    title: 'Export…: chat template',
    openLabel: 'Use this template',
    canSelectMany: false,
    defaultUri: ctx.out ? vscode.Uri.file(ctx.out) : undefined,
    filters: { 'Chat templates': ['jinja', 'json'], 'All files': ['*'] },
  });
  if (!uris?.length) return undefined;
  return { chatTemplate: uris[0]!.fsPath, toolArguments: pick.toolArguments };
}

/** Step 7: the output file (and whether replacing what is there was agreed). */
async function askDestination(ctx: Ctx, format: ExportFormat, sources: string[]): Promise<{ out: string; overwrite: boolean } | undefined> {
  const root = ctx.out ?? path.dirname(sources[0]!);
  const dir = path.join(root, 'exports');
  // Only the save dialog's starting folder: without it the dialog still opens, and the export makes the folder it is given.
  await fs.promises.mkdir(dir, { recursive: true }).catch((err: Error) => ctx.log.warn(`Export…: cannot create ${dir}: ${err.message}`));
  if (format === 'atif') return askAtifFolder(dir);
  const ext = EXPORT_FORMAT_INFO[format].extension;
  const uri = await vscode.window.showSaveDialog({
    title: `Export… (7/${STEPS}): destination`,
    saveLabel: 'Export',
    defaultUri: vscode.Uri.file(path.join(dir, defaultFileName(format, ext))),
    filters: { [ext === 'json' ? 'JSON' : 'JSON Lines']: [ext] },
  });
  if (!uri) return undefined;
  const out = uri.fsPath;
  // The dialog asked before replacing the data file; the manifest (and split files) go beside it.
  const manifest = `${out.slice(0, out.length - path.extname(out).length)}.manifest.json`;
  const others = [manifest].filter((f) => fs.existsSync(f));
  if (fs.existsSync(out) || !others.length) return { out, overwrite: fs.existsSync(out) };
  const pick = await vscode.window.showWarningMessage(`${path.basename(manifest)} exists next to ${path.basename(out)}. Replace it?`, { modal: true }, 'Replace');
  return pick ? { out, overwrite: true } : undefined;
}

/**
 * Step 6 for ATIF: where to create the folder of documents (`atif-<stamp>/`, one
 * `<task_id>.<attempt>.json` per trajectory: Harbor reads one trajectory per file; the daemon's
 * atifOutputLayout). A new folder, so nothing is replaced.
 */
async function askAtifFolder(dir: string): Promise<{ out: string; overwrite: boolean } | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: `Export… (6/${STEPS}): where to create the folder of ATIF documents (one per trajectory)`,
    openLabel: 'Export here',
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    defaultUri: vscode.Uri.file(dir),
  });
  if (!picked?.[0]) return undefined;
  return { out: path.join(picked[0].fsPath, defaultFileName('atif', '').replace(/\.$/, '')), overwrite: false };
}

// ---- the export ------------------------------------------------------------------------------

/** Sends the export with a cancellable progress notification, then says what was written. */
async function runExport(ctx: Ctx, hub: DatasetProgressHub, sources: string[], options: ExportOptions): Promise<ExportResult | undefined> {
  const client = await ctx.requireClient();
  if (!client) return undefined;
  const name = path.basename(options.out);
  let cancelled = false;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Exporting ${name} (${options.format})`, cancellable: true },
    async (progress, token) => {
      let shown = 0;
      let twoPass = false;
      const listener = hub.listen((p) => {
        if (p.phase === 'scan') twoPass = true;
        const frac = p.total > 0 ? p.done / p.total : 0;
        const percent = p.phase === 'list' ? 0 : p.phase === 'scan' ? 50 * frac : twoPass ? 50 + 50 * frac : 100 * frac;
        const message = p.phase === 'list' ? 'listing trajectory files…' : `${p.phase === 'scan' ? 'reading' : 'writing'} ${p.done} of ${p.total} (kept ${p.kept}, dropped ${p.dropped})`;
        progress.report({ message, increment: Math.max(0, percent - shown) });
        shown = Math.max(shown, percent);
      });
      try {
        return await client.sendRequest(DatasetExportRequest.type, { sources, options, progressToken: listener.token }, token);
      } catch (err) {
        if (token.isCancellationRequested) {
          cancelled = true;
          return undefined;
        }
        throw err;
      } finally {
        listener.dispose();
      }
    },
  );
  if (cancelled || !result) {
    void ctx.showMessage('info', `Export of ${name} cancelled; nothing was written.`);
    return undefined;
  }
  announce(ctx, result);
  return result;
}

function announce(ctx: Ctx, result: ExportResult): void {
  const m = result.manifest;
  const c = m.counts;
  for (const w of result.warnings) ctx.log.warn(`export ${m.format}: ${w}`);
  // An ATIF folder output: "Open file" opens its first document.
  const firstDoc = m.outputs[0]?.documents?.[0];
  const dataFile = firstDoc ? path.join(m.outputs[0]!.file, firstDoc.name) : m.outputs[0]?.documents ? undefined : m.outputs[0]?.file;
  const warnings = result.warnings.length + (c.dropped_by_reason.corrupt ?? 0);
  const warningText = warnings ? ` ${warnings} warning${warnings === 1 ? '' : 's'} (see the manifest${result.warnings.length ? ' and the TrajLab log' : ''}).` : '';
  const files = m.outputs.length > 1 ? `${m.outputs.length} files (${m.outputs.map((o) => `${o.split}: ${o.rows}`).join(', ')})` : m.outputs[0] ? path.basename(m.outputs[0].file) : '';
  const buttons = [...(dataFile ? ['Open file'] : []), 'Open manifest'];
  const text =
    c.kept === 0
      ? `Nothing exported as ${m.format}: all ${c.trajectories} trajectories were dropped (${Object.entries(c.dropped_by_reason).map(([k, v]) => `${v} ${k}`).join(', ')}).${warningText}`
      : `Exported ${c.kept} of ${c.trajectories} trajectories (${c.rows} rows) as ${m.format} to ${files}.${warningText}`;
  void ctx.showMessage(c.kept === 0 ? 'warning' : 'info', text, ...buttons).then((pick) => {
    if (pick === 'Open file' && dataFile) void vscode.window.showTextDocument(vscode.Uri.file(dataFile), { preview: true });
    if (pick === 'Open manifest') void vscode.window.showTextDocument(vscode.Uri.file(result.manifestFile), { preview: true });
  });
}
