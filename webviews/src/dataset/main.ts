/**
 * The Dataset and Compare runs panels (one bundle, `dist/webviews/dataset.js`). Protocol
 * (common/src/webviewMessages.ts): the page posts `ready`; the extension answers `progress`
 * while it computes, then `stats` (Dataset panel) or `compare` (Compare panel), or `failed`.
 * The page posts `openTrajectory {row}` (an index into `stats.rows`, never a path), `refresh`
 * and `export`. The sort (and the compare filter) are kept with `setState` beside the panel's
 * kind and sources, which the extension's serializer restores the panel from.
 *
 * A stats panel has two tabs: Statistics and Quality. The Quality tab asks for the quality
 * report (`quality`) the first time it is shown (and after a refresh), renders it with the view
 * the HTML report uses (qualityView.ts), and its links post `openStep {file, step}`, which the
 * extension honours only for files that report names. The tab shown is kept with setState.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import type { DatasetProgress } from '../../../common/src/dataset';
import { formatCount } from '../../../common/src/format';
import type { DatasetPanelState, DatasetToHost, HostToDataset } from '../../../common/src/webviewMessages';
import { clear, h } from '../common/dom';
import { vscodeApi } from '../common/vscodeApi';
import { ChartSet } from './charts';
import { CHANGE_FILTERS, renderCompare, type ChangeFilter } from './compareView';
import * as f from './format';
import { renderQuality } from './qualityView';
import { renderStats } from './statsView';
import type { QualityReport } from '../../../common/src/qualityReport';
import type { DatasetStats } from '../../../common/src/dataset';
import './dataset.css';

/** What the page saves: the panel state the serializer reads, plus the compare filter. */
interface PageState extends DatasetPanelState {
  changeFilter?: ChangeFilter;
}

const api = vscodeApi<DatasetToHost, PageState>();
let state: PageState = validState(api.getState()) ?? { kind: 'stats', sources: [] };
const charts = new ChartSet();

const titleEl = h('h1', { class: 'title' }, state.kind === 'compare' ? 'Compare runs' : 'Dataset');
const sourcesEl = h('p', { class: 'sources' });
const refreshButton = h('vscode-button', { secondary: true, class: 'refresh', title: 'Compute the figures again' }, 'Refresh');
const exportButton = h('vscode-button', { class: 'export', title: 'Export these trajectories as training data' }, 'Export…');
const banner = h('div', { class: 'banner', hidden: true });
const statsTab = h('button', { role: 'tab', type: 'button', 'data-tab': 'stats' }, 'Statistics');
const qualityTab = h('button', { role: 'tab', type: 'button', 'data-tab': 'quality' }, 'Quality');
const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Views', hidden: state.kind === 'compare' }, statsTab, qualityTab);
/** The last stats and quality report received (a tab switch re-renders from them). */
let lastStats: { title: string; stats: DatasetStats } | undefined;
let lastQuality: QualityReport | undefined;
let qualityError: string | undefined;
let qualityAsked = false;
const content = h('main', { class: 'content', 'aria-busy': 'true' });
let hasContent = false;

refreshButton.addEventListener('click', () => {
  lastQuality = undefined;
  qualityError = undefined;
  qualityAsked = false;
  api.postMessage({ type: 'refresh' });
  if (state.kind === 'stats' && state.tab === 'quality') showTab('quality');
});
statsTab.addEventListener('click', () => showTab('stats'));
qualityTab.addEventListener('click', () => showTab('quality'));
exportButton.addEventListener('click', () => api.postMessage({ type: 'export' }));
exportButton.hidden = state.kind === 'compare';

document.getElementById('app')!.append(
  h('header', { class: 'header' }, h('div', { class: 'heading' }, titleEl, sourcesEl), h('div', { class: 'actions' }, refreshButton, exportButton)),
  tabs,
  banner,
  content,
);
showSources(state.sources);
markTabs();
showProgress(undefined);

window.addEventListener('message', (e: MessageEvent) => onMessage(e.data as HostToDataset));
api.postMessage({ type: 'ready' });

function onMessage(m: HostToDataset): void {
  if (!m || typeof m !== 'object') return;
  switch (m.type) {
    case 'stats': {
      save({ ...state, kind: 'stats', sources: stringList(m.sources) });
      setHeader(m.title, 'stats');
      clearBanner();
      lastStats = { title: m.title, stats: m.stats };
      if (state.tab === 'quality') showTab('quality');
      else renderStatsTab();
      break;
    }
    case 'quality':
      lastQuality = m.report;
      qualityError = undefined;
      if (state.tab === 'quality') {
        clearBanner();
        showTab('quality');
      }
      break;
    case 'qualityFailed':
      qualityError = String(m.message ?? 'failed');
      if (state.tab === 'quality') showTab('quality');
      break;
    case 'compare': {
      // The two runs are saved for the extension's serializer.
      const sources = stringList(m.sources);
      save({ ...state, kind: 'compare', sources: sources.length ? sources : state.sources });
      setHeader(m.title, 'compare');
      clearBanner();
      renderInto(() =>
        renderCompare({
          comparison: m.comparison,
          sortBy: state.sortBy,
          sortDescending: state.sortDescending,
          filter: state.changeFilter,
          onSort: (sortBy, sortDescending) => save({ ...state, sortBy, sortDescending }),
          onFilter: (changeFilter) => save({ ...state, changeFilter }),
        }),
      );
      break;
    }
    case 'progress':
      showProgress(m.progress);
      break;
    case 'failed':
      showFailed(String(m.message ?? 'failed'));
      break;
  }
}

