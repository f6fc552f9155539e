/**
 * The inspector's diffs (server/src/inspect/diff.ts) and clipping (clip.ts): edit actions as
 * unified diffs that apply back to the edited text, unified / git diffs read back into files
 * and hunks, and texts clipped without splitting a character.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import type { Action, Trajectory } from '../../common/src/trajectory';
import { clipLines, clipText } from '../../server/src/inspect/clip';
import { diffSides, editDiff, editTexts, findDiffFile, parseUnifiedDiff, unquote } from '../../server/src/inspect/diff';
import { readTrajectoryFile } from '../../server/src/import/trajectoryFile';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const FOREIGN = path.resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'foreign');

/** jsdiff as the server resolves it (the repository root holds mocha's older, untyped copy). */
const { applyPatch } = createRequire(path.join(REPO_ROOT, 'server', 'package.json'))('diff') as { applyPatch(source: string, patch: string): string | false };

type Edit = Extract<Action, { kind: 'edit' }>;
const edit = (command: string, args: Record<string, unknown>, p = 'src/m.py'): Edit => ({ kind: 'edit', command, path: p, args: { command, path: p, ...args } });

test('an edit diff applies to the replaced text and gives the new text', () => {
  const oldText = Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n') + '\n';
  const newText = oldText.replace('line 3\n', 'LINE THREE\n').replace('line 30\n', '').replace('line 39\n', 'line 39\nline 40\n');
  const d = editDiff(edit('str_replace', { old_str: oldText, new_str: newText }))!;
  assert.match(d, /^--- a\/src\/m\.py\n\+\+\+ b\/src\/m\.py\n@@ -1,7 \+1,7 @@\n/);
  assert.equal(d.match(/^@@ /gm)?.length, 3, 'three hunks, 3 lines of context');
  assert.equal(applyPatch(oldText, d), newText);
  // A fragment without a final line break gets no "No newline at end of file" markers.
  const frag = editDiff(edit('str_replace', { old_str: 'return a - b', new_str: 'return a + b' }))!;
  assert.equal(frag, '--- a/src/m.py\n+++ b/src/m.py\n@@ -1,1 +1,1 @@\n-return a - b\n+return a + b\n');
});

test('create and insert diffs; view, undo_edit and argument-less edits have none', () => {
  assert.equal(editDiff(edit('create', { file_text: 'a\nb\n' }, '/abs/new.txt')), '--- /dev/null\n+++ b/abs/new.txt\n@@ -0,0 +1,2 @@\n+a\n+b\n');
  assert.equal(editDiff(edit('insert', { insert_line: 3, new_str: 'x = 1\n' })), '--- a/src/m.py\n+++ b/src/m.py\n@@ -0,0 +1,1 @@\n+x = 1\n');
  assert.equal(editDiff(edit('view', {})), undefined);
  assert.equal(editDiff(edit('undo_edit', {})), undefined);
  assert.equal(editDiff(edit('create', {})), undefined);
  assert.deepEqual(editTexts(edit('str_replace', { old_str: 'gone' })), { old: 'gone', new: '', created: false });
  // A path with a line break cannot break the diff's header lines.
  assert.equal(editDiff(edit('create', { file_text: 'x\n' }, 'evil\n+++ b/other'))!.split('\n')[1], '+++ b/evil +++ b/other');
});

test('an edit diff that takes too long falls back to all removed, all added, which still applies', () => {
  const a = Array.from({ length: 3000 }, (_, i) => `a${(i * 7919) % 3001}`).join('\n') + '\n';
  const b = Array.from({ length: 3000 }, (_, i) => `a${(i * 104729) % 3001}`).join('\n') + '\n';
  const d = editDiff(edit('str_replace', { old_str: a, new_str: b }), 0)!;
  assert.match(d, /^--- a\/src\/m\.py\n\+\+\+ b\/src\/m\.py\n@@ -1,3000 \+1,3000 @@\n-a0\n/);
  assert.equal(applyPatch(a, d), b);
});

test('a git diff reads back into files: modified, added, deleted, renamed, binary, quoted paths', () => {
  const t = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'inspect', 'trajlab.inspect.trajectory.json'), 'utf8')) as Trajectory;
  const files = parseUnifiedDiff(t.result!.diff);
  assert.deepEqual(
    files.map((f) => [f.oldPath, f.newPath, f.binary, f.hunks.length]),
    [
      ['calc.py', 'calc.py', false, 2],
      ['docs/read me.md', 'docs/read me.md', false, 1],
      ['old.txt', null, false, 1],
      [null, 'logo.png', true, 0],
      ['lib/helpers.py', 'lib/tools.py', false, 1],
      [null, 'café.txt', false, 1],
      [null, 'src/util.py', false, 1],
    ],
  );
  // The stats the trajectory recorded agree with the hunks read back.
  for (const f of files) {
    const stat = t.result!.diff_stats.files.find((s) => s.path === (f.newPath ?? f.oldPath))!;
    const lines = f.hunks.flatMap((h) => h.lines);
    assert.equal(lines.filter((l) => l[0] === '+').length, stat.insertions, stat.path);
    assert.equal(lines.filter((l) => l[0] === '-').length, stat.deletions, stat.path);
  }
  assert.deepEqual(files[0]!.hunks[1], { oldStart: 20, oldLines: 3, newStart: 20, newLines: 7, lines: ['     return a / b', ' ', ' # end', '+', '+', '+def sub(a, b):', '+    return a - b'] });
});

