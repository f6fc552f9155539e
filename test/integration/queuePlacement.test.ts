/**
 * Which jobs a queue worker takes (run/queueWorker.ts): task types it serves, GPU jobs only where
 * devices are free, jobs whose API key it lacks put back for another worker, a benched model's
 * attempt put back and continued. A real redis-server (test/helpers/redisServer.ts), the
 * coordinator (the engine with `queue`) and QueueWorkers in this process against the real Docker
 * engine (and, for GPUs, a second dockerd with the stand-in NVIDIA hook of test/helpers/engines.ts),
 * with the scripted OpenAI-compatible server as the model (replies scripted, not produced by a
 * model) or the tasks' gold solutions; every test says which.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ModelEntry } from '../../common/src/run';
import type { RunEvent } from '../../server/src/store/runStore';
import { QueueWorker } from '../../server/src/run/queueWorker';
import { memoryLogger, tempDir, waitFor } from '../helpers/engineHelpers';
import { API_KEY, runEngine, withServer } from '../helpers/engineRuns';
import { startEngine } from '../helpers/engines';
import { startRedisServer } from '../helpers/redisServer';
import { bashReply, errorReply, runScript, submitReply, type Responder } from '../helpers/scriptedModelServer';

const solve: Responder = (ctx) => runScript([bashReply('echo done > out.txt'), submitReply('ok')], ctx);

/** Writes `tasks` as tasks.jsonl in `dir`; returns its path. */
function writeTasks(dir: string, tasks: object[]): string {
  const file = path.join(dir, 'tasks.jsonl');
  fs.writeFileSync(file, tasks.map((t) => JSON.stringify(t)).join('\n') + '\n');
  return file;
}

/** The run's events.jsonl. */
function runEvents(runDir: string): RunEvent[] {
  return fs.readFileSync(path.join(runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
}

test('--task-types: a worker serving only code runs the code attempts and leaves the swe ones on the queue until a worker serving swe comes (scripted model server, real redis-server)', { timeout: 240_000 }, async () => {
  const tmp = tempDir('queue-types');
  const redis = await startRedisServer();
  const codeLog = memoryLogger();
  const coder = new QueueWorker({ queueUrl: redis.url, workers: 2, name: 'coder', taskTypes: ['code'], logger: codeLog, env: { OPENAI_API_KEY: API_KEY } });
  const fixer = new QueueWorker({ queueUrl: redis.url, workers: 2, name: 'fixer', taskTypes: ['swe'], logger: memoryLogger(), env: { OPENAI_API_KEY: API_KEY } });
  let fixerStarted: Promise<void> | undefined;
  try {
    await coder.start();
    const task = (id: string, type?: string) => ({ task_id: id, ...(type ? { task_type: type } : {}), description: `task ${id}`, eval: ['grep -qx done out.txt'] });
    const tasksFile = writeTasks(tmp.dir, [task('c1', 'code'), task('s1', 'swe'), task('c2'), task('s2', 'swe')]);
    const finished = new Set<string>();
    const run = await withServer(solve, (server) =>
      runEngine({ tasksFile, out: tmp.dir, workers: 4, queue: redis.url }, {
        server,
        timeoutMs: 180_000,
        onEvent: (e) => {
          if (e.type === 'attempt' && e.state.kind === 'finished') finished.add(e.taskId);
          // The code attempts are done and the swe ones still wait: only now a worker that serves swe comes.
          if (finished.has('c1') && finished.has('c2') && !fixerStarted) {
            assert.ok(!finished.has('s1') && !finished.has('s2'), 'no swe attempt ran before a worker serving swe came');
            fixerStarted = fixer.start();
          }
        },
      }));
    assert.ok(fixerStarted, 'the code attempts finished first');
    assert.equal(run.report.resolved, 4, run.logger.lines.join('\n'));
    assert.equal(run.traj('c1').environment.host, 'coder');
    assert.equal(run.traj('c2').environment.host, 'coder', 'a task without task_type is a code task');
    assert.equal(run.traj('s1').environment.host, 'fixer');
    assert.equal(run.traj('s2').environment.host, 'fixer');
    assert.ok(!codeLog.lines.some((l) => /\bs[12]\b/.test(l)), `the code worker never touched a swe job:\n${codeLog.lines.join('\n')}`);
  } finally {
    await fixerStarted;
    await Promise.all([coder.close(), fixer.close()]);
    await redis.close();
    tmp.cleanup();
  }
});

test('GPU tasks: a worker without GPUs never takes one; a worker with one device (a second dockerd with the stand-in NVIDIA hook) runs them one at a time, the second put back while the device is busy (gold solutions, real redis-server)', { timeout: 300_000 }, async () => {
  const tmp = tempDir('queue-gpus');
  const redis = await startRedisServer();
  const engine = await startEngine({ name: 'queue-gpu', dir: tmp.dir, images: ['trajlab/sandbox:1'], fakeNvidia: true });
  const cpuLog = memoryLogger();
  const gpuLog = memoryLogger();
  const cpu = new QueueWorker({ queueUrl: redis.url, workers: 2, name: 'cpu', gpus: [], logger: cpuLog });
  const gpu = new QueueWorker({ queueUrl: redis.url, host: engine.url, workers: 2, name: 'gpu', gpus: ['0'], logger: gpuLog });
  let gpuStarted: Promise<void> | undefined;
  try {
    await cpu.start();
    const gpuTask = (id: string) => ({ task_id: id, description: 'one GPU', gpus: 1, solution: { commands: ['echo "$NVIDIA_VISIBLE_DEVICES" > visible.txt', 'sleep 2'] }, eval: ['test -n "$NVIDIA_VISIBLE_DEVICES"'] });
    const cpuTask = (id: string) => ({ task_id: id, description: 'no GPU', solution: { commands: ['echo ok > ok.txt'] }, eval: ['test -z "$NVIDIA_VISIBLE_DEVICES"'] });
    const tasksFile = writeTasks(tmp.dir, [gpuTask('g1'), cpuTask('p1'), gpuTask('g2'), cpuTask('p2')]);
    const finished = new Set<string>();
    const run = await runEngine({ tasksFile, out: tmp.dir, model: 'gold', workers: 4, queue: redis.url }, {
      timeoutMs: 240_000,
      onEvent: (e) => {
        if (e.type === 'attempt' && e.state.kind === 'finished') finished.add(e.taskId);
        if (finished.has('p1') && finished.has('p2') && !gpuStarted) {
          assert.ok(!finished.has('g1') && !finished.has('g2'), 'no GPU attempt ran on the worker without GPUs');
          gpuStarted = gpu.start();
        }
      },
    });
    assert.ok(gpuStarted, 'the CPU attempts finished first');
    assert.equal(run.report.resolved, 4, `${run.logger.lines.join('\n')}\n${gpuLog.lines.join('\n')}`);
    for (const id of ['p1', 'p2']) assert.equal(run.traj(id).environment.host, 'cpu');
    const [g1, g2] = [run.traj('g1'), run.traj('g2')];
    for (const t of [g1, g2]) {
      assert.equal(t.environment.host, 'gpu');
      assert.match(t.result?.diff ?? '', /^\+0$/m, `${t.task_id} saw device 0`);
    }
    const [first, second] = [g1, g2].sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));
    assert.ok(Date.parse(second!.started_at) >= Date.parse(first!.ended_at!), 'one device: the GPU attempts did not overlap');
    assert.ok(!cpuLog.lines.some((l) => /\bg[12]\b/.test(l)), `the worker without GPUs never touched a GPU job:\n${cpuLog.lines.join('\n')}`);
    assert.equal(fs.readFileSync(engine.nvidiaHookLog!, 'utf8').trim().split('\n').length, 2, 'the NVIDIA hook ran for the two GPU containers');
  } finally {
    await gpuStarted;
    await Promise.all([cpu.close(), gpu.close()]);
    await engine.stop();
    await redis.close();
    tmp.cleanup();
  }
});

