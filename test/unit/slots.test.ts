/** Slots (server/src/util/slots.ts): the counting semaphore that limits container starts per engine. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Slots } from '../../server/src/util/slots';

function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

test('at most `size` calls run at once; the others start in the order they came as slots free up', async () => {
  const slots = new Slots(2);
  const gates = Array.from({ length: 4 }, gate);
  const started: number[] = [];
  const results = gates.map((g, i) =>
    slots.use(async () => {
      started.push(i);
      await g.promise;
      return i * 10;
    }),
  );
  await tick();
  assert.deepEqual(started, [0, 1]);
  gates[1]!.open();
  await tick();
  assert.deepEqual(started, [0, 1, 2], 'the freed slot goes to the first waiter');
  gates.forEach((g) => g.open());
  assert.deepEqual(await Promise.all(results), [0, 10, 20, 30], 'each call resolves with its own work');
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
    await tick();
    running--;
  };
  await Promise.all([slots.use(one), slots.use(one)]);
  assert.equal(most, 1);
});

test('grow raises the limit and starts the waiting calls that now fit; it never shrinks', async () => {
  const slots = new Slots(1);
  const gates = Array.from({ length: 4 }, gate);
  const started: number[] = [];
  const all = gates.map((g, i) =>
    slots.use(async () => {
      started.push(i);
      await g.promise;
    }),
  );
  await tick();
  assert.deepEqual(started, [0]);
  slots.grow(3);
  await tick();
  assert.deepEqual(started, [0, 1, 2], 'two more start at once, in order');
  assert.throws(() => slots.grow(2), /cannot shrink/);
  slots.grow(Infinity);
  await tick();
  assert.deepEqual(started, [0, 1, 2, 3]);
  gates.forEach((g) => g.open());
  await Promise.all(all);
  assert.equal(slots.size, Infinity);
});

test('a size below 1 is refused', () => {
  assert.throws(() => new Slots(0), /at least 1/);
  assert.throws(() => new Slots(Number.NaN), /at least 1/);
});
