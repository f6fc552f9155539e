/**
 * Secrets in `trajlab export` and `trajlab stats`, run as the real CLI (test/helpers/cli.ts) on a
 * run folder written here: one trajectory whose observation (`env; cat ~/.ssh/id_rsa`) holds an
 * AWS access key id and secret, a GitHub token, an OpenSSH and an RSA private key, and whose
 * model reply quotes the token again; one clean trajectory. No Docker needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EXPORT_FORMATS } from '../../common/src/dataset';
import { FORMATS } from '../../server/src/export/formats';
import { runCli } from '../helpers/cli';
import { listTree, tempDir } from '../helpers/engineHelpers';
import { LEAKED, trajectoryWithOutput } from '../helpers/trajectories';

const rsaKey = (generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string).trim();
const ENV = `HOME=/root\nAWS_ACCESS_KEY_ID=${LEAKED.awsKeyId}\nAWS_SECRET_ACCESS_KEY=${LEAKED.awsSecret}\nGITHUB_TOKEN=${LEAKED.githubToken}\n${LEAKED.opensshKey}\n${rsaKey}\n`;
/** Pieces of each secret that must not appear anywhere in a redacted export (key bodies by line). */
const SECRET_TEXTS = [LEAKED.awsKeyId, LEAKED.awsSecret, LEAKED.githubToken, ...LEAKED.opensshKey.split('\n').slice(1, -1), ...rsaKey.split('\n').slice(1, -1)];
const BY_RULE = { 'aws-access-key-id': 1, 'aws-secret-access-key': 1, 'github-token': 1, 'private-key': 2 };

function writeRun(dir: string): string {
  const run = path.join(dir, 'runs', 'leaky-run');
  fs.mkdirSync(path.join(run, 'trajectories'), { recursive: true });
  fs.writeFileSync(path.join(run, 'run.json'), JSON.stringify({ run_id: 'leaky-run', status: 'finished', created_at: '2025-01-01T00:00:00Z', options: { model: 'openai:x' }, trajlab_version: '0.1.0' }));
  const leaky = { ...trajectoryWithOutput('leaky', ENV, `I found ${LEAKED.githubToken} in the environment.`), run_id: 'leaky-run' };
  const clean = { ...trajectoryWithOutput('clean', 'total 0\nREADME.md\n'), run_id: 'leaky-run' };
  fs.writeFileSync(path.join(run, 'trajectories', 'leaky.1.json'), JSON.stringify(leaky, null, 2));
  fs.writeFileSync(path.join(run, 'trajectories', 'clean.1.json'), JSON.stringify(clean, null, 2));
  return run;
}

/** The text of every file under `dir` (the export's outputs and manifest). */
function allText(dir: string): string {
  return listTree(dir)
    .filter((f) => fs.statSync(f).isFile())
    .map((f) => fs.readFileSync(f, 'utf8'))
    .join('\n');
}

test('trajlab export redacts the secrets in every format, counts them per rule in the manifest, and says so', async () => {
  const t = tempDir('cli-export-secrets');
  try {
    const run = writeRun(t.dir);
    for (const format of EXPORT_FORMATS) {
      const outDir = path.join(t.dir, 'out', format);
      const out = path.join(outDir, `data${FORMATS[format].ext}`);
      const r = await runCli(['export', run, '--format', format, '--out', out]);
      assert.equal(r.code, 0, `${format}: ${r.stderr}`);
      assert.match(r.stderr, /^ {2}secrets: 5 redacted in 1 trajectory \(private-key 2, aws-access-key-id 1, aws-secret-access-key 1, github-token 1\)$/m, format);
      const text = allText(outDir);
      // JSON escapes the key blocks' newlines; the lines themselves would still be there.
      for (const s of SECRET_TEXTS) assert.ok(!text.includes(s) && !r.stderr.includes(s), `${format}: ${s.slice(0, 10)}… left in the output`);
      for (const type of Object.keys(BY_RULE)) assert.ok(text.includes(`<REDACTED:${type}>`), `${format}: no <REDACTED:${type}>`);
      const manifestFile = format === 'atif' ? `${out}.manifest.json` : out.replace(/\.[^.]+$/, '.manifest.json');
      const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
      assert.deepEqual({ ...manifest.secrets, scanner: undefined }, { mode: 'redact', scanner: undefined, found: 5, by_rule: BY_RULE, trajectories: 1 }, format);
      const entries = Object.fromEntries(manifest.trajectories.map((e: { task_id: string; secrets?: object }) => [e.task_id, e.secrets]));
      assert.deepEqual(entries, { leaky: BY_RULE, clean: undefined }, format);
    }
  } finally {
    t.cleanup();
  }
});

