/**
 * The host pool (RunOptions.hosts) on two extra real dockerds of this machine (engines
 * `bench-a` and `bench-b` of test/helpers/engines.ts: own data roots, kept so the sandbox image is
 * loaded once), each figure a ratio or a time against a baseline measured in this process:
 * - throughput: 64 tasks of `sleep 1`, a pool of both engines with `workers` 8 each vs one
 *   engine (`host`) with `workers` 8. Target ≥ 1.9×.
 * - cores: the same on two engines pinned to one CPU each (`taskset`: engine `bench-core0` on CPU
 *   0, `bench-core1` on CPU 1, with their containerd, shims, runc and containers) vs the first
 *   alone: two hosts that do not share their CPUs, as a pool's hosts do not, on a 2-core
 *   machine. This process (the scheduler, as on the user's own machine) is not pinned, and the
 *   engines run at nice 10 so that it goes first where it shares a CPU with one: in the
 *   baseline it has a CPU to itself. Target ≥ 1.9×.
 * - overhead: the harness's time per attempt (32 tasks whose only action is `true`, `workers`
 *   8), a pool of one engine vs the same engine as the run's single `host`. Target ≤ 1.05×.
 * - failover: SIGKILL of one engine's dockerd while attempts of 5 × `sleep 1` run on it, to the
 *   last of its attempts started again on the other, which has free slots (its `attempt_started`
 *   after its `attempt_moved`), median of TRAJLAB_BENCH_KILLS (default 3) kills. Target < 10 s.
 *   Also printed: to their containers running there (the other engine's `start` events).
 * - silent: the same with the dockerd frozen (SIGSTOP) instead of killed: it answers nothing and
 *   resets no connection, as a machine gone silent, so the pool's ping has to notice.
 * Pairs are interleaved (baseline then pool), TRAJLAB_BENCH_REPEATS of them (default 3), after a
 * warm-up run of each; the median ratio is the figure. TRAJLAB_BENCH_POOL=failover (or any
 * comma-separated parts) runs only those. Needs root (it starts dockerd) and the
 * sandbox image on the local engine. Each engine holds 8 containers at once: on a small machine
 * the figures move with its neighbours' load.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HostSpec, RunOptions } from '../common/src/run';
import { RunEngine } from '../server/src/run/engine';
import { silentLogger } from '../server/src/util/log';
import { startEngine, type Engine } from '../test/helpers/engines';
import { attemptKey, killMidAttempt, midAttempt, readRunEvents, runningOn, type OpenStay } from '../test/helpers/poolEvents';

const IMAGE = process.env.TRAJLAB_SANDBOX_IMAGE ?? 'trajlab/sandbox:1';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A tasks file of `n` gold tasks whose solution is `commands`, in a fresh folder. */
function tasksFile(dir: string, name: string, n: number, commands: string[]): string {
  const file = path.join(dir, `${name}.jsonl`);
  const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ task_id: `${name}-${i}`, description: name, solution: { commands }, eval: ['true'] }));
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** Runs `options` to the end; seconds of wall time. Errors: an attempt did not resolve. */
async function timedRun(options: Partial<RunOptions> & { tasksFile: string }, tasks: number): Promise<number> {
  const t = performance.now();
  const report = await new RunEngine({ model: 'gold', ...options }, { logger: silentLogger }).run();
  if (report.resolved !== tasks) throw new Error(`only ${report.resolved}/${tasks} resolved (${options.out})`);
  return (performance.now() - t) / 1000;
}

/** `repeats` interleaved pairs (baseline, then candidate) after one warm-up of each; each pair's baseline/candidate ratio. */
async function pairs(repeats: number, baseline: () => Promise<number>, candidate: () => Promise<number>, line: (b: number, c: number) => string): Promise<number[]> {
  await baseline();
  await candidate();
  const ratios: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const b = await baseline();
    const c = await candidate();
    ratios.push(b / c);
    console.log(line(b, c));
  }
  return ratios;
}

const range = (xs: number[], digits = 2) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

