import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseHostsFile, readHostsFile } from '../../server/src/pool/hostsFile';
import { checkHostSpecs, HostSpecError } from '../../server/src/pool/hostSpec';

const YAML_FILE = `# two GPU boxes and a laptop
hosts:
  - url: ssh://me@gpu1
    name: gpu1
    workers: 8
    gpus: [0, 1]
    labels: {gpu: a100, rack: 3}
  - url: tcp://gpu2:2376
    gpus: "0, 1,2"
    enabled: false
  - url: unix:///var/run/docker.sock
`;

test('a YAML hosts file: {hosts: [...]}, gpus as a list of numbers or a comma string, labels as strings', () => {
  assert.deepEqual(parseHostsFile(YAML_FILE, 'hosts.yaml'), [
    { url: 'ssh://me@gpu1', name: 'gpu1', workers: 8, gpus: ['0', '1'], labels: { gpu: 'a100', rack: '3' } },
    { url: 'tcp://gpu2:2376', gpus: ['0', '1', '2'], enabled: false },
    { url: 'unix:///var/run/docker.sock' },
  ]);
});

test('a JSON hosts file, and a bare list in either syntax', () => {
  const json = JSON.stringify([{ url: 'https://gpu3:2376', workers: 2, gpus: ['GPU-3f'] }, { url: '/run/docker.sock', name: 'local' }], null, 2);
  assert.deepEqual(parseHostsFile(json, 'hosts.json'), [{ url: 'https://gpu3:2376', workers: 2, gpus: ['GPU-3f'] }, { url: '/run/docker.sock', name: 'local' }]);
  assert.deepEqual(parseHostsFile(JSON.stringify({ hosts: [{ url: 'tcp://a:2375' }] }), 'h.json'), [{ url: 'tcp://a:2375' }]);
  assert.deepEqual(parseHostsFile('- url: tcp://a:2375\n- url: tcp://b:2375\n', 'h.yml'), [{ url: 'tcp://a:2375' }, { url: 'tcp://b:2375' }]);
});

