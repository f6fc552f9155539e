/**
 * Integration tests of the `trajlab` CLI as a user runs it: a real child process
 * (server/src/cli.ts through tsx), the real Docker engine, real git, and the real openai SDK
 * talking to a scripted OpenAI-compatible server on 127.0.0.1 (replies are scripted; tests that
 * use it say so in their names).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunInfo, RunReport } from '../../common/src/run';
import type { Trajectory } from '../../common/src/trajectory';
import { runCli, startCli } from '../helpers/cli';
import { ENGINE_FIXTURES, EXAMPLES_TASKS, REPO_ROOT, containersOfRun, listTree, readJson, readTasks, removeContainersOfRun, tempDir, waitFor, writeLongLineTasksFile } from '../helpers/engineHelpers';
import { bashReply, errorReply, perTask, startScriptedModelServer, submitReply, type Reply } from '../helpers/scriptedModelServer';

/** The environment of the CLI: this one without any model endpoint settings. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^(OPENAI|VLLM|OLLAMA|DEEPSEEK|GEMINI)_/.test(k)) delete env[k];
  return { ...env, ...extra };
}

test('validate prints file:line:col: message for each bad line and exits 1; a clean file exits 0', { timeout: 60_000 }, async () => {
  const rel = path.relative(REPO_ROOT, path.join(ENGINE_FIXTURES, 'malformed.tasks.jsonl'));
  const bad = await runCli(['validate', rel], { timeoutMs: 30_000 });
  assert.equal(bad.code, 1, bad.stderr);
  const lines = bad.stdout.trim().split('\n');
  assert.deepEqual(lines, [
    `${rel}:3:66: invalid JSON: comma expected`,
    `${rel}:4:82: "max_steps" must be an integer (got "ten")`,
    `${rel}:5:12: duplicate task_id "good-answer" (first used on line 2)`,
  ]);
  for (const l of lines) assert.match(l, /^[^:]+:\d+:\d+: \S/);
  assert.match(bad.stderr, /1 task\(s\) valid, 3 line\(s\) rejected/);

  const good = await runCli(['validate', EXAMPLES_TASKS], { timeoutMs: 30_000 });
  assert.equal(good.code, 0, good.stderr);
  assert.equal(good.stdout, '');
  assert.match(good.stderr, /9 task\(s\) valid, 0 line\(s\) rejected/);
});

test('validate: a line over 64 MiB is a line error (file:1:1), never read whole; the next line is checked', { timeout: 120_000 }, async () => {
  // Issue 13 item 13: a line over 512 MB crashed validate/generate with a RangeError stack
  // trace; a line just over the real limit (70 MB) is refused without reading it whole.
  const { dir, cleanup } = tempDir('long-line');
  try {
    const file = path.join(dir, 'tasks.jsonl');
    writeLongLineTasksFile(file, 70, { task_id: 'after', description: 'fix', max_steps: 0 });
    const r = await runCli(['validate', file], { timeoutMs: 90_000 });
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2, r.stdout.slice(0, 500));
    assert.match(lines[0]!, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1:1: line too long: 73400354 bytes, over the limit of 67108864 bytes \\(64 MiB\\); it was not read`));
    assert.match(lines[1]!, /:2:\d+: "max_steps"/);
    assert.doesNotMatch(r.stderr, /RangeError|\n\s+at /);
    assert.match(r.stderr, /0 task\(s\) valid, 2 line\(s\) rejected/);
  } finally {
    cleanup();
  }
});

test('validate and generate never send a control sequence from the tasks file to the terminal: OSC 52 and CSI in a key, a task id and the file name are shown escaped', { timeout: 180_000 }, async () => {
  // Issue 13 item 14: unknown key names, file names and task ids were printed raw.
  const { dir, cleanup } = tempDir('escapes');
  try {
    const osc52 = '\u001b]52;c;SGVsbG8=\u0007';
    const file = path.join(dir, `tasks${osc52}\u009b2J.jsonl`);
    const id = `ok${osc52}\u009b31m\u202e`;
    fs.writeFileSync(
      file,
      [
        JSON.stringify({ task_id: `dup${osc52}\u009b31m`, description: 'x', eval: ['true'], [`${osc52}evil`]: 1 }),
        JSON.stringify({ task_id: `dup${osc52}\u009b31m`, description: 'x', eval: ['true'] }),
        JSON.stringify({ task_id: id, description: 'x', eval: ['true'], solution: { commands: ['true'] } }),
      ].join('\n') + '\n',
    );
    // Control characters but \n and \t; C1 (U+0080–U+009F, \x9b is a one-byte CSI) and bidi overrides too.
    const unsafe = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/u;
    const check = (what: string, text: string) => assert.ok(!unsafe.test(text), `${what} holds a control character: ${JSON.stringify(text.match(/.{0,40}[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e].{0,40}/u)?.[0])}`);
    const validate = await runCli(['validate', file], { timeoutMs: 30_000 });
    assert.equal(validate.code, 1, validate.stderr);
    check('validate stdout', validate.stdout);
    check('validate stderr', validate.stderr);
    assert.match(validate.stdout, /tasks\\x1b\]52;c;SGVsbG8=\\x07\\x9b2J\.jsonl:1:\d+: unknown key "\\x1b\]52;c;SGVsbG8=\\x07evil"/);
    for (const args of [[], ['--json']]) {
      const generate = await runCli(['generate', file, '--model', 'gold', '--out', path.join(dir, 'out'), '--no-progress', ...args], { timeoutMs: 150_000 });
      assert.equal(generate.code, 0, generate.stderr);
      check(`generate ${args.join(' ')} stdout`, generate.stdout);
      check(`generate ${args.join(' ')} stderr`, generate.stderr);
      assert.match(generate.stderr, /duplicate task_id/);
      if (!args.length) assert.match(generate.stdout, /ok\\x1b\]52;c;SGVsbG8=\\x07\\x9b31m/);
    }
  } finally {
    cleanup();
  }
});

test('kill -9 mid-run, then --resume finishes every task and keeps every finished step (scripted model server)', { timeout: 180_000 }, async (t) => {
  const tmp = tempDir('cli-resume');
  const tasksFile = path.join(ENGINE_FIXTURES, 'steps.tasks.jsonl');
  const ids = readTasks(tasksFile).map((t) => t.task_id);
  const script: Reply[] = [1, 2, 3, 4, 5, 6].map((n) => bashReply(`echo step-${n} >> /workspace/log.txt`));
  script.push(submitReply());
  // Each reply takes ~300 ms, so a 7-step attempt runs long enough to be killed in the middle.
  const server = await startScriptedModelServer({ respond: perTask({ '[steps-': script }), delayMs: 300 });
  const runId = 'cli-resume-test';
  const out = path.join(tmp.dir, 'out');
  const runDir = path.join(out, 'runs', runId);
  const trajPath = (id: string) => path.join(runDir, 'trajectories', `${id}.1.json`);
  const readIfAny = (id: string): Trajectory | undefined => {
    try {
      return readJson<Trajectory>(trajPath(id));
    } catch {
      return undefined;
    }
  };
  const common = ['--model', 'openai:scripted', '--base-url', server.baseUrl, '--out', out, '--workers', '3', '--no-progress'];
  const env = cleanEnv({ OPENAI_API_KEY: 'test-key' });
  try {
    const first = startCli(['generate', tasksFile, ...common, '--run-id', runId], { env, timeoutMs: 90_000 });
    let killed: Trajectory;
    try {
      killed = await waitFor(
        'a trajectory with 2+ steps, still running',
        () => ids.map(readIfAny).find((t) => t && t.status === 'running' && t.steps.length >= 2),
        60_000,
        25,
      );
      first.killGroup('SIGKILL');
    } catch (err) {
      first.killGroup('SIGKILL');
      throw new Error(`${(err as Error).message}\nCLI stderr:\n${first.stderr}`);
    }
    const exit = await first.done;
    assert.equal(exit.signal, 'SIGKILL');
    // What the dead process left on disk: trajectories of unfinished attempts.
    const before = new Map(ids.map((id) => [id, readIfAny(id)] as const));
    const interrupted = [...before.values()].filter((t): t is Trajectory => !!t && t.status === 'running' && t.steps.length > 0);
    assert.ok(interrupted.length >= 1);
    assert.ok(before.get(killed.task_id)!.steps.length >= killed.steps.length);
    const leftovers = await containersOfRun(runId);
    t.diagnostic(`containers left by the killed CLI: ${leftovers.length}`);
    assert.equal(readJson<RunInfo>(path.join(runDir, 'run.json')).status, 'running');

    const resumed = await runCli(['generate', tasksFile, ...common, '--resume', runId, '--json'], { env, timeoutMs: 90_000 });
    assert.equal(resumed.code, 0, `resume failed:\n${resumed.stderr}`);
    const lines = resumed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; report?: RunReport });
    const report = lines.at(-1)!.report!;
    assert.equal(lines.at(-1)!.type, 'report');
    assert.equal(report.run_id, runId);
    assert.equal(report.total, 3);
    assert.equal(report.resolved, 3, `unresolved: ${report.ids_unresolved.join(', ')}\n${resumed.stderr}`);
    assert.deepEqual(readJson<RunReport>(path.join(runDir, 'report.json')), report);
    assert.equal(readJson<RunInfo>(path.join(runDir, 'run.json')).status, 'finished');

    for (const id of ids) {
      const traj = readJson<Trajectory>(trajPath(id));
      assert.equal(traj.status, 'finished', id);
      assert.equal(traj.result!.exit_status, 'submitted', id);
      assert.equal(traj.result!.reward, 1, `${id}: ${JSON.stringify(traj.result!.evaluation?.commands.map((c) => c.observation))}`);
      assert.equal(traj.steps.length, script.length, `${id}: one step per scripted reply, none repeated or lost`);
      assert.deepEqual(traj.steps.map((s) => s.index), [0, 1, 2, 3, 4, 5, 6]);
      assert.deepEqual(
        traj.steps.slice(0, 6).map((s) => (s.actions[0] as { command: string }).command),
        [1, 2, 3, 4, 5, 6].map((n) => `echo step-${n} >> /workspace/log.txt`),
      );
      const old = before.get(id);
      if (old && old.steps.length) {
        // The steps recorded before the kill are kept as they were.
        assert.equal(traj.started_at, old.started_at);
        assert.equal(traj.steps[0]!.started_at, old.steps[0]!.started_at);
        assert.deepEqual(traj.steps.slice(0, old.steps.length), old.steps, `${id}: steps before the kill are kept`);
      }
    }
    const events = fs.readFileSync(path.join(runDir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).flatMap((l) => {
      try {
        return [JSON.parse(l) as { type: string; resumed?: boolean; resumed_from_step?: number }];
      } catch {
        return []; // a line torn by the kill
      }
    });
    assert.ok(events.some((e) => e.type === 'run_started' && e.resumed === true));
    assert.ok(events.some((e) => e.type === 'attempt_started' && (e.resumed_from_step ?? 0) >= 2));
    assert.deepEqual(await containersOfRun(runId), [], 'the resume reaped the dead process\'s containers and removed its own');
  } finally {
    await server.close();
    await removeContainersOfRun(runId);
    tmp.cleanup();
  }
});

test('generate without an API key or base URL exits 1 and names OPENAI_API_KEY', { timeout: 60_000 }, async () => {
  const tmp = tempDir('cli-nokey');
  try {
    const r = await runCli(['generate', EXAMPLES_TASKS, '--model', 'openai:gpt-4o-mini', '--out', tmp.dir, '--no-progress'], { env: cleanEnv(), timeoutMs: 30_000 });
    assert.equal(r.code, 1, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    assert.match(r.stderr, /OPENAI_API_KEY/);
    assert.match(r.stderr, /--base-url/);
    assert.ok(!fs.existsSync(path.join(tmp.dir, 'runs')) || fs.readdirSync(path.join(tmp.dir, 'runs')).every((d) => !fs.existsSync(path.join(tmp.dir, 'runs', d, 'trajectories'))), 'nothing ran');
  } finally {
    tmp.cleanup();
  }
});

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  test(`${signal} during generate cancels the run, removes its containers, keeps the attempts resumable and exits ${code} (gold policy)`, { timeout: 90_000 }, async () => {
    const tmp = tempDir(`cli-${signal}`);
    const runId = `cli-${signal.toLowerCase()}`;
    try {
      const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
      fs.writeFileSync(
        tasksFile,
        ['a', 'b'].map((id) => JSON.stringify({ task_id: `slow-${id}`, description: 'wait', solution: { commands: ['sleep 60'] }, eval: ['true'] })).join('\n') + '\n',
      );
      const out = path.join(tmp.dir, 'out');
      const cli = startCli(['generate', tasksFile, '--model', 'gold', '--out', out, '--run-id', runId, '--workers', '2', '--no-progress'], { timeoutMs: 60_000 });
      await waitFor('both containers running', async () => (await containersOfRun(runId)).filter((c) => c.State === 'running').length === 2, 30_000, 100);
      const sentAt = Date.now();
      cli.child.kill(signal);
      const r = await cli.done;
      assert.equal(r.code, code, r.stderr);
      assert.ok(Date.now() - sentAt < 20_000, 'it did not wait for the 60 s commands');
      assert.match(r.stderr, new RegExp(`${signal}: cancelling the run and removing its containers`));
      assert.deepEqual(await containersOfRun(runId), [], 'no container of the run is left');
      const runDir = path.join(out, 'runs', runId);
      assert.equal(readJson<RunInfo>(path.join(runDir, 'run.json')).status, 'cancelled');
      for (const id of ['slow-a', 'slow-b']) {
        const t = readJson<Trajectory>(path.join(runDir, 'trajectories', `${id}.1.json`));
        assert.equal(t.status, 'running', `${id} stays unfinished, so --resume redoes it`);
        assert.equal(t.result, null);
      }
    } finally {
      await removeContainersOfRun(runId);
      tmp.cleanup();
    }
  });
}

test('generate (built CLI): an endpoint that echoes the API key puts it neither on the terminal nor in the run folder (scripted model server)', { timeout: 180_000 }, async () => {
  const key = 'sk-echoed-key-0123456789';
  const tmp = tempDir('cli-echo-key');
  const task = (id: string) => JSON.stringify({ task_id: id, description: `[${id}] Do it.`, eval: ['true'] });
  const scripts = {
    '[echo-error]': [errorReply(401, { message: `Incorrect API key provided: Bearer ${key}` })],
    '[echo-output]': [bashReply(`echo "the key is ${key}"`), submitReply()],
  };
  const server = await startScriptedModelServer({ respond: perTask(scripts) });
  try {
    const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
    fs.writeFileSync(tasksFile, task('echo-error') + '\n' + task('echo-output') + '\n');
    const out = path.join(tmp.dir, 'out');
    const env = cleanEnv({ OPENAI_API_KEY: key });
    for (const flags of [['--json'], ['--no-progress']]) {
      const r = await runCli(['generate', tasksFile, '--model', 'openai:scripted', '--base-url', server.baseUrl, '--out', out, ...flags], { env, built: true, timeoutMs: 90_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!r.stdout.includes(key), `${flags.join(' ')}: the key is on stdout:\n${r.stdout}`);
      assert.ok(!r.stderr.includes(key), `${flags.join(' ')}: the key is on stderr:\n${r.stderr}`);
      if (flags[0] === '--json') assert.match(r.stdout, /Bearer \[redacted\]/, `the echoed error is reported, scrubbed:\n${r.stdout}`);
    }
    const files = listTree(out).filter((f) => fs.statSync(f).isFile());
    assert.ok(files.some((f) => f.endsWith('echo-output.1.json')) && files.some((f) => f.endsWith('events.jsonl')));
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      assert.ok(!text.includes(key), `the key is written in ${file}`);
    }
  } finally {
    await server.close();
    tmp.cleanup();
  }
});
