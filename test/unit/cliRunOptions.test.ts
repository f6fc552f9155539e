import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runOptionFlags, runOptionsOf, withHosts, withModels } from '../../server/src/cli/runOptionFlags';

/** The RunOptions `trajlab generate` passes to the engine for `args` (the flags after the tasks file). */
function parse(args: string[]): Record<string, unknown> {
  const command = new Command('generate').exitOverride().configureOutput({ writeErr: () => {} });
  for (const option of runOptionFlags()) command.addOption(option);
  command.parse(args, { from: 'user' });
  return runOptionsOf(command.opts());
}

test('generate flags: defaults, renamed fields and parsed values land on their RunOptions keys', async () => {
  assert.deepEqual(await withModels(parse([]), undefined), {
    model: 'openai:gpt-4o-mini', workers: 4, attempts: 1, out: 'trajlab', defaultImage: 'trajlab/sandbox:1',
    maxMemoryMb: 8192, maxPids: 4096, allowNetwork: 'bridge',
  });
  const o = parse(['-w', '8', '--image', 'x:1', '--gpus-available', ' 0, 1,', '--task-id', 'a', '--task-id', 'b*', '--timeout', '2.5', '--network', 'bridge', '--output-cap', '1024']);
  assert.equal(o.workers, 8);
  assert.equal(o.defaultImage, 'x:1');
  assert.deepEqual(o.gpus, ['0', '1']);
  assert.deepEqual(o.taskIds, ['a', 'b*']);
  assert.equal(o.timeout, 2.5);
  assert.equal(o.network, 'bridge');
  assert.equal(o.outputCap, 1024);
  assert.equal('maxSteps' in o, false, 'a flag not given leaves its key out (a task value wins)');
  assert.equal('mode' in o, false, "no --mode: the agent config's mode, else tools (the engine decides)");
  assert.equal(parse(['--agent', 'mini-swe-agent', '--mode', 'tools']).agent, 'mini-swe-agent');
});

test('generate flags: --resume wins over --run-id; bad values fail with the flag and the rule', () => {
  assert.equal(parse(['--run-id', 'a', '--resume', 'b']).runId, 'b');
  assert.equal(parse(['--run-id', 'a']).runId, 'a');
  assert.throws(() => parse(['--workers', '0']), /--workers must be an integer ≥ 1 \(got "0"\)/);
  assert.throws(() => parse(['--mode', 'chat']), /Allowed choices are tools, text/);
});

test('--host once stays `host`; repeated, or with a --hosts file, it is a pool (`hosts`: the --hosts first, then the file\'s)', async () => {
  assert.deepEqual(await withHosts(parse([]), undefined), parse([]));
  assert.equal((await withHosts(parse(['--host', 'ssh://me@a']), undefined)).host, 'ssh://me@a');
  assert.equal('hosts' in (await withHosts(parse(['--host', 'ssh://me@a']), undefined)), false);
  const two = await withHosts(parse(['--host', 'ssh://me@a', '--host', 'unix:///run/b.sock', '--host-wait', '30']), undefined);
  assert.deepEqual(two.hosts, [{ url: 'ssh://me@a' }, { url: 'unix:///run/b.sock' }]);
  assert.equal(two.host, undefined);
  assert.equal(two.hostWaitSec, 30);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-hosts-'));
  try {
    const file = path.join(dir, 'hosts.yaml');
    fs.writeFileSync(file, '- {url: "tcp://c:2376", workers: 2, gpus: "0,1"}\n');
    assert.deepEqual((await withHosts(parse(['--host', 'ssh://me@a']), file)).hosts, [{ url: 'ssh://me@a' }, { url: 'tcp://c:2376', workers: 2, gpus: ['0', '1'] }]);
    await assert.rejects(withHosts(parse(['--host', 'tcp://c:2376']), file), new RegExp(`^Error: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: host 1: "url" "tcp://c:2376" is already host 1`));
    await assert.rejects(withHosts(parse(['--host', 'ssh://me@a', '--host', 'ssh://me@a/']), undefined), /^Error: --host: "url" "ssh:\/\/me@a" is already host 1 of the list$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => parse(['--host', 'ftp://x']), /--host: "url" "ftp:\/\/x": ftp:\/\/ is not a Docker host scheme/);
  assert.throws(() => parse(['--host-wait', '-1']), /--host-wait must be a number ≥ 0/);
});

test('--model once stays `model`; repeated, or with a --models file, it is a models list (`models`: the --models first, then the file\'s; `model` the first spec)', async () => {
  assert.equal((await withModels(parse(['--model', 'gold']), undefined)).model, 'gold');
  assert.equal('models' in (await withModels(parse(['-m', 'deepseek:deepseek-chat']), undefined)), false);
  const two = await withModels(parse(['-m', 'deepseek:deepseek-chat', '--model', 'openai:gpt-4o-mini', '--model-switch', '--model-requeues', '5']), undefined);
  assert.deepEqual(two.models, [{ model: 'deepseek:deepseek-chat' }, { model: 'openai:gpt-4o-mini' }]);
  assert.equal(two.model, 'deepseek:deepseek-chat');
  assert.equal(two.modelSwitch, true);
  assert.equal(two.modelRequeues, 5);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-models-'));
  try {
    const file = path.join(dir, 'models.yaml');
    fs.writeFileSync(file, 'models:\n  - {model: "vllm:qwen", base_url: "http://gpu1:8000/v1", rpm: 60, extra_body: {top_k: 20}}\n');
    assert.deepEqual((await withModels(parse(['-m', 'openai:gpt-4o-mini']), file)).models, [{ model: 'openai:gpt-4o-mini' }, { model: 'vllm:qwen', base_url: 'http://gpu1:8000/v1', rpm: 60, extra_body: { top_k: 20 } }]);
    assert.equal((await withModels(parse([]), file)).model, 'vllm:qwen');
    fs.writeFileSync(file, '- {model: "openai:gpt-4o-mini"}\n');
    await assert.rejects(withModels(parse(['-m', 'openai:gpt-4o-mini']), file), /models.yaml: model 1: entry 2 has the name "openai:gpt-4o-mini" of entry 1/);
    await assert.rejects(withModels(parse(['-m', 'gold', '-m', 'openai:x']), undefined), /^InvalidArgumentError: --model "gold": "model" must be provider:model in a models list/);
    await assert.rejects(withModels(parse(['-m', 'a:b', '-m', 'openai:x']), undefined), /--model "a:b": unknown model provider "a"/);
    await assert.rejects(withModels(parse(['-m', 'openai:a', '-m', 'openai:b', '--base-url', 'http://x/v1']), undefined), /--base-url applies to one --model/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
