/**
 * Typed getters over the `trajlab.*` settings (package.json `contributes.configuration`).
 * Settings are read fresh on every use, never cached in globals (rust-analyzer's config.ts).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { defaultSocketPath } from '../../common/src/daemonSocket';
import type { DaemonSettings, DockerHostSetting } from '../../common/src/settings';
import type { RunSettings } from './runOptions';
import type { ModelEntry } from '../../common/src/run';
import type { NetworkPolicy } from '../../common/src/task';

/** How the extension reaches the daemon: spawn one when none answers, or only attach. */
export type DaemonMode = 'spawn' | 'attach';

/** Settings that only take effect when the daemon connection is restarted. */
export const RESTART_SETTINGS = ['trajlab.daemon.mode', 'trajlab.daemon.socket'] as const;

function section(scope?: vscode.ConfigurationScope): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('trajlab', scope);
}

/** The folder whose socket and output folder this window uses: the first workspace folder. */
export function primaryFolder(): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.workspaceFolders?.[0];
}

/** The run settings (model, workers, attempts, limits) with the defaults of package.json. */
export function runSettings(scope?: vscode.ConfigurationScope): RunSettings {
  const c = section(scope);
  return {
    model: c.get<string>('model') || 'openai:gpt-4o-mini',
    baseUrl: c.get<string>('baseUrl') || undefined,
    // Entries go to the daemon as written: it checks them (a bad one fails the run's start, naming it).
    models: Array.isArray(c.get<unknown>('models')) ? c.get<ModelEntry[]>('models') : undefined,
    modelSwitch: c.get<boolean>('modelSwitch') === true,
    agent: c.get<string>('agent') || undefined,
    workers: c.get<number>('workers') ?? 4,
    attempts: c.get<number>('attempts') ?? 1,
    maxSteps: c.get<number>('maxSteps') ?? 30,
    timeout: c.get<number>('timeout') ?? 1800,
    defaultImage: c.get<string>('defaultImage') || undefined,
    network: networkPolicy(scope),
    sandbox: sandboxCeilings(scope),
    dockerHosts: dockerHosts(),
    queue: { url: c.get<string>('queue.url')?.trim() || undefined, packLimitMb: positiveNumber(c.get<unknown>('queue.packLimitMb')) },
  };
}

/** `v` when it is a finite number > 0, else undefined (the daemon's default applies). */
function positiveNumber(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
}

/**
 * `trajlab.sandbox.*`: the operator's ceilings on a task's resources and network (maxMemoryMb
 * MiB, maxCpus cores, maxPids processes, allowNetwork). A setting that is unset or not a
 * positive number is left out, so the daemon's default applies (8192 MiB, the Docker host's
 * CPUs, 4096 processes, `bridge`).
 */
export function sandboxCeilings(scope?: vscode.ConfigurationScope): NonNullable<RunSettings['sandbox']> {
  const c = section(scope);
  const positive = (key: string, integer: boolean) => {
    const v = c.get<unknown>(key);
    return typeof v === 'number' && Number.isFinite(v) && v > 0 && (!integer || Number.isInteger(v)) ? v : undefined;
  };
  const allow = c.get<string>('sandbox.allowNetwork');
  return {
    maxMemoryMb: positive('sandbox.maxMemoryMb', true),
    maxCpus: positive('sandbox.maxCpus', false),
    maxPids: positive('sandbox.maxPids', true),
    allowNetwork: allow === 'none' || allow === 'bridge' || allow === 'host' ? allow : undefined,
  };
}

/** `trajlab.tasksGlob`: the workspace glob that finds tasks files. */
export function tasksGlob(): string {
  return section().get<string>('tasksGlob') || '**/{tasks.jsonl,*.tasks.jsonl}';
}

/** `trajlab.dockerHosts`, with malformed entries (no name or url) dropped. */
export function dockerHosts(): DockerHostSetting[] {
  const raw = section().get<unknown[]>('dockerHosts') ?? [];
  return raw.filter((h): h is DockerHostSetting => !!h && typeof h === 'object' && typeof (h as DockerHostSetting).name === 'string' && typeof (h as DockerHostSetting).url === 'string');
}

/** `trajlab.network`: the network policy for tasks that set none (`none`, `bridge`, `host`). */
export function networkPolicy(scope?: vscode.ConfigurationScope): NetworkPolicy {
  const v = section(scope).get<string>('network');
  return v === 'bridge' || v === 'host' ? v : 'none';
}

/**
 * The absolute output root of a workspace folder: `trajlab.outputFolder` (default `trajlab`)
 * resolved against the folder. Runs live in `<root>/runs/<run_id>/`.
 */
export function outputRoot(folder: vscode.WorkspaceFolder): string {
  const setting = section(folder.uri).get<string>('outputFolder') || 'trajlab';
  return path.resolve(folder.uri.fsPath, setting);
}

/** `trajlab.daemon.mode`. */
export function daemonMode(): DaemonMode {
  return section().get<string>('daemon.mode') === 'attach' ? 'attach' : 'spawn';
}

/** The daemon socket of a folder: `trajlab.daemon.socket`, or `defaultSocketPath(folder)`. */
export function daemonSocket(folder: vscode.WorkspaceFolder): string {
  const configured = section().get<string>('daemon.socket');
  return configured ? path.resolve(folder.uri.fsPath, configured) : defaultSocketPath(folder.uri.fsPath);
}

/** `trajlab.metrics.port`: an integer port, 0 (off) when unset or out of range. */
export function metricsPort(): number {
  const port = section().get<number>('metrics.port');
  return typeof port === 'number' && Number.isInteger(port) && port > 0 && port <= 65535 ? port : 0;
}

/** What the daemon is told about the settings (initializationOptions, didChangeConfiguration). */
export function daemonSettings(folder: vscode.WorkspaceFolder): DaemonSettings {
  return {
    out: outputRoot(folder),
    defaultImage: section(folder.uri).get<string>('defaultImage') || undefined,
    metricsPort: metricsPort(),
  };
}
