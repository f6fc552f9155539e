/**
 * `npm run bench -- inspector`: the trajectory inspector on a generated 10,000-step, ~100 MB
 * TrajLab trajectory (test/fixtures/inspect/generate.ts), in headless Chromium (the browser
 * tests' harness: the real bundle, page and CSP) with a host stub that calls the daemon's own
 * inspector module (server/src/inspect/) in this process. Every figure is printed against the
 * floor, `JSON.parse` of the same file in Node, and against the issue's targets:
 *
 * - first screen (header and a screen of rows) < 3 s from open (read + parse + import in the
 *   host, header to the webview, first page of rows) and < 1 s after the import;
 * - scrolling to the end, and jumping to a search hit deep in the file, < 100 ms each (from the
 *   scroll / the keypress to the rows rendered, the hit row selected and in view);
 * - the webview's JS heap (CDP, after a GC) < 3× the file size.
 *
 * Also printed, without targets: a cold and a warm search of the whole file in the host, and
 * the host's heap for the open trajectory. Needs the bundles (`npm run build`) and Chromium
 * (`bash scripts/setup-vscode-e2e.sh`); no Docker.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InspectorToHost } from '../common/src/webviewMessages';
import { closeBrowser, openWebview } from '../test/browser/harness';
import { inspectorHost } from '../test/browser/inspectorHost';
import { realisticTrajectoryOfSize } from '../test/fixtures/inspect/generate';

const STEPS = 10_000;
const TARGET_BYTES = 100_000_000;
const NEEDLE_STEP = 9_500;
const NEEDLE = 'NEEDLE-c0ffee: the deep search target';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'MISS';
}

/** Runs the inspector benchmark and prints its figures. */
export async function inspectorBench(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-bench-inspector-'));
  const file = path.join(dir, 'big.trajectory.json');
  try {
    const { text } = realisticTrajectoryOfSize({ steps: STEPS, targetBytes: TARGET_BYTES, seed: 42, needle: { step: NEEDLE_STEP, text: NEEDLE } });
    fs.writeFileSync(file, text);
    const bytes = fs.statSync(file).size;
    console.log(`inspector: generated TrajLab trajectory of ${STEPS.toLocaleString('en-US')} steps, ${(bytes / 1e6).toFixed(1)} MB`);

    // The floor: JSON.parse of the file's text (best of 3).
    let parseMs = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      JSON.parse(text);
      parseMs = Math.min(parseMs, performance.now() - t0);
    }
    console.log(`inspector: JSON.parse of the file (the floor) ${parseMs.toFixed(0)} ms`);

    let openStart = 0;
    let openEnd = 0;
    const host = inspectorHost(file, {
      onOpenTimes: (before, after) => {
        openStart = performance.timeOrigin + before;
        openEnd = performance.timeOrigin + after;
      },
    });
    let arm!: () => void;
    const armed = new Promise<void>((resolve) => (arm = resolve));
    const w = await openWebview({
      panel: 'trajectory',
      viewport: { width: 1400, height: 900 },
      onMessage: async (m: InspectorToHost, post) => {
        // The page's watcher is installed before the host starts opening (see below).
        if (m.type === 'ready') await armed;
        await host.onMessage(m, post);
      },
    });
    try {
      const page = w.page;
      await page.evaluate('globalThis.__name ??= (f) => f');
      // Records the wall-clock time at which the header and a screen of rows are rendered.
      await page.evaluate(() => {
        const win = window as unknown as { __firstScreenAt?: number };
        const check = () => {
          const tl = document.querySelector('.timeline');
          const want = tl ? Math.min(10_000, Math.floor(tl.clientHeight / 24)) : 1;
          if (document.querySelector('.task-id') && tl && document.querySelectorAll('.row.loaded').length >= want && want > 0) win.__firstScreenAt = performance.timeOrigin + performance.now();
          else requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
      });
      arm();
      await page.waitForFunction(() => (window as unknown as { __firstScreenAt?: number }).__firstScreenAt, undefined, { timeout: 120_000 });
      const firstAt = await page.evaluate(() => (window as unknown as { __firstScreenAt: number }).__firstScreenAt);
      const importMs = openEnd - openStart;
      const total = firstAt - openStart;
      const afterImport = firstAt - openEnd;
      console.log(`inspector: open in the host (read + JSON.parse + import) ${importMs.toFixed(0)} ms → ${(importMs / parseMs).toFixed(2)}× JSON.parse`);
      console.log(`inspector: first screen after the import ${afterImport.toFixed(0)} ms → ${(afterImport / parseMs).toFixed(2)}× JSON.parse (target < 1000 ms) ${verdict(afterImport < 1000)}`);
      console.log(`inspector: first screen from open ${total.toFixed(0)} ms → ${(total / parseMs).toFixed(2)}× JSON.parse (target < 3000 ms) ${verdict(total < 3000)}`);

      // Scroll to the end (cold: the last page was never fetched), then jumps to far-apart places.
      const scrollTo = (target: 'end' | number) =>
        page.evaluate(async (target) => {
          const tl = document.querySelector('.timeline') as HTMLElement;
          const t0 = performance.now();
          tl.scrollTop = target === 'end' ? tl.scrollHeight : target * 24;
          const lastVisible = target === 'end' ? 9_999 : target;
          await new Promise<void>((resolve) => {
            const check = () => {
              const row = tl.querySelector(`.row.loaded[data-step="${lastVisible}"]`);
              const box = tl.getBoundingClientRect();
              const r = row?.getBoundingClientRect();
              if (r && r.top >= box.top - 1 && r.bottom <= box.bottom + 1) resolve();
              else requestAnimationFrame(check);
            };
            check();
          });
          return performance.now() - t0;
        }, target);
      const endMs = await scrollTo('end');
      console.log(`inspector: scroll to the end (last rows rendered) ${endMs.toFixed(0)} ms → ${(endMs / parseMs).toFixed(3)}× JSON.parse (target < 100 ms) ${verdict(endMs < 100)}`);
      const jumps: number[] = [];
      for (const row of [5_100, 1_300, 7_700, 3_900, 8_800]) jumps.push(await scrollTo(row));
      console.log(`inspector: scroll to 5 far-apart places (pages not cached) median ${median(jumps).toFixed(0)} ms, max ${Math.max(...jumps).toFixed(0)} ms`);

      // Search: a cold search (the host lowercases every step once) plus the jump, then the jump alone.
      await page.keyboard.press('Home');
      const searchAndJump = (query: string, key: 'Enter' | 'n') =>
        page.evaluate(
          async ({ query, key, step }) => {
            const field = document.querySelector('vscode-textfield.search') as HTMLElement & { value: string };
            const tl = document.querySelector('.timeline') as HTMLElement;
            const t0 = performance.now();
            if (key === 'Enter') {
              field.value = query;
              field.dispatchEvent(new Event('input'));
              field.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, composed: true }));
            } else document.dispatchEvent(new KeyboardEvent('keydown', { key: 'n', bubbles: true }));
            await new Promise<void>((resolve) => {
              const check = () => {
                const row = tl.querySelector(`.row.loaded.selected[data-step="${step}"]`);
                const box = tl.getBoundingClientRect();
                const r = row?.getBoundingClientRect();
                if (r && r.top >= box.top - 1 && r.bottom <= box.bottom + 1) resolve();
                else requestAnimationFrame(check);
              };
              check();
            });
            const rowAt = performance.now() - t0;
            await new Promise<void>((resolve) => {
              const check = () => (document.querySelector(`.detail[data-step="${step}"] mark.hit`) ? resolve() : requestAnimationFrame(check));
              check();
            });
            return { row: rowAt, detail: performance.now() - t0 };
          },
          { query, key, step: NEEDLE_STEP },
        );
      const cold = await searchAndJump(NEEDLE, 'Enter');
      console.log(`inspector: search of all ${STEPS.toLocaleString('en-US')} steps (cold: the host lowercases their texts once) + jump to the hit row ${cold.row.toFixed(0)} ms → ${(cold.row / parseMs).toFixed(2)}× JSON.parse (detail shown ${cold.detail.toFixed(0)} ms)`);
      await page.keyboard.press('Escape');
      await page.keyboard.press('Home');
      const jump = await searchAndJump(NEEDLE, 'n');
      console.log(`inspector: jump to a search hit deep in the file (n: hit row selected and in view) ${jump.row.toFixed(0)} ms → ${(jump.row / parseMs).toFixed(3)}× JSON.parse (target < 100 ms) ${verdict(jump.row < 100)}; its detail shown ${jump.detail.toFixed(0)} ms`);
      await page.keyboard.press('Home');
      const warm = await searchAndJump('needle-C0FFEE: THE DEEP', 'Enter');
      console.log(`inspector: a second search (warm) + jump ${warm.row.toFixed(0)} ms → ${(warm.row / parseMs).toFixed(3)}× JSON.parse`);

      // The webview's heap after a GC, against the file size.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('HeapProfiler.enable');
      await cdp.send('HeapProfiler.collectGarbage');
      await cdp.send('Performance.enable');
      const { metrics } = await cdp.send('Performance.getMetrics');
      const heap = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN;
      console.log(`inspector: webview JS heap after GC ${(heap / 1e6).toFixed(1)} MB = ${(heap / bytes).toFixed(3)}× the file size (target < 3×) ${verdict(heap < 3 * bytes)}`);

      // The host side, for the record: search times in Node and the heap the open trajectory holds.
      const handle = host.handle()!;
      let t0 = performance.now();
      await host.service.search({ handle, query: 'assertionerror: assert 3 == 4' });
      const warmSearch = performance.now() - t0;
      t0 = performance.now();
      await host.service.search({ handle, query: 'AssertionError', caseSensitive: true });
      const caseSearch = performance.now() - t0;
      global.gc?.();
      console.log(
        `inspector: host search of all steps, warm ${warmSearch.toFixed(0)} ms (${(warmSearch / parseMs).toFixed(2)}× JSON.parse), case-sensitive ${caseSearch.toFixed(0)} ms; host heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB with the trajectory open`,
      );
      if (w.errors.length) console.log(`inspector: page errors: ${w.errors.join(' | ')}`);
    } finally {
      await w.close();
      await closeBrowser();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
