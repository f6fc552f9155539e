/**
 * `--metrics-port N` and `--metrics-host ADDR` of `trajlab generate` and `trajlab serve`: the
 * `/metrics` and `/health` endpoint (metrics/server.ts), off unless the port is given.
 */
import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_METRICS_HOST, startMetricsServer, type MetricsServer } from '../metrics/server';

/** The parsed flags (commander's attribute names). */
export interface MetricsFlags {
  metricsPort?: number;
  metricsHost: string;
}

/** A TCP port 0–65535. Errors: InvalidArgumentError naming the flag and the value. */
function port(name: string): (value: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`${name} must be a port 0–65535 (got "${v}")`);
    return n;
  };
}

/** The two options, for `command.addOption`. */
export function metricsOptions(): Option[] {
  return [
    new Option('--metrics-port <n>', 'serve Prometheus /metrics and JSON /health on this port (0: a free port, printed); default: off').argParser(port('--metrics-port')),
    new Option('--metrics-host <addr>', 'address the metrics endpoint binds to (0.0.0.0: every interface)').default(DEFAULT_METRICS_HOST),
  ];
}

/**
 * Runs `work` with the metrics endpoint on while `--metrics-port` is given (its URL printed on
 * stderr), and closes it after. Errors: the port is taken (before `work` starts), or `work`'s.
 */
export async function withMetricsEndpoint<T>(flags: MetricsFlags, work: () => Promise<T>): Promise<T> {
  let server: MetricsServer | undefined;
  if (flags.metricsPort !== undefined) {
    server = await startMetricsServer({ port: flags.metricsPort, host: flags.metricsHost });
    process.stderr.write(`trajlab: metrics on ${server.url}/metrics, health on ${server.url}/health\n`);
  }
  try {
    return await work();
  } finally {
    await server?.close();
  }
}
