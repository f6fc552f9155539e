/**
 * Runs a webview bundle (dist/webviews/<panel>.js) in real Chromium (Debian's, driven by
 * playwright-core) on a static page built by the extension's own `webviewHtml` (same CSP, same
 * nonce rule), with a stub of the host messaging: `acquireVsCodeApi()` is defined by an init
 * script, the page's `postMessage` calls go to `onMessage` in Node, and `post` delivers host
 * messages as the `message` events VS Code delivers. VS Code's theme is imitated by the body
 * class and a set of `--vscode-*` variables (THEMES).
 *
 * Needs the bundles (`npm run build`) and Chromium (`bash scripts/setup-vscode-e2e.sh`, or
 * TRAJLAB_CHROMIUM=/path/to/chromium).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeNonce, webviewHtml } from '../../client/src/webviewHtml';

const ROOT = path.resolve(__dirname, '../..');
const DIST = path.join(ROOT, 'dist', 'webviews');

export type Theme = 'dark' | 'light' | 'high-contrast';

/** A few of the variables VS Code sets in every webview, per theme (values of the default themes). */
const THEMES: Record<Theme, { bodyClass: string; vars: Record<string, string> }> = {
  dark: {
    bodyClass: 'vscode-dark',
    vars: {
      'font-family': 'system-ui, sans-serif', 'font-size': '13px', 'editor-font-family': 'monospace', 'editor-font-size': '13px',
      'foreground': '#cccccc', 'editor-background': '#1f1f1f', 'editor-foreground': '#cccccc', 'focusBorder': '#0078d4',
      'list-activeSelectionBackground': '#04395e', 'list-activeSelectionForeground': '#ffffff', 'list-hoverBackground': '#2a2d2e',
      'panel-border': '#2b2b2b', 'descriptionForeground': '#9d9d9d', 'errorForeground': '#f85149', 'testing-iconPassed': '#73c991',
      'testing-iconFailed': '#f14c4c', 'badge-background': '#616161', 'badge-foreground': '#f8f8f8', 'button-background': '#0078d4',
      'button-foreground': '#ffffff', 'input-background': '#313131', 'input-foreground': '#cccccc', 'input-border': '#3c3c3c',
      'textCodeBlock-background': '#2b2b2b', 'editor-findMatchHighlightBackground': '#623315', 'diffEditor-insertedTextBackground': '#9ccc2c33',
      'diffEditor-removedTextBackground': '#ff000033', 'charts-blue': '#3794ff', 'charts-green': '#89d185', 'charts-red': '#f14c4c',
      'charts-yellow': '#cca700', 'charts-orange': '#d18616', 'charts-purple': '#b180d7', 'charts-foreground': '#cccccc', 'charts-lines': '#cccccc80',
    },
  },
  light: {
    bodyClass: 'vscode-light',
    vars: {
      'font-family': 'system-ui, sans-serif', 'font-size': '13px', 'editor-font-family': 'monospace', 'editor-font-size': '13px',
      'foreground': '#3b3b3b', 'editor-background': '#ffffff', 'editor-foreground': '#3b3b3b', 'focusBorder': '#005fb8',
      'list-activeSelectionBackground': '#e8e8e8', 'list-activeSelectionForeground': '#000000', 'list-hoverBackground': '#f2f2f2',
      'panel-border': '#e5e5e5', 'descriptionForeground': '#717171', 'errorForeground': '#f85149', 'testing-iconPassed': '#388a34',
      'testing-iconFailed': '#f14c4c', 'badge-background': '#cccccc', 'badge-foreground': '#3b3b3b', 'button-background': '#005fb8',
      'button-foreground': '#ffffff', 'input-background': '#ffffff', 'input-foreground': '#3b3b3b', 'input-border': '#cecece',
      'textCodeBlock-background': '#f8f8f8', 'editor-findMatchHighlightBackground': '#ea5c0055', 'diffEditor-insertedTextBackground': '#9ccc2c40',
      'diffEditor-removedTextBackground': '#ff000033', 'charts-blue': '#1a85ff', 'charts-green': '#388a34', 'charts-red': '#e51400',
      'charts-yellow': '#bf8803', 'charts-orange': '#d18616', 'charts-purple': '#652d90', 'charts-foreground': '#616161', 'charts-lines': '#61616180',
    },
  },
  'high-contrast': {
    bodyClass: 'vscode-high-contrast',
    vars: {
      'font-family': 'system-ui, sans-serif', 'font-size': '13px', 'editor-font-family': 'monospace', 'editor-font-size': '13px',
      'foreground': '#ffffff', 'editor-background': '#000000', 'editor-foreground': '#ffffff', 'focusBorder': '#f38518',
      'contrastBorder': '#6fc3df', 'contrastActiveBorder': '#f38518', 'list-activeSelectionBackground': '#000000',
      'list-activeSelectionForeground': '#ffffff', 'list-hoverBackground': '#000000', 'panel-border': '#6fc3df',
      'descriptionForeground': '#ffffff', 'errorForeground': '#f48771', 'testing-iconPassed': '#73c991', 'testing-iconFailed': '#f14c4c',
      'badge-background': '#000000', 'badge-foreground': '#ffffff', 'button-background': '#000000', 'button-foreground': '#ffffff',
      'input-background': '#000000', 'input-foreground': '#ffffff', 'input-border': '#6fc3df', 'textCodeBlock-background': '#000000',
      'editor-findMatchHighlightBackground': '#000000', 'diffEditor-insertedTextBackground': '#000000', 'diffEditor-removedTextBackground': '#000000',
      'charts-blue': '#3794ff', 'charts-green': '#89d185', 'charts-red': '#f14c4c', 'charts-yellow': '#cca700', 'charts-orange': '#d18616',
      'charts-purple': '#b180d7', 'charts-foreground': '#ffffff', 'charts-lines': '#ffffff80',
    },
  },
};

