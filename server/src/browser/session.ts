/**
 * The `browser` tool's driver (issue 20): headless Chromium inside the task's own container,
 * driven from the daemon with playwright-core over CDP through a LoopbackTunnel (tunnel.ts),
 * so the container's network policy (`none` by default), limits and clean-up are the ones every
 * task has. Chromium starts lazily, on the attempt's first browser action (a detached exec of
 * Debian's `chromium --headless --remote-debugging-port=0`; the port is read from its
 * DevToolsActivePort file), and dies with the container.
 *
 * Why this driver — measured with `npm run bench -- browser` (bench/browser.ts; 2 shared cores,
 * trajlab/browser:1 with Debian's Chromium 150, network none; medians of 40 actions, the three
 * designs interleaved; one action = click a link, page loaded, accessibility tree read):
 *
 *   bash step (exec `true`), the baseline                 6.5 ms    1.0×
 *   (a) the tool: BrowserSession.act click → observation  308 ms     47×
 *   (a) raw playwright-core calls over the tunnel          307 ms     47×
 *   (c) driver inside the container (same calls)           316 ms     49×
 *   Chromium start + first goto 1.3 s; observation of a 30-item page 667 tokens.
 *
 * - (a) playwright-core in the daemon over the tunnel is the choice: as fast as (c) once the
 *   tunnel's sockets set TCP_NODELAY (without it Nagle's delay held CDP's small messages back:
 *   377 ms vs 270 ms), nothing in the image but Chromium and python3 (the tunnel's in-container
 *   end), works against remote Docker hosts through the exec API alone, and Playwright's AI-mode
 *   aria snapshot (`ariaSnapshotJSON({mode: 'ai'})`, `getByRef`) gives stable element refs that
 *   the element ids map onto.
 * - (c) a driver process inside the container (the same playwright-core run by a Node copied in,
 *   talking to Chromium on the container's loopback, one JSON line per action over an exec's
 *   stdio) is no faster, and needs Node and the library in every browser image.
 * - (b) Puppeteer was not measured: it would ride the same tunnel as (a), and its
 *   `accessibility.snapshot()` has no refs: ids would have to be resolved back to elements by hand.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { BrowserAction, BrowserObservation, Observation } from '../../../common/src/trajectory';
import type { Sandbox } from '../runtime/sandbox';
import { AbortedError, sleep, untilAborted } from '../util/abort';
import type { Logger } from '../util/log';
import { clipText, DEFAULT_OBSERVATION_CHARS, findLines, renderTree, type AriaNode } from './snapshot';
import { LoopbackTunnel } from './tunnel';

/** Default per-action timeout, ms: a page that never finishes loading times out the action, not the attempt. */
export const DEFAULT_BROWSER_ACTION_MS = 30_000;

/** Chromium's profile folder in the container; DevToolsActivePort is written there. */
const PROFILE_DIR = '/tmp/trajlab-chromium';

/** How long Chromium may take to start and open its DevTools port, ms. */
const START_MS = 30_000;

/** Extra time past the action's own timeout before the driver stops waiting for Playwright, ms. */
const BACKSTOP_MS = 5_000;

/** Options of one browser action. */
export interface BrowserActOptions {
  /** Per-action timeout, ms (default DEFAULT_BROWSER_ACTION_MS). */
  timeoutMs?: number;
  /** Observation budget, characters (default DEFAULT_OBSERVATION_CHARS). */
  budgetChars?: number;
  /** Folder for screenshots (`<trajectory>.assets`); absent: screenshot() answers that none can be kept. */
  assetsDir?: string;
  /** Name of a screenshot file in `assetsDir` (`step-3-0.png`); default a counter. */
  assetName?: string;
  /**
   * Every action's observation carries a screenshot of the page after it (the task's
   * `screenshots`, or a model that takes images), saved as `screenshot()` saves one. Needs `assetsDir`.
   */
  screenshot?: boolean;
  signal?: AbortSignal;
}

/** The page state the eval reads (eval.url_matches, eval.page_contains). */
export interface PageState {
  url: string;
  title: string;
  /** The page's text (`document.body.innerText`). */
  text: string;
  /** The page's HTML as the browser holds it now (Playwright `page.content()`: the DOM serialised, scripts' changes included). */
  html: string;
}

