/**
 * Extra real Docker engines on this machine, for the host pool's tests and benchmark: each one
 * a `dockerd` of its own (its own data root, exec root, pid file and socket; the flags
 * scripts/ensure-docker.sh uses), listening on a unix socket or with mutual TLS on 127.0.0.1,
 * optionally with the stand-in NVIDIA hook on its PATH. An engine can be killed with SIGKILL
 * mid-run and started again on the same roots, as a host that dies and comes back.
 *
 * Layout of the engine named `<name>`:
 * - data root `/var/lib/trajlab-test-engine-<name>` (kept between test runs, so the images are
 *   loaded into it once; its containers are removed at each fresh start);
 * - run folder `/run/trajlab-test-engine-<name>`: `exec/` (exec root), `dockerd.pid`,
 *   `docker.sock` (unix engines).
 * The fixed names make a second test process that wants the same engine fail (at dockerd's pid
 * file check, or because a live dockerd uses the data root) instead of sharing a data root: the
 * mounts under a data root in use are never touched. Needs root and Debian's docker.io.
 *
 * Only the test's own processes are ever signalled: the dockerd it spawned and the processes
 * that dockerd left (found by its exec root in their command line, and their children).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

/** A free TCP port on 127.0.0.1 (free when asked; the caller binds it soon after). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `ok` every 250 ms until it is true; fails after `ms` with the last lines of `log` (a daemon's log file). `ok` may throw to fail at once. */
export async function waitUntil(what: string, ms: number, ok: () => boolean, log?: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not come up within ${ms / 1000} s${logTail(log)}`);
}

function logTail(log: string | undefined, lines = 15): string {
  return log && fs.existsSync(log) ? `\n${fs.readFileSync(log, 'utf8').split('\n').slice(-lines).join('\n')}` : '';
}

/** Sends `signal` to `child` and resolves once it exited (SIGKILL after 15 s if it has not). */
export function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill(signal);
  });
}

/**
 * Writes the stand-in `nvidia-container-runtime-hook` into `dir/bin` and returns that folder (to
 * put first on dockerd's PATH). dockerd registers its `nvidia` device driver when that binary
 * exists (moby daemon/nvidia_linux.go); a container asking for GPUs then gets
 * NVIDIA_VISIBLE_DEVICES and the hook as an OCI prestart hook, as on a GPU machine. The hook
 * only appends `<args> <OCI state JSON>` to $TRAJLAB_FAKE_NVIDIA_LOG (no GPU, driver or device nodes).
 */
export function fakeNvidiaHook(dir: string): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  const hook = path.join(bin, 'nvidia-container-runtime-hook');
  fs.writeFileSync(hook, '#!/bin/sh\n# Test stand-in for NVIDIA\'s OCI hook: records the call (runc passes the container state on stdin).\nprintf \'%s %s\\n\' "$*" "$(cat)" >> "$TRAJLAB_FAKE_NVIDIA_LOG"\n');
  fs.chmodSync(hook, 0o755);
  return bin;
}

/** What startEngine starts. */
export interface EngineOptions {
  /** Names its roots (letters, digits, `-`); two engines at once need two names. */
  name: string;
  /** Folder of the test for the engine's log (`dockerd.log`) and the NVIDIA hook's files. */
  dir: string;
  /** Images to load from the local engine when this one lacks them (`docker save | docker load`, about 5 s for the sandbox). */
  images?: string[];
  /** Listen with mutual TLS on 127.0.0.1 (a free port, the same one after a restart) with these certificates (`ca.pem`, `cert.pem`, `key.pem` in each folder); default: a unix socket. */
  tls?: { serverDir: string; clientDir: string };
  /** Put the stand-in NVIDIA hook on its PATH (see fakeNvidiaHook). */
  fakeNvidia?: boolean;
  /**
   * CPUs the engine may run on (a `taskset -c` list, "0" or "0-1"): dockerd is started under
   * taskset, so its containerd, shims, runc and container processes inherit the affinity. Two
   * engines pinned to different CPUs stand for two hosts with CPUs of their own. Default: all.
   */
  cpus?: string;
  /** Niceness of the engine and everything it starts (`nice -n`), so that another process (the scheduler under test) goes first on a shared CPU. Default: 0. */
  nice?: number;
}

/** When an engine was killed. */
export interface EngineKill {
  /** The dockerd's pid. */
  pid: number;
  /** When SIGKILL was sent, epoch ms (Date.now()). */
  time: number;
  /** Processes it left that were killed after it (its containerd, shims and container processes). */
  leftovers: number;
}

/** An extra dockerd started by startEngine. */
export interface Engine {
  name: string;
  /** `unix:///run/trajlab-test-engine-<name>/docker.sock` or `https://127.0.0.1:<port>`: a pool HostSpec.url. */
  url: string;
  /** Variables a TrajLab process needs to reach it (DOCKER_CERT_PATH for TLS; none for a socket). */
  env: NodeJS.ProcessEnv;
  /** `docker` CLI arguments that reach it (for the test's own checks). */
  cliArgs: string[];
  dataRoot: string;
  execRoot: string;
  /** Its dockerd's output (appended across restarts). */
  log: string;
  /** Where the stand-in NVIDIA hook appends one line per call (engines started with `fakeNvidia`). */
  nvidiaHookLog?: string;
  /** The running dockerd's pid; undefined once killed or stopped. */
  pid(): number | undefined;
  /**
   * SIGKILLs the dockerd, then the processes it left (containerd, the shims and what runs in the
   * containers), as when its machine loses power; resolves once the dockerd is gone, with when
   * the kill happened. Its containers stay recorded in the data root (orphans for a restart).
   */
  kill(): Promise<EngineKill>;
  /**
   * SIGSTOPs the dockerd: it keeps its sockets and connections but answers nothing (no reset),
   * as a machine that went silent; its containers keep running. Returns when, epoch ms.
   */
  freeze(): number;
  /** SIGCONTs a frozen dockerd: calls it left hanging complete late. */
  thaw(): void;
  /** Starts dockerd again on the same roots and address after kill() (unmounting what the killed one left first); resolves when it answers. Its containers are kept. */
  restart(): Promise<void>;
  /** Stops dockerd (SIGTERM, SIGKILL after 15 s), kills what it left, unmounts what remains under its roots and removes its run folder; keeps the data root. */
  stop(): Promise<void>;
}

