/** The phase trace (server/src/util/trace.ts): JSON lines once a file is named, nothing before. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { flushTrace, traced, tracePoint, traceTo } from '../../server/src/util/trace';

test('traced records each phase (also one that throws) with its key and times; a phase function is called only when tracing', async () => {
  assert.equal(process.env.TRAJLAB_TRACE, undefined, 'run without TRAJLAB_TRACE');
  let named = 0;
  const phase = () => (named++, 'lazy');
  assert.equal(await traced(phase, 'k', async () => 1), 1, 'untraced: the work runs and its result comes back');
  assert.equal(named, 0, 'untraced: the phase name is never made');

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trajlab-trace-test-'));
  try {
    const file = path.join(dir, 'trace.jsonl');
    traceTo(file);
    assert.equal(await traced('create', 'task#1', () => new Promise((r) => setTimeout(() => r('made'), 20))), 'made');
    await assert.rejects(traced(phase, 'task#2', async () => { throw new Error('engine said no'); }), /engine said no/);
    tracePoint('container', 'task#1', 'abc123');
    await flushTrace();
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { phase: string; key: string; start: number; end: number; detail?: string });
    assert.deepEqual(lines.map((l) => [l.phase, l.key, l.detail]), [['create', 'task#1', undefined], ['lazy', 'task#2', undefined], ['container', 'task#1', 'abc123']]);
    assert.ok(lines[0]!.end - lines[0]!.start >= 15, `the create phase lasted its ~20 ms: ${JSON.stringify(lines[0])}`);
    assert.ok(Math.abs(lines[0]!.start - Date.now()) < 60_000, 'times are ms since the Unix epoch');
    assert.equal(lines[2]!.start, lines[2]!.end, 'a point has no duration');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
