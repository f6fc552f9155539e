/**
 * The trajectory inspector's webview bundle (dist/webviews/trajectory.js) in real Chromium, on
 * the extension's page and CSP (harness.ts), with a host stub that calls the daemon's own
 * inspector module (inspectorHost.ts): timeline, detail, keyboard, search, filters, diff tab,
 * state, failures, reopening, hostile content, themes. No timing assertions (bench/inspector.ts
 * measures).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InspectorState } from '../../common/src/webviewMessages';
import type { Trajectory } from '../../common/src/trajectory';
import { BROWSER_HOSTILE_TITLE, BROWSER_PNG_SIZE, hostileTrajectory, HUGE_LINE_CHARS, realisticTrajectory, writeBrowserTrajectory } from '../fixtures/inspect/generate';
import { closeBrowser, openWebview, type Theme, type WebviewPage } from './harness';
import { inspectorHost, type InspectorHost } from './inspectorHost';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const FOREIGN = path.resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'foreign');
const OURS = path.join(REPO_ROOT, 'test', 'fixtures', 'inspect', 'trajlab.inspect.trajectory.json');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-inspector-browser-'));

after(async () => {
  await closeBrowser();
  fs.rmSync(TMP, { recursive: true, force: true });
});

/** Writes `t` to a temp file once per name and returns its path. */
const written = new Map<string, string>();
function tempTrajectory(name: string, make: () => Trajectory): string {
  let file = written.get(name);
  if (!file) {
    file = path.join(TMP, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify(make()));
    written.set(name, file);
  }
  return file;
}
const bigFile = () => tempTrajectory('big', () => realisticTrajectory({ steps: 3000, targetBytes: 3_000_000, seed: 7 }));
const hostileFile = () => tempTrajectory('hostile', hostileTrajectory);

interface Opened {
  w: WebviewPage;
  host: InspectorHost;
}

async function openInspector(file: string, opts: { state?: InspectorState; theme?: Theme } = {}): Promise<Opened> {
  const host = inspectorHost(file);
  const w = await openWebview({ panel: 'trajectory', onMessage: (m, post) => host.onMessage(m, post), state: opts.state, theme: opts.theme });
  // Functions this file hands to page.evaluate are compiled by tsx with keepNames (`__name`).
  await w.page.evaluate('globalThis.__name ??= (f) => f');
  return { w, host };
}

/** Runs `fn` on a freshly opened inspector and closes it, whatever happens. */
async function withInspector(file: string, fn: (o: Opened) => Promise<void>, opts: { state?: InspectorState; theme?: Theme } = {}): Promise<void> {
  const o = await openInspector(file, opts);
  try {
    await fn(o);
  } finally {
    await o.w.close();
  }
}

const waitRows = (w: WebviewPage) => w.page.waitForSelector('.row.loaded');
/** Steps of the rows in the DOM with their data, in list order. */
const renderedSteps = (w: WebviewPage) =>
  w.page.$$eval('.row.loaded', (rows) => rows.map((r) => ({ step: Number(r.getAttribute('data-step')), top: (r as HTMLElement).getBoundingClientRect().top })).sort((a, b) => a.top - b.top).map((r) => r.step));
const selectedStep = (w: WebviewPage) => w.page.evaluate(() => {
  const r = document.querySelector('.row.selected');
  return r ? Number(r.getAttribute('data-step')) : null;
});
const waitDetail = (w: WebviewPage, step: number) => w.page.waitForSelector(`.detail[data-step="${step}"]`, { state: 'attached' });
const savedState = async (w: WebviewPage) => (await w.state()) as InspectorState;
/** Waits until the webview has posted a message that is not a request (a command), and returns the last one. */
async function lastCommand(w: WebviewPage, count: number): Promise<unknown> {
  const commands = () => (w.sent as { type: string }[]).filter((m) => m.type !== 'request' && m.type !== 'ready');
  await w.waitForSent(() => commands().length >= count);
  assert.equal(commands().length, count, 'the command was posted');
  return commands().at(-1);
}

