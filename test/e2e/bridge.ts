/**
 * The runner's side of the bridge (protocol: test/e2e/bridgeProtocol.ts): an HTTP server on
 * 127.0.0.1 through which the suites, running inside VS Code's extension host, ask the runner
 * to act on the browser page (command palette, notifications, views, screenshots) and on the
 * helper servers. The URL holds a random token; requests without it get 404.
 */
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BridgeMethod, BridgeMethods } from './bridgeProtocol';
import type { Helpers } from './helpers';
import type { Workbench } from './ui';

type Handlers = { [M in BridgeMethod]: (params: BridgeMethods[M]['params']) => Promise<BridgeMethods[M]['result']> };

export interface Bridge {
  /** `http://127.0.0.1:<port>/<token>`: the suites' TRAJLAB_E2E_BRIDGE_URL. */
  readonly url: string;
  /** The page the UI methods act on (set once the browser is up; UI calls before that fail). */
  setWorkbench(workbench: Workbench | undefined): void;
  close(): Promise<void>;
}

/** Starts the bridge; `log` receives one line per call (for the runner's log). */
export async function startBridge(helpers: Helpers, log: (line: string) => void): Promise<Bridge> {
  const token = crypto.randomBytes(12).toString('hex');
  let workbench: Workbench | undefined;
  const ui = (): Workbench => {
    if (!workbench) throw new Error('the runner has no browser page (UI methods need the code-server runner, not test-electron)');
    return workbench;
  };
  const handlers: Handlers = {
    runCommand: (p) => ui().runCommand(p.title, p.timeoutMs),
    quickPickItems: () => ui().quickPickItems(),
    quickPickSelect: (p) => ui().quickPickSelect(p.label, p.timeoutMs),
    quickInputType: (p) => ui().quickInputType(p.text, p.submit, p.timeoutMs, p.title),
    quickPickAccept: (p) => ui().quickPickAccept(p.title, p.timeoutMs),
    pressKey: (p) => ui().pressKey(p.key),
    notifications: () => ui().notifications(),
    clickNotificationButton: (p) => ui().clickNotificationButton(p.message, p.button, p.timeoutMs),
    openViewContainer: (p) => ui().openViewContainer(p.title),
    viewRows: (p) => ui().viewRows(p.view, p.timeoutMs),
    collapseView: (p) => ui().collapseView(p.view, p.timeoutMs),
    viewRowContextMenu: (p) => ui().viewRowContextMenu(p.view, p.row, p.item, p.timeoutMs),
    webviewText: (p) => ui().webviewText(p.selector, p.contains, p.timeoutMs),
    webviewClick: (p) => ui().webviewClick(p.selector, p.contains, p.timeoutMs),
    screenshot: (p) => ui().screenshot(p.name, p.visible, p.timeoutMs),
    modelRequests: async () => helpers.model.requests(),
    modelDelay: async (p) => {
      helpers.model.setDelay(p.ms);
      return null;
    },
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const [, gotToken, method] = (req.url ?? '').split('/');
      const send = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      };
      if (req.method !== 'POST' || gotToken !== token || !method || !Object.hasOwn(handlers, method)) {
        send(404, { error: `no bridge method ${req.method} ${req.url}` });
        return;
      }
      let params: unknown;
      try {
        params = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch {
        send(400, { error: 'the body is not JSON' });
        return;
      }
      const started = Date.now();
      const handler = handlers[method as BridgeMethod] as (p: unknown) => Promise<unknown>;
      handler(params).then(
        (result) => {
          log(`bridge ${method} ${JSON.stringify(params)} -> ok (${Date.now() - started} ms)`);
          send(200, { result: result ?? null });
        },
        (err: Error) => {
          log(`bridge ${method} ${JSON.stringify(params)} -> ${err.message}`);
          send(500, { error: err.message });
        },
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/${token}`,
    setWorkbench: (w) => {
      workbench = w;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
