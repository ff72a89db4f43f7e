import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toyDataset } from '../train/toyDataset.testutil';
import { Trainer } from '../train/trainer';
import { checkMethodBasics, checkResumesExactly, expectRefusedUnchanged, methodConfig, stateAfter, trainSteps } from './methodHarness.testutil';
import { enqueueKeys } from './moco';

await tf.setBackend('cpu');

/** Rows of a [K, 1] queue as plain numbers. */
const rows = (t: tf.Tensor2D) => Array.from(t.dataSync());
const column = (values: number[]) => tf.tensor2d(values, [values.length, 1]);

describe('enqueueKeys (MoCo’s FIFO queue)', () => {
  it('writes at the pointer and advances it', () => {
    const queue = column([0, 0, 0, 0, 0]);
    const keys = column([1, 2]);
    const out = enqueueKeys(queue, keys, 1);
    expect(rows(out.queue)).toEqual([0, 1, 2, 0, 0]);
    expect(out.pointer).toBe(3);
    tf.dispose([queue, keys, out.queue]);
  });

  it('wraps around, overwriting the oldest keys first, and keeps its size', () => {
    const queue = column([10, 11, 12, 13, 14]);
    const keys = column([1, 2, 3]);
    const out = enqueueKeys(queue, keys, 3);
    expect(rows(out.queue)).toEqual([3, 11, 12, 1, 2]);
    expect(out.queue.shape).toEqual([5, 1]);
    expect(out.pointer).toBe(1);
    tf.dispose([queue, keys, out.queue]);
  });

  it('keeps the last K keys, where one-by-one writes would put them, when more than K arrive', () => {
    const queue = column([0, 0, 0]);
    const keys = column([1, 2, 3, 4, 5]);
    const out = enqueueKeys(queue, keys, 1);
    // one by one from slot 1: 1→1, 2→2, 3→0, 4→1, 5→2, so [3, 4, 5]
    expect(rows(out.queue)).toEqual([3, 4, 5]);
    expect(out.pointer).toBe(0);
    tf.dispose([queue, keys, out.queue]);
  });

  it('agrees with a one-by-one reference over many sizes and pointers, and leaks nothing', () => {
    const before = tf.memory().numTensors;
    for (const size of [1, 2, 5, 8]) {
      for (const count of [1, 3, 8, 11]) {
        for (let pointer = 0; pointer < size; pointer++) {
          const start = Array.from({ length: size }, (_, i) => -i - 1);
          const keys = Array.from({ length: count }, (_, i) => i + 1);
          const expected = [...start];
          let p = pointer;
          for (const k of keys) { expected[p] = k; p = (p + 1) % size; }
          const q = column(start);
          const k = column(keys);
          const out = enqueueKeys(q, k, pointer);
          expect(rows(out.queue), `K ${size}, ${count} keys at ${pointer}`).toEqual(expected);
          expect(out.pointer).toBe(p);
          tf.dispose([q, k, out.queue]);
        }
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses keys of another size and a pointer outside the queue', () => {
    const queue = tf.zeros([4, 2]) as tf.Tensor2D;
    const keys = tf.zeros([2, 3]) as tf.Tensor2D;
    expect(() => enqueueKeys(queue, keys, 0)).toThrow(/dimensions/);
    expect(() => enqueueKeys(queue, tf.zeros([1, 2]) as tf.Tensor2D, 4)).toThrow(/outside/);
    tf.dispose([queue, keys]);
  });
});

describe('MoCo v2 through the training loop', () => {
  it('trains with a finite, falling InfoNCE loss, leaks nothing and repeats for one seed', async () => {
    // K = 64 at N = 16: the queue holds only real keys from step 4 on
    await checkMethodBasics(methodConfig('moco', { queueSize: 64 }), 4);
  });

  it('climbs as real keys fill its queue N a step, and its key encoder trails the query encoder', async () => {
    const trainer = new Trainer(toyDataset(256, 64), methodConfig('moco', { queueSize: 64, momentum: 0.9 }));
    const steps = await trainSteps(trainer, 6);
    // random unit vectors in the queue are easy negatives: below log(K + 1) = log 65 ≈ 4.17 at first;
    // real keys of an untrained encoder look like the positive, so the loss climbs as they arrive
    expect(steps[0].loss).toBeLessThan(Math.log(65));
    expect(steps[4].loss).toBeGreaterThan(steps[0].loss + 0.5);
    expect(steps.map((m) => m.values.queueFill)).toEqual([16, 32, 48, 64, 64, 64].map((k) => k / 64));
    for (const m of steps) {
      expect(m.values.keyDrift).toBeGreaterThan(0);
      expect(m.values.keyDrift).toBeLessThan(1);
      expect(m.values.contrastiveAccuracy).toBeGreaterThanOrEqual(0);
      expect(m.values.contrastiveAccuracy).toBeLessThanOrEqual(1);
    }
    expect(trainer.method.extraBytes()).toBeGreaterThan(64 * 16 * 4);
    trainer.dispose();
  });

  it('caps the queue at the training set size', async () => {
    const trainer = new Trainer(toyDataset(40, 16), methodConfig('moco', { queueSize: 4096 }));
    const [first] = await trainSteps(trainer, 1);
    expect(first.values.queueFill).toBeCloseTo(16 / 40, 6);
    trainer.dispose();
  });
});


describe('MoCo v2 resuming from a checkpoint', () => {
  it('resumes exactly across the queue’s wrap-around, with the key encoder and the shuffle where they were', async () => {
    // K = 40 at N = 16: the checkpoint after step 2 holds 32 real keys at pointer 32; step 3 writes 8 keys to the
    // tail and 8 over the head, so a resumed run that lost the pointer, the fill or the queue goes wrong after it
    const { straight, resumed } = await checkResumesExactly(methodConfig('moco', { queueSize: 40, momentum: 0.9 }), { before: 2, after: 3 });
    expect(straight.map((m) => m.values.queueFill)).toEqual([0.4, 0.8, 1, 1, 1]);
    expect(resumed.map((m) => m.values.queueFill)).toEqual([1, 1, 1]);
  }, 20_000);

  it('refuses another method’s state and a queue of another size, naming the entry, and changes nothing', async () => {
    const config = methodConfig('moco', { queueSize: 40, momentum: 0.9 });
    await expectRefusedUnchanged(config, await stateAfter(methodConfig('byol'), 1), /lacks MoCo v2’s “keyNetwork\.0”/);
    // a trained key encoder that fits, then a queue that does not: the key encoder must not be written either
    const otherQueue = await stateAfter(methodConfig('moco', { queueSize: 48, momentum: 0.9 }), 2);
    await expectRefusedUnchanged(config, otherQueue, /MoCo v2’s “queue” in the checkpoint is \[48, 16\], not \[40, 16\]/);
    const saved = await stateAfter(config, 2);
    await expectRefusedUnchanged(config, { ...saved, values: { ...saved.values, pointer: 40 } }, /“pointer”.*outside its queue of 40/);
  }, 20_000);
});
