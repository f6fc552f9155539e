/**
 * The model of a run, from its options: one client for every task (API models, `noop`,
 * `replay:`), one per task (`gold`), or a models list's pool (one view per attempt). Shared by
 * the engine and queue workers (run/queueWorker.ts), which run attempts of the same options.
 */
import * as path from 'node:path';
import type { RunOptions } from '../../../common/src/run';
import type { Task } from '../../../common/src/task';
import type { Trajectory } from '../../../common/src/trajectory';
import { createApiModel, missingKeyVariable, parseModelSpec, type ModelClient } from '../agent/model';
import { ModelPool } from '../agent/modelPool';
import { ScriptedModel, goldModel, replayModel } from '../agent/policies';

/** The model of a run. */
export interface RunModel {
  /**
   * The model of one attempt of `task`: `previous`, its unfinished trajectory (a models list
   * keeps the entry its steps name); `mayRequeue`, whether a models list may end a call with
   * ModelUnavailableError (false once the attempt used its requeues). Errors: `gold` for a task
   * without a solution (that attempt is recorded as an error).
   */
  forTask(task: Task, previous?: Trajectory, mayRequeue?: boolean): ModelClient;
  /** A models list (RunOptions.models). */
  pool?: ModelPool;
  /** A `replay:` model's recorded trajectory, to compare with (the run takes its mode). */
  replay?: { file: string; trajectory: Trajectory };
}

/**
 * The model of `options` (`model`, `models`, `baseUrl`, `temperature`, `recordTokens`,
 * `modelSwitch`); `env` holds the API keys, `warn` gets messages for the user (an unpriced
 * model, a benched entry). Errors: an unknown provider, a missing key (naming the variable), an
 * unreadable replay file.
 */
export function runModelOf(options: RunOptions, env: NodeJS.ProcessEnv, warn: (message: string) => void): RunModel {
  const shared = (model: ModelClient): RunModel => ({ forTask: () => model });
  if (options.models?.length) {
    const pool = new ModelPool(options.models, { env, allowSwitch: options.modelSwitch, recordTokens: options.recordTokens, warn });
    return { pool, forTask: (_task, previous, mayRequeue = true) => pool.forAttempt(previous?.steps.findLast((s) => s.model !== undefined)?.model, mayRequeue) };
  }
  const spec = parseModelSpec(options.model);
  switch (spec.kind) {
    case 'gold':
      return { forTask: goldModel };
    case 'noop':
      return shared(new ScriptedModel([], { spec: 'noop', provider: 'noop', name: 'noop' }, 'gold'));
    case 'replay': {
      const file = path.resolve(spec.file);
      const { model, source } = replayModel(file);
      return { ...shared(model), replay: { file, trajectory: source } };
    }
    case 'api':
      return shared(createApiModel(spec, { baseUrl: options.baseUrl, temperature: options.temperature, recordTokens: options.recordTokens, env, warn }));
  }
}

/**
 * The API key variables the model of `options` needs that `env` lacks (missingKeyVariable of its
 * spec, or of each models entry with the entry's `base_url` and `api_key_env`), without repeats;
 * empty when every key is there or none is needed (`gold`, `noop`, `replay:`, a local server).
 * A queue worker asks before it takes an attempt (run/queueWorker.ts). Errors: an unknown provider.
 */
export function missingApiKeys(options: Pick<RunOptions, 'model' | 'models' | 'baseUrl'>, env: NodeJS.ProcessEnv): string[] {
  const wanted = options.models?.length
    ? options.models.map((m) => ({ spec: parseModelSpec(m.model), baseUrl: m.base_url, apiKeyEnv: m.api_key_env }))
    : [{ spec: parseModelSpec(options.model), baseUrl: options.baseUrl, apiKeyEnv: undefined }];
  const missing = wanted.flatMap(({ spec, baseUrl, apiKeyEnv }) => {
    const variable = spec.kind === 'api' ? missingKeyVariable(spec, { baseUrl, apiKeyEnv, env }) : undefined;
    return variable ? [variable] : [];
  });
  return [...new Set(missing)];
}
