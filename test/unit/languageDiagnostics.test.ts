/**
 * Diagnostics of the tasks.jsonl language as pure functions: one line's analysis (syntax,
 * schema, missing eval), a document's diagnostics (duplicates with related information, the
 * repository and image checks), the image catalog's reference matching and caching, and the
 * repository check.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { computeDiagnostics, MAX_DIAGNOSTICS, type EnvironmentChecks } from '../../server/src/language/diagnostics';
import { hasImage, ImageCatalog, imageRefs, normalizeImageRef, type ImageSummary } from '../../server/src/language/imageCatalog';
import { findTopLevelProperty } from '../../server/src/language/jsonLine';
import { analyzeLine } from '../../server/src/language/lineAnalysis';
import { RepoCheck } from '../../server/src/language/repoCheck';
import { TaskDocument } from '../../server/src/language/taskDocument';
import { silentLogger } from '../../server/src/util/log';

const noEnv: EnvironmentChecks = { repoProblem: () => undefined, imageStatus: () => 'unknown', dockerHostName: 'local' };

function problems(text: string) {
  return analyzeLine(text).problems.map((p) => ({ code: p.code, at: text.slice(p.offset, p.offset + p.length), message: p.message, severity: p.severity }));
}

test('a valid line has no problem and keeps the fields the other checks need', () => {
  const a = analyzeLine('{"task_id": "a", "task_type": "swe", "description": "x", "image": "python:3", "workspace": {"repo": "r"}, "eval": {"FAIL_TO_PASS": ["t"]}, "solution": {"patch": ""}}');
  assert.deepEqual(a, { kind: 'object', problems: [], valid: true, taskId: 'a', taskType: 'swe', image: 'python:3', repo: 'r', hasSolution: true });
});

test('syntax errors point at the error; a byte order mark shifts nothing', () => {
  assert.deepEqual(problems('{"task_id": "a", "description": "x",}'), [{ code: 'invalid-json', at: '}', message: 'invalid JSON: property name expected', severity: 'error' }]);
  assert.deepEqual(problems('\ufeff{"task_id": "a", "description": "x",}'), [{ code: 'invalid-json', at: '}', message: 'invalid JSON: property name expected', severity: 'error' }]);
  assert.deepEqual(problems('[1, 2]'), [{ code: 'not-an-object', at: '[1, 2]', message: 'a task must be a JSON object (got an array)', severity: 'error' }]);
  assert.equal(analyzeLine('  // {"task_id": broken').kind, 'skip');
});

test('schema problems sit on the offending key or value', () => {
  const line = '{"task_id": "a", "descripton": "x", "eval": ["true"], "task_type": "sw", "timeout": 0, "resources": {"cpu": 2}}';
  assert.deepEqual(problems(line), [
    { code: 'schema', at: line, message: 'a task needs a "description" (or "problem_statement")', severity: 'error' },
    { code: 'unknown-key', at: '"descripton"', message: 'unknown key "descripton" (did you mean "description"?)', severity: 'error' },
    { code: 'schema', at: '"sw"', message: '"task_type" must be one of "code", "swe", "reasoning", "web" (got "sw")', severity: 'error' },
    { code: 'schema', at: '0', message: '"timeout" must be > 0 (got 0)', severity: 'error' },
    { code: 'unknown-key', at: '"cpu"', message: 'unknown key "cpu" in "resources"', severity: 'error' },
  ]);
  const a = analyzeLine(line);
  assert.deepEqual(
    a.problems.filter((p) => p.code === 'unknown-key').map((p) => [p.path, p.key]),
    [
      [[], 'descripton'],
      [['resources'], 'cpu'],
    ],
  );
});

test('a task whose type needs an eval warns when nothing would decide its reward', () => {
  const warn = (line: string) => problems(line).filter((p) => p.code === 'eval-missing');
  assert.deepEqual(warn('{"task_id": "a", "description": "x"}'), [
    { code: 'eval-missing', at: '"task_id"', message: 'a "code" task needs an "eval" with eval commands (exit code 0 = reward 1) or a reward file: without one every attempt gets reward 0', severity: 'warning' },
  ]);
  assert.equal(warn('{"task_id": "a", "task_type": "reasoning", "description": "x", "eval": {"timeout": 5}}')[0]?.at, '"reasoning"');
  assert.deepEqual(warn('{"task_id": "a", "task_type": "swe", "description": "x", "eval": {"FAIL_TO_PASS": ["t"]}}'), []);
  assert.deepEqual(warn('{"task_id": "a", "task_type": "reasoning", "description": "x", "eval": {"answer": "42"}}'), []);
  assert.deepEqual(warn('{"task_id": "a", "task_type": "web", "description": "x"}'), [], 'web tasks need none');
  assert.equal(warn('{"task_id": "a", "description": "x", "eval": []}').length, 1, 'an empty list decides nothing');
  assert.equal(analyzeLine('{"task_id": "a", "description": "x"}').valid, true, 'a warning does not make the task invalid');
});

test('expected_tools: a name that is no tool of the agent (a typo of browser) warns on that name; the tools, the editor alias and browser do not', () => {
  const warn = (line: string) => problems(line).filter((p) => p.code === 'unknown-tool');
  const ok = '{"task_id": "a", "task_type": "web", "description": "x", "expected_tools": ["bash", "str_replace_based_edit", "editor", "submit", "browser"]}';
  assert.deepEqual(warn(ok), []);
  const typo = '{"task_id": "a", "task_type": "web", "description": "x", "expected_tools": ["browser", "browsr", "python_executor"]}';
  assert.deepEqual(warn(typo), [
    { code: 'unknown-tool', at: '"browsr"', message: '"browsr" is not a tool of TrajLab\'s agent (bash, str_replace_based_edit, submit, browser; `editor` for str_replace_based_edit): it is recorded, and offers nothing', severity: 'warning' },
    { code: 'unknown-tool', at: '"python_executor"', message: '"python_executor" is not a tool of TrajLab\'s agent (bash, str_replace_based_edit, submit, browser; `editor` for str_replace_based_edit): it is recorded, and offers nothing', severity: 'warning' },
  ]);
  assert.equal(analyzeLine(typo).valid, true, 'a warning does not make the task invalid');
});

test('a SWE-bench instance line is recognised (for the conversion)', () => {
  assert.equal(analyzeLine('{"instance_id": "o__r-1", "repo": "o/r", "problem_statement": "x", "base_commit": "abc"}').sweInstance, true);
  assert.equal(analyzeLine('{"task_id": "a", "description": "x", "eval": ["true"]}').sweInstance, undefined);
});

test('findTopLevelProperty finds top-level keys only, in one pass, on broken lines too', () => {
  const line = '{"metadata": {"task_id": "inner"}, "task_id": "outer", "s": "a \\"task_id\\": x", "n": 12}';
  const p = findTopLevelProperty(line, 'task_id')!;
  assert.equal(line.slice(p.value.offset, p.value.offset + p.value.length), '"outer"');
  assert.equal(line.slice(p.key.offset, p.key.offset + p.key.length), '"task_id"');
  const n = findTopLevelProperty(line, 'n')!;
  assert.equal(line.slice(n.value.offset, n.value.offset + n.value.length), '12');
  assert.equal(findTopLevelProperty('{"task_id": "cut', 'task_id'), undefined);
  assert.equal(findTopLevelProperty('[1]', 'task_id'), undefined);
  const esc = '{"task\\u005fid": "e"}';
  assert.equal(esc.slice(findTopLevelProperty(esc, 'task_id')!.value.offset).startsWith('"e"'), true);
});

test('duplicates: both lines, each with related information pointing at the other', () => {
  const lines = ['{"task_id": "d", "description": "x", "eval": ["true"]}', '// c', '{"description": "y", "eval": ["true"], "task_id": "d"}', '{"task_id": "d", "description": "z"'];
  const doc = new TaskDocument('file:///t/tasks.jsonl', 1, lines.join('\n'));
  const dups = computeDiagnostics(doc, noEnv).filter((d) => d.code === 'duplicate-task-id');
  assert.deepEqual(
    dups.map((d) => [d.range.start.line, lines[d.range.start.line]!.slice(d.range.start.character, d.range.end.character), d.message, d.relatedInformation!.map((r) => r.location.range.start.line)]),
    [
      [0, '"d"', 'duplicate task_id "d": also on lines 3, 4; task ids must be unique in a file', [2, 3]],
      [2, '"d"', 'duplicate task_id "d": also on lines 1, 4; task ids must be unique in a file', [0, 3]],
      [3, '"d"', 'duplicate task_id "d": also on lines 1, 3; task ids must be unique in a file', [0, 2]],
    ],
  );
});

test('repository and image checks: warnings on the value, only when the check says so', () => {
  const line = '{"task_id": "a", "description": "x", "eval": ["true"], "image": "img:1", "workspace": {"repo": "nope"}}';
  const doc = new TaskDocument('file:///t/tasks.jsonl', 1, line);
  const asked: string[] = [];
  const diags = computeDiagnostics(doc, {
    repoProblem: (r) => (asked.push(r), 'no such folder'),
    imageStatus: (i) => (asked.push(i), 'absent'),
    dockerHostName: 'tcp://h:2376',
  });
  assert.deepEqual(asked, ['nope', 'img:1']);
  assert.deepEqual(
    diags.map((d) => [d.code, d.severity, line.slice(d.range.start.character, d.range.end.character)]),
    [
      ['repo-not-found', 2, '"nope"'],
      ['image-not-found', 2, '"img:1"'],
    ],
  );
  assert.match(diags[1]!.message, /^image "img:1" is not on the Docker host tcp:\/\/h:2376/);
  assert.deepEqual(computeDiagnostics(doc, { ...noEnv, imageStatus: () => 'unknown' }), [], 'unknown (host unreachable): no warning');
  assert.deepEqual(computeDiagnostics(doc, { ...noEnv, imageStatus: () => 'present' }), []);
});

test('at most MAX_DIAGNOSTICS are published, then one line says how many more there are', () => {
  const doc = new TaskDocument('file:///t/tasks.jsonl', 1, Array.from({ length: MAX_DIAGNOSTICS + 5 }, () => '{').join('\n'));
  const diags = computeDiagnostics(doc, noEnv);
  assert.equal(diags.length, MAX_DIAGNOSTICS + 1);
  assert.match(diags.at(-1)!.message, /^5 more problems are not shown/);
});

test('image references are compared the way Docker names them', () => {
  assert.equal(normalizeImageRef('python'), 'python:latest');
  assert.equal(normalizeImageRef('docker.io/library/python:3.12'), 'python:3.12');
  assert.equal(normalizeImageRef('localhost:5000/team/img'), 'localhost:5000/team/img:latest');
  assert.equal(normalizeImageRef('ghcr.io/o/i@sha256:abc'), 'ghcr.io/o/i@sha256:abc');
  const id = 'sha256:' + 'f5cd8f7c001c'.padEnd(64, '0');
  const refs = imageRefs([
    { Id: id, RepoTags: ['trajlab/sandbox:1', 'python:latest'], RepoDigests: ['python@sha256:0123'] },
    { Id: 'sha256:' + 'a'.repeat(64), RepoTags: ['<none>:<none>'] },
  ]);
  for (const yes of ['trajlab/sandbox:1', 'docker.io/trajlab/sandbox:1', 'python', 'library/python:latest', 'python@sha256:0123', 'f5cd8f7c001c', id]) assert.ok(hasImage(refs, yes), yes);
  for (const no of ['trajlab/sandbox:2', 'trajlab/sandbox', 'python:3', 'aaaaaaaaaaab']) assert.ok(!hasImage(refs, no), no);
});

test('the image catalog lists a host once per minute, lazily, and stays quiet when the host is unreachable', async () => {
  let now = 0;
  let calls = 0;
  let fail = false;
  const lister = async (): Promise<ImageSummary[]> => {
    calls++;
    if (fail) throw new Error('connect ENOENT /var/run/docker.sock');
    return [{ Id: 'sha256:1', RepoTags: ['a:1'] }];
  };
  const catalog = new ImageCatalog(silentLogger, lister, () => now);
  assert.equal(calls, 0, 'nothing listed before it is needed');
  let again = 0;
  const whenListed = () => again++;
  assert.equal(catalog.status('a:1', undefined, whenListed), 'unknown');
  assert.equal(catalog.status('b:1', undefined, whenListed), 'unknown');
  assert.equal(calls, 1);
  await catalog.tags(undefined);
  assert.equal(again, 1, 'the caller is told once that the list arrived');
  assert.equal(catalog.status('a:1', undefined), 'present');
  assert.equal(catalog.status('b:1', undefined), 'absent');
  now += 59_000;
  catalog.status('a:1', undefined);
  assert.equal(calls, 1, 'reused within 60 s');
  now += 2_000;
  fail = true;
  assert.equal(catalog.status('a:1', undefined), 'present', 'the old list answers while the new one is asked for');
  assert.equal(calls, 2, 'asked again after 60 s');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(await catalog.tags(undefined), []);
  assert.equal(catalog.status('b:1', undefined), 'unknown', 'unreachable: no verdict, so no warning');
  assert.equal(catalog.status('b:1', 'tcp://other:2375'), 'unknown', 'each host has its own list');
  assert.equal(calls, 3);
});

test('the repository check resolves relative paths against the tasks file folder and caches each path for 5 s', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-repo-'));
  try {
    fs.mkdirSync(path.join(dir, 'repos', 'here'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'file'), '');
    let now = 0;
    const check = new RepoCheck(() => now);
    assert.equal(check.problem('repos/here', dir), undefined);
    assert.equal(check.problem(path.join(dir, 'repos', 'here'), undefined), undefined);
    assert.equal(check.problem('https://github.com/o/r.git', dir), undefined, 'git URLs are not checked');
    assert.equal(check.problem('git@github.com:o/r.git', dir), undefined);
    assert.equal(check.problem('relative/without/folder', undefined), undefined, 'an untitled document cannot resolve it');
    assert.match(check.problem('file', dir)!, /^workspace\.repo "file" does not exist/, 'a file is not a repository folder');
    assert.match(check.problem(`file://${dir}/gone`, dir)!, /gone/);
    const missing = check.problem('repos/later', dir);
    assert.match(missing!, /^workspace\.repo "repos\/later" does not exist \(looked for the folder .*repos\/later\)/);
    fs.mkdirSync(path.join(dir, 'repos', 'later'));
    assert.ok(check.problem('repos/later', dir), 'cached');
    now += 5_001;
    assert.equal(check.problem('repos/later', dir), undefined, 'checked again after 5 s');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
