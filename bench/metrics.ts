/**
 * `npm run bench -- metrics`: how long a Prometheus scrape of `/metrics` takes while the
 * process drives a busy run, against a scrape of the same endpoint before the run (same
 * process, same registry). The run: 500 gold attempts whose action is `true` (eval `true`),
 * 8 workers, on the local Docker engine; the endpoint is scraped every 100 ms from the moment
 * an attempt runs until the run ends, as Prometheus would (GET /metrics over a kept-alive
 * connection, the whole body read). Target: median < 20 ms during the run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { attemptsRunning } from '../server/src/metrics/metrics';
import { startMetricsServer } from '../server/src/metrics/server';
import { RunEngine } from '../server/src/run/engine';
import { quantile } from '../server/src/stats/stats';
import { silentLogger } from '../server/src/util/log';

const ATTEMPTS = 500;
const WORKERS = 8;
const TARGET_MS = 20;

/** Quantile `q` of the timings, ms (numpy's default interpolation). */
function q(xs: number[], at: number): number {
  return quantile(Float64Array.from(xs).sort(), at)!;
}

/** One scrape: GET /metrics and the whole body, ms. Errors: a status other than 200. */
async function scrape(url: string): Promise<{ ms: number; bytes: number }> {
  const t = performance.now();
  const res = await fetch(url);
  const body = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return { ms: performance.now() - t, bytes: body.length };
}

async function running(): Promise<number> {
  return (await attemptsRunning.get()).values.reduce((n, v) => n + v.value, 0);
}

/** The benchmark (see the file comment); prints the figures and PASS / MISS. */
export async function metricsBench(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-bench-metrics-'));
  const server = await startMetricsServer({ port: 0 });
  const url = `${server.url}/metrics`;
  try {
    const file = path.join(dir, 'tasks.jsonl');
    const lines = Array.from({ length: ATTEMPTS }, (_, i) => JSON.stringify({ task_id: `true-${i}`, description: 'true', solution: { commands: ['true'] }, eval: ['true'] }));
    fs.writeFileSync(file, lines.join('\n') + '\n');

    // Before the run: warm up (JIT, the connection), then 50 scrapes of an idle process.
    for (let i = 0; i < 10; i++) await scrape(url);
    const idle: number[] = [];
    for (let i = 0; i < 50; i++) idle.push((await scrape(url)).ms);

    const engine = new RunEngine({ tasksFile: file, model: 'gold', out: path.join(dir, 'out'), workers: WORKERS }, { logger: silentLogger });
    const started = performance.now();
    let done = false;
    const run = engine.run().finally(() => (done = true));
    const busy: number[] = [];
    let bytes = 0;
    while (!done) {
      if ((await running()) > 0) {
        const s = await scrape(url);
        busy.push(s.ms);
        bytes = s.bytes;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const report = await run;
    const seconds = (performance.now() - started) / 1000;
    if (report.total !== ATTEMPTS || report.resolved !== ATTEMPTS) throw new Error(`only ${report.resolved}/${report.total} of ${ATTEMPTS} attempts resolved`);
    if (!busy.length) throw new Error('no scrape happened while attempts ran');

    const before = q(idle, 0.5);
    const during = q(busy, 0.5);
    console.log(`metrics: /metrics before the run: median ${before.toFixed(2)} ms (${idle.length} scrapes)`);
    console.log(`metrics: during a ${ATTEMPTS}-attempt run (--workers ${WORKERS}, ${seconds.toFixed(1)} s): median ${during.toFixed(2)} ms, p95 ${q(busy, 0.95).toFixed(2)} ms, max ${Math.max(...busy).toFixed(2)} ms (${busy.length} scrapes, ${(bytes / 1024).toFixed(1)} KiB)`);
    console.log(`metrics: scrape during the run ${(during / before).toFixed(1)}× the idle scrape; median ${during.toFixed(2)} ms (target < ${TARGET_MS} ms) ${during < TARGET_MS ? 'PASS' : 'MISS'}`);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
