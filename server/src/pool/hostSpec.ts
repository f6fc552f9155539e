/**
 * Checking a pool's host list (HostSpec in common/src/run.ts) however it arrives: a `--hosts`
 * file (hostsFile.ts adds the file position) or `options.hosts` of `trajlab/run/start` (the
 * daemon adds `options.hosts[i]`). One set of rules, so the CLI and the daemon accept the same
 * hosts.
 */
import type { HostSpec } from '../../../common/src/run';
import { parseGpuList } from '../runtime/gpus';
import { hostKey } from './drain';
import { ListEntryError } from '../util/listFile';

/** A host list entry that breaks a rule: where (`[2, 'workers']`: the third entry's workers) and why. */
export class HostSpecError extends ListEntryError {
  constructor(at: (string | number)[], problem: string, atKey = false) {
    super(at, problem, atKey);
    this.name = 'HostSpecError';
  }
}

const KEYS = ['url', 'name', 'workers', 'gpus', 'labels', 'enabled'] as const;

/**
 * The hosts of `list` checked and normalised: `gpus` as a list of id strings (a comma string
 * `"0,1"` and numbers `[0, 1]` are accepted), label values as strings (numbers and booleans
 * turned into strings). Rules: each entry is an object with `url` (a Docker host URL string:
 * unix://, an absolute socket path, tcp://, http(s)://, ssh://), optional `name` (non-empty
 * string), `workers` (integer ≥ 1), `gpus`, `labels` (a map of scalar values), `enabled`
 * (boolean), and no other key; no two entries name the same host (URLs compared without
 * credentials) or the same name. Errors: HostSpecError naming the first bad value.
 */
export function checkHostSpecs(list: readonly unknown[]): HostSpec[] {
  const hosts = list.map((entry, i) => checkHostSpec(entry, i));
  const byUrl = new Map<string, number>();
  const byName = new Map<string, number>();
  hosts.forEach((h, i) => {
    const key = hostKey(h.url);
    const first = byUrl.get(key);
    if (first !== undefined) throw new HostSpecError([i, 'url'], `"url" ${JSON.stringify(key)} is already host ${first + 1} of the list`);
    byUrl.set(key, i);
    if (h.name === undefined) return;
    const named = byName.get(h.name);
    if (named !== undefined) throw new HostSpecError([i, 'name'], `"name" ${JSON.stringify(h.name)} is already host ${named + 1}'s name`);
    byName.set(h.name, i);
  });
  return hosts;
}

function checkHostSpec(entry: unknown, i: number): HostSpec {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new HostSpecError([i], `a host must be an object with at least "url" (got ${shown(entry)})`);
  }
  const e = entry as Record<string, unknown>;
  const unknown = Object.keys(e).find((k) => !(KEYS as readonly string[]).includes(k));
  if (unknown !== undefined) throw new HostSpecError([i, unknown], `unknown key ${JSON.stringify(unknown)} (a host has ${KEYS.join(', ')})`, true);
  if (e.url === undefined) throw new HostSpecError([i], 'a host needs "url" (unix:///var/run/docker.sock, tcp://host:2376, ssh://user@host)');
  const urlProblem = hostUrlProblem(e.url);
  if (urlProblem) throw new HostSpecError([i, 'url'], urlProblem);
  const host: HostSpec = { url: e.url as string };
  if (e.name !== undefined) {
    if (typeof e.name !== 'string' || !e.name.trim()) throw new HostSpecError([i, 'name'], `"name" must be a non-empty string (got ${shown(e.name)})`);
    host.name = e.name;
  }
  if (e.workers !== undefined) {
    if (!Number.isInteger(e.workers) || (e.workers as number) < 1) throw new HostSpecError([i, 'workers'], `"workers" must be an integer ≥ 1 (got ${shown(e.workers)})`);
    host.workers = e.workers as number;
  }
  if (e.gpus !== undefined) host.gpus = checkGpus(e.gpus, i);
  if (e.labels !== undefined) host.labels = checkLabels(e.labels, i);
  if (e.enabled !== undefined) {
    if (typeof e.enabled !== 'boolean') throw new HostSpecError([i, 'enabled'], `"enabled" must be true or false (got ${shown(e.enabled)})`);
    host.enabled = e.enabled;
  }
  return host;
}

function checkGpus(gpus: unknown, i: number): string[] {
  if (typeof gpus === 'string') return parseGpuList(gpus);
  const id = (g: unknown) => (typeof g === 'number' && Number.isInteger(g) && g >= 0 ? String(g) : typeof g === 'string' && g.trim() ? g.trim() : undefined);
  if (!Array.isArray(gpus)) throw new HostSpecError([i, 'gpus'], `"gpus" must be a list of device ids or a comma-separated string (got ${shown(gpus)})`);
  return gpus.map((g, j) => {
    const ok = id(g);
    if (ok === undefined) throw new HostSpecError([i, 'gpus', j], `"gpus" entries must be device ids (0, "1", "GPU-3f…"; got ${shown(g)})`);
    return ok;
  });
}

function checkLabels(labels: unknown, i: number): Record<string, string> {
  if (!labels || typeof labels !== 'object' || Array.isArray(labels)) throw new HostSpecError([i, 'labels'], `"labels" must be a map of names to values (got ${shown(labels)})`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new HostSpecError([i, 'labels', k], `label ${JSON.stringify(k)} must be a string, number or boolean (got ${shown(v)})`);
    }
    out[k] = String(v);
  }
  return out;
}

/** Why `url` is not a Docker host URL connectDocker takes, or undefined when it is one. */
export function hostUrlProblem(url: unknown): string | undefined {
  const forms = 'unix:///path, tcp://host:port, https://host:port or ssh://user@host';
  if (typeof url !== 'string' || !url.trim()) return `"url" must be a Docker host URL: ${forms} (got ${shown(url)})`;
  if (url.startsWith('unix://') || url.startsWith('/')) return undefined;
  // Quoted without its password: the message may reach a log.
  const quoted = JSON.stringify(hostKey(url));
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"url" ${quoted} is not a URL: use ${forms}`;
  }
  if (!['tcp:', 'http:', 'https:', 'ssh:'].includes(parsed.protocol)) return `"url" ${quoted}: ${parsed.protocol}// is not a Docker host scheme; use ${forms}`;
  if (!parsed.hostname) return `"url" ${quoted} names no host; use ${forms}`;
  return undefined;
}

/** A value as an error message quotes it: JSON, cut at 60 characters. */
function shown(v: unknown): string {
  const text = v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}
