/**
 * Integration tests of the host pool (server/src/pool/poolRunner.ts) through RunEngine with
 * `hosts`, on real Docker engines of this machine: the system engine (unix socket), the TLS
 * engine of test/helpers/remoteHosts.ts, and a third dockerd started here on its own socket and
 * roots (killed with SIGKILL for the host-death test, then started again). Gold tasks whose
 * solution commands sleep make attempts long enough to watch.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Docker from 'dockerode';
import type { HostSpec, RunInfo, RunReport } from '../../common/src/run';
import type { Trajectory } from '../../common/src/trajectory';
import { setDrained } from '../../server/src/pool/drain';
import { RunEngine } from '../../server/src/run/engine';
import type { RunEvent } from '../../server/src/store/runStore';
import { readTrajectoryWithJournal } from '../../server/src/store/trajectoryWriter';
import { memoryLogger, readJson, tempDir, waitFor } from '../helpers/engineHelpers';
import { remoteHostsUnavailable, startSshHost, startTlsEngine, type TlsEngine } from '../helpers/remoteHosts';

const SANDBOX = 'trajlab/sandbox:1';
const LOCAL = 'unix:///var/run/docker.sock';
const unavailable = remoteHostsUnavailable();

/** Where the third engine keeps its images between test runs (the sandbox image is loaded once). */
const E3_DATA_ROOT = '/var/lib/trajlab-pool-test-engine';

