/**
 * The quality report's content (common/src/qualityReport.ts), shared by the Dataset panel's
 * Quality tab (main.ts) and the self-contained HTML file `trajlab report` writes
 * (webviews/src/report/main.ts): summary figures, charts (trajectories per flag, coverage by task
 * type and repository, reward and steps histograms, near-duplicate cluster sizes), the examples
 * of each flag, the near-duplicate clusters, secrets by rule, tampered trajectories and the files
 * left out. Every text from the data (task ids, commands quoted in details, paths) goes in as
 * text (dom.ts `h`), never as markup.
 *
 * Each example links to its trajectory at the offending step; what a link does is the caller's
 * (`linkTo`): a `vscode://` URI in the HTML file, a message to the extension in the panel. Every
 * link carries `data-trajectory` (the file) and `data-step` (the step, empty when none).
 */
import { TRAJECTORY_FLAGS, type TrajectoryFlag } from '../../../common/src/dataset';
import { formatCount } from '../../../common/src/format';
import type { NearCluster, QualityExample, QualityReport, QualityTrajectory } from '../../../common/src/qualityReport';
import { h } from '../common/dom';
import type { ChartSet } from './charts';
import * as f from './format';
import { figure } from './statsView';

/** What a link to a trajectory's step does (see the file comment). */
export interface LinkTarget {
  href: string;
  /** Called on click (the default action is then prevented); absent: the href is followed. */
  open?(): void;
}

export interface QualityViewOptions {
  report: QualityReport;
  charts: ChartSet;
  /** The link of `file` at `step` (null: the trajectory's start). */
  linkTo(file: string, step: number | null): LinkTarget;
}

/** What each flag means, one line (the report's legend). */
export const FLAG_LABELS: Record<TrajectoryFlag, string> = {
  loop: 'the same action repeated with no state change in between',
  'repeated-observation': 'the same output several times in a row',
  'format-errors': 'replies the agent could not parse',
  'idle-tail': 'many steps after the last state change',
  'empty-submission': 'submitted nothing',
  'truncated-output': 'an output cut at the output cap',
  tampered: 'edited the tests that grade it, or read the hidden tests or the gold solution',
};

/** Renders the report (see the file comment); the charts are created in `o.charts`. */
export function renderQuality(o: QualityViewOptions): HTMLElement {
  const r = o.report;
  const root = h('div', { class: 'quality' });
  root.append(section('Summary', summary(r), 'quality-summary'));
  root.append(section('Charts', charts(r, o.charts), 'quality-charts'));
  root.append(section('Flags', flags(r, o), 'quality-flags'));
  root.append(section(`Near-duplicates (threshold ${f.num(r.near_duplicates.threshold, 3)})`, nearDuplicates(r, o), 'quality-near'));
  root.append(section('Secrets', secrets(r, o), 'quality-secrets'));
  root.append(section(`Tampered (${formatCount(r.flags.tampered.count)})`, tampered(r, o), 'quality-tampered'));
  if (r.corrupt.length || Object.keys(r.dropped_by_reason).length) root.append(section('Left out', leftOut(r), 'quality-left-out'));
  return root;
}

function section(title: string, body: Node, id: string): HTMLElement {
  return h('section', { class: 'section', 'data-section': id }, h('h2', {}, title), body);
}

function summary(r: QualityReport): HTMLElement {
  const flagged = TRAJECTORY_FLAGS.reduce((a, k) => a + (r.flags[k].count ? 1 : 0), 0);
  const nd = r.near_duplicates;
  return h(
    'div',
    { class: 'figures' },
    figure('trajectories', 'Trajectories', formatCount(r.trajectories), `${formatCount(r.tasks)} task${r.tasks === 1 ? '' : 's'}, ${r.runs.length} run${r.runs.length === 1 ? '' : 's'}`),
    figure('flags', 'Flags raised', String(flagged), `of ${TRAJECTORY_FLAGS.length} kinds`),
    figure('near-duplicates', 'Near-duplicate clusters', formatCount(nd.clusters), `${formatCount(nd.redundant)} redundant trajector${nd.redundant === 1 ? 'y' : 'ies'}`),
    figure('secrets', 'Secrets', r.secrets ? formatCount(r.secrets.found) : 'not scanned', r.secrets ? `in ${formatCount(r.secrets.trajectories)} trajector${r.secrets.trajectories === 1 ? 'y' : 'ies'}` : undefined),
    figure('tampered', 'Tampered', formatCount(r.flags.tampered.count)),
    ...(r.selection ? [figure('selection', 'Selected', `${formatCount(r.selection.selected)} of ${formatCount(r.selection.candidates)}`, `k-center radius ${f.num(r.selection.radius, 3)}`)] : []),
  );
}

