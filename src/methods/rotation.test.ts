import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../core/random';
import { toyDataset } from '../train/toyDataset.testutil';
import { Trainer } from '../train/trainer';
import type { StepMetrics } from '../train/protocol';
import type { MethodState } from './method';
import { checkMethodBasics, checkResumesExactly, methodConfig, trainSteps } from './methodHarness.testutil';
import { rotateImageArray, rotateQuarterTurns, rotationTask, shownRotationRows } from './rotation';

await tf.setBackend('cpu');

/** A [n, s, s, c] batch of distinct values, so any misplaced pixel shows. */
function distinctBatch(n: number, s: number, c: number): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from({ length: n * s * s * c }, (_, i) => i), [n, s, s, c]);
}

describe('rotation views', () => {
  it('turns exactly: every quarter turn matches the plain-array reference, pixel for pixel', () => {
    const [n, s, c] = [2, 5, 3];
    const x = distinctBatch(n, s, c);
    const pixels = x.dataSync();
    for (const k of [0, 1, 2, 3]) {
      const turned = rotateQuarterTurns(x, k).dataSync();
      for (let b = 0; b < n; b++) {
        const one = pixels.subarray(b * s * s * c, (b + 1) * s * s * c);
        expect(Array.from(turned.subarray(b * s * s * c, (b + 1) * s * s * c))).toEqual(Array.from(rotateImageArray(one, s, c, k)));
      }
    }
    x.dispose();
  });

  it('turns counterclockwise: the top-right corner goes to the top-left', () => {
    // 2×2: [[a, b], [c, d]] turned 90° counterclockwise is [[b, d], [a, c]]
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    expect(Array.from(rotateQuarterTurns(x, 1).dataSync())).toEqual([2, 4, 1, 3]);
    expect(Array.from(rotateQuarterTurns(x, 2).dataSync())).toEqual([4, 3, 2, 1]);
    expect(Array.from(rotateQuarterTurns(x, 3).dataSync())).toEqual([3, 1, 4, 2]);
    x.dispose();
  });

  it('four turns are the identity, and turning back by the answer undoes the turn', () => {
    const rng = createRng(3);
    const image = Float32Array.from({ length: 7 * 7 }, () => rng());
    let turned: Float32Array = image;
    for (let i = 0; i < 4; i++) turned = rotateImageArray(turned, 7, 1, 1);
    expect(Array.from(turned)).toEqual(Array.from(image));
    for (const k of [1, 2, 3]) expect(Array.from(rotateImageArray(rotateImageArray(image, 7, 1, k), 7, 1, -k))).toEqual(Array.from(image));
  });

  it('lays out 4N rows, the batch at 0°, 90°, 180° and 270° in turn, labelled 0…3; refuses non-square images', () => {
    const x = distinctBatch(3, 4, 1);
    const { inputs, labels } = rotationTask(x);
    expect(inputs.shape).toEqual([12, 4, 4, 1]);
    expect(Array.from(labels.dataSync())).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
    const rows = inputs.dataSync();
    // row 3 + 1 is image 1 at one quarter turn
    const expected = rotateImageArray(x.dataSync().subarray(16, 32), 4, 1, 1);
    expect(Array.from(rows.subarray(4 * 16, 5 * 16))).toEqual(Array.from(expected));
    tf.dispose([x, inputs, labels]);
    const oblong = tf.zeros([1, 4, 3, 1]) as tf.Tensor4D;
    expect(() => rotateQuarterTurns(oblong, 1)).toThrow(/square/);
    oblong.dispose();
  });

  it('shows image b at turn b mod 4, so the instrument has all four', () => {
    expect(shownRotationRows(16)).toEqual({ rows: [0, 17, 34, 51, 4, 21, 38, 55], turns: [0, 1, 2, 3, 0, 1, 2, 3] });
    expect(shownRotationRows(3).rows).toEqual([0, 4, 8]);
  });
});

