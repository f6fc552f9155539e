/**
 * The extension side of the trajectory inspector, its pure parts: the format sniff behind the
 * CodeLens (on the real foreign files of ../shared/fixtures/foreign, read in place, and on
 * TrajLab trajectories of test/fixtures), finding `source.tasks_file` for a replay, checking
 * webview messages, and recognising the daemon's "handle not open" error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseInspectorMessage } from '../../client/src/inspector/inspectorMessages';
import { SNIFF_HEAD_CHARS, SNIFF_TAIL_CHARS, sniffTrajectoryFormat } from '../../client/src/inspector/sniff';
import { isUnknownHandle } from '../../client/src/inspector/trajectoryHandle';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const FOREIGN = path.resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'foreign');
/** A TrajLab trajectory whose `source` comes after its steps. */
const TRAJLAB_FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'export', 'runs', 'fx-b', 'trajectories', 'calc-add.1.json');

function sniffFile(file: string): ReturnType<typeof sniffTrajectoryFormat> {
  const text = fs.readFileSync(file, 'utf8');
  const tail = text.length > SNIFF_HEAD_CHARS ? text.slice(Math.max(SNIFF_HEAD_CHARS, text.length - SNIFF_TAIL_CHARS)) : '';
  return sniffTrajectoryFormat(text.slice(0, SNIFF_HEAD_CHARS), tail, path.basename(file));
}

test('sniff: every foreign trajectory fixture is recognised, with its format', () => {
  assert.equal(sniffFile(path.join(FOREIGN, 'mini-swe-agent.astropy__astropy-12907.traj.json')), 'mini-swe-agent', 'trajectory_format is written last: found in the tail');
  assert.equal(sniffFile(path.join(FOREIGN, 'mini-swe-agent.github_issue.traj.json')), 'mini-swe-agent-legacy');
  assert.equal(sniffFile(path.join(FOREIGN, 'swe-agent.pydicom__pydicom-1458.traj')), 'swe-agent');
  assert.equal(sniffFile(path.join(FOREIGN, 'atif.openhands-hello-world.trajectory.json')), 'atif');
  assert.equal(sniffFile(path.join(FOREIGN, 'atif.terminus-2-context-summarization.trajectory.json')), 'atif');
  assert.equal(sniffFile(TRAJLAB_FIXTURE), 'trajlab');
});

test('sniff: task instances and other JSON are not trajectories', () => {
  for (const f of ['swebench.instances.json', 'swebench.pydicom__pydicom-1458.instances.json', 'swesmith.instance.json']) {
    assert.equal(sniffFile(path.join(FOREIGN, f)), undefined, f);
  }
  assert.equal(sniffTrajectoryFormat('{"name": "x", "version": "1.0.0"}', '', 'package.json'), undefined);
  // A chat message list is a legacy mini-swe-agent trajectory only under its file name.
  assert.equal(sniffTrajectoryFormat('[{"role": "system", "content": "hi"}]', '', 'chat.json'), undefined);
  // Minified TrajLab output is recognised too.
  assert.equal(sniffTrajectoryFormat('{"schema_version":"trajlab.trajectory/1","run_id":"r"}', '', 'a.1.json'), 'trajlab');
});

test('webview messages: the allowed ones are rebuilt from their allowed fields', () => {
  assert.deepEqual(parseInspectorMessage({ type: 'ready', extra: 1 }), { ok: true, message: { type: 'ready' } });
  assert.deepEqual(parseInspectorMessage({ type: 'request', id: 4, method: 'steps', params: { start: 0, count: 200, handle: 'someone-else', file: '/etc/passwd' } }), {
    ok: true,
    message: { type: 'request', id: 4, method: 'steps', params: { start: 0, count: 200 } },
  });
  assert.deepEqual(parseInspectorMessage({ type: 'request', id: 5, method: 'search', params: { query: '<script>', caseSensitive: true } }), {
    ok: true,
    message: { type: 'request', id: 5, method: 'search', params: { query: '<script>', caseSensitive: true } },
  });
  assert.deepEqual(parseInspectorMessage({ type: 'request', id: 6, method: 'filter', params: { filter: { errorsOnly: true, bogus: 1 } } }), {
    ok: true,
    message: { type: 'request', id: 6, method: 'filter', params: { filter: { errorsOnly: true } } },
  });
  assert.deepEqual(parseInspectorMessage({ type: 'request', id: 7, method: 'screenshot', params: { step: 3, action: 0, path: '/etc/passwd' } }), {
    ok: true,
    message: { type: 'request', id: 7, method: 'screenshot', params: { step: 3, action: 0 } },
  });
  assert.deepEqual(parseInspectorMessage({ type: 'openDiff', file: 'src/a.py' }), { ok: true, message: { type: 'openDiff', file: 'src/a.py' } });
  assert.deepEqual(parseInspectorMessage({ type: 'openDiff', step: 2, action: 0 }), { ok: true, message: { type: 'openDiff', step: 2, action: 0 } });
});

test('webview messages: anything else is refused with a reason, requests with their id', () => {
  const refused = (m: unknown) => {
    const r = parseInspectorMessage(m);
    assert.equal(r.ok, false, JSON.stringify(m));
    return r as { ok: false; error: string; id?: number };
  };
  assert.match(refused({ type: 'request', id: 1, method: 'open', params: { file: '/etc/passwd' } }).error, /unknown inspector method "open"/);
  assert.equal(refused({ type: 'request', id: 1, method: 'diffSides', params: {} }).id, 1);
  assert.match(refused({ type: 'request', id: 2, method: 'step', params: { index: -1 } }).error, /index/);
  assert.match(refused({ type: 'request', id: 3, method: 'steps', params: { indices: Array.from({ length: 1001 }, (_, i) => i) } }).error, /at most 1000/);
  assert.match(refused({ type: 'request', id: 3, method: 'search', params: { query: 'x'.repeat(10_001) } }).error, /query/);
  assert.match(refused({ type: 'request', id: 3, method: 'screenshot', params: { path: '../../etc/passwd' } }).error, /^screenshot: step and action must be integers/);
  assert.match(refused({ type: 'request', id: 3, method: 'screenshot', params: { step: 1, action: '0' } }).error, /step and action/);
  assert.match(refused({ type: 'request', id: 'x', method: 'steps' }).error, /id/);
  assert.match(refused({ type: 'runCommand', command: 'workbench.action.terminal.new' }).error, /unknown message type/);
  assert.match(refused({ type: 'openDiff' }).error, /file, or a step/);
  refused(null);
  refused('ready');
});

test('isUnknownHandle: the daemon\'s notOpen error, nothing else', () => {
  assert.equal(isUnknownHandle({ code: -32803, message: 'This trajectory is not open…', data: { reason: 'notOpen' } }), true);
  assert.equal(isUnknownHandle({ code: -32803, message: 'not found', data: { reason: 'notFound' } }), false);
  assert.equal(isUnknownHandle(new Error('handle unknown')), false);
  assert.equal(isUnknownHandle(undefined), false);
});
