/**
 * The inspector's requests on one daemon connection (`trajlab/trajectory/*`, protocol.ts).
 * TODO(issue 5): implemented by the inspector work in this folder.
 */
import type { Connection } from 'vscode-languageserver/node';
import type { Logger } from '../util/log';

/** Registers the `trajlab/trajectory/*` handlers; the handles a connection opened are dropped when it closes. */
export function registerTrajectoryHandlers(_connection: Connection, _logger: Logger): void {}