async function throughput(dir: string, a: Engine, b: Engine, repeats: number, what = 'two engines'): Promise<void> {
  const n = 64;
  const file = tasksFile(dir, 'sleep', n, ['sleep 1']);
  let runs = 0;
  const out = () => path.join(dir, `throughput-${runs++}`);
  const pool: HostSpec[] = [{ url: a.url, name: 'a', workers: 8 }, { url: b.url, name: 'b', workers: 8 }];
  const ratios = await pairs(
    repeats,
    () => timedRun({ tasksFile: file, out: out(), workers: 8, host: a.url }, n),
    () => timedRun({ tasksFile: file, out: out(), workers: 8, hosts: pool }, n),
    (one, two) => `pool throughput (${what}): ${n} tasks of \`sleep 1\`: one engine, workers 8: ${one.toFixed(2)} s; two engines, workers 8 each: ${two.toFixed(2)} s: ${(one / two).toFixed(2)}×`,
  );
  const m = median(ratios);
  console.log(`pool throughput (${what}): speed-up median ${m.toFixed(2)}× of ${repeats} (range ${range(ratios)}×; target ≥ 1.9×) ${m >= 1.9 ? 'PASS' : 'MISS'}`);
}

async function overhead(dir: string, a: Engine, repeats: number): Promise<void> {
  const n = 32;
  const file = tasksFile(dir, 'true', n, ['true']);
  let runs = 0;
  const out = () => path.join(dir, `overhead-${runs++}`);
  // ratio = single / pool; the figure is its inverse: pool time per attempt over the single host's.
  const ratios = await pairs(
    repeats,
    () => timedRun({ tasksFile: file, out: out(), workers: 8, host: a.url }, n),
    () => timedRun({ tasksFile: file, out: out(), workers: 8, hosts: [{ url: a.url, name: 'a', workers: 8 }] }, n),
    (single, pool) => `pool overhead: ${n} tasks of \`true\`, workers 8, one engine: single host ${((single * 1000) / n).toFixed(1)} ms per attempt; pool of it ${((pool * 1000) / n).toFixed(1)} ms: ${(pool / single).toFixed(3)}×`,
  ).then((rs) => rs.map((r) => 1 / r));
  const m = median(ratios);
  console.log(`pool overhead: per attempt, pool / single host median ${m.toFixed(3)}× of ${repeats} (range ${range(ratios, 3)}×; target ≤ 1.05×) ${m <= 1.05 ? 'PASS' : 'MISS'}`);
}

/**
 * One kill: a run of 8 tasks of 5 × `sleep 1` on both engines (workers 4 on `a`, 12 on `b`, so
 * `b` has free slots for what moves: the figure is detection and re-placement, not a queue);
 * once an attempt on `a` has a finished step, `a` is SIGKILLed; seconds until every attempt
 * that ran on it has started again on `b`. The run is then cancelled and `a` started again.
 */
