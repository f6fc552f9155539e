/**
 * The live pool state the Hosts view shows (`trajlab/hosts/state`, PoolHostState in
 * common/src/protocol.ts): one state per host across the daemon's running runs, and the text
 * of a host item. Pure (no `vscode` import) so that unit tests cover it.
 */
import type { HostsStateResult, PoolHostState } from '../../../common/src/protocol';

/** A host's state summed over the running runs that use it. */
export interface LiveHostState extends PoolHostState {
  /** How many running runs use it. */
  runs: number;
}

/**
 * A host URL as the pool names it: no password (the user stays, as in the drain file), no
 * trailing slash. The same rule as hostKey in server/src/pool/drain.ts, which the client
 * cannot import.
 */
export function poolKey(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/?#@:]*):[^/?#@]*@/i, '$1$2@').replace(/\/+$/, '');
}

/**
 * The state of each host across `result`'s runs, by poolKey: attempts, slots, pulls and builds
 * added up, GPUs in use joined; `down` if any run sees it down, else `draining` if any drains
 * it; the last error of the first run that has one.
 */
export function liveHostStates(result: HostsStateResult): Map<string, LiveHostState> {
  const byKey = new Map<string, LiveHostState>();
  for (const run of result.runs) {
    for (const h of run.hosts) {
      const key = poolKey(h.url);
      const seen = byKey.get(key);
      if (!seen) {
        byKey.set(key, { ...h, gpus: [...h.gpus], gpusInUse: [...h.gpusInUse], runs: 1 });
        continue;
      }
      seen.runs += 1;
      seen.running += h.running;
      seen.slots += h.slots;
      seen.pulls += h.pulls;
      seen.builds += h.builds;
      seen.gpus = [...new Set([...seen.gpus, ...h.gpus])];
      seen.gpusInUse = [...new Set([...seen.gpusInUse, ...h.gpusInUse])];
      if (h.status === 'down' || (h.status === 'draining' && seen.status === 'up')) seen.status = h.status;
      seen.lastError ??= h.lastError;
      seen.downSince ??= h.downSince;
    }
  }
  return byKey;
}

/**
 * The description of a host item during runs: `up · 2/4 running · GPUs 1/2 · 1 pull · 1 build`,
 * `draining · …`, `down since 10:02:03 · <last error>`. Text only (the error is untrusted).
 */
export function describeLiveHost(s: LiveHostState): string {
  if (s.status === 'down') {
    const since = s.downSince ? ` since ${s.downSince.slice(11, 19)}` : '';
    return [`down${since}`, ...(s.lastError ? [s.lastError] : [])].join(' · ');
  }
  const parts = [s.status, `${s.running}/${s.slots} running`];
  if (s.gpus.length) parts.push(`GPUs ${s.gpusInUse.length}/${s.gpus.length}`);
  if (s.pulls) parts.push(`${s.pulls} pull${s.pulls === 1 ? '' : 's'}`);
  if (s.builds) parts.push(`${s.builds} build${s.builds === 1 ? '' : 's'}`);
  return parts.join(' · ');
}
