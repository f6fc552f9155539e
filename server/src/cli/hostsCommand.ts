/**
 * `trajlab hosts`: the Docker hosts of a pool from the command line.
 *   trajlab hosts list [--host URL]… [--hosts FILE] [--json]
 *   trajlab hosts drain <url> [-o out]
 *   trajlab hosts undrain <url> [-o out]
 * `list` asks each host what the Hosts view shows (runtime/hostInfo.ts); `drain` / `undrain`
 * write the drain file of an output root (pool/drain.ts), which every pool run under it reads.
 */
import { Command } from 'commander';
import type { HostInfo } from '../../../common/src/protocol';
import type { HostSpec } from '../../../common/src/run';
import { hostUrlProblem } from '../pool/hostSpec';
import { hostKey, setDrained } from '../pool/drain';
import { RUN_DEFAULTS } from '../run/runDefaults';
import { hostInfo } from '../runtime/hostInfo';
import { safeJson, sanitizeForTerminal } from '../util/terminal';
import { withHosts } from './runOptionFlags';

/** Adds `hosts list|drain|undrain` to `program`. */
export function addHostsCommand(program: Command): void {
  const hosts = program.command('hosts').description('The Docker hosts of a pool: check them, drain and undrain them.');

  hosts
    .command('list')
    .description('Ask each host whether it answers, its engine version, its TrajLab containers and GPUs. Exit status 1 when an enabled host is down.')
    .option('--host <url>', 'a Docker host (repeatable; default: DOCKER_HOST or the local socket)', (v: string, acc: string[] = []) => [...acc, v])
    .option('--hosts <file>', 'a hosts file as `generate --hosts` takes it (YAML or JSON)')
    .option('--json', 'one JSON object per host: the HostSpec and its HostInfo')
    .action(async (f: { host?: string[]; hosts?: string; json?: boolean }) => {
      const pool = await hostsOf(f.host ?? [], f.hosts);
      let down = false;
      // One at a time would wait 5 s per dead host; all at once, the slowest host sets the time.
      const infos = await Promise.all(pool.map((h) => (h.enabled === false ? undefined : hostInfo(h.url || undefined))));
      pool.forEach((spec, i) => {
        const info = infos[i];
        // Printed without a password (a URL's user stays).
        const h = { ...spec, url: spec.url && hostKey(spec.url) };
        if (info?.kind === 'unreachable') down = true;
        if (f.json) process.stdout.write(safeJson({ host: h.url ? h : { url: info?.url ?? 'local' }, info: info ?? null }, 0) + '\n');
        else process.stdout.write(sanitizeForTerminal(describe(h, info)) + '\n');
      });
      process.exitCode = down ? 1 : 0;
    });

  for (const drain of [true, false]) {
    hosts
      .command(drain ? 'drain' : 'undrain')
      .description(
        drain
          ? 'Stop placing new attempts on a host in the pool runs of an output folder (its running attempts finish); prints the hosts drained now.'
          : 'Let a drained host take attempts again; prints the hosts still drained.',
      )
      .argument('<url>', 'the host URL as the run names it (credentials are ignored in the match)')
      .option('-o, --out <dir>', 'output folder whose runs it applies to', RUN_DEFAULTS.out)
      .action(async (url: string, f: { out: string }) => {
        const problem = hostUrlProblem(url);
        if (problem) throw new Error(problem);
        const now = await setDrained(f.out, url, drain);
        for (const h of now) process.stdout.write(sanitizeForTerminal(h) + '\n');
        process.stderr.write(`trajlab hosts: ${now.length} host(s) drained under ${sanitizeForTerminal(f.out)}\n`);
      });
  }
}

/** The hosts `list` asks: the `--host`s and the file's; none given: the default host (url ''). */
async function hostsOf(urls: string[], file: string | undefined): Promise<HostSpec[]> {
  for (const url of urls) {
    const problem = hostUrlProblem(url);
    if (problem) throw new Error(`--host: ${problem}`);
  }
  const options = await withHosts({ hosts: urls.map((url) => ({ url })) }, file);
  return options.hosts ?? [{ url: options.host ?? '' }];
}

/** One line of `list`: `name  url  up|down|disabled  …`. */
function describe(h: HostSpec, info: HostInfo | undefined): string {
  const name = h.name ?? (info?.url || h.url);
  const where = info?.url ?? h.url;
  const head = name === where ? name : `${name}  ${where}`;
  if (!info) return `${head}  disabled`;
  if (info.kind === 'unreachable') return `${head}  down  ${info.error}`;
  const gpus = h.gpus?.length ? h.gpus : info.gpus;
  const parts = [
    'up',
    `Docker ${info.serverVersion}`,
    `${info.trajlabContainers} TrajLab container(s)`,
    gpus.length ? `GPUs ${gpus.join(',')}` : 'no GPUs',
    ...(h.workers ? [`workers ${h.workers}`] : []),
  ];
  return `${head}  ${parts.join('  ')}`;
}
