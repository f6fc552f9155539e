/**
 * The trajectory inspector (custom editor `trajlab.inspector`): header, toolbar, search and
 * filters, the virtualised timeline, and the Step / Diff / Task tabs. It talks to the host only
 * through common/src/webviewMessages.ts: pages of rows, one step at a time, filter and search
 * results by request; commands (replay, export, open as text, open a diff) as messages that
 * name things by index or by the diff's own file name, never by path.
 *
 * This file wires the parts and owns what they share — the saved state, the selection, the
 * step detail and the filters: the page is built by layout.ts, the header and the Task tab by
 * header.ts, the search by search.ts, the keys by keyboard.ts, the saved state's checks in
 * state.ts; the timeline (timeline.ts), the step detail (detail.ts) and the Diff tab
 * (diffTab.ts) render their parts.
 */
import { formatCount } from '../../../common/src/format';
import type { ScreenshotResult, StepDetail, TrajectoryHeader } from '../../../common/src/inspector';
import type { HostToInspector, InspectorRequests, InspectorState, InspectorToHost } from '../../../common/src/webviewMessages';
import { h } from '../common/dom';
import type { Rpc } from '../common/rpc';
import type { VsCodeApi } from '../common/vscodeApi';
import { renderDetail } from './detail';
import { renderHeader, renderTask } from './header';
import { onKey, type KeyActions } from './keyboard';
import { buildLayout, type Ui } from './layout';
import { Lru } from './lru';
import { Search } from './search';
import { restoredState, TABS } from './state';
import { displayText, highlightIn } from './text';

/** The request map of the inspector's Rpc (InspectorRequests as a type literal, which Rpc's constraint accepts). */
export type InspectorRpcMap = { [M in keyof InspectorRequests]: InspectorRequests[M] };

/**
 * The inspector of one panel. Construct it once per page with the page's root element, the VS
 * Code API and an Rpc on it; feed it every host message (`onMessage`). It restores the state
 * VS Code kept (`getState`) and saves it with `setState` on every change.
 */
export class Inspector {
  private state: InspectorState;
  private header: TrajectoryHeader | undefined;
  private ui: Ui | undefined;
  private readonly search: Search;
  private readonly details = new Lru<string, StepDetail>(16);
  /** Screenshots by `step:action`, the last few (a re-render of the step shown, for search hits or "Show all", asks no more). */
  private readonly screenshots = new Lru<string, Promise<ScreenshotResult>>(4);
  /** Steps whose texts were asked for whole ("Show all"). */
  private readonly fullSteps = new Set<number>();
  private detailSeq = 0;
  private filterSeq = 0;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the next `open` is the first of this page (restores the saved scroll position). */
  private firstOpen = true;
  /** The `open` under way (a `selectStep` waits for it); never rejects. */
  private opening: Promise<void> | undefined;

  constructor(
    private readonly root: HTMLElement,
    private readonly api: VsCodeApi<InspectorToHost, InspectorState>,
    private readonly rpc: Rpc<InspectorRpcMap>,
  ) {
    this.state = restoredState(api.getState());
    this.search = new Search({
      search: (query) => this.rpc.request('search', { query }),
      query: () => this.state.query,
      selected: () => this.state.selectedStep,
      listed: (step) => !!this.ui && this.ui.timeline.positionOf(step) >= 0,
      showCount: (text) => {
        if (this.ui) this.ui.hitCount.textContent = text;
      },
      hitsChanged: (hits) => this.showHits(hits),
    });
    this.root.replaceChildren(h('div', { class: 'loading', role: 'status' }, 'Opening the trajectory…'));
    document.addEventListener('keydown', (e) => {
      if (this.ui) onKey(e, this.ui, this.keyActions(this.ui));
    });
  }

