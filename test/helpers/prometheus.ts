/**
 * A real Prometheus server for the metrics tests (Debian's `prometheus` package, installed by
 * scripts/ensure-prometheus.sh): started by the test with its own storage folder, a free web
 * port on 127.0.0.1 and a scrape config for the given targets every second; queried through its
 * HTTP API (https://prometheus.io/docs/prometheus/latest/querying/api/).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { waitFor } from './engineHelpers';

export const PROMETHEUS_BIN = process.env.TRAJLAB_PROMETHEUS ?? '/usr/bin/prometheus';

/** Why Prometheus cannot run here (the test is skipped, saying so), or null. */
export function prometheusUnavailable(): string | null {
  return fs.existsSync(PROMETHEUS_BIN) ? null : `${PROMETHEUS_BIN} is missing (scripts/ensure-prometheus.sh installs Debian's prometheus package)`;
}

/** One sample of an instant query: its labels and value. */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface PrometheusServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Instant query; rejects when Prometheus answers an error (a bad expression). */
  query(expr: string): Promise<Sample[]>;
  /** Whether every scrape target is up (its last scrape succeeded). */
  targetsUp(): Promise<boolean>;
  /** Prometheus' log so far (stderr). */
  readonly log: string;
  /** Stops it (SIGTERM, SIGKILL after 10 s) and removes its folder. */
  close(): Promise<void>;
}

/** A port that was free a moment ago (a listener on port 0, closed). */
export async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/**
 * Starts Prometheus scraping `targets` (`host:port`, path /metrics) every second as job
 * `trajlab`, and resolves once its API answers. Errors: it exited or did not answer in 30 s
 * (the message holds its log).
 */
export async function startPrometheus(targets: string[]): Promise<PrometheusServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-prometheus-'));
  const config = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: trajlab',
      '    static_configs:',
      `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (log += c));
  let exited = false;
  const gone = new Promise<void>((resolve) => child.on('exit', () => ((exited = true), resolve())));

  const api = async (p: string): Promise<unknown> => {
    const res = await fetch(url + p);
    const body = (await res.json()) as { status: string; data?: unknown; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${p}: ${body.error ?? res.status}`);
    return body.data;
  };
  const close = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      'Prometheus to answer',
      async () => {
        if (exited) throw new Error(`prometheus exited:\n${log}`);
        const ready = await fetch(`${url}/-/ready`).catch(() => undefined);
        return ready?.ok;
      },
      30_000,
      100,
    );
  } catch (err) {
    await close();
    throw new Error(`${(err as Error).message}\n${log}`);
  }
  return {
    url,
    get log() {
      return log;
    },
    async query(expr) {
      const data = (await api(`/api/v1/query?query=${encodeURIComponent(expr)}`)) as { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] | [number, string] };
      if (data.resultType === 'scalar') return [{ metric: {}, value: Number((data.result as [number, string])[1]) }];
      return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    async targetsUp() {
      const data = (await api('/api/v1/targets')) as { activeTargets: { health: string }[] };
      return data.activeTargets.length === targets.length && data.activeTargets.every((t) => t.health === 'up');
    },
    close,
  };
}