test('the timeline renders the rows of a real fixture from pages the daemon module answers', async () => {
  await withInspector(path.join(FOREIGN, 'mini-swe-agent.astropy__astropy-12907.traj.json'), async ({ w, host }) => {
    await waitRows(w);
    const steps = await renderedSteps(w);
    assert.deepEqual(steps.slice(0, 5), [0, 1, 2, 3, 4]);
    assert.ok(steps.length < 64, `only the rows in view are in the DOM (got ${steps.length})`);
    const expected = host.service.steps({ handle: host.handle()!, start: 0, count: 3 }).rows;
    for (const r of expected) {
      const cells = await w.page.$eval(`.row[data-step="${r.index}"]`, (el) => Array.from(el.children, (c) => c.textContent));
      assert.equal(cells[0], String(r.index));
      assert.equal(cells[3], `$${r.actions[0]}`, 'the kind icon, then the one-line action');
      assert.equal(cells[4], String(r.exitCodes[0]));
      assert.equal(cells[5], r.tokens === null ? '–' : r.tokens < 10_000 ? `${(r.tokens / 1000).toFixed(1)}k` : `${Math.round(r.tokens / 1000)}k`);
    }
    assert.equal(await w.page.textContent('.list-count'), '64 steps');
    assert.match((await w.page.textContent('.header .meta'))!, /model openai\/gpt-5-mini|mini-swe-agent/);
    assert.deepEqual(host.requests[0], { method: 'steps', params: { start: 0, count: 64 } });
    assert.deepEqual(w.errors, []);
  });
});

test('virtualised: 3,000 steps keep only the rows in view in the DOM, paged in as the list scrolls', async () => {
  await withInspector(bigFile(), async ({ w, host }) => {
    await waitRows(w);
    const domRows = () => w.page.$$eval('.row', (rows) => rows.length);
    assert.ok((await domRows()) <= 60, `rows in the DOM: ${await domRows()}`);
    await w.page.$eval('.timeline', (el) => {
      el.scrollTop = el.scrollHeight;
    });
    await w.page.waitForSelector('.row.loaded[data-step="2999"]');
    assert.ok((await domRows()) <= 60, `rows in the DOM at the end: ${await domRows()}`);
    const pages = host.requests.filter((r) => r.method === 'steps').map((r) => r.params as { start: number; count: number });
    assert.deepEqual(pages[0], { start: 0, count: 200 });
    assert.ok(pages.some((p) => p.start === 2800 && p.count === 200), JSON.stringify(pages));
    assert.ok(pages.length <= 4, `only the pages in view were fetched: ${JSON.stringify(pages)}`);
    assert.equal(await w.page.textContent('.row[data-step="2999"] .c-idx'), '2999');
    assert.deepEqual(w.errors, []);
  });
});

test('selecting a step shows its detail: reply, tool calls, observations with their markers, edit diffs', async () => {
  await withInspector(OURS, async ({ w, host }) => {
    const t = JSON.parse(fs.readFileSync(OURS, 'utf8')) as Trajectory;
    await waitRows(w);
    await w.page.click('.row[data-step="2"]');
    await waitDetail(w, 2);
    const detail = (await w.page.textContent('.detail'))!;
    assert.match(detail, /Step 2/);
    assert.match(detail, /Run the tests and a slow check\./);
    assert.match(detail, /timed out/);
    assert.match(detail, /output truncated \(13,570 bytes produced\)/);
    const stdout = await w.page.$$eval('.detail pre.stdout', (els) => els.map((e) => e.textContent));
    assert.deepEqual(stdout, [t.steps[2]!.observations[0]!.stdout]);
    const stderr = await w.page.$$eval('.detail pre.stderr', (els) => els.map((e) => e.textContent));
    assert.deepEqual(stderr, [t.steps[2]!.observations[0]!.stderr, 'command timed out after 60 s']);
    assert.deepEqual(await w.page.$$eval('.detail .action-head .exit', (els) => els.map((e) => e.textContent)), ['1', '?']);
    assert.equal(await selectedStep(w), 2);

    await w.page.click('.row[data-step="4"]');
    await waitDetail(w, 4);
    assert.match((await w.page.textContent('.detail details'))!, /Reasoning\s*Replace '-' with '\+' in add\(\)/);
    assert.deepEqual(await w.page.$$eval('.detail pre.diff span', (els) => els.map((e) => [e.className, e.textContent])), [
      ['d-file', '--- a/calc.py\n'],
      ['d-file', '+++ b/calc.py\n'],
      ['d-hunk', '@@ -1,2 +1,2 @@\n'],
      ['d-ctx', ' def add(a, b):\n'],
      ['d-del', '-    return a - b\n'],
      ['d-add', '+    return a + b\n'],
    ]);
    assert.equal(await w.page.$$eval('.detail .open-edit-diff', (els) => els.length), 1, 'the view action has no diff');
    await w.page.click('.detail .open-edit-diff');
    assert.deepEqual(await lastCommand(w, 1), { type: 'openDiff', step: 4, action: 0 });
    // What the extension then asks the daemon for.
    assert.equal(host.service.diffSides({ handle: host.handle()!, step: 4, action: 0 }).right, 'def add(a, b):\n    return a + b');
    assert.deepEqual(w.errors, []);
  });
});

