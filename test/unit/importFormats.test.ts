/**
 * Format detection from content, clear errors for files that are not trajectories, TrajLab's
 * own format passing through, diff stats, and every import validating against the published
 * schema (schemas/trajectory.schema.json).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { detectTrajectoryFormat, readTrajectoryFile, TrajectoryImportError } from '../../server/src/import/trajectoryFile';
import { diffStats } from '../../server/src/import/importHelpers';
import { writeBrowserTrajectory } from '../fixtures/inspect/generate';
import trajectorySchema from '../../schemas/trajectory.schema.json';
import taskSchema from '../../schemas/task.schema.json';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const FOREIGN = path.resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'foreign');
const OURS = path.join(REPO_ROOT, 'test', 'fixtures', 'import');
const TRAJECTORIES = [
  path.join(FOREIGN, 'mini-swe-agent.astropy__astropy-12907.traj.json'),
  path.join(FOREIGN, 'mini-swe-agent.github_issue.traj.json'),
  path.join(FOREIGN, 'swe-agent.pydicom__pydicom-1458.traj'),
  path.join(FOREIGN, 'atif.openhands-hello-world.trajectory.json'),
  path.join(FOREIGN, 'atif.terminus-2-context-summarization.trajectory.json'),
  path.join(OURS, 'mini-swe-agent.textmode.traj.json'),
  path.join(OURS, 'trajlab.calc.trajectory.json'),
];

function tempFile(name: string, content: string): { file: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-import-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return { file, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

test('the format comes from the content, not the file name', async () => {
  const expected = ['mini-swe-agent', 'mini-swe-agent-legacy', 'swe-agent', 'atif', 'atif', 'mini-swe-agent', 'trajlab'];
  for (const [i, f] of TRAJECTORIES.entries()) {
    assert.equal(detectTrajectoryFormat(JSON.parse(fs.readFileSync(f, 'utf8'))).format, expected[i], f);
  }
  // An ATIF file named like a mini-swe-agent one is still ATIF.
  const { file, cleanup } = tempFile('looks-like.traj.json', fs.readFileSync(TRAJECTORIES[3]!, 'utf8'));
  try {
    const t = await readTrajectoryFile(file);
    assert.equal(t.imported_from?.format, 'atif');
  } finally {
    cleanup();
  }
});

test('files that are not trajectories are refused with what was found and what was expected', async () => {
  const cases: [string, string, RegExp][] = [
    ['swebench.instances.json', '', /a list of 5 SWE-bench \/ SWE-smith task instance\(s\), not a trajectory/],
    ['swesmith.instance.json', '', /a SWE-bench \/ SWE-smith task instance, not a trajectory/],
    ['harbor-task.simple-task/task.toml', '', /not valid JSON .*expected a TrajLab trajectory/],
  ];
  for (const [name, , re] of cases) {
    const f = path.join(FOREIGN, name);
    await assert.rejects(readTrajectoryFile(f), (err: Error) => err instanceof TrajectoryImportError && err.message.startsWith(`${f}: `) && re.test(err.message));
  }
  const unknown = tempFile('x.json', JSON.stringify({ hello: 'world', n: 1 }));
  try {
    await assert.rejects(readTrajectoryFile(unknown.file), (err: Error) => {
      assert.match(err.message, /not a trajectory TrajLab can read: found a JSON object with keys hello, n; expected a TrajLab trajectory \(schema_version "trajlab\.trajectory\/1"\), a Harbor ATIF trajectory\.json/);
      assert.match(err.message, /mini-swe-agent \.traj\.json/);
      assert.match(err.message, /SWE-agent \.traj/);
      return true;
    });
  } finally {
    unknown.cleanup();
  }
  const jsonl = tempFile('x.jsonl', '{"a":1}\n{"a":2}\n');
  try {
    await assert.rejects(readTrajectoryFile(jsonl.file), /JSON Lines \(one JSON value per line\), not one trajectory/);
  } finally {
    jsonl.cleanup();
  }
  const broken = tempFile('x.json', '{\n  "schema_version": "ATIF-v1.5",\n  "steps": [1,,2]\n}');
  try {
    await assert.rejects(readTrajectoryFile(broken.file), /not valid JSON at line 3, column 15: ValueExpected/);
  } finally {
    broken.cleanup();
  }
  await assert.rejects(readTrajectoryFile(path.join(FOREIGN, 'no-such-file.json')), /no-such-file\.json: no such file/);
  assert.throws(() => detectTrajectoryFormat({ schema_version: 'ATIF-v2.0', steps: [] }), /an ATIF version TrajLab does not read \(schema_version "ATIF-v2\.0"; expected "ATIF-v1\.x"\)/);
  assert.throws(() => detectTrajectoryFormat({ schema_version: 'trajlab.trajectory/2' }), /written by a newer TrajLab/);
  assert.throws(() => detectTrajectoryFormat([]), /found a JSON array of 0 item\(s\)/);
});

test("TrajLab's own format passes through unchanged", async () => {
  const f = path.join(OURS, 'trajlab.calc.trajectory.json');
  const t = await readTrajectoryFile(f);
  assert.deepEqual(t, JSON.parse(fs.readFileSync(f, 'utf8')));
  assert.equal(t.imported_from, undefined);
});

test("TrajLab's browser actions are read (their page and screenshot kept); a browser action of another shape is refused", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-import-'));
  try {
    const f = writeBrowserTrajectory(dir, 'web.1');
    const t = await readTrajectoryFile(f);
    assert.deepEqual(t, JSON.parse(fs.readFileSync(f, 'utf8')));
    assert.deepEqual(t.steps[1]!.actions[0], { kind: 'browser', action: 'screenshot', args: {}, tool_call_id: 'c1' });
    assert.equal(t.steps[1]!.observations[0]!.browser?.screenshot?.path, 'web.1.assets/step-1-0.png');
    const bad = structuredClone(t) as unknown as { steps: { actions: Record<string, unknown>[] }[] };
    bad.steps[0]!.actions[0]!.action = 'download';
    fs.writeFileSync(f, JSON.stringify(bad));
    await assert.rejects(readTrajectoryFile(f), /steps\[0\]\.actions\[0\]\.action: must be one of "goto", "click"/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('every import validates against schemas/trajectory.schema.json', async () => {
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
  ajv.addSchema(taskSchema);
  const validate = ajv.compile(trajectorySchema);
  for (const f of TRAJECTORIES) {
    const t = await readTrajectoryFile(f);
    const ok = validate(JSON.parse(JSON.stringify(t)));
    assert.ok(ok, `${path.basename(f)}: ${ajv.errorsText(validate.errors)}`);
  }
});

test('diff stats: git and plain unified diffs, new, deleted and binary files, "-- " lines inside hunks', () => {
  const diff = [
    'diff --git a/a.py b/a.py',
    'index 1..2 100644',
    '--- a/a.py',
    '+++ b/a.py',
    '@@ -1,3 +1,3 @@',
    ' x',
    '--- not a header, a removed line "-- not a header"',
    '+++ added',
    ' y',
    'diff --git a/new.txt b/new.txt',
    'new file mode 100644',
    '--- /dev/null',
    '+++ b/new.txt',
    '@@ -0,0 +1,2 @@',
    '+one',
    '+two',
    'diff --git a/gone.txt b/gone.txt',
    'deleted file mode 100644',
    '--- a/gone.txt',
    '+++ /dev/null',
    '@@ -1 +0,0 @@',
    '-bye',
    'diff --git a/img.png b/img.png',
    'Binary files a/img.png and b/img.png differ',
    '',
  ].join('\n');
  assert.deepEqual(diffStats(diff), {
    files_changed: 4,
    insertions: 3,
    deletions: 2,
    files: [
      { path: 'a.py', insertions: 1, deletions: 1, binary: false },
      { path: 'new.txt', insertions: 2, deletions: 0, binary: false },
      { path: 'gone.txt', insertions: 0, deletions: 1, binary: false },
      { path: 'img.png', insertions: 0, deletions: 0, binary: true },
    ],
  });
  const plain = '--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n-a\n+b\n c\n--- a/y.py\n+++ b/y.py\n@@ -5 +5 @@\n-p\n+q';
  assert.deepEqual(diffStats(plain).files, [
    { path: 'x.py', insertions: 1, deletions: 1, binary: false },
    { path: 'y.py', insertions: 1, deletions: 1, binary: false },
  ]);
});
