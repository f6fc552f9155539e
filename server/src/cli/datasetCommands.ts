/**
 * The dataset commands of the `trajlab` CLI, registered on the program (cli.ts):
 *   trajlab export <source>... --format F --out FILE [filters] [--split train=0.9,val=0.1] [--seed N]
 *                  [--dedupe [exact|near[:T]]] [--max-repeats N] [--no-flag F,…] [--keep-tampered]
 *                  [--token-counts] [--max-tokens N] [--tokenizer T] [--reasoning] [--no-metadata]
 *                  [--tool-arguments string|object] [--chat-template FILE[#NAME]] [--strict]
 *                  [--secrets redact|fail|keep|off] [--select K [--by diversity] [--quota KEY=MIN]...]
 *   trajlab stats <source>... [filters] [--select K … --seed N] [--json | --markdown] [--rows] [--no-secrets]
 *   trajlab compare <runA> <runB> [filters] [--json | --markdown] [--all]
 *   trajlab report <source>... (--out report.html | --json) [filters] [--near-threshold T] [--examples N]
 *                  [--no-secrets] [--overwrite]
 * A source is a run folder, a folder of trajectory files (any format TrajLab reads), a
 * trajectory file, or an export manifest. The work is done by `exportTrajectories`
 * (export/dataset.ts), `computeStats` and `compareRuns` (stats/), `computeQualityReport`
 * (stats/qualityReport.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { DatasetProgress, ExportFormat, SecretsMode, SecretTally, SelectBy, SelectionFilters, SelectionQuota, TokenizerName, ToolArgumentsForm, TrajectoryFlag } from '../../../common/src/dataset';
import { EXPORT_FORMATS, NEAR_DUPLICATE_THRESHOLD, parseQuota, QUOTA_KEYS, SECRETS_MODES, SELECT_BY, TOKENIZERS, TOOL_ARGUMENT_FORMS, TRAJECTORY_FLAGS } from '../../../common/src/dataset';
import { sanitizeForTerminal, safeJson } from '../util/terminal';
import { compareRuns } from '../stats/compare';
import { renderComparison, renderStatsMarkdown, renderStatsText, selectionLine } from '../stats/render';
import { computeStats } from '../stats/stats';
import { AbortedError } from '../util/abort';
import { exportTrajectories } from '../export/dataset';
import { parseSplitSpec } from '../dataset/select';
import { computeQualityReport } from '../stats/qualityReport';
import { writeQualityReportHtml } from '../stats/qualityReportHtml';
import type { QualityReport } from '../../../common/src/qualityReport';

interface FilterFlags {
  run?: string[];
  taskType?: string[];
  successOnly?: boolean;
  resolvedOnly?: boolean;
  minReward?: number;
  maxReward?: number;
  exitStatus?: string[];
  minSteps?: number;
  maxSteps?: number;
  minTotalTokens?: number;
  maxTotalTokens?: number;
  task?: string;
  /** `--dedupe` alone is true (exact). */
  dedupe?: true | Dedupe;
  maxRepeats?: number;
  /** `--no-flag`: commander's negated option is `true` when absent, the list when given. */
  flag?: TrajectoryFlag[] | boolean;
  keepTampered?: boolean;
  bestPerTask?: boolean;
  maxPerTask?: number;
  includeUnfinished?: boolean;
  select?: number;
  by?: SelectBy;
  quota?: SelectionQuota[];
  /** Export: also the split's seed. */
  seed?: number;
}

type Dedupe = { mode: 'exact' } | { mode: 'near'; threshold?: number };

/** `--dedupe exact`, `--dedupe near`, `--dedupe near:0.9`. */
function dedupeArg(v: string): Dedupe {
  if (v === 'exact') return { mode: 'exact' };
  const m = /^near(?::(.*))?$/.exec(v.trim());
  if (m) {
    if (m[1] === undefined) return { mode: 'near' };
    const t = Number(m[1]);
    if (m[1].trim() && Number.isFinite(t) && t > 0 && t <= 1) return { mode: 'near', threshold: t };
    throw new InvalidArgumentError(`the threshold of --dedupe near:THRESHOLD must be a number in (0, 1] (got "${m[1]}")`);
  }
  throw new InvalidArgumentError(`"${v}" is not exact, near or near:THRESHOLD (e.g. near:0.9); name the sources before --dedupe, or write --dedupe exact`);
}

