import type { Task, TaskEval } from '../../../common/src/task';
import { taskEval } from '../../../common/src/task';
import type { Evaluation } from '../../../common/src/trajectory';
import { HARBOR_REWARD_FILES, HARBOR_VERIFIER_DIR, parseHarborReward } from '../harness/harbor';
import { readContainerFile } from '../runtime/archive';
import { shellQuote, type Sandbox } from '../runtime/sandbox';
import { copyTaskFolders, makeContainerDirs, removeTaskFolders, taskFolders } from '../runtime/taskFiles';
import { evaluateWithHarness } from './harnessEvaluate';
import { checkPage, hasPageChecks, writePageForEval } from './pageChecks';
import { BrowserSession } from '../browser/session';
import { gradeTests, parseTestOutput } from './testResults';

/** TrajLab's own tasks' reward files: a number in reward.txt, or `{"reward": x}` / a number in reward.json. */
export const REWARD_FILES = ['/logs/reward.txt', '/logs/reward.json'];

/** Where `eval.files` go when a folder names no destination (Harbor's `/tests`). */
export const DEFAULT_EVAL_FILES_TO = '/tests';

export const DEFAULT_ANSWER_PATTERN = '<answer>(.*?)</answer>';

/**
 * Evaluates an attempt in its container. The reward (0..1) comes from, in this order:
 * 1. `eval.FAIL_TO_PASS` / `PASS_TO_PASS`: the eval commands' output is parsed as test results
 *    (pytest `-rA`/`-v`, node:test TAP/spec); reward 1 iff every listed test passed (SWE-bench's
 *    "resolved").
 * 2. `eval.url_matches` / `eval.page_contains` (browser tasks): the browser's final page must match
 *    and contain them (pageChecks.ts); with `eval.answer` too, the answer must be right as well.
 *    Method `page`, its checks in `page`.
 * 2b. `eval.answer`: the first group of `answer_pattern` in the submission (or, failing that, the
 *    last assistant reply) must equal the answer, trimmed.
 * 3. a reward file written by the eval commands, clamped to 0..1: Harbor's verifier files first
 *    (HARBOR_REWARD_FILES, `/logs/verifier/reward.txt` then `reward.json`, read by Harbor's rules:
 *    harness/harbor.ts parseHarborReward), then our own tasks' (REWARD_FILES). A reward file that
 *    exists but cannot be read or parsed (a directory, a symlink, not a number) is an evaluation
 *    error: reward 0 and `error` set, never rule 4. With `eval.harness: "harbor"` only Harbor's
 *    files count and their absence is an evaluation error too (Harbor's RewardFileNotFoundError:
 *    the exit codes never decide).
 * 4. the eval commands' exit codes: 1 iff all exit 0.
 * With no eval at all the method is `none` and the reward 0. `success` is reward ≥ 1.
 * Before the commands, stale rewards are removed (every reward file read here; for a Harbor
 * task everything in `/logs/verifier`, which is made if missing) and `eval.files` are copied in, each destination
 * emptied first (folders relative to `limits.tasksDir`; default destination `/tests`); they are
 * removed again after the commands, so they exist only while the eval runs. The commands run
 * with `eval.env` exported, each under `eval.timeout`; with `harness: "harbor"` all of this runs
 * once more when a command timed out, and a second timeout is an evaluation error.
 * A task with `eval.harness` `swe-bench` or `swe-smith` is graded by that harness instead
 * (harnessEvaluate.ts): `commands` run as its one eval script, and its log parser and rules
 * decide the tests and the reward.
 * Never throws for a failing eval; engine errors of the eval commands, of copying and removing
 * its files, and aborts propagate.
 */