const sessions = new WeakMap<Sandbox, BrowserSession>();

/**
 * The browser of one sandbox. Get it with `BrowserSession.of(sandbox)`; it is closed when the
 * sandbox is released (Sandbox.onRelease).
 */
export class BrowserSession {
  private browser: Browser | undefined;
  private page: Page | undefined;
  private tunnel: LoopbackTunnel | undefined;
  private starting: Promise<Page> | undefined;
  private closed = false;
  /** element_id → aria ref of the latest tree observation. */
  private refs = new Map<number, string>();
  private shots = 0;

  private constructor(private readonly sandbox: Sandbox, private readonly logger: Logger) {}

  /** The sandbox's browser session, made (not started) on first use. */
  static of(sandbox: Sandbox): BrowserSession {
    let s = sessions.get(sandbox);
    if (!s) {
      s = new BrowserSession(sandbox, sandbox.logger);
      sessions.set(sandbox, s);
      const session = s;
      sandbox.onRelease(() => session.close());
    }
    return s;
  }

  /** The sandbox's browser session if one was started, else undefined. */
  static existing(sandbox: Sandbox): BrowserSession | undefined {
    const s = sessions.get(sandbox);
    return s?.page ? s : undefined;
  }

  /** Whether Chromium is running and connected. */
  get started(): boolean {
    return !!this.page && !this.closed;
  }

  /**
   * Runs one browser action and returns its observation: `stdout` is the text the model gets
   * (URL, title, then the numbered accessibility tree; the page text for read; the matching
   * lines for find), `browser` the page state and the budget cut. A failed action (an unknown
   * element id, Playwright's error, Chromium that did not start) is exit code 1 with the reason
   * in `stderr`; an action past its timeout is exit code 124 with `timed_out`, and the page as
   * it is then. Throws only AbortedError when `signal` fires.
   */
  async act(action: BrowserAction, options: BrowserActOptions = {}): Promise<Observation> {
    const started = performance.now();
    const timeoutMs = options.timeoutMs ?? DEFAULT_BROWSER_ACTION_MS;
    const budget = options.budgetChars ?? DEFAULT_OBSERVATION_CHARS;
    const deadline = Date.now() + timeoutMs;
    const left = () => Math.max(1, deadline - Date.now());
    let page: Page;
    try {
      page = await untilAborted(this.start(options.signal), options.signal);
    } catch (err) {
      if (err instanceof AbortedError) throw err;
      return observation({ text: '', error: `the browser did not start: ${(err as Error).message}`, started });
    }
    let error: string | undefined;
    let timedOut = false;
    let extra: Partial<BrowserObservation> = {};
    try {
      const work = this.perform(page, action, left, options).then((r) => {
        extra = r ?? {};
      });
      await untilAborted(withBackstop(work, timeoutMs + BACKSTOP_MS), options.signal);
    } catch (err) {
      if (err instanceof AbortedError) throw err;
      const e = err as Error;
      if (e.name === 'TimeoutError' || e instanceof BackstopError) {
        timedOut = true;
        error = `the ${action.action} action timed out after ${Math.round(timeoutMs / 1000)} s; the page below is as it is now`;
      } else {
        error = e.message.split('\n')[0]!.replace(/^\w+\.\w+: /, '');
      }
    }
    // The observation: the tree (most actions), the page text (read) or the lines found (find).
    try {
      const snapshotMs = timedOut ? 5_000 : Math.max(2_000, left());
      const head = async () => ({ url: page.url(), title: await withBackstop(page.title(), snapshotMs) });
      if (action.action === 'read' && !error) {
        const { url, title } = await head();
        const body = await page.evaluate(() => document.body?.innerText ?? '', undefined);
        const clipped = clipText(body, budget);
        const cut = clipped.cut ? { total_lines: body.split('\n').length, shown_lines: clipped.text.split('\n').length - 1, total_chars: body.length, shown_chars: budget } : undefined;
        const shot = await this.autoScreenshot(page, options, snapshotMs);
        return observation({ text: pageText(url, title, shot.note + clipped.text), started, browser: { url, title, elements: this.refs.size, ...(cut ? { cut } : {}), ...shot.screenshot } });
      }
      const roots = (await page.ariaSnapshotJSON({ mode: 'ai', timeout: snapshotMs })) as unknown as (AriaNode | string)[];
      const { url, title } = await head();
      const tree = renderTree(Array.isArray(roots) ? roots : [roots as AriaNode], budget);
      this.refs = tree.refs;
      let body = tree.text;
      if (action.action === 'find' && !error) {
        const full = renderTree(Array.isArray(roots) ? roots : [roots as AriaNode], Number.MAX_SAFE_INTEGER).text;
        const found = findLines(full, action.args.text ?? '', budget);
        body = found ? `Lines with ${JSON.stringify(action.args.text)}:\n${found}` : `No line of the page has ${JSON.stringify(action.args.text)}.`;
      }
      if (!extra.screenshot) {
        const shot = await this.autoScreenshot(page, options, snapshotMs);
        extra = { ...extra, ...shot.screenshot };
        body = shot.note + body;
      }
      const browser: BrowserObservation = { url, title, elements: tree.elements, ...(tree.cut && action.action !== 'find' ? { cut: tree.cut } : {}), ...extra };
      if (browser.screenshot && action.action === 'screenshot') body = `Screenshot saved: ${browser.screenshot.path} (${browser.screenshot.bytes} bytes, sha256 ${browser.screenshot.sha256}).\n${body}`;
      return observation({ text: pageText(url, title, body), error, timedOut, started, browser });
    } catch (err) {
      if (err instanceof AbortedError) throw err;
      const why = `the page could not be read: ${(err as Error).message.split('\n')[0]}`;
      return observation({ text: '', error: error ? `${error}; ${why}` : why, timedOut: timedOut || err instanceof BackstopError, started });
    }
  }

