import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunEngine } from '../../server/src/run/engine';
import { silentLogger } from '../../server/src/util/log';
import { containersOfRun, readTrajectory, tempDir } from '../helpers/engineHelpers';
import { gitIn, makeVersionRepo } from '../helpers/gitRepos';

test('workspace.repo as a local git repository and as a file:// git URL is checked out at base_commit, and the diff is against it (gold policy, real git and Docker)', { timeout: 120_000 }, async () => {
  const tmp = tempDir('gitrepo');
  try {
    const repoDir = path.join(tmp.dir, 'repo');
    const { base } = makeVersionRepo(repoDir);
    const task = (task_id: string, repo: string) => ({
      task_id,
      description: 'bump the version',
      workspace: { repo, base_commit: base },
      solution: { commands: ["sed -i 's/v1/v1.1/' version.txt"] },
      // Passes only when the tree started at v1 (base_commit), not at HEAD (v2).
      eval: ['grep -qx v1.1 version.txt', 'git log --oneline | wc -l | grep -qx 1'],
    });
    const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
    fs.writeFileSync(tasksFile, [task('local', 'repo'), task('url', `file://${repoDir}`)].map((t) => JSON.stringify(t)).join('\n') + '\n');
    const engine = new RunEngine({ tasksFile, model: 'gold', out: path.join(tmp.dir, 'out'), workers: 2 }, { logger: silentLogger });
    const report = await engine.run();
    assert.deepEqual(report.ids_resolved.sort(), ['local', 'url']);
    for (const id of ['local', 'url']) {
      const t = readTrajectory(engine.store.trajectoryPath(id, 1));
      assert.match(t.result!.diff, /^-v1$/m);
      assert.match(t.result!.diff, /^\+v1\.1$/m);
      assert.deepEqual(t.result!.diff_stats.files, [{ path: 'version.txt', insertions: 1, deletions: 1, binary: false }]);
    }
    assert.ok(fs.readdirSync(path.join(tmp.dir, 'out', 'cache', 'repos')).length === 1, 'the URL was cloned once into the cache');
    assert.deepEqual(await containersOfRun(engine.runId), []);
  } finally {
    tmp.cleanup();
  }
});

test('an unknown base_commit fails that task with a message naming it, and the others still run (gold policy)', { timeout: 60_000 }, async () => {
  const tmp = tempDir('badcommit');
  try {
    makeVersionRepo(path.join(tmp.dir, 'repo'));
    const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
    fs.writeFileSync(
      tasksFile,
      [
        { task_id: 'bad', description: 'x', workspace: { repo: 'repo', base_commit: 'deadbeef' }, solution: { commands: ['true'] }, eval: ['true'] },
        { task_id: 'missing-dir', description: 'x', workspace: { repo: 'nope' }, solution: { commands: ['true'] }, eval: ['true'] },
        { task_id: 'good', description: 'x', workspace: { repo: 'repo' }, solution: { commands: ['true'] }, eval: ['grep -qx v2 version.txt'] },
      ]
        .map((t) => JSON.stringify(t))
        .join('\n') + '\n',
    );
    const engine = new RunEngine({ tasksFile, model: 'gold', out: path.join(tmp.dir, 'out'), workers: 3 }, { logger: silentLogger });
    const report = await engine.run();
    assert.deepEqual(report.ids_resolved, ['good']);
    assert.deepEqual(report.ids_error.sort(), ['bad', 'missing-dir']);
    assert.match(readTrajectory(engine.store.trajectoryPath('bad', 1)).result!.error!, /workspace.base_commit "deadbeef" is not in repo/);
    assert.match(readTrajectory(engine.store.trajectoryPath('missing-dir', 1)).result!.error!, /workspace.repo "nope" is not a directory/);
  } finally {
    tmp.cleanup();
  }
});

/** Runs git in `dir` with a fixed identity; returns its trimmed stdout. */
/** Makes `dir` a git repository with one commit of `files` (name → content) and `links` (name → target text); returns its HEAD. */
function commitRepo(dir: string, files: Record<string, string>, links: Record<string, string> = {}): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  for (const [name, target] of Object.entries(links)) fs.symlinkSync(target, path.join(dir, name));
  gitIn(dir, 'init', '-q');
  gitIn(dir, 'add', '-A');
  gitIn(dir, 'commit', '-qm', 'base');
  return gitIn(dir, 'rev-parse', 'HEAD');
}