export async function evaluate(
  task: Task,
  sandbox: Sandbox,
  finalText: { submission: string | null; lastReply: string | null },
  limits: { outputCap: number; signal?: AbortSignal; tasksDir?: string },
): Promise<Evaluation> {
  const ev = taskEval(task);
  if (ev.harness && ev.harness !== 'harbor') return evaluateWithHarness({ ...ev, harness: ev.harness }, sandbox, harnessContext(task), limits);
  const timeoutSec = ev.timeout ?? 300;
  const commands: Evaluation['commands'] = [];
  const evalFiles = taskFolders(ev.files, limits.tasksDir ?? '.', DEFAULT_EVAL_FILES_TO);
  // A browser task's eval commands can query the final page (pageChecks.ts PAGE_DIR).
  const exportEnv = envExports(ev.env) + (ev.commands?.length && BrowserSession.existing(sandbox) ? await writePageForEval(sandbox) : '');
  const harbor = ev.harness === 'harbor';
  // Harbor runs a verifier that timed out once more (trial.py `_verify_with_retry`: tenacity,
  // stop_after_attempt(2), on VerifierTimeoutError); a second timeout leaves no verifier result.
  for (let run = 1; run <= (harbor ? 2 : 1); run++) {
    await clearStaleRewards(sandbox, harbor, limits.signal);
    // The tests come in fresh: whatever the agent left at their destination is gone first.
    await removeTaskFolders(sandbox, evalFiles, sandbox.workdir, limits.signal);
    await copyTaskFolders(sandbox, evalFiles, 'eval.files');
    const start = commands.length;
    for (const command of ev.commands ?? []) {
      const observation = await sandbox.exec(exportEnv + command, { timeoutSec, outputCap: Math.max(limits.outputCap, 4 * 1024 * 1024), signal: limits.signal });
      commands.push({ command, observation });
    }
    await removeTaskFolders(sandbox, evalFiles, sandbox.workdir, limits.signal);
    if (!commands.slice(start).some((c) => c.observation.timed_out)) break;
    if (harbor && run === 2) {
      return { method: 'reward_file', commands, reward: 0, success: false, error: `the verifier timed out (after ${timeoutSec} s, twice: Harbor runs a timed-out verifier once more)` };
    }
  }
  const f2p = ev.FAIL_TO_PASS ?? [];
  const p2p = ev.PASS_TO_PASS ?? [];
  if (f2p.length || p2p.length) {
    const output = commands.map((c) => `${c.observation.stdout}\n${c.observation.stderr}`).join('\n');
    const graded = gradeTests(parseTestOutput(output), f2p, p2p);
    const reward = graded.resolved ? 1 : 0;
    return { method: 'tests', commands, tests: { FAIL_TO_PASS: graded.FAIL_TO_PASS, PASS_TO_PASS: graded.PASS_TO_PASS }, reward, success: graded.resolved };
  }
  if (hasPageChecks(ev)) {
    const page = await checkPage(ev, sandbox);
    const answer = ev.answer !== undefined ? answerOf(ev, finalText) : undefined;
    const success = page.passed && (answer === undefined || answer.right);
    return { method: 'page', commands, page, ...(answer ? { answer: answer.answer } : {}), reward: success ? 1 : 0, success, ...(page.error ? { error: page.error } : {}) };
  }
  if (ev.answer !== undefined) {
    const got = extractAnswer(finalText.submission, ev.answer_pattern) ?? extractAnswer(finalText.lastReply, ev.answer_pattern);
    const success = got !== null && got.trim() === ev.answer.trim();
    return { method: 'answer', commands, answer: { expected: ev.answer, got }, reward: success ? 1 : 0, success };
  }
  for (const file of harbor ? HARBOR_REWARD_FILES : [...HARBOR_REWARD_FILES, ...REWARD_FILES]) {
    let content: Buffer | undefined;
    try {
      content = await readContainerFile(sandbox, file, 1024 * 1024);
    } catch (err) {
      // The file is there but cannot be read as one (a directory, a symlink, an engine error):
      // its reward is unknown, so falling through to exit codes could turn a verifier's 0 into 1.
      return { method: 'reward_file', commands, reward_file: file, reward: 0, success: false, error: `could not read ${file}: ${(err as Error).message}` };
    }
    if (content === undefined) continue; // no such file: the next rule decides
    const text = content.toString('utf8');
    const parsed = HARBOR_REWARD_FILES.includes(file) ? parseHarborReward(file, text) : parseRewardFile(file, text);
    if ('error' in parsed) return { method: 'reward_file', commands, reward_file: file, reward: 0, success: false, error: parsed.error };
    return { method: 'reward_file', commands, reward_file: file, reward: parsed.reward, success: parsed.reward >= 1 };
  }
  if (harbor) {
    return { method: 'reward_file', commands, reward: 0, success: false, error: `no reward file: the verifier wrote neither ${HARBOR_REWARD_FILES.join(' nor ')}` };
  }
  if (commands.length) {
    const ok = commands.every((c) => c.observation.exit_code === 0);
    return { method: 'exit_code', commands, reward: ok ? 1 : 0, success: ok };
  }
  return { method: 'none', commands, reward: 0, success: false, error: 'the task has no eval; nothing decides its reward' };
}