/** `docker <args>` with a timeout, output returned (throws with stderr on failure). */
function docker(args: string[], timeout = 30_000): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout });
}

/** pid → parent pid of every process, from /proc/<pid>/stat. */
function parentPids(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we listed /proc
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    parents.set(Number(entry), ppid);
  }
  return parents;
}

/** `roots` and all their descendants (pids). */
function processTree(roots: number[]): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parentPids()) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const seen = new Set<number>();
  const todo = [...roots];
  while (todo.length) {
    const pid = todo.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return [...seen];
}

/** Processes whose command line names `execRoot` (an engine's containerd and shims), with their descendants. */
function processesOf(execRoot: string): number[] {
  const roots: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').some((arg) => arg.includes(execRoot))) roots.push(Number(entry));
    } catch {
      continue; // exited while we listed /proc
    }
  }
  return roots.length ? processTree(roots) : [];
}

/**
 * SIGKILLs `pids` and waits (up to 10 s) until they are reaped: a restarted dockerd takes a
 * containerd pid that still exists, even as a zombie, for a live containerd and waits on it.
 * Returns how many were signalled.
 */
async function killAll(pids: number[]): Promise<number> {
  const killed: number[] = [];
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // ESRCH: already gone
    }
  }
  await waitUntil(`the end of processes ${killed.join(', ')}`, 10_000, () => killed.every((pid) => !fs.existsSync(`/proc/${pid}`)));
  return killed.length;
}

