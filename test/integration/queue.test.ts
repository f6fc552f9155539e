/**
 * Runs on a Redis queue: a real redis-server (test/helpers/redisServer.ts, AOF on), the
 * coordinator (the engine with `queue`) and `trajlab worker`s (in this process, and the built CLI)
 * against the real Docker engine, with the scripted OpenAI-compatible server as the model
 * (replies scripted, not produced by a model; every test says so).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { QueueWorker } from '../../server/src/run/queueWorker';
import { ATTEMPT_QUEUES } from '../../server/src/queue/queue';
import { PackCache, packPath, storePack } from '../../server/src/queue/packs';
import { registry } from '../../server/src/metrics/metrics';
import { containersOfRun, memoryLogger, tempDir, waitFor } from '../helpers/engineHelpers';
import { API_KEY, runEngine, withServer } from '../helpers/engineRuns';
import { startRedisServer } from '../helpers/redisServer';
import { runCli, startCli } from '../helpers/cli';
import { bashReply, runScript, submitReply, type Responder } from '../helpers/scriptedModelServer';
import { trajectoryContent as content } from '../helpers/trajectories';
import { makeVersionRepo } from '../helpers/gitRepos';

/** `n` tasks, each solved by writing a file and submitting; the eval checks the file. */
function writeTasks(dir: string, n: number): string {
  const file = path.join(dir, 'tasks.jsonl');
  fs.writeFileSync(file, Array.from({ length: n }, (_, i) => JSON.stringify({ task_id: `q${i + 1}`, task_type: 'code', description: `queue task ${i + 1}`, eval: ['grep -qx done out.txt'] })).join('\n') + '\n');
  return file;
}

const solve: Responder = (ctx) => runScript([bashReply('echo done > out.txt && cat out.txt'), submitReply('ok')], ctx);

