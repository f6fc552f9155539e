/**
 * Request / response over postMessage: the webview sends `{type: 'request', id, method, params}`
 * and the host answers `{type: 'response', id, result | error}` (common/src/webviewMessages.ts).
 */
import type { VsCodeApi } from './vscodeApi';

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** Requests typed by a map `{method: {params, result}}`; `handle` must be fed every `response` message. */
export class Rpc<Map extends Record<string, { params: unknown; result: unknown }>> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly api: VsCodeApi<any, unknown>) {}

  /** Sends a request; rejects with the host's error message. */
  request<M extends keyof Map & string>(method: M, params: Map[M]['params']): Promise<Map[M]['result']> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.api.postMessage({ type: 'request', id, method, params });
    });
  }

  /** Settles the request a `response` message answers (unknown ids are ignored). */
  handle(message: { id: number; result?: unknown; error?: string }): void {
    const p = this.pending.get(message.id);
    if (!p) return;
    this.pending.delete(message.id);
    if (message.error !== undefined) p.reject(new Error(message.error));
    else p.resolve(message.result);
  }

  /** Rejects every pending request (the host reopened the document). */
  rejectAll(reason: string): void {
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
  }
}
