/**
 * Code actions of the tasks.jsonl language as pure functions, and the SWE-bench / SWE-smith
 * conversion against the real instances in /work/shared/fixtures/foreign (read in place).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CodeAction, TextEdit } from 'vscode-languageserver';
import { isSweInstance, sweBenchImage, sweInstanceToTask, sweSource, testList } from '../../server/src/import/sweInstance';
import { propertyRemoval, provideCodeActions, schemaKeysAt } from '../../server/src/language/codeActions';
import { computeDiagnostics } from '../../server/src/language/diagnostics';
import { TaskDocument } from '../../server/src/language/taskDocument';
import { slugFromPrompt, uniqueTaskId } from '../../server/src/language/taskIds';
import { checkTaskLine } from '../../server/src/tasks/reader';

const FOREIGN = '/work/shared/fixtures/foreign';
const URI = 'file:///work/t/tasks.jsonl';

function actions(lines: string[], line: number): CodeAction[] {
  const doc = new TaskDocument(URI, 1, lines.join('\n'));
  const diagnostics = computeDiagnostics(doc, { repoProblem: () => undefined, imageStatus: () => 'unknown', dockerHostName: 'local' }).filter((d) => d.range.start.line === line);
  return provideCodeActions(doc, { start: { line, character: 0 }, end: { line, character: 0 } }, { diagnostics });
}

/** The line after applying an action's edits (all on that line). */
function applied(lines: string[], line: number, action: CodeAction | undefined): string {
  assert.ok(action, 'no such action');
  const edits = [...(action.edit!.changes![URI] as TextEdit[])].sort((a, b) => b.range.start.character - a.range.start.character);
  let text = lines[line]!;
  for (const e of edits) {
    assert.equal(e.range.start.line, line);
    assert.equal(e.range.end.line, line);
    text = text.slice(0, e.range.start.character) + e.newText + text.slice(e.range.end.character);
  }
  return text;
}

const valid = (line: string) => {
  const c = checkTaskLine(line);
  return c.kind === 'object' && c.problems.length === 0;
};

test('unknown key: rename to the key it is a typo of, or remove it with its comma, keeping the layout', () => {
  const lines = ['{"task_id": "a",  "descriptoin": "x", "eval": ["true"]}'];
  const acts = actions(lines, 0);
  assert.deepEqual(
    acts.map((a) => [a.title, a.kind, a.isPreferred, a.diagnostics?.map((d) => d.code)]),
    [
      ['Rename "descriptoin" to "description"', 'quickfix', true, ['unknown-key']],
      ['Remove unknown key "descriptoin"', 'quickfix', undefined, ['unknown-key']],
    ],
  );
  assert.equal(applied(lines, 0, acts[0]), '{"task_id": "a",  "description": "x", "eval": ["true"]}');
  assert.equal(applied(lines, 0, acts[1]), '{"task_id": "a",  "eval": ["true"]}');
});

test('nested unknown keys are renamed to the keys of their own object; the last key is removed with the comma before it', () => {
  const lines = ['{"task_id": "a", "description": "x", "eval": {"commands": ["true"], "timeuot": 5}, "workspace": {"repo": "r", "base_comit": "HEAD"}}'];
  const acts = actions(lines, 0);
  assert.deepEqual(
    acts.map((a) => a.title),
    ['Rename "timeuot" to "timeout"', 'Remove unknown key "timeuot"', 'Rename "base_comit" to "base_commit"', 'Remove unknown key "base_comit"'],
  );
  assert.equal(applied(lines, 0, acts[1]), '{"task_id": "a", "description": "x", "eval": {"commands": ["true"]}, "workspace": {"repo": "r", "base_comit": "HEAD"}}');
  assert.equal(applied(lines, 0, acts[0]), lines[0]!.replace('"timeuot"', '"timeout"'));
  assert.equal(applied(lines, 0, acts[2]), lines[0]!.replace('"base_comit"', '"base_commit"'));
});

test('no rename is offered when the suggested key is already there', () => {
  const acts = actions(['{"task_id": "a", "description": "x", "descripton": "y", "eval": ["true"]}'], 0);
  assert.deepEqual(acts.map((a) => a.title), ['Remove unknown key "descripton"']);
});

test('propertyRemoval: first, middle, last and only property', () => {
  const t = '{"a": 1, "b": [1, {"x": 2}], "c": "}"}';
  const cut = (key: string, pathTo: (string | number)[] = [], text = t) => {
    const s = propertyRemoval(text, pathTo, key)!;
    return text.slice(0, s.offset) + text.slice(s.offset + s.length);
  };
  assert.equal(cut('a'), '{"b": [1, {"x": 2}], "c": "}"}');
  assert.equal(cut('b'), '{"a": 1, "c": "}"}');
  assert.equal(cut('c'), '{"a": 1, "b": [1, {"x": 2}]}');
  assert.equal(cut('x', ['b', 1]), '{"a": 1, "b": [1, {}], "c": "}"}');
  assert.equal(propertyRemoval(t, [], 'zz'), undefined);
});

