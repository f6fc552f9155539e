/**
 * Real "remote" Docker hosts on this machine, for the tests of tcp+TLS and ssh:// hosts:
 * - a second dockerd listening on 127.0.0.1 with `--tlsverify` (mutual TLS, certificates made
 *   here with openssl: a CA, a server certificate for 127.0.0.1/localhost, a client
 *   certificate), its own data root (kept between runs, so the sandbox image is loaded once);
 * - an sshd on 127.0.0.1 that accepts one key (held by an ssh-agent), whose `docker system
 *   dial-stdio` reaches the local engine or a chosen one — what `ssh://user@host` means to the
 *   docker CLI.
 * Both need root (dockerd, sshd) and Debian's docker.io / openssh-server (scripts/ensure-docker.sh,
 * scripts/ensure-sshd.sh).
 *
 * The TLS engine (an Engine of engines.ts) also stands in for a GPU host: the fake
 * `nvidia-container-runtime-hook` of engines.ts is on its PATH.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, startEngine, stopProcess, waitUntil, type Engine } from './engines';

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

/** A second Docker engine with `--tlsverify` on 127.0.0.1 (an Engine of engines.ts: it can be killed and restarted). */
export interface TlsEngine extends Engine {
  port: number;
  certs: TlsCerts;
  /** Where the fake NVIDIA hook appends one line per call: `<args> <OCI state JSON>` (the state names the container id). */
  nvidiaHookLog: string;
}

/**
 * Starts dockerd with mutual TLS on a free port, with the fake NVIDIA hook on its PATH (see
 * startEngine: its own roots, the flags scripts/ensure-docker.sh uses), and loads `images` from
 * the local engine into it when it lacks them. `name` picks the engine (its roots).
 */
export async function startTlsEngine(dir: string, images: string[], name = 'tls'): Promise<TlsEngine> {
  const certs = makeTlsCerts(path.join(dir, 'certs'));
  const engine = await startEngine({ name, dir, images, tls: certs, fakeNvidia: true });
  return { ...engine, port: Number(new URL(engine.url).port), certs, nvidiaHookLog: engine.nvidiaHookLog! };
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

/**
 * Starts sshd (key-only, root allowed by key) on a free port and an ssh-agent holding the
 * accepted key. `dockerHost` (e.g. an Engine's `unix://…` url) is the engine that the
 * session's `docker system dial-stdio` reaches (sshd's `SetEnv DOCKER_HOST=…`, OpenSSH ≥ 8.7);
 * default: the local engine.
 */
export async function startSshHost(dir: string, dockerHost?: string): Promise<SshHost> {
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
      'PermitRootLogin prohibit-password', 'UsePAM no', 'StrictModes no',
      ...(dockerHost ? [`SetEnv DOCKER_HOST=${dockerHost}`] : []), '',
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
      await Promise.all([stopProcess(sshd), stopProcess(agent)]);
    },
  };
  try {
    // The socket file exists from the agent's bind(), a moment before it listens: retry ssh-add until it is in.
    await waitUntil('ssh-agent', 10_000, () => {
      if (!fs.existsSync(sock)) return false;
      try {
        execFileSync('ssh-add', [userKey], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
        return true;
      } catch {
        return false; // exit 2: could not reach the agent yet
      }
    });
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
