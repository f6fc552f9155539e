/**
 * The extension's context (rust-analyzer's ctx.ts): owns the daemon connection, the log, the
 * runs projection, the API key store, and two disposal lists — one for the extension's lifetime
 * (`context.subscriptions`) and one for the current client's (cleared on every reconnect).
 * Everything that talks to the daemon goes through here.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  RunGetRequest,
  RunListRequest,
  RunPlanResumeRequest,
  RunProgressNotification,
  RunStartRequest,
  TaskUpdateNotification,
  type AttemptInfo,
} from '../../common/src/protocol';
import { Coalescer } from '../../common/src/coalesce';
import type { RunInfo, RunOptions } from '../../common/src/run';
import { PROVIDER_KEY_ENV, providerOf, type DockerHostSetting } from '../../common/src/settings';
import * as config from './config';
import { DaemonConnection, type DaemonState } from './daemon/connection';
import { RESTART_DAEMON, runDaemonAction, SHOW_LOG } from './daemon/daemonActions';
import { RunsState } from './model/runsState';
import { resumeOptions } from './runOptions';
import { ApiKeyStore } from './secrets';
import { testHooks, type ShownMessage } from './testHooks';

/** workspaceState key: ids of the runs this workspace started (newest last, bounded). */
const STARTED_RUNS_KEY = 'trajlab.startedRuns';
const STARTED_RUNS_MAX = 200;

/** Options of `Ctx.startRun`. */
export interface StartRunOptions {
  /** No progress notification (the status bar and views still follow the run). */
  quiet?: boolean;
  /** How the progress notification names the run. */
  title?: string;
  /** The `trajlab.dockerHosts` setting: the daemon caps the run's workers at its host's `maxConcurrent`. */
  dockerHosts?: DockerHostSetting[];
}

