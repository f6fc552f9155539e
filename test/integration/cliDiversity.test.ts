/**
 * Diversity selection through the real CLI (test/helpers/cli.ts), issue 19's acceptance: run
 * folders of trajectory files written as a run leaves them (test/helpers/trajectories.ts
 * `writeRun`) — 200 trajectories of ten task categories (the task's `metadata.category`, over
 * the schema's four task types; test/helpers/taskTypes.ts), and 150 near-copies of one session
 * beside 50 varied trajectories — exported with `--select 20 --by diversity [--quota …]
 * [--seed N]` and previewed with `trajlab stats --select`. No Docker needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExportManifest, ManifestEntry } from '../../common/src/dataset';
import { runCli } from '../helpers/cli';
import { tempDir } from '../helpers/engineHelpers';
import { nearCopy } from '../helpers/nearCopies';
import { CATEGORIES, CATEGORY_TYPE, categoryTrajectory, type Category } from '../helpers/taskTypes';
import { writeRun } from '../helpers/trajectories';

/** 200 trajectories: 47 of `code`, 17 of each other category (unequal on purpose). */
function tenCategories(dir: string): string {
  const run = path.join(dir, 'run-div');
  writeRun(run, 'run-div', Array.from({ length: 200 }, (_, i) => categoryTrajectory(CATEGORIES[i < 47 ? 0 : 1 + ((i - 47) % 9)]!, i)));
  return run;
}

const manifestOf = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as ExportManifest;
const categoryOf = (e: ManifestEntry) => e.task_id!.replace(/-\d+$/, '') as Category;
/** The kept entries in pick order. */
const picksOf = (m: ExportManifest) => m.trajectories.filter((e) => e.kept).sort((a, b) => a.selection!.order - b.selection!.order);