test('the final diffs of the foreign fixtures read back with the stats their importers computed', async () => {
  for (const name of ['mini-swe-agent.astropy__astropy-12907.traj.json', 'mini-swe-agent.github_issue.traj.json', 'swe-agent.pydicom__pydicom-1458.traj']) {
    const t = await readTrajectoryFile(path.join(FOREIGN, name));
    const files = parseUnifiedDiff(t.result!.diff);
    assert.equal(files.length, t.result!.diff_stats.files_changed, name);
    const lines = files.flatMap((f) => f.hunks.flatMap((h) => h.lines));
    assert.equal(lines.filter((l) => l[0] === '+').length, t.result!.diff_stats.insertions, name);
    assert.equal(lines.filter((l) => l[0] === '-').length, t.result!.diff_stats.deletions, name);
    for (const f of files) {
      // Each side rebuilt from the hunks holds their context lines and its own changed lines
      // (plus the gap markers; astropy's recorded diff ends one line short of its hunk header).
      const sides = diffSides(f);
      const gaps = sides.left.split('\n').filter((l) => l === '…').length;
      const hunkLines = f.hunks.flatMap((h) => h.lines);
      assert.equal(sides.left.split('\n').length - 1 - gaps, hunkLines.filter((l) => l[0] === ' ' || l[0] === '-').length, `${name} ${f.newPath}`);
      assert.equal(sides.right.split('\n').length - 1 - gaps, hunkLines.filter((l) => l[0] === ' ' || l[0] === '+').length, `${name} ${f.newPath}`);
      assert.equal(gaps, f.hunks.length - (f.hunks[0]!.oldStart <= 1 && f.hunks[0]!.newStart <= 1 ? 1 : 0), `${name} ${f.newPath}: one gap per hunk after line 1`);
    }
  }
});

test('plain `diff -u` output with timestamps, CRLF lines, a clipped last hunk, and lines like headers inside hunks', () => {
  const text = [
    '--- a.txt\t2024-01-01 10:00:00.000000000 +0000',
    '+++ b.txt\t2024-01-02 10:00:00.000000000 +0000',
    '@@ -1,3 +1,3 @@\r',
    ' keep\r',
    '--- looks like a header',
    '+++ looks like one too',
    ' end',
    '--- c.txt',
    '+++ c.txt',
    '@@ -5,4 +5,5 @@',
    ' five',
    '-six',
  ].join('\n');
  const files = parseUnifiedDiff(text);
  assert.deepEqual(files.map((f) => [f.oldPath, f.newPath]), [['a.txt', 'b.txt'], ['c.txt', 'c.txt']]);
  assert.deepEqual(files[0]!.hunks[0]!.lines, [' keep', '--- looks like a header', '+++ looks like one too', ' end']);
  assert.deepEqual(files[1]!.hunks[0]!.lines, [' five', '-six'], 'a hunk cut short keeps what it has');
  assert.deepEqual(diffSides(files[0]!), { left: 'keep\n-- looks like a header\nend\n', right: 'keep\n++ looks like one too\nend\n' });
  assert.deepEqual(diffSides(files[1]!), { left: '…\nfive\nsix\n', right: '…\nfive\n' });
  assert.equal(findDiffFile(files, 'b.txt'), files[0]);
  assert.equal(findDiffFile(files, 'a.txt'), files[0]);
  assert.equal(findDiffFile(files, 'z.txt'), undefined);
  assert.deepEqual(parseUnifiedDiff(''), []);
});

test('git C-quoted paths unquote to UTF-8', () => {
  assert.equal(unquote('"a/caf\\303\\251 \\"x\\"\\t.txt"'), 'a/café "x"\t.txt');
  assert.equal(unquote('plain/path'), 'plain/path');
});

test('clipping never splits a surrogate pair; line clipping ends on a whole line', () => {
  assert.deepEqual(clipText('ab😀cd', 3), { text: 'ab', length: 6 });
  assert.deepEqual(clipText('ab😀cd', 4), { text: 'ab😀', length: 6 });
  assert.deepEqual(clipText('abc', 0), { text: 'abc', length: 3 });
  assert.deepEqual(clipText('abc', 3), { text: 'abc', length: 3 });
  assert.deepEqual(clipText('\ud800x', 1), { text: '', length: 2 }, 'a lone high surrogate at the cut is dropped too');
  assert.deepEqual(clipLines('one\ntwo\nthree\n', 10), { text: 'one\ntwo\n', length: 14 });
  assert.deepEqual(clipLines('abcdefgh', 4), { text: 'abcd', length: 8 });
});
