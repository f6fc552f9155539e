/**
 * TrajLab's Prometheus metrics (prom-client), one registry per process: the run engine, the
 * host pool and the model client update them; `/metrics` (metrics/server.ts) serves them in the
 * Prometheus text format. Names follow Prometheus' conventions
 * (https://prometheus.io/docs/practices/naming/): prefix `trajlab_`, base units (seconds,
 * tokens, USD), `_total` on counters, and no per-task labels (a label per task id would grow
 * without bound): the only labels are `host` (the pool's host names), `exit_status`,
 * `status` (an HTTP status code, or `error` when no response came), and the queue gauge's
 * `queue` (one per task type and GPU need) and `state` (BullMQ's job states).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The process's registry: TrajLab's metrics and prom-client's default process metrics (CPU, memory, event loop, GC). */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const registers = [registry];

/** Attempts waiting for a place (a free slot on a host that is up), over every run of the process. */
export const attemptsQueued = new Gauge({ name: 'trajlab_attempts_queued', help: 'Attempts waiting for a slot on a Docker host.', registers });
/** Attempts running now, by host. */
export const attemptsRunning = new Gauge({ name: 'trajlab_attempts_running', help: 'Attempts running now.', labelNames: ['host'] as const, registers });
/** Attempts finished, by exit status (`submitted`, `step_limit`, `cost_limit`, `timeout`, `error`, `cancelled`). */
export const attemptsTotal = new Counter({ name: 'trajlab_attempts_total', help: 'Attempts finished, by exit status.', labelNames: ['exit_status'] as const, registers });
/** Wall time of each finished attempt, seconds (environment, agent loop, evaluation). */
export const attemptDuration = new Histogram({
  name: 'trajlab_attempt_duration_seconds',
  help: 'Wall time of finished attempts.',
  buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
  registers,
});
/** Time of each step (model call and its actions), seconds. */
export const stepDuration = new Histogram({
  name: 'trajlab_step_duration_seconds',
  help: 'Time of each agent step (model call and actions).',
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  registers,
});
/** Time from container create to a ready session, seconds, by host. */
export const containerStart = new Histogram({
  name: 'trajlab_container_start_seconds',
  help: 'Time from container create to a ready shell session.',
  labelNames: ['host'] as const,
  buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
  registers,
});
/** Docker Engine API calls that failed, by host. */
export const dockerErrors = new Counter({ name: 'trajlab_docker_errors_total', help: 'Failed Docker Engine API calls.', labelNames: ['host'] as const, registers });
/** 1 while a host of a running pool answers, 0 while it is down. */
export const hostUp = new Gauge({ name: 'trajlab_host_up', help: 'Whether a Docker host of a running run answers (1) or is down (0).', labelNames: ['host'] as const, registers });
/** Times a host was marked down. */
export const hostFailures = new Counter({ name: 'trajlab_host_failures_total', help: 'Times a Docker host was marked down.', labelNames: ['host'] as const, registers });
/** Attempts moved off a host that went down. */
export const attemptsMoved = new Counter({ name: 'trajlab_attempts_moved_total', help: 'Attempts moved to another host after theirs went down.', labelNames: ['host'] as const, registers });
/** Model API requests by HTTP status (`200`, `429`, `500`, … or `error` when no response came). */
export const modelRequests = new Counter({ name: 'trajlab_model_requests_total', help: 'Model API requests, by HTTP status code.', labelNames: ['status'] as const, registers });
/** Model API requests answered 429 (rate limited). */
export const modelRateLimited = new Counter({ name: 'trajlab_model_rate_limited_total', help: 'Model API requests answered 429 Too Many Requests.', registers });
/** Model API requests retried after a 429, a 5xx or a connection error. */
export const modelRetries = new Counter({ name: 'trajlab_model_retries_total', help: 'Model API requests retried.', registers });
/** Prompt and completion tokens the model API reported. */
export const promptTokens = new Counter({ name: 'trajlab_model_prompt_tokens_total', help: 'Prompt tokens reported by the model API.', registers });
export const completionTokens = new Counter({ name: 'trajlab_model_completion_tokens_total', help: 'Completion tokens reported by the model API.', registers });
/** Model cost, USD. */
export const costUsd = new Counter({ name: 'trajlab_model_cost_usd_total', help: 'Model cost in USD.', registers });
/** Runs in progress in this process. */
export const runsActive = new Gauge({ name: 'trajlab_runs_active', help: 'Runs in progress.', registers });

/** Reads the job counts of Redis queues by state (BullMQ's getJobCounts), per queue name; throws when Redis does not answer. */
export type QueueDepthSource = () => Promise<{ queue: string; counts: Record<string, number> }[]>;

const queueDepthSources = new Set<QueueDepthSource>();
/** How long a scrape waits for Redis's job counts, ms. */
const QUEUE_DEPTH_TIMEOUT_MS = 1_000;

/** Scrapes whose queue job counts could not be read (Redis did not answer within 1 s). */
export const queueDepthErrors = new Counter({ name: 'trajlab_queue_depth_errors_total', help: 'Scrapes whose Redis queue job counts could not be read.', registers });

/**
 * Jobs of the Redis queues (`generate --queue`, `trajlab worker`) by queue (one per task type and
 * GPU need: `trajlab-attempts-swe`, `trajlab-attempts-code-gpu`, …) and BullMQ state (`waiting`,
 * `prioritized`, `active`, `delayed`, `failed`), read from Redis at each scrape: every run's jobs
 * (what a worker autoscaler watches). Absent while no queue run or worker is active.
 */
export const queueJobs = new Gauge({
  name: 'trajlab_queue_jobs',
  help: 'Jobs on the Redis queues, by queue and state.',
  labelNames: ['queue', 'state'] as const,
  registers,
  async collect() {
    this.reset();
    const totals = new Map<string, number>();
    await Promise.all([...queueDepthSources].map(async (source) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const queues = await Promise.race([source(), new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), QUEUE_DEPTH_TIMEOUT_MS)))]);
        for (const { queue, counts } of queues) {
          for (const [state, n] of Object.entries(counts)) totals.set(`${queue}\0${state}`, Math.max(totals.get(`${queue}\0${state}`) ?? 0, n));
        }
      } catch {
        queueDepthErrors.inc(); // counted: the gauge has no sample for this scrape
      } finally {
        clearTimeout(timer);
      }
    }));
    for (const [key, n] of totals) {
      const [queue, state] = key.split('\0') as [string, string];
      this.set({ queue, state }, n);
    }
  },
});

/**
 * Makes `source` report the queue's depth in `trajlab_queue_jobs` until the returned function is
 * called. Several sources of one queue (a coordinator and its worker in one process) give the
 * same counts: the largest is kept, not the sum.
 */
export function registerQueueDepth(source: QueueDepthSource): () => void {
  queueDepthSources.add(source);
  return () => void queueDepthSources.delete(source);
}
