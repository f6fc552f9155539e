/**
 * The Hosts view: the local Docker engine and the hosts of `trajlab.dockerHosts`, each with
 * reachability, engine version, running TrajLab containers and GPUs (`trajlab/host/info`), and
 * while runs go, each host's live pool state (`trajlab/hosts/state`: up / draining / down,
 * attempts running / slots, GPUs in use, pulls and builds, the last error; hostsPool.ts). A
 * pool host that is in no setting gets an item too. Drain / Undrain act on a host item
 * (`trajlab/host/drain`).
 */
import { dockerUrl } from '../runOptions';
import * as vscode from 'vscode';
import { HostDrainRequest, HostInfoRequest, HostsStateRequest, type HostInfo } from '../../../common/src/protocol';
import * as config from '../config';
import type { Ctx } from '../ctx';
import { oneLine } from '../../../common/src/format';
import { Coalescer } from '../../../common/src/coalesce';
import { describeLiveHost, liveHostStates, poolKey, type LiveHostState } from './hostsPool';

/** A host item. `url` undefined is the daemon's local engine. */
export interface HostNode {
  kind: 'host';
  name: string;
  url?: string;
  /** The setting's `enabled: false`: left out of pool runs. */
  disabled?: boolean;
}
export interface HostDetailNode {
  kind: 'hostDetail';
  host: string;
  label: string;
  value: string;
}
export type HostsNode = HostNode | HostDetailNode;

/** While a run is going, the host info is re-read this often when the view is visible, ms. */
const LIVE_REFRESH_MS = 5000;

/** The `trajlab.hosts` tree: one request per host per refresh; auto-refresh while a run goes and the view is visible. */
export class HostsTreeProvider implements vscode.TreeDataProvider<HostsNode>, vscode.Disposable {
  private readonly _onDidChangeTreeData = new vscode.EventEmitter<HostsNode | undefined>();
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  private readonly refresher: Coalescer;
  private readonly disposables: vscode.Disposable[] = [];
  private infos = new Map<string, Promise<HostInfo | undefined>>();
  /** The live pool state of this refresh, by poolKey; read once per refresh. */
  private live: Promise<Map<string, LiveHostState>> | undefined;
  /** Hosts drained under the output root, as the last drain / undrain answered (poolKey form). */
  private drained = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** Whether the view is visible (set by extension.ts). */
  visible = false;

