/**
 * A TCP tunnel from the daemon into a sandbox's loopback (issue 20): a server on the daemon's
 * 127.0.0.1 whose every connection is piped, byte for byte, through the stdin and stdout of a
 * Docker exec of a small python3 program in the container that connects to the container's
 * `127.0.0.1:<port>`. It is how the daemon reaches Chromium's DevTools port in a container with
 * network `none` (no route from the daemon to any port in it), and it works the same against
 * a remote Docker host, since it needs nothing but the exec API. The exec's output comes
 * multiplexed (no TTY, so the bytes pass untouched) and is split with the modem's demuxStream.
 */
import * as net from 'node:net';
import { PassThrough, type Duplex } from 'node:stream';
import type { Sandbox } from '../runtime/sandbox';
import type { Logger } from '../util/log';

/**
 * The container's end: connects to 127.0.0.1:argv[1], copies stdin to the socket (then shuts
 * its write side) and the socket to stdout, until both ends are done.
 */
const PIPE_PROGRAM = [
  'import os, socket, sys, threading',
  's = socket.create_connection(("127.0.0.1", int(sys.argv[1])))',
  's.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)',
  'def up():',
  '    while True:',
  '        d = os.read(0, 65536)',
  '        if not d: break',
  '        s.sendall(d)',
  '    s.shutdown(socket.SHUT_WR)',
  'threading.Thread(target=up, daemon=True).start()',
  'out = sys.stdout.buffer',
  'while True:',
  '    d = s.recv(65536)',
  '    if not d: break',
  '    out.write(d); out.flush()',
].join('\n');

/** A listening tunnel; `port` is the daemon-side port on 127.0.0.1. Close it with `close()`. */
export class LoopbackTunnel {
  private readonly sockets = new Set<net.Socket>();
  private readonly streams = new Set<Duplex>();

  private constructor(private readonly server: net.Server, readonly port: number) {}

  /**
   * Listens on a free port of the daemon's 127.0.0.1; each connection runs one exec of
   * PIPE_PROGRAM to `remotePort` in `sandbox`'s container (about one exec's start, ~60 ms, per
   * connection; a CDP client keeps one). A failed exec closes that connection and is logged.
   */
  static async open(sandbox: Sandbox, remotePort: number, logger: Logger): Promise<LoopbackTunnel> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const tunnel = new LoopbackTunnel(server, (server.address() as net.AddressInfo).port);
    server.on('connection', (socket) => {
      // CDP is many small request/response messages: Nagle's delay would hold each one back.
      socket.setNoDelay(true);
      tunnel.sockets.add(socket);
      socket.on('close', () => tunnel.sockets.delete(socket));
      tunnel.pipe(sandbox, remotePort, socket).catch((err: Error) => {
        logger.warn(`browser tunnel into container ${sandbox.id.slice(0, 12)}: ${err.message}`);
        socket.destroy();
      });
    });
    return tunnel;
  }

  private async pipe(sandbox: Sandbox, remotePort: number, socket: net.Socket): Promise<void> {
    socket.pause();
    const exec = await sandbox.container.exec({
      Cmd: ['python3', '-c', PIPE_PROGRAM, String(remotePort)],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    const stream = (await exec.start({ hijack: true, stdin: true })) as unknown as Duplex;
    this.streams.add(stream);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let errText = '';
    stderr.on('data', (c: Buffer) => (errText = (errText + c.toString('utf8')).slice(-500)));
    sandbox.docker.modem.demuxStream(stream, stdout, stderr);
    stdout.pipe(socket);
    socket.pipe(stream);
    socket.resume();
    const finish = () => {
      this.streams.delete(stream);
      stream.destroy();
      socket.destroy();
    };
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', finish);
    socket.on('close', finish);
    socket.on('error', finish);
    await new Promise<void>((resolve) => stream.once('close', resolve));
    if (errText.trim() && !/BrokenPipe|ConnectionReset/.test(errText)) throw new Error(`the in-container end failed: ${errText.trim()}`);
  }

  /** Stops listening and ends every connection and its exec. Idempotent. */
  close(): void {
    this.server.close();
    for (const s of this.sockets) s.destroy();
    for (const s of this.streams) s.destroy();
  }
}
