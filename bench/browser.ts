/**
 * `npm run bench -- browser`: latency of one browser action (a click on a link, the page
 * loaded, then its accessibility tree read: "click → observation ready") in a trajlab/browser:1
 * container with network `none`, by each driver design of issue 20, against a bash step's exec
 * (`true` through the sandbox's session) in the same container:
 * - (a) playwright-core in this process over the LoopbackTunnel (server/src/browser/tunnel.ts):
 *   raw Playwright calls (`getByRole(...).click()`, `waitForLoadState`, `ariaSnapshotJSON`),
 *   and the whole tool path (BrowserSession.act: element ids, rendering, budget);
 * - (c) a driver process inside the container: the same playwright-core run by a Node copied in,
 *   connected to Chromium on the container's loopback, one JSON line per action over the stdio
 *   of one Docker exec, timed from this process (write the line → read the answer).
 * Also Chromium's start (first action) and the observation size in tokens (characters / 4).
 * Each is the median of TRAJLAB_BENCH_REPEATS (default 40) actions, alternating between two pages.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough, type Duplex, type Readable } from 'node:stream';
import * as tarFs from 'tar-fs';
import { chromium } from 'playwright-core';
import { BrowserSession } from '../server/src/browser/session';
import { LoopbackTunnel } from '../server/src/browser/tunnel';
import { connectDocker } from '../server/src/runtime/connection';
import { Sandbox } from '../server/src/runtime/sandbox';
import { stderrLogger } from '../server/src/util/log';

const IMAGE = process.env.TRAJLAB_BROWSER_IMAGE ?? 'trajlab/browser:1';
const N = Number(process.env.TRAJLAB_BENCH_REPEATS ?? 40);
const SITE = 'http://127.0.0.1:8000';

/** Two pages linking to each other, each with a table of 30 items and 30 links (a typical small page). */
const PAGE = (name: string, other: string) => `<!doctype html><html><head><title>Page ${name}</title></head><body>
<h1>Page ${name}</h1><nav><a href="/${other}.html">next</a></nav>
<table><tr><th>Item</th><th>Price</th></tr>${Array.from({ length: 30 }, (_, i) => `<tr><td><a href="/item${i}.html">Item ${i}</a></td><td>$${i}.99</td></tr>`).join('')}</table>
<form><label>Search <input name="q"></label><button>Go</button></form></body></html>`;

