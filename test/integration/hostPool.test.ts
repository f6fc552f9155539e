/**
 * The host pool (RunOptions.hosts) across real Docker engines of its own on this machine
 * (test/helpers/engines.ts): one on a unix socket, one with mutual TLS on 127.0.0.1, one reached
 * over ssh through a local sshd whose `docker system dial-stdio` lands on it. The acceptance of
 * issue 16:
 * - one run across the three: attempts land on all of them, never more at once on a host than
 *   its `workers`;
 * - SIGKILL of one engine's dockerd mid-run: every attempt accounted for, the moved attempts keep
 *   every step finished before the kill (their journal) and record the move, none runs twice;
 *   the engine, started again, rejoins and its orphan containers of the run are removed;
 * - a dockerd frozen mid-run (SIGSTOP: it answers nothing and resets nothing, as a machine gone
 *   silent) is marked down by the ping; the same checks, and its late replies once thawed
 *   change nothing;
 * - GPU placement with the stand-in NVIDIA hook: two hosts of two devices, eight 1-GPU tasks,
 *   never two attempts on one (host, device) at once.
 * Hosts are named `unix`, `tls` and `ssh` (HostSpec.name): events, moves and trajectories name
 * them so. Gold policy with `sleep` commands: no model, only the engines' work.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HostSpec, RunInfo, RunReport } from '../../common/src/run';
import type { Step, Trajectory } from '../../common/src/trajectory';
import { startMetricsServer, type Health } from '../../server/src/metrics/server';
import { RunEngine } from '../../server/src/run/engine';
import { readTrajectoryWithJournal } from '../../server/src/store/trajectoryWriter';
import { memoryLogger, readJson, tempDir, waitFor } from '../helpers/engineHelpers';
import { startEngine, type Engine } from '../helpers/engines';
import { attemptKey, hostStays, killMidAttempt, maxOverlap, midAttempt, readRunEvents, runningOn, type HostStay, type MidRunKill, type OpenStay } from '../helpers/poolEvents';
import { remoteHostsUnavailable, startSshHost, startTlsEngine, type SshHost, type TlsEngine } from '../helpers/remoteHosts';

const SANDBOX = process.env.TRAJLAB_SANDBOX_IMAGE ?? 'trajlab/sandbox:1';
const unavailable = remoteHostsUnavailable();

/** A gold task whose solution is `commands` (one step each, then the submit step). */
function goldTask(taskId: string, commands: string[], extra: object = {}): object {
  return { task_id: taskId, description: 'sleeps', solution: { commands }, eval: ['true'], ...extra };
}

function writeTasks(dir: string, tasks: object[]): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'tasks.jsonl');
  fs.writeFileSync(file, tasks.map((t) => JSON.stringify(t)).join('\n') + '\n');
  return file;
}

/** `docker <args>` against one engine (the test's own checks, not TrajLab's code path). */
function dockerOn(engine: Engine, args: string[]): string[] {
  return execFileSync('docker', [...engine.cliArgs, ...args], { encoding: 'utf8', timeout: 30_000 }).split('\n').filter(Boolean);
}

/** Ids of the containers of `runId` on `engine`, running or not. */
function containersOfRun(engine: Engine, runId: string): string[] {
  return dockerOn(engine, ['ps', '-aq', '--no-trunc', '--filter', `label=trajlab.run=${runId}`]);
}

