/**
 * The extension's pure parts (no `vscode`): status texts, coalescing, the runs projection,
 * run options, tasks file reading, trajectory sorting and totals, command argument refs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunCounts, RunInfo } from '../../common/src/run';
import { attemptStateText, formatCounts, modelCounterLines, runDescription, runEndMessage, statusBarText } from '../../client/src/format';
import { RunsState } from '../../client/src/model/runsState';
import { isRunId, runDir, runIdOf, taskRefOf } from '../../client/src/refs';
import { buildRunOptions, InvalidArgsError, parseGenerateArgs, poolByDefault, poolHosts, resumeOptions, type RunSettings } from '../../client/src/runOptions';
import { groupByType, NO_TYPE } from '../../client/src/tasksFile';
import { sortTrajectories, type TrajectoryRow } from '../../client/src/trajectories';
import { Coalescer } from '../../common/src/coalesce';
import { fakeClock } from '../helpers/fakeClock';

function counts(over: Partial<RunCounts> = {}): RunCounts {
  return { total: 0, done: 0, failed: 0, running: 0, queued: 0, resolved: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0, ...over };
}

function run(id: string, over: Partial<RunInfo> = {}): RunInfo {
  return {
    run_id: id,
    status: 'running',
    created_at: '2026-11-21T10:00:00.000Z',
    updated_at: '2026-11-21T10:01:00.000Z',
    options: { tasksFile: '/w/tasks.jsonl', model: 'openai:gpt-4o-mini', workers: 4, attempts: 1, out: '/w/trajlab', mode: 'tools' },
    counts: counts({ total: 3 }),
    rejected_lines: [],
    trajlab_version: '0.1.0',
    ...over,
  };
}

test('status bar text: ended/total, ✓ resolved, ✗ ended without being resolved, summed over runs', () => {
  // done counts finished attempts (resolved or not), failed counts errored ones.
  const c = counts({ total: 40, done: 10, failed: 2, resolved: 9 });
  assert.equal(formatCounts(c), '12/40 ✓9 ✗3');
  assert.equal(statusBarText([c]), 'TrajLab: 12/40 ✓9 ✗3');
  assert.equal(statusBarText([c, counts({ total: 10, done: 1, resolved: 1 })]), 'TrajLab: 13/50 ✓10 ✗3');
  assert.equal(statusBarText([]), 'TrajLab: 0/0 ✓0 ✗0');
});

test('run lines show tokens, cost and elapsed time as every view does (common/src/format.ts)', () => {
  assert.equal(runDescription('running', counts({ total: 4, done: 1, resolved: 1, prompt_tokens: 1000, completion_tokens: 200, cost_usd: 0.5 }), 65_000), 'running · 1/4 ✓1 ✗0 · 1.2k tok · $0.50 · 1 min 05 s');
  assert.equal(runEndMessage('r1', 'finished', counts({ total: 9, done: 8, failed: 1, resolved: 7 }), 61_000), 'TrajLab run r1 finished: 7/9 resolved (1 error), 1 min 01 s.');
  assert.equal(runEndMessage('r2', 'finished', counts({ total: 1, done: 1, prompt_tokens: 3_000_000, completion_tokens: 400_000, cost_usd: 0.0042 }), 45_400), 'TrajLab run r2 finished: 0/1 resolved, 3.4M tok, $0.0042, 45.4 s.');
});

test('attempt states in words (1-based step numbers, errors on one line)', () => {
  assert.equal(attemptStateText({ kind: 'queued' }), 'queued');
  assert.equal(attemptStateText({ kind: 'running', step: 0 }), 'running step 1');
  assert.equal(attemptStateText({ kind: 'evaluating' }), 'evaluating');
  assert.equal(attemptStateText({ kind: 'preparing', detail: 'building trajlab-env:0123: Step 2/3 : COPY hello.txt /opt/env/hello.txt' }), 'building trajlab-env:0123: Step 2/3 : COPY hello.txt /opt/env/hello.txt');
  assert.equal(attemptStateText({ kind: 'finished', exitStatus: 'submitted', reward: 1, success: true, steps: 5 }), 'submitted · reward 1 · 5 steps');
  assert.equal(attemptStateText({ kind: 'finished', exitStatus: 'step_limit', reward: 0.5, success: false, steps: 1 }), 'step_limit · reward 0.50 · 1 step');
  assert.equal(attemptStateText({ kind: 'failed', error: 'boom\n  at x' }), 'failed: boom ⏎ at x');
  assert.equal(attemptStateText({ kind: 'cancelled' }), 'cancelled');
});

test('Coalescer: a burst of 500 schedules fires once per interval, trailing call included', () => {
  const { clock, advance } = fakeClock();
  let fired = 0;
  const c = new Coalescer(100, () => fired++, (err) => assert.fail(String(err)), clock);
  // 500 updates over 1 s (one every 2 ms) → at most 1 + 1000/100 refreshes.
  for (let i = 0; i < 500; i++) {
    c.schedule();
    advance(2);
  }
  advance(200);
  assert.ok(fired >= 10 && fired <= 11, `fired ${fired} times`);
  const before = fired;
  c.schedule();
  c.flush();
  assert.equal(fired, before + 1);
  c.dispose();
  c.schedule();
  advance(1000);
  assert.equal(fired, before + 1);
});

test('Coalescer: an error thrown by fire goes to onError and the next schedule still fires', () => {
  const { clock, advance } = fakeClock();
  const errors: unknown[] = [];
  let calls = 0;
  const c = new Coalescer(100, () => {
    calls++;
    if (calls === 1) throw new Error('tree refresh failed');
  }, (err) => errors.push(err), clock);
  c.schedule();
  advance(1);
  assert.equal(errors.length, 1);
  assert.match((errors[0] as Error).message, /tree refresh failed/);
  c.schedule();
  advance(200);
  assert.equal(calls, 2);
});

test('RunsState: list newest first, progress and task updates, end detection, unknown runs', () => {
  const s = new RunsState();
  const changes: unknown[] = [];
  s.onChange((c) => changes.push(c));
  s.replaceAll([run('a', { created_at: '2026-11-21T09:00:00Z' }), run('b', { created_at: '2026-11-21T11:00:00Z' })]);
  assert.deepEqual(s.list().map((r) => r.info.run_id), ['b', 'a']);
  assert.equal(s.applyProgress({ runId: 'zzz', status: 'running', counts: counts(), elapsedMs: 1 }), 'unknown');

  // Updates before attempts are loaded are dropped: run/get brings the state.
  assert.equal(s.applyTaskUpdate({ runId: 'a', taskId: 't1', attempt: 1, state: { kind: 'running', step: 0 } }), false);
  s.setAttempts('a', [
    { taskId: 't1', attempt: 1, state: { kind: 'running', step: 2 }, trajectoryPath: '/o/runs/a/trajectories/t1.1.json' },
    { taskId: 't2', attempt: 1, state: { kind: 'queued' }, trajectoryPath: '/o/runs/a/trajectories/t2.1.json' },
  ]);
  assert.equal(s.applyTaskUpdate({ runId: 'a', taskId: 't1', attempt: 1, state: { kind: 'finished', exitStatus: 'submitted', reward: 1, success: true, steps: 3 } }), true);
  const t1 = s.attempts('a')!.find((x) => x.taskId === 't1')!;
  assert.equal(t1.state.kind, 'finished');
  assert.equal(t1.trajectoryPath, '/o/runs/a/trajectories/t1.1.json', 'an update keeps the known path');

  assert.equal(s.applyProgress({ runId: 'a', status: 'running', counts: counts({ total: 2, done: 1, resolved: 1 }), elapsedMs: 500 }), 'updated');
  assert.equal(s.get('a')!.elapsedMs, 500);
  assert.equal(s.running().length, 2);
  assert.equal(s.applyProgress({ runId: 'a', status: 'finished', counts: counts({ total: 2, done: 2, resolved: 1 }), elapsedMs: 900 }), 'ended');
  assert.equal(s.applyProgress({ runId: 'a', status: 'finished', counts: counts({ total: 2, done: 2, resolved: 1 }), elapsedMs: 900 }), 'updated', 'ends once');

  // A list answer keeps loaded attempts and reports runs that ended meanwhile.
  const ended = s.replaceAll([run('a', { status: 'finished' }), run('b', { status: 'interrupted', created_at: '2026-11-21T11:00:00Z' })]);
  assert.deepEqual(ended, ['b']);
  assert.equal(s.attempts('a')!.length, 2);
  assert.ok(changes.length >= 6);
});

test('parseGenerateArgs: typed fields, clear errors for wrong ones', () => {
  assert.deepEqual(parseGenerateArgs({ tasksFile: 'ex/tasks.jsonl', model: 'gold', workers: 2, attempts: 3, taskIds: ['a', 'b/c'], baseUrl: '', quiet: true }), {
    tasksFile: 'ex/tasks.jsonl',
    model: 'gold',
    workers: 2,
    attempts: 3,
    taskIds: ['a', 'b/c'],
    quiet: true,
  });
  assert.throws(() => parseGenerateArgs(undefined), InvalidArgsError);
  assert.throws(() => parseGenerateArgs({}), /tasksFile must be the path/);
  assert.throws(() => parseGenerateArgs({ tasksFile: 'x', workers: 'four' }), /workers must be an integer ≥ 1 \(got "four"\)/);
  assert.throws(() => parseGenerateArgs({ tasksFile: 'x', attempts: 0 }), /attempts must be an integer ≥ 1/);
  assert.throws(() => parseGenerateArgs({ tasksFile: 'x', taskIds: 'a' }), /taskIds must be an array/);
  assert.throws(() => parseGenerateArgs({ tasksFile: 'x', mode: 'json' }), /mode must be "tools" or "text"/);
});

test('buildRunOptions: arguments over settings, absolute tasks file, no secrets; resume options', () => {
  const settings: RunSettings = { model: 'openai:gpt-4o-mini', workers: 4, attempts: 1, maxSteps: 30, timeout: 1800, defaultImage: 'trajlab/sandbox:1' };
  assert.deepEqual(buildRunOptions(settings, { tasksFile: 'ex/tasks.jsonl' }, '/ws', '/ws/trajlab'), {
    tasksFile: '/ws/ex/tasks.jsonl',
    model: 'openai:gpt-4o-mini',
    workers: 4,
    attempts: 1,
    maxSteps: 30,
    timeout: 1800,
    out: '/ws/trajlab',
    defaultImage: 'trajlab/sandbox:1',
  });
  const o = buildRunOptions({ ...settings, baseUrl: 'http://127.0.0.1:9/v1' }, { tasksFile: '/abs/t.jsonl', model: 'gold', workers: 1, taskIds: ['x'] }, '/ws', '/out');
  assert.equal(o.tasksFile, '/abs/t.jsonl');
  assert.equal(o.model, 'gold');
  assert.equal(o.baseUrl, 'http://127.0.0.1:9/v1');
  assert.deepEqual(o.taskIds, ['x']);
  assert.equal(o.network, undefined, 'the default network policy (none) is left to the engine');
  assert.equal(buildRunOptions({ ...settings, network: 'bridge' }, { tasksFile: 't' }, '/ws', '/out').network, 'bridge');

  // trajlab.models: the list goes to the daemon (first spec names the run, no baseUrl); a model argument wins over it.
  const models = [{ model: 'deepseek:deepseek-chat', rpm: 60 }, { model: 'openai:gpt-4o-mini', max_concurrency: 4 }];
  const listed = buildRunOptions({ ...settings, baseUrl: 'http://127.0.0.1:9/v1', models, modelSwitch: true }, { tasksFile: 't' }, '/ws', '/out');
  assert.deepEqual([listed.model, listed.models, listed.baseUrl, listed.modelSwitch], ['deepseek:deepseek-chat', models, undefined, true]);
  const single = buildRunOptions({ ...settings, models }, { tasksFile: 't', model: 'gold' }, '/ws', '/out');
  assert.deepEqual([single.model, single.models], ['gold', undefined]);
  // trajlab.agent: a built-in name as it is, a file against the workspace folder.
  assert.equal(buildRunOptions({ ...settings, agent: 'mini-swe-agent' }, { tasksFile: 't' }, '/ws', '/out').agent, 'mini-swe-agent');
  assert.equal(buildRunOptions({ ...settings, agent: 'agents/mine.yaml' }, { tasksFile: 't' }, '/ws', '/out').agent, '/ws/agents/mine.yaml');

  const r = run('20261121-100000-ab12', { options: { ...run('x').options, filter: 'calc-*', runId: undefined } });
  assert.deepEqual(resumeOptions(r), { ...r.options, runId: '20261121-100000-ab12' });

  // trajlab.queue.*: the attempts go on the queue unless the run names a host or the pool; the pack limit goes with it.
  const queue = { url: 'redis://:pw@queue-host:6379/0', packLimitMb: 64 };
  const queued = buildRunOptions({ ...settings, queue }, { tasksFile: 't' }, '/ws', '/out');
  assert.deepEqual([queued.queue, queued.queuePackLimitMb], ['redis://:pw@queue-host:6379/0', 64]);
  assert.equal(buildRunOptions({ ...settings, queue }, { tasksFile: 't', host: 'unix:///var/run/docker.sock' }, '/ws', '/out').queue, undefined);
  assert.equal(buildRunOptions({ ...settings, queue: {} }, { tasksFile: 't' }, '/ws', '/out').queue, undefined);
  // Resume: run.json's URL has no password; the setting's URL for the same queue puts it back, another queue's does not.
  const onQueue = run('20261207-100000-ab12', { options: { ...run('x').options, queue: 'redis://queue-host:6379/0' } });
  assert.equal(resumeOptions(onQueue, 'redis://:pw@queue-host:6379/0').queue, 'redis://:pw@queue-host:6379/0');
  assert.equal(resumeOptions(onQueue, 'redis://:pw@queue-host/0').queue, 'redis://:pw@queue-host/0', 'the default port is the same queue');
  assert.equal(resumeOptions(onQueue, 'redis://:pw@other-host:6379/0').queue, 'redis://queue-host:6379/0');
  assert.equal(resumeOptions(onQueue, 'redis://:pw@queue-host:6379/1').queue, 'redis://queue-host:6379/0');
});

test('a pool run from trajlab.dockerHosts: the enabled entries as options.hosts (tls → https://, workers, gpus), host ignored; the pool is the default with two or more enabled', () => {
  const dockerHosts = [
    { name: 'gpu1', url: 'ssh://me@gpu1', workers: 8, gpus: ['0', '1'], maxConcurrent: 6 },
    { name: 'gpu2', url: 'tcp://gpu2:2376', tls: true },
    { name: 'old', url: 'tcp://old:2375', enabled: false },
  ];
  const settings: RunSettings = { model: 'gold', workers: 4, attempts: 1, maxSteps: 30, timeout: 1800, dockerHosts };
  const o = buildRunOptions(settings, parseGenerateArgs({ tasksFile: 't', pool: true, host: 'ssh://me@gpu1' }), '/ws', '/out');
  assert.deepEqual(o.hosts, [
    { url: 'ssh://me@gpu1', name: 'gpu1', workers: 8, gpus: ['0', '1'] },
    { url: 'https://gpu2:2376', name: 'gpu2' },
  ]);
  assert.equal(o.host, undefined);
  assert.equal(buildRunOptions(settings, { tasksFile: 't', host: 'ssh://me@gpu1' }, '/ws', '/out').hosts, undefined, 'no pool unless asked');
  assert.throws(() => poolHosts([{ name: 'old', url: 'tcp://old:2375', enabled: false }]), /no enabled host in trajlab\.dockerHosts/);
  assert.throws(() => parseGenerateArgs({ tasksFile: 't', pool: 'yes' }), /pool must be true or false \(got "yes"\)/);
  assert.equal(poolByDefault(dockerHosts), true);
  assert.equal(poolByDefault(dockerHosts.slice(1)), false, 'one enabled host is no pool');
  assert.equal(poolByDefault([]), false);
});

test('groupByType: groups sorted by name, tasks without a task_type last', () => {
  const t = (taskId: string, taskType?: string) => ({ taskId, line: 1, description: '', ...(taskType ? { taskType } : {}) });
  assert.deepEqual(
    groupByType([t('a', 'swe'), t('b'), t('c', 'reasoning'), t('d', 'code'), t('e', 'swe')]).map((g) => [g.taskType, g.tasks.map((x) => x.taskId)]),
    [
      ['code', ['d']],
      ['reasoning', ['c']],
      ['swe', ['a', 'e']],
      [NO_TYPE, ['b']],
    ],
  );
});

test('sortTrajectories: reward / steps / cost descending, unknown last, ties by task id', () => {
  const row = (taskId: string, reward?: number, steps?: number, costUsd?: number): TrajectoryRow => ({
    runId: 'r',
    taskId,
    attempt: 1,
    path: `/x/${taskId}`,
    state: reward === undefined ? { kind: 'running', step: steps ?? 0 } : { kind: 'finished', exitStatus: 'submitted', reward, success: reward === 1, steps: steps ?? 0 },
    costUsd,
  });
  const rows = [row('b', 0, 9, 0.2), row('a', 1, 3, 0.5), row('c', 1, 12), row('d', undefined, 4, undefined)];
  assert.deepEqual(sortTrajectories(rows, 'reward').map((r) => r.taskId), ['a', 'c', 'b', 'd']);
  assert.deepEqual(sortTrajectories(rows, 'steps').map((r) => r.taskId), ['c', 'b', 'd', 'a']);
  assert.deepEqual(sortTrajectories(rows, 'cost').map((r) => r.taskId), ['a', 'b', 'c', 'd']);
  assert.deepEqual(sortTrajectories(rows, 'task').map((r) => r.taskId), ['a', 'b', 'c', 'd']);
  assert.deepEqual(rows.map((r) => r.taskId), ['b', 'a', 'c', 'd'], 'the input is not reordered');
});

test('run and task refs from command arguments; run folders only through the store layout', () => {
  assert.equal(runIdOf('20261121-100000-ab12'), '20261121-100000-ab12');
  assert.equal(runIdOf({ runId: 'r1', kind: 'run' }), 'r1');
  assert.equal(runIdOf('../etc'), undefined);
  assert.equal(runIdOf({ runId: '.hidden' }), undefined);
  assert.equal(runIdOf(undefined), undefined);
  assert.equal(isRunId('a/b'), false);
  assert.deepEqual(taskRefOf({ kind: 'task', tasksFile: '/w/t.jsonl', taskId: '修复', line: 3 }), { tasksFile: '/w/t.jsonl', taskId: '修复' });
  assert.equal(taskRefOf({ tasksFile: '/w/t.jsonl' }), undefined);
  assert.equal(runDir('/w/trajlab', 'r1'), path.join('/w/trajlab', 'runs', 'r1'));
  assert.throws(() => runDir('/w/trajlab', '../../x'), /invalid run id/);
});

test("the Runs view tooltip's model lines: requests, 429s, failures, tokens, cost and a bench per entry", () => {
  assert.deepEqual(
    modelCounterLines([
      { name: 'deepseek:deepseek-chat', spec: 'deepseek:deepseek-chat', requests: 120, rate_limited: 3, failures: 1, prompt_tokens: 45_200, completion_tokens: 3_100, cost_usd: 0.0123, benched_until: '2026-12-07T12:00:30.000Z' },
      { name: 'spare', spec: 'openai:gpt-4o-mini', requests: 1, rate_limited: 0, failures: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0 },
    ]),
    ['deepseek:deepseek-chat: 120 requests, 3 × 429, 1 failure, 45.2k + 3.1k tokens, $0.01 (benched until 12:00:30 UTC)', 'spare: 1 request, 0 + 0 tokens, $0'],
  );
});