test('schemaKeysAt: the task keys, a nested object, the object branch of eval', () => {
  assert.ok(schemaKeysAt([]).includes('task_id'));
  assert.deepEqual(schemaKeysAt(['workspace']), ['repo', 'base_commit', 'path', 'in_image']);
  assert.deepEqual(schemaKeysAt(['eval']), ['commands', 'FAIL_TO_PASS', 'PASS_TO_PASS', 'answer', 'answer_pattern', 'url_matches', 'page_contains', 'timeout', 'harness', 'log_parser', 'files', 'restore', 'env', 'resets']);
  assert.deepEqual(schemaKeysAt(['metadata']), []);
});

test('a missing task_id is generated from the prompt, unique in the file', () => {
  const lines = ['{"task_id": "fix-the-median", "description": "x", "eval": ["true"]}', '{"description": "Fix the median!", "eval": ["true"]}', '{}'];
  const gen = actions(lines, 1).find((a) => a.title.startsWith('Generate'));
  assert.equal(gen?.title, 'Generate a unique task_id ("fix-the-median-2")');
  assert.deepEqual(gen?.diagnostics?.map((d) => d.code), ['missing-key']);
  const fixed = applied(lines, 1, gen);
  assert.equal(fixed, '{"task_id": "fix-the-median-2", "description": "Fix the median!", "eval": ["true"]}');
  assert.ok(valid(fixed));
  assert.equal(applied(lines, 2, actions(lines, 2).find((a) => a.title.startsWith('Generate'))), '{"task_id": "task"}');
  // An empty or non-string task_id is replaced in place.
  const empty = ['{"task_id": "", "description": "Say hi", "eval": ["true"]}'];
  assert.equal(applied(empty, 0, actions(empty, 0).find((a) => a.title.startsWith('Generate'))), '{"task_id": "say-hi", "description": "Say hi", "eval": ["true"]}');
});

test('a duplicate task_id is renamed to the first free suffix, on either line', () => {
  const lines = ['{"task_id": "d", "description": "x", "eval": ["true"]}', '{"task_id": "d-2", "description": "x", "eval": ["true"]}', '{"task_id": "d", "description": "y", "eval": ["true"]}'];
  for (const line of [0, 2]) {
    const rename = actions(lines, line).find((a) => a.title.startsWith('Rename duplicate'));
    assert.equal(rename?.title, 'Rename duplicate task_id to "d-3"');
    assert.deepEqual(rename?.diagnostics?.map((d) => d.code), ['duplicate-task-id']);
    assert.equal(applied(lines, line, rename), lines[line]!.replace('"d"', '"d-3"'));
  }
  assert.deepEqual(actions(lines, 1), [], 'a unique, valid task without a solution has no action');
});

