/**
 * `npm run bench -- queue`: the figures of issue 18 (attempts on a Redis queue), each against a
 * baseline measured in this process. Real parts: a redis-server of its own (test/helpers/
 * redisServer.ts, AOF with appendfsync always, as the README tells users to run it), `trajlab
 * worker` processes of the built CLI (dist/trajlab.js: `npm run build` first), the coordinator
 * (the engine with `queue`) in this process, the local Docker engine, and the scripted
 * OpenAI-compatible server as a zero-latency model (no delay; replies scripted).
 *
 * - overhead: time per attempt through the queue vs the same attempts run locally, `--workers 1`
 *   on both sides (one coordinator-side slot, one worker slot), 30 tasks whose agent runs `true`
 *   and submits. Time per attempt = the interval between two consecutive attempts finishing in
 *   the coordinator (the user's view: the next result written), median over the run; the figure
 *   is the median added per attempt (queue − local). Target ≤ 20 ms. The local runner prepares
 *   the next attempt's container while one runs (run/lookahead.ts); a queue worker takes a job
 *   only when a slot frees, so that overlap is part of what the queue costs and is in the figure.
 * - step-to-disk: from a step finished on the worker (its `ended_at`, set when its last
 *   observation is in, before the worker reports it) to that step written in the coordinator's
 *   step journal (trajectoryWriter.ts: the engine's `step` event comes right after the journal's
 *   write(2) has returned), one clock (same machine), ms. Measured on the steps of the overhead
 *   runs; the baseline is the same span in the local runs (the step written by the process that
 *   ran it). Target p50 < 50 ms.
 * - scaling: 48 tasks whose agent runs `sleep 1` and submits: three workers of 4 slots vs one
 *   worker of 4 slots, same coordinator, same Docker engine; run wall time. Target ≥ 2.7×. All
 *   workers share this machine's CPUs and Docker engine (where the issue means one machine
 *   each): printed with the figure, the CPU busy share of the machine during each run and the
 *   median attempt time, which show what bounds it on a small machine.
 * TRAJLAB_BENCH_QUEUE=overhead,scaling picks parts (step-to-disk comes with overhead);
 * TRAJLAB_BENCH_REPEATS (default 2) sets the overhead pairs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunOptions } from '../common/src/run';
import { RunEngine, type EngineEvent } from '../server/src/run/engine';
import { quantile } from '../server/src/stats/stats';
import { silentLogger } from '../server/src/util/log';
import { BUILT_CLI, startCli, type CliProcess } from '../test/helpers/cli';
import { startRedisServer, type RedisServer } from '../test/helpers/redisServer';
import { bashReply, runScript, startScriptedModelServer, submitReply, type ScriptedModelServer } from '../test/helpers/scriptedModelServer';

const KEY = 'bench-key';
const OVERHEAD_TASKS = 30;
const SCALING_TASKS = 48;
const SLOTS = 4;
const OVERHEAD_TARGET_MS = 20;
const LATENCY_TARGET_MS = 50;
const SCALING_TARGET = 2.7;

/** Quantile `at` of `xs` (numpy's default interpolation). */
function q(xs: number[], at: number): number {
  return quantile(Float64Array.from(xs).sort(), at)!;
}

/** A tasks file of `n` tasks `<name>-<i>` whose agent runs `command` then submits (eval `true`). */
function tasksFile(dir: string, name: string, n: number, command: string): string {
  const file = path.join(dir, `${name}.jsonl`);
  fs.writeFileSync(file, Array.from({ length: n }, (_, i) => JSON.stringify({ task_id: `${name}-${i}`, description: `${name}: run <<${command}>>`, eval: ['true'] })).join('\n') + '\n');
  return file;
}

/** What one run gives: wall time (s), times per attempt (ms), step-to-disk latencies (ms), attempt durations (ms), CPU busy share. */
interface Timed {
  seconds: number;
  perAttemptMs: number[];
  stepToDiskMs: number[];
  attemptMs: number[];
  cpuBusy: number;
}

/** The machine's CPU time so far, jiffies: [busy, total] (/proc/stat's first line; iowait counts as idle). */
function cpuTimes(): [number, number] {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return [total - f[3]! - f[4]!, total];
}

let runs = 0;

