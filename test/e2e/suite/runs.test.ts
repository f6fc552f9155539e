/**
 * Runs from the real extension host against the real daemon and Docker engine:
 * - `trajlab.generateTrajectories` through `executeCommand` with arguments runs the examples
 *   with the scripted OpenAI-compatible model server; the Runs view and run.json show it
 *   finishing with reward 1 for every task;
 * - the API key set through `trajlab.setApiKey` reaches the model server and never appears in
 *   any file under the workspace (nor in the daemon log);
 * - the same command from the command palette (Playwright), with its progress notification,
 *   the "Open report" button, and a screenshot of the TrajLab views after the run;
 * - cancel leaves no container.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { TrajLabApi } from '../../../client/src/api';
import { e2eEnv, requireUi, ui, uiAvailable, waitFor, workspaceFolder } from './e2e';
import {
  connected,
  examplesTasksFile,
  findNode,
  generate,
  readRunJson,
  readTaskIds,
  runContainers,
  scriptedRunArgs,
  waitForContainers,
  waitForEnd,
  walkFiles,
  writeSlowTasks,
} from './trajlab';

suite('TrajLab runs', () => {
  let api: TrajLabApi;
  const apiKey = e2eEnv.apiKey ?? 'sk-trajlab-e2e-0123456789abcdef';

  suiteSetup(async () => {
    api = await connected();
    assert.equal(await vscode.commands.executeCommand('trajlab.setApiKey', { provider: 'openai', key: apiKey }), 'openai');
  });

  suiteTeardown(async () => {
    const c = vscode.workspace.getConfiguration('trajlab');
    await c.update('baseUrl', undefined, vscode.ConfigurationTarget.Workspace);
    await c.update('model', undefined, vscode.ConfigurationTarget.Workspace);
  });

  test('Generate trajectories with arguments runs the examples with the scripted model; every task resolved', async function () {
    if (!e2eEnv.modelBaseUrl) this.skip();
    const expected = readTaskIds(examplesTasksFile()).map((t) => t.taskId);
    const runId = await generate(api, scriptedRunArgs());
    assert.ok(api.runs().some((r) => r.run_id === runId), 'the Runs view knows the run at once');

    const end = await waitForEnd(api, runId, 280_000);
    assert.equal(end.status, 'finished', JSON.stringify(end.counts));
    assert.equal(end.counts.total, expected.length);
    assert.equal(end.counts.resolved, expected.length, `resolved ${end.counts.resolved}/${end.counts.total}`);

    const onDisk = readRunJson(api, runId);
    assert.equal(onDisk.status, 'finished');
    assert.equal(onDisk.counts.resolved, expected.length);
    assert.equal(onDisk.options.model, e2eEnv.model ?? 'openai:scripted');
    const report = JSON.parse(fs.readFileSync(path.join(api.outputRoot()!, 'runs', runId, 'report.json'), 'utf8')) as { resolved: number; ids_resolved: string[] };
    assert.deepEqual([...report.ids_resolved].sort(), [...expected].sort());

    const run = await waitFor(
      'the finished run with every attempt at reward 1 in the Runs view',
      async () => {
        const node = findNode(await api.snapshot('runs', 2), runId);
        return node?.description?.startsWith('finished') && node.children?.length === expected.length && node.children.every((a) => /reward 1\b/.test(a.description ?? '')) ? node : undefined;
      },
      30_000,
      250,
    );
    assert.match(run.description!, new RegExp(`^finished · ${expected.length}/${expected.length} ✓${expected.length} ✗0`));
    assert.deepEqual(run.children!.map((a) => a.label).sort(), [...expected].sort());
    // The status bar redraws coalesced (≤ 10 per second): give it that tick.
    const done = new RegExp(`TrajLab: ${expected.length}/${expected.length} ✓${expected.length} ✗0`);
    await waitFor(`the status bar to say ${done.source}`, () => done.test(api.statusBarText() ?? ''), 5_000).catch(() => assert.match(api.statusBarText() ?? '', done));
    await waitFor('the end-of-run message', () => api.shownMessages().some((m) => m.text.startsWith(`TrajLab run ${runId} finished: ${expected.length}/${expected.length} resolved`)), 10_000);

    if (uiAvailable) {
      const requests = await ui.modelRequests();
      assert.ok(requests.length >= expected.length);
      assert.ok(
        requests.every((r) => r.authorization === `Bearer ${apiKey}`),
        `the key from secret storage reaches the model server: ${JSON.stringify([...new Set(requests.map((r) => r.authorization?.slice(0, 14)))])}`,
      );
    }
  });

  test('a models list from trajlab.models: the run takes it, and the Runs view tooltip shows its entry\'s live counters (requests, tokens, cost)', async function () {
    if (!e2eEnv.modelBaseUrl) this.skip();
    const c = vscode.workspace.getConfiguration('trajlab');
    const spec = e2eEnv.model ?? 'openai:scripted';
    await c.update('models', [{ model: spec, name: 'scripted-entry', base_url: e2eEnv.modelBaseUrl, rpm: 6000 }], vscode.ConfigurationTarget.Workspace);
    try {
      const taskId = readTaskIds(examplesTasksFile())[0]!.taskId;
      const runId = await generate(api, { tasksFile: examplesTasksFile(), taskIds: [taskId], workers: 1, attempts: 1, quiet: true });
      const end = await waitForEnd(api, runId, 120_000);
      assert.equal(end.counts.resolved, 1, JSON.stringify(end.counts));
      const onDisk = readRunJson(api, runId);
      assert.deepEqual(onDisk.options.models?.map((m) => m.name), ['scripted-entry']);
      const node = await waitFor('the run\'s tooltip with the entry\'s counters', async () => {
        const n = findNode(await api.snapshot('runs', 1), runId);
        return n?.tooltip?.includes('Models:') ? n : undefined;
      }, 30_000, 250);
      assert.match(node.tooltip!, /\n {2}scripted-entry: \d+ requests?, [\d.k]+ \+ [\d.k]+ tokens, \$/);
      const requests = Number(/scripted-entry: (\d+) request/.exec(node.tooltip!)![1]);
      assert.ok(requests >= 1 && requests === onDisk.models?.[0]?.requests, `${requests} requests in the tooltip, ${onDisk.models?.[0]?.requests} in run.json`);
    } finally {
      await c.update('models', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  test('the API key set through the command never appears in any file under the workspace', async () => {
    const files = walkFiles(workspaceFolder().fsPath);
    assert.ok(files.some((f) => f.endsWith('run.json')), 'runs were written under the workspace');
    const leaks = files.filter((f) => fs.readFileSync(f).includes(apiKey));
    assert.deepEqual(leaks, [], 'files holding the API key');
    const log = api.daemonLogFile();
    if (log && fs.existsSync(log)) assert.ok(!fs.readFileSync(log, 'utf8').includes(apiKey), 'the daemon log holds the API key');
    const settings = vscode.workspace.getConfiguration('trajlab');
    assert.ok(!JSON.stringify(settings).includes(apiKey));
  });

  test('Generate trajectories from the command palette: progress notification, Open report, screenshot of the views', async function () {
    requireUi(this);
    if (!e2eEnv.modelBaseUrl) this.skip();
    const c = vscode.workspace.getConfiguration('trajlab');
    await c.update('baseUrl', e2eEnv.modelBaseUrl, vscode.ConfigurationTarget.Workspace);
    await c.update('model', e2eEnv.model ?? 'openai:scripted', vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const before = new Set(api.runs().map((r) => r.run_id));
    await ui.modelDelay(300); // long enough to see the progress notification

    await ui.runCommand('TrajLab: Generate trajectories');
    // With several tasks files in the workspace the command first asks which one.
    const items = await waitFor('the tasks file or run settings quick pick', async () => {
      const i = await ui.quickPickItems();
      return i.some((x) => x === 'examples/tasks.jsonl' || x.includes('Start')) ? i : undefined;
    }, 30_000);
    if (!items.some((i) => i.includes('Start'))) await ui.quickPickSelect('examples/tasks.jsonl');
    await waitFor('the run settings quick pick', async () => (await ui.quickPickItems()).some((i) => i.includes('Start')), 30_000);
    const settings = await ui.quickPickItems();
    for (const item of ['Model', 'Workers', 'Attempts', 'Run cost limit']) assert.ok(settings.some((i) => i.includes(item)), `"${item}" in the run settings quick pick: ${JSON.stringify(settings)}`);
    await ui.quickPickSelect('Start');

    const run = await waitFor('the new run', () => api.runs().find((r) => !before.has(r.run_id)), 30_000);
    const runId = run.run_id;
    assert.equal(run.options.model, e2eEnv.model ?? 'openai:scripted', 'the model comes pre-filled from the settings');
    assert.equal(run.options.baseUrl, e2eEnv.modelBaseUrl);
    await waitFor(
      'the progress notification',
      async () => (await ui.notifications()).some((n) => n.progress && n.message.includes(runId)) || api.runs().find((r) => r.run_id === runId)?.status !== 'running',
      30_000,
      250,
    );
    await ui.modelDelay(0);
    const end = await waitForEnd(api, runId, 280_000);
    assert.equal(end.status, 'finished');
    assert.equal(end.counts.resolved, end.counts.total);

    await ui.clickNotificationButton(`TrajLab run ${runId} finished`, 'Open report', 30_000);
    const report = await waitFor('report.json open in an editor', () => vscode.window.activeTextEditor?.document.uri.fsPath.endsWith(path.join(runId, 'report.json')) && vscode.window.activeTextEditor, 15_000);
    assert.equal((JSON.parse(report.document.getText()) as { resolved: number }).resolved, end.counts.total);

    await ui.openViewContainer('TrajLab');
    await vscode.commands.executeCommand('trajlab.showRunTrajectories', runId);
    const rows = await waitFor('the run in the Runs view', async () => {
      const r = await ui.viewRows('Runs');
      return r.some((x) => x.text.includes(runId) && x.text.includes('finished')) ? r : undefined;
    }, 30_000, 500);
    assert.ok(rows.length >= 1);
    await api.revealRun(runId);
    await waitFor('the tasks files in the Tasks view', async () => (await ui.viewRows('Tasks')).some((r) => r.text.includes('tasks.jsonl')), 30_000, 500);
    await waitFor('the run\'s attempts in the Runs view', async () => (await ui.viewRows('Runs')).filter((r) => r.level === 2).length >= end.counts.total, 30_000, 500);
    const shot = await ui.screenshot('trajlab-views-after-run');
    assert.ok(fs.existsSync(shot), `screenshot at ${shot}`);
  });

  test('Re-run failed tasks starts a new run of the unresolved tasks only', async () => {
    const file = path.join(workspaceFolder().fsPath, 'e2e-slow', 'rerun.tasks.jsonl');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const task = (id: string, evalCommand: string) => JSON.stringify({ task_id: id, task_type: 'code', description: id, solution: { commands: ['true'] }, eval: [evalCommand] });
    fs.writeFileSync(file, [task('rerun-ok', 'true'), task('rerun-bad', 'false'), task('rerun-ok-2', 'true')].join('\n') + '\n');
    const first = await generate(api, { tasksFile: file, model: 'gold', quiet: true });
    const end = await waitForEnd(api, first);
    assert.equal(end.status, 'finished');
    assert.equal(end.counts.resolved, 2);

    const again = await vscode.commands.executeCommand<string>('trajlab.rerunFailed', { runId: first });
    assert.ok(again && again !== first, `rerunFailed returned ${again}: ${api.lastCommandError()}`);
    const rerun = await waitForEnd(api, again);
    assert.deepEqual(readRunJson(api, again).options.taskIds, ['rerun-bad']);
    assert.equal(rerun.counts.total, 1);
    assert.equal(rerun.counts.resolved, 0);
  });

  test('Cancel run removes every container of the run; the Runs view says cancelled', async () => {
    const tasksFile = writeSlowTasks('cancel', 4, 60);
    const runId = await generate(api, { tasksFile, model: 'gold', workers: 4, quiet: true });
    await waitForContainers(api, runId);
    await api.waitForRun(runId, (r) => r.counts.running > 0, 60_000);

    const started = Date.now();
    const result = await vscode.commands.executeCommand<{ cancelled: boolean }>('trajlab.cancelRun', { runId });
    assert.deepEqual(result, { cancelled: true }, api.lastCommandError());
    assert.ok(Date.now() - started < 30_000, 'cancel waited for the sleeps instead of aborting them');
    assert.deepEqual(await runContainers(runId), [], 'containers of the run left after cancel');

    const end = await waitForEnd(api, runId, 30_000);
    assert.equal(end.status, 'cancelled');
    const node = await waitFor('the cancelled run in the Runs view', async () => {
      const n = findNode(await api.snapshot('runs', 2), runId);
      return n?.description?.startsWith('cancelled') ? n : undefined;
    }, 15_000);
    assert.equal(node.contextValue, 'run:cancelled');
    for (const a of node.children ?? []) assert.match(a.description ?? '', /cancelled|reward/);
    assert.equal(readRunJson(api, runId).status, 'cancelled');
  });
});