/** Mount points at or under any of `roots` (dockerd bind-mounts its data root on itself), deepest first (from /proc/self/mountinfo; octal escapes decoded). */
function mountsUnder(roots: string[]): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => roots.some((r) => m === r || m.startsWith(r + '/')))
    .sort((a, b) => b.length - a.length);
}

/** Pids of live dockerds started with `--data-root <dataRoot>` (ours or anyone's). */
function dockerdsOn(dataRoot: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // exited while we listed /proc
    }
    if (!args[0]?.endsWith('dockerd')) continue;
    if (args.some((a, i) => a === `--data-root=${dataRoot}` || (a === '--data-root' && args[i + 1] === dataRoot))) pids.push(Number(entry));
  }
  return pids;
}

/**
 * Unmounts (lazily) what a dead engine left mounted under its roots: container root
 * filesystems, shm, network namespaces. Errors: a live dockerd uses the data root (those mounts
 * are its containers'; nothing is touched).
 */
function unmountUnder(dataRoot: string, execRoot: string): void {
  const users = dockerdsOn(dataRoot);
  if (users.length) throw new Error(`the data root ${dataRoot} is in use by dockerd ${users.join(', ')} (another test?): its mounts are left alone`);
  for (const m of mountsUnder([dataRoot, execRoot])) execFileSync('umount', ['-l', m], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** The pid in `file` when that process is alive, else undefined. */
function livePid(file: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(file, 'utf8').trim());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (!pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined; // no such process: a stale pid file
  }
}

/**
 * Starts dockerd `options.name` (see the file's comment for its roots), waits until it answers
 * (120 s: a first start on a busy machine takes 30 s and more), removes containers a previous
 * test left in it, and loads `options.images` it lacks.
 * Errors: the engine is already running (another test process uses it: its pid is named), or
 * dockerd exits or does not answer (the message ends with its log's last lines).
 */
export async function startEngine(options: EngineOptions): Promise<Engine> {
  if (!/^[a-z0-9-]+$/.test(options.name)) throw new Error(`engine name "${options.name}": use lowercase letters, digits and "-"`);
  const runDir = `/run/trajlab-test-engine-${options.name}`;
  const dataRoot = `/var/lib/trajlab-test-engine-${options.name}`;
  const execRoot = path.join(runDir, 'exec');
  const pidFile = path.join(runDir, 'dockerd.pid');
  const running = livePid(pidFile);
  if (running) throw new Error(`test engine "${options.name}" is already running (dockerd pid ${running}, ${pidFile}): another test uses it, or a killed test left it (kill -9 ${running})`);
  fs.mkdirSync(options.dir, { recursive: true });
  fs.mkdirSync(runDir, { recursive: true });
  // What a killed earlier test left: processes of this exec root, then mounts under its roots.
  await killAll(processesOf(execRoot));
  unmountUnder(dataRoot, execRoot);

  const log = path.join(options.dir, `dockerd-${options.name}.log`);
  const port = options.tls ? await freePort() : 0;
  const socket = path.join(runDir, 'docker.sock');
  const listen = options.tls
    ? ['-H', `tcp://127.0.0.1:${port}`, '--tlsverify', '--tlscacert', path.join(options.tls.serverDir, 'ca.pem'), '--tlscert', path.join(options.tls.serverDir, 'cert.pem'), '--tlskey', path.join(options.tls.serverDir, 'key.pem')]
    : ['-H', `unix://${socket}`];
  const url = options.tls ? `https://127.0.0.1:${port}` : `unix://${socket}`;
  const cliArgs = options.tls
    ? ['--tlsverify', '-H', `tcp://127.0.0.1:${port}`, '--tlscacert', path.join(options.tls.clientDir, 'ca.pem'), '--tlscert', path.join(options.tls.clientDir, 'cert.pem'), '--tlskey', path.join(options.tls.clientDir, 'key.pem')]
    : ['-H', url];
  let nvidiaHookLog: string | undefined;
  const env = { ...process.env };
  if (options.fakeNvidia) {
    nvidiaHookLog = path.join(options.dir, `nvidia-hook-${options.name}.log`);
    fs.writeFileSync(nvidiaHookLog, '');
    env.PATH = `${fakeNvidiaHook(path.join(options.dir, `nvidia-${options.name}`))}:${env.PATH}`;
    env.TRAJLAB_FAKE_NVIDIA_LOG = nvidiaHookLog;
  }
  for (const k of ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH']) delete env[k];

  let child: ChildProcess | undefined;
  const launch = async () => {
    const out = fs.openSync(log, 'a');
    const [command, ...pinned] = [...(options.nice ? ['nice', '-n', String(options.nice)] : []), ...(options.cpus ? ['taskset', '-c', options.cpus] : []), 'dockerd'];
    child = spawn(
      command!,
      [...pinned, '--data-root', dataRoot, '--exec-root', execRoot, '--pidfile', pidFile, ...listen, '--iptables=false', '--ip6tables=false', '--bridge=none', '--storage-driver=overlay2'],
      { stdio: ['ignore', out, out], env },
    );
    fs.closeSync(out);
    const started = child;
    await waitUntil(`test engine "${options.name}" (${url})`, 120_000, () => {
      if (started.exitCode !== null || started.signalCode !== null) throw new Error(`dockerd of test engine "${options.name}" exited (${started.exitCode ?? started.signalCode})${logTail(log)}`);
      try {
        docker([...cliArgs, 'version'], 5000);
        return true;
      } catch {
        return false; // not answering yet
      }
    }, log);
  };
  const cleanUp = async () => {
    await killAll(processesOf(execRoot));
    unmountUnder(dataRoot, execRoot);
  };

  const engine: Engine = {
    name: options.name,
    url,
    env: options.tls ? { DOCKER_CERT_PATH: options.tls.clientDir } : {},
    cliArgs,
    dataRoot,
    execRoot,
    log,
    nvidiaHookLog,
    pid: () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined),
    kill: async () => {
      const pid = engine.pid();
      if (!pid || !child) throw new Error(`test engine "${options.name}" is not running`);
      const tree = processTree([pid]).filter((p) => p !== pid);
      const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
      const time = Date.now();
      process.kill(pid, 'SIGKILL');
      await exited;
      const leftovers = await killAll([...new Set([...tree, ...processesOf(execRoot)])]);
      return { pid, time, leftovers };
    },
    freeze: () => {
      const pid = engine.pid();
      if (!pid) throw new Error(`test engine "${options.name}" is not running`);
      const time = Date.now();
      process.kill(pid, 'SIGSTOP');
      return time;
    },
    thaw: () => {
      const pid = engine.pid();
      if (!pid) throw new Error(`test engine "${options.name}" is not running`);
      process.kill(pid, 'SIGCONT');
    },
    restart: async () => {
      if (engine.pid()) throw new Error(`test engine "${options.name}" is still running: kill() it first`);
      await cleanUp();
      await launch();
    },
    stop: async () => {
      if (engine.pid()) engine.thaw(); // a frozen dockerd would not act on SIGTERM
      await stopProcess(child);
      await cleanUp();
      fs.rmSync(runDir, { recursive: true, force: true });
    },
  };
  try {
    await launch();
    const stale = docker([...cliArgs, 'ps', '-aq']).split('\n').filter(Boolean);
    if (stale.length) docker([...cliArgs, 'rm', '-f', ...stale], 120_000);
    for (const image of options.images ?? []) {
      try {
        docker([...cliArgs, 'image', 'inspect', image]);
      } catch {
        // Not in this engine yet (inspect fails for a missing image): load it from the local engine.
        execFileSync('bash', ['-c', `docker save "$1" | docker ${cliArgs.map((a) => `'${a}'`).join(' ')} load`, 'load', image], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
      }
    }
  } catch (err) {
    await engine.stop();
    throw err;
  }
  return engine;
}
