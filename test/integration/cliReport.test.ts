/**
 * `trajlab report` through the real CLI (test/helpers/cli.ts) on the planted run of
 * test/helpers/qualityRun.ts: the `--json` report's numbers (flag counts with the step of each
 * example, the near-duplicate cluster at the default threshold and none at 0.99, secrets by rule
 * with where, tampered, coverage), the summary on stderr, and the argument errors. No Docker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { QualityReport } from '../../common/src/qualityReport';
import { runCli } from '../helpers/cli';
import { tempDir } from '../helpers/engineHelpers';
import { NEAR_COPIES, PLANTED_SECRETS, writeQualityRun } from '../helpers/qualityRun';

test('trajlab report --json: flag counts and steps, near-duplicate clusters, secrets by rule, tampered, coverage', async () => {
  const t = tempDir('cli-report');
  try {
    const run = writeQualityRun(t.dir);
    const file = (name: string) => path.join(run, 'trajectories', name);
    const r = await runCli(['report', run, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as QualityReport;
    assert.equal(rep.schema_version, 'trajlab.quality-report/1');
    assert.equal(rep.trajectories, NEAR_COPIES + 5);
    assert.deepEqual(Object.fromEntries(Object.entries(rep.flags).map(([k, v]) => [k, v.count])), { loop: 1, 'repeated-observation': 1, 'format-errors': 0, 'idle-tail': 0, 'empty-submission': 0, 'truncated-output': 1, tampered: 1 });
    const ex = (flag: keyof QualityReport['flags']) => rep.flags[flag].examples.map((e) => [path.basename(e.file), e.step, e.detail]);
    assert.deepEqual(ex('loop'), [['calc.1.json', 4, 'loop: "cat calc.py" 12 times with no state change in between']]);
    assert.deepEqual(ex('repeated-observation'), [['calc.1.json', 2, 'repeated-observation: the same output 12 times in a row']]);
    assert.deepEqual(ex('tampered'), [['calc.2.json', 1, 'tampered: the diff edits test file(s) the evaluation uses: tests/test_calc.py']]);
    assert.deepEqual(rep.tampered.map((e) => [e.file, e.step, e.detail]), [[file('calc.2.json'), 1, 'the diff edits test file(s) the evaluation uses: tests/test_calc.py']]);

    // The near-copies: one cluster of all of them, the rewarded copy (attempt 4) kept.
    assert.equal(rep.near_duplicates.threshold, 0.8);
    assert.equal(rep.near_duplicates.clusters, 1);
    assert.equal(rep.near_duplicates.redundant, NEAR_COPIES - 1);
    const [c] = rep.near_duplicates.largest;
    assert.equal(c!.size, NEAR_COPIES);
    assert.equal(c!.kept.file, file('parse-date.4.json'));
    assert.equal(c!.members.length, NEAR_COPIES - 1);
    for (const m of c!.members) assert.ok(m.jaccard >= 0.8 && m.jaccard < 1 && m.diff_jaccard === 1, JSON.stringify(m));

    // Secrets: by rule, where, never what.
    assert.deepEqual(rep.secrets!.by_rule, { 'aws-access-key-id': 1, 'aws-secret-access-key': 1 });
    assert.equal(rep.secrets!.trajectories, 1);
    assert.deepEqual(
      Object.entries(rep.secrets!.rules).map(([k, v]) => [k, v.found, v.trajectories, v.examples.map((e) => [path.basename(e.file), e.step, e.detail])]),
      [
        ['aws-access-key-id', 1, 1, [['leaky.1.json', 1, 'steps[1].observations[0].stdout']]],
        ['aws-secret-access-key', 1, 1, [['leaky.1.json', 1, 'steps[1].observations[0].stdout']]],
      ],
    );
    for (const s of PLANTED_SECRETS) assert.ok(!r.stdout.includes(s), 'a secret in the report');

    assert.deepEqual(rep.coverage.task_types, { swe: NEAR_COPIES + 1, code: 4 });
    assert.deepEqual(rep.coverage.repositories, { 'dateutil/dateutil': NEAR_COPIES + 1, '(none)': 4 });
    assert.equal(rep.coverage.steps.count, NEAR_COPIES + 5);
    assert.equal(rep.coverage.reward.histogram.counts.reduce((a, b) => a + b, 0), NEAR_COPIES + 5);

    const strict = JSON.parse((await runCli(['report', run, '--json', '--near-threshold', '0.99', '--examples', '0'])).stdout) as QualityReport;
    assert.equal(strict.near_duplicates.clusters, 0, 'at 0.99 the copies stay apart');
    assert.equal(strict.flags.loop.count, 1);
    assert.deepEqual(strict.flags.loop.examples, []);
  } finally {
    t.cleanup();
  }
});

test('trajlab report --out writes the HTML file and says what it found; refuses an existing file, no output, a bad threshold', async () => {
  const t = tempDir('cli-report-out');
  try {
    const run = writeQualityRun(t.dir);
    const out = path.join(t.dir, 'report.html');
    const r = await runCli(['report', run, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^trajlab: quality report of 13 trajectories written to .*report\.html$/m);
    assert.match(r.stderr, /^ {2}flags: loop 1, repeated-observation 1, truncated-output 1, tampered 1$/m);
    assert.match(r.stderr, /^ {2}near-duplicates: 1 cluster\(s\), 7 redundant \(threshold 0\.8\)$/m);
    assert.match(r.stderr, /^ {2}secrets: 2 found in 1 trajectory \(aws-access-key-id 1, aws-secret-access-key 1\)$/m);
    const html = fs.readFileSync(out, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    for (const s of PLANTED_SECRETS) assert.ok(!html.includes(s));

    const again = await runCli(['report', run, '--out', out]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /report\.html exists; choose another --out or add --overwrite/);
    assert.equal((await runCli(['report', run, '--out', out, '--overwrite'])).code, 0);
    const none = await runCli(['report', run]);
    assert.match(none.stderr, /say where the report goes: --out report\.html, or --json to print it/);
    const bad = await runCli(['report', run, '--json', '--near-threshold', '1.5']);
    assert.match(bad.stderr, /--near-threshold must be a number in \(0, 1\] \(got 1\.5\)/);
  } finally {
    t.cleanup();
  }
});
