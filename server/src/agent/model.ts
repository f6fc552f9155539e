import OpenAI from 'openai';
import { getContextWindow, resolveModel } from 'tokenlens';
import type { ChatMessage, StepTokens, TokenUsage, ToolCall } from '../../../common/src/trajectory';
import { completionTokens, costUsd, modelRateLimited, modelRequests, modelRetries, promptTokens } from '../metrics/metrics';
import { withoutCredentials } from '../util/urlCredentials';
import { secretsOf } from '../util/secrets';
import { imageDataUrl } from './images';
import { replyCost } from './prices';
import type { RequestLimiter } from './rateLimits';

/** One reply of a model (or of a scripted policy standing in for one). */
export interface ModelReply {
  message: ChatMessage;
  usage?: TokenUsage;
  /** Wall time of the call including retries, ms. */
  latencyMs: number;
  /** USD: the entry's `price`, else the endpoint's `usage.cost`, else priced from the usage with genai-prices (agent/prices.ts); 0 when none knows the model. */
  costUsd: number;
  /** Runs with a models list: the name of the entry that answered (recorded as the step's `model`). */
  model?: string;
  /** `--record-tokens`: the token ids and log-probabilities the endpoint returned (see replyTokens). */
  tokens?: StepTokens;
}

/** Anything that answers a conversation: the OpenAI-compatible client, `gold`, `replay:`. */
export interface ModelClient {
  /** Identity recorded in trajectories (never a secret). */
  readonly identity: { spec: string; provider: string; name: string; base_url?: string; temperature?: number };
  readonly policy: 'model' | 'gold' | 'replay';
  /** Tokens a request's messages may take: the model's context window less the reply's `max_tokens` (undefined: not known; the server's 400 tells). */
  readonly contextWindow?: number;
  /** Whether the model takes images: browser observations then carry a screenshot (ModelEntry `vision`, else the registry's `imageIn`). */
  readonly takesImages?: boolean;
  complete(messages: ChatMessage[], tools: OpenAI.Chat.ChatCompletionTool[] | undefined, signal: AbortSignal): Promise<ModelReply>;
}

/** A provider preset: OpenAI-compatible base URL and the variables that configure it. */
export interface ProviderPreset {
  baseUrl: string;
  baseUrlEnv: string;
  keyEnv: string;
  /** Key sent when the variable is unset (local servers that ignore it); undefined = required. */
  defaultKey?: string;
}

/**
 * Provider presets for model specs `provider:model`. Sources: each provider's documentation of
 * its OpenAI-compatible endpoint (vLLM `vllm serve`, Ollama `/v1`, DeepSeek, Gemini's
 * OpenAI compatibility layer).
 */
export const PROVIDERS: Record<string, ProviderPreset> = {
  openai: { baseUrl: 'https://api.openai.com/v1', baseUrlEnv: 'OPENAI_BASE_URL', keyEnv: 'OPENAI_API_KEY' },
  vllm: { baseUrl: 'http://localhost:8000/v1', baseUrlEnv: 'VLLM_BASE_URL', keyEnv: 'VLLM_API_KEY', defaultKey: 'EMPTY' },
  ollama: { baseUrl: 'http://localhost:11434/v1', baseUrlEnv: 'OLLAMA_BASE_URL', keyEnv: 'OLLAMA_API_KEY', defaultKey: 'ollama' },
  deepseek: { baseUrl: 'https://api.deepseek.com/v1', baseUrlEnv: 'DEEPSEEK_BASE_URL', keyEnv: 'DEEPSEEK_API_KEY' },
  gemini: { baseUrl: 'https://generativelanguage.googleapis.com/v1beta/openai/', baseUrlEnv: 'GEMINI_BASE_URL', keyEnv: 'GEMINI_API_KEY' },
};

/** A parsed model spec. */
export type ModelSpec =
  | { kind: 'api'; spec: string; provider: string; model: string }
  | { kind: 'gold'; spec: string }
  | { kind: 'noop'; spec: string }
  | { kind: 'replay'; spec: string; file: string };

