/**
 * A stub of the extension's inspector host for the browser tests and the bench: it answers the
 * webview the way client/ does (open after `ready`, requests forwarded with the handle added,
 * `response` with result or error), but calls the daemon's own module (server/src/inspect/
 * InspectorService) in this process instead of going over LSP — the same code the daemon runs,
 * so the tests page through real data.
 */
import type { HostToInspector, InspectorToHost } from '../../common/src/webviewMessages';
import { InspectorService } from '../../server/src/inspect/store';

export interface InspectorHost {
  /** The harness's `onMessage`. */
  onMessage(message: InspectorToHost, post: (message: unknown) => Promise<void>): Promise<void>;
  service: InspectorService;
  /** The handle of the open trajectory (after `ready`). */
  handle(): string | undefined;
  /** Requests the webview made, in order (method and params as sent). */
  requests: { method: string; params: unknown }[];
  /** Opens `file` again and posts `open` (the extension does this when the file changes on disk). */
  reopen(post: (message: unknown) => Promise<void>, file?: string): Promise<void>;
  /** ms spent in InspectorService.open (read + parse + import) for the last open. */
  lastOpenMs: number;
}

/** A host for `file` (absolute). `onOpenTimes` receives performance.now() before and after the import. */
export function inspectorHost(file: string, opts: { onOpenTimes?: (before: number, after: number) => void } = {}): InspectorHost {
  const service = new InspectorService();
  let handle: string | undefined;
  const host: InspectorHost = {
    service,
    handle: () => handle,
    requests: [],
    lastOpenMs: 0,
    async reopen(post, f = file) {
      const before = performance.now();
      try {
        const header = await service.open(f);
        const after = performance.now();
        host.lastOpenMs = after - before;
        opts.onOpenTimes?.(before, after);
        if (handle) service.close(handle);
        handle = header.handle;
        await post({ type: 'open', header } satisfies HostToInspector);
      } catch (err) {
        await post({ type: 'failed', message: (err as Error).message } satisfies HostToInspector);
      }
    },
    async onMessage(m, post) {
      if (m.type === 'ready') return host.reopen(post);
      if (m.type !== 'request') return;
      host.requests.push({ method: m.method, params: m.params });
      let reply: HostToInspector;
      try {
        const params = { ...(m.params as object), handle: handle! };
        let result: unknown;
        switch (m.method) {
          case 'steps':
            result = service.steps(params as Parameters<InspectorService['steps']>[0]);
            break;
          case 'step':
            result = service.step(params as Parameters<InspectorService['step']>[0]);
            break;
          case 'filter':
            result = service.filter(params as Parameters<InspectorService['filter']>[0]);
            break;
          case 'search':
            result = await service.search(params as Parameters<InspectorService['search']>[0]);
            break;
          case 'screenshot':
            result = await service.screenshot(params as Parameters<InspectorService['screenshot']>[0]);
            break;
          default:
            throw new Error(`unknown method ${String((m as { method?: unknown }).method)}`);
        }
        reply = { type: 'response', id: m.id, result };
      } catch (err) {
        reply = { type: 'response', id: m.id, error: (err as Error).message };
      }
      await post(reply);
    },
  };
  return host;
}
