/**
 * The `browser` tool's observation text (issue 20): a page's accessibility tree as Playwright's
 * AI-mode aria snapshot gives it (`page.ariaSnapshotJSON({mode: 'ai'})`: nodes with `role`,
 * `name`, `text`, state flags and a `ref` per element; playwright-core types.d.ts,
 * `Locator.ariaSnapshotJSON`), rendered as indented lines in which every interactive element is
 * numbered `[N]` — those numbers are the tool's `element_id`s (as in Inspect AI's `web_browser`
 * and BrowserGym's `bid`s) — and cut to a character budget with the cut recorded. Pure: no
 * browser here (session.ts takes the snapshot). Page content is text: it is only ever printed.
 */

/** A node of Playwright's aria snapshot JSON (the fields used here; others are ignored). */
export interface AriaNode {
  role?: string;
  name?: string;
  text?: string;
  ref?: string;
  url?: string;
  level?: number;
  checked?: boolean | 'mixed';
  disabled?: boolean;
  expanded?: boolean;
  selected?: boolean;
  pressed?: boolean | 'mixed';
  children?: (AriaNode | string)[];
}

/** Roles an agent acts on: each gets an element id. */
export const INTERACTIVE_ROLES: ReadonlySet<string> = new Set([
  'link', 'button', 'textbox', 'searchbox', 'checkbox', 'radio', 'combobox', 'listbox', 'menuitem',
  'menuitemcheckbox', 'menuitemradio', 'tab', 'switch', 'slider', 'spinbutton', 'treeitem', 'option',
]);

/** Default observation budget, characters (about 4,000 tokens at 4 characters a token). */
export const DEFAULT_OBSERVATION_CHARS = 16_000;

/** Longest text of one node shown, characters (longer text is cut with `…`). */
const NODE_TEXT_CHARS = 400;

/** How a tree was cut to its budget (recorded in the step's observation: BrowserObservation.cut). */
export interface TreeCut {
  /** Lines of the whole tree, and how many of them were shown. */
  total_lines: number;
  shown_lines: number;
  /** Characters of the whole tree, and of the lines shown. */
  total_chars: number;
  shown_chars: number;
  /** Interactive elements numbered in the whole tree, and the highest id shown. */
  total_elements: number;
}

/** A rendered tree: its text (maybe cut), every element id's Playwright ref, and the cut if any. */
export interface RenderedTree {
  text: string;
  /** element_id → Playwright aria ref (`e12`), for the whole tree (also the ids cut away). */
  refs: Map<number, string>;
  elements: number;
  cut?: TreeCut;
}

/**
 * Renders `roots` as indented lines (`heading "Items" [level=1]`, `[3] link "Widget" → x.html`,
 * `[4] textbox "Name": bob`, `text: …`), numbering interactive elements 1, 2, … in document
 * order; unnamed `generic` containers are left out and their children shown in their place.
 * Lines are kept whole while they fit `budgetChars`; the rest is cut and the cut recorded.
 */
export function renderTree(roots: readonly (AriaNode | string)[], budgetChars = DEFAULT_OBSERVATION_CHARS): RenderedTree {
  const lines: string[] = [];
  const refs = new Map<number, string>();
  const walk = (node: AriaNode | string, depth: number) => {
    const indent = '  '.repeat(depth);
    if (typeof node === 'string') {
      const text = clip(oneLine(node));
      if (text) lines.push(`${indent}text: ${text}`);
      return;
    }
    const role = node.role ?? 'generic';
    const kids = node.children ?? [];
    if (role === 'generic' && !node.name && !node.text && !INTERACTIVE_ROLES.has(role)) {
      for (const k of kids) walk(k, depth);
      return;
    }
    let line = indent;
    if (INTERACTIVE_ROLES.has(role) && node.ref) {
      const id = refs.size + 1;
      refs.set(id, node.ref);
      line += `[${id}] `;
    }
    line += role;
    if (node.name) line += ` ${JSON.stringify(clip(oneLine(node.name)))}`;
    const states: string[] = [];
    if (node.level !== undefined) states.push(`level=${node.level}`);
    if (node.checked !== undefined) states.push(node.checked === 'mixed' ? 'checked=mixed' : node.checked ? 'checked' : 'unchecked');
    if (node.pressed !== undefined) states.push(node.pressed === 'mixed' ? 'pressed=mixed' : node.pressed ? 'pressed' : 'not pressed');
    if (node.selected) states.push('selected');
    if (node.expanded !== undefined) states.push(node.expanded ? 'expanded' : 'collapsed');
    if (node.disabled) states.push('disabled');
    if (states.length) line += ` [${states.join(', ')}]`;
    if (role === 'link' && node.url) line += ` → ${clip(oneLine(node.url))}`;
    if (node.text) line += `: ${clip(oneLine(node.text))}`;
    lines.push(line);
    for (const k of kids) walk(k, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return cutLines(lines, refs, budgetChars);
}

/** Keeps whole lines of `lines` while they fit `budgetChars` (at least the first line), noting the cut. */
function cutLines(lines: string[], refs: Map<number, string>, budgetChars: number): RenderedTree {
  const total = lines.reduce((n, l) => n + l.length + 1, 0);
  if (total <= budgetChars) return { text: lines.join('\n'), refs, elements: refs.size };
  let shown = 0;
  let chars = 0;
  while (shown < lines.length && (shown === 0 || chars + lines[shown]!.length + 1 <= budgetChars)) chars += lines[shown++]!.length + 1;
  const cut: TreeCut = { total_lines: lines.length, shown_lines: shown, total_chars: total, shown_chars: chars, total_elements: refs.size };
  const text = `${lines.slice(0, shown).join('\n')}\n[cut: ${shown} of ${lines.length} lines shown (${chars} of ${total} characters); use find(text) to see the rest]`;
  return { text, refs, elements: refs.size, cut };
}

/**
 * The lines of a rendered tree that contain `query` (case-insensitive), with the line above each
 * for context, cut to `budgetChars`; `''` when none does.
 */
export function findLines(fullText: string, query: string, budgetChars = DEFAULT_OBSERVATION_CHARS): string {
  const needle = query.toLowerCase();
  const lines = fullText.split('\n');
  const out: string[] = [];
  let chars = 0;
  for (const [i, line] of lines.entries()) {
    if (!line.toLowerCase().includes(needle)) continue;
    const piece = line.trim();
    if (chars + piece.length + 1 > budgetChars) {
      out.push(`[cut: more lines match; search for something narrower]`);
      break;
    }
    out.push(i > 0 && !lines[i - 1]!.toLowerCase().includes(needle) ? `${lines[i - 1]!.trim()} > ${piece}` : piece);
    chars += piece.length + 1;
  }
  return out.join('\n');
}

/** `text` cut to `max` characters with `…`, and a note of how many were cut. */
export function clipText(text: string, max: number): { text: string; cut: boolean } {
  if (text.length <= max) return { text, cut: false };
  return { text: `${text.slice(0, max)}\n[cut: ${max} of ${text.length} characters shown]`, cut: true };
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function clip(s: string): string {
  return s.length > NODE_TEXT_CHARS ? `${s.slice(0, NODE_TEXT_CHARS)}…` : s;
}