/**
 * Parses `provider:model` (`openai:gpt-4o-mini`; a bare name means `openai:`), `gold`, `noop`
 * (submits at once: the "before the fix" half of `validate --gold`), or
 * `replay:<trajectory.json>`. Errors: unknown provider (the message lists the known ones).
 */
export function parseModelSpec(spec: string): ModelSpec {
  if (spec === 'gold') return { kind: 'gold', spec };
  if (spec === 'noop') return { kind: 'noop', spec };
  if (spec.startsWith('replay:')) return { kind: 'replay', spec, file: spec.slice('replay:'.length) };
  const colon = spec.indexOf(':');
  const provider = colon > 0 ? spec.slice(0, colon) : 'openai';
  const model = colon > 0 ? spec.slice(colon + 1) : spec;
  if (!PROVIDERS[provider]) {
    throw new Error(`unknown model provider "${provider}" in "${spec}"; use one of ${Object.keys(PROVIDERS).join(', ')}, or gold, or replay:<file>`);
  }
  if (!model) throw new Error(`model spec "${spec}" names no model; write e.g. ${provider}:my-model`);
  return { kind: 'api', spec, provider, model };
}

/** Sampling parameters sent with every request (ModelEntry's; vLLM-specific fields in `extra_body`). */
export interface SamplingParams {
  top_p?: number;
  seed?: number;
  max_tokens?: number;
  stop?: string | string[];
  /** Merged into the request body as given. */
  extra_body?: Record<string, unknown>;
}

/** Settings of the OpenAI-compatible client. */
export interface ApiModelOptions {
  baseUrl?: string;
  /** The variable holding the key (ModelEntry `api_key_env`); default the provider's. */
  apiKeyEnv?: string;
  temperature?: number;
  sampling?: SamplingParams;
  /** USD per 1M tokens; wins over the endpoint's figure and the price table (ModelEntry `price`). */
  price?: { input: number; output: number; cached_input?: number };
  /** Limits every HTTP request of this client (the SDK's retries included); see rateLimits.ts. */
  limiter?: RequestLimiter;
  /** Told the status of every HTTP response (0: none came: refused, reset, timed out). */
  onResponse?: (status: number) => void;
  /** The entry's name, returned with each reply (ModelReply.model). */
  name?: string;
  /** The model's context window, tokens (ModelEntry `context_window`); default the tokenlens registry's for the spec. */
  contextWindow?: number;
  /** Whether the model takes images (ModelEntry `vision`); default the tokenlens registry's `imageIn` for the spec. */
  vision?: boolean;
  /**
   * `--record-tokens`: ask for log-probabilities (`logprobs: true`, every provider) and, from
   * vLLM (`vllm:` specs), token ids (`return_token_ids`, `return_tokens_as_token_ids`), and
   * return what came (ModelReply.tokens).
   */
  recordTokens?: boolean;
  /** Retries on 429 / 5xx / connection errors, with the SDK's exponential backoff (honours Retry-After). */
  maxRetries?: number;
  /** Per-request timeout, ms. */
  requestTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Told once per client when a reply with usage cannot be priced (its cost counts as 0; see agent/prices.ts). */
  warn?: (message: string) => void;
}

/**
 * Resolves base URL and key for an API spec: `--base-url` wins, then the provider's base-URL
 * variable, then the preset. Errors: no key where one is needed, naming the variable to set.
 */
export function resolveEndpoint(spec: Extract<ModelSpec, { kind: 'api' }>, options: ApiModelOptions): { baseUrl: string; apiKey: string } {
  const env = options.env ?? process.env;
  const preset = PROVIDERS[spec.provider]!;
  const explicitBase = options.baseUrl ?? env[preset.baseUrlEnv];
  const baseUrl = explicitBase || preset.baseUrl;
  if (missingKeyVariable(spec, options)) {
    throw new Error(
      options.apiKeyEnv
        ? `no API key for ${spec.spec}: its models entry reads the key from ${options.apiKeyEnv}, which is not set in the environment`
        : `no API key for ${spec.spec}: set ${preset.keyEnv} in the environment, or pass --base-url for a local ` +
          `OpenAI-compatible server, or use --model gold to run the pipeline with the tasks' reference solutions`,
    );
  }
  // The key is there, or none is needed (missingKeyVariable): a preset's default, or `EMPTY` for an explicit base URL.
  const apiKey = options.apiKeyEnv ? env[options.apiKeyEnv]! : (env[preset.keyEnv] ?? preset.defaultKey ?? 'EMPTY');
  return { baseUrl, apiKey };
}

