/** The Hosts view's live pool state (client/src/views/hostsPool.ts): merged across runs, keyed as the pool keys hosts, described as text. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PoolHostState } from '../../common/src/protocol';
import { describeLiveHost, liveHostStates, poolKey } from '../../client/src/views/hostsPool';
import { hostKey } from '../../server/src/pool/drain';

const state = (over: Partial<PoolHostState>): PoolHostState => ({ name: 'h', url: 'ssh://me@gpu1', status: 'up', running: 0, slots: 4, gpus: [], gpusInUse: [], pulls: 0, builds: 0, ...over });

test('poolKey is the pool\'s hostKey: no password, user kept, no trailing slash', () => {
  for (const url of ['ssh://me:pw@gpu1/', 'ssh://me@gpu1', 'tcp://a:2375', 'https://u:p@h:2376//', 'unix:///var/run/docker.sock', '/run/docker.sock']) {
    assert.equal(poolKey(url), hostKey(url), url);
  }
});

test('liveHostStates: one state per host across runs (sums, GPUs joined, down over draining over up)', () => {
  const got = liveHostStates({
    runs: [
      { runId: 'a', hosts: [state({ running: 2, gpus: ['0', '1'], gpusInUse: ['0'], pulls: 1 }), state({ name: 'b', url: 'unix:///b.sock', status: 'draining', running: 1 })] },
      { runId: 'b', hosts: [state({ url: 'ssh://me@gpu1/', running: 1, slots: 2, gpus: ['0', '1'], gpusInUse: ['1'], status: 'down', lastError: 'connect ECONNREFUSED', downSince: '2026-12-07T10:02:03.000Z' })] },
    ],
  });
  assert.deepEqual([...got.keys()], ['ssh://me@gpu1', 'unix:///b.sock']);
  const gpu1 = got.get('ssh://me@gpu1')!;
  assert.deepEqual([gpu1.runs, gpu1.running, gpu1.slots, gpu1.pulls, gpu1.status, gpu1.gpusInUse], [2, 3, 6, 1, 'down', ['0', '1']]);
  assert.equal(describeLiveHost(gpu1), 'down since 10:02:03 · connect ECONNREFUSED');
  assert.equal(describeLiveHost(got.get('unix:///b.sock')!), 'draining · 1/4 running');
  assert.equal(describeLiveHost({ ...state({ running: 2, gpus: ['0', '1'], gpusInUse: ['0'], pulls: 1, builds: 2 }), runs: 1 }), 'up · 2/4 running · GPUs 1/2 · 1 pull · 2 builds');
  assert.equal(liveHostStates({ runs: [] }).size, 0);
});
