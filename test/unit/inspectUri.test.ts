/**
 * Quality-report links to a trajectory's step: inspectUri / parseInspectUri
 * (common/src/inspectUri.ts) round-trip any absolute path as VS Code delivers it (the query
 * decoded once), refuse malformed links, and resolveInspectTarget
 * (client/src/inspector/inspectTarget.ts) opens only existing files inside the window's folders,
 * symbolic links resolved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXTENSION_ID, inspectUri, parseInspectUri } from '../../common/src/inspectUri';
import { resolveInspectTarget } from '../../client/src/inspector/inspectTarget';

/** What VS Code's UriHandler receives for `link`: its path and its query decoded once. */
function delivered(link: string): { path: string; query: string } {
  const u = new URL(link);
  assert.equal(u.protocol, 'vscode:');
  assert.equal(u.host, EXTENSION_ID);
  return { path: u.pathname, query: decodeURIComponent(u.search.slice(1)) };
}

test('the extension id is package.json publisher.name', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { publisher: string; name: string };
  assert.equal(EXTENSION_ID, `${pkg.publisher}.${pkg.name}`);
});

test('inspectUri / parseInspectUri round-trip paths with &, =, +, #, %, spaces and Unicode, with and without a step', () => {
  for (const file of ['/w/runs/r1/trajectories/calc.1.json', '/w/a&b=c+d #e %41.json', '/w/é 東京/<x>.json', 'C:\\Users\\me\\t.json']) {
    for (const step of [0, 7, null]) {
      const link = inspectUri(file, step);
      const d = delivered(link);
      assert.deepEqual(parseInspectUri(d.path, d.query), { ok: true, file, step }, link);
    }
  }
  assert.match(inspectUri('/w/a.json', 3), /^vscode:\/\/trajlab\.trajlab\/inspect\?trajectory=%252Fw%252Fa\.json&step=3$/);
});

test('parseInspectUri refuses other paths, relative paths, .. segments, NUL, several or malformed steps', () => {
  const refused = (p: string, q: string, re: RegExp) => {
    const r = parseInspectUri(p, q);
    assert.equal(r.ok, false, `${p}?${q}`);
    assert.match((r as { error: string }).error, re);
  };
  refused('/open', 'trajectory=%2Fa.json', /unknown TrajLab link path/);
  refused('/inspect', '', /must name one trajectory/);
  refused('/inspect', 'trajectory=%2Fa.json&trajectory=%2Fb.json', /must name one trajectory/);
  refused('/inspect', 'trajectory=a.json', /must be absolute/);
  refused('/inspect', 'trajectory=%2Fw%2F..%2F..%2Fetc%2Fpasswd', /must not contain "\.\." segments/);
  refused('/inspect', 'trajectory=%2Fw%2Fa%00.json', /NUL/);
  refused('/inspect', 'trajectory=%2Fa.json&step=-1', /integer from 0/);
  refused('/inspect', 'trajectory=%2Fa.json&step=1.5', /integer from 0/);
  refused('/inspect', 'trajectory=%2Fa.json&step=1e3', /integer from 0/);
  refused('/inspect', 'trajectory=%2Fa.json&step=99999999', /integer from 0/);
  refused('/inspect', 'trajectory=%2Fa.json&step=1&step=2', /more than one step/);
  assert.deepEqual(parseInspectUri('/inspect', 'trajectory=%2Fa.json&step='), { ok: true, file: '/a.json', step: null });
});

test('resolveInspectTarget opens only existing files inside the roots, symbolic links resolved', () => {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-inspect-uri-')));
  try {
    const ws = path.join(dir, 'ws');
    const outside = path.join(dir, 'outside');
    fs.mkdirSync(path.join(ws, 'runs', 'r1'), { recursive: true });
    fs.mkdirSync(outside);
    const inside = path.join(ws, 'runs', 'r1', 't.json');
    fs.writeFileSync(inside, '{}');
    fs.writeFileSync(path.join(outside, 'secret.json'), '{}');
    fs.symlinkSync(path.join(outside, 'secret.json'), path.join(ws, 'link.json'));
    fs.symlinkSync(outside, path.join(ws, 'dirlink'));
    const go = (file: string, step: number | null, roots = [ws]) => {
      const d = delivered(inspectUri(file, step));
      return resolveInspectTarget(d.path, d.query, roots);
    };
    assert.deepEqual(go(inside, 4), { ok: true, file: inside, step: 4 });
    assert.deepEqual(go(inside, null, [path.join(dir, 'nowhere'), path.join(ws, 'runs')]), { ok: true, file: inside, step: null });
    const refused = (r: ReturnType<typeof go>, re: RegExp) => {
      assert.equal(r.ok, false, JSON.stringify(r));
      assert.match((r as { error: string }).error, re);
    };
    refused(go(path.join(outside, 'secret.json'), 1), /outside this window's workspace folders/);
    refused(go(path.join(ws, 'link.json'), 1), /outside this window's workspace folders/);
    refused(go(path.join(ws, 'dirlink', 'secret.json'), 1), /outside this window's workspace folders/);
    refused(go(path.join(ws, 'missing.json'), 1), /does not exist/);
    refused(go(path.join(ws, 'runs'), 1), /is not a file/);
    refused(go(ws, 1), /outside/);
    refused(go(inside, 1, []), /outside/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