async function failoverOnce(dir: string, i: number, a: Engine, b: Engine, how: Death): Promise<{ started: number; containers: number }> {
  const runId = `${how}-${i}`;
  const file = tasksFile(dir, runId, 8, Array.from({ length: 5 }, () => 'sleep 1'));
  const out = path.join(dir, runId);
  const runDir = path.join(out, 'runs', runId);
  const hosts: HostSpec[] = [{ url: a.url, name: 'a', workers: 4 }, { url: b.url, name: 'b', workers: 12 }];
  const engine = new RunEngine({ tasksFile: file, model: 'gold', out, runId, workers: 4, hosts, hostWaitSec: 120 }, { logger: silentLogger });
  const running = engine.run();
  try {
    let kill: { time: number; running: OpenStay[] };
    if (how === 'kill') kill = await killMidAttempt(runDir, a, 'a');
    else {
      await midAttempt(runDir, 'a');
      const time = a.freeze();
      kill = { time, running: runningOn(runDir, 'a', time) };
    }
    if (!kill.running.length) throw new Error(`no attempt was running on the engine that died (${how})`);
    const deadline = kill.time + 60_000;
    let started: number | undefined;
    for (;;) {
      if (started === undefined) {
        const events = readRunEvents(runDir);
        const elsewhere = kill.running.map(({ attempt }) => {
          const moved = events.findIndex((e) => e.type === 'attempt_moved' && attemptKey(e) === attempt);
          const restarted = moved < 0 ? undefined : events.slice(moved + 1).find((e) => e.type === 'attempt_started' && attemptKey(e) === attempt && e.host !== 'a');
          return restarted && Date.parse(restarted.time);
        });
        if (elsewhere.every((t) => t !== undefined)) started = Math.max(...(elsewhere as number[]));
      }
      // Every task started at once (8 tasks, 16 slots): containers `b` starts after the kill are the moved attempts'.
      const starts = containerStarts(b, runId, kill.time);
      if (started !== undefined && starts.length >= kill.running.length) {
        return { started: (started - kill.time) / 1000, containers: (starts[kill.running.length - 1]! - kill.time) / 1000 };
      }
      if (Date.now() > deadline) throw new Error(`attempts of the killed engine not running elsewhere 60 s after the kill: ${JSON.stringify(kill.running)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    if (how === 'freeze') a.thaw();
    engine.cancel();
    await running;
    if (!a.pid()) await a.restart();
  }
}

/** When `engine` started containers of `runId` since `since` (epoch ms), sorted, epoch ms (its event log). */
function containerStarts(engine: Engine, runId: string, since: number): number[] {
  const args = ['events', '--since', (since / 1000).toFixed(3), '--until', (Date.now() / 1000).toFixed(3), '--filter', 'type=container', '--filter', 'event=start', '--filter', `label=trajlab.run=${runId}`, '--format', '{{.TimeNano}}'];
  return execFileSync('docker', [...engine.cliArgs, ...args], { encoding: 'utf8', timeout: 10_000 })
    .split('\n')
    .filter(Boolean)
    .map((ns) => Number(BigInt(ns) / 1_000_000n))
    .sort((x, y) => x - y);
}

/** How the engine dies: SIGKILL of its dockerd (connections reset at once), or SIGSTOP (it answers nothing: found by the ping). */
type Death = 'kill' | 'freeze';

async function failover(dir: string, a: Engine, b: Engine, kills: number, how: Death): Promise<void> {
  const name = how === 'kill' ? 'pool failover' : 'pool failover (silent host)';
  const what = how === 'kill' ? 'the SIGKILL' : 'the SIGSTOP';
  const started: number[] = [];
  const containers: number[] = [];
  for (let i = 0; i < kills; i++) {
    const s = await failoverOnce(dir, i, a, b, how);
    started.push(s.started);
    containers.push(s.containers);
    console.log(`${name}: ${i + 1}: the dead engine's attempts all started on the other ${s.started.toFixed(2)} s after ${what}, their containers all running there ${s.containers.toFixed(2)} s after it`);
  }
  const m = median(started);
  const c = median(containers);
  console.log(`${name}: median of ${kills}: attempts started elsewhere ${m.toFixed(2)} s (range ${range(started)} s; target < 10 s) ${m < 10 ? 'PASS' : 'MISS'}; their containers running ${c.toFixed(2)} s (range ${range(containers)} s)`);
}

/**
 * `npm run bench -- pool`: the figures above named in `parts` (default: TRAJLAB_BENCH_POOL,
 * comma-separated, else all four). Errors: not root, an unknown part, an engine that does not
 * start, a run that does not resolve.
 */
export async function poolBench(
  repeats = Number(process.env.TRAJLAB_BENCH_REPEATS ?? 3),
  kills = Number(process.env.TRAJLAB_BENCH_KILLS ?? 3),
  parts = (process.env.TRAJLAB_BENCH_POOL ?? 'throughput,cores,overhead,failover,silent').split(','),
): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('pool: needs root (it starts two extra dockerds)');
  const unknown = parts.filter((p) => !['throughput', 'cores', 'overhead', 'failover', 'silent'].includes(p));
  if (unknown.length) throw new Error(`pool: unknown part(s) ${unknown.join(', ')} in TRAJLAB_BENCH_POOL; use throughput, cores, overhead, failover, silent`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-bench-pool-'));
  const engines: Engine[] = [];
  try {
    for (const name of ['bench-a', 'bench-b']) engines.push(await startEngine({ name, dir: path.join(dir, 'engines'), images: [IMAGE] }));
    const [a, b] = engines as [Engine, Engine];
    if (parts.includes('throughput')) await throughput(dir, a, b, repeats, 'two engines sharing the CPUs');
    if (parts.includes('cores')) {
      if (os.cpus().length < 2) throw new Error('pool: the cores part needs two CPUs');
      for (const cpus of ['0', '1']) engines.push(await startEngine({ name: `bench-core${cpus}`, dir: path.join(dir, 'engines'), images: [IMAGE], cpus, nice: 10 }));
      await throughput(dir, engines[2]!, engines[3]!, repeats, 'one CPU per engine');
    }
    if (parts.includes('overhead')) await overhead(dir, a, repeats);
    if (parts.includes('failover')) await failover(dir, a, b, kills, 'kill');
    if (parts.includes('silent')) await failover(dir, a, b, kills, 'freeze');
  } finally {
    await Promise.all(engines.map((e) => e.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
