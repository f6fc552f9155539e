/**
 * Links that open a trajectory at a step in the TrajLab Inspector from outside VS Code (the
 * quality report's HTML file): `vscode://trajlab.trajlab/inspect?trajectory=<absolute path>&step=<n>`.
 * The authority is the extension's id (package.json `publisher`.`name`); VS Code hands such a URI
 * to the extension's UriHandler (client/src/inspector/inspectUriHandler.ts), which checks the
 * path against the workspace and the output folder before opening anything. Pure: used by the
 * report page (webviews), the extension and the tests.
 */

/** The extension's id: package.json `publisher`.`name`. */
export const EXTENSION_ID = 'trajlab.trajlab';
/** The URI path of the inspect link. */
export const INSPECT_URI_PATH = '/inspect';
/** The highest step index a link may name (a 10,000-step trajectory is big; this is far past it). */
export const MAX_LINK_STEP = 10_000_000;

/**
 * The link that opens `file` (absolute) at step `step` (0-based position; null: no step, the
 * trajectory's start), e.g. `vscode://trajlab.trajlab/inspect?trajectory=%252Fw%252Fa.json&step=3`.
 * The path is percent-encoded twice: VS Code decodes a URI's query once (`vscode.Uri.query`)
 * before the extension reads it as form data (parseInspectUri), so a path holding `&`, `=`, `+`,
 * `#` or `%` still comes back whole. `scheme` is `vscode` (or `vscode-insiders`).
 */
export function inspectUri(file: string, step: number | null, scheme = 'vscode'): string {
  const q = `trajectory=${encodeURIComponent(encodeURIComponent(file))}${step !== null ? `&step=${step}` : ''}`;
  return `${scheme}://${EXTENSION_ID}${INSPECT_URI_PATH}?${q}`;
}

/** What an inspect link asks for, or why it is refused. */
export type InspectTarget = { ok: true; file: string; step: number | null } | { ok: false; error: string };

/**
 * Reads an inspect link's path and query as `vscode.Uri` gives them (`path` `/inspect`, `query`
 * `trajectory=%2Fw%2Fa.json&step=3`: decoded once, the path still encoded; see inspectUri). The trajectory must be an absolute path (POSIX
 * `/…`, or Windows `C:\…` / `C:/…`) without NUL and without `..` segments; the step, when given,
 * a decimal integer in [0, MAX_LINK_STEP]. Says nothing about whether the file may be opened:
 * the caller checks where it is. Never throws.
 */
export function parseInspectUri(uriPath: string, query: string): InspectTarget {
  if (uriPath !== INSPECT_URI_PATH) return { ok: false, error: `unknown TrajLab link path "${uriPath}" (expected ${INSPECT_URI_PATH})` };
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(query);
  } catch {
    return { ok: false, error: 'the link query cannot be read' };
  }
  const files = params.getAll('trajectory');
  if (files.length !== 1 || !files[0]) return { ok: false, error: 'the link must name one trajectory (trajectory=<absolute path>)' };
  const file = files[0];
  if (file.includes('\0')) return { ok: false, error: 'the trajectory path holds a NUL character' };
  if (!/^\//.test(file) && !/^[A-Za-z]:[\\/]/.test(file)) return { ok: false, error: `the trajectory path must be absolute (got ${JSON.stringify(file.slice(0, 200))})` };
  if (file.split(/[\\/]/).includes('..')) return { ok: false, error: 'the trajectory path must not contain ".." segments' };
  const steps = params.getAll('step');
  if (steps.length > 1) return { ok: false, error: 'the link names more than one step' };
  if (!steps.length || steps[0] === '') return { ok: true, file, step: null };
  const s = steps[0]!;
  const n = Number(s);
  if (!/^\d{1,8}$/.test(s) || n > MAX_LINK_STEP) return { ok: false, error: `the step must be an integer from 0 to ${MAX_LINK_STEP} (got ${JSON.stringify(s.slice(0, 20))})` };
  return { ok: true, file, step: n };
}
