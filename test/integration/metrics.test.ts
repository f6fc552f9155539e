/**
 * Metrics and health, with real parts: the daemon (`trajlab serve --socket … --metrics-port 0`,
 * a child process) runs gold tasks on the real Docker engine while a real Prometheus server
 * (test/helpers/prometheus.ts) scrapes it every second; the test asks Prometheus' HTTP API what
 * it saw. The daemon's endpoint then follows the `trajlab.metrics.port` setting sent over LSP.
 * The model metrics are checked with the real openai SDK against the scripted model server.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { RunGetRequest, RunStartRequest } from '../../common/src/protocol';
import { createApiModel, parseModelSpec } from '../../server/src/agent/model';
import { completionTokens, modelRateLimited, modelRequests, modelRetries, promptTokens } from '../../server/src/metrics/metrics';
import { startCli, type CliProcess } from '../helpers/cli';
import { removeContainersOfRun, tempDir, waitFor, within } from '../helpers/engineHelpers';
import { concreteExpr, dashboardExprs, readDashboard } from '../helpers/grafanaDashboard';
import { freePort, prometheusUnavailable, startPrometheus, type PrometheusServer } from '../helpers/prometheus';
import { errorReply, startScriptedModelServer, textReply } from '../helpers/scriptedModelServer';

const unavailable = prometheusUnavailable();

/** Tasks whose gold solution sleeps, so that attempts are seen running across several scrapes. */
function sleepTasks(file: string, count: number, seconds: number): void {
  const lines = Array.from({ length: count }, (_, i) => JSON.stringify({ task_id: `sleep-${i}`, description: 'sleep', solution: { commands: [`sleep ${seconds}`] }, eval: ['true'] }));
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

/** The endpoint URL a daemon or CLI printed last ("metrics on http://…/metrics"). */
function metricsUrls(stderr: string): string[] {
  return [...stderr.matchAll(/metrics on (http:\/\/[^\s]+)\/metrics/g)].map((m) => m[1]!);
}

async function health(base: string): Promise<{ status: string; version: string; uptime_s: number; hosts: { up: string[]; down: string[] }; runs_active: number }> {
  const res = await fetch(`${base}/health`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/json');
  return (await res.json()) as never;
}

/** Whether something accepts connections at `base`. */
async function answers(base: string): Promise<boolean> {
  return fetch(`${base}/health`).then(
    () => true,
    () => false,
  );
}

describe('metrics scraped by a real Prometheus', { skip: unavailable ?? false, timeout: 300_000 }, () => {
  const tmp = tempDir('metrics');
  const socketPath = path.join(tmp.dir, 'daemon.sock');
  let daemon: CliProcess;
  let connection: MessageConnection;
  let prometheus: PrometheusServer | undefined;
  let base: string;
  let runId: string | undefined;

  before(async () => {
    daemon = startCli(['serve', '--socket', socketPath, '--out', path.join(tmp.dir, 'out'), '--metrics-port', '0'], { timeoutMs: 280_000 });
    base = await waitFor('the daemon to say where its metrics are', () => metricsUrls(daemon.stderr)[0], 30_000);
    await waitFor('the daemon socket', () => fs.existsSync(socketPath), 30_000);
    const socket = net.connect(socketPath);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
    connection.listen();
    await connection.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {}, initializationOptions: { out: path.join(tmp.dir, 'out'), metricsPort: 0 } });
    await connection.sendNotification('initialized', {});
  });

  after(async () => {
    await prometheus?.close();
    connection?.dispose();
    daemon?.killGroup('SIGTERM');
    await daemon?.done.catch((err: Error) => console.error(`the daemon did not stop: ${err.message}`));
    if (runId) await removeContainersOfRun(runId);
    tmp.cleanup();
  });

  test('Prometheus sees attempts running during a gold run and every finished attempt after it; /health agrees', async () => {
    const url = new URL(base);
    assert.equal(url.hostname, '127.0.0.1', 'bound to this machine only by default');
    let h = await health(base);
    assert.deepEqual({ status: h.status, runs_active: h.runs_active }, { status: 'ok', runs_active: 0 });
    assert.match(h.version, /^\d+\.\d+\.\d+/);

    prometheus = await startPrometheus([url.host]);
    const p = prometheus;
    await waitFor('Prometheus to scrape the daemon', () => p.targetsUp(), 30_000, 200);

    const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
    const tasks = 8;
    sleepTasks(tasksFile, tasks, 4);
    ({ runId } = await within(connection.sendRequest(RunStartRequest.type, { options: { tasksFile, model: 'gold', workers: 4, out: path.join(tmp.dir, 'out') } }), 15_000, 'trajlab/run/start'));

    const running = await waitFor(
      'Prometheus to see trajlab_attempts_running > 0',
      async () => {
        const [s] = await p.query('sum(trajlab_attempts_running{job="trajlab"})');
        return s && s.value > 0 ? s.value : undefined;
      },
      60_000,
      250,
    );
    assert.ok(running >= 1 && running <= 4, `attempts running ${running}, workers 4`);
    h = await health(base);
    assert.equal(h.runs_active, 1, 'the run is active while it runs');

    const get = () => connection.sendRequest(RunGetRequest.type, { runId: runId!, out: path.join(tmp.dir, 'out') });
    const final = await waitFor('the run to finish', async () => {
      const r = await get();
      return r && r.run.status !== 'running' ? r : undefined;
    }, 180_000, 250);
    const info = final.run;
    assert.equal(info.status, 'finished');
    const finished = info.counts.done + info.counts.failed;
    assert.equal(finished, tasks);

    const total = await waitFor(
      `Prometheus to see trajlab_attempts_total = ${finished}`,
      async () => {
        const [s] = await p.query('sum(trajlab_attempts_total{job="trajlab"})');
        return s?.value === finished ? s.value : undefined;
      },
      15_000,
      250,
    );
    assert.equal(total, finished);
    const byStatus = await p.query('sum by (exit_status) (trajlab_attempts_total)');
    assert.deepEqual(
      byStatus.map((s) => [s.metric.exit_status, s.value]),
      [['submitted', tasks]],
    );
    const [queued] = await p.query('trajlab_attempts_queued');
    assert.equal(queued?.value, 0);
    const [starts] = await p.query('sum(trajlab_container_start_seconds_count)');
    assert.equal(starts?.value, tasks, 'one container start observed per attempt');
    const [mean] = await p.query('sum(trajlab_attempt_duration_seconds_sum) / sum(trajlab_attempt_duration_seconds_count)');
    assert.ok(mean && mean.value >= 4 && mean.value <= 60, `mean attempt ${mean?.value} s for a 4 s sleep`);
    // histogram_quantile interpolates inside the bucket holding the median: (1 s, 5 s] for a 4 s sleep on a machine this quiet, (5, 15] otherwise.
    const [median] = await p.query('histogram_quantile(0.5, sum by (le) (trajlab_attempt_duration_seconds_bucket))');
    assert.ok(median && median.value > 1 && median.value <= 15, `median attempt ${median?.value} s`);
    const [steps] = await p.query('sum(trajlab_step_duration_seconds_count)');
    const stepsRecorded = final.attempts.reduce((n, a) => n + (a.state.kind === 'finished' ? a.state.steps : 0), 0);
    assert.equal(steps?.value, stepsRecorded, 'every step of the trajectories observed once');
    h = await health(base);
    assert.equal(h.runs_active, 0);
    assert.equal(h.status, 'ok');
  });

  test("every expr of the Grafana dashboard is valid PromQL for this Prometheus, and the run's panels have data", async () => {
    assert.ok(prometheus, 'the scrape test ran first');
    const exprs = dashboardExprs(readDashboard());
    const empty: string[] = [];
    for (const { title, expr } of exprs) {
      const result = await prometheus.query(concreteExpr(expr)).catch((err: Error) => assert.fail(`panel "${title}": ${expr}: ${err.message}`));
      if (!result.length) empty.push(title);
    }
    // Series a gold run on one host never creates: pool hosts, Docker errors, the model API.
    const runPanels = ['Attempts running per host', 'Attempts queued', 'Attempts finished by exit status', 'Container start per host', 'Runs active', 'CPU', 'Memory'];
    for (const title of runPanels) assert.ok(!empty.includes(title), `panel "${title}" has no data after the run`);
  });

  test('the daemon moves its endpoint when trajlab.metrics.port changes, and goes back to --metrics-port at 0', async () => {
    const port = await freePort();
    await connection.sendNotification('workspace/didChangeConfiguration', { settings: { trajlab: { metricsPort: port } } });
    const moved = `http://127.0.0.1:${port}`;
    await waitFor('the endpoint on the new port', () => answers(moved), 10_000, 100);
    assert.equal(await answers(base), false, 'the old endpoint is closed');
    assert.equal((await health(moved)).status, 'ok');

    // A port that is taken: the daemon says so and keeps running.
    const squatter = http.createServer();
    const taken = await freePort();
    await new Promise<void>((resolve) => squatter.listen(taken, '127.0.0.1', resolve));
    try {
      await connection.sendNotification('workspace/didChangeConfiguration', { settings: { trajlab: { metricsPort: taken } } });
      await waitFor('the daemon to report the taken port', () => daemon.stderr.includes(`metrics port ${taken} on 127.0.0.1 is already in use`), 10_000, 100);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }

    const before = metricsUrls(daemon.stderr).length;
    await connection.sendNotification('workspace/didChangeConfiguration', { settings: { trajlab: { metricsPort: 0 } } });
    const back = await waitFor('the endpoint back on --metrics-port (0: a new free port)', () => metricsUrls(daemon.stderr).slice(before)[0], 10_000, 100);
    assert.equal((await health(back)).status, 'ok');
    assert.equal(await answers(moved), false);
  });
});

