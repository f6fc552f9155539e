/**
 * The Docker host requests on one daemon connection (protocol.ts): `trajlab/host/info` (what a
 * host is), `trajlab/hosts/state` (the live pool state of the running runs) and
 * `trajlab/host/drain` (the drain file of an output root, pool/drain.ts).
 */
import * as path from 'node:path';
import { ErrorCodes, ResponseError, type Connection } from 'vscode-languageserver/node';
import { HostDrainRequest, HostInfoRequest, HostsStateRequest } from '../../../common/src/protocol';
import { setDrained } from '../pool/drain';
import { hostUrlProblem } from '../pool/hostSpec';
import { hostInfo } from '../runtime/hostInfo';
import { answer, optionalOut } from './requests';
import { InvalidRunParamsError, type RunManager } from './runManager';

/**
 * Registers the host requests. `trajlab/host/info`: an unreachable host is an answer (`kind:
 * 'unreachable'`), not an error. `trajlab/hosts/state`: `manager`'s running runs' hosts.
 * `trajlab/host/drain`: drains or undrains `params.url` under `params.out` (default: the
 * daemon's output root) and answers the hosts drained now; a bad URL or flag is InvalidParams.
 */
export function registerHostHandlers(connection: Connection, manager: RunManager): void {
  connection.onRequest(HostInfoRequest.type, async (params) => {
    const url = (params as { url?: unknown } | null | undefined)?.url;
    if (url !== undefined && url !== null && typeof url !== 'string') {
      return new ResponseError(ErrorCodes.InvalidParams, `params.url must be a Docker host URL string (got ${JSON.stringify(url)})`);
    }
    return hostInfo(url || undefined);
  });
  connection.onRequest(HostsStateRequest.type, () => manager.hostsState());
  connection.onRequest(HostDrainRequest.type, (params) =>
    answer(async () => {
      const p = (params ?? {}) as { url?: unknown; drain?: unknown };
      const problem = hostUrlProblem(p.url);
      if (problem) throw new InvalidRunParamsError(`params.url: ${problem}`);
      if (typeof p.drain !== 'boolean') throw new InvalidRunParamsError(`params.drain must be true (drain) or false (undrain) (got ${JSON.stringify(p.drain)})`);
      const out = path.resolve(optionalOut(params) ?? manager.out);
      return { drained: await setDrained(out, p.url as string, p.drain) };
    }),
  );
}
