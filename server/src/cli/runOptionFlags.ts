/**
 * The `trajlab generate` flags that set RunOptions fields, as one table: a new run option is
 * one row here (flag, RunOptions key, parser, help text, default), and the command's options
 * and the RunOptions it passes to the engine both come from it.
 */
import { InvalidArgumentError, Option } from 'commander';
import type { RunOptions } from '../../../common/src/run';
import { RUN_DEFAULTS } from '../run/runDefaults';
import { isContainerUser } from '../../../common/src/task';
import { parseGpuList } from '../runtime/gpus';
import { CEILING_DEFAULTS, SANDBOX_DEFAULTS } from '../runtime/sandboxLimits';
import { checkHostSpecs, HostSpecError, hostUrlProblem } from '../pool/hostSpec';
import { readHostsFile } from '../pool/hostsFile';
import { queueUrlProblem } from '../queue/queue';
import { DEFAULT_PACK_LIMIT_MB } from '../queue/packs';
import { checkModelEntries, readModelsFile } from '../agent/modelEntries';
import { ListEntryError } from '../util/listFile';

/** A commander parser for an integer flag value ≥ `min`. Errors: InvalidArgumentError naming the flag, the rule and the value. */
export function int(name: string, min: number): (value: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min} (got "${v}")`);
    return n;
  };
}

/** A commander parser for a finite number flag value ≥ `min`. Errors: InvalidArgumentError naming the flag, the rule and the value. */
export function num(name: string, min: number): (value: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${name} must be a number ≥ ${min} (got "${v}")`);
    return n;
  };
}

/** One flag that sets the RunOptions field `key`. */
interface RunOptionFlag<K extends keyof RunOptions> {
  /** Commander flags: the short and long name and the value's placeholder (`-w, --workers <n>`). */
  flags: string;
  key: K;
  /** Help text. A default that a task's own value wins over is stated here, not in `default` (the engine must see the flag as absent). */
  description: string;
  /** Parses and checks one value; `previous` is the value so far (repeatable flags). Errors: InvalidArgumentError. */
  parse?: (value: string, previous: RunOptions[K] | undefined) => RunOptions[K];
  /** The values allowed (commander checks them and lists them in the help). */
  choices?: readonly string[];
  /** The value when the flag is absent (shown in the help). */
  default?: RunOptions[K];
}

type AnyRunOptionFlag = { [K in keyof RunOptions]-?: RunOptionFlag<K> }[keyof RunOptions];

/**
 * The generate flags, in the help's order. Where two rows set the same key, the first one
 * given wins (`--resume` over `--run-id`).
 */