test('keyboard: j / k and the arrows move the selection, Home / End, Enter focuses the detail', async () => {
  await withInspector(OURS, async ({ w }) => {
    await waitRows(w);
    const press = async (key: string) => w.page.keyboard.press(key);
    await press('j');
    assert.equal(await selectedStep(w), 0);
    await press('j');
    await press('j');
    assert.equal(await selectedStep(w), 2);
    await press('k');
    assert.equal(await selectedStep(w), 1);
    await press('ArrowDown');
    assert.equal(await selectedStep(w), 2);
    await press('End');
    assert.equal(await selectedStep(w), 7);
    await press('ArrowUp');
    assert.equal(await selectedStep(w), 6);
    await press('Home');
    assert.equal(await selectedStep(w), 0);
    await waitDetail(w, 0);
    await press('Enter');
    assert.equal(await w.page.evaluate(() => document.activeElement?.className), 'step-panel scroll');
    await press('Escape');
    assert.equal(await w.page.evaluate(() => document.activeElement?.className), 'timeline');
    await press('j');
    assert.equal(await selectedStep(w), 1);
    assert.equal((await savedState(w)).selectedStep, 1);
    assert.deepEqual(w.errors, []);
  });
});

test('search: / focuses the field; hits highlighted in rows and detail; Enter, Shift+Enter, n and N move between hit steps', async () => {
  await withInspector(OURS, async ({ w, host }) => {
    await waitRows(w);
    const expected = [...new Set((await host.service.search({ handle: host.handle()!, query: 'pytest' })).hits.map((x) => x.step))];
    assert.deepEqual(expected, [2, 6], 'the fixture has "pytest" in steps 2 and 6');
    await w.page.keyboard.press('/');
    await w.page.keyboard.type('PyTest');
    await w.page.waitForFunction(() => document.querySelector('.hit-count')?.textContent === '2 steps');
    await w.page.keyboard.press('Enter');
    await waitDetail(w, 2);
    assert.equal(await selectedStep(w), 2);
    assert.equal(await w.page.textContent('.hit-count'), '1 of 2 steps');
    // Rows: the hit is marked, with the text as it is (case kept).
    assert.deepEqual(await w.page.$$eval('.row[data-step="2"] mark.hit', (els) => els.map((e) => e.textContent)), ['pytest']);
    assert.deepEqual(await w.page.$$eval('.row[data-step="6"] mark.hit', (els) => els.map((e) => e.textContent)), ['pytest']);
    assert.equal(await w.page.$$eval('.row[data-step="0"] mark.hit', (els) => els.length), 0);
    // Detail: in the tool call's arguments and in the command; the first is the current one.
    const marks = await w.page.$$eval('.detail mark.hit', (els) => els.map((e) => [e.textContent, e.classList.contains('current'), e.closest('pre')?.className]));
    assert.deepEqual(marks, [
      ['pytest', true, 'mono hl'],
      ['pytest', false, 'mono command hl'],
    ]);
    await w.page.keyboard.press('Enter');
    await waitDetail(w, 6);
    assert.equal(await selectedStep(w), 6);
    await w.page.keyboard.press('Shift+Enter');
    await waitDetail(w, 2);
    assert.equal(await selectedStep(w), 2);
    await w.page.keyboard.press('Escape');
    await w.page.keyboard.press('n');
    await waitDetail(w, 6);
    assert.equal(await selectedStep(w), 6);
    await w.page.keyboard.press('n');
    await waitDetail(w, 2);
    assert.equal(await selectedStep(w), 2, 'wraps around');
    await w.page.keyboard.press('Shift+N');
    await waitDetail(w, 6);
    assert.equal(await selectedStep(w), 6);
    assert.equal((await savedState(w)).query, 'PyTest');
    const searches = host.requests.filter((r) => r.method === 'search');
    assert.deepEqual(searches.at(-1)!.params, { query: 'PyTest' });
    // No hits.
    await w.page.fill('vscode-textfield.search input', 'no such text anywhere');
    await w.page.waitForFunction(() => document.querySelector('.hit-count')?.textContent === 'No hits');
    assert.equal(await w.page.$$eval('mark.hit', (els) => els.length), 0);
    assert.deepEqual(w.errors, []);
  });
});