/** The error of parsing `text` as `h.yaml`. */
function errorOf(text: string, file = 'h.yaml'): string {
  try {
    parseHostsFile(text, file);
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail(`no error for ${JSON.stringify(text)}`);
}

test('every kind of bad entry is file:line:col: message at the bad value, naming the field', () => {
  const cases: [string, string][] = [
    ['hosts:\n  - url: tcp://a:2375\n    workers: two\n', 'h.yaml:3:14: "workers" must be an integer ≥ 1 (got "two")'],
    ['hosts:\n  - url: tcp://a:2375\n    workers: 0\n', 'h.yaml:3:14: "workers" must be an integer ≥ 1 (got 0)'],
    ['hosts:\n  - url: tcp://a:2375\n    workers: 1.5\n', 'h.yaml:3:14: "workers" must be an integer ≥ 1 (got 1.5)'],
    ['- name: gpu1\n  workers: 2\n', 'h.yaml:1:3: a host needs "url" (unix:///var/run/docker.sock, tcp://host:2376, ssh://user@host)'],
    ['- url: 42\n', 'h.yaml:1:8: "url" must be a Docker host URL: unix:///path, tcp://host:port, https://host:port or ssh://user@host (got 42)'],
    ['- url: ftp://box\n', 'h.yaml:1:8: "url" "ftp://box": ftp:// is not a Docker host scheme; use unix:///path, tcp://host:port, https://host:port or ssh://user@host'],
    ['- url: not a url\n', 'h.yaml:1:8: "url" "not a url" is not a URL: use unix:///path, tcp://host:port, https://host:port or ssh://user@host'],
    ['- url: tcp://a:2375\n  name: ""\n', 'h.yaml:2:9: "name" must be a non-empty string (got "")'],
    ['- url: tcp://a:2375\n  gpus: {a: 1}\n', 'h.yaml:2:9: "gpus" must be a list of device ids or a comma-separated string (got {"a":1})'],
    ['- url: tcp://a:2375\n  gpus: [0, [1]]\n', 'h.yaml:2:13: "gpus" entries must be device ids (0, "1", "GPU-3f…"; got [1])'],
    ['- url: tcp://a:2375\n  labels: [a, b]\n', 'h.yaml:2:11: "labels" must be a map of names to values (got ["a","b"])'],
    ['- url: tcp://a:2375\n  labels:\n    site: {x: 1}\n', 'h.yaml:3:11: label "site" must be a string, number or boolean (got {"x":1})'],
    ['- url: tcp://a:2375\n  enabled: "yes"\n', 'h.yaml:2:12: "enabled" must be true or false (got "yes")'],
    ['- url: tcp://a:2375\n  worker: 4\n', 'h.yaml:2:3: unknown key "worker" (a host has url, name, workers, gpus, labels, enabled)'],
    ['- tcp://a:2375\n', 'h.yaml:1:3: a host must be an object with at least "url" (got "tcp://a:2375")'],
    ['- url: tcp://a:2375\n- url: tcp://a:2375/\n', 'h.yaml:2:8: "url" "tcp://a:2375" is already host 1 of the list'],
    ['- {url: tcp://a:2375, name: x}\n- {url: tcp://b:2375, name: x}\n', 'h.yaml:2:29: "name" "x" is already host 1\'s name'],
  ];
  for (const [text, message] of cases) assert.equal(errorOf(text), message, text);
});

test('a bad file as a whole: syntax errors (YAML and JSON), the wrong top level, an empty list', () => {
  assert.match(errorOf('hosts:\n  - url: tcp://a:2375\n   workers: 2\n'), /^h\.yaml:3:\d+: /);
  assert.match(errorOf('[{"url": "tcp://a:2375",}', 'h.json'), /^h\.json:1:\d+: /);
  assert.match(errorOf('{"hosts": [{"url": "tcp://a:2375"}, {"url": "tcp://b:2375", "workers": "4"}]}', 'h.json'), /^h\.json:1:72: "workers" must be an integer ≥ 1 \(got "4"\)$/);
  assert.equal(errorOf('url: tcp://a:2375\n'), 'h.yaml:1:1: a hosts file is a list of hosts or {hosts: [...]}, each host at least {url: ...}');
  assert.equal(errorOf(''), 'h.yaml:1:1: a hosts file is a list of hosts or {hosts: [...]}, each host at least {url: ...}');
  assert.equal(errorOf('hosts:\n  url: tcp://a:2375\n'), 'h.yaml:2:3: "hosts" must be a list of hosts, each at least {url: ...}');
  assert.equal(errorOf('hosts: []\nworkers: 2\n'), 'h.yaml:2:1: unknown top-level key "workers" (the file is a list of hosts or {hosts: [...]})');
  assert.equal(errorOf('hosts: []\n'), 'h.yaml:1:8: the hosts list is empty: name at least one host {url: ...}');
  assert.match(errorOf('- url: tcp://a:2375\n  url: tcp://b:2375\n'), /^h\.yaml:2:3: .*[Uu]nique/);
});

test('a password in a URL never reaches an error message', () => {
  const message = errorOf('- url: tcp://me:s3cret@a:2375\n- url: tcp://me:other@a:2375\n');
  assert.equal(message, 'h.yaml:2:8: "url" "tcp://me@a:2375" is already host 1 of the list');
  assert.doesNotMatch(errorOf('- url: "ftp://me:s3cret@box"\n'), /s3cret/);
});

test('readHostsFile reads a file; a missing one is file:1:1', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hosts-file-'));
  try {
    const file = path.join(dir, 'hosts.yaml');
    fs.writeFileSync(file, YAML_FILE);
    assert.equal((await readHostsFile(file)).length, 3);
    await assert.rejects(readHostsFile(path.join(dir, 'none.yaml')), (err: Error) => err.message.startsWith(`${path.join(dir, 'none.yaml')}:1:1: cannot read the hosts file: ENOENT`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('checkHostSpecs (the daemon\'s options.hosts) says where: entry index and key', () => {
  assert.throws(() => checkHostSpecs([{ url: 'tcp://a:2375' }, { url: 'tcp://b:2375', workers: -1 }]), (err: HostSpecError) => err.at.join('.') === '1.workers' && /"workers" must be an integer ≥ 1/.test(err.problem));
});