/** The extension's context (see the file comment); one per activation. */
export class Ctx implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly daemon: DaemonConnection;
  readonly runs = new RunsState();
  readonly keys: ApiKeyStore;

  private clientDisposables: vscode.Disposable[] = [];
  private readonly _onDidEndRun = new vscode.EventEmitter<RunInfo>();
  /** A run went from running to an end status (seen live or in a list answer). */
  readonly onDidEndRun = this._onDidEndRun.event;
  private readonly _onDidStartRun = new vscode.EventEmitter<{ runId: string; options: StartRunOptions }>();
  /** A run was started (or resumed) from this window. */
  readonly onDidStartRun = this._onDidStartRun.event;
  private readonly _onDidReattach = new vscode.EventEmitter<RunInfo[]>();
  /** After (re)connecting: the runs still running that this workspace started. */
  readonly onDidReattach = this._onDidReattach.event;

  private readonly listCoalescer: Coalescer;
  private firstLoad!: { promise: Promise<void>; resolve: () => void };
  /** Runs that were running when the daemon crashed and that this workspace started (the daemon decides which resume). */
  private toResumeAfterCrash = new Set<string>();
  private lastState: DaemonState['kind'] = 'stopped';

  constructor(readonly context: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('TrajLab', { log: true });
    this.daemon = new DaemonConnection(context, this.log);
    this.keys = new ApiKeyStore(context.secrets);
    this.listCoalescer = new Coalescer(500, () => void this.refreshRuns(), (err) => this.log.error(String(err)));
    this.resetFirstLoad();
    context.subscriptions.push(
      this,
      this.log,
      this.daemon,
      this._onDidEndRun,
      this._onDidStartRun,
      this._onDidReattach,
      this.daemon.onDidChangeState((s) => this.onDaemonState(s)),
    );
  }

  /** The workspace folder this window's daemon serves. */
  get folder(): vscode.WorkspaceFolder | undefined {
    return config.primaryFolder();
  }

  /** The absolute output root of the folder (runs live in `<out>/runs/<run_id>`). */
  get out(): string | undefined {
    const f = this.folder;
    return f && config.outputRoot(f);
  }

  /** Resolves once the first run list after activation (or a restart) is in, or starting failed. */
  whenRunsLoaded(): Promise<void> {
    return this.firstLoad.promise;
  }

  /**
   * The client when the daemon is connected (waiting for a start in progress); otherwise shows
   * "TrajLab daemon is not running" with "Restart daemon" and returns undefined.
   */
  async requireClient(): Promise<LanguageClient | undefined> {
    const client = await this.daemon.ready();
    if (client) return client;
    const s = this.daemon.state;
    const why = s.kind === 'failed' || s.kind === 'crashed' ? `: ${firstLine(s.error)}` : '.';
    void this.showMessage('warning', `TrajLab daemon is not running${why}`, RESTART_DAEMON, SHOW_LOG).then(runDaemonAction);
    return undefined;
  }

  /**
   * Registers command `id` (a `trajlab.*` id) running `handler`. A failure never reaches the
   * caller: it is logged, shown as an error message and recorded for the test API
   * (`lastCommandError`), and the command resolves to undefined.
   */
  registerCommand(id: string, handler: (...args: unknown[]) => unknown): vscode.Disposable {
    return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await handler(...args);
      } catch (err) {
        const message = (err as Error)?.message ?? String(err);
        testHooks.commandFailed(id, message);
        this.log.error(`${id}: ${message}`);
        void this.showMessage('error', `TrajLab: ${message}`);
        return undefined;
      }
    });
  }

  /** Shows a message (and records it for the test API); resolves with the button picked. */
  showMessage(severity: ShownMessage['severity'], text: string, ...buttons: string[]): Thenable<string | undefined> {
    testHooks.messageShown({ severity, text });
    if (severity === 'error') return vscode.window.showErrorMessage(text, ...buttons);
    if (severity === 'warning') return vscode.window.showWarningMessage(text, ...buttons);
    return vscode.window.showInformationMessage(text, ...buttons);
  }

  /**
   * Starts a run (or resumes one: `options.runId` set) with the API key of the model's
   * provider from SecretStorage; remembers it as started by this workspace. Returns the run
   * id, or undefined when the daemon is down (already said). Errors: the daemon's refusal.
   */
  async startRun(options: Partial<RunOptions> & { tasksFile: string }, opts: StartRunOptions = {}): Promise<string | undefined> {
    const client = await this.requireClient();
    if (!client) return undefined;
    const apiKeys = await this.keys.forModels(options.models?.length ? options.models.map((m) => m.model) : options.model ? [options.model] : []);
    const { runId } = await client.sendRequest(RunStartRequest.type, { options, ...(apiKeys && { apiKeys }), ...(opts.dockerHosts && { dockerHosts: opts.dockerHosts }) });
    this.log.info(`run ${runId} started (${options.tasksFile}, model ${options.model ?? 'default'}${apiKeys ? `, ${Object.keys(apiKeys).join(', ')} from secret storage` : ''})`);
    const known = this.runs.get(runId)?.info;
    if (!known) this.runs.upsertRun(placeholderRun(runId, options));
    else if (known.status !== 'running') this.runs.upsertRun({ ...known, status: 'running' });
    await this.rememberStarted(runId);
    this._onDidStartRun.fire({ runId, options: opts });
    void this.loadAttempts(runId).catch((err: Error) => this.log.warn(`run ${runId}: ${err.message}`));
    return runId;
  }

  /** Re-reads the run list from the daemon (`trajlab/run/list` for this folder's output root). */
  async refreshRuns(): Promise<void> {
    const client = this.daemon.client;
    const out = this.out;
    if (!client || !out) return;
    try {
      const { runs, unreadable } = await client.sendRequest(RunListRequest.type, { out });
      const ended = this.runs.replaceAll(runs, unreadable);
      for (const id of ended) this.runEnded(id);
    } catch (err) {
      this.log.warn(`listing runs: ${(err as Error).message}`);
    } finally {
      this.firstLoad.resolve();
    }
  }

  /** Loads one run and its attempts (`trajlab/run/get`) into the runs projection. */
  async loadAttempts(runId: string): Promise<AttemptInfo[] | undefined> {
    const client = this.daemon.client;
    if (!client) return undefined;
    const got = await client.sendRequest(RunGetRequest.type, { runId, out: this.out });
    if (!got) return undefined;
    const wasRunning = this.runs.get(runId)?.info.status === 'running';
    this.runs.upsertRun(got.run);
    this.runs.setAttempts(runId, got.attempts);
    if (wasRunning && got.run.status !== 'running') this.runEnded(runId);
    return got.attempts;
  }

  /** A run's record and attempts, fetched fresh. Undefined when unknown or the daemon is down. */
  async getRun(runId: string): Promise<{ run: RunInfo; attempts: AttemptInfo[] } | undefined> {
    const client = await this.requireClient();
    if (!client) return undefined;
    const got = await client.sendRequest(RunGetRequest.type, { runId, out: this.out });
    if (!got) return undefined;
    this.runs.upsertRun(got.run);
    this.runs.setAttempts(runId, got.attempts);
    return got;
  }

  /** Ids of the runs this workspace started, oldest first. */
  startedRuns(): string[] {
    return this.context.workspaceState.get<string[]>(STARTED_RUNS_KEY, []);
  }

  dispose(): void {
    this.listCoalescer.dispose();
    this.disposeClientScope();
  }

  private async rememberStarted(runId: string): Promise<void> {
    const ids = this.startedRuns().filter((id) => id !== runId);
    ids.push(runId);
    await this.context.workspaceState.update(STARTED_RUNS_KEY, ids.slice(-STARTED_RUNS_MAX));
  }

  private resetFirstLoad(): void {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    // Whoever waits on the previous load is released by this one.
    const previous = this.firstLoad as typeof this.firstLoad | undefined;
    if (previous) void promise.then(previous.resolve);
    this.firstLoad = { promise, resolve };
  }

  private disposeClientScope(): void {
    for (const d of this.clientDisposables.splice(0)) d.dispose();
  }

  private runEnded(runId: string): void {
    const entry = this.runs.get(runId);
    if (entry) this._onDidEndRun.fire(entry.info);
  }

  private onDaemonState(s: DaemonState): void {
    const previous = this.lastState;
    this.lastState = s.kind;
    void vscode.commands.executeCommand('setContext', 'trajlab.daemonState', s.kind);
    switch (s.kind) {
      case 'running':
        this.disposeClientScope();
        this.clientDisposables.push(
          s.client.onNotification(RunProgressNotification.type, (p) => {
            testHooks.notificationReceived();
            const outcome = this.runs.applyProgress(p);
            if (outcome === 'unknown') this.listCoalescer.schedule();
            else if (outcome === 'ended') {
              this.runEnded(p.runId);
              // Final attempt states and trajectory paths.
              if (this.runs.get(p.runId)?.attempts) void this.loadAttempts(p.runId).catch((err: Error) => this.log.warn(`run ${p.runId}: ${err.message}`));
            }
          }),
          s.client.onNotification(TaskUpdateNotification.type, (p) => {
            testHooks.notificationReceived();
            this.runs.applyTaskUpdate(p);
          }),
        );
        void this.afterConnect();
        break;
      case 'crashed': {
        this.disposeClientScope();
        const started = new Set(this.startedRuns());
        for (const r of this.runs.running()) {
          if (started.has(r.info.run_id)) this.toResumeAfterCrash.add(r.info.run_id);
          // Their owner is gone: the restarted daemon will list them as interrupted too.
          this.runs.upsertRun({ ...r.info, status: 'interrupted' });
        }
        this.firstLoad.resolve();
        const resumeNote = this.toResumeAfterCrash.size ? ` ${this.toResumeAfterCrash.size} run(s) it was doing will resume when it restarts.` : '';
        void this.showMessage('error', `The TrajLab daemon stopped unexpectedly.${resumeNote}`, RESTART_DAEMON, SHOW_LOG).then(runDaemonAction);
        break;
      }
      case 'failed':
        this.disposeClientScope();
        this.firstLoad.resolve();
        void this.showMessage('error', `TrajLab daemon: ${s.error}`, RESTART_DAEMON, SHOW_LOG).then(runDaemonAction);
        break;
      case 'starting':
        if (previous !== 'starting') this.resetFirstLoad();
        break;
      case 'stopped':
        this.disposeClientScope();
        break;
    }
  }

  /** After connecting: the run list, live runs' attempts, and resuming runs a crash interrupted. */
  private async afterConnect(): Promise<void> {
    await this.refreshRuns();
    const started = new Set(this.startedRuns());
    const live = this.runs.running().map((r) => r.info);
    await Promise.all(live.map((r) => this.loadAttempts(r.run_id).catch((err: Error) => this.log.warn(`run ${r.run_id}: ${err.message}`))));
    this._onDidReattach.fire(live.filter((r) => started.has(r.run_id)));
    const runIds = [...this.toResumeAfterCrash];
    this.toResumeAfterCrash.clear();
    const client = this.daemon.client;
    if (!runIds.length || !client) return;
    let toResume: RunInfo[];
    try {
      // The daemon decides which of them resume: those it reads as interrupted.
      ({ runs: toResume } = await client.sendRequest(RunPlanResumeRequest.type, { runIds, out: this.out }));
    } catch (err) {
      void this.showMessage('error', `Could not resume the TrajLab runs the daemon was doing (${runIds.join(', ')}): ${(err as Error).message}`);
      return;
    }
    for (const run of toResume) {
      try {
        await this.startRun(resumeOptions(run, config.runSettings().queue?.url), { title: `Resuming TrajLab run ${run.run_id}` });
        this.log.info(`run ${run.run_id}: resumed after the daemon restarted`);
      } catch (err) {
        void this.showMessage('error', `Could not resume TrajLab run ${run.run_id}: ${(err as Error).message}`);
      }
    }
  }
}

/** A run's record until the daemon's own arrives. */
function placeholderRun(runId: string, options: Partial<RunOptions> & { tasksFile: string }): RunInfo {
  const now = new Date().toISOString();
  return {
    run_id: runId,
    status: 'running',
    created_at: now,
    updated_at: now,
    options: { model: '', workers: 0, attempts: 1, out: '', mode: 'tools', ...options },
    counts: { total: 0, done: 0, failed: 0, running: 0, queued: 0, resolved: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0 },
    rejected_lines: [],
    trajlab_version: '',
  };
}

function firstLine(text: string): string {
  return text.split('\n')[0]!;
}

/** Whether a provider normally needs an API key (local servers do not). */
export function providerNeedsKey(modelSpec: string): string | undefined {
  const p = providerOf(modelSpec);
  return p && p in PROVIDER_KEY_ENV && p !== 'vllm' && p !== 'ollama' ? p : undefined;
}
