/**
 * Runs on a Redis queue: a real redis-server (test/helpers/redisServer.ts, AOF on), the
 * coordinator (the engine with `queue`) and `trajlab worker`s (in this process, and the built CLI)
 * against the real Docker engine, with the scripted OpenAI-compatible server as the model
 * (replies scripted, not produced by a model; every test says so).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Trajectory } from '../../common/src/trajectory';
import { QueueWorker } from '../../server/src/run/queueWorker';
import { ATTEMPT_QUEUES } from '../../server/src/queue/queue';
import { memoryLogger, tempDir } from '../helpers/engineHelpers';
import { API_KEY, runEngine, withServer } from '../helpers/engineRuns';
import { startRedisServer } from '../helpers/redisServer';
import { runCli, startCli } from '../helpers/cli';
import { bashReply, runScript, submitReply, type Responder } from '../helpers/scriptedModelServer';

/** `n` tasks, each solved by writing a file and submitting; the eval checks the file. */
function writeTasks(dir: string, n: number): string {
  const file = path.join(dir, 'tasks.jsonl');
  fs.writeFileSync(file, Array.from({ length: n }, (_, i) => JSON.stringify({ task_id: `q${i + 1}`, task_type: 'code', description: `queue task ${i + 1}`, eval: ['grep -qx done out.txt'] })).join('\n') + '\n');
  return file;
}

const solve: Responder = (ctx) => runScript([bashReply('echo done > out.txt && cat out.txt'), submitReply('ok')], ctx);

/** What must be the same whoever ran the attempt: the conversation, the actions and their outputs, the result; not hosts, times or ids of containers. */
function content(t: Trajectory): unknown {
  return {
    task_id: t.task_id,
    attempt: t.attempt,
    status: t.status,
    system: t.system_prompt,
    messages: t.messages,
    steps: t.steps.map((s) => ({ index: s.index, response: s.response, actions: s.actions, observations: s.observations.map((o) => ({ stdout: o.stdout, stderr: o.stderr, exit_code: o.exit_code })), usage: s.usage, cost_usd: s.cost_usd })),
    result: t.result && { exit_status: t.result.exit_status, submission: t.result.submission, diff: t.result.diff, reward: t.result.reward, success: t.result.success },
  };
}