/** Runs `file` (all `n` attempts must resolve) with the scripted model, locally or on `queue`; see Timed. */
async function timedRun(dir: string, file: string, n: number, server: ScriptedModelServer, options: Partial<RunOptions>): Promise<Timed> {
  const finishedAt: number[] = [];
  const stepToDiskMs: number[] = [];
  const attemptMs: number[] = [];
  const onEvent = (e: EngineEvent) => {
    if (e.type === 'step') stepToDiskMs.push(Date.now() - Date.parse(e.step.ended_at));
    if (e.type === 'attempt' && e.state.kind === 'finished') finishedAt.push(performance.now());
  };
  const engine = new RunEngine(
    { tasksFile: file, out: path.join(dir, `run-${runs++}`), model: 'openai:scripted', baseUrl: server.baseUrl, ...options },
    { logger: silentLogger, env: { OPENAI_API_KEY: KEY }, onEvent },
  );
  const [busy0, total0] = cpuTimes();
  const t = performance.now();
  const report = await engine.run();
  const seconds = (performance.now() - t) / 1000;
  const [busy1, total1] = cpuTimes();
  if (report.resolved !== n) throw new Error(`only ${report.resolved}/${n} attempts resolved (${engine.store.dir})`);
  for (const f of fs.readdirSync(path.join(engine.store.dir, 'trajectories')).filter((x) => x.endsWith('.json'))) {
    const tr = JSON.parse(fs.readFileSync(path.join(engine.store.dir, 'trajectories', f), 'utf8')) as { totals: { duration_ms: number } };
    attemptMs.push(tr.totals.duration_ms);
  }
  const perAttemptMs = finishedAt.slice(1).map((x, i) => x - finishedAt[i]!);
  return { seconds, perAttemptMs, stepToDiskMs, attemptMs, cpuBusy: (busy1 - busy0) / (total1 - total0) };
}

/** Starts `count` `trajlab worker` processes (built CLI) of `slots` each and waits until all take attempts. */
async function startWorkers(redis: RedisServer, count: number, slots: number): Promise<CliProcess[]> {
  const env = { ...process.env, OPENAI_API_KEY: KEY };
  const workers = Array.from({ length: count }, (_, i) => startCli(['worker', '--queue', redis.url, '--workers', String(slots), '--name', `bench-w${i + 1}`], { built: true, env, timeoutMs: 3_600_000 }));
  const deadline = Date.now() + 30_000;
  while (!workers.every((w) => w.stderr.includes('taking attempts'))) {
    if (Date.now() > deadline) throw new Error(`queue: workers not taking attempts within 30 s:\n${workers.map((w) => w.stderr).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return workers;
}

/** SIGTERM to each worker (nothing is running on them now) and waits for them to exit. */
async function stopWorkers(workers: CliProcess[]): Promise<void> {
  for (const w of workers) w.killGroup('SIGTERM');
  await Promise.all(workers.map((w) => w.done));
}

const range = (xs: number[], digits = 1) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

async function overheadAndLatency(dir: string, redis: RedisServer, server: ScriptedModelServer, repeats: number): Promise<void> {
  const file = tasksFile(dir, 'true', OVERHEAD_TASKS, 'true');
  const warm = tasksFile(dir, 'warm', 4, 'true');
  const workers = await startWorkers(redis, 1, 1);
  try {
    // Warm-up of both sides (JIT, the worker's first job, Docker's caches), then interleaved pairs.
    await timedRun(dir, warm, 4, server, { workers: 1 });
    await timedRun(dir, warm, 4, server, { workers: 1, queue: redis.url });
    const added: number[] = [];
    const local: Timed[] = [];
    const queued: Timed[] = [];
    for (let i = 0; i < repeats; i++) {
      const l = await timedRun(dir, file, OVERHEAD_TASKS, server, { workers: 1 });
      const r = await timedRun(dir, file, OVERHEAD_TASKS, server, { workers: 1, queue: redis.url });
      local.push(l);
      queued.push(r);
      const lm = q(l.perAttemptMs, 0.5);
      const rm = q(r.perAttemptMs, 0.5);
      added.push(rm - lm);
      console.log(`queue overhead: ${OVERHEAD_TASKS} attempts (\`true\`, submit), --workers 1: local ${lm.toFixed(1)} ms per attempt (median; run ${l.seconds.toFixed(1)} s), queue with one worker ${rm.toFixed(1)} ms (run ${r.seconds.toFixed(1)} s): +${(rm - lm).toFixed(1)} ms, ${(rm / lm).toFixed(3)}×`);
    }
    const m = q(added, 0.5);
    const lAll = q(local.flatMap((x) => x.perAttemptMs), 0.5);
    const rAll = q(queued.flatMap((x) => x.perAttemptMs), 0.5);
    console.log(`queue overhead: added per attempt median ${m.toFixed(1)} ms of ${repeats} pair(s) (range ${range(added)} ms; target ≤ ${OVERHEAD_TARGET_MS} ms) ${m <= OVERHEAD_TARGET_MS ? 'PASS' : 'MISS'}; time per attempt queue/local ${(rAll / lAll).toFixed(3)}× (${rAll.toFixed(1)} vs ${lAll.toFixed(1)} ms, all pairs)`);
    // Where the added time goes: the attempt's own duration (container start to result) on each side.
    const lDur = q(local.flatMap((x) => x.attemptMs), 0.5);
    const rDur = q(queued.flatMap((x) => x.attemptMs), 0.5);
    console.log(`queue overhead: attempt duration in the trajectory (totals.duration_ms) median: local ${lDur.toFixed(0)} ms, queue ${rDur.toFixed(0)} ms`);

    const lLat = local.flatMap((x) => x.stepToDiskMs);
    const rLat = queued.flatMap((x) => x.stepToDiskMs);
    const p50 = q(rLat, 0.5);
    const l50 = q(lLat, 0.5);
    console.log(`step-to-disk: step finished on the worker → in the coordinator's journal: p50 ${p50.toFixed(1)} ms, p95 ${q(rLat, 0.95).toFixed(1)} ms, max ${Math.max(...rLat).toFixed(0)} ms (${rLat.length} steps); local (the process that ran it): p50 ${l50.toFixed(1)} ms, p95 ${q(lLat, 0.95).toFixed(1)} ms (${lLat.length} steps)`);
    console.log(`step-to-disk: p50 ${p50.toFixed(1)} ms (target < ${LATENCY_TARGET_MS} ms) ${p50 < LATENCY_TARGET_MS ? 'PASS' : 'MISS'}; +${(p50 - l50).toFixed(1)} ms over the local run (ms resolution: ended_at is an ISO time)`);
  } finally {
    await stopWorkers(workers);
  }
}