/** A models list whose one entry reads its key from TRAJLAB_QUEUE_TEST_KEY (needed even for the scripted server's base_url). */
const KEY_VAR = 'TRAJLAB_QUEUE_TEST_KEY';
const keyed = (baseUrl: string): ModelEntry[] => [{ model: 'openai:scripted', base_url: baseUrl, api_key_env: KEY_VAR }];

test('a worker without the API key its job needs puts the job back and says which variable; a worker with the key runs it (scripted model server, real redis-server)', { timeout: 180_000 }, async () => {
  const tmp = tempDir('queue-key');
  const redis = await startRedisServer();
  const keylessLog = memoryLogger();
  const keyless = new QueueWorker({ queueUrl: redis.url, workers: 2, name: 'keyless', logger: keylessLog, env: {} });
  const keyedWorker = new QueueWorker({ queueUrl: redis.url, workers: 2, name: 'keyed', logger: memoryLogger(), env: { [KEY_VAR]: 'sk-queue-test' } });
  let keyedStarted: Promise<void> | undefined;
  try {
    assert.equal(process.env[KEY_VAR], undefined);
    await keyless.start();
    const tasksFile = writeTasks(tmp.dir, [{ task_id: 'k1', description: 'keyed task', eval: ['grep -qx done out.txt'] }]);
    const run = await withServer(solve, async (server) => {
      const running = runEngine({ tasksFile, out: tmp.dir, models: keyed(server.baseUrl), model: 'openai:scripted', workers: 2, queue: redis.url }, { timeoutMs: 120_000, env: { [KEY_VAR]: 'sk-queue-test' }, secrets: ['sk-queue-test'] });
      // The keyless worker refuses it first (the job waits 1 s after that), then the worker with the key comes.
      await waitFor('a refusal', () => keylessLog.lines.some((l) => l.includes('put back')), 30_000);
      keyedStarted = keyedWorker.start();
      return running;
    });
    assert.equal(run.report.resolved, 1, run.logger.lines.join('\n'));
    assert.equal(run.traj('k1').environment.host, 'keyed');
    const refusal = keylessLog.lines.find((l) => l.includes('put back'))!;
    assert.match(refusal, /k1 #1: TRAJLAB_QUEUE_TEST_KEY \(the API key of its model\) is not set here: put back for another worker \(refusal 1; it stops once every worker serving trajlab-attempts-code has refused it, after 3 refusals at least\)/);
    assert.ok(!runEvents(run.engine.store.dir).some((e) => e.type === 'attempt_failed'), 'a refusal is no failure');
  } finally {
    await keyedStarted;
    await Promise.all([keyless.close(), keyedWorker.close()]);
    await redis.close();
    tmp.cleanup();
  }
});

test('no worker has the key: once every worker serving its queue refused it (3 refusals at least) the attempt fails with an error that names the variable, and the run ends (scripted model server, real redis-server)', { timeout: 180_000 }, async () => {
  const tmp = tempDir('queue-nokey');
  const redis = await startRedisServer();
  const log = memoryLogger();
  const keyless = new QueueWorker({ queueUrl: redis.url, workers: 1, name: 'keyless', logger: log, env: {} });
  try {
    await keyless.start();
    const tasksFile = writeTasks(tmp.dir, [{ task_id: 'k1', description: 'keyed task', eval: ['true'] }]);
    const run = await withServer(solve, (server) =>
      runEngine({ tasksFile, out: tmp.dir, models: keyed(server.baseUrl), model: 'openai:scripted', workers: 1, queue: redis.url }, { timeoutMs: 120_000, env: { [KEY_VAR]: 'sk-queue-test' }, secrets: ['sk-queue-test'] }));
    assert.equal(run.info.status, 'finished');
    assert.equal(run.report.resolved, 0);
    const failed = runEvents(run.engine.store.dir).filter((e) => e.type === 'attempt_failed');
    assert.equal(failed.length, 1, JSON.stringify(failed));
    assert.match((failed[0] as { error: string }).error, /not run: TRAJLAB_QUEUE_TEST_KEY \(the API key of its model\) is not set on the workers that took it: every worker serving its queue refused it \(keyless; 3 takes\); start a worker with TRAJLAB_QUEUE_TEST_KEY in its environment, then resume the run/);
    assert.equal(log.lines.filter((l) => l.includes('put back for another worker')).length, 2, 'two refusals put it back, the third ended it');
  } finally {
    await keyless.close();
    await redis.close();
    tmp.cleanup();
  }
});

test('a model benched mid-attempt (503 past its retries): the worker puts the job back for its cool-down, its container removed; the next take continues from the reported step; the coordinator records attempt_requeued (scripted model server, real redis-server)', { timeout: 180_000 }, async () => {
  const tmp = tempDir('queue-requeue');
  const redis = await startRedisServer();
  const log = memoryLogger();
  const worker = new QueueWorker({ queueUrl: redis.url, workers: 1, name: 'w1', logger: log, env: {} });
  try {
    await worker.start();
    const tasksFile = writeTasks(tmp.dir, [{ task_id: 'm1', description: 'benched model task', eval: ['grep -qx done out.txt'] }]);
    // Request 0 answers (and binds the attempt to the entry); request 1 fails: the entry is benched for 1 s, the attempt put back.
    let failedOnce = false;
    const respond: Responder = (ctx) => {
      if (ctx.callIndex === 1 && !failedOnce) {
        failedOnce = true;
        return errorReply(503, { message: 'overloaded (scripted)' });
      }
      return runScript([bashReply('echo done > out.txt'), bashReply('cat out.txt'), submitReply('ok')], ctx);
    };
    const run = await withServer(respond, (server) => {
      const models: ModelEntry[] = [{ model: 'openai:scripted', base_url: server.baseUrl, max_retries: 0, cooldown_sec: 1 }];
      return runEngine({ tasksFile, out: tmp.dir, models, model: 'openai:scripted', workers: 1, queue: redis.url, modelRequeues: 2 }, { timeoutMs: 120_000 });
    });
    assert.ok(failedOnce);
    assert.equal(run.report.resolved, 1, `${run.logger.lines.join('\n')}\n${log.lines.join('\n')}`);
    const t = run.traj('m1');
    assert.deepEqual(t.steps.map((s) => s.index), [0, 1, 2], 'every step once');
    const events = runEvents(run.engine.store.dir);
    const requeued = events.filter((e) => e.type === 'attempt_requeued');
    assert.equal(requeued.length, 1, JSON.stringify(events));
    assert.match((requeued[0] as { reason: string }).reason, /model .* unavailable: HTTP 503/);
    const started = events.filter((e) => e.type === 'attempt_started') as { resumed_from_step: number }[];
    assert.deepEqual(started.map((e) => e.resumed_from_step), [0, 1], 'the second take continued from the reported step');
    assert.deepEqual(run.report.rate_limited, { requeues: 1, gave_up: 0 });
    assert.ok(log.lines.some((l) => /m1 #1: .*back in the queue for \d+ s \(1 of 2 requeues\)/.test(l)), log.lines.join('\n'));
    // runEngine checked that no container of the run is left.
  } finally {
    await worker.close();
    await redis.close();
    tmp.cleanup();
  }
});
