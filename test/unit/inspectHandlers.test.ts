/**
 * `trajlab/trajectory/*` over a real JSON-RPC connection (server/src/daemon/trajectoryHandlers.ts):
 * answers, ResponseErrors with user-readable messages and codes, `notOpen` for unknown handles
 * (the client reopens), close, and the handles dropped when the connection is disposed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { createConnection as createServerConnection } from 'vscode-languageserver/lib/common/server';
import { createProtocolConnection, ErrorCodes, LSPErrorCodes, type Connection } from 'vscode-languageserver/node';
import {
  TrajectoryCloseNotification,
  TrajectoryDiffSidesRequest,
  TrajectoryFilterRequest,
  TrajectoryOpenRequest,
  TrajectoryScreenshotRequest,
  TrajectorySearchRequest,
  TrajectoryStepRequest,
  TrajectoryStepsRequest,
} from '../../common/src/protocol';
import { registerTrajectoryHandlers } from '../../server/src/daemon/trajectoryHandlers';
import { InspectorService } from '../../server/src/inspect/store';
import { silentLogger } from '../../server/src/util/log';
import { writeBrowserTrajectory } from '../fixtures/inspect/generate';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const FOREIGN = path.resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'foreign');
const OURS = path.join(REPO_ROOT, 'test', 'fixtures', 'inspect', 'trajlab.inspect.trajectory.json');

/** A daemon-side connection with only the inspector's handlers (answered by `service`), and a client talking to it. */
function pair(service = new InspectorService()): { server: Connection; client: MessageConnection } {
  const up = new PassThrough();
  const down = new PassThrough();
  const server = createServerConnection((logger) => createProtocolConnection(new StreamMessageReader(up), new StreamMessageWriter(down), logger), {
    shutdownReceived: false,
    initialize: () => {},
    exit: () => {},
  });
  registerTrajectoryHandlers(server, silentLogger, service);
  server.listen();
  const client = createMessageConnection(new StreamMessageReader(down), new StreamMessageWriter(up));
  client.listen();
  return { server, client };
}

async function responseError(p: Promise<unknown>): Promise<ResponseError<unknown>> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ResponseError, `expected a ResponseError, got ${String(err)}`);
    return err;
  }
  assert.fail('the request succeeded');
}

test('the inspector requests over JSON-RPC: open, steps, step, filter, search, diffSides, close', async () => {
  const { server, client } = pair();
  try {
    const header = await client.sendRequest(TrajectoryOpenRequest.type, { file: OURS });
    assert.equal(header.taskId, 'calc-fix-all');
    const handle = header.handle;
    const page = await client.sendRequest(TrajectoryStepsRequest.type, { handle, start: 2, count: 2 });
    assert.deepEqual(page.rows.map((r) => r.index), [2, 3]);
    assert.equal(page.total, 8);
    const step = await client.sendRequest(TrajectoryStepRequest.type, { handle, index: 2, clip: 10 });
    assert.equal(step.actions[0]!.observation!.stdout.text.length, 10);
    assert.deepEqual(await client.sendRequest(TrajectoryFilterRequest.type, { handle, filter: { editsOnly: true } }), { indices: [1, 4, 5] });
    assert.deepEqual(await client.sendRequest(TrajectorySearchRequest.type, { handle, query: 'assertionerror' }), { hits: [{ step: 2, field: 'stderr' }], truncated: false });
    assert.equal((await client.sendRequest(TrajectoryDiffSidesRequest.type, { handle, file: 'old.txt' })).left, 'obsolete\nnotes\n');

    const missing = await responseError(client.sendRequest(TrajectoryStepRequest.type, { handle, index: 8 }));
    assert.equal(missing.code, LSPErrorCodes.RequestFailed);
    assert.match(missing.message, /^Step 8 does not exist: the trajectory has 8 step\(s\) \(0 to 7\)\.$/);
    const bad = await responseError(client.sendRequest(TrajectoryStepsRequest.type, { handle, count: 'ten' as unknown as number }));
    assert.equal(bad.code, ErrorCodes.InvalidParams);

    await client.sendNotification(TrajectoryCloseNotification.type, { handle });
    const closed = await responseError(client.sendRequest(TrajectoryStepsRequest.type, { handle }));
    assert.equal(closed.code, LSPErrorCodes.RequestFailed);
    assert.deepEqual(closed.data, { reason: 'notOpen' });
    assert.match(closed.message, /This trajectory is not open in the TrajLab daemon .*: reopen the file\./);
  } finally {
    client.dispose();
    server.dispose();
  }
});

test('trajlab/trajectory/screenshot answers the checked PNG or why not; an action without one is RequestFailed', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-handlers-'));
  const { server, client } = pair();
  try {
    const { handle } = await client.sendRequest(TrajectoryOpenRequest.type, { file: writeBrowserTrajectory(dir, 'web.1') });
    const shot = await client.sendRequest(TrajectoryScreenshotRequest.type, { handle, step: 1, action: 0 });
    assert.ok(shot.ok && Buffer.from(shot.base64, 'base64').subarray(1, 4).toString() === 'PNG');
    const outside = await client.sendRequest(TrajectoryScreenshotRequest.type, { handle, step: 2, action: 0 });
    assert.equal(!outside.ok && outside.problem, 'outside');
    const none = await responseError(client.sendRequest(TrajectoryScreenshotRequest.type, { handle, step: 0, action: 0 }));
    assert.equal(none.code, LSPErrorCodes.RequestFailed);
    assert.match(none.message, /^Action 0 of step 0 recorded no screenshot\.$/);
  } finally {
    client.dispose();
    server.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('open errors are for the user: no such file, not a trajectory, a relative path, null params', async () => {
  const { server, client } = pair();
  try {
    const none = await responseError(client.sendRequest(TrajectoryOpenRequest.type, { file: path.join(FOREIGN, 'nope.traj.json') }));
    assert.equal(none.code, LSPErrorCodes.RequestFailed);
    assert.match(none.message, /nope\.traj\.json: no such file$/);
    assert.deepEqual(none.data, { reason: 'unreadable' });
    const instance = await responseError(client.sendRequest(TrajectoryOpenRequest.type, { file: path.join(FOREIGN, 'swesmith.instance.json') }));
    assert.match(instance.message, /swesmith\.instance\.json: a SWE-bench \/ SWE-smith task instance, not a trajectory/);
    const relative = await responseError(client.sendRequest(TrajectoryOpenRequest.type, { file: 'x.json' }));
    assert.equal(relative.code, ErrorCodes.InvalidParams);
    const nothing = await responseError(client.sendRequest(TrajectoryOpenRequest.type, null as never));
    assert.equal(nothing.code, ErrorCodes.InvalidParams);
    assert.match(nothing.message, /params\.file must be the absolute path of a trajectory file \(got undefined\)/);
  } finally {
    client.dispose();
    server.dispose();
  }
});

test('disposing the connection (its socket closed) drops the handles it opened', async () => {
  const service = new InspectorService();
  const { server, client } = pair(service);
  try {
    await client.sendRequest(TrajectoryOpenRequest.type, { file: OURS });
    await client.sendRequest(TrajectoryOpenRequest.type, { file: path.join(FOREIGN, 'mini-swe-agent.github_issue.traj.json') });
    assert.equal(service.openCount, 2);
  } finally {
    server.dispose();
    client.dispose();
  }
  assert.equal(service.openCount, 0);
});