function charts(r: QualityReport, set: ChartSet): HTMLElement {
  const grid = h('div', { class: 'chart-grid' });
  const count = (v: number | null) => (v === null ? '–' : formatCount(v));
  const bars = (title: string, entries: [string, number][], color: 'blue' | 'green' | 'red' | 'yellow' | 'orange' | 'purple', xTitle?: string) =>
    set.create({ kind: 'bar', title, labels: entries.map(([k]) => k), series: [{ label: 'Trajectories', data: entries.map(([, v]) => v), color }], xTitle, yTitle: 'trajectories', format: count });
  const byCount = (o: Record<string, number>) => Object.entries(o).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  grid.append(
    bars('Trajectories per flag', TRAJECTORY_FLAGS.map((k) => [k, r.flags[k].count]), 'red'),
    bars('Coverage: task types', byCount(r.coverage.task_types), 'blue'),
    bars('Coverage: repositories', byCount(r.coverage.repositories), 'purple'),
    histogram('Coverage: reward', r.coverage.reward.histogram, 'green', 'reward', set, count),
    histogram('Coverage: steps', r.coverage.steps.histogram, 'orange', 'steps', set, count),
    set.create({
      kind: 'bar',
      title: 'Near-duplicate cluster sizes',
      labels: r.near_duplicates.largest.map((c, i) => `${i + 1}. ${c.task_id}`),
      series: [{ label: 'Trajectories', data: r.near_duplicates.largest.map((c) => c.size), color: 'yellow' }],
      yTitle: 'trajectories',
      format: count,
    }),
  );
  // What a --select pick covers: per quota key, the candidates and the picks of each group.
  for (const [key, groups] of Object.entries(r.selection?.coverage ?? {})) {
    const entries = Object.entries(groups).sort((a, b) => b[1].candidates - a[1].candidates || (a[0] < b[0] ? -1 : 1));
    grid.append(
      set.create({
        kind: 'bar',
        title: `Selection coverage: ${key}`,
        labels: entries.map(([g]) => g),
        series: [
          { label: 'Candidates', data: entries.map(([, c]) => c.candidates), color: 'blue' },
          { label: 'Selected', data: entries.map(([, c]) => c.selected), color: 'green' },
        ],
        yTitle: 'trajectories',
        format: count,
      }),
    );
  }
  return grid;
}

function histogram(title: string, hist: { edges: number[]; counts: number[] }, color: 'green' | 'orange', xTitle: string, set: ChartSet, format: (v: number | null) => string): HTMLElement {
  return set.create({ kind: 'bar', title, labels: f.binLabels(hist.edges), series: [{ label: 'Trajectories', data: hist.counts, color }], xTitle, yTitle: 'trajectories', format });
}

/** `task #attempt · step N` as a link to that step (`data-trajectory`, `data-step`). */
function link(o: QualityViewOptions, t: QualityTrajectory, step: number | null, extra = ''): HTMLElement {
  const target = o.linkTo(t.file, step);
  const a = h(
    'a',
    { class: 'step-link', href: target.href, 'data-trajectory': t.file, 'data-step': step === null ? '' : String(step), title: `${t.file}${step === null ? '' : `, step ${step}`}` },
    `${t.task_id} #${t.attempt}${step === null ? '' : ` · step ${step}`}${extra}`,
  );
  if (target.open) {
    const open = target.open;
    a.addEventListener('click', (e) => {
      e.preventDefault();
      open();
    });
  }
  return a;
}

function examplesList(o: QualityViewOptions, examples: QualityExample[], more: number): HTMLElement {
  const list = h('ul', { class: 'examples' });
  for (const e of examples) list.append(h('li', {}, link(o, e, e.step), h('span', { class: 'detail' }, e.detail)));
  if (more > 0) list.append(h('li', { class: 'more' }, `… and ${formatCount(more)} more`));
  return list;
}

