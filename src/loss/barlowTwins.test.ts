import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createRng } from '../core/random';
import { barlowTwinsLoss, barlowTwinsWithMetrics, defaultBarlowLambda, type BarlowTwinsOptions } from './barlowTwins';
import {
  expectAllClose,
  expectGradientsMatchReference,
  expectTensorsLeft,
  gradientsAt,
  lossGradients,
  lossValue,
  randomMatrix,
  withNoise,
  type Matrix,
} from './lossCheck.testutil';
import { barlowTwinsReference, barlowTwinsReferenceParts } from './sslReferences';

await tf.setBackend('cpu');

// ---------------------------------------------------------------- helpers

/** Two views' projections: z2 = z1 + noise, so matching features correlate, plus per-column offsets. */
function randomViews(seed: number, b: number, d: number, scale = 1): [Matrix, Matrix] {
  const rng = createRng(seed);
  const z1 = randomMatrix(rng, b, d, scale);
  const z2 = withNoise(rng, z1, 0.7 * scale);
  const offset = randomMatrix(rng, 1, d, 3 * scale)[0];
  return [z1.map((row) => row.map((v, c) => v + offset[c])), z2];
}

/** barlowTwinsLoss with its options closed over, as lossValue and lossGradients take it. */
const barlowOf =
  (opts: BarlowTwinsOptions) =>
  (z1: tf.Tensor2D, z2: tf.Tensor2D): tf.Scalar =>
    barlowTwinsLoss(z1, z2, opts);

const tfLoss = (z1: Matrix, z2: Matrix, opts: BarlowTwinsOptions): number => lossValue(barlowOf(opts), [z1, z2]);

/** [∂L/∂z1, ∂L/∂z2] from tf.grads. */
const tfGradients = (z1: Matrix, z2: Matrix, opts: BarlowTwinsOptions): Matrix[] =>
  lossGradients(barlowOf(opts), [z1, z2]);

function read(z1: Matrix, z2: Matrix, opts: BarlowTwinsOptions) {
  return tf.tidy(() => {
    const out = barlowTwinsWithMetrics(tf.tensor2d(z1), tf.tensor2d(z2), opts);
    return {
      loss: out.loss.arraySync(),
      crossCorrelation: out.crossCorrelation.arraySync(),
      onDiagonal: out.onDiagonal.arraySync(),
      offDiagonal: out.offDiagonal.arraySync(),
      shapes: [out.loss.shape, out.crossCorrelation.shape, out.onDiagonal.shape, out.offDiagonal.shape],
    };
  });
}

/** Sylvester's Hadamard matrix of order 2^k: ±1 entries, orthogonal columns. */
function hadamard(order: number): Matrix {
  let h: Matrix = [[1]];
  while (h.length < order) h = [...h.map((r) => [...r, ...r]), ...h.map((r) => [...r, ...r.map((v) => -v)])];
  return h;
}

// ---------------------------------------------------------------- loss vs reference

describe('barlowTwinsLoss vs the float64 reference', () => {
  const batchSizes = [2, 3, 8];
  const dims = [2, 5, 16];

  for (const lambda of [0.005, 0.1, 1]) {
    it(`matches for B ∈ {${batchSizes}}, d ∈ {${dims}}, λ = ${lambda}`, () => {
      let seed = 100;
      for (const b of batchSizes) {
        for (const d of dims) {
          const [z1, z2] = randomViews(seed++, b, d);
          const expected = barlowTwinsReference(z1, z2, { lambda });
          const actual = tfLoss(z1, z2, { lambda });
          // float32: each C_ij is good to ~1e-6; L sums d² terms of size ≤ ~1.
          expect(
            Math.abs(actual - expected),
            `B=${b} d=${d} λ=${lambda}: ${actual} vs ${expected}`,
          ).toBeLessThanOrEqual(1e-4 * Math.abs(expected) + 1e-5 * d);
        }
      }
    });
  }

  it('is invariant to a per-column affine map of either view (standardized over the batch)', () => {
    const [z1, z2] = randomViews(150, 8, 5);
    const opts = { lambda: 0.1 };
    const affine = z1.map((row) => row.map((v, c) => (c + 1) * 4 * v - 10 * c));
    expect(tfLoss(affine, z2, opts)).toBeCloseTo(tfLoss(z1, z2, opts), 3);
    expect(barlowTwinsReference(affine, z2, opts)).toBeCloseTo(barlowTwinsReference(z1, z2, opts), 4);
  });
});

