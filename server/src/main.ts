/**
 * The daemon's entry: a language server (vscode-languageserver) on stdio or on a unix socket.
 * This file only wires connections: each one gets the tasks.jsonl language (`language/`) and
 * the `trajlab/*` handlers (`daemon/*Handlers.ts`: runs, hosts, history, tasks, trajectories,
 * datasets) over the daemon's one run manager; the work lives in `run/`,
 * `store/` and the other folders. Protocol: common/src/protocol.ts.
 */
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as path from 'node:path';
import { format } from 'node:util';
import { createConnection as createServerConnection, type WatchDog } from 'vscode-languageserver/lib/common/server';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type Connection,
  type InitializeResult,
  type MessageReader,
  type MessageWriter,
} from 'vscode-languageserver/node';
import { RunProgressNotification, TaskUpdateNotification } from '../../common/src/protocol';
import { ClientSet } from './daemon/clients';
import { registerDatasetHandlers } from './daemon/datasetHandlers';
import { registerHistoryHandlers } from './daemon/historyHandlers';
import { registerHostHandlers } from './daemon/hostHandlers';
import { registerRunHandlers } from './daemon/runHandlers';
import { RunManager } from './daemon/runManager';
import { registerTasksHandlers } from './daemon/tasksHandlers';
import { registerTrajectoryHandlers } from './daemon/trajectoryHandlers';
import { listenOnUnixSocket } from './daemon/unixSocket';
import { MetricsEndpoint, metricsPortSetting } from './metrics/server';
import { createTasksLanguageShared, registerTasksLanguage, type TasksLanguage, type TasksLanguageShared } from './language/tasksLanguage';
import { RUN_DEFAULTS } from './run/engine';
import { stderrLogger, type Logger } from './util/log';
import { processAlive } from './util/process';
import { TRAJLAB_VERSION } from './version';

export interface ServeOptions {
  /** Serve one client on stdin/stdout; the daemon exits when that client goes. */
  stdio?: boolean;
  /** Listen on this unix socket path; any number of clients, runs outlive them. */
  socket?: string;
  /** Output root for runs whose request names none (default `trajlab`, from the working directory). */
  out?: string;
  /** Also receives every log line (default: stderr with `socket`, nothing more with `stdio`). */
  logger?: Logger;
  /**
   * With `socket`: exit once the daemon has had no client and no running run for this many
   * seconds (the extension spawns its detached daemon with it, so none lingers forever).
   */
  idleExitSec?: number;
  /**
   * Serve `/metrics` and `/health` on this port (0: a free one, logged); the clients' setting
   * `trajlab.metrics.port` moves it while set (see followMetricsSetting). Default: off.
   */
  metricsPort?: number;
  /** Address of the metrics endpoint (default 127.0.0.1: this machine only). */
  metricsHost?: string;
}

/** Time a stopping daemon waits for cancelled runs to remove their containers, ms. */
const SHUTDOWN_GRACE_MS = 30_000;

interface Daemon {
  manager: RunManager;
  clients: ClientSet;
  /** The tasks.jsonl language of each connected client (told when a run ends). */
  languages: Set<TasksLanguage>;
  logger: Logger;
  /** The tasks.jsonl language's caches (runs on disk, Docker images…), shared by the connections. */
  language: TasksLanguageShared;
}

/**
 * Starts the TrajLab daemon: exactly one of `stdio` (one client on stdin/stdout) or `socket`
 * (a unix socket path; a stale socket file is removed, the socket is made 0600, each client
 * gets its own LSP connection to the same runs). Resolves once the daemon is listening; the
 * process then lives as long as the transport does. The first SIGINT / SIGTERM cancels the
 * runs, waits for their containers to be removed and exits; a second one exits at once.
 * Errors: neither or both transports; the socket path is in use by a live daemon or is not
 * a socket.
 */
