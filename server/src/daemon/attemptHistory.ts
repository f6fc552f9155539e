import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { AttemptInfo } from '../../../common/src/protocol';
import type { AttemptState, RunStatus } from '../../../common/src/run';
import type { RunEvent, RunStore } from '../store/runStore';
import { readTrajectoryTotals } from '../store/trajectoryTotals';
import { throwIfAborted } from '../util/abort';
import { Slots } from '../util/slots';

/**
 * The state of each attempt of a run that is not in memory (finished earlier, or run by
 * another process), rebuilt from its `events.jsonl` (format: `RunEvent` in
 * server/src/store/runStore.ts). The file is streamed line by line, so a run with 10,000 tasks
 * never sits in memory as one string; unreadable lines are skipped. Attempts that never started
 * do not appear. When the run is `cancelled` or `interrupted` (its process died), attempts left
 * `running` are reported `cancelled`. Finished attempts of runs whose events carry no cost
 * (written by an older TrajLab) get it from their trajectory's `totals`.
 * Errors: AbortedError when `signal` fires; the run's trajectory_names.json cannot be read;
 * a missing events file gives an empty list.
 */
export async function readAttemptStates(store: RunStore, runStatus: RunStatus, signal?: AbortSignal): Promise<AttemptInfo[]> {
  const file = path.join(store.dir, 'events.jsonl');
  await store.loadTrajectoryNames();
  const states = new Map<string, AttemptInfo>();
  const set = (taskId: string, attempt: number, state: AttemptState) => {
    states.set(`${taskId}\u0000${attempt}`, { taskId, attempt, state, trajectoryPath: store.trajectoryPath(taskId, attempt) });
  };
  let input: fs.ReadStream;
  try {
    await fs.promises.access(file);
    input = fs.createReadStream(file, { encoding: 'utf8' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []; // no attempt started yet: no journal
    throw err;
  }
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of lines) {
      if (++n % 1000 === 0) throwIfAborted(signal);
      let e: RunEvent;
      try {
        e = JSON.parse(line) as RunEvent;
      } catch {
        // A line cut short by a crash mid-append (the journal's last): the lines before it hold
        // the states, and resuming rewrites the attempt it belonged to.
        continue;
      }
      switch (e.type) {
        case 'attempt_started':
          set(e.task_id, e.attempt, { kind: 'running', step: e.resumed_from_step });
          break;
        case 'step':
          set(e.task_id, e.attempt, { kind: 'running', step: e.index + 1 });
          break;
        case 'attempt_finished':
          set(e.task_id, e.attempt, { kind: 'finished', exitStatus: e.exit_status, reward: e.reward, success: e.success, steps: e.steps, ...(e.cost_usd !== undefined ? { costUsd: e.cost_usd } : {}) });
          break;
        case 'attempt_failed':
          set(e.task_id, e.attempt, { kind: 'failed', error: e.error });
          break;
        case 'attempt_requeued':
          set(e.task_id, e.attempt, { kind: 'queued' });
          break;
        default:
          break;
      }
    }
  } finally {
    lines.close();
    input.destroy();
  }
  throwIfAborted(signal);
  const attempts = [...states.values()];
  await fillMissingCosts(attempts, signal);
  if (runStatus === 'cancelled' || runStatus === 'interrupted') {
    for (const a of attempts) if (a.state.kind === 'running') a.state = { kind: 'cancelled' };
  }
  return attempts;
}

/** Trajectory files read at once for their totals. */
const READ_CONCURRENCY = 8;

/** Sets `costUsd` of finished attempts without one from their trajectory file's totals (left unset when unreadable). */
async function fillMissingCosts(attempts: AttemptInfo[], signal?: AbortSignal): Promise<void> {
  const slots = new Slots(READ_CONCURRENCY);
  await Promise.all(
    attempts
      .filter((a) => a.state.kind === 'finished' && a.state.costUsd === undefined)
      .map((a) =>
        slots.use(async () => {
          throwIfAborted(signal);
          const totals = await readTrajectoryTotals(a.trajectoryPath);
          if (a.state.kind === 'finished' && typeof totals?.cost_usd === 'number') a.state = { ...a.state, costUsd: totals.cost_usd };
        }),
      ),
  );
}
