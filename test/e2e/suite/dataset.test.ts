/**
 * Datasets in a real VS Code with the real daemon and Docker engine, after a `gold` run of the
 * examples (no model server needed):
 * - `trajlab.openDataset` on the run (a Runs view item) opens the Dataset panel; its page (the
 *   webview's DOM, read through the bridge) shows the run's figures, the five charts and one
 *   table row per trajectory; a click on a row opens that attempt's trajectory;
 * - "TrajLab: Export…" from the command palette, driven through its QuickPicks and the save
 *   dialog with real input, writes an OpenAI chat JSONL (one line per trajectory, each with
 *   `messages`) and its manifest (with the `vscode export` command line) in the workspace;
 * - `trajlab.compareRuns` on the run and a second gold run shows both in the Compare panel;
 * - after a window reload the Dataset panel is restored (serializer + page state) with its figures.
 * Selectors are webviews/src/dataset's; screenshots go to `artifacts/<mode>/screenshots/dataset-*.png`.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { TrajLabApi } from '../../../client/src/api';
import { CHAT_TEMPLATE_FORMATS, type ExportFormat, type ExportManifest } from '../../../common/src/dataset';
import { reloadWindow, requireUi, resumedData, ui, waitFor, workspaceFolder } from './e2e';
import { connected, examplesTasksFile, generate, readTaskIds, waitForEnd } from './trajlab';

suite('Dataset', () => {
  let api: TrajLabApi;
  let runId: string;
  let taskIds: string[];

  suiteSetup(async () => {
    api = await connected();
    taskIds = readTaskIds(examplesTasksFile()).slice(0, 3).map((t) => t.taskId);
    runId = await generate(api, { tasksFile: examplesTasksFile(), model: 'gold', taskIds, workers: 3, quiet: true });
    const end = await waitForEnd(api, runId);
    assert.equal(end.status, 'finished', JSON.stringify(end.counts));
    await api.refreshRuns();
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('Open dataset on a run: the panel shows its figures, charts and one row per trajectory; a row opens its trajectory', async function () {
    requireUi(this);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const info = await vscode.commands.executeCommand<{ kind: string; sources: string[] } | undefined>('trajlab.openDataset', { kind: 'run', runId });
    assert.ok(info, `no panel: ${api.lastCommandError()}`);
    assert.equal(info.kind, 'stats');
    assert.deepEqual(info.sources, [path.join(api.outputRoot()!, 'runs', runId)]);

    const n = String(taskIds.length);
    assert.equal((await ui.webviewText('[data-figure="trajectories"] .figure-value', n, 60_000)).trim(), n);
    assert.equal((await ui.webviewText('[data-figure="resolved"] .figure-value')).trim(), '100.0%');
    const table = await ui.webviewText('section[data-section="trajectories"] tbody', taskIds[0]);
    for (const t of taskIds) assert.ok(table.includes(t), `the table lists ${t}: ${table}`);
    assert.equal(table.trim().split('\n').filter((l) => l.includes(runId)).length, taskIds.length, `one row per trajectory: ${table}`);
    const charts = await ui.webviewText('section[data-section="charts"]');
    for (const c of ['Reward', 'Steps', 'Tokens', 'Success by task type', 'Cost over the run']) assert.ok(charts.includes(c), `chart ${c}: ${charts}`);
    await ui.screenshot('dataset-panel');

    // A click on a row opens that attempt's trajectory (in the inspector, TrajLab's trajectory editor).
    const attempts = api.attempts(runId) ?? [];
    const target = attempts.find((a) => a.taskId === taskIds[1]);
    assert.ok(target?.trajectoryPath, JSON.stringify(attempts));
    await ui.webviewClick('section[data-section="trajectories"] tbody tr', taskIds[1]);
    await waitFor(
      `a tab with ${path.basename(target.trajectoryPath)}`,
      () =>
        vscode.window.tabGroups.all
          .flatMap((g) => g.tabs)
          .some((t) => {
            const input = t.input as { uri?: vscode.Uri } | undefined;
            return input?.uri?.fsPath === target.trajectoryPath;
          }),
      30_000,
      200,
    );
  });

  test('Export… from the palette through its QuickPicks writes an OpenAI chat JSONL and its manifest in the workspace', async function () {
    requireUi(this);
    const out = path.join(workspaceFolder().fsPath, 'trajlab', 'exports', `e2e-openai-${Date.now()}.jsonl`);
    const manifestFile = out.replace(/\.jsonl$/, '.manifest.json');

    await exportThroughWizard(runId, 'openai', out);

    await waitFor(`${path.basename(out)} and its manifest`, () => fs.existsSync(out) && fs.existsSync(manifestFile), 60_000, 250);
    const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
    assert.equal(lines.length, taskIds.length, 'one line per trajectory');
    const tasksSeen: string[] = [];
    for (const line of lines) {
      const row = JSON.parse(line) as { messages: { role: string; content: unknown }[]; metadata?: { task_id?: string } };
      assert.ok(Array.isArray(row.messages) && row.messages.length >= 2, line.slice(0, 200));
      assert.ok(row.messages.some((m) => m.role === 'assistant'));
      if (row.metadata?.task_id) tasksSeen.push(row.metadata.task_id);
    }
    assert.deepEqual(tasksSeen.sort(), [...taskIds].sort());
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as ExportManifest;
    assert.equal(manifest.format, 'openai');
    assert.equal(manifest.counts.kept, taskIds.length);
    assert.deepEqual(manifest.command?.slice(0, 3), ['vscode', 'export', path.join(api.outputRoot()!, 'runs', runId)]);
    await waitFor('the export message', () => api.shownMessages().some((m) => m.text.startsWith(`Exported ${taskIds.length} of ${taskIds.length} trajectories`)), 15_000, 200);
    await ui.screenshot('dataset-export');
  });

  test('Export… with a filter picked in the wizard (task ids matching a glob) keeps only those trajectories and says why the others were dropped', async function () {
    requireUi(this);
    const out = path.join(workspaceFolder().fsPath, 'trajlab', 'exports', `e2e-filtered-${Date.now()}.jsonl`);
    const manifestFile = out.replace(/\.jsonl$/, '.manifest.json');
    await exportThroughWizard(runId, 'sharegpt', out, { item: 'Task ids matching…', value: taskIds[0]! });

    await waitFor(`${path.basename(out)} and its manifest`, () => fs.existsSync(out) && fs.existsSync(manifestFile), 60_000, 250);
    const rows = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { conversations: unknown[]; metadata?: { task_id?: string } });
    assert.deepEqual(rows.map((r) => r.metadata?.task_id), [taskIds[0]]);
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as ExportManifest;
    assert.equal(manifest.filters.taskGlob, taskIds[0]);
    assert.equal(manifest.counts.kept, 1);
    assert.equal(manifest.counts.dropped, taskIds.length - 1);
  });

  test('Export… with Curation… → "Drop near-duplicates…" picked in the wizard sends dedupe near at the threshold typed, recorded in the manifest', async function () {
    requireUi(this);
    const out = path.join(workspaceFolder().fsPath, 'trajlab', 'exports', `e2e-near-${Date.now()}.jsonl`);
    const manifestFile = out.replace(/\.jsonl$/, '.manifest.json');
    await exportThroughWizard(runId, 'openai', out, { item: 'Curation…', sub: 'Drop near-duplicates…', value: '0.9' });

    await waitFor(`${path.basename(out)} and its manifest`, () => fs.existsSync(out) && fs.existsSync(manifestFile), 60_000, 250);
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as ExportManifest;
    assert.equal(manifest.filters.dedupe, 'near');
    assert.equal(manifest.filters.nearThreshold, 0.9);
    // The example tasks differ from one another: none is a near-duplicate of another.
    assert.equal(manifest.counts.kept, taskIds.length);
  });

  test('Compare runs on two runs: both sides and the per-task table in the Compare panel', async function () {
    requireUi(this);
    const second = await generate(api, { tasksFile: examplesTasksFile(), model: 'gold', taskIds: taskIds.slice(0, 2), workers: 2, quiet: true });
    assert.equal((await waitForEnd(api, second)).status, 'finished');
    const info = await vscode.commands.executeCommand<{ kind: string; sources: string[] } | undefined>('trajlab.compareRuns', { kind: 'run', runId: second }, [
      { kind: 'run', runId: second },
      { kind: 'run', runId },
    ]);
    assert.ok(info, `no panel: ${api.lastCommandError()}`);
    assert.equal(info.kind, 'compare');
    // The older run is A.
    assert.deepEqual(info.sources.map((s) => path.basename(s)), [runId, second]);
    const heads = await ui.webviewText('section[data-section="sides"] thead', `A: ${runId}`, 60_000);
    assert.ok(heads.includes(`B: ${second}`), heads);
    const rows = await ui.webviewText('section[data-section="tasks"] tbody', taskIds[0]);
    for (const t of taskIds) assert.ok(rows.includes(t), `${t} in ${rows}`);
    assert.ok(rows.includes('only in A'), `${taskIds[2]} is only in A: ${rows}`);
    await ui.screenshot('dataset-compare');
  });

  test('a Dataset panel is restored after a window reload (its serializer, from the page state)', async function () {
    requireUi(this);
    const resumed = resumedData<{ runId: string }>(this);
    if (!resumed) {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      await vscode.commands.executeCommand('trajlab.openDataset', { kind: 'run', runId });
      await ui.webviewText('[data-figure="trajectories"] .figure-value', String(taskIds.length), 60_000);
      await reloadWindow(this, { runId });
    }
    const id = resumed!.runId;
    await ui.webviewText('h1.title', `Dataset: ${id}`, 60_000);
    assert.equal((await ui.webviewText('[data-figure="trajectories"] .figure-value', String(taskIds.length), 60_000)).trim(), String(taskIds.length));
    const table = await ui.webviewText('section[data-section="trajectories"] tbody', taskIds[0], 30_000);
    for (const t of taskIds) assert.ok(table.includes(t), `the restored table lists ${t}`);
  });
});

/**
 * Drives the Export… wizard through the real QuickPicks: the run as source, `format`, optionally
 * one filter that asks a value (picked in the filters list, then typed), no split, no token
 * counts, no chat-template check, then `out` typed into VS Code's save dialog (a quick input in the browser).
 */
