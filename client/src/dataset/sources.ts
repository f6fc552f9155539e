/**
 * What the dataset commands accept as their sources, and which saved sources a restored panel
 * may use. Pure (no `vscode` import), so it is unit-tested without VS Code.
 *
 * Command arguments, as VS Code passes them `(item, selectedItems)`:
 * - Runs view items `{kind: 'run', runId}` (one, or several selected) → `<out>/runs/<runId>`;
 *   attempt items `{kind: 'attempt', runId}` count as their run;
 * - Trajectories view items `{kind: 'trajectory', trajectoryPath}` → that file;
 * - explorer resources (a `file:` Uri, or several selected) → their paths;
 * - from code: a run id or an absolute path, a list of them, or `{sources: string[]}`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isRunId, runDir } from '../refs';

/** One thing a dataset command was given (before it is turned into a path). */
type Item = unknown;

/**
 * The items of a command invocation: the selection when VS Code passes one that holds the
 * clicked item (multi-select), else the clicked item alone.
 */
export function invocationItems(args: unknown[]): Item[] {
  const [first, second] = args;
  if (Array.isArray(second) && second.length && (first === undefined || second.some((x) => itemKey(x) === itemKey(first)))) return second;
  if (Array.isArray(first)) return first;
  return first === undefined || first === null ? [] : [first];
}

/** What identifies an item (explorer Uris of one invocation are distinct objects). */
function itemKey(item: unknown): unknown {
  if (!item || typeof item !== 'object') return item;
  const o = item as { kind?: unknown; runId?: unknown; taskId?: unknown; attempt?: unknown; fsPath?: unknown; trajectoryPath?: unknown };
  if (typeof o.fsPath === 'string') return `uri:${o.fsPath}`;
  if (typeof o.kind === 'string') return `${o.kind}:${String(o.runId)}:${String(o.taskId)}:${String(o.attempt)}:${String(o.trajectoryPath)}`;
  return item;
}

/**
 * The absolute source paths of a command's arguments (see the file comment), deduplicated in
 * order. `out` is the output root runs live under (needed for run items and run ids). Items it
 * cannot read are ignored. Errors: none (an empty list means "ask the user").
 */
export function sourcesOfArgs(args: unknown[], out: string | undefined): string[] {
  const seen = new Set<string>();
  const result: string[] = [];
  const add = (p: string | undefined) => {
    if (!p || !path.isAbsolute(p)) return;
    const n = path.resolve(p);
    if (seen.has(n)) return;
    seen.add(n);
    result.push(n);
  };
  for (const item of invocationItems(args)) {
    if (typeof item === 'string') {
      if (path.isAbsolute(item)) add(item);
      else if (out && isRunId(item)) add(runDir(out, item));
      continue;
    }
    if (!item || typeof item !== 'object') continue;
    const o = item as { kind?: unknown; runId?: unknown; trajectoryPath?: unknown; fsPath?: unknown; scheme?: unknown; sources?: unknown };
    if (Array.isArray(o.sources)) {
      for (const s of o.sources) if (typeof s === 'string') add(s);
    } else if (typeof o.fsPath === 'string' && (o.scheme === undefined || o.scheme === 'file')) {
      add(o.fsPath);
    } else if (o.kind === 'trajectory' && typeof o.trajectoryPath === 'string' && o.trajectoryPath) {
      add(o.trajectoryPath);
    } else if ((o.kind === 'run' || o.kind === 'attempt') && out && isRunId(o.runId)) {
      add(runDir(out, o.runId));
    }
  }
  return result;
}

/**
 * The two sides of "Compare runs" from a command's arguments: `{runA, runB}` (paths or run ids),
 * or exactly two sources (runs ordered oldest first by their run id, which starts with the
 * start time, so B is the newer run; other paths in the order given). Undefined otherwise.
 */
export function compareSidesOfArgs(args: unknown[], out: string | undefined): [string, string] | undefined {
  const first = args[0] as { runA?: unknown; runB?: unknown } | undefined;
  if (first && typeof first === 'object' && 'runA' in first && 'runB' in first) {
    const a = sourcesOfArgs([first.runA], out);
    const b = sourcesOfArgs([first.runB], out);
    return a.length === 1 && b.length === 1 ? [a[0]!, b[0]!] : undefined;
  }
  const items = invocationItems(args);
  const sources = sourcesOfArgs(args, out);
  if (sources.length !== 2) return undefined;
  const allRuns = items.length === 2 && items.every((i) => isRunId((i as { runId?: unknown } | null)?.runId) || isRunId(i));
  if (allRuns) return [...sources].sort((x, y) => (path.basename(x) < path.basename(y) ? -1 : path.basename(x) > path.basename(y) ? 1 : 0)) as [string, string];
  return [sources[0]!, sources[1]!];
}

/**
 * Whether a source saved in a panel's webview state may be used again when VS Code restores
 * the panel: webview state is page data, so only an absolute path that exists and lies inside
 * one of `roots` (the workspace folders and the output root) is accepted.
 */
export function isRestorableSource(p: unknown, roots: string[]): p is string {
  if (typeof p !== 'string' || !p || !path.isAbsolute(p) || p.includes('\0')) return false;
  const n = path.normalize(p);
  const inside = roots.some((r) => {
    const rel = path.relative(path.normalize(r), n);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  });
  return inside && fs.existsSync(n);
}

/** A short name for a source in titles: the run id of a run folder, else the base name. */
export function sourceLabel(p: string): string {
  return path.basename(p) || p;
}

/** The panel title of a set of sources: `Dataset: r1, r2` (at most three names, then `+N`). */
export function datasetTitle(sources: string[]): string {
  const names = sources.map(sourceLabel);
  return `Dataset: ${names.slice(0, 3).join(', ')}${names.length > 3 ? ` +${names.length - 3}` : ''}`;
}
