/**
 * Charts of the Dataset panel with chart.js 4 (https://www.chartjs.org/docs/4.4.1/getting-started/integration.html#bundlers-webpack-rollup-etc):
 * only the controllers, elements, scales and plugins used here are registered, so the bundle
 * keeps chart.js tree-shaken. Colours come from VS Code's `--vscode-charts-*` theme variables
 * and are re-read when the theme changes (the body class or the root's variables change: a
 * MutationObserver), then every live chart is updated in place.
 *
 * Each canvas has `role="img"` and an `aria-label` that lists the plotted values, so the figures
 * are readable without seeing the chart.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import { h } from '../common/dom';

Chart.register(BarController, BarElement, LineController, LineElement, PointElement, CategoryScale, LinearScale, Tooltip, Legend, Filler);

/** Theme colours the charts use, from `--vscode-charts-*` (fallbacks: VS Code's dark theme). */
export interface ChartTheme {
  foreground: string;
  lines: string;
  blue: string;
  green: string;
  red: string;
  yellow: string;
  orange: string;
  purple: string;
  fontFamily: string;
}

export type ChartColor = 'blue' | 'green' | 'red' | 'yellow' | 'orange' | 'purple';

/** Reads the chart colours from the page's VS Code theme variables. */
export function readTheme(): ChartTheme {
  const cs = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => cs.getPropertyValue(`--vscode-${name}`).trim() || fallback;
  return {
    foreground: v('charts-foreground', v('foreground', '#cccccc')),
    lines: v('charts-lines', '#cccccc80'),
    blue: v('charts-blue', '#3794ff'),
    green: v('charts-green', '#89d185'),
    red: v('charts-red', '#f14c4c'),
    yellow: v('charts-yellow', '#cca700'),
    orange: v('charts-orange', '#d18616'),
    purple: v('charts-purple', '#b180d7'),
    fontFamily: v('font-family', 'system-ui, sans-serif'),
  };
}

/** One series of a chart. */
export interface Series {
  label: string;
  /** One value per label; null where unknown (a gap, not a zero). */
  data: (number | null)[];
  color: ChartColor;
}

/** What a chart shows. */
export interface ChartSpec {
  kind: 'bar' | 'line';
  /** Chart title, also the start of the canvas's accessible name. */
  title: string;
  labels: string[];
  series: Series[];
  xTitle?: string;
  yTitle?: string;
  /** Y axis as a percentage in [0, 100]. */
  percent?: boolean;
  /** Formats a value for the tooltip and the accessible name (null: unknown). */
  format?(v: number | null): string;
}

interface Live {
  chart: Chart;
  spec: ChartSpec;
}

/**
 * The charts of one panel: `create` makes a chart in a new figure element, `destroyAll`
 * releases them (before a re-render). Theme changes recolour every live chart.
 */
export class ChartSet {
  private live: Live[] = [];
  private theme = readTheme();
  private readonly observer: MutationObserver;
  private pending = false;

  constructor() {
    this.observer = new MutationObserver(() => this.scheduleTheme());
    this.observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind'] });
    this.observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  }

  /** A `<figure>` with the chart (or a note when there is nothing to plot). */
  create(spec: ChartSpec): HTMLElement {
    const empty = spec.labels.length === 0 || spec.series.every((s) => s.data.every((d) => d === null || d === 0));
    const figure = h('figure', { class: 'chart', 'data-chart': spec.title }, h('figcaption', {}, spec.title));
    if (empty) {
      figure.append(h('p', { class: 'empty' }, 'Nothing recorded.'));
      return figure;
    }
    const canvas = h('canvas', { role: 'img', 'aria-label': accessibleName(spec) });
    figure.append(h('div', { class: 'chart-box' }, canvas));
    const chart = new Chart(canvas, this.config(spec));
    this.live.push({ chart, spec });
    return figure;
  }

  /** Destroys every chart (their canvases can then be dropped). */
  destroyAll(): void {
    for (const l of this.live) l.chart.destroy();
    this.live = [];
  }

  dispose(): void {
    this.destroyAll();
    this.observer.disconnect();
  }

  /** Re-reads the theme and recolours the charts (once per frame at most). */
  private scheduleTheme(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.theme = readTheme();
      for (const l of this.live) {
        const c = this.config(l.spec);
        l.chart.options = c.options!;
        l.chart.data.datasets.forEach((d, i) => Object.assign(d, c.data.datasets[i]));
        // Not update('none'): that mode keeps the shared element options (the old colours).
        l.chart.update();
      }
    });
  }

  private config(spec: ChartSpec): ChartConfiguration<'bar' | 'line'> {
    const t = this.theme;
    const fmt = spec.format ?? ((v: number | null) => (v === null ? '–' : String(v)));
    const axis = (title: string | undefined) => ({
      ticks: { color: t.foreground, font: { family: t.fontFamily } },
      grid: { color: t.lines },
      border: { color: t.lines },
      title: { display: !!title, text: title ?? '', color: t.foreground, font: { family: t.fontFamily } },
    });
    return {
      type: spec.kind,
      data: {
        labels: spec.labels,
        datasets: spec.series.map((s) => ({
          label: s.label,
          data: s.data,
          backgroundColor: spec.kind === 'line' ? withAlpha(t[s.color], 0.2) : t[s.color],
          borderColor: t[s.color],
          borderWidth: spec.kind === 'line' ? 2 : 0,
          pointRadius: spec.kind === 'line' ? 0 : undefined,
          fill: spec.kind === 'line' ? 'origin' : undefined,
          tension: 0,
        })),
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        plugins: {
          legend: { display: spec.series.length > 1, labels: { color: t.foreground, font: { family: t.fontFamily } } },
          tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${fmt(item.raw === null ? null : Number(item.raw))}` } },
        },
        scales: {
          x: { ...axis(spec.xTitle), ticks: { ...axis(spec.xTitle).ticks, maxRotation: 0, autoSkip: true } },
          y: { ...axis(spec.yTitle), beginAtZero: true, max: spec.percent ? 100 : undefined, ticks: { ...axis(spec.yTitle).ticks, precision: spec.percent ? undefined : 0 } },
        },
      },
    } as ChartConfiguration<'bar' | 'line'>;
  }
}

/** "Title: label value, label value…" (the first 40 points) for the canvas's aria-label. */
export function accessibleName(spec: ChartSpec): string {
  const fmt = spec.format ?? ((v: number | null) => (v === null ? '–' : String(v)));
  const parts = spec.series.map((s) => {
    const points = spec.labels.slice(0, 40).map((l, i) => `${l} ${fmt(s.data[i] ?? null)}`);
    const more = spec.labels.length > 40 ? `, … ${spec.labels.length - 40} more` : '';
    return `${spec.series.length > 1 ? `${s.label}: ` : ''}${points.join(', ')}${more}`;
  });
  return `${spec.title}: ${parts.join('; ')}`;
}

/** `#rrggbb` / `#rrggbbaa` / `rgb()` with alpha `a` (other forms returned unchanged). */
function withAlpha(color: string, a: number): string {
  const m = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(color);
  if (m) return `#${m[1]}${Math.round(a * 255).toString(16).padStart(2, '0')}`;
  const r = /^rgba?\(([^,]+),([^,]+),([^,)]+)/.exec(color);
  return r ? `rgba(${r[1]},${r[2]},${r[3]},${a})` : color;
}
