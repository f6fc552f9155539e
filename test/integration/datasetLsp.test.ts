/**
 * The dataset requests over real LSP: the BUILT daemon (`node dist/trajlab.js serve --stdio`;
 * run `npm run build` first) driven over stdio with vscode-jsonrpc (test/helpers/lspClient.ts).
 * `trajlab/dataset/stats` with rows and `trajlab/dataset/compare` on the fixture runs
 * (test/fixtures/export/runs) answer what the in-process functions compute, with progress under
 * the caller's token; `trajlab/dataset/export` writes the data file and its manifest (with the
 * `vscode export …` command line), refuses an existing output without `overwrite`, names a
 * missing source, and stops on `$/cancelRequest` leaving nothing behind. No Docker needed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc/node';
import type { DatasetProgress, DatasetStats, ExportManifest, ExportResult, RunComparison } from '../../common/src/dataset';
import { compareRuns } from '../../server/src/stats/compare';
import { computeStats } from '../../server/src/stats/stats';
import { REPO_ROOT, tempDir } from '../helpers/engineHelpers';
import { LspClient } from '../helpers/lspClient';

const RUNS = path.join(REPO_ROOT, 'test', 'fixtures', 'export', 'runs');
const RUN_A = path.join(RUNS, 'fx-a');
const RUN_B = path.join(RUNS, 'fx-b');

let t: { dir: string; cleanup(): void };
let client: LspClient;
/** Progress notifications received, by token, in order. */
const progress = new Map<string, DatasetProgress[]>();

before(async () => {
  t = tempDir('dataset-lsp');
  client = await LspClient.start({ out: path.join(t.dir, 'out') });
  client.connection.onNotification('trajlab/dataset/progress', (p: { token: string; progress: DatasetProgress }) => {
    const list = progress.get(p.token) ?? [];
    list.push(p.progress);
    progress.set(p.token, list);
  });
});

after(async () => {
  await client?.stop();
  t?.cleanup();
});

/** The ResponseError a request fails with (fails the test when it succeeds). */
async function responseError(method: string, params: unknown): Promise<ResponseError<unknown>> {
  try {
    await client.request(method, params);
  } catch (err) {
    assert.ok(err instanceof ResponseError, `expected a ResponseError, got ${(err as Error).stack}${client.tail()}`);
    return err;
  }
  assert.fail(`${method} succeeded; expected an error`);
}

test('trajlab/dataset/stats: the figures and rows computeStats gives, progress under the token ending at done = total', async () => {
  const stats = await client.request<DatasetStats>('trajlab/dataset/stats', { sources: [RUN_A], rows: true, progressToken: 'stats-1' });
  const expected = await computeStats([RUN_A], { rows: true });
  assert.deepEqual(stats, JSON.parse(JSON.stringify(expected)));
  assert.equal(stats.rows?.length, 8);
  assert.equal(stats.overall.trajectories, 8);
  assert.deepEqual(stats.corrupt.map((c) => path.basename(c.file)), ['broken.1.json']);
  const got = progress.get('stats-1') ?? [];
  assert.ok(got.length >= 1, 'progress arrived under the token');
  const last = got.at(-1)!;
  assert.equal(last.phase, 'scan');
  assert.equal(last.done, last.total);
  assert.equal(last.total, 9, 'nine files in fx-a/trajectories (one corrupt)');
  // No token, no progress; filters apply.
  const before = [...progress.values()].flat().length;
  const resolved = await client.request<DatasetStats>('trajlab/dataset/stats', { sources: [RUN_A], filters: { resolvedOnly: true } });
  assert.equal(resolved.overall.trajectories, 3, 'calc-add ×2 succeeded and swe/parse-date');
  assert.equal(resolved.rows, undefined);
  assert.equal([...progress.values()].flat().length, before);
});

test('trajlab/dataset/compare: compareRuns over the two runs, with its fixed and broken tasks', async () => {
  const c = await client.request<RunComparison>('trajlab/dataset/compare', { runA: RUN_A, runB: RUN_B, progressToken: 'cmp-1' });
  const expected = await compareRuns([RUN_A], [RUN_B]);
  assert.deepEqual(c, JSON.parse(JSON.stringify(expected)));
  assert.equal(c.a.label, 'fx-a');
  assert.equal(c.b.label, 'fx-b');
  assert.ok(c.fixed.length + c.broken.length > 0, 'the fixtures differ');
  const got = progress.get('cmp-1') ?? [];
  assert.ok(got.length >= 1);
  for (let i = 1; i < got.length; i++) assert.ok(got[i]!.done >= got[i - 1]!.done, `progress goes forward: ${JSON.stringify(got)}`);
  const last = got.at(-1)!;
  assert.equal(last.done, last.total);
});

