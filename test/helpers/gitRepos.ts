/** Real git repositories for tests (the git CLI, a fixed test identity). */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Runs `git ARGS` in `dir` with a fixed author and committer; returns its stdout, trimmed. Errors: git's exit status. */
export function gitIn(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).toString().trim();
}

/** A real git repository at `dir` with two commits of `version.txt`: v1 (`base`) and v2 (`head`, a later change a task at `base` must not see). */
export function makeVersionRepo(dir: string): { base: string; head: string } {
  fs.mkdirSync(dir, { recursive: true });
  gitIn(dir, 'init', '-q');
  fs.writeFileSync(path.join(dir, 'version.txt'), 'v1\n');
  gitIn(dir, 'add', '-A');
  gitIn(dir, 'commit', '-qm', 'v1');
  const base = gitIn(dir, 'rev-parse', 'HEAD');
  fs.writeFileSync(path.join(dir, 'version.txt'), 'v2\n');
  gitIn(dir, 'commit', '-qam', 'v2');
  return { base, head: gitIn(dir, 'rev-parse', 'HEAD') };
}
