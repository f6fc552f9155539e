/**
 * The Dataset and Compare runs panels (dist/webviews/dataset.js; run `npm run build` first) in
 * real Chromium through test/browser/harness.ts, under the extension's own CSP. The stub host
 * answers `ready` with what the extension would send, computed by the REAL server functions:
 * `computeStats` (with rows) on a run built here from the fixture run fx-a plus a hostile
 * trajectory (a task id with `<img onerror>`, a failing command with `<script>`) and 110
 * generated ones (so the table has two pages), and `compareRuns` on fx-a / fx-b.
 *
 * Checks: the summary figures, charts drawn (pixels on every canvas; the reward chart's
 * accessible values are the histogram's counts), the table's rows are the stats' rows and sort
 * by reward on a header click (nulls last, saved with setState), paging, a click / Enter on a
 * row posts `openTrajectory` with that row's index in `stats.rows`, untrusted text stays text
 * and nothing runs, progress and failure views, the compare panel's fixed / broken tasks and
 * its filter, themes (light, high contrast, and a live theme switch recolouring the charts),
 * and a restored state.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DatasetStats, RunComparison } from '../../common/src/dataset';
import type { DatasetPanelState, HostToDataset } from '../../common/src/webviewMessages';
import { compareRuns } from '../../server/src/stats/compare';
import { computeStats } from '../../server/src/stats/stats';
import { binLabels, num } from '../../webviews/src/dataset/format';
import { closeBrowser, inkPerChart, openWebview, type Theme, type WebviewPage } from './harness';

const RUNS = path.resolve(__dirname, '..', 'fixtures', 'export', 'runs');
const RUN_A = path.join(RUNS, 'fx-a');
const RUN_B = path.join(RUNS, 'fx-b');
const HOSTILE_TASK = '<img src=x onerror="window.__pwned=1">';
const HOSTILE_COMMAND = '<script>window.__pwned=2</script>';
const GENERATED = 110;

let dir: string;
let runDir: string;
let stats: DatasetStats;
let comparison: RunComparison;
const pages: WebviewPage[] = [];

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-browser-dataset-'));
  runDir = path.join(dir, 'fx-hostile');
  fs.cpSync(RUN_A, runDir, { recursive: true });
  const runJson = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8'));
  fs.writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ ...runJson, run_id: 'fx-hostile' }));
  const rewrite = (file: string, fn: (t: any) => void) => {
    const t = JSON.parse(fs.readFileSync(path.join(runDir, 'trajectories', file), 'utf8'));
    t.run_id = 'fx-hostile';
    fn(t);
    return t;
  };
  for (const f of fs.readdirSync(path.join(runDir, 'trajectories')).filter((x) => x !== 'broken.1.json')) {
    fs.writeFileSync(path.join(runDir, 'trajectories', f), JSON.stringify(rewrite(f, () => {})));
  }
  // The hostile trajectory: its task id and a failing command are markup.
  const hostile = rewrite('calc-sub.1.json', (t) => {
    t.task_id = HOSTILE_TASK;
    t.task.task_id = HOSTILE_TASK;
    t.steps[0].actions[0].command = HOSTILE_COMMAND;
  });
  fs.writeFileSync(path.join(runDir, 'trajectories', 'hostile.1.json'), JSON.stringify(hostile));
  for (let i = 0; i < GENERATED; i++) {
    const reward = (i % 11) / 10;
    const t = rewrite('calc-add.1.json', (x) => {
      x.task_id = `gen-${String(i).padStart(3, '0')}`;
      x.task.task_id = x.task_id;
      x.result.reward = reward;
      x.result.success = reward === 1;
    });
    fs.writeFileSync(path.join(runDir, 'trajectories', `gen-${String(i).padStart(3, '0')}.1.json`), JSON.stringify(t));
  }
  stats = await computeStats([runDir], { rows: true });
  comparison = await compareRuns([RUN_A], [RUN_B]);
  assert.equal(stats.rows!.length, 8 + 1 + GENERATED, 'fx-a (8 readable) + the hostile one + the generated ones');
  assert.ok(stats.top_failing_commands.some((c) => c.example === HOSTILE_COMMAND), 'the hostile command is among the failing commands');
  assert.ok(comparison.fixed.length > 0 && comparison.broken.length > 0, 'the fixtures have fixed and broken tasks');
});

after(async () => {
  for (const p of pages) await p.close().catch(() => undefined);
  await closeBrowser();
  fs.rmSync(dir, { recursive: true, force: true });
});

const statsMessage = (): HostToDataset => ({ type: 'stats', title: 'Dataset: fx-hostile', sources: [runDir], stats });
const compareMessage = () => ({ type: 'compare', title: 'Compare fx-a → fx-b', comparison, sources: [RUN_A, RUN_B] }) as HostToDataset;

/** A panel whose host answers `ready` with `reply` (and records everything the page posts). */
async function open(reply: HostToDataset[] | undefined, opts: { theme?: Theme; state?: unknown } = {}): Promise<WebviewPage> {
  const p = await openWebview({
    panel: 'dataset',
    theme: opts.theme,
    state: opts.state,
    onMessage: async (m, post) => {
      if (m.type === 'ready' && reply) for (const r of reply) await post(r);
    },
  });
  pages.push(p);
  return p;
}

