import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../core/random';
import { expectGradientsMatchReference, randomMatrix } from './lossCheck.testutil';
import { meanImageMse, psnrOf, reconstructionMse, reconstructionMseReference } from './reconstruction';

await tf.setBackend('cpu');

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** A [n, s, s, c] batch of random values in [0, 1) from a seed. */
function randomBatch(n: number, s: number, c: number, seed = 5): tf.Tensor4D {
  const rng = createRng(seed);
  return tf.tensor4d(Float32Array.from({ length: n * s * s * c }, () => rng()), [n, s, s, c]);
}

describe('reconstruction loss', () => {
  it('is the mean squared error over every pixel and channel, as in float64', () => {
    for (const [n, s, c, seed] of [[1, 3, 1, 1], [4, 5, 3, 2], [16, 12, 1, 3]] as const) {
      const x = randomBatch(n, s, c, seed);
      const y = randomBatch(n, s, c, seed + 10);
      expect(reconstructionMse(x, y).dataSync()[0]).toBeCloseTo(reconstructionMseReference(x.dataSync(), y.dataSync()), 6);
      expect(reconstructionMse(x, x).dataSync()[0]).toBe(0);
      tf.dispose([x, y]);
    }
    // by hand: errors 0.5 and 0 and 1 and 0 → (0.25 + 1) / 4
    expect(reconstructionMseReference([0.5, 1, 1, 0], [0, 1, 0, 0])).toBe(0.3125);
  });

  it('has the gradient 2 (x̂ − x) / n: tf.grads against central differences of the float64 reference', () => {
    const rng = createRng(7);
    const loss = (a: tf.Tensor2D, b: tf.Tensor2D) => reconstructionMse(a, b);
    const reference = ([a, b]: number[][][]) => reconstructionMseReference(a.flat(), b.flat());
    for (const [rows, cols] of [[1, 1], [3, 4], [8, 6]] as const) {
      expectGradientsMatchReference(loss, reference, [randomMatrix(rng, rows, cols), randomMatrix(rng, rows, cols)], ['∂L/∂x̂', '∂L/∂x'], `${rows}×${cols}`);
    }
  });

  it('scores the mean-image baseline as the mean over images of (x̄ − x_b)², and PSNR as 10 log₁₀(1 / MSE)', () => {
    const x = randomBatch(5, 4, 3, 9);
    const values = x.dataSync();
    const per = 4 * 4 * 3;
    const average = Float64Array.from({ length: per }, (_, k) => mean(Array.from({ length: 5 }, (_, b) => values[b * per + k])));
    const tiled = Float64Array.from({ length: 5 * per }, (_, k) => average[k % per]);
    expect(meanImageMse(x).dataSync()[0]).toBeCloseTo(reconstructionMseReference(tiled, values), 6);
    tf.tidy(() => {
      expect(psnrOf(tf.scalar(0.01)).dataSync()[0]).toBeCloseTo(20, 4);
      expect(psnrOf(tf.scalar(1)).dataSync()[0]).toBeCloseTo(0, 5);
      // a perfect rebuild reads as 120 dB, not Infinity
      expect(psnrOf(tf.scalar(0)).dataSync()[0]).toBeCloseTo(120, 3);
    });
    x.dispose();
  });

  it('refuses shapes that differ or hold nothing, leaving no tensor', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      expect(() => reconstructionMse(tf.zeros([2, 3, 3, 1]), tf.zeros([2, 3, 3, 3]))).toThrow(/same shape/);
      expect(() => reconstructionMse(tf.zeros([0, 3, 3, 1]), tf.zeros([0, 3, 3, 1]))).toThrow(/no pixel/);
    });
    expect(() => reconstructionMseReference([1, 2], [1])).toThrow(/equal in number/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
