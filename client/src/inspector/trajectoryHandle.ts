/**
 * One trajectory file open in the daemon (`trajlab/trajectory/open`, protocol.ts) for one
 * inspector panel: the handle, the header, and the page requests made with it. A handle lives
 * in one daemon process; when that daemon is gone (restarted, crashed, reattached) or answers
 * that it no longer knows the handle, the file is opened again once and the request retried.
 */
import type { LanguageClient } from 'vscode-languageclient/node';
import type { TrajectoryHeader } from '../../../common/src/inspector';
import {
  TrajectoryCloseNotification,
  TrajectoryDiffSidesRequest,
  TrajectoryFilterRequest,
  TrajectoryOpenRequest,
  TrajectoryScreenshotRequest,
  TrajectorySearchRequest,
  TrajectoryStepRequest,
  TrajectoryStepsRequest,
  type TrajectoryDiffSidesParams,
} from '../../../common/src/protocol';
import type { InspectorMethod, InspectorRequests } from '../../../common/src/webviewMessages';
import type { Ctx } from '../ctx';

/** Opening failed because no daemon is connected (the panel reopens when one is). */
export class DaemonNotRunningError extends Error {
  constructor(detail: string) {
    super(`TrajLab daemon is not running${detail}. Run "TrajLab: Restart daemon"; the inspector reopens the file once it is connected.`);
    this.name = 'DaemonNotRunningError';
  }
}

/** An open trajectory (see the file comment); `dispose` closes the handle in the daemon. */
export class TrajectoryHandle {
  private current: { handle: string; client: LanguageClient; header: TrajectoryHeader } | undefined;
  private opening: Promise<TrajectoryHeader> | undefined;
  private disposed = false;

  /** `file`: absolute path of the trajectory file. */
  constructor(
    private readonly ctx: Ctx,
    readonly file: string,
  ) {}

  /** The header of the last successful open (its handle may have been replaced since). */
  get header(): TrajectoryHeader | undefined {
    return this.current?.header;
  }

  /**
   * Imports the file (again, e.g. after it changed on disk) and returns its header; the
   * previous handle is closed once the new one is open. Calls made while an open is in flight
   * share it. Errors: DaemonNotRunningError, or the daemon's message (unreadable file, invalid
   * JSON, not a trajectory format TrajLab reads).
   */
  open(): Promise<TrajectoryHeader> {
    this.opening ??= this.doOpen().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  /**
   * Sends `trajlab/trajectory/<method>` with the handle added (it overrides any `handle` in
   * `params`). Reopens first when the daemon connection changed since the open, and once more
   * when the daemon says the handle is unknown.
   */
  async request<M extends InspectorMethod>(method: M, params: InspectorRequests[M]['params']): Promise<InspectorRequests[M]['result']> {
    return this.withHandle((client, handle) => sendInspectorRequest(client, handle, method, params));
  }

  /** `trajlab/trajectory/diffSides` for a file of the final diff or one edit action. */
  diffSides(params: Omit<TrajectoryDiffSidesParams, 'handle'>): Promise<{ left: string; right: string; title: string }> {
    return this.withHandle((client, handle) => client.sendRequest(TrajectoryDiffSidesRequest.type, { ...params, handle }));
  }

  /** Closes the handle in the daemon (when that daemon is still the connected one). Later calls fail. */
  dispose(): void {
    this.disposed = true;
    this.closeHandle(this.current);
    this.current = undefined;
  }

  private async doOpen(): Promise<TrajectoryHeader> {
    if (this.disposed) throw new Error('the inspector was closed');
    const client = await this.ctx.daemon.ready();
    if (!client) {
      const s = this.ctx.daemon.state;
      throw new DaemonNotRunningError(s.kind === 'failed' || s.kind === 'crashed' ? ` (${s.error.split('\n')[0]})` : '');
    }
    const header = await client.sendRequest(TrajectoryOpenRequest.type, { file: this.file });
    const previous = this.current;
    this.current = { handle: header.handle, client, header };
    this.closeHandle(previous);
    if (this.disposed) {
      this.closeHandle(this.current);
      this.current = undefined;
      throw new Error('the inspector was closed');
    }
    return header;
  }

  private async withHandle<T>(send: (client: LanguageClient, handle: string) => Promise<T>): Promise<T> {
    if (this.disposed) throw new Error('the inspector was closed');
    if (!this.current || this.current.client !== this.ctx.daemon.client) await this.open();
    const used = this.current!;
    try {
      return await send(used.client, used.handle);
    } catch (err) {
      if (!isUnknownHandle(err)) throw err;
      // The daemon forgot the handle (it restarted behind the same connection, or dropped it).
      if (this.current === used) await this.open();
      return send(this.current!.client, this.current!.handle);
    }
  }

  private closeHandle(h: { handle: string; client: LanguageClient } | undefined): void {
    if (!h || h.client !== this.ctx.daemon.client) return;
    // Not sent (the connection is closing): the daemon keeps the trajectory until it drops the handle or exits.
    h.client.sendNotification(TrajectoryCloseNotification.type, { handle: h.handle }).catch((err: Error) => this.ctx.log.warn(`inspector: closing trajectory handle ${h.handle}: ${err.message}`));
  }
}

/** One inspector request as its protocol message (the handle last, so params cannot replace it). */
function sendInspectorRequest<M extends InspectorMethod>(client: LanguageClient, handle: string, method: M, params: InspectorRequests[M]['params']): Promise<InspectorRequests[M]['result']> {
  const p = params as InspectorRequests[InspectorMethod]['params'];
  let sent: Promise<unknown>;
  switch (method) {
    case 'steps':
      sent = client.sendRequest(TrajectoryStepsRequest.type, { ...(p as InspectorRequests['steps']['params']), handle });
      break;
    case 'step':
      sent = client.sendRequest(TrajectoryStepRequest.type, { ...(p as InspectorRequests['step']['params']), handle });
      break;
    case 'filter':
      sent = client.sendRequest(TrajectoryFilterRequest.type, { ...(p as InspectorRequests['filter']['params']), handle });
      break;
    case 'search':
      sent = client.sendRequest(TrajectorySearchRequest.type, { ...(p as InspectorRequests['search']['params']), handle });
      break;
    case 'screenshot':
      sent = client.sendRequest(TrajectoryScreenshotRequest.type, { ...(p as InspectorRequests['screenshot']['params']), handle });
      break;
    default:
      sent = Promise.reject(new Error(`unknown inspector method ${String(method)}`));
  }
  return sent as Promise<InspectorRequests[M]['result']>;
}

/**
 * Whether a daemon error says that a trajectory handle is not (or no longer) open: a
 * ResponseError with `data: {reason: 'notOpen'}` (server/src/daemon/trajectoryHandlers.ts).
 */
export function isUnknownHandle(err: unknown): boolean {
  const data = (err as { data?: unknown } | undefined)?.data;
  return !!data && typeof data === 'object' && (data as { reason?: unknown }).reason === 'notOpen';
}
