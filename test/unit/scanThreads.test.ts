/**
 * Statistics scanned in worker threads (server/src/dataset/scanFiles.ts) give exactly what one
 * thread gives: the same summaries in the same order, the same drops, near-duplicate signatures
 * and secrets; and a scan aborted half-way stops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Trajectory } from '../../common/src/trajectory';
import { scanFiles, type FileScan } from '../../server/src/dataset/scanFiles';
import { listSources } from '../../server/src/dataset/sources';
import { computeStats } from '../../server/src/stats/stats';
import { AbortedError } from '../../server/src/util/abort';
import { nearCopy, otherApproach } from '../helpers/nearCopies';
import { finishedTrajectory, LEAKED, trajectoryWithOutput, writeRun } from '../helpers/trajectories';

/** 246 files: near-copies, other approaches, loops, leaked secrets, failing commands, two corrupt files. */
function plantedRun(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-scan-threads-'));
  const ts: Trajectory[] = [];
  for (let i = 0; i < 60; i++) ts.push(nearCopy(i));
  for (let i = 0; i < 60; i++) ts.push(otherApproach(i));
  for (let i = 0; i < 60; i++) ts.push(finishedTrajectory({ taskId: `loop-${i}`, actions: Array.from({ length: 3 + (i % 12) }, () => 'cat setup.py'), reward: i % 2, outputs: [{ stdout: 'x', exit_code: i % 3 }] }));
  for (let i = 0; i < 60; i++) ts.push(trajectoryWithOutput(`leak-${i}`, i % 4 === 0 ? `AWS_ACCESS_KEY_ID=${LEAKED.awsKeyId}\nGITHUB_TOKEN=${LEAKED.githubToken}` : `PATH=/usr/bin\nHOME=/root ${i}`));
  writeRun(dir, 'planted', ts);
  fs.writeFileSync(path.join(dir, 'trajectories', 'broken.1.json'), '{"schema_version": "trajlab.trajectory/1", "steps": [');
  fs.writeFileSync(path.join(dir, 'trajectories', 'empty.1.json'), '');
  for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(dir, 'trajectories', `zz-${i}.1.json`), JSON.stringify(finishedTrajectory({ taskId: `zz-${i}`, actions: ['ls'], reward: 1 })));
  return dir;
}

async function withThreads<T>(n: number, fn: () => Promise<T>): Promise<T> {
  const before = process.env.TRAJLAB_SCAN_THREADS;
  process.env.TRAJLAB_SCAN_THREADS = String(n);
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.TRAJLAB_SCAN_THREADS;
    else process.env.TRAJLAB_SCAN_THREADS = before;
  }
}

test('scanning in 3 threads gives every file scan of one thread, in source order (summaries, drops, signatures, secrets)', async () => {
  const dir = plantedRun();
  try {
    const { files } = await listSources([dir]);
    assert.equal(files.length, 246);
    const job = { filters: { maxRepeats: 6, dedupe: 'near' as const, includeUnfinished: true, keepTampered: true }, near: true, secrets: true };
    const collect = async (n: number) =>
      withThreads(n, async () => {
        const out: FileScan[] = [];
        let used = 0;
        for await (const r of scanFiles(files, job, undefined, { threads: (k) => (used = k) })) out.push(r);
        return { out, used };
      });
    const one = await collect(1);
    const three = await collect(3);
    assert.equal(one.used, 1);
    assert.equal(three.used, 3, 'three threads scanned');
    assert.equal(three.out.length, files.length);
    assert.deepEqual(three.out, one.out);
    // What the comparison covers: every kind of result is there.
    assert.equal(one.out.filter((r) => !r.ok).length, 2, 'the two corrupt files');
    assert.ok(one.out.some((r) => r.ok && r.drop === 'too_many_repeats'), 'loops dropped by --max-repeats');
    assert.ok(one.out.filter((r) => r.ok && r.summary.near).length > 100, 'signatures of the kept');
    assert.equal(one.out.filter((r) => r.ok && r.leaks).length, 15, 'the 15 trajectories with keys');
    assert.deepEqual(
      one.out.map((r) => (r.ok ? r.summary.index : -1)).filter((i) => i >= 0),
      files.map((_, i) => i).filter((i) => one.out[i]!.ok),
      'summaries carry their source index',
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stats scanned in 2 threads equal the stats of one thread, secrets, near-duplicate drops and a diversity selection included', async () => {
  const dir = plantedRun();
  try {
    const filters = { dedupe: 'near' as const, select: { k: 40, by: 'diversity' as const, quotas: [{ key: 'type' as const, min: 1 }] } };
    const one = await withThreads(1, () => computeStats([dir], { filters, rows: true }));
    const two = await withThreads(2, () => computeStats([dir], { filters, rows: true }));
    assert.deepEqual(two, one);
    assert.ok((one.secrets?.trajectories ?? 0) > 0, 'secrets among the picks');
    assert.ok((one.dropped_by_reason.near_duplicate ?? 0) >= 50, `near-copies dropped (${one.dropped_by_reason.near_duplicate})`);
    assert.equal(one.overall.trajectories, 40, 'the 40 picks');
    assert.ok((one.dropped_by_reason.not_selected ?? 0) > 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// (A thread left running after the abort would keep this test file's process alive: the run would time out.)
test('a threaded scan stops with AbortedError when aborted half-way, before reading every file', async () => {
  const dir = plantedRun();
  try {
    const { files } = await listSources([dir]);
    const ac = new AbortController();
    let seen = 0;
    await withThreads(2, async () => {
      await assert.rejects(async () => {
        for await (const _ of scanFiles(files, { filters: {}, near: false, secrets: true }, ac.signal)) {
          if (++seen === 20) ac.abort('stop');
        }
      }, AbortedError);
    });
    assert.ok(seen >= 20 && seen < files.length, `stopped after ${seen} of ${files.length}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
