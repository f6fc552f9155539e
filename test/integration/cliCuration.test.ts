/**
 * Curation through the real CLI (test/helpers/cli.ts): a run folder of trajectory files written
 * as a run leaves them (test/helpers/trajectories.ts `writeRun`) with planted cases — 50
 * near-copies of one session, a loop of the same `cat`, an attempt that edited the test its
 * eval runs — exported with `--dedupe near[:T]`, `--max-repeats`, `--no-flag`,
 * `--keep-tampered`, and shown by `trajlab stats`. No Docker needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExportManifest } from '../../common/src/dataset';
import { runCli } from '../helpers/cli';
import { tempDir } from '../helpers/engineHelpers';
import { nearCopy, otherApproach } from '../helpers/nearCopies';
import { finishedTrajectory, writeRun } from '../helpers/trajectories';

const TAMPERED_TASK = { eval: { commands: ['python -m pytest -q tests/test_calc.py'], FAIL_TO_PASS: ['tests/test_calc.py::test_add'] } };

/** The planted run: copies 0–49 of parse-date (copy 17 rewarded), another approach, a loop, a tampered attempt and a clean one. */
function plantedRun(dir: string): string {
  const run = path.join(dir, 'run-cur');
  writeRun(run, 'run-cur', [
    ...Array.from({ length: 50 }, (_, i) => nearCopy(i, { reward: i === 17 ? 1 : 0 })),
    otherApproach(0),
    finishedTrajectory({ taskId: 'calc', attempt: 1, actions: Array(12).fill('cat calc.py'), outputs: Array(12).fill('def add(a, b):\n    return a - b\n') }),
    finishedTrajectory({ taskId: 'calc', attempt: 2, task: TAMPERED_TASK, actions: ['cat tests/test_calc.py', "sed -i 's/== 3/== -1/' tests/test_calc.py"], diff: 'diff --git a/tests/test_calc.py b/tests/test_calc.py\n-    assert add(1, 2) == 3\n+    assert add(1, 2) == -1\n', reward: 1 }),
    finishedTrajectory({ taskId: 'calc', attempt: 3, task: TAMPERED_TASK, actions: ['cat calc.py', "sed -i 's/a - b/a + b/' calc.py", 'python -m pytest -q'], diff: 'diff --git a/calc.py b/calc.py\n-    return a - b\n+    return a + b\n', reward: 1 }),
  ]);
  return run;
}

const manifestOf = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as ExportManifest;
const base = (m: ExportManifest, kept: boolean) => m.trajectories.filter((e) => e.kept === kept).map((e) => path.basename(e.file)).sort();

test('trajlab export --dedupe near collapses 50 near-copies to the best one (manifest: near_duplicate, the kept one, the estimated Jaccard); near:0.99 and bare --dedupe keep them', async () => {
  const t = tempDir('cli-curation-near');
  try {
    const run = plantedRun(t.dir);
    const out = path.join(t.dir, 'near.jsonl');
    const r = await runCli(['export', run, '--format', 'openai', '--out', out, '--dedupe', 'near', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^trajlab: exported 4 of 54 trajectories \(4 rows\) as openai$/m);
    assert.match(r.stderr, /^ {2}dropped: 49 near_duplicate, 1 tampered$/m);
    const m = manifestOf(JSON.parse(r.stdout).manifest);
    assert.deepEqual(m.filters, { dedupe: 'near' });
    assert.deepEqual(base(m, true), ['calc.1.json', 'calc.3.json', 'parse-date.100.json', 'parse-date.18.json']);
    const dropped = m.trajectories.filter((e) => e.reason === 'near_duplicate');
    assert.equal(dropped.length, 49);
    for (const e of dropped) {
      assert.equal(e.near_duplicate_of!.file, path.join(run, 'trajectories', 'parse-date.18.json'));
      assert.equal(e.near_duplicate_of!.attempt, 18);
      assert.ok(e.near_duplicate_of!.jaccard > 0.7 && e.near_duplicate_of!.jaccard < 1);
    }
    // The rows written are the kept trajectories, the best copy among them.
    const rows = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l).metadata);
    assert.deepEqual(rows.map((x: { task_id: string; attempt: number }) => `${x.task_id}#${x.attempt}`).sort(), ['calc#1', 'calc#3', 'parse-date#100', 'parse-date#18']);

    const strict = await runCli(['export', run, '--format', 'openai', '--out', path.join(t.dir, 'strict.jsonl'), '--dedupe', 'near:0.99']);
    assert.equal(strict.code, 0, strict.stderr);
    const sm = manifestOf(path.join(t.dir, 'strict.manifest.json'));
    assert.deepEqual(sm.filters, { dedupe: 'near', nearThreshold: 0.99 });
    assert.equal(sm.counts.kept, 53);
    assert.equal(sm.counts.dropped_by_reason.near_duplicate, undefined);
    const exact = await runCli(['export', run, '--dedupe', '--format', 'openai', '--out', path.join(t.dir, 'exact.jsonl')]);
    assert.equal(exact.code, 0, exact.stderr);
    assert.deepEqual(manifestOf(path.join(t.dir, 'exact.manifest.json')).filters, { dedupe: true });
    assert.equal(manifestOf(path.join(t.dir, 'exact.manifest.json')).counts.kept, 53, 'exact de-duplication: every copy differs');
  } finally {
    t.cleanup();
  }
});