  /** Performs `action` on `page` (no observation); returns what the observation adds (a screenshot). Throws Playwright's errors. */
  private async perform(page: Page, action: BrowserAction, left: () => number, options: BrowserActOptions): Promise<Partial<BrowserObservation> | undefined> {
    const a = action.args;
    const element = () => {
      const ref = a.element_id !== undefined ? this.refs.get(a.element_id) : undefined;
      if (!ref) throw new Error(`no element [${a.element_id}] on the page: use an id from the latest observation (1 to ${this.refs.size})`);
      return page.getByRef(ref);
    };
    const settle = async () => {
      try {
        await page.waitForLoadState('load', { timeout: left() });
      } catch (err) {
        if ((err as Error).name !== 'TimeoutError') throw err;
        throw Object.assign(new Error('timed out waiting for the page to load'), { name: 'TimeoutError' });
      }
    };
    switch (action.action) {
      case 'goto':
        await page.goto(a.url ?? '', { timeout: left(), waitUntil: 'load' });
        return;
      case 'click':
        await element().click({ timeout: left() });
        await settle();
        return;
      case 'type': {
        const target = element();
        await target.fill(a.text ?? '', { timeout: left() });
        if (a.submit) {
          await target.press('Enter', { timeout: left() });
          await settle();
        }
        return;
      }
      case 'scroll':
        await page.evaluate((down) => window.scrollBy(0, (down ? 1 : -1) * Math.round(window.innerHeight * 0.8)), a.direction !== 'up');
        return;
      case 'back':
        await page.goBack({ timeout: left(), waitUntil: 'load' });
        return;
      case 'forward':
        await page.goForward({ timeout: left(), waitUntil: 'load' });
        return;
      case 'find':
      case 'read':
        return;
      case 'screenshot':
        return { screenshot: await this.shoot(page, options, left()) };
    }
  }