export const RUN_OPTION_FLAGS: readonly AnyRunOptionFlag[] = [
  {
    flags: '-m, --model <spec>',
    key: 'models',
    description: `provider:model (openai:, vllm:, ollama:, deepseek:, gemini:), gold, or replay:<trajectory.json> (default ${RUN_DEFAULTS.model}); repeat it for a models list in order of priority (with --models too)`,
    parse: (v, acc = []) => [...acc, { model: v }],
  },
  { flags: '--base-url <url>', key: 'baseUrl', description: 'OpenAI-compatible endpoint (wins over the provider preset; one --model only: a models list gives each entry its base_url)' },
  { flags: '--record-tokens', key: 'recordTokens', description: "keep each model call's token ids and log-probabilities (vLLM: prompt and completion ids; others: log-probabilities) in <trajectory>.tokens.jsonl.gz, exported in ATIF's step metrics" },
  { flags: '--model-switch', key: 'modelSwitch', description: 'models list: an attempt may change models mid-trajectory when its model is benched (default: it waits for its model)' },
  { flags: '--model-requeues <n>', key: 'modelRequeues', description: `models list: times an attempt goes back to the queue while its model is unavailable before it fails (default ${RUN_DEFAULTS.modelRequeues})`, parse: int('--model-requeues', 0) },
  { flags: '-w, --workers <n>', key: 'workers', description: 'attempts run in parallel', parse: int('--workers', 1), default: RUN_DEFAULTS.workers },
  { flags: '-k, --attempts <k>', key: 'attempts', description: 'attempts per task (pass@k)', parse: int('--attempts', 1), default: RUN_DEFAULTS.attempts },
  { flags: '-o, --out <dir>', key: 'out', description: 'output folder (runs go to <out>/runs/<run_id>); an existing run folder resumes it', default: RUN_DEFAULTS.out },
  { flags: '--resume <run_id>', key: 'runId', description: 'resume a run: skip finished attempts, continue unfinished ones' },
  { flags: '--run-id <id>', key: 'runId', description: 'name the run (re-running with the same id resumes it)' },
  {
    flags: '--host <url>',
    key: 'hosts',
    description: 'Docker host: unix:///var/run/docker.sock, tcp://host:2376, ssh://user@host (default: DOCKER_HOST); repeat it for a pool of hosts (with --hosts too)',
    parse: (v, acc = []) => {
      const problem = hostUrlProblem(v);
      if (problem) throw new InvalidArgumentError(`--host: ${problem}`);
      return [...acc, { url: v }];
    },
  },
  {
    flags: '--queue <url>',
    key: 'queue',
    description: 'run the attempts on a Redis queue (redis://[:password@]host:6379/0, rediss:// for TLS) that `trajlab worker` processes take; this process writes the run folder',
    parse: (v) => {
      const problem = queueUrlProblem(v);
      if (problem) throw new InvalidArgumentError(`--queue: ${problem}`);
      return v;
    },
  },
  { flags: '--queue-pack-limit-mb <n>', key: 'queuePackLimitMb', description: `with --queue: the largest pack of this machine's files a task needs (local repository, tasks-folder files, images, Dockerfile context) stored in Redis, MiB gzipped (default ${DEFAULT_PACK_LIMIT_MB})`, parse: num('--queue-pack-limit-mb', 1) },
  { flags: '--host-wait <s>', key: 'hostWaitSec', description: 'pool runs: seconds to wait while every host is down before the remaining attempts fail (default 600)', parse: num('--host-wait', 0) },
  { flags: '--max-steps <n>', key: 'maxSteps', description: `model calls per attempt (default ${RUN_DEFAULTS.maxSteps}; a task's max_steps wins)`, parse: int('--max-steps', 1) },
  { flags: '--timeout <s>', key: 'timeout', description: `wall-clock seconds per attempt (default ${RUN_DEFAULTS.timeoutSec}; a task's timeout wins)`, parse: num('--timeout', 1) },
  { flags: '--temperature <t>', key: 'temperature', description: 'sampling temperature', parse: num('--temperature', 0) },
  { flags: '--mode <mode>', key: 'mode', description: `tool calling or mini-swe-agent-style text mode (default: the agent config's, else ${RUN_DEFAULTS.mode})`, choices: ['tools', 'text'] },
  { flags: '--agent <name|file>', key: 'agent', description: 'agent config: default, mini-swe-agent, or a YAML/JSON file (system/instance/observation/format-error templates, action regex, tools, limits)' },
  { flags: '--filter <glob>', key: 'filter', description: 'only tasks whose task_id matches this glob' },
  { flags: '--task-id <id>', key: 'taskIds', description: 'only this task (exact task_id, repeatable)', parse: (v, acc = []) => [...acc, v] },
  { flags: '--cost-limit <usd>', key: 'costLimit', description: 'stop an attempt once its model cost reaches this many USD', parse: num('--cost-limit', 0) },
  { flags: '--run-cost-limit <usd>', key: 'runCostLimit', description: 'start no new attempt once the whole run has cost this many USD (running ones finish; resume with a higher limit)', parse: num('--run-cost-limit', 0) },
  { flags: '--image <image>', key: 'defaultImage', description: 'image for tasks that name none', default: RUN_DEFAULTS.defaultImage },
  { flags: '--network <policy>', key: 'network', description: 'network for tasks that name none (default none)', choices: ['none', 'bridge', 'host'] },
  { flags: '--command-timeout <s>', key: 'commandTimeout', description: `seconds per command (default ${RUN_DEFAULTS.commandTimeoutSec})`, parse: num('--command-timeout', 1) },
  { flags: '--output-cap <bytes>', key: 'outputCap', description: `bytes of output kept per command (default ${RUN_DEFAULTS.outputCap})`, parse: int('--output-cap', 256) },
  { flags: '--max-memory-mb <mb>', key: 'maxMemoryMb', description: `ceiling on a task's resources.memory_mb, MiB (a task over it fails; tasks that ask nothing get ${SANDBOX_DEFAULTS.memoryMb})`, parse: int('--max-memory-mb', 16), default: CEILING_DEFAULTS.maxMemoryMb },
  { flags: '--max-cpus <n>', key: 'maxCpus', description: `ceiling on a task's resources.cpus (default: the Docker host's CPU count; tasks that ask nothing get ${SANDBOX_DEFAULTS.cpus})`, parse: num('--max-cpus', 0.01) },
  { flags: '--max-pids <n>', key: 'maxPids', description: `ceiling on a task's resources.pids (a task over it fails; tasks that ask nothing get ${SANDBOX_DEFAULTS.pids})`, parse: int('--max-pids', 16), default: CEILING_DEFAULTS.maxPids },
  { flags: '--allow-network <policy>', key: 'allowNetwork', description: 'widest network a task (or --network) may use, none < bridge < host; a task asking for more fails', choices: ['none', 'bridge', 'host'], default: CEILING_DEFAULTS.allowNetwork },
  { flags: '--disk-limit-mb <mb>', key: 'diskLimitMb', description: `disk limit of each container's writable layer, MiB (default ${RUN_DEFAULTS.diskLimitMb}; Docker's StorageOpt size where the storage driver supports it, else a watchdog stops the attempt)`, parse: int('--disk-limit-mb', 16) },
  {
    flags: '--user <user>',
    key: 'user',
    description: "container user for tasks that name none (name, uid, name:group or uid:gid; a task's user wins; default the image's, root in trajlab/sandbox)",
    parse: (v) => {
      if (!isContainerUser(v)) throw new InvalidArgumentError(`--user must be name, uid, name:group or uid:gid (got "${v}")`);
      return v;
    },
  },
  {
    flags: '--max-diff-file-bytes <bytes>',
    key: 'maxDiffFileBytes',
    description: `a changed file larger than this is listed with its size, not inlined in the diff (default ${RUN_DEFAULTS.maxDiffFileBytes})`,
    parse: int('--max-diff-file-bytes', 0),
  },
  {
    flags: '--gpus-available <ids>',
    key: 'gpus',
    description: "GPU device ids on the Docker host for tasks with \"gpus\", comma-separated (default: TRAJLAB_GPUS, else the engine's own list)",
    parse: (v) => parseGpuList(v),
  },
];

