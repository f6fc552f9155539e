/**
 * A run on a pool of Docker hosts from VS Code (README, "A pool of Docker hosts"): two
 * `trajlab.dockerHosts` entries — the local engine's socket and a symlink to it at another path,
 * so two URLs and one engine — run a gold run of sleep tasks with `pool: true`. The Hosts view
 * shows both hosts with their live load during the run (the tree through the extension's API
 * and the rendered rows); Drain, picked from a host's context menu with the mouse, shows it
 * draining, writes the drain file, and no attempt starts on it afterwards (events.jsonl).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { TrajLabApi } from '../../../client/src/api';
import { requireUi, ui, uiAvailable, waitFor } from './e2e';
import { connected, dockerSocket, findNode, generate, waitForEnd, writeSlowTasks } from './trajlab';

suite('TrajLab host pool', () => {
  let api: TrajLabApi;
  // Short: a unix socket path has at most about 107 bytes.
  const link = path.join(os.tmpdir(), `tl-pool-${process.pid}.sock`);
  const hostA = { name: 'pool-a', url: `unix://${dockerSocket()}`, workers: 2 };
  const hostB = { name: 'pool-b', url: `unix://${link}`, workers: 2 };

  suiteSetup(async () => {
    api = await connected();
    fs.rmSync(link, { force: true });
    fs.symlinkSync(dockerSocket(), link);
    await vscode.workspace.getConfiguration('trajlab').update('dockerHosts', [hostA, hostB], vscode.ConfigurationTarget.Workspace);
  });

  suiteTeardown(async () => {
    if (uiAvailable) await ui.collapseView('Hosts'); // the Runs and Tasks views of later tests get their room back
    await vscode.workspace.getConfiguration('trajlab').update('dockerHosts', undefined, vscode.ConfigurationTarget.Workspace);
    fs.rmSync(link, { force: true });
  });

  test('Pool: the Hosts view shows both hosts with their load during a run; Drain from the context menu stops new attempts there', async function () {
    requireUi(this);
    await ui.openViewContainer('TrajLab');
    await ui.viewRows('Hosts'); // expanded and visible: the view polls the live state while a run goes
    const tasksFile = writeSlowTasks('pool', 10, 6);
    const runId = await generate(api, { tasksFile, model: 'gold', pool: true, workers: 2, quiet: true });
    try {
      // The tree as the view renders it, through the real provider.
      const loaded = await waitFor(
        'both pool hosts up with an attempt running in the Hosts view',
        async () => {
          const hosts = await api.snapshot('hosts', 1);
          const a = hosts.find((h) => h.label === 'pool-a');
          const b = hosts.find((h) => h.label === 'pool-b');
          const busy = (d?: string) => /^up · [12]\/2 running/.test(d ?? '');
          return busy(a?.description) && busy(b?.description) ? { a: a!, b: b! } : undefined;
        },
        90_000,
        500,
      );
      assert.equal(loaded.b.contextValue, 'host:up');
      // The rendered rows follow the tree after its next render.
      let rows: { text: string }[] = [];
      await waitFor('pool-b rendered busy in the Hosts view', async () => {
        rows = await ui.viewRows('Hosts');
        return rows.some((r) => r.text.startsWith('pool-b') && /up · [12]\/2 running/.test(r.text)) || undefined;
      }, 20_000, 500).catch((err: Error) => assert.fail(`${err.message}; rendered rows: ${JSON.stringify(rows.map((r) => r.text))}`));

      // A user's right-click on pool-b, then Drain.
      const drainedAt = new Date().toISOString();
      await ui.viewRowContextMenu('Hosts', 'pool-b', 'Drain');
      const drainFile = path.join(api.outputRoot()!, 'hosts-drained.json');
      await waitFor('the drain file to list pool-b', () => (fs.existsSync(drainFile) && (JSON.parse(fs.readFileSync(drainFile, 'utf8')) as string[]).includes(hostB.url) ? true : undefined), 15_000, 250);
      await waitFor(
        'pool-b shown draining',
        async () => {
          const b = findNode(await api.snapshot('hosts', 1), 'pool-b');
          return b?.description?.startsWith('draining') && b.contextValue === 'host:draining' ? b : undefined;
        },
        30_000,
        500,
      );
      await ui.screenshot('pool-hosts-draining');

      const end = await waitForEnd(api, runId, 240_000);
      assert.equal(end.status, 'finished');
      assert.equal(end.counts.resolved, 10);
      const events = fs
        .readFileSync(path.join(api.outputRoot()!, 'runs', runId, 'events.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { type: string; time: string; host?: string });
      const started = events.filter((e) => e.type === 'attempt_started');
      const onB = (e: { host?: string }) => e.host === hostB.name || e.host === hostB.url;
      assert.ok(started.some(onB), `no attempt ran on pool-b: ${JSON.stringify(started)}`);
      // The pool reads the drain file about once a second: allow that much after the click.
      const settled = new Date(Date.parse(drainedAt) + 2_000).toISOString();
      const late = started.filter((e) => onB(e) && e.time > settled);
      assert.deepEqual(late, [], 'attempts started on pool-b after it was drained');
    } finally {
      await vscode.commands.executeCommand('trajlab.hosts.undrain', { name: hostB.name, url: hostB.url });
      if (api.runs().find((r) => r.run_id === runId)?.status === 'running') await vscode.commands.executeCommand('trajlab.cancelRun', runId);
    }
  });
});