test('trajlab export drops the tampered attempt by default and keeps it with --keep-tampered; --max-repeats 5 drops the loop; --no-flag; stats show the flags', async () => {
  const t = tempDir('cli-curation-flags');
  try {
    const run = plantedRun(t.dir);
    const r = await runCli(['export', run, '--task', 'calc', '--format', 'openai', '--out', path.join(t.dir, 'a.jsonl'), '--max-repeats', '5']);
    assert.equal(r.code, 0, r.stderr);
    const m = manifestOf(path.join(t.dir, 'a.manifest.json'));
    assert.deepEqual(base(m, true), ['calc.3.json']);
    const by = Object.fromEntries(m.trajectories.filter((e) => e.task_id === 'calc').map((e) => [path.basename(e.file), [e.reason, e.detail, e.flags]]));
    assert.deepEqual(by['calc.1.json'], ['too_many_repeats', '"cat calc.py" 12 times with no state change in between (at most 5)', ['loop', 'repeated-observation']]);
    assert.deepEqual(by['calc.2.json'], ['tampered', 'tampered: the diff edits test file(s) the evaluation uses: tests/test_calc.py', ['tampered']]);
    assert.deepEqual(m.filters, { taskGlob: 'calc', maxRepeats: 5 });

    const keep = await runCli(['export', run, '--task', 'calc', '--format', 'openai', '--out', path.join(t.dir, 'b.jsonl'), '--keep-tampered', '--no-flag', 'repeated-observation,format-errors']);
    assert.equal(keep.code, 0, keep.stderr);
    const km = manifestOf(path.join(t.dir, 'b.manifest.json'));
    assert.deepEqual(base(km, true), ['calc.2.json', 'calc.3.json']);
    assert.equal(km.trajectories.find((e) => e.file.endsWith('calc.1.json'))!.reason, 'flagged');

    const stats = await runCli(['stats', run]);
    assert.equal(stats.code, 0, stats.stderr);
    assert.match(stats.stdout, /^trajectories {2}54 /m, 'stats count the tampered attempt');
    assert.match(stats.stdout, /^flags {9}loop 1, repeated-observation 1, tampered 1$/m);
    assert.match(stats.stdout, /^ {2}tampered {13}.*calc\.2\.json$/m);

    const bad = await runCli(['export', run, '--format', 'openai', '--out', path.join(t.dir, 'c.jsonl'), '--dedupe', 'fuzzy']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /"fuzzy" is not exact, near or near:THRESHOLD/);
    const badT = await runCli(['export', run, '--format', 'openai', '--out', path.join(t.dir, 'c.jsonl'), '--dedupe', 'near:2']);
    assert.match(badT.stderr, /the threshold of --dedupe near:THRESHOLD must be a number in \(0, 1\] \(got "2"\)/);
    const badF = await runCli(['export', run, '--format', 'openai', '--out', path.join(t.dir, 'c.jsonl'), '--no-flag', 'loops']);
    assert.match(badF.stderr, /unknown flag "loops"; the flags are loop, repeated-observation/);
    assert.ok(!fs.existsSync(path.join(t.dir, 'c.jsonl')));
  } finally {
    t.cleanup();
  }
});
