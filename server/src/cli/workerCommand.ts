/**
 * `trajlab worker --queue URL [--host DOCKER_URL | --hosts FILE] [--workers N] [--gpus IDS] [--task-types swe,code] [--name NAME] [--metrics-port N]`: takes
 * attempts from a Redis queue and runs them on this machine's Docker engine (run/queueWorker.ts):
 * only those of the task types it serves (`--task-types`, default all), GPU tasks only when it has devices;
 * with `--hosts FILE`, one worker per enabled host of the file in this process (its workers and GPUs),
 * until SIGINT or SIGTERM (the attempts running then finish first; a second signal exits at once).
 * `--metrics-port` serves /metrics and /health as the daemon does (attempts running per Docker
 * host, attempts finished, step durations, model requests, tokens and cost).
 */
import { Command, InvalidArgumentError } from 'commander';
import * as os from 'node:os';
import { QueueWorker } from '../run/queueWorker';
import { readHostsFile } from '../pool/hostsFile';
import { hostName } from '../runtime/connection';
import { parseTaskTypes, queueUrlProblem } from '../queue/queue';
import { TASK_TYPES, type TaskType } from '../../../common/src/task';
import { parseGpuList } from '../runtime/gpus';
import { hostUrlProblem } from '../pool/hostSpec';
import { RUN_DEFAULTS } from '../run/runDefaults';
import { stderrLogger } from '../util/log';
import { DEFAULT_PACK_CACHE_BYTES } from '../queue/packs';
import { int, num } from './runOptionFlags';
import { metricsOptions, withMetricsEndpoint, type MetricsFlags } from './metricsFlags';

/** Adds `worker` to `program`. */
export function addWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('Take attempts from a Redis queue (`generate --queue URL` puts them there) and run them on this machine\'s Docker engine; API keys come from this environment.')
    .requiredOption('--queue <url>', 'the Redis queue: redis://[:password@]host:6379/0 (rediss:// for TLS)', (v: string) => {
      const problem = queueUrlProblem(v);
      if (problem) throw new InvalidArgumentError(`--queue: ${problem}`);
      return v;
    })
    .option('--host <url>', 'Docker host (default: DOCKER_HOST or the local socket)', (v: string) => {
      const problem = hostUrlProblem(v);
      if (problem) throw new InvalidArgumentError(`--host: ${problem}`);
      return v;
    })
    .option('--hosts <file>', 'several Docker hosts (YAML or JSON, as `generate --hosts` takes: per host url, workers, gpus, enabled): one worker per enabled host in this process, named <name>/<host>')
    .option('-w, --workers <n>', 'attempts at once (with --hosts: per host without its own workers)', int('--workers', 1), RUN_DEFAULTS.workers)
    .option('--gpus <ids>', 'GPU device ids this machine offers, comma-separated (default: TRAJLAB_GPUS, else the engine\'s)', (v: string) => parseGpuList(v))
    .option('--task-types <types>', `the task types whose attempts it takes, comma-separated: ${TASK_TYPES.join(', ')} (default: all; a task without task_type is code)`, (v: string) => {
      try {
        return parseTaskTypes(v);
      } catch (err) {
        throw new InvalidArgumentError(`--task-types: ${(err as Error).message}`);
      }
    })
    .option('--name <name>', 'name in reports, logs and Redis\'s client list (default <hostname>:<pid>; no spaces)', (v: string) => {
      if (!/^[!-~]+$/.test(v)) throw new InvalidArgumentError(`--name: "${v}" must be printable characters without spaces (Redis names its connections after it)`);
      return v;
    })
    .option('--pack-cache-mib <n>', 'disk the coordinator\'s unpacked files (repositories, tasks-folder files) may take here before the least recently used ones no attempt holds are removed, MiB', num('--pack-cache-mib', 1), DEFAULT_PACK_CACHE_BYTES / 2 ** 20)
    .option('--lock-sec <s>', 'seconds a job stays this worker\'s without news before another worker takes it back (a worker that died); also how often this worker looks for such jobs', num('--lock-sec', 1), 30)
    .addOption(metricsOptions()[0]!)
    .addOption(metricsOptions()[1]!)
    .action(async (f: { queue: string; host?: string; hosts?: string; workers: number; gpus?: string[]; taskTypes?: TaskType[]; name?: string; lockSec: number; packCacheMib: number } & MetricsFlags) => {
      if (f.host && f.hosts) throw new InvalidArgumentError('--host and --hosts: give one (--hosts lists every host this process serves)');
      const common = { queueUrl: f.queue, taskTypes: f.taskTypes, lockMs: f.lockSec * 1000, logger: stderrLogger, packCacheBytes: Math.round(f.packCacheMib * 2 ** 20) };
      const name = f.name ?? `${os.hostname()}:${process.pid}`;
      const workers = f.hosts
        ? (await readHostsFile(f.hosts))
            .filter((h) => h.enabled !== false)
            .map((h) => new QueueWorker({ ...common, host: h.url, workers: h.workers ?? f.workers, gpus: h.gpus ?? f.gpus, name: `${name}/${(h.name ?? hostName(h.url)).replace(/\s+/g, '_')}` }))
        : [new QueueWorker({ ...common, host: f.host, workers: f.workers, gpus: f.gpus, name })];
      if (!workers.length) throw new InvalidArgumentError(`--hosts ${f.hosts}: no enabled host`);
      // One that cannot start stops them all: a worker process serves all of its hosts or none.
      const started = await Promise.allSettled(workers.map((w) => w.start()));
      const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) {
        await Promise.all(workers.map((w) => w.close()));
        throw failed.reason;
      }
      const worker = { name: workers.map((w) => w.name).join(', '), close: async () => void (await Promise.all(workers.map((w) => w.close()))) };
      await withMetricsEndpoint(f, () => new Promise<void>((resolve) => {
        let stopping = false;
        const onSignal = (sig: NodeJS.Signals) => {
          if (stopping) process.exit(sig === 'SIGINT' ? 130 : 143);
          stopping = true;
          stderrLogger.info(`worker ${worker.name}: stopping after the attempts running here (${sig} again to stop now)`);
          void worker.close().then(resolve, resolve);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      }));
    });
}
