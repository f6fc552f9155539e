/**
 * The timeline: a virtualised list of step rows. Rows have a fixed height; only the rows in
 * view (plus a small overscan) exist in the DOM, positioned inside a spacer as tall as the whole
 * list. Rows arrive in pages from the host (`steps` requests) and a few pages are kept (LRU).
 * The list is either every step or the indices a filter kept.
 */
import { formatCost, formatDuration, formatTokens } from '../../../common/src/format';
import type { StepRow } from '../../../common/src/inspector';
import { h } from '../common/dom';
import { Lru } from './lru';
import { appendHighlighted, displayText, formatElapsed } from './text';

/** Height of a row, px (the CSS says the same). */
export const ROW_HEIGHT = 24;
/** Rows per `steps` request. */
export const PAGE_SIZE = 200;
/** Rows rendered beyond each edge of the view. */
const OVERSCAN = 8;
/** Pages kept. */
const CACHED_PAGES = 24;
/** Duration that fills the duration bar (log scale), ms. */
const FULL_BAR_MS = 10 * 60_000;

/** The steps the list shows: all of them, or the ascending indices a filter kept. */
export type StepList = { kind: 'all'; total: number } | { kind: 'some'; indices: number[]; total: number };

export interface TimelineHost {
  /** A page of rows: a range of steps, or exactly these steps. */
  fetchRows(params: { start: number; count: number } | { indices: number[] }): Promise<StepRow[]>;
  /** A row was clicked. */
  select(step: number): void;
  /** A row was double-clicked. */
  activate(step: number): void;
  /** The list scrolled (px from the top). */
  scrolled(scrollTop: number): void;
  /** A page could not be fetched (the message is for the user). */
  failed(message: string): void;
}

const KIND_ICON: Record<StepRow['kinds'][number], string> = { bash: '$', edit: '✎', submit: '✓', browser: '⌕', format_error: '⚠' };

export class Timeline {
  /** The scrolling element (role listbox); focusable. */
  readonly element: HTMLDivElement;
  private readonly spacer: HTMLDivElement;
  private list: StepList = { kind: 'all', total: 0 };
  /** Bumped whenever the list or the trajectory changes: late pages of an older list are dropped. */
  private generation = 0;
  private readonly pages = new Lru<number, StepRow[]>(CACHED_PAGES);
  private readonly inFlight = new Set<number>();
  /** Rendered rows by list position. */
  private readonly rendered = new Map<number, HTMLElement>();
  private readonly pool: HTMLElement[] = [];
  private selected: number | null = null;
  private query = '';
  private hitSteps: ReadonlySet<number> = new Set();
  private frame = 0;
  private reportedFailure = -1;

  constructor(private readonly host: TimelineHost) {
    this.spacer = h('div', { class: 'spacer' });
    this.element = h('div', { class: 'timeline', role: 'listbox', tabindex: 0, 'aria-label': 'Steps' }, this.spacer);
    // Chromium fires scroll events once per frame: render at once rather than a frame later.
    this.element.addEventListener('scroll', () => {
      this.renderNow();
      this.host.scrolled(this.element.scrollTop);
    });
    this.spacer.addEventListener('click', (e) => {
      const step = this.stepOfEvent(e);
      if (step !== undefined) this.host.select(step);
    });
    this.spacer.addEventListener('dblclick', (e) => {
      const step = this.stepOfEvent(e);
      if (step !== undefined) this.host.activate(step);
    });
    new ResizeObserver(() => this.schedule()).observe(this.element);
  }

  private stepOfEvent(e: Event): number | undefined {
    const row = (e.target as Element | null)?.closest?.('.row');
    const step = row?.getAttribute('data-step');
    return step ? Number(step) : undefined;
  }

  /** Number of rows in the list. */
  get length(): number {
    return this.list.kind === 'all' ? this.list.total : this.list.indices.length;
  }

  /** Shows `list` (a new trajectory, or a filter's result); cached pages are dropped. */
  setList(list: StepList): void {
    this.list = list;
    this.generation++;
    this.pages.clear();
    this.inFlight.clear();
    for (const el of this.rendered.values()) this.recycle(el);
    this.rendered.clear();
    this.spacer.style.height = `${this.length * ROW_HEIGHT}px`;
    this.element.setAttribute('aria-rowcount', String(this.length));
    this.renderNow();
  }

