/**
 * Diffs for the inspector: the edit of a str_replace-style edit action as a unified diff (jsdiff),
 * and the final diff of a trajectory (git's unified format, `git diff` output) read back into
 * files and hunks by diff2html's parser, from which the two sides shown by VS Code's diff editor
 * are rebuilt.
 *
 * Formats: unified diff as GNU diffutils and git write it
 * (https://www.gnu.org/software/diffutils/manual/html_node/Detailed-Unified.html,
 * https://git-scm.com/docs/git-diff#_generating_patch_text_with_p), including git's extended
 * headers (`new file mode`, `rename from`, `Binary files … differ`) and C-quoted paths.
 */
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from 'diff';
import { parse as parseDiff } from 'diff2html/lib/diff-parser';
import type { Action } from '../../../common/src/trajectory';

type EditAction = Extract<Action, { kind: 'edit' }>;

/** The text an edit action replaced and the text it wrote (both '' when none). */
export interface EditTexts {
  old: string;
  new: string;
  /** True when the edit writes a whole new file (`create`). */
  created: boolean;
}

/**
 * What an edit action changes, from its arguments (TrajLab's `str_replace_based_edit`, the
 * Anthropic / OpenHands `str_replace_editor`): `create` → '' / `file_text`; `str_replace` →
 * `old_str` / `new_str`; `insert` → '' / `new_str`. Undefined for edits that change nothing
 * (`view`, `undo_edit`) or whose arguments hold no text. Pure.
 */
export function editTexts(action: EditAction): EditTexts | undefined {
  const a = action.args ?? {};
  const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
  switch (action.command) {
    case 'create': {
      const text = s(a.file_text);
      return text === undefined ? undefined : { old: '', new: text, created: true };
    }
    case 'str_replace': {
      const oldStr = s(a.old_str);
      const newStr = s(a.new_str);
      return oldStr === undefined && newStr === undefined ? undefined : { old: oldStr ?? '', new: newStr ?? '', created: false };
    }
    case 'insert': {
      const newStr = s(a.new_str);
      return newStr === undefined ? undefined : { old: '', new: newStr, created: false };
    }
    default:
      return undefined;
  }
}

/**
 * The edit as a unified diff (`--- a/<path>` / `+++ b/<path>`, 3 lines of context, hunk line
 * numbers relative to the replaced text: a trajectory records the edit, not the file), or
 * undefined when the action changes nothing (see editTexts). A diff that takes longer than
 * `timeoutMs` to compute (two large, very different texts) falls back to "all removed, all
 * added". Pure.
 */
export function editDiff(action: EditAction, timeoutMs = 500): string | undefined {
  const t = editTexts(action);
  if (!t) return undefined;
  let { old: oldText, new: newText } = t;
  // A replaced fragment rarely ends with a line break: do not mark both sides "No newline at end of file".
  if (oldText && newText && !oldText.endsWith('\n') && !newText.endsWith('\n')) {
    oldText += '\n';
    newText += '\n';
  }
  const name = headerPath(action.path);
  const oldName = t.created ? '/dev/null' : `a/${name}`;
  const newName = `b/${name}`;
  const patch = createTwoFilesPatch(oldName, newName, oldText, newText, undefined, undefined, { context: 3, headerOptions: FILE_HEADERS_ONLY, timeout: timeoutMs });
  return patch ?? wholeReplacement(oldName, newName, oldText, newText);
}

/** A diff line may not hold a line break: a path with one is shown with spaces. */
function headerPath(p: string): string {
  return p.replace(/[\r\n]+/g, ' ').replace(/^\/+/, '');
}

function wholeReplacement(oldName: string, newName: string, oldText: string, newText: string): string {
  const lines = (text: string) => (text === '' ? [] : text.replace(/\n$/, '').split('\n'));
  const o = lines(oldText);
  const n = lines(newText);
  const range = (start: number, count: number) => `${count === 0 ? 0 : start},${count}`;
  return [
    `--- ${oldName}`,
    `+++ ${newName}`,
    `@@ -${range(1, o.length)} +${range(1, n.length)} @@`,
    ...o.map((l) => `-${l}`),
    ...n.map((l) => `+${l}`),
  ].join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// The final diff

/** One hunk of a unified diff: its header numbers and its lines, each with its ' ', '-', '+' or '\' prefix. */
export interface DiffHunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: string[];
}

