/**
 * What one chat-completions reply cost, in USD. The endpoint's own figure wins (`usage.cost`,
 * as OpenRouter and LiteLLM proxies report it); otherwise the reply is priced with
 * pydantic/genai-prices (npm `@pydantic/genai-prices`): its usage extractor for the provider's
 * `chat` API flavour reads the response's `usage` (prompt, completion, cached prompt tokens,
 * reasoning and audio tokens) and `calcPrice` applies the provider's prices for the model the
 * response names (cached-token discounts included). The price table is the package's bundled
 * data: nothing is fetched at run time.
 */
import { calcPrice, extractUsage, findProvider, type Provider } from '@pydantic/genai-prices';

/** Our provider presets (agent/model.ts PROVIDERS) → genai-prices provider ids; local servers (vllm, ollama) have none. */
const PRICE_PROVIDER: Record<string, string> = { openai: 'openai', deepseek: 'deepseek', gemini: 'google' };

/** The cost of one reply and where it came from. */
export interface ReplyCost {
  /** USD; 0 when `source` is `unpriced`. */
  usd: number;
  /** `endpoint`: the response's `usage.cost`; `price-table`: genai-prices; `unpriced`: neither knows the model (or no usage came). */
  source: 'endpoint' | 'price-table' | 'unpriced';
}

/**
 * The provider whose prices apply: the one whose API URL pattern matches `baseUrl` (an
 * OpenRouter URL under the `openai` preset is priced as OpenRouter), else the preset's own
 * (`openai:gpt-4o-mini` through a proxy or a test server is still priced as OpenAI). Undefined
 * for presets of local servers on URLs no provider claims.
 */
export function priceProvider(preset: string, baseUrl: string): Provider | undefined {
  const byUrl = findProvider({ providerApiUrl: baseUrl });
  if (byUrl) return byUrl;
  const id = PRICE_PROVIDER[preset];
  return id ? findProvider({ providerId: id }) : undefined;
}

/**
 * The cost of a chat-completions `response` (the parsed JSON body: `model`, `usage`) asked of
 * `model` through the preset `preset` at `baseUrl`, sent at `at` (prices that depend on the date
 * or the time of day, as DeepSeek's off-peak discount, are those of that moment). Never throws: a
 * response without the usage the extractor requires (`prompt_tokens`, `completion_tokens`) or a
 * model the table lacks is `unpriced`.
 */
export function replyCost(preset: string, baseUrl: string, model: string, response: { model?: string; usage?: unknown }, at: Date): ReplyCost {
  const usage = response.usage as { cost?: unknown } | undefined;
  if (!usage) return { usd: 0, source: 'unpriced' };
  if (typeof usage.cost === 'number' && Number.isFinite(usage.cost) && usage.cost >= 0) return { usd: usage.cost, source: 'endpoint' };
  const provider = priceProvider(preset, baseUrl);
  if (!provider) return { usd: 0, source: 'unpriced' };
  let extracted: ReturnType<typeof extractUsage>;
  try {
    extracted = extractUsage(provider, response, 'chat');
  } catch {
    // The extractor throws when a required field (prompt_tokens, completion_tokens) is missing: no usage to price.
    return { usd: 0, source: 'unpriced' };
  }
  // The model the response names (a dated snapshot, "gpt-4o-mini-2024-07-18"), else the one asked for.
  const price = calcPrice(extracted.usage, response.model || model, { provider, timestamp: at }) ?? (response.model && response.model !== model ? calcPrice(extracted.usage, model, { provider, timestamp: at }) : null);
  return price ? { usd: price.total_price, source: 'price-table' } : { usd: 0, source: 'unpriced' };
}