  /**
   * Forgets the cached pages and drops the answers still to come (the trajectory was reopened);
   * the rows on screen stay until the next setList.
   */
  invalidate(): void {
    this.generation++;
    this.pages.clear();
    this.inFlight.clear();
  }

  /** The step at list position `pos`. */
  stepAt(pos: number): number {
    return this.list.kind === 'all' ? pos : this.list.indices[pos]!;
  }

  /** The list position of `step`, or -1 when the list does not show it. */
  positionOf(step: number): number {
    if (this.list.kind === 'all') return step >= 0 && step < this.list.total ? step : -1;
    const idx = this.list.indices;
    let lo = 0;
    let hi = idx.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (idx[mid] === step) return mid;
      if (idx[mid]! < step) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The position of the first row at or after `step` (the list's length when none). */
  positionAtOrAfter(step: number): number {
    if (this.list.kind === 'all') return Math.max(0, Math.min(step, this.list.total));
    const idx = this.list.indices;
    let lo = 0;
    let hi = idx.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (idx[mid]! < step) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Marks `step` selected (null: none). */
  setSelected(step: number | null): void {
    this.selected = step;
    this.element.setAttribute('aria-activedescendant', step === null ? '' : `step-row-${step}`);
    this.renderNow();
  }

  /** Highlights `query` in the rows' actions and marks the steps with hits. */
  setQuery(query: string, hitSteps: ReadonlySet<number>): void {
    this.query = query;
    this.hitSteps = hitSteps;
    this.renderNow();
  }

  /** Scrolls so that the row of `step` is in view: `nearest` moves as little as possible, `center` centres it. */
  reveal(step: number, mode: 'nearest' | 'center'): void {
    const pos = this.positionOf(step);
    if (pos < 0) return;
    const top = pos * ROW_HEIGHT;
    const view = this.element.clientHeight;
    const cur = this.element.scrollTop;
    if (mode === 'center') this.element.scrollTop = Math.max(0, top - view / 2 + ROW_HEIGHT / 2);
    else if (top < cur) this.element.scrollTop = top;
    else if (top + ROW_HEIGHT > cur + view) this.element.scrollTop = top + ROW_HEIGHT - view;
    this.renderNow();
  }

  /** Rows that fit in the view (for PageUp / PageDown). */
  get rowsPerPage(): number {
    return Math.max(1, Math.floor(this.element.clientHeight / ROW_HEIGHT) - 1);
  }

  get scrollTop(): number {
    return this.element.scrollTop;
  }

  set scrollTop(px: number) {
    this.element.scrollTop = px;
    this.renderNow();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private renderNow(): void {
    if (this.frame) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
    }
    this.render();
  }

  private render(): void {
    const len = this.length;
    const top = this.element.scrollTop;
    const view = this.element.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(len - 1, Math.ceil((top + view) / ROW_HEIGHT) + OVERSCAN);
    for (const [pos, el] of this.rendered) {
      if (pos < first || pos > last) {
        this.rendered.delete(pos);
        this.recycle(el);
      }
    }
    for (let pos = first; pos <= last; pos++) {
      const page = Math.floor(pos / PAGE_SIZE);
      const rows = this.pages.get(page);
      if (!rows) this.fetch(page);
      const row = rows?.[pos - page * PAGE_SIZE];
      let el = this.rendered.get(pos);
      if (!el) {
        el = this.pool.pop() ?? h('div', { class: 'row', role: 'option' });
        this.rendered.set(pos, el);
        this.spacer.appendChild(el);
      }
      el.style.transform = `translateY(${pos * ROW_HEIGHT}px)`;
      const key = row ? `${row.index}|${row.index === this.selected}|${this.hitSteps.has(row.index)}|${this.query}` : `pending|${this.stepAt(pos)}`;
      if (el.dataset.key !== key) {
        el.dataset.key = key;
        if (row) this.fill(el, row);
        else this.fillPending(el, this.stepAt(pos));
      }
    }
  }

  private recycle(el: HTMLElement): void {
    el.remove();
    if (this.pool.length < 64) this.pool.push(el);
  }

  private fetch(page: number): void {
    if (this.inFlight.has(page)) return;
    this.inFlight.add(page);
    const generation = this.generation;
    const start = page * PAGE_SIZE;
    const params =
      this.list.kind === 'all'
        ? { start, count: Math.min(PAGE_SIZE, this.list.total - start) }
        : { indices: this.list.indices.slice(start, start + PAGE_SIZE) };
    this.host.fetchRows(params).then(
      (rows) => {
        if (generation !== this.generation) return;
        this.inFlight.delete(page);
        this.pages.set(page, rows);
        this.renderNow();
      },
      (err: Error) => {
        if (generation !== this.generation) return;
        this.inFlight.delete(page);
        if (this.reportedFailure !== generation) {
          this.reportedFailure = generation;
          this.host.failed(`Could not load steps: ${err.message}`);
        }
      },
    );
  }

  private fillPending(el: HTMLElement, step: number): void {
    el.className = 'row pending';
    el.id = `step-row-${step}`;
    el.setAttribute('data-step', String(step));
    el.setAttribute('aria-selected', String(step === this.selected));
    el.replaceChildren(h('span', { class: 'c-idx' }, String(step)), h('span', { class: 'c-action muted' }, '…'));
  }

  private fill(el: HTMLElement, row: StepRow): void {
    const selected = row.index === this.selected;
    const failed = row.exitCodes.some((c) => typeof c === 'number' && c !== 0);
    el.className = `row loaded${selected ? ' selected' : ''}${row.error ? ' has-error' : ''}${failed ? ' has-failure' : ''}${this.hitSteps.has(row.index) ? ' has-hit' : ''}`;
    el.id = `step-row-${row.index}`;
    el.setAttribute('data-step', String(row.index));
    el.setAttribute('aria-selected', String(selected));

    const bar = h('span', { class: 'bar' });
    const ms = row.durationMs;
    bar.style.width = ms === null ? '0' : `${Math.max(2, Math.min(100, (Math.log10(1 + ms) / Math.log10(1 + FULL_BAR_MS)) * 100)).toFixed(1)}%`;

    const action = h('span', { class: 'c-action' });
    const lines = row.actions.map(displayText);
    row.actions.forEach((_, i) => {
      if (i) action.append(h('span', { class: 'sep' }, ' │ '));
      const kind = row.kinds[i];
      if (kind) action.append(h('span', { class: `kind kind-${kind}`, 'aria-hidden': 'true' }, KIND_ICON[kind]));
      appendHighlighted(action, lines[i]!, this.query);
    });
    action.setAttribute('title', lines.join('\n'));

    const exit = h('span', { class: 'c-exit' });
    const codes = row.exitCodes;
    const shown = codes.length > 3 ? [codes.find((c) => typeof c === 'number' && c !== 0) ?? codes[0]!] : codes;
    for (const c of shown) exit.append(exitBadge(c));
    if (codes.length > shown.length) exit.append(h('span', { class: 'muted' }, `+${codes.length - shown.length}`));
    if (row.error) exit.append(h('span', { class: 'exit fail', title: displayText(row.error) }, '!'));

    el.replaceChildren(
      h('span', { class: 'c-idx' }, String(row.index)),
      h('span', { class: 'c-time' }, formatElapsed(row.elapsedMs)),
      h('span', { class: 'c-bar', title: formatDuration(ms) }, bar),
      action,
      exit,
      h('span', { class: 'c-tok' }, formatTokens(row.tokens)),
      h('span', { class: 'c-cost' }, formatCost(row.costUsd)),
    );
  }
}

/** An exit code as a small badge: 0 ok, other codes failed, `?` unknown, `–` no result recorded. */
export function exitBadge(code: number | null | 'missing'): HTMLElement {
  if (code === 'missing') return h('span', { class: 'exit unknown', title: 'no result recorded' }, '–');
  if (code === null) return h('span', { class: 'exit unknown', title: 'exit code unknown' }, '?');
  return h('span', { class: `exit ${code === 0 ? 'ok' : 'fail'}`, title: `exit code ${code}` }, String(code));
}
