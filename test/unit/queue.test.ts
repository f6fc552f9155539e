/**
 * The queue's shared parts without Redis (server/src/queue/queue.ts, run/queueRunner.ts): job ids,
 * queue URLs, report parsing, and which tasks cannot go on a queue yet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attemptJobId, parseQueueEvent, queueUrlProblem } from '../../server/src/queue/queue';
import { coordinatorFiles } from '../../server/src/run/queueRunner';

test('job ids: the same attempt always the same id (enqueueing twice is harmless), any task id, never a colon', () => {
  const id = attemptJobId('20261207-101500-a1b2', 'django__django-11099', 2);
  assert.equal(id, attemptJobId('20261207-101500-a1b2', 'django__django-11099', 2));
  assert.match(id, /^20261207-101500-a1b2\.[0-9a-f]{16}\.2$/);
  assert.notEqual(attemptJobId('r', 'a:b', 1), attemptJobId('r', 'a:c', 1));
  assert.ok(!attemptJobId('r', 'a:b/c d', 1).includes(':'));
});

test('queue URLs: redis:// and rediss:// with an optional password and database; anything else is refused without showing a password', () => {
  assert.equal(queueUrlProblem('redis://localhost:6379/0'), undefined);
  assert.equal(queueUrlProblem('rediss://:s3cret@queue.example:6380/2'), undefined);
  assert.equal(queueUrlProblem('redis://127.0.0.1'), undefined);
  assert.match(queueUrlProblem('http://localhost:6379')!, /http:\/\/ is not a Redis URL; write redis:\/\//);
  assert.match(queueUrlProblem('redis://:s3cret@host/abc')!, /the database is a number \(\/0\), not \/abc/);
  assert.ok(!queueUrlProblem('redis://:s3cret@host/abc')!.includes('s3cret'));
  assert.match(queueUrlProblem('localhost:6379')!, /not a Redis URL|is not a URL/);
});

test('reports: a stream entry is a QueueEvent or nothing', () => {
  const e = { kind: 'state', taskId: 't', attempt: 1, worker: 'w', state: { kind: 'evaluating' } };
  assert.deepEqual(parseQueueEvent(['e', JSON.stringify(e)]), e);
  assert.equal(parseQueueEvent(['x', JSON.stringify(e)]), undefined);
  assert.equal(parseQueueEvent(['e', '{not json']), undefined);
  assert.equal(parseQueueEvent(['e', JSON.stringify({ kind: 'state' })]), undefined);
});

test("tasks a worker cannot run yet: those that need the coordinator's files (a local repository, images, tasks-folder files, a Dockerfile)", () => {
  assert.equal(coordinatorFiles({ task_id: 'a', description: 'd' }), undefined);
  assert.equal(coordinatorFiles({ task_id: 'a', workspace: { repo: 'https://github.com/o/r.git' } }), undefined);
  assert.equal(coordinatorFiles({ task_id: 'a', workspace: { repo: 'git@github.com:o/r.git' } }), undefined);
  assert.equal(coordinatorFiles({ task_id: 'a', workspace: { path: '/testbed', in_image: true } }), undefined);
  assert.match(coordinatorFiles({ task_id: 'a', workspace: { repo: './repos/calc' } })!, /local repository \(workspace\.repo "\.\/repos\/calc"\)/);
  assert.match(coordinatorFiles({ task_id: 'a', images: ['shot.png'] })!, /images/);
  assert.match(coordinatorFiles({ task_id: 'a', eval: { commands: ['true'], files: { from: 'tests' } } })!, /files of its tasks folder/);
  assert.match(coordinatorFiles({ task_id: 'a', environment: { dockerfile: 'Dockerfile' } })!, /Dockerfile/);
});