test('a run on a Redis queue with two workers: every attempt finishes, the coordinator writes the run folder, and each trajectory has the same content as the same run done locally (scripted model server, real redis-server)', { timeout: 240_000 }, async () => {
  const tmp = tempDir('queue');
  const redis = await startRedisServer();
  const workers = [1, 2].map((i) => new QueueWorker({ queueUrl: redis.url, workers: 2, name: `w${i}`, logger: memoryLogger(), env: { OPENAI_API_KEY: API_KEY } }));
  try {
    const tasksFile = writeTasks(tmp.dir, 6);
    const local = await withServer(solve, (server) => runEngine({ tasksFile, out: path.join(tmp.dir, 'local'), workers: 4 }, { server }));
    await Promise.all(workers.map((w) => w.start()));
    const queued = await withServer(solve, (server) => runEngine({ tasksFile, out: path.join(tmp.dir, 'queued'), workers: 4, queue: redis.url }, { server, timeoutMs: 180_000 }));
    assert.equal(queued.report.resolved, 6, queued.logger.lines.join('\n'));
    assert.equal(queued.info.status, 'finished');
    assert.equal(queued.info.options.queue, redis.url);
    for (let i = 1; i <= 6; i++) {
      const t = queued.traj(`q${i}`);
      assert.deepEqual(content(t), content(local.traj(`q${i}`)), `q${i}`);
      assert.match(t.environment.host ?? '', /^w[12]$/, 'the worker that ran it');
    }
    const events = fs.readFileSync(path.join(queued.engine.store.dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    assert.equal(events.filter((e) => e.type === 'attempt_finished').length, 6);
    assert.equal(events.filter((e) => e.type === 'step').length, 12, 'each step once');
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await redis.close();
    tmp.cleanup();
  }
});

/** Waits until `check` holds (polling every 100 ms). Errors: not within `ms`, naming `what`. */
async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('trajlab worker processes (the built CLI): one SIGKILLed mid-attempt, its attempts come back to the other and continue from their reported steps, each step once, no container of the dead worker left (scripted model server, real redis-server)', { timeout: 300_000 }, async () => {
  const tmp = tempDir('queue-kill');
  const redis = await startRedisServer();
  const env = { ...process.env, OPENAI_API_KEY: API_KEY };
  const start = (name: string, ...extra: string[]) => startCli(['worker', '--queue', redis.url, '--workers', '2', '--lock-sec', '2', '--name', name, ...extra], { built: true, env, timeoutMs: 280_000 });
  const w1 = start('w1');
  const w2 = start('w2', '--metrics-port', '0');
  try {
    await until('both workers', () => w1.stderr.includes('taking attempts') && w2.stderr.includes('taking attempts'), 30_000);
    const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
    fs.writeFileSync(tasksFile, [1, 2, 3, 4].map((i) => JSON.stringify({ task_id: `k${i}`, task_type: 'code', description: `kill task ${i}`, eval: ['grep -qx done out.txt'] })).join('\n') + '\n');
    // Four steps an attempt, 700 ms each: the kill lands mid-attempt.
    const slow: Responder = (ctx) => runScript([bashReply('echo one'), bashReply('echo two'), bashReply('echo done > out.txt'), submitReply('ok')], ctx);
    let killed = false;
    const run = await withServer(slow, (server) =>
      runEngine({ tasksFile, out: tmp.dir, workers: 4, queue: redis.url }, {
        server,
        timeoutMs: 240_000,
        onEvent: (e) => {
          if (e.type === 'step' && !killed) {
            killed = true;
            w1.killGroup('SIGKILL');
          }
        },
      }), 700);
    assert.ok(killed);
    assert.equal(run.report.resolved, 4, run.logger.lines.join('\n'));
    for (let i = 1; i <= 4; i++) {
      const t = run.traj(`k${i}`);
      assert.deepEqual(t.steps.map((s) => s.index), [0, 1, 2, 3], `k${i}: every step once`);
      assert.equal(t.environment.host, 'w2', `k${i} ended on the worker alive`);
    }
    // runEngine checked that no container of the run is left (w2 removed w1's when it took its attempts).
    // The worker's /metrics: the attempts it finished, its steps; /health answers.
    const url = /metrics on (http:\/\/[^\s]+)\/metrics/.exec(w2.stderr)?.[1];
    assert.ok(url, w2.stderr);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /^trajlab_attempts_total\{exit_status="submitted"\} 4$/m);
    assert.match(metrics, /^trajlab_step_duration_seconds_count \d+$/m);
    assert.equal((await fetch(`${url}/health`)).status, 200);
  } finally {
    w1.killGroup('SIGKILL');
    w2.killGroup('SIGTERM');
    await w2.done.catch(() => undefined);
    await redis.close();
    tmp.cleanup();
  }
});

test('cancel on the queue: the workers stop the run\'s attempts and remove their containers, its waiting jobs leave the queue; a resume runs the rest from the reported steps (scripted model server, real redis-server)', { timeout: 300_000 }, async () => {
  const tmp = tempDir('queue-cancel');
  const redis = await startRedisServer();
  const worker = new QueueWorker({ queueUrl: redis.url, workers: 2, name: 'w1', logger: memoryLogger(), env: { OPENAI_API_KEY: API_KEY } });
  try {
    await worker.start();
    const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
    fs.writeFileSync(tasksFile, [1, 2, 3, 4, 5].map((i) => JSON.stringify({ task_id: `c${i}`, task_type: 'code', description: `cancel task ${i}`, eval: ['grep -qx done out.txt'] })).join('\n') + '\n');
    const slow: Responder = (ctx) => runScript([bashReply('echo one'), bashReply('echo done > out.txt'), submitReply('ok')], ctx);
    await withServer(slow, async (server) => {
      let cancelled = false;
      const first = await runEngine({ tasksFile, out: tmp.dir, runId: 'qcancel', workers: 2, queue: redis.url }, {
        server,
        timeoutMs: 120_000,
        onEvent: (e, engine) => {
          if (e.type === 'step' && !cancelled) {
            cancelled = true;
            engine.cancel();
          }
        },
      });
      assert.equal(first.info.status, 'cancelled');
      // runEngine checked that no container of the run is left.
      const { Queue } = await import('bullmq');
      for (const name of ATTEMPT_QUEUES) {
        const queue = new Queue(name, { connection: { host: '127.0.0.1', port: redis.port } });
        const counts = await queue.getJobCounts('wait', 'prioritized', 'active', 'delayed');
        await queue.close();
        assert.deepEqual(counts, { wait: 0, prioritized: 0, active: 0, delayed: 0 }, `no job of the cancelled run is left (${name})`);
      }
      const resumed = await runEngine({ tasksFile, out: tmp.dir, runId: 'qcancel', workers: 2, queue: redis.url }, { server, timeoutMs: 180_000 });
      assert.equal(resumed.info.status, 'finished');
      assert.equal(resumed.report.resolved, 5);
      for (let i = 1; i <= 5; i++) assert.deepEqual(resumed.traj(`c${i}`).steps.map((st) => st.index), [0, 1, 2], `c${i}: every step once`);
    }, 500);
  } finally {
    await worker.close();
    await redis.close();
    tmp.cleanup();
  }
});

test('generate --queue (the built CLI): a URL that is no Redis URL is refused at once; a queue that does not answer stops the run before it starts, naming the URL without its password', { timeout: 60_000 }, async () => {
  const tmp = tempDir('queue-cli');
  try {
    const tasksFile = writeTasks(tmp.dir, 1);
    const out = path.join(tmp.dir, 'out');
    const bad = await runCli(['generate', tasksFile, '-o', out, '--queue', 'http://localhost:6379', '--no-progress'], { built: true, timeoutMs: 30_000 });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--queue: "http:\/\/localhost:6379": http:\/\/ is not a Redis URL/);
    const dead = await runCli(['generate', tasksFile, '-o', out, '--model', 'gold', '--queue', 'redis://:hunter2secret@127.0.0.1:1/0', '--no-progress'], { built: true, timeoutMs: 30_000 });
    assert.equal(dead.code, 1, dead.stderr);
    assert.match(dead.stderr, /cannot reach the queue at redis:\/\/127\.0\.0\.1:1\/0: .*start redis-server there/);
    assert.ok(!dead.stderr.includes('hunter2secret'));
    assert.equal(fs.existsSync(path.join(out, 'runs')), false, 'no run folder for a run that never started');
  } finally {
    tmp.cleanup();
  }
});