function renderStatsTab(): void {
  if (!lastStats) return;
  const stats = lastStats.stats;
  renderInto(() =>
    renderStats({
      stats,
      charts,
      sortBy: state.sortBy,
      sortDescending: state.sortDescending,
      onSort: (sortBy, sortDescending) => save({ ...state, sortBy, sortDescending }),
      onOpen: (row) => api.postMessage({ type: 'openTrajectory', row }),
    }),
  );
}

/** Shows tab `tab` of a stats panel: its content if there is some, else asks for it (the quality report) or waits. */
function showTab(tab: 'stats' | 'quality'): void {
  if (state.tab !== tab) save({ ...state, tab });
  markTabs();
  if (tab === 'stats') {
    if (lastStats) renderStatsTab();
    return;
  }
  if (lastQuality) {
    const report = lastQuality;
    renderInto(() => renderQuality({ report, charts, linkTo: (file, step) => ({ href: '#', open: () => api.postMessage({ type: 'openStep', file, step }) }) }));
  } else if (qualityError !== undefined) {
    charts.destroyAll();
    clear(content);
    hasContent = false;
    content.append(h('div', { class: 'failed', role: 'alert' }, h('strong', {}, 'Could not compute the quality report. '), qualityError, h('p', { class: 'hint' }, 'Fix the cause and press Refresh.')));
  } else {
    if (!qualityAsked) {
      qualityAsked = true;
      api.postMessage({ type: 'quality' });
    }
    charts.destroyAll();
    clear(content);
    hasContent = false;
    content.setAttribute('aria-busy', 'true');
    content.append(h('p', { class: 'progress-text', role: 'status' }, 'Computing the quality report (flags, near-duplicates, secrets)…'));
  }
}

function markTabs(): void {
  const current = state.tab ?? 'stats';
  for (const b of [statsTab, qualityTab]) b.setAttribute('aria-selected', String(b.dataset.tab === current));
}

function save(next: PageState): void {
  state = next;
  api.setState(state);
  showSources(state.sources);
}

function setHeader(title: string, kind: 'stats' | 'compare'): void {
  titleEl.textContent = String(title || (kind === 'compare' ? 'Compare runs' : 'Dataset'));
  exportButton.hidden = kind === 'compare';
  tabs.hidden = kind === 'compare';
}

function showSources(sources: string[]): void {
  sourcesEl.textContent = sources.length ? sources.map(shortPath).join(' · ') : '';
  sourcesEl.title = sources.join('\n');
}

function renderInto(build: () => HTMLElement): void {
  charts.destroyAll();
  clear(content);
  content.append(build());
  content.setAttribute('aria-busy', 'false');
  hasContent = true;
}

function clearBanner(): void {
  clear(banner);
  banner.hidden = true;
  banner.className = 'banner';
}

/** The progress of the request under way: in place of the content at first, above it on a refresh. */
function showProgress(p: DatasetProgress | undefined): void {
  const bar = h('vscode-progress-bar', { class: 'progress-bar', 'aria-label': 'Reading trajectories' });
  if (p && p.total > 0) {
    (bar as unknown as { value: number; max: number }).max = p.total;
    (bar as unknown as { value: number; max: number }).value = p.done;
  }
  const text = h('p', { class: 'progress-text' }, progressText(p));
  showNotice(h('div', { class: 'progress', role: 'status' }, bar, text), 'progress-banner', true);
}

/** Shows `box` over the figures already shown (a banner), or in their place when there are none yet. */
function showNotice(box: HTMLElement, bannerClass: string, busy: boolean): void {
  if (hasContent) {
    clear(banner);
    banner.className = `banner ${bannerClass}`;
    banner.hidden = false;
    banner.append(box);
  } else {
    clear(content);
    content.setAttribute('aria-busy', String(busy));
    content.append(box);
  }
}

/** The human line of a progress report. */
export function progressText(p: DatasetProgress | undefined): string {
  if (!p || p.phase === 'list') return 'Listing trajectory files…';
  const verb = p.phase === 'write' ? 'Writing' : 'Reading trajectories';
  return `${verb}: ${formatCount(p.done)} of ${formatCount(p.total)} files (${formatCount(p.kept)} kept, ${formatCount(p.dropped)} left out)`;
}

function showFailed(message: string): void {
  showNotice(h('div', { class: 'failed', role: 'alert' }, h('strong', {}, 'Could not compute the figures. '), message, h('p', { class: 'hint' }, 'Fix the cause and press Refresh.')), 'failed-banner', false);
}

function shortPath(p: string): string {
  const parts = p.split(/[\\/]/).filter(Boolean);
  return parts.slice(-2).join('/') || p;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** The saved state if it has the expected shape (a restored page), else undefined. */
function validState(s: unknown): PageState | undefined {
  if (!s || typeof s !== 'object') return undefined;
  const x = s as Partial<PageState>;
  if (x.kind !== 'stats' && x.kind !== 'compare') return undefined;
  const out: PageState = { kind: x.kind, sources: stringList(x.sources) };
  if (typeof x.sortBy === 'string') {
    out.sortBy = x.sortBy;
    out.sortDescending = x.sortDescending === true;
  }
  if (CHANGE_FILTERS.some((c) => c.value === x.changeFilter)) out.changeFilter = x.changeFilter;
  if (x.tab === 'stats' || x.tab === 'quality') out.tab = x.tab;
  return out;
}
