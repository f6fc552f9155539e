/**
 * Curation (issue 19, first slice): near-duplicates (server/src/dataset/nearDuplicates.ts),
 * loop and degenerate-trajectory flags (flags.ts), tampering (tampering.ts), and how exports
 * and statistics use them — on trajectories built in code (test/helpers/trajectories.ts,
 * test/helpers/nearCopies.ts), exported from a run folder written to a temporary directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ManifestEntry, SelectionFilters } from '../../common/src/dataset';
import type { Action, BrowserActionName, Trajectory } from '../../common/src/trajectory';
import { flagsOf } from '../../server/src/dataset/flags';
import { actionSequenceTokens, estimateJaccard, findNearDuplicates, lshParams, NearSigner, normalizeCommand } from '../../server/src/dataset/nearDuplicates';
import { validateFilters } from '../../server/src/dataset/select';
import { evalUsesPath, isTestPath, tamperingOf } from '../../server/src/dataset/tampering';
import { exportTrajectories } from '../../server/src/export/dataset';
import { computeStats } from '../../server/src/stats/stats';
import { renderStatsMarkdown, renderStatsText } from '../../server/src/stats/render';
import { nearCopy, otherApproach } from '../helpers/nearCopies';
import { finishedTrajectory, LEAKED, writeRun } from '../helpers/trajectories';

function tmp(): string {
  return fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-curation-')));
}

/** Exports `trajectories` (written as run `cur`) with `filters`; returns the manifest's entries by file name. */
async function exportOf(trajectories: Trajectory[], filters: SelectionFilters): Promise<{ entries: Map<string, ManifestEntry>; kept: string[]; counts: Record<string, number> }> {
  const dir = tmp();
  try {
    writeRun(path.join(dir, 'run'), 'cur', trajectories);
    const { manifest } = await exportTrajectories([path.join(dir, 'run')], { format: 'openai', out: path.join(dir, 'data.jsonl'), filters });
    const entries = new Map(manifest.trajectories.map((e) => [path.basename(e.file), e]));
    return { entries, kept: manifest.trajectories.filter((e) => e.kept).map((e) => path.basename(e.file)), counts: manifest.counts.dropped_by_reason as Record<string, number> };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const copies = () => Array.from({ length: 50 }, (_, i) => nearCopy(i, { reward: i === 17 ? 1 : 0 }));

test('normalizeCommand: paths, numbers, hex ids and UUIDs become placeholders; the words and operators stay', () => {
  assert.deepEqual(normalizeCommand('cat /workspace/src/mod_3.py | sed -n 10,20p'), ['cat', '<path.py>', '|', 'sed', '-n', '<n>,<n>p']);
  assert.deepEqual(normalizeCommand(`git show 4f2a9c1 && grep -rn "def parse" src/`), ['git', 'show', '<hex>', '&&', 'grep', '-rn', 'def', 'parse', '<path>']);
  assert.deepEqual(normalizeCommand('curl --out=/tmp/x.json 123e4567-e89b-12d3-a456-426614174000'), ['curl', '--out=<path.json>', '<id>']);
  // Different paths and numbers, same command.
  assert.deepEqual(normalizeCommand('sed -n 5,9p src/a/b_1.py'), normalizeCommand("sed -n 50,90p 'lib/c_22.py'"));
  assert.notDeepEqual(normalizeCommand('grep -rn alpha src/'), normalizeCommand('grep -rn beta src/'));
});

test('lshParams: 14 bands of 9 rows at 0.8 over 128 values; a pair at 0.85 is a candidate with probability ≥ 0.97; bad thresholds throw', () => {
  assert.deepEqual(lshParams(0.8), { bands: 14, rows: 9 });
  for (const t of [0.5, 0.7, 0.8, 0.9, 0.99]) {
    const { bands, rows } = lshParams(t);
    assert.ok(bands * rows <= 128, `${t}: ${bands}×${rows}`);
    if (t >= 0.7 && t <= 0.9) assert.ok(1 - (1 - Math.min(1, t + 0.05) ** rows) ** bands >= 0.97, `recall at ${t + 0.05}`);
  }
  assert.throws(() => lshParams(0), RangeError);
  assert.throws(() => lshParams(1.2), /must be in \(0, 1\]/);
});

test('MinHash signatures are deterministic, estimate Jaccard, and two empty diffs are alike', async () => {
  const signer = await NearSigner.create();
  const a = signer.sign(nearCopy(0));
  assert.deepEqual(signer.sign(nearCopy(0)), a, 'same input, same signatures');
  assert.equal(a.actions!.length, 128);
  assert.equal(estimateJaccard(a.actions, a.actions), 1);
  const other = signer.sign(otherApproach(0));
  assert.ok(estimateJaccard(a.actions, other.actions) < 0.2, 'another approach shares little');
  assert.ok(estimateJaccard(a.actions, signer.sign(nearCopy(1)).actions) >= 0.75, 'a near-copy shares most');
  assert.equal(estimateJaccard(null, null), 1);
  assert.equal(estimateJaccard(null, a.diff), 0);
  assert.equal(signer.sign(finishedTrajectory({ actions: ['ls'] })).diff, null);
});

test('a signature is bloom-filters\' MinHash of the shingles: the reused per-shingle values give the library\'s own signature, for every trajectory and again once cached', async () => {
  const signer = await NearSigner.create();
  for (const t of [nearCopy(0), nearCopy(7), otherApproach(3), nearCopy(0)]) {
    const tokens = actionSequenceTokens(t);
    const shingles = signer.shingles(tokens);
    assert.ok(shingles.length > 30, `${shingles.length} shingles`);
    assert.equal(new Set(shingles).size, shingles.length, 'distinct');
    assert.deepEqual(signer.signTokens(tokens), signer.librarySignature(shingles));
  }
});

test('50 near-copies of one trajectory collapse to the best one at the default threshold (0.8), and stay 50 at near:0.99', async () => {
  const others = [otherApproach(0), otherApproach(1, { taskId: 'other-task' }), nearCopy(3, { taskId: 'other-task' })];
  const near = await exportOf([...copies(), ...others], { dedupe: 'near' });
  const best = 'parse-date.18.json'; // copy 17, the only one with reward 1
  assert.deepEqual(near.kept.sort(), [best, 'other-task.101.json', 'other-task.4.json', 'parse-date.100.json'].sort(), 'one copy stays; another approach and another task stay');
  assert.equal(near.counts.near_duplicate, 49);
  for (const [name, e] of near.entries) {
    if (e.kept) continue;
    assert.equal(e.reason, 'near_duplicate', name);
    assert.equal(path.basename(e.near_duplicate_of!.file), best);
    assert.deepEqual([e.near_duplicate_of!.task_id, e.near_duplicate_of!.attempt, e.near_duplicate_of!.run_id], ['parse-date', 18, 'cur']);
    assert.ok(e.near_duplicate_of!.jaccard > 0.7 && e.near_duplicate_of!.jaccard < 1, `${name}: ${e.near_duplicate_of!.jaccard}`);
    assert.equal(e.near_duplicate_of!.diff_jaccard, 1, 'the same diff');
    assert.match(e.detail!, /^a near-copy of .*parse-date\.18\.json \(estimated Jaccard 0\.\d{3} of the actions, 1\.000 of the diff; threshold 0\.8/);
  }
  const strict = await exportOf(copies(), { dedupe: 'near', nearThreshold: 0.99 });
  assert.equal(strict.kept.length, 50);
  assert.equal(strict.counts.near_duplicate, undefined);
  // Exact de-duplication does not see them as duplicates (every copy's commands differ).
  const exact = await exportOf(copies(), { dedupe: 'exact' });
  assert.equal(exact.kept.length, 50);
});

test('findNearDuplicates never matches across tasks, and the best-ranked stays', async () => {
  const signer = await NearSigner.create();
  const sig = signer.sign(nearCopy(0));
  const m = findNearDuplicates(
    [
      { index: 5, task_id: 'a', near: sig },
      { index: 2, task_id: 'b', near: sig },
      { index: 9, task_id: 'a', near: sig },
    ],
    0.8,
  );
  assert.deepEqual([...m], [[9, { kept: 5, jaccard: 1, diff_jaccard: 1 }]]);
});

test('--dedupe (true) still means exact: same task and same actions', async () => {
  const a = finishedTrajectory({ taskId: 't', attempt: 1, actions: ['ls', 'cat a.py'], reward: 0 });
  const b = finishedTrajectory({ taskId: 't', attempt: 2, actions: ['ls', 'cat a.py'], reward: 1 });
  const c = finishedTrajectory({ taskId: 't', attempt: 3, actions: ['ls', 'cat b.py'], reward: 0 });
  const r = await exportOf([a, b, c], { dedupe: true });
  assert.deepEqual(r.kept.sort(), ['t.2.json', 't.3.json']);
  assert.equal(r.entries.get('t.1.json')!.reason, 'duplicate');
});

test('--dedupe near drops exact duplicates too: the same actions with diffs too far apart for the estimate are still one training row', async () => {
  const diff = (body: string) => `diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 0\n+${body}\n`;
  const actions = ['ls', 'cat a.py', 'python fix.py', 'python -m pytest -q'];
  const a = finishedTrajectory({ taskId: 't', attempt: 1, actions, reward: 0, diff: diff('x = compute(1, 2, 3)') });
  const b = finishedTrajectory({ taskId: 't', attempt: 2, actions, reward: 1, diff: diff('return sorted(items, key=len)[::-1] if items else None') });
  const r = await exportOf([a, b], { dedupe: 'near' });
  assert.deepEqual(r.kept, ['t.2.json']);
  assert.equal(r.entries.get('t.1.json')!.reason, 'duplicate');
  assert.match(r.entries.get('t.1.json')!.detail!, /same task and actions as .*t\.2\.json/);
});

test('flags: the same cat 12 times is a loop (and a repeated observation); tests run after each edit are not', () => {
  const loop = finishedTrajectory({ actions: [...Array(12).fill('cat src/app.py'), { kind: 'submit' }], outputs: Array(12).fill('def main():\n    pass\n') });
  const f = flagsOf(loop);
  assert.deepEqual(f.flags, ['loop', 'repeated-observation']);
  assert.equal(f.facts.max_repeats, 12);
  assert.equal(f.facts.repeated_action, 'cat src/app.py');
  assert.equal(f.facts.max_same_observation, 12);
  const work: (string | { kind: 'edit'; command: string; path: string; args: Record<string, unknown> })[] = [];
  for (let i = 0; i < 8; i++) work.push({ kind: 'edit', command: 'str_replace', path: 'src/app.py', args: { old_str: `v${i}`, new_str: `v${i + 1}` } }, 'python -m pytest -q');
  const ok = flagsOf(finishedTrajectory({ actions: work, outputs: work.map((_, i) => (i % 2 ? `${i} failed` : 'File edited')), diff: 'diff --git a/src/app.py b/src/app.py\n' }));
  assert.deepEqual(ok.flags, []);
  assert.equal(ok.facts.max_repeats, 1, 'each run of the tests follows an edit');
  // sed -i counts as a change too; a failed one does not.
  assert.equal(flagsOf(finishedTrajectory({ actions: Array(6).fill(["sed -i 's/a/b/' x.py", 'cat x.py']).flat() })).facts.max_repeats, 1);
  assert.equal(flagsOf(finishedTrajectory({ actions: Array(6).fill(["sed -i 's/a/b/' x.py", 'cat x.py']).flat(), outputs: Array(6).fill([{ exit_code: 1, stderr: 'sed: no such file' }, 'x']).flat() })).facts.max_repeats, 6);
});

test('flags: format errors, idle tail, empty submission, truncated output', () => {
  const fe = flagsOf(finishedTrajectory({ actions: [{ kind: 'format_error', message: 'no tool call' }, { kind: 'format_error', message: 'x' }, 'ls', { kind: 'format_error', message: 'y' }] }));
  assert.deepEqual(fe.flags, ['format-errors']);
  assert.equal(fe.facts.format_errors, 3);
  const tail = (reads: number) => flagsOf(finishedTrajectory({ actions: ['ls', "sed -i 's/a/b/' x.py", ...Array.from({ length: reads }, (_, i) => `cat f${i}.py`), { kind: 'submit' }], diff: 'diff --git a/x.py b/x.py\n' }));
  assert.equal(tail(12).facts.idle_tail_steps, 12, 'the submit step is not idle');
  assert.ok(tail(12).flags.includes('idle-tail'));
  assert.deepEqual(tail(3).flags, []);
  assert.equal(flagsOf(finishedTrajectory({ actions: ['ls', 'cat a'] })).facts.idle_tail_steps, 0, 'no state change: nothing to measure from');
  assert.ok(flagsOf(finishedTrajectory({ actions: ['ls', { kind: 'submit' }], submission: '  \n' })).flags.includes('empty-submission'));
  assert.ok(!flagsOf(finishedTrajectory({ actions: ['ls', { kind: 'submit' }], submission: '', diff: 'diff --git a/x b/x\n+y\n' })).flags.includes('empty-submission'), 'a diff is what a code task submits');
  assert.ok(flagsOf(finishedTrajectory({ actions: ['ls', { kind: 'submit' }], submission: '', diff: 'diff --git a/x b/x\n', task: { eval: { answer: '42' } } })).flags.includes('empty-submission'), 'an answer task must answer');
  assert.ok(!flagsOf(finishedTrajectory({ actions: ['ls'], submission: null, exitStatus: 'step_limit' })).flags.includes('empty-submission'));
  const tr = flagsOf(finishedTrajectory({ actions: ['cat big.log', 'ls'], outputs: [{ stdout: 'x'.repeat(100), truncated: true, output_bytes: 1e6 }] }));
  assert.deepEqual(tr.flags, ['truncated-output']);
  assert.equal(tr.facts.truncated_outputs, 1);
});

test('web trajectories: browser actions count in loops, repeated observations, state changes, tampering and near-dedup (a web trajectory is not all alike)', async () => {
  const b = (action: BrowserActionName, args: Record<string, unknown> = {}): Action => ({ kind: 'browser', action, args } as Action);
  // The same read 6 times over an unchanged page is a loop; a click in between changes the page.
  const reads = flagsOf(finishedTrajectory({ actions: [b('goto', { url: 'http://127.0.0.1:8000/' }), ...Array(6).fill(b('read'))], outputs: ['URL: /\n[1] link "A"', ...Array(6).fill('URL: /\nShop')] }));
  assert.deepEqual(reads.flags, ['loop', 'repeated-observation']);
  assert.equal(reads.facts.repeated_action, 'browser read');
  const browsing = flagsOf(finishedTrajectory({ actions: Array.from({ length: 6 }, (_, i) => [b('click', { element_id: 1 }), b('read')]).flat(), outputs: Array.from({ length: 12 }, (_, i) => `page ${i}`) }));
  assert.equal(browsing.facts.max_repeats, 1, 'each read follows a click');
  // Opening the hidden tests in the browser is reading them.
  assert.equal(tamperingOf(finishedTrajectory({ actions: [b('goto', { url: 'file:///tests/test_outputs.py' })] })).length, 1);
  // Near-dedup sees the browser actions: the same visit on another port is a copy, another path is not.
  const signer = await NearSigner.create();
  const visit = (host: string, pages: string[]) => signer.sign(finishedTrajectory({ actions: pages.flatMap((p, i) => [b('goto', { url: `${host}/${p}` }), b('click', { element_id: i + 1 }), b('type', { element_id: 2, text: `item ${i}`, submit: true })]) }));
  const pages = Array.from({ length: 10 }, (_, i) => `shop/page${i}.html`);
  const a = visit('http://127.0.0.1:8000', pages);
  assert.equal(estimateJaccard(a.actions, visit('http://localhost:9000', pages).actions), 1);
  // The same kinds of actions elsewhere on the site (before browser actions had tokens, every web trajectory of a task read alike).
  const elsewhere = signer.sign(finishedTrajectory({ actions: pages.flatMap((_, i) => [b('goto', { url: `http://127.0.0.1:8000/admin/user-${i}/edit` }), b('click', { element_id: i + 20 }), b('type', { element_id: 7, text: `Alice Smith ${i}`, submit: false })]) }));
  assert.ok(estimateJaccard(a.actions, elsewhere.actions) < 0.3, String(estimateJaccard(a.actions, elsewhere.actions)));
});

const SWE_TASK = { eval: { commands: ['python -m pytest -q tests/test_calc.py'], FAIL_TO_PASS: ['tests/test_calc.py::test_add'] } };

test('tampered: a diff that edits a test file the eval uses, tampered_paths, or an action that reads /tests or /solution', () => {
  const editTest = finishedTrajectory({ actions: ['ls'], task: SWE_TASK, diff: 'diff --git a/tests/test_calc.py b/tests/test_calc.py\n-    assert add(1, 2) == 3\n+    pass\n' });
  assert.deepEqual(tamperingOf(editTest), ['the diff edits test file(s) the evaluation uses: tests/test_calc.py']);
  assert.ok(flagsOf(editTest).flags.includes('tampered'));
  // A new test of the agent's own, which the eval does not name, is no tampering.
  assert.deepEqual(tamperingOf(finishedTrajectory({ actions: ['ls'], task: SWE_TASK, diff: 'diff --git a/tests/test_mine.py b/tests/test_mine.py\n+def test_x(): pass\n' })), []);
  assert.deepEqual(tamperingOf(finishedTrajectory({ actions: ['ls'], tamperedPaths: ['tests/test_a.py'] })), ['edited 1 path(s) the evaluation resets or overwrites: tests/test_a.py']);
  const peek = tamperingOf(finishedTrajectory({ actions: ['ls /testbed', 'cat /tests/test_outputs.py', 'cat /workspace/tests/x.py', 'ls /solution/'] }));
  assert.equal(peek.length, 1);
  assert.match(peek[0]!, /^2 action\(s\) name a hidden path \(tests or gold solution\), e\.g\. step 1: "cat \/tests\/test_outputs\.py"; step 3: "ls \/solution\/"$/);
  assert.deepEqual(tamperingOf(finishedTrajectory({ actions: ['ls /testbed', 'cd /workspace/tests && ls', 'python tests/run.py'] })), []);
  // A workspace at /tests is where the agent works.
  assert.deepEqual(tamperingOf(finishedTrajectory({ actions: ['cat /tests/a.py'], task: { workspace: { path: '/tests' } } })), []);
  // Custom hidden destinations.
  assert.equal(tamperingOf(finishedTrajectory({ actions: ['cat /verifier/check.sh'], task: { eval: { files: { from: 'v', to: '/verifier' } } } })).length, 1);
});

test('test paths per language, and what the eval uses', () => {
  for (const p of ['tests/test_a.py', 'pkg/test_b.py', 'a_test.go', 'src/x.test.ts', 'web/__tests__/y.js', 'spec/models/u_spec.rb', 'src/test/java/FooTest.java', 'lib/conftest.py']) assert.ok(isTestPath(p), p);
  for (const p of ['src/app.py', 'testing.md', 'src/contest.py', 'attestation/x.go']) assert.ok(!isTestPath(p), p);
  assert.ok(evalUsesPath({ task_id: 't', eval: { commands: ['pytest tests/unit'] } }, 'tests/unit/test_a.py'), 'a folder the command names');
  assert.ok(evalUsesPath({ task_id: 't', eval: { PASS_TO_PASS: ['test_str (utils_tests.test_text.TestUtilsText)'] } }, 'tests/utils_tests/test_text.py'), 'a Django-style dotted id');
  assert.ok(evalUsesPath({ task_id: 't', eval: { restore: ['tests'] } }, 'tests/test_a.py'));
  assert.ok(!evalUsesPath({ task_id: 't', eval: ['pytest'] }, 'tests/test_a.py'), 'a bare runner names no file');
});

test('exports drop tampered trajectories by default (reason in the manifest) and keep them with keepTampered; --max-repeats and --no-flag drop with reasons', async () => {
  const tampered = finishedTrajectory({ taskId: 'calc', attempt: 1, actions: ['ls'], task: SWE_TASK, diff: 'diff --git a/tests/test_calc.py b/tests/test_calc.py\n+    pass\n', reward: 1 });
  const loop = finishedTrajectory({ taskId: 'calc', attempt: 2, actions: Array(12).fill('cat calc.py') });
  const fine = finishedTrajectory({ taskId: 'calc', attempt: 3, actions: ['cat calc.py', "sed -i 's/-/+/' calc.py", 'python -m pytest -q'], diff: 'diff --git a/calc.py b/calc.py\n' });
  const all = [tampered, loop, fine];
  const d = await exportOf(all, {});
  assert.deepEqual(d.kept.sort(), ['calc.2.json', 'calc.3.json']);
  const e = d.entries.get('calc.1.json')!;
  assert.equal(e.reason, 'tampered');
  assert.equal(e.detail, 'tampered: the diff edits test file(s) the evaluation uses: tests/test_calc.py');
  assert.deepEqual(e.flags, ['tampered']);
  assert.deepEqual(d.entries.get('calc.2.json')!.flags, ['loop'], 'kept entries carry their flags');
  assert.equal(d.entries.get('calc.3.json')!.flags, undefined);
  assert.deepEqual((await exportOf(all, { keepTampered: true })).kept.length, 3);
  const mr = await exportOf(all, { maxRepeats: 5 });
  assert.deepEqual(mr.kept, ['calc.3.json']);
  assert.equal(mr.entries.get('calc.2.json')!.reason, 'too_many_repeats');
  assert.equal(mr.entries.get('calc.2.json')!.detail, '"cat calc.py" 12 times with no state change in between (at most 5)');
  assert.deepEqual((await exportOf(all, { maxRepeats: 12 })).kept.sort(), ['calc.2.json', 'calc.3.json'], 'at most N: 12 repeats pass --max-repeats 12');
  const nf = await exportOf(all, { noFlags: ['loop', 'format-errors'], keepTampered: true });
  assert.equal(nf.entries.get('calc.2.json')!.reason, 'flagged');
  assert.equal(nf.entries.get('calc.2.json')!.detail, 'loop: "cat calc.py" 12 times with no state change in between');
  assert.deepEqual(nf.counts, { flagged: 1 });
});

test('validateFilters refuses bad curation filters', () => {
  assert.deepEqual(validateFilters({ dedupe: 'near', nearThreshold: 0.9, maxRepeats: 3, noFlags: ['loop'] }), []);
  assert.deepEqual(validateFilters({ dedupe: 'near', nearThreshold: 1.5 }), ['nearThreshold must be a number in (0, 1] (got 1.5)']);
  assert.deepEqual(validateFilters({ nearThreshold: 0.9 }), ['nearThreshold applies to dedupe "near" only; set dedupe to "near" too']);
  assert.deepEqual(validateFilters({ maxRepeats: -1 }), ['maxRepeats must be an integer ≥ 0 (got -1)']);
  assert.match(validateFilters({ noFlags: ['loops' as 'loop'] })[0]!, /^unknown flag "loops"; the flags are loop, repeated-observation/);
  assert.match(validateFilters({ dedupe: 'fuzzy' as 'near' })[0]!, /^dedupe must be true, false, "exact" or "near"/);
});

test('stats count every flag (tampered included) and show them in text and Markdown', async () => {
  const dir = tmp();
  try {
    writeRun(path.join(dir, 'run'), 'cur', [
      finishedTrajectory({ taskId: 'a', actions: Array(12).fill('cat x') }),
      finishedTrajectory({ taskId: 'b', actions: ['cat /tests/t.py'] }),
      finishedTrajectory({ taskId: 'c', actions: ['ls'], submission: '' }),
      finishedTrajectory({ taskId: 'd', actions: ['ls'], diff: 'diff --git a/x b/x\n', submission: '' }),
    ]);
    const s = await computeStats([path.join(dir, 'run')]);
    assert.equal(s.overall.trajectories, 4, 'stats keep tampered trajectories');
    assert.deepEqual(s.flags, { loop: 1, 'repeated-observation': 0, 'format-errors': 0, 'idle-tail': 0, 'empty-submission': 1, 'truncated-output': 0, tampered: 1 });
    assert.deepEqual(s.flag_examples.tampered, [path.join(dir, 'run', 'trajectories', 'b.1.json')]);
    assert.match(renderStatsText(s), /^flags {9}loop 1, empty-submission 1, tampered 1$/m);
    assert.match(renderStatsMarkdown(s), /^\| tampered \| 1 \| `.*b\.1\.json` \|$/m);
    const exported = await computeStats([path.join(dir, 'run')], { filters: { keepTampered: false } });
    assert.equal(exported.dropped_by_reason.tampered, 1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a damaged trajectory file (numbers and nulls where texts belong, as the input fuzz test writes) is flagged from its well-formed parts and never stops stats or export', async () => {
  const t = finishedTrajectory({
    actions: ['cat a.txt', 'cat a.txt', 'cat a.txt', 'cat a.txt', 'cat a.txt', 'cat /tests/test_a.py'],
    diff: 'diff --git a/tests/test_a.py b/tests/test_a.py\n',
    task: { eval: { commands: ['pytest tests/test_a.py'] } },
  });
  const damaged = structuredClone(t) as unknown as { steps: { actions: unknown[]; observations: unknown[] }[]; result: Record<string, unknown>; task: Record<string, unknown> };
  damaged.steps[0]!.actions[0] = { kind: 'bash', command: 9007199254740992 };
  damaged.steps[1]!.observations[0] = null;
  damaged.steps[2]!.actions = 'not a list' as never;
  damaged.result.diff_stats = { files: [42, null, { path: 7 }] };
  damaged.result.submission = 12;
  damaged.result.tampered_paths = [null, 'tests/test_a.py'];
  damaged.task.eval = { commands: [null, 'pytest tests/test_a.py'], FAIL_TO_PASS: 5, files: [null, { from: 3 }] };
  damaged.task.steps = 'steps';
  damaged.task.workspace = { path: 1 };
  const d = damaged as unknown as Trajectory;
  const f = flagsOf(d);
  assert.ok(f.flags.includes('tampered'), JSON.stringify(f));
  assert.match(tamperingOf(d).join('\n'), /tests\/test_a\.py/);
  const signer = await NearSigner.create();
  assert.ok((signer.sign(d).actions?.length ?? 0) > 0, 'the well-formed actions still sign');
});

test('a looped command longer than 200 characters is cut at a space in the flag facts: a key straddling the cut leaves no half of itself behind', () => {
  const token = LEAKED.githubToken;
  const command = `${'echo padding '.repeat(12)}curl -H "Authorization: token ${token}" https://api.github.com/user`;
  const at = command.indexOf(token);
  assert.ok(at < 200 && at + token.length > 200, 'the key straddles character 200');
  const { facts } = flagsOf(finishedTrajectory({ actions: Array(6).fill(command) }));
  assert.ok(facts.repeated_action!.endsWith('…') && facts.repeated_action!.length <= 201);
  assert.ok(!facts.repeated_action!.includes(token.slice(0, 8)), `no part of the key: ${facts.repeated_action}`);
});