/** The commander Option of a row. */
function optionOf(row: AnyRunOptionFlag): Option {
  const option = new Option(row.flags, row.description);
  if (row.choices) option.choices(row.choices);
  if (row.parse) option.argParser(row.parse as (value: string, previous: unknown) => unknown);
  if (row.default !== undefined) option.default(row.default);
  return option;
}

/** The generate command's run options, one commander Option per RUN_OPTION_FLAGS row, in order. */
export function runOptionFlags(): Option[] {
  return RUN_OPTION_FLAGS.map(optionOf);
}

/**
 * The RunOptions that parsed flags set (`flags`: commander's `opts()`, keyed by attribute name).
 * Flags not given and without a default are left out.
 */
export function runOptionsOf(flags: Record<string, unknown>): Partial<RunOptions> {
  const options: Record<string, unknown> = {};
  for (const row of RUN_OPTION_FLAGS) {
    const value = flags[optionOf(row).attributeName()];
    if (value !== undefined && options[row.key] === undefined) options[row.key] = value;
  }
  return options as Partial<RunOptions>;
}

/**
 * The run's Docker hosts from `--host` (in `options.hosts`, as runOptionsOf leaves them) and the
 * `--hosts` file `hostsFile`: one `--host` and no file stays `host`, as before pools; otherwise
 * the `--host`s and then the file's hosts are `hosts` (a pool). Errors: the file's
 * HostsFileError (`file:line:col: message`); a host named twice (`--host "url": …`).
 */
export async function withHosts(options: Partial<RunOptions>, hostsFile: string | undefined): Promise<Partial<RunOptions>> {
  const { hosts: flagHosts = [], ...rest } = options;
  const fileHosts = hostsFile ? await readHostsFile(hostsFile) : [];
  if (!fileHosts.length && flagHosts.length <= 1) return flagHosts.length ? { ...rest, host: flagHosts[0]!.url } : rest;
  try {
    return { ...rest, hosts: checkHostSpecs([...flagHosts, ...fileHosts]) };
  } catch (err) {
    if (!(err instanceof HostSpecError)) throw err;
    const i = err.at[0] as number;
    throw new Error(i < flagHosts.length ? `--host: ${err.problem}` : `${hostsFile}: host ${i - flagHosts.length + 1}: ${err.problem} (a --host)`);
  }
}

/**
 * The run's model from `--model` (in `options.models`, as runOptionsOf leaves them: one entry per
 * flag) and the `--models` file `modelsFile`: none gives the default model; one `--model` and no
 * file stays `model`, as before models lists; otherwise the `--model`s and then the file's
 * entries are `models` (checked by checkModelEntries), and `model` is the first one's spec.
 * Errors: the file's ListFileError (`file:line:col: message`); a bad entry (`--model "spec": …`).
 */
export async function withModels(options: Partial<RunOptions>, modelsFile: string | undefined): Promise<Partial<RunOptions>> {
  const { models: flagModels = [], ...rest } = options;
  const fileModels = modelsFile ? await readModelsFile(modelsFile) : [];
  if (!fileModels.length && flagModels.length <= 1) return { ...rest, model: flagModels[0]?.model ?? RUN_DEFAULTS.model };
  if (rest.baseUrl !== undefined) throw new InvalidArgumentError('--base-url applies to one --model; with a models list, give each entry its base_url in a --models file');
  try {
    const models = checkModelEntries([...flagModels, ...fileModels]);
    return { ...rest, model: models[0]!.model, models };
  } catch (err) {
    if (!(err instanceof ListEntryError)) throw err;
    const i = err.at[0] as number;
    throw new InvalidArgumentError(i < flagModels.length ? `--model ${JSON.stringify(flagModels[i]!.model)}: ${err.problem}` : `${modelsFile}: model ${i - flagModels.length + 1}: ${err.problem}`);
  }
}
