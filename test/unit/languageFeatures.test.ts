/**
 * Completion, hover, CodeLens, symbols, settings and markdown escaping of the tasks.jsonl
 * language as pure functions (the LSP wiring is tested in test/integration/lsp.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TextEdit } from 'vscode-languageserver';
import type { TaskResult } from '../../common/src/protocol';
import { lastTitle, provideCodeLenses, resolveHistoryLens } from '../../server/src/language/codeLens';
import { provideCompletion, TOOL_NAMES } from '../../server/src/language/completion';
import { provideHover, taskHoverMarkdown } from '../../server/src/language/hover';
import { commandLink, escapeMarkdown } from '../../server/src/language/markdown';
import { mergeSettings } from '../../server/src/language/settings';
import { documentSymbols, matchesQuery, scanTaskSymbols } from '../../server/src/language/symbols';
import { TaskDocument } from '../../server/src/language/taskDocument';
import { safeFileName } from '../../server/src/util/safeName';

const URI = 'file:///w/tasks.jsonl';
const doc = (...lines: string[]) => new TaskDocument(URI, 1, lines.join('\n'));
const noImages = { images: async () => [] as string[] };

function result(over: Partial<TaskResult> = {}): TaskResult {
  return { runId: 'r1', attempt: 1, model: 'openai:gpt-4o', exitStatus: 'submitted', reward: 1, success: true, steps: 14, finishedAt: '2026-11-21T10:15:00.000Z', trajectoryPath: '/o/runs/r1/trajectories/a.1.json', ...over };
}

test('escapeMarkdown turns any text into plain text: no HTML, links, emphasis or code', () => {
  const nasty = '<script>alert(1)</script> *a* _b_ [c](javascript:x) `d` # e\n- f | g ![h](i) &amp; \\';
  const md = escapeMarkdown(nasty);
  assert.ok(!/(^|[^\\])[<>[\]()*_`#|!&]/.test(md), md);
  assert.ok(!md.includes('\n'));
  assert.equal(escapeMarkdown('a'.repeat(600)).length, 500);
  assert.equal(commandLink('Open [x]', 'trajlab.openTrajectory', ['/a b/c.json']), '[Open \\[x\\]](command:trajlab.openTrajectory?%5B%22%2Fa%20b%2Fc.json%22%5D)');
});

test('completion on an empty line offers whole-task snippets with an id unused in the file', async () => {
  const d = doc('{"task_id": "task-1", "description": "x", "eval": ["true"]}', '   ');
  const list = await provideCompletion(d, { line: 1, character: 3 }, noImages);
  assert.deepEqual(list.items.map((i) => i.label), ['New task', 'New SWE task', 'New reasoning task']);
  for (const item of list.items) {
    const edit = item.textEdit as TextEdit;
    assert.deepEqual(edit.range, { start: { line: 1, character: 0 }, end: { line: 1, character: 3 } });
    assert.ok(edit.newText.startsWith('{"task_id": "${1:task-2}"'), edit.newText);
    // With the placeholders filled by their defaults, the snippet is a valid task line.
    const filled = edit.newText.replace(/\$\{\d+:([^}]*)\}/g, '$1');
    assert.doesNotThrow(() => JSON.parse(filled), filled);
  }
});

test('completion of keys comes from the schema, on the edited line, and stays on one line', async () => {
  const d = doc('// c', '{"task_id": "a", }');
  const list = await provideCompletion(d, { line: 1, character: 17 }, noImages);
  const ws = list.items.find((i) => i.label === 'workspace')!;
  assert.deepEqual((ws.textEdit as TextEdit).range, { start: { line: 1, character: 17 }, end: { line: 1, character: 17 } });
  assert.equal((ws.textEdit as TextEdit).newText, '"workspace": {$1}');
  assert.ok(list.items.every((i) => !((i.textEdit as TextEdit | undefined)?.newText ?? '').includes('\n')));
  assert.ok(!list.items.some((i) => i.label === 'task_id'));
});

test('completion in expected_tools offers the agent tools; in image, the host images; in eval, eval shapes', async () => {
  assert.deepEqual(TOOL_NAMES, ['bash', 'str_replace_based_edit', 'submit', 'browser']);
  const line = '{"task_id": "a", "expected_tools": ["ba"], "image": "py", "eval": }';
  const d = doc(line);
  const tools = await provideCompletion(d, { line: 0, character: line.indexOf('"ba"') + 3 }, noImages);
  assert.deepEqual(tools.items.map((i) => i.label), TOOL_NAMES);
  assert.deepEqual((tools.items[0]!.textEdit as TextEdit).range, { start: { line: 0, character: line.indexOf('"ba"') }, end: { line: 0, character: line.indexOf('"ba"') + 4 } });
  let asked = 0;
  const images = await provideCompletion(d, { line: 0, character: line.indexOf('"py"') + 2 }, { images: async () => (asked++, ['python:3.12', 'trajlab/sandbox:1']) });
  assert.equal(asked, 1);
  assert.deepEqual(images.items.map((i) => [i.label, (i.textEdit as TextEdit).newText]), [
    ['python:3.12', '"python:3.12"'],
    ['trajlab/sandbox:1', '"trajlab/sandbox:1"'],
  ]);
  const ev = await provideCompletion(d, { line: 0, character: line.indexOf('"eval": ') + 8 }, noImages);
  assert.ok(ev.items.some((i) => i.label === '{commands, FAIL_TO_PASS, PASS_TO_PASS}'), ev.items.map((i) => i.label).join(', '));
});

test('hover on task_id lists the newest attempts with links; on other keys, the schema description', async () => {
  const line = '{"task_id": "a", "task_type": "swe", "description": "Fix <b>it</b>", "max_steps": 3}';
  const d = doc(line);
  let asked: string | undefined;
  const h = await provideHover(d, { line: 0, character: 13 }, { history: async (id) => ((asked = id), [result(), result({ runId: 'r0', reward: 0, steps: 30, finishedAt: '2026-11-20T09:00:00Z' })]) });
  assert.equal(asked, 'a');
  assert.deepEqual(h?.range, { start: { line: 0, character: 12 }, end: { line: 0, character: 15 } });
  const md = (h!.contents as { value: string }).value;
  assert.equal(
    md,
    [
      '**Task** a · swe',
      '',
      'Fix \\<b\\>it\\<\\/b\\>',
      '',
      '**Last runs** (2 finished attempts, best reward 1.0):',
      '',
      '- 2026\\-11\\-21 10\\:15 UTC · reward 1.0 · 14 steps · submitted · openai\\:gpt\\-4o · run r1 \\#1 · [Open trajectory](command:trajlab.openTrajectory?%5B%22%2Fo%2Fruns%2Fr1%2Ftrajectories%2Fa.1.json%22%5D)',
      '- 2026\\-11\\-20 09\\:00 UTC · reward 0.0 · 30 steps · submitted · openai\\:gpt\\-4o · run r0 \\#1 · [Open trajectory](command:trajlab.openTrajectory?%5B%22%2Fo%2Fruns%2Fr1%2Ftrajectories%2Fa.1.json%22%5D)',
    ].join('\n'),
  );
  const key = await provideHover(d, { line: 0, character: line.indexOf('max_steps') + 1 }, { history: async () => assert.fail('no history for other keys') });
  assert.match(JSON.stringify(key?.contents), /Most model calls the agent may make/);
  assert.equal(await provideHover(doc('{"task_id": broken'), { line: 0, character: 3 }, { history: async () => [] }), null);
  assert.match(taskHoverMarkdown('x', {}, []), /No finished attempt yet\./);
});

test('CodeLens: Generate on valid tasks of file documents, history lenses only for tasks with trajectories, resolved later', () => {
  const d = doc('{"task_id": "a", "description": "x", "eval": ["true"]}', '// c', '{"task_id": "b/../c", "description": "x", "eval": ["true"]}', '{"task_id": "bad", "max_steps": 0}', 'not json');
  const lenses = provideCodeLenses(d, new Set([safeFileName('b/../c')]));
  assert.deepEqual(
    lenses.map((l) => [l.range.start.line, l.command?.title ?? (l.data as { kind: string }).kind]),
    [
      [0, '▶ Generate'],
      [2, '▶ Generate'],
      [2, 'last'],
      [2, 'open'],
    ],
  );
  assert.deepEqual(lenses[0]!.command!.arguments, [{ tasksFile: '/w/tasks.jsonl', taskId: 'a' }]);
  const data = lenses[2]!.data as { kind: 'last'; uri: string; taskId: string };
  assert.deepEqual(data, { kind: 'last', uri: URI, taskId: 'b/../c' });
  assert.deepEqual(resolveHistoryLens(lenses[2]!, data, [result(), result({ reward: 0 })]).command, { title: 'last: reward 1.0, 14 steps (2 attempts)', command: 'trajlab.openTrajectory', arguments: ['/o/runs/r1/trajectories/a.1.json'] });
  assert.deepEqual(resolveHistoryLens(lenses[3]!, lenses[3]!.data, [result()]).command, { title: 'Open trajectory', command: 'trajlab.openTrajectory', arguments: ['/o/runs/r1/trajectories/a.1.json'] });
  assert.deepEqual(resolveHistoryLens(lenses[2]!, data, []).command, { title: 'no finished attempt yet', command: '' });
  assert.equal(lastTitle(result({ reward: 0.25, steps: 1 }), 1), 'last: reward 0.3, 1 step');
  assert.deepEqual(provideCodeLenses(new TaskDocument('untitled:x', 1, '{"task_id": "a", "description": "x", "eval": ["true"]}'), new Set()), [], 'no file to run for an untitled document');
});

test('symbols: one per task (also on a broken line), scanned files, query matching', () => {
  const d = doc('{"task_id": "a", "task_type": "swe", "description": "x"}', '{"task_id": "b", "description": "cut', '// {"task_id": "c"}');
  assert.deepEqual(
    documentSymbols(d).map((s) => [s.name, s.detail, s.selectionRange.start.character, s.selectionRange.end.character]),
    [
      ['a', 'swe', 12, 15],
      ['b', 'code', 12, 15],
    ],
  );
  assert.deepEqual(
    scanTaskSymbols('{"task_id": "x", "task_type": "web"}\r\n{"metadata": {"task_id": "no"}}\n{"task_id": 5}\n{"task_id": "y\\"q"}').map((s) => [s.taskId, s.taskType, s.line]),
    [
      ['x', 'web', 0],
      ['y"q', 'code', 3],
    ],
  );
  assert.ok(matchesQuery('django__django-16255', 'dj16255'));
  assert.ok(matchesQuery('Calc-Py', 'calc'));
  assert.ok(!matchesQuery('calc', 'clacx'));
  assert.ok(matchesQuery('anything', ''));
});

test('settings: DaemonSettings in initializationOptions, under settings.trajlab, or the raw outputFolder setting', () => {
  const base = { out: '/default' };
  assert.deepEqual(mergeSettings(base, { out: '/abs/out', dockerHost: 'tcp://h:2375', defaultImage: 'img' }, '/ws'), { out: '/abs/out', dockerHost: 'tcp://h:2375', defaultImage: 'img' });
  assert.deepEqual(mergeSettings(base, { trajlab: { outputFolder: 'runs-here' } }, '/ws'), { out: '/ws/runs-here' });
  assert.deepEqual(mergeSettings({ out: '/o', dockerHost: 'tcp://h' }, { trajlab: { dockerHost: '' } }, '/ws'), { out: '/o', dockerHost: undefined });
  assert.deepEqual(mergeSettings(base, null, '/ws'), base);
  assert.deepEqual(mergeSettings(base, { trajlab: { out: 42 } }, '/ws'), base, 'wrongly typed fields are ignored');
});