/** Pixels of the reward chart exactly of colour `hex` (`#rrggbb`). */
function pixelsOfColour(p: WebviewPage, chart: string, hex: string): Promise<number> {
  return p.page.evaluate(
    ([chartTitle, colour]) => {
      const canvas = document.querySelector(`figure.chart[data-chart="${chartTitle}"] canvas`) as HTMLCanvasElement;
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i] === r && data[i + 1] === g && data[i + 2] === b && data[i + 3] === 255) n++;
      return n;
    },
    [chart, hex] as const,
  );
}

/** The table's rows as shown: their `data-index` and cell texts. */
function tableRows(p: WebviewPage, section = 'trajectories'): Promise<{ index: number; cells: string[] }[]> {
  return p.page.evaluate(
    (s) =>
      Array.from(document.querySelectorAll(`section[data-section="${s}"] tbody tr`)).map((tr) => ({
        index: Number((tr as HTMLElement).dataset.index),
        cells: Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? ''),
      })),
    section,
  );
}

/** Row indices of stats.rows sorted by reward (nulls last, ties in source order). */
function byReward(descending: boolean): number[] {
  const rows = stats.rows!;
  return rows
    .map((_, i) => i)
    .sort((a, b) => {
      const ra = rows[a]!.reward;
      const rb = rows[b]!.reward;
      if (ra === null || rb === null) return ra === rb ? a - b : ra === null ? 1 : -1;
      return ra !== rb ? (descending ? rb - ra : ra - rb) : a - b;
    });
}

test('Dataset panel: figures, five charts drawn with the histogram counts, the first page of the table in source order', async () => {
  const p = await open([statsMessage()]);
  await p.page.waitForSelector('section[data-section="trajectories"] tbody tr');
  const figure = (key: string) => p.page.locator(`[data-figure="${key}"] .figure-value`).textContent();
  assert.equal(await figure('trajectories'), String(stats.overall.trajectories));
  assert.equal(await figure('tasks'), String(stats.overall.tasks));
  assert.equal(await figure('success'), `${(stats.overall.success_rate! * 100).toFixed(1)}%`);
  assert.equal(await figure('resolved'), `${(stats.overall.resolved_rate! * 100).toFixed(1)}%`);
  assert.equal(await figure('pass@1'), `${(stats.pass_at_k['pass@1']!.value * 100).toFixed(1)}%`);
  assert.equal(await figure('dropped'), String(stats.dropped));
  assert.equal(await p.page.locator('h1.title').textContent(), 'Dataset: fx-hostile');

  const ink = await inkPerChart(p.page);
  assert.deepEqual(Object.keys(ink).sort(), ['Cost over the run', 'Reward', 'Steps', 'Success by task type', 'Tokens']);
  for (const [title, n] of Object.entries(ink)) assert.ok(n > 500, `the ${title} chart is drawn (${n} pixels with ink)`);
  const rewardLabel = await p.page.locator('figure.chart[data-chart="Reward"] canvas').getAttribute('aria-label');
  const labels = binLabels(stats.reward.histogram.edges, (x) => num(x, 2));
  assert.equal(rewardLabel, `Reward: ${labels.map((l, i) => `${l} ${stats.reward.histogram.counts[i]}`).join(', ')}`);
  const stepsLabel = await p.page.locator('figure.chart[data-chart="Steps"] canvas').getAttribute('aria-label');
  assert.equal(stepsLabel, `Steps: ${binLabels(stats.steps.histogram.edges, (x) => num(x, 1)).map((l, i) => `${l} ${stats.steps.histogram.counts[i]}`).join(', ')}`);

  const rows = await tableRows(p);
  assert.equal(rows.length, 100, 'one page of 100 rows');
  assert.deepEqual(rows.map((r) => r.index), [...Array(100).keys()], 'source order');
  for (const r of rows) {
    const s = stats.rows![r.index]!;
    assert.deepEqual(r.cells.slice(0, 5), [s.task_id, s.run_id, String(s.attempt), s.task_type, s.exit_status ?? 'unfinished']);
    assert.equal(r.cells[5], s.reward === null ? '–' : String(Number(s.reward.toFixed(3))));
    assert.equal(r.cells[7], String(s.steps));
  }
  assert.match((await p.page.locator('.pager-info').textContent()) ?? '', /^Rows 1–100 of 119$/);
  const exits = await p.page.locator('section[data-section="exit-statuses"] tbody tr').allTextContents();
  assert.equal(exits.length, Object.keys(stats.exit_statuses).length);
  assert.deepEqual(await p.page.locator('section[data-section="left-out"] li code').allTextContents(), stats.corrupt.map((c) => c.file), 'the corrupt file is listed');
  assert.deepEqual(p.errors, []);
});

