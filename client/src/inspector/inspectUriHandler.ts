/**
 * Opens quality-report links in the inspector: the extension's UriHandler for
 * `vscode://trajlab.trajlab/inspect?trajectory=<absolute path>&step=<n>` (common/src/inspectUri.ts),
 * and the command `trajlab.openTrajectoryAtStep` (file, step) that the Dataset panel's Quality
 * tab uses. A link comes from a file anyone could have written, so its path is never trusted:
 * resolveInspectTarget opens only an existing file that lies, symbolic links resolved, inside a
 * workspace folder or the output folder (where runs live). A refused link says why, and nothing
 * is opened (inspectTarget.ts).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { MAX_LINK_STEP } from '../../../common/src/inspectUri';
import type { Ctx } from '../ctx';
import type { InspectorProvider } from './inspectorProvider';
import { resolveInspectTarget } from './inspectTarget';

/** The folders a link may open files in: the workspace folders and the output folder. */
function linkRoots(ctx: Ctx): string[] {
  return [...(vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath), ...(ctx.out ? [ctx.out] : [])];
}

/** Registers the UriHandler and `trajlab.openTrajectoryAtStep`; everything returned is to be disposed. */
export function registerInspectLinks(ctx: Ctx, provider: InspectorProvider): vscode.Disposable[] {
  const handler: vscode.UriHandler = {
    handleUri: async (uri) => {
      const target = resolveInspectTarget(uri.path, uri.query, linkRoots(ctx));
      if (!target.ok) {
        ctx.log.warn(`inspect link refused: ${target.error}`);
        void ctx.showMessage('warning', `TrajLab cannot open this link: ${target.error}.`);
        return;
      }
      ctx.log.info(`inspect link: ${target.file}${target.step !== null ? ` at step ${target.step}` : ''}`);
      await provider.openAt(target.file, target.step).then(undefined, (err: Error) => {
        ctx.log.error(`inspect link: ${err.message}`);
        void ctx.showMessage('error', `TrajLab: ${err.message}`);
      });
    },
  };
  return [
    vscode.window.registerUriHandler(handler),
    ctx.registerCommand('trajlab.openTrajectoryAtStep', async (file, step) => {
      if (typeof file !== 'string' || !path.isAbsolute(file)) throw new Error('trajlab.openTrajectoryAtStep takes an absolute trajectory path and a step');
      if (step !== null && step !== undefined && !(Number.isInteger(step) && (step as number) >= 0 && (step as number) <= MAX_LINK_STEP)) throw new Error(`the step must be an integer ≥ 0 (got ${JSON.stringify(step)})`);
      await provider.openAt(file, (step as number | null | undefined) ?? null);
      return file;
    }),
  ];
}