/** Runs `tasks` (written to `<dir>/tasks.jsonl`) with the gold policy and one worker; returns the engine and its report. */
async function runGold(dir: string, tasks: object[], options: { maxDiffFileBytes?: number } = {}) {
  const tasksFile = path.join(dir, 'tasks.jsonl');
  fs.writeFileSync(tasksFile, tasks.map((t) => JSON.stringify(t)).join('\n') + '\n');
  const engine = new RunEngine({ tasksFile, model: 'gold', out: path.join(dir, 'out'), workers: 1, ...options }, { logger: silentLogger });
  return { engine, report: await engine.run() };
}

test('a repository with an absolute symlink and a relative link out of it, and a solution that adds links, a hard link and a venv: resolved, and the diff shows the links as git does (real git and Docker)', { timeout: 180_000 }, async () => {
  const tmp = tempDir('links');
  try {
    commitRepo(path.join(tmp.dir, 'repo'), { a: 'x\n' }, { l: '/etc/hostname', up: '../../outside' });
    const task = {
      task_id: 'links',
      description: 'append y to a',
      workspace: { repo: 'repo', path: '/testbed' },
      // A dangling link made by setup: extracted for the diff base, and never followed.
      setup: ['ln -s /nonexistent/target dangling'],
      solution: {
        commands: [
          'echo y >> a',
          'ln a hard',
          'ln -s /etc/passwd abs && mkdir d && ln -s ../../../x d/up2',
          // The sandbox image's python3 lacks ensurepip: a venv without pip still has the usual links (bin/python → python3 → /usr/bin/python3, lib64 → lib).
          'python3 -m venv --without-pip .venv',
        ],
      },
      eval: ['grep -qx y a', 'test -L l && test -L up && test -L .venv/bin/python', '.venv/bin/python -c "import sys; assert sys.prefix.endswith(\'.venv\')"'],
    };
    const { engine, report } = await runGold(tmp.dir, [task]);
    const t = readTrajectory(engine.store.trajectoryPath('links', 1));
    assert.equal(t.result!.error, undefined);
    assert.deepEqual(report.ids_resolved, ['links']);
    const diff = t.result!.diff;
    // A link is its target text (mode 120000), as `git diff` shows it; the host's /etc/passwd is never read.
    assert.match(diff, /^diff --git a\/abs b\/abs\nnew file mode 120000\n.*\n--- \/dev\/null\n\+\+\+ b\/abs\n@@ -0,0 \+1 @@\n\+\/etc\/passwd\n\\ No newline at end of file$/m);
    assert.match(diff, /^diff --git a\/d\/up2 b\/d\/up2\nnew file mode 120000\n[^]*?\n\+\.\.\/\.\.\/\.\.\/x\n/m);
    assert.match(diff, /^diff --git a\/\.venv\/bin\/python b\/\.venv\/bin\/python\nnew file mode 120000\n[^]*?\n\+python3\n/m);
    assert.match(diff, /^diff --git a\/hard b\/hard\nnew file mode 100644\n[^]*?\n\+x\n\+y\n/m);
    assert.match(diff, /^\+y$/m);
    assert.doesNotMatch(diff, /root:/, 'no link target was followed on the host');
    // The shipped links came back unchanged, and setup's dangling link is part of the diff base.
    const paths = t.result!.diff_stats.files.map((f) => f.path);
    for (const p of ['l', 'up', 'dangling']) assert.ok(!paths.includes(p), `${p} is not in the diff`);
    assert.ok(paths.includes('a') && paths.includes('hard') && paths.includes('abs') && paths.includes('d/up2'));
    assert.deepEqual(await containersOfRun(engine.runId), []);
  } finally {
    tmp.cleanup();
  }
});

