/**
 * Integration tests of the run engine against real parts: the local Docker engine (image
 * trajlab/sandbox:1), real git, and the real openai SDK talking to a scripted
 * OpenAI-compatible server on 127.0.0.1 (test/helpers/scriptedModelServer.ts). The model's
 * replies are scripted; every test that uses the server says so in its name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunInfo, RunOptions, RunReport } from '../../common/src/run';
import { taskPrompt, type Task } from '../../common/src/task';
import type { Trajectory } from '../../common/src/trajectory';
import { RunEngine } from '../../server/src/run/engine';
import { runCli } from '../helpers/cli';
import { API_KEY, runEngine, withServer } from '../helpers/engineRuns';
import {
  ENGINE_FIXTURES,
  EXAMPLES_TASKS,
  containersOfRun,
  dockerClient,
  gitApplyCommand,
  isInside,
  listTree,
  memoryLogger,
  patchAsEdit,
  readJson,
  readTasks,
  readTrajectory,
  removeContainersOfRun,
  tempDir,
  waitFor,
  within,
} from '../helpers/engineHelpers';
import {
  bash,
  bashBlockReply,
  bashReply,
  editReply,
  errorReply,
  perTask,
  requestText,
  runScript,
  submitReply,
  textReply,
  toolReply,
  type Reply,
  type Responder,
  type ScriptedModelServer,
  type Usage,
} from '../helpers/scriptedModelServer';

const EXAMPLES = readTasks(EXAMPLES_TASKS);
const exampleTask = (id: string): Task => {
  const t = EXAMPLES.find((x) => x.task_id === id);
  assert.ok(t, `examples/tasks.jsonl has no task ${id}`);
  return t;
};

/** Basic shape every finished trajectory has. */
function assertTrajectoryShape(t: Trajectory, taskId: string, attempt = 1): void {
  assert.equal(t.schema_version, 'trajlab.trajectory/1');
  assert.equal(t.task_id, taskId);
  assert.equal(t.attempt, attempt);
  assert.equal(t.status, 'finished');
  assert.ok(t.result, `${taskId}: result is set`);
  assert.ok(t.ended_at && t.ended_at >= t.started_at, `${taskId}: ended_at after started_at`);
  assert.equal(t.messages[0]?.role, 'system');
  assert.equal(t.messages[0]?.content, t.system_prompt);
  assert.equal(t.messages[1]?.role, 'user');
  assert.equal(t.totals.steps, t.steps.length);
  t.steps.forEach((s, i) => {
    assert.equal(s.index, i, `${taskId}: step ${i} index`);
    assert.ok(s.actions.length >= 1, `${taskId}: step ${i} has an action`);
    assert.equal(s.observations.length, s.actions.length, `${taskId}: step ${i} has one observation per action`);
    assert.ok(s.ended_at >= s.started_at, `${taskId}: step ${i} times`);
  });
  const ds = t.result.diff_stats;
  assert.equal(ds.files_changed, ds.files.length);
  assert.equal(ds.insertions, ds.files.reduce((n, f) => n + f.insertions, 0));
  assert.equal(ds.deletions, ds.files.reduce((n, f) => n + f.deletions, 0));
}

// ---------------------------------------------------------------------------------------------

/** Replies that solve an example task: its gold patch (edit tool or git apply), gold commands, answer. */
const EDIT_TOOL_TASKS = new Set(['calc-py__median-unsorted', 'slugify-js__collapse-separators']);
function fixingScript(task: Task): Reply[] {
  const s = task.solution!;
  const replies: Reply[] = [];
  if (s.patch) {
    if (EDIT_TOOL_TASKS.has(task.task_id)) {
      const e = patchAsEdit(s.patch);
      replies.push(editReply({ command: 'view', path: e.path }));
      replies.push(editReply({ command: 'str_replace', path: e.path, old_str: e.old_str, new_str: e.new_str }));
    } else {
      replies.push(bashReply(gitApplyCommand(s.patch)));
    }
  }
  const commands = s.commands ?? [];
  if (task.task_id === 'log-triage-5xx') {
    // Two tool calls in one reply: one step, two actions.
    replies.push(toolReply([bash(commands[0]!), bash('cat /workspace/errors.txt')]));
  } else {
    for (const c of commands) replies.push(bashReply(c));
  }
  if (task.task_id === 'factorial-of-5') replies.push(bashReply(`python3 -c 'import math; print(math.factorial(5))'`));
  replies.push(submitReply(s.answer));
  return replies;
}

