/** Unit tests of the host pool's pure parts: placement and backoff (server/src/pool/placement.ts), move bookkeeping (moves.ts), the connection-error test behind host death (hostErrors.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseHost, couldEverFit, fitsNow, imageKey, probeDelaySec, withTag, type HostView } from '../../server/src/pool/placement';
import { hostMoves, messagesToKeep } from '../../server/src/pool/moves';
import { isConnectionError } from '../../server/src/runtime/hostErrors';
import { AbortedError, untilAborted } from '../../server/src/util/abort';
import type { ChatMessage } from '../../common/src/trajectory';

function host(o: Partial<HostView> = {}): HostView {
  return { placeable: true, running: 0, slots: 4, gpus: [], gpusPlaced: 0, gpuIdsPlaced: new Set(), hasImage: false, ...o };
}

test('chooseHost: only up, undrained hosts with a free slot; none when every slot is taken', () => {
  assert.equal(chooseHost([host({ placeable: false }), host()], undefined), 1);
  assert.equal(chooseHost([host({ running: 4 }), host({ running: 1, slots: 1 })], undefined), undefined);
  assert.equal(chooseHost([], undefined), undefined);
});

test('chooseHost: the host holding the image first, then the least loaded (running / slots), then the fewest running, then the first listed', () => {
  assert.equal(chooseHost([host({ running: 0 }), host({ running: 3, hasImage: true })], undefined), 1, 'image beats load');
  assert.equal(chooseHost([host({ running: 2, slots: 4 }), host({ running: 1, slots: 4 })], undefined), 1);
  // 1/8 < 1/2: a big host with one attempt is less loaded than a small one with one.
  assert.equal(chooseHost([host({ running: 1, slots: 2 }), host({ running: 1, slots: 8 })], undefined), 1);
  assert.equal(chooseHost([host({ running: 2, slots: 4 }), host({ running: 1, slots: 2 })], undefined), 1, 'same load: fewer running');
  assert.equal(chooseHost([host(), host()], undefined), 0);
});

test('GPU tasks: a host with enough free devices (by count, or the ids named); hosts whose devices are not known yet do not fit', () => {
  const two = host({ gpus: ['0', '1'] });
  assert.equal(fitsNow(two, 2), true);
  assert.equal(fitsNow({ ...two, gpusPlaced: 1 }, 2), false);
  assert.equal(fitsNow({ ...two, gpusPlaced: 1, gpuIdsPlaced: new Set(['0']) }, ['1']), true);
  assert.equal(fitsNow({ ...two, gpusPlaced: 1, gpuIdsPlaced: new Set(['1']) }, ['1']), false);
  assert.equal(fitsNow(two, ['7']), false);
  assert.equal(fitsNow(host({ gpus: undefined }), 1), false);
  assert.equal(chooseHost([host({ gpus: ['0'], gpusPlaced: 1 }), host({ gpus: ['0', '1'], running: 3 })], 1), 1);
  assert.equal(chooseHost([host({ gpus: ['0'], gpusPlaced: 1 }), host({ gpus: ['0'], gpusPlaced: 1 })], 1), undefined, 'devices busy: it waits');
});

test('GPU tasks no host could ever run go to a host with a free slot (its allocator then says why), but only once every host is known', () => {
  assert.equal(couldEverFit(host({ gpus: ['0'] }), 2), false);
  assert.equal(chooseHost([host({ gpus: ['0'], running: 2 }), host({ gpus: [], running: 1 })], 2), 1);
  assert.equal(chooseHost([host({ gpus: ['0'] }), host({ gpus: undefined, placeable: false })], 2), undefined, 'a host not known yet might have them');
});

test('probeDelaySec: 1, 2, 4, 8, then 15 s', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 20].map(probeDelaySec), [1, 2, 4, 8, 15, 15, 15]);
});

test('imageKey: a name gets :latest when it names no tag; digests and registry ports kept; a Dockerfile by its path', () => {
  assert.equal(withTag('python'), 'python:latest');
  assert.equal(withTag('python:3.11'), 'python:3.11');
  assert.equal(withTag('localhost:5000/x'), 'localhost:5000/x:latest');
  assert.equal(withTag('x@sha256:abc'), 'x@sha256:abc');
  assert.equal(imageKey({ kind: 'image', image: 'trajlab/sandbox:1' }), 'trajlab/sandbox:1');
  assert.equal(imageKey({ kind: 'build', dockerfile: '/t/env/Dockerfile', context: '/t/env' }), 'build:/t/env/Dockerfile');
});

test('isConnectionError: refused, missing socket, reset, hang-up, ssh channel failures; not an engine answer', () => {
  const err = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});
  assert.ok(isConnectionError(err('connect ECONNREFUSED /run/x/docker.sock', 'ECONNREFUSED')));
  assert.ok(isConnectionError(err('connect ENOENT /run/x/docker.sock', 'ENOENT')));
  assert.ok(isConnectionError(err('socket hang up', 'ECONNRESET')));
  assert.ok(isConnectionError(err('socket hang up')));
  assert.ok(isConnectionError(err('(SSH) Channel open failure: open failed')));
  assert.ok(!isConnectionError(Object.assign(err('(HTTP code 404) no such container'), { statusCode: 404 })));
  assert.ok(!isConnectionError(err('(HTTP code 500) server error - oci runtime error')));
});

test('hostMoves: earlier moves kept (also with no step finished), one added per move; none without a move', () => {
  const first = { from: 'a', to: 'b', at_step: 0, time: 't0', reason: 'host down: connect ECONNREFUSED' };
  assert.deepEqual(hostMoves(undefined, undefined, 'a', 0, 't'), []);
  assert.deepEqual(hostMoves(undefined, { from: 'a', reason: first.reason }, 'b', 0, 't0'), [first]);
  assert.deepEqual(hostMoves([first], { from: 'b', reason: 'host down: socket hang up' }, 'c', 3, 't1'), [first, { from: 'b', to: 'c', at_step: 3, time: 't1', reason: 'host down: socket hang up' }]);
  assert.deepEqual(hostMoves([first], undefined, 'b', 3, 't1'), [first], 'a resume on the same host adds none');
});

test('messagesToKeep: the reply in flight and what followed it go; a multi-step task\'s next prompt before it stays', () => {
  const m = (role: ChatMessage['role'], content: string = role): ChatMessage => ({ role, content }) as ChatMessage;
  const finished = [m('system'), m('user'), m('assistant'), m('tool')];
  assert.equal(messagesToKeep(finished, 4), 4, 'nothing in flight');
  assert.equal(messagesToKeep([...finished, m('assistant', 'in flight')], 4), 4);
  assert.equal(messagesToKeep([...finished, m('user', 'step 2'), m('assistant', 'in flight'), m('tool')], 4), 5);
});

test('untilAborted: the work\'s outcome, or AbortedError as soon as the signal fires (a wait on a host that no longer answers ends)', async () => {
  assert.equal(await untilAborted(Promise.resolve(1), undefined), 1);
  assert.equal(await untilAborted(Promise.resolve(2), new AbortController().signal), 2);
  const lost = new AbortController();
  const never = new Promise<number>(() => undefined);
  const waiting = untilAborted(never, lost.signal);
  lost.abort('host down: no answer');
  await assert.rejects(waiting, (err: Error) => err instanceof AbortedError && err.message === 'host down: no answer');
  await assert.rejects(untilAborted(Promise.reject(new Error('engine')), new AbortController().signal), /engine/);
});