  /**
   * The screenshot every observation carries when `options.screenshot` asks for one: `{screenshot}`
   * to merge into the observation's browser state, or, when it could not be taken, a `note` that
   * goes before the observation's text (the action itself stands). Nothing when none is asked for.
   */
  private async autoScreenshot(page: Page, options: BrowserActOptions, timeoutMs: number): Promise<{ screenshot?: Pick<BrowserObservation, 'screenshot'>; note: string }> {
    if (!options.screenshot || !options.assetsDir) return { note: '' };
    try {
      return { screenshot: { screenshot: await withBackstop(this.shoot(page, options, timeoutMs), timeoutMs + BACKSTOP_MS) }, note: '' };
    } catch (err) {
      return { note: `(No screenshot of this page: ${(err as Error).message.split('\n')[0]}.)\n` };
    }
  }

  /**
   * A PNG of the page's viewport saved in `options.assetsDir` as `options.assetName` (default
   * `shot-<n>.png`); its reference has the path relative to the trajectory's folder.
   * Throws: no assetsDir, Playwright's errors (timeout after `timeoutMs`), write errors.
   */
  private async shoot(page: Page, options: BrowserActOptions, timeoutMs: number): Promise<NonNullable<BrowserObservation['screenshot']>> {
    if (!options.assetsDir) throw new Error('this run keeps no screenshots (no trajectory folder)');
    const png = await page.screenshot({ type: 'png', timeout: timeoutMs });
    const name = options.assetName ?? `shot-${++this.shots}.png`;
    await fs.promises.mkdir(options.assetsDir, { recursive: true });
    await fs.promises.writeFile(path.join(options.assetsDir, name), png);
    return { path: `${path.basename(options.assetsDir)}/${name}`, mime: 'image/png', sha256: createHash('sha256').update(png).digest('hex'), bytes: png.length };
  }

  /** Starts Chromium in the container and connects, once; a failed start is tried again on the next action. */
  private start(signal?: AbortSignal): Promise<Page> {
    if (this.closed) return Promise.reject(new Error('the sandbox was released'));
    if (this.page) return Promise.resolve(this.page);
    this.starting ??= this.startNow(signal).catch((err: Error) => {
      this.starting = undefined;
      this.tunnel?.close();
      this.tunnel = undefined;
      throw err;
    });
    return this.starting;
  }

  private async startNow(signal?: AbortSignal): Promise<Page> {
    const sb = this.sandbox;
    const probe = await sb.exec(`command -v chromium || command -v chromium-browser`, { timeoutSec: 30, outputCap: 4096, signal });
    const binary = probe.stdout.trim().split('\n')[0];
    if (probe.exit_code !== 0 || !binary) {
      throw new Error('the task image has no Chromium: browser tasks run in trajlab/browser:1 (scripts/build-browser-image.sh) or an image with Debian\'s chromium');
    }
    const flags = [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--mute-audio',
      '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0', `--user-data-dir=${PROFILE_DIR}`, 'about:blank',
    ];
    const exec = await sb.container.exec({
      Cmd: ['sh', '-c', `rm -rf ${PROFILE_DIR} && exec "$0" "$@" >/tmp/trajlab-chromium.log 2>&1`, binary, ...flags],
      AttachStdout: false,
      AttachStderr: false,
    });
    // A detached start still answers with a (empty) response stream: read it to its end, or its
    // socket to the engine stays open and keeps this process alive.
    const answer = (await exec.start({ Detach: true })) as unknown as NodeJS.ReadableStream | undefined;
    answer?.resume();
    // Chromium writes its DevTools port and browser path once it listens.
    const until = Date.now() + START_MS;
    let active: string[] = [];
    for (;;) {
      const o = await sb.exec(`cat ${PROFILE_DIR}/DevToolsActivePort 2>/dev/null`, { timeoutSec: 10, outputCap: 4096, signal });
      active = o.stdout.trim().split('\n');
      if (o.exit_code === 0 && active.length >= 2 && /^\d+$/.test(active[0]!)) break;
      if (Date.now() > until) {
        const log = await sb.exec(`tail -c 1500 /tmp/trajlab-chromium.log`, { timeoutSec: 10, outputCap: 4096, signal });
        throw new Error(`Chromium did not open its DevTools port within ${START_MS / 1000} s: ${log.stdout.trim() || '(no output)'}`);
      }
      await sleep(100, signal);
    }
    this.tunnel = await LoopbackTunnel.open(sb, Number(active[0]), this.logger);
    const { chromium } = await loadPlaywright();
    const browser = await chromium.connectOverCDP(`ws://127.0.0.1:${this.tunnel.port}${active[1]}`, { timeout: START_MS });
    if (this.closed) {
      void browser.close().catch((err: Error) => this.logger.warn(`closing the browser of container ${sb.id.slice(0, 12)}: ${err.message}`));
      throw new Error('the sandbox was released');
    }
    this.browser = browser;
    const context = browser.contexts()[0] ?? (await browser.newContext());
    this.page = context.pages()[0] ?? (await context.newPage());
    return this.page;
  }

