/**
 * A real redis-server for tests (Debian's package, scripts/ensure-redis.sh installs it): its own
 * port on 127.0.0.1 and its own data folder, AOF on (`appendonly yes`, `appendfsync always`), as
 * the README tells users to run it. `kill()` is SIGKILL; `restart()` starts it again on the
 * same port and data. With `tls`, it also listens with TLS (its `url` is then `rediss://` on that
 * port; the plain port stays for the readiness probe); with `password`, clients must give it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import IORedis from 'ioredis';
import { freePort } from './scriptedModelServer';

export interface RedisServer {
  /** `redis://127.0.0.1:<port>/0`, or `rediss://[:password@]127.0.0.1:<tls port>/0` with `tls`. */
  url: string;
  port: number;
  dir: string;
  /** SIGKILL, no shutdown save. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data folder. */
  restart(): Promise<void>;
  /** Stops it and removes its data folder. */
  close(): Promise<void>;
}

/** Starts a redis-server and waits until it answers PING. Errors: it did not within 10 s (with its log). */
export async function startRedisServer(o: { tls?: { cert: string; key: string; ca: string }; password?: string } = {}): Promise<RedisServer> {
  const port = await freePort();
  const tlsPort = o.tls ? await freePort() : undefined;
  const extra = [
    ...(o.tls ? ['--tls-port', String(tlsPort), '--tls-cert-file', o.tls.cert, '--tls-key-file', o.tls.key, '--tls-ca-cert-file', o.tls.ca, '--tls-auth-clients', 'no'] : []),
    ...(o.password ? ['--requirepass', o.password] : []),
  ];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-redis-'));
  let child: ChildProcess | undefined;
  let log = '';
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--protected-mode', 'no', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (b: Buffer) => (log += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = new IORedis({ port, host: '127.0.0.1', password: o.password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch {
        probe.disconnect();
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within 10 s:\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      } finally {
        probe.disconnect();
      }
    }
  };
  const stop = async (signal: NodeJS.Signals) => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill(signal);
    });
  };
  await start();
  return {
    url: o.tls ? `rediss://${o.password ? `:${o.password}@` : ''}127.0.0.1:${tlsPort}/0` : `redis://${o.password ? `:${o.password}@` : ''}127.0.0.1:${port}/0`,
    port,
    dir,
    kill: () => stop('SIGKILL'),
    restart: start,
    async close() {
      await stop('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
