/**
 * Where the time of the scheduling bench's 16-worker run goes (bench/run.ts `scheduling`): 32
 * tasks whose gold solution is `sleep 1`, one warm-up run, then one traced run. Prints, per wave
 * (the first 16 attempts to start, then the rest), the wave's span and the mean seconds of each
 * traced phase (TRAJLAB_TRACE: server/src/util/trace.ts), and the CPU seconds the Docker engine
 * (dockerd, containerd with the shim and runc commands it runs, the shims' daemons with their
 * runc children) and this process used during the traced run, against the machine's total.
 * Needs a Docker engine on this machine and Linux /proc; run as root to read the engine's
 * processes. Usage: `node --import tsx bench/traceScheduling.ts [workers] [tasks] [--host
 * unix:///…/docker.sock --pidfile …/dockerd.pid]` (default: the system engine,
 * /var/run/docker.sock and /var/run/docker.pid). An engine of one's own, started under `nice`
 * with this script, shows the figure of a quiet machine on a busy one.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunEngine } from '../server/src/run/engine';
import { silentLogger } from '../server/src/util/log';
import { flushTrace, traceTo } from '../server/src/util/trace';

interface Line {
  phase: string;
  key: string;
  start: number;
  end: number;
  detail?: string;
}

const CLK_TCK = 100;

/** CPU seconds of `pid` (user + system), with `children`: of its waited-for children too. */
function cpuOf(pid: number, children: boolean): number {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ').map(Number);
    return (f[11]! + f[12]! + (children ? f[13]! + f[14]! : 0)) / CLK_TCK;
  } catch {
    return 0; // gone: its last sample stands (see ShimSampler)
  }
}

/** Busy CPU seconds of the whole machine (/proc/stat: all but idle and iowait). */
function machineBusy(): number {
  const v = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (v.reduce((a, b) => a + b, 0) - v[3]! - v[4]!) / CLK_TCK;
}

function cmdline(pid: string): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

function parentOf(pid: number): number {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]);
}

/** The engine's dockerd (its pid file) and the containerd it started. */
function enginePids(pidFile: string): { dockerd: number; containerd: number } {
  const dockerd = Number(fs.readFileSync(pidFile, 'utf8').trim());
  const containerd = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d) && /^containerd /.test(cmdline(d))).map(Number).find((p) => parentOf(p) === dockerd);
  if (!containerd) throw new Error(`no containerd started by dockerd ${dockerd}`);
  return { dockerd, containerd };
}

/**
 * Samples the shims' daemons (containerd-shim-runc-v2, reparented away from containerd) every
 * 20 ms until its stdin ends, then prints `{container id: CPU seconds}` as JSON: each shim's CPU
 * with its waited-for children (runc create, start, kill; the container's processes), the last
 * sample of a shim that exited standing, keyed by the container id on its command line (`-id`),
 * so that other users' containers can be left out. Runs as its own process (`--sample-shims`),
 * so that the traced process's CPU is its own.
 */
function sampleShims(): void {
  const seen = new Map<number, { id: string; cpu: number }>();
  // The container id of each pid met that is a shim, '' for other processes (command lines read once).
  const shimOf = new Map<number, string>();
  const sample = () => {
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      const pid = Number(d);
      let id = shimOf.get(pid);
      if (id === undefined) {
        const c = cmdline(d);
        shimOf.set(pid, (id = c.includes('containerd-shim') ? (/ -id ([0-9a-f]+)/.exec(c)?.[1] ?? '?') : ''));
      }
      if (!id) continue;
      const cpu = cpuOf(pid, true);
      if (cpu) seen.set(pid, { id, cpu: Math.max(cpu, seen.get(pid)?.cpu ?? 0) });
    }
  };
  sample(); // shims already running count from here: their earlier CPU is subtracted below
  const base = new Map([...seen].map(([pid, v]) => [pid, v.cpu]));
  const timer = setInterval(sample, 20);
  process.stdin.resume();
  process.stdin.on('end', () => {
    clearInterval(timer);
    sample();
    const byId: Record<string, number> = {};
    for (const [pid, { id, cpu }] of seen) byId[id] = (byId[id] ?? 0) + cpu - (base.get(pid) ?? 0);
    process.stdout.write(JSON.stringify(byId));
  });
}

