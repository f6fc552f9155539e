/**
 * CodeLens "Open in TrajLab Inspector" at the top of a trajectory opened as text: JSON files
 * whose first and last few KB carry a trajectory format's marker (sniff.ts), and SWE-agent
 * `.traj` files. Reads only those parts of the document, so large files cost nothing.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SNIFF_HEAD_CHARS, SNIFF_TAIL_CHARS, sniffTrajectoryFormat } from './sniff';

/** The documents the CodeLens looks at. */
export const TRAJECTORY_CODELENS_SELECTOR: vscode.DocumentSelector = [
  { scheme: 'file', language: 'json' },
  { scheme: 'file', language: 'jsonc' },
  { scheme: 'file', pattern: '**/*.traj' },
];

const FORMAT_NAMES: Record<string, string> = {
  trajlab: 'TrajLab',
  atif: 'Harbor ATIF',
  'mini-swe-agent': 'mini-swe-agent',
  'mini-swe-agent-legacy': 'mini-swe-agent (message list)',
  'swe-agent': 'SWE-agent',
};

/** Offers `trajlab.openInInspector` on trajectory documents (see the file comment). */
export class TrajectoryCodeLensProvider implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const format = sniffDocument(document);
    if (!format) return [];
    const lens = new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), {
      title: 'Open in TrajLab Inspector',
      tooltip: `A ${FORMAT_NAMES[format] ?? format} trajectory: show its steps, diffs and observations in the TrajLab Inspector`,
      command: 'trajlab.openInInspector',
      arguments: [document.uri],
    });
    return [lens];
  }
}

/** The trajectory format a text document seems to hold (sniff.ts), from its head and tail only. */
export function sniffDocument(document: vscode.TextDocument): ReturnType<typeof sniffTrajectoryFormat> {
  const end = document.lineAt(document.lineCount - 1).range.end;
  const length = document.offsetAt(end);
  const head = document.getText(new vscode.Range(new vscode.Position(0, 0), document.positionAt(Math.min(length, SNIFF_HEAD_CHARS))));
  const tail = length > SNIFF_HEAD_CHARS ? document.getText(new vscode.Range(document.positionAt(Math.max(SNIFF_HEAD_CHARS, length - SNIFF_TAIL_CHARS)), end)) : '';
  return sniffTrajectoryFormat(head, tail, path.basename(document.uri.fsPath));
}
