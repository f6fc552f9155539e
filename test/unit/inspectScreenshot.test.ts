/**
 * A browser step's screenshot in the inspector (server/src/inspect/screenshot.ts readScreenshot,
 * InspectorService.screenshot) and its page facts in the step detail (view.ts browserDetail):
 * the recorded path is accepted only inside `<trajectory>.assets/`, as written and with links
 * resolved, with the recorded SHA-256, under the size cap.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ScreenshotResult } from '../../common/src/inspector';
import { readScreenshot } from '../../server/src/inspect/screenshot';
import { isInsideFolder } from '../../common/src/paths';
import { InspectorError, InspectorService } from '../../server/src/inspect/store';
import { BROWSER_HOSTILE_TITLE, solidPng, writeBrowserTrajectory } from '../fixtures/inspect/generate';

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-screenshot-'));
after(() => fs.rmSync(TMP, { recursive: true, force: true }));

const PNG = solidPng(3, 2, [255, 0, 0]);
const SHA = createHash('sha256').update(PNG).digest('hex');

/** A trajectory file path in a fresh folder, with `<name>.assets/shot.png` (PNG) written. */
function folder(name: string): { dir: string; file: string; assets: string } {
  const dir = fs.mkdtempSync(path.join(TMP, `${name}-`));
  const assets = path.join(dir, 'run.0.assets');
  fs.mkdirSync(assets);
  fs.writeFileSync(path.join(assets, 'shot.png'), PNG);
  return { dir, file: path.join(dir, 'run.0.json'), assets };
}

function problem(r: ScreenshotResult): string {
  return r.ok ? 'ok' : r.problem;
}

test('a screenshot inside the assets folder with its SHA-256 comes back as base64 (hex in either case)', async () => {
  const { file } = folder('ok');
  const r = await readScreenshot(file, { path: 'run.0.assets/shot.png', sha256: SHA });
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.mime, 'image/png');
  assert.equal(r.bytes, PNG.length);
  assert.deepEqual(Buffer.from(r.base64, 'base64'), PNG);
  assert.equal(problem(await readScreenshot(file, { path: './run.0.assets/sub/../shot.png', sha256: SHA.toUpperCase() })), 'ok');
});

test('paths that lead outside the assets folder are refused before any file is read', async () => {
  const { dir, file } = folder('outside');
  // A file beside the assets folder with the right bytes: the check is the folder, not the hash.
  fs.writeFileSync(path.join(dir, 'beside.png'), PNG);
  fs.mkdirSync(path.join(dir, 'run.0.assets-evil'));
  fs.writeFileSync(path.join(dir, 'run.0.assets-evil', 'shot.png'), PNG);
  for (const p of ['../../etc/passwd', '/etc/passwd', path.join(dir, 'run.0.assets', 'shot.png'), 'beside.png', 'run.0.assets/../beside.png', 'run.0.assets-evil/shot.png', 'run.0.assets', 'run.0.assets/', '', 'run.0.assets/shot.png\0.txt']) {
    const r = await readScreenshot(file, { path: p, sha256: SHA });
    assert.equal(problem(r), 'outside', `${JSON.stringify(p)}: ${JSON.stringify(r)}`);
    assert.ok(!r.ok && r.message.includes('run.0.assets/'), r.ok ? '' : r.message);
  }
  for (const p of [null, 42, { path: 'x' }]) assert.equal(problem(await readScreenshot(file, { path: p, sha256: SHA })), 'outside', JSON.stringify(p));
});

