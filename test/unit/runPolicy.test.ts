/**
 * What the daemon decides for the extension (server/src/daemon/runPolicy.ts): the tasks
 * "Re-run failed tasks" runs again, the per-host worker cap, the runs resumed after a crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttemptInfo } from '../../common/src/protocol';
import type { RunInfo, RunStatus } from '../../common/src/run';
import { dockerUrl } from '../../common/src/settings';
import { validateDockerHosts, validateStartOptions, InvalidRunParamsError } from '../../server/src/daemon/runManager';
import { capWorkersForHost, failedTaskIds, rerunPlan, runsToResume } from '../../server/src/daemon/runPolicy';

function run(id: string, status: RunStatus = 'finished', over: Partial<RunInfo['options']> = {}): RunInfo {
  return {
    run_id: id,
    status,
    created_at: '2026-11-21T10:00:00.000Z',
    updated_at: '2026-11-21T10:01:00.000Z',
    options: { tasksFile: '/w/tasks.jsonl', model: 'openai:gpt-4o-mini', workers: 4, attempts: 2, out: '/w/trajlab', mode: 'tools', ...over },
    counts: { total: 3, done: 3, failed: 0, running: 0, queued: 0, resolved: 1, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0 },
    rejected_lines: [],
    trajlab_version: '0.1.0',
  };
}

function attempt(taskId: string, n: number, outcome: boolean | 'error' | 'cancelled' | 'queued'): AttemptInfo {
  const state: AttemptInfo['state'] =
    outcome === 'error'
      ? { kind: 'failed', error: 'x' }
      : outcome === 'cancelled'
        ? { kind: 'cancelled' }
        : outcome === 'queued'
          ? { kind: 'queued' }
          : { kind: 'finished', exitStatus: 'submitted', reward: outcome ? 1 : 0, success: outcome, steps: 1 };
  return { taskId, attempt: n, trajectoryPath: '', state };
}

test('failedTaskIds: tasks with no resolved attempt (unresolved, errored, cancelled, never run), once each, in order', () => {
  const attempts = [attempt('ok', 1, true), attempt('half', 1, false), attempt('half', 2, true), attempt('bad', 1, false), attempt('bad', 2, 'error'), attempt('err', 1, 'error'), attempt('c', 1, 'cancelled'), attempt('q', 1, 'queued')];
  assert.deepEqual(failedTaskIds(attempts), ['bad', 'err', 'c', 'q']);
});

test('rerunPlan: a new run (no run id) of the same options, the filter replaced by the failed task ids', () => {
  const r = run('20261121-100000-ab12', 'cancelled', { filter: 'calc-*', runId: '20261121-100000-ab12', taskIds: ['a', 'b', 'ok'] });
  const plan = rerunPlan(r, [attempt('b', 1, false), attempt('a', 1, 'error'), attempt('b', 2, 'error'), attempt('ok', 1, true)]);
  assert.deepEqual(plan.taskIds, ['b', 'a']);
  assert.deepEqual(plan.options.taskIds, ['b', 'a']);
  assert.equal(plan.options.runId, undefined, 'a re-run is a new run');
  assert.equal(plan.options.filter, undefined);
  assert.equal(plan.options.model, r.options.model);
  assert.equal(plan.options.attempts, 2);
  assert.deepEqual(rerunPlan(r, [attempt('ok', 1, true)]).taskIds, [], 'nothing to re-run when every task was resolved');
});

test('capWorkersForHost: the maxConcurrent of the options\' host entry (by its url or the url the daemon is given), nothing else', () => {
  const o = run('x').options;
  const hosts = [{ name: 'gpu', url: 'ssh://me@gpu', maxConcurrent: 2 }, { name: 'big', url: 'tcp://big:2376' }];
  assert.equal(capWorkersForHost({ ...o, host: 'ssh://me@gpu', workers: 8 }, hosts).workers, 2);
  assert.equal(capWorkersForHost({ ...o, host: 'ssh://me@gpu', workers: 1 }, hosts).workers, 1);
  assert.equal(capWorkersForHost({ ...o, host: 'tcp://big:2376', workers: 8 }, hosts).workers, 8);
  assert.equal(capWorkersForHost({ ...o, workers: 8 }, hosts).workers, 8, 'the local engine has no limit here');
  assert.equal(capWorkersForHost({ ...o, host: 'ssh://me@gpu', workers: 8 }, []).workers, 8, 'no hosts given: no cap');
  const tls = { name: 'tls', url: 'tcp://h:2377', tls: true, maxConcurrent: 3 };
  assert.equal(dockerUrl(tls), 'https://h:2377');
  assert.equal(dockerUrl({ name: 'plain', url: 'tcp://h:2375' }), 'tcp://h:2375');
  assert.equal(dockerUrl({ name: 'ssh', url: 'ssh://me@h', tls: true }), 'ssh://me@h');
  assert.equal(capWorkersForHost({ ...o, host: dockerUrl(tls), workers: 8 }, [tls]).workers, 3);
});

test('validateDockerHosts: absent is none; a malformed list is an InvalidRunParamsError naming the field', () => {
  assert.deepEqual(validateDockerHosts({ options: {} }), []);
  assert.deepEqual(validateDockerHosts({ dockerHosts: [{ name: 'a', url: 'ssh://a', maxConcurrent: 1 }] }), [{ name: 'a', url: 'ssh://a', maxConcurrent: 1 }]);
  assert.throws(() => validateDockerHosts({ dockerHosts: 'ssh://a' }), InvalidRunParamsError);
  assert.throws(() => validateDockerHosts({ dockerHosts: [{ url: 'ssh://a' }] }), /dockerHosts must be a list of \{name, url, maxConcurrent\?\}/);
});

test('runsToResume: the interrupted ones, in the order given; running again, ended or unknown runs are not', () => {
  const got = runsToResume([run('a', 'interrupted'), null, run('b', 'running'), run('c', 'finished'), undefined, run('d', 'interrupted'), run('e', 'cancelled')]);
  assert.deepEqual(got.map((r) => r.run_id), ['a', 'd']);
});

test('capWorkersForHost in a pool: each host\'s workers (default the run\'s) is capped at its entry\'s maxConcurrent', () => {
  const o = run('x').options;
  const settings = [{ name: 'gpu', url: 'ssh://me@gpu', maxConcurrent: 2 }, { name: 'tls', url: 'tcp://h:2377', tls: true, maxConcurrent: 3 }];
  const pool = [{ url: 'ssh://me@gpu', workers: 8 }, { url: 'https://h:2377' }, { url: 'unix:///var/run/docker.sock', workers: 16 }, { url: 'ssh://me@gpu2', workers: 1 }];
  const capped = capWorkersForHost({ ...o, workers: 6, hosts: pool }, settings);
  assert.deepEqual(capped.hosts, [{ url: 'ssh://me@gpu', workers: 2 }, { url: 'https://h:2377', workers: 3 }, { url: 'unix:///var/run/docker.sock', workers: 16 }, { url: 'ssh://me@gpu2', workers: 1 }]);
  assert.equal(capped.workers, 6, "the run's own workers stay (hosts without an entry use it)");
  assert.deepEqual(capWorkersForHost({ ...o, workers: 2, hosts: [{ url: 'https://h:2377' }] }, settings).hosts, [{ url: 'https://h:2377' }], 'under the cap: unchanged');
});

test('validateStartOptions: options.hosts is checked as a --hosts file is, the error naming the entry and field; hostWaitSec is seconds ≥ 0', () => {
  const start = (options: Record<string, unknown>) => validateStartOptions({ options: { tasksFile: 't.jsonl', ...options } });
  assert.deepEqual(start({ hosts: [{ url: 'ssh://me@gpu', gpus: '0,1', workers: 2 }], hostWaitSec: 30 }).hosts, [{ url: 'ssh://me@gpu', gpus: ['0', '1'], workers: 2 }]);
  assert.throws(() => start({ hosts: [] }), /^InvalidRunParamsError: options\.hosts must be a non-empty list/);
  assert.throws(() => start({ hosts: 'ssh://a' }), /options\.hosts must be a non-empty list of \{url, name\?, workers\?, gpus\?, labels\?, enabled\?\} \(got "ssh:\/\/a"\)/);
  assert.throws(() => start({ hosts: [{ url: 'ssh://a' }, { url: 'ssh://b', workers: 0 }] }), (err: Error) => err instanceof InvalidRunParamsError && err.message === 'options.hosts[1].workers: "workers" must be an integer ≥ 1 (got 0)');
  assert.throws(() => start({ hosts: [{ name: 'x' }] }), /^InvalidRunParamsError: options\.hosts\[0\]: a host needs "url"/);
  assert.throws(() => start({ hosts: [{ url: 'ssh://a', slots: 2 }] }), /options\.hosts\[0\]\.slots: unknown key "slots"/);
  assert.throws(() => start({ hostWaitSec: -1 }), /options\.hostWaitSec must be a number of seconds ≥ 0 \(got -1\)/);
});
