#!/usr/bin/env node
/**
 * The `trajlab` CLI: the same engine as the daemon, headless.
 *   trajlab validate <tasks.jsonl | source> [--gold]
 *   trajlab generate <tasks.jsonl | source> [--model SPEC]… [--models FILE] [--workers N] [--attempts K] [--host URL]… [--hosts FILE] [--metrics-port N] …
 *   trajlab serve --stdio | --socket PATH [--metrics-port N [--metrics-host ADDR]]
 *   trajlab show <file> [--step N [--full]] [--json]
 *   trajlab convert <in> --to trajlab|atif|mini-swe-agent [--out FILE [--overwrite]]
 *   trajlab export <source>... --format F --out FILE [filters] [--split …]
 *   trajlab stats <source>... [--json | --markdown]
 *   trajlab compare <runA> <runB> [--json | --markdown]
 *   trajlab gc [--host URL]
 *   trajlab import <source>... --out tasks.jsonl [--from F] [--filter GLOB] [--limit N] [--image-template T]
 *   trajlab images pull <tasks|source>... [--host URL] [--parallel N]
 *   trajlab hosts list [--host URL]… [--hosts FILE] | drain <url> [-o out] | undrain <url> [-o out]
 *   trajlab worker --queue URL [--host URL | --hosts FILE] [--workers N] [--gpus IDS] [--task-types T,…] [--name NAME] [--metrics-port N]
 */
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { utcStamp } from '../../common/src/format';
import type { RunOptions, RunReport } from '../../common/src/run';
import { RUN_DEFAULTS, RunEngine } from './run/engine';
import { int, num, runOptionFlags, runOptionsOf, withHosts, withModels } from './cli/runOptionFlags';
import { formatRejected } from './tasks/reader';
import { readTasksOrSource } from './import/sourceReader';
import { addImportCommand } from './cli/importCommand';
import { stderrLogger } from './util/log';
import { safeJson, sanitizeForTerminal } from './util/terminal';
import { TRAJLAB_VERSION } from './version';
import { limitHeapGrowth } from './util/heap';
import { ProgressView, printSummary } from './cli/progress';
import { serve } from './main';
import { addTrajectoryCommands } from './cli/trajectoryCommands';
import { addDatasetCommands } from './cli/datasetCommands';
import { addGcCommand } from './cli/gcCommand';
import { addImagesCommand } from './cli/imagesCommand';
import { metricsOptions, withMetricsEndpoint, type MetricsFlags } from './cli/metricsFlags';
import { addHostsCommand } from './cli/hostsCommand';
import { addWorkerCommand } from './cli/workerCommand';

/** How `generate` shows a run: JSON events on stdout, or a progress bar (unless `--no-progress`) on stderr. */
interface OutputFlags {
  json?: boolean;
  progress: boolean;
}

/**
 * Runs an engine with a progress bar (or JSON events), Ctrl-C / SIGTERM handling (first signal
 * cancels and removes containers, a second one exits at once), and returns the report.
 */
async function runWithProgress(engine: RunEngine, view: ProgressView | undefined): Promise<RunReport> {
  const onSignal = (sig: NodeJS.Signals) => {
    if (engine.signal.aborted) process.exit(sig === 'SIGINT' ? 130 : 143);
    process.stderr.write(`\ntrajlab: ${sig}: cancelling the run and removing its containers (again to quit at once)…\n`);
    // The shell's convention: 128 + the signal's number.
    process.exitCode = sig === 'SIGINT' ? 130 : 143;
    engine.cancel();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await engine.run();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    view?.stop();
  }
}

/** An engine for `options` whose events go to stdout as JSON lines (`--json`) or to a progress view titled `label`. */
function makeEngine(options: Partial<RunOptions> & { tasksFile: string }, f: OutputFlags, label: string): { engine: RunEngine; view?: ProgressView } {
  const view = f.json ? undefined : new ProgressView(label, f.progress && !!process.stderr.isTTY);
  const engine = new RunEngine(options, {
    logger: view ? view.logger : stderrLogger,
    onEvent: (e) => {
      if (f.json) process.stdout.write(safeJson(e, 0) + '\n');
      else view!.update(e);
    },
  });
  return { engine, view };
}

/**
 * The `trajlab` command line (commander): validate, generate and serve here, the trajectory
 * commands (show, convert), the dataset commands (export, stats, compare) and gc added by
 * their modules. Parsing runs the chosen command's action; a bad flag value fails with the help.
 */
