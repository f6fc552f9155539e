/**
 * Acceptance of issue 18 (attempts on a Redis queue), with real parts only: a real redis-server
 * (test/helpers/redisServer.ts: its own port and data folder, AOF on), the coordinator as the
 * built CLI (`trajlab generate --queue URL`, dist/trajlab.js: `npm run build` first), three
 * `trajlab worker` processes of the built CLI against the real Docker engine, and the scripted
 * OpenAI-compatible server as the model (replies scripted, not produced by a model; every test
 * name says so).
 *
 * - A 40-attempt run (20 tasks × `--attempts 2`) on three workers: every trajectory has the same
 *   content as the same run done locally (test/helpers/trajectories.ts trajectoryContent: all but
 *   hosts, times and container ids), and every worker ran some of the attempts.
 * - The coordinator SIGKILLed mid-run: the workers go on to the end of the run without it, and
 *   `generate --resume RUN_ID --queue URL` writes all that happened meanwhile: every trajectory
 *   finished, each step once (trajectories and events.jsonl), the report's counts and tokens right.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import IORedis from 'ioredis';
import type { RunInfo, RunReport } from '../../common/src/run';
import type { Trajectory } from '../../common/src/trajectory';
import { eventsKey, parseQueueEvent } from '../../server/src/queue/queue';
import { startCli, type CliProcess } from '../helpers/cli';
import { containersOfRun, readJson, readTrajectory, removeContainersOfRun, tempDir, waitFor } from '../helpers/engineHelpers';
import { API_KEY, runEngine, withServer } from '../helpers/engineRuns';
import { startRedisServer, type RedisServer } from '../helpers/redisServer';
import { bash, submit, toolReply, type Reply, type Responder, type ScriptedModelServer } from '../helpers/scriptedModelServer';
import { trajectoryContent } from '../helpers/trajectories';

const WORKER_NAMES = ['w1', 'w2', 'w3'];

/** `n` tasks `a1`…`an`; task `ai` is solved by writing `task-i` to out.txt, which its eval checks. */
function writeTasks(dir: string, n: number): string {
  const file = path.join(dir, 'tasks.jsonl');
  const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ task_id: `a${i + 1}`, task_type: 'code', description: `acceptance task ${i + 1}`, eval: [`grep -qx task-${i + 1} out.txt`] }));
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/**
 * The scripted agent of every task: `echo one`, then writing `task-<i>` to out.txt (i read from
 * the prompt), then a submit. The tool-call ids are fixed (`call_<step>`), not numbered per
 * conversation by the server, so the two attempts of a task get the same replies whichever
 * asks first, and a run's trajectories do not depend on the order its attempts ran in.
 */
const agent: Responder = (ctx) => {
  const i = /acceptance task (\d+)/.exec(ctx.prompt)?.[1];
  if (!i) return { kind: 'error', status: 400, message: `no task number in the prompt ${JSON.stringify(ctx.prompt.slice(0, 80))}` };
  const script: Reply[] = [
    toolReply({ ...bash('echo one'), id: 'call_0' }),
    toolReply({ ...bash(`echo task-${i} > out.txt && cat out.txt`), id: 'call_1' }),
    toolReply({ ...submit(`task-${i}`), id: 'call_2' }),
  ];
  return script[ctx.step] ?? { kind: 'error', status: 400, message: `script exhausted at step ${ctx.step}` };
};
const STEPS = 3;

/** Starts the three workers (built CLI, `--workers 2` each, their own OPENAI_API_KEY) and waits until each takes attempts. */
async function startWorkers(redis: RedisServer): Promise<CliProcess[]> {
  const env = { ...process.env, OPENAI_API_KEY: API_KEY };
  const workers = WORKER_NAMES.map((name) => startCli(['worker', '--queue', redis.url, '--workers', '2', '--lock-sec', '5', '--name', name], { built: true, env, timeoutMs: 400_000 }));
  await waitFor('three workers taking attempts', () => workers.every((w) => w.stderr.includes('taking attempts')), 30_000, 100).catch((err: Error) => {
    throw new Error(`${err.message}\n${workers.map((w, i) => `${WORKER_NAMES[i]}: ${w.stderr}`).join('\n')}`);
  });
  return workers;
}