test('Dataset panel: a header click sorts by reward (descending, then ascending; unknown last), saved with setState; paging', async () => {
  const p = await open([statsMessage()]);
  await p.page.waitForSelector('section[data-section="trajectories"] tbody tr');
  await p.page.click('th button.sort[data-key="reward"]');
  let rows = await tableRows(p);
  assert.deepEqual(rows.map((r) => r.index), byReward(true).slice(0, 100));
  assert.equal(await p.page.locator('th:has(button[data-key="reward"])').getAttribute('aria-sort'), 'descending');
  assert.deepEqual(await p.state(), { kind: 'stats', sources: [runDir], sortBy: 'reward', sortDescending: true } satisfies DatasetPanelState);

  await p.page.click('th button.sort[data-key="reward"]');
  rows = await tableRows(p);
  assert.deepEqual(rows.map((r) => r.index), byReward(false).slice(0, 100));
  assert.deepEqual(await p.state(), { kind: 'stats', sources: [runDir], sortBy: 'reward', sortDescending: false });

  await p.page.click('vscode-button.pager-next');
  rows = await tableRows(p);
  assert.deepEqual(rows.map((r) => r.index), byReward(false).slice(100), 'the second page holds the rest, the unknown reward last');
  assert.equal(stats.rows![rows.at(-1)!.index]!.reward, null);
  assert.match((await p.page.locator('.pager-info').textContent()) ?? '', /^Rows 101–119 of 119$/);
  assert.deepEqual(p.errors, []);
});

test('Dataset panel: click and Enter on a row post openTrajectory with its index in stats.rows; Refresh and Export post theirs', async () => {
  const p = await open([statsMessage()]);
  await p.page.waitForSelector('section[data-section="trajectories"] tbody tr');
  // Task descending: web-fetch, swe/parse-date, reason-sum, gen-109… all on the first page.
  await p.page.click('th button.sort[data-key="task"]');
  await p.page.click('th button.sort[data-key="task"]');
  const target = stats.rows!.findIndex((r) => r.task_id === 'swe/parse-date');
  assert.ok(target >= 100, 'a row that was on the second page in source order');
  await p.page.click(`section[data-section="trajectories"] tbody tr[data-index="${target}"]`);
  const other = stats.rows!.findIndex((r) => r.task_id === 'gen-100');
  await p.page.focus(`section[data-section="trajectories"] tbody tr[data-index="${other}"]`);
  await p.page.keyboard.press('Enter');
  await p.page.click('vscode-button.refresh');
  await p.page.click('vscode-button.export');
  // Messages reach the stub host asynchronously (a Playwright binding per postMessage).
  await p.waitForSent((sent) => sent.length >= 5);
  const sent = p.sent.filter((m: any) => m.type !== 'ready');
  assert.deepEqual(sent, [
    { type: 'openTrajectory', row: target },
    { type: 'openTrajectory', row: other },
    { type: 'refresh' },
    { type: 'export' },
  ]);
  assert.deepEqual(p.errors, []);
});

