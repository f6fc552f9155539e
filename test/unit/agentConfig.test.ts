/**
 * Agent configurations (server/src/agent/agentConfig.ts): the shipped example files are the
 * built-ins; `examples/agents/default.yaml` renders exactly TrajLab's built-in prompts; the
 * `mini-swe-agent` config reproduces the messages of a real mini-swe-agent trajectory
 * (../shared/fixtures/foreign/mini-swe-agent.github_issue.traj.json, SWE-agent/mini-swe-agent
 * tests/test_data): its system and instance messages, the commands its replies carry, its
 * observation messages and its final submission message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Observation } from '../../common/src/trajectory';
import { formatObservation, parseActions } from '../../server/src/agent/actions';
import { AgentProtocol, MINI_SWE_AGENT, agentConfigHash, readAgentConfig } from '../../server/src/agent/agentConfig';
import { systemPrompt, taskMessage } from '../../server/src/agent/prompts';
import type { Task } from '../../common/src/task';

const REPO = path.resolve(__dirname, '..', '..');
const FIXTURE = path.join(REPO, '..', 'shared', 'fixtures', 'foreign', 'mini-swe-agent.github_issue.traj.json');
const messages = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as { role: string; content: string }[];

const obs = (stdout: string, exit: number | null = 0, stderr = '', timedOut = false): Observation => ({ stdout, stderr, exit_code: exit, truncated: false, timed_out: timedOut, output_bytes: 0, duration_ms: 0 });

test('the shipped examples/agents files are the built-in configs; --agent default.yaml renders exactly the built-in prompts and observations', () => {
  assert.deepEqual(readAgentConfig(path.join(REPO, 'examples', 'agents', 'mini-swe-agent.yaml')), MINI_SWE_AGENT);
  assert.equal(readAgentConfig('mini-swe-agent'), MINI_SWE_AGENT);
  const d = new AgentProtocol(readAgentConfig(path.join(REPO, 'examples', 'agents', 'default.yaml')));
  for (const mode of ['tools', 'text'] as const) {
    for (const [workdir, timeout] of [['/workspace', 120], ['/testbed', 30]] as const) {
      assert.equal(d.systemPrompt({ workdir, commandTimeoutSec: timeout, mode, tools: [] }), systemPrompt(mode, workdir, timeout), `${mode} ${workdir}`);
    }
  }
  const answer: Task = { task_id: 'a', description: 'Compute 5!', eval: { answer: '120' } };
  const plain: Task = { task_id: 'b', description: 'Fix the bug.\n\nDetails.', eval: ['true'] };
  assert.equal(d.instanceMessage('Compute 5!', 'Give your final answer as <answer>…</answer>.', '/w'), taskMessage(answer));
  assert.equal(d.instanceMessage('Fix the bug.\n\nDetails.', '', '/w'), taskMessage(plain));
  for (const o of [obs('a\n'), obs('', 1, 'boom'), obs('out', null, 'err'), obs('')]) assert.equal(d.observation(o), formatObservation(o));
});

test("mini-swe-agent's config reproduces a real mini-swe-agent trajectory: system and instance messages, the commands of its replies, each observation message and the final submission message", () => {
  const mini = new AgentProtocol(MINI_SWE_AGENT);
  assert.equal(mini.systemPrompt({ workdir: '/testbed', commandTimeoutSec: 60, mode: 'text', tools: [] }), messages[0]!.content);
  const instance = messages[1]!.content;
  const task = instance.slice('Please solve this issue: '.length, instance.indexOf('\n\nYou can execute bash commands'));
  assert.equal(mini.instanceMessage(task, '', '/testbed'), instance);
  const replies = messages.filter((m) => m.role === 'assistant');
  const commands = replies.map((m) => parseActions({ role: 'assistant', content: m.content }, 'text', mini));
  assert.ok(commands.every((a) => a.length === 1 && a[0]!.kind === 'bash'), JSON.stringify(commands));
  assert.equal((commands[0]![0] as { command: string }).command, 'cat /Users/fuchur/Documents/24/git_sync/swe-agent-test-repo/tests/./missing_colon.py');
  // Every observation message, rendered again from its return code and output, is the same text.
  const observations = messages.slice(2).filter((m, i, all) => m.role === 'user' && all[i - 1]?.role === 'assistant' && i < all.length - 1);
  assert.equal(observations.length, replies.length - 1);
  for (const m of observations) {
    const parsed = /^<returncode>(-?\d+)<\/returncode>\n<output>\n([\s\S]*)<\/output>$/.exec(m.content);
    assert.ok(parsed, m.content.slice(0, 200));
    assert.equal(mini.observation(obs(parsed[2]!, Number(parsed[1]))), m.content);
  }
  // The last reply submits: the output after the marker line is the last user message.
  const last = messages.at(-1)!.content;
  assert.deepEqual(mini.submission(obs(`COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT\n${last}`)), { submitted: true, text: last });
  assert.deepEqual(mini.submission(obs('  \nCOMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT\nx\n', 1)), { submitted: true, text: 'x\n' }, 'left-stripped; any return code');
  assert.deepEqual(mini.submission(obs('done\nCOMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT\n')), { submitted: false, text: '' });
  // Two blocks, or none: mini-swe-agent's format error.
  const two = parseActions({ role: 'assistant', content: '```mswea_bash_command\nls\n```\n```mswea_bash_command\npwd\n```' }, 'text', mini);
  assert.equal(two[0]!.kind, 'format_error');
  assert.match((two[0] as { message: string }).message, /^Please always provide EXACTLY ONE action in triple backticks, found 2 actions\.\nIf you want to end the task/);
  assert.match(mini.observation(obs('x'.repeat(12_000)))!, /<warning>\nThe output of your last command was too long\.[\s\S]*<elided_chars>\n2000 characters elided\n<\/elided_chars>/);
});

test('an agent config file: flat or {agent: ...}, named after the file by default; mistakes are file:line:col at the bad value; the hash follows the content', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-config-'));
  try {
    const write = (name: string, text: string) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      return file;
    };
    const nested = readAgentConfig(write('mine.yaml', 'agent:\n  mode: text\n  step_limit: 12\n'));
    assert.deepEqual(nested, { name: 'mine', mode: 'text', step_limit: 12 });
    const message = (name: string, text: string) => {
      try {
        readAgentConfig(write(name, text));
      } catch (err) {
        return (err as Error).message.slice(dir.length + 1);
      }
      assert.fail('accepted');
    };
    assert.equal(message('a.yaml', 'name: a\nmode: chat\n'), 'a.yaml:2:7: "mode" must be equal to one of the allowed values (tools, text)');
    assert.equal(message('b.yaml', 'name: b\nsystem_prompt: hi\n'), 'b.yaml:2:1: unknown key "system_prompt" (an agent config has name, mode, system_template, instance_template, action_observation_template, format_error_template, action_regex, submission_message, tools, step_limit, cost_limit)');
    assert.match(message('c.yaml', 'agent:\n  system_template: "{% if x %}"\n')!, /^c\.yaml:2:20: "system_template" is not a Jinja template: /);
    assert.equal(message('d.yaml', 'action_regex: "```bash\\\\n.*```"\n'), 'd.yaml:1:15: "action_regex" needs a group: the command is its first group');
    assert.match(message('e.yaml', 'tools: [bash, browser]\n')!, /^e\.yaml:1:15: "tools\.1" must be equal to one of the allowed values \(bash, editor, submit\)$/);
    assert.equal(message('f.yaml', '- a\n'), 'f.yaml:1:1: an agent config is a map of keys (name, mode, system_template, instance_template, action_observation_template, format_error_template, action_regex, submission_message, tools, step_limit, cost_limit), or {agent: {...}}');
    assert.throws(() => readAgentConfig(path.join(dir, 'missing.yaml')), /missing\.yaml:1:1: no built-in agent config of that name \(default, mini-swe-agent\) and not a readable file/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(agentConfigHash({ name: 'x', mode: 'text' }), agentConfigHash({ mode: 'text', name: 'x' }), 'key order does not matter');
  assert.notEqual(agentConfigHash({ name: 'x', mode: 'text' }), agentConfigHash({ name: 'x', mode: 'tools' }));
});

test("tools: the config's list, narrowed by a task's expected_tools; submit always offered", () => {
  const names = (p: AgentProtocol, task: Partial<Task>) => p.toolsFor(task).map((t) => (t as { function: { name: string } }).function.name);
  const all = new AgentProtocol({ name: 'x' });
  assert.deepEqual(names(all, {}), ['bash', 'str_replace_based_edit', 'submit']);
  assert.deepEqual(names(all, { expected_tools: ['bash'] }), ['bash', 'submit']);
  assert.deepEqual(names(all, { expected_tools: ['browser', 'python_executor'] }), ['bash', 'str_replace_based_edit', 'submit'], 'no tool of ours named: all stay');
  assert.deepEqual(names(new AgentProtocol({ name: 'x', tools: ['bash'] }), { expected_tools: ['str_replace_based_edit'] }), ['bash', 'submit']);
});