test('a full run of the examples with fixing replies resolves all 9 tasks (scripted model server)', { timeout: 120_000 }, async () => {
  const scripts = new Map(EXAMPLES.map((t) => [taskPrompt(t), fixingScript(t)] as const));
  const tmp = tempDir('full');
  try {
    await withServer(perTask(scripts), async (server) => {
      const { report, info, traj, engine } = await runEngine({ tasksFile: EXAMPLES_TASKS, out: tmp.dir, workers: 5 }, { server });
      const ids = EXAMPLES.map((t) => t.task_id);
      assert.equal(report.total, 9);
      assert.equal(report.resolved, 9, `unresolved: ${report.ids_unresolved.join(', ')}`);
      assert.equal(report.unresolved, 0);
      assert.equal(report.error, 0);
      assert.equal(report.submitted, 9);
      assert.deepEqual([...report.ids_resolved].sort(), [...ids].sort());
      assert.equal(report.reward_mean, 1);
      assert.deepEqual(report.rejected_lines, []);
      assert.equal(info.status, 'finished');
      assert.equal(info.counts.resolved, 9);
      assert.deepEqual(readJson<RunReport>(path.join(engine.store.dir, 'report.json')), report);

      let promptTokens = 0;
      let completionTokens = 0;
      for (const task of EXAMPLES) {
        const t = traj(task.task_id);
        assertTrajectoryShape(t, task.task_id);
        const script = scripts.get(taskPrompt(task))!;
        assert.equal(t.steps.length, script.length, `${task.task_id}: one step per scripted reply`);
        assert.equal(t.result!.exit_status, 'submitted', task.task_id);
        assert.equal(t.result!.reward, 1, `${task.task_id}: reward (${JSON.stringify(t.result!.evaluation?.commands.map((c) => c.observation.stdout.slice(-400)))})`);
        assert.equal(t.result!.success, true);
        assert.equal(t.agent.policy, 'model');
        assert.equal(t.model.name, 'scripted');
        assert.equal(t.model.base_url, server.baseUrl);
        assert.deepEqual(
          (t.tools as { function: { name: string } }[]).map((x) => x.function.name),
          ['bash', 'str_replace_based_edit', 'submit'],
        );
        // Usage of each step is what the server reported for that reply.
        const served = server.requests.filter((r) => r.prompt.includes(taskPrompt(task)) && r.status === 200).sort((a, b) => a.step - b.step);
        assert.equal(served.length, t.steps.length);
        t.steps.forEach((s, i) => assert.deepEqual(s.usage, served[i]!.usage, `${task.task_id} step ${i} usage`));
        assert.equal(t.totals.prompt_tokens, served.reduce((n, r) => n + r.usage!.prompt_tokens, 0));
        promptTokens += t.totals.prompt_tokens;
        completionTokens += t.totals.completion_tokens;
        // Every step's bash/edit actions succeeded.
        for (const s of t.steps) for (const o of s.observations) assert.equal(o.exit_code, 0, `${task.task_id}: ${JSON.stringify(s.actions)} → ${o.stderr}`);

        if (task.task_type === 'swe') {
          const file = patchAsEdit(task.solution!.patch!).path;
          assert.match(t.result!.diff, new RegExp(`^diff --git a/${file.replace(/[.]/g, '\\.')} b/`, 'm'), `${task.task_id}: diff names ${file}`);
          assert.ok(t.result!.diff_stats.files.some((f) => f.path === file && f.insertions === 1 && f.deletions === 1), `${task.task_id}: diff_stats`);
          assert.equal(t.result!.evaluation?.method, 'tests');
          assert.ok(t.result!.evaluation!.tests!.FAIL_TO_PASS.every((x) => x.status === 'passed'));
          assert.ok(t.result!.evaluation!.tests!.PASS_TO_PASS.every((x) => x.status === 'passed'));
        }
      }
      // The edit tool: view shows the file with line numbers, str_replace edits it.
      const calc = traj('calc-py__median-unsorted');
      assert.equal(calc.steps[0]!.actions[0]!.kind, 'edit');
      assert.match(calc.steps[0]!.observations[0]!.stdout, /^\s+17\t {4}data = list\(values\)$/m);
      assert.equal(calc.steps[1]!.observations[0]!.stdout, 'File edited: /workspace/stats.py');
      // Two tool calls in one reply: one step with two actions, two tool messages back.
      const logs = traj('log-triage-5xx');
      assert.equal(logs.steps[0]!.actions.length, 2);
      assert.equal(logs.steps[0]!.observations[1]!.stdout.split('\n')[0], '3 /api/v1/payments');
      const toolMsgs = logs.messages.filter((m) => m.role === 'tool');
      assert.deepEqual(toolMsgs.slice(0, 2).map((m) => m.tool_call_id), logs.steps[0]!.response.tool_calls!.map((c) => c.id));
      assert.equal(traj('primes-below-50').result!.evaluation!.method, 'exit_code');
      assert.equal(traj('sales-report-by-region').result!.evaluation!.reward_file, '/logs/reward.txt');
      assert.equal(traj('🚆-trains-meet').result!.evaluation!.answer!.got, '11:06');

      // Token totals from `usage` are summed in the report and run.json.
      const totals = server.usageTotals();
      assert.ok(totals.prompt_tokens > 0 && totals.completion_tokens > 0);
      assert.equal(report.prompt_tokens, totals.prompt_tokens);
      assert.equal(report.completion_tokens, totals.completion_tokens);
      assert.equal(promptTokens, totals.prompt_tokens);
      assert.equal(completionTokens, totals.completion_tokens);
      assert.equal(info.counts.prompt_tokens, totals.prompt_tokens);
      // What the endpoint got: the key, the model name, the three tools.
      for (const r of server.requests) {
        assert.equal(r.headers.authorization, `Bearer ${API_KEY}`);
        assert.equal(r.body.model, 'scripted');
        assert.deepEqual(r.body.tools?.map((x) => x.function.name), ['bash', 'str_replace_based_edit', 'submit']);
      }
      const events = fs.readFileSync(path.join(engine.store.dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
      assert.equal(events[0]!.type, 'run_started');
      assert.equal(events.filter((e) => e.type === 'attempt_finished').length, 9);
      assert.equal(events.at(-1)!.type, 'run_finished');
    });
  } finally {
    tmp.cleanup();
  }
});

test('a full run of the examples with replies that fix nothing gives reward 0 everywhere (scripted model server)', { timeout: 120_000 }, async () => {
  const tmp = tempDir('nofix');
  try {
    await withServer(perTask({ '': [bashReply('ls'), submitReply('<answer>wrong</answer>\nFINAL: 00:00')] }), async (server) => {
      const { report, traj } = await runEngine({ tasksFile: EXAMPLES_TASKS, out: tmp.dir, workers: 5 }, { server });
      const ids = EXAMPLES.map((t) => t.task_id);
      assert.equal(report.total, 9);
      assert.equal(report.resolved, 0);
      assert.equal(report.unresolved, 9);
      assert.deepEqual([...report.ids_unresolved].sort(), [...ids].sort());
      assert.deepEqual(report.ids_resolved, []);
      assert.equal(report.reward_mean, 0);
      assert.equal(report.submitted, 9);
      for (const task of EXAMPLES) {
        const t = traj(task.task_id);
        assertTrajectoryShape(t, task.task_id);
        assert.equal(t.steps.length, 2);
        assert.equal(t.steps[0]!.observations[0]!.exit_code, 0);
        assert.equal(t.result!.exit_status, 'submitted');
        assert.equal(t.result!.reward, 0, task.task_id);
        assert.equal(t.result!.success, false);
        if (!task.setup) assert.equal(t.result!.diff, '', `${task.task_id}: ls changes nothing`);
      }
      assert.deepEqual(traj('factorial-of-5').result!.evaluation!.answer, { expected: '120', got: 'wrong' });
      assert.equal(server.requests.length, 18);
    });
  } finally {
    tmp.cleanup();
  }
});

test('text mode: one bash block per reply, a malformed reply is a fed-back format_error step, then submit (scripted model server)', { timeout: 60_000 }, async () => {
  const tmp = tempDir('text');
  const task = exampleTask('factorial-of-5');
  const script: Reply[] = [
    textReply('THOUGHT: I will do two things.\n\n```bash\necho one\n```\n\n```bash\necho two\n```'),
    bashBlockReply(`python3 -c 'import math; print(math.factorial(5))'`),
    bashBlockReply(`echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && echo '<answer>120</answer>'`),
  ];
  try {
    await withServer(perTask({ [taskPrompt(task)]: script }), async (server) => {
      const { report, traj } = await runEngine({ tasksFile: EXAMPLES_TASKS, out: tmp.dir, filter: 'factorial-of-5', mode: 'text' }, { server });
      assert.equal(report.total, 1);
      assert.equal(report.resolved, 1);
      const t = traj('factorial-of-5');
      assertTrajectoryShape(t, 'factorial-of-5');
      assert.equal(t.agent.mode, 'text');
      assert.deepEqual(t.tools, []);
      assert.match(t.system_prompt, /EXACTLY ONE bash code block/);
      assert.equal(t.steps.length, 3, 'the malformed reply counts as a step');
      const bad = t.steps[0]!;
      assert.equal(bad.actions[0]!.kind, 'format_error');
      assert.equal(bad.observations[0]!.exit_code, null);
      assert.deepEqual(t.steps[1]!.actions[0], { kind: 'bash', command: `python3 -c 'import math; print(math.factorial(5))'` });
      assert.equal(t.steps[1]!.observations[0]!.stdout, '120\n');
      assert.equal(t.result!.exit_status, 'submitted');
      assert.equal(t.result!.submission, '<answer>120</answer>');
      assert.equal(t.result!.reward, 1);

      assert.equal(server.requests.length, 3);
      for (const r of server.requests) assert.equal(r.body.tools, undefined, 'no tools are offered in text mode');
      // The format error is fed back as the next user message…
      const second = server.requests[1]!.body.messages;
      assert.equal(second.at(-1)!.role, 'user');
      assert.match(String(second.at(-1)!.content), /EXACTLY ONE action in triple backticks, found 2 actions/);
      assert.match(requestText(server.requests[1]!), /COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT/);
      // …and the command's output after it.
      assert.match(String(server.requests[2]!.body.messages.at(-1)!.content), /<returncode>0<\/returncode>\n<output>\n120\n/);
    });
  } finally {
    tmp.cleanup();
  }
});

test('an HTTP 429 is retried by the SDK after retry-after-ms and the attempt still succeeds (scripted model server)', { timeout: 60_000 }, async () => {
  const tmp = tempDir('429');
  const task = exampleTask('factorial-of-5');
  const script: Reply[] = [bashReply('echo $((5*4*3*2*1))'), submitReply('<answer>120</answer>')];
  const respond: Responder = (ctx) => (ctx.callIndex === 0 ? errorReply(429, { retryAfterMs: 10, message: 'rate limited (scripted)' }) : runScript(script, ctx));
  try {
    await withServer(respond, async (server) => {
      const { report, traj } = await runEngine({ tasksFile: EXAMPLES_TASKS, out: tmp.dir, filter: 'factorial-of-5' }, { server });
      assert.equal(report.resolved, 1);
      const t = traj('factorial-of-5');
      assertTrajectoryShape(t, 'factorial-of-5');
      assert.equal(t.result!.reward, 1);
      assert.equal(t.steps.length, 2, 'the 429 is not a step');
      assert.equal(t.steps[0]!.observations[0]!.stdout, '120\n');
      assert.equal(t.steps[0]!.error, undefined);
      assert.ok(server.requests.length >= 3, `requests: ${server.requests.length}`);
      assert.equal(server.requests[0]!.status, 429);
      assert.equal(server.requests[1]!.status, 200);
      assert.deepEqual(server.requests[1]!.body.messages, server.requests[0]!.body.messages, 'the retry resends the same conversation');
      assert.ok(t.steps[0]!.latency_ms >= 10, 'latency covers the retry');
      assert.deepEqual(task.task_id, t.task.task_id);
    });
  } finally {
    tmp.cleanup();
  }
});

test("costs: gpt-4o-mini and deepseek-chat replies are priced per step from the genai-prices table (cached tokens discounted, DeepSeek's hour), an endpoint's usage.cost wins, a model the table lacks costs 0 with one warning, and --cost-limit stops at the priced cost (scripted model server)", { timeout: 90_000 }, async () => {
  const tmp = tempDir('costs');
  // Published prices per million tokens (OpenAI; DeepSeek from 00:30 to 16:30 UTC, half that outside).
  const usage: Usage = { prompt_tokens: 10_000, completion_tokens: 500, total_tokens: 10_500, prompt_tokens_details: { cached_tokens: 4_000 } };
  const GPT_4O_MINI = (6_000 * 0.15 + 4_000 * 0.075 + 500 * 0.6) / 1e6;
  const deepseekChat = (at: string) => {
    const d = new Date(at);
    const minutes = d.getUTCHours() * 60 + d.getUTCMinutes();
    const peak = minutes >= 30 && minutes < 16 * 60 + 30;
    return ((6_000 * 0.27 + 4_000 * 0.07 + 500 * 1.1) / 1e6) * (peak ? 1 : 0.5);
  };
  const priced = (u: Usage): Responder => (ctx) => runScript([{ ...bashReply('echo $((5*4*3*2*1))'), usage: u }, { ...bashReply('true'), usage: u }, { ...bashReply('true'), usage: u }, { ...submitReply('<answer>120</answer>'), usage: u }], ctx);
  const near = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} ≠ ${expected}`);
  try {
    await withServer(priced(usage), async (server) => {
      const { report, traj, logger } = await runEngine({ tasksFile: EXAMPLES_TASKS, out: path.join(tmp.dir, 'gpt'), filter: 'factorial-of-5', model: 'openai:gpt-4o-mini' }, { server });
      const t = traj('factorial-of-5');
      assert.equal(t.steps.length, 4);
      for (const s of t.steps) near(s.cost_usd, GPT_4O_MINI, `gpt-4o-mini step ${s.index}`);
      near(t.totals.cost_usd, 4 * GPT_4O_MINI, 'trajectory total');
      near(report.cost_usd, 4 * GPT_4O_MINI, 'report total');
      assert.ok(!logger.lines.some((l) => l.includes('no price')), logger.lines.join('\n'));
    });
    await withServer(priced(usage), async (server) => {
      // A model the table does not know: cost 0, said once (not per step), with what it means.
      const { logger, traj } = await runEngine({ tasksFile: EXAMPLES_TASKS, out: path.join(tmp.dir, 'unpriced'), filter: 'factorial-of-5', model: 'openai:my-finetune' }, { server });
      assert.ok(traj('factorial-of-5').steps.every((s) => s.cost_usd === 0));
      const said = logger.lines.filter((l) => l.includes('no price for model "my-finetune"'));
      assert.equal(said.length, 1, logger.lines.join('\n'));
      assert.match(said[0]!, /^warn: .*--cost-limit and --run-cost-limit cannot stop it/);
    });
    await withServer(priced(usage), async (server) => {
      const { traj } = await runEngine({ tasksFile: EXAMPLES_TASKS, out: path.join(tmp.dir, 'deepseek'), filter: 'factorial-of-5', model: 'deepseek:deepseek-chat' }, { server });
      for (const s of traj('factorial-of-5').steps) near(s.cost_usd, deepseekChat(s.started_at), `deepseek-chat step ${s.index} at ${s.started_at}`);
    });
    await withServer(priced({ ...usage, cost: 0.25 }), async (server) => {
      const { traj } = await runEngine({ tasksFile: EXAMPLES_TASKS, out: path.join(tmp.dir, 'endpoint'), filter: 'factorial-of-5', model: 'openai:gpt-4o-mini' }, { server });
      for (const s of traj('factorial-of-5').steps) assert.equal(s.cost_usd, 0.25, "the endpoint's own figure");
    });
    await withServer(priced(usage), async (server) => {
      // 1.5 GPT_4O_MINI: the second step reaches it, so no third request is made.
      const { traj } = await runEngine({ tasksFile: EXAMPLES_TASKS, out: path.join(tmp.dir, 'limit'), filter: 'factorial-of-5', model: 'openai:gpt-4o-mini', costLimit: 1.5 * GPT_4O_MINI }, { server });
      const t = traj('factorial-of-5');
      assert.equal(t.result!.exit_status, 'cost_limit');
      assert.equal(t.steps.length, 2);
      assert.equal(server.requests.length, 2);
    });
  } finally {
    tmp.cleanup();
  }
});

test('--run-cost-limit: once the run has cost the limit no new attempt starts, the report says how many did not; a resume under the limit already spent starts nothing, one with a higher limit runs them (scripted model server, gpt-4o-mini prices)', { timeout: 90_000 }, async () => {
  const tmp = tempDir('runcost');
  const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
  fs.writeFileSync(tasksFile, [1, 2, 3, 4].map((i) => JSON.stringify({ task_id: `c${i}`, task_type: 'code', description: `cost ${i}`, eval: ['true'] })).join('\n') + '\n');
  const usage: Usage = { prompt_tokens: 10_000, completion_tokens: 500, total_tokens: 10_500 };
  const STEP = (10_000 * 0.15 + 500 * 0.6) / 1e6; // gpt-4o-mini, USD
  const respond: Responder = (ctx) => runScript([{ ...bashReply('true'), usage }, { ...submitReply('done'), usage }], ctx);
  const options = { tasksFile, out: tmp.dir, runId: 'runcost', model: 'openai:gpt-4o-mini', workers: 1 };
  try {
    await withServer(respond, async (server) => {
      // One attempt costs 2 STEP: after the first 2 STEP < 2.5 STEP, the second starts; after it 4 STEP ≥ 2.5 STEP.
      const first = await runEngine({ ...options, runCostLimit: 2.5 * STEP }, { server });
      assert.deepEqual(first.report.run_cost_limit, { limit_usd: 2.5 * STEP, not_started: 2 });
      assert.ok(Math.abs(first.report.cost_usd - 4 * STEP) < 1e-12, `report cost ${first.report.cost_usd}`);
      assert.equal(server.requests.length, 4, 'two attempts of two steps asked the model');
      assert.equal(first.report.resolved, 2);
      assert.ok(first.logger.lines.some((l) => l.includes('--run-cost-limit') && l.includes('no new attempts') && l.includes('--resume runcost')), first.logger.lines.join('\n'));
      // The earlier process's spend counts: a resume under a limit it already reached starts nothing.
      const again = await runEngine({ ...options, runCostLimit: 3 * STEP }, { server });
      assert.deepEqual(again.report.run_cost_limit, { limit_usd: 3 * STEP, not_started: 2 });
      assert.ok(Math.abs(again.info.counts.cost_usd - 4 * STEP) < 1e-12, `run.json counts the earlier spend: ${again.info.counts.cost_usd}`);
      assert.equal(server.requests.length, 4);
      const second = await runEngine({ ...options, runCostLimit: 100 }, { server });
      assert.equal(second.report.run_cost_limit, undefined);
      assert.equal(second.report.resolved, 4);
      assert.equal(server.requests.length, 8, 'the resume ran only the two attempts not started');
    });
  } finally {
    tmp.cleanup();
  }
});

test('an attempt whose model call failed is never resolved, even when its eval passes (scripted model server)', { timeout: 60_000 }, async () => {
  const tmp = tempDir('modelerror');
  try {
    const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
    fs.writeFileSync(tasksFile, JSON.stringify({ task_id: 'eval-always-passes', description: 'x', eval: ['true'] }) + '\n');
    // 400 is not retried by the SDK: the first model call fails and the attempt ends in error with 0 steps.
    await withServer(() => errorReply(400, { message: 'bad request (scripted)' }), async (server) => {
      const { report, traj } = await runEngine({ tasksFile, out: path.join(tmp.dir, 'out') }, { server });
      const t = traj('eval-always-passes');
      assert.equal(t.steps.length, 0);
      assert.equal(t.result!.exit_status, 'error');
      assert.equal(t.result!.success, false, 'an attempt that ended in error is not a success');
      assert.equal(report.resolved, 0);
      assert.deepEqual(report.ids_resolved, []);
      assert.deepEqual(report.ids_error, ['eval-always-passes']);
    });
  } finally {
    tmp.cleanup();
  }
});

test('a password or token in --base-url reaches neither run.json nor any trajectory (scripted model server)', { timeout: 60_000 }, async () => {
  const tmp = tempDir('urlcreds');
  try {
    const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
    fs.writeFileSync(tasksFile, JSON.stringify({ task_id: 'creds', description: 'x', eval: ['true'] }) + '\n');
    await withServer((ctx) => runScript([submitReply('done')], ctx), async (server) => {
      const withCredentials = server.baseUrl.replace('http://', 'http://someone:sk-in-the-url@');
      const { engine, info, traj } = await runEngine({ tasksFile, out: path.join(tmp.dir, 'out'), baseUrl: withCredentials }, { server });
      assert.equal(info.options.baseUrl, server.baseUrl, 'run.json records the base URL without its credentials');
      assert.equal(traj('creds').model.base_url, server.baseUrl);
      for (const file of listTree(engine.store.dir)) {
        if (fs.statSync(file).isFile()) assert.ok(!fs.readFileSync(file, 'utf8').includes('sk-in-the-url'), `the URL's password is written in ${file}`);
      }
    });
  } finally {
    tmp.cleanup();
  }
});

