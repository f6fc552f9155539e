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