test('a symbolic link in the assets folder that leads out of it is refused; one that stays inside is followed', async () => {
  const { dir, file, assets } = folder('links');
  fs.writeFileSync(path.join(dir, 'secret.png'), PNG);
  fs.symlinkSync(path.join(dir, 'secret.png'), path.join(assets, 'escape.png'));
  fs.symlinkSync('/etc', path.join(assets, 'etc'));
  fs.symlinkSync('shot.png', path.join(assets, 'alias.png'));
  const escape = await readScreenshot(file, { path: 'run.0.assets/escape.png', sha256: SHA });
  assert.equal(problem(escape), 'outside');
  assert.match(!escape.ok ? escape.message : '', /symbolic link leads outside run\.0\.assets\//);
  assert.equal(problem(await readScreenshot(file, { path: 'run.0.assets/etc/passwd', sha256: SHA })), 'outside');
  assert.equal(problem(await readScreenshot(file, { path: 'run.0.assets/alias.png', sha256: SHA })), 'ok');
});

test('an assets folder that is itself a link is read through it (its real path is the folder)', async () => {
  const dir = fs.mkdtempSync(path.join(TMP, 'linked-'));
  const real = path.join(dir, 'elsewhere');
  fs.mkdirSync(real);
  fs.writeFileSync(path.join(real, 'shot.png'), PNG);
  fs.symlinkSync(real, path.join(dir, 'run.0.assets'));
  assert.equal(problem(await readScreenshot(path.join(dir, 'run.0.json'), { path: 'run.0.assets/shot.png', sha256: SHA })), 'ok');
});

test('missing, changed, too large and unreadable files each say why', async () => {
  const { dir, file, assets } = folder('problems');
  const missing = await readScreenshot(file, { path: 'run.0.assets/gone.png', sha256: SHA });
  assert.equal(problem(missing), 'missing');
  assert.match(!missing.ok ? missing.message : '', /^Screenshot "run\.0\.assets\/gone\.png": no such file in run\.0\.assets\//);
  assert.equal(problem(await readScreenshot(path.join(dir, 'other.json'), { path: 'other.assets/shot.png', sha256: SHA })), 'missing', 'no assets folder at all');

  const changed = await readScreenshot(file, { path: 'run.0.assets/shot.png', sha256: 'f'.repeat(64) });
  assert.equal(problem(changed), 'changed');
  assert.ok(!changed.ok && changed.message.includes(SHA), 'the message gives the SHA-256 found');
  assert.equal(problem(await readScreenshot(file, { path: 'run.0.assets/shot.png', sha256: undefined })), 'changed');

  const large = await readScreenshot(file, { path: 'run.0.assets/shot.png', sha256: SHA }, PNG.length - 1);
  assert.equal(problem(large), 'tooLarge');
  assert.match(!large.ok ? large.message : '', new RegExp(`${PNG.length} bytes, more than the ${PNG.length - 1} bytes`));
  assert.equal(problem(await readScreenshot(file, { path: 'run.0.assets/shot.png', sha256: SHA }, PNG.length)), 'ok', 'exactly the cap is shown');

  fs.mkdirSync(path.join(assets, 'dir.png'));
  assert.equal(problem(await readScreenshot(file, { path: 'run.0.assets/dir.png', sha256: SHA })), 'unreadable');
  const text = Buffer.from('not an image');
  fs.writeFileSync(path.join(assets, 'text.png'), text);
  const notPng = await readScreenshot(file, { path: 'run.0.assets/text.png', sha256: createHash('sha256').update(text).digest('hex') });
  assert.equal(problem(notPng), 'unreadable');
  assert.match(!notPng.ok ? notPng.message : '', /not a PNG image/);
});

test('isInsideFolder: strictly inside, compared by path segments', () => {
  assert.equal(isInsideFolder('/a/b.assets/x.png', '/a/b.assets'), true);
  assert.equal(isInsideFolder('/a/b.assets/..x.png', '/a/b.assets'), true, 'a name starting with two dots is a name');
  assert.equal(isInsideFolder('/a/b.assets', '/a/b.assets'), false);
  assert.equal(isInsideFolder('/a/b.assets-x/x.png', '/a/b.assets'), false);
  assert.equal(isInsideFolder('/a/x.png', '/a/b.assets'), false);
});

test('the daemon module: browser facts in the step detail, the screenshot by step and action, notFound otherwise', async () => {
  const file = writeBrowserTrajectory(TMP, 'shop.trajectory');
  const service = new InspectorService();
  const { handle } = await service.open(file);
  const d0 = service.step({ handle, index: 0 });
  assert.deepEqual(d0.actions[0]!.browser, {
    url: { text: 'http://shop.test/search?q=<script>window.__pwned="url"</script>', length: 63 },
    title: { text: BROWSER_HOSTILE_TITLE, length: BROWSER_HOSTILE_TITLE.length },
    elements: 9,
    cut: { totalLines: 12, shownLines: 5, totalChars: 240, shownChars: 88, totalElements: 9 },
    screenshot: null,
  });
  const shot = service.step({ handle, index: 1 }).actions[0]!.browser!.screenshot!;
  assert.equal(shot.path.text, 'shop.trajectory.assets/step-1-0.png');
  assert.equal(service.step({ handle, index: 1 }).actions[0]!.browser!.cut, null);

  assert.equal(problem(await service.screenshot({ handle, step: 1, action: 0 })), 'ok');
  assert.equal(problem(await service.screenshot({ handle, step: 2, action: 0 })), 'outside');
  assert.equal(problem(await service.screenshot({ handle, step: 3, action: 0 })), 'changed');
  assert.equal(problem(await service.screenshot({ handle, step: 4, action: 0 })), 'missing');
  const notFound = (err: unknown) => err instanceof InspectorError && err.kind === 'notFound';
  await assert.rejects(service.screenshot({ handle, step: 0, action: 0 }), (err) => notFound(err) && /recorded no screenshot/.test((err as Error).message));
  await assert.rejects(service.screenshot({ handle, step: 1, action: 1 }), notFound);
  await assert.rejects(service.screenshot({ handle, step: 9, action: 0 }), notFound);
});
