/**
 * The packaged extension: `npm run package` built a .vsix, the runner (test/e2e/run.ts --vsix)
 * installed it with `code-server --install-extension`, and these tests check that the
 * installed copy is complete and works: it activates, its daemon (bundled dist/trajlab.js)
 * starts and answers, and the package holds nothing it does not need (issue 3, "Quality bars").
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite, test } from 'mocha';
import * as vscode from 'vscode';
import { EXTENSION_ID, activationTimes } from '../e2e';

/** What the tests need of TrajLab's exported API (client/src/api.ts). */
interface DaemonApi {
  whenDaemonReady(timeoutMs?: number): Promise<boolean>;
  daemonState?(): string;
}

function trajlab(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not installed in this window`);
  return ext;
}

suite('packaged extension (.vsix)', () => {
  test('TrajLab runs from the installed .vsix, not from the repository', () => {
    const extensionsDir = process.env.TRAJLAB_E2E_EXTENSIONS_DIR;
    assert.ok(extensionsDir, 'TRAJLAB_E2E_EXTENSIONS_DIR is set by the runner in --vsix mode');
    const rel = path.relative(fs.realpathSync(extensionsDir), fs.realpathSync(trajlab().extensionPath));
    assert.ok(rel && !rel.startsWith('..') && !path.isAbsolute(rel), `${trajlab().extensionPath} is not under ${extensionsDir}`);
  });

  test('it activates within the activation budget', async () => {
    await trajlab().activate();
    assert.equal(trajlab().isActive, true);
    const t = await activationTimes(EXTENSION_ID);
    const ownMs = t.codeLoadingMs + t.activateCallMs + t.activateResolvedMs;
    assert.ok(ownMs < 300, `activation took ${ownMs} ms (load code ${t.codeLoadingMs} + call activate ${t.activateCallMs} + finish activate ${t.activateResolvedMs})`);
  });

  test('its daemon starts and answers', async () => {
    const api = (await trajlab().activate()) as Partial<DaemonApi> | undefined;
    assert.equal(typeof api?.whenDaemonReady, 'function', 'the extension exports whenDaemonReady() (client/src/api.ts)');
    const ready = await api!.whenDaemonReady!(60_000);
    assert.equal(ready, true, `the daemon did not answer within 60 s (state: ${api!.daemonState?.() ?? 'unknown'})`);
  });

  test('the package holds only what VS Code loads (no sources, tests, source maps or node_modules)', () => {
    const root = trajlab().extensionPath;
    const unwanted: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const rel = path.relative(root, path.join(dir, e.name));
        if (e.isDirectory()) {
          if (/^(node_modules|test|client|server|common|webviews|scripts|bench|\.tools|out)$/.test(rel)) unwanted.push(`${rel}/`);
          else walk(path.join(dir, e.name));
        } else if (/\.(ts|map|tsbuildinfo)$/.test(e.name) && !e.name.endsWith('.d.ts')) {
          unwanted.push(rel);
        }
      }
    };
    walk(root);
    assert.deepEqual(unwanted, []);
    assert.ok(fs.existsSync(path.join(root, 'dist', 'extension.js')), 'dist/extension.js is packaged');
    assert.ok(fs.existsSync(path.join(root, 'dist', 'trajlab.js')), 'dist/trajlab.js (the daemon) is packaged');
  });

  test('the browser tool\'s driver is packaged: dist/vendor/playwright-core loads from the installed copy', () => {
    const vendored = path.join(trajlab().extensionPath, 'dist', 'vendor', 'playwright-core');
    // Loaded as the daemon loads it (server/src/browser/session.ts loadPlaywright).
    const pw = require(vendored) as { chromium?: { connectOverCDP?: unknown } };
    assert.equal(typeof pw.chromium?.connectOverCDP, 'function');
    const version = (JSON.parse(fs.readFileSync(path.join(vendored, 'package.json'), 'utf8')) as { version: string }).version;
    assert.match(version, /^\d+\.\d+\.\d+/);
  });
});
