import type { Trajectory } from '../../common/src/trajectory';

/**
 * A TrajLab trajectory of `taskId` with no step yet, as an attempt starts it (status
 * `running`, a system and a user message), for tests and benches of what writes and reads them.
 */
export function runningTrajectory(taskId = 'task'): Trajectory {
  return {
    schema_version: 'trajlab.trajectory/1', run_id: 'r', task_id: taskId, attempt: 1,
    task: { task_id: taskId, description: 'd' } as Trajectory['task'],
    agent: { name: 'trajlab', version: '0', mode: 'tools', policy: 'model' },
    model: { spec: 'x', provider: 'x', name: 'x' }, system_prompt: 's', tools: [],
    messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'u' }], steps: [],
    started_at: '', ended_at: null, source: { tasks_file: '', line: 0 }, environment: { image: 'i', host: 'h' },
    status: 'running', result: null, totals: { steps: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0, duration_ms: 0 },
  };
}

/**
 * What must be the same whoever ran an attempt (a local run, a queue worker, another host): the
 * conversation, the actions and their outputs (stdout, stderr, exit code), usage and cost, the
 * result. Left out: hosts, times and durations, container ids, the run id.
 */
export function trajectoryContent(t: Trajectory): unknown {
  return {
    task_id: t.task_id,
    attempt: t.attempt,
    status: t.status,
    system: t.system_prompt,
    messages: t.messages,
    steps: t.steps.map((s) => ({ index: s.index, response: s.response, actions: s.actions, observations: s.observations.map((o) => ({ stdout: o.stdout, stderr: o.stderr, exit_code: o.exit_code })), usage: s.usage, cost_usd: s.cost_usd })),
    result: t.result && { exit_status: t.result.exit_status, submission: t.result.submission, diff: t.result.diff, reward: t.result.reward, success: t.result.success },
  };
}

/** Fake credentials of the right shapes (none is real; AWS's documented example keys are allow-listed by the rule, so these are made up). */
export const LEAKED = {
  awsKeyId: 'AKIAQ3EGRWZ7TK2LJ4XH',
  awsSecret: 'Zx9kQ2mP7vL4nR8tW1yB6cF3hJ5sD0gA2eK7uXqM',
  githubToken: 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8',
  /** An OpenSSH private key block: base64 of `openssh-key-v1\0` and bytes, as ssh-keygen writes it. */
  opensshKey: (() => {
    const body = Buffer.concat([Buffer.from('openssh-key-v1\0', 'binary'), Buffer.from(Array.from({ length: 380 }, (_, i) => (i * 73 + 11) % 256))]).toString('base64');
    return `-----BEGIN OPENSSH PRIVATE KEY-----\n${body.match(/.{1,70}/g)!.join('\n')}\n-----END OPENSSH PRIVATE KEY-----`;
  })(),
};

/**
 * A finished tool-mode trajectory of `taskId` with two steps: `env; cat ~/.ssh/id_rsa` (its
 * observation is `output`), then a submit whose reply quotes `echo` back. Every export format can
 * hold it.
 */
export function trajectoryWithOutput(taskId: string, output: string, echo = 'Done.'): Trajectory {
  const t = runningTrajectory(taskId);
  const cmd = 'env; cat ~/.ssh/id_rsa';
  const call = { id: 'call_1', type: 'function' as const, function: { name: 'bash', arguments: JSON.stringify({ command: cmd }) } };
  const submit = { id: 'call_2', type: 'function' as const, function: { name: 'submit', arguments: '{}' } };
  const obs = { stdout: output, stderr: '', exit_code: 0, truncated: false, timed_out: false, output_bytes: output.length, duration_ms: 5 };
  t.tools = [{ type: 'function', function: { name: 'bash', description: 'Run a command.', parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } } }];
  t.messages.push(
    { role: 'assistant', content: 'Let me look at the environment.', tool_calls: [call] },
    { role: 'tool', tool_call_id: 'call_1', content: output },
    { role: 'assistant', content: echo, tool_calls: [submit] },
    { role: 'tool', tool_call_id: 'call_2', content: 'submitted' },
  );
  const at = (s: number) => new Date(1.7e12 + s * 1000).toISOString();
  const usage = { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 };
  t.steps.push(
    { index: 0, started_at: at(0), ended_at: at(1), latency_ms: 10, response: { content: 'Let me look at the environment.', tool_calls: [call] }, usage, cost_usd: 0, actions: [{ kind: 'bash', command: cmd, tool_call_id: 'call_1' }], observations: [obs] },
    { index: 1, started_at: at(1), ended_at: at(2), latency_ms: 10, response: { content: echo, tool_calls: [submit] }, usage, cost_usd: 0, actions: [{ kind: 'submit', tool_call_id: 'call_2' }], observations: [] },
  );
  Object.assign(t, {
    status: 'finished',
    started_at: at(0),
    ended_at: at(2),
    result: { exit_status: 'submitted', submission: '', diff: '', diff_stats: { files_changed: 0, insertions: 0, deletions: 0, files: [] }, evaluation: null, reward: 1, success: true },
    totals: { steps: 2, prompt_tokens: 200, completion_tokens: 20, cost_usd: 0, duration_ms: 2000 },
  });
  return t;
}
