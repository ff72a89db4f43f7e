import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../core/random';
import { cpcInfoNce, cpcInfoNceWithMetrics } from './cpc';
import { cpcInfoNceReference, cpcOffsetAccuracyReference } from './cpcReference';
import { expectGradientsMatchReference, expectTensorsLeft, gradientsAt, lossValue, randomMatrix, toTensor, type Matrix } from './lossCheck.testutil';

await tf.setBackend('cpu');

/**
 * M codes, P targets among them, and predictions = a·(target code) + noise,
 * as after some training; offsets cycle through 1 … K so each occurs.
 */
function randomInputs(seed: number, p: number, m: number, d: number, scale: number, k = 3) {
  const rng = createRng(seed);
  const codes = randomMatrix(rng, m, d, scale);
  const targets = Int32Array.from({ length: p }, () => Math.floor(rng() * m));
  const noise = randomMatrix(rng, p, d, scale);
  const predictions = Array.from(targets, (t, row) => codes[t].map((x, c) => 0.5 * x + noise[row][c]));
  const offsets = Int32Array.from({ length: p }, (_, row) => (row % k) + 1);
  return { predictions, codes, targets, offsets };
}

const cpcOf = (targets: Int32Array) => (predictions: tf.Tensor2D, codes: tf.Tensor2D) => cpcInfoNce(predictions, codes, targets);

/** cpcInfoNceWithMetrics on plain arrays, read back as plain numbers (no tensor left). */
function metricsOf(predictions: Matrix, codes: Matrix, targets: Int32Array, offsets: Int32Array, k: number) {
  return tf.tidy(() => {
    const out = cpcInfoNceWithMetrics(toTensor(predictions), toTensor(codes), targets, offsets, k);
    return {
      loss: out.loss.dataSync()[0],
      offsetAccuracy: Array.from(out.offsetAccuracy.dataSync()),
      hits: Array.from(out.hits.dataSync()),
      best: Array.from(out.best.dataSync()),
    };
  });
}

describe('cpcInfoNce against its float64 reference', () => {
  it('matches for P ∈ {1, 4, 12}, M ∈ {1, 5, 32}, d ∈ {2, 8} and code scales 0.1, 1, 3', () => {
    let seed = 100;
    for (const p of [1, 4, 12]) {
      for (const m of [1, 5, 32]) {
        for (const d of [2, 8]) {
          for (const scale of [0.1, 1, 3]) {
            const { predictions, codes, targets } = randomInputs(seed++, p, m, d, scale);
            const expected = cpcInfoNceReference(predictions, codes, targets);
            const actual = lossValue(cpcOf(targets), [predictions, codes]);
            // unnormalized scores up to ~d·scale² ≈ 70: float32 rounding of a few 1e-6 relative
            expect(Math.abs(actual - expected), `P=${p} M=${m} d=${d} scale=${scale}: ${actual} vs ${expected}`).toBeLessThanOrEqual(1e-5 * Math.abs(expected) + 2e-5);
          }
        }
      }
    }
  });

  it('gives each offset’s accuracy as the reference does, ties counting as misses', () => {
    let seed = 200;
    for (const [p, m] of [[6, 8], [12, 40], [3, 3]] as const) {
      const { predictions, codes, targets, offsets } = randomInputs(seed++, p, m, 4, 1);
      const out = metricsOf(predictions, codes, targets, offsets, 3);
      expect(out.offsetAccuracy).toEqual(cpcOffsetAccuracyReference(predictions, codes, targets, offsets, 3).map((a) => Math.fround(a)));
      expect(out.loss).toBeCloseTo(cpcInfoNceReference(predictions, codes, targets), 4);
    }
  });

  it('tf.grads with respect to the predictions and every code match central finite differences of the reference', () => {
    let seed = 300;
    for (const [p, m, d] of [[1, 2, 2], [3, 5, 3], [6, 9, 4]] as const) {
      for (const scale of [0.3, 1]) {
        const { predictions, codes, targets } = randomInputs(seed++, p, m, d, scale);
        expectGradientsMatchReference(
          cpcOf(targets),
          ([pr, co]) => cpcInfoNceReference(pr, co, targets),
          [predictions, codes],
          ['∂L/∂ẑ', '∂L/∂z'],
          `P=${p} M=${m} d=${d} scale=${scale}`,
        );
      }
    }
  });
});

