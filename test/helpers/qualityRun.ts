/**
 * A run folder with the quality report's planted cases (test/integration/cliReport.test.ts and
 * test/browser/qualityReport.test.ts): 8 near-copies of one session (nearCopies.ts) and another
 * approach to the same task, a loop of the same `cat` 12 times, an attempt whose diff edits the
 * test its eval runs (tampered, at the `sed -i` of step 1), an observation holding an AWS key id
 * and secret (step 1) and a task id with markup in it (its step 1 output truncated).
 */
import * as path from 'node:path';
import type { Trajectory } from '../../common/src/trajectory';
import { nearCopy, otherApproach } from './nearCopies';
import { finishedTrajectory, LEAKED, writeRun } from './trajectories';

export const NEAR_COPIES = 8;
export const HOSTILE_TASK_ID = '<img src=x onerror="window.__pwned=1">';
export const TAMPERED_TASK = { eval: { commands: ['python -m pytest -q tests/test_calc.py'], FAIL_TO_PASS: ['tests/test_calc.py::test_add'] } };
/** The AWS credentials planted in `leaky`'s observation (must never reach a report). */
export const PLANTED_SECRETS = [LEAKED.awsKeyId, LEAKED.awsSecret];

/** The planted trajectories (see the file comment), run id `run-q`. */
export function plantedTrajectories(): Trajectory[] {
  const withType = (t: Trajectory, type: 'code' | 'swe', repo?: string) => {
    t.task = { ...t.task, task_type: type, ...(repo ? { metadata: { repo } } : {}) } as Trajectory['task'];
    return t;
  };
  return [
    ...Array.from({ length: NEAR_COPIES }, (_, i) => withType(nearCopy(i, { runId: 'run-q', reward: i === 3 ? 1 : 0 }), 'swe', 'dateutil/dateutil')),
    withType(otherApproach(0, { runId: 'run-q' }), 'swe', 'dateutil/dateutil'),
    withType(finishedTrajectory({ taskId: 'calc', attempt: 1, runId: 'run-q', actions: Array(12).fill('cat calc.py'), outputs: Array(12).fill('def add(a, b):\n    return a - b\n') }), 'code'),
    withType(
      finishedTrajectory({
        taskId: 'calc',
        attempt: 2,
        runId: 'run-q',
        task: TAMPERED_TASK,
        actions: ['cat tests/test_calc.py', "sed -i 's/== 3/== -1/' tests/test_calc.py"],
        diff: 'diff --git a/tests/test_calc.py b/tests/test_calc.py\n-    assert add(1, 2) == 3\n+    assert add(1, 2) == -1\n',
        reward: 1,
      }),
      'code',
    ),
    withType(
      finishedTrajectory({
        taskId: 'leaky',
        attempt: 1,
        runId: 'run-q',
        actions: ['ls', 'env', 'python -m pytest -q'],
        outputs: ['README.md\n', `HOME=/root\nAWS_ACCESS_KEY_ID=${LEAKED.awsKeyId}\nAWS_SECRET_ACCESS_KEY=${LEAKED.awsSecret}\n`, '1 passed\n'],
        reward: 1,
      }),
      'code',
    ),
    withType(finishedTrajectory({ taskId: HOSTILE_TASK_ID, attempt: 1, runId: 'run-q', actions: ['ls', '<script>window.__pwned=2</script>'], outputs: ['a\n', { stdout: 'b'.repeat(100), truncated: true }], reward: 0.5 }), 'code'),
  ];
}

/** Writes the planted run under `dir` (folder `run-q`); returns the run folder. */
export function writeQualityRun(dir: string): string {
  const run = path.join(dir, 'run-q');
  writeRun(run, 'run-q', plantedTrajectories());
  return run;
}
