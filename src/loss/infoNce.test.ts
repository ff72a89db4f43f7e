import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../core/random';
import { infoNce, infoNceWithMetrics, type InfoNceOptions } from './infoNce';
import {
  expectGradientsMatchReference,
  expectTensorsLeft,
  gradientsAt,
  lossGradients,
  lossValue,
  maxAbs,
  randomMatrix,
  toTensor,
  unitRows,
  withNoise,
  type Matrix,
} from './lossCheck.testutil';
import { infoNceReference, infoNceReferenceMetrics } from './sslReferences';

await tf.setBackend('cpu');

// ---------------------------------------------------------------- helpers

/** Queries, keys correlated with them (k = q + noise, as two views are), and K unit queue keys. */
function randomInputs(seed: number, b: number, d: number, queueSize: number): [Matrix, Matrix, Matrix] {
  const rng = createRng(seed);
  const q = randomMatrix(rng, b, d);
  const k = withNoise(rng, q, 0.7);
  const queue = unitRows(randomMatrix(rng, queueSize, d));
  return [q, k, queue];
}

/** infoNce with its options closed over, as lossValue and lossGradients take it. */
const infoNceOf =
  (opts: InfoNceOptions) =>
  (q: tf.Tensor2D, k: tf.Tensor2D, queue: tf.Tensor2D): tf.Scalar =>
    infoNce(q, k, queue, opts);

// The queue may have no rows, so the column count comes from q.
const tfLoss = (q: Matrix, k: Matrix, queue: Matrix, opts: InfoNceOptions): number =>
  lossValue(infoNceOf(opts), [q, k, queue], q[0].length);

/** [∂L/∂q, ∂L/∂k, ∂L/∂queue] from tf.grads. */
const tfGradients = (q: Matrix, k: Matrix, queue: Matrix, opts: InfoNceOptions): Matrix[] =>
  lossGradients(infoNceOf(opts), [q, k, queue], q[0].length);

// ---------------------------------------------------------------- loss vs reference

describe('infoNce vs the float64 reference', () => {
  const batchSizes = [1, 3, 8];
  const dims = [2, 5, 16];
  const queueSizes = [0, 1, 7, 32];

  for (const temperature of [0.07, 0.2, 1]) {
    it(`matches for B ∈ {${batchSizes}}, d ∈ {${dims}}, K ∈ {${queueSizes}}, τ = ${temperature}`, () => {
      let seed = 100;
      for (const b of batchSizes) {
        for (const d of dims) {
          for (const queueSize of queueSizes) {
            const [q, k, queue] = randomInputs(seed++, b, d, queueSize);
            const expected = infoNceReference(q, k, queue, { temperature });
            const actual = tfLoss(q, k, queue, { temperature });
            // float32: logits |l| ≤ 1/τ ≈ 14 carry ~1e-6 relative rounding.
            expect(
              Math.abs(actual - expected),
              `B=${b} d=${d} K=${queueSize} τ=${temperature}: ${actual} vs ${expected}`,
            ).toBeLessThanOrEqual(1e-4 * Math.abs(expected) + 1e-5);
          }
        }
      }
    });
  }

  it('is scale invariant in q and k (both are normalized inside), but not in the queue', () => {
    const [q, k, queue] = randomInputs(150, 4, 8, 7);
    const opts = { temperature: 0.2 };
    const scaled = (m: Matrix, s: number) => m.map((r) => r.map((v) => v * s));
    expect(tfLoss(scaled(q, 1e3), scaled(k, 1e-3), queue, opts)).toBeCloseTo(tfLoss(q, k, queue, opts), 5);
    const expected = infoNceReference(q, k, scaled(queue, 2), opts);
    expect(tfLoss(q, k, scaled(queue, 2), opts)).toBeCloseTo(expected, 4);
    expect(Math.abs(expected - infoNceReference(q, k, queue, opts))).toBeGreaterThan(1e-2);
  });

  it('τ = 0.01 stays finite and matches the reference (logits up to ±100)', () => {
    for (const [b, d, queueSize] of [
      [8, 16, 32],
      [3, 2, 7],
    ] as const) {
      const [q, k, queue] = randomInputs(160 + b, b, d, queueSize);
      const opts = { temperature: 0.01 };
      const expected = infoNceReference(q, k, queue, opts);
      const actual = tfLoss(q, k, queue, opts);
      expect(Number.isFinite(actual)).toBe(true);
      expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-3 * Math.abs(expected) + 1e-3);
      expect(tfGradients(q, k, queue, opts).flat(2).every(Number.isFinite)).toBe(true);
    }
  });
});

