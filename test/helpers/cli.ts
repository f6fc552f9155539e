/**
 * Runs the real `trajlab` CLI (server/src/cli.ts through tsx) as a child process, in its own
 * process group so a test can kill it and everything it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from './engineHelpers';

export const CLI_ENTRY = path.join(REPO_ROOT, 'server', 'src', 'cli.ts');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  /** Output so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Settles when the process exits; rejects (after killing its group) past `timeoutMs`. */
  done: Promise<CliResult>;
  /** Sends `signal` to the CLI's whole process group. */
  killGroup(signal: NodeJS.Signals): void;
}

/** The BUILT CLI (`npm run -s build` first). */
export const BUILT_CLI = path.join(REPO_ROOT, 'dist', 'trajlab.js');

/** How to run the CLI: environment, working folder (default the repository root), time bound, and `built` for dist/trajlab.js. */
export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  cwd?: string;
  /** Run the built `node dist/trajlab.js` instead of the sources through tsx. */
  built?: boolean;
  /** With `built`: the built CLI to run (a copy of dist/trajlab.js elsewhere); default BUILT_CLI. */
  script?: string;
}

/** Starts `node --import tsx server/src/cli.ts ...args` (or, `built`, `node dist/trajlab.js ...args`) in the repository root. */
export function startCli(args: string[], opts: CliOptions = {}): CliProcess {
  const argv = opts.built ? [opts.script ?? BUILT_CLI, ...args] : ['--import', 'tsx', CLI_ENTRY, ...args];
  const child = spawn(process.execPath, argv, {
    cwd: opts.cwd ?? REPO_ROOT,
    env: opts.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const done = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup('SIGKILL');
      reject(new Error(`trajlab ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout:\n${stdout.slice(-3000)}\nstderr:\n${stderr.slice(-3000)}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    done,
    killGroup,
  };
}

/** Runs the CLI to the end (bounded by `timeoutMs`). */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return startCli(args, opts).done;
}
