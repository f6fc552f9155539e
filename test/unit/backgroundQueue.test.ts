/** BackgroundQueue (server/src/util/backgroundQueue.ts): limited while the run goes on, unlimited once it drains. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackgroundQueue } from '../../server/src/util/backgroundQueue';

function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

test('at most `concurrency` pieces of work run at once until drain, which runs the rest together and waits for all', async () => {
  const q = new BackgroundQueue(2);
  const gates = Array.from({ length: 5 }, gate);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  gates.forEach((g, i) =>
    q.add(async () => {
      started.push(i);
      running++;
      most = Math.max(most, running);
      await g.promise;
      running--;
    }),
  );
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(started, [0, 1], 'two run, three wait');
  gates[0]!.open();
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(started, [0, 1, 2], 'a free slot takes the next one, in order');
  let drained = false;
  const draining = q.drain().then(() => (drained = true));
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(started, [0, 1, 2, 3, 4], 'drain starts everything left');
  assert.equal(drained, false, 'drain waits for running work');
  q.add(async () => {
    started.push(5);
    throw new Error('failures are swallowed');
  });
  for (const g of gates) g.open();
  await draining;
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5], 'work added while draining is waited for too');
  assert.equal(running, 0);
  assert.equal(most, 4, 'before drain at most 2 ran; drain ran the waiting ones at once');
});