test('a command over its per-command timeout is killed, marked timed_out, and the attempt goes on (scripted model server)', { timeout: 60_000 }, async () => {
  const tmp = tempDir('cmdtimeout');
  const task = exampleTask('factorial-of-5');
  const started = Date.now();
  try {
    await withServer(perTask({ [taskPrompt(task)]: [bashReply('sleep 30; echo never'), submitReply('<answer>120</answer>')] }), async (server) => {
      const { report, traj } = await runEngine({ tasksFile: EXAMPLES_TASKS, out: tmp.dir, filter: 'factorial-of-5', commandTimeout: 2 }, { server });
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 20_000, `the run took ${elapsed} ms; the 30 s sleep must not be waited for`);
      assert.equal(report.resolved, 1);
      const t = traj('factorial-of-5');
      const o = t.steps[0]!.observations[0]!;
      assert.equal(o.timed_out, true);
      assert.ok(o.exit_code === 124 || o.exit_code === 137, `exit code ${o.exit_code}`);
      assert.ok(!o.stdout.includes('never'));
      assert.match(o.stderr, /timed out after 2 s/);
      assert.ok(o.duration_ms >= 1500 && o.duration_ms < 10_000, `duration ${o.duration_ms} ms`);
      assert.equal(t.steps.length, 2);
      assert.equal(t.result!.exit_status, 'submitted');
      assert.match(requestText(server.requests[1]!), /timed out after 2 s/, 'the model is told the command timed out');
    });
  } finally {
    tmp.cleanup();
  }
});