test('filters: errors only, non-zero exit and edits only compose; the list pages over the kept steps', async () => {
  await withInspector(OURS, async ({ w, host }) => {
    await waitRows(w);
    const rowsAre = async (steps: number[]) => {
      await w.page.waitForFunction((want) => {
        const got = Array.from(document.querySelectorAll('.row.loaded'), (r) => Number(r.getAttribute('data-step'))).sort((a, b) => a - b);
        return JSON.stringify(got) === JSON.stringify(want);
      }, steps);
    };
    await w.page.click('vscode-checkbox.filter-nonZeroExit');
    await rowsAre([2, 5]);
    assert.equal(await w.page.textContent('.list-count'), '2 of 8 steps');
    assert.deepEqual(host.requests.find((r) => r.method === 'filter')!.params, { filter: { nonZeroExit: true } });
    assert.deepEqual(host.requests.filter((r) => r.method === 'steps').at(-1)!.params, { indices: [2, 5] });
    await w.page.keyboard.press('j');
    await w.page.keyboard.press('j');
    assert.equal(await selectedStep(w), 5, 'j moves through the kept steps');
    await w.page.click('vscode-checkbox.filter-editsOnly');
    await rowsAre([5]);
    await w.page.click('vscode-checkbox.filter-nonZeroExit');
    await rowsAre([1, 4, 5]);
    await w.page.click('vscode-checkbox.filter-editsOnly');
    await w.page.click('vscode-checkbox.filter-errorsOnly');
    await rowsAre([3]);
    assert.deepEqual((await savedState(w)).filter, { errorsOnly: true, nonZeroExit: false, editsOnly: false });
    await w.page.click('vscode-checkbox.filter-errorsOnly');
    await rowsAre([0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(w.errors, []);
  });
});

test('the Diff tab renders the final diff file by file (diff2html), toggles the layout, and opens files in the diff editor', async () => {
  await withInspector(OURS, async ({ w, host }) => {
    await waitRows(w);
    await w.page.click('vscode-tab-header.tab-diff');
    await w.page.waitForSelector('.diff-file');
    const names = await w.page.$$eval('.diff-file .diff-file-name', (els) => els.map((e) => e.textContent));
    assert.deepEqual(names, ['calc.py', 'docs/read me.md', 'old.txt', 'logo.png', 'lib/tools.py', 'café.txt', 'src/util.py']);
    assert.equal(await w.page.$$eval('.diff-file .d2h-files-diff', (els) => els.length), 7, 'side by side');
    const calc = await w.page.$eval('.diff-file[data-file="calc.py"]', (el) => el.textContent);
    assert.match(calc!, /return a \* b/);
    assert.equal((await savedState(w)).tab, 'diff');
    await w.page.click('.diff-toolbar .layout-line-by-line');
    await w.page.waitForFunction(() => document.querySelectorAll('.diff-file .d2h-files-diff').length === 0);
    assert.equal(await w.page.$$eval('.diff-file .d2h-file-diff', (els) => els.length), 7);
    assert.equal((await savedState(w)).diffLayout, 'line-by-line');
    assert.equal(await w.page.$eval('.diff-file[data-file="logo.png"] .open-diff', (el) => el.hasAttribute('disabled')), true);
    // The button names the file as the diff does; the daemon finds it (quoted path with escapes).
    await w.page.click('.diff-file:nth-of-type(6) .open-diff');
    const open = (await lastCommand(w, 1)) as { type: string; file: string };
    assert.equal(open.type, 'openDiff');
    assert.equal(host.service.diffSides({ handle: host.handle()!, file: open.file }).right, 'café au lait\n');
    await w.page.click('.diff-file[data-file="old.txt"] .open-diff');
    assert.deepEqual(await lastCommand(w, 2), { type: 'openDiff', file: 'old.txt' });
    assert.deepEqual(w.errors, []);
  });
});

test('toolbar: Replay only for replayable trajectories; Export… and Open as text post their messages', async () => {
  await withInspector(OURS, async ({ w }) => {
    await waitRows(w);
    assert.equal(await w.page.$eval('vscode-button.replay', (el) => el.hasAttribute('disabled')), true);
    await w.page.click('vscode-button.export');
    assert.deepEqual(await lastCommand(w, 1), { type: 'export' });
    // A click on the disabled Replay, then Open as text: whatever the first posts comes before
    // the second's message, so nothing may come between Export's and Open as text's.
    await w.page.click('vscode-button.replay', { force: true });
    await w.page.click('vscode-button.open-as-text');
    assert.deepEqual(await lastCommand(w, 2), { type: 'openAsText' }, 'a disabled Replay posts nothing');
  });
  const tasks = path.join(TMP, 'tasks.jsonl');
  fs.writeFileSync(tasks, '{"task_id": "calc-fix-all", "description": "x"}\n');
  const replayable = tempTrajectory('replayable', () => ({ ...(JSON.parse(fs.readFileSync(OURS, 'utf8')) as Trajectory), source: { tasks_file: tasks, line: 1 } }));
  await withInspector(replayable, async ({ w }) => {
    await waitRows(w);
    assert.equal(await w.page.$eval('vscode-button.replay', (el) => el.hasAttribute('disabled')), false);
    await w.page.click('vscode-button.replay');
    assert.deepEqual(await lastCommand(w, 1), { type: 'replay' });
  });
});

test('state: restored from getState at start (step, filters, query, tab, diff layout, scroll) and saved on change', async () => {
  const state: InspectorState = { selectedStep: 5, filter: { editsOnly: true }, query: 'clamp', scrollTop: 0, diffLayout: 'line-by-line', tab: 'diff' };
  await withInspector(
    OURS,
    async ({ w }) => {
      await waitRows(w);
      await w.page.waitForFunction(() => document.querySelectorAll('.row.loaded').length === 3);
      assert.deepEqual(await renderedSteps(w), [1, 4, 5]);
      assert.equal(await selectedStep(w), 5);
      assert.equal(await w.page.$eval('vscode-checkbox.filter-editsOnly', (el) => (el as HTMLElement & { checked: boolean }).checked), true);
      assert.equal(await w.page.$eval('vscode-textfield.search', (el) => (el as HTMLElement & { value: string }).value), 'clamp');
      await w.page.waitForFunction(() => document.querySelector('.hit-count')?.textContent === '1 step');
      assert.equal(await w.page.$eval('vscode-tabs', (el) => (el as HTMLElement & { selectedIndex: number }).selectedIndex), 1);
      await w.page.waitForSelector('.diff-file .d2h-file-diff');
      assert.equal(await w.page.$$eval('.diff-file .d2h-files-diff', (els) => els.length), 0, 'line by line');
      await waitDetail(w, 5);
      await w.page.keyboard.press('k');
      assert.equal((await savedState(w)).selectedStep, 4);
      assert.deepEqual(w.errors, []);
    },
    { state },
  );
  await withInspector(
    bigFile(),
    async ({ w }) => {
      await w.page.waitForSelector('.row.loaded[data-step="110"]');
      assert.equal(await w.page.$eval('.timeline', (el) => el.scrollTop), 2400);
      assert.equal(await w.page.$$eval('.row[data-step="10"]', (els) => els.length), 0, 'rows far above the view are not rendered');
      await w.page.$eval('.timeline', (el) => {
        el.scrollTop = 4800;
      });
      await w.page.waitForFunction(() => (window as unknown as { __trajlabState(): InspectorState }).__trajlabState().scrollTop === 4800);
    },
    { state: { selectedStep: null, filter: {}, query: '', scrollTop: 2400, diffLayout: 'side-by-side', tab: 'step' } },
  );
});

test("'failed' shows a clear message with Open as text; a later 'open' shows the trajectory", async () => {
  await withInspector(path.join(FOREIGN, 'swebench.instances.json'), async ({ w, host }) => {
    await w.page.waitForSelector('.failed');
    assert.equal(await w.page.textContent('.failed h2'), 'This trajectory cannot be shown');
    assert.match((await w.page.textContent('.failed-message'))!, /swebench\.instances\.json: a list of 5 SWE-bench \/ SWE-smith task instance\(s\), not a trajectory/);
    await w.page.click('.failed vscode-button.open-as-text');
    assert.deepEqual(await lastCommand(w, 1), { type: 'openAsText' });
    await host.reopen(w.post, OURS);
    await waitRows(w);
    assert.equal(await w.page.$$eval('.failed', (els) => els.length), 0);
    assert.equal(await w.page.textContent('.task-id'), 'calc-fix-all');
    assert.deepEqual(w.errors, []);
  });
});

test('a second open (the file changed on disk) replaces the content and keeps the selection', async () => {
  const file = path.join(TMP, 'changing.json');
  const t = JSON.parse(fs.readFileSync(OURS, 'utf8')) as Trajectory;
  fs.writeFileSync(file, JSON.stringify(t));
  await withInspector(file, async ({ w, host }) => {
    await waitRows(w);
    await w.page.click('.row[data-step="2"]');
    await waitDetail(w, 2);
    t.task.description = 'Changed on disk.';
    t.steps[2]!.response.content = 'A new reply.';
    t.steps.pop();
    fs.writeFileSync(file, JSON.stringify(t));
    const later = new Date(Date.now() + 10_000);
    fs.utimesSync(file, later, later);
    await host.reopen(w.post);
    await w.page.waitForFunction(() => document.querySelector('.header .description')?.textContent === 'Changed on disk.');
    await w.page.waitForFunction(() => /A new reply\./.test(document.querySelector('.detail')?.textContent ?? ''));
    assert.equal(await selectedStep(w), 2);
    assert.equal(await w.page.textContent('.list-count'), '7 steps');
    assert.deepEqual(w.errors, []);
  });
});

test('a clipped text says so; "Show all" fetches the whole of it (a 5 MB line)', async () => {
  await withInspector(hostileFile(), async ({ w, host }) => {
    await waitRows(w);
    await w.page.click('.row[data-step="1"]');
    await waitDetail(w, 1);
    assert.match((await w.page.textContent('.detail .clip-note'))!, /Clipped: showing 20,000 of 5,242,9\d\d characters\./);
    assert.equal(await w.page.$eval('.detail pre.stdout', (el) => el.textContent!.length), 20_000);
    await w.page.click('.detail vscode-button.show-all');
    await w.page.waitForFunction(() => (document.querySelector('.detail pre.stdout')?.textContent?.length ?? 0) > 5_000_000, undefined, { timeout: 60_000 });
    assert.equal(await w.page.$eval('.detail pre.stdout', (el) => el.textContent!.endsWith('END-OF-HUGE-LINE')), true);
    assert.equal(await w.page.$$eval('.detail .clip-note', (els) => els.length), 0);
    assert.deepEqual(host.requests.filter((r) => r.method === 'step').at(-1)!.params, { index: 1, clip: 0 });
    assert.ok(HUGE_LINE_CHARS > 5_000_000);
    await w.page.keyboard.press('k');
    assert.equal(await selectedStep(w), 0, 'still responds');
  });
});

test('XSS: hostile text everywhere renders as text, runs nothing, posts nothing, creates no element', async () => {
  await withInspector(hostileFile(), async ({ w }) => {
    await waitRows(w);
    // Every step's detail, a search with highlights in hostile text, the Diff and Task tabs.
    for (let step = 0; step < 4; step++) {
      await w.page.keyboard.press('j');
      await waitDetail(w, step);
    }
    await w.page.keyboard.press('Home');
    await waitDetail(w, 0);
    const stepText = (await w.page.$eval('.step-panel', (el) => (el as HTMLElement).innerText))!;
    await w.page.keyboard.press('/');
    await w.page.keyboard.type('<img src=x');
    await w.page.keyboard.press('Enter');
    await waitDetail(w, 1);
    await w.page.waitForSelector('.detail mark.hit');
    await w.page.click('vscode-tab-header.tab-diff');
    await w.page.waitForSelector('.diff-file');
    await w.page.click('vscode-tab-header.tab-task');
    await w.page.waitForSelector('.task-description');

    assert.equal(await w.page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), undefined, 'no payload ran');
    const unexpected = (w.sent as { type: string }[]).filter((m) => m.type !== 'ready' && m.type !== 'request');
    assert.deepEqual(unexpected, [], 'no message but the panel\'s own');

    // No element made from a payload, in the page's body or in any shadow root (the components').
    const found = await w.page.evaluate(() => {
      const bad: string[] = [];
      const visit = (root: Element | ShadowRoot, light: boolean) => {
        for (const el of Array.from(root.querySelectorAll('*'))) {
          const tag = el.tagName.toLowerCase();
          if (tag === 'script' && !(el as HTMLScriptElement).nonce) bad.push('script');
          if (['img', 'iframe', 'object', 'embed', 'frame', 'form', 'base', 'meta', 'link'].includes(tag)) bad.push(tag);
          // Light DOM: only what the panel builds (diff2html's file icons are its only SVG).
          if (light && tag === 'style') bad.push('style');
          if (light && tag === 'svg' && !el.classList.contains('d2h-icon')) bad.push(`svg ${el.outerHTML.slice(0, 80)}`);
          if (light && tag === 'details' && !el.classList.contains('detail-section')) bad.push('details');
          for (const attr of Array.from(el.attributes)) {
            if (/^on/i.test(attr.name)) bad.push(`${tag}[${attr.name}]`);
            if (/^(href|src|data|action|formaction|xlink:href|srcdoc)$/i.test(attr.name) && /javascript:|<script/i.test(attr.value)) bad.push(`${tag}[${attr.name}]`);
          }
          if (el.shadowRoot) visit(el.shadowRoot, false);
        }
      };
      visit(document.body, true);
      return bad;
    });
    assert.deepEqual(found, [], 'no element or attribute from a payload (whether or not the CSP would block it)');
    assert.deepEqual(w.errors, [], 'no page error, console error or CSP violation');

    // The payloads are there as text.
    assert.ok(stepText.includes(`<script>window.__pwned = 'script'</script>`), 'markup shown as text');
    assert.ok(stepText.includes(`<a href="javascript:window.__pwned = 'link'">click me</a>`));
    assert.ok(stepText.includes('␛[31mRED␛[0m'), 'ANSI escapes shown, not obeyed');
    assert.ok(stepText.includes('zero⟨U+200B⟩width'), 'zero-width characters made visible');
    assert.ok(stepText.includes('RTL ⟨U+202E⟩gnp.exe⟨U+202C⟩'), 'bidi overrides made visible');
    assert.ok(stepText.includes('C0 ␀ NUL ␇ BEL'), 'C0 controls as control pictures');
    assert.ok(stepText.includes('lone \ufffd high'), 'lone surrogates as U+FFFD');
    const diffNames = await w.page.$$eval('.diff-file-name', (els) => els.map((e) => e.textContent));
    assert.deepEqual(diffNames, [`src/<img src=x onerror="window.__pwned='diffname'">.py`, `docs/"><script>window.__pwned='diffname2'</script>.md`, 'plain.txt']);
    const diffText = await w.page.$eval('.diff-files', (el) => el.textContent!);
    assert.ok(diffText.includes(`<svg onload="window.__pwned = 'svg'"><circle r="5"/></svg>`), 'diff lines as text');
    assert.ok(diffText.includes(`<iframe srcdoc="<script>parent.__pwned = 'iframe'</script>"></iframe>`));
    assert.equal(await w.page.textContent('.task-id'), `<img src=x onerror="window.__pwned='taskid'">⟨U+202E⟩task`);
    assert.ok((await w.page.textContent('.task-description'))!.includes(`<style>body { display: none !important }</style>`));

    // Still rendering and responding.
    assert.equal(await w.page.evaluate(() => getComputedStyle(document.body).display), 'block');
    assert.ok((await w.page.$$eval('.row.loaded', (els) => els.length)) === 4);
    await w.page.click('vscode-tab-header.tab-step');
    await w.page.keyboard.press('Escape');
    await w.page.keyboard.press('End');
    assert.equal(await selectedStep(w), 3);
    await waitDetail(w, 3);
    assert.equal(await w.page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), undefined);
  });
});

