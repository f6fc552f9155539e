/**
 * The quality report's HTML file in real Chromium: written by the REAL built CLI
 * (`node dist/trajlab.js report <run> --out report.html`; run `npm run build` first) from the
 * planted run of test/helpers/qualityRun.ts (a loop of the same `cat` 12 times, a diff that edits
 * the eval's test, an AWS key in an observation, 8 near-copies, a task id with markup), opened
 * from disk (file://) with every network request refused and recorded.
 *
 * Checks: no console error, page error or CSP violation; no request leaves the file; every chart
 * canvas has drawn pixels; the flag counts shown; the links carry the trajectory and the step
 * (`vscode://trajlab.trajlab/inspect?…`, read back by parseInspectUri); the near-duplicate
 * cluster and the secret rules are listed; the secrets are nowhere in the file nor on the page;
 * the markup in the task id stays text and nothing of it runs.
 *
 * Then the Dataset panel's Quality tab (dist/webviews/dataset.js through harness.ts, under the
 * extension's CSP) with a stub host that answers `quality` with the REAL computeQualityReport of
 * the same run: the tab asks once, renders the same view with drawn charts, its links post
 * `openStep {file, step}` instead of following a URI, and the tab is kept with setState.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { parseInspectUri } from '../../common/src/inspectUri';
import { runCli } from '../helpers/cli';
import { tempDir } from '../helpers/engineHelpers';
import { HOSTILE_TASK_ID, NEAR_COPIES, PLANTED_SECRETS, writeQualityRun } from '../helpers/qualityRun';
import type { QualityReport } from '../../common/src/qualityReport';
import type { HostToDataset } from '../../common/src/webviewMessages';
import { computeQualityReport } from '../../server/src/stats/qualityReport';
import { computeStats } from '../../server/src/stats/stats';
import { closeBrowser, inkPerChart, openWebview, sharedBrowser, type WebviewPage } from './harness';

const t = tempDir('browser-quality-report');
let run: string;
let html: string;
let context: BrowserContext;
let page: Page;
const errors: string[] = [];
const requests: string[] = [];

before(async () => {
  run = writeQualityRun(t.dir);
  const out = path.join(t.dir, 'report.html');
  const r = await runCli(['report', run, '--out', out], { built: true });
  assert.equal(r.code, 0, r.stderr);
  html = fs.readFileSync(out, 'utf8');
  context = await (await sharedBrowser()).newContext({ viewport: { width: 1280, height: 900 } });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    requests.push(url);
    return route.abort();
  });
  page = await context.newPage();
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  await page.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));`);
  await page.goto(pathToFileURL(out).href);
  await page.waitForSelector('section[data-section="quality-flags"]');
});

let panel: WebviewPage | undefined;

after(async () => {
  await panel?.close();
  await context?.close();
  await closeBrowser();
  t.cleanup();
});

test('the report renders offline with no console error, CSP violation or request, under its own CSP', async () => {
  assert.deepEqual(errors, []);
  assert.deepEqual(requests, []);
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-[\w-]+'; style-src 'nonce-[\w-]+'; img-src data:/);
  assert.equal((html.match(/<script/g) ?? []).length, 2, 'the JSON block and the page');
  assert.doesNotMatch(html, /\s(src|href)="https?:/i, 'nothing loaded from the network');
  assert.equal(await page.title(), 'TrajLab quality report');
});

test('every chart has drawn pixels', async () => {
  const ink = await inkPerChart(page);
  assert.deepEqual(Object.keys(ink).sort(), ['Coverage: repositories', 'Coverage: reward', 'Coverage: steps', 'Coverage: task types', 'Near-duplicate cluster sizes', 'Trajectories per flag']);
  for (const [title, n] of Object.entries(ink)) assert.ok(n > 200, `${title}: ${n} pixels drawn`);
});

test('with --select 3 --quota type=1 the report shows the picks and draws the selection coverage per quota key', async () => {
  const out = path.join(t.dir, 'selected.html');
  const r = await runCli(['report', run, '--select', '3', '--quota', 'type=1', '--out', out, '--json'], { built: true });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as QualityReport;
  assert.equal(report.selection?.selected, 3);
  assert.equal(report.trajectories, 3, 'the report describes the picks');
  const types = report.selection!.coverage.type!;
  assert.ok(types.swe!.selected >= 1 && types.code!.selected >= 1, `both task types picked: ${JSON.stringify(types)}`);
  const p = await context.newPage();
  const pageErrors: string[] = [];
  p.on('pageerror', (e) => pageErrors.push(e.message));
  p.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  try {
    await p.goto(pathToFileURL(out).href);
    await p.waitForSelector('section[data-section="quality-charts"]');
    assert.match(await p.locator('[data-figure="selection"]').innerText(), new RegExp(`3 of ${report.selection!.candidates}`));
    const ink = await inkPerChart(p);
    for (const key of ['type', 'repo', 'difficulty']) assert.ok((ink[`Selection coverage: ${key}`] ?? 0) > 200, `Selection coverage: ${key}: ${ink[`Selection coverage: ${key}`]} pixels drawn`);
    assert.deepEqual(pageErrors, []);
  } finally {
    await p.close();
  }
});

test('the flag counts are shown, each example linking to the trajectory at the offending step', async () => {
  const flags = await page.$$eval('[data-flag]', (els) => els.map((e) => [(e as HTMLElement).dataset.flag, (e as HTMLElement).dataset.count, e.querySelector('h3')!.textContent]));
  const count = Object.fromEntries(flags.map(([k, c]) => [k, Number(c)]));
  assert.deepEqual(count, { loop: 1, 'repeated-observation': 1, 'format-errors': 0, 'idle-tail': 0, 'empty-submission': 0, 'truncated-output': 1, tampered: 1 });
  assert.match(flags.find(([k]) => k === 'loop')![2]!, /^loop 1 — /);

  const links = await page.$$eval('a.step-link', (as) => as.map((a) => ({ href: a.getAttribute('href')!, file: (a as HTMLElement).dataset.trajectory!, step: (a as HTMLElement).dataset.step!, text: a.textContent!, in: a.closest('[data-flag],[data-rule],section')!.getAttribute('data-flag') ?? a.closest('[data-rule]')?.getAttribute('data-rule') ?? a.closest('section')!.getAttribute('data-section') })));
  for (const l of links) {
    const u = new URL(l.href);
    assert.equal(`${u.protocol}//${u.host}${u.pathname}`, 'vscode://trajlab.trajlab/inspect');
    // As VS Code hands it to the extension: the query decoded once (vscode.Uri.query).
    const target = parseInspectUri(u.pathname, decodeURIComponent(u.search.slice(1)));
    assert.ok(target.ok, JSON.stringify(target));
    assert.equal(target.file, l.file);
    assert.equal(target.step === null ? '' : String(target.step), l.step);
    assert.ok(target.file.startsWith(path.join(run, 'trajectories') + path.sep), target.file);
  }
  const at = (where: string, file: string) => links.find((l) => l.in === where && path.basename(l.file) === file);
  assert.equal(at('loop', 'calc.1.json')?.step, '4', 'the 5th `cat` (step 4) makes the loop');
  assert.equal(at('repeated-observation', 'calc.1.json')?.step, '2');
  assert.equal(at('tampered', 'calc.2.json')?.step, '1', 'the `sed -i` on the test file');
  assert.equal(at('quality-tampered', 'calc.2.json')?.step, '1');
  assert.equal(at('aws-access-key-id', 'leaky.1.json')?.step, '1', 'the `env` output');
  assert.match(at('loop', 'calc.1.json')!.text, /^calc #1 · step 4$/);
});

test('near-duplicate clusters and secret rules are listed; the secrets are neither in the file nor on the page', async () => {
  const sizes = await page.$$eval('tr[data-cluster-size]', (trs) => trs.map((tr) => Number((tr as HTMLElement).dataset.clusterSize)));
  assert.deepEqual(sizes, [NEAR_COPIES]);
  const members = await page.$$eval('tr[data-cluster-size] td:nth-child(4) a.step-link', (as) => as.length);
  assert.equal(members, NEAR_COPIES - 1);
  const rules = await page.$$eval('[data-rule]', (els) => els.map((e) => `${(e as HTMLElement).dataset.rule}=${(e as HTMLElement).dataset.count}`).sort());
  assert.deepEqual(rules, ['aws-access-key-id=1', 'aws-secret-access-key=1']);
  const text = await page.evaluate(() => document.body.innerText);
  for (const secret of PLANTED_SECRETS) {
    assert.ok(!html.includes(secret), 'a secret is in the HTML file');
    assert.ok(!text.includes(secret), 'a secret is on the page');
  }
  assert.match(text, /steps\[1\]\.observations\[0\]\.stdout/);
});

test('untrusted text stays text: the task id with markup is shown as written and nothing runs', async () => {
  assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  assert.equal(await page.$$eval('img', (x) => x.length), 0);
  const shown = await page.$$eval('[data-flag="truncated-output"] a.step-link', (as) => as.map((a) => a.textContent));
  assert.deepEqual(shown, [`${HOSTILE_TASK_ID} #1 · step 1`]);
  assert.ok(!html.includes(HOSTILE_TASK_ID), 'the task id is escaped in the JSON block');
  assert.ok(html.includes('\\u003cimg src=x'), '`<` escaped as \\u003c');
  assert.deepEqual(errors, []);
});

test('the Dataset panel\'s Quality tab asks for the report once, renders it with drawn charts, and its links post openStep', async () => {
  const stats = await computeStats([run], { rows: true });
  const report: QualityReport = await computeQualityReport([run]);
  panel = await openWebview({
    panel: 'dataset',
    onMessage: async (m, post) => {
      if (m.type === 'ready') await post({ type: 'stats', title: 'Dataset: run-q', sources: [run], stats } satisfies HostToDataset);
      if (m.type === 'quality') await post({ type: 'quality', report } satisfies HostToDataset);
    },
  });
  const p = panel.page;
  await p.waitForSelector('section[data-section="summary"]');
  await p.click('.tabs button[data-tab="quality"]');
  await p.waitForSelector('section[data-section="quality-flags"]');
  assert.equal(panel.sent.filter((m) => (m as { type: string }).type === 'quality').length, 1);
  assert.equal(await p.getAttribute('.tabs button[data-tab="quality"]', 'aria-selected'), 'true');
  const ink = await inkPerChart(p);
  assert.equal(Object.keys(ink).length, 6);
  for (const [title, n] of Object.entries(ink)) assert.ok(n > 200, `${title}: ${n} pixels drawn`);
  assert.equal(await p.getAttribute('[data-flag="loop"]', 'data-count'), '1');

  await p.click('[data-flag="loop"] a.step-link');
  const sent = await panel.waitForSent((s) => s.some((m) => (m as { type: string }).type === 'openStep'));
  assert.deepEqual(sent.find((m) => (m as { type: string }).type === 'openStep'), { type: 'openStep', file: path.join(run, 'trajectories', 'calc.1.json'), step: 4 });
  assert.equal((await panel.state() as { tab?: string }).tab, 'quality');

  // Back and forth: the report is kept, not asked for again.
  await p.click('.tabs button[data-tab="stats"]');
  await p.waitForSelector('section[data-section="trajectories"]');
  await p.click('.tabs button[data-tab="quality"]');
  await p.waitForSelector('section[data-section="quality-flags"]');
  assert.equal(panel.sent.filter((m) => (m as { type: string }).type === 'quality').length, 1);
  assert.equal(await p.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  assert.deepEqual(panel.errors, []);
});
