/**
 * `npm run bench -- secret-scan`: the secret scan's cost in `trajlab export`. The trajectories
 * of bench/export.ts (30 tool-mode steps, ~90 KB each on disk), one in 100 with an observation
 * that leaks an AWS key, a GitHub token and a private key; exported to OpenAI JSONL with the scan
 * (`secrets: 'redact'`, the default) vs the same export with the scan off (`secrets: 'off'`),
 * best of two each, interleaved. Target: ≤ 1.5× (issue 19).
 * The input is bench/export.ts's 10,000 trajectories (908 MB); generating them takes
 * minutes on a small machine, so the default here is 2,000 (TRAJLAB_BENCH_SECRETS_SCALE=1 for
 * the full 10,000). The ratio does not depend on the count: both exports stream.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exportTrajectories } from '../server/src/export/dataset';
import { makeRun } from './export';
import { LEAKED } from '../test/helpers/trajectories';

const SCALE = Number(process.env.TRAJLAB_BENCH_SECRETS_SCALE ?? 0.2) || 0.2;
const COUNT = Math.round(10_000 * SCALE);

/** Plants a leak in every 100th trajectory file of `run` (its first observation and tool message). */
function plantLeaks(run: string): number {
  const dir = path.join(run, 'trajectories');
  let n = 0;
  for (const [i, f] of fs.readdirSync(dir).sort().entries()) {
    if (i % 100 !== 0) continue;
    const file = path.join(dir, f);
    const t = JSON.parse(fs.readFileSync(file, 'utf8'));
    const leak = `AWS_ACCESS_KEY_ID=${LEAKED.awsKeyId}\nGITHUB_TOKEN=${LEAKED.githubToken}\n${LEAKED.opensshKey}\n`;
    t.steps[0].observations[0].stdout = leak + t.steps[0].observations[0].stdout;
    t.messages[3].content = leak + t.messages[3].content;
    fs.unlinkSync(file); // a hard link of bench/export.ts's: write a file of its own
    fs.writeFileSync(file, JSON.stringify(t, null, 2));
    n++;
  }
  return n;
}

/** Runs the benchmark and prints the ratio with PASS/MISS. */
export async function secretScanBench(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-bench-secrets-'));
  try {
    const run = path.join(root, 'runs', 'bench');
    const t0 = performance.now();
    const bytes = makeRun(run, COUNT);
    const leaky = plantLeaks(run);
    console.log(`secret-scan: generated ${COUNT.toLocaleString('en-US')} trajectories, ${(bytes / 1e6).toFixed(0)} MB, ${leaky} with leaks, in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const out = path.join(root, 'out');
    const once = async (secrets: 'off' | 'redact') => {
      const t = performance.now();
      const r = await exportTrajectories([run], { format: 'openai', out: path.join(out, `${secrets}.jsonl`), overwrite: true, secrets });
      return { ms: performance.now() - t, found: r.manifest.secrets?.found ?? 0 };
    };
    await once('off'); // warm the page cache and the JIT
    let off = Infinity;
    let on = Infinity;
    let found = 0;
    for (let i = 0; i < 2; i++) {
      off = Math.min(off, (await once('off')).ms);
      const r = await once('redact');
      on = Math.min(on, r.ms);
      found = r.found;
    }
    const ratio = on / off;
    console.log(`secret-scan: export to OpenAI JSONL, scan off ${(off / 1000).toFixed(2)} s (${(bytes / 1e6 / (off / 1000)).toFixed(0)} MB/s); with the scan (redact) ${(on / 1000).toFixed(2)} s, ${found} secrets redacted`);
    console.log(`secret-scan: ratio with/without = ${ratio.toFixed(2)}× (target ≤ 1.50×) ${ratio <= 1.5 ? 'PASS' : 'MISS'}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) {
  secretScanBench().catch((err: Error) => {
    console.error(`bench: ${err.message}`);
    process.exit(1);
  });
}
