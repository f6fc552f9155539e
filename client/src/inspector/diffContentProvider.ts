/**
 * Virtual documents for VS Code's diff editor (`vscode.diff`) opened from the inspector: the two
 * sides the daemon rebuilt (`trajlab/trajectory/diffSides`) are held in memory under a random
 * key that the URI carries (`trajlab-diff:/<key>/<left|right>/<name>`). The URI names nothing
 * on disk and no path from the webview is used; the name only picks the language mode. Entries
 * are dropped when both documents close, and the oldest beyond MAX_DIFFS; a diff editor
 * restored after a reload says to reopen it from the inspector.
 */
import * as crypto from 'node:crypto';
import * as vscode from 'vscode';

/** The URI scheme of the diff sides. */
export const DIFF_SCHEME = 'trajlab-diff';
/** Diffs kept in memory at most (oldest dropped first). */
export const MAX_DIFFS = 50;

/** Serves the sides of the inspector's diffs (see the file comment). */
export class DiffContentProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly diffs = new Map<string, { left: string; right: string }>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    this.disposables.push(
      vscode.workspace.registerTextDocumentContentProvider(DIFF_SCHEME, this),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        if (doc.uri.scheme !== DIFF_SCHEME) return;
        const key = keyOf(doc.uri);
        const stillOpen = vscode.workspace.textDocuments.some((d) => d.uri.scheme === DIFF_SCHEME && keyOf(d.uri) === key);
        if (key && !stillOpen) this.diffs.delete(key);
      }),
    );
  }

  /**
   * Keeps `left` and `right` and returns the URIs of the two sides. `name` (untrusted text, e.g.
   * the file path as the diff names it) only gives the documents a file name: its last segment,
   * reduced to safe characters.
   */
  add(left: string, right: string, name: string): { left: vscode.Uri; right: vscode.Uri } {
    const key = crypto.randomUUID();
    this.diffs.set(key, { left, right });
    while (this.diffs.size > MAX_DIFFS) this.diffs.delete(this.diffs.keys().next().value!);
    const base = safeName(name);
    return {
      left: vscode.Uri.from({ scheme: DIFF_SCHEME, path: `/${key}/left/${base}` }),
      right: vscode.Uri.from({ scheme: DIFF_SCHEME, path: `/${key}/right/${base}` }),
    };
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const [, key, side] = uri.path.split('/');
    const diff = key ? this.diffs.get(key) : undefined;
    if (!diff) return 'This diff is no longer in memory: open it again from the TrajLab Inspector.\n';
    return side === 'left' ? diff.left : diff.right;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
    this.diffs.clear();
  }
}

function keyOf(uri: vscode.Uri): string | undefined {
  return uri.path.split('/')[1] || undefined;
}

/** The last path segment of `name`, limited to `[\w.-]` and 100 characters ('diff' when nothing is left). */
function safeName(name: string): string {
  const last = name.split(/[\\/]/).filter(Boolean).pop() ?? '';
  const safe = last.replace(/[^\w.-]+/g, '_').replace(/^\.+/, '').slice(0, 100);
  return safe || 'diff';
}
