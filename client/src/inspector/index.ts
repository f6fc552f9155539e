/**
 * The trajectory inspector's parts in the extension, registered together by `activate`: the
 * custom editor (inspectorProvider.ts), the diff documents it opens (diffContentProvider.ts)
 * the "Open in TrajLab Inspector" CodeLens (trajectoryCodeLens.ts), and the links that open a
 * trajectory at a step (inspectUriHandler.ts: the `vscode://trajlab.trajlab/inspect` UriHandler and
 * `trajlab.openTrajectoryAtStep`). The command
 * `trajlab.openInInspector` lives with the other commands (commands.ts).
 */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import { DiffContentProvider } from './diffContentProvider';
import { registerInspectLinks } from './inspectUriHandler';
import { InspectorProvider } from './inspectorProvider';
import { TRAJECTORY_CODELENS_SELECTOR, TrajectoryCodeLensProvider } from './trajectoryCodeLens';

/** Registers the inspector; the provider (for the test API) and everything to dispose. */
export function registerInspector(ctx: Ctx): { provider: InspectorProvider; disposables: vscode.Disposable[] } {
  const diffs = new DiffContentProvider();
  const provider = new InspectorProvider(ctx, diffs);
  const codeLens = vscode.languages.registerCodeLensProvider(TRAJECTORY_CODELENS_SELECTOR, new TrajectoryCodeLensProvider());
  return { provider, disposables: [provider, codeLens, diffs, ...registerInspectLinks(ctx, provider)] };
}
