/**
 * The metrics and health endpoint of the CLI (`trajlab generate --metrics-port N`) and the
 * daemon (`trajlab serve --metrics-port N`, setting `trajlab.metrics.port`): a plain node:http
 * server, off unless asked for, bound to 127.0.0.1 unless another address is given.
 *
 * - `GET /metrics`: the process's registry (metrics.ts) in the Prometheus text exposition format
 *   (https://prometheus.io/docs/instrumenting/exposition_formats/), with prom-client's content type.
 * - `GET /health`: JSON `Health` (below).
 * Anything else is 404; a method other than GET or HEAD is 405.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../util/log';
import { TRAJLAB_VERSION } from '../version';
import { hostUp, registry, runsActive } from './metrics';

/** Address the endpoint binds to when none is given: this machine only. */
export const DEFAULT_METRICS_HOST = '127.0.0.1';

/** The body of `GET /health`. */
export interface Health {
  /** `ok`, or `degraded` while a Docker host of a running run is down. */
  status: 'ok' | 'degraded';
  /** TrajLab's version (TRAJLAB_VERSION). */
  version: string;
  /** Seconds since this process started. */
  uptime_s: number;
  /** Names of the Docker hosts of running runs that answer (`up`) and that do not (`down`), from `trajlab_host_up`. */
  hosts: { up: string[]; down: string[] };
  /** Runs in progress in this process (`trajlab_runs_active`). */
  runs_active: number;
}

/** The process's health now, read from the registry's gauges (see Health). */
export async function health(): Promise<Health> {
  const up: string[] = [];
  const down: string[] = [];
  for (const v of (await hostUp.get()).values) {
    const name = String(v.labels.host ?? '');
    (v.value > 0 ? up : down).push(name);
  }
  up.sort();
  down.sort();
  const runs = (await runsActive.get()).values[0]?.value ?? 0;
  return { status: down.length ? 'degraded' : 'ok', version: TRAJLAB_VERSION, uptime_s: Math.round(process.uptime()), hosts: { up, down }, runs_active: runs };
}

/** A listening metrics endpoint. */
export interface MetricsServer {
  /** The address it listens on (`127.0.0.1` unless told otherwise). */
  readonly host: string;
  /** The port it listens on (the one the OS chose when asked for port 0). */
  readonly port: number;
  /** `http://<host>:<port>`, IPv6 addresses bracketed. */
  readonly url: string;
  /** Stops listening and cuts open connections. */
  close(): Promise<void>;
}

/**
 * Starts the endpoint on `host:port` (`port` 0: a free port the OS picks; `host` default
 * 127.0.0.1). Errors: the port is taken or not allowed ("metrics port 9464 on 127.0.0.1 is
 * already in use: …"), an invalid address.
 */
export async function startMetricsServer(options: { port: number; host?: string; logger?: Logger }): Promise<MetricsServer> {
  const host = options.host || DEFAULT_METRICS_HOST;
  const server = http.createServer((req, res) => {
    void answer(req, res).catch((err: Error) => {
      options.logger?.error(`metrics endpoint: ${req.url}: ${err.message}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`error: ${err.message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, options.port, host)));
    server.listen(options.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    host,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Prometheus keeps its connection open between scrapes: closing must not wait for it.
        server.closeAllConnections();
      }),
  };
}

/** One request: `/metrics`, `/health`, or 404 / 405. */
async function answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    res.end('only GET and HEAD\n');
    return;
  }
  const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (pathname === '/metrics') {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(req.method === 'HEAD' ? undefined : body);
  } else if (pathname === '/health') {
    const body = JSON.stringify(await health());
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(req.method === 'HEAD' ? undefined : body);
  } else {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('TrajLab serves /metrics and /health\n');
  }
}

/** A listen failure, said so that a user can act on it. */
function listenError(err: NodeJS.ErrnoException, port: number, host: string): Error {
  switch (err.code) {
    case 'EADDRINUSE':
      return new Error(`metrics port ${port} on ${host} is already in use: choose another --metrics-port (or trajlab.metrics.port), or stop what listens there`);
    case 'EACCES':
      return new Error(`metrics port ${port} on ${host} is not allowed for this user: choose a port above 1023`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new Error(`metrics address ${host} is not an address of this machine: use 127.0.0.1, 0.0.0.0 or one of its interfaces' addresses`);
    default:
      return new Error(`metrics endpoint on ${host}:${port} could not listen: ${err.message}`);
  }
}

/**
 * The daemon's metrics endpoint, moved as its settings change: `configure` starts it, stops it
 * or moves it to a new port or address. Changes are applied one after another in the order
 * they were asked for. Failures (a taken port) are reported to `onError` and leave it off.
 */
export class MetricsEndpoint {
  private server: MetricsServer | undefined;
  private wanted: { port: number; host: string } | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly logger: Logger,
    private readonly onError: (message: string) => void = (m) => logger.error(m),
  ) {}

  /** Where it listens now, or undefined while off. */
  get current(): MetricsServer | undefined {
    return this.server;
  }

  /**
   * Serve on `port` (0: a free port the OS picks; undefined: off) and `host` (default
   * 127.0.0.1); asked for the same port and host again, it stays as it is. Resolves once the
   * change is applied, with undefined, or with the message of a failure (also given to
   * `onError`; the endpoint is then off); never rejects.
   */
  configure(port: number | undefined, host?: string): Promise<string | undefined> {
    const next = port !== undefined ? { port, host: host || DEFAULT_METRICS_HOST } : undefined;
    const applied = this.chain.then(() => this.apply(next));
    this.chain = applied.then(() => undefined);
    return applied;
  }

  /** Stops serving (the daemon is stopping). */
  async close(): Promise<void> {
    await this.configure(undefined);
  }

  private async apply(next: { port: number; host: string } | undefined): Promise<string | undefined> {
    if (next?.port === this.wanted?.port && next?.host === this.wanted?.host) return undefined;
    this.wanted = next;
    if (this.server) {
      const old = this.server;
      this.server = undefined;
      await old.close().catch((err: Error) => this.logger.warn(`closing the metrics endpoint ${old.url}: ${err.message}`));
      this.logger.info(`metrics endpoint ${old.url} closed`);
    }
    if (!next) return undefined;
    try {
      this.server = await startMetricsServer({ ...next, logger: this.logger });
      this.logger.info(`metrics on ${this.server.url}/metrics, health on ${this.server.url}/health`);
      return undefined;
    } catch (err) {
      // Asked again with the same port later (the user freed it), it tries again.
      this.wanted = undefined;
      const message = (err as Error).message;
      this.onError(message);
      return message;
    }
  }
}

/**
 * The metrics port a client's settings ask for (`raw`: initializationOptions, or the `settings`
 * of didChangeConfiguration, `{trajlab: DaemonSettings}`): its `metricsPort`, an integer
 * 1–65535; 0 means off; undefined when the settings say nothing about it or hold something
 * else (ignored, as mergeSettings does).
 */
export function metricsPortSetting(raw: unknown): number | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  const section = (r.trajlab && typeof r.trajlab === 'object' ? r.trajlab : r) as Record<string, unknown>;
  const port = section.metricsPort;
  return typeof port === 'number' && Number.isInteger(port) && port >= 0 && port <= 65535 ? port : undefined;
}
