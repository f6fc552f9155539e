import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mayHoldSecret, placeholder, PRESET_RULE_IDS, redactSpans, scanText, scanTrajectory, SECRET_GATES, secretType } from '../../server/src/dataset/secretScan';
import { LEAKED, trajectoryWithOutput } from '../helpers/trajectories';

const rsaKey = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
const ENV = `HOME=/root\nAWS_ACCESS_KEY_ID=${LEAKED.awsKeyId}\nAWS_SECRET_ACCESS_KEY=${LEAKED.awsSecret}\nGITHUB_TOKEN=${LEAKED.githubToken}\n${LEAKED.opensshKey}\n${rsaKey}`;

test('the gate knows every rule of the installed preset (a rule added by an upgrade fails here until it has its literals)', () => {
  assert.deepEqual([...PRESET_RULE_IDS].sort(), Object.keys(SECRET_GATES).sort());
});

test('scanText: AWS key id and secret, a GitHub token, OpenSSH and RSA private keys, typed from the rule; the secret span, not the variable name', async () => {
  const found = await scanText(ENV);
  assert.deepEqual(found.map((f) => f.type), ['aws-access-key-id', 'aws-secret-access-key', 'github-token', 'private-key', 'private-key']);
  assert.deepEqual(found.map((f) => ENV.slice(f.start, f.end)), [LEAKED.awsKeyId, LEAKED.awsSecret, LEAKED.githubToken, LEAKED.opensshKey, rsaKey.trim()]);
  // AWS's documented example key is allow-listed by the rule; ordinary output has nothing.
  assert.deepEqual(await scanText('AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE'), []);
  assert.deepEqual(await scanText('tests/test_parse.py::test_case PASSED\nRan 12 tests in 0.4s\nOK'), []);
});

test('the gate passes every sample the rules find, and skips plain output', async () => {
  const samples = [
    `AWS_ACCESS_KEY_ID=${LEAKED.awsKeyId}`,
    `aws_secret_access_key = ${LEAKED.awsSecret}`,
    `token ${LEAKED.githubToken}`,
    LEAKED.opensshKey,
    rsaKey,
    'SLACK=xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
    'curl https://deploy:Zq8mW2pL9x@registry.example.com/v2/',
    'glpat-' + 'Ab3dEf6hIj9kLm2nOp5q',
  ];
  for (const s of samples) {
    assert.ok((await scanText(s)).length > 0, `the rules find ${s.slice(0, 12)}…`);
    assert.ok(mayHoldSecret(s), `the gate lets ${s.slice(0, 12)}… through`);
  }
  assert.equal(mayHoldSecret('line 3: ' + 'x'.repeat(60) + '\nStep 3: run the tests of module_3.py'), false);
  assert.equal(mayHoldSecret('see https://example.com/docs for details'), false, 'a URL without credentials does not wake the basic-auth rule');
});

test('secretType and redactSpans: kebab-case types from message ids; overlapping spans redacted once', () => {
  assert.equal(secretType('@secretlint/secretlint-rule-aws', 'AWSAccessKeyID'), 'aws-access-key-id');
  assert.equal(secretType('@secretlint/secretlint-rule-github', 'GITHUB_TOKEN'), 'github-token');
  assert.equal(secretType('@secretlint/secretlint-rule-npm', ''), 'npm');
  assert.equal(placeholder('private-key'), '<REDACTED:private-key>');
  assert.equal(redactSpans('a SECRET b', [{ start: 2, end: 8, type: 't' }, { start: 4, end: 6, type: 'u' }]), 'a <REDACTED:t> b');
});

test('scanTrajectory redact: the observation, its tool message and a later echo of the token are redacted; counts are per distinct secret; token ids go', async () => {
  const t = trajectoryWithOutput('leaky', ENV, `The token is ${LEAKED.githubToken}, I will not use it.`);
  t.steps[0]!.token_data = { prompt_token_ids: [1, 2, 3] };
  const scan = await scanTrajectory(t, { redact: true });
  assert.deepEqual(scan.byType, { 'aws-access-key-id': 1, 'aws-secret-access-key': 1, 'github-token': 1, 'private-key': 2 });
  assert.ok(scan.findings.some((f) => f.path === 'steps[0].observations[0].stdout' && f.step === 0 && f.type === 'github-token'));
  assert.ok(scan.droppedTokenIds);
  assert.equal(t.steps[0]!.token_data, undefined);
  const json = JSON.stringify(t);
  for (const secret of [LEAKED.awsKeyId, LEAKED.awsSecret, LEAKED.githubToken, LEAKED.opensshKey.split('\n')[1]!, rsaKey.split('\n')[1]!]) assert.ok(!json.includes(secret), `${secret.slice(0, 8)}… is gone`);
  assert.equal(t.steps[1]!.response.content, 'The token is <REDACTED:github-token>, I will not use it.');
  assert.match(t.steps[0]!.observations[0]!.stdout, /^HOME=\/root\nAWS_ACCESS_KEY_ID=<REDACTED:aws-access-key-id>\nAWS_SECRET_ACCESS_KEY=<REDACTED:aws-secret-access-key>\n/);
});

test('scanTrajectory without redact counts and leaves the text alone; a clean trajectory finds nothing', async () => {
  const t = trajectoryWithOutput('leaky', ENV);
  const before = JSON.stringify(t);
  const scan = await scanTrajectory(t, { redact: false });
  assert.equal(Object.values(scan.byType).reduce((a, b) => a + b, 0), 5);
  assert.equal(JSON.stringify(t), before);
  assert.deepEqual((await scanTrajectory(trajectoryWithOutput('clean', 'total 0\nREADME.md'), { redact: true })).findings, []);
});