  /** Handles one host → webview message. */
  onMessage(m: HostToInspector): void {
    switch (m.type) {
      case 'response':
        this.rpc.handle(m);
        break;
      case 'open':
        this.opening = this.open(m.header).catch((err: Error) => this.notice(`Could not show the trajectory: ${err.message}`));
        break;
      case 'selectStep':
        void (this.opening ?? Promise.resolve()).then(() => this.selectStep(m.index));
        break;
      case 'failed':
        this.fail(m.message);
        break;
      case 'notice':
        this.notice(m.message);
        break;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Open / fail

  private async open(header: TrajectoryHeader): Promise<void> {
    if (this.header !== undefined && this.ui !== undefined) {
      // Reopened: answers still to come are for the old handle; drop them quietly.
      this.detailSeq++;
      this.filterSeq++;
      this.search.invalidate();
      this.ui.timeline.invalidate();
      this.rpc.rejectAll('the trajectory was reopened');
    }
    this.header = header;
    this.details.clear();
    this.screenshots.clear();
    this.fullSteps.clear();
    const ui = (this.ui ??= this.build());
    renderHeader(ui.header, ui.replay, header);
    renderTask(ui.taskPanel, header);
    ui.diffTab.setDiff(header.diff);
    if (this.state.tab === 'diff') ui.diffTab.show();
    if (this.state.selectedStep !== null && this.state.selectedStep >= header.totals.steps) this.state.selectedStep = null;

    const scrollTop = this.firstOpen ? this.state.scrollTop : ui.timeline.scrollTop;
    this.firstOpen = false;
    await this.applyFilter(false);
    ui.timeline.scrollTop = scrollTop;
    ui.timeline.setSelected(this.state.selectedStep);
    if (this.state.selectedStep !== null) void this.loadDetail(this.state.selectedStep, false);
    else this.renderNoStep();
    if (this.state.query) this.search.run(this.state.query);
    this.save();
  }

  private fail(message: string): void {
    this.ui = undefined;
    this.header = undefined;
    this.firstOpen = true;
    this.rpc.rejectAll('the trajectory cannot be shown');
    const openAsText = h('vscode-button', { class: 'open-as-text' }, 'Open as text');
    openAsText.addEventListener('click', () => this.post({ type: 'openAsText' }));
    this.root.replaceChildren(
      h(
        'div',
        { class: 'failed', role: 'alert' },
        h('h2', {}, 'This trajectory cannot be shown'),
        h('pre', { class: 'failed-message' }, displayText(message)),
        h('p', {}, 'TrajLab reads its own trajectories, mini-swe-agent .traj.json, SWE-agent .traj and Harbor ATIF trajectory.json files.'),
        openAsText,
      ),
    );
  }

  /** The page, its controls wired to this inspector. */
  private build(): Ui {
    return buildLayout(this.root, this.state, {
      replay: () => this.post({ type: 'replay' }),
      export: () => this.post({ type: 'export' }),
      openAsText: () => this.post({ type: 'openAsText' }),
      searchInput: (query) => {
        this.state.query = query;
        this.save();
        this.search.input(query);
      },
      nextHit: (dir) => void this.nextHit(dir),
      filterChanged: (key, checked) => {
        this.state.filter = { ...this.state.filter, [key]: checked };
        this.save();
        void this.applyFilter(true);
      },
      tabSelected: (tab) => this.showTab(tab, false),
      timeline: {
        fetchRows: async (params) => (await this.rpc.request('steps', params)).rows,
        select: (step) => this.select(step, { reveal: 'nearest' }),
        activate: (step) => {
          this.select(step, { reveal: 'nearest' });
          this.expand();
        },
        scrolled: (px) => {
          this.state.scrollTop = px;
          this.save(150);
        },
        failed: (message) => this.notice(message),
      },
      diff: {
        openDiff: (file) => this.post({ type: 'openDiff', file }),
        layoutChanged: (layout) => {
          this.state.diffLayout = layout;
          this.save();
        },
      },
    });
  }

  /** What the keys do on this page (keyboard.ts). */
  private keyActions(ui: Ui): KeyActions {
    return {
      focusSearch: () => ui.search.focus(),
      focusTimeline: () => ui.timeline.element.focus(),
      move: (delta) => this.move(delta),
      nextHit: (dir) => void this.nextHit(dir),
      expand: () => this.expand(),
      rowsPerPage: () => ui.timeline.rowsPerPage,
      hasSelection: () => this.state.selectedStep !== null,
    };
  }

  private renderNoStep(): void {
    this.ui?.stepPanel.replaceChildren(h('p', { class: 'empty' }, this.header?.totals.steps ? 'Select a step (click, or j / k).' : 'This trajectory has no steps.'));
  }

  // -------------------------------------------------------------------------------------------
  // Selection and detail

  /** Selects step `index` as the host asked (a link to it), centred; a step past the end is refused with a notice. */
  private selectStep(index: number): void {
    if (!this.header || !this.ui) return;
    if (!Number.isInteger(index) || index < 0 || index >= this.header.totals.steps) {
      this.notice(`This trajectory has no step ${index} (it has ${formatCount(this.header.totals.steps)}).`);
      return;
    }
    this.select(index, { reveal: 'center' });
  }

  private select(step: number, opts: { reveal: 'nearest' | 'center'; jumpToHit?: boolean }): void {
    if (!this.ui) return;
    this.state.selectedStep = step;
    this.ui.timeline.setSelected(step);
    this.ui.timeline.reveal(step, opts.reveal);
    this.search.updateCount();
    this.save();
    void this.loadDetail(step, !!opts.jumpToHit);
  }

  /** Moves the selection `delta` rows in the list (clamped). */
  private move(delta: number): void {
    const tl = this.ui?.timeline;
    if (!tl || !tl.length) return;
    const sel = this.state.selectedStep;
    let pos: number;
    if (sel === null) pos = delta > 0 ? 0 : tl.length - 1;
    else {
      const at = tl.positionOf(sel);
      // A selected step the filter hides: continue from where it would be.
      pos = at >= 0 ? at + delta : tl.positionAtOrAfter(sel) + (delta > 0 ? delta - 1 : delta);
    }
    pos = Math.max(0, Math.min(tl.length - 1, pos));
    this.select(tl.stepAt(pos), { reveal: 'nearest' });
  }

  /** Selects the next (`dir` 1) or previous (-1) step with a hit, centred, its first hit in view. */
  private async nextHit(dir: 1 | -1): Promise<void> {
    const target = await this.search.nextHit(dir);
    if (target !== undefined) this.select(target, { reveal: 'center', jumpToHit: true });
  }

  private async loadDetail(step: number, jumpToHit: boolean): Promise<void> {
    const seq = ++this.detailSeq;
    const full = this.fullSteps.has(step);
    const key = `${step}:${full}`;
    let d = this.details.get(key);
    if (!d) {
      try {
        d = await this.rpc.request('step', full ? { index: step, clip: 0 } : { index: step });
      } catch (err) {
        if (seq === this.detailSeq) this.ui?.stepPanel.replaceChildren(h('p', { class: 'error-box' }, `Could not load step ${step}: ${(err as Error).message}`));
        return;
      }
      this.details.set(key, d);
    }
    if (seq !== this.detailSeq || !this.ui) return;
    this.renderDetailPane(d, full, jumpToHit);
  }

  private renderDetailPane(d: StepDetail, full: boolean, jumpToHit: boolean): void {
    const panel = this.ui!.stepPanel;
    const step = d.row.index;
    panel.replaceChildren(
      renderDetail(d, full, {
        showAll: () => {
          this.fullSteps.add(step);
          void this.loadDetail(step, false);
        },
        openEditDiff: (action) => this.post({ type: 'openDiff', step, action }),
        screenshot: (action) => this.screenshot(step, action),
      }),
    );
    const marks = highlightIn(panel, this.state.query);
    if (jumpToHit && marks[0]) {
      marks[0].classList.add('current');
      marks[0].scrollIntoView({ block: 'center' });
    } else panel.scrollTop = 0;
  }

  /** The screenshot of `action` of `step`, from the host once (a failed request is asked again next time). */
  private screenshot(step: number, action: number): Promise<ScreenshotResult> {
    const key = `${step}:${action}`;
    const known = this.screenshots.get(key);
    if (known) return known;
    const asked: Promise<ScreenshotResult> = this.rpc.request('screenshot', { step, action }).catch((err: Error) => {
      // Forgotten so that the next showing asks again; the error is shown where the image goes (detail.ts).
      if (this.screenshots.get(key) === asked) this.screenshots.delete(key);
      throw err;
    });
    this.screenshots.set(key, asked);
    return asked;
  }

  /** New search hits: the rows mark them, and the step shown highlights the query again. */
  private showHits(hits: ReadonlySet<number>): void {
    if (!this.ui) return;
    this.ui.timeline.setQuery(this.state.query, hits);
    const step = this.state.selectedStep;
    if (step !== null) {
      const d = this.details.get(`${step}:${this.fullSteps.has(step)}`);
      if (d) this.renderDetailPane(d, this.fullSteps.has(step), false);
    }
  }

  /** Enter: the Step tab, focused. */
  private expand(): void {
    this.showTab('step', true);
    this.ui?.stepPanel.focus();
  }

  private showTab(tab: InspectorState['tab'], setTabs: boolean): void {
    this.state.tab = tab;
    if (setTabs && this.ui) this.ui.tabs.selectedIndex = TABS.indexOf(tab);
    if (tab === 'diff') this.ui?.diffTab.show();
    this.save();
  }

  // -------------------------------------------------------------------------------------------
  // Filters

  private async applyFilter(userChange: boolean): Promise<void> {
    const ui = this.ui;
    const hd = this.header;
    if (!ui || !hd) return;
    const tl = ui.timeline;
    const f = this.state.filter;
    const seq = ++this.filterSeq;
    const total = hd.totals.steps;
    if (f.errorsOnly || f.nonZeroExit || f.editsOnly) {
      let indices: number[];
      try {
        ({ indices } = await this.rpc.request('filter', { filter: f }));
      } catch (err) {
        if (seq === this.filterSeq) this.notice(`Could not filter the steps: ${(err as Error).message}`);
        return;
      }
      if (seq !== this.filterSeq) return;
      tl.setList({ kind: 'some', indices, total });
      ui.listCount.textContent = `${formatCount(indices.length)} of ${formatCount(total)} steps`;
    } else {
      tl.setList({ kind: 'all', total });
      ui.listCount.textContent = `${formatCount(total)} steps`;
    }
    this.search.updateCount();
    if (userChange) {
      const sel = this.state.selectedStep;
      if (sel !== null && tl.positionOf(sel) >= 0) tl.reveal(sel, 'center');
      else tl.scrollTop = 0;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Host

  private post(m: InspectorToHost): void {
    this.api.postMessage(m);
  }

  private notice(message: string): void {
    if (!this.ui) return;
    this.ui.notice.textContent = displayText(message);
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => {
      if (this.ui) this.ui.notice.textContent = '';
    }, 10_000);
  }

  /** Saves the state now, or after `delayMs` (coalescing scroll events). */
  private save(delayMs = 0): void {
    clearTimeout(this.saveTimer);
    const write = () => this.api.setState({ ...this.state, filter: { ...this.state.filter } });
    if (delayMs) this.saveTimer = setTimeout(write, delayMs);
    else write();
  }
}