test('a browser step shows its page (title and URL as text), elements, cut and tree, and its checked screenshot; bad screenshots say why', async () => {
  const file = writeBrowserTrajectory(TMP, 'web.1');
  const t = JSON.parse(fs.readFileSync(file, 'utf8')) as Trajectory;
  await withInspector(file, async ({ w, host }) => {
    await waitRows(w);
    // Step 0: the page after `goto`, its tree cut to its budget; no screenshot.
    await w.page.click('.row[data-step="0"]');
    await waitDetail(w, 0);
    assert.equal(await w.page.textContent('.detail .browser-title'), BROWSER_HOSTILE_TITLE, 'the title as text');
    assert.equal(await w.page.textContent('.detail .browser-url'), 'http://shop.test/search?q=<script>window.__pwned="url"</script>');
    assert.equal(await w.page.$$eval('.detail .browser-page a, .detail .browser-page img', (els) => els.length), 0, 'no link, no element from the title');
    const meta0 = (await w.page.textContent('.detail .browser-meta'))!;
    assert.match(meta0, /^9 elements · cut to its budget: 5 of 12 lines shown \(88 of 240 characters\), 9 elements in the whole tree$/);
    assert.equal(await w.page.$$eval('.detail .browser-cut', (els) => els.length), 1, 'the cut is marked');
    assert.equal(await w.page.textContent('.detail pre.stdout'), t.steps[0]!.observations[0]!.stdout, 'the tree as the model read it');
    assert.equal(await w.page.$$eval('.detail figure.screenshot', (els) => els.length), 0);

    // Step 1: the screenshot, checked by the host and shown.
    await w.page.click('.row[data-step="1"]');
    await waitDetail(w, 1);
    const img = await w.page.waitForSelector('.detail figure.screenshot img.screenshot-img');
    await w.page.waitForFunction(() => (document.querySelector('.detail img.screenshot-img') as HTMLImageElement | null)?.complete);
    assert.deepEqual(await img.evaluate((el) => [(el as HTMLImageElement).naturalWidth, (el as HTMLImageElement).naturalHeight]), [BROWSER_PNG_SIZE.width, BROWSER_PNG_SIZE.height]);
    assert.match((await img.getAttribute('src'))!, /^data:image\/png;base64,iVBORw0KGgo/);
    assert.match((await w.page.textContent('.detail figure.screenshot figcaption'))!, /^Screenshot web\.1\.assets\/step-1-0\.png \(\d+ bytes\)$/);
    assert.match((await w.page.textContent('.detail .browser-meta'))!, /^4 elements$/);
    assert.equal(await w.page.$$eval('.detail .browser-cut', (els) => els.length), 0, 'a whole tree has no cut note');
    assert.equal(await w.page.textContent('.detail .browser-title'), BROWSER_HOSTILE_TITLE);
    assert.match((await w.page.textContent('.detail pre.stdout'))!, /\[2\] textbox "Search"/);

    // Steps 2–4: outside the assets folder, changed since the run, missing: the reason, no image.
    const reasons: [number, string, RegExp][] = [
      [2, 'outside', /^Screenshot "\.\.\/\.\.\/etc\/passwd": the path leads outside web\.1\.assets\/ \(the trajectory's own screenshots folder\); not shown\.$/],
      [3, 'changed', /^Screenshot "web\.1\.assets\/step-1-0\.png": the file's SHA-256 is [0-9a-f]{64}, not the 0{64} recorded: it was changed or replaced since the run; not shown\.$/],
      [4, 'missing', /^Screenshot "web\.1\.assets\/step-4-0\.png": no such file in web\.1\.assets\//],
    ];
    for (const [step, problem, message] of reasons) {
      await w.page.click(`.row[data-step="${step}"]`);
      await waitDetail(w, step);
      const note = await w.page.waitForSelector(`.detail[data-step="${step}"] .screenshot-problem`);
      assert.equal(await note.getAttribute('class'), `screenshot-problem problem-${problem}`);
      assert.match((await note.textContent())!, message);
      assert.equal(await w.page.$$eval('.detail img', (els) => els.length), 0, `step ${step}: no image`);
    }

    // Lazy: one request per step shown with a screenshot, none for step 0; showing step 1 again asks no more.
    await w.page.click('.row[data-step="1"]');
    await w.page.waitForSelector('.detail[data-step="1"] img.screenshot-img');
    assert.deepEqual(host.requests.filter((r) => r.method === 'screenshot').map((r) => r.params), [1, 2, 3, 4].map((step) => ({ step, action: 0 })));
    assert.equal(await w.page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), undefined, 'no payload ran');
    assert.deepEqual(w.errors, [], 'no page error, console error or CSP violation');
  });
});

for (const theme of ['light', 'high-contrast'] as const) {
  test(`the ${theme} theme renders with VS Code's colours and no errors`, async () => {
    await withInspector(
      OURS,
      async ({ w }) => {
        await waitRows(w);
        await w.page.click('.row[data-step="4"]');
        await waitDetail(w, 4);
        await w.page.click('vscode-tab-header.tab-diff');
        await w.page.waitForSelector('.diff-file .d2h-files-diff');
        const colours = await w.page.evaluate(() => {
          const row = document.querySelector('.row.selected')!;
          return { body: getComputedStyle(document.body).backgroundColor, selected: getComputedStyle(row).backgroundColor, outline: getComputedStyle(row).outlineStyle, diff: getComputedStyle(document.querySelector('.d2h-file-side-diff')!).backgroundColor };
        });
        if (theme === 'light') {
          assert.equal(colours.body, 'rgb(255, 255, 255)');
          assert.equal(colours.selected, 'rgb(232, 232, 232)');
        } else {
          assert.equal(colours.body, 'rgb(0, 0, 0)');
          assert.equal(colours.outline, 'dashed', 'high contrast marks the selection with its border colour, not only a background');
        }
        assert.notEqual(colours.diff, 'rgb(13, 17, 23)', "diff2html's own dark colours are not used");
        await w.page.screenshot({ path: path.join(TMP, `inspector-${theme}.png`) });
        assert.deepEqual(w.errors, []);
      },
      { theme },
    );
  });
}