test('a gitdir: file, a .git link and a nested repository in the agent\'s tree never make host git read a host repository (real git and Docker)', { timeout: 120_000 }, async () => {
  const tmp = tempDir('gitdir');
  try {
    // A host repository whose HEAD and content must not reach the diff.
    const hostRepo = path.join(tmp.dir, 'host-secret');
    const hostHead = commitRepo(hostRepo, { 'secret.txt': 'host secret content\n' });
    const hostGitDir = path.join(hostRepo, '.git');
    const task = (task_id: string, commands: string[]) => ({ task_id, description: 'x', solution: { commands }, eval: ['true'] });
    const tasks = [
      // The case: a `gitdir:` file naming a host repository.
      task('gitdir', [`mkdir sub && printf 'gitdir: %s\\n' '${hostGitDir}' > sub/.git && echo mine > sub/f`]),
      task('others', [
        `mkdir sub2 && ln -s '${hostGitDir}' sub2/.git && echo mine2 > sub2/f`,
        `mkdir sub3 && printf 'gitdir: %s\\n' '${hostGitDir}' > sub3/.GIT && echo mine3 > sub3/f`,
        'mkdir nested && cd nested && git init -q && echo inner > g && git add g && git -c user.name=a -c user.email=a@a commit -qm inner',
      ]),
    ];
    const { engine, report } = await runGold(tmp.dir, tasks);
    const expected: Record<string, string[]> = { gitdir: ['sub/f'], others: ['nested/g', 'sub2/f', 'sub3/f'] };
    for (const id of ['gitdir', 'others']) {
      const t = readTrajectory(engine.store.trajectoryPath(id, 1));
      const diff = t.result!.diff;
      assert.ok(!diff.includes(hostHead), `${id}: the host repository's HEAD is not in the diff`);
      assert.ok(!diff.includes('host secret content'));
      assert.doesNotMatch(diff, /Subproject commit|new file mode 160000/);
      assert.equal(t.result!.error, undefined);
      // The agent's own files in those folders are diffed as plain files; the .git entries are dropped.
      assert.deepEqual(t.result!.diff_stats.files.map((f) => f.path).sort(), expected[id]);
    }
    assert.deepEqual(report.ids_resolved, ['gitdir', 'others']);
  } finally {
    tmp.cleanup();
  }
});

test('the diff is capped: a 50 MB random file, a text file over the cap and a deleted one over it are listed with their sizes, not inlined; small binaries carry their size (real git and Docker)', { timeout: 180_000 }, async () => {
  const tmp = tempDir('diffcap');
  try {
    commitRepo(path.join(tmp.dir, 'repo'), { a: 'x\n', 'large.txt': 'old line\n'.repeat(1000) /* 9000 bytes */, 'keep.dat': 'k'.repeat(3000) });
    const task = {
      task_id: 'cap',
      description: 'x',
      workspace: { repo: 'repo' },
      solution: {
        commands: [
          'echo y >> a',
          'head -c 50000000 /dev/urandom > big.bin',
          "yes 'new text line' | head -c 4000 > medium.txt",
          'rm large.txt',
          "printf '\\000\\001\\002' > small.bin",
        ],
      },
      eval: ['test -f big.bin'],
    };
    const { engine, report } = await runGold(tmp.dir, [task], { maxDiffFileBytes: 1000 });
    const t = readTrajectory(engine.store.trajectoryPath('cap', 1));
    assert.equal(t.result!.error, undefined);
    assert.deepEqual(report.ids_resolved, ['cap']);
    const { diff, diff_stats } = t.result!;
    assert.ok(diff.length < 10_000, `the diff stays small (${diff.length} chars)`);
    assert.match(diff, /^\+y$/m);
    assert.match(diff, /^diff --git a\/small\.bin b\/small\.bin\n/m, 'a binary under the cap is still inlined (--binary)');
    for (const name of ['big.bin', 'medium.txt', 'large.txt']) assert.ok(!diff.includes(`a/${name}`), `${name} is not inlined`);
    const byPath = Object.fromEntries(diff_stats.files.map((f) => [f.path, f]));
    assert.deepEqual(byPath['big.bin'], { path: 'big.bin', insertions: 0, deletions: 0, binary: false, bytes: 50_000_000, omitted: true });
    assert.deepEqual(byPath['medium.txt'], { path: 'medium.txt', insertions: 0, deletions: 0, binary: false, bytes: 4000, omitted: true });
    assert.deepEqual(byPath['large.txt'], { path: 'large.txt', insertions: 0, deletions: 0, binary: false, bytes: 9000, omitted: true });
    assert.deepEqual(byPath['small.bin'], { path: 'small.bin', insertions: 0, deletions: 0, binary: true, bytes: 3 });
    assert.deepEqual(byPath['a'], { path: 'a', insertions: 1, deletions: 0, binary: false });
    assert.equal(byPath['keep.dat'], undefined, 'an unchanged file over the cap is not listed');
    assert.equal(diff_stats.files_changed, 5);
  } finally {
    tmp.cleanup();
  }
});
