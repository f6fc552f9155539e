/**
 * What `trajlab show` prints (server/src/dataset/overview.ts, cli/showText.ts, util/terminal.ts): the summary with
 * unknown values said as unknown, one line per step, one step in full, and untrusted text that
 * cannot drive the terminal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Trajectory } from '../../common/src/trajectory';
import { readTrajectoryFile } from '../../server/src/import/trajectoryFile';
import { actionLine, stepOverviews, trajectoryOverview } from '../../server/src/dataset/overview';
import { renderStep, renderTrajectory, showJson } from '../../server/src/cli/showText';
import { safeJson, sanitizeForTerminal } from '../../server/src/util/terminal';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const FOREIGN = path.resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'foreign');
const CALC = path.join(REPO_ROOT, 'test', 'fixtures', 'import', 'trajlab.calc.trajectory.json');

/** Anything that would act on a terminal: ESC, BEL, CSI in C1 form, a lone CR. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

test('control characters and escape sequences are shown, not obeyed', () => {
  const nasty = 'a\x1b[2Jb\x1b]0;title\x07c\x9b31md\re\u202ef\u200bg\ud800h\tI\nJ\r\nK\x00L\u2066M';
  const safe = sanitizeForTerminal(nasty);
  assert.equal(safe, 'a\\x1b[2Jb\\x1b]0;title\\x07c\\x9b31md\\re\\u202ef\\u200bg\\ud800h\tI\nJ\nK\\x00L\\u2066M');
  assert.doesNotMatch(safe.replace(/[\t\n]/g, ''), CONTROL);
  assert.equal(sanitizeForTerminal('plain text, 日本語, emoji 🎉'), 'plain text, 日本語, emoji 🎉');
  // JSON output: valid JSON, the same value, and no raw C1 / bidi characters.
  const json = safeJson({ s: nasty });
  assert.deepEqual(JSON.parse(json), { s: nasty });
  assert.doesNotMatch(json, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
});

test('the summary of an imported trajectory says unknown for what the source did not record', async () => {
  const t = await readTrajectoryFile(path.join(FOREIGN, 'mini-swe-agent.github_issue.traj.json'));
  const s = trajectoryOverview(t);
  assert.equal(s.format, 'mini-swe-agent-legacy');
  assert.equal(s.exit_status, 'submitted');
  assert.equal(s.reward, null);
  assert.equal(s.cost_usd, null);
  assert.equal(s.prompt_tokens, null);
  assert.equal(s.duration_ms, null);
  assert.deepEqual(s.diff, { files_changed: 1, insertions: 3, deletions: 2 });
  const steps = stepOverviews(t);
  assert.equal(steps.length, 10);
  assert.deepEqual(steps[0], {
    index: 0,
    actions: ['cat /Users/fuchur/Documents/24/git_sync/swe-agent-test-repo/tests/./missing_colon.py'],
    exit_codes: [1],
    tokens: null,
    cost_usd: null,
    elapsed_ms: null,
    error: null,
  });
  assert.equal(steps[8]!.actions[0], "cat > tests/missing_colon.py << 'EOF' ⏎ #!/usr/bin/env python3 ⏎ def division(a: float, b: float) -> float: ⏎ if b == 0: ⏎ raise ValueError(\"Cannot divide by zero\") ⏎ return a/b ⏎ if __name__ == \"__main__\": ⏎ print(division(123, 15)) ⏎ EOF");
  const text = renderTrajectory(t, { width: 110 });
  assert.match(text, /^task {8}mini-swe-agent\.github_issue$/m);
  assert.match(text, /^reward {6}unknown$/m);
  assert.match(text, /^cost {8}unknown$/m);
  assert.match(text, /^diff {8}1 file\(s\) changed, \+3 -2$/m);
  assert.match(text, /^ {4}9 {8}- {10}- {2}echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git add -A && git diff --cached$/m);
  assert.ok(text.split('\n').every((l) => Array.from(l).length <= 110));
  assert.match(text, /^exit {8}submitted$/m);
  assert.match(text, /^ {4}7 {8}1 {10}- {2}python3 -c "from tests\.missing_colon import division; print\(division\(23, 0\)\)"$/m);
});

test('the summary and step lines of a TrajLab trajectory: tokens, cost, exit codes of several actions, reward', async () => {
  const t = await readTrajectoryFile(CALC);
  const s = trajectoryOverview(t);
  assert.equal(s.reward, 1);
  assert.equal(s.success, true);
  assert.equal(s.cost_usd, 0.00355);
  assert.equal(s.duration_ms, t.totals.duration_ms);
  const text = renderTrajectory(t);
  assert.match(text, /^tokens {6}4\.1k prompt, 152 completion$/m);
  assert.match(text, /^reward {6}1 \(success\)$/m);
  assert.match(text, /^ {4}1 {8}0 {9}1k {2}edit str_replace calc\.py$/m);
  assert.match(text, /^ {4}2 {6}0,1 {7}1\.1k {2}python -c 'import calc; print\(calc\.add\(2, 3\)\)' \(\+1 more\)$/m);
  assert.match(text, /^ {4}3 {8}0 {7}1\.2k {2}submit$/m);
  const step = renderStep(t, 2);
  assert.match(step, /^step 2 of 4 \(0-based\)/);
  assert.match(step, /── action 2: bash \(call_3\) ─+\ngrep -n 'a - b' calc\.py\n── observation 2: exit 1, 0 bytes, 12 ms/);
  assert.match(renderStep(t, 1), /── reasoning ─+\nadd\(\) uses '-' — replace with '\+'\./);
  assert.throws(() => renderStep(t, 4), /step 4 does not exist: the trajectory has 4 step\(s\), numbered 0 to 3/);
  assert.deepEqual(JSON.parse(showJson(t, 3)), t.steps[3]);
  const j = JSON.parse(showJson(t));
  assert.equal(j.summary.task_id, 'calc-add-bug');
  assert.equal(j.steps.length, 4);
});

test('ATIF events show between the steps; a missing observation says so', async () => {
  const terminus = await readTrajectoryFile(path.join(FOREIGN, 'atif.terminus-2-context-summarization.trajectory.json'));
  const lines = renderTrajectory(terminus, { width: 200 }).split('\n');
  const at = lines.findIndex((l) => l.includes('· system: Performed context summarization and handoff to continue task. (3 subagent trajectories)'));
  assert.ok(at > 0);
  assert.match(lines[at - 1]!, /^ {4}2 /);
  assert.match(lines[at + 2]!, /^ {4}3 /);
  const openhands = await readTrajectoryFile(path.join(FOREIGN, 'atif.openhands-hello-world.trajectory.json'));
  assert.match(renderStep(openhands, 1), /── observation 1: not recorded/);
  assert.deepEqual(stepOverviews(openhands)[1]!.exit_codes, ['missing']);
});

test('untrusted text in every part of a step is neutralised', () => {
  const bad = 'x\x1b[2J\x1b]0;pwned\x07\x9b2J\u202e';
  const t = {
    schema_version: 'trajlab.trajectory/1',
    run_id: bad,
    task_id: bad,
    attempt: 1,
    task: { task_id: bad, description: bad },
    agent: { name: 'trajlab', version: '0.1.0', mode: 'tools', policy: 'model' },
    model: { spec: bad, provider: '', name: bad },
    system_prompt: bad,
    tools: [],
    messages: [],
    steps: [
      {
        index: 0,
        started_at: '',
        ended_at: '',
        latency_ms: 0,
        response: { content: bad, reasoning: bad, tool_calls: [{ id: bad, type: 'function', function: { name: bad, arguments: JSON.stringify({ command: bad }) } }] },
        cost_usd: 0,
        actions: [{ kind: 'bash', command: bad, tool_call_id: bad }, { kind: 'format_error', message: bad }],
        observations: [
          { stdout: bad, stderr: bad, exit_code: 1, truncated: false, timed_out: false, output_bytes: 1, duration_ms: 1 },
          { stdout: '', stderr: bad, exit_code: null, truncated: false, timed_out: false, output_bytes: 1, duration_ms: 1 },
        ],
        error: bad,
        other_observations: [{ tool_call_id: bad, content: bad }],
      },
    ],
    started_at: '',
    ended_at: null,
    source: { tasks_file: '', line: 0 },
    environment: { image: '', host: '' },
    status: 'finished',
    result: { exit_status: 'error', submission: bad, diff: '', diff_stats: { files_changed: 0, insertions: 0, deletions: 0, files: [] }, evaluation: null, reward: 0, success: false, error: bad },
    totals: { steps: 1, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0, duration_ms: 0 },
    events: [{ before_step: 0, source: 'user', message: bad, timestamp: '' }],
  } as Trajectory;
  for (const out of [renderTrajectory(t), renderStep(t, 0), showJson(t), showJson(t, 0)]) {
    assert.doesNotMatch(out.replace(/[\t\n]/g, ''), CONTROL);
    assert.doesNotMatch(out, /\u202e/);
  }
  assert.equal(actionLine({ kind: 'edit', command: 'create', path: '/a b', args: {} }), 'edit create /a b');
});

test('show names the host that ran the attempt and each move of a pool run, as text and JSON', async () => {
  const t = await readTrajectoryFile(CALC);
  t.environment = { ...t.environment, host: 'gpu-b', moves: [{ from: 'gpu-a', to: 'gpu-b', at_step: 2, time: '2026-12-07T10:00:00.000Z', reason: 'host down: connect ECONNREFUSED\n/run/a.sock' }] };
  const text = renderTrajectory(t);
  assert.match(text, /^host {8}gpu-b$/m);
  assert.match(text, /^moved {7}gpu-a → gpu-b after 2 step\(s\), 2026-12-07T10:00:00\.000Z: host down: connect ECONNREFUSED ⏎ \/run\/a\.sock$/m);
  const json = JSON.parse(showJson(t)) as { host: string; moves: unknown[] };
  assert.equal(json.host, 'gpu-b');
  assert.deepEqual(json.moves, t.environment.moves);
  // An imported trajectory records no host: no row.
  t.environment = { ...t.environment, host: '', moves: undefined };
  assert.doesNotMatch(renderTrajectory(t), /^host /m);
  assert.equal((JSON.parse(showJson(t)) as { host?: string }).host, undefined);
});
