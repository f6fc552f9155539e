/**
 * The dataset requests on one daemon connection (`trajlab/dataset/*`, protocol.ts): the Dataset
 * webview's statistics and Quality tab, the Compare runs view and the Export… wizard, over the
 * same functions the CLI uses (`computeStats`, `computeQualityReport`, `compareRuns`,
 * `exportTrajectories`).
 *
 * Each request takes an optional `progressToken`: progress is sent as
 * `trajlab/dataset/progress` notifications under it, at most every PROGRESS_INTERVAL_MS (the
 * first and the last are always sent). `$/cancelRequest` aborts the work through an AbortSignal
 * (nothing is left behind by a cancelled export) and answers RequestCancelled. A request the
 * daemon cannot do answers a ResponseError whose message is for the user: InvalidParams for bad
 * params, a missing source, invalid filters or an output that exists without `overwrite`.
 */
import * as path from 'node:path';
import { ErrorCodes, LSPErrorCodes, ResponseError, type CancellationToken, type Connection } from 'vscode-languageserver/node';
import { EXPORT_FORMATS, type DatasetProgress, type ExportOptions, type SelectionFilters } from '../../../common/src/dataset';
import {
  DatasetCompareRequest,
  DatasetExportRequest,
  DatasetProgressNotification,
  DatasetQualityRequest,
  DatasetStatsRequest,
  type DatasetCompareParams,
  type DatasetExportParams,
  type DatasetQualityParams,
  type DatasetStatsParams,
} from '../../../common/src/protocol';
import { tokenToSignal } from '../util/cancellation';
import { compareRuns } from '../stats/compare';
import { computeStats } from '../stats/stats';
import { AbortedError } from '../util/abort';
import type { Logger } from '../util/log';
import { ExportError, exportTrajectories } from '../export/dataset';
import { validateFilters } from '../dataset/select';
import { computeQualityReport } from '../stats/qualityReport';
import { SourceError } from '../dataset/sources';

/** Least time between two progress notifications of one request, ms (≤ 10 per second). */
export const PROGRESS_INTERVAL_MS = 100;

/** Registers `trajlab/dataset/stats|compare|export|quality` (progress under the caller's token, cancellable). */
export function registerDatasetHandlers(connection: Connection, logger: Logger): void {
  connection.onRequest(DatasetStatsRequest.type, (params, token) =>
    run(connection, logger, 'stats', params, token, async (signal, onProgress) => {
      const p = params as Partial<DatasetStatsParams> | null | undefined;
      const sources = requireSources(p?.sources, 'params.sources');
      const filters = requireFilters(p?.filters);
      return computeStats(sources, { filters, rows: p?.rows === true }, onProgress, signal);
    }),
  );

  connection.onRequest(DatasetQualityRequest.type, (params, token) =>
    run(connection, logger, 'quality', params, token, async (signal, onProgress) => {
      const p = params as Partial<DatasetQualityParams> | null | undefined;
      const sources = requireSources(p?.sources, 'params.sources');
      const filters = requireFilters(p?.filters);
      const t = p?.nearThreshold;
      if (t !== undefined && !(typeof t === 'number' && t > 0 && t <= 1)) throw new InvalidParams(`params.nearThreshold must be a number in (0, 1] (got ${JSON.stringify(t)})`);
      return computeQualityReport(sources, { filters, nearThreshold: t }, onProgress, signal);
    }),
  );

  connection.onRequest(DatasetCompareRequest.type, (params, token) =>
    run(connection, logger, 'compare', params, token, async (signal, onProgress) => {
      const p = params as Partial<DatasetCompareParams> | null | undefined;
      const runA = requireAbsolute(p?.runA, 'params.runA');
      const runB = requireAbsolute(p?.runB, 'params.runB');
      const filters = requireFilters(p?.filters);
      // Side B's progress continues side A's count, so the bar only moves forward.
      let aTotal = 0;
      return compareRuns([runA], [runB], { filters }, (x) => {
        const { side, ...progress } = x;
        if (side === 'a') {
          aTotal = progress.total;
          onProgress(progress);
        } else {
          onProgress({ ...progress, done: aTotal + progress.done, total: aTotal + progress.total });
        }
      }, signal);
    }),
  );

  connection.onRequest(DatasetExportRequest.type, (params, token) =>
    run(connection, logger, 'export', params, token, async (signal, onProgress) => {
      const p = params as Partial<DatasetExportParams> | null | undefined;
      const sources = requireSources(p?.sources, 'params.sources');
      const o = p?.options as Partial<ExportOptions> | undefined;
      if (!o || typeof o !== 'object') throw new InvalidParams('params.options must be the export options ({format, out, …})');
      if (!EXPORT_FORMATS.includes(o.format as never)) throw new InvalidParams(`params.options.format must be one of ${EXPORT_FORMATS.join(', ')} (got ${JSON.stringify(o.format)})`);
      const out = requireAbsolute(o.out, 'params.options.out');
      requireFilters(o.filters);
      const options: ExportOptions = { ...(o as ExportOptions), out };
      options.command = exportCommandLine(sources, options);
      const result = await exportTrajectories(sources, options, onProgress, signal, logger);
      const m = result.manifest.counts;
      logger.info(`dataset export: ${m.kept} of ${m.trajectories} trajectories as ${options.format} → ${result.manifestFile}`);
      return result;
    }),
  );
}

/**
 * The command line recorded in an export's manifest: what `trajlab export` would be given for
 * the same export, after `vscode export` (it came from the extension), e.g.
 * `["vscode", "export", "/w/trajlab/runs/r1", "--format", "openai", "--out", "/w/x.jsonl", "--success-only"]`.
 */