// ---------------------------------------------------------------- metrics

describe('barlowTwinsWithMetrics', () => {
  it('C, the two terms and the loss match the float64 reference', () => {
    let seed = 200;
    for (const b of [2, 3, 8]) {
      for (const d of [2, 5, 16]) {
        const [z1, z2] = randomViews(seed++, b, d);
        const opts = { lambda: 0.1 };
        const label = `B=${b} d=${d}`;
        const out = read(z1, z2, opts);
        const expected = barlowTwinsReferenceParts(z1, z2, opts);
        expect(out.shapes).toEqual([[], [d, d], [], []]);
        expect(out.loss, `${label} loss is the barlowTwinsLoss code path`).toBe(tfLoss(z1, z2, opts));
        expectAllClose(out.crossCorrelation.flat(), expected.crossCorrelation.flat(), { rtol: 1e-4, atol: 1e-5 }, `${label} C`);
        expect(Math.abs(out.onDiagonal - expected.onDiagonal), `${label} onDiagonal`).toBeLessThanOrEqual(
          1e-4 * expected.onDiagonal + 1e-5 * d,
        );
        expect(Math.abs(out.offDiagonal - expected.offDiagonal), `${label} offDiagonal`).toBeLessThanOrEqual(
          1e-4 * expected.offDiagonal + 1e-5 * d,
        );
        // loss = onDiagonal + λ·offDiagonal (offDiagonal is reported unweighted)
        expect(out.loss).toBeCloseTo(out.onDiagonal + opts.lambda * out.offDiagonal, 4);
      }
    }
  });

  it('C entries are correlations: within [−1, 1] and symmetric when z1 = z2', () => {
    const [z1] = randomViews(250, 8, 5);
    const out = read(z1, z1, { lambda: 0.1 });
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 5; j++) {
        expect(Math.abs(out.crossCorrelation[i][j])).toBeLessThanOrEqual(1 + 1e-6);
        expect(out.crossCorrelation[i][j]).toBeCloseTo(out.crossCorrelation[j][i], 6);
      }
    }
  });
});

// ---------------------------------------------------------------- analytic values

