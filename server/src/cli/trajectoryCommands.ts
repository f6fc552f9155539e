/**
 * The CLI twins of the trajectory inspector, registered on the `trajlab` program (cli.ts):
 *   trajlab show <file> [--step N [--full]] [--json]
 *   trajlab convert <in> --to trajlab|atif|mini-swe-agent [--out FILE [--overwrite]]
 * Both read any format `readTrajectoryFile` knows (TrajLab, mini-swe-agent, SWE-agent, ATIF).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { exportTrajectory, TRAJECTORY_EXPORT_FORMATS, type TrajectoryExportFormat } from '../export/trajectoryExport';
import { writeFileAtomic } from '../util/fsAtomic';
import { renderStep, renderTrajectory, showJson, STEP_SECTION_CHARS } from './showText';
import { safeJson, sanitizeForTerminal } from '../util/terminal';
import { readTrajectoryFile } from '../import/trajectoryFile';

/** Adds `show` and `convert` to the program. Errors (unknown format, missing step) reject with a message naming the file. */
export function addTrajectoryCommands(program: Command): void {
  program
    .command('show')
    .description('Print a trajectory (TrajLab, mini-swe-agent, SWE-agent or ATIF): a summary and one line per step, or one step in full.')
    .argument('<file>', 'trajectory file')
    .option('--step <n>', 'print step N (0-based) in full: reasoning, reply, tool calls, actions, observations', stepIndex)
    .option('--full', `with --step: print every section whole (by default one longer than ${STEP_SECTION_CHARS.toLocaleString('en')} characters is clipped, with a note)`)
    .option('--json', 'print JSON instead of text (the summary and step lines, or the step)')
    .action(async (file: string, f: { step?: number; json?: boolean; full?: boolean }) => {
      const t = await readTrajectoryFile(file);
      let text: string;
      try {
        const stepOptions = { file, maxSectionChars: f.full ? Infinity : STEP_SECTION_CHARS };
        text = f.json ? showJson(t, f.step) : f.step !== undefined ? renderStep(t, f.step, stepOptions) : renderTrajectory(t, { width: process.stdout.columns || 120, file: path.resolve(file) });
      } catch (err) {
        if (err instanceof RangeError) throw new Error(`${file}: ${err.message}`);
        throw err;
      }
      writeStdout(text);
    });

  program
    .command('convert')
    .description('Convert a trajectory between formats (reads TrajLab, mini-swe-agent, SWE-agent and ATIF).')
    .argument('<in>', 'trajectory file')
    .addOption(new Option('--to <format>', 'output format: trajlab, atif (Harbor ATIF v1.5, v1.6 with images) or mini-swe-agent (trajectory_format mini-swe-agent-1.1)').choices([...TRAJECTORY_EXPORT_FORMATS]).makeOptionMandatory())
    .option('--out <file>', 'write here (atomically) instead of stdout; an existing file (the input too) is refused without --overwrite')
    .option('--overwrite', 'replace an existing --out file')
    .action(async (input: string, f: { to: TrajectoryExportFormat; out?: string; overwrite?: boolean }) => {
      if (f.out && !f.overwrite) refuseExisting(input, f.out);
      const t = await readTrajectoryFile(input);
      const json = safeJson(exportTrajectory(t, f.to, input)) + '\n';
      if (f.out) {
        await writeFileAtomic(f.out, json);
        process.stderr.write(sanitizeForTerminal(`trajlab: ${input} → ${f.out} (${f.to}, ${t.steps.length} steps)`) + '\n');
      } else writeStdout(json);
    });
}

/**
 * Throws when `out` exists (export's rule without `--overwrite`), saying so when it is `input`
 * itself (the same path, or a link to the same file).
 */
function refuseExisting(input: string, out: string): void {
  const o = fs.statSync(out, { throwIfNoEntry: false });
  if (!o) return;
  const i = fs.statSync(input, { throwIfNoEntry: false });
  const same = path.resolve(input) === path.resolve(out) || (!!i && i.dev === o.dev && i.ino === o.ino);
  throw new Error(`${out} exists${same ? ' and is the input file: converting would replace it' : ''}; choose another --out or pass --overwrite to replace it`);
}

/** Writes to stdout; a reader that stops early (`| head`) ends the command quietly instead of an EPIPE crash. */
function writeStdout(text: string): void {
  process.stdout.once('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  process.stdout.write(text);
}

function stepIndex(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`--step must be a step index, an integer ≥ 0 (got "${v}")`);
  return n;
}