/** Path of the Chromium to drive: TRAJLAB_CHROMIUM, else the e2e set-up's, else Debian's. */
export function chromiumPath(): string {
  if (process.env.TRAJLAB_CHROMIUM) return process.env.TRAJLAB_CHROMIUM;
  try {
    const install = JSON.parse(fs.readFileSync(path.join(ROOT, '.tools', 'vscode-e2e', 'install.json'), 'utf8')) as { chromium?: string };
    if (install.chromium && fs.existsSync(install.chromium)) return install.chromium;
  } catch {
    // fall through
  }
  if (fs.existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  throw new Error('no Chromium: run `bash scripts/setup-vscode-e2e.sh` (installs Debian\'s chromium) or set TRAJLAB_CHROMIUM');
}

let browserPromise: Promise<Browser> | undefined;

/** One shared headless Chromium per test process (closed by closeBrowser). */
export function sharedBrowser(): Promise<Browser> {
  browserPromise ??= chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--js-flags=--expose-gc', '--enable-precise-memory-info'],
  });
  return browserPromise;
}

export async function closeBrowser(): Promise<void> {
  const b = browserPromise;
  browserPromise = undefined;
  if (b) await (await b).close();
}

/** Non-transparent pixels of each chart canvas (`figure.chart canvas`), by its figure's `data-chart` title. */
export function inkPerChart(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => {
    const out: Record<string, number> = {};
    for (const fig of Array.from(document.querySelectorAll('figure.chart'))) {
      const canvas = fig.querySelector('canvas');
      if (!canvas) continue;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let ink = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) ink++;
      out[(fig as HTMLElement).dataset.chart!] = ink;
    }
    return out;
  });
}

export interface WebviewPage {
  page: Page;
  /** Delivers a host → webview message (a `message` event on the page's window). */
  post(message: unknown): Promise<void>;
  /** Every message the webview posted, in order. */
  sent: unknown[];
  /**
   * Resolves with `sent` once `check(sent)` holds, checked now and as each message arrives.
   * Rejects after `timeoutMs` (default 5000) with what was sent.
   */
  waitForSent(check: (sent: unknown[]) => boolean, timeoutMs?: number): Promise<unknown[]>;
  /** Uncaught page errors, console errors and CSP violations seen so far. */
  errors: string[];
  /** The state the webview last saved with setState (what VS Code would restore). */
  state(): Promise<unknown>;
  close(): Promise<void>;
}

