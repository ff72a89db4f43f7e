import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../core/random';
import { classificationAccuracy, confusionCounts, softmaxCrossEntropy } from './classification';
import { finiteDifferenceGradients, randomMatrix, toTensor, type Matrix } from './lossCheck.testutil';
import { softmaxCrossEntropyReference } from './sslReferences';

await tf.setBackend('cpu');

const tfLoss = (logits: Matrix, labels: number[]): number =>
  tf.tidy(() => softmaxCrossEntropy(toTensor(logits), tf.tensor1d(labels, 'int32')).arraySync());

describe('softmaxCrossEntropy', () => {
  it('is log K for a head that cannot tell K classes apart (equal logits), whatever the labels', () => {
    for (const k of [2, 4, 8, 30]) {
      const logits = Array.from({ length: 5 }, () => new Array(k).fill(0.7));
      expect(tfLoss(logits, [0, 1, 1, 0, k - 1])).toBeCloseTo(Math.log(k), 6);
    }
  });

  it('matches the float64 reference for random logits at scales 1e-2, 1 and 50', () => {
    const rng = createRng(17);
    for (const scale of [1e-2, 1, 50]) {
      const logits = randomMatrix(rng, 9, 6, scale);
      const labels = logits.map((_, m) => m % 6);
      const reference = softmaxCrossEntropyReference(logits, labels);
      expect(Math.abs(tfLoss(logits, labels) - reference)).toBeLessThanOrEqual(2e-6 * Math.max(1, Math.abs(reference)));
    }
  });

  it('has the reference’s gradient (softmax − one-hot, over M)', () => {
    const rng = createRng(5);
    const logits = randomMatrix(rng, 6, 4);
    const labels = [0, 3, 2, 1, 1, 0];
    const grad = tf.tidy(() => tf.grad((l: tf.Tensor) => softmaxCrossEntropy(l as tf.Tensor2D, tf.tensor1d(labels, 'int32')))(toTensor(logits)).arraySync() as Matrix);
    const numeric = finiteDifferenceGradients((m) => softmaxCrossEntropyReference(m[0], labels), [logits])[0];
    grad.forEach((row, m) => row.forEach((g, k) => expect(Math.abs(g - numeric[m][k])).toBeLessThan(1e-5)));
  });

  it('leaks no tensor and refuses mismatched shapes', () => {
    const before = tf.memory().numTensors;
    tfLoss([[1, 2]], [1]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => softmaxCrossEntropy(tf.zeros([3, 2]) as tf.Tensor2D, tf.tensor1d([0, 1], 'int32'))).toThrow(/2 labels for 3 rows/);
  });
});

describe('accuracy and confusion', () => {
  it('counts rows whose largest logit is at the label', () => {
    const acc = tf.tidy(() => classificationAccuracy(tf.tensor2d([[3, 1], [0, 2], [5, 4], [1, 9]]), tf.tensor1d([0, 1, 1, 1], 'int32')).arraySync());
    expect(acc).toBeCloseTo(0.75, 6);
  });

  it('puts each row at (true, predicted)', () => {
    expect(confusionCounts([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], 3)).toEqual([1, 1, 0, 0, 1, 0, 1, 0, 1]);
    expect(() => confusionCounts([0, 3], [0, 0], 3)).toThrow(/outside/);
  });
});
