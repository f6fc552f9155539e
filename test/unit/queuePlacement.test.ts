/**
 * Which jobs a queue worker takes, without Redis: the queue of each attempt (queue/queue.ts),
 * the queues a worker serves, `--task-types`, the API keys a worker lacks (run/runModel.ts
 * missingApiKeys), the delays of refusals (run/queueWorker.ts) and the shared limit of attempts
 * and GPUs of one worker (run/workerCapacity.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTEMPT_QUEUES, attemptQueueName, parseTaskTypes, servedQueues } from '../../server/src/queue/queue';
import { missingApiKeys } from '../../server/src/run/runModel';
import { refusalDelayMs } from '../../server/src/run/queueWorker';
import { WorkerCapacity } from '../../server/src/run/workerCapacity';
import { GpuAllocator } from '../../server/src/runtime/gpus';

test('queues: one per task type and GPU need, no colon (BullMQ forbids it); a task without task_type is a code task', () => {
  assert.equal(attemptQueueName('swe', false), 'trajlab-attempts-swe');
  assert.equal(attemptQueueName('swe', true), 'trajlab-attempts-swe-gpu');
  assert.equal(attemptQueueName(undefined, false), attemptQueueName('code', false));
  assert.equal(ATTEMPT_QUEUES.length, 8);
  assert.ok(ATTEMPT_QUEUES.every((q) => !q.includes(':')));
});

test('a worker listens to the queues of the task types it serves, and to GPU queues only when it has GPUs', () => {
  assert.deepEqual(servedQueues(['code'], false), ['trajlab-attempts-code']);
  assert.deepEqual(servedQueues(['swe', 'code'], true), ['trajlab-attempts-swe', 'trajlab-attempts-swe-gpu', 'trajlab-attempts-code', 'trajlab-attempts-code-gpu']);
  assert.deepEqual(servedQueues(undefined, false), ['trajlab-attempts-code', 'trajlab-attempts-swe', 'trajlab-attempts-reasoning', 'trajlab-attempts-web']);
  assert.ok(!servedQueues(undefined, false).some((q) => q.endsWith('-gpu')), 'no GPU job for a worker without GPUs');
});

test('--task-types: known types, trimmed, once each; an unknown or empty list is refused, naming the known types', () => {
  assert.deepEqual(parseTaskTypes('swe,code'), ['swe', 'code']);
  assert.deepEqual(parseTaskTypes(' web , web,reasoning'), ['web', 'reasoning']);
  assert.throws(() => parseTaskTypes('swe,cod'), /unknown task type "cod"; the task types are code, swe, reasoning, web/);
  assert.throws(() => parseTaskTypes(' , '), /no task type in " , "/);
});

test('missing API keys: the variable a model needs and the environment lacks (OPENAI_API_KEY, a models entry\'s api_key_env), none for local servers and policies', () => {
  assert.deepEqual(missingApiKeys({ model: 'openai:gpt-4o-mini' }, {}), ['OPENAI_API_KEY']);
  assert.deepEqual(missingApiKeys({ model: 'gpt-4o-mini' }, { OPENAI_API_KEY: '' }), ['OPENAI_API_KEY'], 'an empty variable is no key');
  assert.deepEqual(missingApiKeys({ model: 'openai:gpt-4o-mini' }, { OPENAI_API_KEY: 'sk-x' }), []);
  assert.deepEqual(missingApiKeys({ model: 'openai:local', baseUrl: 'http://127.0.0.1:8000/v1' }, {}), [], 'a local server takes no key');
  assert.deepEqual(missingApiKeys({ model: 'vllm:Qwen/Qwen3-8B' }, {}), [], "vLLM's preset has a default key");
  assert.deepEqual(missingApiKeys({ model: 'gold' }, {}), []);
  assert.deepEqual(missingApiKeys({ model: 'deepseek:deepseek-chat' }, {}), ['DEEPSEEK_API_KEY']);
  const models = [
    { model: 'openai:a', base_url: 'http://127.0.0.1:1/v1', api_key_env: 'TEAM_KEY' },
    { model: 'openai:b', base_url: 'http://127.0.0.1:2/v1', api_key_env: 'TEAM_KEY' },
    { model: 'deepseek:deepseek-chat' },
  ];
  assert.deepEqual(missingApiKeys({ model: 'x', models }, {}), ['TEAM_KEY', 'DEEPSEEK_API_KEY'], 'an api_key_env is needed even with a base_url; each variable once');
  assert.deepEqual(missingApiKeys({ model: 'x', models }, { TEAM_KEY: 'k', DEEPSEEK_API_KEY: 'd' }), []);
});

test('a refused job waits 1 s before another worker may take it, doubled at each refusal, at most 30 s', () => {
  assert.deepEqual([1, 2, 3, 4, 5].map(refusalDelayMs), [1000, 2000, 4000, 8000, 16000]);
  assert.equal(refusalDelayMs(12), 30_000);
});

test('one limit of attempts for all of a worker\'s queues: a job past it waits for a slot, and gets none if none frees in time', async () => {
  const changes: number[] = [];
  const cap = new WorkerCapacity(2, new GpuAllocator([]), () => changes.push(cap.busy));
  const a = await cap.take('trajlab-attempts-code', undefined, 50);
  const b = await cap.take('trajlab-attempts-swe', undefined, 50);
  assert.ok(a && b);
  assert.equal(cap.busy, 2);
  assert.equal(await cap.take('trajlab-attempts-code', undefined, 50), undefined, 'full: no place within the wait');
  const waiting = cap.take('trajlab-attempts-web', undefined, 5_000);
  b.release();
  b.release();
  const c = await waiting;
  assert.ok(c, 'a released slot goes to the job waiting');
  assert.equal(cap.busy, 2, 'released twice, counted once');
  a.release();
  c.release();
  assert.equal(cap.busy, 0);
  assert.deepEqual(changes, [1, 2, 2, 2, 1, 0], 'told of every place taken and released (b handed its slot to c)');
});

test("a worker's Workers may hold their attempts plus the free slots and one job prepared ahead; a GPU queue no more than the free devices, at least one (to keep listening)", async () => {
  const cap = new WorkerCapacity(4, new GpuAllocator(['0', '1']));
  assert.equal(cap.concurrencyOf('trajlab-attempts-code', false), 5, 'four free slots and one ahead');
  assert.equal(cap.concurrencyOf('trajlab-attempts-code-gpu', true), 2);
  const held = await Promise.all([1, 2, 3, 4].map(() => cap.take('trajlab-attempts-code', undefined, 50)));
  assert.equal(cap.concurrencyOf('trajlab-attempts-code', false), 5, 'its 4 attempts and one more');
  assert.equal(cap.concurrencyOf('trajlab-attempts-swe', false), 1, 'full: one job at most, prepared ahead');
  assert.equal(cap.concurrencyOf('trajlab-attempts-code-gpu', true), 1, 'full: one GPU job at most, waiting for a place a short while');
  for (const p of held) p!.release();
});

test('GPU places: a job waits for the devices it asks for, gets none while they are busy past its wait, and never more than the worker has', async () => {
  const gpus = new GpuAllocator(['0', '1']);
  const cap = new WorkerCapacity(4, gpus);
  const two = await cap.take('trajlab-attempts-code-gpu', 2, 50);
  assert.deepEqual(two?.gpuIds, ['0', '1']);
  assert.equal(await cap.take('trajlab-attempts-code-gpu', 1, 50), undefined, 'devices busy: no place');
  assert.equal(cap.busy, 1, 'the slot of a job that got no devices is given back');
  const one = cap.take('trajlab-attempts-code-gpu', ['1'], 5_000);
  two!.release();
  assert.deepEqual((await one)?.gpuIds, ['1']);
  await assert.rejects(cap.take('trajlab-attempts-code-gpu', 3, 50), /needs 3 GPU\(s\) but the host has 2/);
  await assert.rejects(cap.take('trajlab-attempts-code-gpu', ['7'], 50), /asks for GPU "7"/);
  assert.equal(gpus.problem(undefined), undefined);
  assert.equal(gpus.problem(0), undefined);
});
