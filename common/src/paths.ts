/**
 * Path checks shared by the extension and the daemon (Node only: webview bundles must not import
 * this module).
 */
import * as path from 'node:path';

/**
 * True when `p` (absolute) is strictly inside the folder `folder` (absolute), compared as
 * written, by path segments: `/a/b.assets/..x.png` is inside `/a/b.assets` (a name that starts
 * with two dots is a name), `/a/b.assets-x/y` and the folder itself are not. Resolve symbolic
 * links first (fs.realpath) where a link could lead out. Pure.
 */
export function isInsideFolder(p: string, folder: string): boolean {
  const rel = path.relative(folder, p);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}