const DRIVER = `
const { chromium } = require('/opt/pw/playwright-core');
const readline = require('node:readline');
(async () => {
  const browser = await chromium.connectOverCDP(process.argv[2]);
  const page = await browser.contexts()[0].newPage();
  await page.goto('${SITE}/a.html');
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const cmd = JSON.parse(line);
    await page.getByRole('link', { name: cmd.link, exact: true }).click();
    await page.waitForLoadState('load');
    const tree = await page.ariaSnapshotJSON({ mode: 'ai' });
    process.stdout.write(JSON.stringify({ url: page.url(), chars: JSON.stringify(tree).length }) + '\\n');
  }
  await browser.close();
})();
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function browserBench(): Promise<void> {
  const docker = connectDocker();
  const sandbox = await Sandbox.create(docker, { image: IMAGE, runId: 'bench', taskId: 'browser', attempt: 1, workdir: '/workspace', logger: stderrLogger, resources: { cpus: 2, memory_mb: 2048 }, network: 'none' });
  try {
    const site = `mkdir -p /srv/site && cd /srv/site && cat > a.html <<'EOF'\n${PAGE('A', 'b')}\nEOF\ncat > b.html <<'EOF'\n${PAGE('B', 'a')}\nEOF\n` +
      `(setsid python3 -m http.server 8000 --bind 127.0.0.1 >/tmp/http.log 2>&1 &) ; for i in $(seq 50); do python3 -c "import urllib.request; urllib.request.urlopen('${SITE}/a.html')" 2>/dev/null && break; sleep 0.1; done`;
    const ready = await sandbox.exec(site, { timeoutSec: 30, outputCap: 65536 });
    if (ready.exit_code !== 0) throw new Error(`the site did not start: ${ready.stderr}`);

    // Baseline: a bash step's exec.
    const bashMs: number[] = [];
    for (let i = 0; i < N; i++) {
      const t = performance.now();
      await sandbox.exec('true', { timeoutSec: 10, outputCap: 4096 });
      bashMs.push(performance.now() - t);
    }

    // (a) through the tool: Chromium starts on the first action.
    const session = BrowserSession.of(sandbox);
    let t = performance.now();
    const first = await session.act({ kind: 'browser', action: 'goto', args: { url: `${SITE}/a.html` } });
    const startMs = performance.now() - t;
    if (first.exit_code !== 0) throw new Error(`goto failed: ${first.stderr}`);
    const toolMs: number[] = [];
    const tokens: number[] = [];
    // The pages are alike, so "next" keeps its element id from one observation to the next.
    const id = Number(/\[(\d+)\] link "next"/.exec(first.stdout)?.[1]);

    // (a) raw Playwright calls over a tunnel of our own to the same Chromium, on a page of its own.
    const active = (await sandbox.exec('cat /tmp/trajlab-chromium/DevToolsActivePort', { timeoutSec: 10, outputCap: 4096 })).stdout.trim().split('\n');
    const tunnel = await LoopbackTunnel.open(sandbox, Number(active[0]), stderrLogger);
    const browser = await chromium.connectOverCDP(`ws://127.0.0.1:${tunnel.port}${active[1]}`);
    const page = await browser.contexts()[0]!.newPage();
    await page.goto(`${SITE}/a.html`);
    const rawMs: number[] = [];

    // (c) a driver process inside the container (Node and playwright-core copied in), on a page of its own.
    const nodeBin = process.execPath;
    await sandbox.exec('mkdir -p /opt/pw /opt/node', { timeoutSec: 10, outputCap: 4096 });
    await sandbox.putArchive(tarFs.pack(path.dirname(nodeBin), { entries: [path.basename(nodeBin)] }) as unknown as Readable, '/opt/node');
    await sandbox.putArchive(tarFs.pack(path.join(__dirname, '..', 'node_modules'), { entries: ['playwright-core'] }) as unknown as Readable, '/opt/pw');
    fs.writeFileSync('/tmp/trajlab-bench-driver.js', DRIVER);
    await sandbox.putArchive(tarFs.pack('/tmp', { entries: ['trajlab-bench-driver.js'] }) as unknown as Readable, '/opt/pw');
    const exec = await sandbox.container.exec({ Cmd: ['/opt/node/node', '/opt/pw/trajlab-bench-driver.js', `http://127.0.0.1:${active[0]}`], AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false });
    const stream = (await exec.start({ hijack: true, stdin: true })) as unknown as Duplex;
    const out = new PassThrough();
    const err = new PassThrough();
    err.on('data', (c: Buffer) => process.stderr.write(c));
    docker.modem.demuxStream(stream, out, err);
    let buffer = '';
    const waiters: ((line: string) => void)[] = [];
    out.on('data', (c: Buffer) => {
      buffer += c.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        waiters.shift()?.(line);
      }
    });
    const ask = (cmd: object) => new Promise<string>((resolve) => {
      waiters.push(resolve);
      stream.write(`${JSON.stringify(cmd)}\n`);
    });
    await ask({ link: 'next' }); // warm-up (connect, first snapshot)
    const insideMs: number[] = [];

    // Interleaved, so that the machine's other load falls on every design alike.
    for (let i = 0; i < N; i++) {
      t = performance.now();
      const o = await session.act({ kind: 'browser', action: 'click', args: { element_id: id } });
      toolMs.push(performance.now() - t);
      if (o.exit_code !== 0) throw new Error(`click failed: ${o.stderr}`);
      tokens.push(Math.ceil(o.stdout.length / 4));

      t = performance.now();
      await page.getByRole('link', { name: 'next', exact: true }).click();
      await page.waitForLoadState('load');
      await page.ariaSnapshotJSON({ mode: 'ai' });
      rawMs.push(performance.now() - t);

      t = performance.now();
      await ask({ link: 'next' });
      insideMs.push(performance.now() - t);
    }
    stream.end();
    await page.close();
    await browser.close();
    tunnel.close();

    const base = median(bashMs);
    const row = (name: string, xs: number[]) => console.log(`browser: ${name.padEnd(58)} ${median(xs).toFixed(1).padStart(7)} ms  ${(median(xs) / base).toFixed(1).padStart(6)}× bash`);
    console.log(`browser: ${N} actions each, image ${IMAGE}, network none`);
    console.log(`browser: ${'bash step (exec `true`), the baseline'.padEnd(58)} ${base.toFixed(1).padStart(7)} ms    1.0× bash`);
    row('(a) tool: BrowserSession.act click → observation', toolMs);
    row('(a) raw playwright-core over the tunnel', rawMs);
    row('(c) driver inside the container (same calls)', insideMs);
    console.log(`browser: Chromium start + first goto: ${startMs.toFixed(0)} ms; observation ${median(tokens)} tokens (characters / 4) median`);
  } finally {
    await sandbox.remove();
  }
}