/**
 * The environment variable holding the API key `spec` needs, when `options.env` (default
 * process.env) lacks it or has it empty; undefined when the key is there or none is needed (a
 * preset's default key, as vLLM's and Ollama's; an explicit base URL, a local server). The
 * variable is the models entry's `api_key_env`, else the provider's (OPENAI_API_KEY for `openai:`).
 * resolveEndpoint throws exactly when this names one.
 */
export function missingKeyVariable(spec: Extract<ModelSpec, { kind: 'api' }>, options: Pick<ApiModelOptions, 'apiKeyEnv' | 'baseUrl' | 'env'>): string | undefined {
  const env = options.env ?? process.env;
  if (options.apiKeyEnv) return env[options.apiKeyEnv] ? undefined : options.apiKeyEnv;
  const preset = PROVIDERS[spec.provider]!;
  const explicitBase = options.baseUrl ?? env[preset.baseUrlEnv];
  const key = env[preset.keyEnv] ?? preset.defaultKey ?? (explicitBase ? 'EMPTY' : undefined);
  return key ? undefined : preset.keyEnv;
}

/**
 * The model client for OpenAI-compatible chat-completions endpoints, through the openai SDK.
 * Errors from `complete`: the SDK's APIError after retries (status, message; the key and the
 * base URL's password scrubbed from message and stack), or an abort.
 */
export function createApiModel(spec: Extract<ModelSpec, { kind: 'api' }>, options: ApiModelOptions): ModelClient {
  const { baseUrl, apiKey } = resolveEndpoint(spec, options);
  // An endpoint may echo the key (`401 … Bearer sk-…`): errors leave this client without it.
  const secrets = secretsOf([apiKey], [baseUrl]);
  let unpricedSaid = false;
  const client = new OpenAI({
    apiKey,
    baseURL: baseUrl,
    maxRetries: options.maxRetries ?? 6,
    timeout: options.requestTimeoutMs ?? 600_000,
    fetch: countingFetch(fetch, options.limiter, options.sampling?.max_tokens, options.onResponse),
  });
  const { extra_body, ...sampling } = options.sampling ?? {};
  const window = options.contextWindow ?? registryContextWindow(spec);
  return {
    identity: { spec: spec.spec, provider: spec.provider, name: spec.model, base_url: withoutCredentials(baseUrl), temperature: options.temperature },
    policy: 'model',
    ...(window !== undefined ? { contextWindow: Math.max(1, window - (options.sampling?.max_tokens ?? 0)) } : {}),
    takesImages: options.vision ?? registryTakesImages(spec),
    async complete(messages, tools, signal) {
      const started = performance.now();
      const sentAt = new Date();
      const response = await client.chat.completions
        .create(
          {
            model: spec.model,
            messages: await toOpenAIMessages(messages),
            ...(tools?.length ? { tools } : {}),
            ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
            ...sampling,
            ...(options.recordTokens ? { logprobs: true, ...(spec.provider === 'vllm' ? VLLM_TOKEN_FIELDS : {}) } : {}),
            ...extra_body,
          },
          { signal },
        )
        .catch((err: unknown) => Promise.reject(secrets.error(err)));
      const choice = response.choices[0];
      if (!choice) throw new Error(`the model returned no choices (response id ${response.id})`);
      const m = choice.message as OpenAI.Chat.ChatCompletionMessage & { reasoning_content?: string; reasoning?: string };
      const toolCalls: ToolCall[] | undefined = m.tool_calls
        ?.filter((c): c is OpenAI.Chat.ChatCompletionMessageFunctionToolCall => c.type === 'function')
        .map((c) => ({ id: c.id, type: 'function', function: { name: c.function.name, arguments: c.function.arguments } }));
      const usage = response.usage as OpenAI.CompletionUsage | undefined;
      const cost = options.price ? { usd: entryPrice(options.price, usage), source: 'entry' as const } : replyCost(spec.provider, baseUrl, spec.model, response, sentAt);
      if (cost.source === 'unpriced' && usage && !unpricedSaid) {
        unpricedSaid = true;
        options.warn?.(
          `no price for model "${response.model || spec.model}" (${spec.spec}) in the genai-prices table and the endpoint reports no usage.cost: ` +
            'its steps cost $0, so --cost-limit and --run-cost-limit cannot stop it (a local server costs nothing; for a hosted model, use a provider spec the table knows: openai:, deepseek:, gemini:)',
        );
      }
      countUsage(usage, cost.usd);
      return {
        message: {
          role: 'assistant',
          content: m.content ?? null,
          ...(toolCalls?.length ? { tool_calls: toolCalls } : {}),
          ...((m.reasoning_content ?? m.reasoning) ? { reasoning: m.reasoning_content ?? m.reasoning } : {}),
        },
        usage: usage
          ? { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens, total_tokens: usage.total_tokens }
          : undefined,
        latencyMs: Math.round(performance.now() - started),
        costUsd: cost.usd,
        ...(options.name !== undefined ? { model: options.name } : {}),
        ...(options.recordTokens ? { tokens: replyTokens(response, choice) } : {}),
      };
    },
  };
}