describe('analytic cases', () => {
  it('z1 = z2 with decorrelated standardized columns: on-diagonal 0, off-diagonal 0, C = I', () => {
    // Columns 1.. of a Hadamard matrix: zero mean, variance 1, pairwise
    // orthogonal. C_ii = 1/(1 + 1e-5), so the on-diagonal term is
    // d·(1e-5/(1 + 1e-5))² ≈ 1e-10·d.
    for (const order of [4, 8, 16]) {
      const z = hadamard(order).map((row) => row.slice(1)); // B = order, d = order − 1
      const d = order - 1;
      const expectedOn = d * (1e-5 / (1 + 1e-5)) ** 2;
      for (const lambda of [0.005, 0.1, 1]) {
        const reference = barlowTwinsReferenceParts(z, z, { lambda });
        expect(reference.onDiagonal).toBeCloseTo(expectedOn, 15);
        expect(reference.offDiagonal).toBeLessThan(1e-20);
        const out = read(z, z, { lambda });
        // float32 holds C_ii ≈ 0.99999 to ~6e-8, so 1 − C_ii ≈ 1e-5 to ~1%.
        expect(Math.abs(out.onDiagonal - expectedOn)).toBeLessThanOrEqual(0.05 * expectedOn);
        expect(out.offDiagonal).toBeLessThan(1e-10);
        expect(out.loss).toBeLessThan(1e-8);
        expectAllClose(
          out.crossCorrelation.flat(),
          z[0].flatMap((_, i) => z[0].map((__, j) => (i === j ? 1 : 0))),
          { rtol: 0, atol: 2e-5 },
          `order ${order} C = I`,
        );
      }
    }
  });

  it('z2 = −z1 with decorrelated columns: on-diagonal 4d (C = −I)', () => {
    const z = hadamard(8).map((row) => row.slice(1));
    const negated = z.map((r) => r.map((v) => -v));
    const out = read(z, negated, { lambda: 0.1 });
    expect(out.onDiagonal).toBeCloseTo(4 * 7, 3);
    expect(out.offDiagonal).toBeLessThan(1e-10);
  });

  it('every feature a copy of one (full redundancy): C ≈ 1 everywhere, loss ≈ λ·d(d − 1)', () => {
    const rng = createRng(300);
    const column = randomMatrix(rng, 8, 1).map((r) => r[0]);
    const d = 6;
    const z = column.map((v) => Array.from({ length: d }, () => v));
    for (const lambda of [0.005, 0.1, 1]) {
      const out = read(z, z, { lambda });
      expect(out.onDiagonal).toBeLessThan(1e-6);
      expect(out.offDiagonal).toBeCloseTo(d * (d - 1), 3);
      expect(out.loss).toBeCloseTo(lambda * d * (d - 1), 3);
    }
  });

  it('by hand: B = 2, d = 1 → C = ±1/(1 + 1e-5)', () => {
    // z1 = (−1, 1) and z2 = (3, 5) both have σ² = 1 and standardize to
    // (−1, 1)/sqrt(1 + 1e-5), so C = ((−1)(−1) + 1·1) / (2(1 + 1e-5)) = 1/(1 + 1e-5).
    const c = 1 / (1 + 1e-5);
    const out = read([[-1], [1]], [[3], [5]], { lambda: 1 });
    expect(out.crossCorrelation[0][0]).toBeCloseTo(c, 6);
    expect(out.onDiagonal).toBeCloseTo((1 - c) ** 2, 9);
    expect(out.offDiagonal).toBe(0); // d = 1 has no off-diagonal entries
    expect(read([[-1], [1]], [[5], [3]], { lambda: 1 }).onDiagonal).toBeCloseTo((1 + c) ** 2, 5);
  });

  it('a constant column standardizes to 0 (finite): its C_ii = 0 adds exactly 1 to the on-diagonal term', () => {
    const [z1, z2] = randomViews(320, 8, 4);
    const opts = { lambda: 0.1 };
    const constant = (m: Matrix) => m.map((row) => row.map((v, c) => (c === 2 ? 7 : v)));
    const out = read(constant(z1), constant(z2), opts);
    expect(out.crossCorrelation[2].every((v) => v === 0)).toBe(true);
    const expected = barlowTwinsReferenceParts(constant(z1), constant(z2), opts);
    expect(out.onDiagonal).toBeCloseTo(expected.onDiagonal, 4);
    expect(tfGradients(constant(z1), constant(z2), opts).flat(2).every(Number.isFinite)).toBe(true);
  });
});

// ---------------------------------------------------------------- gradients

describe('gradients', () => {
  it('tf.grads w.r.t. z1 and z2 matches central finite differences of the float64 reference', () => {
    let seed = 400;
    for (const [b, d] of [
      [2, 2],
      [3, 5],
      [4, 3],
      [8, 6],
    ] as const) {
      for (const lambda of [0.005, 0.1, 1]) {
        const [z1, z2] = randomViews(seed++, b, d);
        const opts = { lambda };
        expectGradientsMatchReference(
          barlowOf(opts),
          ([a, bb]) => barlowTwinsReference(a, bb, opts),
          [z1, z2],
          ['∂L/∂z1', '∂L/∂z2'],
          `B=${b} d=${d} λ=${lambda}`,
        );
      }
    }
  });

  it('the gradient of each column sums to 0 over the batch (L ignores the column means)', () => {
    const [z1, z2] = randomViews(450, 8, 5);
    for (const g of tfGradients(z1, z2, { lambda: 0.1 })) {
      for (let c = 0; c < 5; c++) {
        expect(Math.abs(g.reduce((s, row) => s + row[c], 0))).toBeLessThan(1e-4);
      }
    }
  });
});