/** Stops the workers (SIGTERM: they finish what they hold, none should hold anything now) and waits for them. */
async function stopWorkers(workers: CliProcess[]): Promise<void> {
  for (const w of workers) w.killGroup('SIGTERM');
  await Promise.all(workers.map((w) => w.done.catch((err: Error) => assert.fail(`a worker did not stop: ${err.message}`))));
}

/**
 * `trajlab generate` of `tasksFile` on the queue (the built CLI) with the scripted model, run
 * `runId` in `out`; `resume` uses `--resume RUN_ID` instead of `--run-id`. The coordinator's
 * environment has no API key: keys stay on the workers.
 */
function generate(tasksFile: string, out: string, runId: string, server: ScriptedModelServer, redis: RedisServer, resume = false): CliProcess {
  const env = { ...process.env };
  delete env.OPENAI_API_KEY;
  const args = ['generate', tasksFile, '-o', out, resume ? '--resume' : '--run-id', runId, '--model', 'openai:scripted', '--base-url', server.baseUrl, '--attempts', '2', '--workers', '6', '--queue', redis.url, '--no-progress'];
  return startCli(args, { built: true, env, timeoutMs: 300_000 });
}

/** The run's events.jsonl, parsed. */
function readEvents(runDir: string): { type: string; task_id?: string; attempt?: number; index?: number }[] {
  return fs.readFileSync(path.join(runDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
}

/** How many times each `<task_id>#<attempt>[/<index>]` occurs among the events of `type`. */
function countsOf(events: ReturnType<typeof readEvents>, type: string, withIndex: boolean): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of events.filter((x) => x.type === type)) {
    const k = `${e.task_id}#${e.attempt}${withIndex ? `/${e.index}` : ''}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/** Every `<task_id>#<attempt>` of 20 tasks × 2 attempts. */
const ATTEMPTS = Array.from({ length: 20 }, (_, i) => [1, 2].map((a) => `a${i + 1}#${a}`)).flat();

test('acceptance: a 40-attempt run (20 tasks × 2) through a coordinator and three trajlab worker processes (the built CLI) has every trajectory identical in content to the same run done locally, and every worker ran some (scripted model server, real redis-server)', { timeout: 420_000 }, async () => {
  const tmp = tempDir('queue-acceptance');
  const redis = await startRedisServer();
  let workers: CliProcess[] = [];
  try {
    const tasksFile = writeTasks(tmp.dir, 20);
    await withServer(agent, async (server) => {
      const local = await runEngine({ tasksFile, out: path.join(tmp.dir, 'local'), workers: 6, attempts: 2 }, { server, timeoutMs: 240_000 });
      assert.equal(local.info.counts.resolved, 40, local.logger.lines.join('\n'));
      const localRequests = server.requests.length;

      workers = await startWorkers(redis);
      const out = path.join(tmp.dir, 'queued');
      const coordinator = generate(tasksFile, out, 'acc40', server, redis);
      const r = await coordinator.done;
      assert.equal(r.code, 0, r.stderr);
      const runDir = path.join(out, 'runs', 'acc40');
      const report = readJson<RunReport>(path.join(runDir, 'report.json'));
      const info = readJson<RunInfo>(path.join(runDir, 'run.json'));
      assert.equal(info.status, 'finished');
      // The report counts tasks (20), run.json's counts attempts (40).
      assert.equal(report.total, 20);
      assert.equal(report.resolved, 20, r.stderr);
      assert.deepEqual(report.pass_at_k, { 'pass@1': 1, 'pass@2': 1 });
      assert.deepEqual(info.counts, { ...local.info.counts }, 'the same counts as the local run (attempts, tokens, cost)');
      assert.equal(server.requests.length - localRequests, localRequests, 'as many model calls as the local run: each step asked once');

      const hosts = new Map<string, number>();
      for (let i = 1; i <= 20; i++) {
        for (const attempt of [1, 2]) {
          const t: Trajectory = readTrajectory(path.join(runDir, 'trajectories', `a${i}.${attempt}.json`));
          assert.deepEqual(trajectoryContent(t), trajectoryContent(local.traj(`a${i}`, attempt)), `a${i} #${attempt}`);
          assert.equal(t.steps.length, STEPS);
          const host = t.environment.host ?? '';
          assert.ok(WORKER_NAMES.includes(host), `a${i} #${attempt} names the worker that ran it (got ${JSON.stringify(host)})`);
          hosts.set(host, (hosts.get(host) ?? 0) + 1);
        }
      }
      assert.deepEqual([...hosts.keys()].sort(), WORKER_NAMES, `attempts landed on every worker: ${JSON.stringify([...hosts])}`);
      const events = readEvents(runDir);
      assert.deepEqual([...countsOf(events, 'attempt_finished', false).entries()].sort(), ATTEMPTS.map((k) => [k, 1]).sort(), 'each attempt finished once');
      assert.equal(events.filter((e) => e.type === 'step').length, 40 * STEPS, 'each step once');
      assert.deepEqual(await containersOfRun('acc40'), [], 'no container of the run is left');
    });
    await stopWorkers(workers);
  } finally {
    for (const w of workers) w.killGroup('SIGKILL');
    await removeContainersOfRun('acc40');
    await redis.close();
    tmp.cleanup();
  }
});

test('acceptance: the coordinator (generate --queue, the built CLI) SIGKILLed mid-run; the three workers finish the run without it; generate --resume RUN_ID --queue writes everything that happened meanwhile: every trajectory finished, each step once, the report counts right (scripted model server, real redis-server)', { timeout: 420_000 }, async () => {
  const tmp = tempDir('queue-acceptance-kill');
  const redis = await startRedisServer();
  let workers: CliProcess[] = [];
  const probe = new IORedis(redis.url);
  try {
    const tasksFile = writeTasks(tmp.dir, 20);
    // 150 ms a reply: attempts take a few seconds, so the kill lands with some done, some running, some waiting.
    await withServer(agent, async (server) => {
      workers = await startWorkers(redis);
      const out = path.join(tmp.dir, 'out');
      const runDir = path.join(out, 'runs', 'acckill');
      const first = generate(tasksFile, out, 'acckill', server, redis);
      const finishedBefore = await waitFor('8 attempts finished in the first coordinator\'s run folder', () => {
        if (first.child.exitCode !== null) throw new Error(`the coordinator exited before the kill:\n${first.stderr}`);
        const n = fs.existsSync(path.join(runDir, 'events.jsonl')) ? readEvents(runDir).filter((e) => e.type === 'attempt_finished').length : 0;
        return n >= 8 && n;
      }, 180_000, 20);
      first.killGroup('SIGKILL');
      const killed = await first.done;
      assert.equal(killed.signal, 'SIGKILL');
      assert.ok(finishedBefore < 40, 'the coordinator was killed mid-run');
      // Attempts the killed coordinator had recorded part of: their steps so far are in a journal beside the trajectory.
      const midway = fs.readdirSync(path.join(runDir, 'trajectories')).filter((f) => f.endsWith('.journal.jsonl'));
      assert.ok(midway.length > 0, 'some attempt was mid-way in the run folder at the kill');

      // Without a coordinator, the workers run every attempt to its end: 40 attempts ended on the run's stream (an `end`
      // report, or the `saved` mark the coordinator left in its place before the kill).
      const ended = async () => {
        const entries = (await probe.xrange(eventsKey('acckill'), '-', '+')) as [string, string[]][];
        return new Set(entries.map(([, f]) => parseQueueEvent(f)).filter((e) => e?.kind === 'end' || e?.kind === 'saved').map((e) => `${e!.taskId}#${e!.attempt}`));
      };
      await waitFor('the workers to end all 40 attempts without the coordinator', async () => (await ended()).size === 40, 240_000, 200);
      const onDisk = readEvents(runDir).filter((e) => e.type === 'attempt_finished').length;
      assert.ok(onDisk < 40, `some attempts ended while no coordinator ran (${onDisk} recorded before the kill)`);
      assert.equal(JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')).status, 'running', 'the killed run is left unfinished');

      const resumed = generate(tasksFile, out, 'acckill', server, redis, true);
      const r = await resumed.done;
      assert.equal(r.code, 0, r.stderr);
      const report = readJson<RunReport>(path.join(runDir, 'report.json'));
      const info = readJson<RunInfo>(path.join(runDir, 'run.json'));
      assert.equal(info.status, 'finished');
      // The report counts tasks (20), run.json's counts attempts (40).
      assert.equal(report.total, 20);
      assert.equal(report.submitted, 20);
      assert.equal(report.resolved, 20, r.stderr);
      assert.equal(report.error, 0);
      assert.deepEqual(report.pass_at_k, { 'pass@1': 1, 'pass@2': 1 });
      assert.deepEqual({ total: info.counts.total, done: info.counts.done, failed: info.counts.failed, running: info.counts.running, queued: info.counts.queued, resolved: info.counts.resolved }, { total: 40, done: 40, failed: 0, running: 0, queued: 0, resolved: 40 });
      assert.equal(server.requests.length, 40 * STEPS, 'each step asked of the model once (no attempt ran twice)');

      let promptTokens = 0;
      let completionTokens = 0;
      for (let i = 1; i <= 20; i++) {
        for (const attempt of [1, 2]) {
          const file = path.join(runDir, 'trajectories', `a${i}.${attempt}.json`);
          const t = readTrajectory(file);
          assert.equal(t.status, 'finished', `a${i} #${attempt}`);
          assert.equal(t.result?.success, true, `a${i} #${attempt}`);
          assert.deepEqual(t.steps.map((s) => s.index), [0, 1, 2], `a${i} #${attempt}: every step once`);
          assert.equal(t.messages.filter((m) => m.role === 'assistant').length, STEPS, `a${i} #${attempt}: each assistant message once`);
          assert.ok(!fs.existsSync(path.join(path.dirname(file), `.${path.basename(file)}.journal.jsonl`)), `a${i} #${attempt}: no journal left`);
          promptTokens += t.totals.prompt_tokens;
          completionTokens += t.totals.completion_tokens;
        }
      }
      // The tokens of the whole run, counted once: those the model server answered, in the trajectories, in the report.
      assert.deepEqual({ prompt_tokens: promptTokens, completion_tokens: completionTokens }, server.usageTotals());
      assert.equal(report.prompt_tokens, promptTokens);
      assert.equal(report.completion_tokens, completionTokens);
      assert.equal(info.counts.prompt_tokens, promptTokens, 'run.json counts the tokens of the steps recorded before the kill once');
      assert.equal(info.counts.completion_tokens, completionTokens);

      const events = readEvents(runDir);
      const steps = countsOf(events, 'step', true);
      assert.equal(steps.size, 40 * STEPS, 'every step is in events.jsonl');
      assert.deepEqual([...steps.entries()].filter(([, n]) => n !== 1), [], 'each step once in events.jsonl');
      assert.deepEqual([...countsOf(events, 'attempt_finished', false).entries()].sort(), ATTEMPTS.map((k) => [k, 1]).sort(), 'each attempt finished once in events.jsonl');
      assert.equal(events.filter((e) => e.type === 'run_started').length, 2, 'the first run and its resume');
      assert.deepEqual(await containersOfRun('acckill'), [], 'no container of the run is left');
    }, 150);
    await stopWorkers(workers);
  } finally {
    probe.disconnect();
    for (const w of workers) w.killGroup('SIGKILL');
    await removeContainersOfRun('acckill');
    await redis.close();
    tmp.cleanup();
  }
});