/** The answer the agent gave (submission, else last reply) against `ev.answer` (rule 2b). */
function answerOf(ev: TaskEval, finalText: { submission: string | null; lastReply: string | null }): { answer: { expected: string; got: string | null }; right: boolean } {
  const got = extractAnswer(finalText.submission, ev.answer_pattern) ?? extractAnswer(finalText.lastReply, ev.answer_pattern);
  return { answer: { expected: ev.answer!, got }, right: got !== null && got.trim() === ev.answer!.trim() };
}

/** What a harness's log parsers may read of the task: the instance's repository and version (`metadata`, as `trajlab import` records them). */
function harnessContext(task: Task): { repo?: string; version?: string; instanceId?: string } {
  const m = task.metadata ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { repo: str(m.repo), version: str(m.version), instanceId: str(m.instance_id) ?? task.task_id };
}

/**
 * Removes rewards an agent may have left: every reward file this evaluation reads and, for a
 * Harbor task (`harbor`), everything in Harbor's verifier folder (made first if missing, as
 * Harbor empties it before each verification: `MultiStepTrial._reset_shared_step_verifier_dirs`).
 * Errors: the removal failed (a stale reward could count), engine errors, AbortedError.
 */
async function clearStaleRewards(sandbox: Sandbox, harbor: boolean, signal?: AbortSignal): Promise<void> {
  if (harbor) await makeContainerDirs(sandbox, [HARBOR_VERIFIER_DIR]);
  const command = harbor ? `rm -f ${REWARD_FILES.join(' ')} && find ${HARBOR_VERIFIER_DIR} -mindepth 1 -delete` : `rm -f ${[...HARBOR_REWARD_FILES, ...REWARD_FILES].join(' ')}`;
  const o = await sandbox.exec(command, { timeoutSec: 30, outputCap: 4096, cwd: '/', signal });
  if (o.exit_code !== 0) throw new Error(`could not remove stale reward files before the eval (exit ${o.exit_code}): ${(o.stderr || o.stdout).slice(-500)}`);
}

/**
 * `export NAME='value' …; ` for the eval's environment variables (empty without any), for a
 * command run in its own shell. Errors: a name that is not a shell variable name.
 */
export function envExports(env: Record<string, string> | undefined): string {
  const entries = Object.entries(env ?? {});
  if (!entries.length) return '';
  for (const [name] of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`eval.env: ${JSON.stringify(name)} is not a valid environment variable name`);
  }
  return `export ${entries.map(([name, value]) => `${name}=${shellQuote(String(value))}`).join(' ')}; `;
}

/**
 * The first capture group of `pattern` (default `<answer>(.*?)</answer>`, dot matches newlines)
 * in `text`, or the whole match when the pattern has no group; null when absent or the pattern
 * is not a valid regular expression. The LAST match wins (a model often restates the format first).
 */
export function extractAnswer(text: string | null, pattern = DEFAULT_ANSWER_PATTERN): string | null {
  if (!text) return null;
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'gs');
  } catch {
    return null; // not a valid regular expression (documented): no answer found
  }
  let last: RegExpExecArray | null = null;
  for (const m of text.matchAll(re)) last = m;
  if (!last) return null;
  return (last[1] ?? last[0]).trim();
}

/** Parses a reward file: a number (txt) or `{"reward": number}` / a bare number (json). Clamped to 0..1. */
export function parseRewardFile(file: string, content: string): { reward: number } | { error: string } {
  let value: unknown = content.trim();
  if (file.endsWith('.json')) {
    try {
      value = JSON.parse(content);
    } catch {
      return { error: `${file} is not valid JSON` };
    }
    if (value && typeof value === 'object') value = (value as { reward?: unknown }).reward;
  }
  const n = typeof value === 'number' ? value : Number(value);
  if (typeof value === 'string' && value.trim() === '') return { error: `${file} is empty` };
  if (!Number.isFinite(n)) return { error: `${file} does not hold a number (got ${JSON.stringify(String(value).slice(0, 40))})` };
  return { reward: Math.min(1, Math.max(0, n)) };
}