test('output over the cap is truncated with a marker, counted in output_bytes, and fed back truncated (scripted model server)', { timeout: 60_000 }, async () => {
  const tmp = tempDir('cap');
  const task = exampleTask('factorial-of-5');
  try {
    await withServer(perTask({ [taskPrompt(task)]: [bashReply('yes x | head -c 200000'), submitReply('<answer>120</answer>')] }), async (server) => {
      const { report, traj, engine } = await runEngine({ tasksFile: EXAMPLES_TASKS, out: tmp.dir, filter: 'factorial-of-5', outputCap: 4096 }, { server });
      assert.equal(report.resolved, 1);
      const t = traj('factorial-of-5');
      const o = t.steps[0]!.observations[0]!;
      assert.equal(o.truncated, true);
      assert.equal(o.exit_code, 0);
      assert.ok(o.output_bytes >= 200_000, `output_bytes ${o.output_bytes}`);
      assert.ok(o.stdout.length < 4096 + 200, `stdout kept ${o.stdout.length} chars`);
      assert.match(o.stdout, /\[trajlab: output truncated, \d+ bytes omitted\]/);
      assert.ok(o.stdout.startsWith('x\nx\n') && o.stdout.endsWith('x\nx\n'), 'head and tail are kept');
      const next = server.requests.find((r) => r.step === 1)!;
      const toolMsg = next.body.messages.at(-1)!;
      assert.equal(toolMsg.role, 'tool');
      assert.match(String(toolMsg.content), /\[trajlab: output truncated/);
      assert.ok(String(toolMsg.content).length < 4096 + 400);
      assert.ok(fs.statSync(engine.store.trajectoryPath('factorial-of-5', 1)).size < 64 * 1024, 'the trajectory holds the capped output only');
    });
  } finally {
    tmp.cleanup();
  }
});

test('cancel mid-run stops every attempt and leaves no container (scripted model server)', { timeout: 60_000 }, async () => {
  const tmp = tempDir('cancel');
  const tasksFile = path.join(ENGINE_FIXTURES, 'sleepy.tasks.jsonl');
  try {
    await withServer(perTask({ '[sleepy-': [bashReply('sleep 30'), submitReply('<answer>done</answer>')] }), async (server) => {
      const logger = memoryLogger();
      const running = new Set<string>();
      const engine = new RunEngine(
        { tasksFile, out: tmp.dir, workers: 4, model: 'openai:scripted', baseUrl: server.baseUrl },
        {
          logger,
          env: { OPENAI_API_KEY: API_KEY },
          onEvent: (e) => {
            if (e.type === 'attempt' && e.state.kind === 'running') running.add(e.taskId);
          },
        },
      );
      const done = engine.run();
      try {
        await waitFor('3 attempts running', () => running.size === 3, 30_000);
        // Every container is running the agent's `sleep 30` (as seen by the Docker engine).
        await waitFor(
          'sleep 30 in all 3 containers',
          async () => {
            const list = await containersOfRun(engine.runId);
            if (list.length !== 3) return false;
            const tops = await Promise.all(list.map((c) => dockerClient().getContainer(c.Id).top().catch(() => ({ Processes: [] as string[][] }))));
            return tops.every((t) => (t.Processes ?? []).some((p: string[]) => p.join(' ').includes('sleep 30')));
          },
          30_000,
          100,
        );
        const cancelledAt = Date.now();
        engine.cancel();
        const report = await within(done, 15_000, 'run() after cancel');
        assert.ok(Date.now() - cancelledAt < 10_000, 'cancel does not wait for the commands');
        assert.equal(report.resolved, 0);
      } catch (err) {
        engine.cancel();
        await removeContainersOfRun(engine.runId);
        throw err;
      }
      assert.deepEqual(await containersOfRun(engine.runId), [], 'no container is left');
      const info = readJson<RunInfo>(path.join(engine.store.dir, 'run.json'));
      assert.equal(info.status, 'cancelled');
      assert.deepEqual(engine.attemptStates().map((a) => a.state.kind), ['cancelled', 'cancelled', 'cancelled']);
      const lastEvent = JSON.parse(fs.readFileSync(path.join(engine.store.dir, 'events.jsonl'), 'utf8').trim().split('\n').at(-1)!) as { type: string; status: string };
      assert.deepEqual([lastEvent.type, lastEvent.status], ['run_finished', 'cancelled']);
      // The attempts are left unfinished on disk, so a resume continues them.
      for (const id of ['sleepy-1', 'sleepy-2', 'sleepy-3']) assert.equal(readTrajectory(engine.store.trajectoryPath(id, 1)).status, 'running');
    });
  } finally {
    tmp.cleanup();
  }
});

test('task ids like ../../etc/x write nothing outside the run directory (gold policy)', { timeout: 60_000 }, async () => {
  const tmp = tempDir('ids');
  const tasksFile = path.join(ENGINE_FIXTURES, 'unsafe-ids.tasks.jsonl');
  const ids = readTasks(tasksFile).map((t) => t.task_id);
  assert.ok(ids.includes('../../etc/x'));
  try {
    const out = path.join(tmp.dir, 'out');
    const { report, engine, traj } = await runEngine({ tasksFile, out, model: 'gold', workers: 4 });
    assert.equal(report.resolved, ids.length);
    const runDir = engine.store.dir;
    assert.equal(runDir, path.join(out, 'runs', engine.runId));
    for (const p of listTree(tmp.dir)) {
      if (fs.statSync(p).isDirectory() && isInside(runDir, p)) continue; // out/, out/runs/
      assert.ok(isInside(p, runDir), `${p} is outside ${runDir}`);
    }
    const names = fs.readdirSync(engine.store.trajectoriesDir); // no temp file of an atomic write is left either
    assert.equal(names.length, ids.length);
    for (const name of names) {
      assert.ok(!name.includes('/') && !name.includes('\\') && !name.includes('..'), `unsafe file name ${JSON.stringify(name)}`);
      assert.match(name, /^[\p{L}\p{N}_-][\p{L}\p{N}._-]*\.1\.json$/u);
    }
    for (const id of ids) {
      const file = engine.store.trajectoryPath(id, 1);
      assert.equal(path.dirname(file), engine.store.trajectoriesDir);
      const t = traj(id);
      assert.equal(t.task_id, id, 'the id round-trips exactly');
      assert.equal(t.result!.reward, 1);
    }
  } finally {
    tmp.cleanup();
  }
});

test('two task ids with one safe file name (a/b and a_b-c14cddc0) get two trajectories, also after a resume; report, stats and export agree (gold policy)', { timeout: 90_000 }, async () => {
  const tmp = tempDir('collide');
  const task = (id: string) => JSON.stringify({ task_id: id, description: 'Answer ok.', eval: { answer: 'ok' }, solution: { answer: '<answer>ok</answer>' } });
  try {
    const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
    const out = path.join(tmp.dir, 'out');
    // First only a/b: it gets the plain safe name. Then the tasks file gains the id spelled like that name.
    fs.writeFileSync(tasksFile, task('a/b') + '\n');
    const first = await runEngine({ tasksFile, out, model: 'gold', runId: 'collide' });
    const abFile = first.engine.store.trajectoryPath('a/b', 1);
    assert.equal(path.basename(abFile), 'a_b-c14cddc0.1.json');
    const abStarted = first.traj('a/b').started_at;
    fs.appendFileSync(tasksFile, task('a_b-c14cddc0') + '\n' + task('Case') + '\n' + task('case') + '\n');
    const { report, engine, traj } = await runEngine({ tasksFile, out, model: 'gold', runId: 'collide' });
    const ids = ['a/b', 'a_b-c14cddc0', 'Case', 'case'];
    assert.equal(report.resolved, 4);
    const names = fs.readdirSync(engine.store.trajectoriesDir).sort();
    assert.equal(names.length, 4, `one file per id: ${names.join(', ')}`);
    assert.equal(new Set(names.map((n) => n.toLowerCase())).size, 4, 'distinct on a case-insensitive file system too');
    for (const id of ids) assert.equal(traj(id).task_id, id);
    assert.equal(engine.store.trajectoryPath('a/b', 1), abFile, 'the resumed run finds a/b where it wrote it');
    assert.equal(traj('a/b').started_at, abStarted, 'a/b was not run again');

    const stats = await runCli(['stats', engine.store.dir, '--json']);
    assert.equal(stats.code, 0, stats.stderr);
    assert.equal(JSON.parse(stats.stdout).overall.trajectories, 4);
    const exported = await runCli(['export', engine.store.dir, '--format', 'openai', '--out', path.join(tmp.dir, 'sft.jsonl')]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stderr, /exported 4 of 4 trajectories/);
  } finally {
    tmp.cleanup();
  }
});

test('an endpoint that echoes the API key puts it in no file of the run, no log line and no event (scripted model server)', { timeout: 90_000 }, async () => {
  const tmp = tempDir('echo-key');
  const task = (id: string) => JSON.stringify({ task_id: id, description: `[${id}] Do it.`, eval: ['true'] });
  const scripts = {
    // A 401 whose message repeats the key, as some gateways do.
    '[echo-error]': [errorReply(401, { message: `Incorrect API key provided: Bearer ${API_KEY}` })],
    // A reply and a command output that carry it.
    '[echo-output]': [bashReply(`echo "the key is ${API_KEY}"`), submitReply()],
  };
  try {
    const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
    fs.writeFileSync(tasksFile, task('echo-error') + '\n' + task('echo-output') + '\n');
    await withServer(perTask(scripts), async (server) => {
      // runEngine checks every file under the run folder.
      const { report, traj, logger, events } = await runEngine({ tasksFile, out: path.join(tmp.dir, 'out') }, { server });
      assert.equal(report.total, 2);
      const failed = traj('echo-error');
      assert.equal(failed.result!.exit_status, 'error');
      assert.match(failed.result!.error ?? '', /401.*Bearer \[redacted\]/);
      const echoed = traj('echo-output');
      assert.match(echoed.steps[0]!.observations[0]!.stdout, /the key is \[redacted\]/);
      for (const line of logger.lines) assert.ok(!line.includes(API_KEY), `the key is in a log line: ${line}`);
      assert.ok(!JSON.stringify(events).includes(API_KEY), 'the key is in an engine event');
    });
  } finally {
    tmp.cleanup();
  }
});

test('malformed lines are reported with line, column and message, and the good task still runs (gold policy)', { timeout: 60_000 }, async () => {
  const tmp = tempDir('malformed');
  const tasksFile = path.join(ENGINE_FIXTURES, 'malformed.tasks.jsonl');
  const lines = fs.readFileSync(tasksFile, 'utf8').split('\n');
  const col = (line: number, needle: string) => lines[line - 1]!.indexOf(needle) + 1;
  try {
    const { report, info, traj, logger } = await runEngine({ tasksFile, out: tmp.dir, model: 'gold' });
    const expected = [
      { file: tasksFile, line: 3, column: col(3, '"eval"'), message: 'invalid JSON: comma expected' },
      { file: tasksFile, line: 4, column: col(4, '"ten"'), message: '"max_steps" must be an integer (got "ten")' },
      { file: tasksFile, line: 5, column: col(5, '"good-answer"'), message: 'duplicate task_id "good-answer" (first used on line 2)' },
    ];
    assert.deepEqual(report.rejected_lines, expected);
    assert.deepEqual(info.rejected_lines, expected);
    for (const r of expected) assert.ok(logger.lines.some((l) => l.includes(`${r.file}:${r.line}:${r.column}: ${r.message}`)), `logged: ${r.line}`);
    assert.equal(report.total, 1);
    assert.deepEqual(report.ids_resolved, ['good-answer']);
    const t = traj('good-answer');
    assert.equal(t.result!.reward, 1);
    assert.equal(t.source.line, 2);
    assert.equal(t.task.description, 'Reply with the word ok in answer tags.', 'the first line with the id wins');
  } finally {
    tmp.cleanup();
  }
});

test('replay of a recorded trajectory reproduces every observation; a tampered record shows its difference (scripted model server, then replay policy)', { timeout: 90_000 }, async () => {
  const tmp = tempDir('replay');
  const task = exampleTask('log-triage-5xx');
  const script: Reply[] = [
    bashReply(task.solution!.commands![0]!),
    bashReply('cat /workspace/errors.txt && sha256sum /workspace/access.log && python3 -c "print(6*7)"'),
    editReply({ command: 'view', path: 'errors.txt' }),
    submitReply(),
  ];
  try {
    const recordedPath = await withServer(perTask({ [taskPrompt(task)]: script }), async (server) => {
      const { report, engine } = await runEngine({ tasksFile: EXAMPLES_TASKS, out: tmp.dir, filter: 'log-triage-5xx', runId: 'recorded' }, { server });
      assert.equal(report.resolved, 1);
      return engine.store.trajectoryPath('log-triage-5xx', 1);
    });
    const recorded = readTrajectory(recordedPath);
    assert.equal(recorded.steps.length, 4);

    const replay = await runEngine({ tasksFile: EXAMPLES_TASKS, out: tmp.dir, model: `replay:${recordedPath}`, runId: 'replayed' });
    assert.equal(replay.report.total, 1, 'replay runs only the recorded task');
    assert.equal(replay.report.resolved, 1);
    const t = replay.traj('log-triage-5xx');
    assertTrajectoryShape(t, 'log-triage-5xx');
    assert.equal(t.agent.policy, 'replay');
    assert.equal(t.steps.length, recorded.steps.length);
    assert.deepEqual(t.result!.replay, { source: recordedPath, steps_compared: 4, differences: [] });
    assert.equal(t.result!.diff, recorded.result!.diff);
    assert.deepEqual(t.steps.map((s) => s.actions), recorded.steps.map((s) => s.actions));

    // A record whose output does not match what the commands print is caught.
    const tampered = structuredClone(recorded);
    tampered.steps[1]!.observations[0]!.stdout = 'tampered\n';
    const tamperedPath = path.join(tmp.dir, 'tampered.json');
    fs.writeFileSync(tamperedPath, JSON.stringify(tampered));
    const again = await runEngine({ tasksFile: EXAMPLES_TASKS, out: tmp.dir, model: `replay:${tamperedPath}`, runId: 'tampered' });
    const diffs = again.traj('log-triage-5xx').result!.replay!.differences;
    assert.equal(diffs.length, 1, JSON.stringify(diffs));
    assert.deepEqual({ ...diffs[0]!, replayed: undefined }, { step: 1, action: 0, field: 'stdout', recorded: 'tampered\n', replayed: undefined });
    assert.equal(diffs[0]!.replayed, recorded.steps[1]!.observations[0]!.stdout);
  } finally {
    tmp.cleanup();
  }
});

test('pass@k: attempt 1 succeeds and attempt 2 fails → pass@1 0.5, pass@2 1 (scripted model server)', { timeout: 60_000 }, async () => {
  const tmp = tempDir('passk');
  const task = exampleTask('factorial-of-5');
  // Conversation 1 is attempt 1 (one worker runs the attempts in order).
  const respond = perTask({
    [taskPrompt(task)]: (ctx) => runScript([submitReply(ctx.conversation === 1 ? '<answer>120</answer>' : '<answer>121</answer>')], ctx),
  });
  try {
    await withServer(respond, async (server) => {
      const { report, traj, engine } = await runEngine({ tasksFile: EXAMPLES_TASKS, out: tmp.dir, filter: 'factorial-of-5', attempts: 2, workers: 1 }, { server });
      assert.equal(report.attempts, 2);
      assert.equal(report.total, 1);
      assert.deepEqual(report.pass_at_k, { 'pass@1': 0.5, 'pass@2': 1 });
      assert.equal(report.resolved, 1, 'a task is resolved when any attempt succeeded');
      assert.equal(report.reward_mean, 0.5);
      assert.equal(traj('factorial-of-5', 1).result!.success, true);
      assert.equal(traj('factorial-of-5', 2).result!.success, false);
      assert.equal(traj('factorial-of-5', 2).result!.evaluation!.answer!.got, '121');
      assert.deepEqual(fs.readdirSync(engine.store.trajectoriesDir).sort(), ['factorial-of-5.1.json', 'factorial-of-5.2.json']);
    });
  } finally {
    tmp.cleanup();
  }
});

test(
  'the diff holds the agent\'s changes only, not files the task\'s setup created (gold policy)',
  { timeout: 60_000 },
  async () => {
    const tmp = tempDir('setupdiff');
    try {
      const { traj } = await runEngine({ tasksFile: EXAMPLES_TASKS, out: tmp.dir, model: 'gold', filter: 'ini-config-js__crlf-line-endings' });
      const t = traj('ini-config-js__crlf-line-endings');
      assert.equal(t.result!.reward, 1);
      assert.deepEqual(t.result!.diff_stats.files.map((f) => f.path), ['src/ini.js']);
    } finally {
      tmp.cleanup();
    }
  },
);

test('resuming an attempt cancelled during its evaluation evaluates it without asking the model again (scripted model server)', { timeout: 60_000 }, async () => {
  const tmp = tempDir('evalresume');
  const tasksFile = path.join(ENGINE_FIXTURES, 'slow-eval.tasks.jsonl');
  const script: Reply[] = [bashReply('touch /workspace/done.txt'), submitReply('all done')];
  try {
    await withServer(perTask({ '[slow-eval]': script }), async (server) => {
      const options = { tasksFile, out: tmp.dir, runId: 'evalresume', model: 'openai:scripted', baseUrl: server.baseUrl };
      let cancelled = false;
      const first = new RunEngine(options, {
        logger: memoryLogger(),
        env: { OPENAI_API_KEY: API_KEY },
        onEvent: (e) => {
          // Cancel as the evaluation starts (once the engine's state change returns): the agent
          // has submitted, the result is not written yet.
          if (e.type === 'attempt' && e.state.kind === 'evaluating' && !cancelled) {
            cancelled = true;
            queueMicrotask(() => first.cancel());
          }
        },
      });
      await within(first.run(), 30_000, 'the first run');
      assert.ok(cancelled, 'the attempt reached its evaluation');
      const before = readTrajectory(first.store.trajectoryPath('slow-eval', 1));
      assert.equal(before.status, 'running');
      assert.equal(before.steps.length, 2);
      assert.equal(server.requests.length, 2);

      const { report, traj } = await runEngine(options, { server });
      const t = traj('slow-eval');
      assert.equal(t.steps.length, 2, 'no step after the submission');
      assert.deepEqual(t.steps, before.steps);
      assert.equal(server.requests.length, 2, 'the model is not asked again');
      assert.equal(t.result!.exit_status, 'submitted');
      assert.equal(t.result!.submission, 'all done');
      assert.equal(t.result!.error, undefined);
      assert.equal(t.result!.reward, 1, 'the restored container passes the eval');
      assert.equal(report.resolved, 1);
    });
  } finally {
    tmp.cleanup();
  }
});

test('a task the gold policy cannot run is recorded as an error attempt and counted in the report (gold policy)', { timeout: 60_000 }, async () => {
  const tmp = tempDir('nosolution');
  try {
    const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
    fs.writeFileSync(
      tasksFile,
      JSON.stringify({ task_id: 'no-solution', description: 'x', eval: ['true'] }) + '\n' +
        JSON.stringify({ task_id: 'ok', description: 'y', solution: { commands: ['touch ok'] }, eval: ['test -f ok'] }) + '\n',
    );
    const { report, traj } = await runEngine({ tasksFile, out: path.join(tmp.dir, 'out'), model: 'gold' });
    assert.deepEqual(report.ids_error, ['no-solution']);
    assert.deepEqual(report.ids_resolved, ['ok']);
    assert.equal(report.reward_mean, 0.5);
    const t = traj('no-solution');
    assert.equal(t.result!.exit_status, 'error');
    assert.match(t.result!.error ?? '', /has no "solution"/);
  } finally {
    tmp.cleanup();
  }
});

test('resuming over a trajectory file that cannot be read logs which file and why, then runs its attempt again (gold policy)', { timeout: 60_000 }, async () => {
  const tmp = tempDir('unreadabletraj');
  try {
    const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
    fs.writeFileSync(tasksFile, JSON.stringify({ task_id: 'redo', description: 'x', solution: { commands: ['touch ok'] }, eval: ['test -f ok'] }) + '\n');
    const out = path.join(tmp.dir, 'out');
    const first = await runEngine({ tasksFile, out, model: 'gold', runId: 'unreadable' });
    const file = first.engine.store.trajectoryPath('redo', 1);
    fs.writeFileSync(file, '{"schema_version": "trajlab.trajectory/1", "task_id": "redo", cut off');
    const again = await runEngine({ tasksFile, out, model: 'gold', runId: 'unreadable' });
    assert.deepEqual(again.report.ids_resolved, ['redo']);
    assert.equal(again.traj('redo').status, 'finished', 'the attempt ran again and replaced the file');
    const warning = again.logger.lines.find((l) => l.startsWith('warn: ') && l.includes(file));
    assert.ok(warning, `a warning names the unreadable file:\n${again.logger.lines.join('\n')}`);
    assert.match(warning, /cannot be read \(.+\): its attempt runs again/);
  } finally {
    tmp.cleanup();
  }
});

test('a reward file that exists but cannot be read is an evaluation error with reward 0, not a reward by exit code (gold policy)', { timeout: 60_000 }, async () => {
  const tmp = tempDir('rewardfile');
  try {
    const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
    const task = (task_id: string, evalCommand: string) => ({ task_id, description: 'x', solution: { commands: ['true'] }, eval: [evalCommand] });
    fs.writeFileSync(
      tasksFile,
      [
        // The verifier's 0 lies behind a symlink, or the "file" is a folder: every eval command still exits 0.
        task('reward-symlink', 'echo 0 > /tmp/reward && ln -s /tmp/reward /logs/reward.txt'),
        task('reward-directory', 'mkdir -p /logs/reward.txt'),
        task('reward-json-directory', 'mkdir -p /logs/reward.json'),
        // No reward file at all: the exit codes decide, as before.
        task('no-reward-file', 'true'),
      ]
        .map((t) => JSON.stringify(t))
        .join('\n') + '\n',
    );
    const { report, traj } = await runEngine({ tasksFile, out: path.join(tmp.dir, 'out'), model: 'gold', workers: 2 });
    assert.deepEqual(report.ids_resolved, ['no-reward-file']);
    assert.equal(traj('no-reward-file').result!.evaluation!.method, 'exit_code');
    for (const [id, file, why] of [
      ['reward-symlink', '/logs/reward.txt', /not a regular file \(a symlink\)/],
      ['reward-directory', '/logs/reward.txt', /is a directory/],
      ['reward-json-directory', '/logs/reward.json', /is a directory/],
    ] as const) {
      const evaluation = traj(id).result!.evaluation!;
      assert.equal(evaluation.method, 'reward_file', id);
      assert.equal(evaluation.reward_file, file, id);
      assert.equal(evaluation.reward, 0, id);
      assert.equal(traj(id).result!.reward, 0, id);
      assert.match(evaluation.error ?? '', new RegExp(`could not read ${file}: .*${why.source}`), id);
    }
  } finally {
    tmp.cleanup();
  }
});

/** A real 1×1 RGBA PNG (one red pixel), 70 bytes, with its base64 and SHA-256 computed outside this code (Python). */
const RED_PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489' +
    '0000000d4944415478da63f8cfc0f01f00050001ff56c72f0d0000000049454e44ae426082',
  'hex',
);
const RED_PNG_DATA_URL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP4z8DwHwAFAAH/VscvDQAAAABJRU5ErkJggg==';
const RED_PNG_SHA256 = '49e1dad481e94dfab7c9573a9a81d56aa2ca629fe15a3f7a910aa4f47601c00d';