test('trajlab generate --metrics-port fails at once, saying so, when the port is taken', { timeout: 60_000 }, async () => {
  const tmp = tempDir('metrics-cli');
  const squatter = http.createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  const port = (squatter.address() as net.AddressInfo).port;
  try {
    const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
    sleepTasks(tasksFile, 1, 0);
    const r = await startCli(['generate', tasksFile, '--model', 'gold', '--out', path.join(tmp.dir, 'out'), '--metrics-port', String(port), '--no-progress']).done;
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`metrics port ${port} on 127\\.0\\.0\\.1 is already in use: choose another --metrics-port`));
    const bad = await startCli(['generate', tasksFile, '--metrics-port', '70000']).done;
    assert.match(bad.stderr, /--metrics-port must be a port 0–65535 \(got "70000"\)/);
  } finally {
    await new Promise((resolve) => squatter.close(resolve));
    tmp.cleanup();
  }
});

test('model metrics with the real openai SDK against the scripted model server: requests by status, 429s, retries, tokens', { timeout: 60_000 }, async () => {
  const value = async (metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }, labels: Record<string, string> = {}) =>
    (await metric.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
  const snapshot = async () => ({
    ok: await value(modelRequests, { status: '200' }),
    limited: await value(modelRequests, { status: '429' }),
    error: await value(modelRequests, { status: 'error' }),
    rateLimited: await value(modelRateLimited),
    retries: await value(modelRetries),
    prompt: await value(promptTokens),
    completion: await value(completionTokens),
  });
  // Each conversation's first request is answered 429 (retry after 20 ms), its retry 200.
  const server = await startScriptedModelServer({
    respond: (ctx) => (ctx.callIndex % 2 === 0 ? errorReply(429, { retryAfterMs: 20 }) : textReply('done', { usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 } })),
  });
  const spec = parseModelSpec('openai:scripted') as Extract<ReturnType<typeof parseModelSpec>, { kind: 'api' }>;
  const start = await snapshot();
  try {
    const model = createApiModel(spec, { baseUrl: server.baseUrl, env: { OPENAI_API_KEY: 'sk-test' } });
    for (let i = 0; i < 3; i++) await model.complete([{ role: 'user', content: `question ${i}` }], undefined, new AbortController().signal);
  } finally {
    await server.close();
  }
  // No server at all: the SDK tries twice (maxRetries 1), both without a response.
  const gone = createApiModel(spec, { baseUrl: server.baseUrl, env: { OPENAI_API_KEY: 'sk-test' }, maxRetries: 1 });
  await assert.rejects(gone.complete([{ role: 'user', content: 'anyone?' }], undefined, new AbortController().signal));
  const end = await snapshot();
  assert.equal(server.requests.length, 6);
  assert.deepEqual(
    {
      ok: end.ok - start.ok,
      limited: end.limited - start.limited,
      error: end.error - start.error,
      rateLimited: end.rateLimited - start.rateLimited,
      retries: end.retries - start.retries,
      prompt: end.prompt - start.prompt,
      completion: end.completion - start.completion,
    },
    { ok: 3, limited: 3, error: 2, rateLimited: 3, retries: 3 + 1, prompt: server.usageTotals().prompt_tokens, completion: server.usageTotals().completion_tokens },
  );
  assert.equal(server.usageTotals().prompt_tokens, 33);
});
