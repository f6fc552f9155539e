/**
 * `trajlab hosts list|drain|undrain` and the pool flags of `generate` (`--host` repeated,
 * `--hosts FILE`) as a user runs them: the BUILT CLI (`node dist/trajlab.js`; `npm run -s build`
 * first), the real local Docker engine, a second URL for it (a symlink to its socket) and a
 * socket path nothing listens on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunInfo } from '../../common/src/run';
import { runCli, type CliResult } from '../helpers/cli';
import { readJson, removeContainersOfRun, tempDir } from '../helpers/engineHelpers';

const LOCAL = 'unix:///var/run/docker.sock';

/** Runs the built CLI to its end, killed past `timeoutMs`. */
function trajlab(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return runCli(args, { built: true, timeoutMs });
}

test('hosts list: each host up (engine version, TrajLab containers, GPUs) or down with why; a disabled host is not asked; exit 1 when one is down', { timeout: 60_000 }, async () => {
  const tmp = tempDir('hosts-list');
  try {
    const file = path.join(tmp.dir, 'hosts.yaml');
    const dead = path.join(tmp.dir, 'dead.sock');
    fs.writeFileSync(file, `hosts:\n  - {url: "unix://${dead}", name: dead}\n  - {url: "tcp://me:s3cret@10.255.255.1:2375", name: off, enabled: false}\n`);
    const r = await trajlab(['hosts', 'list', '--host', LOCAL, '--hosts', file]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 3, r.stdout);
    assert.match(lines[0]!, /^unix:\/\/\/var\/run\/docker\.sock {2}up {2}Docker \S+ {2}\d+ TrajLab container\(s\) {2}(no GPUs|GPUs \S+)$/);
    assert.equal(lines[1], `dead  unix://${dead}  down  the Docker host unix://${dead} does not answer (connect ENOENT ${dead}): start Docker there, or check the host URL`);
    assert.equal(lines[2], 'off  tcp://me@10.255.255.1:2375  disabled');
    assert.doesNotMatch(r.stdout + r.stderr, /s3cret/);

    const json = await trajlab(['hosts', 'list', '--host', LOCAL, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const [one] = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { host: { url: string }; info: { kind: string; images: string[] } });
    assert.equal(one!.host.url, LOCAL);
    assert.equal(one!.info.kind, 'reachable');
    assert.ok(one!.info.images.includes('trajlab/sandbox:1'));
  } finally {
    tmp.cleanup();
  }
});

test('hosts drain / undrain write the drain file of the output folder (no password in it) and print the hosts drained now', { timeout: 60_000 }, async () => {
  const tmp = tempDir('hosts-drain');
  try {
    const out = path.join(tmp.dir, 'out');
    const a = await trajlab(['hosts', 'drain', 'ssh://me:s3cret@gpu1', '-o', out]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, 'ssh://me@gpu1\n');
    const b = await trajlab(['hosts', 'drain', 'unix:///run/b.sock', '--out', out]);
    assert.equal(b.stdout, 'ssh://me@gpu1\nunix:///run/b.sock\n');
    assert.match(b.stderr, /2 host\(s\) drained under /);
    assert.deepEqual(readJson(path.join(out, 'hosts-drained.json')), ['ssh://me@gpu1', 'unix:///run/b.sock']);
    const c = await trajlab(['hosts', 'undrain', 'ssh://me@gpu1', '-o', out]);
    assert.equal(c.stdout, 'unix:///run/b.sock\n');
    assert.deepEqual(readJson(path.join(out, 'hosts-drained.json')), ['unix:///run/b.sock']);
    assert.doesNotMatch(fs.readFileSync(path.join(out, 'hosts-drained.json'), 'utf8'), /s3cret/);
    const bad = await trajlab(['hosts', 'drain', 'ftp://box', '-o', out]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^trajlab: "url" "ftp:\/\/box": ftp:\/\/ is not a Docker host scheme/);
  } finally {
    tmp.cleanup();
  }
});

test('generate --hosts: a bad file stops the run before it starts with file:line:col: message; --host twice and a file make one pool in run.json', { timeout: 180_000 }, async () => {
  const tmp = tempDir('hosts-generate');
  const runId = `cli-hosts-${process.pid}`;
  try {
    const tasks = path.join(tmp.dir, 'tasks.jsonl');
    fs.writeFileSync(tasks, JSON.stringify({ task_id: 'pool-1', description: 'x', eval: ['true'], solution: { commands: ['true'] } }) + '\n');
    const bad = path.join(tmp.dir, 'bad.yaml');
    fs.writeFileSync(bad, 'hosts:\n  - url: unix:///var/run/docker.sock\n    workers: two\n');
    const out = path.join(tmp.dir, 'out');
    const r = await trajlab(['generate', tasks, '--model', 'gold', '-o', out, '--hosts', bad, '--no-progress']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `trajlab: ${bad}:3:14: "workers" must be an integer ≥ 1 (got "two")\n`);
    assert.equal(fs.existsSync(out), false, 'no run folder for a run that never started');

    const link = path.join(tmp.dir, 'docker.sock');
    fs.symlinkSync('/var/run/docker.sock', link);
    const good = path.join(tmp.dir, 'hosts.json');
    fs.writeFileSync(good, JSON.stringify({ hosts: [{ url: `unix://${link}`, name: 'link', workers: 1, labels: { site: 'here' } }] }));
    const ok = await trajlab(['generate', tasks, '--model', 'gold', '-o', out, '--run-id', runId, '--host', LOCAL, '--hosts', good, '--host-wait', '30', '--no-progress'], 150_000);
    assert.equal(ok.code, 0, ok.stderr);
    const info = readJson<RunInfo>(path.join(out, 'runs', runId, 'run.json'));
    assert.deepEqual(info.options.hosts, [{ url: LOCAL }, { url: `unix://${link}`, name: 'link', workers: 1, labels: { site: 'here' } }]);
    assert.equal(info.options.hostWaitSec, 30);
    assert.equal(info.options.host, undefined);
    // The pool ran it: both hosts in run.json, the one attempt started on one of them.
    assert.deepEqual(info.hosts?.map((h) => [h.name, h.workers, h.labels]), [[LOCAL, 4, undefined], ['link', 1, { site: 'here' }]]);
    assert.equal(info.hosts!.reduce((n, h) => n + h.attempts_started, 0), 1);
  } finally {
    await removeContainersOfRun(runId);
    tmp.cleanup();
  }
});
