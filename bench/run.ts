/**
 * Benchmarks of the engine, each printed as a ratio against a baseline measured in the same
 * process (never a timed unit test). Needs a Docker engine and the sandbox image
 * (`npm run setup`). Usage: `npm run bench [-- transport|overhead|scheduling|language|language-duplicates|import|import-tasks|export|secret-scan|chat-template|write|inspector|diff-capture|metrics|pool|model-limits|queue|near-dedup|diversity|browser]`.
 *
 * - transport: median latency of one trivial command through TrajLab's session (the container's
 *   main process, commands on its attached stdin through the Docker Engine API) and through one
 *   Docker exec API call per command (the fallback for images without bash) vs the `docker exec`
 *   CLI (mini-swe-agent's transport), same container. Target: ≤ 0.5×.
 * - overhead: harness time per step minus exec time, with a zero-latency scripted model and
 *   `true` as every action. Target: ≤ 2 ms median.
 * - scheduling: 32 tasks whose only action is `sleep 1`, --workers 16 vs --workers 1, after a
 *   warm-up run; the median of TRAJLAB_BENCH_REPEATS (default 3) pairs. Target: ≥ 12×. On two
 *   cores the 16-worker run is bound by the engine's CPU per container (create, start, remove:
 *   ~0.16–0.19 CPU-s here, mostly runc and the shim), and the last attempt cannot start its
 *   `sleep` before all 32 containers are made. bench/traceScheduling.ts breaks one 16-worker
 *   run down by phase (TRAJLAB_TRACE, server/src/util/trace.ts) and by the engine's CPU.
 * - import: large foreign trajectories (bench/importScale.ts) against JSON.parse; no Docker.
 * - import-tasks: `trajlab import` of 2,294 SWE-bench instances from JSON Lines, a JSON list and
 *   Parquet (bench/importTasks.ts): < 2 s each, with the ratio against JSON.parse of the same
 *   JSON Lines. No Docker.
 * - language: the tasks.jsonl language over LSP on a 100,000-line file (bench/language.ts): full
 *   validation < 1 s, a keystroke < 30 ms, daemon RSS < 300 MB, each against ajv in a plain loop.
 *   Needs the built daemon (`npm run build`), not Docker.
 * - language-duplicates: 100,000 lines with one task_id over LSP (bench/languageDuplicates.ts):
 *   diagnostics < 2 s and a hover sent meanwhile, against `trajlab validate` of the same file.
 * - export: 10,000 generated 30-step trajectories to OpenAI JSONL vs read + parse + stringify +
 *   write of the same files (≥ 0.5×), peak memory 1,000 vs 10,000 (≤ 1.25×), `trajlab stats` on
 *   them < 5 s (bench/export.ts). No Docker.
 * - secret-scan: the same export with the secret scan (redact, the default) vs with it off
 *   (bench/secretScan.ts; 2,000 trajectories by default, 1 in 100 leaking). Target: ≤ 1.5×. No Docker.
 * - chat-template: exporting 2,000 generated 30-step trajectories to OpenAI JSONL with
 *   `--chat-template` (every row rendered and checked) vs without (bench/chatTemplate.ts).
 *   Target: ≤ 3×. No Docker.
 * - write: keeping a 10,000-step trajectory on disk while it runs, ours (step journal + spaced
 *   rewrites) vs rewriting the whole JSON after every step (bench/trajectoryWrite.ts). No Docker.
 * - inspector: the trajectory inspector on a 10,000-step / 100 MB trajectory in headless Chromium
 *   (bench/inspector.ts): first screen < 1 s after the import and < 3 s from open, scrolling to
 *   the end and jumping to a search hit < 100 ms, webview heap < 3× the file, each against
 *   JSON.parse of the file. Needs the bundles and Chromium, not Docker.
 * - diff-capture: the diff of a 20,000-file, ~106 MB repository that lives in the image, by git
 *   inside the container vs the archive API + host git of a repository copied in, same change
 *   (bench/diffCapture.ts). Target: ≤ 0.1×. Builds (once, cached) a local test image.
 * - metrics: a `/metrics` scrape (GET and the whole body, every 100 ms) while the same process
 *   runs 500 gold attempts whose action is `true` with --workers 8, against a scrape of the same
 *   endpoint before the run (bench/metrics.ts). Target: median < 20 ms during the run.
 * - pool: the host pool on two extra dockerds it starts (bench/pool.ts; needs root): 64 `sleep 1`
 *   tasks on two engines with workers 8 each vs one engine with workers 8 (≥ 1.9×), sharing the
 *   CPUs and pinned to one CPU each; time per
 *   attempt of 32 `true` tasks, a pool of one engine vs that engine as the single host (≤ 1.05×);
 *   SIGKILL of an engine's dockerd to its attempts started again on the other, median of
 *   TRAJLAB_BENCH_KILLS (default 3) kills (< 10 s), and the same for a dockerd frozen with
 *   SIGSTOP (a host gone silent, noticed by the ping). TRAJLAB_BENCH_POOL=cores,failover,silent (any of throughput, cores, overhead,
 *   failover, silent) picks parts.
 * - model-limits: the models list's request limiter (bench/modelLimits.ts): overhead per model call
 *   with all three limits vs none (≤ 0.5 ms median), and requests per minute of 32 callers under
 *   `rpm: 60` over TRAJLAB_BENCH_RPM_SEC (default 180) s (within 5% of 60). No Docker.
 * - queue: attempts on a Redis queue (bench/queue.ts; a redis-server of its own, `trajlab worker`
 *   processes of the built CLI): time per attempt through the queue vs locally, --workers 1, a
 *   zero-latency scripted model (≤ 20 ms added median); a step finished on a worker to its line in
 *   the coordinator's journal (p50 < 50 ms); 48 `sleep 1` tasks on three workers of 4 slots vs one
 *   (≥ 2.7×). TRAJLAB_BENCH_QUEUE=overhead or scaling picks a part.
 * - near-dedup: near-duplicate detection (`--dedupe near`: flags, MinHash signatures, LSH) over
 *   10,000 generated 30-step trajectories with planted reruns, against reading the same files
 *   (bench/nearDedup.ts). Target: < 10 s and ≤ 2× the reading. No Docker.
 * - diversity: `--select 1000 --by diversity` over the same 10,000 trajectories, as a ratio
 *   against reading them, and the k-center greedy alone on their signatures and on random ones
 *   (the worst case; bench/diversitySelect.ts). Target: the greedy < 5 s. No Docker.
 * - browser: one browser action (click → observation ready) in a trajlab/browser:1 container with
 *   network none, by the two driver designs of issue 20 (playwright-core here over the exec
 *   tunnel; a driver inside the container), against a bash step's exec there; and the
 *   observation's size in tokens (bench/browser.ts; needs scripts/build-browser-image.sh).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { ChatMessage } from '../common/src/trajectory';
import { ScriptedModel } from '../server/src/agent/policies';
import { RunEngine } from '../server/src/run/engine';
import { connectDocker } from '../server/src/runtime/connection';
import { Sandbox } from '../server/src/runtime/sandbox';
import { silentLogger, stderrLogger } from '../server/src/util/log';
import { languageBench } from './language';
import { languageDuplicatesBench } from './languageDuplicates';
import { exportBench } from './export';
import { secretScanBench } from './secretScan';
import { chatTemplateBench } from './chatTemplate';
import { diffCaptureBench } from './diffCapture';
import { browserBench } from './browser';
import { importBench } from './importScale';
import { importTasksBench } from './importTasks';
import { inspectorBench } from './inspector';
import { poolBench } from './pool';
import { trajectoryWriteBench } from './trajectoryWrite';
import { metricsBench } from './metrics';
import { modelLimitsBench } from './modelLimits';
import { queueBench } from './queue';
import { nearDedupBench } from './nearDedup';
import { diversityBench } from './diversitySelect';

const run = promisify(execFile);
const IMAGE = process.env.TRAJLAB_SANDBOX_IMAGE ?? 'trajlab/sandbox:1';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function transport(n = 60): Promise<void> {
  const docker = connectDocker();
  const sandbox = await Sandbox.create(docker, { image: IMAGE, runId: 'bench', taskId: 'transport', attempt: 1, workdir: '/workspace', logger: stderrLogger });
  try {
    const session: number[] = [];
    const execApi: number[] = [];
    const cli: number[] = [];
    const limits = { timeoutSec: 30, outputCap: 65536 };
    // Interleave so all three see the same machine state; warm up each once.
    await sandbox.exec('true', limits);
    await sandbox.execOnce('true', limits);
    await run('docker', ['exec', '-w', '/workspace', sandbox.id, 'bash', '-lc', 'true']);
    for (let i = 0; i < n; i++) {
      let t = performance.now();
      const o = await sandbox.exec('true', limits);
      session.push(performance.now() - t);
      if (o.exit_code !== 0) throw new Error('exec failed');
      t = performance.now();
      await sandbox.execOnce('true', limits);
      execApi.push(performance.now() - t);
      t = performance.now();
      await run('docker', ['exec', '-w', '/workspace', sandbox.id, 'bash', '-lc', 'true']);
      cli.push(performance.now() - t);
    }
    const a = median(session);
    const e = median(execApi);
    const c = median(cli);
    console.log(`transport: over ${n} commands, median: TrajLab's session (the container's main process, on its attached stdin) ${a.toFixed(1)} ms; one Docker exec API call per command (its fallback) ${e.toFixed(1)} ms; docker exec CLI ${c.toFixed(1)} ms`);
    console.log(`transport: ratio TrajLab/CLI = ${(a / c).toFixed(2)}× (target ≤ 0.50×) ${a / c <= 0.5 ? 'PASS' : 'MISS'}; exec API per command/CLI = ${(e / c).toFixed(2)}×`);
  } finally {
    await sandbox.remove();
  }
}

function tmpTasks(lines: object[]): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-bench-'));
  const file = path.join(dir, 'tasks.jsonl');
  fs.writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return { dir, file };
}

async function overhead(steps = 200): Promise<void> {
  const { dir, file } = tmpTasks([{ task_id: 'overhead', description: 'run true many times', eval: ['true'] }]);
  const replies: ChatMessage[] = Array.from({ length: steps }, (_, i) => ({
    role: 'assistant',
    content: null,
    tool_calls: [{ id: `c${i}`, type: 'function', function: { name: 'bash', arguments: '{"command":"true"}' } }],
  }));
  const model = new ScriptedModel(replies, { spec: 'bench', provider: 'bench', name: 'zero-latency' }, 'model');
  const stamps: number[] = [];
  const execMs: number[] = [];
  const engine = new RunEngine(
    { tasksFile: file, model: 'bench', out: path.join(dir, 'out'), workers: 1, maxSteps: steps + 1 },
    {
      logger: silentLogger,
      model,
      onEvent: (e) => {
        if (e.type === 'step') {
          stamps.push(performance.now());
          execMs.push(e.step.observations.reduce((s, o) => s + o.duration_ms, 0));
        }
      },
    },
  );
  await engine.run();
  const per: number[] = [];
  const exec: number[] = [];
  for (let i = 1; i < stamps.length; i++) {
    per.push(stamps[i]! - stamps[i - 1]!);
    exec.push(execMs[i]!);
    }
  const over = per.map((p, i) => p - exec[i]!);
  const m = median(over);
  console.log(`overhead: ${per.length} steps, median step ${median(per).toFixed(2)} ms, median exec ${median(exec).toFixed(2)} ms`);
  console.log(`overhead: harness time per step minus exec = ${m.toFixed(2)} ms median (target ≤ 2 ms) ${m <= 2 ? 'PASS' : 'MISS'}; ratio to exec time ${(m / median(exec)).toFixed(2)}×`);
  fs.rmSync(dir, { recursive: true, force: true });
}

async function scheduling(tasks = 32, repeats = Number(process.env.TRAJLAB_BENCH_REPEATS ?? 3)): Promise<void> {
  const lines = Array.from({ length: tasks }, (_, i) => ({ task_id: `sleep-${i}`, description: 'sleep', solution: { commands: ['sleep 1'] }, eval: ['true'] }));
  const { dir, file } = tmpTasks(lines);
  let runs = 0;
  const time = async (workers: number) => {
    const t = performance.now();
    const report = await new RunEngine({ tasksFile: file, model: 'gold', out: path.join(dir, `run-${runs++}`), workers }, { logger: silentLogger }).run();
    if (report.resolved !== tasks) throw new Error(`only ${report.resolved}/${tasks} resolved`);
    return (performance.now() - t) / 1000;
  };
  // One warm-up run first, so neither measured run pays the process's one-time costs (the
  // schema compile, JIT, the engine's first containers). Then `repeats` pairs, each --workers 16
  // then --workers 1, and the median ratio (container start is CPU-bound: on a small machine
  // the ratio moves with its neighbours' load).
  await time(16);
  const ratios: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const parallel = await time(16);
    const serial = await time(1);
    ratios.push(serial / parallel);
    console.log(`scheduling: ${tasks} tasks of \`sleep 1\`: --workers 1 ${serial.toFixed(2)} s, --workers 16 ${parallel.toFixed(2)} s: ${(serial / parallel).toFixed(1)}×`);
  }
  const m = median(ratios);
  console.log(`scheduling: speed-up median ${m.toFixed(1)}× of ${repeats} (range ${Math.min(...ratios).toFixed(1)}–${Math.max(...ratios).toFixed(1)}×; target ≥ 12×) ${m >= 12 ? 'PASS' : 'MISS'}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

const benches: Record<string, () => Promise<void>> = { transport: () => transport(), overhead: () => overhead(), scheduling: () => scheduling(), language: () => languageBench(), 'language-duplicates': () => languageDuplicatesBench(), export: () => exportBench(), 'secret-scan': () => secretScanBench(), 'chat-template': () => chatTemplateBench(), import: () => importBench(), 'import-tasks': () => importTasksBench(), write: () => trajectoryWriteBench(), inspector: () => inspectorBench(), 'diff-capture': () => diffCaptureBench(), metrics: () => metricsBench(), pool: () => poolBench(), 'model-limits': () => modelLimitsBench(), queue: () => queueBench(), 'near-dedup': () => nearDedupBench(), diversity: () => diversityBench(), browser: () => browserBench() };

(async () => {
  const which = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  for (const name of which.length ? which : Object.keys(benches)) {
    const fn = benches[name];
    if (!fn) throw new Error(`unknown benchmark "${name}"; use ${Object.keys(benches).join(', ')}`);
    await fn();
  }
})().catch((err: Error) => {
  console.error(`bench: ${err.message}`);
  process.exit(1);
});