export function exportCommandLine(sources: string[], o: ExportOptions): string[] {
  const args = ['vscode', 'export', ...sources, '--format', o.format, '--out', o.out];
  const f: SelectionFilters = o.filters ?? {};
  const flag = (on: boolean | undefined, name: string) => on && args.push(name);
  const value = (v: string | number | undefined, name: string) => v !== undefined && args.push(name, String(v));
  const list = (v: string[] | undefined, name: string) => v?.length && args.push(name, v.join(','));
  list(f.runs, '--run');
  value(f.taskGlob, '--task');
  list(f.taskTypes, '--task-type');
  list(f.exitStatuses, '--exit-status');
  flag(f.successOnly, '--success-only');
  flag(f.resolvedOnly, '--resolved-only');
  value(f.minReward, '--min-reward');
  value(f.maxReward, '--max-reward');
  value(f.minSteps, '--min-steps');
  value(f.maxSteps, '--max-steps');
  value(f.minTotalTokens, '--min-total-tokens');
  value(f.maxTotalTokens, '--max-total-tokens');
  if (f.dedupe === 'near') args.push('--dedupe', f.nearThreshold !== undefined ? `near:${f.nearThreshold}` : 'near');
  else flag(f.dedupe === true || f.dedupe === 'exact', '--dedupe');
  value(f.maxRepeats, '--max-repeats');
  list(f.noFlags, '--no-flag');
  flag(f.keepTampered, '--keep-tampered');
  flag(f.bestPerTask, '--best-per-task');
  value(f.maxPerTask, '--max-per-task');
  flag(f.includeUnfinished, '--include-unfinished');
  if (o.split?.length) args.push('--split', o.split.map((s) => `${s.name}=${s.fraction}`).join(','));
  value(o.seed, '--seed');
  flag(o.tokenCounts, '--token-counts');
  value(o.maxTokens, '--max-tokens');
  value(o.tokenizer, '--tokenizer');
  flag(o.includeReasoning, '--reasoning');
  flag(o.metadata === false, '--no-metadata');
  flag(o.overwrite, '--overwrite');
  return args;
}

/** A params problem; answered as InvalidParams with this message. */
class InvalidParams extends Error {}

/**
 * Runs one dataset job: bridges the cancellation token, throttles its progress under the
 * caller's `progressToken`, and turns errors into ResponseErrors with a message for the user.
 */
async function run<T>(
  connection: Connection,
  logger: Logger,
  what: string,
  params: unknown,
  token: CancellationToken,
  job: (signal: AbortSignal, onProgress: (p: DatasetProgress) => void) => Promise<T>,
): Promise<T | ResponseError<void>> {
  const progressToken = (params as { progressToken?: unknown } | null | undefined)?.progressToken;
  const progress = throttledProgress(PROGRESS_INTERVAL_MS, (p) => {
    if (typeof progressToken === 'string' && progressToken) {
      void connection.sendNotification(DatasetProgressNotification.type, { token: progressToken, progress: p }).catch((err: Error) => logger.warn(`dataset ${what}: progress: ${err.message}`));
    }
  });
  try {
    const result = await job(tokenToSignal(token), progress.report);
    progress.flush();
    return result;
  } catch (err) {
    progress.cancel();
    if (err instanceof AbortedError || token.isCancellationRequested) return new ResponseError(LSPErrorCodes.RequestCancelled, `the dataset ${what} was cancelled`);
    if (err instanceof InvalidParams || err instanceof SourceError || err instanceof ExportError) return new ResponseError(ErrorCodes.InvalidParams, err.message);
    const message = (err as Error)?.message ?? String(err);
    logger.error(`dataset ${what}: ${(err as Error)?.stack ?? message}`);
    return new ResponseError(ErrorCodes.InternalError, `dataset ${what} failed: ${message}`);
  }
}

/**
 * Calls `send` with the first progress at once, then at most every `intervalMs` with the latest
 * one (a later one replaces a pending one); `flush` sends a pending one now, `cancel` drops it.
 * `now` is the clock in ms (tests give their own).
 */
export function throttledProgress(
  intervalMs: number,
  send: (p: DatasetProgress) => void,
  now: () => number = () => performance.now(),
): { report: (p: DatasetProgress) => void; flush: () => void; cancel: () => void } {
  let last = -Infinity;
  let pending: DatasetProgress | undefined;
  let timer: NodeJS.Timeout | undefined;
  const emit = () => {
    timer = undefined;
    if (!pending) return;
    const p = pending;
    pending = undefined;
    last = now();
    send(p);
  };
  return {
    report: (p) => {
      pending = { ...p };
      if (timer) return;
      const wait = last + intervalMs - now();
      if (wait <= 0) emit();
      else timer = setTimeout(emit, wait);
    },
    flush: () => {
      if (timer) clearTimeout(timer);
      emit();
    },
    cancel: () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      pending = undefined;
    },
  };
}

function requireSources(v: unknown, name: string): string[] {
  if (!Array.isArray(v) || !v.length) throw new InvalidParams(`${name} must be a non-empty array of absolute paths (run folders, trajectory folders, trajectory files or export manifests)`);
  return v.map((s, i) => requireAbsolute(s, `${name}[${i}]`));
}

function requireAbsolute(v: unknown, name: string): string {
  if (typeof v !== 'string' || !v || !path.isAbsolute(v)) throw new InvalidParams(`${name} must be an absolute path (got ${JSON.stringify(v)?.slice(0, 120)})`);
  return path.normalize(v);
}

function requireFilters(v: unknown): SelectionFilters | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidParams('params.filters must be an object of selection filters');
  const problems = validateFilters(v as SelectionFilters);
  if (problems.length) throw new InvalidParams(`invalid filters: ${problems.join('; ')}`);
  return v as SelectionFilters;
}