export async function serve(options: ServeOptions): Promise<void> {
  if (!!options.stdio === !!options.socket) throw new Error('serve needs exactly one of --stdio or --socket PATH');
  const languages = new Set<TasksLanguage>();
  const clients = new ClientSet(options.logger ?? (options.socket ? stderrLogger : undefined));
  const logger = clients.logger;
  const manager = new RunManager({
    out: path.resolve(options.out ?? RUN_DEFAULTS.out),
    logger,
    onProgress: (p) => {
      clients.notify(RunProgressNotification, p);
      if (p.status !== 'running') for (const l of languages) l.runEnded();
    },
    onTaskUpdate: (p) => clients.notify(TaskUpdateNotification, p),
    onRunError: (_runId, message) => clients.showError(message),
  });
  const daemon: Daemon = { manager, clients, logger, languages, language: createTasksLanguageShared(path.resolve(options.out ?? RUN_DEFAULTS.out), logger) };
  const metrics = new MetricsEndpoint(logger, (message) => {
    logger.error(message);
    clients.showError(`TrajLab: ${message}`);
  });
  if (options.metricsPort !== undefined) {
    const failed = await metrics.configure(options.metricsPort, options.metricsHost);
    if (failed) throw new Error(failed);
  }
  daemon.language.onSettings = (raw) => followMetricsSetting(raw, metrics, options);

  let server: net.Server | undefined;
  let stopping = false;
  const stop = async (code: number, why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const active = manager.activeRunIds.length;
    logger.info(`daemon stopping (${why})${active ? `: cancelling ${active} run(s) and removing their containers` : ''}`);
    server?.close();
    await metrics.close();
    await manager.dispose(SHUTDOWN_GRACE_MS).catch((err: Error) => logger.error(`while stopping: ${err.message}`));
    if (options.socket) fs.rmSync(path.resolve(options.socket), { force: true });
    process.exit(code);
  };
  installProcessHandlers(logger, stop);

  if (options.stdio) {
    redirectConsole(logger);
    const reader = new StreamMessageReader(process.stdin);
    const writer = new StreamMessageWriter(process.stdout);
    const watchDog: WatchDog = {
      shutdownReceived: false,
      initialize: (params) => {
        // The window that spawned this daemon died without saying goodbye: stop with it.
        if (typeof params.processId === 'number') watchProcess(params.processId, () => void stop(1, `client process ${params.processId} is gone`));
      },
      exit: (code) => void stop(code, 'the client sent exit'),
    };
    const connection = openConnection(reader, writer, watchDog);
    reader.onClose(() => void stop(watchDog.shutdownReceived ? 0 : 1, 'stdin closed'));
    clients.add(connection);
    registerHandlers(connection, daemon);
    connection.listen();
    logger.info(`TrajLab daemon ${TRAJLAB_VERSION} on stdio (pid ${process.pid})`);
    return;
  }

  const socketPath = path.resolve(options.socket!);
  server = await listenOnUnixSocket(socketPath, (socket) => attachSocketClient(socket, daemon));
  logger.info(`TrajLab daemon ${TRAJLAB_VERSION} listening on ${socketPath} (pid ${process.pid})`);
  if (options.idleExitSec) exitWhenIdle(daemon, options.idleExitSec * 1000, () => void stop(0, `idle for ${options.idleExitSec} s`));
}

/**
 * A client's settings arrived (`raw`: initializationOptions or didChangeConfiguration): its
 * `trajlab.metrics.port` (DaemonSettings.metricsPort), when above 0, is where the daemon serves
 * metrics from now on; 0 gives the endpoint back to `--metrics-port` (off without it). With
 * several clients, the last one that sent its settings wins. Settings without the field change nothing.
 */
function followMetricsSetting(raw: unknown, metrics: MetricsEndpoint, options: ServeOptions): void {
  const port = metricsPortSetting(raw);
  if (port === undefined) return;
  void metrics.configure(port > 0 ? port : options.metricsPort, options.metricsHost);
}