async function scaling(dir: string, redis: RedisServer, server: ScriptedModelServer): Promise<void> {
  const file = tasksFile(dir, 'sleep', SCALING_TASKS, 'sleep 1');
  const warm = tasksFile(dir, 'warm-sleep', 4, 'sleep 1');
  const results: Record<number, Timed> = {};
  for (const count of [1, 3]) {
    const workers = await startWorkers(redis, count, SLOTS);
    try {
      await timedRun(dir, warm, 4, server, { workers: SLOTS * count, queue: redis.url });
      const r = (results[count] = await timedRun(dir, file, SCALING_TASKS, server, { workers: SLOTS * count, queue: redis.url }));
      const ideal = (Math.ceil(SCALING_TASKS / (SLOTS * count)) * q(results[1]!.attemptMs, 0.5)) / 1000;
      console.log(`queue scaling: ${SCALING_TASKS} tasks of \`sleep 1\`, ${count} worker(s) of ${SLOTS} slots: ${r.seconds.toFixed(2)} s; median attempt ${(q(r.attemptMs, 0.5) / 1000).toFixed(2)} s; machine CPU busy ${(r.cpuBusy * 100).toFixed(0)}% of ${os.cpus().length} cores; ${count === 3 ? `at one worker's attempt time it would take ${ideal.toFixed(2)} s` : ''}`);
    } finally {
      await stopWorkers(workers);
    }
  }
  const one = results[1]!;
  const three = results[3]!;
  const ratio = one.seconds / three.seconds;
  console.log(`queue scaling: 3 workers vs 1 ${ratio.toFixed(2)}× (target ≥ ${SCALING_TARGET}×) ${ratio >= SCALING_TARGET ? 'PASS' : 'MISS'}`);
  const slower = q(three.attemptMs, 0.5) / q(one.attemptMs, 0.5);
  console.log(`queue scaling: what bounds it here: the three workers share this machine's ${os.cpus().length} CPUs and one Docker engine; with ${SLOTS * 3} attempts at once the machine's CPUs were ${(three.cpuBusy * 100).toFixed(0)}% busy (${(one.cpuBusy * 100).toFixed(0)}% with one worker) and each attempt took ${slower.toFixed(2)}× as long as with ${SLOTS} at once (container create, start and remove, ${SLOTS * 3} agent loops in 3 Node processes)`);
}

/** The benchmark (see the file comment); prints the figures and PASS / MISS. Errors: no built CLI, an attempt that did not resolve. */
export async function queueBench(parts = (process.env.TRAJLAB_BENCH_QUEUE ?? 'overhead,scaling').split(','), repeats = Number(process.env.TRAJLAB_BENCH_REPEATS ?? 2)): Promise<void> {
  const unknown = parts.filter((p) => !['overhead', 'scaling'].includes(p));
  if (unknown.length) throw new Error(`queue: unknown part(s) ${unknown.join(', ')} in TRAJLAB_BENCH_QUEUE; use overhead, scaling`);
  if (!fs.existsSync(BUILT_CLI)) throw new Error(`queue: ${BUILT_CLI} is missing; run \`npm run build\` first (the workers are the built CLI)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-bench-queue-'));
  const redis = await startRedisServer();
  const server = await startScriptedModelServer({ respond: (ctx) => runScript([bashReply(/: run <<(.*?)>>/.exec(ctx.prompt)?.[1] ?? 'false'), submitReply('ok')], ctx) });
  // The machine may be shared: its load before and after goes with the figures.
  const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`queue: load average before ${load()} (${os.cpus().length} CPUs)`);
  try {
    if (parts.includes('overhead')) await overheadAndLatency(dir, redis, server, repeats);
    if (parts.includes('scaling')) await scaling(dir, redis, server);
    console.log(`queue: load average after ${load()}`);
  } finally {
    await server.close();
    await redis.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