/** Ids of the containers the engine created for `runId` since `since` (unix seconds), from its event log. */
function createdOn(engine: Engine, runId: string, since: number): string[] {
  return dockerOn(engine, ['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000)), '--filter', 'type=container', '--filter', 'event=create', '--filter', `label=trajlab.run=${runId}`, '--format', '{{.ID}}']);
}

/** The trajectory of `<task>.1` in `runDir`. */
function trajectory(runDir: string, taskId: string): Trajectory {
  return readJson<Trajectory>(path.join(runDir, 'trajectories', `${taskId}.1.json`));
}

/**
 * The steps of an attempt on disk now, finished by `time` (epoch ms): its trajectory JSON with
 * its step journal applied (what a move continues from), empty when neither exists yet.
 */
async function stepsOnDisk(runDir: string, taskId: string, time: number): Promise<Step[]> {
  const t = await readTrajectoryWithJournal(path.join(runDir, 'trajectories', `${taskId}.1.json`));
  return (t?.steps ?? []).filter((s) => Date.parse(s.ended_at) <= time);
}

/** The gold solution of the host-death tests: three steps, so an attempt is mid-way for a while. */
const SLEEPS = ['sleep 1', 'sleep 1', 'sleep 1'];

/** Cancels a run whose test failed and waits for it to end (its own error logged, the test's kept). */
async function abandon(engine: RunEngine, running: Promise<RunReport>, log: { error(m: string): void }): Promise<void> {
  engine.cancel();
  await running.then(
    () => undefined,
    (e: Error) => log.error(`the run, cancelled after the test failed: ${e.message}`),
  );
}

/** Per attempt running on a host when it died: its steps on disk (JSON and journal) finished by then. */
type BeforeDeath = Map<string, Step[]>;

/** What the attempts in `running` had on disk at `time` (epoch ms), read right after the host died. */
async function recordedBy(runDir: string, running: OpenStay[], time: number): Promise<BeforeDeath> {
  const before: BeforeDeath = new Map();
  for (const { attempt } of running) before.set(attempt, await stepsOnDisk(runDir, attempt.replace(/\.1$/, ''), time));
  return before;
}

/** Waits (60 s) until every attempt in `running` has an `attempt_moved` event. */
function movesOf(runDir: string, running: OpenStay[]): Promise<true> {
  return waitFor('the dead host\'s attempts to move', () => {
    const moved = readRunEvents(runDir).flatMap((e) => (e.type === 'attempt_moved' ? [attemptKey(e)] : []));
    return running.every((o) => moved.includes(o.attempt));
  }, 60_000, 250);
}

/**
 * A finished run of `taskIds` (gold tasks of `steps` sleeps): each resolved, one trajectory and
 * one `attempt_finished` per attempt, never started while running elsewhere (hostStays), each
 * trajectory with its sleeps and the submit exactly once.
 */
function assertEachAttemptOnce(runDir: string, report: RunReport, taskIds: string[], steps: number, log: { lines: string[] }): HostStay[] {
  assert.equal(report.total, taskIds.length, log.lines.join('\n'));
  assert.equal(report.resolved, taskIds.length, log.lines.join('\n'));
  assert.equal(report.error, 0);
  const events = readRunEvents(runDir);
  const stays = hostStays(events); // throws on an attempt started while it still ran elsewhere
  const finished = events.flatMap((e) => (e.type === 'attempt_finished' ? [attemptKey(e)] : []));
  assert.deepEqual(finished.sort(), taskIds.map((id) => `${id}.1`).sort(), 'each attempt finished once');
  assert.deepEqual(fs.readdirSync(path.join(runDir, 'trajectories')).filter((f) => f.endsWith('.json')).sort(), taskIds.map((id) => `${id}.1.json`).sort());
  for (const id of taskIds) {
    assert.deepEqual(trajectory(runDir, id).steps.map((s) => s.index), Array.from({ length: steps + 1 }, (_, i) => i), `${id}: its sleeps and the submit, none twice`);
  }
  return stays;
}

/**
 * The attempts that ran on `host` when it died at `time` (epoch ms) moved and kept their steps:
 * events and report count the moves; each trajectory has a move from `host`, at the step it had
 * reached (every step finished before the death, plus at most the one whose command had ended in
 * the container as it died: its result was in flight), those steps as they were recorded and
 * nothing run on `host` after `time`.
 */
function assertMovesKeepSteps(runDir: string, report: RunReport, host: string, time: number, before: BeforeDeath): void {
  const events = readRunEvents(runDir);
  assert.ok(events.some((e) => e.type === 'host_down' && e.host === host), `host_down for ${host}`);
  assert.ok(report.host_failures! >= 1, `host_failures ${report.host_failures}`);
  assert.equal(report.moved_attempts, events.filter((e) => e.type === 'attempt_moved').length);
  for (const [key, steps] of before) {
    const t = trajectory(runDir, key.replace(/\.1$/, ''));
    const story = () => JSON.stringify({ died: new Date(time).toISOString(), moves: t.environment.moves, steps: t.steps.map((s) => ({ started: s.started_at, ended: s.ended_at, error: s.error, exit: s.observations.map((o) => o.exit_code), out: s.observations.map((o) => (o.stdout + o.stderr).slice(0, 200)) })) });
    const move = t.environment.moves?.find((m) => m.from === host);
    assert.ok(move, `${key} records its move: ${JSON.stringify(t.environment)}`);
    assert.notEqual(move.to, host);
    assert.ok(move.at_step >= steps.length && move.at_step <= steps.length + 1, `${key} moved at the step it had reached (${steps.length} finished before ${host} died): ${story()}`);
    t.steps.forEach((s, i) => {
      if (i < move.at_step) assert.ok(Date.parse(s.started_at) <= time, `${key} step ${i} ran on ${host} before it died: ${story()}`);
      else assert.ok(Date.parse(s.started_at) >= Date.parse(move.time), `${key} step ${i} ran after the move: ${story()}`);
    });
    assert.notEqual(t.environment.host, host, `${key} finished elsewhere`);
    assert.deepEqual(t.steps.slice(0, steps.length), steps, `${key} keeps every step finished before ${host} died as recorded: ${story()}`);
    // The `step` events: those of the dead host's stay are the steps the move kept; none after the move repeats one.
    const moved = events.findIndex((e) => e.type === 'attempt_moved' && attemptKey(e) === key);
    const stepEvents = (from: number, to: number) => events.slice(from, to).flatMap((e) => (e.type === 'step' && attemptKey(e) === key ? [e.index] : []));
    assert.deepEqual(stepEvents(0, moved), Array.from({ length: move.at_step }, (_, i) => i), `${key}: step events before the move`);
    const later = stepEvents(moved, events.length);
    assert.ok(later.every((i) => i >= move.at_step) && new Set(later).size === later.length, `${key}: step events after the move repeat none: ${later}`);
    assert.equal(t.result?.reward, 1);
  }
}

describe('host pool across three real Docker engines', { skip: unavailable ?? false, timeout: 600_000 }, () => {
  let tmp: { dir: string; cleanup(): void };
  let unix: Engine;
  let tls: TlsEngine;
  let sshEngine: Engine;
  let ssh: SshHost;
  const savedEnv = new Map<string, string | undefined>();

  before(async () => {
    tmp = tempDir('host-pool');
    const started = await Promise.allSettled([
      startEngine({ name: 'pool-unix', dir: tmp.dir, images: [SANDBOX], fakeNvidia: true }).then((e) => (unix = e)),
      startTlsEngine(path.join(tmp.dir, 'tls'), [SANDBOX], 'pool-tls').then((e) => (tls = e)),
      startEngine({ name: 'pool-ssh', dir: tmp.dir, images: [SANDBOX] }).then((e) => (sshEngine = e)),
    ]);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    ssh = await startSshHost(path.join(tmp.dir, 'ssh'), sshEngine.url);
    // connectDocker reads these in this process: the TLS client certificate, the ssh agent and known_hosts.
    for (const [k, v] of Object.entries({ ...tls.env, ...ssh.env, DOCKER_HOST: undefined, DOCKER_TLS_VERIFY: undefined })) {
      savedEnv.set(k, process.env[k]);
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  after(async () => {
    for (const [k, v] of savedEnv) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await Promise.all([unix?.stop(), tls?.stop(), sshEngine?.stop(), ssh?.stop()]);
    tmp?.cleanup();
  });

  const threeHosts = (workers: number): HostSpec[] => [
    { url: unix.url, name: 'unix', workers },
    { url: tls.url, name: 'tls', workers },
    { url: ssh.url, name: 'ssh', workers },
  ];

  /** Starts a run of `count` gold tasks of SLEEPS across the three hosts (workers 2 each); `running` is its run(). */
  const startSleepRun = (runId: string, count: number) => {
    const dir = path.join(tmp.dir, runId);
    const taskIds = Array.from({ length: count }, (_, i) => `${runId}-${String(i).padStart(2, '0')}`);
    const log = memoryLogger();
    const tasksFile = writeTasks(dir, taskIds.map((id) => goldTask(id, SLEEPS)));
    const engine = new RunEngine({ tasksFile, model: 'gold', out: path.join(dir, 'out'), runId, workers: 2, hosts: threeHosts(2), hostWaitSec: 120 }, { logger: log });
    return { runDir: path.join(dir, 'out', 'runs', runId), taskIds, log, engine, running: engine.run() };
  };

  test('one run across a unix, a TLS and an ssh engine: attempts land on all three, never more at once on a host than its workers', async () => {
    const dir = path.join(tmp.dir, 'three');
    const runId = 'pool-three';
    const tasks = Array.from({ length: 12 }, (_, i) => goldTask(`sleep-${i}`, ['sleep 1']));
    const since = Math.floor(Date.now() / 1000) - 1;
    const log = memoryLogger();
    const report = await new RunEngine({ tasksFile: writeTasks(dir, tasks), model: 'gold', out: path.join(dir, 'out'), runId, workers: 2, hosts: threeHosts(2), hostWaitSec: 60 }, { logger: log }).run();
    const runDir = path.join(dir, 'out', 'runs', runId);
    assert.equal(report.total, 12, log.lines.join('\n'));
    assert.equal(report.resolved, 12, log.lines.join('\n'));

    const stays = hostStays(readRunEvents(runDir));
    assert.equal(stays.length, 12, 'one stay per attempt: no host went down');
    for (const host of ['unix', 'tls', 'ssh']) {
      const here = stays.filter((s) => s.host === host);
      assert.ok(here.length > 0, `attempts ran on ${host}: ${JSON.stringify(stays.map((s) => s.host))}`);
      assert.ok(maxOverlap(here) <= 2, `at most 2 attempts at once on ${host} (saw ${maxOverlap(here)})`);
    }
    assert.ok(maxOverlap(stays) > 2, `attempts ran on several hosts at once (at most ${maxOverlap(stays)} at a time)`);

    // Each engine really ran what the events say it ran, and the system engine ran nothing.
    for (const [engine, host] of [[unix, 'unix'], [tls, 'tls'], [sshEngine, 'ssh']] as const) {
      const here = stays.filter((s) => s.host === host);
      assert.equal(createdOn(engine, runId, since).length, here.length, `containers created on ${host}`);
      assert.deepEqual(containersOfRun(engine, runId), [], `no container of the run left on ${host}`);
      for (const s of here) assert.equal(trajectory(runDir, s.attempt.replace(/\.1$/, '')).environment.host, host, `${s.attempt}'s trajectory names ${host}`);
    }
    const system = execFileSync('docker', ['events', '--since', String(since), '--until', String(Math.ceil(Date.now() / 1000)), '--filter', 'event=create', '--filter', `label=trajlab.run=${runId}`, '--format', '{{.ID}}'], { encoding: 'utf8' });
    assert.equal(system.trim(), '', 'no container of the run on the system engine');

    const info = readJson<RunInfo>(path.join(runDir, 'run.json'));
    assert.deepEqual(info.hosts?.map((h) => [h.name, h.workers]), [['unix', 2], ['tls', 2], ['ssh', 2]]);
    assert.equal(info.hosts?.reduce((n, h) => n + h.attempts_started, 0), 12);
    assert.deepEqual(info.hosts?.map((h) => h.url), [unix.url, tls.url, ssh.url], 'run.json keeps each URL (with its user: only passwords are removed)');
  });

  test('SIGKILL of one engine mid-run: every attempt accounted for once, moved attempts keep their finished steps and record the move; /health reports it down; the engine rejoins and its orphans are removed', async () => {
    const runId = 'pool-kill';
    // The process's metrics endpoint, as `--metrics-port` serves it: its /health names the hosts down.
    const endpoint = await startMetricsServer({ port: 0 });
    const { runDir, taskIds, log, engine, running } = startSleepRun(runId, 24);
    let report: RunReport;
    let kill: MidRunKill;
    let before: BeforeDeath;
    try {
      kill = await killMidAttempt(runDir, unix, 'unix');
      const health = await waitFor('/health to report the killed host down', async () => {
        const h = (await (await fetch(`${endpoint.url}/health`)).json()) as Health;
        return h.hosts.down.includes('unix') ? h : undefined;
      }, 10_000, 100);
      assert.equal(health.status, 'degraded');
      before = await recordedBy(runDir, kill.running, kill.time);
      assert.ok([...before.values()].some((steps) => steps.length > 0), `an attempt on the killed host had finished steps: ${JSON.stringify([...before])}`);
      // The killed engine still records its containers in its data root: it comes back with them (orphans).
      assert.ok(kill.containers.length > 0, 'the killed engine had containers of the run');
      for (const id of kill.containers) assert.ok(fs.existsSync(path.join(unix.dataRoot, 'containers', id)), `container ${id} is still recorded by the killed engine`);
      await movesOf(runDir, kill.running);
      await unix.restart();
      report = await running;
    } catch (err) {
      await abandon(engine, running, log);
      throw err;
    } finally {
      await endpoint.close();
      if (!unix.pid()) await unix.restart(); // the next tests need it
    }

    const stays = assertEachAttemptOnce(runDir, report, taskIds, SLEEPS.length, log);
    assertMovesKeepSteps(runDir, report, 'unix', kill.time, before);

    // The restarted engine rejoined this run and its orphans are gone.
    const events = readRunEvents(runDir);
    const up = events.find((e) => e.type === 'host_up' && e.host === 'unix' && Date.parse(e.time) > kill.time);
    assert.ok(up, `host_up for the restarted engine: ${JSON.stringify(events.filter((e) => e.type.startsWith('host_')))}`);
    assert.ok(stays.some((s) => s.host === 'unix' && s.start >= Date.parse(up.time)), 'the restarted engine took attempts again');
    assert.deepEqual(containersOfRun(unix, runId), [], 'no container of the run on the restarted engine');
    for (const id of kill.containers) assert.ok(!fs.existsSync(path.join(unix.dataRoot, 'containers', id)), `orphan ${id} removed`);
  });

  test('a host that stops answering (its dockerd frozen: no connection reset, as a machine gone silent) is marked down within seconds; its attempts move with their steps; its late replies change nothing once it answers again, and its containers of the run are removed', async (t) => {
    const runId = 'pool-freeze';
    const { runDir, taskIds, log, engine, running } = startSleepRun(runId, 18);
    let report: RunReport;
    let frozenAt = 0;
    let before: BeforeDeath;
    let thawedAt = 0;
    try {
      await midAttempt(runDir, 'tls');
      frozenAt = tls.freeze();
      const onTls = runningOn(runDir, 'tls', frozenAt);
      before = await recordedBy(runDir, onTls, frozenAt);
      const down = await waitFor('host_down of the frozen host', () => readRunEvents(runDir).find((e) => e.type === 'host_down' && e.host === 'tls'), 30_000, 100);
      assert.ok(Date.parse(down.time) - frozenAt < 10_000, `the frozen host was marked down ${Date.parse(down.time) - frozenAt} ms after it stopped answering`);
      t.diagnostic(`the frozen host was marked down ${Date.parse(down.time) - frozenAt} ms after it stopped answering`);
      await movesOf(runDir, onTls);
      thawedAt = Date.now();
      tls.thaw();
      report = await running;
    } catch (err) {
      await abandon(engine, running, log);
      throw err;
    } finally {
      if (!thawedAt && frozenAt) tls.thaw(); // the next test needs it
    }

    assertEachAttemptOnce(runDir, report, taskIds, SLEEPS.length, log);
    assertMovesKeepSteps(runDir, report, 'tls', frozenAt, before);
    const events = readRunEvents(runDir);
    assert.ok(events.some((e) => e.type === 'host_up' && e.host === 'tls' && Date.parse(e.time) >= thawedAt), `host_up once it answered again: ${JSON.stringify(events.filter((e) => e.type.startsWith('host_')))}`);
    assert.deepEqual(containersOfRun(tls, runId), [], 'no container of the run left on the host that came back');
  });

  test('GPU placement with the stand-in NVIDIA hook: two hosts of two devices, eight 1-GPU tasks, never two attempts on one device at once', async () => {
    const dir = path.join(tmp.dir, 'gpus');
    const runId = 'pool-gpus';
    const tasks = Array.from({ length: 8 }, (_, i) => goldTask(`gpu-${i}`, ['echo "devices=$NVIDIA_VISIBLE_DEVICES"', 'sleep 1'], { gpus: 1 }));
    const hosts: HostSpec[] = [
      { url: unix.url, name: 'unix', workers: 4, gpus: ['0', '1'] },
      { url: tls.url, name: 'tls', workers: 4, gpus: ['0', '1'] },
    ];
    const log = memoryLogger();
    const report = await new RunEngine({ tasksFile: writeTasks(dir, tasks), model: 'gold', out: path.join(dir, 'out'), runId, workers: 4, hosts, hostWaitSec: 60 }, { logger: log }).run();
    const runDir = path.join(dir, 'out', 'runs', runId);
    assert.equal(report.resolved, 8, log.lines.join('\n'));

    const hookLogs = { unix: fs.readFileSync(unix.nvidiaHookLog!, 'utf8'), tls: fs.readFileSync(tls.nvidiaHookLog, 'utf8') };
    const held = (tasks as { task_id: string }[]).map(({ task_id }) => {
      const t = trajectory(runDir, task_id);
      const host = t.environment.host as 'unix' | 'tls';
      assert.ok(host === 'unix' || host === 'tls', `${task_id} ran on a host of the pool: ${host}`);
      const devices = /devices=(.*)/.exec(t.steps[0]?.observations[0]?.stdout ?? '')?.[1] ?? '';
      assert.ok(['0', '1'].includes(devices), `${task_id} got one device of its host: "${devices}"`);
      const container = t.environment.container_id!;
      assert.equal(hookLogs[host].split('\n').filter((l) => l.startsWith('prestart ') && l.includes(container)).length, 1, `the NVIDIA hook of ${host} ran once for ${task_id}'s container`);
      assert.ok(!hookLogs[host === 'unix' ? 'tls' : 'unix'].includes(container), `${task_id}'s container ran on ${host} only`);
      return { task_id, host, devices, start: Date.parse(t.steps[0]!.started_at), end: Date.parse(t.steps.at(-1)!.ended_at) };
    });
    const pairs = new Set(held.map((h) => `${h.host}/${h.devices}`));
    assert.equal(pairs.size, 4, `the four devices were all used: ${[...pairs].join(', ')}`);
    for (const pair of pairs) {
      const on = held.filter((h) => `${h.host}/${h.devices}` === pair);
      assert.equal(maxOverlap(on), 1, `never two attempts at once on ${pair}: ${JSON.stringify(on)}`);
    }
    assert.ok(maxOverlap(held) > 1, 'GPU attempts ran side by side on different devices');
  });
});