// ---------------------------------------------------------------- analytic values

describe('analytic cases', () => {
  it('an empty [0, d] queue gives exactly 0 (−log 1), zero gradients and a [0, d] queue gradient', () => {
    for (const b of [1, 3, 8]) {
      for (const d of [2, 5, 16]) {
        const [q, k] = randomInputs(200 + 10 * b + d, b, d, 0);
        for (const temperature of [0.07, 0.2, 1]) {
          expect(infoNceReference(q, k, [], { temperature })).toBe(0);
          expect(tfLoss(q, k, [], { temperature })).toBe(0);
        }
        const grads = tf.tidy(() =>
          gradientsAt(infoNceOf({ temperature: 0.2 }), [toTensor(q, d), toTensor(k, d), toTensor([], d)]).map((g) => ({
            shape: g.shape,
            values: Array.from(g.dataSync()),
          })),
        );
        expect(grads.map((g) => g.shape)).toEqual([[b, d], [b, d], [0, d]]);
        expect(maxAbs(grads[0].values)).toBe(0);
        expect(maxAbs(grads[1].values)).toBe(0);
      }
    }
  });

  it('q = k and a queue orthogonal to every q: −log(e^{1/τ} / (e^{1/τ} + K))', () => {
    // q and k along e_0 and e_1 (different lengths), queue keys along e_2..e_{K+1}:
    // l_pos = 1/τ, every l_neg = 0.
    // By hand, K = 3, τ = 0.5: e² = 7.389056099; 7.389056099 / 10.389056099 = 0.711235; −log(0.711235) = 0.340753.
    const d = 12;
    const axis = (c: number, length = 1) => Array.from({ length: d }, (_, i) => (i === c ? length : 0));
    const q = [axis(0, 2), axis(1, 0.5)];
    const k = [axis(0, 3), axis(1, 7)];
    const queueOf = (size: number) => Array.from({ length: size }, (_, j) => axis(2 + j));
    expect(tfLoss(q, k, queueOf(3), { temperature: 0.5 })).toBeCloseTo(0.340753, 5);
    for (const queueSize of [1, 3, 10]) {
      for (const temperature of [0.07, 0.2, 1]) {
        const e = Math.exp(1 / temperature);
        const expected = -Math.log(e / (e + queueSize));
        expect(infoNceReference(q, k, queueOf(queueSize), { temperature })).toBeCloseTo(expected, 12);
        const actual = tfLoss(q, k, queueOf(queueSize), { temperature });
        expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-5 * expected + 1e-6);
      }
    }
  });

  it('every queue key equal to k̂ = q̂: log(K + 1) (chance among K + 1 identical logits)', () => {
    const v = [0.6, 0, -0.8];
    for (const queueSize of [1, 7, 32]) {
      const queue = Array.from({ length: queueSize }, () => v.slice());
      const q = [v.map((x) => 3 * x), v.slice()];
      for (const temperature of [0.07, 1]) {
        expect(tfLoss(q, q, queue, { temperature })).toBeCloseTo(Math.log(queueSize + 1), 5);
      }
    }
  });
});

// ---------------------------------------------------------------- gradients

describe('gradients', () => {
  it('tf.grads w.r.t. q, k and queue matches central finite differences of the float64 reference', () => {
    let seed = 300;
    for (const { b, d, queueSize } of [
      { b: 1, d: 2, queueSize: 1 },
      { b: 3, d: 5, queueSize: 7 },
      { b: 2, d: 4, queueSize: 0 },
      { b: 4, d: 3, queueSize: 5 },
    ]) {
      for (const temperature of [0.07, 0.2, 1]) {
        const [q, k, queue] = randomInputs(seed++, b, d, queueSize);
        const opts = { temperature };
        expectGradientsMatchReference(
          infoNceOf(opts),
          ([qq, kk, qu]) => infoNceReference(qq, kk, qu, opts),
          [q, k, queue],
          ['∂L/∂q', '∂L/∂k', '∂L/∂queue'],
          `B=${b} d=${d} K=${queueSize} τ=${temperature}`,
          d,
        );
      }
    }
  });

  it('a zero query row gives a finite loss and finite gradients (‖q‖ clamped at 1e-12)', () => {
    const [q, k, queue] = randomInputs(320, 3, 4, 5);
    q[1] = [0, 0, 0, 0];
    const opts = { temperature: 0.2 };
    expect(tfLoss(q, k, queue, opts)).toBeCloseTo(infoNceReference(q, k, queue, opts), 4);
    expect(tfGradients(q, k, queue, opts).flat(2).every(Number.isFinite)).toBe(true);
  });
});