/** `--no-flag loop,format-errors` (repeatable). */
function flagList(v: string, acc: unknown): TrajectoryFlag[] {
  const out = Array.isArray(acc) ? [...(acc as TrajectoryFlag[])] : [];
  for (const f of v.split(',').map((x) => x.trim()).filter(Boolean)) {
    if (!(TRAJECTORY_FLAGS as readonly string[]).includes(f)) throw new InvalidArgumentError(`unknown flag "${f}"; the flags are ${TRAJECTORY_FLAGS.join(', ')}`);
    out.push(f as TrajectoryFlag);
  }
  return out;
}

/** `--quota type=2` (repeatable; `type=2,repo=1` too). */
function quotaList(v: string, acc: SelectionQuota[] = []): SelectionQuota[] {
  const q = parseQuota(v);
  if (typeof q === 'string') throw new InvalidArgumentError(q);
  return [...acc, ...q];
}

const list = (v: string, acc: string[] = []) => [...acc, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

function number(name: string) {
  return (v: string) => {
    const n = Number(v);
    if (!v.trim() || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number (got "${v}")`);
    return n;
  };
}

function integer(name: string, min: number) {
  return (v: string) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min} (got "${v}")`);
    return n;
  };
}

/**
 * Adds the selection filters shared by export, stats and compare (`--keep-tampered`: export only;
 * the others keep them; `--select`, `--by`, `--quota`: export and stats, which add `--seed`).
 */
function withFilters(cmd: Command, opts: { unfinished: boolean; tampered?: boolean; select?: boolean }): Command {
  cmd
    .option('--run <id>', 'only trajectories of this run id (repeatable, or comma-separated)', list)
    .option('--task <glob>', 'only task ids matching this glob (picomatch; * does not cross /)')
    .option('--task-type <type>', 'only this task type: code, swe, reasoning, web, unknown (repeatable)', list)
    .option('--exit-status <status>', 'only this exit status: submitted, step_limit, cost_limit, timeout, error, cancelled (repeatable)', list)
    .option('--success-only', "only trajectories whose result says success")
    .option('--resolved-only', "only trajectories that resolved their task (the run's report.json; else the trajectory's own result)")
    .option('--min-reward <r>', 'only rewards ≥ r (unknown rewards are dropped)', number('--min-reward'))
    .option('--max-reward <r>', 'only rewards ≤ r', number('--max-reward'))
    .option('--min-steps <n>', 'only trajectories with at least n steps', integer('--min-steps', 0))
    .option('--max-steps <n>', 'only trajectories with at most n steps', integer('--max-steps', 0))
    .option('--min-total-tokens <n>', 'only trajectories whose prompt + completion tokens (provider usage) are ≥ n', integer('--min-total-tokens', 0))
    .option('--max-total-tokens <n>', 'only trajectories whose prompt + completion tokens (provider usage) are ≤ n', integer('--max-total-tokens', 0))
    .option('--dedupe [mode]', `drop duplicates within a task, the best one staying (reward, then fewest steps): exact (the default: the same action sequence), near or near:THRESHOLD (exact duplicates, and those whose estimated Jaccard of the normalised actions and of the diff ≥ THRESHOLD, default ${NEAR_DUPLICATE_THRESHOLD}; MinHash + LSH)`, dedupeArg)
    .option('--max-repeats <n>', 'drop trajectories that repeat one action more than n times with no state change in between (loops)', integer('--max-repeats', 0))
    .option('--no-flag <flags>', `drop trajectories with any of these flags (comma-separated, repeatable): ${TRAJECTORY_FLAGS.join(', ')}`, flagList)
    .option('--best-per-task', 'keep one trajectory per task: highest reward, then fewest steps')
    .option('--max-per-task <k>', 'keep at most k trajectories per task (ranked as --best-per-task)', integer('--max-per-task', 1));
  if (opts.unfinished) cmd.option('--include-unfinished', 'keep attempts that have not finished (no result)');
  if (opts.select) {
    cmd
      .option('--select <k>', 'last, keep k trajectories that cover the task and behaviour space (--by diversity: k-center greedy over MinHash distances of task text and normalised actions); the others are dropped as not_selected, each pick says why in the manifest', integer('--select', 1))
      .addOption(new Option('--by <method>', 'how --select chooses (default diversity)').choices([...SELECT_BY]))
      .option('--quota <key=min>', `with --select: at least min picks from every group of key (all of a group that has fewer; repeatable): ${QUOTA_KEYS.join(', ')} (difficulty: FAIL_TO_PASS count bucket none, 1, 2-3, 4-9, 10+) or metadata.NAME (the task's metadata.NAME). The per-task cap is --max-per-task`, quotaList);
  }
  if (opts.tampered) cmd.option('--keep-tampered', 'keep trajectories flagged tampered (edited the tests that grade them, or read the hidden tests or the gold solution); dropped by default');
  return cmd;
}

/** `--select K [--by M] [--quota …] [--seed N]` as SelectionFilters.select. Throws InvalidArgumentError for --by or --quota without --select. */
function selectOf(f: FilterFlags): SelectionFilters['select'] {
  if (f.select === undefined) {
    if (f.by !== undefined || f.quota !== undefined) throw new InvalidArgumentError(`${f.by !== undefined ? '--by' : '--quota'} applies to --select K; give --select too`);
    return undefined;
  }
  return { k: f.select, by: f.by ?? 'diversity', ...(f.seed !== undefined ? { seed: f.seed } : {}), ...(f.quota ? { quotas: f.quota } : {}) };
}

function filtersOf(f: FilterFlags): SelectionFilters {
  const out: SelectionFilters = {
    runs: f.run,
    taskTypes: f.taskType,
    successOnly: f.successOnly,
    resolvedOnly: f.resolvedOnly,
    minReward: f.minReward,
    maxReward: f.maxReward,
    exitStatuses: f.exitStatus,
    minSteps: f.minSteps,
    maxSteps: f.maxSteps,
    minTotalTokens: f.minTotalTokens,
    maxTotalTokens: f.maxTotalTokens,
    taskGlob: f.task,
    dedupe: f.dedupe === undefined ? undefined : f.dedupe === true ? true : f.dedupe.mode,
    nearThreshold: typeof f.dedupe === 'object' && f.dedupe.mode === 'near' ? f.dedupe.threshold : undefined,
    maxRepeats: f.maxRepeats,
    noFlags: Array.isArray(f.flag) ? f.flag : undefined,
    keepTampered: f.keepTampered,
    bestPerTask: f.bestPerTask,
    maxPerTask: f.maxPerTask,
    includeUnfinished: f.includeUnfinished,
    select: selectOf(f),
  };
  for (const k of Object.keys(out) as (keyof SelectionFilters)[]) if (out[k] === undefined) delete out[k];
  return out;
}

/** A progress line on stderr when it is a terminal (nothing otherwise). */
function progressLine(label: string): { update: (p: DatasetProgress) => void; done: () => void } {
  const tty = !!process.stderr.isTTY;
  let shown = false;
  return {
    update: (p) => {
      if (!tty || p.phase === 'list') return;
      shown = true;
      process.stderr.write(`\r\x1b[K${label}: ${p.phase} ${p.done}/${p.total} (kept ${p.kept}, dropped ${p.dropped})`);
    },
    done: () => {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}

/** Runs `job` with an AbortSignal that SIGINT / SIGTERM fire; exit code 130 / 143 when they do. */
async function cancellable<T>(job: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
  const ac = new AbortController();
  let code = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) process.exit(code);
    code = sig === 'SIGINT' ? 130 : 143;
    ac.abort('cancelled');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await job(ac.signal);
  } catch (err) {
    if (err instanceof AbortedError) {
      process.stderr.write('\ntrajlab: cancelled; nothing was written\n');
      process.exitCode = code || 130;
      return undefined;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function writeStdout(text: string): void {
  process.stdout.once('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  process.stdout.write(text);
}

/** A path for a message: relative to the working folder when inside it, else absolute. */
const rel = (f: string) => {
  const r = path.relative(process.cwd(), f);
  return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : f;
};

/** `3 redacted in 1 trajectory (aws-access-key-id 1, github-token 1, private-key 1)`. */
function secretsLine(t: SecretTally, verb = t.mode === 'redact' ? 'redacted' : t.mode === 'keep' ? 'found and kept (--secrets keep)' : 'found'): string {
  const rules = Object.entries(t.by_rule).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k, v]) => `${k} ${v}`);
  return `${t.found} ${verb} in ${t.trajectories} trajector${t.trajectories === 1 ? 'y' : 'ies'} (${rules.join(', ')})`;
}

/** `flag 3, other 1` of the flags a report raised (or `none`). */
function reportFlagsLine(r: QualityReport): string {
  const raised = TRAJECTORY_FLAGS.filter((k) => r.flags[k].count).map((k) => `${k} ${r.flags[k].count}`);
  return raised.length ? raised.join(', ') : 'none';
}

/** Adds `export`, `stats`, `compare` and `report` to the program. */
export function addDatasetCommands(program: Command): void {
  const exp = program
    .command('export')
    .description('Export trajectories (runs, folders, files; TrajLab or imported formats) as training data, with a manifest next to it. A file that is no readable trajectory is reported (file and why) and skipped.')
    .argument('<sources...>', 'run folders, trajectory folders, trajectory files or export manifests')
    .addOption(new Option('--format <format>', 'output format').choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .requiredOption('--out <file>', 'output file (splits go to <stem>.<split><ext>; the manifest to <stem>.manifest.json). --format atif: a folder (one <task_id>.<attempt>.json per trajectory; manifest <folder>.manifest.json), a .json file (one document, exactly one trajectory) or a .jsonl file (JSON Lines)');
  withFilters(exp, { unfinished: true, tampered: true, select: true })
    .option('--split <spec>', 'split by task, e.g. train=0.9,val=0.1 (a task never lands in two splits)')
    .option('--seed <n>', 'seed of the split and of --select (its first pick and ties; default 0)', integer('--seed', 0))
    .option('--token-counts', 'add a token count to every row (metadata.num_tokens)')
    .option('--max-tokens <n>', 'drop rows over n tokens (a sample row, or the whole trajectory)', integer('--max-tokens', 1))
    .addOption(new Option('--tokenizer <name>', 'tokenizer for token counts').choices([...TOKENIZERS]).default('o200k_base'))
    .option('--reasoning', "include the model's reasoning text (reasoning_content, or <think>…</think>)")
    .option('--no-metadata', 'leave TrajLab metadata out of the rows')
    .addOption(new Option('--tool-arguments <form>', "tool-call arguments: a JSON string (OpenAI's fine-tuning form) or an object (the dict transformers' chat templates read)").choices([...TOOL_ARGUMENT_FORMS]).default('string'))
    .option('--chat-template <file>', 'render every row through this chat template (a .jinja file, or a tokenizer_config.json; FILE#NAME for one of its named templates) and drop the rows it cannot render or that lose text or a tool call (reasons in the manifest); token counts then count the rendered text')
    .option('--strict', 'with --chat-template: fail the export on the first row that does not render, instead of dropping it')
    .addOption(new Option('--secrets <mode>', 'secrets (API keys, tokens, private keys, credentials) found in the exported texts: redact them as <REDACTED:rule>, fail (exit 1 naming trajectory, step and rule; nothing is written), keep them (still counted), or off (no scan). Counts per rule go to the manifest').choices([...SECRETS_MODES]).default('redact'))
    .option('--overwrite', 'replace existing output files')
    .option('--json', 'print the result (manifest path, counts, outputs) as JSON on stdout')
    .action(async (sources: string[], f: FilterFlags & { secrets: SecretsMode; format: ExportFormat; out: string; split?: string; seed?: number; tokenCounts?: boolean; maxTokens?: number; tokenizer: TokenizerName; reasoning?: boolean; metadata: boolean; toolArguments: ToolArgumentsForm; chatTemplate?: string; strict?: boolean; overwrite?: boolean; json?: boolean }) => {
      let split;
      try {
        split = f.split !== undefined ? parseSplitSpec(f.split) : undefined;
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
      const progress = progressLine('export');
      const result = await cancellable((signal) =>
        exportTrajectories(
          sources,
          {
            format: f.format,
            out: f.out,
            filters: filtersOf(f),
            split,
            seed: f.seed,
            tokenCounts: f.tokenCounts,
            maxTokens: f.maxTokens,
            tokenizer: f.tokenizer,
            includeReasoning: f.reasoning,
            metadata: f.metadata,
            toolArguments: f.toolArguments,
            chatTemplate: f.chatTemplate,
            strict: f.strict,
            overwrite: f.overwrite,
            secrets: f.secrets,
            command: ['trajlab', ...process.argv.slice(2)],
          },
          progress.update,
          signal,
        ).finally(progress.done),
      );
      if (!result) return;
      const m = result.manifest;
      for (const w of result.warnings) process.stderr.write(`warning: ${sanitizeForTerminal(w)}\n`);
      const corrupt = m.trajectories.filter((e) => e.reason === 'corrupt');
      for (const e of corrupt.slice(0, 20)) process.stderr.write(`warning: ${sanitizeForTerminal(`${rel(e.file)}: ${e.detail}`)} (not exported)\n`);
      if (corrupt.length > 20) process.stderr.write(`warning: … and ${corrupt.length - 20} more corrupt file(s), listed in the manifest\n`);
      const unrendered = m.trajectories.filter((e) => e.reason === 'chat_template');
      for (const e of unrendered.slice(0, 5)) process.stderr.write(`warning: ${sanitizeForTerminal(`${rel(e.file)}: ${e.detail}`)} (not exported)\n`);
      if (unrendered.length > 5) process.stderr.write(`warning: … and ${unrendered.length - 5} more row(s) the chat template cannot render, listed in the manifest\n`);
      const reasons = Object.entries(m.counts.dropped_by_reason).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${v} ${k}`);
      process.stderr.write(`trajlab: exported ${m.counts.kept} of ${m.counts.trajectories} trajectories (${m.counts.rows} rows${m.counts.tokens !== null ? `, ${m.counts.tokens} tokens` : ''}) as ${m.format}\n`);
      for (const o of m.outputs) process.stderr.write(`  ${o.split ? `${o.split}: ` : ''}${rel(o.file)} (${o.rows} rows, ${o.tasks} tasks)\n`);
      if (reasons.length) process.stderr.write(`  dropped: ${reasons.join(', ')}\n`);
      if (m.selection) process.stderr.write(`  selected: ${selectionLine(m.selection)}\n`);
      if (m.secrets?.found) process.stderr.write(`  secrets: ${secretsLine(m.secrets)}\n`);
      process.stderr.write(`  manifest: ${rel(result.manifestFile)}\n`);
      if (m.counts.kept === 0) process.stderr.write('warning: nothing was exported (see the reasons above)\n');
      if (f.json) writeStdout(safeJson({ manifest: result.manifestFile, counts: m.counts, outputs: m.outputs }) + '\n');
    });

  const st = program
    .command('stats')
    .description('Statistics of runs or trajectory folders: success, resolved, pass@k, reward / steps / tokens / cost / duration, exit statuses, failing commands, per task type and run. A file that is no readable trajectory is listed (file and why) and not counted.')
    .argument('<sources...>', 'run folders, trajectory folders, trajectory files or export manifests');
  withFilters(st, { unfinished: false, select: true })
    .option('--seed <n>', 'seed of --select (its first pick and ties; default 0)', integer('--seed', 0))
    .option('--json', 'print the statistics as JSON')
    .option('--markdown', 'print the quality report as Markdown')
    .option('--rows', 'with --json: include one row per trajectory')
    .option('--no-secrets', 'skip the scan for secrets (API keys, tokens, private keys) that an export would redact')
    .action(async (sources: string[], f: FilterFlags & { json?: boolean; markdown?: boolean; rows?: boolean; secrets: boolean }) => {
      if (f.json && f.markdown) throw new InvalidArgumentError('choose one of --json and --markdown');
      const progress = progressLine('stats');
      const stats = await cancellable((signal) => computeStats(sources, { filters: filtersOf(f), rows: f.rows, secrets: f.secrets }, progress.update, signal).finally(progress.done));
      if (!stats) return;
      writeStdout(f.json ? safeJson(stats) + '\n' : f.markdown ? renderStatsMarkdown(stats) : renderStatsText(stats));
    });

  const cmp = program
    .command('compare')
    .description('Compare two runs task by task: reward, steps, cost; tasks fixed and broken; paired differences B − A.')
    .argument('<a>', 'run folder (or trajectory folder / file) A')
    .argument('<b>', 'run folder (or trajectory folder / file) B');
  withFilters(cmp, { unfinished: true })
    .option('--json', 'print the comparison as JSON')
    .option('--markdown', 'print the comparison as Markdown')
    .option('--all', 'list every task, not only those that changed')
    .action(async (a: string, b: string, f: FilterFlags & { json?: boolean; markdown?: boolean; all?: boolean }) => {
      if (f.json && f.markdown) throw new InvalidArgumentError('choose one of --json and --markdown');
      const progress = progressLine('compare');
      const c = await cancellable((signal) => compareRuns([a], [b], { filters: filtersOf(f) }, progress.update, signal).finally(progress.done));
      if (!c) return;
      writeStdout(f.json ? safeJson(c) + '\n' : renderComparison(c, { markdown: f.markdown, allTasks: f.all }));
    });

  const rep = program
    .command('report')
    .description('A quality report of runs or trajectory folders: counts and examples per curation flag (with the step), near-duplicate clusters, secrets by rule (where, never what), tampered trajectories, coverage by task type, repository, reward and steps. Written as one self-contained HTML file (charts included, no network) whose links open each trajectory at the offending step in VS Code; --json prints the report instead.')
    .argument('<sources...>', 'run folders, trajectory folders, trajectory files or export manifests');
  withFilters(rep, { unfinished: false, select: true })
    .option('--out <file>', 'the HTML file to write (e.g. report.html)')
    .option('--json', 'print the report as JSON on stdout')
    .option('--near-threshold <t>', `Jaccard threshold of the near-duplicate clusters, in (0, 1] (default ${NEAR_DUPLICATE_THRESHOLD}, as --dedupe near)`, number('--near-threshold'))
    .option('--examples <n>', 'examples listed per flag and per secret rule (default 10)', integer('--examples', 0))
    .option('--no-secrets', 'skip the scan for secrets')
    .option('--overwrite', 'replace an existing --out file')
    .action(async (sources: string[], f: FilterFlags & { out?: string; json?: boolean; nearThreshold?: number; examples?: number; secrets: boolean; overwrite?: boolean }) => {
      if (!f.out && !f.json) throw new InvalidArgumentError('say where the report goes: --out report.html, or --json to print it');
      if (f.nearThreshold !== undefined && !(f.nearThreshold > 0 && f.nearThreshold <= 1)) throw new InvalidArgumentError(`--near-threshold must be a number in (0, 1] (got ${f.nearThreshold})`);
      const out = f.out !== undefined ? path.resolve(f.out) : undefined;
      if (out && !f.overwrite && fs.existsSync(out)) throw new InvalidArgumentError(`${rel(out)} exists; choose another --out or add --overwrite`);
      const progress = progressLine('report');
      const report = await cancellable((signal) =>
        computeQualityReport(sources, { filters: filtersOf(f), nearThreshold: f.nearThreshold, examples: f.examples, secrets: f.secrets }, progress.update, signal).finally(progress.done),
      );
      if (!report) return;
      if (out) {
        await writeQualityReportHtml(out, report);
        const nd = report.near_duplicates;
        process.stderr.write(`trajlab: quality report of ${report.trajectories} trajectories written to ${rel(out)}\n`);
        process.stderr.write(`  flags: ${reportFlagsLine(report)}\n`);
        process.stderr.write(`  near-duplicates: ${nd.clusters} cluster(s), ${nd.redundant} redundant (threshold ${nd.threshold})\n`);
        if (report.secrets?.found) process.stderr.write(`  secrets: ${secretsLine(report.secrets, 'found')}\n`);
      }
      if (f.json) writeStdout(safeJson(report) + '\n');
    });
}