/** Starts sampleShims in a child process; `stop(containers)` ends it and sums the CPU of `containers`' shims and of the others'. */
async function startSampler(): Promise<{ stop(containers: Set<string>): Promise<{ ours: number; others: number }> }> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, '--sample-shims'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the shim sampler exited with ${code}`)))));
  await new Promise((resolve) => setTimeout(resolve, 1500)); // its start-up (tsx) is over before the traced run
  return {
    async stop(containers) {
      child.stdin.end();
      await exited;
      let ours = 0;
      let others = 0;
      for (const [id, cpu] of Object.entries(JSON.parse(out) as Record<string, number>)) {
        if (containers.has(id)) ours += cpu;
        else others += cpu;
      }
      return { ours, others };
    },
  };
}

async function main(): Promise<void> {
  const option = (name: string) => {
    const at = process.argv.indexOf(name);
    return at < 0 ? undefined : process.argv.splice(at, 2)[1];
  };
  const host = option('--host');
  const pidFile = option('--pidfile') ?? '/var/run/docker.pid';
  const workers = Number(process.argv[2] ?? 16);
  const count = Number(process.argv[3] ?? 32);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-trace-'));
  const traceFile = path.join(dir, 'trace.jsonl');
  traceTo(traceFile);
  const tasks = path.join(dir, 'tasks.jsonl');
  fs.writeFileSync(tasks, Array.from({ length: count }, (_, i) => JSON.stringify({ task_id: `sleep-${i}`, description: 'sleep', solution: { commands: ['sleep 1'] }, eval: ['true'] })).join('\n') + '\n');
  const run = async (name: string) => {
    const report = await new RunEngine({ tasksFile: tasks, model: 'gold', out: path.join(dir, name), workers, host }, { logger: silentLogger }).run();
    if (report.resolved !== count) throw new Error(`only ${report.resolved}/${count} resolved`);
  };
  await run('warm-up');

  const { dockerd, containerd } = enginePids(pidFile);
  const shims = await startSampler();
  const before = { dockerd: cpuOf(dockerd, true), containerd: cpuOf(containerd, true), machine: machineBusy(), us: process.cpuUsage() };
  const t0 = performance.timeOrigin + performance.now();
  await run('traced');
  const t1 = performance.timeOrigin + performance.now();
  const us = process.cpuUsage(before.us);
  const cpu = {
    dockerd: cpuOf(dockerd, true) - before.dockerd,
    containerd: cpuOf(containerd, true) - before.containerd,
    us: (us.user + us.system) / 1e6,
    machine: machineBusy() - before.machine,
  };
  await flushTrace();

  const lines = fs.readFileSync(traceFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line).filter((l) => l.start >= t0);
  const containerOf = new Map(lines.filter((l) => l.phase === 'container').map((l) => [l.detail!, l.key]));
  const shimCpu = await shims.stop(new Set(containerOf.keys()));
  // Phases keyed by a container id belong to its attempt.
  for (const l of lines) l.key = containerOf.get(l.key) ?? l.key;
  const attempts = lines.filter((l) => l.phase === 'attempt').sort((a, b) => a.start - b.start);
  const waves = [attempts.slice(0, workers), attempts.slice(workers)].filter((w) => w.length);
  const phases = [...new Set(lines.filter((l) => l.start !== l.end || l.phase === 'attempt').map((l) => l.phase))];
  const s = (ms: number) => (ms / 1000).toFixed(3);
  console.log(`trace: ${count} tasks of \`sleep 1\`, --workers ${workers}: ${s(t1 - t0)} s (trace ${traceFile})`);
  console.log(`| phase | ${waves.map((_, i) => `wave ${i + 1} mean s | wave ${i + 1} first start → last end`).join(' | ')} |`);
  console.log(`|---|${waves.map(() => '---|---|').join('')}`);
  const row = (name: string, cells: string[]) => console.log(`| ${name} | ${cells.join(' | ')} |`);
  row('attempts (span from run start)', waves.flatMap((w) => [`${w.length}`, `${s(w[0]!.start - t0)} → ${s(Math.max(...w.map((a) => a.end)) - t0)}`]));
  for (const phase of phases) {
    row(phase, waves.flatMap((w) => {
      const keys = new Set(w.map((a) => a.key));
      const mine = lines.filter((l) => l.phase === phase && keys.has(l.key));
      if (!mine.length) return ['', ''];
      const mean = mine.reduce((a, l) => a + l.end - l.start, 0) / mine.length;
      return [`${s(mean)} (${mine.length}×)`, `${s(Math.min(...mine.map((l) => l.start)) - t0)} → ${s(Math.max(...mine.map((l) => l.end)) - t0)}`];
    }));
  }
  for (const [name, key] of [['prepared ahead', 'prepare-ahead'], ['prepared on demand', 'prepare-now']] as const) {
    row(name, waves.flatMap((w) => {
      const keys = new Set(w.map((a) => a.key));
      return [String(lines.filter((l) => l.phase === key && keys.has(l.key)).length), ''];
    }));
  }
  const engine = cpu.dockerd + cpu.containerd + shimCpu.ours;
  console.log(`\nCPU seconds during the traced run (${os.cpus().length} cores, ${s(t1 - t0)} s wall = ${(((t1 - t0) / 1000) * os.cpus().length).toFixed(2)} CPU-s available):`);
  console.log('(dockerd and containerd serve every user of the engine; the shims are counted for this run\'s containers only)');
  console.log(`| dockerd | containerd (+ shim start/delete, runc delete) | shims of the run (+ runc create/start/kill, container processes) | engine total | engine per attempt | this process | machine (all processes, kernel) | other (shims of other containers ${shimCpu.others.toFixed(2)}, other processes, kernel threads) |`);
  console.log(`|---|---|---|---|---|---|---|---|`);
  console.log(`| ${cpu.dockerd.toFixed(2)} | ${cpu.containerd.toFixed(2)} | ${shimCpu.ours.toFixed(2)} | ${engine.toFixed(2)} | ${(engine / count).toFixed(3)} | ${cpu.us.toFixed(2)} | ${cpu.machine.toFixed(2)} | ${(cpu.machine - engine - cpu.us).toFixed(2)} |`);
  for (const name of ['warm-up', 'traced', 'tasks.jsonl']) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
}

(process.argv.includes('--sample-shims') ? Promise.resolve(sampleShims()) : main()).catch((err: Error) => {
  console.error(`traceScheduling: ${err.message}`);
  process.exit(1);
});
