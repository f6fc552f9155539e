/**
 * "Export this trajectory…" from the inspector: pick one of the training-data formats
 * (common/src/dataset.ts EXPORT_FORMATS), pick the output file, and let the daemon write it
 * (`trajlab/dataset/export`, the engine of `trajlab export`) under a cancellable progress
 * notification. The one trajectory is exported even when it has no recorded end (imported
 * message lists often have none): the user chose it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EXPORT_FORMATS, type ExportFormat, type ExportResult } from '../../../common/src/dataset';
import type { TrajectoryHeader } from '../../../common/src/inspector';
import { DatasetExportRequest } from '../../../common/src/protocol';
import type { Ctx } from '../ctx';

/** What the format picker says about each format (the writers' sources: common/src/dataset.ts). */
export const EXPORT_FORMAT_INFO: Record<ExportFormat, { description: string; extension: string }> = {
  openai: { description: 'OpenAI chat fine-tuning JSONL: messages, tools, tool replies', extension: 'jsonl' },
  sharegpt: { description: 'ShareGPT conversations as LLaMA-Factory reads them', extension: 'jsonl' },
  'swesmith-xml': { description: "SWE-smith SFT, XML-style function calls (transform_to_ft 'xml')", extension: 'jsonl' },
  'swesmith-ticks': { description: "SWE-smith SFT, commands in backticks (transform_to_ft 'ticks')", extension: 'jsonl' },
  'swesmith-tool': { description: "SWE-smith SFT, native tool calls (transform_to_ft 'tool')", extension: 'jsonl' },
  atif: { description: 'Harbor ATIF v1.5 (v1.6 with screenshots or task images), one JSON document per trajectory (Export… writes a folder of them)', extension: 'json' },
  samples: { description: 'One row per model call with its full prompt and response', extension: 'jsonl' },
  'examples-json': { description: 'Legacy {metadata, examples[]} document', extension: 'json' },
  'trajectories-json': { description: 'Legacy {trajectories[]} document', extension: 'json' },
};

/**
 * Runs the export of `file` (asking format and output); returns the written data file, or
 * undefined when dismissed, cancelled, nothing was kept, or the daemon is down (each said to
 * the user). Errors: the daemon's (unwritable output, unreadable source).
 */
export async function exportTrajectory(ctx: Ctx, file: string, header: TrajectoryHeader | undefined): Promise<string | undefined> {
  const name = header?.taskId || path.basename(file);
  const pick = await vscode.window.showQuickPick(
    EXPORT_FORMATS.map((format) => ({ label: format, description: EXPORT_FORMAT_INFO[format].description, format })),
    { title: `Export ${name} as training data`, placeHolder: 'Format', matchOnDescription: true },
  );
  if (!pick) return undefined;
  const format = pick.format;
  const out = await vscode.window.showSaveDialog({
    title: `Export ${name} (${format})`,
    saveLabel: 'Export',
    defaultUri: vscode.Uri.file(defaultOutput(ctx, file, header, format)),
    filters: { [EXPORT_FORMAT_INFO[format].extension === 'json' ? 'JSON' : 'JSON Lines']: [EXPORT_FORMAT_INFO[format].extension] },
  });
  if (!out) return undefined;
  const client = await ctx.requireClient();
  if (!client) return undefined;

  let result: ExportResult;
  try {
    result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Exporting ${name} as ${format}…`, cancellable: true },
      (_progress, token) =>
        client.sendRequest(
          DatasetExportRequest.type,
          // The save dialog already asked before replacing a file.
          { sources: [file], options: { format, out: out.fsPath, overwrite: true, filters: { includeUnfinished: true } } },
          token,
        ),
    );
  } catch (err) {
    if (isCancelled(err)) return undefined;
    throw err;
  }
  const m = result.manifest;
  const output = m.outputs[0]?.file ?? out.fsPath;
  if (m.counts.kept === 0) {
    const entry = m.trajectories[0];
    const why = entry?.reason ? `${entry.reason}${entry.detail ? `: ${entry.detail}` : ''}` : 'no trajectory was kept';
    void ctx.showMessage('warning', `Nothing exported from ${name} as ${format} (${why}). Manifest: ${result.manifestFile}`);
    return undefined;
  }
  for (const w of result.warnings) ctx.log.warn(`export ${format}: ${w}`);
  void ctx.showMessage('info', `Exported ${name} as ${format}: ${m.counts.rows} row${m.counts.rows === 1 ? '' : 's'} in ${output}.`, 'Open file').then((b) => {
    if (b) void vscode.window.showTextDocument(vscode.Uri.file(output), { preview: true });
  });
  return output;
}

/**
 * `<stem>.<format>.<ext>` in the first folder that exists of `<out>/exports`, `<out>` and the
 * trajectory's own (save dialogs refuse a folder that does not exist; the export creates it).
 */
function defaultOutput(ctx: Ctx, file: string, header: TrajectoryHeader | undefined, format: ExportFormat): string {
  const stem = path.basename(file).replace(/\.(trajectory\.json|traj\.json|json|traj)$/i, '') || header?.taskId || 'trajectory';
  const safe = stem.replace(/[^\w.-]+/g, '_').replace(/^\.+/, '').slice(0, 120) || 'trajectory';
  const candidates = ctx.out ? [path.join(ctx.out, 'exports'), ctx.out] : [];
  const dir = candidates.find((d) => fs.existsSync(d)) ?? path.dirname(file);
  return path.join(dir, `${safe}.${format}.${EXPORT_FORMAT_INFO[format].extension}`);
}

function isCancelled(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  // vscode-jsonrpc's RequestCancelled (-32800) and LSP's RequestCancelled (-32800 / ServerCancelled -32802).
  return e?.code === -32800 || e?.code === -32802 || (typeof e?.message === 'string' && /cancel/i.test(e.message));
}