test('trajlab export --select 20 --by diversity --quota type=1 --quota metadata.category=1 over 200 trajectories of 10 categories: every category and type picked, 20 rows, reasons in the manifest; the same seed gives the same bytes', async () => {
  const t = tempDir('cli-diversity');
  try {
    const run = tenCategories(t.dir);
    const args = (out: string, ...more: string[]) => ['export', run, '--format', 'openai', '--out', path.join(t.dir, out), '--select', '20', '--by', 'diversity', '--quota', 'type=1', '--quota', 'metadata.category=1', ...more];
    const r = await runCli([...args('a.jsonl'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^trajlab: exported 20 of 200 trajectories \(20 rows\) as openai$/m);
    assert.match(r.stderr, /^ {2}dropped: 180 not_selected$/m);
    assert.match(r.stderr, /^ {2}selected: 20 of 200 by diversity \(seed 0, radius 0\.\d{3}\); groups covered: type 4\/4, repo 1\/1, difficulty 1\/1, metadata\.category 10\/10; quotas type=1, metadata\.category=1$/m);
    const m = manifestOf(JSON.parse(r.stdout).manifest);
    assert.deepEqual(m.filters, { select: { k: 20, by: 'diversity', quotas: [{ key: 'type', min: 1 }, { key: 'metadata.category', min: 1 }] } });
    const picks = picksOf(m);
    assert.equal(picks.length, 20);
    assert.deepEqual([...new Set(picks.map(categoryOf))].sort(), [...CATEGORIES].sort(), 'every category is picked');
    assert.deepEqual([...new Set(picks.map((e) => CATEGORY_TYPE[categoryOf(e)]))].sort(), ['code', 'reasoning', 'swe', 'web']);
    for (const [c, g] of Object.entries(m.selection!.coverage['metadata.category']!)) assert.ok(g.selected >= 1, `${c}: ${g.selected} picked`);
    // Why each was picked: order 1..20, the first with no distance, the quota picks first.
    assert.deepEqual(picks.map((e) => e.selection!.order), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal(picks[0]!.selection!.distance, null);
    for (const e of picks.slice(1)) assert.ok(e.selection!.distance! > 0 && e.selection!.distance! <= 1 && e.selection!.nearest);
    const quotaPicks = picks.filter((e) => e.selection!.quota);
    assert.ok(quotaPicks.length >= 10 && quotaPicks.every((e) => e.selection!.order <= quotaPicks.length), 'quotas are filled by the first picks');
    assert.ok(quotaPicks.some((e) => e.selection!.quota!.includes(`metadata.category=${categoryOf(e)}`)));
    assert.equal(picks.reduce((a, e) => a + e.selection!.cluster_size, 0), 200);
    const left = m.trajectories.filter((e) => !e.kept);
    assert.equal(left.length, 180);
    for (const e of left) {
      assert.equal(e.reason, 'not_selected');
      const center = picks.find((p) => p.file === e.not_selected!.file)!;
      assert.equal(e.not_selected!.cluster, center.selection!.order);
      assert.match(e.detail!, /^not among the 20 selected by diversity; nearest selected: .+ \(cluster \d+, distance [01]\.\d{3}\)$/);
    }
    // The rows are the picks.
    const rows = fs.readFileSync(path.join(t.dir, 'a.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).metadata as { task_id: string });
    assert.deepEqual(rows.map((x) => x.task_id).sort(), picks.map((e) => e.task_id!).sort());

    // Same input, same seed: the same bytes and the same reasons.
    const again = await runCli(args('b.jsonl', '--seed', '0'));
    assert.equal(again.code, 0, again.stderr);
    assert.equal(fs.readFileSync(path.join(t.dir, 'b.jsonl'), 'utf8'), fs.readFileSync(path.join(t.dir, 'a.jsonl'), 'utf8'));
    const why = (mf: ExportManifest) => mf.trajectories.map((e) => [path.basename(e.file), e.selection ?? e.not_selected]);
    assert.deepEqual(why(manifestOf(path.join(t.dir, 'b.manifest.json'))), why(m));
    // Another seed starts elsewhere (and is as reproducible).
    const s7 = await runCli(args('c.jsonl', '--seed', '7'));
    const s7again = await runCli(args('d.jsonl', '--seed', '7'));
    assert.equal(s7.code, 0, s7.stderr);
    assert.equal(fs.readFileSync(path.join(t.dir, 'c.jsonl'), 'utf8'), fs.readFileSync(path.join(t.dir, 'd.jsonl'), 'utf8'));
    const m7 = manifestOf(path.join(t.dir, 'c.manifest.json'));
    assert.equal(m7.selection!.seed, 7);
    assert.notEqual(picksOf(m7)[0]!.file, picks[0]!.file, 'seed 7 picks another first center');
    assert.equal(new Set(picksOf(m7).map(categoryOf)).size, 10);

    // trajlab stats previews the same selection.
    const st = await runCli(['stats', run, '--select', '20', '--quota', 'type=1', '--quota', 'metadata.category=1', '--json', '--no-secrets']);
    assert.equal(st.code, 0, st.stderr);
    const stats = JSON.parse(st.stdout);
    assert.equal(stats.overall.trajectories, 20);
    assert.deepEqual(stats.selection, m.selection);
    const text = await runCli(['stats', run, '--select', '20', '--quota', 'metadata.category=1', '--no-secrets']);
    assert.match(text.stdout, /^selected {6}20 of 200 by diversity \(seed 0, radius 0\.\d{3}\); groups covered: .*metadata\.category 10\/10; quotas metadata\.category=1 \(the figures are of the selected\)$/m);
    // The built CLI scans in threads (dist/scanWorker.js) from 200 files: the same figures as one thread.
    const statsArgs = ['stats', run, '--select', '20', '--quota', 'type=1', '--quota', 'metadata.category=1', '--json'];
    const threaded = await runCli(statsArgs, { built: true, env: { ...process.env, TRAJLAB_SCAN_THREADS: '2' } });
    const single = await runCli(statsArgs, { built: true, env: { ...process.env, TRAJLAB_SCAN_THREADS: '1' } });
    assert.equal(threaded.code, 0, threaded.stderr);
    assert.equal(single.code, 0, single.stderr);
    assert.doesNotMatch(threaded.stderr, /scanning in one thread/);
    assert.deepEqual(JSON.parse(threaded.stdout), JSON.parse(single.stdout));
    assert.deepEqual(JSON.parse(threaded.stdout).selection, m.selection);
  } finally {
    t.cleanup();
  }
});

test('trajlab export --select 20 over 150 near-copies of one session and 50 varied trajectories: the picks are the varied ones, where a uniform sample is mostly copies', async () => {
  const t = tempDir('cli-diversity-copies');
  try {
    const run = path.join(t.dir, 'run-copies');
    const copies = Array.from({ length: 150 }, (_, i) => nearCopy(i));
    const varied = Array.from({ length: 50 }, (_, i) => categoryTrajectory(CATEGORIES[i % 10]!, 1000 + i));
    writeRun(run, 'run-copies', [...copies, ...varied]);
    const r = await runCli(['export', run, '--format', 'openai', '--out', path.join(t.dir, 'a.jsonl'), '--select', '20', '--by', 'diversity']);
    assert.equal(r.code, 0, r.stderr);
    const m = manifestOf(path.join(t.dir, 'a.manifest.json'));
    const picks = picksOf(m);
    const copiesPicked = picks.filter((e) => e.task_id === 'parse-date').length;
    assert.ok(copiesPicked <= 1, `${copiesPicked} near-copies picked`);
    assert.equal(new Set(picks.filter((e) => e.task_id !== 'parse-date').map(categoryOf)).size, 10, 'every category of the varied ones');
    // A naive pick: 20 by a seeded hash of the file name (a uniform sample) is mostly copies.
    const naive = m.trajectories
      .map((e) => ({ e, h: createHash('sha256').update(path.basename(e.file)).digest('hex') }))
      .sort((a, b) => (a.h < b.h ? -1 : 1))
      .slice(0, 20);
    assert.ok(naive.filter((x) => x.e.task_id === 'parse-date').length >= 10, 'the uniform sample is dominated by the copies');
    // Every copy left out is near its cluster's pick; the radius is the farthest any trajectory is from a pick.
    const copyLeft = m.trajectories.filter((e) => e.task_id === 'parse-date' && !e.kept);
    assert.ok(copyLeft.every((e) => e.not_selected!.distance <= m.selection!.radius));
  } finally {
    t.cleanup();
  }
});

test('trajlab export --select errors: K below 1, an unknown --by, an unknown quota, --quota without --select, quotas K cannot hold; nothing is written', async () => {
  const t = tempDir('cli-diversity-errors');
  try {
    const run = tenCategories(t.dir);
    const out = path.join(t.dir, 'x.jsonl');
    const exp = (...more: string[]) => runCli(['export', run, '--format', 'openai', '--out', out, ...more]);
    const zero = await exp('--select', '0');
    assert.notEqual(zero.code, 0);
    assert.match(zero.stderr, /--select must be an integer ≥ 1 \(got "0"\)/);
    const by = await exp('--select', '5', '--by', 'random');
    assert.notEqual(by.code, 0);
    assert.match(by.stderr, /option '--by <method>' argument 'random' is invalid\. Allowed choices are diversity/);
    const quota = await exp('--select', '5', '--quota', 'lang=1');
    assert.match(quota.stderr, /unknown quota "lang"; the quotas are type, repo, difficulty and metadata\.NAME/);
    const alone = await exp('--quota', 'type=1');
    assert.match(alone.stderr, /--quota applies to --select K; give --select too/);
    const twice = await exp('--select', '5', '--quota', 'type=1', '--quota', 'type=2');
    assert.match(twice.stderr, /select\.quotas \(--quota\): type is given twice/);
    const tooMany = await exp('--select', '5', '--quota', 'metadata.category=1');
    assert.equal(tooMany.code, 1);
    assert.match(tooMany.stderr, /^trajlab: --quota metadata\.category=1 needs 10 picks \(1 in each of 10 values of metadata\.category, all of those with fewer\) but --select keeps 5: raise --select to 10 or lower the quota$/m);
    assert.ok(!fs.existsSync(out) && !fs.existsSync(path.join(t.dir, 'x.manifest.json')), 'nothing written');
  } finally {
    t.cleanup();
  }
});