/** One file of a unified diff. Paths without their `a/` / `b/` prefix; null for /dev/null (added / deleted files). */
export interface DiffFile {
  oldPath: string | null;
  newPath: string | null;
  binary: boolean;
  hunks: DiffHunk[];
}

/**
 * The files of a unified diff (git or plain `diff -u`), in order, as diff2html's parser reads
 * them (the same parser the inspector page renders with, so both name files alike): git's
 * extended headers, renames, binary files, and lines that look like headers inside hunks.
 * Hunk header counts come from the lines read, so a hunk cut short (a clipped diff) keeps the
 * lines it has. Pure.
 */
export function parseUnifiedDiff(text: string): DiffFile[] {
  return parseDiff(text.replace(/\r$/gm, '')).map((f) => ({
    oldPath: f.isNew || f.oldName === '/dev/null' ? null : unquote(f.oldName),
    newPath: f.isDeleted || f.newName === '/dev/null' ? null : unquote(f.newName),
    binary: !!f.isBinary,
    // A binary file's "Binary files … differ" comes as a block without a hunk header.
    hunks: f.blocks.filter((b) => b.header.startsWith('@@')).map((b) => {
      const lines = b.lines.map((l) => (l.content === '' ? ' ' : l.content));
      const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(b.header);
      return {
        oldStart: m ? +m[1]! : b.oldStartLine,
        oldLines: m ? (m[2] === undefined ? 1 : +m[2]) : lines.filter((l) => l[0] !== '+').length,
        newStart: m ? +m[3]! : b.newStartLine,
        newLines: m ? (m[4] === undefined ? 1 : +m[4]) : lines.filter((l) => l[0] !== '-').length,
        lines,
      };
    }),
  }));
}

const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/** A path as git writes it: C-quoted (`"a/caf\303\251"`, octal UTF-8 bytes, with or without its quotes) or bare. */
export function unquote(s: string): string {
  if (!s.includes('\\')) return s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
  const body = s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const next = body[i + 1] ?? '';
    const oct = /^[0-7]{1,3}/.exec(body.slice(i + 1, i + 4));
    if (oct) {
      bytes.push(parseInt(oct[0], 8) & 0xff);
      i += oct[0].length;
    } else {
      bytes.push(ESCAPES[next] ?? next.charCodeAt(0));
      i++;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function stripPrefix(p: string): string {
  return /^[ab]\//.test(p) ? p.slice(2) : p;
}

/** The path a file of the final diff goes by: its new path, or its old one when deleted. */
export function diffFilePath(f: DiffFile): string {
  return f.newPath ?? f.oldPath ?? '';
}

/**
 * Finds `file` among the files of a diff: by new path, then by old path (a deleted or renamed
 * file), with or without an `a/` / `b/` prefix, unquoted or with git's escapes. Undefined when
 * absent.
 */
export function findDiffFile(files: DiffFile[], file: string): DiffFile | undefined {
  const want = [file, stripPrefix(file)];
  // A renderer that does not unquote git's C-quoted paths names them with their escapes (`caf\303\251.txt`).
  if (file.includes('\\')) {
    const unq = unquote(file);
    want.push(unq, stripPrefix(unq));
  }
  return files.find((f) => f.newPath !== null && want.includes(f.newPath)) ?? files.find((f) => f.oldPath !== null && want.includes(f.oldPath));
}

/**
 * The two sides of one file of a diff, rebuilt from its hunks: left = context and removed
 * lines, right = context and added lines, with a `…` line (on both sides) for each gap between
 * hunks and before a first hunk that starts after line 1. Pure.
 */
export function diffSides(f: DiffFile): { left: string; right: string } {
  const left: string[] = [];
  const right: string[] = [];
  let lastOldEnd = 1;
  let lastNewEnd = 1;
  f.hunks.forEach((h, n) => {
    const gap = n === 0 ? h.oldStart > 1 || h.newStart > 1 : h.oldStart > lastOldEnd || h.newStart > lastNewEnd;
    if (gap) {
      left.push('…');
      right.push('…');
    }
    for (const l of h.lines) {
      const c = l[0];
      if (c === ' ') {
        left.push(l.slice(1));
        right.push(l.slice(1));
      } else if (c === '-') left.push(l.slice(1));
      else if (c === '+') right.push(l.slice(1));
    }
    lastOldEnd = h.oldStart + h.oldLines;
    lastNewEnd = h.newStart + h.newLines;
  });
  const join = (xs: string[]) => (xs.length ? xs.join('\n') + '\n' : '');
  return { left: join(left), right: join(right) };
}
