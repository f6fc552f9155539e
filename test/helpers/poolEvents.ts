/**
 * Reading a pool run's `events.jsonl` (RunEvent lines, server/src/store/runStore.ts) for the
 * host pool's tests and benchmark: which host ran each attempt when, how many at once; and
 * killing a host's engine while an attempt is mid-way on it.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunEvent } from '../../server/src/store/runStore';
import type { Engine, EngineKill } from './engines';

/** The events of the run folder `runDir` so far; a torn last line (the run is still writing) is left out. */
export function readRunEvents(runDir: string): RunEvent[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(runDir, 'events.jsonl'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []; // the run has not written its first event yet
    throw err;
  }
  const lines = text.split('\n');
  const events: RunEvent[] = [];
  lines.forEach((line, i) => {
    if (!line) return;
    try {
      events.push(JSON.parse(line) as RunEvent);
    } catch (err) {
      if (i < lines.length - 1 && lines.slice(i + 1).some(Boolean)) throw new Error(`events.jsonl:${i + 1}: ${(err as Error).message}`);
    }
  });
  return events;
}

/** `<task_id>.<attempt>`: one attempt of a run. */
export function attemptKey(e: { task_id: string; attempt: number }): string {
  return `${e.task_id}.${e.attempt}`;
}

/** One stay of an attempt on a host: from its `attempt_started` to its end there (epoch ms). */
export interface HostStay {
  host: string;
  attempt: string;
  start: number;
  /** `attempt_finished` / `attempt_failed`, or `attempt_moved` away from the host. */
  end: number;
  /** How it ended there. */
  ended: 'finished' | 'failed' | 'moved';
}

/** An attempt running on a host at the last event read: started there, not ended or moved yet. */
export interface OpenStay {
  host: string;
  attempt: string;
  start: number;
}

/**
 * Every stay of every attempt on a host, in event order, and the stays still open after the
 * last event. Errors: an attempt that starts while it still runs somewhere (no move or end in
 * between: it would run twice), or an end without a start.
 */
export function attemptStays(events: RunEvent[]): { stays: HostStay[]; open: OpenStay[] } {
  const open = new Map<string, { host: string; start: number }>();
  const stays: HostStay[] = [];
  const close = (key: string, time: string, ended: HostStay['ended']) => {
    const o = open.get(key);
    if (!o) throw new Error(`events.jsonl: attempt ${key} ${ended} at ${time} without a start`);
    open.delete(key);
    stays.push({ host: o.host, attempt: key, start: o.start, end: Date.parse(time), ended });
  };
  for (const e of events) {
    if (e.type === 'attempt_started') {
      const key = attemptKey(e);
      const o = open.get(key);
      if (o) throw new Error(`events.jsonl: attempt ${key} started on ${e.host} at ${e.time} while still running on ${o.host}`);
      if (!e.host) throw new Error(`events.jsonl: attempt ${key} started at ${e.time} without a host (not a pool run?)`);
      open.set(key, { host: e.host, start: Date.parse(e.time) });
    } else if (e.type === 'attempt_finished') close(attemptKey(e), e.time, 'finished');
    else if (e.type === 'attempt_failed') close(attemptKey(e), e.time, 'failed');
    else if (e.type === 'attempt_moved') close(attemptKey(e), e.time, 'moved');
  }
  return { stays, open: [...open].map(([attempt, o]) => ({ attempt, ...o })) };
}

/** The stays of a finished run (attemptStays); errors also when an attempt never ended. */
export function hostStays(events: RunEvent[]): HostStay[] {
  const { stays, open } = attemptStays(events);
  if (open.length) throw new Error(`events.jsonl: attempts ${open.map((o) => o.attempt).join(', ')} never ended`);
  return stays;
}

/** The most intervals that overlap at one instant (an interval ending when another starts does not overlap it). */
export function maxOverlap(intervals: { start: number; end: number }[]): number {
  const edges = intervals.flatMap((i) => [{ t: i.start, d: 1 }, { t: i.end, d: -1 }]).sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let most = 0;
  for (const e of edges) {
    now += e.d;
    most = Math.max(most, now);
  }
  return most;
}

/** What killMidAttempt saw when it killed the engine. */
export interface MidRunKill extends EngineKill {
  /** Attempts running on the host per the events written before the kill. */
  running: OpenStay[];
  /** Containers of the run on the engine just before the kill (full ids): its orphans once it is back. */
  containers: string[];
}

/**
 * Waits (up to `timeoutMs`, default 60 s) until an attempt of the pool run in `runDir` has
 * finished at least `steps` steps on host `host` (a HostSpec.name, as events name hosts) and is
 * still running there. Errors: none did in time (the message lists the events so far).
 */
export async function midAttempt(runDir: string, host: string, steps = 1, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const events = readRunEvents(runDir);
    const { open } = attemptStays(events);
    const mid = open.some(
      (o) => o.host === host && events.filter((e) => e.type === 'step' && attemptKey(e) === o.attempt && Date.parse(e.time) >= o.start).length >= steps,
    );
    if (mid) return;
    if (Date.now() > end) throw new Error(`no attempt on ${host} reached ${steps} step(s) within ${timeoutMs / 1000} s; events so far:\n${events.map((e) => JSON.stringify(e)).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The attempts running on `host` per the events of `runDir` written by `time` (epoch ms). */
export function runningOn(runDir: string, host: string, time: number): OpenStay[] {
  return attemptStays(readRunEvents(runDir).filter((e) => Date.parse(e.time) <= time)).open.filter((o) => o.host === host);
}

/**
 * Once an attempt is mid-way on `host` (midAttempt), SIGKILLs `engine` (Engine.kill). Resolves
 * right after the kill, with when it happened and what ran there: tests that check how others
 * see the dead host (its events, /health, metrics) go on from here.
 */
export async function killMidAttempt(runDir: string, engine: Engine, host: string, steps = 1, timeoutMs = 60_000): Promise<MidRunKill> {
  await midAttempt(runDir, host, steps, timeoutMs);
  const runId = path.basename(runDir);
  const containers = execFileSync('docker', [...engine.cliArgs, 'ps', '-aq', '--no-trunc', '--filter', `label=trajlab.run=${runId}`], { encoding: 'utf8', timeout: 10_000 }).split('\n').filter(Boolean);
  const kill = await engine.kill();
  return { ...kill, running: runningOn(runDir, host, kill.time), containers };
}
