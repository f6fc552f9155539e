/**
 * The e2e suites' entry, @vscode/test-electron style: VS Code's extension host loads this
 * module (extensionTestsPath = out/e2e/index.js) and calls `run()`; resolving means the tests
 * passed, rejecting that some failed. The same module runs under the code-server runner
 * (test/e2e/run.ts) and under @vscode/test-electron (test/runTest.ts).
 *
 * Loads every `suite/*.test.js` next to it (`suite/vsix/*.test.js` when TRAJLAB_E2E_MODE=vsix)
 * into mocha with the TDD interface (`suite`, `test`, `suiteSetup`, …, imported from 'mocha').
 * Environment: TRAJLAB_E2E_GREP (only tests whose full title matches this regular expression),
 * TRAJLAB_E2E_TEST_TIMEOUT_MS (per test and hook; default 5 min: tests run Docker work),
 * TRAJLAB_E2E_STATE (the journal that carries results across window reloads, see journal.ts),
 * TRAJLAB_E2E_OUTPUT (a file the reporter's output is also appended to; the runner prints it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';
import { ui, uiAvailable } from './e2e';
import { readJournal, reloadState, updateJournal, type JournalData, type Outcome } from './journal';

/** A window that keeps reloading (a test calling reloadWindow in a loop) stops here. */
const MAX_WINDOW_LOADS = 10;

export async function run(): Promise<void> {
  process.setSourceMapsEnabled(true);
  captureReporterOutput(process.env.TRAJLAB_E2E_OUTPUT);

  const journal = updateJournal((j) => {
    j.loads += 1;
    // The previous extension host went away in the middle of a test that did not ask for it.
    if (j.current && j.resume?.test !== j.current) {
      j.results[j.current] = { outcome: 'failed', error: 'the window reloaded or the extension host stopped during this test' };
      j.current = undefined;
    }
  });
  if (journal.loads > MAX_WINDOW_LOADS) throw new Error(`the window was loaded ${journal.loads} times; a test keeps reloading it`);
  if (journal.loads > 1) Mocha.reporters.Base.consoleLog(`\n(window load ${journal.loads}: continuing after a reload)`);

  const mocha = new Mocha({
    ui: 'tdd',
    color: false,
    reporter: 'spec',
    timeout: Number(process.env.TRAJLAB_E2E_TEST_TIMEOUT_MS) || 300_000,
    slow: 10_000,
  });
  if (process.env.TRAJLAB_E2E_GREP) mocha.grep(new RegExp(process.env.TRAJLAB_E2E_GREP));
  const dir = path.join(__dirname, 'suite', process.env.TRAJLAB_E2E_MODE === 'vsix' ? 'vsix' : '');
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.test.js')).sort()) mocha.addFile(path.join(dir, f));
  // Load now (plain require, as test-electron does) so finished tests can be removed before the
  // run; lazyLoadFiles tells run() not to load them again. Both are public in mocha 11's docs
  // but missing or protected in @types/mocha.
  const loader = mocha as unknown as { loadFiles(): void; lazyLoadFiles(enable: boolean): void };
  loader.loadFiles();
  loader.lazyLoadFiles(true);
  // A failed UI test leaves a screenshot of the window as it was (artefacts/<mode>/screenshots/).
  mocha.suite.afterEach(async function () {
    const t = this.currentTest;
    if (!uiAvailable || t?.state !== 'failed') return;
    await ui.screenshot(`failed-${t.fullTitle()}`).then(
      (file) => Mocha.reporters.Base.consoleLog(`    (screenshot of the failure: ${file})`),
      (err: Error) => Mocha.reporters.Base.consoleLog(`    (no screenshot of the failure: ${err.message})`),
    );
  });
  skipFinished(mocha.suite, new Set(Object.keys(journal.results)));

  const reload = reloadState();
  reload.load = journal.loads;
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    reload.onReload = () => {
      Mocha.reporters.Base.consoleLog(`    … reloading the window (${readJournal().resume?.test ?? '?'} continues after it)`);
      reload.muted = true;
      runner.abort();
    };
    // While a reload is under way nothing is recorded (see ReloadState).
    const change = (f: (j: JournalData) => void) => void (reload.reloading || updateJournal(f));
    const record = (t: Mocha.Runnable, outcome: Outcome, err?: Error) =>
      change((j) => {
        j.results[t.fullTitle()] = { outcome, error: err ? String(err.stack ?? err.message) : undefined, durationMs: t.duration };
      });
    runner.on('test', (t) => change((j) => void (j.current = t.fullTitle())));
    runner.on('pass', (t) => record(t, 'passed'));
    runner.on('fail', (t, err: Error) => record(t, 'failed', err));
    runner.on('pending', (t) => record(t, 'pending'));
    runner.on('test end', (t) =>
      change((j) => {
        if (j.current === t.fullTitle()) j.current = undefined;
        if (j.resume?.test === t.fullTitle()) j.resume = undefined;
      }),
    );
  });
  // Ending run() would report an exit code for a window that is going away: wait for the end.
  if (reload.reloading) await new Promise<never>(() => undefined);
  // A test that asked for a reload but did not run again (a hook failed): no longer pending.
  updateJournal((j) => {
    if (j.resume && !(j.resume.test in j.results)) j.results[j.resume.test] = { outcome: 'failed', error: 'did not run again after its window reload' };
    j.resume = undefined;
  });

  const results = Object.entries(readJournal().results);
  const failed = results.filter(([, r]) => r.outcome === 'failed');
  if (journal.loads > 1) {
    const count = (o: Outcome) => results.filter(([, r]) => r.outcome === o).length;
    Mocha.reporters.Base.consoleLog(`\nall window loads: ${count('passed')} passing, ${failed.length} failing, ${count('pending')} pending`);
    // A failure in a window that later reloaded never reached mocha's summary: print its error here.
    for (const [title, r] of failed) Mocha.reporters.Base.consoleLog(`  failed: ${title}\n${indent(r.error ?? '(no error recorded)', '    ')}`);
  }
  if (failed.length > 0) throw new Error(`${failed.length} test(s) failed`);
}

/** Prefixes every line of `text` with `pad`. */
function indent(text: string, pad: string): string {
  return text.split('\n').map((l) => pad + l).join('\n');
}

/** Removes the tests that finished in an earlier window load (by full title). */
function skipFinished(suite: Mocha.Suite, finished: Set<string>): void {
  suite.tests = suite.tests.filter((t) => !finished.has(t.fullTitle()));
  for (const s of suite.suites) skipFinished(s, finished);
}

/** Also appends what the reporter prints to `file` (console output alone is hard to tell from the workbench's). */
function captureReporterOutput(file: string | undefined): void {
  if (!file) return;
  const base = Mocha.reporters.Base as unknown as { consoleLog: (...args: unknown[]) => void };
  const original = console.log.bind(console);
  base.consoleLog = (...args: unknown[]) => {
    if (reloadState().muted) return; // what a dying extension host reports is not a result
    original(...args);
    try {
      fs.appendFileSync(file, `${format(...args)}\n`);
    } catch {
      // The output file is a convenience; the console has the same lines.
    }
  };
}
