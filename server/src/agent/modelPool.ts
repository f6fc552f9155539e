/**
 * A run's models list (ModelEntry, common/src/run.ts) as one model: each request goes to the
 * first entry in priority order that is not benched (or, when entries have a `weight`, to one
 * drawn by weight among those). An entry whose request fails past its retries with a 429, 402,
 * 408, 409, 5xx or a connection error is benched for its cool-down (`cooldown_sec`, default 30 s,
 * doubled for each failure in a row, at most 600 s) and the call goes to the next entry.
 *
 * An attempt is bound to the entry of its first answer, so its trajectory is one policy's:
 * while that entry is benched the attempt does not switch (unless `modelSwitch`), its call
 * ends with ModelUnavailableError and the engine puts the attempt back in the queue (it
 * continues later from its journal). An attempt with no answer yet takes any entry.
 */
import OpenAI from 'openai';
import type { ChatMessage } from '../../../common/src/trajectory';
import type { ModelCounters, ModelEntry } from '../../../common/src/run';
import { sleep } from '../util/abort';
import { createApiModel, parseModelSpec, type ModelClient, type ModelReply } from './model';
import { entryNames } from './modelEntries';
import { requestLimiter } from './rateLimits';

/** Longest cool-down of a benched entry, s. */
const MAX_COOLDOWN_SEC = 600;
const DEFAULT_COOLDOWN_SEC = 30;

/**
 * An attempt's model stayed unavailable: its entry failed past its retries (and no other entry
 * may answer for it). The attempt records nothing more and goes back to the queue.
 */
export class ModelUnavailableError extends Error {
  /** `retryAt`: when its model's bench ends (epoch ms), if known: a queue worker puts the job back until then. */
  constructor(message: string, readonly retryAt?: number) {
    super(message);
    this.name = 'ModelUnavailableError';
  }
}

interface Member {
  name: string;
  entry: ModelEntry;
  client: ModelClient;
  benchedUntil: number;
  /** Failures in a row (the cool-down doubles with each). */
  failures: number;
  counters: ModelCounters;
}

/** Options of a ModelPool. */
export interface ModelPoolOptions {
  env: NodeJS.ProcessEnv;
  /** Messages for the user (an entry benched; an unpriced model). */
  warn(message: string): void;
  /** RunOptions.modelSwitch. */
  allowSwitch?: boolean;
  /** RunOptions.recordTokens (ApiModelOptions.recordTokens of every entry). */
  recordTokens?: boolean;
  /** Time source (ms), for tests. */
  now?: () => number;
}

/** The entries of a run, their clients, limiters and benches. Errors at construction: an entry's key variable is not set (resolveEndpoint). */
export class ModelPool {
  private readonly members: Member[];
  private readonly now: () => number;

  constructor(entries: readonly ModelEntry[], private readonly options: ModelPoolOptions) {
    this.now = options.now ?? Date.now;
    const names = entryNames(entries);
    this.members = entries.map((entry, i) => {
      const spec = parseModelSpec(entry.model);
      if (spec.kind !== 'api') throw new Error(`models entry ${i + 1}: ${entry.model} is not provider:model`);
      const name = names[i]!;
      const counters: ModelCounters = { name, spec: entry.model, requests: 0, rate_limited: 0, failures: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0 };
      const limits = { maxConcurrency: entry.max_concurrency, rpm: entry.rpm, tpm: entry.tpm };
      const client = createApiModel(spec, {
        baseUrl: entry.base_url,
        apiKeyEnv: entry.api_key_env,
        temperature: entry.temperature,
        sampling: { top_p: entry.top_p, seed: entry.seed, max_tokens: entry.max_tokens, stop: entry.stop, extra_body: entry.extra_body },
        price: entry.price,
        maxRetries: entry.max_retries,
        env: options.env,
        warn: options.warn,
        name,
        contextWindow: entry.context_window,
        vision: entry.vision,
        recordTokens: options.recordTokens,
        onResponse: (status) => {
          counters.requests++;
          if (status === 429) counters.rate_limited++;
        },
        limiter: limits.maxConcurrency || limits.rpm || limits.tpm ? requestLimiter(limiterIdentity(entry), limits) : undefined,
      });
      return { name, entry, client, benchedUntil: 0, failures: 0, counters };
    });
  }

  /** The identity recorded for a trajectory before its first answer: the first entry's. */
  get identity(): ModelClient['identity'] {
    return this.members[0]!.client.identity;
  }

  /**
   * The model of one attempt. `bound`: the entry name its recorded steps last name (a resumed or
   * requeued attempt keeps its model); `mayRequeue`: whether a call that finds its model
   * unavailable ends with ModelUnavailableError (false on the attempt's last requeue: it then
   * fails with the error itself, and `gaveUp` is set).
   */
  forAttempt(bound: string | undefined, mayRequeue: boolean): AttemptModel {
    return new AttemptModel(this, this.members.find((m) => m.name === bound), mayRequeue);
  }

  /** @internal The smallest context window of the entries that know theirs. */
  smallestContextWindow(): number | undefined {
    const known = this.members.map((m) => m.client.contextWindow).filter((w): w is number => w !== undefined);
    return known.length ? Math.min(...known) : undefined;
  }

  /** @internal Whether every entry takes images (an attempt not yet bound may be answered by any). */
  allTakeImages(): boolean {
    return this.members.every((m) => m.client.takesImages);
  }

  /** Each entry's counters, in priority order. */
  counters(): ModelCounters[] {
    return this.members.map((m) => ({ ...m.counters, ...(m.benchedUntil > this.now() ? { benched_until: new Date(m.benchedUntil).toISOString() } : {}) }));
  }

