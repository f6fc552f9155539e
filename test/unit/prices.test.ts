/**
 * What a reply costs (server/src/agent/prices.ts): the endpoint's own `usage.cost`, else the
 * genai-prices table for the provider and the model the response names, cached prompt tokens at
 * their own rate, DeepSeek's off-peak price by the time the request was sent. The expected
 * figures are worked out here by hand from the providers' published per-million-token prices
 * (OpenAI gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output; DeepSeek deepseek-chat:
 * $0.27 / $0.07 cache hit / $1.10 from 00:30 to 16:30 UTC, half that off-peak).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { priceProvider, replyCost } from '../../server/src/agent/prices';

const NOON = new Date('2026-12-07T12:00:00Z');
const NIGHT = new Date('2026-12-07T20:00:00Z');
const usage = (prompt: number, completion: number, cached?: number) => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
  ...(cached !== undefined ? { prompt_tokens_details: { cached_tokens: cached } } : {}),
});
const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} ≠ ${expected}`);

test('OpenAI gpt-4o-mini is priced from the table, cached prompt tokens at the cached rate, a dated snapshot name too', () => {
  const plain = replyCost('openai', 'https://api.openai.com/v1', 'gpt-4o-mini', { model: 'gpt-4o-mini', usage: usage(1000, 100) }, NOON);
  assert.equal(plain.source, 'price-table');
  close(plain.usd, (1000 * 0.15 + 100 * 0.6) / 1e6);
  const cached = replyCost('openai', 'https://api.openai.com/v1', 'gpt-4o-mini', { model: 'gpt-4o-mini-2024-07-18', usage: usage(10_000, 500, 4_000) }, NOON);
  close(cached.usd, (6_000 * 0.15 + 4_000 * 0.075 + 500 * 0.6) / 1e6);
});

test('DeepSeek deepseek-chat: the standard price by day, the off-peak price by night (UTC), cache hits at their rate', () => {
  const day = replyCost('deepseek', 'https://api.deepseek.com/v1', 'deepseek-chat', { model: 'deepseek-chat', usage: usage(10_000, 500, 4_000) }, NOON);
  close(day.usd, (6_000 * 0.27 + 4_000 * 0.07 + 500 * 1.1) / 1e6);
  const night = replyCost('deepseek', 'https://api.deepseek.com/v1', 'deepseek-chat', { model: 'deepseek-chat', usage: usage(10_000, 500, 4_000) }, NIGHT);
  close(night.usd, day.usd / 2);
});

test("the endpoint's usage.cost wins over the table; no usage, a local server's model or an unknown model is unpriced", () => {
  assert.deepEqual(replyCost('openai', 'https://openrouter.ai/api/v1', 'openai/gpt-4o', { usage: { ...usage(10, 10), cost: 0.25 } }, NOON), { usd: 0.25, source: 'endpoint' });
  assert.deepEqual(replyCost('openai', 'https://api.openai.com/v1', 'gpt-4o-mini', { model: 'gpt-4o-mini' }, NOON), { usd: 0, source: 'unpriced' });
  assert.deepEqual(replyCost('vllm', 'http://localhost:8000/v1', 'Qwen/Qwen3-8B', { model: 'Qwen/Qwen3-8B', usage: usage(1000, 100) }, NOON), { usd: 0, source: 'unpriced' });
  assert.deepEqual(replyCost('openai', 'http://127.0.0.1:9/v1', 'no-such-model-xyz', { model: 'no-such-model-xyz', usage: usage(1000, 100) }, NOON), { usd: 0, source: 'unpriced' });
  // A usage without the counts the extractor requires is no usage.
  assert.deepEqual(replyCost('openai', 'https://api.openai.com/v1', 'gpt-4o-mini', { model: 'gpt-4o-mini', usage: { total_tokens: 5 } }, NOON), { usd: 0, source: 'unpriced' });
});

test("the provider is the one whose API URL the base URL matches, else the preset's; local presets have none", () => {
  assert.equal(priceProvider('openai', 'https://openrouter.ai/api/v1')?.id, 'openrouter');
  assert.equal(priceProvider('openai', 'http://127.0.0.1:8080/v1')?.id, 'openai');
  assert.equal(priceProvider('gemini', 'https://generativelanguage.googleapis.com/v1beta/openai/')?.id, 'google');
  assert.equal(priceProvider('deepseek', 'http://proxy.internal/v1')?.id, 'deepseek');
  assert.equal(priceProvider('ollama', 'http://localhost:11434/v1'), undefined);
});
