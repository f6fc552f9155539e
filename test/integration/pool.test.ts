/**
 * Integration tests of the host pool (server/src/run/poolRunner.ts) through RunEngine with
 * `hosts`, on two real Docker engines of this machine: the system engine (unix socket) and the
 * TLS engine of test/helpers/remoteHosts.ts (with the stand-in NVIDIA hook). Drain, GPU tasks on
 * a pool where only one host has devices, two pool runs sharing a host (/health), a single
 * host's state, and a pool whose every host is down. Host death, a silent host, ssh and three engines at once: hostPool.test.ts. Gold tasks
 * whose solution commands sleep make attempts long enough to watch.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HostSpec, RunInfo, RunReport } from '../../common/src/run';
import type { Trajectory } from '../../common/src/trajectory';
import { health } from '../../server/src/metrics/server';
import { setDrained } from '../../server/src/pool/drain';
import { RunEngine } from '../../server/src/run/engine';
import type { RunEvent } from '../../server/src/store/runStore';
import { memoryLogger, readJson, tempDir, waitFor } from '../helpers/engineHelpers';
import { remoteHostsUnavailable, startTlsEngine, type TlsEngine } from '../helpers/remoteHosts';

const SANDBOX = 'trajlab/sandbox:1';
const LOCAL = 'unix:///var/run/docker.sock';
const unavailable = remoteHostsUnavailable();

/** A tasks file of `n` gold tasks `<prefix>-<i>`, each solution being `commands` (one step each, then a submit). */
function goldTasks(dir: string, prefix: string, n: number, commands: string[]): string {
  const file = path.join(dir, `${prefix}.tasks.jsonl`);
  const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ task_id: `${prefix}-${i}`, description: 'wait', solution: { commands }, eval: ['true'] }));
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

function events(runDir: string): RunEvent[] {
  return fs.readFileSync(path.join(runDir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as RunEvent);
}

function trajectories(runDir: string): Trajectory[] {
  const dir = path.join(runDir, 'trajectories');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => readJson<Trajectory>(path.join(dir, f)));
}

/** The most attempts that ran at once on each host, from the trajectories' start and end times. */
function peakPerHost(ts: Trajectory[]): Record<string, number> {
  const edges: { host: string; at: number; d: number }[] = [];
  for (const t of ts) {
    edges.push({ host: t.environment.host, at: Date.parse(t.started_at), d: 1 }, { host: t.environment.host, at: Date.parse(t.ended_at!), d: -1 });
  }
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  const now: Record<string, number> = {};
  const peak: Record<string, number> = {};
  for (const e of edges) {
    now[e.host] = (now[e.host] ?? 0) + e.d;
    peak[e.host] = Math.max(peak[e.host] ?? 0, now[e.host]!);
  }
  return peak;
}

async function runOf(engine: RunEngine): Promise<{ report: RunReport; runDir: string }> {
  const report = await engine.run();
  return { report, runDir: engine.store.dir };
}

