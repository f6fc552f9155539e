/**
 * The quality report as one self-contained HTML file (`trajlab report --out report.html`): the
 * report as JSON in a `<script type="application/json">` block, the page's code and styles (the
 * esbuild bundle dist/webviews/report.js and report.css, chart.js included, built by
 * scripts/build.mjs) inlined, no network. A Content-Security-Policy meta tag allows nothing but
 * that one script and that one style element, by a fresh nonce each; images only as `data:`.
 *
 * The JSON is made safe inside the script element by escaping `<` (and U+2028 / U+2029) as
 * `\uXXXX`: no task id, command or path can close the element or open a comment, whatever it
 * holds. The page renders every text with textContent (webviews/src/dataset/qualityView.ts).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { escapeHtmlAttribute } from '../../../common/src/format';
import { QUALITY_REPORT_DATA_ID, type QualityReport } from '../../../common/src/qualityReport';
import { writeFileAtomic } from '../util/fsAtomic';

/** The page's code and styles (the contents of dist/webviews/report.js and report.css). */
export interface ReportAssets {
  script: string;
  css: string;
}

/**
 * Reads the built page (report.js, report.css) from the folder beside the CLI bundle
 * (`dist/webviews`), or from the repository's dist/webviews when run from the sources. Throws
 * Error naming the missing file and saying to run `npm run build`.
 */
export function readReportAssets(): ReportAssets {
  const candidates = [path.join(__dirname, 'webviews'), path.resolve(__dirname, '..', '..', '..', 'dist', 'webviews')];
  const dir = candidates.find((d) => fs.existsSync(path.join(d, 'report.js')));
  if (!dir) throw new Error(`the quality report's page (report.js) is missing from ${candidates.join(' and ')}: build TrajLab first (npm run build)`);
  const css = path.join(dir, 'report.css');
  return { script: fs.readFileSync(path.join(dir, 'report.js'), 'utf8'), css: fs.existsSync(css) ? fs.readFileSync(css, 'utf8') : '' };
}

/** `value` as JSON that is safe as the text of an HTML script element (see the module comment). Pure. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * Code as the text of an inline `<script>` / `<style>` element: its source-map comment dropped
 * (there is no map beside the file) and any `</script` / `</style` spelt so the element cannot
 * end early (`<\/script` in a JS string or regex is the same text). Throws Error when the code
 * holds `<!--` and `<script` (which would put the parser in the "double escaped" state). Pure.
 */
function inlineSafe(code: string, tag: 'script' | 'style'): string {
  const stripped = code.replace(/\n?\/[*/]# sourceMappingURL=[^\n]*\s*$/, '');
  if (tag === 'style') return stripped.replace(/<\/(style)/gi, '<\\/$1');
  if (stripped.includes('<!--') && /<script/i.test(stripped)) throw new Error('the report page holds "<!--" and "<script", which cannot be inlined safely; rebuild it (npm run build)');
  return stripped.replace(/<\/(script)/gi, '<\\/$1');
}

/** The HTML file of `report` with `assets` inlined and a fresh nonce (see the module comment). Pure but for the nonce. */
export function qualityReportHtml(report: QualityReport, assets: ReportAssets, nonce = randomBytes(18).toString('base64url')): string {
  const csp = ["default-src 'none'", `script-src 'nonce-${nonce}'`, `style-src 'nonce-${nonce}'`, 'img-src data:', "base-uri 'none'", "form-action 'none'"].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="TrajLab ${escapeHtmlAttribute(report.trajlab_version)}">
<title>TrajLab quality report</title>
<style nonce="${nonce}">
${inlineSafe(assets.css, 'style')}
</style>
</head>
<body>
<div id="app"></div>
<script type="application/json" id="${QUALITY_REPORT_DATA_ID}">${scriptSafeJson(report)}</script>
<script nonce="${nonce}">
${inlineSafe(assets.script, 'script')}
</script>
</body>
</html>
`;
}

/** Writes the HTML file of `report` to `file` atomically (the page read by readReportAssets). Errors as readReportAssets, and the write's. */
export async function writeQualityReportHtml(file: string, report: QualityReport): Promise<void> {
  await writeFileAtomic(file, qualityReportHtml(report, readReportAssets()));
}

