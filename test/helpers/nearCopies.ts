/**
 * Planted near-copies for the curation tests and the near-dedup bench: one 30-step SWE-style
 * session (list, read, grep, edit, test, diff) whose copies differ as reruns of one agent on one
 * task do: other paths, other numbers, and one extra command (a grep for a word of its own, at
 * a place of its own: words of its own, so that two copies that put it at the same place still
 * differ in two tokens).
 */
import type { Trajectory } from '../../common/src/trajectory';
import { finishedTrajectory } from './trajectories';

/** A word of letters only (numbers are normalised away), distinct for each i < 26². */
export function word(i: number): string {
  const a = 'abcdefghijklmnopqrstuvwxyz';
  return `helper_${a[i % 26]}${a[Math.floor(i / 26) % 26]}`;
}

/** The 30 commands of copy `i` before its extra command. */
export function baseCommands(i: number): string[] {
  const mod = `src/pkg_${i}/dates_${i}.py`;
  const test = `tests/test_dates_${i}.py`;
  return [
    'ls -la',
    'cat README.md',
    `find . -name "*.py" | head -n ${20 + i}`,
    `cat ${mod}`,
    `grep -n "def parse" ${mod}`,
    `sed -n ${10 + i},${40 + i}p ${mod}`,
    `python -m pytest -q ${test}`,
    `cat ${test}`,
    'grep -rn "parse_date" src/',
    `python -c "from pkg_${i} import dates; print(dates.parse('2024-01-${(i % 28) + 1}'))"`,
    `git log --oneline -n ${5 + (i % 3)}`,
    `git show ${(0xabc1230 + i).toString(16)} --stat`,
    `sed -i 's/fmt = "%d-%m"/fmt = "%Y-%m-%d"/' ${mod}`,
    `python -m pytest -q ${test}`,
    `grep -n "strptime" ${mod}`,
    `sed -n ${50 + i},${70 + i}p ${mod}`,
    `sed -i '${60 + i}s/raise/return None/' ${mod}`,
    `python -m pytest -q ${test} -k leap`,
    `cat > /tmp/check_${i}.py << 'EOF'\nfrom pkg_${i} import dates\nprint(dates.parse("2024-02-29"))\nEOF`,
    `python /tmp/check_${i}.py`,
    `grep -rn "TODO" src/pkg_${i}`,
    `python -m pytest -q tests/ -x`,
    `git diff --stat`,
    `git diff ${mod}`,
    `flake8 ${mod} --max-line-length ${100 + i}`,
    `python -m pytest -q ${test} -k "not slow"`,
    `rm /tmp/check_${i}.py`,
    'git status',
    `python -m pytest -q tests/ --timeout ${60 + i}`,
    'git diff',
  ];
}

/** The diff every copy ends with (the same fix). */
export const NEAR_COPY_DIFF = [
  'diff --git a/src/pkg/dates.py b/src/pkg/dates.py',
  'index 3b18e51..a9c4f02 100644',
  '--- a/src/pkg/dates.py',
  '+++ b/src/pkg/dates.py',
  '@@ -10,7 +10,9 @@ def parse(text):',
  '-    fmt = "%d-%m"',
  '+    fmt = "%Y-%m-%d"',
  '     try:',
  '         return datetime.strptime(text, fmt)',
  '     except ValueError:',
  '-        raise',
  '+        return None',
  '',
].join('\n');

/**
 * Copy `i` of task `taskId`: the base commands with copy i's paths and numbers, and `grep -rn
 * <word(i)> src/ | grep -v <word(i + 338)>` inserted at position (7·i) mod 30; the same diff;
 * reward `reward`. Two copies' estimated Jaccard similarity of actions is ~0.8–0.9.
 */
export function nearCopy(i: number, opts: { taskId?: string; reward?: number; runId?: string } = {}): Trajectory {
  const commands = baseCommands(i);
  commands.splice((7 * i) % 30, 0, `grep -rn ${word(i)} src/ | grep -v ${word(i + 338)}`);
  return finishedTrajectory({ taskId: opts.taskId ?? 'parse-date', attempt: i + 1, runId: opts.runId, actions: [...commands, { kind: 'submit' }], diff: NEAR_COPY_DIFF, reward: opts.reward ?? 0 });
}

/** The 12 commands of another way to the task (reads the docs, writes a new module, runs tox). */
export function otherApproachCommands(i: number): string[] {
  return [
    'pip list',
    'cat setup.cfg',
    'cat docs/usage.rst',
    `tox -e py3${i} -- -q`,
    'python -m venv .venv',
    'ls docs',
    `cat > src/pkg/iso_${word(i)}.py << 'EOF'\nimport re\nISO = re.compile(r"\\d{4}-\\d{2}-\\d{2}")\nEOF`,
    'echo "from .iso import ISO" >> src/pkg/__init__.py',
    `tox -e py3${i} -- -q`,
    'make lint',
    'make docs',
    'git add -A',
  ];
}

/** Another way to the same task: otherApproachCommands(i), then a submit; a diff of its own. */
export function otherApproach(i: number, opts: { taskId?: string; runId?: string } = {}): Trajectory {
  const actions = [...otherApproachCommands(i), { kind: 'submit' as const }];
  return finishedTrajectory({
    taskId: opts.taskId ?? 'parse-date',
    attempt: 100 + i,
    runId: opts.runId,
    actions,
    diff: `diff --git a/src/pkg/iso.py b/src/pkg/iso.py\nnew file mode 100644\n--- /dev/null\n+++ b/src/pkg/iso.py\n@@ -0,0 +1,2 @@\n+import re\n+ISO = re.compile(r"\\d{4}-\\d{2}-\\d{2}")\n`,
    reward: 0,
  });
}
