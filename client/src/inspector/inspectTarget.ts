/**
 * Where a quality-report link (`vscode://trajlab.trajlab/inspect?trajectory=…&step=…`,
 * common/src/inspectUri.ts) may lead: never further than the folders this window works in.
 * Without VS Code (unit-tested); used by inspectUriHandler.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseInspectUri, type InspectTarget } from '../../../common/src/inspectUri';
import { isInsideFolder } from '../../../common/src/paths';

/**
 * What the link (`uriPath`, `query`: as vscode.Uri gives them) may open: its trajectory's real
 * path when that is an existing file inside one of `roots` (absolute folders, real paths taken),
 * with its step. Never throws.
 */
export function resolveInspectTarget(uriPath: string, query: string, roots: string[]): InspectTarget {
  const parsed = parseInspectUri(uriPath, query);
  if (!parsed.ok) return parsed;
  let real: string;
  try {
    real = fs.realpathSync(parsed.file);
  } catch {
    return { ok: false, error: `${parsed.file} does not exist` };
  }
  const inside = roots.some((r) => {
    let root: string;
    try {
      root = fs.realpathSync(r);
    } catch {
      return false;
    }
    return isInsideFolder(real, root);
  });
  if (!inside) return { ok: false, error: `${parsed.file} is outside this window's workspace folders and TrajLab output folder; open a window on the folder that holds it` };
  if (!fs.statSync(real).isFile()) return { ok: false, error: `${parsed.file} is not a file` };
  return { ok: true, file: real, step: parsed.step };
}

