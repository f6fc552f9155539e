/**
 * Real "remote" Docker hosts on this machine, for the tests of tcp+TLS and ssh:// hosts:
 * - a second dockerd listening on 127.0.0.1 with `--tlsverify` (mutual TLS, certificates made
 *   here with openssl: a CA, a server certificate for 127.0.0.1/localhost, a client
 *   certificate), its own data root (kept between runs, so the sandbox image is loaded once);
 * - an sshd on 127.0.0.1 that accepts one key (held by an ssh-agent), whose `docker system
 *   dial-stdio` reaches the local engine — what `ssh://user@host` means to the docker CLI.
 * Both need root (dockerd, sshd) and Debian's docker.io / openssh-server (scripts/ensure-docker.sh,
 * scripts/ensure-sshd.sh).
 *
 * The TLS engine also stands in for a GPU host: a fake `nvidia-container-runtime-hook` is on its
 * PATH, so dockerd registers its `nvidia` device driver (moby daemon/nvidia_linux.go does so when
 * that binary exists). A container asking for GPUs then gets NVIDIA_VISIBLE_DEVICES and the
 * hook as an OCI prestart hook, exactly as on a GPU machine; the fake hook only records that
 * runc ran it (no GPU, driver or device nodes here).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

/** Why these hosts cannot be started here, or null when they can. */
export function remoteHostsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (a second dockerd and an sshd)';
  if (!fs.existsSync('/usr/sbin/sshd')) return '/usr/sbin/sshd is missing (scripts/ensure-sshd.sh installs it)';
  for (const bin of ['dockerd', 'docker', 'openssl', 'ssh', 'ssh-agent', 'ssh-add', 'ssh-keygen']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      return `${bin} is not on PATH (scripts/ensure-docker.sh, scripts/ensure-sshd.sh)`;
    }
  }
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitUntil(what: string, ms: number, ok: () => boolean, log?: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  const tail = log && fs.existsSync(log) ? `\n${fs.readFileSync(log, 'utf8').split('\n').slice(-15).join('\n')}` : '';
  throw new Error(`${what} did not come up within ${ms / 1000} s${tail}`);
}

function stop(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
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

/** The certificates of one TLS engine: `server/` for dockerd, `client/` as DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem). */
export interface TlsCerts {
  clientDir: string;
  /** A DOCKER_CERT_PATH with only ca.pem (verifies the engine, cannot authenticate). */
  caOnlyDir: string;
  serverDir: string;
}

/** Makes a CA, a server certificate for 127.0.0.1 / localhost and a client certificate under `dir`. */
export function makeTlsCerts(dir: string): TlsCerts {
  const serverDir = path.join(dir, 'server');
  const clientDir = path.join(dir, 'client');
  const caOnlyDir = path.join(dir, 'ca-only');
  for (const d of [serverDir, clientDir, caOnlyDir]) fs.mkdirSync(d, { recursive: true });
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=trajlab-test-ca');
  fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  fs.writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server/key.pem', '-out', 'server.csr', '-subj', '/CN=localhost');
  ossl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'server/cert.pem', '-days', '2', '-extfile', 'server.ext');
  ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client/key.pem', '-out', 'client.csr', '-subj', '/CN=trajlab-client');
  ossl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'client/cert.pem', '-days', '2', '-extfile', 'client.ext');
  for (const d of [serverDir, clientDir, caOnlyDir]) fs.copyFileSync(path.join(dir, 'ca.pem'), path.join(d, 'ca.pem'));
  return { clientDir, caOnlyDir, serverDir };
}

/** A second Docker engine with `--tlsverify` on 127.0.0.1. */
export interface TlsEngine {
  /** `https://127.0.0.1:<port>`. */
  url: string;
  port: number;
  certs: TlsCerts;
  /** Environment for a TrajLab process that talks to it (DOCKER_CERT_PATH). */
  env: NodeJS.ProcessEnv;
  /** `docker` CLI arguments that reach it (for the test's own checks). */
  cliArgs: string[];
  /** Where the fake NVIDIA hook appends one line per call: `<args> <OCI state JSON>` (the state names the container id). */
  nvidiaHookLog: string;
  stop(): Promise<void>;
}

/** Writes the fake `nvidia-container-runtime-hook` into `dir/bin`; returns the folder. */
function fakeNvidiaHook(dir: string): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  const hook = path.join(bin, 'nvidia-container-runtime-hook');
  fs.writeFileSync(hook, '#!/bin/sh\n# Test stand-in for NVIDIA\'s OCI hook: records the call (runc passes the container state on stdin).\nprintf \'%s %s\\n\' "$*" "$(cat)" >> "$TRAJLAB_FAKE_NVIDIA_LOG"\n');
  fs.chmodSync(hook, 0o755);
  return bin;
}

/** Where the TLS engine keeps its images between test runs. */
const TLS_ENGINE_ROOT = '/var/lib/trajlab-test-tls-engine';

/**
 * Starts dockerd with mutual TLS on a free port (its own data/exec roots and pid file, no
 * bridge, no iptables: the flags scripts/ensure-docker.sh uses) and loads `images` from the
 * local engine into it when it lacks them (`docker save | docker load`, about 5 s for the sandbox).
 */