test('trajlab/dataset/export: the data file and its manifest with the vscode command line; an existing output is refused unless overwrite', async () => {
  const out = path.join(t.dir, 'exports', 'sft.jsonl');
  const options = { format: 'openai', out, filters: { successOnly: true }, tokenCounts: true };
  const r = await client.request<ExportResult>('trajlab/dataset/export', { sources: [RUN_A], options, progressToken: 'exp-1' });
  assert.equal(r.manifestFile, path.join(t.dir, 'exports', 'sft.manifest.json'));
  const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(lines.length, 3, 'the three successful trajectories');
  for (const l of lines) {
    const row = JSON.parse(l) as { messages: { role: string }[]; metadata: { num_tokens: number } };
    assert.ok(Array.isArray(row.messages) && row.messages.length > 1);
    assert.ok(row.metadata.num_tokens > 0);
  }
  const manifest = JSON.parse(fs.readFileSync(r.manifestFile, 'utf8')) as ExportManifest;
  assert.deepEqual(manifest, JSON.parse(JSON.stringify(r.manifest)));
  assert.deepEqual(manifest.command, ['vscode', 'export', RUN_A, '--format', 'openai', '--out', out, '--success-only', '--token-counts']);
  assert.equal(manifest.counts.kept, 3);
  assert.deepEqual(manifest.filters, { successOnly: true });
  const got = progress.get('exp-1') ?? [];
  assert.ok(got.some((p) => p.phase === 'write'), JSON.stringify(got));

  const again = await responseError('trajlab/dataset/export', { sources: [RUN_A], options });
  assert.equal(again.code, -32602);
  assert.match(again.message, /sft\.jsonl exists; choose another --out or pass --overwrite/);
  const replaced = await client.request<ExportResult>('trajlab/dataset/export', { sources: [RUN_A], options: { ...options, filters: {}, overwrite: true } });
  assert.equal(replaced.manifest.counts.kept, 7, 'the seven finished trajectories');
  assert.ok(replaced.manifest.command!.includes('--overwrite'));
});

test('dataset requests: bad params and missing sources answer InvalidParams with a readable message', async () => {
  const missing = path.join(t.dir, 'no-such-run');
  const e1 = await responseError('trajlab/dataset/stats', { sources: [missing] });
  assert.equal(e1.code, -32602);
  assert.ok(e1.message.includes(missing), e1.message);
  const e2 = await responseError('trajlab/dataset/stats', { sources: ['relative/run'] });
  assert.match(e2.message, /params\.sources\[0\] must be an absolute path/);
  const e3 = await responseError('trajlab/dataset/stats', { sources: [] });
  assert.match(e3.message, /params\.sources must be a non-empty array/);
  const e4 = await responseError('trajlab/dataset/compare', { runA: RUN_A, runB: RUN_B, filters: { minReward: 1, maxReward: 0 } });
  assert.match(e4.message, /invalid filters: minReward \(1\) is above maxReward \(0\)/);
  const e5 = await responseError('trajlab/dataset/export', { sources: [RUN_A], options: { format: 'csv', out: path.join(t.dir, 'x.csv') } });
  assert.match(e5.message, /params\.options\.format must be one of openai, sharegpt/);
  const e6 = await responseError('trajlab/dataset/export', { sources: [RUN_A], options: { format: 'openai', out: path.join(t.dir, 'x.jsonl'), split: [{ name: 'train', fraction: 0.5 }] } });
  assert.match(e6.message, /fractions sum to 0\.5, not 1/);
  assert.ok(client.running, 'the daemon is still up');
});

test('trajlab/dataset/export: $/cancelRequest stops it (RequestCancelled) and leaves no file', async () => {
  // Enough files that the export is still going when the cancel arrives: it is sent on the
  // first progress notification, which the export sends before reading any file.
  const many = path.join(t.dir, 'many');
  fs.mkdirSync(many);
  const one = fs.readFileSync(path.join(RUN_A, 'trajectories', 'calc-add.2.json'), 'utf8');
  for (let i = 0; i < 3000; i++) fs.writeFileSync(path.join(many, `t${i}.json`), one);
  const out = path.join(t.dir, 'cancelled', 'data.jsonl');
  const source = new CancellationTokenSource();
  const sub = client.connection.onNotification('trajlab/dataset/progress', (p: { token: string }) => {
    if (p.token === 'exp-cancel') source.cancel();
  });
  try {
    const request = client.connection.sendRequest('trajlab/dataset/export', { sources: [many], options: { format: 'openai', out }, progressToken: 'exp-cancel' }, source.token);
    const err = await client.within(60_000, 'the cancelled export', request.then(() => undefined, (e: unknown) => e));
    assert.ok(err instanceof ResponseError, `the export was not cancelled: ${String(err)}`);
    assert.equal(err.code, -32800, err.message);
  } finally {
    sub.dispose();
  }
  // Restore the collector for later tests (onNotification replaced it).
  client.connection.onNotification('trajlab/dataset/progress', (p: { token: string; progress: DatasetProgress }) => {
    const list = progress.get(p.token) ?? [];
    list.push(p.progress);
    progress.set(p.token, list);
  });
  const left = fs.existsSync(path.dirname(out)) ? fs.readdirSync(path.dirname(out)) : [];
  assert.deepEqual(left, [], 'nothing left behind');
  const stats = await client.request<DatasetStats>('trajlab/dataset/stats', { sources: [RUN_B] });
  assert.equal(stats.overall.trajectories, 5, 'the daemon answers after a cancel');
});