describe('cpcInfoNce on cases worked out by hand', () => {
  it('scores every candidate alike when the predictions are zero: L = log M exactly, and no prediction counts as found', () => {
    const rng = createRng(5);
    const codes = randomMatrix(rng, 48, 6);
    const predictions: Matrix = Array.from({ length: 9 }, () => new Array<number>(6).fill(0));
    const targets = Int32Array.from({ length: 9 }, (_, i) => 5 * i);
    const offsets = Int32Array.from({ length: 9 }, (_, i) => (i % 3) + 1);
    expect(cpcInfoNceReference(predictions, codes, targets)).toBeCloseTo(Math.log(48), 12);
    const out = metricsOf(predictions, codes, targets, offsets, 3);
    expect(out.loss).toBeCloseTo(Math.log(48), 6);
    expect(out.offsetAccuracy).toEqual([0, 0, 0]);
    expect(out.hits).toEqual(new Array(9).fill(0));
  });

  it('with one-hot codes and ẑ = α·(the true code), L = log(1 + (M − 1)e^{−α}) and every prediction finds its patch', () => {
    const m = 6;
    const codes: Matrix = Array.from({ length: m }, (_, i) => Array.from({ length: m }, (_, c) => (c === i ? 1 : 0)));
    const targets = Int32Array.from([0, 3, 5, 3]);
    const offsets = Int32Array.from([1, 1, 2, 2]);
    for (const alpha of [0.5, 2, 10]) {
      const predictions = Array.from(targets, (t) => codes[t].map((x) => alpha * x));
      const expected = Math.log(1 + (m - 1) * Math.exp(-alpha));
      expect(cpcInfoNceReference(predictions, codes, targets)).toBeCloseTo(expected, 12);
      const out = metricsOf(predictions, codes, targets, offsets, 2);
      expect(out.loss).toBeCloseTo(expected, 6);
      expect(out.offsetAccuracy).toEqual([1, 1]);
      expect(out.best).toEqual(Array.from(targets));
    }
  });

  it('counts a prediction whose best candidate is another patch as missed, in its own offset only', () => {
    const codes: Matrix = [[1, 0], [0, 1], [-1, 0]];
    // prediction 0 (k = 1) points at code 0, its target: found; prediction 1 (k = 2) points at code 1 but must pick code 2: missed
    const out = metricsOf([[3, 0], [0, 3]], codes, Int32Array.from([0, 2]), Int32Array.from([1, 2]), 2);
    expect(out.offsetAccuracy).toEqual([1, 0]);
    expect(out.best).toEqual([0, 1]);
  });
});

describe('cpcInfoNce’s checks and tensors', () => {
  it('leaves only its outputs: the loss one scalar, the metrics four tensors, tf.grads two gradients, an error nothing', () => {
    const predictions = tf.randomNormal([6, 4], 0, 1, 'float32', 1) as tf.Tensor2D;
    const codes = tf.randomNormal([10, 4], 0, 1, 'float32', 2) as tf.Tensor2D;
    const targets = Int32Array.from([0, 1, 2, 3, 4, 9]);
    const offsets = Int32Array.from([1, 2, 1, 2, 1, 2]);
    expectTensorsLeft(0, () => {
      expectTensorsLeft(1, () => cpcInfoNce(predictions, codes, targets)).dispose();
      const out = expectTensorsLeft(4, () => cpcInfoNceWithMetrics(predictions, codes, targets, offsets, 2));
      tf.dispose([out.loss, out.offsetAccuracy, out.hits, out.best]);
      tf.dispose(expectTensorsLeft(2, () => gradientsAt(cpcOf(targets), [predictions, codes])));
      expect(() => cpcInfoNce(predictions, codes, targets.subarray(0, 5))).toThrow(/one target per prediction/);
    });
    tf.dispose([predictions, codes]);
  });

  it('refuses what does not fit, saying what', () => {
    tf.tidy(() => {
      const p = tf.zeros([2, 3]) as tf.Tensor2D;
      const z = tf.zeros([4, 3]) as tf.Tensor2D;
      expect(() => cpcInfoNce(p, tf.zeros([4, 2]) as tf.Tensor2D, Int32Array.from([0, 1]))).toThrow(/size d = 3/);
      expect(() => cpcInfoNce(p, z, Int32Array.from([0, 4]))).toThrow(/targets\[1\] = 4 is not a row/);
      expect(() => cpcInfoNce(tf.zeros([0, 3]) as tf.Tensor2D, z, new Int32Array(0))).toThrow(/P ≥ 1/);
      expect(() => cpcInfoNceWithMetrics(p, z, Int32Array.from([0, 1]), Int32Array.from([1, 3]), 2)).toThrow(/offsets\[1\] = 3/);
      expect(() => cpcInfoNceWithMetrics(p, z, Int32Array.from([0, 1]), Int32Array.from([1, 1]), 2)).toThrow(/no prediction has offset k = 2/);
    });
  });
});