describe('a pool of Docker hosts', { skip: unavailable ?? false, timeout: 900_000 }, () => {
  let tmp: { dir: string; cleanup(): void };
  let tls: TlsEngine;
  const savedCertPath = process.env.DOCKER_CERT_PATH;

  before(async () => {
    tmp = tempDir('pool');
    tls = await startTlsEngine(path.join(tmp.dir, 'tls'), [SANDBOX]);
    // The TLS client reads its certificates from DOCKER_CERT_PATH when it connects (connectDocker).
    process.env.DOCKER_CERT_PATH = tls.env.DOCKER_CERT_PATH;
  });
  after(async () => {
    if (savedCertPath === undefined) delete process.env.DOCKER_CERT_PATH;
    else process.env.DOCKER_CERT_PATH = savedCertPath;
    await tls?.stop();
    tmp?.cleanup();
  });

  test('drain mid-run: a drained host takes no new attempt while its running one finishes; undrained, it takes work again', async () => {
    const dir = path.join(tmp.dir, 'drain');
    fs.mkdirSync(dir);
    const out = path.join(dir, 'out');
    const tasksFile = goldTasks(dir, 'drain', 12, ['sleep 1']);
    const hosts: HostSpec[] = [{ url: LOCAL, name: 'local', workers: 1 }, { url: tls.url, name: 'tls', workers: 1 }];
    const engine = new RunEngine({ tasksFile, model: 'gold', out, runId: 'pool-drain', hosts, workers: 1 }, { logger: memoryLogger() });
    const running = runOf(engine);
    await waitFor('an attempt running on tls', () => engine.attemptStates().some((a) => a.state.kind === 'running' && a.state.host === 'tls'), 60_000, 50);
    await setDrained(out, tls.url, true);
    const drainedAt = Date.now();
    const state = await waitFor('tls shown draining', () => engine.hostsState()?.find((h) => h.name === 'tls' && h.status === 'draining'), 5_000, 50);
    assert.deepEqual([state.url, state.slots, state.gpus], [tls.url, 1, []]);
    await new Promise((r) => setTimeout(r, 4000));
    await setDrained(out, tls.url, false);
    const undrainedAt = Date.now();
    const { report, runDir } = await running;
    assert.equal(report.resolved, 12);
    // Placements decided before the drain file was read (at most about a second) may still start.
    const startedOnTls = events(runDir).flatMap((e) => (e.type === 'attempt_started' && e.host === 'tls' ? [Date.parse(e.time)] : []));
    assert.deepEqual(startedOnTls.filter((t) => t > drainedAt + 2500 && t < undrainedAt), [], 'no attempt started on the drained host');
    assert.ok(startedOnTls.some((t) => t > undrainedAt), 'undrained, it took work again');
  });

  test('GPU tasks go only to a host with free devices (the TLS engine with the stand-in NVIDIA hook), never two on one device at once', async () => {
    const dir = path.join(tmp.dir, 'gpus');
    fs.mkdirSync(dir);
    const tasksFile = path.join(dir, 'gpus.tasks.jsonl');
    const gpuTask = (i: number) => ({ task_id: `gpu-${i}`, description: 'one GPU', gpus: 1, solution: { commands: ['echo "$NVIDIA_VISIBLE_DEVICES" > visible.txt', 'sleep 1'] }, eval: ['test -n "$NVIDIA_VISIBLE_DEVICES"'] });
    const cpuTask = (i: number) => ({ task_id: `cpu-${i}`, description: 'no GPU', solution: { commands: ['sleep 1'] }, eval: ['test -z "$NVIDIA_VISIBLE_DEVICES"'] });
    fs.writeFileSync(tasksFile, [...[0, 1, 2, 3, 4, 5].map(gpuTask), ...[0, 1, 2, 3].map(cpuTask)].map((t) => JSON.stringify(t)).join('\n') + '\n');
    const hosts: HostSpec[] = [{ url: LOCAL, name: 'local', workers: 2, gpus: [] }, { url: tls.url, name: 'tls', workers: 4, gpus: ['0', '1'] }];
    const engine = new RunEngine({ tasksFile, model: 'gold', out: path.join(dir, 'out'), runId: 'pool-gpus', hosts, workers: 1 }, { logger: memoryLogger() });
    const { report, runDir } = await runOf(engine);
    assert.equal(report.resolved, 10, JSON.stringify(report));
    const ts = trajectories(runDir);
    const gpu = ts.filter((t) => t.task_id.startsWith('gpu-'));
    assert.ok(gpu.every((t) => t.environment.host === 'tls'), 'GPU tasks only where devices are');
    const device = (t: Trajectory) => /^\+(?!\+\+ )(.*)$/m.exec(t.result?.diff ?? '')?.[1] ?? '';
    for (const d of ['0', '1']) {
      const on = gpu.filter((t) => device(t) === d).sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));
      for (let i = 1; i < on.length; i++) assert.ok(Date.parse(on[i]!.started_at) >= Date.parse(on[i - 1]!.ended_at!), `device ${d}: ${on[i - 1]!.task_id} and ${on[i]!.task_id} overlap`);
    }
    assert.deepEqual(new Set(gpu.map(device)), new Set(['0', '1']), 'both devices used');
    assert.ok(peakPerHost(gpu).tls! <= 2, 'two devices: at most two GPU attempts at once');
    assert.equal(readJson<RunInfo>(path.join(runDir, 'run.json')).hosts?.find((h) => h.name === 'tls')?.gpus?.join(), '0,1');
  });

  test('two pool runs on one host at once: when the shorter ends, /health still lists the host up for the other; after both, not at all', async () => {
    const dir = path.join(tmp.dir, 'twoRuns');
    fs.mkdirSync(dir);
    const hosts: HostSpec[] = [{ url: LOCAL, name: 'shared', workers: 2 }];
    const run = (name: string, sleep: number) =>
      new RunEngine({ tasksFile: goldTasks(dir, name, 2, [`sleep ${sleep}`]), model: 'gold', out: path.join(dir, 'out'), runId: `pool-${name}`, hosts, workers: 1 }, { logger: memoryLogger() });
    const long = runOf(run('long', 6));
    const short = await runOf(run('short', 1));
    assert.equal(short.report.resolved, 2);
    assert.deepEqual((await health()).hosts, { up: ['shared'], down: [] }, 'the long run still uses the host');
    assert.equal((await long).report.resolved, 2);
    assert.deepEqual((await health()).hosts, { up: [], down: [] }, 'no run uses it any more');
  });

  test('a single host keeps its own runner; hostsState shows it up with its load', async () => {
    const dir = path.join(tmp.dir, 'single');
    fs.mkdirSync(dir);
    const tasksFile = goldTasks(dir, 'single', 2, ['sleep 2']);
    const engine = new RunEngine({ tasksFile, model: 'gold', out: path.join(dir, 'out'), runId: 'pool-single', host: LOCAL, workers: 2 }, { logger: memoryLogger() });
    const running = runOf(engine);
    const state = await waitFor('two attempts shown running', () => engine.hostsState()?.find((h) => h.running === 2), 60_000, 50);
    assert.deepEqual([state.name, state.status, state.slots], [LOCAL, 'up', 2]);
    const { report, runDir } = await running;
    assert.equal(report.resolved, 2);
    assert.equal(report.host_failures, undefined, 'no pool counts for a single host');
    assert.equal(readJson<RunInfo>(path.join(runDir, 'run.json')).hosts, undefined);
  });

  test('every host down: attempts wait up to hostWaitSec, then fail one by one with a clear error (the run ends, not throws)', async () => {
    const dir = path.join(tmp.dir, 'down');
    fs.mkdirSync(dir);
    const tasksFile = goldTasks(dir, 'down', 3, ['true']);
    const hosts: HostSpec[] = [{ url: `unix://${path.join(dir, 'none.sock')}`, name: 'gone' }];
    const logger = memoryLogger();
    const engine = new RunEngine({ tasksFile, model: 'gold', out: path.join(dir, 'out'), runId: 'pool-down', hosts, hostWaitSec: 2 }, { logger });
    const t0 = Date.now();
    const { report, runDir } = await runOf(engine);
    assert.ok(Date.now() - t0 >= 2000, 'it waited');
    assert.equal(report.total, 3);
    assert.equal(report.resolved, 0);
    assert.ok(logger.lines.some((l) => /all 1 Docker host\(s\) of the pool are down; waiting up to 2 s/.test(l)), logger.lines.join('\n'));
    const failed = events(runDir).filter((e) => e.type === 'attempt_failed');
    assert.equal(failed.length, 3);
    assert.ok(failed.every((e) => e.type === 'attempt_failed' && /no Docker host of the pool answered for 2 s \(gone: /.test(e.error)), JSON.stringify(failed[0]));
    assert.equal(readJson<RunInfo>(path.join(runDir, 'run.json')).counts.failed, 3);
  });
});