test('validate with gold: a client command with the tasks file and the task id, only for valid tasks with a solution', () => {
  const lines = ['{"task_id": "g", "description": "x", "eval": ["true"], "solution": {"commands": ["true"]}}', '{"task_id": "h", "description": "x", "eval": ["true"], "solution": {"commands": ["true"]}, "max_steps": 0}'];
  assert.deepEqual(actions(lines, 0), [
    { title: 'Validate task with gold solution', kind: '', command: { title: 'Validate task with gold solution', command: 'trajlab.validateTaskWithGold', arguments: [{ tasksFile: '/work/t/tasks.jsonl', taskId: 'g' }] } },
  ]);
  assert.ok(!actions(lines, 1).some((a) => a.command));
  const untitled = new TaskDocument('untitled:Untitled-1', 1, lines[0]!);
  assert.deepEqual(provideCodeActions(untitled, { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, { diagnostics: [] }), []);
});

test('context.only filters by kind', () => {
  const lines = ['{"task_id": "a", "descriptoin": "x", "eval": ["true"], "solution": {"patch": ""}}'];
  const doc = new TaskDocument(URI, 1, lines.join('\n'));
  const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  assert.equal(provideCodeActions(doc, range, { diagnostics: [], only: ['quickfix'] }).length, 2);
  assert.equal(provideCodeActions(doc, range, { diagnostics: [], only: ['refactor'] }).length, 0);
});

test('every SWE-bench instance of the fixtures converts into a valid task (lists as lists and as JSON strings)', () => {
  const instances = [
    ...(JSON.parse(fs.readFileSync(path.join(FOREIGN, 'swebench.instances.json'), 'utf8')) as Record<string, unknown>[]),
    ...(JSON.parse(fs.readFileSync(path.join(FOREIGN, 'swebench.pydicom__pydicom-1458.instances.json'), 'utf8')) as Record<string, unknown>[]),
  ];
  assert.equal(instances.length, 6);
  for (const inst of instances) {
    for (const variant of [inst, { ...inst, FAIL_TO_PASS: JSON.stringify(inst.FAIL_TO_PASS), PASS_TO_PASS: JSON.stringify(inst.PASS_TO_PASS) }]) {
      assert.ok(isSweInstance(variant));
      assert.equal(sweSource(variant), 'swe-bench');
      const task = sweInstanceToTask(variant);
      const line = JSON.stringify(task);
      assert.ok(valid(line), `${inst.instance_id}: ${JSON.stringify(checkTaskLine(line))}`);
      assert.equal(task.task_id, inst.instance_id);
      assert.equal(task.task_type, 'swe');
      assert.equal(task.description, inst.problem_statement);
      assert.equal(task.image, sweBenchImage(inst.instance_id as string));
      assert.deepEqual(task.workspace, { path: '/testbed', in_image: true, base_commit: inst.base_commit });
      assert.deepEqual(task.solution, { patch: inst.patch });
      const ev = task.eval as { commands: string[]; FAIL_TO_PASS: string[]; PASS_TO_PASS: string[]; harness: string };
      assert.deepEqual(ev.FAIL_TO_PASS, inst.FAIL_TO_PASS);
      assert.deepEqual(ev.PASS_TO_PASS ?? [], inst.PASS_TO_PASS);
      // Graded as the SWE-bench harness grades it (the script itself: test/unit/sweBenchHarness.test.ts).
      assert.equal(ev.harness, 'swe-bench');
      assert.ok(ev.commands.includes(": '>>>>> Start Test Output'"));
      assert.equal((task.metadata as { source: string }).source, 'swe-bench');
    }
  }
  assert.equal(sweBenchImage('django__django-16255'), 'swebench/sweb.eval.x86_64.django_1776_django-16255:latest');
});

test('the SWE-smith instance converts with its image, the repository in it, graded as SWE-smith grades it, the bug patch reversed as the gold solution', () => {
  const inst = JSON.parse(fs.readFileSync(path.join(FOREIGN, 'swesmith.instance.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(sweSource(inst), 'swe-smith');
  const task = sweInstanceToTask(inst);
  assert.ok(valid(JSON.stringify(task)));
  assert.equal(task.image, inst.image_name);
  assert.deepEqual(task.workspace, { path: '/testbed', in_image: true });
  assert.deepEqual(task.solution, { commands: [`git apply -R -v - <<'TRAJLAB_BUG_PATCH'\n${inst.patch}${(inst.patch as string).endsWith('\n') ? '' : '\n'}TRAJLAB_BUG_PATCH`] });
  const ev = task.eval as { harness: string; commands: string[]; FAIL_TO_PASS: string[] };
  assert.equal(ev.harness, 'swe-smith');
  assert.deepEqual(ev.FAIL_TO_PASS, inst.FAIL_TO_PASS);
  // The eval script itself is checked command for command in sweSmithHarness.test.ts.
  assert.equal(ev.commands.at(-1), ": '>>>>> End Test Output'");
});

test('the conversion code action replaces the instance line; an id already used gets a suffix', () => {
  const inst = JSON.parse(fs.readFileSync(path.join(FOREIGN, 'swesmith.instance.json'), 'utf8')) as Record<string, unknown>;
  const lines = [`{"task_id": ${JSON.stringify(inst.instance_id)}, "description": "x", "eval": ["true"]}`, JSON.stringify(inst)];
  const acts = actions(lines, 1);
  assert.deepEqual(acts.map((a) => [a.title, a.isPreferred]), [['Convert this SWE-smith instance into a TrajLab task', true]]);
  const converted = applied(lines, 1, acts[0]);
  assert.ok(valid(converted));
  assert.equal(JSON.parse(converted).task_id, `${inst.instance_id}-2`);
});

test('the conversion refuses what is not an instance; test lists accept JSON strings', () => {
  assert.throws(() => sweInstanceToTask({ task_id: 'a' }), /not a SWE-bench \/ SWE-smith instance/);
  assert.deepEqual(testList('["a", "b"]'), ['a', 'b']);
  assert.deepEqual(testList(['a', 1]), ['a']);
  assert.deepEqual(testList(undefined), []);
});

test('task id helpers: slugs from prompts, unique suffixes', () => {
  assert.equal(slugFromPrompt('Fix the median() of unsorted lists, please'), 'fix-the-median-of-unsorted');
  assert.equal(slugFromPrompt('修复 日期 解析'), '修复-日期-解析');
  assert.equal(slugFromPrompt('!!!'), 'task');
  const ids = new Set(['task-1', 'x', 'x-2']);
  const set = { hasId: (id: string) => ids.has(id) };
  assert.equal(uniqueTaskId(set, 'task'), 'task-2');
  assert.equal(uniqueTaskId(set, 'x', false), 'x-3');
  assert.equal(uniqueTaskId(set, 'y', false), 'y');
});
