/**
 * What the run engine tells the metrics (metrics.ts) as a run goes: one call per event, so
 * engine.ts stays free of metric names. Labels are hosts and exit statuses only, never a task.
 */
import type { Step } from '../../../common/src/trajectory';
import { attemptDuration, attemptsQueued, attemptsRunning, attemptsTotal, runsActive, stepDuration } from './metrics';

/** A run started in this process. */
export function runStarted(): void {
  runsActive.inc();
}

/** A run ended (finished, cancelled or failed); `unstarted`: its attempts still queued, which now never run. */
export function runEnded(unstarted: number): void {
  runsActive.dec();
  if (unstarted > 0) attemptsQueued.dec(unstarted);
}

/** `count` attempts joined the queue (waiting for a place). */
export function attemptsQueuedAdded(count: number): void {
  attemptsQueued.inc(count);
}

/** A queued attempt left the queue: it runs now (`host`: where), or it was already finished by an earlier process (no host). */
export function attemptDequeued(host?: string): void {
  attemptsQueued.dec();
  if (host !== undefined) attemptsRunning.inc({ host });
}

/** A queue worker took an attempt from the Redis queue and runs it on `host` (a worker has no queue of its own to count). */
export function attemptTaken(host: string): void {
  attemptsRunning.inc({ host });
}

/**
 * An attempt that ran on `host` ended: `exitStatus` is the trajectory's (`submitted`, `timeout`,
 * …), `error` when it failed outside its trajectory, `cancelled` when the run was cancelled.
 * `seconds`: its wall time in this process, observed for attempts that finished.
 */
export function attemptEnded(host: string, exitStatus: string, seconds?: number): void {
  attemptsRunning.dec({ host });
  attemptsTotal.inc({ exit_status: exitStatus });
  if (seconds !== undefined) attemptDuration.observe(seconds);
}

/** A queue worker put an attempt it ran on `host` back on the Redis queue (its model unavailable): it runs here no longer, and is no finished attempt. */
export function attemptReturned(host: string): void {
  attemptsRunning.dec({ host });
}

/** An attempt that ran on `host` left it because the host went down: it waits in the queue again (to run elsewhere). */
export function attemptRequeued(host: string): void {
  attemptsRunning.dec({ host });
  attemptsQueued.inc();
}

/** A step finished: its duration (started_at to ended_at), seconds. */
export function stepFinished(step: Step): void {
  const ms = Date.parse(step.ended_at) - Date.parse(step.started_at);
  if (Number.isFinite(ms) && ms >= 0) stepDuration.observe(ms / 1000);
}