test("a worker's API key never leaves it: echoed back by the model, it reaches neither Redis nor the coordinator's run folder (scripted model server, real redis-server)", { timeout: 120_000 }, async () => {
  const tmp = tempDir('queue-secret');
  const redis = await startRedisServer();
  const key = `sk-worker-only-${Math.random().toString(36).slice(2)}`;
  const worker = new QueueWorker({ queueUrl: redis.url, workers: 1, name: 'w1', logger: memoryLogger(), env: { OPENAI_API_KEY: key } });
  try {
    await worker.start();
    const tasksFile = writeTasks(tmp.dir, 1);
    const echo: Responder = (ctx) => runScript([bashReply(`echo done > out.txt; echo "key ${key}"`), submitReply('ok')], ctx);
    const run = await withServer(echo, (server) => runEngine({ tasksFile, out: tmp.dir, workers: 1, queue: redis.url }, { server, secrets: [key] }));
    assert.equal(run.report.resolved, 1);
    assert.ok(JSON.stringify(run.traj('q1').messages).includes('key [redacted]'));
    const { default: IORedis } = await import('ioredis');
    const probe = new IORedis(redis.url);
    const stream = JSON.stringify(await probe.xrange(`trajlab:run:${run.engine.runId}:events`, '-', '+'));
    probe.disconnect();
    assert.ok(stream.length > 100 && !stream.includes(key), 'the reports on Redis hold no key');
  } finally {
    await worker.close();
    await redis.close();
    tmp.cleanup();
  }
});

test('redis-server SIGKILLed and started again mid-run (AOF, appendfsync always): workers and coordinator reconnect and the run completes, every step once (scripted model server, real redis-server)', { timeout: 300_000 }, async () => {
  const tmp = tempDir('queue-redis-restart');
  const redis = await startRedisServer();
  const worker = new QueueWorker({ queueUrl: redis.url, workers: 2, name: 'w1', logger: memoryLogger(), env: { OPENAI_API_KEY: API_KEY } });
  try {
    await worker.start();
    const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
    fs.writeFileSync(tasksFile, [1, 2, 3, 4].map((i) => JSON.stringify({ task_id: `r${i}`, task_type: 'code', description: `restart task ${i}`, eval: ['grep -qx done out.txt'] })).join('\n') + '\n');
    const slow: Responder = (ctx) => runScript([bashReply('echo one'), bashReply('echo done > out.txt'), submitReply('ok')], ctx);
    let restarted: Promise<void> | undefined;
    const run = await withServer(slow, (server) =>
      runEngine({ tasksFile, out: tmp.dir, workers: 2, queue: redis.url }, {
        server,
        timeoutMs: 240_000,
        onEvent: (e) => {
          if (e.type === 'step' && !restarted) restarted = redis.kill().then(() => new Promise((r) => setTimeout(r, 1000))).then(() => redis.restart());
        },
      }), 500);
    await restarted;
    assert.ok(restarted, 'redis-server was restarted during the run');
    assert.equal(run.report.resolved, 4, run.logger.lines.join('\n'));
    for (let i = 1; i <= 4; i++) assert.deepEqual(run.traj(`r${i}`).steps.map((s) => s.index), [0, 1, 2], `r${i}: every step once`);
  } finally {
    await worker.close();
    await redis.close();
    tmp.cleanup();
  }
});