  /** The current page's URL, title, text and HTML, for the eval; undefined when it cannot be read. Never throws. */
  async pageState(timeoutMs = 10_000): Promise<PageState | undefined> {
    const page = this.page;
    if (!page || this.closed) return undefined;
    try {
      const text = await withBackstop(page.evaluate(() => document.body?.innerText ?? '', undefined), timeoutMs);
      const html = await withBackstop(page.content(), timeoutMs);
      return { url: page.url(), title: await withBackstop(page.title(), timeoutMs), text, html };
    } catch (err) {
      this.logger.warn(`the final page of container ${this.sandbox.id.slice(0, 12)} could not be read: ${(err as Error).message.split('\n')[0]}`);
      return undefined;
    }
  }

  /** Disconnects and closes the tunnel (Chromium itself dies with its container). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const browser = this.browser;
    this.browser = undefined;
    this.page = undefined;
    // The tunnel goes first: a browser.close() over a tunnel into a container already gone would
    // wait forever, and its listening server would keep the process alive. Then the client side
    // of the connection is let go (it fails at once: the connection is closed), which changes nothing.
    this.tunnel?.close();
    if (browser) void browser.close().catch((err: Error) => this.logger.info(`browser of container ${this.sandbox.id.slice(0, 12)} closed with: ${err.message.split('\n')[0]}`));
  }
}

class BackstopError extends Error {
  constructor(ms: number) {
    super(`no answer from the browser within ${Math.round(ms / 1000)} s`);
    this.name = 'BackstopError';
  }
}

/** `work`, or BackstopError after `ms` (work goes on; its result is dropped). */
function withBackstop<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const backstop = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new BackstopError(ms)), ms)));
  // Promise.race subscribes to `work`: its late failure, once the backstop won, is handled there.
  return Promise.race([work, backstop]).finally(() => clearTimeout(timer));
}

function pageText(url: string, title: string, body: string): string {
  return `URL: ${url}\nTitle: ${title}\n\n${body}`;
}

function observation(o: { text: string; error?: string; timedOut?: boolean; started: number; browser?: BrowserObservation }): Observation {
  return {
    stdout: o.text,
    stderr: o.error ?? '',
    exit_code: o.timedOut ? 124 : o.error ? 1 : 0,
    truncated: !!o.browser?.cut,
    timed_out: !!o.timedOut,
    output_bytes: Buffer.byteLength(o.text) + Buffer.byteLength(o.error ?? ''),
    duration_ms: Math.round(performance.now() - o.started),
    ...(o.browser ? { browser: o.browser } : {}),
  };
}

/**
 * playwright-core, loaded on the first browser action rather than with the daemon. It cannot be
 * bundled (it reads its own package files), so the build copies it beside the bundles
 * (scripts/build.mjs → dist/vendor/playwright-core, shipped in the .vsix): a bundle loads that
 * copy; run from the sources (tsx), the installed package. Rejects with an Error that says what
 * to do when neither loads.
 */
async function loadPlaywright(): Promise<typeof import('playwright-core')> {
  const vendored = path.join(__dirname, 'vendor', 'playwright-core');
  try {
    if (fs.existsSync(vendored)) return createRequire(__filename)(vendored) as typeof import('playwright-core');
    return await import('playwright-core');
  } catch (err) {
    throw new Error(`the browser tool needs the playwright-core package, which cannot be loaded here (${(err as Error).message.split('\n')[0]}): rebuild TrajLab (npm run build copies it to dist/vendor/) or reinstall the extension`);
  }
}
