/**
 * Reading a trajectory's totals without parsing it (server/src/store/trajectoryTotals.ts) and the
 * daemon filling in the cost of attempts of older runs, whose events carry none
 * (server/src/daemon/attemptHistory.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readAttemptStates } from '../../server/src/daemon/attemptHistory';
import { RunStore } from '../../server/src/store/runStore';
import { readTrajectoryTotals } from '../../server/src/store/trajectoryTotals';

test('readTrajectoryTotals reads the totals from the tail of big files and whole small ones', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-client-'));
  try {
    const totals = { steps: 3, prompt_tokens: 100, completion_tokens: 20, cost_usd: 0.0123, duration_ms: 999 };
    const big = path.join(dir, 'big.json');
    fs.writeFileSync(big, JSON.stringify({ run_id: 'r', messages: [{ content: 'x'.repeat(6 * 1024 * 1024) }], totals }, null, 2));
    assert.deepEqual(await readTrajectoryTotals(big), totals);
    const odd = path.join(dir, 'odd.json');
    fs.writeFileSync(odd, JSON.stringify({ totals, tail: 'y'.repeat(10_000) }));
    assert.deepEqual(await readTrajectoryTotals(odd), totals, 'small files are parsed whole when totals is not last');
    assert.equal(await readTrajectoryTotals(path.join(dir, 'missing.json')), undefined);
    fs.writeFileSync(path.join(dir, 'bad.json'), '{"totals": ');
    assert.equal(await readTrajectoryTotals(path.join(dir, 'bad.json')), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('attempt states of an older run (no cost in its events) take the cost from each trajectory; unreadable ones stay unknown', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-history-'));
  try {
    const store = new RunStore(root, 'old-run');
    await store.init();
    const finished = (task: string) => ({ type: 'attempt_finished', time: '2026-01-01T00:00:00Z', task_id: task, attempt: 1, exit_status: 'submitted', reward: 1, success: true, steps: 2 });
    fs.writeFileSync(path.join(store.dir, 'events.jsonl'), [finished('a'), finished('b')].map((e) => JSON.stringify(e)).join('\n') + '\n');
    const totals = { steps: 2, prompt_tokens: 10, completion_tokens: 5, cost_usd: 0.25, duration_ms: 100 };
    fs.writeFileSync(store.trajectoryPath('a', 1), JSON.stringify({ run_id: 'old-run', task_id: 'a', totals }, null, 2));
    fs.writeFileSync(store.trajectoryPath('b', 1), '{"truncated');
    const states = await readAttemptStates(store, 'finished');
    const byTask = Object.fromEntries(states.map((a) => [a.taskId, a.state]));
    assert.deepEqual(byTask.a, { kind: 'finished', exitStatus: 'submitted', reward: 1, success: true, steps: 2, costUsd: 0.25 });
    assert.deepEqual(byTask.b, { kind: 'finished', exitStatus: 'submitted', reward: 1, success: true, steps: 2 });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
