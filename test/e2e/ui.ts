/**
 * Driving the VS Code workbench in the browser with Playwright, as a user would: the command
 * palette, quick picks, the Notifications center, view containers and views, screenshots.
 * Used by the runner (test/e2e/run.ts) and, through the bridge (test/e2e/bridge.ts), by the
 * suites running inside the extension host.
 *
 * Selectors are VS Code 1.139's DOM (code-server 4.139.1). Every wait is bounded; an action
 * that cannot find what it needs throws an Error that says what it looked for.
 * Actions are serialised: a second call waits for the first (they share keyboard focus).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { UiNotification, UiRow } from './bridgeProtocol';

const QUICK_INPUT = '.quick-input-widget';
const QUICK_ROWS = `${QUICK_INPUT} .quick-input-list .monaco-list-row`;

export class Workbench {
  private queue: Promise<unknown> = Promise.resolve();

  /** `screenshotsDir`: where `screenshot(name)` writes `<name>.png` (created on demand). */
  constructor(
    readonly page: Page,
    private readonly screenshotsDir: string,
  ) {}

  /** Waits until the workbench is rendered (after a load or a reload). */
  waitUntilReady(timeoutMs = 120_000): Promise<void> {
    return this.exclusive(async () => {
      await this.page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: timeoutMs });
    });
  }

  /**
   * Runs a command from the command palette by its title as the palette shows it
   * (`Category: Title`, e.g. "TrajLab: Generate trajectories"). The row must match exactly.
   * Retries (closing and reopening the palette) until the command appears, for up to
   * `timeoutMs`: a contributed command may not be known yet while the workbench starts.
   * Returns once the command is started, not when it finishes.
   */
  runCommand(title: string, timeoutMs = 60_000): Promise<null> {
    return this.exclusive(() => this.runCommandNow(title, timeoutMs)).then(() => null);
  }

  /** The labels of the items of the open quick pick (empty when none is open). */
  quickPickItems(): Promise<string[]> {
    return this.exclusive(async () => {
      if (!(await this.page.locator(QUICK_INPUT).isVisible())) return [];
      return this.rowLabels();
    });
  }

  /** Picks (clicks) the first item of the open quick pick whose label contains `label`. */
  quickPickSelect(label: string, timeoutMs = 30_000): Promise<null> {
    return this.exclusive(async () => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const labels = await this.rowLabels();
        const i = labels.findIndex((l) => l.includes(label));
        if (i >= 0) {
          await this.page.locator(QUICK_ROWS).nth(i).click();
          return null;
        }
        if (Date.now() > deadline) throw new Error(`no quick pick item contains ${JSON.stringify(label)}; items: ${JSON.stringify(labels)}`);
        await this.page.waitForTimeout(250);
      }
    });
  }

  /**
   * Types `text` into the open quick input (replacing its value); presses Enter unless `submit`
   * is false. With `title`, waits for the quick input whose title contains it first (the one
   * before it may still be closing). The value is read back before Enter and typed again if the
   * input replaced it (the simple file dialog fills in its own path as it opens).
   */
  quickInputType(text: string, submit = true, timeoutMs = 30_000, title?: string): Promise<null> {
    return this.exclusive(async () => {
      const deadline = Date.now() + timeoutMs;
      if (title) await this.page.locator(`${QUICK_INPUT} .quick-input-title`, { hasText: title }).first().waitFor({ state: 'visible', timeout: timeoutMs });
      const input = this.page.locator(`${QUICK_INPUT} .quick-input-box input`);
      await input.waitFor({ state: 'visible', timeout: Math.max(1, deadline - Date.now()) });
      for (;;) {
        await input.fill(text);
        await this.page.waitForTimeout(200);
        if ((await input.inputValue()) === text) break;
        if (Date.now() > deadline) throw new Error(`the quick input did not keep ${JSON.stringify(text)}: it shows ${JSON.stringify(await input.inputValue())}`);
      }
      if (submit) await input.press('Enter');
      return null;
    });
  }

  /**
   * Accepts the open quick pick whose title contains `title` (Enter in its input box, which
   * Playwright focuses first): unlike `pressKey('Enter')`, it cannot land elsewhere while the
   * quick pick is still taking focus as it opens.
   */
  quickPickAccept(title: string, timeoutMs = 30_000): Promise<null> {
    return this.exclusive(async () => {
      await this.page.locator(`${QUICK_INPUT} .quick-input-title`, { hasText: title }).first().waitFor({ state: 'visible', timeout: timeoutMs });
      await this.page.locator(`${QUICK_INPUT} .quick-input-box input`).press('Enter');
      return null;
    });
  }

  pressKey(key: string): Promise<null> {
    return this.exclusive(async () => {
      await this.page.keyboard.press(key);
      return null;
    });
  }

  /**
   * The entries of the Notifications center. The smoke-test driver hides notification
   * toasts, so the center is the one place they show: it is opened, read and closed again.
   */
  notifications(): Promise<UiNotification[]> {
    return this.exclusive(async () => {
      const center = await this.showNotificationsCenter();
      // (No named functions inside page callbacks: tsx would wrap them in a helper the page lacks.)
      const items = await center.locator('.notification-list-item').evaluateAll((els) =>
        els.map((el) => {
          const progress = el.querySelector('.monaco-progress-container') as HTMLElement | null;
          return {
            message: el.querySelector('.notification-list-item-message')?.textContent?.trim() ?? '',
            source: el.querySelector('.notification-list-item-source')?.textContent?.trim() ?? '',
            buttons: Array.from(el.querySelectorAll('.notification-list-item-buttons-container .monaco-button')).map((b) => b.textContent?.trim() ?? ''),
            progress: !!progress && progress.offsetParent !== null && !progress.classList.contains('done'),
          };
        }),
      );
      await this.hideNotificationsCenter();
      return items;
    });
  }

  /** Clicks `button` on the first notification whose message contains `message` (waits for it). */
  clickNotificationButton(message: string, button: string, timeoutMs = 30_000): Promise<null> {
    return this.exclusive(async () => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const center = await this.showNotificationsCenter();
        const item = center.locator('.notification-list-item', { hasText: message }).first();
        if (await item.isVisible()) {
          await item.locator('.notification-list-item-buttons-container .monaco-button', { hasText: button }).first().click({ timeout: 5_000 });
          await this.hideNotificationsCenter();
          return null;
        }
        await this.hideNotificationsCenter();
        if (Date.now() > deadline) throw new Error(`no notification contains ${JSON.stringify(message)}`);
        await this.page.waitForTimeout(500);
      }
    });
  }

  /** Shows a view container of the activity bar ("Explorer", "TrajLab"); leaves it shown if it already is. */
  openViewContainer(title: string): Promise<null> {
    return this.exclusive(async () => {
      const item = this.page.locator('.part.activitybar .action-item', { has: this.page.locator(`.action-label[aria-label^="${cssString(title)}"]`) }).first();
      if (await item.isVisible()) {
        const active = await item.evaluate((el) => el.classList.contains('checked') || el.getAttribute('aria-pressed') === 'true');
        if (!active) await item.click();
      } else {
        // Not pinned in the activity bar (or it overflows): the generated "View: Show …" command.
        await this.runCommandNow(`View: Show ${title}`, 15_000);
      }
      await this.page.locator('.part.sidebar .composite.title', { hasText: title }).first().waitFor({ state: 'visible', timeout: 15_000 });
      return null;
    });
  }

  /**
   * The rendered rows of the view whose pane header says `view` (case-insensitive); the pane
   * is expanded first when collapsed. Lists are virtualised: only rows in sight are returned.
   */
  viewRows(view: string, timeoutMs = 15_000): Promise<UiRow[]> {
    return this.exclusive(async () => {
      const pane = await this.expandedPane(view, timeoutMs);
      return pane.locator('.pane-body .monaco-list-row').evaluateAll((els) =>
        els.map((el) => {
          const expanded = el.getAttribute('aria-expanded');
          return {
            text: (el as HTMLElement).innerText.split('\n').map((s) => s.trim()).filter(Boolean).join(' / '),
            ariaLabel: el.getAttribute('aria-label') ?? '',
            level: Number(el.getAttribute('aria-level') ?? 0),
            expanded: expanded === null ? undefined : expanded === 'true',
          };
        }),
      );
    });
  }

  /** Collapses the pane of the view whose header says `view` (a test that expanded it gives the others their room back). */
  collapseView(view: string, timeoutMs = 15_000): Promise<null> {
    return this.exclusive(async () => {
      const header = (await this.expandedPane(view, timeoutMs)).locator('.pane-header').first();
      await header.click();
      return null;
    });
  }

  /**
   * Right-clicks the first row of the view whose pane header says `view` whose text contains
   * `row`, and clicks the context menu entry labelled `item` ("Drain"), as a user does. Errors
   * say what the row or the menu offered instead.
   */
  viewRowContextMenu(view: string, row: string, item: string, timeoutMs = 15_000): Promise<null> {
    return this.exclusive(async () => {
      const pane = await this.expandedPane(view, timeoutMs);
      const target = pane.locator('.pane-body .monaco-list-row', { hasText: row }).first();
      const found = await target.waitFor({ state: 'visible', timeout: timeoutMs }).then(() => true, () => false);
      if (!found) {
        const rows = await pane.locator('.pane-body .monaco-list-row').allInnerTexts();
        throw new Error(`no row of ${JSON.stringify(view)} contains ${JSON.stringify(row)}; it shows ${JSON.stringify(rows.map((r) => r.replace(/\n/g, ' / ')))}`);
      }
      await target.click({ button: 'right' });
      // The menu is in a shadow root, which Playwright's CSS locators pierce.
      const menu = this.page.locator('.context-view .monaco-menu').first();
      await menu.waitFor({ state: 'visible', timeout: 10_000 });
      const entry = menu.locator('.action-item .action-label', { hasText: new RegExp(`^\\s*${escapeRegExp(item)}\\s*$`) }).first();
      if (!(await entry.isVisible())) {
        const offered = (await menu.locator('.action-item .action-label').allInnerTexts()).map((t) => t.trim()).filter(Boolean);
        await this.page.keyboard.press('Escape');
        throw new Error(`the context menu of ${JSON.stringify(row)} in ${JSON.stringify(view)} has no ${JSON.stringify(item)}; it offers ${JSON.stringify(offered)}`);
      }
      // Now and then (seen after a window reload) the menu takes no notice of the first click
      // and stays open: click again, then take the entry with the keyboard, as a user would.
      const closed = () => menu.waitFor({ state: 'hidden', timeout: 3_000 }).then(() => true, () => false);
      await entry.click();
      if (!(await closed())) {
        await entry.click();
        if (!(await closed())) {
          await entry.focus();
          await this.page.keyboard.press('Enter');
          if (!(await closed())) throw new Error(`the context menu of ${JSON.stringify(row)} in ${JSON.stringify(view)} stayed open after two clicks on ${JSON.stringify(item)} and Enter`);
        }
      }
      return null;
    });
  }

  /**
   * The innerText of the first element matching `selector` in a webview's page whose text
   * contains `contains` (any when undefined), waiting up to `timeoutMs`. VS Code puts each
   * webview in an iframe that hosts another one (`active-frame`) with the extension's HTML;
   * every webview frame of the page is searched. Only reads, so it does not wait for other actions.
   */
  async webviewText(selector: string, contains: string | undefined, timeoutMs = 30_000): Promise<string> {
    const { text } = await this.findInWebview(selector, contains, timeoutMs);
    return text;
  }

  /** Clicks the first element matching `selector` in a webview's page whose text contains `contains` (waits for it). */
  webviewClick(selector: string, contains: string | undefined, timeoutMs = 30_000): Promise<null> {
    return this.exclusive(async () => {
      const { locator } = await this.findInWebview(selector, contains, timeoutMs);
      await locator.click({ timeout: 10_000 });
      return null;
    });
  }

  /**
   * Saves a screenshot of the window as `<screenshotsDir>/<name>.png` (name made file-safe);
   * returns the path. With `visible` (a Playwright selector), waits for that element to show first.
   */
  screenshot(name: string, visible?: string, timeoutMs = 30_000): Promise<string> {
    return this.exclusive(async () => {
      if (visible) await this.page.locator(visible).first().waitFor({ state: 'visible', timeout: timeoutMs });
      return this.screenshotNow(name);
    });
  }

  /** Like `screenshot`, but never waits for other actions and never throws (for failure paths). */
  async screenshotNow(name: string): Promise<string> {
    fs.mkdirSync(this.screenshotsDir, { recursive: true });
    const file = path.join(this.screenshotsDir, `${name.replace(/[^\w.-]+/g, '_').slice(0, 120)}.png`);
    await this.page.screenshot({ path: file, timeout: 15_000 });
    return file;
  }

  // -------------------------------------------------------------------------------------------

  /** Waits for an element of a webview page (see webviewText); its text and a locator of it. */
  private async findInWebview(selector: string, contains: string | undefined, timeoutMs: number): Promise<{ text: string; locator: Locator }> {
    const deadline = Date.now() + timeoutMs;
    let seen: string[] = [];
    for (;;) {
      seen = [];
      // Webview frames are served from VS Code's `…/contrib/webview/browser/pre/` (not the web worker extension host's frame).
      for (const frame of this.page.frames().filter((f) => f !== this.page.mainFrame() && f.url().includes('/webview/'))) {
        const texts = await frame.locator(selector).allInnerTexts().catch(() => [] as string[]);
        const i = texts.findIndex((t) => contains === undefined || t.includes(contains));
        if (i >= 0) return { text: texts[i]!, locator: frame.locator(selector).nth(i) };
        seen.push(...texts.filter((t) => t.trim()).map((t) => t.slice(0, 300)));
      }
      if (Date.now() > deadline) {
        const frames = this.page.frames().map((f) => f.url().slice(0, 120));
        throw new Error(`no webview element ${JSON.stringify(selector)}${contains === undefined ? '' : ` containing ${JSON.stringify(contains)}`} after ${timeoutMs} ms; webviews showed ${JSON.stringify(seen.slice(0, 5))} (frames: ${JSON.stringify(frames)})`);
      }
      await this.page.waitForTimeout(250);
    }
  }

  /** The pane of the view whose header says `view` (case-insensitive), expanded. */
  private async expandedPane(view: string, timeoutMs: number): Promise<Locator> {
    const title = this.page.locator('.pane-header .title').filter({ hasText: new RegExp(`^\\s*${escapeRegExp(view)}\\s*$`, 'i') });
    const pane = this.page.locator('.pane', { has: title }).first();
    await pane.waitFor({ state: 'visible', timeout: timeoutMs });
    const header = pane.locator('.pane-header').first();
    if (!(await header.evaluate((el) => el.classList.contains('expanded')))) await header.click();
    return pane;
  }

  private exclusive<T>(action: () => Promise<T>): Promise<T> {
    const run = this.queue.then(action, action);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async runCommandNow(title: string, timeoutMs: number): Promise<void> {
    const input = this.page.locator(`${QUICK_INPUT} .quick-input-box input`);
    const deadline = Date.now() + timeoutMs;
    let seen: string[] = [];
    for (;;) {
      await this.closeQuickInput();
      await this.page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(`>${title}`);
      // Rows are filtered as one types; give the list a moment to settle on the match.
      const until = Math.min(deadline, Date.now() + 3_000);
      while (Date.now() < until) {
        seen = await this.rowLabels();
        const i = seen.indexOf(title);
        if (i >= 0) {
          await this.page.locator(QUICK_ROWS).nth(i).click();
          return;
        }
        await this.page.waitForTimeout(200);
      }
      if (Date.now() > deadline) {
        await this.closeQuickInput();
        throw new Error(`the command palette has no command titled ${JSON.stringify(title)} after ${timeoutMs} ms; it offered ${JSON.stringify(seen.slice(0, 10))}`);
      }
    }
  }

  /** The labels of the rendered quick input rows, in order. */
  private rowLabels(): Promise<string[]> {
    return this.page.locator(QUICK_ROWS).evaluateAll((els) =>
      els.map((el) => (el.querySelector('.label-name')?.textContent ?? el.textContent ?? '').trim()),
    );
  }

  private async closeQuickInput(): Promise<void> {
    for (let i = 0; i < 3 && (await this.page.locator(QUICK_INPUT).isVisible()); i++) {
      await this.page.keyboard.press('Escape');
      await this.page.waitForTimeout(100);
    }
  }

  private async showNotificationsCenter(): Promise<Locator> {
    const center = this.page.locator('.notifications-center');
    if (!(await center.isVisible())) {
      await this.runCommandNow('Notifications: Show Notifications', 15_000);
      await center.waitFor({ state: 'visible', timeout: 10_000 });
    }
    return center;
  }

  private async hideNotificationsCenter(): Promise<void> {
    const center = this.page.locator('.notifications-center');
    if (await center.isVisible()) {
      // The palette has no "Hide Notifications"; Escape is its keybinding while the center shows.
      await this.page.keyboard.press('Escape');
      const hidden = await center.waitFor({ state: 'hidden', timeout: 3_000 }).then(() => true, () => false);
      if (!hidden) {
        await center.locator('.notifications-center-header .action-label[aria-label^="Hide Notifications"]').click({ timeout: 5_000 });
        await center.waitFor({ state: 'hidden', timeout: 10_000 });
      }
    }
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `s` as the inside of a double-quoted CSS attribute value. */
function cssString(s: string): string {
  return s.replace(/["\\]/g, '\\$&');
}
