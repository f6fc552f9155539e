/**
 * Limits on the requests to one model entry (ModelEntry `max_concurrency`, `rpm`, `tpm`),
 * shared by every attempt of the process (the daemon runs several runs at once: one limiter per
 * endpoint, model, key variable and limits), and the pauses a provider asks for in its headers.
 *
 * - Concurrency: a counting semaphore (util/slots.ts).
 * - Requests per minute: a rate-limiter-flexible (npm `rate-limiter-flexible`) memory limiter of
 *   one request per 60/rpm seconds (a request it turns away waits the `msBeforeNext` it says, then
 *   tries again): requests are spaced evenly, as providers that quantise their limits (OpenAI:
 *   "60 RPM may be enforced as 1 request per second") count them, never a burst of `rpm` at once.
 * - Tokens per minute: a rate-limiter-flexible limiter of `tpm` points per 60 s (fixed windows);
 *   each request takes its estimate (prompt characters / 4 plus `max_tokens`), settled from the
 *   reply's usage (reward or penalty) and given back when no reply came.
 * - Headers (OpenAI's and most compatible servers'): `retry-after-ms`, `retry-after` (seconds or
 *   an HTTP date) on a 429 or 503, and `x-ratelimit-remaining-requests` / `-tokens` at 0 with
 *   their `x-ratelimit-reset-requests` / `-tokens` (`1s`, `6m0s`, `20ms`), pause every request to
 *   the entry until then. The openai SDK's own retries sleep for Retry-After too; each of its
 *   tries passes through here again.
 */
import { RateLimiterMemory, type RateLimiterRes } from 'rate-limiter-flexible';
import { Slots } from '../util/slots';
import { sleep } from '../util/abort';

/** The limits of one entry (ModelEntry's fields). */
export interface RequestLimits {
  maxConcurrency?: number;
  /** Requests per minute (> 0). */
  rpm?: number;
  /** Tokens per minute (≥ 1). */
  tpm?: number;
}

const KEY = 'entry';

/** The limiter of one entry; get it with requestLimiter (shared per entry and limits). */
export class RequestLimiter {
  private readonly slots: Slots | undefined;
  private readonly requests: RateLimiterMemory | undefined;
  private readonly tokens: RateLimiterMemory | undefined;
  /** No request starts before this time (Date.now ms), from the provider's headers. */
  private pausedUntil = 0;

  constructor(readonly limits: RequestLimits) {
    if (limits.maxConcurrency) this.slots = new Slots(limits.maxConcurrency);
    if (limits.rpm) this.requests = new RateLimiterMemory({ points: 1, duration: 60 / limits.rpm });
    if (limits.tpm) this.tokens = new RateLimiterMemory({ points: limits.tpm, duration: 60 });
  }

  /** Milliseconds until the provider's pause ends (0: none). */
  pauseLeftMs(): number {
    return Math.max(0, this.pausedUntil - Date.now());
  }

  /**
   * Runs `request` once the limits allow it: after any pause, in a concurrency slot (held until
   * `request` settles), after its turn of the requests-per-minute queue, and after `tokens`
   * (the request's estimate, capped at `tpm`) of the tokens-per-minute budget. Resolves or
   * rejects as `request` does. Errors: AbortedError when `signal` fires while waiting (a token
   * already queued for is still taken when its turn comes).
   */
  async run<T>(tokens: number, signal: AbortSignal | undefined, request: () => Promise<T>): Promise<T> {
    await this.waitPause(signal);
    const inSlot = async () => {
      if (this.requests) await take(this.requests, 1, signal);
      if (this.tokens && tokens > 0) await take(this.tokens, Math.min(tokens, this.limits.tpm!), signal);
      await this.waitPause(signal);
      return request();
    };
    return this.slots ? this.slots.use(inSlot) : inSlot();
  }

  /**
   * Settles a request's token estimate with what it used: `actual` tokens (the reply's usage;
   * 0 when no reply came, which gives the whole estimate back).
   */
  settle(estimated: number, actual: number): void {
    if (!this.tokens || estimated === actual) return;
    const taken = Math.min(estimated, this.limits.tpm!);
    if (actual > taken) void this.tokens.penalty(KEY, actual - taken);
    else void this.tokens.reward(KEY, taken - actual);
  }

  /** Reads a response's status and headers for the pauses the provider asks (see the file comment). */
  observe(status: number, headers: Headers): void {
    const now = Date.now();
    let until = 0;
    if (status === 429 || status === 503) {
      const ms = retryAfterMs(headers, now);
      if (ms !== undefined) until = now + ms;
    }
    for (const kind of ['requests', 'tokens']) {
      if (headers.get(`x-ratelimit-remaining-${kind}`)?.trim() !== '0') continue;
      const reset = parseResetDuration(headers.get(`x-ratelimit-reset-${kind}`));
      if (reset !== undefined) until = Math.max(until, now + reset);
    }
    if (until > this.pausedUntil) this.pausedUntil = until;
  }

  private async waitPause(signal: AbortSignal | undefined): Promise<void> {
    for (let left = this.pauseLeftMs(); left > 0; left = this.pauseLeftMs()) await sleep(left, signal);
  }
}

/**
 * Takes `points` from `limiter`, waiting as long as it says (`msBeforeNext` of its rejection)
 * and trying again. Errors: AbortedError when `signal` fires while waiting.
 */
async function take(limiter: RateLimiterMemory, points: number, signal: AbortSignal | undefined): Promise<void> {
  for (;;) {
    try {
      await limiter.consume(KEY, points);
      return;
    } catch (rejection) {
      if (rejection instanceof Error) throw rejection;
      await sleep(Math.max(1, (rejection as RateLimiterRes).msBeforeNext), signal);
    }
  }
}

const limiters = new Map<string, RequestLimiter>();

/**
 * The limiter of the entry `identity` (its endpoint, model and key variable: never the key) with
 * `limits`, made on first use and shared by every later caller in the process.
 */
export function requestLimiter(identity: string, limits: RequestLimits): RequestLimiter {
  const key = `${identity}\n${limits.maxConcurrency ?? ''}/${limits.rpm ?? ''}/${limits.tpm ?? ''}`;
  let limiter = limiters.get(key);
  if (!limiter) limiters.set(key, (limiter = new RequestLimiter(limits)));
  return limiter;
}

/**
 * The wait a response asks for, ms: `retry-after-ms` (OpenAI's), else `retry-after` as seconds or
 * an HTTP date (RFC 9110 §10.2.3); undefined when neither is there or readable.
 */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = Number(headers.get('retry-after-ms') ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get('retry-after');
  if (value === null) return undefined;
  const seconds = Number(value);
  if (value.trim() !== '' && Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/** OpenAI's `x-ratelimit-reset-*` durations (`20ms`, `1s`, `59.4s`, `6m0s`, `1h2m3s`) → ms; undefined when not one. */
export function parseResetDuration(value: string | null): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  let rest = text;
  for (const match of text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    total += Number(match[1]) * units[match[2]!]!;
    rest = rest.replace(match[0], '');
  }
  return rest === '' && total >= 0 ? total : undefined;
}
