/**
 * Models lists without Docker: the `--models` file and its errors (agent/modelEntries.ts), the
 * request limiter's spacing, concurrency, token budget and header pauses (agent/rateLimits.ts,
 * over rate-limiter-flexible), and the pool's priority, fallback, bench and binding
 * (agent/modelPool.ts) with the real openai SDK against the scripted model server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseModelsFile } from '../../server/src/agent/modelEntries';
import { ModelPool, ModelUnavailableError } from '../../server/src/agent/modelPool';
import { RequestLimiter, parseResetDuration, retryAfterMs } from '../../server/src/agent/rateLimits';
import type { ChatMessage } from '../../common/src/trajectory';
import { renderStep, renderTrajectory } from '../../server/src/cli/showText';
import { runningTrajectory } from '../helpers/trajectories';
import { errorReply, refusedBaseUrl, startScriptedModelServer, submitReply, type Responder } from '../helpers/scriptedModelServer';

test('a --models file: entries in order with their fields; each mistake is file:line:col at the bad value', () => {
  const text = [
    'models:',
    '  - model: deepseek:deepseek-chat',
    '    rpm: 60',
    '    tpm: 200000',
    '  - {model: "openai:gpt-4o-mini", price: {input: 0.15, output: 0.6}, max_concurrency: 8}',
    '  - {model: "vllm:qwen", base_url: "http://gpu1:8000/v1", stop: ["</s>"], extra_body: {top_k: 20}}',
    '  - {model: "vllm:qwen", base_url: "http://gpu2:8000/v1"}',
  ].join('\n');
  const entries = parseModelsFile(text, 'm.yaml');
  assert.equal(entries.length, 4);
  assert.deepEqual(entries[0], { model: 'deepseek:deepseek-chat', rpm: 60, tpm: 200000 });
  assert.deepEqual(entries[2]!.extra_body, { top_k: 20 });
  const bad = (yaml: string) => {
    try {
      parseModelsFile(yaml, 'm.yaml');
    } catch (err) {
      return (err as Error).message;
    }
    assert.fail(`accepted: ${yaml}`);
  };
  assert.equal(bad('- {model: "openai:a", rpm: 0}'), 'm.yaml:1:28: "rpm" must be > 0');
  assert.equal(bad('- model: openai:a\n  rmp: 60'), 'm.yaml:2:3: unknown key "rmp" (an entry has model, name, base_url, api_key_env, weight, max_concurrency, rpm, tpm, context_window, vision, price, max_retries, cooldown_sec, temperature, top_p, seed, max_tokens, stop, extra_body)');
  assert.equal(bad('- model: openai:a\n  price: {input: 1}'), 'm.yaml:2:10: "price" needs "output"');
  assert.equal(bad('- {model: "openai:a", base_url: "gpu1:8000"}'), 'm.yaml:1:33: "base_url" must be an http:// or https:// URL');
  assert.equal(bad('- {model: "openai:a", max_concurrency: 1.5}'), 'm.yaml:1:40: "max_concurrency" must be an integer');
  assert.equal(bad('- {model: "gold"}'), 'm.yaml:1:11: "model" must be provider:model in a models list (got "gold"; gold, noop and replay: run alone, with one --model)');
  assert.equal(bad('- {rpm: 5}'), 'm.yaml:1:3: an entry needs "model" (a model spec, e.g. openai:gpt-4o-mini)');
  assert.equal(bad('- {model: "vllm:q"}\n- {model: "vllm:q"}'), 'm.yaml:2:11: entry 2 has the name "vllm:q" of entry 1: give one of them another "name" (or another base_url)');
  assert.equal(bad('models: []'), 'm.yaml:1:9: the models list is empty: name at least one model {model: "openai:gpt-4o-mini"}');
});

test("providers' rate-limit headers: retry-after-ms, retry-after in seconds or as a date, and x-ratelimit-reset durations", () => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  assert.equal(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now), 250);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': '2' }), now), 2000);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': 'Mon, 07 Dec 2026 12:00:03 GMT' }), now), 3000);
  assert.equal(retryAfterMs(new Headers({}), now), undefined);
  assert.equal(parseResetDuration('20ms'), 20);
  assert.equal(parseResetDuration('1s'), 1000);
  assert.equal(parseResetDuration('59.4s'), 59_400);
  assert.equal(parseResetDuration('6m0s'), 360_000);
  assert.equal(parseResetDuration('1h2m3s'), 3_723_000);
  assert.equal(parseResetDuration('soon'), undefined);
});

const elapsed = async (work: () => Promise<unknown>) => {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
};

test('the limiter spaces requests evenly at the rpm (no burst), and keeps at most max_concurrency in flight', async () => {
  const limiter = new RequestLimiter({ rpm: 1200, maxConcurrency: 2 }); // one request per 50 ms
  const starts: number[] = [];
  let inFlight = 0;
  let most = 0;
  const request = async () => {
    starts.push(performance.now());
    most = Math.max(most, ++inFlight);
    await new Promise((r) => setTimeout(r, 120));
    inFlight--;
  };
  await Promise.all(Array.from({ length: 6 }, () => limiter.run(0, undefined, request)));
  assert.equal(most, 2);
  for (let i = 1; i < starts.length; i++) assert.ok(starts[i]! - starts[i - 1]! >= 45, `request ${i} started ${starts[i]! - starts[i - 1]!} ms after the one before`);
});

test('the token budget: an estimate settled down to what the reply used frees the rest at once; one settled up holds the next back', async () => {
  const limiter = new RequestLimiter({ tpm: 100 });
  // 3 × 60 estimated > 100: only the settling lets all three through in this minute's window.
  for (let i = 0; i < 3; i++) {
    const ms = await elapsed(() => limiter.run(60, undefined, async () => undefined));
    assert.ok(ms < 200, `request ${i} waited ${ms} ms`);
    limiter.settle(60, 10);
  }
  const strict = new RequestLimiter({ tpm: 100 });
  await strict.run(60, undefined, async () => undefined);
  const controller = new AbortController();
  const second = strict.run(60, controller.signal, async () => 'ran');
  setTimeout(() => controller.abort('test'), 300);
  await assert.rejects(second, /test/, 'the second 60 waits for the next minute');
});

test('a 429 with retry-after-ms, and x-ratelimit-remaining-requests 0, pause every request to the entry until their reset', async () => {
  const limiter = new RequestLimiter({});
  limiter.observe(429, new Headers({ 'retry-after-ms': '200' }));
  assert.ok((await elapsed(() => limiter.run(0, undefined, async () => undefined))) >= 190);
  limiter.observe(200, new Headers({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '150ms' }));
  assert.ok((await elapsed(() => limiter.run(0, undefined, async () => undefined))) >= 140);
  limiter.observe(200, new Headers({ 'x-ratelimit-remaining-requests': '3', 'x-ratelimit-reset-requests': '10s' }));
  assert.ok((await elapsed(() => limiter.run(0, undefined, async () => undefined))) < 50);
});


const conversation: ChatMessage[] = [{ role: 'user', content: 'task: list models' }];

test('pool: a refused primary is benched and the call goes to the second entry, which the reply names; during the cool-down no request tries the primary (real openai SDK, scripted model server)', async () => {
  const server = await startScriptedModelServer({ respond: () => submitReply('ok') });
  const warnings: string[] = [];
  try {
    const dead = await refusedBaseUrl();
    const pool = new ModelPool(
      [
        { model: 'vllm:qwen', base_url: dead, max_retries: 0, cooldown_sec: 60 },
        { model: 'vllm:qwen', base_url: server.baseUrl, max_retries: 0 },
      ],
      { env: {}, warn: (m) => warnings.push(m) },
    );
    const first = await pool.forAttempt(undefined, true).complete(conversation, undefined, new AbortController().signal);
    const secondName = `vllm:qwen@${new URL(server.baseUrl).host}`;
    assert.equal(first.model, secondName);
    const benched = warnings.filter((w) => w.includes('benched'));
    assert.equal(benched.length, 1);
    assert.match(benched[0]!, /^model vllm:qwen@127\.0\.0\.1:\d+ failed past its retries \(Connection error\.\): benched for 60 s; new attempts go to vllm:qwen@/);
    const again = pool.forAttempt(undefined, true);
    assert.equal((await again.complete(conversation, undefined, new AbortController().signal)).model, secondName);
    assert.equal(again.identity.base_url, server.baseUrl, "the attempt's identity is its entry's");
    const counters = pool.counters();
    assert.equal(counters[0]!.failures, 1);
    assert.equal(counters[0]!.requests, 1, 'the benched primary got no second try');
    assert.ok(counters[0]!.benched_until);
    assert.equal(counters[1]!.requests, 2);
  } finally {
    await server.close();
  }
});

test('pool: an attempt bound to its model does not switch when it fails; it asks to be requeued, or on its last requeue fails with the error (scripted model server)', async () => {
  let failing = false;
  const respond: Responder = () => (failing ? errorReply(503, { message: 'overloaded (scripted)' }) : submitReply('ok'));
  const a = await startScriptedModelServer({ respond });
  const b = await startScriptedModelServer({ respond: () => submitReply('ok') });
  try {
    const pool = new ModelPool(
      [
        { model: 'vllm:qwen', name: 'a', base_url: a.baseUrl, max_retries: 0, cooldown_sec: 0.3 },
        { model: 'vllm:qwen', name: 'b', base_url: b.baseUrl, max_retries: 0 },
      ],
      { env: {}, warn: () => undefined },
    );
    const signal = new AbortController().signal;
    const attempt = pool.forAttempt(undefined, true);
    assert.equal((await attempt.complete(conversation, undefined, signal)).model, 'a');
    failing = true;
    await assert.rejects(attempt.complete(conversation, undefined, signal), (err) => err instanceof ModelUnavailableError && /model a unavailable: HTTP 503/.test(err.message));
    assert.equal(b.requests.length, 0, 'a bound attempt does not switch to b');
    // A new attempt (no answer yet) takes b while a is benched.
    assert.equal((await pool.forAttempt(undefined, true).complete(conversation, undefined, signal)).model, 'b');
    // The requeued attempt, bound to a (its steps name it), waits for a's cool-down, then a answers.
    failing = false;
    const requeued = pool.forAttempt('a', true);
    const t0 = performance.now();
    assert.equal((await requeued.complete(conversation, undefined, signal)).model, 'a');
    assert.ok(performance.now() - t0 >= 150, 'it waited for the bench to end');
    // On its last requeue, the failure is the error itself.
    failing = true;
    const last = pool.forAttempt('a', false);
    await assert.rejects(last.complete(conversation, undefined, signal), (err) => !(err instanceof ModelUnavailableError) && /503/.test(String(err)));
    assert.equal(last.gaveUp, true);
    // --model-switch: a bound attempt may go on with b.
    const switching = new ModelPool([{ model: 'vllm:qwen', name: 'a', base_url: a.baseUrl, max_retries: 0 }, { model: 'vllm:qwen', name: 'b', base_url: b.baseUrl }], { env: {}, warn: () => undefined, allowSwitch: true });
    assert.equal((await switching.forAttempt('a', true).complete(conversation, undefined, signal)).model, 'b');
  } finally {
    await a.close();
    await b.close();
  }
});

test("an entry's price wins over the price table and the endpoint's usage.cost: prompt (less cached) × input, cached × cached_input, completion × output, per 1M tokens (scripted model server)", async () => {
  const usage = { prompt_tokens: 10_000, completion_tokens: 500, total_tokens: 10_500, prompt_tokens_details: { cached_tokens: 4_000 }, cost: 99 };
  const server = await startScriptedModelServer({ respond: () => ({ ...submitReply('ok'), usage }) });
  try {
    const signal = new AbortController().signal;
    const priced = new ModelPool([{ model: 'openai:gpt-4o-mini', base_url: server.baseUrl, price: { input: 1, output: 4, cached_input: 0.5 } }], { env: { OPENAI_API_KEY: 'k' }, warn: () => undefined });
    const reply = await priced.forAttempt(undefined, true).complete(conversation, undefined, signal);
    assert.ok(Math.abs(reply.costUsd - (6_000 * 1 + 4_000 * 0.5 + 500 * 4) / 1e6) < 1e-12, String(reply.costUsd));
    const cachedAtInput = new ModelPool([{ model: 'openai:gpt-4o-mini', base_url: server.baseUrl, price: { input: 1, output: 4 } }], { env: { OPENAI_API_KEY: 'k' }, warn: () => undefined });
    assert.ok(Math.abs((await cachedAtInput.forAttempt(undefined, true).complete(conversation, undefined, signal)).costUsd - (10_000 + 2_000) / 1e6) < 1e-12);
    assert.equal(priced.counters()[0]!.cost_usd, reply.costUsd, "the entry's counter");
  } finally {
    await server.close();
  }
});

test('weights: new attempts are spread over the entries not benched by weight (3:1 gives about 75%), the order of priority aside (scripted model server)', async () => {
  const server = await startScriptedModelServer({ respond: () => submitReply('ok') });
  try {
    const pool = new ModelPool(
      [
        { model: 'vllm:q', name: 'light', base_url: server.baseUrl, weight: 1 },
        { model: 'vllm:q', name: 'heavy', base_url: server.baseUrl, weight: 3 },
      ],
      { env: {}, warn: () => undefined },
    );
    const signal = new AbortController().signal;
    const names: string[] = [];
    for (let i = 0; i < 400; i++) names.push((await pool.forAttempt(undefined, true).complete(conversation, undefined, signal)).model!);
    const heavy = names.filter((n) => n === 'heavy').length / names.length;
    // 400 draws at p = 0.75: 3 standard deviations are ±0.065.
    assert.ok(heavy > 0.685 && heavy < 0.815, `heavy took ${heavy}`);
  } finally {
    await server.close();
  }
});

test('trajlab show: the entries that answered, the agent config, and per step its model, the elided observations and the token ids kept', () => {
  const t = runningTrajectory('shown');
  t.agent.config = { name: 'mini-swe-agent' };
  t.steps.push({
    index: 0, started_at: '', ended_at: '', latency_ms: 1, response: { content: 'x' }, cost_usd: 0, actions: [], observations: [],
    model: 'deepseek', history: { processor: 'last_n_observations', n: 3, elided: [3, 5] }, token_record: { prompt_token_ids: 1200, completion_token_ids: 40, logprobs: 40 },
  });
  const overview = renderTrajectory(t);
  assert.match(overview, /^answered by deepseek$/m);
  assert.match(overview, /^agent {7}config mini-swe-agent$/m);
  const step = renderStep(t, 0);
  assert.match(step, /^model {7}deepseek$/m);
  assert.match(step, /^context {5}2 older observation\(s\) sent elided \(last_n_observations, the last 3 in full\)$/m);
  assert.match(step, /^token ids {3}1,200 prompt, 40 completion, 40 logprobs \(in the \.tokens\.jsonl\.gz sidecar\)$/m);
});