test('trajlab export --secrets fail exits 1 naming trajectory, step and rule (never the secret) and writes nothing; keep keeps them and counts', async () => {
  const t = tempDir('cli-export-secrets-modes');
  try {
    const run = writeRun(t.dir);
    const outDir = path.join(t.dir, 'out');
    for (const extra of [[], ['--split', 'train=0.5,val=0.5']]) {
      const fail = await runCli(['export', run, '--format', 'openai', '--out', path.join(outDir, 'data.jsonl'), '--secrets', 'fail', ...extra]);
      assert.equal(fail.code, 1, fail.stderr);
      assert.match(fail.stderr, /leaky\.1\.json: secrets found \(steps\[0\]\.observations\[0\]\.stdout: aws-access-key-id; steps\[0\]\.observations\[0\]\.stdout: aws-secret-access-key; .*github-token.*\); --secrets fail: nothing was written/);
      for (const s of SECRET_TEXTS) assert.ok(!fail.stderr.includes(s) && !fail.stdout.includes(s));
      assert.equal(fs.existsSync(outDir) ? fs.readdirSync(outDir).length : 0, 0, `nothing written (${extra.join(' ') || 'one pass'})`);
    }
    const keepOut = path.join(outDir, 'kept.jsonl');
    const keep = await runCli(['export', run, '--format', 'openai', '--out', keepOut, '--secrets', 'keep']);
    assert.equal(keep.code, 0, keep.stderr);
    const text = fs.readFileSync(keepOut, 'utf8');
    for (const s of [LEAKED.awsKeyId, LEAKED.awsSecret, LEAKED.githubToken]) assert.ok(text.includes(s), 'keep writes the text as it was');
    assert.ok(!text.includes('<REDACTED:'));
    const manifest = JSON.parse(fs.readFileSync(path.join(outDir, 'kept.manifest.json'), 'utf8'));
    assert.deepEqual([manifest.secrets.mode, manifest.secrets.by_rule], ['keep', BY_RULE]);
  } finally {
    t.cleanup();
  }
});

test('trajlab stats reports the secrets per rule and which trajectories hold them; --no-secrets skips the scan', async () => {
  const t = tempDir('cli-stats-secrets');
  try {
    const run = writeRun(t.dir);
    const json = await runCli(['stats', run, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const s = JSON.parse(json.stdout);
    assert.deepEqual([s.secrets.found, s.secrets.by_rule, s.secrets.trajectories], [5, BY_RULE, 1]);
    assert.deepEqual(s.secrets.files.map((f: { task_id: string }) => f.task_id), ['leaky']);
    for (const x of SECRET_TEXTS) assert.ok(!json.stdout.includes(x));
    const text = await runCli(['stats', run]);
    assert.match(text.stdout, /^secrets: 5 in 1 trajectories \(aws-access-key-id 1, aws-secret-access-key 1, github-token 1, private-key 2\)/m);
    assert.match(text.stdout, /leaky\.1\.json: steps\[0\]\.observations\[0\]\.stdout: aws-access-key-id/);
    const off = await runCli(['stats', run, '--json', '--no-secrets']);
    assert.equal(JSON.parse(off.stdout).secrets, undefined);
  } finally {
    t.cleanup();
  }
});