async function exportThroughWizard(runId: string, format: string, out: string, filter?: { item: string; sub?: string; value: string }): Promise<void> {
  // An editor still loading (the inspector the test before opened) takes the focus when it is
  // ready, and a quick input that loses the focus closes: start from a workbench with none open.
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  await waitFor('every editor closed', () => vscode.window.tabGroups.all.every((g) => g.tabs.length === 0), 15_000, 100);
  await ui.runCommand('TrajLab: Export…');
  // 1: sources (several may be picked): pick the run, accept.
  await waitFor('the sources quick pick', async () => (await ui.quickPickItems()).some((i) => i.includes(runId)), 30_000, 250);
  await ui.quickPickSelect(runId);
  await ui.pressKey('Enter');
  // 2: format.
  await waitFor('the format quick pick', async () => (await ui.quickPickItems()).includes(format), 15_000, 250);
  await ui.quickPickSelect(format);
  // 3: filters (canPickMany: a click toggles one, Enter accepts), then the filter's own input box.
  await waitFor('the filters quick pick', async () => (await ui.quickPickItems()).includes('Success only'), 15_000, 250);
  if (filter) await ui.quickPickSelect(filter.item);
  // Enter in the filters pick's own input: a key pressed while the pick still takes focus is lost.
  await ui.quickPickAccept('filters');
  if (filter?.sub) {
    // A second pick (Curation…): toggle the choice, accept.
    await waitFor('the second filters pick', async () => (await ui.quickPickItems()).includes(filter.sub!), 15_000, 250);
    await ui.quickPickSelect(filter.sub);
    await ui.quickPickAccept('curation');
  }
  if (filter) {
    await waitFor('the filter value input', async () => !(await ui.quickPickItems()).includes(filter.sub ?? 'Success only'), 15_000, 250);
    await ui.quickInputType(filter.value, true, 15_000, 'Export…: ');
  }
  // 4: split, 5: token counts.
  await waitFor('the split quick pick', async () => (await ui.quickPickItems()).includes('No split'), 15_000, 250);
  await ui.quickPickSelect('No split');
  await waitFor('the token counts quick pick', async () => (await ui.quickPickItems()).includes('No token counts'), 15_000, 250);
  await ui.quickPickSelect('No token counts');
  // 6: the chat-template check, asked for formats whose rows hold messages (CHAT_TEMPLATE_FORMATS).
  if (CHAT_TEMPLATE_FORMATS.includes(format as ExportFormat)) {
    await waitFor('the chat template quick pick', async () => (await ui.quickPickItems()).includes('No chat-template check'), 15_000, 250);
    await ui.quickPickSelect('No chat-template check');
  }
  // 7: the save dialog (its title names the step): type the path.
  await ui.quickInputType(out, true, 30_000, 'destination');
}
