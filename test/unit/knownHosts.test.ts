/**
 * The known_hosts check for ssh:// Docker hosts (server/src/runtime/knownHosts.ts) on files in
 * OpenSSH's format (sshd(8), SSH_KNOWN_HOSTS FILE FORMAT). Hashed names are checked against
 * files written by ssh-keygen -H in the remote hosts integration test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkHostKey, describeHostKeyProblem } from '../../server/src/runtime/knownHosts';

const KEY_A = 'AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
const KEY_B = 'AAAAC3NzaC1lZDI1NTE5AAAAIBo9yU8Y6OE6tOHPbp7r2xwWZ8JR3vXf4kFzPQ7Yc1dE';
const blob = (k: string) => Buffer.from(k, 'base64');

function file(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-known-hosts-'));
  const f = path.join(dir, 'known_hosts');
  fs.writeFileSync(f, text);
  return f;
}

test('a host key is known, unknown or changed by name and port, as ssh reads known_hosts', () => {
  const f = file(['# comment', '', `gpu1.lab,10.0.0.7 ssh-ed25519 ${KEY_A} ops@lab`, `[gpu2.lab]:2222 ssh-ed25519 ${KEY_A}`].join('\n'));
  assert.equal(checkHostKey('gpu1.lab', 22, blob(KEY_A), [f]).status, 'known');
  assert.equal(checkHostKey('GPU1.Lab', 22, blob(KEY_A), [f]).status, 'known', 'names compare case-insensitively');
  assert.equal(checkHostKey('10.0.0.7', 22, blob(KEY_A), [f]).status, 'known');
  assert.equal(checkHostKey('gpu2.lab', 2222, blob(KEY_A), [f]).status, 'known');
  assert.equal(checkHostKey('gpu2.lab', 22, blob(KEY_A), [f]).status, 'unknown', 'port 22 is a different entry from [gpu2.lab]:2222');
  assert.equal(checkHostKey('gpu1.lab', 2200, blob(KEY_A), [f]).status, 'unknown');
  const v6 = file(`[fd00::7]:2222 ssh-ed25519 ${KEY_A}\nfd00::8 ssh-ed25519 ${KEY_A}\n`);
  assert.equal(checkHostKey('fd00::7', 2222, blob(KEY_A), [v6]).status, 'known', 'an IPv6 address with a port, as ssh writes it');
  assert.equal(checkHostKey('fd00::8', 22, blob(KEY_A), [v6]).status, 'known');
  const changed = checkHostKey('gpu1.lab', 22, blob(KEY_B), [f]);
  assert.deepEqual(changed, { status: 'changed', where: `${f}:3`, name: 'gpu1.lab' });
  assert.match(describeHostKeyProblem(changed, 'gpu1.lab', 22), /does not match the one in .*known_hosts:3.*ssh-keygen -R 'gpu1.lab'/);
  assert.equal(checkHostKey('gpu1.lab', 22, blob(KEY_A), [path.join(os.tmpdir(), 'no-such-known-hosts')]).status, 'unknown', 'a missing file is empty');
});

test('wildcards, negations, @revoked and @cert-authority lines', () => {
  const f = file([`*.lab,!bad.lab ssh-ed25519 ${KEY_A}`, `@revoked * ssh-ed25519 ${KEY_B}`, `@cert-authority *.corp ssh-ed25519 ${KEY_A}`, `node-? ssh-ed25519 ${KEY_A}`].join('\n'));
  assert.equal(checkHostKey('gpu7.lab', 22, blob(KEY_A), [f]).status, 'known');
  assert.equal(checkHostKey('bad.lab', 22, blob(KEY_A), [f]).status, 'unknown', '!bad.lab excludes it');
  assert.equal(checkHostKey('node-1', 22, blob(KEY_A), [f]).status, 'known');
  assert.equal(checkHostKey('node-12', 22, blob(KEY_A), [f]).status, 'unknown', '? is one character');
  assert.equal(checkHostKey('gpu7.lab', 22, blob(KEY_B), [f]).status, 'revoked');
  assert.equal(checkHostKey('x.corp', 22, blob(KEY_A), [f]).status, 'unknown', 'certificate authorities are not host keys');
  assert.equal(checkHostKey('a.b.lab', 22, blob(KEY_A), [f]).status, 'known', '* spans dots');
  assert.equal(checkHostKey('lab', 22, blob(KEY_A), [f]).status, 'unknown');
});

test('an unknown host says how to add it', () => {
  const unknown = checkHostKey('10.1.2.3', 2222, blob(KEY_A), []);
  assert.deepEqual(unknown, { status: 'unknown', name: '[10.1.2.3]:2222' });
  assert.match(describeHostKeyProblem(unknown, '10.1.2.3', 2222), /ssh host key of 10\.1\.2\.3:2222 is not in ~\/\.ssh\/known_hosts .*ssh-keyscan -p 2222 10\.1\.2\.3 >> ~\/\.ssh\/known_hosts/);
});