// ---------------------------------------------------------------- metrics

describe('infoNceWithMetrics', () => {
  const read = (q: Matrix, k: Matrix, queue: Matrix, opts: InfoNceOptions) =>
    tf.tidy(() => {
      const d = q[0].length;
      const out = infoNceWithMetrics(toTensor(q, d), toTensor(k, d), toTensor(queue, d), opts);
      return {
        loss: out.loss.arraySync(),
        positiveLogit: out.positiveLogit.arraySync(),
        negativeLogit: out.negativeLogit.arraySync(),
        accuracy: out.accuracy.arraySync(),
        shapes: [out.loss.shape, out.positiveLogit.shape, out.negativeLogit.shape, out.accuracy.shape],
      };
    });

  it('loss and metrics match the float64 reference', () => {
    let seed = 400;
    for (const b of [1, 3, 8]) {
      for (const d of [2, 5, 16]) {
        for (const queueSize of [0, 1, 7, 32]) {
          const [q, k, queue] = randomInputs(seed++, b, d, queueSize);
          const opts = { temperature: 0.2 };
          const label = `B=${b} d=${d} K=${queueSize}`;
          const out = read(q, k, queue, opts);
          const expected = infoNceReferenceMetrics(q, k, queue, opts);
          expect(out.shapes).toEqual([[], [], [], []]);
          expect(out.loss, `${label} loss is the infoNce code path`).toBe(tfLoss(q, k, queue, opts));
          expect(Math.abs(out.positiveLogit - expected.positiveLogit), `${label} positiveLogit`).toBeLessThan(1e-5);
          expect(Math.abs(out.negativeLogit - expected.negativeLogit), `${label} negativeLogit`).toBeLessThan(1e-5);
          expect(out.accuracy, `${label} accuracy`).toBeCloseTo(expected.accuracy, 6);
        }
      }
    }
  });

  it('an empty queue reports negativeLogit 0 (not NaN) and accuracy 1', () => {
    const [q, k] = randomInputs(450, 4, 6, 0);
    const out = read(q, k, [], { temperature: 0.5 });
    expect(out.loss).toBe(0);
    expect(out.negativeLogit).toBe(0);
    expect(out.accuracy).toBe(1);
    expect(out.positiveLogit).toBeCloseTo(infoNceReferenceMetrics(q, k, [], { temperature: 0.5 }).positiveLogit, 5);
  });

  it('accuracy: 1 when k = q against a random queue, 0 when k = −q, and ties count as misses', () => {
    const rng = createRng(460);
    const q = randomMatrix(rng, 8, 16);
    const queue = unitRows(randomMatrix(rng, 32, 16));
    const same = read(q, q, queue, { temperature: 0.1 });
    expect(same.accuracy).toBe(1);
    expect(same.positiveLogit).toBeCloseTo(10, 4); // 1/τ

    // k = −q: l_pos = −1/τ is the lowest possible logit, so the queue always wins.
    const negated = q.map((r) => r.map((v) => -v));
    expect(read(q, negated, queue, { temperature: 0.1 }).accuracy).toBe(0);

    // Exact tie (unit axis vectors are represented exactly): the positive does not beat the key.
    const tie = read([[1, 0, 0], [0, 1, 0]], [[1, 0, 0], [0, 1, 0]], [[1, 0, 0]], { temperature: 0.2 });
    expect(tie.accuracy).toBe(0.5);
    expect(tie.positiveLogit).toBeCloseTo(5, 5);
    expect(tie.negativeLogit).toBeCloseTo(2.5, 5); // (5 + 0) / 2
  });

  it('its loss is differentiable and gives the same gradients as infoNce', () => {
    const [q, k, queue] = randomInputs(470, 4, 6, 7);
    const opts = { temperature: 0.2 };
    const expected = tfGradients(q, k, queue, opts);
    const actual = lossGradients((a, b, c) => infoNceWithMetrics(a, b, c, opts).loss, [q, k, queue], 6);
    expect(actual).toEqual(expected);
  });
});

// ---------------------------------------------------------------- validation

