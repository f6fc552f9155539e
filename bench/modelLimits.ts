/**
 * `npm run bench -- model-limits`: the models list's request limiter (server/src/agent/rateLimits.ts)
 * against a zero-latency scripted OpenAI-compatible server on 127.0.0.1 (test/helpers/
 * scriptedModelServer.ts), through the real openai SDK. No Docker.
 *
 * - overhead: the median time of one model call (ModelPool → openai SDK → HTTP → reply) with a
 *   limiter (max_concurrency, rpm and tpm all set, high enough never to wait) vs the same entry
 *   without limits, calls alternating in one process. Target: the difference of the medians
 *   ≤ 0.5 ms.
 * - throughput: 32 callers at once against an entry with `rpm: 60` for TRAJLAB_BENCH_RPM_SEC
 *   seconds (default 180): requests the server answered per minute. Target: within 5% of 60.
 */
import { setMaxListeners } from 'node:events';
import { ModelPool } from '../server/src/agent/modelPool';
import type { ChatMessage } from '../common/src/trajectory';
import { quantile } from '../server/src/stats/stats';
import { startScriptedModelServer, submitReply } from '../test/helpers/scriptedModelServer';

const CALLS = 2000;
const OVERHEAD_TARGET_MS = 0.5;
const CALLERS = 32;
const RPM = 60;

const median = (xs: number[]) => quantile(Float64Array.from(xs).sort(), 0.5)!;
const messages: ChatMessage[] = [{ role: 'system', content: 'You are a helpful assistant.' }, { role: 'user', content: 'task: say done' }];

/** The benchmark (see the file comment); prints the figures and PASS / MISS. */
export async function modelLimitsBench(): Promise<void> {
  const server = await startScriptedModelServer({ respond: () => submitReply('done') });
  const quiet = { env: {}, warn: () => undefined };
  try {
    const signal = new AbortController().signal;
    const base = { model: 'vllm:bench', base_url: server.baseUrl, max_retries: 0 };
    const plain = new ModelPool([base], quiet).forAttempt(undefined, true);
    const limited = new ModelPool([{ ...base, max_concurrency: 1000, rpm: 6_000_000, tpm: 1_000_000_000 }], quiet).forAttempt(undefined, true);
    for (let i = 0; i < 200; i++) await (i % 2 ? plain : limited).complete(messages, undefined, signal); // warm-up
    const times = { plain: [] as number[], limited: [] as number[] };
    for (let i = 0; i < CALLS; i++) {
      for (const [name, model] of i % 2 ? ([['plain', plain], ['limited', limited]] as const) : ([['limited', limited], ['plain', plain]] as const)) {
        const t = performance.now();
        await model.complete(messages, undefined, signal);
        times[name].push(performance.now() - t);
      }
    }
    const overhead = median(times.limited) - median(times.plain);
    console.log(`model-limits overhead: median call ${median(times.limited).toFixed(3)} ms with the limiter vs ${median(times.plain).toFixed(3)} ms without (${CALLS} calls each, alternating): +${overhead.toFixed(3)} ms, ratio ${(median(times.limited) / median(times.plain)).toFixed(3)}× — target ≤ ${OVERHEAD_TARGET_MS} ms: ${overhead <= OVERHEAD_TARGET_MS ? 'PASS' : 'MISS'}`);

    const seconds = Number(process.env.TRAJLAB_BENCH_RPM_SEC ?? 180);
    const before = server.requests.length;
    const sixty = new ModelPool([{ ...base, rpm: RPM }], quiet);
    const stop = new AbortController();
    setMaxListeners(CALLERS * 2, stop.signal); // every caller waits on it
    const started = performance.now();
    const timer = setTimeout(() => stop.abort('time'), seconds * 1000);
    await Promise.all(
      Array.from({ length: CALLERS }, async () => {
        while (!stop.signal.aborted) await sixty.forAttempt(undefined, true).complete(messages, undefined, stop.signal).catch(() => undefined);
      }),
    );
    clearTimeout(timer);
    const minutes = (performance.now() - started) / 60_000;
    const answered = server.requests.slice(before).filter((r) => r.status === 200).length;
    const perMinute = answered / minutes;
    const ratio = perMinute / RPM;
    console.log(`model-limits throughput: ${answered} requests answered in ${(minutes * 60).toFixed(1)} s by ${CALLERS} callers under rpm ${RPM}: ${perMinute.toFixed(2)}/min, ratio ${ratio.toFixed(3)}× of ${RPM} — target within 5%: ${Math.abs(ratio - 1) <= 0.05 ? 'PASS' : 'MISS'}`);
  } finally {
    await server.close();
  }
}
