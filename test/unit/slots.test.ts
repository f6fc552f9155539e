/** Slots (server/src/util/slots.ts): the counting semaphore that limits container starts per engine. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Slots } from '../../server/src/util/slots';

function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/**
 * `count` calls of `slots.use` whose work logs `start i` and opens `starts[i]`, then waits for
 * `gates[i]` and logs `end i`. The steps of a test wait for starts (events, not time) and log
 * themselves: a call that starts too early shows up in the log before the step that allows it.
 */
function calls(slots: Slots, count: number, log: string[]) {
  const gates = Array.from({ length: count }, gate);
  const starts = Array.from({ length: count }, gate);
  const results = gates.map((g, i) =>
    slots.use(async () => {
      log.push(`start ${i}`);
      starts[i]!.open();
      await g.promise;
      log.push(`end ${i}`);
      return i * 10;
    }),
  );
  return { gates, starts: starts.map((s) => s.promise), results };
}

test('at most `size` calls run at once; the others start in the order they came as slots free up', { timeout: 10_000 }, async () => {
  const slots = new Slots(2);
  const log: string[] = [];
  const { gates, starts, results } = calls(slots, 4, log);
  await Promise.all([starts[0], starts[1]]);
  log.push('open 1');
  gates[1]!.open();
  await starts[2];
  log.push('open all');
  gates.forEach((g) => g.open());
  assert.deepEqual(await Promise.all(results), [0, 10, 20, 30], 'each call resolves with its own work');
  assert.deepEqual(log.slice(0, 6), ['start 0', 'start 1', 'open 1', 'end 1', 'start 2', 'open all'], 'two at once; the freed slot goes to the first waiter');
  assert.ok(log.indexOf('start 3') > log.indexOf('end 0'), `the last call waited for a slot: ${log.join(', ')}`);
});

test('a call whose work throws rejects with that error and frees its slot', async () => {
  const slots = new Slots(1);
  const failing = slots.use(async () => {
    throw new Error('start failed');
  });
  await assert.rejects(failing, /start failed/);
  assert.equal(await slots.use(async () => 'next'), 'next');
  // All slots free again: two calls at size 1 run one after the other, not both at once.
  let running = 0;
  let most = 0;
  const one = async () => {
    running++;
    most = Math.max(most, running);
    await new Promise(setImmediate); // every promise that could settle has settled: the other call would be running now
    running--;
  };
  await Promise.all([slots.use(one), slots.use(one)]);
  assert.equal(most, 1);
});

test('grow raises the limit and starts the waiting calls that now fit; it never shrinks', { timeout: 10_000 }, async () => {
  const slots = new Slots(1);
  const log: string[] = [];
  const { gates, starts, results } = calls(slots, 4, log);
  await starts[0];
  log.push('grow 3');
  slots.grow(3);
  await Promise.all([starts[1], starts[2]]);
  assert.throws(() => slots.grow(2), /cannot shrink/);
  log.push('grow Infinity');
  slots.grow(Infinity);
  await starts[3];
  assert.deepEqual(log, ['start 0', 'grow 3', 'start 1', 'start 2', 'grow Infinity', 'start 3'], 'two more start at once, in order, then the last');
  gates.forEach((g) => g.open());
  await Promise.all(results);
  assert.equal(slots.size, Infinity);
});

test('a freed slot goes to the waiting call of the lowest rank, in arrival order within a rank', { timeout: 10_000 }, async () => {
  const slots = new Slots(1);
  const log: string[] = [];
  const holder = gate();
  const held = slots.use(() => holder.promise);
  const waiter = (name: string, rank: number) => slots.use(async () => void log.push(name), rank);
  const done = [waiter('removal', 2), waiter('ahead 1', 1), waiter('on demand 1', 0), waiter('ahead 2', 1), waiter('on demand 2', 0)];
  await new Promise(setImmediate);
  assert.deepEqual(log, [], 'nothing starts while the only slot is held');
  holder.open();
  await Promise.all([held, ...done]);
  assert.deepEqual(log, ['on demand 1', 'on demand 2', 'ahead 1', 'ahead 2', 'removal']);
});

test('a size below 1 is refused', () => {
  assert.throws(() => new Slots(0), /at least 1/);
  assert.throws(() => new Slots(Number.NaN), /at least 1/);
});