export interface OpenWebviewOptions {
  panel: 'trajectory' | 'dataset';
  /** Called with each message the webview posts; `post` answers it. */
  onMessage(message: any, post: (message: unknown) => Promise<void>): void | Promise<void>;
  /** State `getState()` returns at start (a restored panel). */
  state?: unknown;
  theme?: Theme;
  viewport?: { width: number; height: number };
}

/**
 * Opens `dist/webviews/<panel>.js` on a fresh page served from a local HTTP server (the page's
 * origin stands for `webview.cspSource`). Throws when the bundle is missing (run `npm run build`).
 */
export async function openWebview(o: OpenWebviewOptions): Promise<WebviewPage> {
  const script = path.join(DIST, `${o.panel}.js`);
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\``);
  const theme = THEMES[o.theme ?? 'dark'];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/' || url.pathname === '/index.html') {
      const origin = `http://${req.headers.host}`;
      const nonce = makeNonce();
      const css = fs.existsSync(path.join(DIST, `${o.panel}.css`)) ? [`${origin}/dist/${o.panel}.css`] : [];
      let html = webviewHtml({ cspSource: origin, nonce, scriptUri: `${origin}/dist/${o.panel}.js`, styleUris: css, title: 'TrajLab test' });
      const vars = Object.entries(theme.vars).map(([k, v]) => `--vscode-${k}: ${v};`).join(' ');
      // VS Code puts the theme on <html style> and <body class>; so do we.
      html = html.replace('<html lang="en">', `<html lang="en" style="${vars}">`).replace('<body>', `<body class="${theme.bodyClass}" data-vscode-theme-kind="${theme.bodyClass}">`);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    const m = /^\/dist\/([\w.-]+)$/.exec(url.pathname);
    const file = m ? path.join(DIST, m[1]) : undefined;
    if (!file || !fs.existsSync(file)) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': file.endsWith('.css') ? 'text/css' : file.endsWith('.js') ? 'text/javascript' : 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  const browser = await sharedBrowser();
  const context = await browser.newContext({ viewport: o.viewport ?? { width: 1200, height: 800 } });
  const page = await context.newPage();
  const sent: unknown[] = [];
  const onSent = new Set<() => void>();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  const post = async (message: unknown) => {
    await page.evaluate((m) => window.postMessage(m, '*'), message as any);
  };
  await page.exposeFunction('__trajlabToHost', async (message: unknown) => {
    sent.push(message);
    for (const f of [...onSent]) f();
    try {
      await o.onMessage(message, post);
    } catch (err) {
      errors.push(`host stub: ${(err as Error).stack ?? err}`);
    }
  });
  // The stub of the host, as source text: a function here would be compiled by tsx with
  // `keepNames`, whose `__name` helper does not exist in the page.
  await page.addInitScript(`(() => {
    let state = ${JSON.stringify(o.state ?? null)} ?? undefined;
    window.__trajlabState = () => state;
    window.acquireVsCodeApi = () => ({
      postMessage: (m) => void window.__trajlabToHost(m),
      getState: () => state,
      setState: (s) => { state = s; },
    });
    document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));
  })();`);
  await page.goto(`http://127.0.0.1:${port}/`);
  return {
    page,
    post,
    sent,
    waitForSent: (check, timeoutMs = 5000) => {
      let probe = () => {};
      let timer: NodeJS.Timeout | undefined;
      return new Promise<unknown[]>((resolve, reject) => {
        probe = () => check(sent) && resolve(sent);
        onSent.add(probe);
        probe();
        timer = setTimeout(() => reject(new Error(`the webview's messages did not get there in ${timeoutMs} ms: ${JSON.stringify(sent)}`)), timeoutMs);
      }).finally(() => {
        clearTimeout(timer);
        onSent.delete(probe);
      });
    },
    errors,
    state: () => page.evaluate(() => (window as any).__trajlabState()),
    close: async () => {
      await context.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