/** vLLM's request fields for token ids (vLLM's OpenAI-compatible server, ChatCompletionRequest). */
const VLLM_TOKEN_FIELDS = { return_token_ids: true, return_tokens_as_token_ids: true };

/**
 * The token ids and log-probabilities of a chat-completions response, as far as it has them:
 * prompt ids from vLLM's `prompt_token_ids` (return_token_ids); completion ids from the choice's
 * `token_ids` (vLLM), else from `logprobs.content[].token` written `token_id:<id>`
 * (return_tokens_as_token_ids); log-probabilities from `logprobs.content[].logprob` (OpenAI's
 * chat logprobs shape). Fields the response lacks are left out.
 */
export function replyTokens(response: object, choice: object): StepTokens {
  const r = response as { prompt_token_ids?: unknown };
  const c = choice as { token_ids?: unknown; logprobs?: { content?: { token?: unknown; logprob?: unknown }[] | null } | null };
  const ints = (v: unknown): number[] | undefined => (Array.isArray(v) && v.every((x) => Number.isInteger(x)) ? (v as number[]) : undefined);
  const content = Array.isArray(c.logprobs?.content) ? c.logprobs!.content : undefined;
  const fromTokens = content?.map((t) => /^token_id:(\d+)$/.exec(String(t.token))?.[1]);
  const completion = ints(c.token_ids) ?? (fromTokens?.length && fromTokens.every((x) => x !== undefined) ? fromTokens.map(Number) : undefined);
  const logprobs = content?.length && content.every((t) => typeof t.logprob === 'number') ? content.map((t) => t.logprob as number) : undefined;
  const prompt = ints(r.prompt_token_ids);
  return {
    ...(prompt ? { prompt_token_ids: prompt } : {}),
    ...(completion ? { completion_token_ids: completion } : {}),
    ...(logprobs ? { logprobs } : {}),
  };
}

/**
 * Whether the tokenlens registry (npm `tokenlens`, its bundled catalogue) says `spec` takes
 * images (`modalities.imageIn`: `openai:gpt-4o-mini` yes, `openai:gpt-3.5-turbo` no), by the
 * spec, then the bare model name; false when the registry does not know it (local servers'
 * models: say `vision: true` in a models list).
 */
export function registryTakesImages(spec: Extract<ModelSpec, { kind: 'api' }>): boolean {
  return [spec.spec, spec.model].some((id) => resolveModel(id)?.modalities?.imageIn === true);
}

/**
 * The context window of `spec` in the tokenlens registry (npm `tokenlens`, its bundled catalogue:
 * `openai:gpt-4o-mini` → 128,000), by the spec, then the bare model name; undefined when the
 * registry does not know it (local servers' models).
 */
