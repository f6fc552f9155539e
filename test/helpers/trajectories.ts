import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Task } from '../../common/src/task';
import type { Action, ExitStatus, Observation, Trajectory } from '../../common/src/trajectory';

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

/** What `finishedTrajectory` builds: one step per action, each with its observation. */
export interface TrajectorySpec {
  taskId?: string;
  attempt?: number;
  runId?: string;
  /** The actions in order, one step each; a string is a bash command. */
  actions: (string | Action)[];
  /** Each action's observation: a string is its stdout (exit code 0); absent: `output <i>`. */
  outputs?: (string | Partial<Observation> | undefined)[];
  diff?: string;
  reward?: number;
  /** Default `done` (a blank one with no diff is an empty submission). */
  submission?: string | null;
  /** Default `submitted`. */
  exitStatus?: ExitStatus;
  /** Fields of the task snapshot (its eval above all). */
  task?: Partial<Task>;
  tamperedPaths?: string[];
}

const BASH_TOOL = { type: 'function', function: { name: 'bash', description: 'Run a command.', parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } } };

/**
 * A finished TrajLab trajectory built from `spec`, as an attempt in tool mode writes it: one
 * assistant tool call and one tool reply per action, the result with `diff` (and its
 * diff_stats' files from the `diff --git` headers), `reward` (default 0) and success when it is 1.
 */
export function finishedTrajectory(spec: TrajectorySpec): Trajectory {
  const t = runningTrajectory(spec.taskId ?? 'task');
  t.run_id = spec.runId ?? 'r';
  t.attempt = spec.attempt ?? 1;
  t.task = { ...t.task, ...spec.task, task_id: t.task_id };
  t.tools = [BASH_TOOL];
  spec.actions.forEach((a, i) => {
    const action: Action = typeof a === 'string' ? { kind: 'bash', command: a } : a;
    const id = `call_${i}`;
    const args = action.kind === 'bash' ? { command: action.command } : action.kind === 'edit' ? { ...action.args, command: action.command, path: action.path } : action.kind === 'submit' || action.kind === 'browser' ? {} : { text: action.message };
    const name = action.kind === 'edit' ? 'str_replace_editor' : action.kind === 'submit' ? 'submit' : 'bash';
    const call = { id, type: 'function' as const, function: { name, arguments: JSON.stringify(args) } };
    const out = spec.outputs?.[i];
    const o: Observation = { stdout: `output ${i}`, stderr: '', exit_code: 0, truncated: false, timed_out: false, output_bytes: 8, duration_ms: 5, ...(typeof out === 'string' ? { stdout: out, output_bytes: out.length } : out) };
    t.messages.push({ role: 'assistant', content: `step ${i}`, tool_calls: [call] }, { role: 'tool', tool_call_id: id, content: o.stdout });
    t.steps.push({
      index: i,
      started_at: '2025-01-01T00:00:00.000Z',
      ended_at: '2025-01-01T00:00:01.000Z',
      latency_ms: 10,
      response: { content: `step ${i}`, tool_calls: [call] },
      usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 },
      cost_usd: 0,
      actions: [{ ...action, tool_call_id: id }],
      observations: [o],
    });
  });
  const diff = spec.diff ?? '';
  const files = [...diff.matchAll(/^diff --git a\/\S+ b\/(\S+)$/gm)].map((m) => ({ path: m[1]!, insertions: 1, deletions: 1, binary: false }));
  const reward = spec.reward ?? 0;
  t.status = 'finished';
  t.ended_at = '2025-01-01T00:01:00.000Z';
  t.result = {
    exit_status: spec.exitStatus ?? 'submitted',
    submission: spec.submission === undefined ? 'done' : spec.submission,
    diff,
    diff_stats: { files_changed: files.length, insertions: files.length, deletions: files.length, files },
    evaluation: null,
    reward,
    success: reward === 1,
    ...(spec.tamperedPaths ? { tampered_paths: spec.tamperedPaths } : {}),
  };
  t.totals = { steps: t.steps.length, prompt_tokens: 100 * t.steps.length, completion_tokens: 10 * t.steps.length, cost_usd: 0, duration_ms: 1000 * t.steps.length };
  return t;
}

/**
 * Writes a run folder `dir` (run.json with `runId`, `trajectories/<task>.<attempt>.json`) holding
 * `trajectories`, as a run leaves it; returns the trajectory files in the order given. Task ids
 * must be plain file names here.
 */
export function writeRun(dir: string, runId: string, trajectories: Trajectory[]): string[] {
  fs.mkdirSync(path.join(dir, 'trajectories'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ run_id: runId, status: 'finished', created_at: '2025-01-01T00:00:00.000Z', options: { model: 'openai:test' }, trajlab_version: '0.1.0' }));
  return trajectories.map((t) => {
    const f = path.join(dir, 'trajectories', `${t.task_id}.${t.attempt}.json`);
    if (fs.existsSync(f)) throw new Error(`${f} written twice: give each trajectory its own task id and attempt`);
    fs.writeFileSync(f, JSON.stringify({ ...t, run_id: runId }, null, 1));
    return f;
  });
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
