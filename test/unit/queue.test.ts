/**
 * The queue's shared parts without Redis (server/src/queue/queue.ts, run/queueRunner.ts): job ids,
 * queue URLs, report parsing, which tasks need packs of the coordinator's files, and the packs themselves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { attemptJobId, parseQueueEvent, queueUrlProblem } from '../../server/src/queue/queue';
import { imagePathsBack, needsPacks, packPath, PackTooLargeError } from '../../server/src/queue/packs';

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

test("tasks that need packs of the coordinator's files: a local repository (path or file://), images, tasks-folder files, a Dockerfile; not a git URL or a workspace in the image", () => {
  assert.equal(needsPacks({ task_id: 'a', description: 'd' }), false);
  assert.equal(needsPacks({ task_id: 'a', workspace: { repo: 'https://github.com/o/r.git' } }), false);
  assert.equal(needsPacks({ task_id: 'a', workspace: { repo: 'git@github.com:o/r.git' } }), false);
  assert.equal(needsPacks({ task_id: 'a', workspace: { path: '/testbed', in_image: true } }), false);
  assert.equal(needsPacks({ task_id: 'a', workspace: { repo: './repos/calc' } }), true);
  assert.equal(needsPacks({ task_id: 'a', workspace: { repo: 'file:///srv/repos/calc.git' } }), true);
  assert.equal(needsPacks({ task_id: 'a', images: ['shot.png'] }), true);
  assert.equal(needsPacks({ task_id: 'a', eval: { commands: ['true'], files: { from: 'tests' } } }), true);
  assert.equal(needsPacks({ task_id: 'a', steps: [{ name: 's', description: 'd', files: 'steps/s/workdir' }] }), true);
  assert.equal(needsPacks({ task_id: 'a', environment: { dockerfile: 'Dockerfile' } }), true);
});

test('packs: the same folder gives the same bytes (times and owners fixed, names sorted); past the limit the error names the setting', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'packs-'));
  try {
    fs.mkdirSync(path.join(dir, 'tests', 'b'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'tests', 'test.sh'), 'echo ok\n', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'tests', 'b', 'data.txt'), 'x'.repeat(1000));
    const one = await packPath(path.join(dir, 'tests'), 'folder', 2 ** 20, 'eval.files');
    fs.utimesSync(path.join(dir, 'tests', 'test.sh'), new Date(2020, 1, 1), new Date(2020, 1, 1));
    const two = await packPath(path.join(dir, 'tests'), 'folder', 2 ** 20, 'eval.files');
    assert.ok(one.equals(two), 'same tree, same bytes');
    fs.writeFileSync(path.join(dir, 'tests', 'b', 'data.txt'), 'y'.repeat(1000));
    assert.ok(!one.equals(await packPath(path.join(dir, 'tests'), 'folder', 2 ** 20, 'eval.files')), 'other content, other bytes');
    fs.writeFileSync(path.join(dir, 'big.bin'), crypto.randomBytes(300_000));
    await assert.rejects(packPath(path.join(dir, 'big.bin'), 'file', 200_000, 'images "big.bin"'), (err: Error) => err instanceof PackTooLargeError && /images "big\.bin".*--queue-pack-limit-mb \(VS Code: trajlab\.queue\.packLimitMb\)/.test(err.message));
    await assert.rejects(packPath(path.join(dir, 'nope'), 'folder', 2 ** 20, 'eval.files "nope"'), /eval\.files "nope": cannot read .*nope: it does not exist/);
    await assert.rejects(packPath(path.join(dir, 'big.bin'), 'folder', 2 ** 20, 'eval.files "big.bin"'), /is not a folder/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("image paths in reports: a worker's unpacked image is named by the coordinator's path, as its own run records it", () => {
  const img = { mime: 'image/png', sha256: 'a'.repeat(64), bytes: 3 };
  const messages = [
    { role: 'system' as const, content: 's' },
    { role: 'user' as const, content: 'u', images: [{ ...img, path: '/tmp/w/packs/abc/shot.png' }, { ...img, path: '/elsewhere/x.png' }] },
  ];
  const back = imagePathsBack(messages, new Map([['/tmp/w/packs/abc/shot.png', 'shots/shot.png']]), '/home/u/tasks');
  assert.equal(back[0], messages[0]);
  assert.deepEqual(back[1]!.images!.map((i) => i.path), ['/home/u/tasks/shots/shot.png', '/elsewhere/x.png']);
  assert.equal(messages[1]!.images![0]!.path, '/tmp/w/packs/abc/shot.png', 'the original is left as it was');
});