export function registryContextWindow(spec: Extract<ModelSpec, { kind: 'api' }>): number | undefined {
  for (const id of [spec.spec, spec.model]) {
    const window = getContextWindow(id);
    const tokens = window.totalMax ?? window.combinedMax;
    if (typeof tokens === 'number' && tokens > 0) return tokens;
  }
  return undefined;
}

/**
 * A `fetch` for the openai SDK that counts every HTTP request the SDK really makes, its own
 * retries included (it retries 429, 408, 409, 5xx and connection errors up to `maxRetries`,
 * with backoff): `trajlab_model_requests_total{status}` (the HTTP status, or `error` when no
 * response came: refused, reset, timed out, cancelled), `trajlab_model_rate_limited_total`
 * (429s), and `trajlab_model_retries_total` (requests whose `X-Stainless-Retry-Count` header,
 * which the SDK sets on each try, is above 0). `inner`: the fetch that does the work.
 * `onResponse` is told each response's status (0 when none came). With a `limiter`, each request waits for its limits (rateLimits.ts) with a token estimate of
 * its body's characters / 4 plus `maxTokens`, settled from the reply's `usage.total_tokens`, and
 * each response's rate-limit headers are read.
 */
export function countingFetch(inner: typeof fetch = fetch, limiter?: RequestLimiter, maxTokens = 0, onResponse?: (status: number) => void): typeof fetch {
  return async (input, init) => {
    const retry = Number(new Headers(init?.headers).get('x-stainless-retry-count') ?? 0);
    if (retry > 0) modelRetries.inc();
    const estimate = limiter?.limits.tpm && typeof init?.body === 'string' ? Math.ceil(init.body.length / 4) + maxTokens : 0;
    let response: Response;
    try {
      response = limiter ? await limiter.run(estimate, init?.signal ?? undefined, () => inner(input, init)) : await inner(input, init);
    } catch (err) {
      modelRequests.inc({ status: 'error' });
      limiter?.settle(estimate, 0);
      onResponse?.(0);
      throw err;
    }
    modelRequests.inc({ status: String(response.status) });
    onResponse?.(response.status);
    if (response.status === 429) modelRateLimited.inc();
    if (limiter) {
      limiter.observe(response.status, response.headers);
      if (estimate && !response.ok) limiter.settle(estimate, 0);
      else if (estimate) {
        response.clone().json().then(
          (body: { usage?: { total_tokens?: number } }) => limiter.settle(estimate, body?.usage?.total_tokens ?? estimate),
          // A body that is not JSON has no usage: the estimate stands (the SDK reports the bad body to the call).
          () => limiter.settle(estimate, estimate),
        );
      }
    }
    return response;
  };
}

/** A reply's cost at an entry's own prices (USD per 1M tokens; cached prompt tokens at `cached_input`, default `input`). */
export function entryPrice(price: NonNullable<ApiModelOptions['price']>, usage: OpenAI.CompletionUsage | undefined): number {
  if (!usage) return 0;
  const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
  return ((usage.prompt_tokens - cached) * price.input + cached * (price.cached_input ?? price.input) + usage.completion_tokens * price.output) / 1e6;
}

/** Adds a reply's reported usage to the token counters and its cost (USD, agent/prices.ts) to the cost counter. */
function countUsage(usage: OpenAI.CompletionUsage | undefined, usd: number): void {
  if (usage?.prompt_tokens) promptTokens.inc(usage.prompt_tokens);
  if (usage?.completion_tokens) completionTokens.inc(usage.completion_tokens);
  if (usd > 0) costUsd.inc(usd);
}

/**
 * Observation screenshots sent with one request: the latest ones. An older screenshot stays in
 * the trajectory (and its exports) but is no longer sent; its observation's text (URL, title,
 * accessibility tree) still is. A task's own images are always sent.
 */
export const MAX_SENT_SCREENSHOTS = 3;