  constructor(private readonly ctx: Ctx) {
    this.refresher = new Coalescer(500, () => {
      this.infos.clear();
      this.live = undefined;
      this._onDidChangeTreeData.fire(undefined);
    }, (err) => ctx.log.error(`Hosts view: ${String(err)}`));
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('trajlab.dockerHosts') && this.refresh()),
      ctx.daemon.onDidChangeState(() => this.refresh()),
      ctx.onDidEndRun(() => this.refresh()),
      ctx.onDidStartRun(() => this.refresh()),
    );
    this.timer = setInterval(() => {
      if (this.visible && this.ctx.runs.running().length) this.refresh();
    }, LIVE_REFRESH_MS);
  }

  /** Re-reads every host (coalesced). */
  refresh(): void {
    this.refresher.schedule();
  }

  async getChildren(node?: HostsNode): Promise<HostsNode[]> {
    if (!node) {
      const hosts: HostNode[] = [{ kind: 'host', name: 'local' }];
      for (const h of config.dockerHosts()) hosts.push({ kind: 'host', name: h.name, url: dockerUrl(h), ...(h.enabled === false && { disabled: true }) });
      const listed = new Set(hosts.flatMap((h) => (h.url ? [poolKey(h.url)] : [])));
      for (const [key, state] of await this.liveStates()) if (!listed.has(key)) hosts.push({ kind: 'host', name: state.name, url: state.url });
      return hosts;
    }
    if (node.kind === 'host') {
      const [info, live] = await Promise.all([this.info(node), this.liveOf(node)]);
      return [...(live ? liveDetails(node, live) : []), ...details(node, info)];
    }
    return [];
  }

  async getTreeItem(node: HostsNode): Promise<vscode.TreeItem> {
    if (node.kind === 'hostDetail') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
      item.id = `host:${node.host}:${node.label}`;
      item.description = node.value;
      item.tooltip = `${node.label}: ${node.value}`;
      return item;
    }
    const [info, live] = await Promise.all([this.info(node), this.liveOf(node)]);
    const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `host:${node.name}`;
    item.contextValue = node.url ? `host:${live?.status ?? (this.drained.has(poolKey(node.url)) ? 'drained' : 'idle')}` : 'host:local';
    const off = node.disabled ? 'disabled · ' : '';
    // Strings only (description, tooltip): host errors are untrusted text.
    if (live) {
      item.description = off + oneLine(describeLiveHost(live), 120);
      item.iconPath =
        live.status === 'down'
          ? new vscode.ThemeIcon('debug-disconnect', new vscode.ThemeColor('errorForeground'))
          : live.status === 'draining'
            ? new vscode.ThemeIcon('debug-pause', new vscode.ThemeColor('editorWarning.foreground'))
            : new vscode.ThemeIcon('server-environment', new vscode.ThemeColor('testing.iconPassed'));
      item.tooltip = `${node.name} (${live.url})\n${describeLiveHost(live)}${live.runs > 1 ? `\n(${live.runs} runs)` : ''}${live.lastError ? `\nlast error: ${live.lastError}` : ''}`;
      return item;
    }
    if (!info) {
      item.description = this.ctx.daemon.client ? 'checking…' : 'daemon not running';
      item.iconPath = new vscode.ThemeIcon('server');
      return item;
    }
    const drained = item.contextValue === 'host:drained' ? 'drained · ' : '';
    if (info.kind === 'unreachable') {
      item.description = `${off}${drained}unreachable: ${oneLine(info.error, 80)}`;
      item.iconPath = new vscode.ThemeIcon('debug-disconnect', new vscode.ThemeColor('errorForeground'));
      item.tooltip = `${node.name} (${info.url})\nunreachable: ${info.error}`;
      return item;
    }
    const parts = [`Docker ${info.serverVersion}`, `${info.trajlabContainers} TrajLab container${info.trajlabContainers === 1 ? '' : 's'}`];
    if (info.gpus.length) parts.push(`${info.gpus.length} GPU${info.gpus.length === 1 ? '' : 's'}`);
    item.description = off + drained + parts.join(' · ');
    item.iconPath = new vscode.ThemeIcon('server-environment', new vscode.ThemeColor('testing.iconPassed'));
    item.tooltip = `${node.name} (${info.url})\n${parts.join('\n')}`;
    return item;
  }

  /**
   * Drains (`drain` true) or undrains a host for the pool runs of output root `out`
   * (`trajlab/host/drain`): no new attempt starts there; running ones finish. Returns the hosts
   * drained now, or undefined when the daemon is not running (the user was told). Errors: the
   * daemon's answer (a bad URL, the drain file cannot be written).
   */
  async setDrained(node: HostNode, drain: boolean, out: string): Promise<string[] | undefined> {
    if (!node.url) throw new Error("the local engine has no URL to drain; add it to trajlab.dockerHosts (unix:///var/run/docker.sock) to run a pool on it");
    const client = await this.ctx.requireClient();
    if (!client) return undefined;
    const { drained } = await client.sendRequest(HostDrainRequest.type, { url: node.url, drain, out });
    this.drained = new Set(drained);
    this.refresh();
    return drained;
  }

  dispose(): void {
    clearInterval(this.timer);
    this.refresher.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
    this._onDidChangeTreeData.dispose();
  }

  /** The live pool state of every host, one request per refresh; empty while no run goes or the daemon is down. */
  private liveStates(): Promise<Map<string, LiveHostState>> {
    if (!this.live) {
      const client = this.ctx.daemon.client;
      this.live =
        client && this.ctx.runs.running().length
          ? client.sendRequest(HostsStateRequest.type, {}).then(liveHostStates, (err: Error) => {
              this.ctx.log.warn(`Hosts view: trajlab/hosts/state failed: ${err.message}`);
              return new Map<string, LiveHostState>();
            })
          : Promise.resolve(new Map<string, LiveHostState>());
    }
    return this.live;
  }

  private async liveOf(node: HostNode): Promise<LiveHostState | undefined> {
    return node.url ? (await this.liveStates()).get(poolKey(node.url)) : undefined;
  }

  /** A host's info, one request per refresh; undefined while the daemon is down. */
  private info(node: HostNode): Promise<HostInfo | undefined> {
    const key = node.url ?? '';
    let p = this.infos.get(key);
    if (!p) {
      const client = this.ctx.daemon.client;
      p = client
        ? client.sendRequest(HostInfoRequest.type, node.url ? { url: node.url } : {}).then(
            (r) => r,
            (err: Error): HostInfo => ({ kind: 'unreachable', url: node.url ?? 'local', error: `the daemon could not check it: ${err.message}` }),
          )
        : Promise.resolve(undefined);
      this.infos.set(key, p);
    }
    return p;
  }
}

/** The pool rows of a host item during runs. */
function liveDetails(node: HostNode, s: LiveHostState): HostDetailNode[] {
  const d = (label: string, value: string): HostDetailNode => ({ kind: 'hostDetail', host: node.name, label, value });
  return [
    d('Pool', s.status + (s.downSince ? ` since ${s.downSince}` : '') + (s.runs > 1 ? ` (${s.runs} runs)` : '')),
    d('Attempts running', `${s.running}/${s.slots}`),
    ...(s.gpus.length ? [d('GPUs in use', `${s.gpusInUse.length}/${s.gpus.length}${s.gpusInUse.length ? `: ${s.gpusInUse.join(', ')}` : ''}`)] : []),
    d('Pulls, builds', `${s.pulls}, ${s.builds}`),
    ...(s.lastError ? [d('Last error', oneLine(s.lastError, 200))] : []),
  ];
}

function details(node: HostNode, info: HostInfo | undefined): HostDetailNode[] {
  const d = (label: string, value: string): HostDetailNode => ({ kind: 'hostDetail', host: node.name, label, value });
  if (!info) return [d('Status', 'the daemon is not running')];
  if (info.kind === 'unreachable') return [d('URL', info.url), d('Error', oneLine(info.error, 200))];
  return [
    d('URL', info.url),
    d('Engine', info.serverVersion),
    d('OS', info.os),
    d('CPUs', String(info.cpus)),
    d('Memory', `${(info.memoryBytes / 1024 ** 3).toFixed(1)} GiB`),
    d('TrajLab containers', String(info.trajlabContainers)),
    d('GPUs', info.gpus.length ? info.gpus.join(', ') : 'none'),
    d('Images', info.images.length ? `${info.images.length}: ${info.images.slice(0, 8).join(', ')}${info.images.length > 8 ? ', …' : ''}` : 'none'),
  ];
}