test('a run on a Redis queue with two workers: every attempt finishes, the coordinator writes the run folder, and each trajectory has the same content as the same run done locally (scripted model server, real redis-server)', { timeout: 240_000 }, async () => {
  const tmp = tempDir('queue');
  const redis = await startRedisServer();
  const workers = [1, 2].map((i) => new QueueWorker({ queueUrl: redis.url, workers: 2, name: `w${i}`, logger: memoryLogger(), env: { OPENAI_API_KEY: API_KEY } }));
  try {
    const tasksFile = writeTasks(tmp.dir, 6);
    const local = await withServer(solve, (server) => runEngine({ tasksFile, out: path.join(tmp.dir, 'local'), workers: 4 }, { server }));
    await Promise.all(workers.map((w) => w.start()));
    const { default: IORedis } = await import('ioredis');
    const probe = new IORedis(redis.url);
    await probe.config('RESETSTAT');
    const queued = await withServer(solve, (server) => runEngine({ tasksFile, out: path.join(tmp.dir, 'queued'), workers: 4, queue: redis.url }, { server, timeoutMs: 180_000 }));
    // A worker reads the run's stream (all its reports: XRANGE) only for an attempt reported on before; none was here.
    const stats = (await probe.info('commandstats')) as string;
    probe.disconnect();
    assert.match(stats, /^cmdstat_hexists:calls=6,/m, stats);
    assert.doesNotMatch(stats, /^cmdstat_xrange:/m, stats);
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

test('trajlab worker processes (the built CLI): one SIGKILLed mid-attempt, its attempts come back to the other and continue from their reported steps, each step once, no container of the dead worker left (scripted model server, real redis-server)', { timeout: 300_000 }, async () => {
  const tmp = tempDir('queue-kill');
  const redis = await startRedisServer();
  const env = { ...process.env, OPENAI_API_KEY: API_KEY };
  const start = (name: string, ...extra: string[]) => startCli(['worker', '--queue', redis.url, '--workers', '2', '--lock-sec', '2', '--name', name, ...extra], { built: true, env, timeoutMs: 280_000 });
  const w1 = start('w1');
  const w2 = start('w2', '--metrics-port', '0');
  try {
    await waitFor('both workers', () => w1.stderr.includes('taking attempts') && w2.stderr.includes('taking attempts'), 30_000);
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
    // The queue's depth, read from Redis at the scrape: the run is over, nothing waits or runs.
    assert.match(metrics, /^trajlab_queue_jobs\{queue="trajlab-attempts-code",state="prioritized"\} 0$/m);
    assert.match(metrics, /^trajlab_queue_jobs\{queue="trajlab-attempts-code",state="active"\} 0$/m);
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
      // A worker reports its attempt stopped just before its job completes: the job leaves the queue a moment after the run ends.
      for (const name of ATTEMPT_QUEUES) {
        const queue = new Queue(name, { connection: { host: '127.0.0.1', port: redis.port } });
        let counts: Record<string, number> = {};
        const left = async () => Object.values((counts = await queue.getJobCounts('wait', 'prioritized', 'active', 'delayed'))).some((n) => n > 0);
        for (const deadline = Date.now() + 10_000; (await left()) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 100));
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

test('a coordinator without the API key runs a models-list run whose key only the worker has (api_key_env): keys stay on the workers (scripted model server, real redis-server)', { timeout: 120_000 }, async () => {
  const tmp = tempDir('queue-keyless');
  const redis = await startRedisServer();
  const key = `sk-on-the-worker-${Math.random().toString(36).slice(2)}`;
  const worker = new QueueWorker({ queueUrl: redis.url, workers: 1, name: 'w1', logger: memoryLogger(), env: { SCRIPTED_WORKER_KEY: key } });
  try {
    await worker.start();
    const tasksFile = writeTasks(tmp.dir, 2);
    const run = await withServer(solve, (server) => {
      assert.equal(process.env.SCRIPTED_WORKER_KEY, undefined, 'the coordinator (this process) has no such key');
      return runEngine({ tasksFile, out: tmp.dir, workers: 2, queue: redis.url, models: [{ model: 'openai:scripted', base_url: server.baseUrl, api_key_env: 'SCRIPTED_WORKER_KEY' }] }, { server, secrets: [key] });
    });
    assert.equal(run.info.status, 'finished', run.logger.lines.join('\n'));
    assert.equal(run.report.resolved, 2, run.logger.lines.join('\n'));
    for (const id of ['q1', 'q2']) assert.equal(run.traj(id).environment.host, 'w1');
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

test("tasks that need the coordinator's files (a local repository at its base_commit, a file:// repository, eval files, an image, a Dockerfile and its context) run on a worker from packs in Redis, with the content of a local run, even with those files moved away; a pack over --queue-pack-limit-mb fails its task naming the setting (scripted model server, real redis-server)", { timeout: 240_000 }, async () => {
  const tmp = tempDir('queue-packs');
  const redis = await startRedisServer();
  const worker = new QueueWorker({ queueUrl: redis.url, workers: 2, name: 'w1', logger: memoryLogger(), env: { OPENAI_API_KEY: API_KEY } });
  const { default: IORedis } = await import('ioredis');
  const { Queue } = await import('bullmq');
  const probe = new IORedis(redis.url, { maxRetriesPerRequest: null });
  const queues = ATTEMPT_QUEUES.map((name) => new Queue(name, { connection: probe }));
  try {
    const tasksDir = path.join(tmp.dir, 'tasks');
    const repoDir = path.join(tasksDir, 'repo');
    const { base } = makeVersionRepo(repoDir);
    fs.mkdirSync(path.join(tasksDir, 'tests'));
    fs.writeFileSync(path.join(tasksDir, 'tests', 'check.sh'), 'grep -qx v1.1 /workspace/version.txt\n');
    fs.mkdirSync(path.join(tasksDir, 'shots'));
    fs.writeFileSync(path.join(tasksDir, 'shots', 'red.png'), RED_PNG);
    fs.mkdirSync(path.join(tasksDir, 'env'));
    fs.writeFileSync(path.join(tasksDir, 'env', 'Dockerfile'), `FROM ${process.env.TRAJLAB_SANDBOX_IMAGE ?? 'trajlab/sandbox:1'}\nCOPY marker.txt /marker.txt\n`);
    fs.writeFileSync(path.join(tasksDir, 'env', 'marker.txt'), 'built from the coordinator\'s context\n');
    fs.mkdirSync(path.join(tasksDir, 'big'));
    fs.writeFileSync(path.join(tasksDir, 'big', 'blob.bin'), crypto.randomBytes(3 * 2 ** 20));
    const bump = (task_id: string, repo: string) => ({ task_id, task_type: 'swe', description: `bump the version (${task_id})`, workspace: { repo, base_commit: base }, eval: { commands: ['bash /tests/check.sh'], files: 'tests' } });
    const tasks = [
      bump('local', 'repo'),
      bump('url', `file://${repoDir}`),
      { task_id: 'pixel', task_type: 'reasoning', description: 'What colour is the pixel?', images: ['shots/red.png'], eval: { answer: 'red' } },
      { task_id: 'built', task_type: 'code', description: 'read the marker', environment: { dockerfile: 'env/Dockerfile' }, eval: ['grep -q coordinator /marker.txt'] },
      { task_id: 'big', task_type: 'code', description: 'big files', eval: { commands: ['true'], files: 'big' } },
    ];
    const tasksFile = path.join(tasksDir, 'tasks.jsonl');
    fs.writeFileSync(tasksFile, tasks.map((t) => JSON.stringify(t)).join('\n') + '\n');
    // The agent sees the base commit (v1, one commit of history) and leaves v1.1 for the eval's /tests/check.sh.
    const agent: Responder = (ctx) =>
      runScript(ctx.prompt.includes('pixel') ? [submitReply('<answer>red</answer>')] : ctx.prompt.includes('marker') ? [bashReply('cat /marker.txt'), submitReply('ok')] : ctx.prompt.includes('big') ? [submitReply('ok')] : [bashReply('cat version.txt; git log --oneline | wc -l; echo v1.1 > version.txt'), submitReply('ok')], ctx);
    const local = await withServer(agent, (server) => runEngine({ tasksFile, out: path.join(tmp.dir, 'local'), workers: 4 }, { server }));
    assert.deepEqual(local.report.ids_resolved.sort(), ['big', 'built', 'local', 'pixel', 'url'], local.logger.lines.join('\n'));
    const run = await withServer(agent, async (server) => {
      const running = runEngine({ tasksFile, out: path.join(tmp.dir, 'queued'), workers: 4, queue: redis.url, queuePackLimitMb: 1 }, { server, timeoutMs: 180_000 });
      // Once the jobs are on the queue, the coordinator's files go away: the worker has only the packs.
      await waitFor('four jobs on the queue', async () => (await Promise.all(queues.map((q) => q.count()))).reduce((a, b) => a + b, 0) >= 4, 60_000);
      // The coordinator's /metrics tell the queue's depth: four jobs wait (with a priority: BullMQ's `prioritized`).
      const depth = await registry.getSingleMetricAsString('trajlab_queue_jobs');
      // One queue per task type: the two swe tasks, the reasoning one, the code one.
      assert.match(depth, /^trajlab_queue_jobs\{queue="trajlab-attempts-swe",state="prioritized"\} 2$/m, depth);
      assert.match(depth, /^trajlab_queue_jobs\{queue="trajlab-attempts-reasoning",state="prioritized"\} 1$/m, depth);
      assert.match(depth, /^trajlab_queue_jobs\{queue="trajlab-attempts-code",state="prioritized"\} 1$/m, depth);
      assert.match(depth, /^trajlab_queue_jobs\{queue="trajlab-attempts-swe",state="active"\} 0$/m, depth);
      for (const name of ['repo', 'tests', 'shots', 'env']) fs.renameSync(path.join(tasksDir, name), path.join(tmp.dir, `${name}.away`));
      await worker.start();
      return running;
    });
    assert.deepEqual(run.report.ids_resolved.sort(), ['built', 'local', 'pixel', 'url'], run.logger.lines.join('\n'));
    for (const id of ['local', 'url', 'pixel', 'built']) assert.deepEqual(content(run.traj(id)), content(local.traj(id)), id);
    assert.match(run.traj('local').steps[0]!.observations[0]!.stdout, /^v1\n1\n$/, 'the base commit and its history, not HEAD');
    assert.equal(run.traj('pixel').messages[1]!.images![0]!.path, path.join(tasksDir, 'shots', 'red.png'), "the coordinator's path of the image, as a local run records it");
    assert.deepEqual(run.traj('local').task, tasks[0], 'the task as written');
    // The task whose pack is too large fails before it is queued, and says why.
    const failed = fs.readFileSync(path.join(run.engine.store.dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; task_id?: string; error?: string }).filter((e) => e.type === 'attempt_failed');
    assert.deepEqual(failed.map((e) => e.task_id), ['big']);
    assert.match(failed[0]!.error!, /eval\.files "big" \(.*big\) packs to more than 1 MiB, the queue's limit: raise --queue-pack-limit-mb \(VS Code: trajlab\.queue\.packLimitMb\)/);
    // The jobs went on the queue before any worker listened: the coordinator said which worker to start.
    assert.ok(run.logger.lines.some((l) => l.includes('no worker takes trajlab-attempts-swe yet') && l.includes('trajlab worker --queue URL --task-types swe')), run.logger.lines.join('\n'));
    // Redis keeps no trajectory once saved: the run's stream holds one `saved` mark per attempt, and expires (7 days) now that its coordinator stopped.
    const stream = await probe.xrange(`trajlab:run:${run.engine.runId}:events`, '-', '+');
    assert.deepEqual(stream.map(([, f]) => JSON.parse(f[1]!) as { kind: string; taskId: string }).map((e) => `${e.kind} ${e.taskId}`).sort(), ['saved built', 'saved local', 'saved pixel', 'saved url']);
    assert.ok((await probe.ttl(`trajlab:run:${run.engine.runId}:events`)) > 6 * 86400);
    // One pack per distinct source: the repository (twice named, two sources: path and file://), tests/, the image, the Dockerfile and its context.
    assert.equal((await probe.keys('trajlab:pack:*')).length, 6);
  } finally {
    await worker.close();
    await Promise.all(queues.map((q) => q.close()));
    probe.disconnect();
    await redis.close();
    tmp.cleanup();
  }
});

/** A real 1×1 RGBA PNG (one red pixel). */
const RED_PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f00050001ff56c72f0d0000000049454e44ae426082', 'hex');

test('a worker with every slot busy prepares the next attempt ahead: its container runs while the current attempt does, and the attempt starts when the slot frees (scripted model server, real redis-server)', { timeout: 180_000 }, async () => {
  const tmp = tempDir('queue-ahead');
  const redis = await startRedisServer();
  const worker = new QueueWorker({ queueUrl: redis.url, workers: 1, name: 'w1', logger: memoryLogger(), env: { OPENAI_API_KEY: API_KEY } });
  try {
    await worker.start();
    const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
    // `slow` first (higher priority): its second step sleeps 4 s, while `next` waits for the one slot.
    fs.writeFileSync(tasksFile, [
      JSON.stringify({ task_id: 'slow', task_type: 'code', priority: 9, description: 'slow task', eval: ['true'] }),
      JSON.stringify({ task_id: 'next', task_type: 'code', priority: 1, description: 'next task', eval: ['grep -qx done out.txt'] }),
    ].join('\n') + '\n');
    const agent: Responder = (ctx) => runScript(ctx.prompt.includes('slow') ? [bashReply('true'), bashReply('sleep 4'), submitReply('ok')] : [bashReply('echo done > out.txt'), submitReply('ok')], ctx);
    let during: string[] | undefined;
    let checking: Promise<void> | undefined;
    const run = await withServer(agent, (server) =>
      runEngine({ tasksFile, out: tmp.dir, workers: 1, queue: redis.url }, {
        server,
        timeoutMs: 120_000,
        onEvent: (e, engine) => {
          // `slow` finished its first step and sleeps now: `next`'s container should be up already.
          if (e.type === 'step' && e.taskId === 'slow' && !checking) {
            checking = (async () => {
              for (const deadline = Date.now() + 3_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
                const list = await containersOfRun(engine.runId);
                during = list.filter((c) => c.State === 'running').map((c) => c.Labels['trajlab.task'] ?? '?');
                if (during.length >= 2) return;
              }
            })();
          }
        },
      }));
    await checking;
    assert.equal(run.report.resolved, 2, run.logger.lines.join('\n'));
    assert.equal(during?.length, 2, `two containers ran at once with one slot: the next one prepared ahead (saw ${JSON.stringify(during)})`);
    assert.ok(run.traj('next').started_at >= run.traj('slow').ended_at!, 'the next attempt started only when the slot was free');
  } finally {
    await worker.close();
    await redis.close();
    tmp.cleanup();
  }
});

test('trajlab worker --hosts FILE (the built CLI): one worker per enabled host of the file, each with its workers; attempts land on both, none on a disabled host (scripted model server, real redis-server)', { timeout: 180_000 }, async () => {
  const tmp = tempDir('queue-hosts');
  const redis = await startRedisServer();
  const socket = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  // Two URLs of this machine's engine (as two hosts would be: a list names each URL once), and a third host switched off.
  const hostsFile = path.join(tmp.dir, 'hosts.yaml');
  const other = socket.replace(/\/([^/]+)$/, '/./$1');
  fs.writeFileSync(hostsFile, `hosts:\n  - {url: "${socket}", name: left, workers: 1}\n  - {url: "${other}", name: right, workers: 1}\n  - {url: "tcp://192.0.2.1:2375", name: off, enabled: false}\n`);
  const w = startCli(['worker', '--queue', redis.url, '--hosts', hostsFile, '--name', 'box', '--lock-sec', '2'], { built: true, env: { ...process.env, OPENAI_API_KEY: API_KEY }, timeoutMs: 170_000 });
  try {
    await waitFor('the workers of both hosts', () => (w.stderr.match(/taking attempts/g) ?? []).length === 2, 30_000).catch((err: Error) => assert.fail(`${err.message}:\n${w.stderr}`));
    const tasksFile = writeTasks(tmp.dir, 6);
    const slowSolve: Responder = (ctx) => runScript([bashReply('sleep 1; echo done > out.txt'), submitReply('ok')], ctx);
    const run = await withServer(slowSolve, (server) => runEngine({ tasksFile, out: tmp.dir, workers: 4, queue: redis.url }, { server, timeoutMs: 150_000 }));
    assert.equal(run.report.resolved, 6, run.logger.lines.join('\n'));
    const hosts = new Set([1, 2, 3, 4, 5, 6].map((i) => run.traj(`q${i}`).environment.host));
    assert.deepEqual([...hosts].sort(), ['box/left', 'box/right']);
  } finally {
    w.killGroup('SIGTERM');
    await w.done.catch((err: Error) => assert.fail(`the worker process: ${err.message}`));
    await redis.close();
    tmp.cleanup();
  }
});

test('rediss:// with a password: a coordinator and a worker (the built CLI) run over TLS, trusting a private CA through NODE_EXTRA_CA_CERTS; run.json keeps the URL without the password; a worker that does not trust the CA says why (scripted model server, real redis-server with TLS)', { timeout: 180_000 }, async () => {
  const tmp = tempDir('queue-tls');
  // A private CA and a server certificate for 127.0.0.1 (openssl, as an operator would make them).
  const tls = { ca: path.join(tmp.dir, 'ca.pem'), key: path.join(tmp.dir, 'redis.key'), cert: path.join(tmp.dir, 'redis.pem') };
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: tmp.dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', tls.ca, '-days', '2', '-subj', '/CN=TrajLab test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', tls.key, '-out', 'redis.csr', '-subj', '/CN=127.0.0.1');
  fs.writeFileSync(path.join(tmp.dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', 'redis.csr', '-CA', tls.ca, '-CAkey', 'ca.key', '-CAcreateserial', '-out', tls.cert, '-days', '2', '-extfile', 'san.cnf');
  const password = `pw${Math.random().toString(36).slice(2)}`;
  const redis = await startRedisServer({ tls, password });
  assert.match(redis.url, /^rediss:\/\//);
  const env = { ...process.env, OPENAI_API_KEY: API_KEY, NODE_EXTRA_CA_CERTS: tls.ca };
  const worker = startCli(['worker', '--queue', redis.url, '--workers', '2', '--name', 'tls-worker'], { built: true, env, timeoutMs: 170_000 });
  const untrusting = startCli(['worker', '--queue', redis.url, '--name', 'no-ca'], { built: true, env: { ...env, NODE_EXTRA_CA_CERTS: '' }, timeoutMs: 60_000 });
  try {
    await waitFor('the worker over TLS', () => worker.stderr.includes('taking attempts'), 30_000);
    const tasksFile = writeTasks(tmp.dir, 2);
    const out = path.join(tmp.dir, 'out');
    const run = await withServer(solve, (server) => runCli(['generate', tasksFile, '-o', out, '--run-id', 'tls', '--model', 'openai:scripted', '--base-url', server.baseUrl, '--queue', redis.url, '--no-progress'], { built: true, env, timeoutMs: 150_000 }));
    assert.equal(run.code, 0, run.stderr);
    const info = JSON.parse(fs.readFileSync(path.join(out, 'runs', 'tls', 'run.json'), 'utf8')) as { options: { queue: string }; counts: { resolved: number } };
    assert.equal(info.counts.resolved, 2);
    assert.equal(info.options.queue, redis.url.replace(`:${password}@`, ''), 'the URL without its password');
    assert.ok(!fs.readFileSync(path.join(out, 'runs', 'tls', 'run.json'), 'utf8').includes(password));
    // Without the CA, the certificate is refused, and the worker says so (it never takes attempts).
    const refused = await untrusting.done;
    assert.notEqual(refused.code, 0);
    assert.match(untrusting.stderr, /cannot reach the queue at rediss:\/\/127\.0\.0\.1:\d+\/0 within 10 s: self-signed certificate in certificate chain; .*NODE_EXTRA_CA_CERTS/);
    assert.ok(!untrusting.stderr.includes('taking attempts'));
    assert.ok(!untrusting.stderr.includes(password), 'the password is not in its messages');
  } finally {
    worker.killGroup('SIGTERM');
    untrusting.killGroup('SIGKILL');
    await worker.done.catch((err: Error) => assert.fail(`the worker process: ${err.message}`));
    await redis.close();
    tmp.cleanup();
  }
});

test('a worker\'s unpacked packs stay within --pack-cache-mib: the least recently used that no attempt holds are removed (and unpacked again when needed), a held one never is (real redis-server)', { timeout: 60_000 }, async () => {
  const tmp = tempDir('pack-cache');
  const redis = await startRedisServer();
  const { default: IORedis } = await import('ioredis');
  const client = new IORedis(redis.url);
  try {
    // Three folders of 400 KB of random bytes each (they do not compress); a budget of 1 MB holds two.
    const refs = await Promise.all(['a', 'b', 'c'].map(async (name) => {
      const dir = path.join(tmp.dir, name);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'data.bin'), crypto.randomBytes(400_000));
      return storePack(client, await packPath(dir, 'folder', 10 * 2 ** 20, name), 'folder');
    }));
    const cacheDir = path.join(tmp.dir, 'cache');
    const cache = new PackCache(client, cacheDir, 1_000_000);
    const task = { task_id: 't', description: 'd', eval: { files: 'x' } };
    const take = (i: number) => cache.localTask(task, { paths: { x: refs[i]! } });
    const unpacked = () => fs.readdirSync(cacheDir).sort();
    const sha = (i: number) => refs[i]!.sha256;
    const a = await take(0);
    assert.equal(fs.readFileSync(path.join((a.task.eval as { files: string }).files, 'data.bin')).length, 400_000);
    const b = await take(1);
    b.release();
    // a is held: taking c goes over the budget, and only b (idle) can go.
    const c = await take(2);
    c.release();
    await waitFor('b removed', () => !unpacked().includes(sha(1)), 5_000);
    assert.deepEqual(unpacked(), [sha(0), sha(2)].sort());
    assert.ok(cache.diskBytes <= 1_000_000, `${cache.diskBytes} bytes`);
    // b is needed again: unpacked again; c, the least recently used idle one, goes; a, still held, stays.
    const b2 = await take(1);
    assert.equal(fs.readFileSync(path.join((b2.task.eval as { files: string }).files, 'data.bin')).length, 400_000);
    b2.release();
    await waitFor('c removed', () => !unpacked().includes(sha(2)), 5_000);
    assert.deepEqual(unpacked(), [sha(0), sha(1)].sort());
    a.release();
    a.release(); // idempotent
    assert.deepEqual(unpacked(), [sha(0), sha(1)].sort(), 'within the budget: nothing more goes');
  } finally {
    client.disconnect();
    await redis.close();
    tmp.cleanup();
  }
});