  /** @internal The members an attempt may use now, best first: `bound` alone when it may not switch. */
  candidates(bound: Member | undefined): { free: Member[]; nextFreeAt: number } {
    const pool = bound && !this.options.allowSwitch ? [bound] : this.members;
    const now = this.now();
    let free = pool.filter((m) => m.benchedUntil <= now);
    if (bound && free.includes(bound)) free = [bound, ...free.filter((m) => m !== bound)];
    else if (free.some((m) => m.entry.weight !== undefined)) free = weightedOrder(free);
    return { free, nextFreeAt: Math.min(...pool.map((m) => m.benchedUntil)) };
  }

  /** @internal When `m`'s bench ends, epoch ms (in the past when it is not benched). */
  benchedUntil(m: Member): number {
    return m.benchedUntil;
  }

  /** @internal Records an answer of `m`. */
  answered(m: Member, reply: ModelReply): void {
    m.failures = 0;
    m.counters.prompt_tokens += reply.usage?.prompt_tokens ?? 0;
    m.counters.completion_tokens += reply.usage?.completion_tokens ?? 0;
    m.counters.cost_usd += reply.costUsd;
  }

  /** @internal Benches `m` after a failure past its retries, for its cool-down (doubled per failure in a row once a bench has ended), and says so. */
  bench(m: Member, error: string): void {
    m.counters.failures++;
    // Calls that were under way when it was benched fail too: that is the same failure.
    if (m.benchedUntil > this.now()) return;
    m.failures++;
    const base = m.entry.cooldown_sec ?? DEFAULT_COOLDOWN_SEC;
    const sec = Math.min(MAX_COOLDOWN_SEC, base * 2 ** (m.failures - 1));
    m.benchedUntil = this.now() + sec * 1000;
    const others = this.members.filter((o) => o !== m && o.benchedUntil <= this.now()).map((o) => o.name);
    this.options.warn(`model ${m.name} failed past its retries (${error}): benched for ${sec} s; ${others.length ? `new attempts go to ${others.join(', ')}` : 'no other model entry is available'}`);
  }

  /** @internal */
  get allowSwitch(): boolean {
    return !!this.options.allowSwitch;
  }
}

/** One attempt's view of the pool (see ModelPool.forAttempt). */
export class AttemptModel implements ModelClient {
  readonly policy = 'model' as const;
  /** The attempt's last call failed with its model unavailable and it may not be requeued again. */
  gaveUp = false;

  constructor(
    private readonly pool: ModelPool,
    private bound: Member | undefined,
    private readonly mayRequeue: boolean,
  ) {}

  get identity(): ModelClient['identity'] {
    return this.bound?.client.identity ?? this.pool.identity;
  }

  /** The bound entry's, else the smallest of the entries' (a request must fit whichever answers). */
  get contextWindow(): number | undefined {
    return this.bound ? this.bound.client.contextWindow : this.pool.smallestContextWindow();
  }

  /** The bound entry's; before the first answer, whether every entry takes images. */
  get takesImages(): boolean {
    return this.bound ? !!this.bound.client.takesImages : this.pool.allTakeImages();
  }

  async complete(messages: ChatMessage[], tools: OpenAI.Chat.ChatCompletionTool[] | undefined, signal: AbortSignal): Promise<ModelReply> {
    for (;;) {
      const { free, nextFreeAt } = this.pool.candidates(this.bound);
      // Every entry it may use is benched: it waits for the first to come back.
      if (!free.length) {
        await sleep(Math.max(0, nextFreeAt - Date.now()), signal);
        continue;
      }
      let last: { m: Member; err: unknown } | undefined;
      for (const m of free) {
        try {
          const reply = await m.client.complete(messages, tools, signal);
          this.pool.answered(m, reply);
          if (!this.pool.allowSwitch) this.bound ??= m;
          return { ...reply, model: m.name };
        } catch (err) {
          if (signal.aborted || !unavailable(err)) throw err;
          this.pool.bench(m, describe(err));
          last = { m, err };
          // The next entry, when it may take the call.
          if (!this.bound || this.pool.allowSwitch) continue;
          break;
        }
      }
      return this.unavailable(last!.m, last!.err);
    }
  }

  private unavailable(m: Member, err: unknown): never {
    if (this.mayRequeue) throw new ModelUnavailableError(`model ${m.name} unavailable: ${describe(err)}`, this.pool.benchedUntil(m));
    this.gaveUp = true;
    throw err;
  }
}

/** Whether a failure past the SDK's retries means the entry is unavailable for now (rate limit, quota, server or connection trouble), not that the request is wrong. */
export function unavailable(err: unknown): boolean {
  if (err instanceof OpenAI.APIConnectionError) return true;
  const e = err as { status?: number };
  if (typeof e?.status !== 'number') return false;
  return e.status === 429 || e.status === 402 || e.status === 408 || e.status === 409 || e.status >= 500;
}

function describe(err: unknown): string {
  const e = err as { status?: number; message?: string };
  return e?.status ? `HTTP ${e.status}: ${e.message}` : String(e?.message ?? err);
}

/** The identity a limiter is shared by: endpoint, model and key variable (never the key). */
function limiterIdentity(entry: ModelEntry): string {
  return `${entry.base_url ?? ''}\n${entry.model}\n${entry.api_key_env ?? ''}`;
}

/** `members` in a weighted random order (an entry without a weight counts 1). */
function weightedOrder(members: Member[]): Member[] {
  const left = [...members];
  const out: Member[] = [];
  while (left.length) {
    const total = left.reduce((s, m) => s + (m.entry.weight ?? 1), 0);
    let r = Math.random() * total;
    const i = Math.max(0, left.findIndex((m) => (r -= m.entry.weight ?? 1) < 0));
    out.push(...left.splice(i, 1));
  }
  return out;
}
