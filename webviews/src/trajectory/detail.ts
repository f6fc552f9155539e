/**
 * The detail pane of one step: the turns before it, the model's reasoning and reply, its tool
 * calls with their arguments, each action with its observation (stdout / stderr in monospace,
 * exit code, truncation, timeout and missing-result markers), edits as diffs, timing and usage.
 * Every text goes in as text (h(), text nodes); long texts say they are clipped and offer
 * "Show all".
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { formatCost, formatCount, formatDuration, formatTokens } from '../../../common/src/format';
import type { ActionDetail, BrowserDetail, ClippedText, ScreenshotResult, StepDetail } from '../../../common/src/inspector';
import { h } from '../common/dom';
import { exitBadge } from './timeline';
import { displayText } from './text';

export interface DetailActions {
  /** "Show all": the step again with whole texts. */
  showAll(): void;
  /** "Open in diff editor" on edit action `action`. */
  openEditDiff(action: number): void;
  /** The screenshot of browser action `action` of this step (the host reads and checks it); rejects when the request fails. */
  screenshot(action: number): Promise<ScreenshotResult>;
}

const KIND_LABEL: Record<ActionDetail['kind'], string> = { bash: 'bash', edit: 'edit', submit: 'submit', browser: 'browser', format_error: 'format error' };

/** The detail of `d` as a new element. `full` says the texts were requested whole (no "Show all"). */
export function renderDetail(d: StepDetail, full: boolean, actions: DetailActions): HTMLElement {
  let clipped = false;
  /** A block of untrusted text: `.hl` marks it for search highlights. */
  const block = (c: ClippedText, cls: string, label?: string): HTMLElement => {
    const pre = h('pre', { class: `${cls} hl`, ...(label ? { 'aria-label': label } : {}) }, displayText(c.text));
    if (c.length <= c.text.length) return pre;
    clipped = true;
    return h(
      'div',
      { class: 'clipped' },
      pre,
      h('div', { class: 'clip-note' }, `Clipped: showing ${formatCount(c.text.length)} of ${formatCount(c.length)} characters.`),
    );
  };
  const section = (title: string, ...children: (Node | null)[]) => h('section', { class: 'detail-section' }, h('h3', {}, title), ...children);

  const row = d.row;
  const meta: string[] = [];
  if (d.startedAt) meta.push(`started ${displayText(d.startedAt)}`);
  meta.push(`duration ${formatDuration(row.durationMs)}`);
  meta.push(`model latency ${formatDuration(d.latencyMs)}`);
  if (d.usage) {
    meta.push(`tokens ${formatTokens(d.usage.promptTokens)} in / ${formatTokens(d.usage.completionTokens)} out${d.usage.cachedTokens !== null ? ` (${formatTokens(d.usage.cachedTokens)} cached)` : ''}`);
  } else meta.push('tokens –');
  meta.push(`cost ${formatCost(row.costUsd)}`);

  const root = h(
    'div',
    { class: 'detail', 'data-step': d.row.index },
    h('div', { class: 'detail-head' }, h('h2', {}, `Step ${d.row.index}`), h('span', { class: 'meta' }, meta.join(' · '))),
  );
  if (row.error) root.append(h('div', { class: 'error-box hl', role: 'note' }, displayText(row.error)));

  for (const e of d.eventsBefore) root.append(section(e.source === 'system' ? 'System turn before this step' : 'User turn before this step', block(e.message, 'text')));
  if (d.reasoning) root.append(h('details', { class: 'detail-section', open: true }, h('summary', {}, 'Reasoning'), block(d.reasoning, 'text')));
  if (d.reply) root.append(section('Reply', block(d.reply, 'text')));
  if (d.toolCalls.length) {
    root.append(
      section(
        d.toolCalls.length === 1 ? 'Tool call' : `Tool calls (${d.toolCalls.length})`,
        ...d.toolCalls.map((c) => h('div', { class: 'tool-call' }, h('div', { class: 'tool-name hl' }, displayText(c.name), h('span', { class: 'muted' }, c.id ? `  ${displayText(c.id)}` : '')), block(prettyArgs(c.arguments), 'mono'))),
      ),
    );
  }
  d.actions.forEach((a, i) => root.append(renderAction(a, i, d.actions.length, block, actions)));
  if (d.otherObservations.length) root.append(section('Other results', ...d.otherObservations.map((o) => block(o, 'mono'))));

  if (clipped && !full) {
    const button = h('vscode-button', { class: 'show-all', secondary: true }, 'Show all');
    button.addEventListener('click', () => actions.showAll());
    root.insertBefore(h('div', { class: 'show-all-bar' }, h('span', {}, 'Long texts of this step are clipped.'), button), root.children[1] ?? null);
  }
  return root;
}