export function buildProgram(): Command {
  const program = new Command('trajlab')
    .description('Generate agent trajectories as training data, in Docker sandboxes.')
    .version(TRAJLAB_VERSION)
    .showHelpAfterError();

  program
    .command('validate')
    .description('Check a tasks.jsonl file against the task schema; print file:line:col: message for each bad line.')
    .argument('<tasks>', 'tasks.jsonl file, or a task source `trajlab import` reads (instances .json/.jsonl/.parquet, Harbor task folders), imported in memory')
    .option('--gold', "also run every task's eval before and after its reference solution (in Docker), like SWE-smith's validation")
    .option('--out <dir>', 'output folder for --gold runs', RUN_DEFAULTS.out)
    .option('--host <url>', 'Docker host for --gold')
    .option('--workers <n>', 'parallel attempts for --gold', int('--workers', 1), RUN_DEFAULTS.workers)
    .option('--image <image>', 'image for tasks that name none', RUN_DEFAULTS.defaultImage)
    .action(async (tasks: string, f: { gold?: boolean; out: string; host?: string; workers: number; image: string }) => {
      const { tasks: good, rejected } = await readTasksOrSource(tasks);
      // Key names, task ids and the file name come from the user's files: never raw to a terminal.
      for (const r of rejected) process.stdout.write(sanitizeForTerminal(formatRejected(r)) + '\n');
      const bad = new Set(rejected.map((r) => r.line)).size;
      process.stderr.write(`${good.length} task(s) valid, ${bad} line(s) rejected\n`);
      let failed = bad > 0;
      if (f.gold) failed = (await validateGold(tasks, f)) || failed;
      // A signal already set 130 / 143.
      process.exitCode ??= failed ? 1 : 0;
    });

  const generate = program
    .command('generate')
    .description('Run an agent on every task (× attempts) in Docker and write evaluated trajectories.')
    .argument('<tasks>', 'tasks.jsonl file, or a task source `trajlab import` reads (instances .json/.jsonl/.parquet, Harbor task folders), imported in memory');
  for (const option of runOptionFlags()) generate.addOption(option);
  for (const option of metricsOptions()) generate.addOption(option);
  generate
    .option('--hosts <file>', 'a pool of Docker hosts: a YAML or JSON list of {url, name?, workers?, gpus?, labels?, enabled?} (or {hosts: [...]}); adds to --host')
    .option('--models <file>', 'a models list in order of priority: a YAML or JSON list of {model, name?, base_url?, api_key_env?, weight?, max_concurrency?, rpm?, tpm?, context_window?, vision?, price?, max_retries?, cooldown_sec?, temperature?, top_p?, seed?, max_tokens?, stop?, extra_body?} (or {models: [...]}); adds to --model')
    .option('--json', 'print machine-readable progress events (JSON lines) on stdout')
    .option('--no-progress', 'no progress bar')
    .addHelpText('after', '\nAPI keys (*_API_KEY) and URL passwords are printed and written nowhere: echoed back by an endpoint, they read [redacted].')
    .action(async (tasks: string, f: OutputFlags & MetricsFlags & Record<string, unknown>) => {
      const options = await withModels(await withHosts(runOptionsOf(f), f.hosts as string | undefined), f.models as string | undefined);
      const { engine, view } = makeEngine({ ...options, tasksFile: tasks }, f, 'generate');
      process.stderr.write(sanitizeForTerminal(`trajlab: run ${engine.runId} → ${path.relative(process.cwd(), engine.store.dir) || '.'}`) + '\n');
      const report = await withMetricsEndpoint(f, () => runWithProgress(engine, view));
      if (f.json) process.stdout.write(safeJson({ type: 'report', report }, 0) + '\n');
      else printSummary(engine, report);
    });

  const serveCommand = program
    .command('serve')
    .description('Start the daemon (a language server) for the VS Code extension.')
    .option('--stdio', 'talk LSP over stdin/stdout')
    .option('--socket <path>', 'listen on a unix socket; runs outlive the clients')
    .option('--out <dir>', 'default output folder', RUN_DEFAULTS.out)
    .option('--idle-exit <s>', 'with --socket: exit after this many seconds with no client and no run (0: never)', num('--idle-exit', 0), 0);
  for (const option of metricsOptions()) serveCommand.addOption(option);
  serveCommand.action(async (f: { stdio?: boolean; socket?: string; out: string; idleExit: number } & MetricsFlags) => {
    if (!f.stdio && !f.socket) throw new InvalidArgumentError('serve needs --stdio or --socket PATH');
    await serve({ stdio: f.stdio, socket: f.socket, out: f.out, idleExitSec: f.idleExit || undefined, metricsPort: f.metricsPort, metricsHost: f.metricsHost });
  });

  addTrajectoryCommands(program);
  addDatasetCommands(program);
  addGcCommand(program);
  addImportCommand(program);
  addImagesCommand(program);
  addHostsCommand(program);
  addWorkerCommand(program);

  return program;
}

/**
 * `validate --gold`: runs every task twice in Docker, once submitting nothing (eval must fail)
 * and once with its reference solution (eval must pass), and lists the tasks that break either
 * rule. Returns true when any task is broken.
 */
async function validateGold(tasks: string, f: { out: string; host?: string; workers: number; image: string }): Promise<boolean> {
  const base = { tasksFile: tasks, workers: f.workers, attempts: 1, out: f.out, host: f.host, mode: 'tools' as const, defaultImage: f.image };
  const output: OutputFlags = { progress: true };
  const stamp = utcStamp();
  const before = makeEngine({ ...base, model: 'noop', runId: `validate-${stamp}-before` }, output, 'before fix');
  const beforeReport = await runWithProgress(before.engine, before.view);
  if (before.engine.signal.aborted) return true; // cancelled: do not start the gold pass
  const after = makeEngine({ ...base, model: 'gold', runId: `validate-${stamp}-after` }, output, 'gold');
  const afterReport = await runWithProgress(after.engine, after.view);
  const passBefore = beforeReport.ids_resolved;
  const failAfter = afterReport.ids_unresolved;
  for (const id of passBefore) process.stdout.write(sanitizeForTerminal(`${JSON.stringify(id)}: eval passes BEFORE the fix (the task is already solved or its eval checks nothing)`) + '\n');
  for (const id of failAfter) process.stdout.write(sanitizeForTerminal(`${JSON.stringify(id)}: eval FAILS with the gold solution (see ${after.engine.store.trajectoryPath(id, 1)})`) + '\n');
  const ok = afterReport.total - new Set([...passBefore, ...failAfter]).size;
  process.stderr.write(`gold validation: ${ok}/${afterReport.total} task(s) fail before the fix and pass after it\n`);
  return passBefore.length > 0 || failAfter.length > 0;
}

if (require.main === module) {
  limitHeapGrowth();
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: Error) => {
      process.stderr.write(`trajlab: ${sanitizeForTerminal(err.message)}\n`);
      process.exit(1);
    });
}