/** Calls `onIdle` once the daemon has had no client and no running run for `idleMs`. */
function exitWhenIdle(d: Daemon, idleMs: number, onIdle: () => void): void {
  let idleSince = performance.now();
  const timer = setInterval(() => {
    if (d.clients.size > 0 || d.manager.activeRunIds.length > 0) {
      idleSince = performance.now();
    } else if (performance.now() - idleSince >= idleMs) {
      clearInterval(timer);
      onIdle();
    }
  }, Math.min(5000, Math.max(100, idleMs / 4)));
  timer.unref();
}

/** One LSP connection over a reader/writer pair, with our own process policy (`watchDog`). */
function openConnection(reader: MessageReader, writer: MessageWriter, watchDog: WatchDog): Connection {
  return createServerConnection((logger) => createProtocolConnection(reader, writer, logger), watchDog);
}

/**
 * A client on the unix socket. Its `shutdown` / `exit` and its process id only end this
 * connection, never the daemon: runs outlive the window.
 */
function attachSocketClient(socket: net.Socket, d: Daemon): void {
  const reader = new StreamMessageReader(socket);
  const writer = new StreamMessageWriter(socket);
  const connection = openConnection(reader, writer, {
    shutdownReceived: false,
    initialize: () => {},
    exit: () => socket.end(),
  });
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    d.clients.delete(connection);
    connection.dispose();
  };
  socket.on('close', close);
  socket.on('error', (err) => d.logger.warn(`client connection: ${err.message}`));
  d.clients.add(connection);
  const language = registerHandlers(connection, d);
  socket.on('close', () => d.languages.delete(language));
  connection.listen();
}

/** The handlers of one connection: initialize, the tasks.jsonl language and the `trajlab/*` requests. */
function registerHandlers(connection: Connection, d: Daemon): TasksLanguage {
  const tasksLanguage = registerTasksLanguage(connection, d.language);
  d.languages.add(tasksLanguage);
  connection.onInitialize(
    (params): InitializeResult => ({
      capabilities: tasksLanguage.initialize(params),
      serverInfo: { name: 'trajlab', version: TRAJLAB_VERSION },
    }),
  );
  connection.onInitialized(() => d.clients.markReady(connection));
  // Nothing to release at shutdown: runs outlive the connection, and `exit` ends it (watchDog).
  connection.onShutdown(() => undefined);
  registerTrajectoryHandlers(connection, d.logger);
  registerDatasetHandlers(connection, d.logger);
  registerRunHandlers(connection, d.manager);
  registerHostHandlers(connection, d.manager);
  registerHistoryHandlers(connection, d.language);
  registerTasksHandlers(connection);
  return tasksLanguage;
}

/** Calls `onGone` once process `pid` no longer exists (checked every 3 s). */
function watchProcess(pid: number, onGone: () => void): void {
  const timer = setInterval(() => {
    if (processAlive(pid)) return;
    clearInterval(timer);
    onGone();
  }, 3000);
  timer.unref();
}

/** Signals stop the daemon gracefully (twice: at once); stray rejections are logged, not fatal. */
function installProcessHandlers(logger: Logger, stop: (code: number, why: string) => Promise<void>): void {
  let signalled = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) process.exit(sig === 'SIGINT' ? 130 : 143);
    signalled = true;
    void stop(0, sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('unhandledRejection', (reason) => logger.error(`unhandled rejection: ${reason instanceof Error ? reason.stack ?? reason.message : String(reason)}`));
}

/** On stdio, stdout carries the protocol: console output from any module goes to the log instead. */
function redirectConsole(logger: Logger): void {
  console.log = (...args: unknown[]) => logger.info(format(...args));
  console.info = console.log;
  console.debug = console.log;
  console.warn = (...args: unknown[]) => logger.warn(format(...args));
  console.error = (...args: unknown[]) => logger.error(format(...args));
}