/**
 * Our messages → the SDK's message params (drops TrajLab-only fields such as `reasoning`).
 * Images (OpenAI chat-completions vision input, https://platform.openai.com/docs/guides/images-vision)
 * go as content parts, one `image_url` part (`data:<mime>;base64,…`) per image, in order:
 * - a user message with `images` (a task's images on the first one; a text-mode observation's
 *   screenshot) becomes `[{type: "text", text: content}, ...image parts]`;
 * - tool messages cannot carry images in the API, so the screenshots of a run of tool results
 *   follow it as one user message, `[{type: "text", text: "Screenshots …"}, ...image parts]`.
 * Only the latest MAX_SENT_SCREENSHOTS observation screenshots are sent. The files are read
 * (and checked against their recorded SHA-256) on the first send of a message object and the
 * parts are kept for its later sends, so an attempt reads each image once; a resumed attempt,
 * whose messages are new objects, reads them again.
 * Errors: as `imageDataUrl` (image file gone, unreadable or changed).
 */
export async function toOpenAIMessages(messages: readonly ChatMessage[]): Promise<OpenAI.Chat.ChatCompletionMessageParam[]> {
  const sent = messagesWithSentImages(messages);
  const out: OpenAI.Chat.ChatCompletionMessageParam[] = [];
  let shots: ChatMessage[] = [];
  for (const [i, m] of messages.entries()) {
    if (m.role === 'user' && sent.has(m)) out.push({ role: 'user', content: [{ type: 'text', text: m.content ?? '' }, ...(await imagePartsOf(m))] });
    else out.push(toOpenAIMessage(m));
    if (m.role !== 'tool') continue;
    if (sent.has(m)) shots.push(m);
    if (messages[i + 1]?.role !== 'tool' && shots.length) {
      const parts = (await Promise.all(shots.map(imagePartsOf))).flat();
      const calls = shots.map((s) => s.tool_call_id).join(', ');
      out.push({ role: 'user', content: [{ type: 'text', text: `Screenshots of the page after tool call${shots.length > 1 ? 's' : ''} ${calls}, in order:` }, ...parts] });
      shots = [];
    }
  }
  return out;
}

/** The messages whose images are sent: the first user message (a task's images), and the latest observation screenshots up to MAX_SENT_SCREENSHOTS. */
function messagesWithSentImages(messages: readonly ChatMessage[]): Set<ChatMessage> {
  const sent = new Set<ChatMessage>();
  const first = messages.find((m) => m.role === 'user');
  if (first?.images?.length) sent.add(first);
  let left = MAX_SENT_SCREENSHOTS;
  for (let i = messages.length - 1; i >= 0 && left > 0; i--) {
    const m = messages[i]!;
    if (m === first || !m.images?.length || m.images.length > left) continue;
    sent.add(m);
    left -= m.images.length;
  }
  return sent;
}

/** The `image_url` parts of a message's images, per message object (see toOpenAIMessages). */
const imageParts = new WeakMap<ChatMessage, Promise<OpenAI.Chat.ChatCompletionContentPartImage[]>>();

function imagePartsOf(m: ChatMessage): Promise<OpenAI.Chat.ChatCompletionContentPartImage[]> {
  let parts = imageParts.get(m);
  if (!parts) {
    parts = Promise.all((m.images ?? []).map(async (img) => ({ type: 'image_url' as const, image_url: { url: await imageDataUrl(img) } })));
    imageParts.set(m, parts);
    // A failed read is not kept: the next send reads again (the error itself reaches the caller through `parts`).
    parts.catch(() => imageParts.delete(m));
  }
  return parts;
}

/** One message without images → the SDK's message param. */
function toOpenAIMessage(m: ChatMessage): OpenAI.Chat.ChatCompletionMessageParam {
  switch (m.role) {
    case 'system':
      return { role: 'system', content: m.content ?? '' };
    case 'user':
      return { role: 'user', content: m.content ?? '' };
    case 'tool':
      return { role: 'tool', content: m.content ?? '', tool_call_id: m.tool_call_id ?? '' };
    case 'assistant':
      return { role: 'assistant', content: m.content, ...(m.tool_calls?.length ? { tool_calls: m.tool_calls } : {}) };
  }
}
