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
