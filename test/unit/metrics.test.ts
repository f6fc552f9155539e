/**
 * The metrics endpoint (server/src/metrics/server.ts) on real sockets, the run engine's metric
 * calls (runMetrics.ts), the model client's request counting (countingFetch) and the Grafana
 * dashboard of examples/ against the registry, so that neither can drift from the other.
 */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import { test } from 'node:test';
import { countingFetch } from '../../server/src/agent/model';
import { attemptsQueued, attemptsRunning, attemptsTotal, hostUp, modelRateLimited, modelRequests, modelRetries, registry, runsActive } from '../../server/src/metrics/metrics';
import * as runMetrics from '../../server/src/metrics/runMetrics';
import { MetricsEndpoint, metricsPortSetting, startMetricsServer } from '../../server/src/metrics/server';
import { silentLogger } from '../../server/src/util/log';
import { TRAJLAB_VERSION } from '../../server/src/version';
import { dashboardExprs, readDashboard } from '../helpers/grafanaDashboard';
import { freePort } from '../helpers/prometheus';

async function get(url: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url, { method });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

async function value(metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> }, labels: Record<string, string> = {}): Promise<number> {
  const v = (await metric.get()).values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
  return v?.value ?? 0;
}

test('/metrics answers the Prometheus text format with the content type prom-client gives, on 127.0.0.1 by default', async () => {
  const server = await startMetricsServer({ port: 0 });
  try {
    assert.equal(server.host, '127.0.0.1');
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await get(`${server.url}/metrics`);
    assert.equal(r.status, 200);
    assert.equal(r.type, registry.contentType);
    assert.match(r.body, /^# HELP trajlab_attempts_running Attempts running now\.$/m);
    assert.match(r.body, /^# TYPE trajlab_attempt_duration_seconds histogram$/m);
    assert.match(r.body, /^process_cpu_user_seconds_total \d/m, 'default process metrics');
    assert.equal((await get(`${server.url}/nope`)).status, 404);
    assert.equal((await get(`${server.url}/metrics`, 'POST')).status, 405);
  } finally {
    await server.close();
  }
});

test('/health reports version, uptime, runs active and the hosts up and down from trajlab_host_up', async () => {
  const server = await startMetricsServer({ port: 0 });
  try {
    let h = JSON.parse((await get(`${server.url}/health`)).body);
    assert.equal(h.status, 'ok');
    assert.equal(h.version, TRAJLAB_VERSION);
    assert.ok(Number.isInteger(h.uptime_s) && h.uptime_s >= 0);
    assert.deepEqual(h.hosts, { up: [], down: [] });
    hostUp.set({ host: 'gpu-b' }, 1);
    hostUp.set({ host: 'gpu-a' }, 1);
    hostUp.set({ host: 'gpu-c' }, 0);
    runsActive.inc();
    h = JSON.parse((await get(`${server.url}/health`)).body);
    assert.equal(h.status, 'degraded');
    assert.deepEqual(h.hosts, { up: ['gpu-a', 'gpu-b'], down: ['gpu-c'] });
    assert.equal(h.runs_active, 1);
  } finally {
    hostUp.reset();
    runsActive.reset();
    await server.close();
  }
});

test('a taken metrics port fails with a message naming the port and what to do', async () => {
  const first = await startMetricsServer({ port: 0 });
  try {
    await assert.rejects(startMetricsServer({ port: first.port }), new RegExp(`metrics port ${first.port} on 127\\.0\\.0\\.1 is already in use: choose another --metrics-port`));
    await assert.rejects(startMetricsServer({ port: 0, host: '10.255.255.254' }), /metrics address 10\.255\.255\.254 is not an address of this machine/);
  } finally {
    await first.close();
  }
});

test('MetricsEndpoint starts, moves and stops as the setting changes, and reports a taken port', async () => {
  const errors: string[] = [];
  const endpoint = new MetricsEndpoint(silentLogger, (m) => errors.push(m));
  const [a, b] = [await freePort(), await freePort()];
  assert.equal(await endpoint.configure(a), undefined);
  assert.equal((await get(`http://127.0.0.1:${a}/metrics`)).status, 200);
  await endpoint.configure(a); // unchanged: nothing happens
  assert.equal(endpoint.current?.port, a);
  await endpoint.configure(b);
  assert.equal((await get(`http://127.0.0.1:${b}/health`)).status, 200);
  await assert.rejects(get(`http://127.0.0.1:${a}/metrics`), 'the old port is closed');
  await endpoint.configure(undefined);
  assert.equal(endpoint.current, undefined);
  await assert.rejects(get(`http://127.0.0.1:${b}/metrics`));

  const squatter = await startMetricsServer({ port: 0 });
  try {
    const failed = await endpoint.configure(squatter.port);
    assert.match(failed ?? '', /already in use/);
    assert.deepEqual(errors, [failed]);
    assert.equal(endpoint.current, undefined);
  } finally {
    await squatter.close();
  }
  // The same port once freed: tried again.
  assert.equal(await endpoint.configure(squatter.port), undefined);
  await endpoint.close();
});

test('metricsPortSetting reads DaemonSettings.metricsPort from initializationOptions and didChangeConfiguration shapes', () => {
  assert.equal(metricsPortSetting({ metricsPort: 9464 }), 9464);
  assert.equal(metricsPortSetting({ trajlab: { metricsPort: 0 } }), 0);
  assert.equal(metricsPortSetting({ trajlab: { out: '/x' } }), undefined);
  assert.equal(metricsPortSetting({ metricsPort: '9464' }), undefined);
  assert.equal(metricsPortSetting({ metricsPort: 70000 }), undefined);
  assert.equal(metricsPortSetting(null), undefined);
});

test('runMetrics: queued, running per host, finished by exit status, and attempts left queued by a cancelled run', async () => {
  const before = await value(attemptsTotal, { exit_status: 'submitted' });
  runMetrics.runStarted();
  runMetrics.attemptsQueuedAdded(3);
  runMetrics.attemptDequeued('h1');
  runMetrics.attemptDequeued(); // finished by an earlier process
  assert.equal(await value(attemptsQueued), 1);
  assert.equal(await value(attemptsRunning, { host: 'h1' }), 1);
  runMetrics.attemptEnded('h1', 'submitted', 2.5);
  assert.equal(await value(attemptsRunning, { host: 'h1' }), 0);
  assert.equal(await value(attemptsTotal, { exit_status: 'submitted' }), before + 1);
  runMetrics.runEnded(1);
  assert.equal(await value(attemptsQueued), 0);
  assert.equal(await value(runsActive), 0);
});

test('countingFetch counts requests by status, 429s, retries (X-Stainless-Retry-Count) and requests with no response', async () => {
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === '/busy' ? 429 : 200).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const counting = countingFetch();
  const [ok, busy, errors, limited, retries] = [await value(modelRequests, { status: '200' }), await value(modelRequests, { status: '429' }), await value(modelRequests, { status: 'error' }), await value(modelRateLimited), await value(modelRetries)];
  try {
    await counting(`${base}/busy`, { headers: { 'X-Stainless-Retry-Count': '0' } });
    await counting(`${base}/ok`, { headers: new Headers({ 'X-Stainless-Retry-Count': '1' }) });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  await assert.rejects(counting(`${base}/gone`));
  assert.equal(await value(modelRequests, { status: '200' }), ok + 1);
  assert.equal(await value(modelRequests, { status: '429' }), busy + 1);
  assert.equal(await value(modelRequests, { status: 'error' }), errors + 1);
  assert.equal(await value(modelRateLimited), limited + 1);
  assert.equal(await value(modelRetries), retries + 1);
});

test('the Grafana dashboard names only metrics the registry has, and shows every TrajLab metric', async () => {
  const dashboard = readDashboard();
  const exprs = dashboardExprs(dashboard);
  assert.ok(exprs.length >= 20, `${exprs.length} exprs`);
  const metrics = await registry.getMetricsAsJSON();
  // Histograms are queried through their _bucket / _sum / _count series.
  const series = new Set(metrics.flatMap((m) => (String(m.type) === 'histogram' ? [m.name, `${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name])));
  const named = new Set<string>();
  for (const { expr } of exprs) {
    // Metric names: identifiers followed by a selector `{` or a range `[`, or bare inside a call.
    for (const [, name] of expr.matchAll(/\b((?:trajlab|process|nodejs)_[a-z0-9_]+)\b/g)) {
      assert.ok(series.has(name!), `the dashboard's expr ${expr} names ${name}, which the registry does not have`);
      named.add(name!.replace(/_(bucket|sum|count)$/, ''));
    }
  }
  const missing = metrics.map((m) => m.name).filter((n) => n.startsWith('trajlab_') && !named.has(n));
  assert.deepEqual(missing, [], 'TrajLab metrics without a panel');
  for (const p of dashboard.panels) if (p.type !== 'row') assert.equal(p.datasource?.uid, '${DS_PROMETHEUS}', `${p.title}: the import's data source`);
});
