/**
 * The HTML page of a TrajLab webview (inspector, dataset, compare). Pure: the extension passes
 * the webview's `cspSource` and resource URIs, and the browser tests (test/browser/) build the
 * very same page, so they run the bundles under the same Content-Security-Policy.
 *
 * CSP: nothing by default; scripts only with the page's nonce (no inline handlers, no eval);
 * styles and fonts only from the webview's resource origin (plus the inline styles web
 * components set through the CSSOM, which `style-src` with a nonce would forbid); images from
 * there and `data:` (chart canvases export). Untrusted content is put in the page as text by
 * the bundles; nothing here interpolates it.
 */
import { escapeHtmlAttribute } from '../../common/src/format';

export interface WebviewPageOptions {
  /** `webview.cspSource` (VS Code), or the test server's origin. */
  cspSource: string;
  /** A fresh random nonce per page (see makeNonce). */
  nonce: string;
  /** The bundle (`dist/webviews/<panel>.js`) as a webview URI. */
  scriptUri: string;
  /** Style sheets (`dist/webviews/<panel>.css`, `media/…`) as webview URIs. */
  styleUris: string[];
  /** The page title (plain text; escaped here). */
  title: string;
  /** Element id of the bundle's `<script>` (the codicon font of @vscode-elements is found by it). */
  scriptId?: string;
}

/** The page's HTML. */
export function webviewHtml(o: WebviewPageOptions): string {
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${o.nonce}'`,
    `style-src ${o.cspSource} 'unsafe-inline'`,
    `font-src ${o.cspSource}`,
    `img-src ${o.cspSource} data:`,
  ].join('; ');
  const styles = o.styleUris.map((u) => `<link rel="stylesheet" href="${escapeHtmlAttribute(u)}">`).join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${escapeHtmlAttribute(csp)}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    ${styles}
    <title>${escapeHtmlAttribute(o.title)}</title>
  </head>
  <body>
    <div id="app"></div>
    <script nonce="${escapeHtmlAttribute(o.nonce)}"${o.scriptId ? ` id="${escapeHtmlAttribute(o.scriptId)}"` : ''} src="${escapeHtmlAttribute(o.scriptUri)}"></script>
  </body>
</html>`;
}

/** A nonce for one page: 32 random alphanumerics (crypto-strength). */
export function makeNonce(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

