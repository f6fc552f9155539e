/**
 * `npm run bench -- write`: the cost of keeping a 10,000-step trajectory on disk while it runs.
 * Baseline (same process): the previous writer, a background atomic rewrite of the whole JSON
 * after every step (CoalescingJsonWriter), which makes the total bytes written grow as n² and keeps
 * the main thread busy serialising. Ours: TrajectoryWriter (store/trajectoryWriter.ts), a step
 * journal appended per step plus rewrites of the JSON spaced by their own cost.
 * Each variant runs the same loop: add a step (~3 KB of output, ~6 KB with its messages), tell
 * the writer, wait 1 ms (a stand-in for the model call), then save at the end. Printed: wall
 * time, main-thread CPU time, bytes written, and the ratios ours / baseline.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Trajectory } from '../common/src/trajectory';
import { TrajectoryWriter } from '../server/src/store/trajectoryWriter';
import { CoalescingJsonWriter } from '../server/src/util/fsAtomic';
import { runningTrajectory } from '../test/helpers/trajectories';

const STEPS = Number(process.env.TRAJLAB_BENCH_WRITE_STEPS ?? 10_000);

function addStep(t: Trajectory): void {
  const i = t.steps.length;
  const out = `line ${i}: ` + 'output of a command, '.repeat(140);
  t.messages.push(
    { role: 'assistant', content: null, tool_calls: [{ id: `c${i}`, type: 'function', function: { name: 'bash', arguments: JSON.stringify({ command: `grep -n foo src/file${i}.py` }) } }] },
    { role: 'tool', tool_call_id: `c${i}`, content: out },
  );
  t.steps.push({
    index: i, started_at: new Date().toISOString(), ended_at: new Date().toISOString(), latency_ms: 1,
    response: { content: null, tool_calls: [{ id: `c${i}`, type: 'function', function: { name: 'bash', arguments: JSON.stringify({ command: `grep -n foo src/file${i}.py` }) } }] },
    usage: { prompt_tokens: 1000 + i, completion_tokens: 20, total_tokens: 1020 + i }, cost_usd: 0.0001,
    actions: [{ kind: 'bash', command: `grep -n foo src/file${i}.py`, tool_call_id: `c${i}` }],
    observations: [{ stdout: out, stderr: '', exit_code: 0, truncated: false, timed_out: false, output_bytes: out.length, duration_ms: 3 }],
  });
}

const tick = () => new Promise((r) => setTimeout(r, 1));

async function measure(name: string, make: (file: string, t: Trajectory) => { step(): void; save(): Promise<void>; bytes(): number }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-bench-write-'));
  const t = runningTrajectory('bench');
  const w = make(path.join(dir, 'bench.1.json'), t);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await w.save();
  for (let i = 0; i < STEPS; i++) {
    addStep(t);
    w.step();
    await tick();
  }
  await w.save();
  const wallS = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(cpu0);
  const cpuS = (c.user + c.system) / 1e6;
  const size = fs.statSync(path.join(dir, 'bench.1.json')).size;
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`write: ${name}: ${STEPS} steps, final file ${(size / 1e6).toFixed(0)} MB: wall ${wallS.toFixed(1)} s, CPU ${cpuS.toFixed(1)} s, written ${(w.bytes() / 1e9).toFixed(2)} GB`);
  return { wallS, cpuS, bytes: w.bytes() };
}

/** Runs the baseline and ours and prints the ratios. */
export async function trajectoryWriteBench(): Promise<void> {
  const base = await measure('baseline (whole JSON after every step)', (file, t) => {
    let bytes = 0;
    const w = new CoalescingJsonWriter(() => file, () => t, (b) => (bytes += b));
    return { step: () => w.schedule(), save: () => (w.schedule(), w.flush()), bytes: () => bytes };
  });
  const ours = await measure('ours (step journal + spaced rewrites)', (file, t) => {
    const w = new TrajectoryWriter(file, () => t);
    return { step: () => w.step(), save: () => w.save(), bytes: () => w.stats.rewriteBytes + w.stats.journalBytes };
  });
  console.log(`write: ours / baseline: wall ${(ours.wallS / base.wallS).toFixed(2)}×, CPU ${(ours.cpuS / base.cpuS).toFixed(2)}×, bytes written ${(ours.bytes / base.bytes).toFixed(3)}×`);
}