describe('RotNet through the training loop', () => {
  it('trains with a finite, falling loss from near log 4, leaks nothing and repeats for one seed', async () => {
    const steps = await checkMethodBasics(methodConfig('rotation'));
    expect(Math.abs(steps[0].loss - Math.log(4))).toBeLessThan(0.5);
    for (const m of steps) {
      expect(m.values.taskAccuracy).toBeGreaterThanOrEqual(0);
      expect(m.values.taskAccuracy).toBeLessThanOrEqual(1);
      // no positive pairs: alignment is not defined, uniformity is
      expect(Number.isNaN(m.alignment)).toBe(true);
      expect(Number.isFinite(m.uniformity)).toBe(true);
    }
  });

  it('learns to orient images that have an up: a bar along the top edge is named at all four turns', async () => {
    // the toy set's bars and blobs are turned into each other (a horizontal bar at 90° is a vertical one), so it cannot be
    // oriented; a bar along the top edge can, and a horizontal flip (in the default augmentation) leaves it where it is
    const dataset = toyDataset(64, 16);
    const s = dataset.imageSize;
    const rng = createRng(11);
    dataset.train.images = Uint8Array.from({ length: 64 * s * s }, (_, i) => (Math.floor(i / s) % s < 3 ? 230 : rng() * 60));
    const trainer = new Trainer(dataset, methodConfig('rotation'));
    const steps = await trainSteps(trainer, 30);
    const late = steps.slice(-5).reduce((sum, m) => sum + m.values.taskAccuracy, 0) / 5;
    expect(late).toBeGreaterThan(0.6);
    trainer.dispose();
  });

  it('captures an instrument: turned inputs, their undoing, captions, marks and a confusion matrix over all 4N', async () => {
    const before = tf.memory().numTensors;
    const trainer = new Trainer(toyDataset(64, 16), methodConfig('rotation'));
    await trainSteps(trainer, 2);
    trainer.captureAffinity = true;
    await trainer.trainStep();
    const snapshot = trainer.taskSnapshot!;
    expect(snapshot.method).toBe('rotation');
    expect(snapshot.count).toBe(8);
    expect(snapshot.rows.map((r) => r.label)).toEqual(['input (turned)', 'turned back by the head’s answer']);
    const { size, channels } = snapshot.rows[0];
    expect(snapshot.rows[0].images.length).toBe(8 * size * size * channels);
    expect(snapshot.confusion!.counts.reduce((a, b) => a + b, 0)).toBe(4 * 16);
    expect(snapshot.captions[1]).toMatch(/^90° · said (0|90|180|270)°$/);
    // an example marked right is turned back to the upright image exactly (row 0 of example 0 is the upright view)
    snapshot.correct!.forEach((right, e) => {
      const per = size * size * channels;
      const back = snapshot.rows[1].images.subarray(e * per, (e + 1) * per);
      const turnedBy = Number(snapshot.captions[e].split('°')[0]) / 90;
      const upright = rotateImageArray(snapshot.rows[0].images.subarray(e * per, (e + 1) * per), size, channels, -turnedBy);
      expect(Array.from(back).every((v, i) => v === upright[i])).toBe(right);
    });
    expect(snapshot.summary).toMatch(/of 64 rotations named correctly/);
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('RotNet resumes from a checkpoint', () => {
  it('keeps nothing of its own; resumed, its losses and accuracy are the uninterrupted run’s, across a reshuffled epoch', async () => {
    const config = methodConfig('rotation');
    const dataset = toyDataset(48, 8);
    const trainer = new Trainer(dataset, config);
    expect(await trainer.method.saveState()).toEqual({ arrays: {}, values: {} });
    trainer.dispose();
    // 48 training images in batches of 16: the batch order is drawn afresh at step 4, after the checkpoint at step 2;
    // the head's Adam moments and f's running statistics come back from the trainer's part of the checkpoint
    await checkResumesExactly(config, { before: 2, after: 2, dataset });
  }, 20_000);

  it('refuses another method’s state, naming its entry, and changes nothing', async () => {
    const dataset = toyDataset(32, 8);
    const exemplar = new Trainer(dataset, methodConfig('exemplar', { exemplarCount: 16 }));
    const exemplarState = await exemplar.method.saveState();
    exemplar.dispose();
    const config = methodConfig('rotation');
    const refused = new Trainer(dataset, config);
    const untouched = new Trainer(dataset, config);
    const queue = { dtype: 'float32' as const, shape: [2, 2], data: new Float32Array(4) };
    const cases: [MethodState, RegExp][] = [
      [exemplarState, /“membersSeen”, which RotNet does not keep/],
      [{ arrays: { queue }, values: { queuePointer: 1 } }, /“queue”, which RotNet does not keep/],
      [null as unknown as MethodState, /no state for RotNet/],
    ];
    for (const [state, entry] of cases) expect(() => refused.method.loadState(state)).toThrow(entry);
    const seen = (m: StepMetrics) => [m.loss, m.values, m.uniformity, m.collapseStd];
    expect((await trainSteps(refused, 1)).map(seen)).toEqual((await trainSteps(untouched, 1)).map(seen));
    refused.dispose();
    untouched.dispose();
  });
});