// ---------------------------------------------------------------- default λ

describe('defaultBarlowLambda', () => {
  it('is 1/d: 0.0078125 at d = 128, so λ·d(d − 1) = d − 1', () => {
    expect(defaultBarlowLambda(128)).toBe(0.0078125);
    expect(defaultBarlowLambda(8192)).toBeCloseTo(1.2207e-4, 8);
    for (const d of [1, 2, 32, 512]) {
      expect(defaultBarlowLambda(d) * d * (d - 1)).toBeCloseTo(d - 1, 10);
    }
  });

  it('throws when d is not a positive integer', () => {
    for (const d of [0, -4, 1.5, NaN, Infinity]) {
      expect(() => defaultBarlowLambda(d)).toThrow(/positive integer/);
    }
  });
});

// ---------------------------------------------------------------- validation

describe('input validation', () => {
  const opts = { lambda: 0.1 };
  const both = [barlowTwinsLoss, barlowTwinsWithMetrics] as const;

  it('throws for wrong ranks, mismatched shapes and fewer than 2 rows', () => {
    for (const fn of both) {
      tf.tidy(() => {
        expect(() => fn(tf.zeros([4, 8, 1]) as unknown as tf.Tensor2D, tf.zeros([4, 8]), opts)).toThrow(/rank-2/);
        expect(() => fn(tf.zeros([4, 8]), tf.zeros([3, 8]), opts)).toThrow(/same shape/);
        expect(() => fn(tf.zeros([4, 8]), tf.zeros([4, 7]), opts)).toThrow(/same shape/);
        expect(() => fn(tf.zeros([1, 8]), tf.zeros([1, 8]), opts)).toThrow(/B ≥ 2/);
        expect(() => fn(tf.zeros([0, 8]), tf.zeros([0, 8]), opts)).toThrow(/B ≥ 2/);
        expect(() => fn(tf.zeros([4, 0]), tf.zeros([4, 0]), opts)).toThrow(/d ≥ 1/);
      });
    }
  });

  it('throws when lambda ≤ 0 or not finite', () => {
    for (const fn of both) {
      for (const lambda of [0, -0.1, NaN, Infinity]) {
        tf.tidy(() => {
          expect(() => fn(tf.ones([2, 3]), tf.ones([2, 3]), { lambda })).toThrow(/lambda/);
        });
      }
    }
  });
});

// ---------------------------------------------------------------- memory

describe('tensor bookkeeping', () => {
  it('barlowTwinsLoss leaves only its loss; barlowTwinsWithMetrics exactly its four tensors', () => {
    const z1 = tf.randomNormal([8, 6], 0, 1, 'float32', 1) as tf.Tensor2D;
    const z2 = tf.randomNormal([8, 6], 0, 1, 'float32', 2) as tf.Tensor2D;
    expectTensorsLeft(0, () => expectTensorsLeft(1, () => barlowTwinsLoss(z1, z2, { lambda: 0.1 })).dispose());
    expectTensorsLeft(0, () => {
      const out = expectTensorsLeft(4, () => barlowTwinsWithMetrics(z1, z2, { lambda: 0.1 }));
      tf.dispose([out.loss, out.crossCorrelation, out.onDiagonal, out.offDiagonal]);
    });
    tf.dispose([z1, z2]);
  });

  it('gradients leave only the two returned tensors; validation errors leak nothing', () => {
    const z1 = tf.randomNormal([4, 3], 0, 1, 'float32', 3) as tf.Tensor2D;
    const z2 = tf.randomNormal([4, 3], 0, 1, 'float32', 4) as tf.Tensor2D;
    expectTensorsLeft(0, () => tf.dispose(expectTensorsLeft(2, () => gradientsAt(barlowOf({ lambda: 0.1 }), [z1, z2]))));
    expectTensorsLeft(0, () => expect(() => barlowTwinsWithMetrics(z1, z2, { lambda: -1 })).toThrow());
    tf.dispose([z1, z2]);
  });
});
