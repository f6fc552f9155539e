/**
 * The inspector's requests on one daemon connection (`trajlab/trajectory/*`, protocol.ts),
 * answered by an InspectorService (store.ts) that lives as long as the connection.
 *
 * Errors are ResponseErrors whose message is for the user: InvalidParams for malformed
 * params, RequestFailed otherwise. A handle the daemon does not know (closed, or the daemon
 * restarted) fails with `data: {reason: 'notOpen'}`, so the client can reopen the file and retry.
 */
import { ErrorCodes, LSPErrorCodes, ResponseError, type CancellationToken, type Connection, type Disposable } from 'vscode-languageserver/node';
import {
  TrajectoryCloseNotification,
  TrajectoryDiffSidesRequest,
  TrajectoryFilterRequest,
  TrajectoryOpenRequest,
  TrajectoryScreenshotRequest,
  TrajectorySearchRequest,
  TrajectoryStepRequest,
  TrajectoryStepsRequest,
} from '../../../common/src/protocol';
import { tokenToSignal } from '../util/cancellation';
import { AbortedError } from '../util/abort';
import type { Logger } from '../util/log';
import { InspectorError, InspectorService } from '../inspect/store';

/** `data` of every inspector ResponseError: which failure (`notOpen`: the client should reopen the file and retry). */
export interface InspectorErrorData {
  reason: InspectorError['kind'];
}

/**
 * Registers the `trajlab/trajectory/*` handlers on `connection`, answered by `service` (one per
 * connection; tests pass their own to look inside). The handles it opens are dropped when the
 * connection is disposed (main.ts disposes it when its socket closes) or when the returned
 * Disposable is disposed.
 */
export function registerTrajectoryHandlers(connection: Connection, logger: Logger, service = new InspectorService()): Disposable {
  const answer = async <R>(what: string, fn: () => R | Promise<R>): Promise<R | ResponseError<InspectorErrorData | void>> => {
    try {
      return await fn();
    } catch (err) {
      return toResponseError(what, err, logger);
    }
  };
  // A client may send null params: the service then reports the missing fields.
  const p = <T>(params: T): T => params ?? ({} as T);

  connection.onRequest(TrajectoryOpenRequest.type, (params) => answer('open', () => service.open(p(params).file)));
  connection.onRequest(TrajectoryStepsRequest.type, (params) => answer('steps', () => service.steps(p(params))));
  connection.onRequest(TrajectoryStepRequest.type, (params) => answer('step', () => service.step(p(params))));
  connection.onRequest(TrajectoryFilterRequest.type, (params) => answer('filter', () => service.filter(p(params))));
  connection.onRequest(TrajectorySearchRequest.type, (params, token: CancellationToken) => answer('search', () => service.search(p(params), tokenToSignal(token))));
  connection.onRequest(TrajectoryDiffSidesRequest.type, (params) => answer('diffSides', () => service.diffSides(p(params))));
  connection.onRequest(TrajectoryScreenshotRequest.type, (params) => answer('screenshot', () => service.screenshot(p(params))));
  connection.onNotification(TrajectoryCloseNotification.type, (params) => service.close(p(params).handle));

  // The connection has no close event of its own: main.ts disposes it when its socket closes.
  const dispose = connection.dispose.bind(connection);
  let disposed = false;
  const forget = () => {
    if (disposed) return;
    disposed = true;
    service.dispose();
  };
  connection.dispose = () => {
    forget();
    dispose();
  };
  return { dispose: forget };
}

function toResponseError(what: string, err: unknown, logger: Logger): ResponseError<InspectorErrorData | void> {
  if (err instanceof InspectorError) {
    const code = err.kind === 'badParams' ? ErrorCodes.InvalidParams : LSPErrorCodes.RequestFailed;
    return new ResponseError<InspectorErrorData>(code, err.message, { reason: err.kind });
  }
  if (err instanceof AbortedError) return new ResponseError(LSPErrorCodes.RequestCancelled, 'the request was cancelled');
  logger.error(`trajlab/trajectory/${what}: ${(err as Error)?.stack ?? String(err)}`);
  return new ResponseError(ErrorCodes.InternalError, `The trajectory ${what} request failed: ${(err as Error)?.message ?? String(err)}`);
}
