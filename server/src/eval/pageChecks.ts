/**
 * Checks on a browser task's final page (issue 20): `eval.url_matches` (a regular expression the
 * URL must match) and `eval.page_contains` (text the page must contain), read from the browser
 * the agent left in the container (BrowserSession.pageState), after the agent stopped and before
 * the container goes; and the final page written into the container for eval commands that
 * query it (PAGE_DIR). Page text is only compared or written as a file's bytes, never run or
 * used as a path.
 */
import type { TaskEval } from '../../../common/src/task';
import type { PageCheck } from '../../../common/src/trajectory';
import { BrowserSession, type PageState } from '../browser/session';
import { writeContainerFolder } from '../runtime/archive';
import type { Sandbox } from '../runtime/sandbox';

/**
 * Where eval commands find the browser's final page, in the container (also `$TRAJLAB_PAGE_DIR`
 * in their environment): `url`, `title`, `text` (the page as rendered, `innerText`), `html` (the
 * DOM serialised) and `page.json` (`{url, title, text}`), each UTF-8 without a trailing newline.
 */
export const PAGE_DIR = '/tmp/trajlab-page';

/**
 * Writes the final page of `sandbox`'s browser into PAGE_DIR for the eval commands and returns
 * the shell prefix that exports `TRAJLAB_PAGE_DIR`; '' (and nothing written) when the agent never
 * opened a page or it cannot be read: a command that reads the files then fails as it would on a
 * missing page. `state`: the page already read (checkPage's), else it is read now. Errors: an
 * Error naming PAGE_DIR and the engine's message when the files cannot be written.
 */
export async function writePageForEval(sandbox: Sandbox, state?: PageState): Promise<string> {
  const page = state ?? (await BrowserSession.existing(sandbox)?.pageState());
  if (!page) return '';
  try {
    await writeContainerFolder(sandbox, PAGE_DIR, { url: page.url, title: page.title, text: page.text, html: page.html, 'page.json': JSON.stringify({ url: page.url, title: page.title, text: page.text }) });
  } catch (err) {
    throw new Error(`could not write the browser's final page into the container for the eval commands (${PAGE_DIR}, $TRAJLAB_PAGE_DIR): ${(err as Error).message}; the task's image needs a writable /tmp`);
  }
  return `export TRAJLAB_PAGE_DIR=${PAGE_DIR}; `;
}

/** Whether the eval checks the final page. */
export function hasPageChecks(ev: TaskEval): boolean {
  return ev.url_matches !== undefined || ev.page_contains !== undefined;
}

/**
 * The page checks of `ev` on `sandbox`'s browser: each asked check's verdict, the page's URL and
 * title, `passed` when every asked check holds, and `error` when there is no page to check (the
 * agent never used the browser, or the page could not be read) or `url_matches` is not a valid
 * regular expression. Never throws.
 */
export async function checkPage(ev: TaskEval, sandbox: Sandbox): Promise<PageCheck> {
  const state = await BrowserSession.existing(sandbox)?.pageState();
  if (!state) return { url: '', title: '', passed: false, error: 'no page to check: the agent never opened one in the browser, or it could not be read' };
  const check: PageCheck = { url: state.url, title: state.title, passed: true };
  if (ev.url_matches !== undefined) {
    let re: RegExp;
    try {
      re = new RegExp(ev.url_matches);
    } catch (err) {
      return { ...check, passed: false, error: `eval.url_matches is not a regular expression: ${(err as Error).message}` };
    }
    check.url_matches = re.test(state.url);
  }
  if (ev.page_contains !== undefined) {
    const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
    check.page_contains = squash(state.text).includes(squash(ev.page_contains));
  }
  check.passed = check.url_matches !== false && check.page_contains !== false;
  return check;
}
