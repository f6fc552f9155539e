/**
 * Checks on a browser task's final page (issue 20): `eval.url_matches` (a regular expression the
 * URL must match) and `eval.page_contains` (text the page must contain), read from the browser
 * the agent left in the container (BrowserSession.pageState), after the agent stopped and before
 * the container goes. Page text is only compared, never run or used as a path.
 */
import type { TaskEval } from '../../../common/src/task';
import type { PageCheck } from '../../../common/src/trajectory';
import { BrowserSession } from '../browser/session';
import type { Sandbox } from '../runtime/sandbox';

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