test('task images reach the model as image_url data URLs in tool and text mode, are recorded by reference, survive replay, and export to ShareGPT (scripted model server)', { timeout: 120_000 }, async () => {
  const tmp = tempDir('images');
  const prompt = 'What colour is the pixel in the image?';
  const missingPrompt = 'This task names an image that is not there.';
  try {
    fs.mkdirSync(path.join(tmp.dir, 'shots'));
    const png = path.join(tmp.dir, 'shots', 'red.png');
    fs.writeFileSync(png, RED_PNG);
    const tasksFile = path.join(tmp.dir, 'tasks.jsonl');
    fs.writeFileSync(
      tasksFile,
      JSON.stringify({ task_id: 'pixel', task_type: 'reasoning', description: prompt, images: ['shots/red.png'], eval: { answer: 'red' } }) + '\n' +
        JSON.stringify({ task_id: 'no-image', task_type: 'reasoning', description: missingPrompt, images: ['shots/nope.png'], eval: { answer: 'x' } }) + '\n',
    );
    const expectedImages = [{ path: png, mime: 'image/png', sha256: RED_PNG_SHA256, bytes: 70 }];
    /** The first user message of a request, as the SDK sent it. */
    const firstUser = (r: ScriptedModelServer['requests'][number]) => r.body.messages.find((m) => m.role === 'user')!;
    const expectedContent = (text: string) => [
      { type: 'text', text },
      { type: 'image_url', image_url: { url: RED_PNG_DATA_URL } },
    ];

    // Tool mode: a bash step, then submit. Every request resends the image with the task prompt.
    const toolScript: Reply[] = [bashReply('echo looking'), submitReply('<answer>red</answer>')];
    const recordedPath = await withServer(perTask({ [prompt]: toolScript, [missingPrompt]: [submitReply('x')] }), async (server) => {
      const { report, traj, engine } = await runEngine({ tasksFile, out: path.join(tmp.dir, 'out'), runId: 'tools' }, { server });
      assert.deepEqual(report.ids_resolved, ['pixel']);
      assert.deepEqual(report.ids_error, ['no-image']);
      const t = traj('pixel');
      assertTrajectoryShape(t, 'pixel');
      assert.equal(t.messages[1]!.content, `${prompt}\n\nGive your final answer as <answer>…</answer>.`, 'the content stays a string');
      assert.deepEqual(t.messages[1]!.images, expectedImages);
      assert.ok(!fs.readFileSync(engine.store.trajectoryPath('pixel', 1), 'utf8').includes(RED_PNG_DATA_URL.slice(22)), 'the image bytes are not in the trajectory file');
      assert.equal(t.result!.reward, 1);

      const served = server.requests.filter((r) => r.prompt.includes(prompt));
      assert.equal(served.length, 2);
      for (const r of served) assert.deepEqual(firstUser(r).content, expectedContent(t.messages[1]!.content!));
      // Later messages stay plain strings.
      assert.equal(typeof served[1]!.body.messages.at(-1)!.content, 'string');

      const missing = traj('no-image');
      assert.equal(missing.result!.exit_status, 'error');
      assert.equal(
        missing.result!.error,
        `task image 1 "shots/nope.png" does not exist (looked for ${path.join(tmp.dir, 'shots', 'nope.png')}): the attempt cannot start; fix the path in "images" (relative to the tasks file, or absolute)`,
      );
      assert.equal(server.requests.filter((r) => r.prompt.includes(missingPrompt)).length, 0, 'the model is never asked');
      return engine.store.trajectoryPath('pixel', 1);
    });

    // Text mode: the same first user message, one bash block per reply.
    await withServer(perTask({ [prompt]: [bashBlockReply(`echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && echo '<answer>red</answer>'`)] }), async (server) => {
      const { report, traj } = await runEngine({ tasksFile, out: path.join(tmp.dir, 'out'), runId: 'text', mode: 'text', filter: 'pixel' }, { server });
      assert.deepEqual(report.ids_resolved, ['pixel']);
      const t = traj('pixel');
      assert.equal(t.agent.mode, 'text');
      assert.deepEqual(t.messages[1]!.images, expectedImages);
      assert.equal(server.requests.length, 1);
      assert.deepEqual(firstUser(server.requests[0]!).content, expectedContent(t.messages[1]!.content!));
      assert.equal(server.requests[0]!.body.tools, undefined);
    });

    // Replay of the tool-mode trajectory: no model, same actions, the images recorded again.
    const replay = await runEngine({ tasksFile, out: path.join(tmp.dir, 'out'), model: `replay:${recordedPath}`, runId: 'replayed' });
    assert.equal(replay.report.resolved, 1);
    const replayed = replay.traj('pixel');
    assert.deepEqual(replayed.result!.replay, { source: recordedPath, steps_compared: 2, differences: [] });
    assert.deepEqual(replayed.messages[1]!.images, expectedImages);

    // trajlab export --format sharegpt of the tool-mode run: images column with the absolute path, one <image> token.
    const out = path.join(tmp.dir, 'pixel.sharegpt.jsonl');
    const r = await runCli(['export', path.dirname(path.dirname(recordedPath)), '--format', 'sharegpt', '--out', out, '--task', 'pixel']);
    assert.equal(r.code, 0, r.stderr);
    const rows = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0].images, [png]);
    assert.equal(rows[0].conversations[0].from, 'human');
    assert.equal(rows[0].conversations[0].value, `<image>${prompt}\n\nGive your final answer as <answer>…</answer>.`);
  } finally {
    tmp.cleanup();
  }
});