/** A dockerd of this test: its own data root, exec root, pid file and socket; `kill()` sends SIGKILL (to its containerd too), `start()` starts it again on the same roots. */
interface OwnEngine {
  url: string;
  start(): Promise<void>;
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: a host that stops answering without refusing or resetting connections. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

async function ownEngine(dir: string): Promise<OwnEngine> {
  // A fresh exec root for each start: a restart after kill() is a machine that rebooted.
  let starts = 0;
  let execRoot = '';
  const sock = path.join(dir, 'docker.sock');
  const log = path.join(dir, 'dockerd.log');
  let child: ChildProcess | undefined;
  const cli = (...args: string[]) => execFileSync('docker', ['-H', `unix://${sock}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  const exited = (c: ChildProcess) => new Promise<void>((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve())));
  /** containerd that this dockerd started (it outlives a SIGKILL of dockerd): ended by its pid file. */
  const killContainerd = () => {
    const pidFile = path.join(execRoot, 'containerd', 'containerd.pid');
    if (!fs.existsSync(pidFile)) return;
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    try {
      if (pid > 0) process.kill(pid, 'SIGKILL');
    } catch {
      // already gone: nothing to end
    }
  };
  /** Container shims this dockerd's containerd started (left running when dockerd died before removing them), and their containers' processes. */
  const killShims = () => {
    for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      let args = '';
      try {
        args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue; // ended meanwhile
      }
      if (!args.startsWith('/usr/bin/containerd-shim') || !args.includes(`${execRoot}/`)) continue;
      const children = execFileSync('sh', ['-c', `pgrep -P ${pid} || true`]).toString().split('\n').filter(Boolean).map(Number);
      for (const p of [...children, Number(pid)]) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  };
  const unmountExecRoot = () => {
    try {
      execFileSync('sh', ['-c', `grep -o " ${execRoot}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`], { stdio: 'ignore' });
    } catch (err) {
      process.stderr.write(`third dockerd: mounts under its exec root not unmounted: ${(err as Error).message}\n`);
    }
    fs.rmSync(execRoot, { recursive: true, force: true });
  };
  const engine: OwnEngine = {
    url: `unix://${sock}`,
    async start() {
      execRoot = path.join('/var/run', `trajlab-pool-e3-${process.pid}-${++starts}`);
      const out = fs.openSync(log, 'a');
      child = spawn('dockerd', [
        '--data-root', E3_DATA_ROOT, '--exec-root', execRoot, '--pidfile', path.join(dir, 'dockerd.pid'), '-H', `unix://${sock}`,
        '--iptables=false', '--ip6tables=false', '--bridge=none', '--storage-driver=overlay2',
      ], { stdio: ['ignore', out, out] });
      fs.closeSync(out);
      await waitFor('the third dockerd', () => {
        if (child!.exitCode !== null) throw new Error(`dockerd exited ${child!.exitCode}: ${fs.readFileSync(log, 'utf8').split('\n').slice(-10).join('\n')}`);
        try {
          cli('version');
          return true;
        } catch {
          return false;
        }
      }, 60_000, 250);
    },
    async kill() {
      if (!child) return;
      child.kill('SIGKILL');
      await exited(child);
      child = undefined;
      // Its containerd and container shims go too, as on a machine that reboots.
      killContainerd();
      killShims();
      unmountExecRoot();
    },
    pause() {
      child?.kill('SIGSTOP');
    },
    resume() {
      child?.kill('SIGCONT');
    },
    async stop() {
      if (child) {
        child.kill('SIGCONT');
        // Its containers first (they outlive dockerd otherwise), then dockerd, then its containerd.
        try {
          const ids = cli('ps', '-aq', '--filter', 'label=trajlab.run').toString().split('\n').filter(Boolean);
          if (ids.length) cli('rm', '-f', ...ids);
        } catch (err) {
          process.stderr.write(`third dockerd: containers not removed: ${(err as Error).message}\n`);
        }
        child.kill('SIGTERM');
        const c = child;
        const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
        await exited(c);
        clearTimeout(t);
        child = undefined;
      }
      killContainerd();
      killShims();
      unmountExecRoot();
    },
  };
  await engine.start();
  try {
    cli('image', 'inspect', SANDBOX);
  } catch {
    execFileSync('bash', ['-c', `docker save "$1" | docker -H "$2" load`, 'load', SANDBOX, `unix://${sock}`], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  }
  return engine;
}

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
  let e3: OwnEngine;
  const savedCertPath = process.env.DOCKER_CERT_PATH;

  before(async () => {
    tmp = tempDir('pool');
    fs.mkdirSync(path.join(tmp.dir, 'e3'), { recursive: true });
    [tls, e3] = await Promise.all([startTlsEngine(path.join(tmp.dir, 'tls'), [SANDBOX]), ownEngine(path.join(tmp.dir, 'e3'))]);
    // The TLS client reads its certificates from DOCKER_CERT_PATH when it connects (connectDocker).
    process.env.DOCKER_CERT_PATH = tls.env.DOCKER_CERT_PATH;
  });
  after(async () => {
    if (savedCertPath === undefined) delete process.env.DOCKER_CERT_PATH;
    else process.env.DOCKER_CERT_PATH = savedCertPath;
    await Promise.all([tls?.stop(), e3?.stop()]);
    tmp?.cleanup();
  });

  test('attempts land on both hosts (unix socket and TLS) within each one\'s workers; run.json, events and trajectories name the host', async () => {
    const dir = path.join(tmp.dir, 'two');
    fs.mkdirSync(dir);
    const tasksFile = goldTasks(dir, 'two', 8, ['sleep 1']);
    const hosts: HostSpec[] = [{ url: LOCAL, name: 'local', workers: 2 }, { url: tls.url, name: 'tls', workers: 3 }];
    const engine = new RunEngine({ tasksFile, model: 'gold', out: path.join(dir, 'out'), runId: 'pool-two', hosts, workers: 1 }, { logger: memoryLogger() });
    const { report, runDir } = await runOf(engine);
    assert.equal(report.total, 8);
    assert.equal(report.resolved, 8, JSON.stringify(report));
    assert.equal(report.host_failures, 0);
    assert.equal(report.moved_attempts, 0);
    const ts = trajectories(runDir);
    const peak = peakPerHost(ts);
    assert.ok(peak.local! >= 1 && peak.local! <= 2, `local ran ${peak.local} at once (workers 2)`);
    assert.ok(peak.tls! >= 1 && peak.tls! <= 3, `tls ran ${peak.tls} at once (workers 3)`);
    const info = readJson<RunInfo>(path.join(runDir, 'run.json'));
    assert.deepEqual(info.hosts?.map((h) => [h.name, h.url, h.workers]), [['local', LOCAL, 2], ['tls', tls.url, 3]]);
    const started = Object.fromEntries(info.hosts!.map((h) => [h.name, h.attempts_started]));
    assert.equal(started.local! + started.tls!, 8);
    assert.equal(ts.filter((t) => t.environment.host === 'local').length, started.local);
    const hostsOfEvents = events(runDir).flatMap((e) => (e.type === 'attempt_started' ? [e.host] : []));
    assert.equal(hostsOfEvents.length, 8);
    assert.ok(hostsOfEvents.every((h) => h === 'local' || h === 'tls'));
    assert.deepEqual(await new Docker().listContainers({ all: true, filters: { label: ['trajlab.run=pool-two'] } }), [], 'no container of the run left on local');
  });

  test('a host killed with SIGKILL mid-run: its attempts continue on the other host from their journal (no finished step lost or repeated); it rejoins with its leftovers removed', async () => {
    const dir = path.join(tmp.dir, 'death');
    fs.mkdirSync(dir);
    const commands = ['echo one >> log.txt', 'sleep 2', 'echo two >> log.txt', 'sleep 2', 'echo three >> log.txt'];
    const tasksFile = goldTasks(dir, 'death', 6, commands);
    const hosts: HostSpec[] = [{ url: LOCAL, name: 'local', workers: 2 }, { url: e3.url, name: 'e3', workers: 2 }];
    const logger = memoryLogger();
    const runId = 'pool-death';
    const engine = new RunEngine({ tasksFile, model: 'gold', out: path.join(dir, 'out'), runId, hosts, workers: 2 }, { logger });
    const running = runOf(engine);
    // A failing check below must not leave the run going.
    const ended = running.catch(() => undefined);
    const runDir = engine.store.dir;
    try {
      // Wait until an attempt on e3 has finished a step, then kill its engine.
      const onE3 = await waitFor('an attempt on e3 past its first step', () => {
        const s = engine.attemptStates().find((a) => a.state.kind === 'running' && a.state.host === 'e3' && a.state.step >= 1);
        return s && { ...s };
      }, 60_000, 50);
      await e3.kill();
      const killedAt = Date.now();
      const atKill = await readTrajectoryWithJournal(onE3.trajectoryPath);
      // The host answers again a little later: this run's leftover containers there are removed.
      await waitFor('host_down', () => events(runDir).some((e) => e.type === 'host_down' && e.host === 'e3'), 20_000, 100);
      const detectedMs = Date.now() - killedAt;
      // Once the watched attempt runs again elsewhere, e3 comes back (else it might go back there).
      await waitFor('the attempt moved', () => events(runDir).some((e) => e.type === 'attempt_moved' && e.task_id === onE3.taskId), 60_000, 100);
      const movedMs = Date.now() - killedAt;
      await e3.start();
      const { report } = await running;
      assert.equal(report.total, 6);
      assert.equal(report.resolved, 6, `every attempt accounted for: ${JSON.stringify(report)}\n${logger.lines.join('\n')}`);
      assert.equal(report.host_failures, 1);
      assert.ok((report.moved_attempts ?? 0) >= 1, 'the attempts on e3 moved');
      const evs = events(runDir);
      const moved = evs.filter((e) => e.type === 'attempt_moved');
      assert.equal(moved.length, report.moved_attempts);
      assert.ok(moved.every((e) => e.type === 'attempt_moved' && e.from === 'e3'), JSON.stringify(moved));
      assert.ok(evs.some((e) => e.type === 'host_up' && e.host === 'e3'), 'e3 came back');
      // Each attempt finished once; the moved one kept its steps and replayed them on `local`.
      assert.equal(evs.filter((e) => e.type === 'attempt_finished').length, 6);
      const t = readJson<Trajectory>(onE3.trajectoryPath);
      assert.equal(t.status, 'finished');
      assert.equal(t.environment.host, 'local');
      const move = t.environment.moves?.[0];
      assert.ok(move && move.from === 'e3' && move.to === 'local' && move.at_step >= 1, JSON.stringify(t.environment));
      assert.match(move.reason, /^host down: /);
      const unmoved = trajectories(runDir).find((u) => !u.environment.moves);
      assert.ok(unmoved, 'an attempt that never moved, to compare with');
      assert.deepEqual(t.steps.map((s) => s.index), unmoved.steps.map((s) => s.index), 'every step once, in order, as in an attempt that never moved');
      const before = atKill!.steps;
      assert.ok(before.length >= 1 && move.at_step >= before.length, `the ${before.length} step(s) journaled before the kill are kept`);
      assert.deepEqual(t.steps.slice(0, before.length).map((s) => [s.index, s.started_at, s.observations]), before.map((s) => [s.index, s.started_at, s.observations]), 'the steps finished on e3 are the ones kept');
      assert.ok(detectedMs < 10_000, `host death noticed in ${detectedMs} ms`);
      if (process.env.POOL_TEST_LOG) process.stderr.write(logger.lines.join('\n') + '\n');
      process.stderr.write(`host death noticed in ${detectedMs} ms; the watched attempt running again on local ${movedMs} ms after the kill\n`);
      // No container of the run is left on either engine.
      const e3Docker = new Docker({ socketPath: e3.url.slice('unix://'.length) });
      assert.deepEqual(await e3Docker.listContainers({ all: true, filters: { label: [`trajlab.run=${runId}`] } }), [], 'e3\'s leftovers removed');
      assert.deepEqual(await new Docker().listContainers({ all: true, filters: { label: [`trajlab.run=${runId}`] } }), []);
    } finally {
      engine.cancel();
      await ended;
    }
  });

  test('a host that stops answering (dockerd frozen with SIGSTOP: no refusal, no reset) is marked down after its pings time out, and its attempts move', async () => {
    const dir = path.join(tmp.dir, 'frozen');
    fs.mkdirSync(dir);
    const tasksFile = goldTasks(dir, 'frozen', 4, ['echo one >> log.txt', 'sleep 2', 'echo two >> log.txt', 'sleep 2']);
    const hosts: HostSpec[] = [{ url: LOCAL, name: 'local', workers: 2 }, { url: e3.url, name: 'e3', workers: 2 }];
    const logger = memoryLogger();
    const engine = new RunEngine({ tasksFile, model: 'gold', out: path.join(dir, 'out'), runId: 'pool-frozen', hosts, workers: 2 }, { logger });
    const running = runOf(engine);
    const ended = running.catch(() => undefined);
    const runDir = engine.store.dir;
    let frozen = false;
    try {
      const onE3 = await waitFor('an attempt on e3 past its first step', () => engine.attemptStates().find((a) => a.state.kind === 'running' && a.state.host === 'e3' && a.state.step >= 1), 60_000, 50);
      e3.pause();
      frozen = true;
      const frozenAt = Date.now();
      await waitFor('host_down', () => events(runDir).some((e) => e.type === 'host_down' && e.host === 'e3'), 30_000, 100);
      const detectedMs = Date.now() - frozenAt;
      await waitFor('the attempt moved', () => events(runDir).some((e) => e.type === 'attempt_moved' && e.task_id === onE3.taskId), 60_000, 100);
      e3.resume();
      frozen = false;
      const { report } = await running;
      assert.equal(report.resolved, 4, `${JSON.stringify(report)}\n${logger.lines.join('\n')}`);
      assert.ok(detectedMs < 15_000, `a frozen host noticed in ${detectedMs} ms`);
      process.stderr.write(`frozen host noticed in ${detectedMs} ms\n`);
      const t = readJson<Trajectory>(onE3.trajectoryPath);
      assert.equal(t.environment.moves?.[0]?.from, 'e3');
      assert.match(t.environment.moves![0]!.reason, /^host down: no answer to a ping within 3 s/);
      assert.equal(events(runDir).filter((e) => e.type === 'attempt_finished').length, 4);
    } finally {
      if (frozen) e3.resume();
      engine.cancel();
      await ended;
    }
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

  test('an ssh:// host in the pool (sshd reaching the local engine) beside the TLS one: both take attempts, and the periodic pings over ssh keep it up', async () => {
    const dir = path.join(tmp.dir, 'ssh');
    fs.mkdirSync(dir);
    const ssh = await startSshHost(path.join(dir, 'sshd'));
    const saved = { HOME: process.env.HOME, SSH_AUTH_SOCK: process.env.SSH_AUTH_SOCK };
    Object.assign(process.env, ssh.env);
    try {
      const tasksFile = goldTasks(dir, 'ssh', 6, ['sleep 2']);
      const hosts: HostSpec[] = [{ url: ssh.url, name: 'ssh', workers: 2 }, { url: tls.url, name: 'tls', workers: 2 }];
      const engine = new RunEngine({ tasksFile, model: 'gold', out: path.join(dir, 'out'), runId: 'pool-ssh', hosts, workers: 1 }, { logger: memoryLogger() });
      const { report, runDir } = await runOf(engine);
      assert.equal(report.resolved, 6, JSON.stringify(report));
      assert.equal(report.host_failures, 0, 'no host was taken for down');
      const started = Object.fromEntries(readJson<RunInfo>(path.join(runDir, 'run.json')).hosts!.map((h) => [h.name, h.attempts_started]));
      assert.ok(started.ssh! >= 1 && started.tls! >= 1, JSON.stringify(started));
      assert.equal(readJson<RunInfo>(path.join(runDir, 'run.json')).hosts!.find((h) => h.name === 'ssh')!.url, ssh.url, 'the ssh user is kept, no password');
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await ssh.stop();
    }
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