function flags(r: QualityReport, o: QualityViewOptions): HTMLElement {
  const box = h('div', { class: 'flag-list' });
  for (const k of TRAJECTORY_FLAGS) {
    const fl = r.flags[k];
    const head = h('h3', {}, h('code', {}, k), ` ${formatCount(fl.count)}`, h('span', { class: 'legend' }, ` — ${FLAG_LABELS[k]}`));
    box.append(h('div', { class: 'flag', 'data-flag': k, 'data-count': fl.count }, head, fl.count ? examplesList(o, fl.examples, fl.count - fl.examples.length) : null));
  }
  return box;
}

function nearDuplicates(r: QualityReport, o: QualityViewOptions): HTMLElement {
  const nd = r.near_duplicates;
  const box = h('div', {});
  box.append(h('p', { class: 'note' }, `${formatCount(nd.clusters)} cluster${nd.clusters === 1 ? '' : 's'} of ${formatCount(nd.in_clusters)} trajectories; an export with --dedupe near keeps one of each (drops ${formatCount(nd.redundant)}).`));
  if (!nd.largest.length) return box;
  const table = h('table', { class: 'data-table clusters' }, h('thead', {}, h('tr', {}, h('th', {}, 'Task'), h('th', { class: 'num' }, 'Size'), h('th', {}, 'Kept'), h('th', {}, 'Members (Jaccard of actions / diff)'))));
  const body = h('tbody', {});
  for (const c of nd.largest) body.append(clusterRow(c, o));
  table.append(body);
  box.append(h('div', { class: 'table-scroll' }, table));
  if (nd.clusters > nd.largest.length) box.append(h('p', { class: 'more' }, `… and ${formatCount(nd.clusters - nd.largest.length)} smaller clusters`));
  return box;
}

function clusterRow(c: NearCluster, o: QualityViewOptions): HTMLElement {
  const members = h('ul', { class: 'members' });
  for (const m of c.members) members.append(h('li', {}, link(o, m, null, ` (${f.num(m.jaccard, 2)} / ${f.num(m.diff_jaccard, 2)})`)));
  if (c.size - 1 > c.members.length) members.append(h('li', { class: 'more' }, `… and ${formatCount(c.size - 1 - c.members.length)} more`));
  return h('tr', { 'data-cluster-size': c.size }, h('td', {}, c.task_id), h('td', { class: 'num' }, formatCount(c.size)), h('td', {}, link(o, c.kept, null)), h('td', {}, members));
}

function secrets(r: QualityReport, o: QualityViewOptions): HTMLElement {
  const s = r.secrets;
  if (!s) return h('p', { class: 'note' }, 'Not scanned (--no-secrets).');
  const box = h('div', {});
  box.append(h('p', { class: 'note' }, `${formatCount(s.found)} found in ${formatCount(s.trajectories)} trajector${s.trajectories === 1 ? 'y' : 'ies'} by ${s.scanner}; an export redacts them. Only where they are is shown here, never the secrets.`));
  for (const [rule, x] of Object.entries(s.rules).sort((a, b) => b[1].found - a[1].found || (a[0] < b[0] ? -1 : 1))) {
    box.append(
      h('div', { class: 'secret-rule', 'data-rule': rule, 'data-count': x.found }, h('h3', {}, h('code', {}, rule), ` ${formatCount(x.found)} in ${formatCount(x.trajectories)} trajector${x.trajectories === 1 ? 'y' : 'ies'}`), examplesList(o, x.examples, x.trajectories - x.examples.length)),
    );
  }
  return box;
}

function tampered(r: QualityReport, o: QualityViewOptions): HTMLElement {
  if (!r.tampered.length) return h('p', { class: 'note' }, 'None.');
  return examplesList(o, r.tampered, r.flags.tampered.count - r.tampered.length);
}

function leftOut(r: QualityReport): HTMLElement {
  const box = h('div', {});
  const reasons = Object.entries(r.dropped_by_reason).map(([k, v]) => `${k} ${v}`);
  if (reasons.length) box.append(h('p', { class: 'note' }, `${formatCount(r.dropped)} left out: ${reasons.join(', ')}`));
  const list = h('ul', { class: 'corrupt' });
  for (const c of r.corrupt.slice(0, 50)) list.append(h('li', {}, h('code', {}, c.file), `: ${c.detail}`));
  box.append(list);
  return box;
}
