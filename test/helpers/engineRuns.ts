/**
 * Engine runs for integration tests: a RunEngine run to the end against the local Docker engine
 * (and, with `server`, the real openai SDK talking to a scripted model server), with the checks
 * every run promises.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunInfo, RunOptions, RunReport } from '../../common/src/run';
import type { Trajectory } from '../../common/src/trajectory';
import { RunEngine, type EngineEvent } from '../../server/src/run/engine';
import { containersOfRun, listTree, memoryLogger, readJson, readTrajectory, removeContainersOfRun, within } from './engineHelpers';
import { startScriptedModelServer, type Responder, type ScriptedModelServer } from './scriptedModelServer';

/** The OPENAI_API_KEY the runs get: it must be written nowhere in the run folder. */
export const API_KEY = 'test-key';

export interface EngineRun {
  engine: RunEngine;
  report: RunReport;
  info: RunInfo;
  logger: ReturnType<typeof memoryLogger>;
  events: EngineEvent[];
  traj(taskId: string, attempt?: number): Trajectory;
}

/**
 * Runs an engine to the end (bounded by `timeoutMs`) and checks what every run promises:
 * no container of the run is left, and the API key (and each of `extra.secrets`) is written
 * nowhere in the run folder. `extra.env` adds to the engine's environment.
 */
export async function runEngine(
  options: Partial<RunOptions> & { tasksFile: string; out: string },
  extra: { server?: ScriptedModelServer; timeoutMs?: number; onEvent?: (e: EngineEvent, engine: RunEngine) => void; env?: Record<string, string>; secrets?: string[] } = {},
): Promise<EngineRun> {
  const logger = memoryLogger();
  const events: EngineEvent[] = [];
  const engine: RunEngine = new RunEngine(
    { workers: 5, ...(extra.server ? { model: 'openai:scripted', baseUrl: extra.server.baseUrl } : {}), ...options },
    {
      logger,
      env: { OPENAI_API_KEY: API_KEY, ...extra.env },
      onEvent: (e) => {
        events.push(e);
        extra.onEvent?.(e, engine);
      },
    },
  );
  let report: RunReport;
  try {
    report = await within(engine.run(), extra.timeoutMs ?? 90_000, `run ${engine.runId}`);
  } catch (err) {
    engine.cancel();
    await removeContainersOfRun(engine.runId);
    throw new Error(`${(err as Error).message}\nengine log:\n${logger.lines.join('\n')}`);
  }
  assert.deepEqual(await containersOfRun(engine.runId), [], 'no container of the run is left');
  for (const file of listTree(engine.store.dir)) {
    if (!fs.statSync(file).isFile()) continue;
    const text = fs.readFileSync(file, 'utf8');
    for (const secret of [API_KEY, ...(extra.secrets ?? [])]) assert.ok(!text.includes(secret), `a secret is written in ${file}`);
  }
  const info = readJson<RunInfo>(path.join(engine.store.dir, 'run.json'));
  return {
    engine,
    report,
    info,
    logger,
    events,
    traj: (taskId, attempt = 1) => readTrajectory(engine.store.trajectoryPath(taskId, attempt)),
  };
}

/** Starts a scripted server for the duration of `body`. */
export async function withServer<T>(respond: Responder, body: (server: ScriptedModelServer) => Promise<T>, delayMs?: number): Promise<T> {
  const server = await startScriptedModelServer({ respond, delayMs });
  try {
    return await body(server);
  } finally {
    await server.close();
  }
}
