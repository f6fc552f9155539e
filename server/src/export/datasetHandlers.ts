/**
 * The dataset requests on one daemon connection (`trajlab/dataset/*`, protocol.ts).
 * TODO(issue 6): implemented by the datasets work.
 */
import type { Connection } from 'vscode-languageserver/node';
import type { Logger } from '../util/log';

/** Registers `trajlab/dataset/stats|compare|export` (progress under the caller's token, cancellable). */
export function registerDatasetHandlers(_connection: Connection, _logger: Logger): void {}