export async function startTlsEngine(dir: string, images: string[]): Promise<TlsEngine> {
  const certs = makeTlsCerts(path.join(dir, 'certs'));
  const port = await freePort();
  const log = path.join(dir, 'dockerd.log');
  const out = fs.openSync(log, 'a');
  const execRoot = path.join('/var/run', `trajlab-tls-${process.pid}`);
  const nvidiaHookLog = path.join(dir, 'nvidia-hook.log');
  fs.writeFileSync(nvidiaHookLog, '');
  const child = spawn(
    'dockerd',
    [
      '--data-root', TLS_ENGINE_ROOT, '--exec-root', execRoot, '--pidfile', path.join(dir, 'dockerd.pid'),
      '-H', `tcp://127.0.0.1:${port}`, '--tlsverify',
      '--tlscacert', path.join(certs.serverDir, 'ca.pem'), '--tlscert', path.join(certs.serverDir, 'cert.pem'), '--tlskey', path.join(certs.serverDir, 'key.pem'),
      '--iptables=false', '--ip6tables=false', '--bridge=none', '--storage-driver=overlay2',
    ],
    { stdio: ['ignore', out, out], env: { ...process.env, PATH: `${fakeNvidiaHook(dir)}:${process.env.PATH}`, TRAJLAB_FAKE_NVIDIA_LOG: nvidiaHookLog } },
  );
  fs.closeSync(out);
  const cliArgs = ['--tlsverify', '-H', `tcp://127.0.0.1:${port}`, '--tlscacert', path.join(certs.clientDir, 'ca.pem'), '--tlscert', path.join(certs.clientDir, 'cert.pem'), '--tlskey', path.join(certs.clientDir, 'key.pem')];
  const engine: TlsEngine = {
    url: `https://127.0.0.1:${port}`,
    port,
    certs,
    env: { DOCKER_CERT_PATH: certs.clientDir },
    cliArgs,
    nvidiaHookLog,
    stop: async () => {
      await stop(child);
      fs.rmSync(execRoot, { recursive: true, force: true });
    },
  };
  try {
    await waitUntil('the TLS dockerd', 30_000, () => {
      if (child.exitCode !== null) throw new Error(`dockerd exited ${child.exitCode}:\n${fs.readFileSync(log, 'utf8').split('\n').slice(-15).join('\n')}`);
      try {
        execFileSync('docker', [...cliArgs, 'version'], { stdio: 'ignore', timeout: 5000 });
        return true;
      } catch {
        return false;
      }
    }, log);
    for (const image of images) {
      try {
        execFileSync('docker', [...cliArgs, 'image', 'inspect', image], { stdio: 'ignore' });
      } catch {
        execFileSync('bash', ['-c', `docker save "$1" | docker ${cliArgs.map((a) => `'${a}'`).join(' ')} load`, 'load', image], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
      }
    }
  } catch (err) {
    await engine.stop();
    throw err;
  }
  return engine;
}

/** An sshd on 127.0.0.1 that lets `user` in with one key, held by an ssh-agent. */
export interface SshHost {
  /** `ssh://root@127.0.0.1:<port>`. */
  url: string;
  /**
   * Environment for a TrajLab process that connects through it: SSH_AUTH_SOCK of the agent
   * holding the key, and a HOME whose `.ssh/known_hosts` has the host's key (hashed, as
   * `ssh-keygen -H` writes it).
   */
  env: NodeJS.ProcessEnv;
  /** The host's key as a known_hosts line (`[127.0.0.1]:<port> ssh-ed25519 AAAA…`). */
  knownHostsLine: string;
  stop(): Promise<void>;
}

/** Starts sshd (key-only, root allowed by key) on a free port and an ssh-agent holding the accepted key. */
export async function startSshHost(dir: string): Promise<SshHost> {
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const hostKey = path.join(dir, 'host_key');
  const userKey = path.join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', userKey, '-C', 'trajlab-test']);
  const authorized = path.join(dir, 'authorized_keys');
  fs.copyFileSync(`${userKey}.pub`, authorized);
  fs.chmodSync(authorized, 0o600);
  const config = path.join(dir, 'sshd_config');
  fs.writeFileSync(
    config,
    [
      `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorized}`, 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password', 'UsePAM no', 'StrictModes no', '',
    ].join('\n'),
  );
  fs.mkdirSync('/run/sshd', { recursive: true });
  const log = path.join(dir, 'sshd.log');
  const sshd = spawn('/usr/sbin/sshd', ['-D', '-f', config, '-E', log], { stdio: 'ignore' });
  const sock = path.join(dir, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  const knownHostsLine = `[127.0.0.1]:${port} ${fs.readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')}`;
  const home = path.join(dir, 'home');
  fs.mkdirSync(path.join(home, '.ssh'), { recursive: true });
  const knownHosts = path.join(home, '.ssh', 'known_hosts');
  fs.writeFileSync(knownHosts, knownHostsLine + '\n');
  execFileSync('ssh-keygen', ['-q', '-H', '-f', knownHosts], { stdio: 'ignore' });
  fs.rmSync(`${knownHosts}.old`, { force: true });
  const host: SshHost = {
    url: `ssh://root@127.0.0.1:${port}`,
    env: { SSH_AUTH_SOCK: sock, HOME: home },
    knownHostsLine,
    stop: async () => {
      await Promise.all([stop(sshd), stop(agent)]);
    },
  };
  try {
    await waitUntil('ssh-agent', 10_000, () => fs.existsSync(sock));
    execFileSync('ssh-add', [userKey], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
    await waitUntil('sshd', 10_000, () => {
      if (sshd.exitCode !== null) throw new Error(`sshd exited ${sshd.exitCode}: ${fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : ''}`);
      try {
        execFileSync('ssh', ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-p', String(port), 'root@127.0.0.1', 'true'], {
          env: { ...process.env, SSH_AUTH_SOCK: sock },
          stdio: 'ignore',
          timeout: 5000,
        });
        return true;
      } catch {
        return false;
      }
    }, log);
  } catch (err) {
    await host.stop();
    throw err;
  }
  return host;
}