describe('input validation', () => {
  const opts = { temperature: 0.2 };
  const both = [infoNce, infoNceWithMetrics] as const;

  it('throws for wrong ranks and mismatched shapes', () => {
    for (const fn of both) {
      tf.tidy(() => {
        expect(() => fn(tf.zeros([4, 8, 1]) as unknown as tf.Tensor2D, tf.zeros([4, 8]), tf.zeros([3, 8]), opts)).toThrow(/rank-2/);
        expect(() => fn(tf.zeros([4, 8]), tf.zeros([4, 8]), tf.zeros([8]) as unknown as tf.Tensor2D, opts)).toThrow(/rank-2/);
        expect(() => fn(tf.zeros([4, 8]), tf.zeros([3, 8]), tf.zeros([3, 8]), opts)).toThrow(/same shape/);
        expect(() => fn(tf.zeros([4, 8]), tf.zeros([4, 7]), tf.zeros([3, 8]), opts)).toThrow(/same shape/);
        expect(() => fn(tf.zeros([4, 8]), tf.zeros([4, 8]), tf.zeros([3, 7]), opts)).toThrow(/queue.*d = 8/);
        expect(() => fn(tf.zeros([4, 8]), tf.zeros([4, 8]), tf.zeros([0, 7]), opts)).toThrow(/queue/);
      });
    }
  });

  it('throws for an empty batch', () => {
    for (const fn of both) {
      tf.tidy(() => {
        expect(() => fn(tf.zeros([0, 8]), tf.zeros([0, 8]), tf.zeros([3, 8]), opts)).toThrow(/B ≥ 1/);
      });
    }
  });

  it('throws when temperature ≤ 0 or not finite', () => {
    for (const fn of both) {
      for (const temperature of [0, -0.1, NaN, Infinity]) {
        tf.tidy(() => {
          expect(() => fn(tf.ones([2, 3]), tf.ones([2, 3]), tf.ones([4, 3]), { temperature })).toThrow(/temperature/);
        });
      }
    }
  });
});

// ---------------------------------------------------------------- memory

describe('tensor bookkeeping', () => {
  it('infoNce leaves only its loss, with and without a queue', () => {
    const q = tf.randomNormal([8, 6], 0, 1, 'float32', 1) as tf.Tensor2D;
    const k = tf.randomNormal([8, 6], 0, 1, 'float32', 2) as tf.Tensor2D;
    for (const queueSize of [0, 16]) {
      const queue = tf.randomNormal([queueSize, 6], 0, 1, 'float32', 3) as tf.Tensor2D;
      expectTensorsLeft(0, () => expectTensorsLeft(1, () => infoNce(q, k, queue, { temperature: 0.2 })).dispose());
      queue.dispose();
    }
    tf.dispose([q, k]);
  });

  it('infoNceWithMetrics leaves exactly its four scalars, with and without a queue', () => {
    const q = tf.randomNormal([8, 6], 0, 1, 'float32', 4) as tf.Tensor2D;
    const k = tf.randomNormal([8, 6], 0, 1, 'float32', 5) as tf.Tensor2D;
    for (const queueSize of [0, 16]) {
      const queue = tf.randomNormal([queueSize, 6], 0, 1, 'float32', 6) as tf.Tensor2D;
      expectTensorsLeft(0, () => {
        const out = expectTensorsLeft(4, () => infoNceWithMetrics(q, k, queue, { temperature: 0.2 }));
        tf.dispose([out.loss, out.positiveLogit, out.negativeLogit, out.accuracy]);
      });
      queue.dispose();
    }
    tf.dispose([q, k]);
  });

  it('gradients leave only the three returned tensors; validation errors leak nothing', () => {
    const q = tf.randomNormal([4, 3], 0, 1, 'float32', 7) as tf.Tensor2D;
    const k = tf.randomNormal([4, 3], 0, 1, 'float32', 8) as tf.Tensor2D;
    const queue = tf.randomNormal([5, 3], 0, 1, 'float32', 9) as tf.Tensor2D;
    const gradients = () => gradientsAt(infoNceOf({ temperature: 0.2 }), [q, k, queue]);
    expectTensorsLeft(0, () => tf.dispose(expectTensorsLeft(3, gradients)));
    expectTensorsLeft(0, () => {
      expect(() => infoNceWithMetrics(q, k, queue, { temperature: -1 })).toThrow();
      expect(() => infoNce(q, queue, queue, { temperature: 1 })).toThrow();
    });
    tf.dispose([q, k, queue]);
  });
});