function renderAction(a: ActionDetail, i: number, count: number, block: (c: ClippedText, cls: string, label?: string) => HTMLElement, actions: DetailActions): HTMLElement {
  const o = a.observation;
  const head = h('div', { class: 'action-head' }, h('span', { class: `kind-label kind-${a.kind}` }, count > 1 ? `${KIND_LABEL[a.kind]} ${i + 1}/${count}` : KIND_LABEL[a.kind]));
  if (o) {
    head.append(exitBadge(o.missing ? 'missing' : o.exitCode));
    if (o.timedOut) head.append(h('span', { class: 'marker warn' }, 'timed out'));
    if (o.truncated) head.append(h('span', { class: 'marker warn' }, `output truncated (${formatCount(o.outputBytes)} bytes produced)`));
    if (o.missing) head.append(h('span', { class: 'marker' }, 'no result recorded'));
    head.append(h('span', { class: 'muted' }, formatDuration(o.durationMs)));
  } else head.append(h('span', { class: 'marker' }, 'no observation'));

  const el = h('section', { class: 'detail-section action', 'data-action': i }, head);
  if (a.kind === 'edit' && a.path !== undefined) el.append(h('div', { class: 'edit-path hl' }, displayText(a.path)));
  el.append(block(a.command, a.kind === 'bash' ? 'mono command' : 'mono', 'command'));
  if (a.editDiff) {
    const open = h('vscode-button', { class: 'open-edit-diff', secondary: true }, 'Open in diff editor');
    open.addEventListener('click', () => actions.openEditDiff(i));
    el.append(h('div', { class: 'edit-diff' }, h('div', { class: 'edit-diff-bar' }, h('span', { class: 'muted' }, 'Edit'), open), diffBlock(a.editDiff)));
  }
  if (a.browser) el.append(...browserPage(a.browser, i, actions));
  if (o && !o.missing) {
    if (o.stdout.length) el.append(h('div', { class: 'stream-label' }, a.browser ? 'page as the model read it' : 'stdout'), block(o.stdout, 'mono stdout', 'stdout'));
    if (o.stderr.length) el.append(h('div', { class: 'stream-label' }, 'stderr'), block(o.stderr, 'mono stderr', 'stderr'));
    if (!o.stdout.length && !o.stderr.length) el.append(h('div', { class: 'muted' }, '(no output)'));
  }
  return el;
}

/**
 * A browser action's page (BrowserDetail): its title and URL as text (the URL is no link: the
 * inspector never navigates), the elements numbered, how the text was cut, and the screenshot,
 * asked for from the host now (the step is the one shown) and put in when it comes — or why it
 * is not shown.
 */
function browserPage(b: BrowserDetail, action: number, actions: DetailActions): HTMLElement[] {
  const more = (c: ClippedText) => (c.length > c.text.length ? `… (${formatCount(c.length)} characters)` : '');
  const meta = h('div', { class: 'browser-meta' }, h('span', { class: 'browser-elements' }, `${formatCount(b.elements)} ${b.elements === 1 ? 'element' : 'elements'}`));
  if (b.cut) {
    const x = b.cut;
    const whole = x.totalElements !== null ? `, ${formatCount(x.totalElements)} elements in the whole tree` : '';
    meta.append(' · ', h('span', { class: 'browser-cut' }, `cut to its budget: ${formatCount(x.shownLines)} of ${formatCount(x.totalLines)} lines shown (${formatCount(x.shownChars)} of ${formatCount(x.totalChars)} characters)${whole}`));
  }
  const page = h(
    'div',
    { class: 'browser-page' },
    h('div', { class: 'browser-title hl' }, b.title.text ? `${displayText(b.title.text)}${more(b.title)}` : '(no title)'),
    h('div', { class: 'browser-url hl' }, b.url.text ? `${displayText(b.url.text)}${more(b.url)}` : '(no page)'),
    meta,
  );
  if (!b.screenshot) return [page];
  const shot = b.screenshot;
  const caption = h('figcaption', { class: 'muted' }, `Screenshot ${displayText(shot.path.text)}${more(shot.path)} (${formatCount(shot.bytes)} bytes)`);
  const body = h('div', { class: 'screenshot-status muted', role: 'status' }, 'Loading the screenshot…');
  const figure = h('figure', { class: 'screenshot' }, body, caption);
  actions.screenshot(action).then(
    (r) => {
      if (r.ok) {
        // The host sends PNG bytes it checked (server/src/inspect/screenshot.ts); the type is ours, never the message's.
        body.replaceWith(h('img', { class: 'screenshot-img', src: `data:image/png;base64,${r.base64}`, alt: 'Screenshot of the page after this action' }));
      } else {
        body.replaceWith(h('div', { class: `screenshot-problem problem-${r.problem}`, role: 'note' }, displayText(r.message)));
      }
    },
    (err: Error) => body.replaceWith(h('div', { class: 'screenshot-problem', role: 'note' }, `Could not load the screenshot: ${displayText(err.message)}`)),
  );
  return [page, figure];
}

/** A unified diff as monospace lines coloured by their prefix (text nodes only). */
function diffBlock(c: ClippedText): HTMLElement {
  const pre = h('pre', { class: 'mono diff hl' });
  for (const line of displayText(c.text).split('\n')) {
    if (!line && pre.childNodes.length) continue;
    const cls = line.startsWith('+++') || line.startsWith('---') ? 'd-file' : line.startsWith('@@') ? 'd-hunk' : line[0] === '+' ? 'd-add' : line[0] === '-' ? 'd-del' : 'd-ctx';
    pre.append(h('span', { class: cls }, `${line}\n`));
  }
  if (c.length > c.text.length) pre.append(h('span', { class: 'clip-note' }, `… clipped (${formatCount(c.length)} characters in all)`));
  return pre;
}

/** Tool-call arguments pretty-printed when they are a whole JSON object, else as recorded. */
function prettyArgs(c: ClippedText): ClippedText {
  if (c.length > c.text.length) return c;
  try {
    const v: unknown = JSON.parse(c.text);
    if (v && typeof v === 'object') {
      const text = JSON.stringify(v, null, 2);
      return { text, length: text.length };
    }
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    // Not JSON: shown as recorded.
  }
  return c;
}