test('Dataset panel: a task id with <img onerror> and a command with <script> stay text; nothing runs', async () => {
  const p = await open([statsMessage()]);
  await p.page.waitForSelector('section[data-section="trajectories"] tbody tr');
  const hostileIndex = stats.rows!.findIndex((r) => r.task_id === HOSTILE_TASK);
  await p.page.click('th button.sort[data-key="task"]');
  const first = await tableRows(p);
  assert.equal(first[0]!.index, hostileIndex, 'sorted by task, "<img…" comes first');
  assert.equal(first[0]!.cells[0], HOSTILE_TASK);
  assert.equal(await p.page.locator(`tbody tr[data-index="${hostileIndex}"] td`).first().getAttribute('title'), HOSTILE_TASK);
  const commands = await p.page.locator('section[data-section="failing-commands"] code').allTextContents();
  assert.ok(commands.includes(HOSTILE_COMMAND), JSON.stringify(commands));
  const page = await p.page.evaluate(() => ({
    imgs: document.querySelectorAll('img').length,
    scripts: document.querySelectorAll('script').length,
    pwned: (window as any).__pwned ?? null,
  }));
  assert.deepEqual(page, { imgs: 0, scripts: 1, pwned: null });
  assert.deepEqual(p.errors, [], 'no page error, no CSP violation');
});

test('Dataset panel: progress while loading, then the figures; a failure is shown as text', async () => {
  const p = await open(undefined);
  await p.page.waitForSelector('.progress');
  assert.equal(await p.page.locator('.progress-text').textContent(), 'Listing trajectory files…');
  await p.post({ type: 'progress', progress: { phase: 'scan', done: 40, total: 120, kept: 38, dropped: 2 } });
  assert.equal(await p.page.locator('.progress-text').textContent(), 'Reading trajectories: 40 of 120 files (38 kept, 2 left out)');
  assert.equal(await p.page.locator('vscode-progress-bar').evaluate((el: any) => [el.value, el.max].join('/')), '40/120');
  await p.post(statsMessage());
  await p.page.waitForSelector('section[data-section="trajectories"] tbody tr');
  assert.equal(await p.page.locator('.content .progress').count(), 0);
  // A refresh shows its progress above the figures, and a failure as a banner.
  await p.post({ type: 'progress', progress: { phase: 'scan', done: 1, total: 2, kept: 1, dropped: 0 } });
  assert.equal(await p.page.locator('.banner .progress-text').textContent(), 'Reading trajectories: 1 of 2 files (1 kept, 0 left out)');
  const message = `${runDir}: no such file or directory <img src=x onerror="window.__pwned=3">`;
  await p.post({ type: 'failed', message });
  const alert = p.page.locator('[role="alert"]');
  assert.match((await alert.textContent()) ?? '', /no such file or directory <img src=x onerror="window.__pwned=3">/);
  assert.equal(await p.page.evaluate(() => document.querySelectorAll('img').length + ((window as any).__pwned ?? 0)), 0);
  assert.ok(await p.page.locator('section[data-section="trajectories"]').isVisible(), 'the previous figures stay');

  const fresh = await open([{ type: 'failed', message: 'params.sources[0] must be an absolute path' }]);
  await fresh.page.waitForSelector('[role="alert"]');
  assert.match((await fresh.page.locator('.content [role="alert"]').textContent()) ?? '', /Could not compute the figures\. params\.sources\[0\] must be an absolute path/);
  assert.deepEqual([...p.errors, ...fresh.errors], []);
});

test('Compare panel: both sides, paired differences, fixed and broken tasks, the per-task table filtered by change', async () => {
  const p = await open([compareMessage()]);
  await p.page.waitForSelector('section[data-section="tasks"] tbody tr');
  assert.equal(await p.page.locator('h1.title').textContent(), 'Compare fx-a → fx-b');
  assert.ok(await p.page.locator('vscode-button.export').isHidden(), 'no Export… on the compare panel');
  const heads = await p.page.locator('section[data-section="sides"] thead th').allTextContents();
  assert.deepEqual(heads, ['', 'A: fx-a', 'B: fx-b', 'B − A']);
  assert.deepEqual(await p.page.locator('section[data-section="fixed"] li').allTextContents(), comparison.fixed);
  assert.deepEqual(await p.page.locator('section[data-section="broken"] li').allTextContents(), comparison.broken);
  const diffRows = await p.page.locator('section[data-section="differences"] tbody tr').allTextContents();
  assert.equal(diffRows.length, 4);
  assert.match(diffRows[1]!, /McNemar p = /);

  let rows = await tableRows(p, 'tasks');
  assert.deepEqual(rows.map((r) => r.cells[0]), comparison.tasks.map((t) => t.task_id));
  const fixedRow = rows.find((r) => r.cells[0] === comparison.fixed[0])!;
  assert.equal(fixedRow.cells.at(-1), 'fixed');

  await p.page.evaluate(() => {
    const s = document.querySelector('vscode-single-select.change-filter') as any;
    s.value = 'broken';
    s.dispatchEvent(new Event('change'));
  });
  rows = await tableRows(p, 'tasks');
  assert.deepEqual(rows.map((r) => r.cells[0]), comparison.broken);
  await p.page.click('section[data-section="tasks"] th button.sort[data-key="rewardDelta"]');
  assert.deepEqual(await p.state(), { kind: 'compare', sources: [RUN_A, RUN_B], sortBy: 'rewardDelta', sortDescending: true, changeFilter: 'broken' });
  assert.deepEqual(p.errors, []);
});

