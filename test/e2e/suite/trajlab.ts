/**
 * What the extension's e2e suites (views, runs, reattach) share: the extension's test API
 * (client/src/api.ts), starting runs of the examples against the scripted model server, and
 * reading the Docker engine's containers (its HTTP API on the unix socket, no CLI).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TrajLabApi, TreeSnapshotNode } from '../../../client/src/api';
import type { RunInfo } from '../../../common/src/run';
import { EXTENSION_ID, e2eEnv, workspaceFolder } from './e2e';

/** The activated extension's API. */
export async function trajlab(): Promise<TrajLabApi> {
  const ext = vscode.extensions.getExtension<TrajLabApi>(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not installed in this window`);
  const api = await ext.activate();
  if (!api || api.apiVersion !== 1) throw new Error(`${EXTENSION_ID} exports no TrajLab API (got ${JSON.stringify(api)})`);
  return api;
}

/** The API once the daemon is connected; throws with the daemon state and log tail otherwise. */
export async function connected(timeoutMs = 60_000): Promise<TrajLabApi> {
  const api = await trajlab();
  if (await api.whenDaemonReady(timeoutMs)) return api;
  const log = api.daemonLogFile();
  const tail = log && fs.existsSync(log) ? fs.readFileSync(log, 'utf8').slice(-3000) : '(no daemon log)';
  throw new Error(`the TrajLab daemon is ${api.daemonState()} after ${timeoutMs} ms; messages: ${JSON.stringify(api.shownMessages().slice(-5))}\n--- daemon log ---\n${tail}`);
}

/** examples/tasks.jsonl in the test workspace. */
export function examplesTasksFile(): string {
  return path.join(workspaceFolder().fsPath, 'examples', 'tasks.jsonl');
}

/** The tasks of a tasks file: id and type of every JSON line. */
export function readTaskIds(file: string): { taskId: string; taskType?: string }[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('//'))
    .map((l) => JSON.parse(l) as { task_id: string; task_type?: string })
    .map((t) => ({ taskId: t.task_id, taskType: t.task_type }));
}

/** The arguments of `trajlab.generateTrajectories` that run with the scripted model server. */
export function scriptedRunArgs(extra: Record<string, unknown> = {}): Record<string, unknown> {
  if (!e2eEnv.modelBaseUrl) throw new Error('TRAJLAB_E2E_MODEL_BASE_URL is not set: run the suites with a runner that starts the scripted model server (test/e2e/README.md)');
  return { tasksFile: examplesTasksFile(), model: e2eEnv.model ?? 'openai:scripted', baseUrl: e2eEnv.modelBaseUrl, workers: 4, attempts: 1, quiet: true, ...extra };
}

/** Runs `trajlab.generateTrajectories` with `args` and returns the run id (throws with the command's error). */
export async function generate(api: TrajLabApi, args: Record<string, unknown>): Promise<string> {
  const runId = await vscode.commands.executeCommand<string | undefined>('trajlab.generateTrajectories', args);
  if (!runId) throw new Error(`trajlab.generateTrajectories returned no run id: ${api.lastCommandError() ?? JSON.stringify(api.shownMessages().slice(-3))}`);
  return runId;
}

/** Waits until the run's status is no longer `running`. */
export function waitForEnd(api: TrajLabApi, runId: string, timeoutMs = 240_000): Promise<RunInfo> {
  return api.waitForRun(runId, (r) => r.status !== 'running', timeoutMs);
}

/** The run.json of a run, read from disk. */
export function readRunJson(api: TrajLabApi, runId: string): RunInfo {
  return JSON.parse(fs.readFileSync(path.join(api.outputRoot()!, 'runs', runId, 'run.json'), 'utf8')) as RunInfo;
}

/** The unix socket of the local Docker engine (DOCKER_HOST when it is a unix:// URL). */
export function dockerSocket(): string {
  const host = process.env.DOCKER_HOST;
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
}

/** The containers (running or not) labelled `trajlab.run=<runId>`, from the Docker engine's API. */
export function runContainers(runId: string): Promise<{ Id: string; State: string }[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`trajlab.run=${runId}`] }));
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: dockerSocket(), path: `/containers/json?all=1&filters=${filters}` }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`Docker API ${res.statusCode}: ${body}`));
        else resolve(JSON.parse(body) as { Id: string; State: string }[]);
      });
    });
    req.on('error', reject);
  });
}

/** Finds a node by label anywhere in a snapshot. */
export function findNode(nodes: TreeSnapshotNode[], label: string | RegExp): TreeSnapshotNode | undefined {
  for (const n of nodes) {
    if (typeof label === 'string' ? n.label === label : label.test(n.label)) return n;
    const inner = n.children && findNode(n.children, label);
    if (inner) return inner;
  }
  return undefined;
}

/** Every file under `dir` (skipping .git), for searching what was written. */
export function walkFiles(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== '.git') visit(p);
      } else if (e.isFile()) out.push(p);
    }
  };
  visit(dir);
  return out;
}

/**
 * Writes `<workspace>/e2e-slow/<name>.tasks.jsonl`: `count` tasks whose gold solution sleeps
 * `sleepSec` seconds (runs with model `gold` last long enough to cancel, crash or reload
 * during them, without a model server). Returns its path.
 */
export function writeSlowTasks(name: string, count: number, sleepSec: number): string {
  const dir = path.join(workspaceFolder().fsPath, 'e2e-slow');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.tasks.jsonl`);
  const lines = Array.from({ length: count }, (_, i) =>
    JSON.stringify({ task_id: `${name}-${i + 1}`, task_type: 'code', description: `sleep ${sleepSec} s, then write done.txt`, solution: { commands: [`sleep ${sleepSec}`, 'echo done > done.txt'] }, eval: ['test -f done.txt'] }),
  );
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/**
 * Waits until a container of the run exists: the first `create` event of one on the Docker
 * engine's event stream (`GET /events`), or one already listed once the stream is open.
 */
export async function waitForContainers(api: TrajLabApi, runId: string, timeoutMs = 120_000): Promise<void> {
  const filters = encodeURIComponent(JSON.stringify({ type: ['container'], event: ['create'], label: [`trajlab.run=${runId}`] }));
  let req: http.ClientRequest | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no container labelled trajlab.run=${runId} after ${timeoutMs} ms (run: ${JSON.stringify(api.runs().find((r) => r.run_id === runId)?.counts)})`)), timeoutMs);
      req = http.get({ socketPath: dockerSocket(), path: `/events?filters=${filters}` }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`Docker API ${res.statusCode} for /events`));
        res.once('data', () => resolve());
        // Subscribed: one created before is listed now.
        runContainers(runId).then((list) => list.length > 0 && resolve(), reject);
      });
      req.on('error', reject);
    });
  } finally {
    clearTimeout(timer);
    req?.destroy();
  }
}
