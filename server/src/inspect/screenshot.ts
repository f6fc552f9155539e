/**
 * A browser action's screenshot for the inspector (common/src/inspector.ts ScreenshotResult):
 * the file a trajectory names (Observation.browser.screenshot, written by
 * server/src/browser/session.ts into `<trajectory>.assets/`), checked before a byte of it is
 * sent. The trajectory is untrusted (an imported or edited file), so its `path` is never used
 * unchecked: it must lead, symbolic links resolved, into the trajectory's own assets folder,
 * and the bytes read must have the recorded SHA-256 and be a PNG of at most
 * MAX_SCREENSHOT_BYTES.
 *
 * Why base64 in a message rather than a webview resource URI (`asWebviewUri` with the assets
 * folder among `localResourceRoots`): the bytes checked here are the bytes shown (a resource
 * URI is fetched later, after the file could have been swapped); the webview never names a
 * file, only a step and an action (common/src/webviewMessages.ts); no folder of the user's is
 * opened to the webview's loads; and the browser tests' host (test/browser/inspectorHost.ts),
 * which serves only the bundles, shows it the same way the extension does. The page's CSP
 * already allows `img-src data:` (client/src/webviewHtml.ts). The cost — a third more bytes on
 * the wire — is bounded by the size cap, and the webview asks only for the step it shows.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ScreenshotProblem, ScreenshotResult } from '../../../common/src/inspector';
import { MAX_SCREENSHOT_BYTES } from '../../../common/src/inspector';
import { assetsDirOf } from '../../../common/src/trajectory';
import { isInsideFolder } from '../../../common/src/paths';

/** The eight bytes every PNG file starts with (PNG specification, 5.2 "PNG signature"). */
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** What a trajectory records of a screenshot; fields are checked here, whatever their type. */
export interface ScreenshotRef {
  path: unknown;
  sha256: unknown;
}

/**
 * The screenshot `ref` of the trajectory file `trajectoryFile` (absolute), checked: `ref.path`
 * (relative to the trajectory's folder) is resolved, and accepted only when it lies inside
 * `<trajectory>.assets/` (assetsDirOf) both as written and with symbolic links resolved (real
 * paths of both); the file is opened without following a link, must be a regular file of at
 * most `maxBytes` bytes (default MAX_SCREENSHOT_BYTES), hash to `ref.sha256` (hex, any case)
 * and start with the PNG signature. Answers the bytes in base64, or the problem and a message
 * that names the recorded path. Nothing outside the assets folder is opened or even stat'ed
 * (but for the real-path lookups of the folder and of the path itself). Never throws.
 */
export async function readScreenshot(trajectoryFile: string, ref: ScreenshotRef, maxBytes: number = MAX_SCREENSHOT_BYTES): Promise<ScreenshotResult> {
  const shown = typeof ref.path === 'string' ? JSON.stringify(ref.path.length > 300 ? `${ref.path.slice(0, 300)}…` : ref.path) : String(ref.path);
  const assets = assetsDirOf(trajectoryFile);
  const assetsName = `${path.basename(assets)}/`;
  const fail = (problem: ScreenshotProblem, why: string): ScreenshotResult => ({ ok: false, problem, message: `Screenshot ${shown}: ${why}` });
  if (typeof ref.path !== 'string' || !ref.path || ref.path.includes('\0') || path.isAbsolute(ref.path)) {
    return fail('outside', `not a path relative to the trajectory's folder, so not one inside ${assetsName}; not shown.`);
  }
  const target = path.resolve(path.dirname(trajectoryFile), ref.path);
  if (!isInsideFolder(target, assets)) return fail('outside', `the path leads outside ${assetsName} (the trajectory's own screenshots folder); not shown.`);

  let realAssets: string;
  let realTarget: string;
  try {
    realAssets = await fs.promises.realpath(assets);
    realTarget = await fs.promises.realpath(target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return fail('missing', `no such file in ${assetsName} (moved or deleted since the run; it is kept beside the trajectory file).`);
    return fail('unreadable', `cannot be read (${errorText(err)}).`);
  }
  if (!isInsideFolder(realTarget, realAssets)) return fail('outside', `a symbolic link leads outside ${assetsName} (to ${realTarget}); not shown.`);

  let bytes: Buffer;
  try {
    bytes = await readAtMost(realTarget, maxBytes);
  } catch (err) {
    if (err instanceof TooLargeError) return fail('tooLarge', `${err.size === undefined ? 'more than' : `${err.size} bytes, more than`} the ${maxBytes} bytes the inspector shows.`);
    if (err instanceof NotAFileError) return fail('unreadable', 'not a regular file.');
    return fail('unreadable', `cannot be read (${errorText(err)}).`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const recorded = typeof ref.sha256 === 'string' ? ref.sha256.toLowerCase() : '';
  if (sha256 !== recorded) {
    return fail('changed', `the file's SHA-256 is ${sha256}, not the ${typeof ref.sha256 === 'string' ? ref.sha256.slice(0, 80) : 'missing'} recorded: it was changed or replaced since the run; not shown.`);
  }
  if (bytes.length < PNG_SIGNATURE.length || !bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) return fail('unreadable', 'not a PNG image.');
  return { ok: true, mime: 'image/png', base64: bytes.toString('base64'), bytes: bytes.length };
}

class TooLargeError extends Error {
  constructor(readonly size: number | undefined) {
    super('too large');
  }
}

class NotAFileError extends Error {}

/**
 * The bytes of regular file `file`, opened without following a final symbolic link; throws
 * TooLargeError past `max` bytes (also when it grows while read), NotAFileError for anything but
 * a regular file, and fs errors.
 */
async function readAtMost(file: string, max: number): Promise<Buffer> {
  const handle = await fs.promises.open(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new NotAFileError();
    if (st.size > max) throw new TooLargeError(st.size);
    const buf = Buffer.alloc(Math.min(st.size, max) + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > max) throw new TooLargeError(undefined);
      if (n === buf.length) break;
    }
    return buf.subarray(0, n);
  } finally {
    await handle.close();
  }
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ?? e?.message ?? String(err);
}