test('Compare panel: a restored state brings back its sort and filter', async () => {
  const state = { kind: 'compare', sources: [RUN_A, RUN_B], sortBy: 'task', sortDescending: true, changeFilter: 'changed' };
  const p = await open([compareMessage()], { state });
  await p.page.waitForSelector('section[data-section="tasks"] tbody tr');
  const rows = await tableRows(p, 'tasks');
  const changed = comparison.tasks.filter((t) => t.change === 'fixed' || t.change === 'broken').map((t) => t.task_id);
  assert.deepEqual(rows.map((r) => r.cells[0]), [...changed].sort((a, b) => b.localeCompare(a, 'en', { numeric: true })));
  assert.equal(await p.page.locator('vscode-single-select.change-filter').evaluate((el: any) => el.value), 'changed');
  assert.deepEqual(p.errors, []);
});

test('Dataset panel: a restored state sorts the table as saved', async () => {
  const state: DatasetPanelState = { kind: 'stats', sources: [runDir], sortBy: 'reward', sortDescending: true };
  const p = await open([statsMessage()], { state });
  await p.page.waitForSelector('section[data-section="trajectories"] tbody tr');
  assert.deepEqual((await tableRows(p)).map((r) => r.index), byReward(true).slice(0, 100));
  assert.equal(await p.page.locator('th:has(button[data-key="reward"])').getAttribute('aria-sort'), 'descending');
  assert.deepEqual(await p.state(), state);
  assert.deepEqual(p.errors, []);
});

test('themes: light and high contrast render without errors in their own chart colours; a live theme switch recolours the charts', async () => {
  const green: Record<Theme, string> = { dark: '#89d185', light: '#388a34', 'high-contrast': '#89d185' };
  for (const theme of ['light', 'high-contrast'] as const) {
    const p = await open([statsMessage()], { theme });
    await p.page.waitForSelector('section[data-section="trajectories"] tbody tr');
    const ink = await inkPerChart(p.page);
    assert.equal(Object.keys(ink).length, 5, theme);
    for (const [title, n] of Object.entries(ink)) assert.ok(n > 500, `${theme}: the ${title} chart is drawn`);
    assert.ok((await pixelsOfColour(p, 'Reward', green[theme])) > 50, `${theme}: reward bars in --vscode-charts-green`);
    assert.deepEqual(p.errors, [], theme);
  }

  const p = await open([statsMessage()], { theme: 'dark' });
  await p.page.waitForSelector('section[data-section="trajectories"] tbody tr');
  assert.ok((await pixelsOfColour(p, 'Reward', green.dark)) > 50);
  assert.equal(await pixelsOfColour(p, 'Reward', green.light), 0);
  // What VS Code does on a theme change: new variables on <html style>, a new body class.
  await p.page.evaluate((colour) => {
    document.documentElement.style.setProperty('--vscode-charts-green', colour);
    document.body.className = 'vscode-light';
  }, green.light);
  await p.page.waitForFunction(
    (colour) => {
      const canvas = document.querySelector('figure.chart[data-chart="Reward"] canvas') as HTMLCanvasElement;
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));
      const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < d.length; i += 4) if (d[i] === r && d[i + 1] === g && d[i + 2] === b) return true;
      return false;
    },
    green.light,
    { timeout: 10_000 },
  );
  assert.equal(await pixelsOfColour(p, 'Reward', green.dark), 0, 'no bar left in the old colour');
  assert.deepEqual(p.errors, []);
});
